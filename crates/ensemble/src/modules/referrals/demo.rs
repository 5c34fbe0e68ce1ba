//! Demo referrals: a handful of fictional people at different points on the pathway, made
//! through the same services the pages use, so every screen has something real to show.

use sqlx::Row;

use super::service::{self, NewReferral, PlanInput};
use crate::error::AppError;
use crate::modules::accounts::service::find_organisation;
use crate::modules::people::model::{Decision, Purpose};
use crate::modules::people::service::PersonInput;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

pub(crate) async fn actor(state: &AppState, email: &str) -> Result<Option<Actor>, AppError> {
    let Some(u) = crate::modules::accounts::store::user_by_email(&state.db.read, email).await?
    else {
        return Ok(None);
    };
    let memberships = sqlx::query(
        "SELECT m.organisation_id, o.name, m.role FROM accounts_member_roles m \
         JOIN accounts_organisation_profiles o ON o.id = m.organisation_id WHERE m.user_id = $1",
    )
    .bind(u.id.clone())
    .fetch_all(&state.db.read)
    .await?
    .iter()
    .filter_map(|r| {
        Some((
            r.try_get::<String, _>("organisation_id").ok()?,
            r.try_get::<String, _>("name").ok()?,
            Role::from_code(&r.try_get::<String, _>("role").ok()?)?,
        ))
    })
    .collect();
    Ok(Some(Actor {
        user_id: u.id,
        display_name: u.display_name,
        email: u.email,
        memberships,
        request_id: None,
        channel: "cli",
    }))
}

/// A demo referral, as the other modules' demo loaders find it by its source identifier.
pub(crate) struct DemoReferral {
    /// Referral id.
    pub id: String,
    /// Person id.
    pub person_id: String,
    /// The activity it was sent to, if any.
    pub activity_id: Option<String>,
    /// `demo-Jordan`, `demo-Alex`…
    pub source_identifier: String,
}

/// The demo referrals with these source identifiers (`demo-Jordan`…), for the demo loaders
/// of other modules.
pub(crate) async fn demo_referrals(
    state: &AppState,
    identifiers: &[&str],
) -> Result<Vec<DemoReferral>, AppError> {
    let mut out = Vec::new();
    if identifiers.is_empty() {
        return Ok(out);
    }
    let marks = (1..=identifiers.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, person_id, activity_id, source_identifier FROM referrals WHERE source_identifier IN ({marks})"
    )));
    for i in identifiers {
        q = q.bind((*i).to_string());
    }
    for r in q.fetch_all(&state.db.read).await? {
        out.push(DemoReferral {
            id: r.try_get("id")?,
            person_id: r.try_get("person_id")?,
            activity_id: r.try_get("activity_id")?,
            source_identifier: r.try_get("source_identifier")?,
        });
    }
    Ok(out)
}

fn person(given: &str, family: &str, postcode: &str, needs: &str) -> PersonInput {
    PersonInput {
        given_name: given.into(),
        family_name: family.into(),
        postcode: postcode.into(),
        communication_needs: needs.into(),
        ..Default::default()
    }
}

