//! The report page's sections, in the order a reader needs them: summary first, then reach,
//! outcomes, service use, value, practice, voices, barriers, costs, comparison and methods.
//! Every chart is followed by a table of the same figures.

use maud::{Markup, html};

use super::charts;
use super::compare::Overview;
use super::costs::{BudgetInput, BudgetLine};
use super::methods::{count, group_digits, pounds};
use super::outcomes::UnitCost;
use super::report::{Audience, Report};
use crate::error::FieldError;
use crate::modules::programmes::access::Programme;
use crate::web::PageCtx;
use crate::web::forms::{Input, csrf, error_summary, select, table_wrap};

/// A text input.
pub fn field(name: &str, label: &str, value: &str, errors: &[FieldError]) -> Markup {
    Input::new(name, label, value).render(errors)
}

fn opt(v: Option<f64>, dp: usize) -> String {
    v.map_or_else(|| "–".into(), |v| group_digits(v, dp))
}

fn p_value(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(p) if p < 0.001 => "< 0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

fn share(v: Option<f64>, lo: Option<f64>, hi: Option<f64>) -> String {
    match (v, lo, hi) {
        (Some(v), Some(l), Some(h)) => {
            format!("{:.0}% ({:.0}% to {:.0}%)", v * 100.0, l * 100.0, h * 100.0)
        }
        _ => "–".into(),
    }
}

fn table(caption: &str, head: &[&str], rows: Vec<Vec<String>>) -> Markup {
    table_wrap(
        caption,
        html! {
            table."nhsuk-table ensemble-report-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    @for h in head { th."nhsuk-table__header" scope="col" { (h) } }
                } }
                tbody."nhsuk-table__body" {
                    @for r in &rows { tr."nhsuk-table__row" {
                        @for (i, c) in r.iter().enumerate() {
                            @if i == 0 { th."nhsuk-table__header" scope="row" { (c) } } @else { td."nhsuk-table__cell" { (c) } }
                        }
                    } }
                }
            }
        },
    )
}

/// Title, who the version is for, and downloads.
pub fn header(r: &Report, evaluator: bool, manager: bool, query: &str) -> Markup {
    let id = &r.programme.id;
    html! {
        span."nhsuk-caption-l" { (r.programme.lead_organisation) }
        h1."nhsuk-heading-l" { "Evaluation of " (r.programme.name) }
        p."nhsuk-body" { "Period: " (r.period.describe()) ". Figures as of " (r.figures_as_of) "." }
        div."nhsuk-inset-text" {
            @match r.audience {
                Audience::Evaluator => p { "This is the evaluators' version, with exact counts. Share the " a."ensemble-no-print" href=(format!("/programmes/{id}/evaluation?view=controlled")) { "disclosure-controlled version" } " with anyone outside the programme team." },
                Audience::Controlled => p { "Disclosure-controlled: counts of fewer than " (r.disclosure.suppress_up_to + 1) " are hidden and the rest rounded to the nearest " (r.disclosure.round_to) "."
                    @if evaluator { " " a."ensemble-no-print" href=(format!("/programmes/{id}/evaluation")) { "Back to the exact figures" } } },
            }
        }
        ul."nhsuk-list ensemble-no-print" {
            li { a href=(if query.is_empty() { format!("/programmes/{id}/evaluation/package.zip") } else { format!("/programmes/{id}/evaluation/package.zip?{query}") }) { "Download the open data package (CSV tables, datapackage.json, report.json and a spreadsheet)" } }
            @if manager { li { a href=(format!("/programmes/{id}/evaluation/budget")) { "Budget for costs per participant" } } }
            li { a href="/evaluation/compare" { "Compare with other programmes" } }
        }
    }
}

