//! Who may do what with a person's measures, as types.
//!
//! The relationships an actor can have with a person, for measures, are [`Access`]: the
//! person's **care team** (`people::service::in_care_team` on their team organisation),
//! the **provider** of one of their referrals (the referral pathway's own rule, through
//! `referrals::service::relations_with_person`), or the person **themselves**
//! (`people.user_id`). A relation names what may be done with them:
//!
//! | relation | holds for | may |
//! | --- | --- | --- |
//! | [`StaffOrThemselves`] | the care team, a provider, the person | read the person's scores and open their responses |
//! | [`Staff`] | the care team, a provider | see double-entry work waiting on the hub |
//! | [`Themselves`] | the person | their own check-ins page |
//! | [`Recorder`] | the person for a self-report; the care team or a provider with the person or from paper | start and save a response in that mode |
//!
//! Two proofs carry a relation: [`PersonMeasures<R>`], made only by [`check`] (and
//! [`check_recording`] for [`Recorder`], which needs the mode), holds the person as read in
//! the caller's transaction; [`ResponseAccess<R>`], made only by [`check_response`], holds
//! one response with its definition, wording, answers and scores. Every service function
//! that reads or changes a person's measures or a response gets them through one of these:
//! the loaders below are private to the module. Both answer 404 when there is no such
//! record and 403 when the relation does not hold.

use std::marker::PhantomData;

use sqlx::Row;

use crate::db::Tx;
use crate::error::AppError;
use crate::modules::people::service as people;
use crate::modules::referrals::service as referrals;
use crate::rbac::Actor;

use super::{Mode, ResponseView};

/// How the actor relates to a person, for measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A link worker of the person's team organisation.
    CareTeam,
    /// The provider of one of the person's referrals (pending or accepted, still open).
    Provider,
    /// The person themselves (their participant account).
    Themselves,
}

/// The person whose measures these are, as read when a proof was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuredPerson {
    /// Pseudonymous person id.
    pub person_id: String,
    /// Their link-worker team.
    pub team_organisation_id: String,
    /// Organisations whose licensed wording may be used for this person (their team, and
    /// the provider organisations of their referrals).
    pub organisations: Vec<String>,
}

mod sealed {
    pub trait Sealed {}
}

/// A relationship with a person's measures as a type, so that a proof can name it.
/// Sealed: the relations are the ones below.
pub trait Relation: sealed::Sealed + Send + Sync + 'static {
    /// Whether an actor with these relationships may act as this relation; `mode` is the
    /// mode of the response being entered, when there is one.
    fn holds(relations: &[Access], mode: Option<Mode>) -> bool;
}

/// The care team or a provider: staff who may see the person.
pub struct Staff;
/// The person themselves.
pub struct Themselves;
/// The care team, a provider or the person: whoever may see the person's measures.
pub struct StaffOrThemselves;
/// Whoever may enter a response in its mode: the person for a self-report, the care team
/// or a provider with the person or from paper. Needs a mode: [`check_recording`] for a
/// new response, [`check_response`] for an existing one.
pub struct Recorder;

impl sealed::Sealed for Staff {}
impl sealed::Sealed for Themselves {}
impl sealed::Sealed for StaffOrThemselves {}
impl sealed::Sealed for Recorder {}

fn staff(relations: &[Access]) -> bool {
    relations.contains(&Access::CareTeam) || relations.contains(&Access::Provider)
}

impl Relation for Staff {
    fn holds(relations: &[Access], _: Option<Mode>) -> bool {
        staff(relations)
    }
}
impl Relation for Themselves {
    fn holds(relations: &[Access], _: Option<Mode>) -> bool {
        relations.contains(&Access::Themselves)
    }
}
impl Relation for StaffOrThemselves {
    fn holds(relations: &[Access], _: Option<Mode>) -> bool {
        staff(relations) || relations.contains(&Access::Themselves)
    }
}
impl Relation for Recorder {
    fn holds(relations: &[Access], mode: Option<Mode>) -> bool {
        match mode {
            Some(Mode::SelfReport) => relations.contains(&Access::Themselves),
            Some(Mode::WithPractitioner | Mode::Paper) => staff(relations),
            None => false, // only with a mode: `check_recording`, `check_response`
        }
    }
}

/// Proof that an actor may act on one person's measures as relation `R`, holding the
/// person as read in the caller's transaction. Only [`check`] and [`check_recording`] make
/// one; functions that read or record a person's measures take it.
pub struct PersonMeasures<R: Relation> {
    person: MeasuredPerson,
    relations: Vec<Access>,
    _relation: PhantomData<R>,
}

