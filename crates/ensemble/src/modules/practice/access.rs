//! What may this actor do with this practice record? Answered once, here, for each kind of
//! record the toolkit keeps about someone: a session, an incident, a journal entry, a
//! supervision record, a piece of portfolio evidence, a certificate and an assessment
//! request.
//!
//! Each answer is a proof, [`Access<T, R>`]: the record `T` as read in the caller's
//! transaction, and the fact that the actor holds relation `R` to it. The only way to get
//! one is the `check` of its kind ([`SessionAccess::check`], [`IncidentAccess::check`] …),
//! which loads the record, works out every relationship the actor has with it
//! ([`Relationship`]) and refuses unless `R` holds: **404** when there is no such record,
//! and, when there is but `R` does not hold, **403** for sessions and incidents (which the
//! organisation's staff know exist) and **404** for private records (a journal entry,
//! supervision, evidence, a certificate, an assessment request), so their existence is not
//! revealed. The loaders are private to this file: nothing else in the crate reads one of
//! these records by id, and every service function that reads or changes one takes, or
//! first makes, its proof.
//!
//! | proof | relations (markers) | who |
//! | --- | --- | --- |
//! | [`SessionAccess<SessionTeam>`] | [`SessionTeam`] | practitioners and programme managers of the organisation running the activity (any of them: co-facilitators too) |
//! | [`IncidentAccess<R>`] | [`Involved`]: reads; [`Responder`]: follows up and closes | the reporter (involved only), the activity's named leads and the organisation's programme managers |
//! | [`JournalAccess<Owner>`] | [`Owner`] | the author |
//! | [`SupervisionAccess<R>`] | [`Practitioner`], [`Supervisor`], [`Party`] (either) | the practitioner who recorded it and the supervisor named on it |
//! | [`EvidenceAccess<Owner>`] | [`Owner`] | the practitioner whose portfolio it is |
//! | [`CertificateAccess<R>`] | [`Owner`], [`Assessor`], [`Party`] (either) | its owner, and anyone asked (and not having declined) to assess a competency its evidence is linked to |
//! | [`AssessmentAccess<R>`] | [`Requester`], [`Assessor`], [`Party`] (either) | the practitioner who asked and the person asked (never a self-assessment) |

use crate::modules::practice::model::{IncidentStatus, SessionStatus};
use std::marker::PhantomData;

use sqlx::Row;

use super::incidents::IncidentRecord;
use super::portfolio::{Assessment, Certificate, Evidence};
use super::reflection::{Entry, Supervision};
use super::service::{Log, Plan, Session, runs_sessions};
use crate::db::Tx;
use crate::error::AppError;
use crate::rbac::{Actor, Role};

/// A relationship an actor can have with a practice record (see [`Access::has`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    /// A practitioner or programme manager of the organisation running the session.
    SessionTeam,
    /// Reported the incident.
    Reporter,
    /// A named (clinical or safeguarding) lead of the incident's activity.
    NamedLead,
    /// A programme manager of the incident's organisation.
    ProgrammeManager,
    /// Wrote the journal entry; owns the evidence or certificate.
    Owner,
    /// The practitioner a supervision record is about.
    Practitioner,
    /// The supervisor named on a supervision record.
    Supervisor,
    /// Asked for the assessment.
    Requester,
    /// Was asked to assess (a request, or a competency a certificate's evidence shows).
    Assessor,
}

mod sealed {
    pub trait Sealed {}
}

/// A relation to records of type `T`, as a type, so that a proof can name it. Sealed: the
/// relations are the markers below, each for the kinds of record it applies to.
pub trait Relation<T>: sealed::Sealed + Send + Sync + 'static {
    /// Whether an actor with these relationships may act as this relation.
    fn holds(relations: &[Relationship]) -> bool;
}

/// A practitioner or programme manager of the organisation running a session's activity.
pub struct SessionTeam;
/// Someone an incident concerns: its reporter, a named lead or a programme manager.
pub struct Involved;
/// Someone who follows up and closes an incident: a named lead or a programme manager.
pub struct Responder;
/// The author of a journal entry; the owner of evidence or a certificate.
pub struct Owner;
/// The practitioner a supervision record is about.
pub struct Practitioner;
/// The supervisor named on a supervision record.
pub struct Supervisor;
/// The practitioner who asked for an assessment.
pub struct Requester;
/// The person asked to assess (a request, or a certificate's linked competency).
pub struct Assessor;
/// Either side: practitioner or supervisor; requester or assessor; owner or assessor.
pub struct Party;

