//! A generated caseload for benchmarks: one link-worker team with a given number of
//! referrals, a given caseload assigned to the first link worker, and the rest spread over
//! the team (most of them finished). People (with identities and consents, through
//! `people::generate`), referrals, tasks and events are bulk-inserted; the accounts go
//! through the normal services.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::{Status, add_working_days};
use crate::db::{Bind, insert_rows, now};
use crate::error::AppError;
use crate::modules::accounts::service as accounts;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// How much to make.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Referrals in the team.
    pub referrals: usize,
    /// Open referrals assigned to the benchmark link worker.
    pub caseload: usize,
    /// Link workers in the team.
    pub link_workers: usize,
    /// Random seed.
    pub seed: u64,
}

/// What was made, for the benchmark script.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The team.
    pub team_id: String,
    /// The benchmark link worker's email.
    pub email: String,
    /// Their password.
    pub password: String,
    /// An API token with `referrals:write` for a clinician of the team's practice.
    pub token: String,
}

const GIVEN: &[&str] = &[
    "Alex", "Sam", "Jordan", "Morgan", "Casey", "Robin", "Jamie", "Taylor", "Charlie", "Riley",
    "Avery", "Quinn",
];
const FAMILY: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts",
    "Walker", "Wright", "Hughes",
];

type Batch<'a> = (&'a &'a str, &'a [&'a str], &'a mut Vec<Vec<Bind>>);

