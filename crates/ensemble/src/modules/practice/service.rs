//! Practice use cases: sessions of an activity, their plan (and reusable templates), the
//! register (which feeds the referral pathway's attendance), and the three-part log. Each
//! authorises (practitioners and programme managers of the organisation running the
//! activity), validates, changes, keeps a revision and audits in one transaction. Plans and
//! logs carry a version: a save based on an older version is refused as a conflict, so two
//! people editing the same log cannot overwrite each other.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use time::{Duration, Time};

use super::model::{ACTIVITIES, REGISTER_STATUSES};
use crate::audit;
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::referrals::service as referrals;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// How far back a session may be recorded (for logging one held last week).
pub const PAST_WINDOW_DAYS: i64 = 7;

/// Can the actor run sessions for this organisation?
pub fn runs_sessions(actor: &Actor, organisation_id: &str) -> bool {
    actor.has_role_in(organisation_id, Role::Practitioner)
        || actor.has_role_in(organisation_id, Role::ProgrammeManager)
}

/// The form to plan a session.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct NewSession {
    pub activity_id: String,
    pub date: String,
    pub starts: String,
    pub ends: String,
    pub venue: String,
    pub template_id: String,
}

/// A `YYYY-MM-DD` date as typed (surrounding spaces ignored): the crate's one parser.
pub(super) use crate::dates::parse_date;

fn parse_time(s: &str) -> Option<Time> {
    Time::parse(
        s.trim(),
        time::macros::format_description!("[hour]:[minute]"),
    )
    .ok()
}

