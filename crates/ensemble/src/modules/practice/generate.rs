//! A generated organisation for benchmarks: practitioners, a year of sessions and their
//! register marks and observations, bulk-inserted; the accounts go through the normal
//! services. Marked as generated; never run on a live database.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::{Bind, insert_rows, new_id, now};
use crate::error::AppError;
use crate::modules::accounts::service as accounts;
use crate::rbac::Role;
use crate::state::AppState;

/// How much to make.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub practitioners: usize,
    pub sessions: usize,
    pub marks: usize,
    pub seed: u64,
}

/// What was made, for the benchmark script.
#[derive(Debug, Clone)]
pub struct Generated {
    pub organisation_id: String,
    /// The benchmark practitioner (leads today's session).
    pub practitioner_email: String,
    /// A programme manager of the organisation.
    pub manager_email: String,
    pub password: String,
    /// Today's session, with its register.
    pub session_id: String,
}

const NAMES: &[&str] = &[
    "Alex", "Sam", "Jordan", "Morgan", "Casey", "Robin", "Jamie", "Taylor", "Charlie", "Riley",
    "Avery", "Quinn",
];
const STATUSES: &[&str] = &[
    "present",
    "present",
    "present",
    "present",
    "late",
    "left_early",
    "absent",
];

async fn flush(
    state: &AppState,
    table: &str,
    cols: &[&str],
    rows: &mut Vec<Vec<Bind>>,
) -> Result<(), AppError> {
    insert_rows(&state.db, table, cols, rows, "").await?;
    Ok(())
}