/// Load the demo referrals (once). Returns how many were made.
pub async fn load(state: &AppState) -> Result<usize, AppError> {
    let (Some(lee), Some(chris)) = (
        actor(state, "lee.linkworker@ensemble-demo.example").await?,
        actor(state, "chris.clinician@ensemble-demo.example").await?,
    ) else {
        return Ok(0);
    };
    let Some(team) = find_organisation(state, "Knowsley Park Primary Care Network (demo)").await?
    else {
        return Ok(0);
    };
    let priya = actor(state, "priya.practitioner@ensemble-demo.example").await?;
    let activity: Option<String> = sqlx::query(
        "SELECT a.id FROM directory_activity_names a JOIN accounts_organisation_profiles o ON o.id = a.organisation_id \
         WHERE o.name = 'Liverpool City Sinfonia (demo)' \
         AND a.status = 'active' ORDER BY a.name LIMIT 1",
    )
    .fetch_optional(&state.db.read)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?;
    let all = vec![
        (Purpose::Contact, Decision::Given),
        (Purpose::Evaluation, Decision::Given),
        (Purpose::ShareGp, Decision::Given),
    ];
    let people = [
        (
            "Jordan",
            "Example",
            "L1 8JQ",
            "",
            "Low mood since losing my job; I used to play guitar and miss making music with others.",
            all.clone(),
        ),
        (
            "Sam",
            "Example",
            "L36 9UU",
            "Prefers text messages",
            "Feeling isolated after moving to the area. Would like to meet people.",
            vec![(Purpose::Contact, Decision::Given)],
        ),
        (
            "Alex",
            "Example",
            "L34 5GA",
            "",
            "Anxiety; interested in drumming but worried about groups.",
            all.clone(),
        ),
        (
            "Morgan",
            "Example",
            "L35 6NR",
            "",
            "Carer for a parent; needs something for themselves.",
            vec![
                (Purpose::Contact, Decision::Given),
                (Purpose::Evaluation, Decision::Refused),
            ],
        ),
        (
            "Riley",
            "Example",
            "L8 0AB",
            "",
            "Lonely since a fall; used to paint and would like to meet people again.",
            vec![(Purpose::Contact, Decision::Given)],
        ),
    ];
    let mut ids = Vec::new();
    for (given, family, postcode, needs, reason, consents) in people {
        let mut input = person(given, family, postcode, needs);
        if given == "Riley" {
            input.email = "riley.example@ensemble-demo.example".into();
            input.phone = "07700 900123".into();
            input.contact_method = "text".into();
        }
        let Ok(valid) = input.validate() else {
            continue;
        };
        let c = service::create(
            state,
            &chris.audit(),
            &NewReferral {
                team_organisation_id: team.id.clone(),
                source: "clinician",
                referrer_user_id: Some(chris.user_id.clone()),
                referrer_organisation_id: chris.memberships.first().map(|m| m.0.clone()),
                referrer_name: chris.display_name.clone(),
                referrer_email: chris.email.clone(),
                source_system: Some("urn:ensemble:demo".into()),
                source_identifier: Some(format!("demo-{given}")),
                reason: super::model::ReferralReason::parse(reason).map_err(|p| {
                    AppError::Internal(anyhow::anyhow!("demo referral reason refused: {p:?}"))
                })?,
                person: valid,
                consents,
                consent_method: "paper",
                consent_witness: String::new(),
                activity_id: None,
                extra_tasks: vec![],
            },
        )
        .await?;
        ids.push(c.id);
    }
    // Jordan: plan agreed, connected, accepted, attending; linked to the participant account.
    if let Some(jordan) = ids.first() {
        service::take_on(state, &lee, jordan).await?;
        service::change_status(state, &lee, jordan, "contacted", "", "").await?;
        let review = (crate::db::uk::today() + time::Duration::weeks(8)).to_string();
        service::save_plan(state, &lee, jordan, &PlanInput {
            what_matters: "Getting back to playing music and having a reason to leave the house each week.".into(),
            needs: "Low confidence in groups; bus fares are hard at the moment.".into(),
            goals: "Play guitar with other people again. Get out of the house twice a week.".into(),
            support_offered: "Music groups with Liverpool City Sinfonia; travel bursary.".into(),
            next_steps: "Lee to refer to the Sinfonia group; Jordan to try the first session.".into(),
            review_on: review,
            agreed: "yes".into(),
        }).await?;
        service::add_barrier(
            state,
            &lee,
            jordan,
            &service::BarrierInput {
                barrier: "cost".into(),
                detail: "Bus fares".into(),
                action: "travel_help".into(),
                action_detail: "Travel bursary for 12 weeks".into(),
                stage: String::new(),
            },
        )
        .await?;
        if let Some(a) = &activity {
            service::connect(
                state,
                &lee,
                jordan,
                a,
                "Jordan plays guitar and would like a friendly welcome.",
            )
            .await?;
            if let Some(p) = &priya {
                service::respond(state, p, jordan, "accept", "").await?;
            }
            let last_week = (crate::db::uk::today() - time::Duration::days(7)).to_string();
            service::mark_attendance(state, &lee, jordan, &last_week, "present").await?;
        }
        if let Some(u) = crate::modules::accounts::store::user_by_email(
            &state.db.read,
            "jordan.participant@ensemble-demo.example",
        )
        .await?
        {
            let person: String =
                sqlx::query_scalar("SELECT person_id FROM referrals WHERE id = $1")
                    .bind(jordan.clone())
                    .fetch_one(&state.db.read)
                    .await?;
            crate::modules::people::service::link_demo_account(state, &person, &u.id).await?;
        }
    }
    // Alex: contacted, with a barrier.
    if let Some(alex) = ids.get(2) {
        service::take_on(state, &lee, alex).await?;
        service::change_status(state, &lee, alex, "contacted", "", "").await?;
        service::add_barrier(
            state,
            &lee,
            alex,
            &service::BarrierInput {
                barrier: "confidence".into(),
                detail: "Worried about groups".into(),
                action: "buddy".into(),
                action_detail: "Peer buddy for the first visit".into(),
                stage: String::new(),
            },
        )
        .await?;
    }
    // Morgan: declined.
    if let Some(morgan) = ids.get(3) {
        service::take_on(state, &lee, morgan).await?;
        service::change_status(state, &lee, morgan, "contacted", "", "").await?;
        service::change_status(
            state,
            &lee,
            morgan,
            "declined",
            "Not the right time; will self-refer later",
            "timing",
        )
        .await?;
    }
    // Riley (L8): plan agreed, cost and mobility barriers, ready to be matched; prefers texts.
    if let Some(riley) = ids.get(4) {
        service::take_on(state, &lee, riley).await?;
        service::change_status(state, &lee, riley, "contacted", "", "").await?;
        let review = (crate::db::uk::today() + time::Duration::weeks(8)).to_string();
        service::save_plan(
            state,
            &lee,
            riley,
            &PlanInput {
                what_matters: "Meeting people again and getting back to painting.".into(),
                needs: "Uses a walking frame since a fall; on a tight budget.".into(),
                goals: "Go to a group once a week. Paint something to hang at home.".into(),
                support_offered: "Free, step-free creative groups near home.".into(),
                next_steps: "Lee to send Riley two or three options by text.".into(),
                review_on: review,
                agreed: "yes".into(),
            },
        )
        .await?;
        for (barrier, detail) in [
            ("cost", "Cannot pay for classes"),
            ("mobility", "Walking frame; no stairs"),
        ] {
            service::add_barrier(
                state,
                &lee,
                riley,
                &service::BarrierInput {
                    barrier: barrier.into(),
                    detail: detail.into(),
                    action: "none_yet".into(),
                    action_detail: String::new(),
                    stage: String::new(),
                },
            )
            .await?;
        }
    }
    Ok(ids.len())
}
