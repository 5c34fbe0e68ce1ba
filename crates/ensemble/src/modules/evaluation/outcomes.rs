//! Outcome statistics from counted pairs: for each score of each instrument version the
//! paired t-test with its 95% interval, Cohen's d_z, the Wilcoxon signed-rank test, shares
//! improved / unchanged / worse by the instrument's meaningful-change threshold with Wilson
//! intervals, reliable change where the instrument states a reliability, and band shifts;
//! health-service use as counts with Wilcoxon; and the WELLBY value of the change in life
//! satisfaction. All from `ensemble_stats`; counts pass through the audience's disclosure
//! rule ([`Audience::count`]).

use ensemble_stats::change::{Direction as ChangeDirection, change_shares, reliable_change_index};
use ensemble_stats::wellby::{self, WellbyInput};
use ensemble_stats::wilcoxon::signed_rank;
use ensemble_stats::{describe, paired};
use serde::Serialize;

use super::figures::ScorePairs;
use super::report::Audience;
use crate::modules::measures::definition::{Definition, Direction};

/// The fewest pairs before any statistic is shown.
pub const MIN_PAIRS: u64 = 8;
/// How long a change in life satisfaction is assumed to last, in years.
pub const WELLBY_YEARS: f64 = 1.0;
/// The instrument and score WELLBYs are valued from.
pub const WELLBY_SCORE: (&str, &str) = ("ons4", "life_satisfaction");

/// One row of `outcomes.csv` (and of `report.json`'s `outcomes`).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OutcomeRow {
    pub instrument: String,
    pub instrument_version: i64,
    pub score: String,
    pub label: String,
    pub direction: String,
    pub n: Option<u64>,
    pub mean_first: Option<f64>,
    pub mean_latest: Option<f64>,
    pub mean_change: Option<f64>,
    pub sd_change: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub t: Option<f64>,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    pub cohen_dz: Option<f64>,
    pub wilcoxon_n: Option<u64>,
    pub wilcoxon_zeros: Option<u64>,
    pub wilcoxon_w: Option<f64>,
    pub wilcoxon_p: Option<f64>,
    pub wilcoxon_method: Option<String>,
    pub threshold: Option<f64>,
    pub improved: Option<u64>,
    pub unchanged: Option<u64>,
    pub worse: Option<u64>,
    pub improved_share: Option<f64>,
    pub improved_ci_low: Option<f64>,
    pub improved_ci_high: Option<f64>,
    pub unchanged_share: Option<f64>,
    pub unchanged_ci_low: Option<f64>,
    pub unchanged_ci_high: Option<f64>,
    pub worse_share: Option<f64>,
    pub worse_ci_low: Option<f64>,
    pub worse_ci_high: Option<f64>,
    pub reliability: Option<f64>,
    pub reliable_improved: Option<u64>,
    pub reliable_worse: Option<u64>,
    pub message: Option<String>,
}

/// The score's rule of its definition, when it is a headline score.
pub fn rule<'a>(
    def: &'a Definition,
    score: &str,
) -> Option<&'a crate::modules::measures::definition::ScoreRule> {
    def.headline_scores().find(|r| r.id == score)
}

fn direction(d: Direction) -> ChangeDirection {
    match d {
        Direction::HigherIsBetter => ChangeDirection::HigherIsBetter,
        Direction::LowerIsBetter => ChangeDirection::LowerIsBetter,
    }
}

