//! The referral record as stored, loading it, and who may do what with it.

#[allow(unused_imports)]
use super::*;
use crate::db::Tx;
use crate::error::AppError;
use crate::modules::people::service::{self as people};
use crate::modules::referrals::model::ProviderStatus;
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
    /// The activity the referrer asked for, if any (the referrer may always read it back).
    pub requested_activity_id: Option<String>,
    /// Its name.
    pub requested_activity_name: Option<String>,
    /// Organisation running it.
    pub activity_organisation_id: Option<String>,
    /// Provider organisation name.
    pub provider_name: Option<String>,
    /// pending / accepted / declined / returned.
    pub provider_status: Option<ProviderStatus>,
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
    r.requested_activity_id, ra.name AS requested_activity_name, \
    po.name AS provider_name, r.provider_status, r.provider_note, r.provider_reason, r.provider_requested_at, r.first_contact_at, \
    r.message_back_sent_at, r.created_at, r.updated_at, r.closed_at, p.user_id AS person_user_id \
    FROM referrals r JOIN accounts_organisation_profiles t ON t.id = r.team_organisation_id JOIN people_person_accounts p ON p.id = r.person_id \
    LEFT JOIN accounts_user_names au ON au.id = r.assigned_to LEFT JOIN directory_activity_names a ON a.id = r.activity_id \
    LEFT JOIN directory_activity_names ra ON ra.id = r.requested_activity_id \
    LEFT JOIN accounts_organisation_profiles po ON po.id = a.organisation_id";

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
        requested_activity_id: r.try_get("requested_activity_id")?,
        requested_activity_name: r.try_get("requested_activity_name")?,
        provider_name: r.try_get("provider_name")?,
        provider_status: r
            .try_get::<Option<String>, _>("provider_status")?
            .as_deref()
            .and_then(ProviderStatus::from_code),
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

/// Load one referral without checks: private to this module, whose functions either prove
/// a relationship first ([`check`]) or act as the system (the reminder jobs).
pub(in crate::modules::referrals) async fn load<'e, E>(
    exec: E,
    id: &str,
) -> Result<Option<Referral>, AppError>
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
pub(in crate::modules::referrals) fn access(actor: &Actor, r: &Referral) -> Vec<Access> {
    let mut v = Vec::new();
    if people::in_care_team(actor, &r.team_organisation_id) {
        v.push(Access::CareTeam);
    }
    if r.referrer_user_id.as_deref() == Some(actor.user_id.as_str()) {
        v.push(Access::Referrer);
    }
    if let Some(org) = &r.activity_organisation_id
        && matches!(
            r.provider_status,
            Some(ProviderStatus::Pending | ProviderStatus::Accepted)
        )
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

mod sealed {
    pub trait Sealed {}
}

/// A relationship with a referral as a type, so that a proof can name it. Sealed: the
/// relations are the ones below.
pub trait Relation: sealed::Sealed + Send + Sync + 'static {
    /// Whether an actor with these relationships may act as this relation on `r`.
    fn holds(relations: &[Access], r: &Referral) -> bool;
}

/// A link worker of the referral's team: sees and works the whole case.
pub struct CareTeam;
/// The organisation running the activity the person was referred to (pending or accepted).
pub struct Provider;
/// The care team, or the provider once it has accepted: may record attendance.
pub struct AttendanceKeeper;
/// The care team or the person who made the referral: may read the message back.
pub struct CareTeamOrReferrer;
/// A session register of the referral's activity (see [`for_register`]).
pub struct Register;
/// The system itself (a reminder job), acting for nobody.
pub struct System;
/// The person referred, through their linked participant account.
pub struct Themselves;

impl sealed::Sealed for CareTeam {}
impl sealed::Sealed for Provider {}
impl sealed::Sealed for AttendanceKeeper {}
impl sealed::Sealed for CareTeamOrReferrer {}
impl sealed::Sealed for Register {}
impl sealed::Sealed for System {}
impl sealed::Sealed for Themselves {}

impl Relation for CareTeam {
    fn holds(relations: &[Access], _: &Referral) -> bool {
        relations.contains(&Access::CareTeam)
    }
}
impl Relation for Provider {
    fn holds(relations: &[Access], _: &Referral) -> bool {
        relations.contains(&Access::Provider)
    }
}
impl Relation for AttendanceKeeper {
    fn holds(relations: &[Access], r: &Referral) -> bool {
        relations.contains(&Access::CareTeam)
            || (relations.contains(&Access::Provider)
                && r.provider_status == Some(ProviderStatus::Accepted))
    }
}
impl Relation for CareTeamOrReferrer {
    fn holds(relations: &[Access], _: &Referral) -> bool {
        relations.contains(&Access::CareTeam) || relations.contains(&Access::Referrer)
    }
}
impl Relation for Register {
    fn holds(_: &[Access], _: &Referral) -> bool {
        false // only `for_register` makes this proof
    }
}
impl Relation for Themselves {
    fn holds(relations: &[Access], _: &Referral) -> bool {
        relations.contains(&Access::Person)
    }
}
impl Relation for System {
    fn holds(_: &[Access], _: &Referral) -> bool {
        false // only the jobs in this module make this proof
    }
}

/// Relations that may record attendance: the care team or accepted provider from the case
/// pages, and a session register.
pub trait KeepsAttendance: Relation {}
impl KeepsAttendance for AttendanceKeeper {}
impl KeepsAttendance for Register {}

