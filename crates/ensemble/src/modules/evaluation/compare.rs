//! Comparison across programmes (issue 17 item 3): a programme's mean change on a score set
//! against the distribution of the other programmes' mean changes, only where the
//! instrument, its version and the score all match, only programmes with at least
//! [`MIN_PAIRS`] people, and only when at least [`MIN_OTHERS`] other programmes qualify (so
//! no other programme can be picked out). The others are never named.

use ensemble_stats::describe::quantile_sorted;
use serde::Serialize;
use sqlx::Row;

use super::outcomes::{MIN_PAIRS, OutcomeRow};
use crate::error::AppError;
use crate::state::AppState;

/// The fewest other programmes a comparison is shown against.
pub const MIN_OTHERS: usize = 3;

/// One score compared.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Comparison {
    pub instrument: String,
    pub instrument_version: i64,
    pub score: String,
    pub label: String,
    pub direction: String,
    pub mean_change: f64,
    /// Other programmes compared against.
    pub others: u64,
    pub min: Option<f64>,
    pub q1: Option<f64>,
    pub median: Option<f64>,
    pub q3: Option<f64>,
    pub max: Option<f64>,
    /// Other programmes whose mean change was less good than this one's.
    pub better_than: Option<u64>,
    /// The others' mean changes, sorted (anonymous), for the chart.
    pub distribution: Vec<f64>,
    pub message: Option<String>,
}

/// Mean changes of every programme with enough people on one score: (programme, change).
pub async fn changes(
    state: &AppState,
    instrument: &str,
    version: i64,
    score: &str,
) -> Result<Vec<(String, f64)>, AppError> {
    let rows = sqlx::query(
        "SELECT programme_id, mean_change FROM evaluation_score_changes \
         WHERE instrument_id = $1 AND instrument_version = $2 AND score_id = $3 AND people >= $4 ORDER BY mean_change, programme_id",
    )
    .bind(instrument.to_string())
    .bind(version)
    .bind(score.to_string())
    .bind(MIN_PAIRS as i64)
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("programme_id")?, r.try_get("mean_change")?)))
        .collect()
}

/// Compare one value against the others' values.
pub fn compare_one(row: &OutcomeRow, mean: f64, others: &[f64]) -> Comparison {
    let mut sorted = others.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut c = Comparison {
        instrument: row.instrument.clone(),
        instrument_version: row.instrument_version,
        score: row.score.clone(),
        label: row.label.clone(),
        direction: row.direction.clone(),
        mean_change: mean,
        others: sorted.len() as u64,
        min: None,
        q1: None,
        median: None,
        q3: None,
        max: None,
        better_than: None,
        distribution: Vec::new(),
        message: None,
    };
    if sorted.len() < MIN_OTHERS {
        c.message = Some(format!(
            "Fewer than {MIN_OTHERS} other programmes report this measure (same version) for at least {MIN_PAIRS} people, so no comparison is shown: it could identify them."
        ));
        return c;
    }
    c.min = sorted.first().copied();
    c.max = sorted.last().copied();
    c.q1 = Some(quantile_sorted(&sorted, 0.25));
    c.median = Some(quantile_sorted(&sorted, 0.5));
    c.q3 = Some(quantile_sorted(&sorted, 0.75));
    let lower_is_better = row.direction == "lower_is_better";
    c.better_than = Some(
        sorted
            .iter()
            .filter(|o| {
                if lower_is_better {
                    **o > mean
                } else {
                    **o < mean
                }
            })
            .count() as u64,
    );
    c.distribution = sorted;
    c
}

/// Each analysed score of this programme against the others.
pub async fn against(
    state: &AppState,
    programme: &str,
    rows: &[OutcomeRow],
) -> Result<Vec<Comparison>, AppError> {
    let mut out = Vec::new();
    for row in rows {
        let Some(mean) = row.mean_change else {
            continue;
        };
        let others: Vec<f64> = changes(state, &row.instrument, row.instrument_version, &row.score)
            .await?
            .into_iter()
            .filter(|(p, _)| p != programme)
            .map(|(_, m)| m)
            .collect();
        out.push(compare_one(row, mean, &others));
    }
    Ok(out)
}