impl sealed::Sealed for SessionTeam {}
impl sealed::Sealed for Involved {}
impl sealed::Sealed for Responder {}
impl sealed::Sealed for Owner {}
impl sealed::Sealed for Practitioner {}
impl sealed::Sealed for Supervisor {}
impl sealed::Sealed for Requester {}
impl sealed::Sealed for Assessor {}
impl sealed::Sealed for Party {}

macro_rules! relation {
    ($marker:ty, $record:ty, $($rel:ident)|+) => {
        impl Relation<$record> for $marker {
            fn holds(relations: &[Relationship]) -> bool {
                relations
                    .iter()
                    .any(|r| matches!(r, $(Relationship::$rel)|+))
            }
        }
    };
}

relation!(SessionTeam, Session, SessionTeam);
relation!(
    Involved,
    IncidentRecord,
    Reporter | NamedLead | ProgrammeManager
);
relation!(Responder, IncidentRecord, NamedLead | ProgrammeManager);
relation!(Owner, Entry, Owner);
relation!(Practitioner, Supervision, Practitioner);
relation!(Supervisor, Supervision, Supervisor);
relation!(Party, Supervision, Practitioner | Supervisor);
relation!(Owner, Evidence, Owner);
relation!(Owner, Certificate, Owner);
relation!(Assessor, Certificate, Assessor);
relation!(Party, Certificate, Owner | Assessor);
relation!(Requester, Assessment, Requester);
relation!(Assessor, Assessment, Assessor);
relation!(Party, Assessment, Requester | Assessor);

/// Proof that an actor may act on one record `T` as relation `R`, holding the record as it
/// was read in the caller's transaction. Only this module makes one (the `check` of each
/// kind); functions that read or change the record for someone take it.
pub struct Access<T, R: Relation<T>> {
    record: T,
    relations: Vec<Relationship>,
    _relation: PhantomData<R>,
}

/// A session, to its organisation's practitioners and programme managers.
pub type SessionAccess<R = SessionTeam> = Access<Session, R>;
/// An incident, to those it concerns ([`Involved`]) or who respond to it ([`Responder`]).
pub type IncidentAccess<R> = Access<IncidentRecord, R>;
/// A journal entry, to its author.
pub type JournalAccess<R = Owner> = Access<Entry, R>;
/// A supervision record, to its practitioner or supervisor.
pub type SupervisionAccess<R> = Access<Supervision, R>;
/// A piece of portfolio evidence, to its owner.
pub type EvidenceAccess<R = Owner> = Access<Evidence, R>;
/// A certificate (with its content), to its owner or an assessor of a linked competency.
pub type CertificateAccess<R> = Access<Certificate, R>;
/// An assessment request, to the practitioner who asked or the person asked.
pub type AssessmentAccess<R> = Access<Assessment, R>;

impl<T, R: Relation<T>> std::ops::Deref for Access<T, R> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.record
    }
}

impl<T, R: Relation<T>> Access<T, R> {
    /// Whether the actor also has this relationship with the record (a programme manager
    /// who reported the incident, say).
    pub fn has(&self, r: Relationship) -> bool {
        self.relations.contains(&r)
    }

    /// The record, as read when the proof was made.
    pub fn record(&self) -> &T {
        &self.record
    }

    /// Give up the proof for the record (to return it to a page).
    pub(in crate::modules::practice) fn into_record(self) -> T {
        self.record
    }
}

/// The proof, or the refusal: 404 when there is no record, `refused` when `R` does not hold.
fn prove<T, R: Relation<T>>(
    found: Option<(T, Vec<Relationship>)>,
    refused: AppError,
) -> Result<Access<T, R>, AppError> {
    let (record, relations) = found.ok_or(AppError::NotFound)?;
    if !R::holds(&relations) {
        return Err(refused);
    }
    Ok(Access {
        record,
        relations,
        _relation: PhantomData,
    })
}

