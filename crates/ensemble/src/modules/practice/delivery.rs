//! What a set of activities delivered (for a programme's evaluation report): sessions held,
//! session hours and people marked on the register by month, and the mean of each
//! observation-scale score by month. Counts of sessions and marks only; no names.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::db::{Bind, bind_all, month_of};
use crate::error::AppError;
use crate::state::AppState;

/// One month of delivery.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Month {
    /// `YYYY-MM` (UTC month of the session's start).
    pub month: String,
    /// Sessions held (not cancelled or still planned).
    #[serde(rename = "sessions_held")]
    pub sessions: u64,
    /// Hours of the sessions held (end − start).
    pub session_hours: f64,
    /// Register marks of people there (present, late, left early).
    pub attendances: u64,
}

/// One month's mean of one observation score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    pub month: String,
    /// The observation scale.
    pub instrument: String,
    /// The score's label.
    pub score: String,
    pub observations: u64,
    pub mean: f64,
}

/// Delivery of the activities between two instants (`None`: open-ended).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    pub months: Vec<Month>,
    pub observations: Vec<Observed>,
}

impl Delivery {
    /// Sessions held in all.
    pub fn sessions(&self) -> u64 {
        self.months.iter().map(|m| m.sessions).sum()
    }
    /// Hours of sessions held in all.
    pub fn hours(&self) -> f64 {
        self.months.iter().map(|m| m.session_hours).sum()
    }
}

/// What these activities delivered in the window.
pub async fn for_activities(
    state: &AppState,
    activities: &[String],
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Delivery, AppError> {
    let mut out = Delivery::default();
    if activities.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (3..activities.len() + 3).map(|i| format!("${i}")).collect();
    let mut binds = vec![
        Bind::I(from.unwrap_or(i64::MIN)),
        Bind::I(to.unwrap_or(i64::MAX)),
    ];
    binds.extend(activities.iter().cloned().map(Bind::T));
    let within = format!(
        "s.activity_id IN ({}) AND s.starts_at >= $1 AND s.starts_at < $2",
        marks.join(", ")
    );
    let rows = bind_all(
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.starts_at, s.ends_at, s.marks_present + s.marks_late + s.marks_left_early AS there \
             FROM practice_sessions s WHERE {within} AND s.status = 'held' ORDER BY s.starts_at"
        ))),
        &binds,
    )
    .fetch_all(&state.db.read)
    .await?;
    let mut months: BTreeMap<String, Month> = BTreeMap::new();
    for r in &rows {
        let starts: i64 = r.try_get("starts_at")?;
        let ends: i64 = r.try_get("ends_at")?;
        let there: i64 = r.try_get("there")?;
        let key = month_of(starts);
        let m = months.entry(key.clone()).or_insert_with(|| Month {
            month: key,
            ..Month::default()
        });
        m.sessions += 1;
        m.session_hours += (ends - starts).max(0) as f64 / 3600.0;
        m.attendances += there.max(0) as u64;
    }
    out.months = months.into_values().collect();
    let rows = bind_all(
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT o.instrument_id, o.recorded_at, o.scores FROM session_observations o \
             JOIN practice_sessions s ON s.id = o.session_id WHERE {within}"
        ))),
        &binds,
    )
    .fetch_all(&state.db.read)
    .await?;
    let mut sums: BTreeMap<(String, String, String), (f64, u64)> = BTreeMap::new();
    for r in &rows {
        let m = month_of(r.try_get("recorded_at")?);
        let instrument: String = r.try_get("instrument_id")?;
        let scores: Vec<serde_json::Value> =
            serde_json::from_str(&r.try_get::<String, _>("scores")?).unwrap_or_default();
        for s in scores {
            if let (Some(label), Some(v)) = (s["label"].as_str(), s["value"].as_f64()) {
                let e = sums
                    .entry((m.clone(), instrument.clone(), label.to_string()))
                    .or_default();
                e.0 += v;
                e.1 += 1;
            }
        }
    }
    out.observations = sums
        .into_iter()
        .map(|((month, instrument, score), (sum, n))| Observed {
            month,
            instrument,
            score,
            observations: n,
            mean: sum / n as f64,
        })
        .collect();
    Ok(out)
}