/// The analysis of one score's pairs for this audience.
pub fn analyse(def: &Definition, s: &ScorePairs, audience: Audience) -> Option<OutcomeRow> {
    let rule = rule(def, &s.score)?;
    let n = s.n();
    let mut row = OutcomeRow {
        instrument: s.instrument.clone(),
        instrument_version: s.version,
        score: s.score.clone(),
        label: format!("{}: {}", def.short_name, rule.label),
        direction: match rule.direction {
            Direction::HigherIsBetter => "higher_is_better",
            Direction::LowerIsBetter => "lower_is_better",
        }
        .into(),
        n: audience.count(n),
        threshold: rule.meaningful_change,
        reliability: rule.reliability.as_ref().map(|r| r.value),
        ..OutcomeRow::default()
    };
    if n < MIN_PAIRS {
        row.message = Some(format!(
            "Figures are shown once at least {MIN_PAIRS} people have a first and a later result of this version."
        ));
        return Some(row);
    }
    let (before, after) = s.vectors();
    match paired(&before, &after) {
        Ok(p) => {
            row.mean_first = Some(p.mean_before);
            row.mean_latest = Some(p.mean_after);
            row.mean_change = Some(p.mean_change);
            row.sd_change = Some(p.sd_change);
            row.ci_low = Some(p.ci95_low);
            row.ci_high = Some(p.ci95_high);
            row.t = Some(p.t);
            row.df = Some(p.df);
            row.p_value = Some(p.p_value);
            row.cohen_dz = Some(p.cohen_dz);
            set_wilcoxon(&mut row, &p.wilcoxon, audience);
        }
        Err(e) => {
            row.mean_first = describe(&before).ok().map(|d| d.mean);
            row.mean_latest = describe(&after).ok().map(|d| d.mean);
            row.message = Some(format!("The change cannot be tested: {e}."));
        }
    }
    if let Some(threshold) = rule.meaningful_change
        && let Ok(shares) = change_shares(&before, &after, threshold, direction(rule.direction))
    {
        let parts = [shares.improved, shares.unchanged, shares.worse];
        // The three add up to n, so they are protected together: where one is hidden,
        // another is too, and its share with it.
        let shown: Vec<Option<u64>> =
            audience.column(&parts.iter().map(|p| p.count as u64).collect::<Vec<_>>());
        // A share is shown only where its count is.
        let share = |i: usize| {
            shown[i]
                .filter(|c| *c > 0 || parts[i].count == 0)
                .map(|_| parts[i])
        };
        row.improved = shown[0];
        row.unchanged = shown[1];
        row.worse = shown[2];
        if let Some(p) = share(0) {
            (
                row.improved_share,
                row.improved_ci_low,
                row.improved_ci_high,
            ) = (Some(p.share), Some(p.ci95_low), Some(p.ci95_high));
        }
        if let Some(p) = share(1) {
            (
                row.unchanged_share,
                row.unchanged_ci_low,
                row.unchanged_ci_high,
            ) = (Some(p.share), Some(p.ci95_low), Some(p.ci95_high));
        }
        if let Some(p) = share(2) {
            (row.worse_share, row.worse_ci_low, row.worse_ci_high) =
                (Some(p.share), Some(p.ci95_low), Some(p.ci95_high));
        }
    }
    if let Some(rel) = &rule.reliability
        && let Ok(d) = describe(&before)
        && let Some(sd) = d.sd
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
        row.reliable_improved = audience.count(up);
        row.reliable_worse = audience.count(down);
    }
    Some(row)
}

fn set_wilcoxon(row: &mut OutcomeRow, w: &ensemble_stats::wilcoxon::Wilcoxon, audience: Audience) {
    row.wilcoxon_n = audience.count(w.n as u64);
    row.wilcoxon_zeros = audience.count(w.zeros as u64);
    row.wilcoxon_w = Some(w.w);
    row.wilcoxon_p = Some(w.p_value);
    row.wilcoxon_method = Some(w.method.as_str().to_string());
}

/// One row of `band_shifts.csv`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BandShift {
    pub instrument: String,
    pub instrument_version: i64,
    pub score: String,
    pub first_band: String,
    pub latest_band: String,
    pub people: Option<u64>,
}

/// People by (first band, latest band) for a banded score with enough pairs; for a
/// controlled audience the table is protected with secondary suppression.
pub fn band_shifts(def: &Definition, s: &ScorePairs, audience: Audience) -> Vec<BandShift> {
    let Some(rule) = rule(def, &s.score) else {
        return Vec::new();
    };
    if rule.bands.is_empty() || s.n() < MIN_PAIRS {
        return Vec::new();
    }
    let bands: Vec<String> = rule.bands.iter().map(|b| b.label.clone()).collect();
    let at = |b: &Option<String>| b.as_ref().and_then(|b| bands.iter().position(|x| x == b));
    let mut cells = vec![vec![0u64; bands.len()]; bands.len()];
    for p in &s.pairs {
        if let (Some(i), Some(j)) = (at(&p.first_band), at(&p.latest_band)) {
            cells[i][j] += p.people;
        }
    }
    let shown = audience.table(&cells);
    let mut out = Vec::new();
    for (i, fb) in bands.iter().enumerate() {
        for (j, lb) in bands.iter().enumerate() {
            out.push(BandShift {
                instrument: s.instrument.clone(),
                instrument_version: s.version,
                score: s.score.clone(),
                first_band: fb.clone(),
                latest_band: lb.clone(),
                people: shown[i][j],
            });
        }
    }
    out
}

