//! The database-backed job queue. Jobs are idempotent and may carry a dedupe key; a worker
//! claims one due job at a time with a conditional update (safe with several workers on
//! PostgreSQL, and serialised by the single writer on SQLite), runs it, and records the
//! outcome with exponential back-off on failure.
//!
//! This layer knows no module: each module declares its job kinds ([`JobKind`]) and
//! schedules in its manifest, and `app` collects them into the [`JobRegistry`].

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::Row;

use crate::db::{Tx, new_id, now};
use crate::state::AppState;

/// A kind of background job: its stable name, the payload it carries (ids only, never
/// personal data) and what it does. Modules implement this and list a
/// [`JobHandler::of`] for each kind in their manifest; `app` builds the [`JobRegistry`].
pub trait JobKind: Send + Sync + 'static {
    /// The stable name stored in `jobs.kind`.
    const KIND: &'static str;
    /// What the job carries, as JSON.
    type Payload: Serialize + DeserializeOwned + Send + Sync;
    /// Do the work. Must be idempotent: a job may run more than once.
    fn run(
        state: &AppState,
        payload: Self::Payload,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Called once when the job has failed `max_attempts` times.
    fn gave_up(
        _state: &AppState,
        _payload: Self::Payload,
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        async { Ok(()) }
    }
}

/// Queue a job of kind `J` inside the caller's transaction. A job with the same dedupe key
/// is not queued twice.
pub async fn enqueue<J: JobKind>(
    tx: &mut Tx,
    payload: &J::Payload,
    dedupe_key: Option<&str>,
    delay_secs: i64,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_value(payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    enqueue_raw(tx, J::KIND, payload, dedupe_key, delay_secs).await
}

async fn enqueue_raw(
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

/// A job kind with its payload type erased, as the registry holds it.
trait ErasedJob: Send + Sync {
    fn run<'a>(&'a self, state: &'a AppState, payload: Value) -> BoxFuture<'a, anyhow::Result<()>>;
    fn gave_up<'a>(
        &'a self,
        state: &'a AppState,
        payload: Value,
    ) -> BoxFuture<'a, anyhow::Result<()>>;
}

struct Typed<J>(std::marker::PhantomData<fn() -> J>);

fn decode<J: JobKind>(payload: Value) -> anyhow::Result<J::Payload> {
    serde_json::from_value(payload)
        .map_err(|e| anyhow::anyhow!("{} job with an unreadable payload: {e}", J::KIND))
}

impl<J: JobKind> ErasedJob for Typed<J> {
    fn run<'a>(&'a self, state: &'a AppState, payload: Value) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { J::run(state, decode::<J>(payload)?).await })
    }
    fn gave_up<'a>(
        &'a self,
        state: &'a AppState,
        payload: Value,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { J::gave_up(state, decode::<J>(payload)?).await })
    }
}

/// One job kind, ready to go in a module's manifest.
pub struct JobHandler {
    kind: &'static str,
    handler: Box<dyn ErasedJob>,
}

impl JobHandler {
    /// The handler for job kind `J`.
    pub fn of<J: JobKind>() -> Self {
        Self {
            kind: J::KIND,
            handler: Box::new(Typed::<J>(std::marker::PhantomData)),
        }
    }

    /// The kind's stable name.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

/// How often a scheduled job is queued by the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    /// At the first worker tick of each ten minutes (dedupe key per ten-minute slot).
    TenMinutes,
    /// At the first worker tick of each hour (dedupe key per UTC hour).
    Hour,
    /// At the first worker tick of each day (dedupe key per UTC day).
    Day,
}

/// A job the worker queues on a fixed rhythm, with no payload.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    kind: &'static str,
    every: Every,
}

impl Schedule {
    /// Queue job kind `J` (whose payload is `()`) once every `every`.
    pub fn every<J: JobKind<Payload = ()>>(every: Every) -> Self {
        Self {
            kind: J::KIND,
            every,
        }
    }

    /// The job kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

/// Every job kind and schedule of the application, built by `app` from the modules'
/// manifests and kept in the [`AppState`].
#[derive(Default)]
pub struct JobRegistry {
    handlers: HashMap<&'static str, Box<dyn ErasedJob>>,
    schedules: Vec<Schedule>,
}

impl JobRegistry {
    /// Add a job kind. Two handlers for one kind is a programming error, reported by
    /// [`JobRegistry::check`].
    pub fn register(&mut self, job: JobHandler) -> Result<(), String> {
        if self.handlers.contains_key(job.kind) {
            return Err(format!("job kind {} is registered twice", job.kind));
        }
        self.handlers.insert(job.kind, job.handler);
        Ok(())
    }

    /// Add a schedule; its kind must be registered.
    pub fn schedule(&mut self, schedule: Schedule) -> Result<(), String> {
        if !self.handlers.contains_key(schedule.kind) {
            return Err(format!(
                "schedule for unregistered job kind {}",
                schedule.kind
            ));
        }
        self.schedules.push(schedule);
        Ok(())
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort_unstable();
        k
    }

    /// The schedules.
    pub fn schedules(&self) -> &[Schedule] {
        &self.schedules
    }
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
                && let Some(handler) = registry(state)?.handlers.get(job.kind.as_str())
                && let Err(e) = handler.gave_up(state, job.payload.clone()).await
            {
                tracing::warn!(job.id = %job.id, job.kind = %job.kind, error = %e, "job clean-up after giving up failed");
            }
        }
    }
    Ok(())
}

fn registry(state: &AppState) -> Result<std::sync::Arc<JobRegistry>, sqlx::Error> {
    state.get::<JobRegistry>().ok_or_else(|| {
        sqlx::Error::Configuration("the job registry is not installed in this AppState".into())
    })
}

async fn run(state: &AppState, job: &Job) -> anyhow::Result<()> {
    let registry = registry(state)?;
    match registry.handlers.get(job.kind.as_str()) {
        Some(handler) => handler.run(state, job.payload.clone()).await,
        None => Err(anyhow::anyhow!("unknown job kind {}", job.kind)),
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

/// Queue the registry's scheduled jobs that are due at Unix time `t`: each kind once per
/// hour or day, whichever worker gets there first (the dedupe key holds the period).
pub async fn queue_scheduled(state: &AppState, t: i64) -> Result<(), sqlx::Error> {
    let registry = registry(state)?;
    for s in registry.schedules() {
        let period = match s.every {
            Every::TenMinutes => 600,
            Every::Hour => 3600,
            Every::Day => 86_400,
        };
        let key = format!("{}:{}", s.kind, t / period);
        let mut tx = state.db.begin().await?;
        enqueue_raw(&mut tx, s.kind, Value::Null, Some(&key), 0).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The worker loop inside `serve`: polls every second, and queues the scheduled jobs on
/// the first tick and then every ten minutes (each kind at most once per its period).
pub async fn worker(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_schedule = i64::MIN;
    loop {
        tick.tick().await;
        let t = now();
        if t.saturating_sub(last_schedule) >= 600 {
            last_schedule = t;
            if let Err(e) = queue_scheduled(&state, t).await {
                tracing::warn!(error = %e, "could not queue scheduled jobs");
            }
        }
        if let Err(e) = run_due(&state).await {
            tracing::warn!(error = %e, "job worker could not reach the database");
        }
    }
}

/// How many jobs gave up (status `failed`) in the last `days` days.
pub async fn failed_since(state: &AppState, days: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'failed' AND updated_at >= $1")
        .bind(crate::db::now() - days * 86_400)
        .fetch_one(&state.db.read)
        .await
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