/// Insert every buffered table in foreign-key order (at most 2,000 rows each, well under
/// both databases' bind limits).
async fn flush_all(state: &AppState, batches: [Batch<'_>; 3]) -> Result<(), AppError> {
    for (table, cols, rows) in batches {
        insert_rows(&state.db, table, cols, rows, "").await?;
    }
    Ok(())
}

/// Generate the team and its referrals; refuses to run twice on one database.
pub async fn generate(
    state: &AppState,
    scale: Scale,
    mut progress: impl FnMut(usize),
) -> Result<Generated, AppError> {
    if scale.caseload > scale.referrals || scale.link_workers == 0 {
        return Err(AppError::BadRequest(
            "--caseload must not exceed --referrals, and --link-workers must be at least 1".into(),
        ));
    }
    let team_name = "Benchmark Social Prescribing Team";
    if accounts::find_organisation(state, team_name)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(
            "This database already holds the benchmark team; use a new database".into(),
        ));
    }
    let team = accounts::create_organisation_as_operator(
        state,
        &accounts::OrganisationInput {
            name: team_name.into(),
            kind: "gp_practice_or_pcn".into(),
            borough: "Knowsley".into(),
            description: "Generated for benchmarks.".into(),
            ..Default::default()
        },
    )
    .await?
    .id;
    let mut rng = StdRng::seed_from_u64(scale.seed);
    let password = crate::auth::secret::random_token(18);
    let mut workers = Vec::new();
    for i in 0..scale.link_workers {
        let email = format!("bench.linkworker{i}@ensemble-bench.example");
        let pw = if i == 0 {
            password.clone()
        } else {
            crate::auth::secret::random_token(18)
        };
        let id = accounts::create_user_as_operator(
            state,
            &email,
            &format!("Bench Link Worker {i}"),
            &pw,
            Some((&team, Role::LinkWorker)),
        )
        .await?;
        workers.push(id);
    }
    let gp_email = "bench.gp@ensemble-bench.example";
    let gp = accounts::create_user_as_operator(
        state,
        gp_email,
        "Bench GP",
        &crate::auth::secret::random_token(18),
        Some((&team, Role::Clinician)),
    )
    .await?;
    let actor = Actor {
        user_id: gp.clone(),
        display_name: "Bench GP".into(),
        email: gp_email.into(),
        memberships: vec![],
        request_id: None,
        channel: "cli",
    };
    let token = accounts::create_token(
        state,
        &actor,
        "benchmark",
        &["referrals:write".to_string(), "referrals:read".to_string()],
        "",
    )
    .await?;
    {
        let mut conn = state.db.write.acquire().await?;
        crate::db::settings::set(&mut conn, super::service::INTAKE_TEAM_SETTING, &team).await?;
    }
    let evaluation_statement: String = crate::modules::people::service::current_statements(state)
        .await?
        .into_iter()
        .find(|s| s.purpose == crate::modules::people::model::Purpose::Evaluation)
        .map(|s| s.id)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no evaluation consent statement")))?;

    let ref_cols = [
        "id",
        "person_id",
        "team_organisation_id",
        "assigned_to",
        "source",
        "referrer_user_id",
        "referrer_name",
        "reason",
        "status",
        "status_reason",
        "first_contact_at",
        "created_at",
        "updated_at",
        "closed_at",
    ];
    let task_cols = [
        "id",
        "referral_id",
        "kind",
        "title",
        "due_at",
        "assigned_to",
        "done_at",
        "created_at",
    ];
    let event_cols = [
        "id",
        "referral_id",
        "at",
        "actor_user_id",
        "kind",
        "to_status",
        "body",
    ];
    let mut people = crate::modules::people::generate::Batch::default();
    let (mut refs, mut tasks, mut events) = (vec![], vec![], vec![]);
    let t0 = now();
    let open = [
        Status::Received,
        Status::Contacted,
        Status::Conversation,
        Status::PlanAgreed,
    ];
    let finished = [
        Status::Closed,
        Status::Declined,
        Status::NotReached,
        Status::Reviewed,
    ];
    for i in 0..scale.referrals {
        let person = uuid::Uuid::now_v7().to_string();
        let referral = uuid::Uuid::now_v7().to_string();
        let created = t0 - rng.random_range(0..365 * 86_400);
        let updated = created + rng.random_range(0..30 * 86_400).min(t0 - created);
        let (assigned, status) = if i < scale.caseload {
            (
                Some(workers[0].clone()),
                open[rng.random_range(0..open.len())],
            )
        } else if rng.random_bool(0.7) {
            (
                Some(workers[rng.random_range(0..workers.len())].clone()),
                finished[rng.random_range(0..finished.len())],
            )
        } else {
            let w = if workers.len() > 1 {
                Some(workers[rng.random_range(1..workers.len())].clone())
            } else {
                None
            };
            (w, open[rng.random_range(0..open.len())])
        };
        let given = GIVEN[rng.random_range(0..GIVEN.len())];
        let family = FAMILY[rng.random_range(0..FAMILY.len())];
        people.push(crate::modules::people::generate::Synthetic {
            id: &person,
            team_organisation_id: &team,
            given_name: given,
            family_name: family,
            email: format!("{}.{i}@example.org", given.to_lowercase()),
            evaluation_statement: &evaluation_statement,
            created_at: created,
            updated_at: updated,
        });
        let contacted = (status != Status::Received).then_some(created + 86_400);
        refs.push(vec![
            Bind::T(referral.clone()),
            Bind::T(person),
            Bind::T(team.clone()),
            Bind::OptT(assigned.clone()),
            Bind::T("clinician".into()),
            Bind::T(gp.clone()),
            Bind::T("Bench GP".into()),
            Bind::T("Generated referral for benchmarks".into()),
            Bind::T(status.code().into()),
            Bind::T(if status.needs_reason() {
                "Generated".into()
            } else {
                String::new()
            }),
            Bind::OptI(contacted),
            Bind::I(created),
            Bind::I(updated),
            Bind::OptI(status.is_final().then_some(updated)),
        ]);
        let due = time::OffsetDateTime::from_unix_timestamp(created)
            .map(|d| add_working_days(d.date(), 5))
            .ok()
            .and_then(|d| d.with_hms(17, 0, 0).ok())
            .map(|d| d.assume_utc().unix_timestamp())
            .unwrap_or(created);
        tasks.push(vec![
            Bind::T(uuid::Uuid::now_v7().to_string()),
            Bind::T(referral.clone()),
            Bind::T("first_contact".into()),
            Bind::T("Make first contact".into()),
            Bind::I(due),
            Bind::OptT(assigned.clone()),
            Bind::OptI(contacted),
            Bind::I(created),
        ]);
        events.push(vec![
            Bind::T(uuid::Uuid::now_v7().to_string()),
            Bind::T(referral.clone()),
            Bind::I(created),
            Bind::T(gp.clone()),
            Bind::T("status".into()),
            Bind::T("received".into()),
            Bind::T(String::new()),
        ]);
        if status != Status::Received {
            events.push(vec![
                Bind::T(uuid::Uuid::now_v7().to_string()),
                Bind::T(referral),
                Bind::I(updated),
                Bind::OptT(assigned),
                Bind::T("status".into()),
                Bind::T(status.code().into()),
                Bind::T(String::new()),
            ]);
        }
        if (i + 1) % 1000 == 0 {
            people.flush(&state.db).await?;
            flush_all(
                state,
                [
                    (&"referrals", &ref_cols[..], &mut refs),
                    (&"referral_tasks", &task_cols[..], &mut tasks),
                    (&"referral_events", &event_cols[..], &mut events),
                ],
            )
            .await?;
        }
        progress(i + 1);
    }
    people.flush(&state.db).await?;
    flush_all(
        state,
        [
            (&"referrals", &ref_cols[..], &mut refs),
            (&"referral_tasks", &task_cols[..], &mut tasks),
            (&"referral_events", &event_cols[..], &mut events),
        ],
    )
    .await?;
    // Fresh planner statistics after a bulk load (PostgreSQL would otherwise guess).
    sqlx::query("ANALYZE").execute(&state.db.write).await?;
    Ok(Generated {
        team_id: team,
        email: "bench.linkworker0@ensemble-bench.example".into(),
        password,
        token,
    })
}

