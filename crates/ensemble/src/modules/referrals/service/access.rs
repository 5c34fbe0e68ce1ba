//! The referral record as stored, loading it, and who may do what with it.

#[allow(unused_imports)]
use super::*;
use crate::db::Tx;
use crate::error::AppError;
use crate::modules::people::service::{self as people};
use crate::modules::referrals::model::Status;
use crate::rbac::{Actor, Role};
use serde::Serialize;
use sqlx::Row;

/// One referral as stored, with the names it points at.
#[derive(Debug, Clone, Serialize)]
pub struct Referral {
    /// Id.
    pub id: String,
    /// Pseudonymous person id.
    pub person_id: String,
    /// Link-worker team.
    pub team_organisation_id: String,
    /// Team name.
    pub team_name: String,
    /// Assigned link worker.
    pub assigned_to: Option<String>,
    /// Their name.
    pub assigned_name: Option<String>,
    /// Source code.
    pub source: String,
    /// Referrer account.
    pub referrer_user_id: Option<String>,
    /// Referrer organisation.
    pub referrer_organisation_id: Option<String>,
    /// Referrer name.
    pub referrer_name: String,
    /// Referrer email.
    pub referrer_email: String,
    /// Source system and identifier (FHIR).
    pub source_identifier: Option<String>,
    /// Why.
    pub reason: String,
    /// Status.
    pub status: Status,
    /// Reason for an exit.
    pub status_reason: String,
    /// Chosen activity.
    pub activity_id: Option<String>,
    /// Its name.
    pub activity_name: Option<String>,
    /// Organisation running it.
    pub activity_organisation_id: Option<String>,
    /// Provider organisation name.
    pub provider_name: Option<String>,
    /// pending / accepted / declined / returned.
    pub provider_status: Option<String>,
    /// What the link worker told the provider.
    pub provider_note: String,
    /// Why the provider declined.
    pub provider_reason: String,
    /// When the provider was asked.
    pub provider_requested_at: Option<i64>,
    /// First contact.
    pub first_contact_at: Option<i64>,
    /// Message back sent.
    pub message_back_sent_at: Option<i64>,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
    /// Closed.
    pub closed_at: Option<i64>,
    /// The person's participant account.
    pub person_user_id: Option<String>,
}

pub(super) const SELECT: &str = "SELECT r.id, r.person_id, r.team_organisation_id, t.name AS team_name, r.assigned_to, au.display_name AS assigned_name, \
    r.source, r.referrer_user_id, r.referrer_organisation_id, r.referrer_name, r.referrer_email, r.source_system, r.source_identifier, \
    r.reason, r.status, r.status_reason, r.activity_id, a.name AS activity_name, a.organisation_id AS activity_organisation_id, \
    po.name AS provider_name, r.provider_status, r.provider_note, r.provider_reason, r.provider_requested_at, r.first_contact_at, \
    r.message_back_sent_at, r.created_at, r.updated_at, r.closed_at, p.user_id AS person_user_id \
    FROM referrals r JOIN organisations t ON t.id = r.team_organisation_id JOIN people p ON p.id = r.person_id \
    LEFT JOIN users au ON au.id = r.assigned_to LEFT JOIN activities a ON a.id = r.activity_id \
    LEFT JOIN organisations po ON po.id = a.organisation_id";

pub(super) fn from_row(r: &sqlx::any::AnyRow) -> Result<Referral, AppError> {
    let status: String = r.try_get("status")?;
    let system: Option<String> = r.try_get("source_system")?;
    let ident: Option<String> = r.try_get("source_identifier")?;
    Ok(Referral {
        id: r.try_get("id")?,
        person_id: r.try_get("person_id")?,
        team_organisation_id: r.try_get("team_organisation_id")?,
        team_name: r.try_get("team_name")?,
        assigned_to: r.try_get("assigned_to")?,
        assigned_name: r.try_get("assigned_name")?,
        source: r.try_get("source")?,
        referrer_user_id: r.try_get("referrer_user_id")?,
        referrer_organisation_id: r.try_get("referrer_organisation_id")?,
        referrer_name: r.try_get("referrer_name")?,
        referrer_email: r.try_get("referrer_email")?,
        source_identifier: ident.map(|i| match system {
            Some(s) => format!("{s}|{i}"),
            None => i,
        }),
        reason: r.try_get("reason")?,
        status: Status::from_code(&status)
            .ok_or_else(|| anyhow::anyhow!("unknown referral status {status}"))?,
        status_reason: r.try_get("status_reason")?,
        activity_id: r.try_get("activity_id")?,
        activity_name: r.try_get("activity_name")?,
        activity_organisation_id: r.try_get("activity_organisation_id")?,
        provider_name: r.try_get("provider_name")?,
        provider_status: r.try_get("provider_status")?,
        provider_note: r.try_get("provider_note")?,
        provider_reason: r.try_get("provider_reason")?,
        provider_requested_at: r.try_get("provider_requested_at")?,
        first_contact_at: r.try_get("first_contact_at")?,
        message_back_sent_at: r.try_get("message_back_sent_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        closed_at: r.try_get("closed_at")?,
        person_user_id: r.try_get("person_user_id")?,
    })
}

/// Load one referral without checks (callers authorise).
pub async fn load<'e, E>(exec: E, id: &str) -> Result<Option<Referral>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE r.id = $1")))
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    r.as_ref().map(from_row).transpose()
}

/// How the actor relates to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Link worker in the team.
    CareTeam,
    /// Made the referral.
    Referrer,
    /// Runs the activity the person was referred to.
    Provider,
    /// The person themselves.
    Person,
}

/// Every relationship the actor has with this referral.
pub fn access(actor: &Actor, r: &Referral) -> Vec<Access> {
    let mut v = Vec::new();
    if people::in_care_team(actor, &r.team_organisation_id) {
        v.push(Access::CareTeam);
    }
    if r.referrer_user_id.as_deref() == Some(actor.user_id.as_str()) {
        v.push(Access::Referrer);
    }
    if let Some(org) = &r.activity_organisation_id
        && matches!(r.provider_status.as_deref(), Some("pending" | "accepted"))
        && !r.status.is_final()
        && (actor.has_role_in(org, Role::ProgrammeManager)
            || actor.has_role_in(org, Role::Practitioner))
    {
        v.push(Access::Provider);
    }
    if r.person_user_id.as_deref() == Some(actor.user_id.as_str()) {
        v.push(Access::Person);
    }
    v
}

pub(super) async fn load_for(
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
    need: Access,
) -> Result<Referral, AppError> {
    let r = load(&mut **tx, id).await?.ok_or(AppError::NotFound)?;
    if !access(actor, &r).contains(&need) {
        return Err(AppError::Forbidden);
    }
    Ok(r)
}
