//! Descriptive statistics of one variable.

use crate::error::StatsError;
use crate::sum;

/// Summary of a list of values. `sd` is the sample standard deviation (n - 1), absent for a
/// single value; quartiles use linear interpolation between order statistics (the default of
/// numpy, R type 7 and most spreadsheets).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub sd: Option<f64>,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

/// Describe `values`. Refuses an empty list and non-finite values.
pub fn describe(values: &[f64]) -> Result<Summary, StatsError> {
    if values.is_empty() {
        return Err(StatsError::TooFew {
            needed: 1,
            found: 0,
        });
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(StatsError::NotFinite { index });
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let mean = sum::mean(values);
    let sd = (values.len() > 1).then(|| sum::variance(values, mean).sqrt());
    Ok(Summary {
        n: values.len(),
        mean,
        sd,
        min: sorted[0],
        q1: quantile_sorted(&sorted, 0.25),
        median: quantile_sorted(&sorted, 0.5),
        q3: quantile_sorted(&sorted, 0.75),
        max: sorted[sorted.len() - 1],
    })
}

/// The `q` quantile (0 ≤ q ≤ 1) of sorted, non-empty values, interpolating linearly.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_a_small_list() {
        let s = describe(&[3.0, 1.0, 4.0, 1.0, 5.0]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.n, 5);
        assert!((s.mean - 2.8).abs() < 1e-15);
        assert!((s.sd.unwrap_or(0.0) - 1.788_854_381_999_831_7).abs() < 1e-15);
        assert_eq!(
            (s.min, s.q1, s.median, s.q3, s.max),
            (1.0, 1.0, 3.0, 4.0, 5.0)
        );
    }

    #[test]
    fn refuses_empty_and_non_finite() {
        assert!(matches!(describe(&[]), Err(StatsError::TooFew { .. })));
        assert_eq!(
            describe(&[1.0, f64::NAN]),
            Err(StatsError::NotFinite { index: 1 })
        );
        let one = describe(&[2.0]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(one.sd, None);
    }
}
