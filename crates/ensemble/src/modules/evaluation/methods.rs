//! The report's words: a plain-English summary first, and a methods section stating every
//! rule used (inclusion, pairing, missing items, disclosure control, tests, value), so a
//! reader can reproduce each figure from the package.

use super::compare::MIN_OTHERS;
use super::figures::RETAINED_SESSIONS;
use super::outcomes::{MIN_PAIRS, WELLBY_YEARS};
use super::report::{Audience, Method, Report};

/// A count in words: the number, or "fewer than 8" when suppressed.
pub fn count(c: Option<u64>) -> String {
    c.map_or_else(
        || format!("fewer than {}", MIN_PAIRS),
        |c| group_digits(c as f64, 0),
    )
}

/// A number with thousands separators and `dp` decimal places.
pub fn group_digits(v: f64, dp: usize) -> String {
    let s = format!("{:.*}", dp, v.abs());
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    if v < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("−{out}")
    } else {
        out
    }
}

/// Pounds in words, whole pounds.
pub fn pounds(v: f64) -> String {
    let s = group_digits(v, 0);
    match s.strip_prefix('−') {
        Some(rest) => format!("−£{rest}"),
        None => format!("£{s}"),
    }
}

fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// The summary sentences.
pub fn summary(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let t = &r.reach.totals;
    if t.people == Some(0) {
        out.push(format!(
            "No one who agreed to evaluation was referred to {} {}.",
            r.programme.name,
            r.period.describe()
        ));
        return out;
    }
    let mut reach = format!(
        "{} people were referred to {} ({} referrals) {}, counting only people who agreed to their information being used for evaluation.",
        count(t.people),
        r.programme.name,
        count(t.referrals),
        r.period.describe()
    );
    if let Some(c) = r.reach.conversion {
        reach.push_str(&format!(
            " {} of them ({}) came to at least one session",
            count(t.attended),
            percent(c)
        ));
        match r.reach.retention {
            Some(k) => reach.push_str(&format!(
                ", and {} ({} of those who came) came to {RETAINED_SESSIONS} or more.",
                count(t.retained),
                percent(k)
            )),
            None => reach.push('.'),
        }
    }
    out.push(reach);
    for o in &r.outcomes {
        let (Some(m), Some(lo), Some(hi)) = (o.mean_change, o.ci_low, o.ci_high) else {
            continue;
        };
        let better = (m > 0.0) == (o.direction == "higher_is_better");
        let way = if m == 0.0 {
            "did not change on average".to_string()
        } else {
            format!(
                "{} by {:.2} points on average ({})",
                if m > 0.0 { "rose" } else { "fell" },
                m.abs(),
                if better { "better" } else { "worse" }
            )
        };
        let mut s = format!(
            "{} {way} among {} people with a first and a later result (95% confidence interval {:.2} to {:.2}).",
            o.label,
            count(o.n),
            lo,
            hi
        );
        if let Some(share) = o.improved_share {
            s.push_str(&format!(
                " {} improved by at least the meaningful change of {} points.",
                percent(share),
                o.threshold.unwrap_or_default()
            ));
        }
        out.push(s);
    }
    if let (Some(lo), Some(hi)) = (r.value.value_low, r.value.value_high) {
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(format!(
            "The change in life satisfaction is worth between {} and {} ({} prices, HM Treasury Green Book wellbeing values), assuming it lasts {} year.",
            pounds(lo),
            pounds(hi),
            r.value.price_year,
            WELLBY_YEARS
        ));
    }
    if let Some(total) = r.costs.total {
        let mut s = format!("The budget entered for the period is {}", pounds(total));
        if let Some(p) = r.costs.per_participant {
            s.push_str(&format!(": {} per participant", pounds(p)));
        }
        if let Some(h) = r.costs.per_session_hour {
            s.push_str(&format!(" and {} per session hour", pounds(h)));
        }
        s.push('.');
        out.push(s);
    }
    out
}

fn m(title: &str, text: String) -> Method {
    Method {
        title: title.into(),
        text,
    }
}

