//! The programme report (issue 17 item 1): one [`Report`] value, drawn as HTML, printed, and
//! written as `report.json` beside the package's tables. Figures come from the programme's
//! snapshot (whole life) or are gathered live for a date range; statistics come from
//! `outcomes`; counts pass through the audience's disclosure rule.

use ensemble_stats::{DisclosurePolicy, Published, disclose, protect_table};
use serde::Serialize;
use time::Date;

use super::access::ReportAccess;
use super::compare::{self, Comparison};
use super::costs::{self, BudgetLine};
use super::figures::{self, Counts, Figures, PairRow, Window};
use super::methods;
use super::outcomes::{self, BandShift, MIN_PAIRS, OutcomeRow, ServiceUse, Value, WELLBY_SCORE};
use super::refresh;
use crate::error::{AppError, FieldError};
use crate::modules::measures::definition::{Definition, OBSERVATION_SCALES};
use crate::modules::measures::service::definition;
use crate::modules::practice::delivery::{self, Delivery};
use crate::modules::programmes::evidence::{self, Evidence};
use crate::modules::referrals::model::{ACTIONS, BARRIERS, BarrierStage, label};
use crate::state::AppState;

/// Who a report is for: the programme's evaluators (exact counts) or everyone else
/// (disclosure-controlled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Evaluator,
    Controlled,
}

fn published(p: Published) -> Option<u64> {
    match p {
        Published::Value(v) => Some(v),
        Published::Suppressed => None,
    }
}

impl Audience {
    /// A count as this audience may see it (`None`: suppressed).
    pub fn count(self, n: u64) -> Option<u64> {
        match self {
            Audience::Evaluator => Some(n),
            Audience::Controlled => published(disclose(n, DisclosurePolicy::default())),
        }
    }

    /// A two-way table as this audience may see it (secondary suppression when controlled).
    pub fn table(self, cells: &[Vec<u64>]) -> Vec<Vec<Option<u64>>> {
        match self {
            Audience::Evaluator => cells
                .iter()
                .map(|r| r.iter().map(|c| Some(*c)).collect())
                .collect(),
            Audience::Controlled => protect_table(cells, DisclosurePolicy::default())
                .cells
                .into_iter()
                .map(|r| r.into_iter().map(published).collect())
                .collect(),
        }
    }

    /// One column of counts that adds up to a known total (one-way table).
    pub fn column(self, cells: &[u64]) -> Vec<Option<u64>> {
        let rows: Vec<Vec<u64>> = cells.iter().map(|c| vec![*c]).collect();
        self.table(&rows).into_iter().map(|r| r[0]).collect()
    }
}

/// The programme a report is about.
#[derive(Debug, Clone, Serialize)]
pub struct ProgrammeInfo {
    pub id: String,
    pub name: String,
    pub lead_organisation: String,
}

/// The period a report covers (`None`: open).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Period", 2)?;
        st.serialize_field("from", &self.from.map(|d| d.to_string()))?;
        st.serialize_field("to", &self.to.map(|d| d.to_string()))?;
        st.end()
    }
}

impl Period {
    /// Parse the period typed in a query string or on the command line: dates as
    /// YYYY-MM-DD, `to` on or after `from`. Errors name the field and the value.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut one = |v: Option<&str>, field: &str, what: &str| {
            let v = v.map(str::trim).filter(|v| !v.is_empty())?;
            super::costs::date_field(v, field, what, &mut errors)
        };
        let period = Period {
            from: one(from, "from", "first day"),
            to: one(to, "to", "last day"),
        };
        if let (Some(f), Some(t)) = (period.from, period.to)
            && t < f
        {
            errors.push(FieldError::new(
                "to",
                format!("The last day ({t}) must be on or after the first day ({f})"),
            ));
        }
        if errors.is_empty() {
            Ok(period)
        } else {
            Err(errors)
        }
    }

    /// The instants it covers: from the first day's UK midnight to the midnight after the last.
    pub fn window(&self) -> Window {
        let midnight = time::Time::MIDNIGHT;
        Window {
            from: self.from.map(|d| crate::db::uk::instant(d, midnight)),
            to: self
                .to
                .and_then(|d| d.next_day())
                .map(|d| crate::db::uk::instant(d, midnight)),
        }
    }

    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    /// In words.
    pub fn describe(&self) -> String {
        match (self.from, self.to) {
            (None, None) => "since the programme began".into(),
            (Some(f), None) => format!("from {f}"),
            (None, Some(t)) => format!("up to {t}"),
            (Some(f), Some(t)) => format!("from {f} to {t}"),
        }
    }
}

