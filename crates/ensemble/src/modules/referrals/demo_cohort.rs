//! The demo's evaluation cohort: sixty made-up people referred by a fictional hub team to the
//! demo programme's music group (the Sinfonia activity Jordan attends) over the last six
//! months, so the programme's evaluation report has real figures. Fifty agreed to their
//! data being used for evaluation, eight said no, and two agreed and later withdrew (each
//! decision recorded through `people::service::record_consent`, so the history is real).
//! Most came to a twelve-week run of weekly sessions, some stopped early, a few never
//! started; a few barriers are recorded when they declined or stopped coming. Every
//! referral is finished (closed or declined), so no caseload, provider inbox or register
//! changes; the hub team has no members. Bulk-written (people through `people::generate`)
//! to keep the demo's start-up fast. The measures are written by `measures::demo::cohort`.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::{BarrierStage, Status};
use crate::db::{Bind, insert_rows, new_id, now};
use crate::error::AppError;
use crate::modules::accounts::service as accounts;
use crate::modules::people::model::{Decision, Purpose};
use crate::state::AppState;

/// The fictional referring team the cohort belongs to.
pub const TEAM: &str = "Music and Mind Referral Hub (demo)";
/// People in the cohort.
pub const PEOPLE: usize = 60;
/// Of them, with evaluation consent given (and kept).
pub const CONSENTING: usize = 50;
/// Of them, who agreed and then withdrew.
pub const WITHDRAWN: usize = 2;

const GIVEN: [&str; 20] = [
    "Ainsley", "Blair", "Carys", "Darcy", "Emery", "Frankie", "Gale", "Harley", "Indy", "Jem",
    "Kai", "Lark", "Marlow", "Noor", "Oakley", "Perry", "Reese", "Shay", "Tamsin", "Wren",
];
const POSTCODES: [&str; 12] = [
    "L1 8JQ", "L36 9UU", "L34 5GA", "L35 6NR", "L8 0AB", "L17 5BJ", "L7 9NW", "L5 9XP", "L4 9SL",
    "L7 7HZ", "WA10 4WA", "PR8 5EZ",
];
const ETHNIC: [&str; 6] = [
    "White",
    "White",
    "White",
    "Black, Black British, Caribbean or African",
    "Asian or Asian British",
    "Mixed or multiple ethnic groups",
];
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// One cohort member who came at least once, for the measures loader.
#[derive(Debug, Clone)]
pub struct Attended {
    pub person_id: String,
    pub referral_id: String,
    /// Their first session (Unix seconds).
    pub first_session: i64,
}

/// What was loaded.
#[derive(Debug, Clone, Default)]
pub struct Cohort {
    pub attended: Vec<Attended>,
    pub referrals: usize,
    pub marks: usize,
}

