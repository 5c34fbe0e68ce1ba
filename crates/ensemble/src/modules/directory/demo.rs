//! The demo directory: fictional activities across the six boroughs at real postcodes,
//! loaded from `demo_activities.json` (compiled in).

use serde::Deserialize;

use crate::audit::AuditActor;
use crate::error::AppError;
use crate::modules::accounts::service::{self as accounts, OrganisationInput};
use crate::state::AppState;

use super::model::ActivityInput;
use super::service;

#[derive(Deserialize)]
struct DemoFile {
    organisations: Vec<DemoOrg>,
    activities: Vec<DemoActivity>,
}

#[derive(Deserialize)]
struct DemoOrg {
    name: String,
    kind: String,
    borough: String,
    description: String,
}

#[derive(Deserialize)]
struct DemoLocation {
    name: String,
    address_1: String,
    city: String,
    postcode: String,
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
struct DemoSchedule {
    freq: String,
    byday: String,
    dtstart: Option<String>,
    valid_from: Option<String>,
    valid_to: Option<String>,
    opens_at: String,
    closes_at: String,
    description: String,
}

#[derive(Deserialize)]
struct DemoActivity {
    organisation: String,
    name: String,
    description: String,
    first_visit: String,
    eligibility: String,
    minimum_age: Option<i64>,
    maximum_age: Option<i64>,
    how_to_join: String,
    /// Who it is open to; public when left out.
    #[serde(default)]
    audience: String,
    capacity: Option<i64>,
    waiting_list: bool,
    cost: String,
    cost_amount: Option<f64>,
    bursary: bool,
    access_features: Vec<String>,
    languages: Vec<String>,
    online: bool,
    online_url: Option<String>,
    types: Vec<String>,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    locations: Vec<DemoLocation>,
    schedules: Vec<DemoSchedule>,
}

const DATA: &str = include_str!("demo_activities.json");

fn input(
    a: &DemoActivity,
    org_id: &str,
    loc: Option<&DemoLocation>,
    s: Option<&DemoSchedule>,
) -> ActivityInput {
    ActivityInput {
        organisation_id: org_id.to_string(),
        name: a.name.clone(),
        description: a.description.clone(),
        first_visit: a.first_visit.clone(),
        eligibility: a.eligibility.clone(),
        minimum_age: a.minimum_age.map(|v| v.to_string()).unwrap_or_default(),
        maximum_age: a.maximum_age.map(|v| v.to_string()).unwrap_or_default(),
        how_to_join: a.how_to_join.clone(),
        audience: a.audience.clone(),
        capacity: a.capacity.map(|v| v.to_string()).unwrap_or_default(),
        waiting_list: a.waiting_list,
        cost: a.cost.clone(),
        cost_amount: a.cost_amount.map(|v| v.to_string()).unwrap_or_default(),
        bursary: a.bursary,
        access_features: a.access_features.clone(),
        languages: a.languages.join(", "),
        online: a.online,
        online_url: a.online_url.clone().unwrap_or_default(),
        url: String::new(),
        contact_name: a.contact_name.clone(),
        contact_email: a.contact_email.clone(),
        contact_phone: a.contact_phone.clone(),
        types: a.types.clone(),
        location_name: loc.map(|l| l.name.clone()).unwrap_or_default(),
        address_1: loc.map(|l| l.address_1.clone()).unwrap_or_default(),
        city: loc.map(|l| l.city.clone()).unwrap_or_default(),
        postcode: loc.map(|l| l.postcode.clone()).unwrap_or_default(),
        latitude: loc.map(|l| l.latitude.to_string()).unwrap_or_default(),
        longitude: loc.map(|l| l.longitude.to_string()).unwrap_or_default(),
        freq: s.map(|s| s.freq.clone()).unwrap_or_default(),
        byday: s.map(|s| s.byday.clone()).unwrap_or_default(),
        dtstart: s.and_then(|s| s.dtstart.clone()).unwrap_or_default(),
        opens_at: s.map(|s| s.opens_at.clone()).unwrap_or_default(),
        closes_at: s.map(|s| s.closes_at.clone()).unwrap_or_default(),
        valid_from: s.and_then(|s| s.valid_from.clone()).unwrap_or_default(),
        valid_to: s.and_then(|s| s.valid_to.clone()).unwrap_or_default(),
        schedule_note: s.map(|s| s.description.clone()).unwrap_or_default(),
        practitioners: Vec::new(),
        location_id: String::new(),
        schedule_id: String::new(),
    }
}

/// Load the demo directory (organisations it needs, then every activity). Returns the
/// number of activities loaded.
pub async fn load(state: &AppState) -> Result<usize, AppError> {
    let file: DemoFile = serde_json::from_str(DATA)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("demo_activities.json: {e}")))?;
    for o in &file.organisations {
        if accounts::find_organisation(state, &o.name).await?.is_none() {
            accounts::create_organisation_as_operator(
                state,
                &OrganisationInput {
                    name: o.name.clone(),
                    kind: o.kind.clone(),
                    borough: o.borough.clone(),
                    description: o.description.clone(),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    let actor = AuditActor::cli();
    let mut n = 0;
    for a in &file.activities {
        let org = accounts::find_organisation(state, &a.organisation)
            .await?
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "demo activity {} names unknown organisation {}",
                    a.name,
                    a.organisation
                ))
            })?;
        let first = input(a, &org.id, a.locations.first(), a.schedules.first());
        let v = service::validate(state, &first)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("demo activity {}: {e:?}", a.name)))?;
        let mut tx = state.db.begin().await?;
        let id = service::insert(&mut tx, &actor, &v, Some(("demo", &a.name)), None).await?;
        // Further venues and times.
        for loc in a.locations.iter().skip(1) {
            let extra = service::validate(state, &input(a, &org.id, Some(loc), None)).await?;
            service::add_location(&mut tx, &id, &extra).await?;
        }
        for s in a.schedules.iter().skip(1) {
            let extra =
                service::validate(state, &input(a, &org.id, a.locations.first(), Some(s))).await?;
            service::add_schedule(&mut tx, &id, &extra).await?;
        }
        tx.commit().await?;
        n += 1;
    }
    super::cache::of(state).invalidate();
    Ok(n)
}

