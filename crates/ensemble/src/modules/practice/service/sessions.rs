//! Sessions of an activity: creating them (one or a series), reading one (through
//! [`SessionAccess`]), listing them, and cancelling.

use crate::modules::practice::model::SessionStatus;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use time::{Duration, Time};

use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

use super::*;

/// The form to plan a session.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct NewSession {
    pub activity_id: String,
    /// An ISO date (`YYYY-MM-DD`), for callers other than the form.
    pub date: String,
    /// The form's NHS.UK date input: day, month and year.
    #[serde(rename = "date-day")]
    pub day: String,
    #[serde(rename = "date-month")]
    pub month: String,
    #[serde(rename = "date-year")]
    pub year: String,
    pub starts: String,
    pub ends: String,
    pub venue: String,
    pub template_id: String,
}

/// A `YYYY-MM-DD` date as typed (surrounding spaces ignored): the crate's one parser.
pub(in crate::modules::practice) use crate::dates::parse_date;

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
            "SELECT id, name FROM directory_activity_names WHERE organisation_id = $1 AND status = 'active' ORDER BY name",
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
    Ok(create_checked(state, actor, f).await?.0)
}

/// Plan a new (one-off) session, and say whether it matches the activity's schedule (a
/// date or time off the schedule is allowed: the caller warns).
pub async fn create_checked(
    state: &AppState,
    actor: &Actor,
    f: &NewSession,
) -> Result<(String, bool), AppError> {
    let mut e = Vec::new();
    let org = match activity_org(state, actor, &f.activity_id).await {
        Ok(o) => Some(o),
        Err(AppError::Invalid(mut fe)) => {
            e.append(&mut fe);
            None
        }
        Err(other) => return Err(other),
    };
    let today = crate::db::uk::today();
    let typed = if f.date.trim().is_empty() {
        parse_date_input("date", "date of the session", &f.day, &f.month, &f.year)
    } else {
        parse_date(&f.date).ok_or_else(|| {
            FieldError::new("date", "Enter the date as year-month-day, like 2026-12-03")
        })
    };
    let field = if f.date.trim().is_empty() {
        "date-day"
    } else {
        "date"
    };
    let date = match typed {
        Err(fe) => {
            e.push(fe);
            None
        }
        Ok(d) if d < today - Duration::days(PAST_WINDOW_DAYS) => {
            e.push(FieldError::new(
                field,
                format!("A session can be recorded up to {PAST_WINDOW_DAYS} days after it happened; this date is earlier"),
            ));
            None
        }
        Ok(d) if d > today + Duration::days(366) => {
            e.push(FieldError::new(field, "Plan sessions up to a year ahead"));
            None
        }
        Ok(d) => Some(d),
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
    crate::modules::practice::summary::invalidate();
    let schedules = crate::modules::directory::service::schedules(state, &f.activity_id).await?;
    Ok((id, matches_schedule(&schedules, date, starts, ends)))
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
    pub status: SessionStatus,
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

/// One session, with the proof that the actor is of its organisation (audited: its log and
/// register name people).
pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<SessionAccess, AppError> {
    let mut tx = state.db.begin().await?;
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, id).await?;
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
    pub status: SessionStatus,
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
            "SELECT s.id, a.name, s.starts_at, s.status FROM practice_sessions s JOIN directory_activity_names a ON a.id = s.activity_id \
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
                status: SessionStatus::decode(r.try_get("status")?)?,
            });
        }
    }
    out.sort_by_key(|s| s.starts_at);
    Ok(out)
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
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, id).await?;
    if s.status != SessionStatus::Planned {
        return Err(AppError::Conflict(
            "Only a planned session can be cancelled".into(),
        ));
    }
    sqlx::query("UPDATE practice_sessions SET status = 'cancelled', cancel_reason = $1, updated_at = $2 WHERE id = $3")
        .bind(reason.trim().chars().take(500).collect::<String>())
        .bind(now())
        .bind(s.id.clone())
        .execute(&mut *tx)
        .await?;
    audit_session(&mut tx, actor, "session.cancel", &s.id, json!({})).await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
    Ok(())
}

/// When the next planned session of an activity starts (from now), if one is planned: the
/// named read behind "your next session" on a participant's plan. Only the time is read.
pub async fn next_session_starts(
    state: &AppState,
    activity_id: &str,
) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(starts_at) FROM practice_sessions WHERE activity_id = $1 AND status = 'planned' AND starts_at > $2",
    )
    .bind(activity_id.to_string())
    .bind(crate::db::now())
    .fetch_one(&state.db.read)
    .await?)
}
