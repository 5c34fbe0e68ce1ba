//! Agreement between two people coding the same items: percentage agreement and Cohen's kappa.
//!
//! Each pair is the two codes given to one item (for example whether a theme was applied to a
//! voice, or which of several themes was chosen). Observed agreement `p_o` is the share of
//! items where the codes match; chance agreement `p_e` is the sum, over every code either person
//! used, of the product of the two people's shares for that code (Cohen, 1960). Kappa is
//! `(p_o − p_e) / (1 − p_e)`. When `p_e` is 1 — both people gave every item the same single
//! code — kappa is undefined (0/0) and is reported as `None`, as scikit-learn's
//! `cohen_kappa_score` reports NaN; percentage agreement is still defined (100%).
//!
//! Checked against scikit-learn on generated codings, degenerate cases included
//! (`tests/stats/kappa.py`).

use std::collections::HashMap;
use std::hash::Hash;

use crate::StatsError;

/// How far two coders agree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    /// Items both people coded.
    pub n: usize,
    /// Share of items with the same code (0 to 1).
    pub observed: f64,
    /// Share expected to match by chance, from each person's own use of the codes (0 to 1).
    pub expected: f64,
    /// Cohen's kappa, or `None` when chance agreement is 1 and kappa is undefined.
    pub kappa: Option<f64>,
}

/// Percentage agreement and Cohen's kappa over pairs of codes (first coder, second coder).
///
/// Errors with [`StatsError::TooFew`] when there are no pairs.
pub fn agreement<L: Eq + Hash>(pairs: &[(L, L)]) -> Result<Agreement, StatsError> {
    let n = pairs.len();
    if n == 0 {
        return Err(StatsError::TooFew {
            needed: 1,
            found: 0,
        });
    }
    let mut first: HashMap<&L, usize> = HashMap::new();
    let mut second: HashMap<&L, usize> = HashMap::new();
    let mut same = 0usize;
    for (a, b) in pairs {
        *first.entry(a).or_default() += 1;
        *second.entry(b).or_default() += 1;
        if a == b {
            same += 1;
        }
    }
    let nf = n as f64;
    let observed = same as f64 / nf;
    // Sum of products of counts, then one division: exact in integers up to 2^53.
    let chance: u128 = first
        .iter()
        .map(|(code, a)| (*a as u128) * (second.get(code).copied().unwrap_or(0) as u128))
        .sum();
    let expected = chance as f64 / (nf * nf);
    let kappa = if chance == (n as u128) * (n as u128) {
        None
    } else {
        // (p_o − p_e) / (1 − p_e), written over n² to keep integer counts exact.
        let num = (same as f64) * nf - chance as f64;
        let den = nf * nf - chance as f64;
        Some(num / den)
    };
    Ok(Agreement {
        n,
        observed,
        expected,
        kappa,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn textbook_example() {
        // 50 items: both yes 20, first yes/second no 5, first no/second yes 10, both no 15.
        let mut pairs = Vec::new();
        pairs.extend(std::iter::repeat_n(("yes", "yes"), 20));
        pairs.extend(std::iter::repeat_n(("yes", "no"), 5));
        pairs.extend(std::iter::repeat_n(("no", "yes"), 10));
        pairs.extend(std::iter::repeat_n(("no", "no"), 15));
        let a = agreement(&pairs).expect("pairs");
        assert_eq!(a.n, 50);
        assert!(close(a.observed, 0.7));
        assert!(close(a.expected, 0.5));
        assert!(close(a.kappa.expect("defined"), 0.4));
    }

    #[test]
    fn perfect_and_opposite() {
        let a = agreement(&[(1, 1), (2, 2), (1, 1)]).expect("pairs");
        assert!(close(a.kappa.expect("defined"), 1.0));
        let b = agreement(&[(true, false), (false, true)]).expect("pairs");
        assert!(close(b.observed, 0.0));
        assert!(close(b.kappa.expect("defined"), -1.0));
    }

    #[test]
    fn degenerate_cases() {
        // Both gave every item the one code: agreement is total, kappa undefined.
        let a = agreement(&[("x", "x"), ("x", "x")]).expect("pairs");
        assert!(close(a.observed, 1.0) && close(a.expected, 1.0));
        assert_eq!(a.kappa, None);
        // One person used one code throughout, the other did not: kappa is 0.
        let b = agreement(&[("x", "x"), ("x", "y"), ("x", "x")]).expect("pairs");
        assert!(close(b.kappa.expect("defined"), 0.0));
        // A single item.
        let c = agreement(&[("x", "y")]).expect("pair");
        assert!(close(c.kappa.expect("defined"), 0.0));
        assert_eq!(
            agreement::<u8>(&[]),
            Err(StatsError::TooFew {
                needed: 1,
                found: 0
            })
        );
    }
}
