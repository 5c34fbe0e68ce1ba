//! Outcomes by small area (issue 16 item 2): on a ward or small-area profile, for each
//! headline score of each instrument, the consenting people living there with a first and a
//! later completed result, and their mean change with its 95% confidence interval.
//!
//! Rules (the profile states them):
//! - **People**: those who have currently given consent for evaluation, placed in the small
//!   area of their postcode for each edition ([`super::residents`], the rule of reach);
//! - **Pairing**: each person's first and latest completed result of the score, in the order
//!   completed (the programme-results rule, `measures::results`); people with one result are
//!   not counted;
//! - **Pre-aggregated**: `area_outcomes` keeps, per edition, small area and score, the count
//!   of people and the sum and sum of squares of their change, rebuilt whole by the hourly
//!   job [`OutcomeRefresh`] (and at start-up), so a profile never reads people's results;
//!   a withdrawn consent leaves the figures at the next rebuild;
//! - **Disclosure**: the count of people is published through `disclose`; the mean change
//!   and its interval (Student's t on the pooled sums) only with at least
//!   [`crate::modules::measures::results::MIN_PAIRS`] people.

use std::collections::{BTreeMap, HashMap};

use ensemble_stats::dist::t_critical;
use ensemble_stats::{DisclosurePolicy, Published, disclose};
use sqlx::Row;

use super::Edition;
use super::residents;
use crate::db::{Bind, bind_all, now};
use crate::error::AppError;
use crate::modules::measures::definition::Direction;
use crate::modules::measures::results::MIN_PAIRS;
use crate::modules::measures::service::definition;
use crate::rbac::Granted;
use crate::rbac::perm::ViewAreaAggregates;
use crate::state::AppState;

/// One score's outcome in an area.
#[derive(Debug, Clone)]
pub struct OutcomeRow {
    /// The instrument's short name.
    pub instrument: String,
    /// The score's label.
    pub label: String,
    pub higher_is_better: bool,
    /// People with a first and a later result.
    pub people: Published,
    /// Mean change (latest − first) with its 95% interval, with enough people.
    pub mean_change: Option<(f64, f64, f64)>,
}

/// (instrument, score) → person → (first value, latest value, results).
type Series = BTreeMap<(String, String), HashMap<String, (f64, f64, u32)>>;
/// (edition, small area, instrument, score) → (people, sum of change, sum of squares).
type Cells = BTreeMap<(i64, String, String, String), (i64, f64, f64)>;

/// Per-person first and latest value of each (instrument, score), in completion order.
async fn firsts_and_latests(state: &AppState) -> Result<Series, AppError> {
    let rows = sqlx::query(
        "SELECT m.person_id, m.instrument_id, s.score_id, s.value FROM measures_response_summaries m \
         JOIN measures_score_values s ON s.response_id = m.id \
         WHERE m.status = 'complete' AND m.person_id IS NOT NULL ORDER BY m.completed_at, m.id",
    )
    .fetch_all(&state.db.read)
    .await?;
    let mut out = Series::new();
    for r in rows {
        let v: f64 = r.try_get("value")?;
        out.entry((r.try_get("instrument_id")?, r.try_get("score_id")?))
            .or_default()
            .entry(r.try_get("person_id")?)
            .and_modify(|e| {
                e.1 = v;
                e.2 += 1;
            })
            .or_insert((v, v, 1));
    }
    Ok(out)
}