impl<R: Relation<Session>> SessionAccess<R> {
    /// Load a session in the caller's transaction and prove `R`: 404 when there is none,
    /// 403 when the actor is not of the organisation running it.
    pub async fn check(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Self, AppError> {
        let found = load_session(tx, id).await?.map(|s| {
            let rel = if runs_sessions(actor, &s.organisation_id) {
                vec![Relationship::SessionTeam]
            } else {
                Vec::new()
            };
            (s, rel)
        });
        prove(found, AppError::Forbidden)
    }
}

impl<R: Relation<IncidentRecord>> IncidentAccess<R> {
    /// Load an incident in the caller's transaction and prove `R`: 404 when there is none,
    /// 403 when the actor is not its reporter, a named lead of its activity or a programme
    /// manager of its organisation (or, for [`Responder`], is only its reporter).
    pub async fn check(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Self, AppError> {
        let Some(i) = load_incident(tx, id).await? else {
            return Err(AppError::NotFound);
        };
        let mut rel = Vec::new();
        if i.reported_by == actor.user_id {
            rel.push(Relationship::Reporter);
        }
        let lead: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM programme_leads WHERE activity_id = $1 AND user_id = $2",
        )
        .bind(i.activity_id.clone())
        .bind(actor.user_id.clone())
        .fetch_one(&mut **tx)
        .await?;
        if lead > 0 {
            rel.push(Relationship::NamedLead);
        }
        if actor.has_role_in(&i.organisation_id, Role::ProgrammeManager) {
            rel.push(Relationship::ProgrammeManager);
        }
        prove(Some((i, rel)), AppError::Forbidden)
    }
}

impl<R: Relation<Entry>> JournalAccess<R> {
    /// Load a journal entry in the caller's transaction: its author only, 404 for anyone
    /// else.
    pub async fn check(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Self, AppError> {
        let r = sqlx::query(
            "SELECT id, user_id, title, body, created_at FROM journal_entries WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        let found = match r {
            Some(r) => Some((
                Entry {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    body: r.try_get("body")?,
                    created_at: r.try_get("created_at")?,
                },
                owner(r.try_get::<String, _>("user_id")? == actor.user_id),
            )),
            None => None,
        };
        prove(found, AppError::NotFound)
    }
}

impl<R: Relation<Supervision>> SupervisionAccess<R> {
    /// Load a supervision record in the caller's transaction: its practitioner and
    /// supervisor only, 404 for anyone else.
    pub async fn check(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Self, AppError> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE s.id = $1",
            super::reflection::SUPERVISION_SELECT
        )))
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        let found = match r {
            Some(r) => {
                let mut rel = Vec::new();
                if r.try_get::<String, _>("practitioner_id")? == actor.user_id {
                    rel.push(Relationship::Practitioner);
                }
                if r.try_get::<String, _>("supervisor_id")? == actor.user_id {
                    rel.push(Relationship::Supervisor);
                }
                Some((super::reflection::supervision_row(&r, &actor.user_id)?, rel))
            }
            None => None,
        };
        prove(found, AppError::NotFound)
    }
}

impl<R: Relation<Evidence>> EvidenceAccess<R> {
    /// Load a piece of evidence (with its certificate's description and competencies) in
    /// the caller's transaction: its owner only, 404 for anyone else.
    pub async fn check(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Self, AppError> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE e.id = $1",
            super::portfolio::EVIDENCE_SELECT
        )))
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        let found = match r {
            Some(r) => {
                let codes: Vec<String> = sqlx::query_scalar(
                    "SELECT competency_code FROM portfolio_evidence_competencies WHERE evidence_id = $1 ORDER BY competency_code",
                )
                .bind(id.to_string())
                .fetch_all(&mut **tx)
                .await?;
                let mine = r.try_get::<String, _>("user_id")? == actor.user_id;
                Some((super::portfolio::evidence_from_row(&r, codes)?, owner(mine)))
            }
            None => None,
        };
        prove(found, AppError::NotFound)
    }
}

impl<R: Relation<Certificate>> CertificateAccess<R> {
    /// Load a certificate (with its content) in the caller's transaction: its owner, and
    /// anyone asked (and not having declined) to assess a competency its evidence is linked
    /// to; 404 for anyone else.
    pub async fn check(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Self, AppError> {
        let r = sqlx::query(
            "SELECT id, user_id, filename, content_type, data FROM certificates WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        let found = match r {
            Some(r) => {
                let mut rel = owner(r.try_get::<String, _>("user_id")? == actor.user_id);
                let asked: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM portfolio_evidence e JOIN portfolio_evidence_competencies l ON l.evidence_id = e.id \
                     JOIN competency_assessments a ON a.practitioner_id = e.user_id AND a.competency_code = l.competency_code \
                     WHERE e.certificate_id = $1 AND a.assessor_id = $2 AND a.kind <> 'self' AND a.status <> 'declined'",
                )
                .bind(id.to_string())
                .bind(actor.user_id.clone())
                .fetch_one(&mut **tx)
                .await?;
                if asked > 0 {
                    rel.push(Relationship::Assessor);
                }
                let cert = Certificate {
                    id: r.try_get("id")?,
                    filename: r.try_get("filename")?,
                    content_type: r.try_get("content_type")?,
                    data: r.try_get("data")?,
                };
                Some((cert, rel))
            }
            None => None,
        };
        prove(found, AppError::NotFound)
    }
}

