//! Practice summary: for a practitioner (the sessions they led) and for an organisation
//! (programme managers: all its sessions) — sessions delivered by month, register marks,
//! observation trends, incidents by severity and CPD by competency domain, each as a chart with the same figures in a
//! table. Aggregates computed in the database.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use sqlx::Row;

use crate::error::AppError;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// Whose practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The actor's own sessions (led by them).
    Mine,
    /// An organisation the actor manages.
    Organisation(String),
}

/// The figures.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub title: String,
    /// (month, sessions held, sessions cancelled).
    pub sessions: Vec<(String, i64, i64)>,
    /// Register marks by status.
    pub marks: Vec<(String, i64)>,
    /// Average marked present (present, late, left early) per held session with a register.
    pub average_attendance: Option<f64>,
    /// (month, score label, mean, n) for observation scores.
    pub observations: Vec<(String, String, f64, i64)>,
    /// Incidents by severity.
    pub incidents: Vec<(String, i64)>,
    /// CPD by competency domain: (domain, evidence items, training hours, practitioners).
    pub cpd: Vec<(String, i64, f64, i64)>,
}

/// Months covered (the last twelve).
const MONTHS: i64 = 12;

use crate::db::month_of as month_key;

/// Bumped by every change to sessions, registers, observations or incidents.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// How long a computed summary may be reused when nothing has changed in this process.
const CACHE_FOR: Duration = Duration::from_secs(60);

type Cache = Mutex<HashMap<(usize, String), (Instant, u64, Summary)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Forget computed summaries (called after every change that feeds them).
pub fn invalidate() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The summary for a scope the actor may see. Computed in the database and reused for up to
/// a minute until anything that feeds it changes in this process (other processes' changes
/// show within the minute).
pub async fn summary(state: &AppState, actor: &Actor, scope: &Scope) -> Result<Summary, AppError> {
    if let Scope::Organisation(org) = scope
        && !actor.has_role_in(org, Role::ProgrammeManager)
    {
        return Err(AppError::Forbidden);
    }
    let key = (
        state.instance_id(),
        match scope {
            Scope::Mine => format!("mine:{}", actor.user_id),
            Scope::Organisation(org) => format!("org:{org}"),
        },
    );
    let generation = GENERATION.load(Ordering::Relaxed);
    if let Ok(c) = cache().lock()
        && let Some((at, g, s)) = c.get(&key)
        && *g == generation
        && at.elapsed() < CACHE_FOR
    {
        let mut s = s.clone();
        if let Scope::Organisation(_) = scope {
            s.title = actor
                .memberships
                .iter()
                .find(|m| key.1.ends_with(&m.0))
                .map(|m| m.1.clone())
                .unwrap_or(s.title);
        }
        return Ok(s);
    }
    let fresh = compute(state, actor, scope).await?;
    if let Ok(mut c) = cache().lock() {
        if c.len() > 1000 {
            c.clear();
        }
        c.insert(key, (Instant::now(), generation, fresh.clone()));
    }
    Ok(fresh)
}

