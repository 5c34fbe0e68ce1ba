//! Every table of a report as data (issue 17 item 4): the same rows the page shows, as
//! CSV with a Frictionless table schema (types and a description of every field), and as
//! spreadsheet sheets. Row-level pairs (evaluators only) carry per-study pseudonyms.

use serde::Serialize;
use serde_json::Value;

use super::figures::PairRow;
use super::report::Report;

/// A field's type in the table schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    YearMonth,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::YearMonth => "yearmonth",
        }
    }
}

/// A field of a table.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub description: &'static str,
}

const fn f(name: &'static str, kind: Kind, description: &'static str) -> Field {
    Field {
        name,
        kind,
        description,
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Num(f64),
    Empty,
}

impl Cell {
    /// As written in CSV: numbers in full (shortest exact decimal), empty for none.
    pub fn csv(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Num(v) => format!("{v}"),
            Cell::Empty => String::new(),
        }
    }
}

/// A table of the package.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub fields: &'static [Field],
    pub rows: Vec<Vec<Cell>>,
}

fn cell(v: Option<&Value>, kind: Kind) -> Cell {
    match v {
        None | Some(Value::Null) => Cell::Empty,
        Some(Value::String(s)) => Cell::Text(s.clone()),
        Some(Value::Bool(b)) => Cell::Text(b.to_string()),
        Some(Value::Number(n)) => match (kind, n.as_i64(), n.as_f64()) {
            (Kind::Integer, Some(i), _) => Cell::Int(i),
            (_, _, Some(x)) => Cell::Num(x),
            _ => Cell::Empty,
        },
        Some(other) => Cell::Text(other.to_string()),
    }
}

/// Rows of serialisable items, one cell per field (by name).
fn rows_of<T: Serialize>(fields: &[Field], items: &[T]) -> Vec<Vec<Cell>> {
    items
        .iter()
        .map(|item| {
            let v = serde_json::to_value(item).unwrap_or(Value::Null);
            fields
                .iter()
                .map(|fl| cell(v.get(fl.name), fl.kind))
                .collect()
        })
        .collect()
}

use Kind::{Integer as I, Number as N, String as S, YearMonth as M};

pub const OUTCOMES: &[Field] = &[
    f("instrument", S, "Instrument identifier."),
    f(
        "instrument_version",
        I,
        "Instrument version; versions are never pooled.",
    ),
    f("score", S, "Score identifier within the instrument."),
    f("label", S, "Instrument and score in words."),
    f("direction", S, "higher_is_better or lower_is_better."),
    f(
        "n",
        I,
        "People with a first and a later result (pairs). Rounded in the controlled version; empty where suppressed.",
    ),
    f("mean_first", N, "Mean of first results."),
    f("mean_latest", N, "Mean of latest results."),
    f("mean_change", N, "Mean change (latest − first)."),
    f("sd_change", N, "Standard deviation of the changes (n − 1)."),
    f(
        "ci_low",
        N,
        "Lower end of the 95% confidence interval of the mean change (t distribution).",
    ),
    f(
        "ci_high",
        N,
        "Upper end of the 95% confidence interval of the mean change.",
    ),
    f("t", N, "Paired t statistic."),
    f("df", N, "Degrees of freedom (n − 1)."),
    f("p_value", N, "Two-sided p-value of the paired t-test."),
    f("cohen_dz", N, "Cohen's d_z: mean change ÷ SD of changes."),
    f(
        "wilcoxon_n",
        I,
        "Non-zero changes ranked in the Wilcoxon signed-rank test.",
    ),
    f("wilcoxon_zeros", I, "Zero changes dropped."),
    f(
        "wilcoxon_w",
        N,
        "Wilcoxon W: the smaller of the positive and negative rank sums.",
    ),
    f(
        "wilcoxon_p",
        N,
        "Two-sided p-value of the Wilcoxon signed-rank test.",
    ),
    f(
        "wilcoxon_method",
        S,
        "exact, permutation or approx (normal approximation), as scipy chooses by default.",
    ),
    f(
        "threshold",
        N,
        "The instrument's meaningful-change threshold, where published.",
    ),
    f(
        "improved",
        I,
        "People whose change in the better direction was at least the threshold.",
    ),
    f(
        "unchanged",
        I,
        "People whose change was smaller than the threshold either way.",
    ),
    f(
        "worse",
        I,
        "People whose change in the worse direction was at least the threshold.",
    ),
    f("improved_share", N, "Share improved (0–1)."),
    f("improved_ci_low", N, "Wilson 95% interval, lower end."),
    f("improved_ci_high", N, "Wilson 95% interval, upper end."),
    f("unchanged_share", N, "Share unchanged (0–1)."),
    f("unchanged_ci_low", N, "Wilson 95% interval, lower end."),
    f("unchanged_ci_high", N, "Wilson 95% interval, upper end."),
    f("worse_share", N, "Share worse (0–1)."),
    f("worse_ci_low", N, "Wilson 95% interval, lower end."),
    f("worse_ci_high", N, "Wilson 95% interval, upper end."),
    f(
        "reliability",
        N,
        "The instrument's published reliability, where stated.",
    ),
    f(
        "reliable_improved",
        I,
        "People with a reliable change index beyond 1.96 in the better direction.",
    ),
    f(
        "reliable_worse",
        I,
        "People with a reliable change index beyond 1.96 in the worse direction.",
    ),
    f("message", S, "Why figures are missing, if they are."),
];

