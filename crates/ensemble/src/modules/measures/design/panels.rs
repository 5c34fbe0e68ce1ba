//! The panel: a named member approves a version or asks for changes, and the versions
//! waiting for the actor's review.

use serde_json::{Value, json};
use sqlx::Row;

use super::{Panel, VersionRow, audit_version, check_version};
use crate::db::now;
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

/// A panel member approves or asks for changes (with a comment). When every member has
/// approved, the version is approved and can be used.
pub async fn review(
    state: &AppState,
    actor: &Actor,
    id: &str,
    version: i64,
    approve: bool,
    comment: &str,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let v = check_version::<Panel>(&mut tx, actor, id, version).await?;
    if v.status != "in_review" {
        return Err(AppError::Conflict(
            "This version is not waiting for review".into(),
        ));
    }
    if !approve && comment.trim().is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "comment",
            "Say what needs to change",
        )]));
    }
    let at = now();
    sqlx::query(
        "UPDATE instrument_panel SET decision = $1, comment = $2, decided_at = $3 WHERE instrument_id = $4 AND version = $5 AND user_id = $6",
    )
    .bind(if approve { "approved" } else { "changes_requested" })
    .bind(comment.trim().to_string())
    .bind(at)
    .bind(id.to_string())
    .bind(version)
    .bind(actor.user_id.clone())
    .execute(&mut *tx)
    .await?;
    let status = if !approve {
        "draft"
    } else {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM instrument_panel WHERE instrument_id = $1 AND version = $2 AND decision <> 'approved'",
        )
        .bind(id.to_string())
        .bind(version)
        .fetch_one(&mut *tx)
        .await?;
        if waiting == 0 {
            "approved"
        } else {
            "in_review"
        }
    };
    sqlx::query(
        "UPDATE instrument_versions SET status = $1, updated_at = $2, approved_at = CASE WHEN $1 = 'approved' THEN $2 ELSE approved_at END \
         WHERE instrument_id = $3 AND version = $4",
    )
    .bind(status)
    .bind(at)
    .bind(id.to_string())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    audit_version(
        &mut tx,
        actor,
        "instrument.review",
        id,
        version,
        json!({ "approve": approve, "status": status }),
    )
    .await?;
    tx.commit().await?;
    Ok(status.to_string())
}

/// Versions waiting for the actor's review.
pub async fn reviews_for(state: &AppState, actor: &Actor) -> Result<Vec<VersionRow>, AppError> {
    let rows = sqlx::query(
        "SELECT v.instrument_id, v.version, v.status, v.definition, v.updated_at, o.name AS organisation FROM instrument_panel p \
         JOIN instrument_versions v ON v.instrument_id = p.instrument_id AND v.version = p.version \
         JOIN accounts_organisation_profiles o ON o.id = v.organisation_id \
         WHERE p.user_id = $1 AND p.decision = 'pending' AND v.status = 'in_review' ORDER BY v.updated_at",
    )
    .bind(actor.user_id.clone())
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let d: Value =
                serde_json::from_str(&r.try_get::<String, _>("definition")?).unwrap_or(Value::Null);
            Ok(VersionRow {
                instrument_id: r.try_get("instrument_id")?,
                version: r.try_get("version")?,
                name: d["name"].as_str().unwrap_or_default().to_string(),
                status: r.try_get("status")?,
                organisation: r.try_get("organisation")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}