/// Load the cohort (once, with the rest of the demo). Nothing when the demo's activity is
/// missing.
pub async fn load(state: &AppState) -> Result<Cohort, AppError> {
    let Some(activity) = super::demo::demo_referrals(state, &["demo-Jordan"])
        .await?
        .into_iter()
        .find_map(|r| r.activity_id)
    else {
        return Ok(Cohort::default());
    };
    let Some(lee) = super::demo::actor(state, "lee.linkworker@ensemble-demo.example").await? else {
        return Ok(Cohort::default());
    };
    let team = accounts::create_organisation_as_operator(
        state,
        &accounts::OrganisationInput {
            name: TEAM.into(),
            kind: "gp_practice_or_pcn".into(),
            borough: "Liverpool".into(),
            description: "A made-up referral hub whose people make up the demo programme's evaluation cohort.".into(),
            ..Default::default()
        },
    )
    .await?
    .id;
    let statement: String = crate::modules::people::service::current_statements(state)
        .await?
        .into_iter()
        .find(|s| s.purpose == Purpose::Evaluation)
        .map(|s| s.id)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no evaluation consent statement")))?;
    let mut lsoas = Vec::new();
    for pc in POSTCODES {
        let lsoa = match crate::modules::places::Postcode::parse(pc) {
            Ok(p) => crate::modules::places::find_postcode(&state.db, &p)
                .await?
                .and_then(|p| p.lsoa_code),
            Err(_) => None,
        };
        lsoas.push(lsoa);
    }
    let mut rng = StdRng::seed_from_u64(17);
    let t0 = now();
    let mut people = crate::modules::people::generate::Batch::default();
    let (mut refs, mut marks, mut events) = (vec![], vec![], vec![]);
    let mut cohort = Cohort::default();
    let mut decisions = Vec::new();
    let mut barriers = Vec::new();
    for i in 0..PEOPLE {
        let person = new_id();
        let referral = new_id();
        // Referred between 27 and 13 weeks ago, so their twelve weeks are over; the group
        // meets weekly from the week after.
        let created = t0 - rng.random_range(13 * WEEK..27 * WEEK);
        let first = created + WEEK;
        let decision = match i {
            i if i < CONSENTING => Decision::Given,
            i if i < CONSENTING + WITHDRAWN => Decision::Withdrawn,
            _ => Decision::Refused,
        };
        let given = GIVEN[i % GIVEN.len()];
        let k = rng.random_range(0..POSTCODES.len());
        let born = rng.random_range(1945..2005);
        people.push_recorded(
            crate::modules::people::generate::Synthetic {
                id: &person,
                team_organisation_id: &team,
                given_name: given,
                family_name: "Example (demo cohort)",
                email: format!("cohort.{i:02}@ensemble-demo.example"),
                evaluation_statement: &statement,
                created_at: created,
                updated_at: created,
            },
            crate::modules::people::generate::Recorded {
                postcode: POSTCODES[k].into(),
                lsoa_code: lsoas[k].clone(),
                gender: match rng.random_range(0..20) {
                    0..12 => Some("Female".into()),
                    12..19 => Some("Male".into()),
                    _ => None,
                },
                ethnicity: Some(ETHNIC[rng.random_range(0..ETHNIC.len())].into()),
                date_of_birth: Some(format!("{born}-03-01")),
                evaluation: if decision == Decision::Refused {
                    "refused"
                } else {
                    "given"
                },
            },
        );
        decisions.push((person.clone(), decision));
        // Who came: one in twelve never started (declined); one in five stopped after two
        // to six sessions; the rest came most weeks of twelve.
        let (sessions, status, reason) = match rng.random_range(0..60) {
            0..5 => (0, Status::Declined, "Decided the group was not for them"),
            5..17 => (
                rng.random_range(2..=6),
                Status::Closed,
                "Stopped coming to the group",
            ),
            _ => (12, Status::Closed, "Finished the twelve-week group"),
        };
        let mut attended = 0;
        let mut last = created + DAY;
        for week in 0..sessions {
            let day = first + week as i64 * WEEK;
            let present = week == 0 || sessions < 12 || !rng.random_bool(0.15);
            attended += usize::from(present);
            last = day;
            marks.push(vec![
                Bind::T(new_id()),
                Bind::T(referral.clone()),
                Bind::T(crate::db::date_of(day)),
                Bind::T(if present { "present" } else { "absent" }.into()),
                Bind::T(lee.user_id.clone()),
                Bind::I(day + 3600),
            ]);
        }
        // Two missed sessions before those who stopped are closed.
        if sessions > 0 && sessions < 12 {
            for week in sessions..sessions + 2 {
                let day = first + week as i64 * WEEK;
                last = day;
                marks.push(vec![
                    Bind::T(new_id()),
                    Bind::T(referral.clone()),
                    Bind::T(crate::db::date_of(day)),
                    Bind::T("absent".into()),
                    Bind::T(lee.user_id.clone()),
                    Bind::I(day + 3600),
                ]);
            }
        }
        let closed = last + 2 * DAY;
        refs.push(vec![
            Bind::T(referral.clone()),
            Bind::T(person.clone()),
            Bind::T(team.clone()),
            Bind::T("link_worker".into()),
            Bind::T("Link Worker (demo cohort)".into()),
            Bind::T("urn:ensemble:demo".into()),
            Bind::T(format!("demo-cohort-{i:02}")),
            Bind::T("Low mood and isolation; would like to make music with other people.".into()),
            Bind::T(status.code().into()),
            Bind::T(reason.into()),
            Bind::T(activity.clone()),
            Bind::T("accepted".into()),
            Bind::I(created + DAY),
            Bind::I(created),
            Bind::I(closed),
            Bind::I(closed),
        ]);
        let mut event = |at: i64, to: Status| {
            events.push(vec![
                Bind::T(new_id()),
                Bind::T(referral.clone()),
                Bind::I(at),
                Bind::T("status".into()),
                Bind::T(to.code().into()),
                Bind::T(String::new()),
            ]);
        };
        event(created, Status::Received);
        event(created + DAY, Status::Connected);
        if attended > 0 {
            event(first + 3600, Status::Attending);
        }
        event(closed, status);
        // A few barriers, raised when people declined or stopped coming.
        let barrier = match (status, sessions) {
            (Status::Declined, _) if rng.random_bool(0.7) => Some((
                ["timing", "The group clashes with work", "none_yet", ""],
                BarrierStage::Decline,
            )),
            (Status::Closed, s) if s < 12 && rng.random_bool(0.5) => Some((
                if rng.random_bool(0.5) {
                    [
                        "travel",
                        "Two buses each way",
                        "travel_help",
                        "Offered a travel bursary",
                    ]
                } else {
                    [
                        "health",
                        "A spell of poor health",
                        "different_time",
                        "Offered the drop-in group instead",
                    ]
                },
                BarrierStage::DropOut,
            )),
            _ => None,
        };
        if let Some(b) = barrier {
            barriers.push((referral.clone(), b));
        }
        if attended > 0 {
            cohort.attended.push(Attended {
                person_id: person,
                referral_id: referral,
                first_session: first,
            });
        }
    }
    cohort.referrals = refs.len();
    cohort.marks = marks.len();
    people.flush(&state.db).await?;
    insert_rows(
        &state.db,
        "referrals",
        &[
            "id",
            "person_id",
            "team_organisation_id",
            "source",
            "referrer_name",
            "source_system",
            "source_identifier",
            "reason",
            "status",
            "status_reason",
            "activity_id",
            "provider_status",
            "first_contact_at",
            "created_at",
            "updated_at",
            "closed_at",
        ],
        &mut refs,
        "",
    )
    .await?;
    insert_rows(
        &state.db,
        "referral_attendance",
        &[
            "id",
            "referral_id",
            "session_date",
            "status",
            "recorded_by",
            "recorded_at",
        ],
        &mut marks,
        "",
    )
    .await?;
    insert_rows(
        &state.db,
        "referral_events",
        &["id", "referral_id", "at", "kind", "to_status", "body"],
        &mut events,
        "",
    )
    .await?;
    // The consent decisions, as recorded from the paper forms; the two who withdrew agreed
    // first.
    let mut tx = state.db.begin().await?;
    let audit = lee.audit();
    for (person, decision) in &decisions {
        let mut steps = vec![*decision];
        if *decision == Decision::Withdrawn {
            steps.insert(0, Decision::Given);
        }
        for d in steps {
            crate::modules::people::service::record_consent(
                &mut tx,
                &audit,
                person,
                &crate::modules::people::service::ConsentInput {
                    purpose: Purpose::Evaluation,
                    decision: d,
                    method: "paper",
                    witness: "",
                },
            )
            .await?;
        }
    }
    for (referral, (fields, stage)) in &barriers {
        super::service::insert_barrier(&mut tx, &lee, referral, *fields, *stage).await?;
    }
    tx.commit().await?;
    Ok(cohort)
}
