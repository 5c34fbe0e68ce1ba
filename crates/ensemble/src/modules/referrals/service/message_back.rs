//! The message back to the referrer and GP.

#[allow(unused_imports)]
use super::*;
use crate::db::{Tx, now};
use crate::error::AppError;
use crate::modules::people::model::Purpose;
use crate::modules::people::service::{self as people};
use crate::modules::referrals::model::ProviderStatus;
use crate::modules::referrals::model::Status;
use crate::rbac::Actor;
use crate::state::AppState;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

/// The summary that goes back to the referrer and GP.
#[derive(Debug, Clone, Serialize)]
pub struct MessageBack {
    /// The referral.
    pub referral: Referral,
    /// connected / declined / not reached / did not attend / in progress / closed.
    pub outcome: &'static str,
    /// SNOMED CT (code, display).
    pub codes: Vec<(&'static str, &'static str)>,
    /// Whether the person agreed to share details with the GP and referrer.
    pub consent_to_share: bool,
    /// Shared only with consent: name, NHS number, date of birth.
    pub person: Option<(String, String, String)>,
    /// Shared only with consent: activity.
    pub activity: Option<String>,
    /// Shared only with consent: sessions attended.
    pub sessions_attended: Option<i64>,
    /// Shared only with consent: goals.
    pub goals: Option<String>,
    /// Shared only with consent: the latest wellbeing scores, with SNOMED CT codes.
    pub scores: Vec<crate::modules::measures::service::LatestScore>,
}

pub(super) fn outcome_of(r: &Referral) -> &'static str {
    match r.status {
        Status::Declined => "declined",
        Status::NotReached => "not reached",
        Status::DidNotAttend => "did not attend",
        Status::Connected if r.provider_status == Some(ProviderStatus::Accepted) => "connected",
        Status::Attending | Status::Reviewed => "connected",
        Status::Closed if r.provider_status == Some(ProviderStatus::Accepted) => "connected",
        Status::Closed => "closed",
        _ => "in progress",
    }
}

/// One referral for the referrer or the care team, without the person's details (the FHIR
/// read); audited. A referrer outside the care team sees the activity chosen with the person
/// only when the person agreed to share with their GP and referrer; otherwise the activity
/// the referrer asked for, if any (what they sent, which says nothing new).
pub async fn read_for_referrer(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Referral, AppError> {
    let mut tx = state.db.begin().await?;
    let case = check::<CareTeamOrReferrer>(&mut tx, actor, id).await?;
    let care_team = case.has(Access::CareTeam);
    let mut r = case.into_referral();
    if !care_team && !people::has_consent(&mut *tx, &r.person_id, Purpose::ShareGp).await? {
        r.activity_id = r.requested_activity_id.clone();
        r.activity_name = r.requested_activity_name.clone();
    }
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.read",
        id,
        json!({ "via": "fhir" }),
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// Build the message back (care team or referrer); audited.
pub async fn message_back(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<MessageBack, AppError> {
    let mut tx = state.db.begin().await?;
    let mb = message_back_tx(&mut tx, actor, id).await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.message_back.view",
        id,
        json!({ "consent_to_share": mb.consent_to_share }),
    )
    .await?;
    tx.commit().await?;
    Ok(mb)
}

pub(super) async fn message_back_tx(
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
) -> Result<MessageBack, AppError> {
    let r = check::<CareTeamOrReferrer>(tx, actor, id).await?;
    let share = people::has_consent(&mut **tx, &r.person_id, Purpose::ShareGp).await?;
    let outcome = outcome_of(&r);
    let mut codes = vec![crate::modules::referrals::model::SNOMED_REFERRAL];
    if outcome == "declined" {
        codes.push(crate::modules::referrals::model::SNOMED_DECLINED);
    }
    let scores = if share {
        crate::modules::measures::service::latest_scores(tx, &r).await?
    } else {
        Vec::new()
    };
    let (person, activity, sessions, goals) = if share {
        let p = people::identity(tx, actor, &r).await?;
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM referral_attendance WHERE referral_id = $1 AND status = 'present'")
            .bind(id.to_string())
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        let goals = plan(&mut **tx, id)
            .await?
            .map(|p| p.input.goals)
            .filter(|g| !g.is_empty());
        (
            Some((
                p.full_name(),
                p.details.nhs_number.clone(),
                p.details.date_of_birth.clone(),
            )),
            r.activity_name.clone().filter(|_| outcome == "connected"),
            Some(n),
            goals,
        )
    } else {
        (None, None, None, None)
    };
    Ok(MessageBack {
        referral: r.into_referral(),
        outcome,
        codes,
        consent_to_share: share,
        person,
        activity,
        sessions_attended: sessions,
        goals,
        scores,
    })
}

/// Send the message back to the referrer by email and record it (care team).
pub async fn send_message_back(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let r = check::<CareTeam>(&mut tx, actor, id).await?;
    let mb = message_back_tx(&mut tx, actor, id).await?;
    if mb.outcome == "in progress" {
        return Err(AppError::Conflict(
            "Send the message back once the person is connected to an activity, has declined or could not be reached.".into(),
        ));
    }
    let t = now();
    sqlx::query("UPDATE referrals SET message_back_sent_at = $1, updated_at = $1 WHERE id = $2")
        .bind(t)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    if !r.referrer_email.is_empty() {
        crate::notify::queue_email(&mut tx, &r.referrer_email, "Social prescribing: outcome of your referral", &format!(
            "The outcome of a referral you made is ready. Read it in Ensemble, or ask the link worker for a copy:\n\n{}/referrals/{id}/message-back\n\nCodes: {}\n",
            state.cfg.base_url,
            mb.codes.iter().map(|(c, d)| format!("{c} {d}")).collect::<Vec<_>>().join("; "))).await?;
    }
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        "message_back",
        None,
        None,
        &format!("Message back sent ({})", mb.outcome),
        false,
    )
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.message_back.send",
        id,
        json!({ "outcome": mb.outcome, "consent_to_share": mb.consent_to_share }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