/// Generate; refuses to run twice on one database.
pub async fn generate(state: &AppState, scale: Scale) -> Result<Generated, AppError> {
    let name = "Bench Orchestra (generated)";
    if accounts::find_organisation(state, name).await?.is_some() {
        return Err(AppError::Conflict(
            "this database already holds generated practice data".into(),
        ));
    }
    let org = accounts::create_organisation_as_operator(
        state,
        &accounts::OrganisationInput {
            name: name.into(),
            kind: "cultural_organisation".into(),
            borough: "Liverpool".into(),
            description: "Generated for benchmarks.".into(),
            ..Default::default()
        },
    )
    .await?;
    let password = "bench-practice-password-42".to_string();
    let mut practitioners = Vec::new();
    for i in 0..scale.practitioners.max(1) {
        let email = format!("practitioner{i}@bench.example");
        let id = accounts::create_user_as_operator(
            state,
            &email,
            &format!("Practitioner {i}"),
            &password,
            Some((&org.id, Role::Practitioner)),
        )
        .await?;
        practitioners.push((id, email));
    }
    let manager_email = "manager@bench.example".to_string();
    let manager_id = accounts::create_user_as_operator(
        state,
        &manager_email,
        "Bench Manager",
        &password,
        Some((&org.id, Role::ProgrammeManager)),
    )
    .await?;
    // The starter competency framework, published, so the summary's CPD part has work.
    let manager = crate::rbac::Actor {
        user_id: manager_id,
        display_name: "Bench Manager".into(),
        email: manager_email.clone(),
        memberships: vec![(org.id.clone(), name.into(), Role::ProgrammeManager)],
        request_id: None,
        channel: "web",
    };
    let draft = super::competencies::start_draft(state, &manager, &org.id).await?;
    super::competencies::publish(state, &manager, &draft, "Generated for benchmarks.").await?;
    let codes: Vec<String> = super::competencies::current(state, &org.id)
        .await?
        .map(|f| f.competencies.into_iter().map(|c| c.code).collect())
        .unwrap_or_default();
    let ts = now();
    let activity = crate::modules::directory::generate::bench_activity(
        &state.db,
        &org.id,
        "Generated singing group",
        ts,
    )
    .await?;
    let mut rng = StdRng::seed_from_u64(scale.seed);
    let session_cols = [
        "id",
        "activity_id",
        "organisation_id",
        "starts_at",
        "ends_at",
        "status",
        "lead_user_id",
        "aims",
        "musical_activities",
        "log_what_happened",
        "log_version",
        "plan_version",
        "created_by",
        "created_at",
        "updated_at",
    ];
    let mark_cols = [
        "id",
        "session_id",
        "walk_in_name",
        "status",
        "recorded_by",
        "recorded_at",
    ];
    let obs_cols = [
        "id",
        "session_id",
        "instrument_id",
        "instrument_version",
        "answers",
        "scores",
        "recorded_by",
        "recorded_at",
    ];
    let (mut sessions, mut marks, mut observations) = (Vec::new(), Vec::new(), Vec::new());
    let today_start = ts - ts % 86_400;
    let per_session = scale.marks / scale.sessions.max(1);
    let mut extra = scale.marks % scale.sessions.max(1);
    let mut today_session = String::new();
    for i in 0..scale.sessions {
        let id = new_id();
        // The first session is today's, led by the benchmark practitioner; the rest spread
        // over the last year.
        let (lead, starts) = if i == 0 {
            today_session = id.clone();
            (practitioners[0].0.clone(), today_start)
        } else {
            (
                practitioners[rng.random_range(0..practitioners.len())]
                    .0
                    .clone(),
                today_start - rng.random_range(1..365) * 86_400 + 10 * 3600,
            )
        };
        sessions.push(vec![
            Bind::T(id.clone()),
            Bind::T(activity.clone()),
            Bind::T(org.id.clone()),
            Bind::I(starts),
            Bind::I(starts + 5400),
            Bind::T("held".into()),
            Bind::T(lead.clone()),
            Bind::T("Sing together".into()),
            Bind::T("singing".into()),
            Bind::T("Generated session.".into()),
            Bind::I(1),
            Bind::I(1),
            Bind::T(lead.clone()),
            Bind::I(ts),
            Bind::I(ts),
        ]);
        let n = per_session + usize::from(extra > 0);
        extra = extra.saturating_sub(1);
        for k in 0..n {
            marks.push(vec![
                Bind::T(new_id()),
                Bind::T(id.clone()),
                Bind::T(format!("{} {k}", NAMES[k % NAMES.len()])),
                Bind::T(STATUSES[rng.random_range(0..STATUSES.len())].into()),
                Bind::T(lead.clone()),
                Bind::I(starts + 600),
            ]);
        }
        if i % 2 == 0 {
            let (a, b, c) = (
                rng.random_range(1..=5),
                rng.random_range(1..=5),
                rng.random_range(1..=5),
            );
            observations.push(vec![
                Bind::T(new_id()), Bind::T(id.clone()), Bind::T("session_observation".into()), Bind::I(1),
                Bind::T(format!(r#"{{"group_engagement":{a},"participation":{c},"wellbeing_observed":{b}}}"#)),
                Bind::T(format!(r#"[{{"id":"group_engagement","label":"Group engagement","value":{a}.0}},{{"id":"wellbeing_observed","label":"Wellbeing observed","value":{b}.0}},{{"id":"participation","label":"Participation","value":{c}.0}}]"#)),
                Bind::T(lead.clone()), Bind::I(starts + 5400),
            ]);
        }
        if sessions.len() >= 200 || marks.len() >= 1500 {
            flush(state, "practice_sessions", &session_cols, &mut sessions).await?;
            flush(state, "register_entries", &mark_cols, &mut marks).await?;
            flush(state, "session_observations", &obs_cols, &mut observations).await?;
        }
    }
    flush(state, "practice_sessions", &session_cols, &mut sessions).await?;
    flush(state, "register_entries", &mark_cols, &mut marks).await?;
    flush(state, "session_observations", &obs_cols, &mut observations).await?;
    super::service::recount_organisation_marks(state, &org.id).await?;
    // Twenty pieces of portfolio evidence per practitioner, each showing one or two
    // competencies.
    let (mut evidence, mut links) = (Vec::new(), Vec::new());
    for (user, _) in &practitioners {
        for k in 0..20 {
            let id = new_id();
            let training = k % 4 == 0;
            evidence.push(vec![
                Bind::T(id.clone()),
                Bind::T(user.clone()),
                Bind::T(org.id.clone()),
                Bind::T(
                    if training {
                        "training"
                    } else {
                        "peer_observation"
                    }
                    .into(),
                ),
                Bind::T(format!("Generated evidence {k}")),
                Bind::T(crate::db::date_of(
                    today_start - rng.random_range(1..365) * 86_400,
                )),
                Bind::T("Generated.".into()),
                Bind::I(ts),
            ]);
            // One competency, or two different ones.
            let n = codes.len().max(1);
            let first = rng.random_range(0..n);
            let mut picked = vec![first];
            if n > 1 && k % 2 == 1 {
                picked.push((first + 1 + rng.random_range(0..n - 1)) % n);
            }
            for c in picked {
                if let Some(code) = codes.get(c) {
                    links.push(vec![Bind::T(id.clone()), Bind::T(code.clone())]);
                }
            }
        }
    }
    for chunk in evidence.chunks(200) {
        flush(
            state,
            "portfolio_evidence",
            &[
                "id",
                "user_id",
                "organisation_id",
                "kind",
                "title",
                "occurred_on",
                "detail",
                "created_at",
            ],
            &mut chunk.to_vec(),
        )
        .await?;
    }
    for chunk in links.chunks(400) {
        flush(
            state,
            "portfolio_evidence_competencies",
            &["evidence_id", "competency_code"],
            &mut chunk.to_vec(),
        )
        .await?;
    }
    Ok(Generated {
        organisation_id: org.id,
        practitioner_email: practitioners[0].1.clone(),
        manager_email,
        password,
        session_id: today_session,
    })
}
