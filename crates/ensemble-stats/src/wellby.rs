//! Wellbeing-adjusted life years (WELLBYs) and their value, following HM Treasury's Green
//! Book supplementary guidance *Wellbeing Guidance for Appraisal* (2021): one WELLBY is a
//! change of one point of life satisfaction (the ONS question, 0–10) for one person for one
//! year, valued at £13,000 in 2019 prices, with a range of £10,000 to £16,000.
//!
//! Every result carries the arithmetic written out, the price year and the duration
//! assumed, and is a range, never one bare number: the price range at the mean change, and
//! the widest range combining the change's 95% confidence interval with the price range.

use crate::error::StatsError;

/// The Green Book's values of one WELLBY, in pounds at [`PRICE_YEAR`] prices.
pub const PRICE_LOW: f64 = 10_000.0;
/// Central value of one WELLBY.
pub const PRICE_CENTRAL: f64 = 13_000.0;
/// High value of one WELLBY.
pub const PRICE_HIGH: f64 = 16_000.0;
/// The price year of the values.
pub const PRICE_YEAR: u16 = 2019;

/// What the valuation starts from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WellbyInput {
    /// People with a first and a later life-satisfaction answer.
    pub people: usize,
    /// Their mean change in life satisfaction (points on the 0–10 scale; later − first).
    pub mean_change: f64,
    /// The 95% confidence interval of the mean change, if known.
    pub ci95: Option<(f64, f64)>,
    /// How long the change is assumed to last, in years (stated, never hidden).
    pub duration_years: f64,
}

/// WELLBYs and their value as ranges, with the working.
#[derive(Debug, Clone, PartialEq)]
pub struct WellbyValue {
    /// people × mean change × years.
    pub wellbys: f64,
    /// WELLBYs at the ends of the change's 95% interval (when given).
    pub wellbys_ci95: Option<(f64, f64)>,
    /// Value at the mean change: (low, central, high) prices.
    pub value: (f64, f64, f64),
    /// The widest range: the interval's low end at the low price to its high end at the high
    /// price (for a negative change, the other way about), when the interval is given.
    pub value_widest: Option<(f64, f64)>,
    pub price_year: u16,
    pub duration_years: f64,
    /// The arithmetic, one step per line, in words.
    pub working: Vec<String>,
}

fn pounds(v: f64) -> String {
    let sign = if v < 0.0 { "−" } else { "" };
    let whole = v.abs().round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}£{out}")
}

fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.replace('-', "−")
}

