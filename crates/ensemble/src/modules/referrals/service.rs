//! Referral use cases. Each one authorises (care team, referrer, provider or the person),
//! validates, changes and audits in one transaction, and queues any email or reminder in
//! the same transaction.
//!
//! Who sees what:
//! * the **care team** — link workers of the referral's team organisation — sees and works
//!   the whole record;
//! * the **referrer** sees the status of referrals they made and the message back;
//! * the **provider** — programme managers and practitioners of the organisation running the
//!   chosen activity — sees only what it needs to welcome the person;
//! * the **person** sees their own plan.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::model::{ACTIONS, BARRIERS, Status, add_working_days};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::{Tx, is_unique_violation, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::people::model::{Decision, Purpose};
use crate::modules::people::service::{self as people, ConsentInput, Identity, ValidPerson};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

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

const SELECT: &str = "SELECT r.id, r.person_id, r.team_organisation_id, t.name AS team_name, r.assigned_to, au.display_name AS assigned_name, \
    r.source, r.referrer_user_id, r.referrer_organisation_id, r.referrer_name, r.referrer_email, r.source_system, r.source_identifier, \
    r.reason, r.status, r.status_reason, r.activity_id, a.name AS activity_name, a.organisation_id AS activity_organisation_id, \
    po.name AS provider_name, r.provider_status, r.provider_note, r.provider_reason, r.provider_requested_at, r.first_contact_at, \
    r.message_back_sent_at, r.created_at, r.updated_at, r.closed_at, p.user_id AS person_user_id \
    FROM referrals r JOIN organisations t ON t.id = r.team_organisation_id JOIN people p ON p.id = r.person_id \
    LEFT JOIN users au ON au.id = r.assigned_to LEFT JOIN activities a ON a.id = r.activity_id \
    LEFT JOIN organisations po ON po.id = a.organisation_id";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Referral, AppError> {
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

async fn load_for(
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

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &mut Tx,
    referral_id: &str,
    actor_user_id: Option<&str>,
    kind: &str,
    from: Option<Status>,
    to: Option<Status>,
    body: &str,
    shared_with_provider: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO referral_events (id, referral_id, at, actor_user_id, kind, from_status, to_status, body, shared_with_provider) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(referral_id.to_string())
    .bind(now())
    .bind(actor_user_id.map(str::to_string))
    .bind(kind.to_string())
    .bind(from.map(|s| s.code()))
    .bind(to.map(|s| s.code()))
    .bind(body.to_string())
    .bind(i64::from(shared_with_provider))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn audit_ref(
    tx: &mut Tx,
    actor: &AuditActor,
    action: &str,
    id: &str,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    audit::record(
        tx,
        actor,
        AuditEvent {
            action,
            entity_type: "referral",
            entity_id: Some(id),
            detail,
        },
    )
    .await
    .map(|_| ())
}

fn day_end(d: time::Date) -> i64 {
    d.with_hms(17, 0, 0)
        .map(|dt| dt.assume_utc().unix_timestamp())
        .unwrap_or_else(|_| now())
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

async fn add_task_tx(
    tx: &mut Tx,
    referral_id: &str,
    kind: &str,
    title: &str,
    due_at: i64,
    assigned_to: Option<&str>,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO referral_tasks (id, referral_id, kind, title, due_at, assigned_to, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.clone())
    .bind(referral_id.to_string())
    .bind(kind.to_string())
    .bind(title.to_string())
    .bind(due_at)
    .bind(assigned_to.map(str::to_string))
    .bind(now())
    .execute(&mut **tx)
    .await?;
    crate::jobs::enqueue::<super::jobs::TaskDue>(
        tx,
        &super::jobs::TaskDuePayload {
            task_id: id.clone(),
        },
        Some(&format!("referral_task_due:{id}")),
        (due_at - now()).max(0),
    )
    .await?;
    Ok(id)
}

/// Email addresses of the link workers of a team.
async fn team_emails(tx: &mut Tx, team: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 AND m.role = 'link_worker' AND u.disabled_at IS NULL ORDER BY u.email",
    )
    .bind(team.to_string())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.try_get("email"))
    .collect()
}

/// The assigned link worker's address; the team's when nobody is assigned or the assignee's
/// account is disabled, so that no message goes nowhere.
async fn assignee_or_team_emails(
    tx: &mut Tx,
    assigned_to: Option<&str>,
    team: &str,
) -> Result<Vec<String>, sqlx::Error> {
    if let Some(u) = assigned_to {
        let mine: Vec<String> =
            sqlx::query("SELECT email FROM users WHERE id = $1 AND disabled_at IS NULL")
                .bind(u.to_string())
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|x| x.try_get("email"))
                .collect::<Result<_, _>>()?;
        if !mine.is_empty() {
            return Ok(mine);
        }
    }
    team_emails(tx, team).await
}

/// Email addresses of a provider organisation's programme managers and the activity's leads.
async fn provider_emails(
    tx: &mut Tx,
    org: &str,
    activity_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let mut v: Vec<String> = sqlx::query(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 AND m.role = 'programme_manager' AND u.disabled_at IS NULL \
         UNION SELECT u.email FROM activity_practitioners ap JOIN users u ON u.id = ap.user_id \
         WHERE ap.activity_id = $2 AND u.disabled_at IS NULL",
    )
    .bind(org.to_string())
    .bind(activity_id.to_string())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.try_get("email"))
    .collect::<Result<_, _>>()?;
    if v.is_empty() {
        // No programme manager and no named lead: tell the organisation's practitioners.
        v = sqlx::query(
            "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.organisation_id = $1 AND m.role = 'practitioner' AND u.disabled_at IS NULL",
        )
        .bind(org.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("email"))
        .collect::<Result<_, _>>()?;
    }
    v.sort();
    v.dedup();
    Ok(v)
}

async fn email_all(
    tx: &mut Tx,
    to: &[String],
    subject: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    for a in to {
        crate::notify::queue_email(tx, a, subject, body).await?;
    }
    Ok(())
}

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
    pub reason: String,
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
    Ok(sqlx::query(
        "SELECT DISTINCT o.id, o.name FROM organisations o JOIN memberships m ON m.organisation_id = o.id \
         WHERE m.role = 'link_worker' AND o.archived_at IS NULL ORDER BY o.name",
    )
    .fetch_all(&state.db.read)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?)
}