/// Reach counts as shown.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ReachRow {
    pub referrals: Option<u64>,
    pub people: Option<u64>,
    pub attended: Option<u64>,
    pub retained: Option<u64>,
    pub sessions_attended: Option<u64>,
}

/// Reach by deprivation decile.
#[derive(Debug, Clone, Serialize)]
pub struct DecileRow {
    /// 0: not known or outside the city region.
    pub decile: i64,
    pub label: String,
    #[serde(flatten)]
    pub counts: ReachRow,
}

/// Reach by a recorded characteristic.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    pub breakdown: String,
    pub group: String,
    #[serde(flatten)]
    pub counts: ReachRow,
}

/// The reach section.
#[derive(Debug, Clone, Serialize)]
pub struct Reach {
    pub totals: ReachRow,
    /// Attended ÷ people referred.
    pub conversion: Option<f64>,
    /// Retained ÷ attended.
    pub retention: Option<f64>,
    pub retained_sessions: usize,
    pub edition: String,
    pub by_decile: Vec<DecileRow>,
    pub by_group: Vec<GroupRow>,
}

/// One barrier row.
#[derive(Debug, Clone, Serialize)]
pub struct BarrierRow {
    pub barrier: String,
    pub action: String,
    pub stage: String,
    pub count: Option<u64>,
}

/// Voices as shown.
#[derive(Debug, Clone, Serialize)]
pub struct Voices {
    pub voices: Option<u64>,
    /// (theme, month, voices).
    pub themes: Vec<ThemeRow>,
    pub quotes: Vec<evidence::Quote>,
    pub actions: Vec<ActionCount>,
    pub action_lines: Vec<evidence::ActionLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThemeRow {
    pub theme: String,
    pub month: String,
    pub voices: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionCount {
    pub status: String,
    pub actions: u64,
}

/// Costs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Costs {
    pub lines: Vec<BudgetLine>,
    /// The budget counted for the period (lines pro-rated by days inside it).
    pub total: Option<f64>,
    pub participants: Option<u64>,
    pub per_participant: Option<f64>,
    pub session_hours: f64,
    pub per_session_hour: Option<f64>,
    pub message: Option<String>,
}

/// One score's change among people whose latest result fell in one half-year.
#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    pub instrument: String,
    pub instrument_version: i64,
    pub score: String,
    pub label: String,
    pub period: String,
    pub n: Option<u64>,
    /// Shown only with at least the minimum pairs.
    pub mean_change: Option<f64>,
}

fn trend_rows(audience: Audience, f: &Figures, outcomes: &[OutcomeRow]) -> Vec<TrendRow> {
    f.trends
        .iter()
        .filter_map(|t| {
            let o = outcomes.iter().find(|o| {
                o.instrument == t.instrument
                    && o.instrument_version == t.version
                    && o.score == t.score
            })?;
            Some(TrendRow {
                instrument: t.instrument.clone(),
                instrument_version: t.version,
                score: t.score.clone(),
                label: o.label.clone(),
                period: t.period.clone(),
                n: audience.count(t.people),
                mean_change: (t.people >= MIN_PAIRS).then(|| t.sum_change / t.people as f64),
            })
        })
        .collect()
}

