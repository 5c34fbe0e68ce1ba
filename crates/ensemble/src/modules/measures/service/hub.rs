//! What the measures hub shows a member of staff: the entries waiting for them, the measures
//! due for the people they work with, and the instrument library.

use serde::Serialize;
use sqlx::Row;

use crate::error::AppError;
use crate::modules::measures::definition::builtin;
use crate::modules::measures::schedules::{self, DueRow};
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

/// Responses waiting for the actor: unfinished ones they started, and double-entry forms
/// needing a second keying or a resolution (for staff who may see the person).
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub id: String,
    pub person_id: String,
    pub instrument: String,
    pub status: ResponseStatus,
    pub mode: String,
    pub started_at: i64,
}

pub async fn pending_for(state: &AppState, actor: &Actor) -> Result<Vec<Pending>, AppError> {
    let mut tx = state.db.begin().await?;
    let rows = sqlx::query(
        "SELECT id, person_id, instrument_id, status, mode, started_at, entered_by FROM measure_responses \
         WHERE (status = 'in_progress' AND entered_by = $1) OR status IN ('awaiting_second_entry', 'mismatch') \
         ORDER BY started_at DESC LIMIT 200",
    )
    .bind(actor.user_id.clone())
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let person_id: String = r.try_get("person_id")?;
        let status = ResponseStatus::decode(r.try_get("status")?)?;
        // Second keyings and differences to check: for staff who may see the person.
        if status != ResponseStatus::InProgress {
            match check::<Staff>(&mut tx, actor, &person_id).await {
                Ok(_) => {}
                Err(AppError::Forbidden) => continue,
                Err(e) => return Err(e),
            }
        }
        let instrument: String = r.try_get("instrument_id")?;
        out.push(Pending {
            id: r.try_get("id")?,
            person_id,
            instrument: builtin(&instrument)
                .map(|d| d.short_name.clone())
                .unwrap_or(instrument),
            status,
            mode: r.try_get("mode")?,
            started_at: r.try_get("started_at")?,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// Everything on the measures hub.
pub struct Hub {
    pub pending: Vec<Pending>,
    pub instruments: Vec<InstrumentSummary>,
    pub due: Vec<DueRow>,
}

/// The measures hub for `actor`; the due list names people, so who saw which is recorded.
pub async fn hub(state: &AppState, actor: &Actor) -> Result<Hub, AppError> {
    let pending = pending_for(state, actor).await?;
    let instruments = list(state).await?;
    let due = schedules::due_for_actor(state, actor).await?;
    // The list names people: record who saw which.
    let mut tx = state.db.begin().await?;
    crate::audit::by(
        &mut tx,
        actor,
        "measure.due.view",
        "person",
        None,
        serde_json::json!({ "people": due.iter().map(|d| d.person_id.as_str()).collect::<Vec<_>>() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Hub {
        pending,
        instruments,
        due,
    })
}