/// Activities the actor may run sessions for: (id, name).
pub async fn activities(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for (org, _, role) in &actor.memberships {
        if !matches!(role, Role::Practitioner | Role::ProgrammeManager) {
            continue;
        }
        let rows = sqlx::query(
            "SELECT id, name FROM activities WHERE organisation_id = $1 AND status = 'active' ORDER BY name",
        )
        .bind(org.clone())
        .fetch_all(&state.db.read)
        .await?;
        for r in rows {
            let pair = (r.try_get("id")?, r.try_get("name")?);
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    Ok(out)
}

/// Plan a new session. Dates more than [`PAST_WINDOW_DAYS`] ago, an end before the start
/// and unknown activities are refused with the field named.
pub async fn create(state: &AppState, actor: &Actor, f: &NewSession) -> Result<String, AppError> {
    let mut e = Vec::new();
    let org: Option<String> = sqlx::query_scalar(
        "SELECT organisation_id FROM activities WHERE id = $1 AND status = 'active'",
    )
    .bind(f.activity_id.clone())
    .fetch_optional(&state.db.read)
    .await?;
    let org = match org {
        Some(o) if runs_sessions(actor, &o) => Some(o),
        _ => {
            e.push(FieldError::new(
                "activity_id",
                "Choose one of your organisation's activities",
            ));
            None
        }
    };
    let today = crate::db::uk::today();
    let date = match parse_date(&f.date) {
        None => {
            e.push(FieldError::new(
                "date",
                "Enter the date as year-month-day, like 2026-12-03",
            ));
            None
        }
        Some(d) if d < today - Duration::days(PAST_WINDOW_DAYS) => {
            e.push(FieldError::new(
                "date",
                format!("A session can be recorded up to {PAST_WINDOW_DAYS} days after it happened; this date is earlier"),
            ));
            None
        }
        Some(d) if d > today + Duration::days(366) => {
            e.push(FieldError::new("date", "Plan sessions up to a year ahead"));
            None
        }
        Some(d) => Some(d),
    };
    let starts = parse_time(&f.starts);
    if starts.is_none() {
        e.push(FieldError::new(
            "starts",
            "Enter the start time as hours:minutes, like 14:00",
        ));
    }
    let ends = parse_time(&f.ends);
    match (starts, ends) {
        (_, None) => e.push(FieldError::new(
            "ends",
            "Enter the end time as hours:minutes, like 15:30",
        )),
        (Some(s), Some(x)) if x <= s => e.push(FieldError::new(
            "ends",
            "The session must end after it starts",
        )),
        _ => {}
    }
    if f.venue.chars().count() > 200 {
        e.push(FieldError::new("venue", "Keep the venue to 200 characters"));
    }
    let template = if f.template_id.is_empty() {
        None
    } else {
        let t = sqlx::query(
            "SELECT organisation_id, aims, musical_activities, adaptations, risks, materials FROM plan_templates WHERE id = $1",
        )
        .bind(f.template_id.clone())
        .fetch_optional(&state.db.read)
        .await?;
        match t {
            Some(t)
                if org.as_deref() == Some(t.try_get::<String, _>("organisation_id")?.as_str()) =>
            {
                Some(t)
            }
            _ => {
                e.push(FieldError::new(
                    "template_id",
                    "Choose a template of this organisation",
                ));
                None
            }
        }
    };
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let (Some(org), Some(date), Some(starts), Some(ends)) = (org, date, starts, ends) else {
        return Err(AppError::Invalid(vec![]));
    };
    // Times are typed in UK time and stored as the instant.
    let at = |t: Time| crate::db::uk::instant(date, t);
    let text = |k: &str| -> String {
        template
            .as_ref()
            .and_then(|t| t.try_get::<String, _>(k).ok())
            .unwrap_or_default()
    };
    let id = new_id();
    let mut tx = state.db.begin().await?;
    let ts = now();
    sqlx::query(
        "INSERT INTO practice_sessions (id, activity_id, organisation_id, starts_at, ends_at, venue, status, lead_user_id, aims, \
         musical_activities, adaptations, risks, materials, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'planned', $7, $8, $9, $10, $11, $12, $7, $13, $13)",
    )
    .bind(id.clone())
    .bind(f.activity_id.clone())
    .bind(org.clone())
    .bind(at(starts))
    .bind(at(ends))
    .bind(f.venue.trim().to_string())
    .bind(actor.user_id.clone())
    .bind(text("aims"))
    .bind(text("musical_activities"))
    .bind(text("adaptations"))
    .bind(text("risks"))
    .bind(text("materials"))
    .bind(ts)
    .execute(&mut *tx)
    .await?;
    audit_session(
        &mut tx,
        actor,
        "session.create",
        &id,
        json!({ "activity_id": f.activity_id, "template": !f.template_id.is_empty() }),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(id)
}

async fn audit_session(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    id: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    audit::by(tx, actor, action, "practice_session", Some(id), detail).await?;
    Ok(())
}

async fn revision(
    tx: &mut Tx,
    actor: &Actor,
    session_id: &str,
    part: &str,
    version: i64,
    content: serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO session_revisions (id, session_id, part, version, content, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(session_id.to_string())
    .bind(part.to_string())
    .bind(version)
    .bind(content.to_string())
    .bind(actor.user_id.clone())
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A session as its practitioners see it.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: String,
    pub activity_id: String,
    pub activity_name: String,
    pub organisation_id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub venue: String,
    pub status: String,
    pub cancel_reason: String,
    pub lead_name: String,
    pub plan: Plan,
    pub plan_version: i64,
    pub log: Log,
    pub log_version: i64,
}

/// The plan.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
#[serde(default)]
pub struct Plan {
    pub aims: String,
    /// Codes from [`ACTIVITIES`].
    pub musical_activities: Vec<String>,
    pub adaptations: String,
    pub risks: String,
    pub materials: String,
}

/// The three-part log: the plan is part one; these are the session and the debrief.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
#[serde(default)]
pub struct Log {
    pub what_happened: String,
    pub engagement: String,
    pub moments: String,
    pub debrief: String,
    pub next_time: String,
}

async fn load(tx: &mut Tx, id: &str) -> Result<Session, AppError> {
    let r = sqlx::query(
        "SELECT s.*, a.name AS activity_name, u.display_name AS lead_name FROM practice_sessions s \
         JOIN activities a ON a.id = s.activity_id JOIN users u ON u.id = s.lead_user_id WHERE s.id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let codes: String = r.try_get("musical_activities")?;
    Ok(Session {
        id: r.try_get("id")?,
        activity_id: r.try_get("activity_id")?,
        activity_name: r.try_get("activity_name")?,
        organisation_id: r.try_get("organisation_id")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        venue: r.try_get("venue")?,
        status: r.try_get("status")?,
        cancel_reason: r.try_get("cancel_reason")?,
        lead_name: r.try_get("lead_name")?,
        plan: Plan {
            aims: r.try_get("aims")?,
            musical_activities: codes
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            adaptations: r.try_get("adaptations")?,
            risks: r.try_get("risks")?,
            materials: r.try_get("materials")?,
        },
        plan_version: r.try_get("plan_version")?,
        log: Log {
            what_happened: r.try_get("log_what_happened")?,
            engagement: r.try_get("log_engagement")?,
            moments: r.try_get("log_moments")?,
            debrief: r.try_get("log_debrief")?,
            next_time: r.try_get("log_next_time")?,
        },
        log_version: r.try_get("log_version")?,
    })
}

async fn load_for(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Session, AppError> {
    let s = load(tx, id).await?;
    if !runs_sessions(actor, &s.organisation_id) {
        return Err(AppError::Forbidden);
    }
    Ok(s)
}

/// One session (audited: its log and register name people).
pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<Session, AppError> {
    let mut tx = state.db.begin().await?;
    let s = load_for(&mut tx, actor, id).await?;
    audit_session(&mut tx, actor, "session.read", id, json!({})).await?;
    tx.commit().await?;
    Ok(s)
}

/// A session in a list.
#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    pub id: String,
    pub activity_name: String,
    pub starts_at: i64,
    pub status: String,
}

/// The actor's organisations' sessions from a week ago onwards (and the last 20 before).
pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<SessionRow>, AppError> {
    let mut out = Vec::new();
    let from = now() - PAST_WINDOW_DAYS * 86_400;
    for (org, _, role) in &actor.memberships {
        if !matches!(role, Role::Practitioner | Role::ProgrammeManager) {
            continue;
        }
        let rows = sqlx::query(
            "SELECT s.id, a.name, s.starts_at, s.status FROM practice_sessions s JOIN activities a ON a.id = s.activity_id \
             WHERE s.organisation_id = $1 AND s.starts_at >= $2 ORDER BY s.starts_at LIMIT 200",
        )
        .bind(org.clone())
        .bind(from)
        .fetch_all(&state.db.read)
        .await?;
        for r in rows {
            let id: String = r.try_get("id")?;
            if out.iter().any(|x: &SessionRow| x.id == id) {
                continue;
            }
            out.push(SessionRow {
                id,
                activity_name: r.try_get("name")?,
                starts_at: r.try_get("starts_at")?,
                status: r.try_get("status")?,
            });
        }
    }
    out.sort_by_key(|s| s.starts_at);
    Ok(out)
}

fn check_plan(p: &Plan) -> Vec<FieldError> {
    let mut e = Vec::new();
    if p.aims.trim().is_empty() {
        e.push(FieldError::new("aims", "Enter the aims of the session"));
    }
    if p.musical_activities.is_empty() {
        e.push(FieldError::new(
            "musical_activities",
            "Choose at least one musical activity",
        ));
    }
    if p.musical_activities
        .iter()
        .any(|c| !ACTIVITIES.iter().any(|(k, _)| k == c))
    {
        e.push(FieldError::new(
            "musical_activities",
            "Choose from the list",
        ));
    }
    for (field, value) in [
        ("aims", &p.aims),
        ("adaptations", &p.adaptations),
        ("risks", &p.risks),
        ("materials", &p.materials),
    ] {
        if value.chars().count() > 5000 {
            e.push(FieldError::new(field, "Keep this to 5,000 characters"));
        }
    }
    e
}

/// Save the plan if it is still at `based_on`; `template_name` also keeps it as a template.
pub async fn save_plan(
    state: &AppState,
    actor: &Actor,
    id: &str,
    plan: &Plan,
    based_on: i64,
    template_name: &str,
) -> Result<(), AppError> {
    let e = check_plan(plan);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let s = load_for(&mut tx, actor, id).await?;
    if s.status == "cancelled" {
        return Err(AppError::Conflict("This session was cancelled".into()));
    }
    let next = based_on + 1;
    let n = sqlx::query(
        "UPDATE practice_sessions SET aims = $1, musical_activities = $2, adaptations = $3, risks = $4, materials = $5, \
         plan_version = $6, updated_at = $7 WHERE id = $8 AND plan_version = $9",
    )
    .bind(plan.aims.trim().to_string())
    .bind(plan.musical_activities.join(","))
    .bind(plan.adaptations.trim().to_string())
    .bind(plan.risks.trim().to_string())
    .bind(plan.materials.trim().to_string())
    .bind(next)
    .bind(now())
    .bind(id.to_string())
    .bind(based_on)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AppError::Conflict(
            "Someone else saved this plan while you were editing it".into(),
        ));
    }
    revision(&mut tx, actor, id, "plan", next, json!(plan)).await?;
    if !template_name.trim().is_empty() {
        sqlx::query(
            "INSERT INTO plan_templates (id, organisation_id, name, aims, musical_activities, adaptations, risks, materials, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(s.organisation_id.clone())
        .bind(template_name.trim().chars().take(200).collect::<String>())
        .bind(plan.aims.trim().to_string())
        .bind(plan.musical_activities.join(","))
        .bind(plan.adaptations.trim().to_string())
        .bind(plan.risks.trim().to_string())
        .bind(plan.materials.trim().to_string())
        .bind(actor.user_id.clone())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    }
    audit_session(
        &mut tx,
        actor,
        "session.plan.save",
        id,
        json!({ "version": next, "template": !template_name.trim().is_empty() }),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(())
}

/// Templates of the actor's organisations: (id, name).
pub async fn templates(state: &AppState, actor: &Actor) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for (org, org_name, role) in &actor.memberships {
        if !matches!(role, Role::Practitioner | Role::ProgrammeManager) {
            continue;
        }
        for r in sqlx::query(
            "SELECT id, name FROM plan_templates WHERE organisation_id = $1 ORDER BY name",
        )
        .bind(org.clone())
        .fetch_all(&state.db.read)
        .await?
        {
            let name: String = r.try_get("name")?;
            out.push((r.try_get("id")?, format!("{name} ({org_name})")));
        }
    }
    Ok(out)
}

/// Outcome of saving a log.
#[derive(Debug, Clone, PartialEq)]
pub enum LogSaved {
    Saved,
    /// Someone else saved first: their version and log, to show beside yours.
    Conflict {
        version: i64,
        theirs: Log,
        by: String,
    },
}

/// Save the session log if it is still at `based_on`; otherwise report the conflict with
/// the other person's text (nothing is overwritten). Any practitioner or programme manager
/// of the organisation may add to it (co-facilitators); each saver is recorded.
pub async fn save_log(
    state: &AppState,
    actor: &Actor,
    id: &str,
    log: &Log,
    based_on: i64,
) -> Result<LogSaved, AppError> {
    let mut e = Vec::new();
    for (field, value) in [
        ("what_happened", &log.what_happened),
        ("engagement", &log.engagement),
        ("moments", &log.moments),
        ("debrief", &log.debrief),
        ("next_time", &log.next_time),
    ] {
        if value.chars().count() > 10_000 {
            e.push(FieldError::new(field, "Keep this to 10,000 characters"));
        }
    }
    if log.what_happened.trim().is_empty() {
        e.push(FieldError::new(
            "what_happened",
            "Say briefly what happened in the session",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let s = load_for(&mut tx, actor, id).await?;
    if s.status == "cancelled" {
        return Err(AppError::Conflict(
            "This session was cancelled, so it has no log".into(),
        ));
    }
    if s.starts_at > now() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "what_happened",
            "The log can be written once the session has started",
        )]));
    }
    if s.log_version != based_on {
        let by: Option<String> = sqlx::query_scalar(
            "SELECT u.display_name FROM session_revisions r JOIN users u ON u.id = r.changed_by \
             WHERE r.session_id = $1 AND r.part = 'log' AND r.version = $2",
        )
        .bind(id.to_string())
        .bind(s.log_version)
        .fetch_optional(&mut *tx)
        .await?;
        return Ok(LogSaved::Conflict {
            version: s.log_version,
            theirs: s.log,
            by: by.unwrap_or_else(|| "someone".into()),
        });
    }
    let next = based_on + 1;
    let n = sqlx::query(
        "UPDATE practice_sessions SET log_what_happened = $1, log_engagement = $2, log_moments = $3, log_debrief = $4, \
         log_next_time = $5, log_version = $6, status = 'held', updated_at = $7 WHERE id = $8 AND log_version = $9",
    )
    .bind(log.what_happened.trim().to_string())
    .bind(log.engagement.trim().to_string())
    .bind(log.moments.trim().to_string())
    .bind(log.debrief.trim().to_string())
    .bind(log.next_time.trim().to_string())
    .bind(next)
    .bind(now())
    .bind(id.to_string())
    .bind(based_on)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AppError::Conflict(
            "Someone else saved this log at the same moment; reload it".into(),
        ));
    }
    sqlx::query("INSERT INTO session_facilitators (session_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(id.to_string())
        .bind(actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
    revision(&mut tx, actor, id, "log", next, json!(log)).await?;
    audit_session(
        &mut tx,
        actor,
        "session.log.save",
        id,
        json!({ "version": next }),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(LogSaved::Saved)
}

/// Cancel a planned session (it then takes no register or log).
pub async fn cancel(
    state: &AppState,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<(), AppError> {
    if reason.trim().is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "reason",
            "Say why the session is cancelled",
        )]));
    }
    let mut tx = state.db.begin().await?;
    let s = load_for(&mut tx, actor, id).await?;
    if s.status != "planned" {
        return Err(AppError::Conflict(
            "Only a planned session can be cancelled".into(),
        ));
    }
    sqlx::query("UPDATE practice_sessions SET status = 'cancelled', cancel_reason = $1, updated_at = $2 WHERE id = $3")
        .bind(reason.trim().chars().take(500).collect::<String>())
        .bind(now())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    audit_session(&mut tx, actor, "session.cancel", id, json!({})).await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(())
}