/// Everything below the header.
pub fn body(r: &Report) -> Markup {
    html! {
        @for m in &r.messages { div."nhsuk-warning-callout" { h2."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "Note" } } p { (m) } } }
        h2."nhsuk-heading-m" { "Summary" }
        ul."nhsuk-list nhsuk-list--bullet" { @for s in &r.summary { li { (s) } } }
        (reach(r))
        (outcomes(r))
        (service_use(r))
        (value(r))
        (practice(r))
        (voices(r))
        (barriers(r))
        (costs(r))
        (comparison(r))
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Methods" }
            @for m in &r.methods { h3."nhsuk-heading-s" { (m.title) } p."nhsuk-body" { (m.text) } }
        }
    }
}

fn reach(r: &Report) -> Markup {
    let t = &r.reach.totals;
    let deciles: Vec<(String, Option<f64>)> = r
        .reach
        .by_decile
        .iter()
        .map(|d| (d.label.clone(), d.counts.people.map(|v| v as f64)))
        .collect();
    let rows = |breakdown: Option<&str>| -> Vec<Vec<String>> {
        let fmt = |c: &super::report::ReachRow, first: String| {
            vec![
                first,
                count(c.referrals),
                count(c.people),
                count(c.attended),
                count(c.retained),
                count(c.sessions_attended),
            ]
        };
        match breakdown {
            None => r
                .reach
                .by_decile
                .iter()
                .map(|d| fmt(&d.counts, d.label.clone()))
                .collect(),
            Some(b) => r
                .reach
                .by_group
                .iter()
                .filter(|g| g.breakdown == b)
                .map(|g| fmt(&g.counts, g.group.clone()))
                .collect(),
        }
    };
    let head = [
        "Group",
        "Referrals",
        "People",
        "Came at least once",
        "Came 6+ times",
        "Sessions attended",
    ];
    html! {
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Reach" }
            @if t.people == Some(0) {
                p."nhsuk-body" { "No one who agreed to evaluation was referred " (r.period.describe()) ", so there is no reach to show." }
            } @else {
            dl."nhsuk-summary-list" {
                (row("Referrals", count(t.referrals)))
                (row("People referred", count(t.people)))
                (row("Came to at least one session", format!("{}{}", count(t.attended), r.reach.conversion.map(|c| format!(" ({:.0}% of people referred)", c * 100.0)).unwrap_or_default())))
                (row(&format!("Came to {} or more", r.reach.retained_sessions), format!("{}{}", count(t.retained), r.reach.retention.map(|c| format!(" ({:.0}% of those who came)", c * 100.0)).unwrap_or_default())))
            }
            (charts::bars("reach-deciles", &format!("People referred by national deprivation decile ({})", r.reach.edition),
                "Horizontal bars, one per decile from 1 (most deprived) to 10 (least deprived), and people whose area is not known; each bar is labelled with its count.", &deciles))
            (table("Reach by deprivation decile", &head, rows(None)))
            @for (b, title) in [("age", "Reach by age band"), ("sex", "Reach by sex"), ("ethnicity", "Reach by ethnic group")] {
                (table(title, &head, rows(Some(b))))
            }
            }
        }
    }
}

fn row(k: &str, v: String) -> Markup {
    html! { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { (k) } dd."nhsuk-summary-list__value" { (v) } } }
}

