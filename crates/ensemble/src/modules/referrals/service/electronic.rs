//! Electronic (FHIR) referrals and what happens when one arrives again under the same
//! identifier: an exact repeat answers with the referral as it is, a changed one is refused
//! naming what differs, and a withdrawal by the sender closes the referral.
//!
//! What the sender submitted is kept as a digest (`referrals.source_digest`): a keyed hash
//! (HMAC-SHA-256 with the installation secret) of each compared part, so a repeat is
//! compared with what was sent, not with the record the link worker may since have
//! corrected, and no second copy of the person's details is stored.

#[allow(unused_imports)]
use super::*;
use crate::db::is_unique_violation;
use crate::error::AppError;
use crate::modules::referrals::model::{ProviderStatus, Status};
use crate::rbac::Actor;
use crate::state::AppState;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use sqlx::Row;

/// The reason recorded on a referral its sender withdrew (a FHIR `ServiceRequest` sent
/// again with status `revoked` or `entered-in-error`).
pub const WITHDRAWN_BY_REFERRER: &str = "Withdrawn by the referrer";

/// What came of an electronic submission; each holds the referral id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// A new referral.
    Created(String),
    /// The same submission again: the referral as it is now.
    Repeat(String),
    /// The referral is withdrawn (now, or by an earlier withdrawal).
    Withdrawn(String),
}

/// Why an electronic submission was not taken.
#[derive(Debug)]
pub enum Refusal {
    /// Any other error (403, 409 for another sender's identifier, 500…).
    App(AppError),
    /// It differs from the referral already received under its identifier in these parts
    /// (the digest's keys, sorted).
    Differs(Vec<String>),
    /// A withdrawal for an identifier under which this sender sent nothing.
    NothingToWithdraw,
    /// A withdrawal of a referral the care team has already closed, with this status.
    AlreadyClosed(Status),
    /// A referral sent again as active after its sender withdrew it.
    WasWithdrawn,
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::App(e)
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        Refusal::App(e.into())
    }
}

