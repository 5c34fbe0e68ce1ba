//! Helpers shared by the referral use cases: events on the case, audit rows, tasks, emails, text and date rules.

#[allow(unused_imports)]
use super::*;
use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::{Tx, new_id, now};
use crate::error::FieldError;
use crate::modules::accounts::store as accounts;
use crate::modules::referrals::model::Status;
use crate::rbac::Role;

#[allow(clippy::too_many_arguments)]
pub(super) async fn event(
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

pub(super) async fn audit_ref(
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

/// 17:00 UK time on a day: when a task due that day falls due.
pub(super) fn day_end(d: time::Date) -> i64 {
    crate::db::uk::instant(d, time::macros::time!(17:00))
}

/// Today in the UK.
pub(super) fn today() -> time::Date {
    crate::db::uk::today()
}

pub(super) async fn add_task_tx(
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
    crate::jobs::enqueue::<crate::modules::referrals::jobs::TaskDue>(
        tx,
        &crate::modules::referrals::jobs::TaskDuePayload {
            task_id: id.clone(),
        },
        Some(&format!("referral_task_due:{id}")),
        (due_at - now()).max(0),
    )
    .await?;
    Ok(id)
}

/// Email addresses of the link workers of a team.
pub(super) async fn team_emails(tx: &mut Tx, team: &str) -> Result<Vec<String>, sqlx::Error> {
    accounts::emails_with_role(tx, team, Role::LinkWorker).await
}

/// The assigned link worker's address; the team's when nobody is assigned or the assignee's
/// account is disabled, so that no message goes nowhere.
pub(super) async fn assignee_or_team_emails(
    tx: &mut Tx,
    assigned_to: Option<&str>,
    team: &str,
) -> Result<Vec<String>, sqlx::Error> {
    if let Some(u) = assigned_to {
        let mine = accounts::enabled_emails(tx, &[u.to_string()]).await?;
        if !mine.is_empty() {
            return Ok(mine);
        }
    }
    team_emails(tx, team).await
}

/// Email addresses of a provider organisation's programme managers and the activity's leads;
/// when there are none, its practitioners.
pub(super) async fn provider_emails(
    tx: &mut Tx,
    org: &str,
    activity_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let leads = crate::modules::directory::practitioners::lead_ids(tx, activity_id).await?;
    let mut v = accounts::emails_with_role(tx, org, Role::ProgrammeManager).await?;
    v.extend(accounts::enabled_emails(tx, &leads).await?);
    if v.is_empty() {
        // No programme manager and no named lead: tell the organisation's practitioners.
        v = accounts::emails_with_role(tx, org, Role::Practitioner).await?;
    }
    v.sort();
    v.dedup();
    Ok(v)
}

pub(super) async fn email_all(
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

pub(super) fn text(
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

pub(super) use crate::dates::parse_date;