fn outcomes(r: &Report) -> Markup {
    let analysed: Vec<_> = r
        .outcomes
        .iter()
        .filter(|o| o.mean_change.is_some())
        .collect();
    let rows: Vec<Vec<String>> = r
        .outcomes
        .iter()
        .map(|o| {
            vec![
                format!("{} (version {})", o.label, o.instrument_version),
                count(o.n),
                opt(o.mean_first, 2),
                opt(o.mean_latest, 2),
                match (o.mean_change, o.ci_low, o.ci_high) {
                    (Some(m), Some(l), Some(h)) => format!(
                        "{} ({} to {})",
                        group_digits(m, 2),
                        group_digits(l, 2),
                        group_digits(h, 2)
                    ),
                    _ => o.message.clone().unwrap_or_else(|| "–".into()),
                },
                p_value(o.p_value),
                opt(o.cohen_dz, 2),
                match (o.wilcoxon_w, &o.wilcoxon_method) {
                    (Some(w), Some(m)) => format!(
                        "W = {} ({m}), p {}",
                        group_digits(w, 1),
                        p_value(o.wilcoxon_p)
                    ),
                    _ => "–".into(),
                },
            ]
        })
        .collect();
    let share_rows: Vec<_> = analysed.iter().filter(|o| o.threshold.is_some()).collect();
    html! {
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Outcomes" }
            p."nhsuk-body" { "Change from each person's first to their latest result, for people who agreed to evaluation. Positive changes are rises; whether a rise is better depends on the measure." }
            (table("Change in each measure", &["Measure", "People", "Mean first", "Mean latest", "Mean change (95% CI)", "t-test p", "Cohen's d_z", "Wilcoxon"], rows))
            @if !share_rows.is_empty() {
                (charts::shares("outcome-shares", "People improved, unchanged and worse by the meaningful-change threshold",
                    "One stacked bar per measure with a published threshold, split into the shares improved, unchanged and worse.",
                    &share_rows.iter().map(|o| (o.label.clone(), [o.improved_share, o.unchanged_share, o.worse_share])).collect::<Vec<_>>()))
                (table("Improved, unchanged and worse (Wilson 95% intervals)", &["Measure", "Threshold", "Improved", "Unchanged", "Worse", "Reliable improvement", "Reliable deterioration"],
                    share_rows.iter().map(|o| vec![
                        o.label.clone(), opt(o.threshold, 2),
                        format!("{} — {}", count(o.improved), share(o.improved_share, o.improved_ci_low, o.improved_ci_high)),
                        format!("{} — {}", count(o.unchanged), share(o.unchanged_share, o.unchanged_ci_low, o.unchanged_ci_high)),
                        format!("{} — {}", count(o.worse), share(o.worse_share, o.worse_ci_low, o.worse_ci_high)),
                        if o.reliability.is_some() { count(o.reliable_improved) } else { "No reliability published".into() },
                        if o.reliability.is_some() { count(o.reliable_worse) } else { "–".into() },
                    ]).collect()))
            }
            @for (label, bands, cells) in band_tables(r) {
                (table(&format!("{label}: band of first result (rows) by band of latest result (columns)"),
                    &std::iter::once("First band").chain(bands.iter().map(String::as_str)).collect::<Vec<_>>(),
                    bands.iter().zip(cells).map(|(b, row)| std::iter::once(b.clone()).chain(row.into_iter().map(count)).collect()).collect()))
            }
        }
    }
}

/// Band shifts as one cross-table per score: (label, bands, people[first][latest]).
type BandTable = (String, Vec<String>, Vec<Vec<Option<u64>>>);

fn band_tables(r: &Report) -> Vec<BandTable> {
    let mut out: Vec<(String, i64, String, BandTable)> = Vec::new();
    for b in &r.band_shifts {
        let key = (b.instrument.clone(), b.instrument_version, b.score.clone());
        let pos = out
            .iter()
            .position(|o| (o.0.clone(), o.1, o.2.clone()) == key);
        let i = match pos {
            Some(i) => i,
            None => {
                let label = r
                    .outcomes
                    .iter()
                    .find(|o| {
                        o.instrument == b.instrument
                            && o.instrument_version == b.instrument_version
                            && o.score == b.score
                    })
                    .map_or_else(
                        || format!("{} {}", b.instrument, b.score),
                        |o| format!("{} (version {})", o.label, o.instrument_version),
                    );
                out.push((key.0, key.1, key.2, (label, Vec::new(), Vec::new())));
                out.len() - 1
            }
        };
        let t = &mut out[i].3;
        if !t.1.contains(&b.first_band) {
            t.1.push(b.first_band.clone());
        }
        if !t.1.contains(&b.latest_band) {
            t.1.push(b.latest_band.clone());
        }
    }
    for o in &mut out {
        let n = o.3.1.len();
        o.3.2 = vec![vec![Some(0); n]; n];
    }
    for b in &r.band_shifts {
        if let Some(o) = out
            .iter_mut()
            .find(|o| o.0 == b.instrument && o.1 == b.instrument_version && o.2 == b.score)
        {
            let f = o.3.1.iter().position(|x| *x == b.first_band);
            let l = o.3.1.iter().position(|x| *x == b.latest_band);
            if let (Some(f), Some(l)) = (f, l) {
                o.3.2[f][l] = b.people;
            }
        }
    }
    out.into_iter().map(|o| o.3).collect()
}

fn service_use(r: &Report) -> Markup {
    html! {
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Use of health services (prevention)" }
            @if r.service_use.is_empty() {
                p."nhsuk-body" { "No one in this period answered the health-service use questions twice." }
            } @else {
                (table("Health-service use in the three months before each answer", &["Service", "People", "First total", "Latest total", "Mean change", "Wilcoxon", "Change in cost"],
                    r.service_use.iter().map(|s| vec![
                        s.label.clone(), count(s.n), opt(s.first_total, 0), opt(s.latest_total, 0), opt(s.mean_change, 2),
                        match (s.wilcoxon_w, &s.wilcoxon_method) { (Some(w), Some(m)) => format!("W = {} ({m}), p {}", group_digits(w, 1), p_value(s.wilcoxon_p)), _ => s.message.clone().unwrap_or_else(|| "–".into()) },
                        match (s.cost_change, &s.cost_source, s.cost_year) { (Some(c), Some(src), Some(y)) => format!("{} ({} each, {src}, {y} prices)", pounds(c), pounds(s.unit_cost.unwrap_or_default())), _ => "No unit cost entered".into() },
                    ]).collect()))
            }
        }
    }
}