/// Rebuild `area_outcomes` from every consenting person's results; returns the rows written.
pub async fn refresh(state: &AppState) -> Result<usize, AppError> {
    let series = firsts_and_latests(state).await?;
    let mut cells = Cells::new();
    for e in Edition::ALL {
        let served = residents::served(state, *e, None).await?;
        let facts = residents::resolve(state, *e, &served).await?;
        for ((instrument, score), people) in &series {
            for (person, (first, latest, n)) in people {
                let Some(lsoa) = facts.get(person).and_then(|f| f.lsoa.clone()) else {
                    continue; // no consent for evaluation, or not living in the city region
                };
                if *n < 2 {
                    continue;
                }
                let d = latest - first;
                let c = cells
                    .entry((e.year(), lsoa, instrument.clone(), score.clone()))
                    .or_default();
                *c = (c.0 + 1, c.1 + d, c.2 + d * d);
            }
        }
    }
    let at = now();
    let mut tx = state.db.begin().await?;
    sqlx::query("DELETE FROM area_outcomes")
        .execute(&mut *tx)
        .await?;
    let all: Vec<_> = cells.into_iter().collect();
    for chunk in all.chunks(100) {
        let marks: Vec<String> = (0..chunk.len())
            .map(|r| {
                let m: Vec<String> = (1..=8).map(|c| format!("${}", r * 8 + c)).collect();
                format!("({})", m.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO area_outcomes (edition, lsoa_code, instrument_id, score_id, people, sum_change, sum_sq_change, refreshed_at) VALUES {}",
            marks.join(", ")
        );
        let binds: Vec<Bind> = chunk
            .iter()
            .flat_map(|((e, l, i, s), (n, sum, sq))| {
                [
                    Bind::I(*e),
                    Bind::T(l.clone()),
                    Bind::T(i.clone()),
                    Bind::T(s.clone()),
                    Bind::I(*n),
                    Bind::F(*sum),
                    Bind::F(*sq),
                    Bind::I(at),
                ]
            })
            .collect();
        bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(all.len())
}

/// Mean and 95% interval from pooled sums; `None` without variation or with one person.
pub fn mean_interval(n: i64, sum: f64, sum_sq: f64) -> Option<(f64, f64, f64)> {
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let mean = sum / nf;
    let var = ((sum_sq - sum * sum / nf) / (nf - 1.0)).max(0.0);
    let se = (var / nf).sqrt();
    if se.is_nan() || se <= 0.0 {
        return Some((mean, mean, mean));
    }
    let t = t_critical(0.05, nf - 1.0);
    Some((mean, mean - t * se, mean + t * se))
}

/// The outcomes of people living in the small areas `codes` (headline scores only).
pub async fn for_areas(
    state: &AppState,
    _g: &Granted<ViewAreaAggregates>,
    e: Edition,
    codes: &[String],
) -> Result<Vec<OutcomeRow>, AppError> {
    let mut sums: BTreeMap<(String, String), (i64, f64, f64)> = BTreeMap::new();
    for chunk in codes.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT instrument_id, score_id, CAST(SUM(people) AS BIGINT) AS people, SUM(sum_change) AS s, SUM(sum_sq_change) AS sq \
             FROM area_outcomes WHERE edition = $1 AND lsoa_code IN ({}) GROUP BY instrument_id, score_id",
            marks.join(", ")
        );
        let mut binds = vec![Bind::I(e.year())];
        binds.extend(chunk.iter().cloned().map(Bind::T));
        for r in bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .fetch_all(&state.db.read)
            .await?
        {
            let c = sums
                .entry((r.try_get("instrument_id")?, r.try_get("score_id")?))
                .or_default();
            c.0 += r.try_get::<i64, _>("people")?;
            c.1 += r.try_get::<f64, _>("s")?;
            c.2 += r.try_get::<f64, _>("sq")?;
        }
    }
    let policy = DisclosurePolicy::default();
    let mut out = Vec::new();
    for ((instrument, score), (n, sum, sq)) in sums {
        let Some(def) = definition(&state.db.read, &instrument, None).await? else {
            continue;
        };
        let Some(rule) = def.headline_scores().find(|r| r.id == score) else {
            continue;
        };
        out.push(OutcomeRow {
            instrument: def.short_name.clone(),
            label: rule.label.clone(),
            higher_is_better: rule.direction == Direction::HigherIsBetter,
            people: disclose(n as u64, policy),
            mean_change: if n as usize >= MIN_PAIRS {
                mean_interval(n, sum, sq)
            } else {
                None
            },
        });
    }
    Ok(out)
}

/// The hourly rebuild of `area_outcomes`.
pub struct OutcomeRefresh;

impl crate::jobs::JobKind for OutcomeRefresh {
    const KIND: &'static str = "areas_outcome_refresh";
    type Payload = ();

    async fn run(state: &AppState, (): ()) -> anyhow::Result<()> {
        let n = refresh(state).await?;
        tracing::info!(rows = n, "rebuilt the outcomes by small area");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_from_pooled_sums_matches_the_paired_analysis() {
        let before = [20.0, 22.0, 19.5, 25.0, 18.0, 21.0, 23.0, 20.5, 24.0];
        let after = [22.0, 23.5, 21.0, 24.0, 21.5, 22.0, 26.0, 20.5, 27.0];
        let p = ensemble_stats::paired(&before, &after).unwrap();
        let d: Vec<f64> = before.iter().zip(&after).map(|(b, a)| a - b).collect();
        // Split the people between two areas: the pooled sums give the same answer.
        let (x, y) = d.split_at(4);
        let s = |v: &[f64]| (v.iter().sum::<f64>(), v.iter().map(|d| d * d).sum::<f64>());
        let ((s1, q1), (s2, q2)) = (s(x), s(y));
        let (m, lo, hi) = mean_interval(9, s1 + s2, q1 + q2).unwrap();
        assert!((m - p.mean_change).abs() < 1e-9);
        assert!((lo - p.ci95_low).abs() < 1e-9, "{lo} vs {}", p.ci95_low);
        assert!((hi - p.ci95_high).abs() < 1e-9);
        assert_eq!(mean_interval(1, 2.0, 4.0), None);
        assert_eq!(mean_interval(3, 3.0, 3.0), Some((1.0, 1.0, 1.0)));
    }
}
