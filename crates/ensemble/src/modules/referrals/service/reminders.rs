//! What the referral jobs do: chasing providers, the intake digest, and task reminders.

#[allow(unused_imports)]
use super::*;
use crate::audit::AuditActor;
use crate::db::now;
use crate::modules::referrals::model::ProviderStatus;
use crate::modules::referrals::model::add_working_days;
use crate::state::AppState;
use serde_json::json;
use sqlx::Row;

/// Job: a provider has not answered. The first time, remind it; the second, return the
/// referral to the link worker with a task.
pub async fn provider_chase(
    state: &AppState,
    referral_id: &str,
    requested_at: i64,
) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    // The system acts for nobody: it loads the referral itself.
    let Some(r) = load(&mut *tx, referral_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map(as_system)
    else {
        return Ok(());
    };
    if r.status.is_final()
        || r.provider_status != Some(ProviderStatus::Pending)
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
        crate::jobs::enqueue::<crate::modules::referrals::jobs::ProviderChase>(
            &mut tx,
            &crate::modules::referrals::jobs::ProviderChasePayload {
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