/// The team that receives self-referrals and electronic referrals: the setting
/// `referrals.intake_team`, else the first team by name.
pub async fn intake_team(state: &AppState) -> Result<Option<String>, AppError> {
    let set: Option<String> =
        sqlx::query("SELECT value FROM settings WHERE key = 'referrals.intake_team'")
            .fetch_optional(&state.db.read)
            .await?
            .map(|r| r.try_get("value"))
            .transpose()?;
    let teams = teams(state).await?;
    if let Some(s) = set
        && teams.iter().any(|(id, _)| *id == s)
    {
        return Ok(Some(s));
    }
    Ok(teams.into_iter().next().map(|(id, _)| id))
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
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('referrals.intake_team', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(organisation_id.to_string())
    .execute(&mut *tx)
    .await?;
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
        "SELECT a.id FROM activities a JOIN organisations o ON o.id = a.organisation_id \
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
    let result = create_tx(state, who, n).await;
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
fn same_sender(id: String, sender: Option<String>, n: &NewReferral) -> Result<Created, AppError> {
    if sender == n.referrer_user_id {
        Ok(Created { id, created: false })
    } else {
        Err(AppError::Conflict(
            "This source identifier has already been used by another sender".into(),
        ))
    }
}

async fn existing(
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

async fn create_tx(
    state: &AppState,
    who: &AuditActor,
    n: &NewReferral,
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
         referrer_email, source_system, source_identifier, reason, status, activity_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'received', $12, $13, $13)",
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
    .bind(n.reason.clone())
    .bind(n.activity_id.clone())
    .bind(t)
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
    crate::jobs::enqueue::<super::jobs::Digest>(
        &mut tx,
        &super::jobs::DigestPayload {
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

/// Take a referral onto one's own caseload.
pub async fn take_on(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let r = load_for(&mut tx, actor, id, Access::CareTeam).await?;
    sqlx::query("UPDATE referrals SET assigned_to = $1, updated_at = $2 WHERE id = $3")
        .bind(actor.user_id.clone())
        .bind(now())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE referral_tasks SET assigned_to = $1 WHERE referral_id = $2 AND done_at IS NULL AND assigned_to IS NULL")
        .bind(actor.user_id.clone())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        "assigned",
        None,
        None,
        &format!("Taken on by {}", actor.display_name),
        false,
    )
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.assign",
        id,
        json!({ "from": r.assigned_to }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Move a referral along the pathway by hand.
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    id: &str,
    to: &str,
    reason: &str,
) -> Result<(), AppError> {
    let reason = reason.trim();
    let mut tx = state.db.begin().await?;
    let r = load_for(&mut tx, actor, id, Access::CareTeam).await?;
    let Some(to) = Status::from_code(to) else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            "Choose what has happened",
        )]));
    };
    if !r.status.next_by_hand().contains(&to) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            format!(
                "A referral that is “{}” cannot move to “{}”",
                r.status.label(),
                to.label()
            ),
        )]));
    }
    if to.needs_reason() && reason.is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "reason",
            format!("Give a reason for “{}”", to.label()),
        )]));
    }
    if reason.chars().count() > 2000 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "reason",
            "The reason must be 2000 characters or fewer",
        )]));
    }
    set_status(&mut tx, actor, &r, to, reason).await?;
    tx.commit().await?;
    Ok(())
}

async fn set_status(
    tx: &mut Tx,
    actor: &Actor,
    r: &Referral,
    to: Status,
    reason: &str,
) -> Result<(), AppError> {
    let t = now();
    sqlx::query(
        "UPDATE referrals SET status = $1, status_reason = $2, updated_at = $3, \
         first_contact_at = CASE WHEN $4 = 1 AND first_contact_at IS NULL THEN $3 ELSE first_contact_at END, \
         closed_at = CASE WHEN $5 = 1 THEN $3 ELSE NULL END WHERE id = $6",
    )
    .bind(to.code())
    .bind(reason.to_string())
    .bind(t)
    .bind(i64::from(to == Status::Contacted))
    .bind(i64::from(to.is_final()))
    .bind(r.id.clone())
    .execute(&mut **tx)
    .await?;
    if to == Status::Contacted {
        sqlx::query("UPDATE referral_tasks SET done_at = $1, done_by = $2 WHERE referral_id = $3 AND kind = 'first_contact' AND done_at IS NULL")
            .bind(t)
            .bind(actor.user_id.clone())
            .bind(r.id.clone())
            .execute(&mut **tx)
            .await?;
    }
    if to.is_final() {
        sqlx::query("UPDATE referral_tasks SET done_at = $1, done_by = $2 WHERE referral_id = $3 AND done_at IS NULL")
            .bind(t)
            .bind(actor.user_id.clone())
            .bind(r.id.clone())
            .execute(&mut **tx)
            .await?;
    }
    event(
        tx,
        &r.id,
        Some(&actor.user_id),
        "status",
        Some(r.status),
        Some(to),
        reason,
        false,
    )
    .await?;
    audit_ref(
        tx,
        &actor.audit(),
        "referral.status",
        &r.id,
        json!({ "from": r.status.code(), "to": to.code() }),
    )
    .await?;
    Ok(())
}

fn text(
    field: &str,
    value: &str,
    max: usize,
    required: Option<&str>,
) -> Result<String, FieldError> {
    let v = value.trim();
    if let Some(msg) = required
        && v.is_empty()
    {
        return Err(FieldError::new(field, msg));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("This must be {max} characters or fewer"),
        ));
    }
    Ok(v.to_string())
}