/// One part of a submission as it goes into the digest: a keyed hash of `value`, so equal
/// parts compare equal without the part itself being stored.
pub fn digest_part(state: &AppState, key: &str, value: &str) -> Value {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&state.secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(key.as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    let bytes = mac.finalize().into_bytes();
    Value::String(hex::encode(&bytes[..16]))
}

/// Take an electronic referral: create it, or settle a repeat or a change of one received
/// earlier under the same identifier from the same sender (the same identifier from
/// another account is refused with 409, saying nothing about it).
pub async fn receive(
    state: &AppState,
    actor: &Actor,
    n: &NewReferral,
    digest: &Map<String, Value>,
) -> Result<Receipt, Refusal> {
    let (Some(sys), Some(idf)) = (&n.source_system, &n.source_identifier) else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "an electronic referral has no identifier"
        ))
        .into());
    };
    if let Some(prior) = prior(state, sys, idf).await? {
        return again(n, digest, prior);
    }
    let text = Value::Object(digest.clone()).to_string();
    match create_tx(state, &actor.audit(), n, Some(&text)).await {
        Ok(c) => Ok(Receipt::Created(c.id)),
        Err(AppError::Internal(e))
            if e.downcast_ref::<sqlx::Error>()
                .is_some_and(is_unique_violation) =>
        {
            // A concurrent copy won the race: settle this one against it.
            match prior(state, sys, idf).await? {
                Some(p) => again(n, digest, p),
                None => Err(AppError::Internal(e).into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Withdraw the referral this sender sent under an identifier (a FHIR `ServiceRequest`
/// sent again with status `code`, `revoked` or `entered-in-error`). Only the identifier
/// and the sender matter: what else the withdrawal carries is not compared.
pub async fn withdraw_sent(
    state: &AppState,
    actor: &Actor,
    system: &str,
    identifier: &str,
    code: &'static str,
) -> Result<Receipt, Refusal> {
    let Some(prior) = prior(state, system, identifier).await? else {
        return Err(Refusal::NothingToWithdraw);
    };
    if prior.sender.as_deref() != Some(actor.user_id.as_str()) {
        return Err(AppError::Conflict(
            "This source identifier has already been used by another sender".into(),
        )
        .into());
    }
    withdraw(state, actor, &prior.id, code).await
}

/// The referral already received under an identifier.
struct Prior {
    id: String,
    sender: Option<String>,
    digest: Option<String>,
    withdrawn: bool,
}

async fn prior(state: &AppState, sys: &str, idf: &str) -> Result<Option<Prior>, AppError> {
    let row = sqlx::query(
        "SELECT id, referrer_user_id, source_digest, status, status_reason FROM referrals \
         WHERE source_system = $1 AND source_identifier = $2",
    )
    .bind(sys.to_string())
    .bind(idf.to_string())
    .fetch_optional(&state.db.write)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let status: String = row.try_get("status")?;
    let reason: String = row.try_get("status_reason")?;
    Ok(Some(Prior {
        id: row.try_get("id")?,
        sender: row.try_get("referrer_user_id")?,
        digest: row.try_get("source_digest")?,
        withdrawn: status == Status::Closed.code() && reason == WITHDRAWN_BY_REFERRER,
    }))
}

fn again(n: &NewReferral, digest: &Map<String, Value>, prior: Prior) -> Result<Receipt, Refusal> {
    same_sender(prior.id.clone(), prior.sender.clone(), n)?;
    if prior.withdrawn {
        return Err(Refusal::WasWithdrawn);
    }
    let differs = differences(prior.digest.as_deref(), digest);
    if differs.is_empty() {
        Ok(Receipt::Repeat(prior.id))
    } else {
        Err(Refusal::Differs(differs))
    }
}

/// The parts in which a submission differs from the stored digest. A referral received
/// before digests were kept has none, and any repeat of it is taken as the same.
fn differences(stored: Option<&str>, sent: &Map<String, Value>) -> Vec<String> {
    let Some(stored) = stored.and_then(|s| serde_json::from_str::<Map<String, Value>>(s).ok())
    else {
        return vec![];
    };
    let mut keys: Vec<String> = stored
        .keys()
        .chain(sent.keys())
        .filter(|k| stored.get(*k) != sent.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Close a referral its sender withdrew: the status event on the case (its open tasks
/// done), an email to the assigned link worker (or the team), and to the provider when it
/// was asked to take the person; audited. A second withdrawal changes nothing.
async fn withdraw(
    state: &AppState,
    actor: &Actor,
    id: &str,
    code: &'static str,
) -> Result<Receipt, Refusal> {
    let mut tx = state.db.begin().await?;
    let r = check::<CareTeamOrReferrer>(&mut tx, actor, id).await?;
    if r.status.is_final() {
        if r.status == Status::Closed && r.status_reason == WITHDRAWN_BY_REFERRER {
            return Ok(Receipt::Withdrawn(id.to_string()));
        }
        return Err(Refusal::AlreadyClosed(r.status));
    }
    set_status(&mut tx, actor, &r, Status::Closed, WITHDRAWN_BY_REFERRER).await?;
    let to =
        assignee_or_team_emails(&mut tx, r.assigned_to.as_deref(), &r.team_organisation_id).await?;
    email_all(&mut tx, &to, "A referral was withdrawn", &format!(
        "The referrer withdrew a referral, so it is now closed and its open tasks are done. See it in Ensemble (no personal details are sent by email):\n\n{}/caseload/{id}\n",
        state.cfg.base_url)).await?;
    if let (Some(org), Some(activity)) = (&r.activity_organisation_id, &r.activity_id)
        && matches!(
            r.provider_status,
            Some(ProviderStatus::Pending | ProviderStatus::Accepted)
        )
    {
        let to = provider_emails(&mut tx, org, activity).await?;
        email_all(&mut tx, &to, "A referral to your activity was withdrawn",
            "The referrer withdrew a referral to one of your activities, so there is nothing more to do for it. The link worker will be in touch if anything else is needed.\n").await?;
    }
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.withdraw",
        id,
        json!({ "via": "fhir", "status": code }),
    )
    .await?;
    tx.commit().await?;
    Ok(Receipt::Withdrawn(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_changed_part_and_nothing_for_a_referral_without_a_digest() {
        let sent: Map<String, Value> =
            serde_json::from_str(r#"{"name":"a","reason":"b","activity":"c"}"#).unwrap();
        assert!(differences(Some(&Value::Object(sent.clone()).to_string()), &sent).is_empty());
        assert_eq!(
            differences(Some(r#"{"name":"x","reason":"b"}"#), &sent),
            vec!["activity".to_string(), "name".to_string()]
        );
        assert!(differences(None, &sent).is_empty());
    }
}
