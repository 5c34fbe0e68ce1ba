//! Reflective practice: a private journal (only its author ever reads it — not programme
//! managers, not administrators) and supervision records shared only between the
//! practitioner and their supervisor. Every read and change is audited. One entry is read
//! through a [`JournalAccess`] proof, one supervision record through a
//! [`SupervisionAccess`] (both 404 for anyone else).

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::access::{JournalAccess, Owner, Party, SupervisionAccess};
use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

/// A journal entry.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub body: String,
    pub created_at: i64,
}

/// The actor's own journal, newest first.
pub async fn journal(state: &AppState, actor: &Actor) -> Result<Vec<Entry>, AppError> {
    let mut tx = state.db.begin().await?;
    let rows = sqlx::query("SELECT id, title, body, created_at FROM journal_entries WHERE user_id = $1 ORDER BY created_at DESC, id")
        .bind(actor.user_id.clone())
        .fetch_all(&mut *tx)
        .await?;
    audit::by(&mut tx, actor, "journal.read", "journal", None, json!({})).await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                id: r.try_get("id")?,
                title: r.try_get("title")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

/// One entry: its author only (anyone else gets 404, so its existence is not revealed).
pub async fn entry(state: &AppState, actor: &Actor, id: &str) -> Result<Entry, AppError> {
    let mut tx = state.db.begin().await?;
    let e = JournalAccess::<Owner>::check(&mut tx, actor, id).await?;
    audit::by(
        &mut tx,
        actor,
        "journal.read",
        "journal_entry",
        Some(&e.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(e.into_record())
}

/// Write a journal entry.
pub async fn write(
    state: &AppState,
    actor: &Actor,
    title: &str,
    body: &str,
) -> Result<String, AppError> {
    let mut e = Vec::new();
    if title.trim().is_empty() || title.chars().count() > 200 {
        e.push(FieldError::new(
            "title",
            "Give the entry a title (up to 200 characters)",
        ));
    }
    if body.trim().is_empty() || body.chars().count() > 20_000 {
        e.push(FieldError::new(
            "body",
            "Write the entry (up to 20,000 characters)",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = new_id();
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO journal_entries (id, user_id, title, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
        .bind(id.clone())
        .bind(actor.user_id.clone())
        .bind(title.trim().to_string())
        .bind(body.trim().to_string())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "journal.write",
        "journal_entry",
        Some(&id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A supervision record.
#[derive(Debug, Clone, Serialize)]
pub struct Supervision {
    pub id: String,
    pub practitioner: String,
    pub supervisor: String,
    pub met_on: String,
    pub themes: String,
    pub actions: String,
    pub mine_as_supervisor: bool,
}

pub(in crate::modules::practice) const SUPERVISION_SELECT: &str = "SELECT s.id, s.met_on, s.themes, s.actions, s.practitioner_id, s.supervisor_id, p.display_name AS practitioner, v.display_name AS supervisor \
    FROM supervision_records s JOIN accounts_user_names p ON p.id = s.practitioner_id JOIN accounts_user_names v ON v.id = s.supervisor_id";

pub(in crate::modules::practice) fn supervision_row(
    r: &sqlx::any::AnyRow,
    me: &str,
) -> Result<Supervision, sqlx::Error> {
    Ok(Supervision {
        id: r.try_get("id")?,
        practitioner: r.try_get("practitioner")?,
        supervisor: r.try_get("supervisor")?,
        met_on: r.try_get("met_on")?,
        themes: r.try_get("themes")?,
        actions: r.try_get("actions")?,
        mine_as_supervisor: r.try_get::<String, _>("supervisor_id")? == me,
    })
}

/// Records where the actor is the practitioner or the supervisor.
pub async fn supervision(state: &AppState, actor: &Actor) -> Result<Vec<Supervision>, AppError> {
    let mut tx = state.db.begin().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SUPERVISION_SELECT} WHERE s.practitioner_id = $1 OR s.supervisor_id = $1 ORDER BY s.met_on DESC, s.id"
    )))
    .bind(actor.user_id.clone())
    .fetch_all(&mut *tx)
    .await?;
    audit::by(
        &mut tx,
        actor,
        "supervision.read",
        "supervision",
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| supervision_row(r, &actor.user_id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::from)
}

/// One record: the practitioner and the supervisor only (404 for anyone else).
pub async fn supervision_record(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Supervision, AppError> {
    let mut tx = state.db.begin().await?;
    let r = SupervisionAccess::<Party>::check(&mut tx, actor, id).await?;
    audit::by(
        &mut tx,
        actor,
        "supervision.read",
        "supervision_record",
        Some(&r.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(r.into_record())
}

/// The supervision form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SupervisionInput {
    pub supervisor_email: String,
    pub met_on: String,
    pub themes: String,
    pub actions: String,
}

/// A practitioner records a supervision session with their supervisor (named by email).
pub async fn record_supervision(
    state: &AppState,
    actor: &Actor,
    f: &SupervisionInput,
) -> Result<String, AppError> {
    let mut e = Vec::new();
    let supervisor =
        crate::modules::accounts::store::active_user_by_email(&state.db.read, &f.supervisor_email)
            .await?
            .map(|u| u.id);
    match &supervisor {
        None => e.push(FieldError::new(
            "supervisor_email",
            "No active account has that email address",
        )),
        Some(s) if *s == actor.user_id => e.push(FieldError::new(
            "supervisor_email",
            "Your supervisor is someone other than you",
        )),
        _ => {}
    }
    let today = crate::db::uk::today();
    match super::service::parse_date(&f.met_on) {
        Some(d) if d > today => e.push(FieldError::new(
            "met_on",
            "The date cannot be in the future",
        )),
        Some(d) if d < today - time::Duration::days(366) => e.push(FieldError::new(
            "met_on",
            "Record supervision within a year of it",
        )),
        Some(_) => {}
        None => e.push(FieldError::new(
            "met_on",
            "Enter the date as year-month-day, like 2026-11-20",
        )),
    }
    if f.themes.trim().is_empty() || f.themes.chars().count() > 10_000 {
        e.push(FieldError::new(
            "themes",
            "Write the themes discussed (up to 10,000 characters)",
        ));
    }
    if f.actions.chars().count() > 10_000 {
        e.push(FieldError::new(
            "actions",
            "Keep the actions to 10,000 characters",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = new_id();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO supervision_records (id, practitioner_id, supervisor_id, met_on, themes, actions, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $2, $7)",
    )
    .bind(id.clone())
    .bind(actor.user_id.clone())
    .bind(supervisor.unwrap_or_default())
    .bind(f.met_on.trim().to_string())
    .bind(f.themes.trim().to_string())
    .bind(f.actions.trim().to_string())
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::by(
        &mut tx,
        actor,
        "supervision.write",
        "supervision_record",
        Some(&id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