/// The methods section.
pub fn methods(r: &Report) -> Vec<Method> {
    let d = &r.disclosure;
    let mut out = vec![
        m(
            "Who is included",
            format!(
                "People referred to one of the programme's activities {} who, when the figures were made ({}), had agreed to their information being used for evaluation. Anyone who has withdrawn that consent is left out of every figure and every table, including earlier periods. A referral counts when it was received in the period.",
                r.period.describe(),
                r.figures_as_of
            ),
        ),
        m(
            "Reach",
            format!(
                "Referrals and people referred; attended means at least one session marked present in the period; retained means {RETAINED_SESSIONS} or more sessions marked present. Deprivation deciles are national deciles of the {} Index of Multiple Deprivation for the small area (LSOA) of the person's postcode in the Liverpool City Region; people elsewhere or without a postcode are shown as not known. Age bands are from the year of birth; sex and ethnic group as recorded.",
                r.reach.edition
            ),
        ),
        m(
            "Pairing results",
            "For each person and each score of each instrument version, the first result is the earliest completed in the period and the latest the most recent (same-moment results are ordered by their identifier). People with only one result of a version are not paired. Versions of an instrument are never pooled. Change is latest minus first.".into(),
        ),
        m(
            "Missing items",
            "Scores are made by each instrument's own published rule when the measure is completed; a measure with more missing answers than its rule allows has no score and is not counted. Nothing is imputed.".into(),
        ),
        m(
            "Tests",
            format!(
                "For each score with at least {} pairs: the paired t-test (two-sided) with the 95% confidence interval of the mean change; Cohen's d_z (mean change ÷ standard deviation of the changes); the Wilcoxon signed-rank test as scipy.stats.wilcoxon computes it by default (zero changes dropped, average ranks for ties, exact or permutation p-values for small samples, the normal approximation otherwise). Shares improved, unchanged and worse use the instrument's published meaningful-change threshold in its better direction, with Wilson 95% intervals. The reliable change index (change ÷ (SD of first results × √2 × √(1 − reliability))) is reported where the instrument states a reliability; beyond ±1.96 is reliable change.",
                d.min_pairs
            ),
        ),
        m(
            "Health-service use",
            "Self-reported counts over the last three months (GP appointments, A&E attendances, crisis contacts, nights in hospital), first and latest, with the Wilcoxon signed-rank test on the changes. Costs are shown only where an administrator entered a unit cost with its source and price year; the cost change is the change in total count times the unit cost.".into(),
        ),
        m(
            "Value",
            format!(
                "WELLBYs are the number of people with a first and later ONS life-satisfaction answer × their mean change (0–10 scale) × the years the change is assumed to last ({WELLBY_YEARS}, with no discounting). One WELLBY is valued at £10,000, £13,000 (central) and £16,000 in {} prices (HM Treasury Green Book supplementary guidance on wellbeing, 2021). The widest range combines the 95% interval of the change with the low and high values. This is not a causal estimate: there is no comparison group.",
                r.value.price_year
            ),
        ),
        m(
            "Costs",
            "Cost per participant is the budget entered for the period divided by the people who attended at least once; cost per session hour divides it by the hours of sessions held. A budget line that runs beyond the period is counted in proportion to its days inside it. The disclosure-controlled version divides by the published (rounded) count of participants, so an exact count cannot be worked back from the cost.".into(),
        ),
        m(
            "Comparison",
            format!(
                "A programme is compared only with programmes that used the same instrument and version, each with at least {} pairs, and only when at least {MIN_OTHERS} other programmes qualify. Their mean changes are shown as a distribution, never by name. Over time, the programme's own mean change is shown by the half-year (UK) in which each person's latest result fell, for half-years with at least {} pairs.",
                d.min_pairs, d.min_pairs
            ),
        ),
    ];
    out.push(m(
        "Disclosure control",
        match r.audience {
            Audience::Evaluator => format!(
                "This is the evaluators' version, with exact counts. Anyone else sees counts from 1 to {} suppressed and the rest rounded to the nearest {}, with secondary suppression in every table so no hidden count can be worked out from totals. Statistics need at least {} pairs in every version.",
                d.suppress_up_to, d.round_to, d.min_pairs
            ),
            Audience::Controlled => format!(
                "Counts from 1 to {} are suppressed (shown as \"fewer than {}\") and the rest rounded to the nearest {}; in every table further cells are suppressed where a hidden count could otherwise be worked out from the totals. Statistics are computed on exact figures and shown only with at least {} pairs.",
                d.suppress_up_to,
                d.suppress_up_to + 1,
                d.round_to,
                d.min_pairs
            ),
        },
    ));
    out
}
