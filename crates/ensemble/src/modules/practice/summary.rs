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

/// The UTC months from `since` to `now`: (`2026-11`, first second, first second of the next
/// month, or just after `now` for the current one).
fn month_bounds(since: i64, now: i64) -> Vec<(String, i64, i64)> {
    use time::{Date, Month, OffsetDateTime};
    let first_of = |y: i32, m: Month| {
        Date::from_calendar_date(y, m, 1)
            .map(|d| d.midnight().assume_utc().unix_timestamp())
            .unwrap_or(now)
    };
    let mut out = Vec::new();
    let Ok(start) = OffsetDateTime::from_unix_timestamp(since) else {
        return out;
    };
    let (mut y, mut m) = (start.year(), start.month());
    loop {
        let a = first_of(y, m).max(since);
        if a > now {
            break;
        }
        let (ny, nm) = if m == Month::December {
            (y + 1, Month::January)
        } else {
            (y, m.next())
        };
        let b = first_of(ny, nm).min(now + 1);
        out.push((format!("{y:04}-{:02}", m as u8), a, b));
        (y, m) = (ny, nm);
        if out.len() > 24 {
            break;
        }
    }
    out
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
    // Sessions held and cancelled by (UTC) month, and register marks (kept per session by
    // every register change), summed in one query: one pair of sums per month.
    let now = crate::db::now();
    let months = month_bounds(since, now);
    let mut cols: Vec<String> = Vec::new();
    for (i, (_, a, b)) in months.iter().enumerate() {
        for (tag, status) in [("h", "held"), ("c", "cancelled")] {
            cols.push(format!(
                "CAST(COALESCE(SUM(CASE WHEN s.starts_at >= {a} AND s.starts_at < {b} AND s.status = '{status}' THEN 1 ELSE 0 END), 0) AS BIGINT) AS {tag}{i}"
            ));
        }
    }
    for c in ["absent", "late", "left_early", "present"] {
        cols.push(format!(
            "CAST(COALESCE(SUM(s.marks_{c}), 0) AS BIGINT) AS m_{c}"
        ));
    }
    cols.push("CAST(COALESCE(SUM(CASE WHEN s.marks_present + s.marks_late + s.marks_left_early + s.marks_absent > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS with_register".into());
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM practice_sessions s WHERE {filter} AND s.starts_at >= $2",
        cols.join(", ")
    )))
    .bind(bind.clone())
    .bind(since)
    .fetch_one(&state.db.read)
    .await?;
    for (i, (key, _, _)) in months.iter().enumerate() {
        let (h, c): (i64, i64) = (
            r.try_get(format!("h{i}").as_str())?,
            r.try_get(format!("c{i}").as_str())?,
        );
        if h + c > 0 {
            out.sessions.push((key.clone(), h, c));
        }
    }
    let marks: Vec<i64> = ["absent", "late", "left_early", "present"]
        .iter()
        .map(|c| r.try_get::<i64, _>(format!("m_{c}").as_str()))
        .collect::<Result<_, _>>()?;
    let with_register: i64 = r.try_get("with_register")?;
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
        let m = crate::db::month_of(r.try_get("recorded_at")?);
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

#[cfg(test)]
mod tests {
    use super::month_bounds;
    use time::macros::datetime;

    #[test]
    fn months_cover_the_window_without_gaps() {
        let since = datetime!(2026-01-15 00:00 UTC).unix_timestamp();
        let now = datetime!(2026-03-10 12:00 UTC).unix_timestamp();
        let m = month_bounds(since, now);
        let keys: Vec<&str> = m.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(keys, ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(m[0].1, since);
        assert_eq!(m[0].2, datetime!(2026-02-01 00:00 UTC).unix_timestamp());
        assert_eq!(m[1].2, m[2].1);
        assert_eq!(m[2].2, now + 1);
        let dec = month_bounds(
            datetime!(2025-12-31 23:00 UTC).unix_timestamp(),
            datetime!(2026-01-01 01:00 UTC).unix_timestamp(),
        );
        assert_eq!(dec.len(), 2);
        assert_eq!(dec[1].0, "2026-01");
    }
}