/// One measure across programmes.
#[derive(Debug, Clone)]
pub struct MeasureView {
    pub label: String,
    pub version: i64,
    /// Every qualifying programme's mean change, sorted.
    pub all: Vec<f64>,
    pub quartiles: Vec<(String, f64)>,
    /// The viewer's own programmes (those whose report they may open): (name, mean change).
    pub yours: Vec<(String, f64)>,
}

/// The comparison page.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    pub measures: Vec<MeasureView>,
}

/// Every measure reported by programmes, with the viewer's programmes placed among them.
pub async fn overview(state: &AppState, actor: &crate::rbac::Actor) -> Result<Overview, AppError> {
    let mine = super::access::programmes(state, actor).await?;
    let rows = sqlx::query(
        "SELECT instrument_id, instrument_version, score_id, programme_id, mean_change FROM evaluation_score_changes \
         WHERE people >= $1 ORDER BY instrument_id, instrument_version, score_id, mean_change",
    )
    .bind(MIN_PAIRS as i64)
    .fetch_all(&state.db.read)
    .await?;
    let mut groups: std::collections::BTreeMap<(String, i64, String), Vec<(String, f64)>> =
        std::collections::BTreeMap::new();
    for r in &rows {
        groups
            .entry((
                r.try_get("instrument_id")?,
                r.try_get("instrument_version")?,
                r.try_get("score_id")?,
            ))
            .or_default()
            .push((r.try_get("programme_id")?, r.try_get("mean_change")?));
    }
    let mut out = Overview::default();
    for ((instrument, version, score), list) in groups {
        let label = crate::modules::measures::definition::builtin(&instrument)
            .and_then(|d| {
                super::outcomes::rule(d, &score).map(|r| format!("{}: {}", d.short_name, r.label))
            })
            .unwrap_or_else(|| format!("{instrument}: {score}"));
        let mut all: Vec<f64> = list.iter().map(|x| x.1).collect();
        all.sort_by(f64::total_cmp);
        let quartiles = if all.is_empty() {
            Vec::new()
        } else {
            vec![
                ("Lowest".to_string(), all[0]),
                ("Lower quartile".to_string(), quantile_sorted(&all, 0.25)),
                ("Median".to_string(), quantile_sorted(&all, 0.5)),
                ("Upper quartile".to_string(), quantile_sorted(&all, 0.75)),
                ("Highest".to_string(), all[all.len() - 1]),
            ]
        };
        let yours = list
            .iter()
            .filter_map(|(p, m)| mine.iter().find(|x| &x.0 == p).map(|x| (x.1.clone(), *m)))
            .collect();
        out.measures.push(MeasureView {
            label,
            version,
            all,
            quartiles,
            yours,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comparison_needs_three_others_and_counts_the_less_good() {
        let row = OutcomeRow {
            direction: "higher_is_better".into(),
            ..OutcomeRow::default()
        };
        assert!(compare_one(&row, 1.0, &[0.5, 2.0]).message.is_some());
        let c = compare_one(&row, 1.0, &[0.5, 2.0, 0.1, 3.0]);
        assert_eq!(c.better_than, Some(2));
        assert_eq!(c.median, Some(1.25));
        let lower = OutcomeRow {
            direction: "lower_is_better".into(),
            ..OutcomeRow::default()
        };
        assert_eq!(
            compare_one(&lower, 1.0, &[0.5, 2.0, 0.1, 3.0]).better_than,
            Some(2)
        );
        assert_eq!(
            compare_one(&lower, 0.0, &[0.5, 2.0, 0.1, 3.0]).better_than,
            Some(4)
        );
    }
}