async fn compute(state: &AppState, actor: &Actor, scope: &Scope) -> Result<Summary, AppError> {
    let since = crate::db::now() - MONTHS * 31 * 86_400;
    let (filter, bind, title) = match scope {
        Scope::Mine => (
            "s.lead_user_id = $1",
            actor.user_id.clone(),
            "Your practice".to_string(),
        ),
        Scope::Organisation(org) => {
            if !actor.has_role_in(org, Role::ProgrammeManager) {
                return Err(AppError::Forbidden);
            }
            let name = actor
                .memberships
                .iter()
                .find(|m| &m.0 == org)
                .map(|m| m.1.clone())
                .unwrap_or_default();
            ("s.organisation_id = $1", org.clone(), name)
        }
    };
    let mut out = Summary {
        title,
        ..Summary::default()
    };
    // Sessions by month and status, and register marks (kept per session by every
    // register change), in one pass over the sessions.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT s.starts_at, s.status, s.marks_present, s.marks_late, s.marks_left_early, s.marks_absent \
         FROM practice_sessions s WHERE {filter} AND s.starts_at >= $2"
    )))
    .bind(bind.clone())
    .bind(since)
    .fetch_all(&state.db.read)
    .await?;
    let now = crate::db::now();
    let mut by_month: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut marks = [0_i64; 4];
    let mut with_register = 0_i64;
    for r in &rows {
        let starts: i64 = r.try_get("starts_at")?;
        let m: [i64; 4] = [
            r.try_get("marks_absent")?,
            r.try_get("marks_late")?,
            r.try_get("marks_left_early")?,
            r.try_get("marks_present")?,
        ];
        if m.iter().any(|n| *n > 0) {
            with_register += 1;
        }
        for (t, n) in marks.iter_mut().zip(m) {
            *t += n;
        }
        if starts > now {
            continue;
        }
        let e = by_month.entry(month_key(starts)).or_default();
        match r.try_get::<String, _>("status")?.as_str() {
            "cancelled" => e.1 += 1,
            "held" => e.0 += 1,
            _ => {}
        }
    }
    out.sessions = by_month.into_iter().map(|(m, (h, c))| (m, h, c)).collect();
    for (status, n) in ["absent", "late", "left_early", "present"]
        .iter()
        .zip(marks)
    {
        if n > 0 {
            out.marks.push((status.to_string(), n));
        }
    }
    let attended: i64 = out
        .marks
        .iter()
        .filter(|(s, _)| s != "absent")
        .map(|(_, n)| n)
        .sum();
    if with_register > 0 {
        out.average_attendance = Some(attended as f64 / with_register as f64);
    }
    // Observation trends: mean of each score by month.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT o.recorded_at, o.scores FROM session_observations o JOIN practice_sessions s ON s.id = o.session_id \
         WHERE {filter} AND o.recorded_at >= $2"
    )))
    .bind(bind.clone())
    .bind(since)
    .fetch_all(&state.db.read)
    .await?;
    let mut sums: BTreeMap<(String, String), (f64, i64)> = BTreeMap::new();
    for r in &rows {
        let m = month_key(r.try_get("recorded_at")?);
        let scores: Vec<serde_json::Value> =
            serde_json::from_str(&r.try_get::<String, _>("scores")?).unwrap_or_default();
        for s in scores {
            if let (Some(label), Some(v)) = (s["label"].as_str(), s["value"].as_f64()) {
                let e = sums.entry((m.clone(), label.to_string())).or_default();
                e.0 += v;
                e.1 += 1;
            }
        }
    }
    out.observations = sums
        .into_iter()
        .map(|((m, l), (sum, n))| (m, l, sum / n as f64, n))
        .collect();
    // Incidents by severity.
    let incident_filter = match scope {
        Scope::Mine => "i.reported_by = $1",
        Scope::Organisation(_) => "i.organisation_id = $1",
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT i.severity, COUNT(*) AS n FROM incidents i WHERE {incident_filter} AND i.reported_at >= $2 GROUP BY i.severity"
    )))
    .bind(bind.clone())
    .bind(since)
    .fetch_all(&state.db.read)
    .await?;
    for sev in ["low", "moderate", "serious", "critical"] {
        let n = rows
            .iter()
            .find(|r| r.try_get::<String, _>("severity").ok().as_deref() == Some(sev))
            .and_then(|r| r.try_get::<i64, _>("n").ok())
            .unwrap_or(0);
        out.incidents.push((sev.to_string(), n));
    }
    // CPD by domain, against the framework in use (all time: a portfolio is cumulative).
    out.cpd = match scope {
        Scope::Mine => match super::portfolio::home(actor) {
            Ok((org, _)) => {
                super::portfolio::cpd_by_domain(state, &org, Some(&actor.user_id)).await?
            }
            Err(_) => Vec::new(),
        },
        Scope::Organisation(org) => super::portfolio::cpd_by_domain(state, org, None).await?,
    };
    Ok(out)
}
