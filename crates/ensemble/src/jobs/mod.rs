//! The database-backed job queue. Jobs are idempotent and may carry a dedupe key; a worker
//! claims one due job at a time with a conditional update (safe with several workers on
//! PostgreSQL, and serialised by the single writer on SQLite), runs it, and records the
//! outcome with exponential back-off on failure.

use std::time::Duration;

use serde_json::Value;
use sqlx::Row;

use crate::db::{Tx, new_id, now};
use crate::state::AppState;

/// Queue a job inside the caller's transaction. A job with the same dedupe key is not
/// queued twice.
pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    payload: Value,
    dedupe_key: Option<&str>,
    delay_secs: i64,
) -> Result<(), sqlx::Error> {
    let t = now();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, status, dedupe_key, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(kind.to_string())
    .bind(payload.to_string())
    .bind(dedupe_key.map(str::to_string))
    .bind(t + delay_secs)
    .bind(t)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Id.
    pub id: String,
    /// Kind (selects the handler).
    pub kind: String,
    /// JSON payload.
    pub payload: Value,
    /// Attempts including this one.
    pub attempts: i64,
    /// Limit.
    pub max_attempts: i64,
}

/// Claim the next due job, if any. Jobs left `running` for over 10 minutes (a crashed
/// worker) are claimable again.
pub async fn claim(state: &AppState) -> Result<Option<Job>, sqlx::Error> {
    let t = now();
    let row = sqlx::query(
        "UPDATE jobs SET status = 'running', locked_at = $1, attempts = attempts + 1, updated_at = $1 \
         WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $1) \
                     OR (status = 'running' AND locked_at < $2) ORDER BY run_at LIMIT 1) \
         AND (status = 'queued' OR (status = 'running' AND locked_at < $2)) \
         RETURNING id, kind, payload, attempts, max_attempts",
    )
    .bind(t)
    .bind(t - 600)
    .fetch_optional(&state.db.write)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let payload: String = r.try_get("payload")?;
    Ok(Some(Job {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
    }))
}

async fn finish(
    state: &AppState,
    job: &Job,
    result: anyhow::Result<()>,
) -> Result<(), sqlx::Error> {
    let t = now();
    match result {
        Ok(()) => {
            sqlx::query(
                "UPDATE jobs SET status = 'done', last_error = NULL, updated_at = $1 WHERE id = $2",
            )
            .bind(t)
            .bind(job.id.clone())
            .execute(&state.db.write)
            .await?;
        }
        Err(e) => {
            let give_up = job.attempts >= job.max_attempts;
            let backoff = 30_i64 * (1_i64 << job.attempts.clamp(0, 10));
            tracing::warn!(job.id = %job.id, job.kind = %job.kind, error = %e, give_up, "job failed");
            sqlx::query("UPDATE jobs SET status = $1, last_error = $2, run_at = $3, updated_at = $4 WHERE id = $5")
                .bind(if give_up { "failed" } else { "queued" })
                .bind(format!("{e:#}"))
                .bind(t + backoff)
                .bind(t)
                .bind(job.id.clone())
                .execute(&state.db.write)
                .await?;
            if give_up
                && job.kind == "send_email"
                && let Some(id) = job.payload.get("outbox_id").and_then(Value::as_str)
            {
                crate::notify::mark_failed(&state.db, id).await?;
            }
        }
    }
    Ok(())
}

async fn run(state: &AppState, job: &Job) -> anyhow::Result<()> {
    match job.kind.as_str() {
        "send_email" => {
            let id = job
                .payload
                .get("outbox_id")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow::anyhow!("send_email job without outbox_id"))?;
            crate::notify::deliver(state, id).await
        }
        "purge_sessions" => {
            let n = crate::auth::session::purge_expired(&state.db, &state.cfg).await?;
            tracing::info!(sessions.purged = n, "purged expired sessions");
            Ok(())
        }
        "referral_provider_chase" => {
            let id = job
                .payload
                .get("referral_id")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow::anyhow!("referral_provider_chase without referral_id"))?;
            let at = job
                .payload
                .get("requested_at")
                .and_then(Value::as_i64)
                .ok_or_else(|| anyhow::anyhow!("referral_provider_chase without requested_at"))?;
            crate::modules::referrals::service::provider_chase(state, id, at).await
        }
        "referral_digest" => {
            let team = job
                .payload
                .get("team")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow::anyhow!("referral_digest without team"))?;
            let bucket = job
                .payload
                .get("bucket")
                .and_then(Value::as_i64)
                .ok_or_else(|| anyhow::anyhow!("referral_digest without bucket"))?;
            crate::modules::referrals::service::intake_digest(state, team, bucket).await
        }
        "measures_due_reminders" => {
            let n = crate::modules::measures::schedules::daily_reminders(state).await?;
            tracing::info!(emails = n, "queued wellbeing-measure reminders");
            Ok(())
        }
        "referral_task_due" => {
            let id = job
                .payload
                .get("task_id")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow::anyhow!("referral_task_due without task_id"))?;
            crate::modules::referrals::service::task_due(state, id).await
        }
        other => Err(anyhow::anyhow!("unknown job kind {other}")),
    }
}

/// Run every due job now; returns how many ran. Used by the worker loop and by tests.
pub async fn run_due(state: &AppState) -> Result<usize, sqlx::Error> {
    let mut n = 0;
    while let Some(job) = claim(state).await? {
        let result = run(state, &job).await;
        finish(state, &job, result).await?;
        n += 1;
    }
    Ok(n)
}

/// The worker loop inside `serve`: polls every second, and queues a session purge hourly.
pub async fn worker(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_purge = 0_i64;
    loop {
        tick.tick().await;
        let t = now();
        if t - last_purge >= 3600 {
            last_purge = t;
            let key = format!("purge_sessions:{}", t / 3600);
            let queued = async {
                let mut tx = state.db.begin().await?;
                enqueue(&mut tx, "purge_sessions", Value::Null, Some(&key), 0).await?;
                tx.commit().await
            }
            .await;
            if let Err(e) = queued {
                tracing::warn!(error = %e, "could not queue session purge");
            }
            // Once a day (the first hourly tick of each day): measure reminders.
            let day = format!("measures_due_reminders:{}", t / 86_400);
            let queued = async {
                let mut tx = state.db.begin().await?;
                enqueue(
                    &mut tx,
                    "measures_due_reminders",
                    Value::Null,
                    Some(&day),
                    0,
                )
                .await?;
                tx.commit().await
            }
            .await;
            if let Err(e) = queued {
                tracing::warn!(error = %e, "could not queue measure reminders");
            }
        }
        if let Err(e) = run_due(&state).await {
            tracing::warn!(error = %e, "job worker could not reach the database");
        }
    }
}

/// Counts of jobs by status, and the newest jobs.
pub async fn overview(
    state: &AppState,
) -> Result<Vec<(String, String, String, i64, Option<String>, i64)>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, kind, status, attempts, last_error, updated_at FROM jobs ORDER BY updated_at DESC, id DESC LIMIT 100")
        .fetch_all(&state.db.read)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("kind")?,
                r.try_get("status")?,
                r.try_get("attempts")?,
                r.try_get("last_error")?,
                r.try_get("updated_at")?,
            ))
        })
        .collect()
}
