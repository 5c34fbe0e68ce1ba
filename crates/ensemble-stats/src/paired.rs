//! Paired before/after analysis: the paired t-test with its 95% confidence interval and
//! Cohen's d_z, and the Wilcoxon signed-rank test — the numbers an evaluator reports for a
//! programme's wellbeing change. Matches `scipy.stats.ttest_rel(after, before)` and
//! `scipy.stats.wilcoxon(after, before)`.

use crate::dist::{t_critical, t_two_sided_p};
use crate::error::StatsError;
use crate::sum;
use crate::wilcoxon::{self, Wilcoxon};

/// Everything the paired analysis reports. Change is after − before.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    pub n: usize,
    pub mean_before: f64,
    pub mean_after: f64,
    pub mean_change: f64,
    pub sd_change: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
    pub t: f64,
    pub df: f64,
    pub p_value: f64,
    pub cohen_dz: f64,
    pub wilcoxon: Wilcoxon,
}

/// Analyse complete pairs. Refuses fewer than two pairs, non-finite values, and changes
/// without variation (for which t, the interval and d_z are undefined).
pub fn paired(before: &[f64], after: &[f64]) -> Result<Paired, StatsError> {
    if before.len() != after.len() {
        return Err(StatsError::LengthMismatch {
            before: before.len(),
            after: after.len(),
        });
    }
    let n = before.len();
    if n < 2 {
        return Err(StatsError::TooFew {
            needed: 2,
            found: n,
        });
    }
    let mut changes = Vec::with_capacity(n);
    let (mut sum_before, mut sum_after) = (sum::Sum::default(), sum::Sum::default());
    for (index, (&b, &a)) in before.iter().zip(after).enumerate() {
        if !b.is_finite() || !a.is_finite() {
            return Err(StatsError::NotFinite { index });
        }
        sum_before.add(b);
        sum_after.add(a);
        changes.push(a - b);
    }
    let nf = n as f64;
    // Identical changes (compared exactly, so that 0.1 three times is not mistaken for a tiny
    // spread by rounding) leave nothing to test.
    if changes.iter().all(|c| c.to_bits() == changes[0].to_bits()) {
        return Err(StatsError::ZeroVariance { change: changes[0] });
    }
    let mean_change = sum::mean(&changes);
    let sd_change = sum::variance(&changes, mean_change).sqrt();
    if sd_change == 0.0 || !sd_change.is_finite() {
        return Err(StatsError::ZeroVariance { change: changes[0] });
    }
    let se = sd_change / nf.sqrt();
    let df = nf - 1.0;
    let t = mean_change / se;
    let half_width = t_critical(0.05, df) * se;
    let wilcoxon = wilcoxon::signed_rank(&changes)?;
    Ok(Paired {
        n,
        mean_before: sum_before.value() / nf,
        mean_after: sum_after.value() / nf,
        mean_change,
        sd_change,
        ci95_low: mean_change - half_width,
        ci95_high: mean_change + half_width,
        t,
        df,
        p_value: t_two_sided_p(t, df),
        cohen_dz: mean_change / sd_change,
        wilcoxon,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_degenerate_input_with_a_reason() {
        assert_eq!(
            paired(&[1.0], &[2.0]),
            Err(StatsError::TooFew {
                needed: 2,
                found: 1
            })
        );
        assert!(matches!(
            paired(&[1.0, 2.0], &[3.0, 4.0]),
            Err(StatsError::ZeroVariance { change }) if change == 2.0
        ));
        assert!(matches!(
            paired(&[1.0, 2.0], &[1.0, 2.0]),
            Err(StatsError::ZeroVariance { change }) if change == 0.0
        ));
        assert_eq!(
            paired(&[1.0, f64::NAN], &[1.0, 2.0]),
            Err(StatsError::NotFinite { index: 1 })
        );
        assert!(paired(&[1.0], &[1.0, 2.0]).is_err());
        for e in [
            StatsError::ZeroVariance { change: 0.0 },
            StatsError::ZeroVariance { change: 2.0 },
        ] {
            assert!(!e.to_string().to_lowercase().contains("nan"));
        }
    }
}
