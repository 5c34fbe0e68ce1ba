//! The built-in instrument library, compiled into the binary.

use std::sync::OnceLock;

use super::*;

pub(super) const BUILTIN_SOURCES: [&str; 6] = [
    include_str!("../builtin/ons4.json"),
    include_str!("../builtin/ons_loneliness.json"),
    include_str!("../builtin/swemwbs.json"),
    include_str!("../builtin/wemwbs.json"),
    include_str!("../builtin/session_observation.json"),
    include_str!("../builtin/service_use.json"),
];

/// Built-in instruments that are observer scales for sessions, not for people to answer.
pub const OBSERVATION_SCALES: &[&str] = &["session_observation"];

/// The built-in library, parsed once.
pub fn builtins() -> &'static [Definition] {
    static LIBRARY: OnceLock<Vec<Definition>> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        BUILTIN_SOURCES
            .iter()
            .filter_map(|text| match Definition::parse(text) {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::error!(error = %e, "a built-in instrument definition is invalid");
                    None
                }
            })
            .collect()
    })
}

pub fn builtin(id: &str) -> Option<&'static Definition> {
    builtins().iter().find(|d| d.id == id)
}
