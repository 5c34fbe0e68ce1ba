//! New referrals from staff, people themselves and FHIR, and the team that receives them.

#[allow(unused_imports)]
use super::*;
use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::{is_unique_violation, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::people::model::{Decision, Purpose};
use crate::modules::people::service::{self as people, ConsentInput, ValidPerson};
use crate::modules::referrals::model::{ReferralReason, Status, add_working_days};
use crate::state::AppState;
use serde_json::json;
use sqlx::Row;

/// A new referral, already validated.
#[derive(Debug, Clone)]
pub struct NewReferral {
    /// Link-worker team that will receive it.
    pub team_organisation_id: String,
    /// clinician, link_worker, community, self, fhir.
    pub source: &'static str,
    /// Referrer account.
    pub referrer_user_id: Option<String>,
    /// Referrer organisation.
    pub referrer_organisation_id: Option<String>,
    /// Referrer name.
    pub referrer_name: String,
    /// Referrer email (for the message back).
    pub referrer_email: String,
    /// Source system and identifier, for de-duplication.
    pub source_system: Option<String>,
    /// Identifier in that system.
    pub source_identifier: Option<String>,
    /// Why the person is referred, and what they hope for.
    pub reason: ReferralReason,
    /// The person.
    pub person: ValidPerson,
    /// Consent decisions taken with the referral.
    pub consents: Vec<(Purpose, Decision)>,
    /// How those decisions were taken.
    pub consent_method: &'static str,
    /// Witness of verbal consent.
    pub consent_witness: String,
    /// An activity asked for by the referrer.
    pub activity_id: Option<String>,
    /// Extra tasks for the link worker (e.g. "check the NHS number").
    pub extra_tasks: Vec<String>,
}

/// The outcome of [`create`].
#[derive(Debug, Clone)]
pub struct Created {
    /// Referral id.
    pub id: String,
    /// False when an earlier submission with the same source identifier exists.
    pub created: bool,
}

/// Organisations that have link workers (the teams a referral can go to).
pub async fn teams(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    let mut conn = state.db.read.acquire().await?;
    Ok(crate::modules::accounts::store::organisations_with_role(
        &mut conn,
        crate::rbac::Role::LinkWorker,
    )
    .await?)
}

/// The setting that names the intake team.
pub const INTAKE_TEAM_SETTING: &str = "referrals.intake_team";

/// The team that receives self-referrals and electronic referrals: the setting
/// `referrals.intake_team`, else the first team by name.
pub async fn intake_team(state: &AppState) -> Result<Option<String>, AppError> {
    let set = {
        let mut conn = state.db.read.acquire().await?;
        crate::db::settings::get(&mut conn, INTAKE_TEAM_SETTING).await?
    };
    let teams = teams(state).await?;
    if let Some(s) = set
        && teams.iter().any(|(id, _)| *id == s)
    {
        return Ok(Some(s));
    }
    Ok(teams.into_iter().next().map(|(id, _)| id))
}

/// The team for a person who lives at `postcode`: a team whose organisation's borough is the
/// postcode's local authority district (the first by name when several cover it), else the
/// intake team. A postcode that is blank, malformed or not in the loaded open data goes to
/// the intake team.
pub async fn team_for_postcode(
    state: &AppState,
    postcode: &str,
) -> Result<Option<String>, AppError> {
    let district = match crate::modules::places::Postcode::parse(postcode) {
        Ok(pc) => crate::modules::places::find_postcode(&state.db, &pc)
            .await?
            .and_then(|p| p.lad_name),
        Err(_) => None,
    };
    if let Some(district) = district.filter(|d| !d.trim().is_empty()) {
        let mut conn = state.db.read.acquire().await?;
        let covering = crate::modules::accounts::store::organisations_with_role_in(
            &mut conn,
            crate::rbac::Role::LinkWorker,
            &district,
        )
        .await?;
        if let Some(team) = covering.into_iter().next() {
            return Ok(Some(team));
        }
    }
    intake_team(state).await
}

/// Choose the team that receives self-referrals and FHIR referrals from accounts that are
/// not link workers (operators, from the command line; audited).
pub async fn set_intake_team_as_operator(
    state: &AppState,
    organisation_id: &str,
) -> Result<(), AppError> {
    if !teams(state)
        .await?
        .iter()
        .any(|(id, _)| id == organisation_id)
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "organisation",
            "That organisation has no link workers, so it cannot receive referrals; add a link worker first",
        )]));
    }
    let mut tx = state.db.begin().await?;
    crate::db::settings::set(&mut tx, INTAKE_TEAM_SETTING, organisation_id).await?;
    audit::record(
        &mut tx,
        &AuditActor::cli(),
        AuditEvent {
            action: "settings.intake_team",
            entity_type: "organisation",
            entity_id: Some(organisation_id),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Is this a listed activity? Returns its id.
pub async fn active_activity(state: &AppState, id: &str) -> Result<bool, AppError> {
    Ok(sqlx::query(
        "SELECT a.id FROM directory_activity_names a JOIN accounts_organisation_profiles o ON o.id = a.organisation_id \
         WHERE a.id = $1 AND a.status = 'active' AND o.archived_at IS NULL",
    )
    .bind(id.to_string())
    .fetch_optional(&state.db.read)
    .await?
    .is_some())
}

/// Create a referral with its person, consents, first-contact task and team notification.
/// A second submission with the same source identifier returns the first referral.
pub async fn create(
    state: &AppState,
    who: &AuditActor,
    n: &NewReferral,
) -> Result<Created, AppError> {
    if let (Some(sys), Some(idf)) = (&n.source_system, &n.source_identifier)
        && let Some((id, sender)) = existing(state, sys, idf).await?
    {
        return same_sender(id, sender, n);
    }
    let result = create_tx(state, who, n, None).await;
    match result {
        Err(AppError::Internal(e))
            if e.downcast_ref::<sqlx::Error>()
                .is_some_and(is_unique_violation) =>
        {
            // A concurrent duplicate won the race.
            match (&n.source_system, &n.source_identifier) {
                (Some(sys), Some(idf)) => match existing(state, sys, idf).await? {
                    Some((id, sender)) => same_sender(id, sender, n),
                    None => Err(AppError::Internal(e)),
                },
                _ => Err(AppError::Internal(e)),
            }
        }
        other => other,
    }
}

/// A repeat from the same sender gets its earlier referral; the same identifier from
/// another account is refused without saying anything about the referral it names.
pub(super) fn same_sender(
    id: String,
    sender: Option<String>,
    n: &NewReferral,
) -> Result<Created, AppError> {
    if sender == n.referrer_user_id {
        Ok(Created { id, created: false })
    } else {
        Err(AppError::Conflict(
            "This source identifier has already been used by another sender".into(),
        ))
    }
}

pub(super) async fn existing(
    state: &AppState,
    sys: &str,
    idf: &str,
) -> Result<Option<(String, Option<String>)>, AppError> {
    Ok(sqlx::query(
        "SELECT id, referrer_user_id FROM referrals WHERE source_system = $1 AND source_identifier = $2",
    )
    .bind(sys.to_string())
    .bind(idf.to_string())
    .fetch_optional(&state.db.write)
    .await?
    .map(|r| Ok::<_, sqlx::Error>((r.try_get("id")?, r.try_get("referrer_user_id")?)))
    .transpose()?)
}

/// Create the referral in one transaction; `digest` is what an electronic sender submitted
/// (see `electronic::receive`), kept to tell a repeat from a change.
pub(super) async fn create_tx(
    state: &AppState,
    who: &AuditActor,
    n: &NewReferral,
    digest: Option<&str>,
) -> Result<Created, AppError> {
    let mut tx = state.db.begin().await?;
    let person_id = people::create(&mut tx, state, &n.team_organisation_id, &n.person).await?;
    for (purpose, decision) in &n.consents {
        people::record_consent(
            &mut tx,
            who,
            &person_id,
            &ConsentInput {
                purpose: *purpose,
                decision: *decision,
                method: n.consent_method,
                witness: &n.consent_witness,
            },
        )
        .await?;
    }
    let id = new_id();
    let t = now();
    sqlx::query(
        "INSERT INTO referrals (id, person_id, team_organisation_id, source, referrer_user_id, referrer_organisation_id, referrer_name, \
         referrer_email, source_system, source_identifier, reason, status, activity_id, requested_activity_id, created_at, updated_at, source_digest) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'received', $12, $12, $13, $13, $14)",
    )
    .bind(id.clone())
    .bind(person_id.clone())
    .bind(n.team_organisation_id.clone())
    .bind(n.source)
    .bind(n.referrer_user_id.clone())
    .bind(n.referrer_organisation_id.clone())
    .bind(n.referrer_name.clone())
    .bind(n.referrer_email.clone())
    .bind(n.source_system.clone())
    .bind(n.source_identifier.clone())
    .bind(n.reason.as_str().to_string())
    .bind(n.activity_id.clone())
    .bind(t)
    .bind(digest.map(str::to_string))
    .execute(&mut *tx)
    .await?;
    event(
        &mut tx,
        &id,
        who.user_id.as_deref(),
        "status",
        None,
        Some(Status::Received),
        "",
        false,
    )
    .await?;
    let due = add_working_days(today(), state.cfg.first_contact_working_days);
    add_task_tx(
        &mut tx,
        &id,
        "first_contact",
        "Make first contact",
        day_end(due),
        None,
    )
    .await?;
    for extra in &n.extra_tasks {
        add_task_tx(
            &mut tx,
            &id,
            "check",
            extra,
            day_end(add_working_days(today(), 1)),
            None,
        )
        .await?;
    }
    // The team hears about new referrals in one digest per quarter hour, not one email each.
    let bucket = t / DIGEST_SECS;
    crate::jobs::enqueue::<crate::modules::referrals::jobs::Digest>(
        &mut tx,
        &crate::modules::referrals::jobs::DigestPayload {
            team: n.team_organisation_id.clone(),
            bucket,
        },
        Some(&format!(
            "referral_digest:{}:{bucket}",
            n.team_organisation_id
        )),
        (bucket + 1) * DIGEST_SECS - t,
    )
    .await?;
    audit_ref(
        &mut tx,
        who,
        "referral.create",
        &id,
        json!({ "source": n.source, "person_id": person_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(Created { id, created: true })
}
