//! Results so far for a programme: for each headline score of the instruments it collects,
//! each consenting person's first and latest completed measures (people who have agreed to
//! their information being used for evaluation, at this moment) are paired and analysed with the
//! statistics core, and every count passes through disclosure control (small numbers
//! suppressed, the rest rounded; secondary suppression in the monthly table).

use std::collections::BTreeMap;

use ensemble_stats::change::{Direction as ChangeDirection, change_shares, reliable_change_index};
use ensemble_stats::{
    DisclosurePolicy, Paired, ProtectedTable, Published, disclose, paired, protect_table,
};
use sqlx::Row;

use super::definition::Direction;
use super::schedules;
use super::service::definition;
use crate::error::AppError;
use crate::rbac::Actor;
use crate::state::AppState;

/// The fewest people with a before and after before any figure is shown.
pub const MIN_PAIRS: usize = 8;

/// The analysis of one score.
#[derive(Debug, Clone)]
pub struct ScoreResult {
    pub instrument: String,
    pub label: String,
    /// People with two or more results, as publishable.
    pub people: Published,
    /// Shown only with at least [`MIN_PAIRS`] people.
    pub analysis: Option<Paired>,
    /// Improved / unchanged / worse by the meaningful-change threshold: counts as
    /// publishable and the share (only when the count itself is publishable).
    pub shares: Option<[(Published, Option<f64>); 3]>,
    pub threshold: Option<f64>,
    /// People with reliable improvement / deterioration (|RCI| > 1.96), where reliability is
    /// published for the instrument.
    pub reliable: Option<(Published, Published)>,
    pub why_not: Option<String>,
}

/// Results for an activity's programme managers.
pub struct ProgrammeResults {
    pub scores: Vec<ScoreResult>,
    /// Completed measures by instrument (rows) and month (columns), protected.
    pub table: ProtectedTable,
    pub rows: Vec<String>,
    pub months: Vec<String>,
}

use crate::db::month_of;

/// Results for the programme (activity); programme managers of its organisation only.
pub async fn for_activity(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
) -> Result<ProgrammeResults, AppError> {
    // Programme managers of the organisation running it.
    let plan = schedules::check_plan(state, actor, activity_id).await?;
    let rules = schedules::rules_of(state, &plan).await?;
    let policy = DisclosurePolicy::default();
    let rows = sqlx::query(
        "SELECT m.person_id, m.instrument_id, m.instrument_version, m.completed_at, s.score_id, s.value \
         FROM measure_responses m JOIN measure_scores s ON s.response_id = m.id \
         JOIN people_current_consents ec ON ec.person_id = m.person_id AND ec.purpose = 'evaluation' AND ec.decision = 'given' \
         WHERE m.status = 'complete' AND m.person_id IN (SELECT person_id FROM referrals_case_summaries WHERE activity_id = $1) \
         ORDER BY m.completed_at, m.id",
    )
    .bind(plan.activity_id().to_string())
    .fetch_all(&state.db.read)
    .await?;
    // (instrument, score) -> person -> values in time order.
    let mut series: BTreeMap<(String, String), BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    // Distinct responses per instrument and month.
    let mut responses: BTreeMap<(String, String), std::collections::BTreeSet<(String, i64)>> =
        BTreeMap::new();
    for r in &rows {
        let instrument: String = r.try_get("instrument_id")?;
        let person: String = r.try_get("person_id")?;
        let at: Option<i64> = r.try_get("completed_at")?;
        let at = at.unwrap_or(0);
        series
            .entry((instrument.clone(), r.try_get("score_id")?))
            .or_default()
            .entry(person.clone())
            .or_default()
            .push(r.try_get("value")?);
        responses
            .entry((instrument, month_of(at)))
            .or_default()
            .insert((person, at));
    }
    let mut instruments: Vec<String> = rules.iter().map(|r| r.instrument_id.clone()).collect();
    for (i, _) in series.keys() {
        instruments.push(i.clone());
    }
    instruments.sort();
    instruments.dedup();
    let mut scores = Vec::new();
    for instrument in &instruments {
        let Some(def) = definition(&state.db.read, instrument, None).await? else {
            continue;
        };
        for rule in def.headline_scores() {
            let people = series
                .get(&(instrument.clone(), rule.id.clone()))
                .cloned()
                .unwrap_or_default();
            let (before, after): (Vec<f64>, Vec<f64>) = people
                .values()
                .filter(|v| v.len() >= 2)
                .map(|v| (v[0], v[v.len() - 1]))
                .unzip();
            let n = before.len();
            let mut result = ScoreResult {
                instrument: def.short_name.clone(),
                label: rule.label.clone(),
                people: disclose(n as u64, policy),
                analysis: None,
                shares: None,
                threshold: rule.meaningful_change,
                reliable: None,
                why_not: None,
            };
            if n < MIN_PAIRS {
                result.why_not = Some(format!(
                    "Figures are shown once at least {MIN_PAIRS} people have a first and a later result."
                ));
                scores.push(result);
                continue;
            }
            match paired(&before, &after) {
                Ok(p) => result.analysis = Some(p),
                Err(e) => result.why_not = Some(format!("The change cannot be tested: {e}.")),
            }
            let direction = match rule.direction {
                Direction::HigherIsBetter => ChangeDirection::HigherIsBetter,
                Direction::LowerIsBetter => ChangeDirection::LowerIsBetter,
            };
            if let Some(threshold) = rule.meaningful_change
                && let Ok(s) = change_shares(&before, &after, threshold, direction)
            {
                let cell = |count: usize, share: f64| {
                    let p = disclose(count as u64, policy);
                    (
                        p,
                        matches!(p, Published::Value(v) if v > 0).then_some(share),
                    )
                };
                result.shares = Some([
                    cell(s.improved.count, s.improved.share),
                    cell(s.unchanged.count, s.unchanged.share),
                    cell(s.worse.count, s.worse.share),
                ]);
            }
            if let Some(rel) = &rule.reliability
                && let Ok(sd) = ensemble_stats::describe(&before)
                && let Some(sd) = sd.sd
            {
                let (mut up, mut down) = (0u64, 0u64);
                for (b, a) in before.iter().zip(&after) {
                    if let Some(rci) = reliable_change_index(*b, *a, sd, rel.value) {
                        let good = match rule.direction {
                            Direction::HigherIsBetter => rci,
                            Direction::LowerIsBetter => -rci,
                        };
                        if good > 1.96 {
                            up += 1;
                        } else if good < -1.96 {
                            down += 1;
                        }
                    }
                }
                result.reliable = Some((disclose(up, policy), disclose(down, policy)));
            }
            scores.push(result);
        }
    }
    // Completed measures by instrument and month, for the last six months with any.
    let mut months: Vec<String> = responses.keys().map(|(_, m)| m.clone()).collect();
    months.sort();
    months.dedup();
    let months: Vec<String> = months.into_iter().rev().take(6).rev().collect();
    let row_names: Vec<String> = instruments.clone();
    let cells: Vec<Vec<u64>> = row_names
        .iter()
        .map(|i| {
            months
                .iter()
                .map(|m| {
                    responses
                        .get(&(i.clone(), m.clone()))
                        .map_or(0, |s| s.len() as u64)
                })
                .collect()
        })
        .collect();
    let table = protect_table(&cells, policy);
    let rows = row_names
        .iter()
        .map(|i| {
            super::definition::builtin(i)
                .map(|d| d.short_name.clone())
                .unwrap_or_else(|| i.clone())
        })
        .collect();
    Ok(ProgrammeResults {
        scores,
        table,
        rows,
        months,
    })
}