/// Add a case note; `share` also shows it to the provider (a message to them).
pub async fn add_note(
    state: &AppState,
    actor: &Actor,
    id: &str,
    body: &str,
    share: bool,
) -> Result<(), AppError> {
    let body =
        text("note", body, 5000, Some("Write the note")).map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let r = load_for(&mut tx, actor, id, Access::CareTeam).await?;
    let share = share && r.provider_status.is_some();
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        if share { "message" } else { "note" },
        None,
        None,
        &body,
        share,
    )
    .await?;
    if share && let (Some(org), Some(act)) = (&r.activity_organisation_id, &r.activity_id) {
        let to = provider_emails(&mut tx, org, act).await?;
        email_all(&mut tx, &to, "A message about a referral", &format!(
            "The link worker has sent you a message about a referral. Read it in Ensemble:\n\n{}/provider/referrals/{id}\n", state.cfg.base_url)).await?;
    }
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.note",
        id,
        json!({ "shared_with_provider": share }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Add a task with a due date (`YYYY-MM-DD`).
pub async fn add_task(
    state: &AppState,
    actor: &Actor,
    id: &str,
    title: &str,
    due: &str,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let title = text("title", title, 200, Some("Say what needs doing"))
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let due = match parse_date(due) {
        Some(d) if d >= today() => Some(d),
        Some(_) => {
            errors.push(FieldError::new(
                "due",
                "The due date must be today or later",
            ));
            None
        }
        None => {
            errors.push(FieldError::new(
                "due",
                "Enter the due date as year-month-day, like 2026-12-01",
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let r = load_for(&mut tx, actor, id, Access::CareTeam).await?;
    let assignee = r
        .assigned_to
        .clone()
        .unwrap_or_else(|| actor.user_id.clone());
    add_task_tx(
        &mut tx,
        id,
        "custom",
        &title,
        day_end(due.unwrap_or_else(today)),
        Some(&assignee),
    )
    .await?;
    audit_ref(&mut tx, &actor.audit(), "referral.task.add", id, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Mark a task done.
pub async fn complete_task(
    state: &AppState,
    actor: &Actor,
    id: &str,
    task_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    load_for(&mut tx, actor, id, Access::CareTeam).await?;
    let n = sqlx::query("UPDATE referral_tasks SET done_at = $1, done_by = $2 WHERE id = $3 AND referral_id = $4 AND done_at IS NULL")
        .bind(now())
        .bind(actor.user_id.clone())
        .bind(task_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.task.done",
        id,
        json!({ "task_id": task_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

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
}

/// Record a barrier and what was done about it.
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
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    load_for(&mut tx, actor, id, Access::CareTeam).await?;
    sqlx::query("INSERT INTO referral_barriers (id, referral_id, barrier, detail, action, action_detail, recorded_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(new_id())
        .bind(id.to_string())
        .bind(b.barrier.clone())
        .bind(detail)
        .bind(b.action.clone())
        .bind(action_detail)
        .bind(actor.user_id.clone())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.barrier.add",
        id,
        json!({ "barrier": b.barrier, "action": b.action }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// "What matters to me" and the personalised plan.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PlanInput {
    /// What matters to the person, in their words.
    pub what_matters: String,
    /// Needs and concerns.
    pub needs: String,
    /// Goals, in their own words.
    pub goals: String,
    /// Support offered (activities, other services).
    pub support_offered: String,
    /// Agreed next steps.
    pub next_steps: String,
    /// Review date `YYYY-MM-DD`.
    pub review_on: String,
    /// "yes" when the person agrees the plan now.
    pub agreed: String,
}

/// A saved plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// The fields.
    pub input: PlanInput,
    /// When agreed.
    pub agreed_at: Option<i64>,
    /// Last change.
    pub updated_at: i64,
}

/// Load a referral's plan.
pub async fn plan<'e, E>(exec: E, id: &str) -> Result<Option<Plan>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query("SELECT what_matters, needs, goals, support_offered, next_steps, review_on, agreed_at, updated_at FROM referral_plans WHERE referral_id = $1")
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(Plan {
        input: PlanInput {
            what_matters: r.try_get("what_matters")?,
            needs: r.try_get("needs")?,
            goals: r.try_get("goals")?,
            support_offered: r.try_get("support_offered")?,
            next_steps: r.try_get("next_steps")?,
            review_on: r
                .try_get::<Option<String>, _>("review_on")?
                .unwrap_or_default(),
            agreed: String::new(),
        },
        agreed_at: r.try_get("agreed_at")?,
        updated_at: r.try_get("updated_at")?,
    }))
}

/// A referral's plan, for the plan form (care team only; audited).
pub async fn plan_for_care_team(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Option<Plan>, AppError> {
    let mut tx = state.db.begin().await?;
    load_for(&mut tx, actor, id, Access::CareTeam).await?;
    let p = plan(&mut *tx, id).await?;
    audit_ref(&mut tx, &actor.audit(), "referral.plan.read", id, json!({})).await?;
    tx.commit().await?;
    Ok(p)
}

fn parse_date(s: &str) -> Option<time::Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &fmt).ok()
}

/// Save the plan; agreeing it moves the referral to "plan agreed" and sets a review task.
pub async fn save_plan(
    state: &AppState,
    actor: &Actor,
    id: &str,
    p: &PlanInput,
) -> Result<(), AppError> {
    let mut e = Vec::new();
    let mut f = |field: &str, v: &str| {
        text(field, v, 4000, None)
            .map_err(|x| e.push(x))
            .unwrap_or_default()
    };
    let what_matters = f("what_matters", &p.what_matters);
    let needs = f("needs", &p.needs);
    let goals = f("goals", &p.goals);
    let support = f("support_offered", &p.support_offered);
    let next_steps = f("next_steps", &p.next_steps);
    let agree = p.agreed == "yes";
    let review = if p.review_on.trim().is_empty() {
        None
    } else {
        match parse_date(&p.review_on) {
            Some(d) if d > today() => Some(d),
            Some(_) => {
                e.push(FieldError::new(
                    "review_on",
                    "The review date must be in the future",
                ));
                None
            }
            None => {
                e.push(FieldError::new(
                    "review_on",
                    "Enter the review date as year-month-day, like 2027-02-01",
                ));
                None
            }
        }
    };
    if agree {
        if what_matters.is_empty() {
            e.push(FieldError::new(
                "what_matters",
                "Write what matters to the person before agreeing the plan",
            ));
        }
        if goals.is_empty() {
            e.push(FieldError::new(
                "goals",
                "Write at least one goal, in the person's own words, before agreeing the plan",
            ));
        }
        if next_steps.is_empty() {
            e.push(FieldError::new("next_steps", "Write the agreed next steps"));
        }
        if review.is_none() && !e.iter().any(|x| x.field == "review_on") {
            e.push(FieldError::new(
                "review_on",
                "Choose a review date to agree the plan",
            ));
        }
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let r = load_for(&mut tx, actor, id, Access::CareTeam).await?;
    if r.status.is_final() {
        return Err(AppError::Conflict(
            "This referral is closed; its plan can no longer change.".into(),
        ));
    }
    if agree
        && !matches!(
            r.status,
            Status::Contacted | Status::Conversation | Status::PlanAgreed
        )
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "agreed",
            format!(
                "A plan can be agreed after first contact; this referral is “{}”",
                r.status.label()
            ),
        )]));
    }
    let t = now();
    let prior = plan(&mut *tx, id).await?;
    let agreed_at = if agree {
        Some(prior.as_ref().and_then(|p| p.agreed_at).unwrap_or(t))
    } else {
        prior.as_ref().and_then(|p| p.agreed_at)
    };
    sqlx::query(
        "INSERT INTO referral_plans (referral_id, what_matters, needs, goals, support_offered, next_steps, review_on, agreed_at, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (referral_id) DO UPDATE SET what_matters = excluded.what_matters, \
         needs = excluded.needs, goals = excluded.goals, support_offered = excluded.support_offered, next_steps = excluded.next_steps, \
         review_on = excluded.review_on, agreed_at = excluded.agreed_at, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(id.to_string())
    .bind(what_matters)
    .bind(needs)
    .bind(goals)
    .bind(support)
    .bind(next_steps)
    .bind(review.map(|d| d.to_string()))
    .bind(agreed_at)
    .bind(actor.user_id.clone())
    .bind(t)
    .execute(&mut *tx)
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.plan.save",
        id,
        json!({ "agreed": agree }),
    )
    .await?;
    let mut current = r.clone();
    if current.status == Status::Contacted {
        set_status(&mut tx, actor, &current, Status::Conversation, "").await?;
        current.status = Status::Conversation;
    }
    if agree && current.status == Status::Conversation {
        set_status(&mut tx, actor, &current, Status::PlanAgreed, "").await?;
    }
    if let Some(d) = review
        && prior.as_ref().and_then(|p| parse_date(&p.input.review_on)) != Some(d)
    {
        sqlx::query("UPDATE referral_tasks SET done_at = $1, done_by = $2 WHERE referral_id = $3 AND kind = 'review' AND done_at IS NULL")
            .bind(t)
            .bind(actor.user_id.clone())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let who = r
            .assigned_to
            .clone()
            .unwrap_or_else(|| actor.user_id.clone());
        add_task_tx(
            &mut tx,
            id,
            "review",
            "Review the plan with the person",
            day_end(d),
            Some(&who),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Connect the person to an activity: the provider is asked to accept, reminded if it does
/// not answer, and the referral returns to the link worker if it still does not.
pub async fn connect(
    state: &AppState,
    actor: &Actor,
    id: &str,
    activity_id: &str,
    note: &str,
) -> Result<(), AppError> {
    let note = text("provider_note", note, 2000, None).map_err(|e| AppError::Invalid(vec![e]))?;
    if activity_id.trim().is_empty() || !active_activity(state, activity_id.trim()).await? {
        return Err(AppError::Invalid(vec![FieldError::new(
            "activity_id",
            "Choose an activity from the directory",
        )]));
    }
    let activity_id = activity_id.trim();
    let mut tx = state.db.begin().await?;
    let r = load_for(&mut tx, actor, id, Access::CareTeam).await?;
    let reconnect = r.status == Status::Connected
        && matches!(r.provider_status.as_deref(), Some("declined" | "returned"));
    if r.status != Status::PlanAgreed && !reconnect {
        return Err(AppError::Invalid(vec![FieldError::new(
            "activity_id",
            format!(
                "Agree a plan before connecting the person to an activity; this referral is “{}”",
                r.status.label()
            ),
        )]));
    }
    let t = now();
    sqlx::query(
        "UPDATE referrals SET activity_id = $1, provider_status = 'pending', provider_note = $2, provider_reason = '', provider_requested_at = $3, \
         provider_responded_at = NULL, provider_reminders = 0, updated_at = $3 WHERE id = $4",
    )
    .bind(activity_id.to_string())
    .bind(note)
    .bind(t)
    .bind(id.to_string())
    .execute(&mut *tx)
    .await?;
    if r.status != Status::Connected {
        set_status(&mut tx, actor, &r, Status::Connected, "").await?;
    }
    let org: String = sqlx::query("SELECT organisation_id FROM activities WHERE id = $1")
        .bind(activity_id.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get("organisation_id")?;
    let to = provider_emails(&mut tx, &org, activity_id).await?;
    email_all(&mut tx, &to, "A new referral to your activity", &format!(
        "A link worker has referred someone to one of your activities. Please accept or decline in Ensemble:\n\n{}/provider/referrals/{id}\n",
        state.cfg.base_url)).await?;
    crate::jobs::enqueue::<super::jobs::ProviderChase>(
        &mut tx,
        &super::jobs::ProviderChasePayload {
            referral_id: id.to_string(),
            requested_at: t,
        },
        Some(&format!("referral_provider_chase:{id}:{t}:0")),
        state.cfg.provider_response_time.as_secs() as i64,
    )
    .await?;
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        "provider",
        None,
        None,
        "Referred to the activity; waiting for the provider to accept",
        false,
    )
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.connect",
        id,
        json!({ "activity_id": activity_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The provider accepts or declines (with a reason).
pub async fn respond(
    state: &AppState,
    actor: &Actor,
    id: &str,
    accept: &str,
    reason: &str,
) -> Result<(), AppError> {
    let accept = match accept {
        "accept" => true,
        "decline" => false,
        _ => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "decision",
                "Choose whether you can accept this referral",
            )]));
        }
    };
    let reason = text(
        "reason",
        reason,
        2000,
        (!accept)
            .then_some("Give a reason for declining, so the link worker can find something better"),
    )
    .map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let r = load_for(&mut tx, actor, id, Access::Provider).await?;
    if r.provider_status.as_deref() != Some("pending") || r.status.is_final() {
        return Err(AppError::Conflict(
            "This referral has already been answered or closed.".into(),
        ));
    }
    let t = now();
    sqlx::query("UPDATE referrals SET provider_status = $1, provider_reason = $2, provider_responded_at = $3, updated_at = $3 WHERE id = $4")
        .bind(if accept { "accepted" } else { "declined" })
        .bind(reason.clone())
        .bind(t)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let body = if accept {
        "The provider accepted the referral".to_string()
    } else {
        format!("The provider declined the referral: {reason}")
    };
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        "provider",
        None,
        None,
        &body,
        true,
    )
    .await?;
    if !accept {
        let who = r.assigned_to.as_deref();
        add_task_tx(
            &mut tx,
            id,
            "reconnect",
            "The provider declined: agree another activity with the person",
            day_end(add_working_days(today(), 2)),
            who,
        )
        .await?;
    }
    let to =
        assignee_or_team_emails(&mut tx, r.assigned_to.as_deref(), &r.team_organisation_id).await?;
    email_all(
        &mut tx,
        &to,
        if accept {
            "A provider accepted a referral"
        } else {
            "A provider declined a referral"
        },
        &format!(
            "Open the referral in Ensemble:\n\n{}/caseload/{id}\n",
            state.cfg.base_url
        ),
    )
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.provider_response",
        id,
        json!({ "accepted": accept }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The provider messages the link worker.
pub async fn provider_message(
    state: &AppState,
    actor: &Actor,
    id: &str,
    body: &str,
) -> Result<(), AppError> {
    let body = text("message", body, 5000, Some("Write your message"))
        .map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let r = load_for(&mut tx, actor, id, Access::Provider).await?;
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        "message",
        None,
        None,
        &body,
        true,
    )
    .await?;
    let to = team_emails(&mut tx, &r.team_organisation_id).await?;
    email_all(
        &mut tx,
        &to,
        "A provider sent a message about a referral",
        &format!(
            "Read it in Ensemble:\n\n{}/caseload/{id}\n",
            state.cfg.base_url
        ),
    )
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.provider_message",
        id,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Mark attendance for a session date (care team, or the provider once it has accepted).
/// Being present moves a connected referral to "attending"; two missed sessions in a row
/// create a gentle follow-up task.
pub async fn mark_attendance(
    state: &AppState,
    actor: &Actor,
    id: &str,
    date: &str,
    status: &str,
) -> Result<(), AppError> {
    let mut e = Vec::new();
    let d = match parse_date(date) {
        Some(d) if d > today() => {
            e.push(FieldError::new(
                "session_date",
                "The session date cannot be in the future",
            ));
            None
        }
        Some(d) if d < today() - time::Duration::days(366) => {
            e.push(FieldError::new(
                "session_date",
                "The session date must be within the last year",
            ));
            None
        }
        Some(d) => Some(d),
        None => {
            e.push(FieldError::new(
                "session_date",
                "Enter the session date as year-month-day, like 2026-11-20",
            ));
            None
        }
    };
    if !matches!(status, "present" | "absent") {
        e.push(FieldError::new("attendance", "Choose present or absent"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let d = d.unwrap_or_else(today);
    let mut tx = state.db.begin().await?;
    let r = load(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let acc = access(actor, &r);
    let provider_ok =
        acc.contains(&Access::Provider) && r.provider_status.as_deref() == Some("accepted");
    if !acc.contains(&Access::CareTeam) && !provider_ok {
        return Err(AppError::Forbidden);
    }
    if !matches!(
        r.status,
        Status::Connected | Status::Attending | Status::Reviewed
    ) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "attendance",
            format!(
                "Attendance can be marked once the person is connected to an activity; this referral is “{}”",
                r.status.label()
            ),
        )]));
    }
    record_attendance_tx(&mut tx, actor, &r, d, status).await?;
    tx.commit().await?;
    Ok(())
}

/// Record one session's attendance for a referral in the caller's transaction (the check of
/// who may do it is the caller's): moves a connected referral to attending on the first
/// presence, counts missed sessions in a row and adds a gentle follow-up task after two.
pub async fn record_attendance_tx(
    tx: &mut Tx,
    actor: &Actor,
    r: &Referral,
    d: time::Date,
    status: &str,
) -> Result<(), AppError> {
    let id = r.id.as_str();
    sqlx::query(
        "INSERT INTO referral_attendance (id, referral_id, session_date, status, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (referral_id, session_date) DO UPDATE SET status = excluded.status, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(new_id())
    .bind(id.to_string())
    .bind(d.to_string())
    .bind(status.to_string())
    .bind(actor.user_id.clone())
    .bind(now())
    .execute(&mut **tx)
    .await?;
    if status == "present" && r.status == Status::Connected {
        set_status(tx, actor, r, Status::Attending, "").await?;
    }
    let recent: Vec<String> = sqlx::query("SELECT status FROM referral_attendance WHERE referral_id = $1 ORDER BY session_date DESC LIMIT 20")
        .bind(id.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|x| x.try_get("status"))
        .collect::<Result<_, _>>()?;
    let missed = recent.iter().take_while(|s| *s == "absent").count() as i64;
    sqlx::query("UPDATE referrals SET missed_in_row = $1, updated_at = $2 WHERE id = $3")
        .bind(missed)
        .bind(now())
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    if missed >= 2 {
        let open: i64 = sqlx::query("SELECT COUNT(*) AS n FROM referral_tasks WHERE referral_id = $1 AND kind = 'missed_sessions' AND done_at IS NULL")
            .bind(id.to_string())
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        if open == 0 {
            add_task_tx(
                tx,
                id,
                "missed_sessions",
                "Missed two sessions in a row: check in gently",
                day_end(add_working_days(today(), 2)),
                r.assigned_to.as_deref(),
            )
            .await?;
        }
    }
    audit_ref(
        tx,
        &actor.audit(),
        "referral.attendance",
        id,
        json!({ "date": d.to_string(), "status": status }),
    )
    .await?;
    Ok(())
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// When.
    pub at: i64,
    /// Who.
    pub actor: Option<String>,
    /// status, note, message, provider, assigned, message_back.
    pub kind: String,
    /// From.
    pub from_status: Option<String>,
    /// To.
    pub to_status: Option<String>,
    /// Text.
    pub body: String,
}

/// One task.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Due.
    pub due_at: i64,
    /// Done.
    pub done_at: Option<i64>,
    /// Assignee name.
    pub assigned_name: Option<String>,
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
}

/// Everything the care team sees about one referral.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    /// The referral.
    pub referral: Referral,
    /// The person.
    pub person: Identity,
    /// Current consents.
    pub consents: Vec<people::CurrentConsent>,
    /// Timeline (newest first).
    pub events: Vec<Event>,
    /// Tasks.
    pub tasks: Vec<Task>,
    /// Barriers.
    pub barriers: Vec<Barrier>,
    /// Plan.
    pub plan: Option<Plan>,
    /// Attendance (date, status), newest first.
    pub attendance: Vec<(String, String)>,
    /// The person's latest wellbeing scores.
    pub scores: Vec<crate::modules::measures::service::LatestScore>,
}

async fn events(tx: &mut Tx, id: &str, provider_only: bool) -> Result<Vec<Event>, AppError> {
    let sql = format!(
        "SELECT e.at, u.display_name, e.kind, e.from_status, e.to_status, e.body FROM referral_events e LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE e.referral_id = $1 {} ORDER BY e.at DESC, e.id DESC",
        if provider_only {
            "AND e.shared_with_provider = 1"
        } else {
            ""
        }
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Event {
                at: r.try_get("at")?,
                actor: r.try_get("display_name")?,
                kind: r.try_get("kind")?,
                from_status: r.try_get("from_status")?,
                to_status: r.try_get("to_status")?,
                body: r.try_get("body")?,
            })
        })
        .collect()
}

async fn barriers(tx: &mut Tx, id: &str) -> Result<Vec<Barrier>, AppError> {
    sqlx::query("SELECT barrier, detail, action, action_detail FROM referral_barriers WHERE referral_id = $1 ORDER BY created_at, id")
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
            })
        })
        .collect()
}