/// A method statement.
#[derive(Debug, Clone, Serialize)]
pub struct Method {
    pub title: String,
    pub text: String,
}

/// The disclosure rule in force.
#[derive(Debug, Clone, Serialize)]
pub struct Disclosure {
    pub suppress_up_to: u64,
    pub round_to: u64,
    pub min_pairs: u64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub programme: ProgrammeInfo,
    pub period: Period,
    pub generated_at: String,
    pub figures_as_of: String,
    pub audience: Audience,
    pub disclosure: Disclosure,
    pub summary: Vec<String>,
    pub reach: Reach,
    pub outcomes: Vec<OutcomeRow>,
    pub band_shifts: Vec<BandShift>,
    pub service_use: Vec<ServiceUse>,
    pub value: Value,
    pub practice: Delivery,
    pub voices: Voices,
    pub barriers: Vec<BarrierRow>,
    pub costs: Costs,
    pub comparison: Vec<Comparison>,
    /// This programme over time: mean change by half-year of the latest result.
    pub trends: Vec<TrendRow>,
    pub methods: Vec<Method>,
    pub messages: Vec<String>,
}

fn rfc3339(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The report from stored or live figures. For the package, [`build_live`] also returns
/// the row-level pairs the figures came from.
pub async fn build(
    state: &AppState,
    access: &ReportAccess,
    period: Period,
) -> Result<Report, AppError> {
    let figures = if period.is_open() {
        refresh::snapshot(state, &access.programme.id).await?
    } else {
        figures::gather(state, &access.programme.id, period.window(), None)
            .await?
            .0
    };
    compose(state, access, period, figures).await
}

/// The report gathered live, with the row-level pairs behind it (the package).
pub async fn build_live(
    state: &AppState,
    access: &ReportAccess,
    period: Period,
) -> Result<(Report, Vec<PairRow>), AppError> {
    let (figures, rows) =
        figures::gather(state, &access.programme.id, period.window(), None).await?;
    Ok((compose(state, access, period, figures).await?, rows))
}

fn reach_rows(audience: Audience, counts: &[Counts]) -> Vec<ReachRow> {
    let col = |f: fn(&Counts) -> u64| audience.column(&counts.iter().map(f).collect::<Vec<_>>());
    let (r, p, a, k, s) = (
        col(|c| c.referrals),
        col(|c| c.people),
        col(|c| c.attended),
        col(|c| c.retained),
        col(|c| c.sessions_attended),
    );
    (0..counts.len())
        .map(|i| ReachRow {
            referrals: r[i],
            people: p[i],
            attended: a[i],
            retained: k[i],
            sessions_attended: s[i],
        })
        .collect()
}

fn reach(audience: Audience, f: &Figures) -> Reach {
    let t = f.totals;
    let totals = ReachRow {
        referrals: audience.count(t.referrals),
        people: audience.count(t.people),
        attended: audience.count(t.attended),
        retained: audience.count(t.retained),
        sessions_attended: audience.count(t.sessions_attended),
    };
    let share = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    };
    let deciles = reach_rows(audience, &f.by_decile);
    let by_decile = deciles
        .into_iter()
        .enumerate()
        .map(|(i, counts)| DecileRow {
            decile: i as i64,
            label: match i {
                0 => "Not known or outside the city region".into(),
                1 => "1 (most deprived 10%)".into(),
                10 => "10 (least deprived 10%)".into(),
                d => d.to_string(),
            },
            counts,
        })
        .collect();
    let mut by_group = Vec::new();
    for b in ["age", "sex", "ethnicity"] {
        let rows: Vec<&(String, String, Counts)> =
            f.by_group.iter().filter(|(x, _, _)| x == b).collect();
        let counts: Vec<Counts> = rows.iter().map(|r| r.2).collect();
        for (r, c) in rows.iter().zip(reach_rows(audience, &counts)) {
            by_group.push(GroupRow {
                breakdown: b.to_string(),
                group: r.1.clone(),
                counts: c,
            });
        }
    }
    Reach {
        conversion: share(totals.attended, totals.people),
        retention: share(totals.retained, totals.attended),
        totals,
        retained_sessions: figures::RETAINED_SESSIONS,
        edition: figures::EDITION.label().to_string(),
        by_decile,
        by_group,
    }
}

