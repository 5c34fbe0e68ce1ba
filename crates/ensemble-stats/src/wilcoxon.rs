//! Wilcoxon signed-rank test, matching `scipy.stats.wilcoxon` with its defaults
//! (`zero_method="wilcox"`, `correction=False`, `alternative="two-sided"`, `method="auto"`).
//!
//! Zero differences are dropped; the absolute differences are ranked with average ranks for
//! ties; `W` is the smaller of the positive and negative rank sums. With at most
//! [`EXACT_MAX_N`] non-zero differences and no ties the p-value comes from the exact null
//! distribution; otherwise from the normal approximation with the tie-corrected variance and
//! no continuity correction.

use crate::dist::normal_sf;
use crate::error::StatsError;

/// Largest number of non-zero differences for which the exact distribution is used.
pub const EXACT_MAX_N: usize = 50;

/// How the p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Exact,
    Approx,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Approx => "approx",
        }
    }
}

/// Result of the signed-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wilcoxon {
    /// Non-zero differences ranked.
    pub n: usize,
    /// Zero differences dropped.
    pub zeros: usize,
    /// The smaller of the two rank sums.
    pub w: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    pub method: Method,
}

/// The test on paired differences (after − before).
pub fn signed_rank(differences: &[f64]) -> Result<Wilcoxon, StatsError> {
    if let Some(index) = differences.iter().position(|d| !d.is_finite()) {
        return Err(StatsError::NotFinite { index });
    }
    // Key = |d|'s bit pattern (monotone for non-negative floats) shifted left, with the sign
    // in the low bit: one integer sort orders by |d| and keeps ties together.
    let mut keys: Vec<u64> = differences
        .iter()
        .filter(|d| **d != 0.0)
        .map(|d| (d.abs().to_bits() << 1) | u64::from(*d > 0.0))
        .collect();
    let zeros = differences.len() - keys.len();
    let n = keys.len();
    if n == 0 {
        return Err(StatsError::ZeroVariance { change: 0.0 });
    }
    keys.sort_unstable();

    let mut r_plus = 0.0_f64;
    let mut tie_sum = 0.0_f64; // Σ (t³ − t) over groups of tied |d|
    let mut has_ties = false;
    let mut i = 0;
    while i < n {
        let magnitude = keys[i] >> 1;
        let mut j = i;
        let mut positives = 0_u64;
        while j < n && keys[j] >> 1 == magnitude {
            positives += keys[j] & 1;
            j += 1;
        }
        let t = (j - i) as f64;
        // Ranks i+1 ..= j share their average.
        let average_rank = (i + 1 + j) as f64 / 2.0;
        r_plus += average_rank * positives as f64;
        if j - i > 1 {
            has_ties = true;
            tie_sum += t * t * t - t;
        }
        i = j;
    }
    let nf = n as f64;
    let total = nf * (nf + 1.0) / 2.0;
    let r_minus = total - r_plus;
    let w = r_plus.min(r_minus);

    let (p_value, method) = if n <= EXACT_MAX_N && !has_ties {
        (exact_two_sided(n, r_plus), Method::Exact)
    } else {
        let mean = nf * (nf + 1.0) / 4.0;
        let variance = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_sum / 48.0;
        let z = (r_plus - mean) / variance.sqrt();
        ((2.0 * normal_sf(z.abs())).min(1.0), Method::Approx)
    };
    Ok(Wilcoxon {
        n,
        zeros,
        w,
        p_value,
        method,
    })
}

/// Two-sided exact p-value: twice the smaller tail of the null distribution of the positive
/// rank sum at `r_plus` (an integer without ties), capped at 1.
fn exact_two_sided(n: usize, r_plus: f64) -> f64 {
    let max = n * (n + 1) / 2;
    // probability[k] = P(T+ = k) under the null, built one rank at a time.
    let mut probability = vec![0.0_f64; max + 1];
    probability[0] = 1.0;
    let mut reach = 0;
    for rank in 1..=n {
        reach += rank;
        for k in (rank..=reach).rev() {
            probability[k] = (probability[k] + probability[k - rank]) / 2.0;
        }
        for p in probability.iter_mut().take(rank) {
            *p /= 2.0;
        }
    }
    let k = r_plus.round() as usize;
    let lower: f64 = probability[..=k].iter().sum();
    let upper: f64 = probability[k..].iter().sum();
    (2.0 * lower.min(upper)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_distribution_sums_to_one_and_is_symmetric() {
        for n in [1, 2, 5, 20, 50] {
            let max = n * (n + 1) / 2;
            let all: f64 = (0..=max)
                .map(|k| exact_two_sided(n, k as f64))
                .fold(0.0, f64::max);
            assert!((all - 1.0).abs() < 1e-12, "n={n}");
            for k in 0..=max {
                let a = exact_two_sided(n, k as f64);
                let b = exact_two_sided(n, (max - k) as f64);
                assert!((a - b).abs() < 1e-15, "n={n} k={k}");
            }
        }
        // n = 2: T+ ∈ {0, 1, 2, 3} each with probability 1/4; T+ = 3 → 2 × 1/4.
        assert_eq!(exact_two_sided(2, 3.0), 0.5);
    }

    #[test]
    fn all_zero_differences_are_refused() {
        assert!(matches!(
            signed_rank(&[0.0, 0.0]),
            Err(StatsError::ZeroVariance { .. })
        ));
    }
}
