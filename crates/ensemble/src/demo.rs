//! The demo: a fictional but realistic Liverpool City Region set-up with one account per
//! role. Every organisation and person here is invented and marked "(demo)".

use serde::Serialize;

use crate::error::AppError;
use crate::modules::accounts::service::{self, OrganisationInput};
use crate::rbac::Role;
use crate::state::AppState;

/// A demo sign-in.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    /// Role code.
    pub role: &'static str,
    /// Email.
    pub email: &'static str,
    /// Password.
    pub password: &'static str,
    /// Name.
    pub name: &'static str,
    /// Organisation name.
    pub organisation: &'static str,
}

const ORGS: &[(&str, &str, &str, &str)] = &[
    (
        "Mersey Minds NHS Foundation Trust (demo)",
        "nhs_trust",
        "Liverpool",
        "Community and inpatient mental health services across the city region.",
    ),
    (
        "Liverpool City Sinfonia (demo)",
        "cultural_organisation",
        "Liverpool",
        "An orchestra whose healthcare musicians run music groups on wards and in the community.",
    ),
    (
        "St Helens Arts Hub (demo)",
        "cultural_organisation",
        "St Helens",
        "Songwriting, drumming and creative workshops for all ages.",
    ),
    (
        "Wirral Community Drumming Collective (demo)",
        "community_group",
        "Wirral",
        "Weekly drop-in drumming circles in Birkenhead and Wallasey.",
    ),
    (
        "Sefton Singing for Wellbeing (demo)",
        "community_group",
        "Sefton",
        "Friendly choirs in Bootle and Southport. No auditions, no experience needed.",
    ),
    (
        "Halton Voices Community Choir (demo)",
        "community_group",
        "Halton",
        "A community choir meeting in Widnes and Runcorn.",
    ),
    (
        "University of the Mersey (demo)",
        "university",
        "Liverpool",
        "Research partner for co-produced evaluation of creative health.",
    ),
    (
        "City Region Combined Authority (demo)",
        "combined_authority_or_council",
        "Liverpool City Region",
        "Commissions creative health programmes across the six boroughs.",
    ),
    (
        "Knowsley Park Primary Care Network (demo)",
        "gp_practice_or_pcn",
        "Knowsley",
        "GP practices and social prescribing link workers in Knowsley.",
    ),
];

/// The demo accounts, one per role.
pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        role: "participant",
        email: "jordan.participant@ensemble-demo.example",
        password: "demo-river-lantern-27",
        name: "Jordan Example (demo participant)",
        organisation: "Liverpool City Sinfonia (demo)",
    },
    DemoAccount {
        role: "practitioner",
        email: "priya.practitioner@ensemble-demo.example",
        password: "demo-violin-harbour-41",
        name: "Priya Example (demo practitioner)",
        organisation: "Liverpool City Sinfonia (demo)",
    },
    DemoAccount {
        role: "link_worker",
        email: "lee.linkworker@ensemble-demo.example",
        password: "demo-ferry-compass-63",
        name: "Lee Example (demo link worker)",
        organisation: "Knowsley Park Primary Care Network (demo)",
    },
    DemoAccount {
        role: "clinician",
        email: "chris.clinician@ensemble-demo.example",
        password: "demo-ward-sunrise-85",
        name: "Chris Example (demo clinician)",
        organisation: "Mersey Minds NHS Foundation Trust (demo)",
    },
    DemoAccount {
        role: "programme_manager",
        email: "pat.programmes@ensemble-demo.example",
        password: "demo-chorus-bridge-19",
        name: "Pat Example (demo programme manager)",
        organisation: "Mersey Minds NHS Foundation Trust (demo)",
    },
    DemoAccount {
        role: "researcher",
        email: "rowan.researcher@ensemble-demo.example",
        password: "demo-archive-meadow-52",
        name: "Rowan Example (demo researcher)",
        organisation: "University of the Mersey (demo)",
    },
    DemoAccount {
        role: "commissioner",
        email: "casey.commissioner@ensemble-demo.example",
        password: "demo-tunnel-orchard-36",
        name: "Casey Example (demo commissioner)",
        organisation: "City Region Combined Authority (demo)",
    },
    DemoAccount {
        role: "co_researcher",
        email: "robin.coresearcher@ensemble-demo.example",
        password: "demo-canvas-tideline-58",
        name: "Robin Example (demo co-researcher)",
        organisation: "Mersey Minds NHS Foundation Trust (demo)",
    },
    DemoAccount {
        role: "administrator",
        email: "ash.admin@ensemble-demo.example",
        password: "demo-signal-granite-74",
        name: "Ash Example (demo administrator)",
        organisation: "City Region Combined Authority (demo)",
    },
];

/// Load the demo data unless it is already there. Returns whether anything was loaded.
pub async fn seed(state: &AppState) -> Result<bool, AppError> {
    let seeded = sqlx::query("SELECT value FROM settings WHERE key = 'demo_seeded'")
        .fetch_optional(&state.db.read)
        .await?;
    if seeded.is_some() {
        return Ok(false);
    }
    for (name, kind, borough, description) in ORGS {
        if service::find_organisation(state, name).await?.is_none() {
            service::create_organisation_as_operator(
                state,
                &OrganisationInput {
                    name: (*name).into(),
                    kind: (*kind).into(),
                    borough: (*borough).into(),
                    description: (*description).into(),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    for a in ACCOUNTS {
        let org = service::find_organisation(state, a.organisation)
            .await?
            .ok_or(AppError::NotFound)?;
        let role = Role::from_code(a.role).ok_or(AppError::NotFound)?;
        service::create_user_as_operator(state, a.email, a.name, a.password, Some((&org.id, role)))
            .await?;
    }
    // The programme manager also runs the orchestra's partnership programme.
    let pm = ACCOUNTS.iter().find(|a| a.role == "programme_manager");
    if let (Some(pm), Some(orch)) = (
        pm,
        service::find_organisation(state, "Liverpool City Sinfonia (demo)").await?,
    ) {
        service::add_membership_as_operator(state, pm.email, &orch.id, Role::ProgrammeManager)
            .await?;
    }
    crate::modules::directory::demo::load(state).await?;
    if let Some(p) = ACCOUNTS.iter().find(|a| a.role == "practitioner") {
        crate::modules::directory::demo::practitioner(state, p.email, p.organisation).await?;
    }
    crate::modules::referrals::demo::load(state).await?;
    crate::modules::measures::demo::load(state).await?;
    let cohort = crate::modules::referrals::demo_cohort::load(state).await?;
    crate::modules::measures::demo::cohort(state, &cohort.attended).await?;
    crate::modules::practice::demo::load(state).await?;
    crate::modules::programmes::demo::load(state).await?;
    crate::modules::evaluation::demo::load(state).await?;
    sqlx::query("INSERT INTO settings (key, value) VALUES ('demo_seeded', '1')")
        .execute(&state.db.write)
        .await?;
    Ok(true)
}