async fn attendance(tx: &mut Tx, id: &str) -> Result<Vec<(String, String)>, AppError> {
    sqlx::query("SELECT session_date, status FROM referral_attendance WHERE referral_id = $1 ORDER BY session_date DESC")
        .bind(id.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("session_date")?, r.try_get("status")?)))
        .collect()
}

/// The care team's view of a referral; audited as a read of the person record.
pub async fn case_view(state: &AppState, actor: &Actor, id: &str) -> Result<CaseView, AppError> {
    let mut tx = state.db.begin().await?;
    let referral = load_for(&mut tx, actor, id, Access::CareTeam).await?;
    let person = people::load_unchecked(&mut *tx, &referral.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let consents = people::consents(&mut *tx, &referral.person_id).await?;
    let events = events(&mut tx, id, false).await?;
    let tasks = sqlx::query(
        "SELECT t.id, t.kind, t.title, t.due_at, t.done_at, u.display_name FROM referral_tasks t LEFT JOIN users u ON u.id = t.assigned_to \
         WHERE t.referral_id = $1 ORDER BY (t.done_at IS NULL) DESC, t.due_at",
    )
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        Ok(Task {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            title: r.try_get("title")?,
            due_at: r.try_get("due_at")?,
            done_at: r.try_get("done_at")?,
            assigned_name: r.try_get("display_name")?,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let barriers = barriers(&mut tx, id).await?;
    let plan = plan(&mut *tx, id).await?;
    let attendance = attendance(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "person.read",
            entity_type: "person",
            entity_id: Some(&referral.person_id),
            detail: json!({ "via": "referral", "referral_id": id }),
        },
    )
    .await?;
    let scores =
        crate::modules::measures::service::latest_scores(&mut tx, &referral.person_id).await?;
    tx.commit().await?;
    Ok(CaseView {
        referral,
        person,
        consents,
        events,
        tasks,
        barriers,
        plan,
        attendance,
        scores,
    })
}

/// What the provider sees: only what it needs to welcome the person.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderView {
    /// Referral id.
    pub id: String,
    /// Activity.
    pub activity_name: String,
    /// pending / accepted / declined / returned.
    pub provider_status: String,
    /// Status on the pathway.
    pub status: Status,
    /// Preferred name.
    pub name: String,
    /// Pronouns.
    pub pronouns: String,
    /// Communication needs.
    pub communication_needs: String,
    /// Languages.
    pub languages: String,
    /// Barriers and the support arranged.
    pub barriers: Vec<Barrier>,
    /// The link worker's note to the provider.
    pub note: String,
    /// Contact details: only once accepted and when the person agreed to be contacted.
    pub contact: Option<(String, String)>,
    /// Link worker and team.
    pub link_worker: String,
    /// Shared messages, newest first.
    pub messages: Vec<Event>,
    /// Attendance.
    pub attendance: Vec<(String, String)>,
    /// When asked.
    pub requested_at: Option<i64>,
    /// Pseudonymous person id (to record measures).
    pub person_id: String,
    /// The person's latest wellbeing scores.
    pub scores: Vec<crate::modules::measures::service::LatestScore>,
}

/// The provider's view of one referral; audited.
pub async fn provider_view(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<ProviderView, AppError> {
    let mut tx = state.db.begin().await?;
    let r = load_for(&mut tx, actor, id, Access::Provider).await?;
    let p = people::load_unchecked(&mut *tx, &r.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let may_contact = r.provider_status.as_deref() == Some("accepted")
        && people::has_consent(&mut *tx, &r.person_id, Purpose::Contact).await?;
    let view = ProviderView {
        id: r.id.clone(),
        activity_name: r.activity_name.clone().unwrap_or_default(),
        provider_status: r.provider_status.clone().unwrap_or_default(),
        status: r.status,
        name: p.call_name().to_string(),
        pronouns: p.details.pronouns.clone(),
        communication_needs: p.details.communication_needs.clone(),
        languages: p.details.languages.clone(),
        // What was arranged, without the link worker's free-text detail of the barrier.
        barriers: barriers(&mut tx, id)
            .await?
            .into_iter()
            .map(|b| Barrier {
                detail: String::new(),
                ..b
            })
            .collect(),
        note: r.provider_note.clone(),
        contact: may_contact.then(|| (p.details.phone.clone(), p.details.email.clone())),
        link_worker: format!(
            "{} ({})",
            r.assigned_name
                .clone()
                .unwrap_or_else(|| "Not yet assigned".into()),
            r.team_name
        ),
        messages: events(&mut tx, id, true).await?,
        attendance: attendance(&mut tx, id).await?,
        requested_at: r.provider_requested_at,
        person_id: r.person_id.clone(),
        scores: crate::modules::measures::service::latest_scores(&mut tx, &r.person_id).await?,
    };
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "person.read",
            entity_type: "person",
            entity_id: Some(&r.person_id),
            detail: json!({ "via": "provider", "referral_id": id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// A row in a list of referrals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseRow {
    /// Referral id.
    pub id: String,
    /// Name to show (preferred name and family name).
    pub name: String,
    /// Status.
    pub status: Status,
    /// Assigned link worker.
    pub assigned_name: Option<String>,
    /// Activity.
    pub activity_name: Option<String>,
    /// Provider answer.
    pub provider_status: Option<String>,
    /// Received.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Open tasks past their due time.
    pub overdue_tasks: i64,
    /// Earliest open task due.
    pub next_due: Option<i64>,
}

/// Caseload filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CaseloadQuery {
    /// `mine` (default), `team`, `unassigned`.
    pub show: String,
    /// `open` (default), `all`, `closed`, or a status code.
    pub status: String,
    /// Page from 1.
    pub page: Option<i64>,
}

/// Rows per caseload page.
pub const PAGE: i64 = 50;

/// Run a [`LIST_SELECT`] query (with `$1` = now and `binds` from `$2`) and return its rows
/// as one JSON document: the page travels from the database in a single row instead of one
/// message per row, which matters while the single SQLite writer holds the audit
/// transaction. The order is not kept; callers sort.
async fn fetch_case_rows(
    tx: &mut Tx,
    backend: crate::db::Backend,
    inner: &str,
    binds: &[String],
) -> Result<Vec<CaseRow>, AppError> {
    const COLS: &str = "x.id, x.status, x.provider_status, x.created_at, x.updated_at, x.person_id, \
        x.assigned_name, x.activity_name, x.overdue, x.next_due";
    let sql = match backend {
        crate::db::Backend::Sqlite => {
            format!("SELECT json_group_array(json_array({COLS})) AS j FROM ({inner}) x")
        }
        crate::db::Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({COLS}))::text, '[]') AS j FROM ({inner}) x"
        ),
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now());
    for b in binds {
        q = q.bind(b.clone());
    }
    let text: String = q.fetch_one(&mut **tx).await?.try_get("j")?;
    let rows: Vec<Vec<serde_json::Value>> =
        serde_json::from_str(&text).map_err(|e| AppError::Internal(e.into()))?;
    let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let i = |v: &serde_json::Value| v.as_i64();
    if let Some(r) = rows.iter().find(|r| r.len() != 10) {
        return Err(AppError::Internal(anyhow::anyhow!(
            "caseload row has {} columns",
            r.len()
        )));
    }
    let person_ids: Vec<String> = rows.iter().filter_map(|r| s(&r[5])).collect();
    let names = crate::modules::people::service::display_names(tx, &person_ids).await?;
    Ok(rows
        .iter()
        .map(|r| CaseRow {
            id: s(&r[0]).unwrap_or_default(),
            name: s(&r[5])
                .and_then(|p| names.get(&p))
                .map(|n| n.full.clone())
                .unwrap_or_default(),
            status: s(&r[1])
                .as_deref()
                .and_then(Status::from_code)
                .unwrap_or(Status::Received),
            provider_status: s(&r[2]),
            created_at: i(&r[3]).unwrap_or_default(),
            updated_at: i(&r[4]).unwrap_or_default(),
            assigned_name: s(&r[6]),
            activity_name: s(&r[7]),
            overdue_tasks: i(&r[8]).unwrap_or_default(),
            next_due: i(&r[9]),
        })
        .collect())
}

const LIST_SELECT: &str = "SELECT r.id, r.status, r.provider_status, r.created_at, r.updated_at, r.person_id, \
    au.display_name AS assigned_name, a.name AS activity_name, \
    (SELECT COUNT(*) FROM referral_tasks k WHERE k.referral_id = r.id AND k.done_at IS NULL AND k.due_at < $1) AS overdue, \
    (SELECT MIN(k.due_at) FROM referral_tasks k WHERE k.referral_id = r.id AND k.done_at IS NULL) AS next_due \
    FROM referrals r LEFT JOIN users au ON au.id = r.assigned_to \
    LEFT JOIN activities a ON a.id = r.activity_id";

/// A link worker's caseload (their own, their team's, or unassigned), one page at a time;
/// the read of names is audited.
pub async fn caseload(
    state: &AppState,
    actor: &Actor,
    q: &CaseloadQuery,
) -> Result<(Vec<CaseRow>, bool), AppError> {
    let teams: Vec<String> = actor
        .memberships
        .iter()
        .filter(|m| m.2 == Role::LinkWorker)
        .map(|m| m.0.clone())
        .collect();
    if teams.is_empty() {
        return Err(AppError::Forbidden);
    }
    let page = q.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "page",
            "The page must be between 1 and 100000",
        )]));
    }
    let mut binds: Vec<String> = vec![];
    // The page of ids is chosen first (walking an index in update order), so the per-row
    // task counts are computed for one page only.
    let mut sql =
        "WITH page AS (SELECT r.id FROM referrals r WHERE r.team_organisation_id IN (".to_string();
    for (i, t) in teams.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("${}", i + 2));
        binds.push(t.clone());
    }
    sql.push(')');
    let mut next = binds.len() + 2;
    match q.show.as_str() {
        "" | "mine" => {
            sql.push_str(&format!(" AND r.assigned_to = ${next}"));
            binds.push(actor.user_id.clone());
            next += 1;
        }
        "team" => {}
        "unassigned" => sql.push_str(" AND r.assigned_to IS NULL"),
        _ => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "show",
                "Show must be mine, team or unassigned",
            )]));
        }
    }
    match q.status.as_str() {
        "" | "open" => sql.push_str(
            " AND r.status NOT IN ('closed', 'declined', 'not_reached', 'did_not_attend')",
        ),
        "all" => {}
        "closed" => {
            sql.push_str(" AND r.status IN ('closed', 'declined', 'not_reached', 'did_not_attend')")
        }
        s => {
            let Some(st) = Status::from_code(s) else {
                return Err(AppError::Invalid(vec![FieldError::new(
                    "status",
                    "Choose a status from the list",
                )]));
            };
            sql.push_str(&format!(" AND r.status = ${next}"));
            binds.push(st.code().to_string());
        }
    }
    sql.push_str(&format!(
        " ORDER BY r.updated_at DESC, r.id DESC LIMIT {} OFFSET {}) {LIST_SELECT} JOIN page ON page.id = r.id \
         ORDER BY r.updated_at DESC, r.id DESC",
        PAGE + 1,
        (page - 1) * PAGE
    ));
    let mut tx = state.db.begin().await?;
    let mut list = fetch_case_rows(&mut tx, state.db.backend, &sql, &binds).await?;
    list.sort_by(|a, b| {
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    let more = list.len() as i64 > PAGE;
    list.truncate(PAGE as usize);
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "caseload.view",
            entity_type: "referral",
            entity_id: None,
            detail: json!({ "show": q.show, "status": q.status, "page": page, "rows": list.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((list, more))
}

/// Referrals the actor made (any staff role); audited.
pub async fn sent(state: &AppState, actor: &Actor) -> Result<Vec<CaseRow>, AppError> {
    let mut tx = state.db.begin().await?;
    let inner = format!(
        "WITH page AS (SELECT id FROM referrals WHERE referrer_user_id = $2 ORDER BY created_at DESC, id DESC LIMIT 200) \
         {LIST_SELECT} JOIN page ON page.id = r.id"
    );
    let mut list = fetch_case_rows(
        &mut tx,
        state.db.backend,
        &inner,
        std::slice::from_ref(&actor.user_id),
    )
    .await?;
    list.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    // Without the person's agreement to share with their GP and referrer, the referrer
    // sees the status only: not the activity or the provider's answer.
    let shared: std::collections::HashSet<String> = sqlx::query(
        "SELECT r.id FROM referrals r JOIN person_consents c ON c.person_id = r.person_id \
         WHERE r.referrer_user_id = $1 AND c.purpose = 'share_gp' AND c.decision = 'given'",
    )
    .bind(actor.user_id.clone())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    for c in list.iter_mut().filter(|c| !shared.contains(&c.id)) {
        c.activity_name = None;
        c.provider_status = None;
    }
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "referrals.sent.view",
            entity_type: "referral",
            entity_id: None,
            detail: json!({ "rows": list.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

/// Referrals to the actor's activities (providers); audited.
pub async fn provider_inbox(state: &AppState, actor: &Actor) -> Result<Vec<CaseRow>, AppError> {
    let orgs: Vec<String> = actor
        .memberships
        .iter()
        .filter(|m| matches!(m.2, Role::ProgrammeManager | Role::Practitioner))
        .map(|m| m.0.clone())
        .collect();
    if orgs.is_empty() {
        return Err(AppError::Forbidden);
    }
    let mut sql = format!(
        "{LIST_SELECT} WHERE r.provider_status IN ('pending', 'accepted') \
         AND r.status NOT IN ('closed', 'declined', 'not_reached', 'did_not_attend') AND a.organisation_id IN ("
    );
    for i in 0..orgs.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("${}", i + 2));
    }
    sql.push_str(") ORDER BY r.updated_at DESC LIMIT 200");
    let mut tx = state.db.begin().await?;
    let mut rows = fetch_case_rows(&mut tx, state.db.backend, &sql, &orgs).await?;
    let pending = |c: &CaseRow| c.provider_status.as_deref() == Some("pending");
    rows.sort_by(|a, b| {
        pending(b)
            .cmp(&pending(a))
            .then_with(|| b.updated_at.cmp(&a.updated_at))
    });
    // Providers see only the preferred or first name.
    let list = rows
        .into_iter()
        .map(|mut c| {
            c.name = c
                .name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            c.overdue_tasks = 0;
            c.next_due = None;
            Ok(c)
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "referrals.provider.view",
            entity_type: "referral",
            entity_id: None,
            detail: json!({ "rows": list.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

/// The person's own plans (participants signed in with an account linked to a record).
#[derive(Debug, Clone, Serialize)]
pub struct OwnPlan {
    /// Referral id.
    pub referral_id: String,
    /// Person id.
    pub person_id: String,
    /// Status.
    pub status: Status,
    /// Plan.
    pub plan: Option<Plan>,
    /// Activity.
    pub activity_name: Option<String>,
    /// Activity id.
    pub activity_id: Option<String>,
    /// Link worker.
    pub link_worker: Option<String>,
    /// Team.
    pub team_name: String,
    /// The person's latest wellbeing scores.
    pub scores: Vec<crate::modules::measures::service::LatestScore>,
}

/// Plans for the signed-in person; audited.
pub async fn own_plans(
    state: &AppState,
    actor: &Actor,
) -> Result<(Vec<OwnPlan>, Vec<people::CurrentConsent>), AppError> {
    let mut tx = state.db.begin().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE p.user_id = $1 ORDER BY r.created_at DESC"
    )))
    .bind(actor.user_id.clone())
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::new();
    let mut consents = Vec::new();
    for row in &rows {
        let r = from_row(row)?;
        if consents.is_empty() {
            consents = people::consents(&mut *tx, &r.person_id).await?;
        }
        out.push(OwnPlan {
            plan: plan(&mut *tx, &r.id).await?,
            scores: crate::modules::measures::service::latest_scores(&mut tx, &r.person_id).await?,
            referral_id: r.id,
            person_id: r.person_id,
            status: r.status,
            activity_name: r
                .activity_name
                .filter(|_| r.provider_status.as_deref() != Some("declined")),
            activity_id: r.activity_id,
            link_worker: r.assigned_name,
            team_name: r.team_name,
        });
    }
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "plan.own.view",
            entity_type: "person",
            entity_id: None,
            detail: json!({ "plans": out.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((out, consents))
}

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

fn outcome_of(r: &Referral) -> &'static str {
    match r.status {
        Status::Declined => "declined",
        Status::NotReached => "not reached",
        Status::DidNotAttend => "did not attend",
        Status::Connected if r.provider_status.as_deref() == Some("accepted") => "connected",
        Status::Attending | Status::Reviewed => "connected",
        Status::Closed if r.provider_status.as_deref() == Some("accepted") => "connected",
        Status::Closed => "closed",
        _ => "in progress",
    }
}

/// One referral for the referrer or the care team, without the person's details (the FHIR
/// read); audited. A referrer outside the care team sees the activity only when the person
/// agreed to share with their GP and referrer.
pub async fn read_for_referrer(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Referral, AppError> {
    let mut tx = state.db.begin().await?;
    let mut r = load(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let acc = access(actor, &r);
    if !acc.contains(&Access::CareTeam) && !acc.contains(&Access::Referrer) {
        return Err(AppError::Forbidden);
    }
    if !acc.contains(&Access::CareTeam)
        && !people::has_consent(&mut *tx, &r.person_id, Purpose::ShareGp).await?
    {
        r.activity_id = None;
        r.activity_name = None;
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

async fn message_back_tx(tx: &mut Tx, actor: &Actor, id: &str) -> Result<MessageBack, AppError> {
    let r = load(&mut **tx, id).await?.ok_or(AppError::NotFound)?;
    let acc = access(actor, &r);
    if !acc.contains(&Access::CareTeam) && !acc.contains(&Access::Referrer) {
        return Err(AppError::Forbidden);
    }
    let share = people::has_consent(&mut **tx, &r.person_id, Purpose::ShareGp).await?;
    let outcome = outcome_of(&r);
    let mut codes = vec![super::model::SNOMED_REFERRAL];
    if outcome == "declined" {
        codes.push(super::model::SNOMED_DECLINED);
    }
    let scores = if share {
        crate::modules::measures::service::latest_scores(tx, &r.person_id).await?
    } else {
        Vec::new()
    };
    let (person, activity, sessions, goals) = if share {
        let p = people::load_unchecked(&mut **tx, &r.person_id)
            .await?
            .ok_or(AppError::NotFound)?;
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
        referral: r,
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
    let r = load_for(&mut tx, actor, id, Access::CareTeam).await?;
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

/// Job: a provider has not answered. The first time, remind it; the second, return the
/// referral to the link worker with a task.
pub async fn provider_chase(
    state: &AppState,
    referral_id: &str,
    requested_at: i64,
) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    let Some(r) = load(&mut *tx, referral_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    else {
        return Ok(());
    };
    if r.status.is_final()
        || r.provider_status.as_deref() != Some("pending")
        || r.provider_requested_at != Some(requested_at)
    {
        return Ok(());
    }
    let reminders: i64 = sqlx::query("SELECT provider_reminders FROM referrals WHERE id = $1")
        .bind(referral_id.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get("provider_reminders")?;
    let system = AuditActor {
        user_id: None,
        label: "system".into(),
        request_id: None,
    };
    if reminders == 0 {
        sqlx::query("UPDATE referrals SET provider_reminders = 1 WHERE id = $1")
            .bind(referral_id.to_string())
            .execute(&mut *tx)
            .await?;
        if let (Some(org), Some(act)) = (&r.activity_organisation_id, &r.activity_id) {
            let to = provider_emails(&mut tx, org, act).await?;
            email_all(&mut tx, &to, "Reminder: a referral is waiting for your answer", &format!(
                "A referral to one of your activities is still waiting. Please accept or decline:\n\n{}/provider/referrals/{referral_id}\n",
                state.cfg.base_url)).await?;
        }
        event(
            &mut tx,
            referral_id,
            None,
            "provider",
            None,
            None,
            "Reminder sent to the provider",
            false,
        )
        .await?;
        crate::jobs::enqueue::<super::jobs::ProviderChase>(
            &mut tx,
            &super::jobs::ProviderChasePayload {
                referral_id: referral_id.to_string(),
                requested_at,
            },
            Some(&format!(
                "referral_provider_chase:{referral_id}:{requested_at}:1"
            )),
            state.cfg.provider_response_time.as_secs() as i64,
        )
        .await?;
        audit_ref(
            &mut tx,
            &system,
            "referral.provider_reminder",
            referral_id,
            json!({}),
        )
        .await?;
    } else {
        let t = now();
        sqlx::query("UPDATE referrals SET provider_status = 'returned', provider_responded_at = $1, updated_at = $1 WHERE id = $2")
            .bind(t)
            .bind(referral_id.to_string())
            .execute(&mut *tx)
            .await?;
        event(
            &mut tx,
            referral_id,
            None,
            "provider",
            None,
            None,
            "No answer from the provider: returned to the link worker",
            false,
        )
        .await?;
        add_task_tx(
            &mut tx,
            referral_id,
            "reconnect",
            "No answer from the provider: contact them or agree another activity",
            day_end(add_working_days(today(), 1)),
            r.assigned_to.as_deref(),
        )
        .await?;
        let to = team_emails(&mut tx, &r.team_organisation_id).await?;
        email_all(&mut tx, &to, "A referral has come back to you", &format!(
            "A provider did not answer a referral, so it has come back to your team:\n\n{}/caseload/{referral_id}\n", state.cfg.base_url)).await?;
        audit_ref(
            &mut tx,
            &system,
            "referral.provider_returned",
            referral_id,
            json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// New referrals are announced to the team in one email per this many seconds.
pub const DIGEST_SECS: i64 = 900;

/// Job: tell a team's link workers how many referrals arrived in a quarter hour (no
/// personal details by email).
pub async fn intake_digest(state: &AppState, team: &str, bucket: i64) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM referrals WHERE team_organisation_id = $1 AND created_at >= $2 AND created_at < $3",
    )
    .bind(team.to_string())
    .bind(bucket * DIGEST_SECS)
    .bind((bucket + 1) * DIGEST_SECS)
    .fetch_one(&mut *tx)
    .await?
    .try_get("n")?;
    if n > 0 {
        let to = team_emails(&mut tx, team).await?;
        let what = if n == 1 {
            "1 new referral has".to_string()
        } else {
            format!("{n} new referrals have")
        };
        email_all(&mut tx, &to, "New referrals received", &format!(
            "{what} arrived for your team. See the unassigned referrals in Ensemble (no personal details are sent by email):\n\n{}/caseload?show=unassigned\n",
            state.cfg.base_url)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Job: a task's due time has come; remind whoever it is assigned to (or the team).
pub async fn task_due(state: &AppState, task_id: &str) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    let row = sqlx::query(
        "SELECT t.referral_id, t.assigned_to, t.done_at, r.team_organisation_id, r.status FROM referral_tasks t \
         JOIN referrals r ON r.id = t.referral_id WHERE t.id = $1",
    )
    .bind(task_id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(()) };
    if row.try_get::<Option<i64>, _>("done_at")?.is_some() {
        return Ok(());
    }
    let referral_id: String = row.try_get("referral_id")?;
    let assigned: Option<String> = row.try_get("assigned_to")?;
    let team: String = row.try_get("team_organisation_id")?;
    let to = assignee_or_team_emails(&mut tx, assigned.as_deref(), &team).await?;
    email_all(&mut tx, &to, "A task is due", &format!(
        "A task on a referral is due today. Open it in Ensemble:\n\n{}/caseload/{referral_id}\n", state.cfg.base_url)).await?;
    tx.commit().await?;
    Ok(())
}