fn barrier_rows(audience: Audience, f: &Figures) -> Vec<BarrierRow> {
    let counts: Vec<u64> = f.barriers.iter().map(|b| b.count).collect();
    let shown = audience.column(&counts);
    f.barriers
        .iter()
        .zip(shown)
        .map(|(b, count)| BarrierRow {
            barrier: label(BARRIERS, &b.barrier).to_string(),
            action: label(ACTIONS, &b.action).to_string(),
            stage: BarrierStage::from_code(&b.stage)
                .map_or_else(|| b.stage.clone(), |s| s.label().to_string()),
            count,
        })
        .collect()
}

fn voices(audience: Audience, e: Evidence) -> Voices {
    let mut themes = Vec::new();
    for t in &e.themes {
        let counts: Vec<u64> = t.months.iter().map(|m| m.1).collect();
        for ((month, _), voices) in t.months.iter().zip(audience.column(&counts)) {
            themes.push(ThemeRow {
                theme: t.theme.clone(),
                month: month.clone(),
                voices,
            });
        }
    }
    Voices {
        voices: audience.count(e.voices),
        themes,
        quotes: e.quotes,
        actions: e
            .actions
            .into_iter()
            .map(|(status, actions)| ActionCount { status, actions })
            .collect(),
        action_lines: e.action_lines,
    }
}

/// Days of `[a, b]` (inclusive dates) inside the period.
fn overlap_days(a: Date, b: Date, p: &Period) -> i64 {
    let lo = p.from.map_or(a, |f| f.max(a));
    let hi = p.to.map_or(b, |t| t.min(b));
    ((hi - lo).whole_days() + 1).max(0)
}

fn costs(lines: Vec<BudgetLine>, period: &Period, participants: Option<u64>, hours: f64) -> Costs {
    let mut c = Costs {
        session_hours: hours,
        participants,
        ..Costs::default()
    };
    if lines.is_empty() {
        c.message = Some(
            "No budget has been entered for this programme, so no cost per participant or per session hour can be given."
                .into(),
        );
        c.lines = lines;
        return c;
    }
    let mut total = 0.0;
    for l in &lines {
        let (Some(a), Some(b)) = (
            crate::dates::parse_date(&l.starts_on),
            crate::dates::parse_date(&l.ends_on),
        ) else {
            continue;
        };
        let days = ((b - a).whole_days() + 1).max(1);
        total += l.pounds * overlap_days(a, b, period) as f64 / days as f64;
    }
    c.total = Some(total);
    c.per_participant = participants.filter(|p| *p > 0).map(|p| total / p as f64);
    c.per_session_hour = (hours > 0.0).then(|| total / hours);
    if c.per_participant.is_none() {
        c.message = Some(
            "No one counted took part in the period, so there is no cost per participant.".into(),
        );
    }
    c.lines = lines;
    c
}