pub const PAIRS: &[Field] = &[
    f(
        "pseudonym",
        S,
        "Per-study pseudonym of the person (HMAC; differs in every programme's package).",
    ),
    f("instrument", S, "Instrument identifier."),
    f("instrument_version", I, "Instrument version."),
    f("score", S, "Score identifier."),
    f(
        "first_value",
        N,
        "First (earliest completed) result in the period.",
    ),
    f(
        "latest_value",
        N,
        "Latest (most recent completed) result in the period.",
    ),
    f("first_month", M, "Month of the first result."),
    f("latest_month", M, "Month of the latest result."),
    f(
        "first_band",
        S,
        "Band of the first result, where the score has bands.",
    ),
    f(
        "latest_band",
        S,
        "Band of the latest result, where the score has bands.",
    ),
];

pub const BANDS: &[Field] = &[
    f("instrument", S, "Instrument identifier."),
    f("instrument_version", I, "Instrument version."),
    f("score", S, "Score identifier."),
    f("first_band", S, "Band of the first result."),
    f("latest_band", S, "Band of the latest result."),
    f(
        "people",
        I,
        "People moving from the first band to the latest. Secondary suppression applies in the controlled version.",
    ),
];

pub const SERVICE: &[Field] = &[
    f(
        "item",
        S,
        "Kind of health-service use (a score of the service_use instrument).",
    ),
    f("label", S, "In words."),
    f("n", I, "People who answered twice."),
    f(
        "first_total",
        N,
        "Total count in the three months before the first answer.",
    ),
    f(
        "latest_total",
        N,
        "Total count in the three months before the latest answer.",
    ),
    f("mean_change", N, "Mean change per person (latest − first)."),
    f("wilcoxon_w", N, "Wilcoxon W of the changes."),
    f("wilcoxon_p", N, "Two-sided p-value."),
    f("wilcoxon_method", S, "exact, permutation or approx."),
    f(
        "unit_cost",
        N,
        "Unit cost in pounds entered by an administrator.",
    ),
    f("cost_source", S, "Where the unit cost comes from."),
    f("cost_year", I, "Price year of the unit cost."),
    f(
        "cost_change",
        N,
        "Change in total count × unit cost (pounds, over three months).",
    ),
    f("message", S, "Why figures are missing, if they are."),
];

pub const REACH_DECILE: &[Field] = &[
    f(
        "decile",
        I,
        "National IMD decile of the person's small area (1 most deprived); 0 not known or outside the city region.",
    ),
    f("label", S, "In words."),
    f("referrals", I, "Referrals received."),
    f("people", I, "People referred."),
    f("attended", I, "People who came to at least one session."),
    f("retained", I, "People who came to six or more sessions."),
    f("sessions_attended", I, "Sessions attended in all."),
];

pub const REACH_GROUP: &[Field] = &[
    f("breakdown", S, "age, sex or ethnicity."),
    f(
        "group",
        S,
        "The group as recorded (age band from year of birth).",
    ),
    f("referrals", I, "Referrals received."),
    f("people", I, "People referred."),
    f("attended", I, "People who came to at least one session."),
    f("retained", I, "People who came to six or more sessions."),
    f("sessions_attended", I, "Sessions attended in all."),
];

pub const PRACTICE: &[Field] = &[
    f("month", M, "Month of the sessions."),
    f("sessions_held", I, "Sessions held."),
    f("session_hours", N, "Hours of sessions held."),
    f(
        "attendances",
        I,
        "Register marks of people there (present, late or left early).",
    ),
];

pub const OBSERVATIONS: &[Field] = &[
    f("month", M, "Month observed."),
    f("instrument", S, "Observation scale."),
    f("score", S, "Score of the scale."),
    f("observations", I, "Observations."),
    f("mean", N, "Mean score."),
];