/// Give the demo practitioner a public profile and make them the lead of the orchestra's
/// activities (audited as one change per activity).
pub async fn practitioner(
    state: &AppState,
    email: &str,
    organisation: &str,
) -> Result<(), AppError> {
    use sqlx::Row;
    let user = crate::modules::accounts::store::user_by_email(&state.db.read, email).await?;
    let Some(user) = user else { return Ok(()) };
    let user_id = user.id;
    let actor = crate::rbac::Actor {
        memberships: crate::auth::session::memberships_of(&state.db, &user_id).await?,
        user_id: user_id.clone(),
        display_name: user.display_name,
        email: email.to_string(),
        request_id: None,
        channel: "cli",
    };
    let form: super::practitioners::ProfileForm = serde_urlencoded::from_str(
        "public=yes&bio=I+am+a+healthcare+musician+with+the+orchestra.+I+lead+singing+and+songwriting+groups+on+wards+and+in+the+community.\
         &skills=Group+singing%2C+songwriting%2C+improvisation&instruments=Violin%2C+guitar%2C+ukulele\
         &settings=Inpatient+wards%2C+community+centres%2C+libraries&languages=English%2C+Gujarati",
    )
    .map_err(|e| AppError::Internal(anyhow::anyhow!("demo profile: {e}")))?;
    super::practitioners::save_own(state, &actor, &form).await?;
    let Some(org) = accounts::find_organisation(state, organisation).await? else {
        return Ok(());
    };
    let ids: Vec<String> = sqlx::query("SELECT id FROM activities WHERE organisation_id = $1")
        .bind(org.id.clone())
        .fetch_all(&state.db.read)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    for id in ids {
        let mut tx = state.db.begin().await?;
        super::practitioners::set_leads(
            &mut tx,
            state,
            &id,
            &org.id,
            std::slice::from_ref(&user_id),
        )
        .await?;
        crate::audit::record(
            &mut tx,
            &AuditActor::cli(),
            crate::audit::AuditEvent {
                action: "activity.update",
                entity_type: "activity",
                entity_id: Some(&id),
                detail: serde_json::json!({"led_by": [user_id]}),
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}
