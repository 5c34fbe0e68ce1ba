//! Proportions with Wilson score intervals.

use crate::dist::Z_975;
use crate::error::StatsError;

/// A share of a whole with its 95% Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportion {
    pub count: usize,
    pub n: usize,
    pub share: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
}

/// `count` out of `n`, with the Wilson score interval (which, unlike the textbook Wald
/// interval, behaves at 0%, 100% and for small n).
pub fn wilson(count: usize, n: usize) -> Result<Proportion, StatsError> {
    if n == 0 {
        return Err(StatsError::Empty);
    }
    let count = count.min(n);
    let nf = n as f64;
    let p = count as f64 / nf;
    let z2 = Z_975 * Z_975;
    let denominator = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denominator;
    let half = Z_975 / denominator * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    Ok(Proportion {
        count,
        n,
        share: p,
        ci95_low: (centre - half).max(0.0),
        ci95_high: (centre + half).min(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_published_wilson_intervals() {
        // 81 of 263 (Newcombe 1998, example): 0.2553 to 0.3662.
        let p = wilson(81, 263).unwrap_or_else(|e| panic!("{e}"));
        assert!((p.ci95_low - 0.255_3).abs() < 5e-5, "{p:?}");
        assert!((p.ci95_high - 0.366_2).abs() < 5e-5, "{p:?}");
        // 0 of 10: 0 to 0.2775.
        let p = wilson(0, 10).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.ci95_low, 0.0);
        assert!((p.ci95_high - 0.277_5).abs() < 5e-5, "{p:?}");
        assert_eq!(wilson(1, 0), Err(StatsError::Empty));
    }
}