pub const THEMES: &[Field] = &[
    f("theme", S, "Theme coded by the programme's co-analysts."),
    f("month", M, "Month the voices were shared."),
    f("voices", I, "Voices coded with the theme."),
];

pub const ACTIONS_T: &[Field] = &[
    f("status", S, "Where the actions stand."),
    f("actions", I, "Actions (\"you said, we did\")."),
];

pub const BARRIERS_T: &[Field] = &[
    f("barrier", S, "What got in the way."),
    f("action", S, "What was done about it."),
    f("stage", S, "When it was raised."),
    f("count", I, "Times recorded."),
];

pub const COSTS: &[Field] = &[
    f("item", S, "What is measured."),
    f("value", N, "The figure."),
    f("unit", S, "Its unit."),
];

pub const VALUE: &[Field] = &[
    f("quantity", S, "What is valued."),
    f(
        "low",
        N,
        "At the low value of a WELLBY (or the interval's low end).",
    ),
    f("central", N, "At the central value."),
    f("high", N, "At the high value (or the interval's high end)."),
];

pub const COMPARISON: &[Field] = &[
    f("instrument", S, "Instrument identifier."),
    f("instrument_version", I, "Instrument version."),
    f("score", S, "Score identifier."),
    f("mean_change", N, "This programme's mean change."),
    f(
        "others",
        I,
        "Other programmes compared against (same instrument, version and score, each with at least 8 pairs).",
    ),
    f("min", N, "Smallest of their mean changes."),
    f("q1", N, "Lower quartile."),
    f("median", N, "Median."),
    f("q3", N, "Upper quartile."),
    f("max", N, "Largest."),
    f(
        "better_than",
        I,
        "Other programmes whose mean change was less good.",
    ),
    f(
        "message",
        S,
        "Why there is no comparison, if there is none.",
    ),
];

pub const TRENDS: &[Field] = &[
    f("instrument", S, "Instrument identifier."),
    f("instrument_version", I, "Instrument version."),
    f("score", S, "Score identifier."),
    f(
        "period",
        S,
        "Half-year (UK) of the latest result: YYYY H1 (January–June) or YYYY H2.",
    ),
    f("n", I, "People whose latest result fell in the half-year."),
    f(
        "mean_change",
        N,
        "Their mean change (latest − first); empty under 8 people.",
    ),
];

#[derive(Serialize)]
struct Row3<'a> {
    item: &'a str,
    value: Option<f64>,
    unit: &'a str,
}

#[derive(Serialize)]
struct ValueRow<'a> {
    quantity: &'a str,
    low: Option<f64>,
    central: Option<f64>,
    high: Option<f64>,
}

