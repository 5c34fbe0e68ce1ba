//! Representation ratios: how far a group's share of the people reached (referrals,
//! participants) differs from its share of the population served.
//!
//! `ratio = (count / n) / population_share`. The population share comes from the census
//! denominators of the whole area and is treated as **fixed** (it is not a sample), so the
//! 95% interval is the Wilson score interval of the share `count / n` divided by the
//! population share. A ratio of 1 means the group is reached in proportion to its size;
//! an interval wholly below 1 means it is under-represented.

use crate::error::StatsError;
use crate::proportion::wilson;

/// A representation ratio with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Representation {
    /// The group's share of the people counted (0–1).
    pub share: f64,
    /// The group's share of the population (0–1, fixed).
    pub population_share: f64,
    /// `share / population_share`.
    pub ratio: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
}

/// The representation ratio of `count` of `n` against a fixed `population_share`, with the
/// Wilson interval of the share divided by the population share. `n` must be positive and
/// `population_share` in (0, 1].
pub fn representation(
    count: usize,
    n: usize,
    population_share: f64,
) -> Result<Representation, StatsError> {
    if !(population_share > 0.0 && population_share <= 1.0) {
        return Err(StatsError::Empty);
    }
    let p = wilson(count, n)?;
    Ok(Representation {
        share: p.share,
        population_share,
        ratio: p.share / population_share,
        ci95_low: p.ci95_low / population_share,
        ci95_high: p.ci95_high / population_share,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_and_interval_match_hand_computed_values() {
        // 81 of 263 referrals from a decile holding 20% of residents: share 0.30798,
        // ratio 1.5399; Wilson 0.2553–0.3662 (Newcombe 1998) divided by 0.2 = 1.2766–1.8310.
        let r = representation(81, 263, 0.2).unwrap_or_else(|e| panic!("{e}"));
        assert!((r.ratio - 1.539_92).abs() < 1e-4, "{r:?}");
        assert!((r.ci95_low - 1.276_5).abs() < 5e-4, "{r:?}");
        assert!((r.ci95_high - 1.831_0).abs() < 5e-4, "{r:?}");
        // None reached: ratio 0, upper bound 0.2775 / 0.1.
        let r = representation(0, 10, 0.1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.ratio, 0.0);
        assert_eq!(r.ci95_low, 0.0);
        assert!((r.ci95_high - 2.775).abs() < 5e-4, "{r:?}");
    }

    #[test]
    fn refuses_empty_denominators() {
        assert!(representation(1, 0, 0.5).is_err());
        assert!(representation(1, 5, 0.0).is_err());
        assert!(representation(1, 5, f64::NAN).is_err());
    }
}
