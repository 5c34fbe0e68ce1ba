//! The definition format: an instrument's metadata, licence, items, scales and scoring rules,
//! as they are read from JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The JSON Schema every definition must satisfy (also published for authors).
pub const SCHEMA: &str = include_str!("../instrument.schema.json");

/// A versioned instrument.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub id: String,
    pub version: u32,
    pub name: String,
    pub short_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub licence: Licence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snomed: Option<Snomed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_read_instructions: Option<String>,
    pub scales: BTreeMap<String, Scale>,
    pub items: Vec<Item>,
    pub scores: Vec<ScoreRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changelog: Vec<ChangelogEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    pub kind: LicenceKind,
    pub holder: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LicenceKind {
    Open,
    LicensedWordingNotShipped,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Snomed {
    pub code: String,
    pub display: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub international_code: Option<String>,
}

/// How an item is answered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scale {
    Numeric {
        min: f64,
        max: f64,
        #[serde(default = "one")]
        step: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_label: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_label: Option<String>,
    },
    Labelled {
        options: Vec<ScaleOption>,
    },
    /// Labelled answers shown with a face or emoji — always with its text label too.
    Faces {
        options: Vec<ScaleOption>,
    },
    FreeText {
        #[serde(default = "default_text_length")]
        max_length: usize,
    },
}

fn one() -> f64 {
    1.0
}
fn default_text_length() -> usize {
    1000
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScaleOption {
    pub value: f64,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_read: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face: Option<String>,
}

impl Scale {
    /// Lowest and highest numeric answer (None for free text).
    pub fn bounds(&self) -> Option<(f64, f64)> {
        match self {
            Scale::Numeric { min, max, .. } => Some((*min, *max)),
            Scale::Labelled { options } | Scale::Faces { options } => {
                let lo = options
                    .iter()
                    .map(|o| o.value)
                    .fold(f64::INFINITY, f64::min);
                let hi = options
                    .iter()
                    .map(|o| o.value)
                    .fold(f64::NEG_INFINITY, f64::max);
                Some((lo, hi))
            }
            Scale::FreeText { .. } => None,
        }
    }

    /// Whether `value` is an allowed answer.
    pub fn allows(&self, value: f64) -> bool {
        match self {
            Scale::Numeric { min, max, step, .. } => {
                let k = (value - min) / step;
                value >= *min && value <= *max && (k - k.round()).abs() < 1e-9
            }
            Scale::Labelled { options } | Scale::Faces { options } => {
                options.iter().any(|o| o.value == value)
            }
            Scale::FreeText { .. } => false,
        }
    }

    pub fn is_text(&self) -> bool {
        matches!(self, Scale::FreeText { .. })
    }

    /// The allowed answers in words, for messages.
    pub fn describe_allowed(&self) -> String {
        match self {
            Scale::Numeric { min, max, step, .. } if *step == 1.0 => {
                format!("a whole number from {} to {}", num(*min), num(*max))
            }
            Scale::Numeric { min, max, step, .. } => format!(
                "a number from {} to {} in steps of {}",
                num(*min),
                num(*max),
                num(*step)
            ),
            Scale::Labelled { options } | Scale::Faces { options } => {
                let values: Vec<String> = options.iter().map(|o| num(o.value)).collect();
                format!("one of {}", values.join(", "))
            }
            Scale::FreeText { max_length } => format!("text of at most {max_length} characters"),
        }
    }
}

/// A number without a needless `.0`.
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub scale: String,
    /// The question; absent for licensed instruments (it comes from an overlay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_read: Option<String>,
    /// Scored as `min + max − answer`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
    /// May be left blank without counting against the missing-item rule.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Sum,
    Mean,
    Item,
    Lookup,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    HigherIsBetter,
    LowerIsBetter,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScoreRule {
    pub id: String,
    pub label: String,
    pub method: Method,
    /// Items scored (sum, mean: default every numeric item; item: exactly one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// For `lookup`: the score converted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// For `lookup`: pairs of (from value, converted value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub table: Vec<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<[f64; 2]>,
    /// Items that may be unanswered; the sum is then prorated (mean of the answered × count).
    #[serde(default)]
    pub max_missing: u32,
    /// When none of its items is answered, leave this score out instead of refusing the
    /// answers (ONS4 reports its four measures separately, so one blank item scores the
    /// other three).
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip_when_unanswered: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<Band>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meaningful_change: Option<f64>,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Reliability>,
    /// Shown in plans, messages back and summaries (others are working scores).
    #[serde(default = "yes")]
    pub headline: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snomed: Option<Snomed>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub label: String,
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Reliability {
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChangelogEntry {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    pub changes: String,
}
