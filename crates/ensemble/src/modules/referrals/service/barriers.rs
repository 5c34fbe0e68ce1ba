//! Barriers to taking part on a case: recorded from the fixed list with when they were
//! raised (at referral, decline, drop-out or review) and what was done about each; also
//! written with the status when a case is declined or not attended
//! ([`super::change_status`]).

use super::*;
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::referrals::model::{ACTIONS, BARRIERS, BarrierStage};
use crate::rbac::Actor;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

/// A barrier form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BarrierInput {
    /// Code from [`BARRIERS`].
    pub barrier: String,
    /// Detail.
    pub detail: String,
    /// Code from [`ACTIONS`].
    pub action: String,
    /// Detail of what was done.
    pub action_detail: String,
    /// Code from [`BarrierStage`]; blank means "from where the case stands"
    /// ([`BarrierStage::for_status`]).
    pub stage: String,
}

/// Record a barrier, when it was raised and what was done about it.
pub async fn add_barrier(
    state: &AppState,
    actor: &Actor,
    id: &str,
    b: &BarrierInput,
) -> Result<(), AppError> {
    let mut e = Vec::new();
    if !BARRIERS.iter().any(|(c, _)| *c == b.barrier) {
        e.push(FieldError::new(
            "barrier",
            "Choose the barrier from the list",
        ));
    }
    if !ACTIONS.iter().any(|(c, _)| *c == b.action) {
        e.push(FieldError::new("action", "Choose what was done about it"));
    }
    let detail = text("detail", &b.detail, 1000, None)
        .map_err(|x| e.push(x))
        .unwrap_or_default();
    let action_detail = text("action_detail", &b.action_detail, 1000, None)
        .map_err(|x| e.push(x))
        .unwrap_or_default();
    if b.barrier == "other" && detail.is_empty() {
        e.push(FieldError::new("detail", "Describe the barrier"));
    }
    let stage = match b.stage.trim() {
        "" => None,
        code => BarrierStage::from_code(code).or_else(|| {
            e.push(FieldError::new(
                "stage",
                format!("Choose when the barrier was raised from the list, not \"{code}\""),
            ));
            None
        }),
    };
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let case = check::<CareTeam>(&mut tx, actor, id).await?;
    let stage = stage.unwrap_or_else(|| BarrierStage::for_status(case.status));
    insert_barrier(
        &mut tx,
        actor,
        id,
        [&b.barrier, &detail, &b.action, &action_detail],
        stage,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Write one barrier record ([barrier, detail, action, action detail], checked by the
/// caller) and its audit entry.
pub(in crate::modules::referrals) async fn insert_barrier(
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
    [barrier, detail, action, action_detail]: [&str; 4],
    stage: BarrierStage,
) -> Result<(), AppError> {
    sqlx::query("INSERT INTO referral_barriers (id, referral_id, barrier, detail, action, action_detail, stage, recorded_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(new_id())
        .bind(id.to_string())
        .bind(barrier.to_string())
        .bind(detail.to_string())
        .bind(action.to_string())
        .bind(action_detail.to_string())
        .bind(stage.code())
        .bind(actor.user_id.clone())
        .bind(now())
        .execute(&mut **tx)
        .await?;
    audit_ref(
        tx,
        &actor.audit(),
        "referral.barrier.add",
        id,
        json!({ "barrier": barrier, "action": action, "stage": stage.code() }),
    )
    .await?;
    Ok(())
}

/// One barrier.
#[derive(Debug, Clone, Serialize)]
pub struct Barrier {
    /// Code.
    pub barrier: String,
    /// Detail.
    pub detail: String,
    /// Action code.
    pub action: String,
    /// Action detail.
    pub action_detail: String,
    /// When it was raised.
    pub stage: BarrierStage,
}

pub(super) async fn barriers(tx: &mut Tx, id: &str) -> Result<Vec<Barrier>, AppError> {
    sqlx::query("SELECT barrier, detail, action, action_detail, stage FROM referral_barriers WHERE referral_id = $1 ORDER BY created_at, id")
        .bind(id.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Barrier {
                barrier: r.try_get("barrier")?,
                detail: r.try_get("detail")?,
                action: r.try_get("action")?,
                action_detail: r.try_get("action_detail")?,
                stage: BarrierStage::decode(&r.try_get::<String, _>("stage")?)?,
            })
        })
        .collect()
}
