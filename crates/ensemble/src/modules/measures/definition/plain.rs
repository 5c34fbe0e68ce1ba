//! An instrument in plain words, for a participant's own pages: its name without the
//! abbreviation, one sentence on what it asks about, and a change between two scores as words
//! (never an instrument id, a SNOMED CT code or a working score's label).

use super::format::{Definition, Direction, ScoreRule};

/// Words a participant's page must never show (checked by the tests on the built-in library).
const NOT_PLAIN: [&str; 3] = ["metric", "snomed", "raw score"];

impl Definition {
    /// The instrument's name without a trailing "(SHORT NAME)".
    pub fn plain_name(&self) -> String {
        let name = self.name.trim();
        name.strip_suffix(&format!("({})", self.short_name))
            .map(str::trim)
            .unwrap_or(name)
            .to_string()
    }

    /// The first sentence (or clause before a colon) of the description, when it is plain:
    /// no instrument id, short name or working-score words.
    pub fn plain_purpose(&self) -> String {
        let d = self.description.trim();
        let end = d.find(['.', ':']).unwrap_or(d.len());
        let sentence = d[..end].trim();
        let lower = sentence.to_lowercase();
        // A short name in capitals is an abbreviation ("ONS4"); one in words is plain.
        let abbreviation = !self.short_name.chars().any(char::is_lowercase);
        let names_it = lower.contains(&self.id.to_lowercase())
            || (abbreviation && lower.contains(&self.short_name.to_lowercase()));
        let plain =
            !sentence.is_empty() && !names_it && !NOT_PLAIN.iter().any(|w| lower.contains(w));
        if plain {
            format!("{sentence}.")
        } else {
            "Short questions about how you have been.".to_string()
        }
    }

    /// Whether a participant sees this score: a headline score with a meaningful-change
    /// threshold, or every headline score when none of them has one.
    pub fn shown_to_participant(&self, rule: &ScoreRule) -> bool {
        rule.headline
            && (rule.meaningful_change.is_some()
                || !self
                    .scores
                    .iter()
                    .any(|s| s.headline && s.meaningful_change.is_some()))
    }
}

/// A change between the previous score and the latest in words, using the meaningful-change
/// threshold where the instrument defines one (otherwise any difference counts).
pub fn change_in_words(latest: f64, previous: Option<f64>, threshold: Option<f64>) -> &'static str {
    let Some(previous) = previous else {
        return "your first check-in, so there is nothing to compare with yet";
    };
    let diff = latest - previous;
    let threshold = threshold.unwrap_or(0.0);
    if diff.abs() < threshold || diff.abs() < 1e-9 {
        "about the same as last time"
    } else if diff > 0.0 {
        "higher than last time"
    } else {
        "lower than last time"
    }
}

/// What a higher score means, in words.
pub fn direction_in_words(direction: Direction) -> &'static str {
    match direction {
        Direction::HigherIsBetter => "A higher score means you are feeling better.",
        Direction::LowerIsBetter => "A lower score means you are feeling better.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::measures::definition::builtins;

    #[test]
    fn changes_in_words_use_the_threshold() {
        assert_eq!(
            change_in_words(25.0, Some(24.5), Some(1.0)),
            "about the same as last time"
        );
        assert_eq!(
            change_in_words(26.0, Some(24.5), Some(1.0)),
            "higher than last time"
        );
        assert_eq!(
            change_in_words(22.0, Some(24.5), Some(1.0)),
            "lower than last time"
        );
        assert_eq!(
            change_in_words(5.0, Some(5.0), None),
            "about the same as last time"
        );
        assert_eq!(
            change_in_words(6.0, Some(5.0), None),
            "higher than last time"
        );
        assert!(change_in_words(6.0, None, None).starts_with("your first"));
    }

    #[test]
    fn the_builtin_library_is_plain_for_participants() {
        for def in builtins() {
            for text in [def.plain_name(), def.plain_purpose()] {
                let lower = text.to_lowercase();
                assert!(!lower.contains(&def.id), "{}: {text}", def.id);
                assert!(!lower.contains("metric"), "{}: {text}", def.id);
            }
            let shown: Vec<_> = def
                .scores
                .iter()
                .filter(|s| def.shown_to_participant(s))
                .collect();
            assert!(!shown.is_empty(), "{}", def.id);
        }
    }
}