/// Proof that an actor may act on one referral as relation `R`, holding the referral as it
/// was read in the caller's transaction. Only this module makes one ([`check`],
/// [`for_register`]); functions that read or change a referral for someone take it.
pub struct CaseAccess<R: Relation> {
    referral: Referral,
    relations: Vec<Access>,
    _relation: std::marker::PhantomData<R>,
}

impl<R: Relation> std::ops::Deref for CaseAccess<R> {
    type Target = Referral;
    fn deref(&self) -> &Referral {
        &self.referral
    }
}

impl<R: Relation> CaseAccess<R> {
    /// Every relationship the actor has with the referral (a provider who is also in the
    /// care team, say).
    pub fn has(&self, a: Access) -> bool {
        self.relations.contains(&a)
    }

    /// The referral, as read when the proof was made.
    pub fn referral(&self) -> &Referral {
        &self.referral
    }

    /// Give up the proof for the record (to change it in memory before showing it).
    pub(in crate::modules::referrals) fn into_referral(self) -> Referral {
        self.referral
    }
}

/// Prove that a referral read for "My plan" is the actor's own (403 otherwise).
pub(super) fn themselves(
    actor: &Actor,
    referral: Referral,
) -> Result<CaseAccess<Themselves>, AppError> {
    let relations = access(actor, &referral);
    if !Themselves::holds(&relations, &referral) {
        return Err(AppError::Forbidden);
    }
    Ok(CaseAccess {
        referral,
        relations,
        _relation: std::marker::PhantomData,
    })
}

/// The proof the reminder jobs act under: the system, for nobody.
pub(super) fn as_system(referral: Referral) -> CaseAccess<System> {
    CaseAccess {
        referral,
        relations: Vec::new(),
        _relation: std::marker::PhantomData,
    }
}

/// What may this actor do with this referral? Load it inside the caller's transaction and
/// prove relation `R`: 404 when there is no such referral, 403 when the actor does not hold
/// `R`.
pub async fn check<R: Relation>(
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
) -> Result<CaseAccess<R>, AppError> {
    let r = load(&mut **tx, id).await?.ok_or(AppError::NotFound)?;
    let relations = access(actor, &r);
    if !R::holds(&relations, &r) {
        return Err(AppError::Forbidden);
    }
    Ok(CaseAccess {
        referral: r,
        relations,
        _relation: std::marker::PhantomData,
    })
}

/// Relations through which an actor may read the referred person's identity and latest
/// scores, and how the audit row names the way in.
pub trait ReachesPerson: Relation {
    /// The audit row's `via`.
    const VIA: &'static str;
}

impl ReachesPerson for Themselves {
    const VIA: &'static str = "own_plan";
}
impl ReachesPerson for CareTeam {
    const VIA: &'static str = "referral";
}
impl ReachesPerson for Provider {
    const VIA: &'static str = "provider";
}
impl ReachesPerson for CareTeamOrReferrer {
    const VIA: &'static str = "message_back";
}

impl<R: ReachesPerson> crate::modules::people::service::IdentityProof for CaseAccess<R> {
    fn person_id(&self) -> &str {
        &self.referral.person_id
    }
    fn via(&self) -> serde_json::Value {
        serde_json::json!({ "via": R::VIA, "referral_id": self.referral.id })
    }
}

/// A referral on the register of a session of `activity_id`: the practice toolkit calls
/// this after it has established that the actor keeps that session's register. 404 unless
/// the referral was accepted onto that activity; a field error unless it is connected,
/// attending or reviewed.
pub async fn for_register(
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
    activity_id: &str,
) -> Result<CaseAccess<Register>, AppError> {
    let r = load(&mut **tx, id).await?.ok_or(AppError::NotFound)?;
    if r.activity_id.as_deref() != Some(activity_id)
        || r.provider_status != Some(ProviderStatus::Accepted)
    {
        return Err(AppError::NotFound);
    }
    if !matches!(
        r.status,
        Status::Connected | Status::Attending | Status::Reviewed
    ) {
        return Err(AppError::Invalid(vec![crate::error::FieldError::new(
            "status",
            format!(
                "This person's referral is “{}”, so attendance cannot be marked",
                r.status.label()
            ),
        )]));
    }
    Ok(CaseAccess {
        relations: access(actor, &r),
        referral: r,
        _relation: std::marker::PhantomData,
    })
}

/// How an actor relates to each referral of a person: for modules (measures) that decide
/// what the actor may see of the person. Each entry is the referral id, the organisation
/// running its activity (if any), and whether the actor is its provider.
pub async fn relations_with_person(
    tx: &mut Tx,
    actor: &Actor,
    person_id: &str,
) -> Result<Vec<PersonReferral>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.person_id = $1 ORDER BY r.created_at DESC, r.id"
    )))
    .bind(person_id.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let r = from_row(row)?;
        out.push(PersonReferral {
            is_provider: access(actor, &r).contains(&Access::Provider),
            activity_organisation_id: r.activity_organisation_id,
            referral_id: r.id,
        });
    }
    Ok(out)
}

/// One of a person's referrals as another module sees it (see [`relations_with_person`]).
#[derive(Debug, Clone)]
pub struct PersonReferral {
    /// The referral.
    pub referral_id: String,
    /// The organisation running its activity, if connected.
    pub activity_organisation_id: Option<String>,
    /// The actor is its provider.
    pub is_provider: bool,
}