/// Value a change in life satisfaction in WELLBYs and pounds.
pub fn value(input: WellbyInput) -> Result<WellbyValue, StatsError> {
    let WellbyInput {
        people,
        mean_change,
        ci95,
        duration_years,
    } = input;
    if people == 0 {
        return Err(StatsError::Empty);
    }
    let finite = [mean_change, duration_years]
        .into_iter()
        .chain(ci95.into_iter().flat_map(|(a, b)| [a, b]));
    if let Some(index) = finite
        .enumerate()
        .find(|(_, v)| !v.is_finite())
        .map(|(i, _)| i)
    {
        return Err(StatsError::NotFinite { index });
    }
    if duration_years <= 0.0 {
        return Err(StatsError::NotPositive {
            what: "the duration assumed",
        });
    }
    let scale = people as f64 * duration_years;
    let wellbys = mean_change * scale;
    let at = |price: f64| wellbys * price;
    let value = (at(PRICE_LOW), at(PRICE_CENTRAL), at(PRICE_HIGH));
    let wellbys_ci95 = ci95.map(|(lo, hi)| (lo * scale, hi * scale));
    let value_widest = wellbys_ci95.map(|(lo, hi)| {
        let ends = [
            lo * PRICE_LOW,
            lo * PRICE_HIGH,
            hi * PRICE_LOW,
            hi * PRICE_HIGH,
        ];
        let min = ends.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ends.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (min, max)
    });
    let mut working = vec![
        format!(
            "{people} people × {} points of life satisfaction × {} year{} = {} WELLBYs.",
            number(mean_change),
            number(duration_years),
            if duration_years == 1.0 { "" } else { "s" },
            number(wellbys)
        ),
        format!(
            "{} WELLBYs × {} (the Green Book's central value, {PRICE_YEAR} prices) = {}.",
            number(wellbys),
            pounds(PRICE_CENTRAL),
            pounds(value.1)
        ),
        format!(
            "At the Green Book's range of {} to {} per WELLBY: {} to {}.",
            pounds(PRICE_LOW),
            pounds(PRICE_HIGH),
            pounds(value.0.min(value.2)),
            pounds(value.0.max(value.2))
        ),
    ];
    if let (Some((lo, hi)), Some((wlo, whi)), Some((vlo, vhi))) = (ci95, wellbys_ci95, value_widest)
    {
        working.push(format!(
            "With the change's 95% confidence interval ({} to {} points): {} to {} WELLBYs, so {} to {} across the price range.",
            number(lo),
            number(hi),
            number(wlo),
            number(whi),
            pounds(vlo),
            pounds(vhi)
        ));
    }
    Ok(WellbyValue {
        wellbys,
        wellbys_ci95,
        value,
        value_widest,
        price_year: PRICE_YEAR,
        duration_years,
        working,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example: 40 people whose life satisfaction rose by 0.5 points on average
    /// (95% CI 0.2 to 0.8), the change assumed to last one year.
    /// WELLBYs = 40 × 0.5 × 1 = 20; value = 20 × £13,000 = £260,000 (2019 prices), range
    /// 20 × £10,000 = £200,000 to 20 × £16,000 = £320,000; with the interval, 40 × 0.2 = 8 to
    /// 40 × 0.8 = 32 WELLBYs, so 8 × £10,000 = £80,000 to 32 × £16,000 = £512,000.
    #[test]
    fn worked_example() {
        let v = value(WellbyInput {
            people: 40,
            mean_change: 0.5,
            ci95: Some((0.2, 0.8)),
            duration_years: 1.0,
        })
        .unwrap();
        assert_eq!(v.wellbys, 20.0);
        assert_eq!(v.value, (200_000.0, 260_000.0, 320_000.0));
        let (wlo, whi) = v.wellbys_ci95.unwrap();
        assert!((wlo - 8.0).abs() < 1e-9 && (whi - 32.0).abs() < 1e-9);
        let (lo, hi) = v.value_widest.unwrap();
        assert!((lo - 80_000.0).abs() < 1e-6 && (hi - 512_000.0).abs() < 1e-6);
        assert_eq!(v.price_year, 2019);
        assert_eq!(
            v.working[0],
            "40 people × 0.5 points of life satisfaction × 1 year = 20 WELLBYs."
        );
        assert_eq!(
            v.working[1],
            "20 WELLBYs × £13,000 (the Green Book's central value, 2019 prices) = £260,000."
        );
        assert_eq!(
            v.working[2],
            "At the Green Book's range of £10,000 to £16,000 per WELLBY: £200,000 to £320,000."
        );
        assert!(v.working[3].contains("8 to 32 WELLBYs, so £80,000 to £512,000"));
    }

    #[test]
    fn a_fall_and_a_longer_duration_are_valued_the_same_way() {
        let v = value(WellbyInput {
            people: 10,
            mean_change: -0.25,
            ci95: Some((-0.5, 0.1)),
            duration_years: 2.0,
        })
        .unwrap();
        assert_eq!(v.wellbys, -5.0);
        assert_eq!(v.value, (-50_000.0, -65_000.0, -80_000.0));
        // Interval: −10 to 2 WELLBYs; widest: −10 × £16,000 to 2 × £16,000.
        assert_eq!(v.value_widest, Some((-160_000.0, 32_000.0)));
        assert!(v.working[0].contains("× 2 years = −5 WELLBYs"));
        assert!(v.working[2].contains("−£80,000 to −£50,000"));
    }

    #[test]
    fn nothing_to_value_is_an_error_not_a_number() {
        let base = WellbyInput {
            people: 5,
            mean_change: 0.1,
            ci95: None,
            duration_years: 1.0,
        };
        assert_eq!(
            value(WellbyInput { people: 0, ..base }),
            Err(StatsError::Empty)
        );
        assert!(
            value(WellbyInput {
                mean_change: f64::NAN,
                ..base
            })
            .is_err()
        );
        assert_eq!(
            value(WellbyInput {
                duration_years: 0.0,
                ..base
            })
            .unwrap_err()
            .to_string(),
            "the duration assumed must be more than zero"
        );
        let v = value(base).unwrap();
        assert_eq!(v.value_widest, None);
        assert_eq!(v.working.len(), 3);
        assert_eq!(pounds(1_234_567.4), "£1,234,567");
        assert_eq!(pounds(999.0), "£999");
    }
}
