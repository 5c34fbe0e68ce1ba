//! Why an analysis could not be done, in words an evaluator can act on.

use std::fmt;

/// Input an analysis cannot use. Every variant explains itself through `Display`.
#[derive(Debug, Clone, PartialEq)]
pub enum StatsError {
    /// Fewer complete pairs (or values) than the analysis needs.
    TooFew { needed: usize, found: usize },
    /// Before and after lists of different lengths.
    LengthMismatch { before: usize, after: usize },
    /// A value that is NaN or infinite, at this position (0-based).
    NotFinite { index: usize },
    /// Every change is the same, so its standard deviation is zero and the t-test, confidence
    /// interval and effect size are undefined.
    ZeroVariance { change: f64 },
    /// A proportion or interval asked for with a zero denominator.
    Empty,
    /// A quantity that must be above zero (named) was not.
    NotPositive { what: &'static str },
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::TooFew { needed, found } => write!(
                f,
                "need at least {needed} complete pairs to analyse, found {found}"
            ),
            StatsError::LengthMismatch { before, after } => write!(
                f,
                "before and after have different lengths ({before} and {after})"
            ),
            StatsError::NotFinite { index } => {
                write!(f, "value {} is not a finite number", index + 1)
            }
            StatsError::ZeroVariance { change } if *change == 0.0 => f.write_str(
                "every change is zero, so there is no variation to test: the t-test, \
                 confidence interval, effect size and Wilcoxon test are undefined",
            ),
            StatsError::ZeroVariance { change } => write!(
                f,
                "every change is exactly {change}, so the standard deviation of change is \
                 zero and the t-test, confidence interval and effect size are undefined"
            ),
            StatsError::Empty => f.write_str("there is nothing to count"),
            StatsError::NotPositive { what } => write!(f, "{what} must be more than zero"),
        }
    }
}

impl std::error::Error for StatsError {}
