//! Wilcoxon signed-rank test, matching `scipy.stats.wilcoxon` with its defaults
//! (`zero_method="wilcox"`, `correction=False`, `alternative="two-sided"`, `method="auto"`).
//!
//! Zero differences are dropped; the absolute differences are ranked with average ranks for
//! ties; `W` is the smaller of the positive and negative rank sums. How the p-value is found
//! follows scipy's `method="auto"` (scipy 1.17; see tests/stats/WILCOXON_NOTES.md), where `n`
//! counts every pair, zeros included:
//!
//! 1. `n > 50`: the normal approximation;
//! 2. no ties and no zeros: the exact null distribution of the positive rank sum;
//! 3. ties or zeros and `n ≤ 13`: an exhaustive sign-flip permutation test on the observed
//!    (average) ranks;
//! 4. otherwise: the normal approximation, with the tie-corrected variance and no continuity
//!    correction.

use crate::dist::normal_sf;
use crate::error::StatsError;

/// Largest number of pairs for which an exact p-value is used.
pub const EXACT_MAX_N: usize = 50;
/// Largest number of pairs for which the permutation test is used (ties or zeros).
pub const PERMUTATION_MAX_N: usize = 13;

/// How the p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Exact,
    Permutation,
    Approx,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Permutation => "permutation",
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
    // Twice each rank (an integer even for average ranks), kept only for small samples.
    let mut doubled_ranks: Vec<u64> = Vec::new();
    let small = differences.len() <= PERMUTATION_MAX_N;
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
        if small {
            doubled_ranks.extend(std::iter::repeat_n((i + 1 + j) as u64, j - i));
        }
        i = j;
    }
    let nf = n as f64;
    let total = nf * (nf + 1.0) / 2.0;
    let r_minus = total - r_plus;
    let w = r_plus.min(r_minus);
    let all = differences.len();

    let (p_value, method) = if all <= EXACT_MAX_N && !has_ties && zeros == 0 {
        (exact_two_sided(n, r_plus), Method::Exact)
    } else if all <= PERMUTATION_MAX_N {
        (
            permutation_two_sided(&doubled_ranks, (2.0 * r_plus).round() as u64),
            Method::Permutation,
        )
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
/// rank sum at `r_plus` (an integer without ties), capped at 1. Counts are exact integers
/// (at most 2⁵⁰), so the p-value is correctly rounded.
fn exact_two_sided(n: usize, r_plus: f64) -> f64 {
    let ranks: Vec<u64> = (1..=n as u64).collect();
    tails(&ranks, r_plus.round() as u64)
}

/// Two-sided permutation p-value over every assignment of signs to the observed ranks, given
/// doubled (so integer) ranks and the doubled positive rank sum.
fn permutation_two_sided(doubled_ranks: &[u64], doubled_r_plus: u64) -> f64 {
    tails(doubled_ranks, doubled_r_plus)
}

/// `min(1, 2 · min(#{S ≤ k}, #{S ≥ k}) / 2^m)` where S runs over the sums of the 2^m
/// subsets of `values`.
fn tails(values: &[u64], k: u64) -> f64 {
    let Some(counts) = subset_sum_counts(values) else {
        return 1.0;
    };
    let max = counts.len() - 1;
    let k = (k as usize).min(max);
    let lower: u64 = counts[..=k].iter().sum();
    let upper: u64 = counts[k..].iter().sum();
    let subsets = (values.len() as f64).exp2();
    (2.0 * lower.min(upper) as f64 / subsets).min(1.0)
}

/// `counts[s]` = the number of the 2^m subsets of `values` whose sum is `s`, for `s` from 0
/// to the sum of all values: the null distribution of the positive rank sum, times 2^m.
/// `None` when the sum does not fit in memory's index range.
fn subset_sum_counts(values: &[u64]) -> Option<Vec<u64>> {
    let max: u64 = values.iter().sum();
    let max = usize::try_from(max).ok()?;
    let mut counts = vec![0_u64; max + 1];
    counts[0] = 1;
    let mut reach = 0usize;
    for &v in values {
        let v = v as usize;
        reach += v;
        for s in (v..=reach).rev() {
            counts[s] += counts[s - v];
        }
    }
    Some(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_distribution_sums_to_one_and_is_symmetric() {
        for n in [1, 2, 5, 20, 50] {
            let max = n * (n + 1) / 2;
            let ranks: Vec<u64> = (1..=n as u64).collect();
            let counts = subset_sum_counts(&ranks).unwrap_or_default();
            assert_eq!(counts.len(), max + 1, "n={n}");
            // The probabilities P(T+ = k) = counts[k] / 2^n add up to one, exactly as counts.
            let subsets = 1_u64 << n;
            assert_eq!(counts.iter().sum::<u64>(), subsets, "n={n}");
            let total: f64 = counts.iter().map(|&c| c as f64 / subsets as f64).sum();
            assert!((total - 1.0).abs() < 1e-12, "n={n}: {total}");
            assert!(
                counts.iter().eq(counts.iter().rev()),
                "n={n}: not symmetric"
            );
            // The largest two-sided p-value is 1 (at the centre of the distribution).
            let largest = (0..=max)
                .map(|k| exact_two_sided(n, k as f64))
                .fold(0.0, f64::max);
            assert!((largest - 1.0).abs() < 1e-12, "n={n}");
            assert!(exact_two_sided(n, 0.0) > 0.0);
            for k in 0..=max {
                let a = exact_two_sided(n, k as f64);
                let b = exact_two_sided(n, (max - k) as f64);
                assert!((a - b).abs() < 1e-15, "n={n} k={k}");
            }
        }
        // n = 2: T+ ∈ {0, 1, 2, 3} each with probability 1/4; T+ = 3 → 2 × 1/4.
        assert_eq!(exact_two_sided(2, 3.0), 0.5);
    }

    /// Worked examples computed with scipy 1.17.1 (tests/stats/WILCOXON_NOTES.md, section 10).
    #[test]
    fn matches_scipy_worked_examples() {
        let w = signed_rank(&[3.0, 1.0]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((w.w, w.p_value, w.method), (0.0, 0.5, Method::Exact));
        // A tie, n = 5: the permutation test.
        let w = signed_rank(&[3.0, -1.0, 3.0, 5.0, 2.0]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (w.w, w.p_value, w.method),
            (1.0, 0.125, Method::Permutation)
        );
        // Three zeros, n = 10: still the permutation test.
        let d = [1.0, 0.0, 2.0, 0.0, -1.0, 2.0, 0.0, 2.0, 3.0, 1.0];
        let w = signed_rank(&d).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((w.w, w.p_value, w.zeros), (2.0, 0.0625, 3));
        assert_eq!(w.method, Method::Permutation);
        // n = 60 without ties: the normal approximation.
        let d: Vec<f64> = (1..=60).map(|i| f64::from((37 * i) % 61) - 20.25).collect();
        let w = signed_rank(&d).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((w.w, w.method), (400.0, Method::Approx));
        assert!(
            (w.p_value - 0.000_149_905_741_296_937_15).abs() < 1e-15,
            "{}",
            w.p_value
        );
        // n = 50, all positive: the exact tail 2 / 2^50.
        let d: Vec<f64> = (1..=50).map(f64::from).collect();
        let w = signed_rank(&d).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (w.p_value, w.method),
            (1.776_356_839_400_250_5e-15, Method::Exact)
        );
    }

    #[test]
    fn all_zero_differences_are_refused() {
        assert!(matches!(
            signed_rank(&[0.0, 0.0]),
            Err(StatsError::ZeroVariance { .. })
        ));
    }
}