fn value(r: &Report) -> Markup {
    let v = &r.value;
    html! {
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Value (WELLBYs)" }
            @if let Some(m) = &v.message { p."nhsuk-body" { (m) } }
            @if let (Some(w), Some(lo), Some(c), Some(hi)) = (v.wellbys, v.value_low, v.value_central, v.value_high) {
                p."nhsuk-body-l" { "Between " strong { (pounds(lo.min(hi))) } " and " strong { (pounds(hi.max(lo))) } " (central " (pounds(c)) "), in " (v.price_year) " prices, assuming the change lasts " (v.duration_years) " year." }
                p."nhsuk-body" { (group_digits(w, 2)) " WELLBYs"
                    @if let (Some(a), Some(b)) = (v.wellbys_ci_low, v.wellbys_ci_high) { " (95% interval " (group_digits(a, 2)) " to " (group_digits(b, 2)) ")" } "." }
                @if let (Some(a), Some(b)) = (v.value_widest_low, v.value_widest_high) {
                    p."nhsuk-body" { "Allowing for the uncertainty in the change as well as in the price, the value lies between " (pounds(a)) " and " (pounds(b)) "." }
                }
                h3."nhsuk-heading-s" { "The arithmetic" }
                ol."nhsuk-list nhsuk-list--number" { @for line in &v.working { li { (line) } } }
            }
        }
    }
}

fn practice(r: &Report) -> Markup {
    let p = &r.practice;
    html! {
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Practice" }
            @if p.months.is_empty() {
                p."nhsuk-body" { "No sessions of this programme's activities were recorded as held in this period." }
            } @else {
                p."nhsuk-body" { (p.sessions()) " sessions held, " (group_digits(p.hours(), 1)) " hours." }
                (charts::bars("practice-months", "Sessions held by month", "Horizontal bars, one per month, labelled with the number of sessions held.",
                    &p.months.iter().map(|m| (m.month.clone(), Some(m.sessions as f64))).collect::<Vec<_>>()))
                (table("Sessions by month", &["Month", "Sessions", "Hours", "Marked there"],
                    p.months.iter().map(|m| vec![m.month.clone(), m.sessions.to_string(), group_digits(m.session_hours, 1), m.attendances.to_string()]).collect()))
            }
            @if !p.observations.is_empty() {
                (table("Observation scales by month (mean score)", &["Month", "Scale", "Score", "Observations", "Mean"],
                    p.observations.iter().map(|o| vec![o.month.clone(), o.instrument.clone(), o.score.clone(), o.observations.to_string(), group_digits(o.mean, 2)]).collect()))
            }
        }
    }
}

fn voices(r: &Report) -> Markup {
    let v = &r.voices;
    html! {
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Voices" }
            p."nhsuk-body" { (count(v.voices)) " voices shared in this period." }
            @if !v.themes.is_empty() {
                (table("Voices by theme and month", &["Theme", "Month", "Voices"],
                    v.themes.iter().map(|t| vec![t.theme.clone(), t.month.clone(), count(t.voices)]).collect()))
            }
            @if !v.quotes.is_empty() {
                h3."nhsuk-heading-s" { "In their own words (shared publicly by their authors)" }
                @for q in &v.quotes { blockquote."ensemble-quote" { p { (q.text) } footer."nhsuk-body-s" { (q.kind) ", " (q.month) @if !q.themes.is_empty() { " — " (q.themes.join(", ")) } } } }
            }
            h3."nhsuk-heading-s" { "You said, we did" }
            (table("Actions by where they stand", &["Status", "Actions"], v.actions.iter().map(|a| vec![a.status.clone(), a.actions.to_string()]).collect()))
            @if !v.action_lines.is_empty() {
                ul."nhsuk-list nhsuk-list--bullet" { @for a in v.action_lines.iter().take(12) { li { (a.title) " — " (a.status) " (" (a.voices) " voices behind it, last changed " (a.updated_month) ")" } } }
            }
        }
    }
}

