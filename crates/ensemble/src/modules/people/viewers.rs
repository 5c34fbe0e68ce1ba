//! Names and views of person records for the audit trail: the names a viewer may see (their
//! care team's people only), and "who viewed this record" on the person page (care team
//! only, itself audited).

use std::collections::HashMap;

use serde_json::json;
use sqlx::Row;

use super::service::{display_names, in_care_team};
use crate::audit::{self, AuditFilter, describe};
use crate::error::AppError;
use crate::rbac::Actor;
use crate::state::AppState;

/// The full names of these people that the actor may see (people in their care team), by
/// id; everyone else is left out, so the audit view says "a person record" instead.
pub async fn names_for_viewer(
    state: &AppState,
    actor: &Actor,
    person_ids: &[String],
) -> Result<HashMap<String, String>, AppError> {
    let mut ids: Vec<&String> = person_ids.iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("SELECT id, team_organisation_id FROM people WHERE id IN ({marks})");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.clone());
    }
    let mut visible = Vec::new();
    for r in q.fetch_all(&state.db.read).await? {
        let team: String = r.try_get("team_organisation_id")?;
        if in_care_team(actor, &team) {
            visible.push(r.try_get::<String, _>("id")?);
        }
    }
    let mut conn = state.db.read.acquire().await?;
    Ok(display_names(&mut conn, &visible)
        .await?
        .into_iter()
        .map(|(id, n)| (id, n.full))
        .collect())
}

/// One entry about a person record, in words.
#[derive(Debug, Clone)]
pub struct RecordView {
    /// Unix seconds.
    pub at: i64,
    /// "Lee Link Worker viewed Jordan Reyes's record".
    pub sentence: String,
}

/// The most recent 50 entries of the audit trail about this person record (who opened or
/// changed it), newest first: for the care team only, and the look is itself audited.
pub async fn record_views(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
) -> Result<Vec<RecordView>, AppError> {
    let team: Option<String> =
        sqlx::query_scalar("SELECT team_organisation_id FROM people WHERE id = $1")
            .bind(person_id.to_string())
            .fetch_optional(&state.db.read)
            .await?;
    if !in_care_team(actor, &team.ok_or(AppError::NotFound)?) {
        return Err(AppError::Forbidden);
    }
    let filter = AuditFilter {
        entity_type: Some("person".into()),
        entity_id: Some(person_id.to_string()),
        ..AuditFilter::default()
    };
    let (rows, _) = audit::list(&state.db, &filter, 1, 50).await?;
    let actors: Vec<String> = rows
        .iter()
        .filter_map(|r| r.actor_user_id.clone())
        .collect();
    let names =
        crate::modules::accounts::store::user_display_names(&state.db.read, &actors).await?;
    let person = names_for_viewer(state, actor, &[person_id.to_string()]).await?;
    let person = person.get(person_id).map(String::as_str);
    let out: Vec<RecordView> = rows
        .iter()
        .map(|r| RecordView {
            at: r.at,
            sentence: describe::sentence(
                r,
                r.actor_user_id
                    .as_ref()
                    .and_then(|u| names.get(u))
                    .map(String::as_str),
                person,
            ),
        })
        .collect();
    let mut tx = state.db.begin().await?;
    audit::by(
        &mut tx,
        actor,
        "person.views.read",
        "person",
        Some(person_id),
        json!({ "rows": out.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}
