//! Moments that mattered, linked to one participant — only with their consent to share
//! stories ("share_stories"). The consent is checked when the moment is written and again
//! every time moments are shown, so withdrawing it hides them at once. The person sees the
//! moments about them on their own plan page.

use crate::modules::practice::model::SessionStatus;
use serde_json::json;
use sqlx::Row;

use super::access::SessionAccess;
use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

/// Someone marked as attending a session (present, late or left early), from a referral.
#[derive(Debug, Clone)]
pub struct Attendee {
    pub person_id: String,
    /// First (preferred) name only.
    pub name: String,
    /// Has agreed to share stories (so a moment may be linked to them).
    pub shares_stories: bool,
}

/// People who attended the session (the proof says the actor may see its register).
pub async fn attendees(
    state: &AppState,
    session: &SessionAccess,
) -> Result<Vec<Attendee>, AppError> {
    let rows = sqlx::query(
        "SELECT r.person_id, \
           (SELECT COUNT(*) FROM people_current_consents c WHERE c.person_id = r.person_id AND c.purpose = 'share_stories' AND c.decision = 'given') AS shares \
         FROM register_entries e JOIN referrals_case_summaries r ON r.id = e.referral_id \
         WHERE e.session_id = $1 AND e.status IN ('present', 'late', 'left_early')",
    )
    .bind(session.id.clone())
    .fetch_all(&state.db.read)
    .await?;
    let ids = rows
        .iter()
        .map(|r| r.try_get::<String, _>("person_id"))
        .collect::<Result<Vec<_>, _>>()?;
    let names = {
        let mut conn = state.db.read.acquire().await?;
        crate::modules::people::service::display_names(&mut conn, &ids).await?
    };
    let mut out = rows
        .iter()
        .map(|r| {
            let person_id: String = r.try_get("person_id")?;
            Ok(Attendee {
                name: names
                    .get(&person_id)
                    .map(|n| n.short.clone())
                    .unwrap_or_else(|| "(no name)".into()),
                person_id,
                shares_stories: r.try_get::<i64, _>("shares")? > 0,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A moment as shown.
#[derive(Debug, Clone)]
pub struct Moment {
    pub name: String,
    pub moment: String,
    pub recorded_by: String,
    pub recorded_at: i64,
    pub activity: String,
    pub session_starts_at: i64,
}

const SELECT: &str = "SELECT m.moment, m.recorded_at, u.display_name AS recorded_by, s.starts_at, a.name AS activity, \
    m.person_id \
    FROM session_moments m JOIN accounts_user_names u ON u.id = m.recorded_by JOIN practice_sessions s ON s.id = m.session_id \
    JOIN directory_activity_names a ON a.id = s.activity_id \
    JOIN people_current_consents c ON c.person_id = m.person_id AND c.purpose = 'share_stories' AND c.decision = 'given'";

async fn rows(state: &AppState, rows: &[sqlx::any::AnyRow]) -> Result<Vec<Moment>, AppError> {
    let ids = rows
        .iter()
        .map(|r| r.try_get::<String, _>("person_id"))
        .collect::<Result<Vec<_>, _>>()?;
    let names = {
        let mut conn = state.db.read.acquire().await?;
        crate::modules::people::service::display_names(&mut conn, &ids).await?
    };
    rows.iter()
        .map(|r| {
            let person_id: String = r.try_get("person_id")?;
            Ok(Moment {
                name: names
                    .get(&person_id)
                    .map(|n| n.short.clone())
                    .unwrap_or_default(),
                moment: r.try_get("moment")?,
                recorded_by: r.try_get("recorded_by")?,
                recorded_at: r.try_get("recorded_at")?,
                activity: r.try_get("activity")?,
                session_starts_at: r.try_get("starts_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Moments of a session (only of people whose consent still stands), to those who may see
/// its log.
pub async fn for_session(
    state: &AppState,
    session: &SessionAccess,
) -> Result<Vec<Moment>, AppError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.session_id = $1 ORDER BY m.recorded_at, m.id"
    )))
    .bind(session.id.clone())
    .fetch_all(&state.db.read)
    .await?;
    rows(state, &r).await
}

/// Moments about a person, for their own page (newest first).
pub async fn for_person(state: &AppState, person: &str) -> Result<Vec<Moment>, AppError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.person_id = $1 ORDER BY s.starts_at DESC, m.id LIMIT 50"
    )))
    .bind(person.to_string())
    .fetch_all(&state.db.read)
    .await?;
    rows(state, &r).await
}

/// Link a moment to a participant who attended and has agreed to share stories.
pub async fn add(
    state: &AppState,
    actor: &Actor,
    session: &str,
    person: &str,
    moment: &str,
) -> Result<(), AppError> {
    // The proof of access to the session (404 / 403 as for the log; audited as a read).
    let s = super::service::get(state, actor, session).await?;
    if s.status == SessionStatus::Cancelled {
        return Err(AppError::Conflict("This session was cancelled".into()));
    }
    let mut e = Vec::new();
    let who = attendees(state, &s).await?;
    match who.iter().find(|a| a.person_id == person) {
        None => e.push(FieldError::new(
            "person",
            "Choose someone marked as attending this session",
        )),
        Some(a) if !a.shares_stories => e.push(FieldError::new(
            "person",
            format!(
                "{} has not agreed to share stories, so a moment cannot be linked to them: write it in the log without their name",
                a.name
            ),
        )),
        Some(_) => {}
    }
    if moment.trim().is_empty() || moment.chars().count() > 2_000 {
        e.push(FieldError::new(
            "moment",
            "Describe the moment (up to 2,000 characters)",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = new_id();
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO session_moments (id, session_id, person_id, moment, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.clone())
        .bind(s.id.clone())
        .bind(person.to_string())
        .bind(moment.trim().to_string())
        .bind(actor.user_id.clone())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "session.moment",
        "practice_session",
        Some(&s.id),
        json!({ "moment": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
