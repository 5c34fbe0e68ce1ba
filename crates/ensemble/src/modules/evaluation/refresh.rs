//! Pre-aggregation (issue 17 item 5): every programme's [`Figures`] for the whole of its
//! life, kept as one snapshot row (counts and value-counted pairs; no person id), and each
//! programme's mean change per score for comparisons, rebuilt every ten minutes by the job
//! `evaluation_refresh`, by `ensemble evaluate refresh`, after demo seeding, and for one
//! programme whenever its snapshot is missing or older than the last withdrawal of
//! evaluation consent (so a withdrawn person never reaches the next report). A report for a
//! date range is gathered live for that programme (its own rows only).

use std::time::Instant;

use serde::Serialize;
use sqlx::Row;

use super::figures::{self, Figures, People, Window};
use super::outcomes::MIN_PAIRS;
use crate::error::AppError;
use crate::state::AppState;

/// Serialises rebuilds within one process.
static REFRESHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Refreshed {
    pub programmes: u64,
    /// Consenting people loaded.
    pub people: u64,
    /// People counted across programmes (a person in two programmes counts twice).
    pub counted: u64,
    pub took_ms: u64,
}

async fn store(
    conn: &mut sqlx::AnyConnection,
    programme: &str,
    f: &Figures,
    took_ms: u64,
) -> Result<(), AppError> {
    let json = serde_json::to_string(f).map_err(|e| AppError::Internal(e.into()))?;
    sqlx::query("DELETE FROM evaluation_snapshots WHERE programme_id = $1")
        .bind(programme.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO evaluation_snapshots (programme_id, figures, people, refreshed_at, took_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(programme.to_string())
    .bind(json)
    .bind(f.totals.people as i64)
    .bind(f.computed_at)
    .bind(took_ms as i64)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM evaluation_score_changes WHERE programme_id = $1")
        .bind(programme.to_string())
        .execute(&mut *conn)
        .await?;
    for s in &f.scores {
        let n = s.n();
        if n < MIN_PAIRS {
            continue;
        }
        let (b, a) = s.vectors();
        let mean = a.iter().zip(&b).map(|(a, b)| a - b).sum::<f64>() / n as f64;
        sqlx::query(
            "INSERT INTO evaluation_score_changes (programme_id, instrument_id, instrument_version, score_id, people, mean_change, refreshed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(programme.to_string())
        .bind(s.instrument.clone())
        .bind(s.version)
        .bind(s.score.clone())
        .bind(n as i64)
        .bind(mean)
        .bind(f.computed_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Rebuild every programme's snapshot (programmes with at least one activity; the others
/// are gathered when first opened).
pub async fn refresh_all(state: &AppState) -> Result<Refreshed, AppError> {
    let _guard = REFRESHING.lock().await;
    let started = Instant::now();
    let people: People = figures::people(state, None).await?;
    let programmes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT programme_id FROM programmes_activity_links ORDER BY programme_id",
    )
    .fetch_all(&state.db.read)
    .await?;
    let mut counted = 0u64;
    let mut all = Vec::with_capacity(programmes.len());
    for p in &programmes {
        let t = Instant::now();
        let (f, _) = figures::gather(state, p, Window::default(), Some(&people)).await?;
        counted += f.totals.people;
        all.push((p, f, t.elapsed().as_millis() as u64));
    }
    let mut tx = state.db.begin().await?;
    for (p, f, took) in &all {
        store(&mut tx, p, f, *took).await?;
    }
    tx.commit().await?;
    Ok(Refreshed {
        programmes: programmes.len() as u64,
        people: people.len() as u64,
        counted,
        took_ms: started.elapsed().as_millis() as u64,
    })
}

/// When evaluation consent was last withdrawn or refused (Unix seconds), if ever.
pub async fn last_withdrawal(state: &AppState) -> Result<Option<i64>, AppError> {
    let r = sqlx::query(
        "SELECT (SELECT MAX(decided_at) FROM people_current_consents WHERE purpose = 'evaluation' AND decision = 'withdrawn') AS w, \
         (SELECT MAX(decided_at) FROM people_current_consents WHERE purpose = 'evaluation' AND decision = 'refused') AS r",
    )
    .fetch_one(&state.db.read)
    .await?;
    let w: Option<i64> = r.try_get("w")?;
    let rf: Option<i64> = r.try_get("r")?;
    Ok(w.max(rf))
}

/// The programme's whole-life figures: its snapshot, rebuilt first when missing or older
/// than the last withdrawal of consent.
pub async fn snapshot(state: &AppState, programme: &str) -> Result<Figures, AppError> {
    let row = sqlx::query(
        "SELECT figures, refreshed_at FROM evaluation_snapshots WHERE programme_id = $1",
    )
    .bind(programme.to_string())
    .fetch_optional(&state.db.read)
    .await?;
    if let Some(r) = row {
        let at: i64 = r.try_get("refreshed_at")?;
        if last_withdrawal(state).await?.is_none_or(|w| w < at) {
            let text: String = r.try_get("figures")?;
            if let Ok(f) = serde_json::from_str::<Figures>(&text) {
                return Ok(f);
            }
        }
    }
    let t = Instant::now();
    let (f, _) = figures::gather(state, programme, Window::default(), None).await?;
    let mut tx = state.db.begin().await?;
    store(&mut tx, programme, &f, t.elapsed().as_millis() as u64).await?;
    tx.commit().await?;
    Ok(f)
}

/// When the snapshots were last rebuilt, if ever.
pub async fn last_refresh(state: &AppState) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT MAX(refreshed_at) FROM evaluation_snapshots")
            .fetch_one(&state.db.read)
            .await?,
    )
}

/// The ten-minute rebuild.
pub struct Refresh;

impl crate::jobs::JobKind for Refresh {
    const KIND: &'static str = "evaluation_refresh";
    type Payload = ();

    async fn run(state: &AppState, (): ()) -> anyhow::Result<()> {
        let r = refresh_all(state).await?;
        tracing::info!(
            programmes = r.programmes,
            took_ms = r.took_ms,
            "rebuilt the evaluation figures"
        );
        Ok(())
    }
}
