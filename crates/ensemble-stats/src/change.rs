//! Change at the level of the person: improved / unchanged / worse by an instrument's
//! meaningful-change threshold, and the reliable change index (Jacobson & Truax, 1991).

use crate::error::StatsError;
use crate::proportion::{Proportion, wilson};

/// Which direction of a score is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// How many people improved, stayed the same or got worse by at least `threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeShares {
    pub improved: Proportion,
    pub unchanged: Proportion,
    pub worse: Proportion,
}

/// Classify each pair: a change of at least `threshold` in the good direction is an
/// improvement, at least `threshold` in the other direction is worse, anything smaller is
/// unchanged.
pub fn change_shares(
    before: &[f64],
    after: &[f64],
    threshold: f64,
    direction: Direction,
) -> Result<ChangeShares, StatsError> {
    if before.len() != after.len() {
        return Err(StatsError::LengthMismatch {
            before: before.len(),
            after: after.len(),
        });
    }
    if before.is_empty() {
        return Err(StatsError::Empty);
    }
    let (mut improved, mut worse) = (0, 0);
    for (i, (b, a)) in before.iter().zip(after).enumerate() {
        if !b.is_finite() || !a.is_finite() {
            return Err(StatsError::NotFinite { index: i });
        }
        let change = match direction {
            Direction::HigherIsBetter => a - b,
            Direction::LowerIsBetter => b - a,
        };
        if change >= threshold {
            improved += 1;
        } else if change <= -threshold {
            worse += 1;
        }
    }
    let n = before.len();
    Ok(ChangeShares {
        improved: wilson(improved, n)?,
        unchanged: wilson(n - improved - worse, n)?,
        worse: wilson(worse, n)?,
    })
}

/// Reliable change index for one person: the change divided by the standard error of the
/// difference, `SD_baseline × √2 × √(1 − reliability)`. |RCI| > 1.96 is reliable change.
pub fn reliable_change_index(
    before: f64,
    after: f64,
    sd_baseline: f64,
    reliability: f64,
) -> Option<f64> {
    let se_difference = sd_baseline * std::f64::consts::SQRT_2 * (1.0 - reliability).sqrt();
    (se_difference > 0.0 && se_difference.is_finite()).then(|| (after - before) / se_difference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_threshold_in_the_good_direction() {
        let before = [20.0, 20.0, 20.0, 20.0];
        let after = [23.0, 22.0, 17.0, 20.5];
        let s = change_shares(&before, &after, 3.0, Direction::HigherIsBetter)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (s.improved.count, s.unchanged.count, s.worse.count),
            (1, 2, 1)
        );
        let s = change_shares(&before, &after, 3.0, Direction::LowerIsBetter)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.improved.count, s.worse.count), (1, 1));
        assert!(change_shares(&[], &[], 1.0, Direction::HigherIsBetter).is_err());
    }

    #[test]
    fn reliable_change_index_follows_jacobson_and_truax() {
        // SD 10, reliability 0.8: SE_diff = 10 × √2 × √0.2 = 6.3246; change 13 → 2.0555.
        let rci = reliable_change_index(40.0, 53.0, 10.0, 0.8).unwrap_or(0.0);
        assert!((rci - 2.055_480_479_109_446_5).abs() < 1e-12, "{rci}");
        assert_eq!(reliable_change_index(1.0, 2.0, 0.0, 0.8), None);
        assert_eq!(reliable_change_index(1.0, 2.0, 5.0, 1.0), None);
    }
}