impl<R: Relation> std::ops::Deref for PersonMeasures<R> {
    type Target = MeasuredPerson;
    fn deref(&self) -> &MeasuredPerson {
        &self.person
    }
}

impl<R: Relation> PersonMeasures<R> {
    /// Whether the actor has this relationship with the person (besides `R`).
    pub fn has(&self, a: Access) -> bool {
        self.relations.contains(&a)
    }
}

/// Load a person and work out the actor's relationships with them, without any check:
/// private to this module, whose functions prove a relation first. 404 when there is no
/// such person.
async fn load_person(
    tx: &mut Tx,
    actor: &Actor,
    person_id: &str,
) -> Result<(MeasuredPerson, Vec<Access>), AppError> {
    let row = sqlx::query(
        "SELECT team_organisation_id, user_id FROM people_person_accounts WHERE id = $1",
    )
    .bind(person_id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let team: String = row.try_get("team_organisation_id")?;
    let user: Option<String> = row.try_get("user_id")?;
    let mut relations = Vec::new();
    if people::in_care_team(actor, &team) {
        relations.push(Access::CareTeam);
    }
    let mut person = MeasuredPerson {
        person_id: person_id.to_string(),
        organisations: vec![team.clone()],
        team_organisation_id: team,
    };
    for r in referrals::relations_with_person(tx, actor, person_id).await? {
        if r.is_provider && !relations.contains(&Access::Provider) {
            relations.push(Access::Provider);
        }
        if let Some(org) = r.activity_organisation_id
            && !person.organisations.contains(&org)
        {
            person.organisations.push(org);
        }
    }
    if user.as_deref() == Some(actor.user_id.as_str()) {
        relations.push(Access::Themselves);
    }
    Ok((person, relations))
}

async fn prove<R: Relation>(
    tx: &mut Tx,
    actor: &Actor,
    person_id: &str,
    mode: Option<Mode>,
) -> Result<PersonMeasures<R>, AppError> {
    let (person, relations) = load_person(tx, actor, person_id).await?;
    if !R::holds(&relations, mode) {
        return Err(AppError::Forbidden);
    }
    Ok(PersonMeasures {
        person,
        relations,
        _relation: PhantomData,
    })
}

/// What may this actor do with this person's measures? Load the person inside the caller's
/// transaction and prove relation `R`: 404 when there is no such person, 403 when the actor
/// does not hold `R`.
pub async fn check<R: Relation>(
    tx: &mut Tx,
    actor: &Actor,
    person_id: &str,
) -> Result<PersonMeasures<R>, AppError> {
    prove(tx, actor, person_id, None).await
}

/// May this actor enter a new response for this person in `mode`? As [`check`], for
/// [`Recorder`].
pub async fn check_recording(
    tx: &mut Tx,
    actor: &Actor,
    person_id: &str,
    mode: Mode,
) -> Result<PersonMeasures<Recorder>, AppError> {
    prove(tx, actor, person_id, Some(mode)).await
}

/// Proof that an actor may act on one response as relation `R`, holding the response (with
/// its definition, wording, answers and scores) as read in the caller's transaction. Only
/// [`check_response`] makes one.
pub struct ResponseAccess<R: Relation> {
    response: ResponseView,
    relations: Vec<Access>,
    _relation: PhantomData<R>,
}

impl<R: Relation> std::ops::Deref for ResponseAccess<R> {
    type Target = ResponseView;
    fn deref(&self) -> &ResponseView {
        &self.response
    }
}

impl<R: Relation> ResponseAccess<R> {
    /// Whether the actor has this relationship with the response's person.
    pub fn has(&self, a: Access) -> bool {
        self.relations.contains(&a)
    }

    /// Give up the proof for the response as read.
    pub fn into_view(self) -> ResponseView {
        self.response
    }
}

/// What may this actor do with this response? Load it inside the caller's transaction: 404
/// when there is no such response, 403 unless the actor may see its person
/// ([`StaffOrThemselves`]), then 404 when its instrument version cannot be found, and 403
/// when the actor does not hold `R` for it (for [`Recorder`], in the response's mode).
pub async fn check_response<R: Relation>(
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
) -> Result<ResponseAccess<R>, AppError> {
    let row = super::completion::load_row(tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let person_id: String = row.try_get("person_id")?;
    let (_, relations) = load_person(tx, actor, &person_id).await?;
    // The person sees all of their own responses; staff who may see the person see theirs.
    if !StaffOrThemselves::holds(&relations, None) {
        return Err(AppError::Forbidden);
    }
    let response = super::completion::view_of(tx, id, &row).await?;
    if !R::holds(&relations, Some(response.mode)) {
        return Err(AppError::Forbidden);
    }
    Ok(ResponseAccess {
        response,
        relations,
        _relation: PhantomData,
    })
}
