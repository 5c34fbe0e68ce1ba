//! A participant's own consent decisions, from "My plan": what they currently agree to, and
//! withdrawing or giving a consent (each a new decision in the consent history, audited).

use sqlx::Row;

use super::model::{Decision, Purpose};
use super::service::{ConsentInput, CurrentConsent, consents, record_consent};
use crate::error::AppError;
use crate::rbac::Actor;
use crate::state::AppState;

/// The person records linked to the signed-in account.
async fn own_people<'e, E>(exec: E, actor: &Actor) -> Result<Vec<String>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query("SELECT id FROM people WHERE user_id = $1")
        .bind(actor.user_id.clone())
        .fetch_all(exec)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?)
}

/// The signed-in person's current decision for one purpose (`None` when never asked), or
/// `NotFound` when no record is linked to their account.
pub async fn own_consent(
    state: &AppState,
    actor: &Actor,
    purpose: Purpose,
) -> Result<Option<CurrentConsent>, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let ids = own_people(&mut *conn, actor).await?;
    let Some(id) = ids.first() else {
        return Err(AppError::NotFound);
    };
    Ok(consents(&mut *conn, id)
        .await?
        .into_iter()
        .find(|c| c.purpose == purpose))
}

/// A participant withdraws (`Withdrawn`) or gives (`Given`) their own consent for a purpose,
/// for every record linked to their account: a new decision each, online, audited as
/// `consent.record` with the decision before it. Returns how many records changed.
pub async fn decide_own(
    state: &AppState,
    actor: &Actor,
    purpose: Purpose,
    decision: Decision,
) -> Result<usize, AppError> {
    if decision == Decision::Refused {
        return Err(AppError::BadRequest(
            "Choose to withdraw or to give consent".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    let ids = own_people(&mut *tx, actor).await?;
    if ids.is_empty() {
        return Err(AppError::NotFound);
    }
    for id in &ids {
        record_consent(
            &mut tx,
            &actor.audit(),
            id,
            &ConsentInput {
                purpose,
                decision,
                method: "online",
                witness: "",
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// A participant withdraws their own consent for a purpose.
pub async fn withdraw_own(
    state: &AppState,
    actor: &Actor,
    purpose: Purpose,
) -> Result<usize, AppError> {
    decide_own(state, actor, purpose, Decision::Withdrawn).await
}