fn barriers(r: &Report) -> Markup {
    html! {
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Barriers and what was done" }
            @if r.barriers.is_empty() {
                p."nhsuk-body" { "No barriers were recorded on referrals to this programme in this period." }
            } @else {
                (table("Barriers to taking part", &["Barrier", "What was done", "When raised", "Times"],
                    r.barriers.iter().map(|b| vec![b.barrier.clone(), b.action.clone(), b.stage.clone(), count(b.count)]).collect()))
            }
        }
    }
}

fn costs(r: &Report) -> Markup {
    let c = &r.costs;
    html! {
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Costs" }
            @if let Some(m) = &c.message { p."nhsuk-body" { (m) } }
            @if !c.lines.is_empty() {
                (table("Budget lines", &["What it paid for", "Amount", "From", "To", "Funded by"],
                    c.lines.iter().map(|l| vec![l.description.clone(), pounds(l.pounds), l.starts_on.clone(), l.ends_on.clone(), l.funder.clone().unwrap_or_else(|| "Not recorded".into())]).collect()))
                dl."nhsuk-summary-list" {
                    (row("Budget counted for the period", c.total.map(pounds).unwrap_or_else(|| "–".into())))
                    (row("People who came at least once", count(c.participants)))
                    (row("Cost per participant", c.per_participant.map(pounds).unwrap_or_else(|| "–".into())))
                    (row("Session hours", group_digits(c.session_hours, 1)))
                    (row("Cost per session hour", c.per_session_hour.map(pounds).unwrap_or_else(|| "–".into())))
                }
            }
        }
    }
}

fn comparison(r: &Report) -> Markup {
    html! {
        section."ensemble-report-section" {
            h2."nhsuk-heading-m" { "Compared with other programmes" }
            @if r.trends.iter().any(|t| t.mean_change.is_some()) {
                (table("This programme over time: mean change by half-year of the latest result", &["Measure", "Half-year", "People", "Mean change"],
                    r.trends.iter().map(|t| vec![format!("{} (version {})", t.label, t.instrument_version), t.period.clone(), count(t.n), opt(t.mean_change, 2)]).collect()))
            }
            @if r.comparison.is_empty() { p."nhsuk-body" { "There is nothing to compare until a measure has results from at least " (r.disclosure.min_pairs) " people." } }
            @for (i, c) in r.comparison.iter().enumerate() {
                h3."nhsuk-heading-s" { (c.label) " (version " (c.instrument_version) ")" }
                @if let Some(m) = &c.message { p."nhsuk-body" { (m) } } @else {
                    (charts::strip(&format!("compare-{i}"), &format!("Mean change in {}: this programme and {} others", c.label, c.others),
                        "Each open circle is another programme's mean change; the filled diamond is this programme's.", &c.distribution, c.mean_change))
                    (table(&format!("{}: mean change compared", c.label), &["Programme", "Mean change"],
                        std::iter::once(vec!["This programme".to_string(), group_digits(c.mean_change, 2)])
                            .chain([("Lowest of the others", c.min), ("Lower quartile", c.q1), ("Median", c.median), ("Upper quartile", c.q3), ("Highest", c.max)]
                                .into_iter().map(|(k, v)| vec![k.to_string(), opt(v, 2)]))
                            .collect()))
                    p."nhsuk-body" { "A better mean change than " (c.better_than.unwrap_or(0)) " of the " (c.others) " other programmes." }
                }
            }
        }
    }
}