/// Generated referrals to activities with attendance, for the area benchmark
/// (`ensemble area generate`): written here because only `referrals` writes its tables.
#[derive(Debug, Default)]
pub struct ActivityReferrals {
    referrals: Vec<Vec<Bind>>,
    marks: Vec<Vec<Bind>>,
}

impl ActivityReferrals {
    /// Add a referral of `person` to `activity`, made at `created`, with `present` sessions
    /// attended (weekly from a week after it was made) and `absent` missed after them.
    /// Returns the referral's id.
    pub fn push(
        &mut self,
        person: &str,
        team: &str,
        activity: &str,
        created: i64,
        present: usize,
        absent: usize,
    ) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let status = if present > 0 {
            Status::PlanAgreed
        } else if absent > 0 {
            Status::Closed
        } else {
            Status::Conversation
        };
        let last = created + 7 * 86_400 * (present + absent) as i64;
        self.referrals.push(vec![
            Bind::T(id.clone()),
            Bind::T(person.into()),
            Bind::T(team.into()),
            Bind::T("link_worker".into()),
            Bind::T("Generated referral for benchmarks".into()),
            Bind::T(status.code().into()),
            Bind::T(if status.needs_reason() {
                "Generated".into()
            } else {
                String::new()
            }),
            Bind::T(activity.into()),
            Bind::I(created),
            Bind::I(last),
            Bind::OptI(status.is_final().then_some(last)),
        ]);
        for week in 0..present + absent {
            let day = created + 7 * 86_400 * (week as i64 + 1);
            self.marks.push(vec![
                Bind::T(uuid::Uuid::now_v7().to_string()),
                Bind::T(id.clone()),
                Bind::T(crate::db::date_of(day)),
                Bind::T(if week < present { "present" } else { "absent" }.into()),
                Bind::I(day),
            ]);
        }
        id
    }

    /// How many referrals wait to be written.
    pub fn len(&self) -> usize {
        self.referrals.len()
    }

    /// Nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.referrals.is_empty()
    }

    /// Write what has been added (the people first: see `people::generate`), and empty it.
    pub async fn flush(&mut self, state: &AppState) -> Result<(), AppError> {
        let cols = [
            "id",
            "person_id",
            "team_organisation_id",
            "source",
            "reason",
            "status",
            "status_reason",
            "activity_id",
            "created_at",
            "updated_at",
            "closed_at",
        ];
        while !self.referrals.is_empty() {
            let n = self.referrals.len().min(2000);
            let mut rows: Vec<Vec<Bind>> = self.referrals.drain(..n).collect();
            insert_rows(&state.db, "referrals", &cols, &mut rows, "").await?;
        }
        let cols = ["id", "referral_id", "session_date", "status", "recorded_at"];
        while !self.marks.is_empty() {
            let n = self.marks.len().min(4000);
            let mut rows: Vec<Vec<Bind>> = self.marks.drain(..n).collect();
            insert_rows(&state.db, "referral_attendance", &cols, &mut rows, "").await?;
        }
        Ok(())
    }
}
