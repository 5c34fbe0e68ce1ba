//! Pages of the competency framework and the CPD portfolio: the framework co-edited by an
//! organisation's practitioners, the portfolio with its evidence and assessments, the forms
//! to add evidence (with a certificate upload), assess yourself and ask for an assessment,
//! the assessor's pages, and the printable and JSON exports.

mod assessments;
mod evidence;
mod framework;
mod overview;

pub use assessments::*;
pub use evidence::*;
pub use framework::*;
pub use overview::*;

use maud::Markup;

use super::portfolio::{self, LEVELS, level_name};
use crate::error::FieldError;

fn radios_i64(name: &str, legend: &str, selected: &str, errors: &[FieldError]) -> Markup {
    let options: Vec<(String, &str)> = LEVELS.iter().map(|(l, t)| (l.to_string(), *t)).collect();
    let refs: Vec<(&str, &str)> = options.iter().map(|(v, t)| (v.as_str(), *t)).collect();
    crate::web::forms::radios(name, legend, &refs, selected, errors)
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "session" => "Session led",
        "reflection" => "Reflection",
        "supervision" => "Supervision",
        "training" => "Training",
        "peer_observation" => "Peer observation",
        _ => "Evidence",
    }
}

fn level_text(a: Option<&portfolio::Assessment>) -> String {
    match a.and_then(|a| a.level) {
        Some(l) => format!("{l} {}", level_name(l)),
        None => "not yet".into(),
    }
}