/// The report's tables; the row-level pairs only when given (evaluators).
pub fn tables(
    r: &Report,
    pairs: Option<&[PairRow]>,
    pseudonym: &dyn Fn(&str) -> String,
) -> Vec<Table> {
    let mut out = Vec::new();
    if let Some(pairs) = pairs {
        let analysed: std::collections::BTreeSet<(&str, i64, &str)> = r
            .outcomes
            .iter()
            .map(|o| {
                (
                    o.instrument.as_str(),
                    o.instrument_version,
                    o.score.as_str(),
                )
            })
            .collect();
        let rows = pairs
            .iter()
            .filter(|p| !p.latest.is_nan())
            .filter(|p| {
                analysed.contains(&(p.instrument.as_str(), p.version, p.score.as_str()))
                    || p.instrument == "service_use"
            })
            .map(|p| {
                let band = |b: &Option<String>| b.clone().map_or(Cell::Empty, Cell::Text);
                vec![
                    Cell::Text(pseudonym(&p.person_id)),
                    Cell::Text(p.instrument.clone()),
                    Cell::Int(p.version),
                    Cell::Text(p.score.clone()),
                    Cell::Num(p.first),
                    Cell::Num(p.latest),
                    Cell::Text(crate::db::month_of(p.first_at)),
                    Cell::Text(crate::db::month_of(p.latest_at)),
                    band(&p.first_band),
                    band(&p.latest_band),
                ]
            })
            .collect();
        out.push(Table {
            name: "outcome_pairs",
            title: "First and latest results (row level)",
            description: "One row per consenting person per score of each instrument version with two or more results in the period: the first and latest. No names or contact details; pseudonyms differ in every programme.",
            fields: PAIRS,
            rows,
        });
    }
    out.push(Table {
        name: "outcomes",
        title: "Outcomes",
        description: "Paired change per score of each instrument version: the t-test and its 95% interval, Cohen's d_z, the Wilcoxon signed-rank test, shares improved / unchanged / worse with Wilson intervals, and reliable change.",
        fields: OUTCOMES,
        rows: rows_of(OUTCOMES, &r.outcomes),
    });
    out.push(Table {
        name: "band_shifts",
        title: "Band shifts",
        description: "People by band of their first and latest result, for banded scores with enough pairs.",
        fields: BANDS,
        rows: rows_of(BANDS, &r.band_shifts),
    });
    out.push(Table {
        name: "service_use",
        title: "Health-service use",
        description: "Self-reported use of health services in the last three months, first and latest, with the Wilcoxon test and, where unit costs were entered, the change in cost.",
        fields: SERVICE,
        rows: rows_of(SERVICE, &r.service_use),
    });
    out.push(Table {
        name: "reach_by_decile",
        title: "Reach by deprivation decile",
        description: "Referrals, people, attendance and retention by the national IMD decile of where people live.",
        fields: REACH_DECILE,
        rows: rows_of(REACH_DECILE, &r.reach.by_decile),
    });
    out.push(Table {
        name: "reach_by_group",
        title: "Reach by recorded characteristics",
        description: "Referrals, people, attendance and retention by age band, sex and ethnic group as recorded.",
        fields: REACH_GROUP,
        rows: rows_of(REACH_GROUP, &r.reach.by_group),
    });
    out.push(Table {
        name: "practice",
        title: "Sessions delivered",
        description: "Sessions held, their hours and register marks, by month.",
        fields: PRACTICE,
        rows: rows_of(PRACTICE, &r.practice.months),
    });
    out.push(Table {
        name: "observations",
        title: "Observation-scale trends",
        description: "Mean of each observation-scale score by month.",
        fields: OBSERVATIONS,
        rows: rows_of(OBSERVATIONS, &r.practice.observations),
    });
    out.push(Table {
        name: "themes",
        title: "Themes over time",
        description: "Voices coded with each theme, by month shared.",
        fields: THEMES,
        rows: rows_of(THEMES, &r.voices.themes),
    });
    out.push(Table {
        name: "actions",
        title: "You said, we did",
        description: "Actions by where they stand.",
        fields: ACTIONS_T,
        rows: rows_of(ACTIONS_T, &r.voices.actions),
    });
    out.push(Table {
        name: "barriers",
        title: "Barriers and what was done",
        description: "Barriers to taking part recorded on referrals to the programme, with what was done and when.",
        fields: BARRIERS_T,
        rows: rows_of(BARRIERS_T, &r.barriers),
    });
    let c = &r.costs;
    let cost_rows = [
        Row3 {
            item: "budget",
            value: c.total,
            unit: "pounds",
        },
        Row3 {
            item: "participants",
            value: c.participants.map(|p| p as f64),
            unit: "people",
        },
        Row3 {
            item: "cost_per_participant",
            value: c.per_participant,
            unit: "pounds",
        },
        Row3 {
            item: "session_hours",
            value: Some(c.session_hours),
            unit: "hours",
        },
        Row3 {
            item: "cost_per_session_hour",
            value: c.per_session_hour,
            unit: "pounds",
        },
    ];
    out.push(Table {
        name: "costs",
        title: "Costs",
        description: "The budget entered for the period, cost per participant and per session hour.",
        fields: COSTS,
        rows: rows_of(COSTS, &cost_rows),
    });
    let v = &r.value;
    let value_rows = [
        ValueRow {
            quantity: "wellby_price_pounds",
            low: Some(v.price_low),
            central: Some(v.price_central),
            high: Some(v.price_high),
        },
        ValueRow {
            quantity: "wellbys",
            low: v.wellbys_ci_low,
            central: v.wellbys,
            high: v.wellbys_ci_high,
        },
        ValueRow {
            quantity: "value_pounds",
            low: v.value_low,
            central: v.value_central,
            high: v.value_high,
        },
        ValueRow {
            quantity: "value_widest_pounds",
            low: v.value_widest_low,
            central: v.value_central,
            high: v.value_widest_high,
        },
    ];
    out.push(Table {
        name: "value",
        title: "Value (WELLBYs)",
        description: "WELLBYs from the change in ONS life satisfaction and their value in 2019 prices (HM Treasury Green Book): wellbys = people × mean change × years assumed; value = wellbys × price.",
        fields: VALUE,
        rows: rows_of(VALUE, &value_rows),
    });
    out.push(Table {
        name: "comparison",
        title: "Comparison with other programmes",
        description: "This programme's mean change against other programmes using the same instrument version (anonymous).",
        fields: COMPARISON,
        rows: rows_of(COMPARISON, &r.comparison),
    });
    out.push(Table {
        name: "trends",
        title: "The programme over time",
        description: "Mean change per score among people whose latest result fell in each half-year.",
        fields: TRENDS,
        rows: rows_of(TRENDS, &r.trends),
    });
    out
}