async fn compose(
    state: &AppState,
    access: &ReportAccess,
    period: Period,
    f: Figures,
) -> Result<Report, AppError> {
    let audience = access.audience;
    let window = period.window();
    let programme = &access.programme;
    let unit_costs = costs::unit_costs(state).await?;
    let mut outcomes_rows = Vec::new();
    let mut band_shifts = Vec::new();
    let mut service = Vec::new();
    let mut wellby_row: Option<(OutcomeRow, u64)> = None;
    let mut messages = Vec::new();
    let mut defs: Vec<(String, i64, Definition)> = Vec::new();
    for s in &f.scores {
        if OBSERVATION_SCALES.contains(&s.instrument.as_str()) {
            continue;
        }
        let def = match defs
            .iter()
            .find(|(i, v, _)| *i == s.instrument && *v == s.version)
        {
            Some((_, _, d)) => d.clone(),
            None => {
                let Ok(version) = u32::try_from(s.version) else {
                    continue;
                };
                let Some(d) = definition(&state.db.read, &s.instrument, Some(version)).await?
                else {
                    continue;
                };
                defs.push((s.instrument.clone(), s.version, d.clone()));
                d
            }
        };
        if s.instrument == "service_use" {
            let cost = unit_costs.iter().find(|c| c.item == s.score);
            service.extend(outcomes::service_use(&def, s, cost, audience));
            continue;
        }
        let Some(row) = outcomes::analyse(&def, s, audience) else {
            continue;
        };
        band_shifts.extend(outcomes::band_shifts(&def, s, audience));
        if (s.instrument.as_str(), s.score.as_str()) == WELLBY_SCORE
            && wellby_row.as_ref().is_none_or(|(_, n)| s.n() > *n)
        {
            wellby_row = Some((row.clone(), s.n()));
        }
        outcomes_rows.push(row);
    }
    for (instrument, versions) in &f.mixed_versions {
        let list: Vec<String> = versions.iter().map(|v| v.to_string()).collect();
        messages.push(format!(
            "{instrument} was collected on more than one version ({}) in this period. Each version is analysed on its own and never pooled, because its questions or scoring differ.",
            list.join(" and ")
        ));
    }
    let value = outcomes::value(
        wellby_row.as_ref().map(|r| &r.0),
        wellby_row.as_ref().map_or(0, |r| r.1),
    );
    let activities = figures::activities(state, &programme.id).await?;
    let practice = delivery::for_activities(state, &activities, window.from, window.to).await?;
    let evidence = evidence::for_report(state, &programme.id, window.from, window.to).await?;
    let reach = reach(audience, &f);
    let lines = costs::lines(state, &programme.id).await?;
    let costs = costs(lines, &period, reach.totals.attended, practice.hours());
    let comparison = compare::against(state, &programme.id, &outcomes_rows).await?;
    let trends = trend_rows(audience, &f, &outcomes_rows);
    if activities.is_empty() {
        messages.push("This programme has no activities linked to it yet, so no one can be counted: link its activities on the programme's page.".into());
    } else if f.totals.people == 0 {
        messages.push(if period.is_open() {
            "No one referred to this programme's activities has agreed to their information being used for evaluation, so there is nothing to report yet.".into()
        } else {
            format!(
                "No one who agreed to evaluation was referred to this programme's activities {}: try a wider period.",
                period.describe()
            )
        });
    }
    if outcomes_rows.iter().all(|r| r.mean_change.is_none()) && f.totals.people > 0 {
        messages.push(format!(
            "No measure has a first and a later result from at least {MIN_PAIRS} people {}, so no change is reported.",
            period.describe()
        ));
    }
    let mut report = Report {
        programme: ProgrammeInfo {
            id: programme.id.clone(),
            name: programme.name.clone(),
            lead_organisation: programme.lead_organisation.clone(),
        },
        period,
        generated_at: rfc3339(crate::db::now()),
        figures_as_of: rfc3339(f.computed_at),
        audience,
        disclosure: Disclosure {
            suppress_up_to: DisclosurePolicy::default().suppress_up_to,
            round_to: DisclosurePolicy::default().round_to,
            min_pairs: MIN_PAIRS,
        },
        summary: Vec::new(),
        reach,
        outcomes: outcomes_rows,
        band_shifts,
        service_use: service,
        value,
        practice,
        voices: voices(audience, evidence),
        barriers: barrier_rows(audience, &f),
        costs,
        comparison,
        trends,
        methods: Vec::new(),
        messages,
    };
    report.summary = methods::summary(&report);
    report.methods = methods::methods(&report);
    Ok(report)
}