impl<R: Relation<Assessment>> AssessmentAccess<R> {
    /// Load an assessment request in the caller's transaction: the practitioner who asked
    /// and the person asked; 404 for anyone else, and for a self-assessment (which is not a
    /// request).
    pub async fn check(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Self, AppError> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE a.id = $1",
            super::portfolio::ASSESSMENT_SELECT
        )))
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        let found = match r {
            Some(r) => {
                let a = super::portfolio::assessment_row(&r)?;
                let mut rel = Vec::new();
                if a.kind != "self" {
                    if a.practitioner_id == actor.user_id {
                        rel.push(Relationship::Requester);
                    }
                    if a.assessor_id == actor.user_id {
                        rel.push(Relationship::Assessor);
                    }
                }
                Some((a, rel))
            }
            None => None,
        };
        prove(found, AppError::NotFound)
    }
}

fn owner(is_owner: bool) -> Vec<Relationship> {
    if is_owner {
        vec![Relationship::Owner]
    } else {
        Vec::new()
    }
}

/// Load one session without checks: only [`SessionAccess::check`] calls it.
async fn load_session(tx: &mut Tx, id: &str) -> Result<Option<Session>, AppError> {
    let Some(r) = sqlx::query(
        "SELECT s.*, a.name AS activity_name, u.display_name AS lead_name FROM practice_sessions s \
         JOIN directory_activity_names a ON a.id = s.activity_id JOIN accounts_user_names u ON u.id = s.lead_user_id WHERE s.id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let codes: String = r.try_get("musical_activities")?;
    Ok(Some(Session {
        id: r.try_get("id")?,
        activity_id: r.try_get("activity_id")?,
        activity_name: r.try_get("activity_name")?,
        organisation_id: r.try_get("organisation_id")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        venue: r.try_get("venue")?,
        status: SessionStatus::decode(r.try_get("status")?)?,
        cancel_reason: r.try_get("cancel_reason")?,
        lead_name: r.try_get("lead_name")?,
        plan: Plan {
            aims: r.try_get("aims")?,
            musical_activities: codes
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            adaptations: r.try_get("adaptations")?,
            risks: r.try_get("risks")?,
            materials: r.try_get("materials")?,
        },
        plan_version: r.try_get("plan_version")?,
        log: Log {
            what_happened: r.try_get("log_what_happened")?,
            engagement: r.try_get("log_engagement")?,
            moments: r.try_get("log_moments")?,
            debrief: r.try_get("log_debrief")?,
            next_time: r.try_get("log_next_time")?,
        },
        log_version: r.try_get("log_version")?,
    }))
}

/// Load one incident without checks: only [`IncidentAccess::check`] calls it.
async fn load_incident(tx: &mut Tx, id: &str) -> Result<Option<IncidentRecord>, AppError> {
    let Some(r) = sqlx::query(
        "SELECT i.*, a.name AS activity_name, u.display_name AS reporter FROM incidents i JOIN directory_activity_names a ON a.id = i.activity_id \
         JOIN accounts_user_names u ON u.id = i.reported_by WHERE i.id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(IncidentRecord {
        id: r.try_get("id")?,
        session_id: r.try_get("session_id")?,
        activity_id: r.try_get("activity_id")?,
        activity_name: r.try_get("activity_name")?,
        organisation_id: r.try_get("organisation_id")?,
        category: r.try_get("category")?,
        severity: r.try_get("severity")?,
        what_happened: r.try_get("what_happened")?,
        immediate_action: r.try_get("immediate_action")?,
        status: IncidentStatus::decode(r.try_get("status")?)?,
        reported_by: r.try_get("reported_by")?,
        reporter: r.try_get("reporter")?,
        reported_at: r.try_get("reported_at")?,
        closure_note: r.try_get("closure_note")?,
        escalated_at: r.try_get("escalated_at")?,
        told: r.try_get("told")?,
    }))
}
