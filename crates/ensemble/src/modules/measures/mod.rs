//! Measures: instrument definitions (data, not code), completion, scoring and scores.

pub mod definition;
