//! Measures use cases: which instruments exist (built-in and co-designed), licensed wording
//! overlays, completing an instrument (self, with a practitioner, or from paper with optional
//! double entry), and reading a person's scores. Each use case proves, inside its
//! transaction, what the actor may do with the person or the response ([`PersonMeasures`],
//! [`ResponseAccess`]: see `access.rs`), then validates, changes and audits in the same
//! transaction.

mod access;
mod checkins;
mod completion;
mod hub;
mod instruments;
mod scores;

pub use access::*;
pub use checkins::*;
pub use completion::*;
pub use hub::*;
pub use instruments::*;
pub use scores::*;

use crate::code::code_enum;
use serde::Serialize;

/// How an instrument is being completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The person on their own device.
    SelfReport,
    /// A practitioner or link worker with the person.
    WithPractitioner,
    /// Keyed from a paper form.
    Paper,
}

impl Mode {
    pub fn code(self) -> &'static str {
        match self {
            Mode::SelfReport => "self",
            Mode::WithPractitioner => "with_practitioner",
            Mode::Paper => "paper",
        }
    }
    pub fn from_code(s: &str) -> Option<Mode> {
        [Mode::SelfReport, Mode::WithPractitioner, Mode::Paper]
            .into_iter()
            .find(|m| m.code() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Mode::SelfReport => "by the person",
            Mode::WithPractitioner => "with a practitioner",
            Mode::Paper => "from paper",
        }
    }
}

code_enum!(
    /// Where a response stands (`measure_responses.status`): being entered, waiting for the
    /// second keying of a paper form, the two keyings differing, or complete and scored.
    ResponseStatus {
        InProgress => ("in_progress", "Being entered"),
        AwaitingSecondEntry => ("awaiting_second_entry", "Second keying of a paper form"),
        Mismatch => ("mismatch", "The two keyings differ"),
        Complete => ("complete", "Complete"),
    }
);
