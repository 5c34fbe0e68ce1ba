//! Pure statistics for Ensemble: no I/O, no database, fast and property-tested.
//!
//! So far it holds the single-cell disclosure-control rule that every aggregate shown to a
//! non-privileged viewer must pass through. (Secondary suppression across tables, and the
//! paired-analysis statistics, arrive with the measures issue.)

#![forbid(unsafe_code)]

/// How small counts are protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisclosurePolicy {
    /// Counts from 1 up to and including this are suppressed.
    pub suppress_up_to: u64,
    /// Other counts are rounded to the nearest multiple of this (1 = no rounding).
    pub round_to: u64,
}

impl Default for DisclosurePolicy {
    /// Counts 1–7 suppressed, the rest rounded to the nearest 5.
    fn default() -> Self {
        Self {
            suppress_up_to: 7,
            round_to: 5,
        }
    }
}

/// A count as it may be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Shown as this (possibly rounded) number.
    Value(u64),
    /// Hidden because it is small.
    Suppressed,
}

impl std::fmt::Display for Published {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Published::Value(v) => write!(f, "{v}"),
            Published::Suppressed => f.write_str("fewer than 8"),
        }
    }
}

/// Apply the policy to one count. Zero is published as zero (a true zero reveals nobody);
/// rounding half-way values goes up; a rounded count never falls into the suppressed range.
pub fn disclose(count: u64, policy: DisclosurePolicy) -> Published {
    if count == 0 {
        return Published::Value(0);
    }
    if count <= policy.suppress_up_to {
        return Published::Suppressed;
    }
    let step = policy.round_to.max(1);
    let rounded = count.saturating_add(step / 2) / step * step;
    let floor = policy.suppress_up_to + 1;
    Published::Value(if rounded < floor {
        floor.div_ceil(step) * step
    } else {
        rounded
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_suppressed_and_the_rest_rounded() {
        let p = DisclosurePolicy::default();
        assert_eq!(disclose(0, p), Published::Value(0));
        for c in 1..=7 {
            assert_eq!(disclose(c, p), Published::Suppressed, "{c}");
        }
        assert_eq!(disclose(8, p), Published::Value(10));
        assert_eq!(disclose(12, p), Published::Value(10));
        assert_eq!(disclose(13, p), Published::Value(15));
        assert_eq!(disclose(1234, p), Published::Value(1235));
        assert_eq!(disclose(8, p).to_string(), "10");
        assert_eq!(disclose(3, p).to_string(), "fewer than 8");
    }

    #[test]
    fn no_published_value_ever_lies_in_the_suppressed_range() {
        for suppress in [0_u64, 3, 7, 10] {
            for round in [1_u64, 2, 5, 10] {
                let p = DisclosurePolicy {
                    suppress_up_to: suppress,
                    round_to: round,
                };
                for c in 0..5_000 {
                    if let Published::Value(v) = disclose(c, p) {
                        assert!(
                            v == 0 || v > suppress,
                            "count {c} published as {v} under {p:?}"
                        );
                        assert!(v % round == 0 || v == 0);
                    }
                }
            }
        }
    }
}