/// A line of the register.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterLine {
    /// `r:<referral id>` or `w:<entry id>`.
    pub key: String,
    pub name: String,
    pub referred: bool,
    /// A regular member of the activity (not referred).
    pub member: bool,
    /// A regular member who has stopped coming (shown only where already marked).
    pub left: bool,
    pub status: Option<String>,
}

/// The register: people referred to the activity and accepted (connected or attending), and
/// anyone already on it (walk-ins). Names are first (preferred) names only.
pub async fn register(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Session, Vec<RegisterLine>), AppError> {
    let mut tx = state.db.begin().await?;
    let s = load_for(&mut tx, actor, id).await?;
    let expected = sqlx::query(
        "SELECT r.id, r.person_id, e.status FROM referrals r \
         LEFT JOIN register_entries e ON e.session_id = $2 AND e.referral_id = r.id \
         WHERE r.activity_id = $1 AND r.provider_status = 'accepted' AND (r.status IN ('connected', 'attending', 'reviewed') OR e.id IS NOT NULL)",
    )
    .bind(s.activity_id.clone())
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    let person_ids = expected
        .iter()
        .map(|r| r.try_get::<String, _>("person_id"))
        .collect::<Result<Vec<_>, _>>()?;
    let names = crate::modules::people::service::display_names(&mut tx, &person_ids).await?;
    let mut lines = Vec::new();
    for r in expected {
        let person_id: String = r.try_get("person_id")?;
        lines.push(RegisterLine {
            key: format!("r:{}", r.try_get::<String, _>("id")?),
            name: names
                .get(&person_id)
                .map(|n| n.short.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "(no name)".into()),
            referred: true,
            member: false,
            left: false,
            status: r.try_get("status")?,
        });
    }
    lines.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.key.cmp(&b.key)));
    // Regular members: current ones, and former ones already marked on this register.
    for r in sqlx::query(
        "SELECT m.id, m.name, m.left_at, e.status FROM activity_members m \
         LEFT JOIN register_entries e ON e.session_id = $2 AND e.member_id = m.id \
         WHERE m.activity_id = $1 AND (e.id IS NOT NULL OR (m.left_at IS NULL AND m.added_at <= $3)) ORDER BY m.name, m.id",
    )
    .bind(s.activity_id.clone())
    .bind(id.to_string())
    .bind(s.ends_at)
    .fetch_all(&mut *tx)
    .await?
    {
        lines.push(RegisterLine {
            key: format!("m:{}", r.try_get::<String, _>("id")?),
            name: r.try_get("name")?,
            referred: false,
            member: true,
            left: r.try_get::<Option<i64>, _>("left_at")?.is_some(),
            status: r.try_get("status")?,
        });
    }
    for r in sqlx::query("SELECT id, walk_in_name, status FROM register_entries WHERE session_id = $1 AND referral_id IS NULL AND member_id IS NULL ORDER BY walk_in_name")
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await?
    {
        lines.push(RegisterLine {
            key: format!("w:{}", r.try_get::<String, _>("id")?),
            name: r.try_get("walk_in_name")?,
            referred: false,
            member: false,
            left: false,
            status: Some(r.try_get("status")?),
        });
    }
    audit_session(
        &mut tx,
        actor,
        "session.register.read",
        id,
        json!({ "lines": lines.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok((s, lines))
}

/// Mark one person on the register (one tap), or add a walk-in (`key` empty, `walk_in`
/// the name). Referred people's marks feed the referral's attendance: present, late and
/// left early count as present.
pub async fn mark(
    state: &AppState,
    actor: &Actor,
    id: &str,
    key: &str,
    status: &str,
    walk_in: &str,
    regular: bool,
) -> Result<(), AppError> {
    if !REGISTER_STATUSES.iter().any(|(k, _)| *k == status) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            "Choose present, late, left early or absent",
        )]));
    }
    let mut tx = state.db.begin().await?;
    let s = load_for(&mut tx, actor, id).await?;
    if s.status == "cancelled" {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            "This session was cancelled, so it has no register",
        )]));
    }
    let session_day = crate::db::uk::local(s.starts_at).date();
    if session_day > crate::db::uk::today() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            "The register can be taken on the day of the session",
        )]));
    }
    let at = now();
    if let Some(rid) = key.strip_prefix("r:") {
        // The session's own access check above says the actor keeps this register.
        let r = referrals::for_register(&mut tx, actor, rid, &s.activity_id).await?;
        sqlx::query(
            "INSERT INTO register_entries (id, session_id, referral_id, status, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (session_id, referral_id) DO UPDATE SET status = excluded.status, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
        )
        .bind(new_id())
        .bind(id.to_string())
        .bind(rid.to_string())
        .bind(status.to_string())
        .bind(actor.user_id.clone())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let attended = if status == "absent" {
            "absent"
        } else {
            "present"
        };
        referrals::record_attendance_tx(&mut tx, actor, &r, session_day, attended).await?;
    } else if let Some(member) = key.strip_prefix("m:") {
        let (name, left): (String, Option<i64>) = {
            let r = sqlx::query(
                "SELECT name, left_at FROM activity_members WHERE id = $1 AND activity_id = $2",
            )
            .bind(member.to_string())
            .bind(s.activity_id.clone())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AppError::NotFound)?;
            (r.try_get("name")?, r.try_get("left_at")?)
        };
        let already: Option<String> = sqlx::query_scalar(
            "SELECT id FROM register_entries WHERE session_id = $1 AND member_id = $2",
        )
        .bind(id.to_string())
        .bind(member.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        match already {
            Some(entry) => {
                sqlx::query("UPDATE register_entries SET status = $1, recorded_by = $2, recorded_at = $3 WHERE id = $4")
                    .bind(status.to_string())
                    .bind(actor.user_id.clone())
                    .bind(at)
                    .bind(entry)
                    .execute(&mut *tx)
                    .await?;
            }
            None if left.is_some() => {
                return Err(AppError::Invalid(vec![FieldError::new(
                    "status",
                    format!("{name} is no longer a regular member: add them as a walk-in"),
                )]));
            }
            None => {
                sqlx::query(
                    "INSERT INTO register_entries (id, session_id, walk_in_name, member_id, status, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (session_id, member_id) DO UPDATE SET status = excluded.status, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
                )
                .bind(new_id())
                .bind(id.to_string())
                .bind(name)
                .bind(member.to_string())
                .bind(status.to_string())
                .bind(actor.user_id.clone())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        }
    } else if let Some(entry) = key.strip_prefix("w:") {
        let n = sqlx::query("UPDATE register_entries SET status = $1, recorded_by = $2, recorded_at = $3 WHERE id = $4 AND session_id = $5")
            .bind(status.to_string())
            .bind(actor.user_id.clone())
            .bind(at)
            .bind(entry.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::NotFound);
        }
    } else {
        let name = walk_in.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "walk_in",
                "Enter the walk-in's first name (up to 100 characters)",
            )]));
        }
        // A regular member is expected at every later session of the activity.
        let member = if regular {
            let m = new_id();
            sqlx::query("INSERT INTO activity_members (id, activity_id, name, added_by, added_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(m.clone())
                .bind(s.activity_id.clone())
                .bind(name.to_string())
                .bind(actor.user_id.clone())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            Some(m)
        } else {
            None
        };
        sqlx::query(
            "INSERT INTO register_entries (id, session_id, walk_in_name, member_id, status, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(id.to_string())
        .bind(name.to_string())
        .bind(member)
        .bind(status.to_string())
        .bind(actor.user_id.clone())
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    let version: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM session_revisions WHERE session_id = $1 AND part = 'register'",
    )
    .bind(id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    revision(
        &mut tx,
        actor,
        id,
        "register",
        version + 1,
        json!({ "key": key, "status": status, "walk_in": !walk_in.trim().is_empty(), "regular": regular }),
    )
    .await?;
    sqlx::query("UPDATE practice_sessions SET status = CASE WHEN status = 'planned' THEN 'held' ELSE status END, updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    recount_marks(&mut tx, id).await?;
    audit_session(
        &mut tx,
        actor,
        "session.register.mark",
        id,
        json!({ "key": key.split(':').next(), "status": status }),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(())
}

/// A regular member stops being expected (from the register of one of the activity's
/// sessions). Their past marks stay.
pub async fn member_leaves(
    state: &AppState,
    actor: &Actor,
    session: &str,
    member: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let s = load_for(&mut tx, actor, session).await?;
    let n = sqlx::query("UPDATE activity_members SET left_at = $1 WHERE id = $2 AND activity_id = $3 AND left_at IS NULL")
        .bind(now())
        .bind(member.to_string())
        .bind(s.activity_id.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit_session(
        &mut tx,
        actor,
        "session.member.left",
        session,
        json!({ "member": member }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The session's register marks, counted by status (`practice_sessions.marks_*`), recounted
/// from its register (a dozen rows) so the stored counts cannot drift.
const RECOUNT: &str = "UPDATE practice_sessions SET \
    marks_present = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'present'), \
    marks_late = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'late'), \
    marks_left_early = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'left_early'), \
    marks_absent = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'absent')";

async fn recount_marks(tx: &mut Tx, id: &str) -> Result<(), AppError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{RECOUNT} WHERE id = $1")))
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Recount the marks of every session of an organisation (after a bulk load).
pub async fn recount_organisation_marks(state: &AppState, org: &str) -> Result<(), AppError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{RECOUNT} WHERE organisation_id = $1"
    )))
    .bind(org.to_string())
    .execute(&state.db.write)
    .await?;
    Ok(())
}

/// Observation scales offered for a session: the built-in observer scales. (Co-designed
/// instruments are answered by people about themselves; nothing yet marks one as an
/// observer scale, so none is offered here.)
pub async fn observation_scales(
    _state: &AppState,
    _organisation_id: &str,
) -> Result<Vec<crate::modules::measures::definition::Definition>, AppError> {
    use crate::modules::measures::definition::{OBSERVATION_SCALES, builtin};
    Ok(OBSERVATION_SCALES
        .iter()
        .filter_map(|id| builtin(id).cloned())
        .collect())
}

/// A recorded observation: instrument name and its scores.
#[derive(Debug, Clone)]
pub struct Observation {
    pub instrument: String,
    pub scores: Vec<crate::modules::measures::definition::Score>,
    pub recorded_at: i64,
    /// The participant observed (first name), when not the whole group.
    pub about: Option<String>,
}

/// Observations recorded for a session, newest first.
pub async fn observations(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Vec<Observation>, AppError> {
    let mut tx = state.db.begin().await?;
    load_for(&mut tx, actor, id).await?;
    let rows = sqlx::query(
        "SELECT o.instrument_id, o.scores, o.recorded_at, o.person_id \
         FROM session_observations o \
         WHERE o.session_id = $1 ORDER BY o.recorded_at DESC, o.id",
    )
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    let person_ids = rows
        .iter()
        .filter_map(|r| r.try_get::<Option<String>, _>("person_id").ok().flatten())
        .collect::<Vec<_>>();
    let names = crate::modules::people::service::display_names(&mut tx, &person_ids).await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for r in rows {
        let instrument: String = r.try_get("instrument_id")?;
        let scores: Vec<crate::modules::measures::definition::Score> =
            serde_json::from_str::<Vec<serde_json::Value>>(&r.try_get::<String, _>("scores")?)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| {
                    Some(crate::modules::measures::definition::Score {
                        id: v["id"].as_str()?.to_string(),
                        label: v["label"].as_str()?.to_string(),
                        value: v["value"].as_f64()?,
                        band: v["band"].as_str().map(str::to_string),
                    })
                })
                .collect();
        out.push(Observation {
            instrument: crate::modules::measures::definition::builtin(&instrument)
                .map(|d| d.short_name.clone())
                .unwrap_or(instrument),
            scores,
            recorded_at: r.try_get("recorded_at")?,
            about: r
                .try_get::<Option<String>, _>("person_id")?
                .map(|p| names.get(&p).map(|n| n.short.clone()).unwrap_or_default()),
        });
    }
    Ok(out)
}

/// Record an observation scale for a session: answers checked against the scale (every
/// problem named by question), scored, stored with the version, audited.
pub async fn observe(
    state: &AppState,
    actor: &Actor,
    id: &str,
    instrument: &str,
    about: Option<&str>,
    answers: std::collections::BTreeMap<String, crate::modules::measures::definition::Answer>,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let s = load_for(&mut tx, actor, id).await?;
    if s.status == "cancelled" {
        return Err(AppError::Conflict("This session was cancelled".into()));
    }
    // An observation of one participant: someone marked as attending this session.
    if let Some(person) = about
        && !super::moments::attendees(state, id)
            .await?
            .iter()
            .any(|a| a.person_id == person)
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "about",
            "Choose the whole group or someone marked as attending this session",
        )]));
    }
    let scales = observation_scales(state, &s.organisation_id).await?;
    let def = scales
        .into_iter()
        .find(|d| d.id == instrument)
        .ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new(
                "instrument",
                "Choose an observation scale",
            )])
        })?;
    let problems = crate::modules::measures::service::check_answers(&def, &answers);
    if !problems.is_empty() {
        return Err(AppError::Invalid(
            problems
                .into_iter()
                .map(|p| FieldError::new(format!("q_{}", p.field), p.message))
                .collect(),
        ));
    }
    let scores = def.score(&answers).map_err(|e| {
        AppError::Invalid(
            e.0.into_iter()
                .map(|p| FieldError::new(format!("q_{}", p.item), p.message))
                .collect(),
        )
    })?;
    let obs_id = new_id();
    sqlx::query(
        "INSERT INTO session_observations (id, session_id, instrument_id, instrument_version, answers, scores, recorded_by, recorded_at, person_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(obs_id.clone())
    .bind(id.to_string())
    .bind(def.id.clone())
    .bind(i64::from(def.version))
    .bind(serde_json::to_string(&answers).map_err(anyhow::Error::from)?)
    .bind(serde_json::to_string(&scores).map_err(anyhow::Error::from)?)
    .bind(actor.user_id.clone())
    .bind(now())
    .bind(about.map(str::to_string))
    .execute(&mut *tx)
    .await?;
    audit_session(
        &mut tx,
        actor,
        "session.observation",
        id,
        json!({ "instrument": def.key(), "participant": about.is_some() }),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(())
}