/// The budget page.
pub fn budget(
    p: &Programme,
    lines: &[BudgetLine],
    funders: &[(String, String)],
    form: &BudgetInput,
    errors: &[FieldError],
    ctx: &PageCtx,
) -> Markup {
    html! {
        @if !errors.is_empty() { (error_summary(errors)) }
        span."nhsuk-caption-l" { (p.name) }
        h1."nhsuk-heading-l" { "Budget" }
        p."nhsuk-body" { "What the programme cost, line by line. The evaluation report divides the budget for its period by the people who came and the session hours held. Naming the organisation that paid lets its commissioners open the programme's disclosure-controlled report." }
        @if lines.is_empty() { p."nhsuk-body" { "No budget lines yet." } } @else {
            (table("Budget lines", &["What it paid for", "Amount", "From", "To", "Funded by"],
                lines.iter().map(|l| vec![l.description.clone(), pounds(l.pounds), l.starts_on.clone(), l.ends_on.clone(), l.funder.clone().unwrap_or_else(|| "Not recorded".into())]).collect()))
            @for l in lines {
                form method="post" action=(format!("/programmes/{}/evaluation/budget/{}/remove", p.id, l.id)) {
                    (csrf(ctx))
                    button."nhsuk-button nhsuk-button--secondary ensemble-small-button" type="submit" { "Remove “" (l.description) "”" }
                }
            }
        }
        h2."nhsuk-heading-m" { "Add a budget line" }
        form method="post" action=(format!("/programmes/{}/evaluation/budget", p.id)) novalidate {
            (csrf(ctx))
            (field("description", "What the money paid for", &form.description, errors))
            (field("amount", "Amount in pounds (for example 12500 or 12,500.50)", &form.amount, errors))
            (field("starts_on", "First day it covers (YYYY-MM-DD)", &form.starts_on, errors))
            (field("ends_on", "Last day it covers (YYYY-MM-DD)", &form.ends_on, errors))
            (select("funder", "Organisation that paid (leave unchosen if not known)", funders, &form.funder, errors))
            button."nhsuk-button" type="submit" { "Add budget line" }
        }
        p."nhsuk-body" { a href=(format!("/programmes/{}/evaluation", p.id)) { "Back to the evaluation report" } }
    }
}

/// The unit costs list.
pub fn unit_costs(list: &[UnitCost], _ctx: &PageCtx) -> Markup {
    html! {
        h1."nhsuk-heading-l" { "Unit costs of health-service use" }
        p."nhsuk-body" { "Reports put a cost on changes in health-service use only where a unit cost is entered here, with where it comes from and its price year." }
        @if list.is_empty() { p."nhsuk-body" { "No unit costs entered: reports show service use as counts only." } } @else {
            (table("Unit costs", &["Item", "Cost of one", "Source", "Price year"],
                list.iter().map(|c| vec![super::costs::ITEMS.iter().find(|i| i.0 == c.item).map_or(c.item.clone(), |i| i.1.to_string()), pounds(c.pounds), c.source.clone(), c.price_year.to_string()]).collect()))
        }
    }
}

/// The comparison page.
pub fn compare(v: &Overview) -> Markup {
    html! {
        h1."nhsuk-heading-l" { "Compare programmes" }
        p."nhsuk-body" { "Mean change of each programme with at least " (super::outcomes::MIN_PAIRS) " people, only between programmes that use the same measure and version. Other programmes are not named; yours are." }
        @if v.measures.is_empty() { p."nhsuk-body" { "No measure has results from enough programmes yet." } }
        @for (i, m) in v.measures.iter().enumerate() {
            h2."nhsuk-heading-m" { (m.label) " (version " (m.version) ")" }
            @if m.all.len() < super::compare::MIN_OTHERS + 1 {
                p."nhsuk-body" { "Fewer than " (super::compare::MIN_OTHERS + 1) " programmes report this measure, so the distribution is not shown." }
            } @else {
                @let all: Vec<f64> = m.all.clone();
                @if let Some((name, mean)) = m.yours.first() {
                    (charts::strip(&format!("cmp-{i}"), &format!("{}: {name} among {} programmes", m.label, all.len()), "Each open circle is a programme's mean change; the filled diamond is the first of your programmes.", &all, *mean))
                } @else {
                    (charts::bars(&format!("cmp-{i}"), &format!("{}: quartiles of {} programmes' mean change", m.label, all.len()), "Bars for the lowest, lower quartile, median, upper quartile and highest mean change.", &m.quartiles.iter().map(|(k, v)| (k.clone(), Some(*v))).collect::<Vec<_>>()))
                }
                (table(&format!("{}: distribution of mean change", m.label), &["Statistic", "Mean change"], m.quartiles.iter().map(|(k, v)| vec![k.clone(), group_digits(*v, 2)]).collect()))
                @if !m.yours.is_empty() {
                    (table(&format!("{}: your programmes", m.label), &["Programme", "Mean change"], m.yours.iter().map(|(n, v)| vec![n.clone(), group_digits(*v, 2)]).collect()))
                }
            }
        }
    }
}