/// One row of `service_use.csv`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ServiceUse {
    pub item: String,
    pub label: String,
    pub n: Option<u64>,
    pub first_total: Option<f64>,
    pub latest_total: Option<f64>,
    pub mean_change: Option<f64>,
    pub wilcoxon_w: Option<f64>,
    pub wilcoxon_p: Option<f64>,
    pub wilcoxon_method: Option<String>,
    pub unit_cost: Option<f64>,
    pub cost_source: Option<String>,
    pub cost_year: Option<i64>,
    pub cost_change: Option<f64>,
    pub message: Option<String>,
}

/// A unit cost an administrator entered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitCost {
    pub item: String,
    pub pounds: f64,
    pub source: String,
    pub price_year: i64,
}

/// Service use (counts in the last three months, first and latest) for one item.
pub fn service_use(
    def: &Definition,
    s: &ScorePairs,
    cost: Option<&UnitCost>,
    audience: Audience,
) -> Option<ServiceUse> {
    let rule = rule(def, &s.score)?;
    let n = s.n();
    let mut row = ServiceUse {
        item: s.score.clone(),
        label: rule.label.clone(),
        n: audience.count(n),
        ..ServiceUse::default()
    };
    if n < MIN_PAIRS {
        row.message = Some(format!(
            "Figures are shown once at least {MIN_PAIRS} people have answered twice."
        ));
        return Some(row);
    }
    let (before, after) = s.vectors();
    let first: f64 = before.iter().sum();
    let latest: f64 = after.iter().sum();
    row.first_total = Some(first);
    row.latest_total = Some(latest);
    row.mean_change = Some((latest - first) / n as f64);
    let d: Vec<f64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    match signed_rank(&d) {
        Ok(w) => {
            row.wilcoxon_w = Some(w.w);
            row.wilcoxon_p = Some(w.p_value);
            row.wilcoxon_method = Some(w.method.as_str().to_string());
        }
        Err(e) => row.message = Some(format!("The change cannot be tested: {e}.")),
    }
    if let Some(c) = cost {
        row.unit_cost = Some(c.pounds);
        row.cost_source = Some(c.source.clone());
        row.cost_year = Some(c.price_year);
        row.cost_change = Some((latest - first) * c.pounds);
    }
    Some(row)
}

/// The WELLBY value, or why there is none.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Value {
    pub people: Option<u64>,
    pub mean_change: Option<f64>,
    pub duration_years: f64,
    pub wellbys: Option<f64>,
    pub wellbys_ci_low: Option<f64>,
    pub wellbys_ci_high: Option<f64>,
    pub price_low: f64,
    pub price_central: f64,
    pub price_high: f64,
    pub price_year: u16,
    pub value_low: Option<f64>,
    pub value_central: Option<f64>,
    pub value_high: Option<f64>,
    pub value_widest_low: Option<f64>,
    pub value_widest_high: Option<f64>,
    pub working: Vec<String>,
    pub message: Option<String>,
}

/// Value the change in life satisfaction (from the analysed row of ONS4 life satisfaction).
pub fn value(row: Option<&OutcomeRow>, exact_n: u64) -> Value {
    let mut v = Value {
        duration_years: WELLBY_YEARS,
        price_low: wellby::PRICE_LOW,
        price_central: wellby::PRICE_CENTRAL,
        price_high: wellby::PRICE_HIGH,
        price_year: wellby::PRICE_YEAR,
        ..Value::default()
    };
    let Some(row) = row else {
        v.message = Some("No one in this programme has answered the ONS life satisfaction question twice, so no WELLBY value can be given.".into());
        return v;
    };
    let Some(mean) = row.mean_change else {
        v.message = Some(format!(
            "A WELLBY value needs the change in life satisfaction of at least {MIN_PAIRS} people; it is not given."
        ));
        return v;
    };
    v.people = Some(exact_n);
    v.mean_change = Some(mean);
    let ci = row.ci_low.zip(row.ci_high);
    match wellby::value(WellbyInput {
        people: exact_n as usize,
        mean_change: mean,
        ci95: ci,
        duration_years: WELLBY_YEARS,
    }) {
        Ok(w) => {
            v.wellbys = Some(w.wellbys);
            v.wellbys_ci_low = w.wellbys_ci95.map(|c| c.0);
            v.wellbys_ci_high = w.wellbys_ci95.map(|c| c.1);
            (v.value_low, v.value_central, v.value_high) =
                (Some(w.value.0), Some(w.value.1), Some(w.value.2));
            v.value_widest_low = w.value_widest.map(|c| c.0);
            v.value_widest_high = w.value_widest.map(|c| c.1);
            v.working = w.working;
        }
        Err(e) => v.message = Some(format!("No WELLBY value: {e}.")),
    }
    v
}
