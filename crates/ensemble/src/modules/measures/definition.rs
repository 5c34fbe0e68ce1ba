//! Instrument definitions as data (docs/INSTRUMENTS.md): parsing with every problem reported by
//! path, scoring from item answers, and licensed-wording overlays.
//!
//! Pure: no database. The built-in library (`builtin/*.json`) ships item ids and scoring only
//! for instruments whose wording is licensed.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The JSON Schema every definition must satisfy (also published for authors).
pub const SCHEMA: &str = include_str!("instrument.schema.json");

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

/// Problems found in a definition, each `path: message`.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionErrors(pub Vec<String>);

impl std::fmt::Display for DefinitionErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for DefinitionErrors {}

fn schema_validator() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: serde_json::Value = serde_json::from_str(SCHEMA).ok()?;
            jsonschema::draft202012::new(&schema).ok()
        })
        .as_ref()
}

/// `/items/3/scale` → `items[3].scale`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    if out.is_empty() {
        "(top level)".into()
    } else {
        out
    }
}

impl Definition {
    /// Parse and check a definition, reporting every problem with its path.
    pub fn parse(text: &str) -> Result<Definition, DefinitionErrors> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            DefinitionErrors(vec![format!(
                "line {}, column {}: not valid JSON: {e}",
                e.line(),
                e.column()
            )])
        })?;
        Self::from_value(value)
    }

    pub fn from_value(value: serde_json::Value) -> Result<Definition, DefinitionErrors> {
        let validator = schema_validator().ok_or_else(|| {
            DefinitionErrors(vec![
                "(internal) the instrument schema did not compile".into(),
            ])
        })?;
        let mut problems: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| {
                let path = dotted(&e.instance_path().to_string());
                format!("{path}: {}", schema_message(&e))
            })
            .collect();
        if !problems.is_empty() {
            problems.sort();
            problems.dedup();
            return Err(DefinitionErrors(problems));
        }
        let definition: Definition = serde_json::from_value(value)
            .map_err(|e| DefinitionErrors(vec![format!("(top level): {e}")]))?;
        definition.check()?;
        Ok(definition)
    }

    /// Rules a schema cannot express: references between parts, tables, bands, licence.
    fn check(&self) -> Result<(), DefinitionErrors> {
        let mut p = Vec::new();
        for (name, scale) in &self.scales {
            match scale {
                Scale::Numeric { min, max, .. } if min >= max => p.push(format!(
                    "scales.{name}: min ({}) must be below max ({})",
                    num(*min),
                    num(*max)
                )),
                Scale::Labelled { options } | Scale::Faces { options } => {
                    let mut seen = HashSet::new();
                    for (i, o) in options.iter().enumerate() {
                        if !seen.insert(o.value.to_bits()) {
                            p.push(format!(
                                "scales.{name}.options[{i}].value: {} is used twice",
                                num(o.value)
                            ));
                        }
                        if matches!(scale, Scale::Faces { .. }) && o.face.is_none() {
                            p.push(format!(
                                "scales.{name}.options[{i}].face: a faces scale needs a face for every option"
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        let mut item_ids = HashSet::new();
        for (i, item) in self.items.iter().enumerate() {
            if !item_ids.insert(item.id.as_str()) {
                p.push(format!("items[{i}].id: \"{}\" is used twice", item.id));
            }
            if !self.scales.contains_key(&item.scale) {
                p.push(format!(
                    "items[{i}].scale: unknown scale \"{}\"",
                    item.scale
                ));
            }
            match self.licence.kind {
                LicenceKind::Open if item.text.is_none() => p.push(format!(
                    "items[{i}].text: an open instrument needs the wording of every item"
                )),
                LicenceKind::LicensedWordingNotShipped
                    if item.text.is_some() || item.easy_read.is_some() =>
                {
                    p.push(format!(
                        "items[{i}].text: licensed wording must not be in the definition; upload it as an overlay"
                    ))
                }
                _ => {}
            }
            if item.reverse && self.scales.get(&item.scale).is_some_and(Scale::is_text) {
                p.push(format!(
                    "items[{i}].reverse: a free-text item cannot be reverse scored"
                ));
            }
        }
        let mut score_ids = HashSet::new();
        for (s, rule) in self.scores.iter().enumerate() {
            let at = format!("scores[{s}]");
            if !score_ids.insert(rule.id.as_str()) {
                p.push(format!("{at}.id: \"{}\" is used twice", rule.id));
            }
            for (k, id) in rule.items.iter().enumerate() {
                match self.items.iter().find(|i| &i.id == id) {
                    None => p.push(format!("{at}.items[{k}]: unknown item \"{id}\"")),
                    Some(item) if self.scales.get(&item.scale).is_some_and(Scale::is_text) => p
                        .push(format!(
                            "{at}.items[{k}]: \"{id}\" is free text and cannot be scored"
                        )),
                    _ => {}
                }
            }
            match rule.method {
                Method::Item if rule.items.len() != 1 => {
                    p.push(format!("{at}.items: an item score names exactly one item"))
                }
                Method::Sum | Method::Mean if self.scored_items(rule).is_empty() => {
                    p.push(format!("{at}.items: there are no numeric items to score"))
                }
                Method::Lookup => {
                    match &rule.from {
                        None => p.push(format!("{at}.from: a lookup names the score it converts")),
                        Some(from) => {
                            let earlier = self.scores[..s].iter().any(|r| &r.id == from);
                            if !earlier {
                                p.push(format!(
                                    "{at}.from: unknown score \"{from}\" (it must come before this one)"
                                ));
                            }
                        }
                    }
                    if rule.table.is_empty() {
                        p.push(format!("{at}.table: a lookup needs its conversion table"));
                    }
                    for (k, pair) in rule.table.iter().enumerate().skip(1) {
                        if pair[0] <= rule.table[k - 1][0] {
                            p.push(format!(
                                "{at}.table[{k}]: values to convert must increase ({} after {})",
                                num(pair[0]),
                                num(rule.table[k - 1][0])
                            ));
                        }
                    }
                }
                _ => {}
            }
            if rule.method != Method::Lookup && (rule.from.is_some() || !rule.table.is_empty()) {
                p.push(format!(
                    "{at}.table: only a lookup score has a conversion table"
                ));
            }
            if let Some([lo, hi]) = rule.range
                && lo > hi
            {
                p.push(format!("{at}.range: {} is above {}", num(lo), num(hi)));
            }
            for (b, band) in rule.bands.iter().enumerate() {
                if band.min > band.max {
                    p.push(format!(
                        "{at}.bands[{b}]: min {} is above max {}",
                        num(band.min),
                        num(band.max)
                    ));
                }
                for (c, other) in rule.bands.iter().enumerate().take(b) {
                    if band.min <= other.max && other.min <= band.max {
                        p.push(format!(
                            "{at}.bands[{b}]: overlaps bands[{c}] (\"{}\")",
                            other.label
                        ));
                    }
                }
            }
            if rule.max_missing as usize >= self.scored_items(rule).len().max(1)
                && matches!(rule.method, Method::Sum | Method::Mean)
            {
                p.push(format!(
                    "{at}.max_missing: must be fewer than the {} items scored",
                    self.scored_items(rule).len()
                ));
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(DefinitionErrors(p))
        }
    }

    /// The items a sum/mean/item score uses.
    pub fn scored_items(&self, rule: &ScoreRule) -> Vec<&Item> {
        if rule.items.is_empty() {
            self.items
                .iter()
                .filter(|i| self.scales.get(&i.scale).is_some_and(|s| !s.is_text()))
                .collect()
        } else {
            rule.items
                .iter()
                .filter_map(|id| self.items.iter().find(|i| &i.id == id))
                .collect()
        }
    }

    pub fn scale_of(&self, item: &Item) -> Option<&Scale> {
        self.scales.get(&item.scale)
    }

    pub fn item(&self, id: &str) -> Option<(usize, &Item)> {
        self.items.iter().enumerate().find(|(_, i)| i.id == id)
    }

    pub fn is_licensed(&self) -> bool {
        self.licence.kind == LicenceKind::LicensedWordingNotShipped
    }

    /// `swemwbs@1`
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    pub fn headline_scores(&self) -> impl Iterator<Item = &ScoreRule> {
        self.scores.iter().filter(|s| s.headline)
    }
}

fn schema_message(e: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::ValidationErrorKind as K;
    match e.kind() {
        K::Required { property } => format!("{property} is required"),
        K::AdditionalProperties { unexpected } => {
            format!(
                "unknown field{} {}",
                if unexpected.len() == 1 { "" } else { "s" },
                unexpected.join(", ")
            )
        }
        _ => e.to_string(),
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Number(f64),
    Text(String),
}

/// A computed score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub id: String,
    pub label: String,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<String>,
}

/// Problems with a set of answers, each naming the item.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerErrors(pub Vec<AnswerProblem>);

#[derive(Debug, Clone, PartialEq)]
pub struct AnswerProblem {
    /// The item (or score) the problem is about.
    pub item: String,
    pub message: String,
}

impl std::fmt::Display for AnswerErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<&str> = self.0.iter().map(|p| p.message.as_str()).collect();
        f.write_str(&lines.join("; "))
    }
}

impl Definition {
    /// Check answers against the scales and compute every score. Unknown items, answers
    /// outside their scale and more unanswered items than a score allows are refused, each
    /// problem naming the item ("question 3 (\"thinking_clearly\")").
    pub fn score(&self, answers: &BTreeMap<String, Answer>) -> Result<Vec<Score>, AnswerErrors> {
        let mut problems = Vec::new();
        let name = |index: usize, item: &Item| format!("question {} (\"{}\")", index + 1, item.id);
        for (id, answer) in answers {
            let Some((index, item)) = self.item(id) else {
                problems.push(AnswerProblem {
                    item: id.clone(),
                    message: format!("\"{id}\" is not a question of {}", self.short_name),
                });
                continue;
            };
            let Some(scale) = self.scale_of(item) else {
                continue;
            };
            match (scale, answer) {
                (Scale::FreeText { max_length }, Answer::Text(t))
                    if t.chars().count() > *max_length =>
                {
                    problems.push(AnswerProblem {
                        item: id.clone(),
                        message: format!(
                            "{}: the answer is longer than {max_length} characters",
                            name(index, item)
                        ),
                    })
                }
                (Scale::FreeText { .. }, _) => {}
                (_, Answer::Number(v)) if !scale.allows(*v) => problems.push(AnswerProblem {
                    item: id.clone(),
                    message: format!(
                        "{}: {} is not an allowed answer (expected {})",
                        name(index, item),
                        num(*v),
                        scale.describe_allowed()
                    ),
                }),
                (_, Answer::Text(t)) => problems.push(AnswerProblem {
                    item: id.clone(),
                    message: format!(
                        "{}: \"{t}\" is not a number (expected {})",
                        name(index, item),
                        scale.describe_allowed()
                    ),
                }),
                _ => {}
            }
        }
        if !problems.is_empty() {
            return Err(AnswerErrors(problems));
        }
        let mut scores: Vec<Score> = Vec::new();
        for rule in &self.scores {
            let value = match rule.method {
                Method::Sum | Method::Mean | Method::Item => {
                    let items = self.scored_items(rule);
                    let mut total = 0.0;
                    let mut answered = 0usize;
                    let mut missing = Vec::new();
                    for item in &items {
                        let (index, _) = self.item(&item.id).unwrap_or((0, item));
                        match answers.get(&item.id) {
                            Some(Answer::Number(v)) => {
                                let v = match (
                                    item.reverse,
                                    self.scale_of(item).and_then(Scale::bounds),
                                ) {
                                    (true, Some((lo, hi))) => lo + hi - v,
                                    _ => *v,
                                };
                                total += v;
                                answered += 1;
                            }
                            _ if item.optional => {}
                            _ => missing.push(name(index, item)),
                        }
                    }
                    if missing.len() > rule.max_missing as usize || answered == 0 {
                        let allowed = if rule.max_missing == 0 {
                            "every question must be answered".to_owned()
                        } else {
                            format!("at most {} may be left blank", rule.max_missing)
                        };
                        problems.push(AnswerProblem {
                            item: items.first().map(|i| i.id.clone()).unwrap_or_default(),
                            message: format!(
                                "{} cannot be scored: {} not answered ({allowed})",
                                rule.label,
                                missing.join(", ")
                            ),
                        });
                        continue;
                    }
                    match rule.method {
                        Method::Mean => total / answered as f64,
                        // Prorated only for required items left blank (within max_missing);
                        // optional items simply do not count.
                        Method::Sum if !missing.is_empty() => {
                            total / answered as f64 * (answered + missing.len()) as f64
                        }
                        _ => total,
                    }
                }
                Method::Lookup => {
                    let from = rule.from.as_deref().unwrap_or_default();
                    let Some(source) = scores.iter().find(|s| s.id == from) else {
                        continue;
                    };
                    match rule
                        .table
                        .iter()
                        .find(|pair| (pair[0] - source.value).abs() < 1e-9)
                    {
                        Some(pair) => pair[1],
                        None => {
                            problems.push(AnswerProblem {
                                item: from.to_owned(),
                                message: format!(
                                    "{} cannot be worked out: {} {} is not in the conversion table",
                                    rule.label,
                                    source.label,
                                    num(source.value)
                                ),
                            });
                            continue;
                        }
                    }
                }
            };
            if let Some([lo, hi]) = rule.range
                && (value < lo - 1e-9 || value > hi + 1e-9)
            {
                problems.push(AnswerProblem {
                    item: rule.id.clone(),
                    message: format!(
                        "{} came to {}, outside its valid range {} to {}",
                        rule.label,
                        num(value),
                        num(lo),
                        num(hi)
                    ),
                });
                continue;
            }
            scores.push(Score {
                id: rule.id.clone(),
                label: rule.label.clone(),
                value,
                band: band_of(rule, value),
            });
        }
        if problems.is_empty() {
            Ok(scores)
        } else {
            Err(AnswerErrors(problems))
        }
    }
}

/// The band a value falls in (bands are inclusive; values between integer bands go to the
/// band whose range they round into).
pub fn band_of(rule: &ScoreRule, value: f64) -> Option<String> {
    rule.bands
        .iter()
        .find(|b| value >= b.min && value <= b.max)
        .or_else(|| {
            rule.bands
                .iter()
                .find(|b| value.round() >= b.min && value.round() <= b.max)
        })
        .map(|b| b.label.clone())
}

/// Licensed wording for one instrument version, uploaded by a licensed organisation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    pub instrument: String,
    pub version: u32,
    /// Where the wording comes from (licence reference).
    pub source: String,
    /// True for demonstration wording that is not the real instrument's.
    #[serde(default)]
    pub stand_in: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_read_instructions: Option<String>,
    pub items: BTreeMap<String, OverlayItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OverlayItem {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_read: Option<String>,
}

impl Overlay {
    /// Parse an overlay and check it fits `definition`: every item worded, no strangers.
    pub fn parse_for(text: &str, definition: &Definition) -> Result<Overlay, DefinitionErrors> {
        let overlay: Overlay = serde_json::from_str(text).map_err(|e| {
            DefinitionErrors(vec![format!(
                "line {}, column {}: {e}",
                e.line(),
                e.column()
            )])
        })?;
        let mut p = Vec::new();
        if overlay.instrument != definition.id || overlay.version != definition.version {
            p.push(format!(
                "instrument: this wording is for {}@{}, not {}",
                overlay.instrument,
                overlay.version,
                definition.key()
            ));
        }
        if overlay.source.trim().is_empty() {
            p.push("source: say where the wording and its licence come from".into());
        }
        for item in &definition.items {
            match overlay.items.get(&item.id) {
                None => p.push(format!("items.{}: no wording for this question", item.id)),
                Some(w) if w.text.trim().is_empty() || w.text.chars().count() > 500 => {
                    p.push(format!(
                        "items.{}.text: give the wording (1 to 500 characters)",
                        item.id
                    ))
                }
                _ => {}
            }
        }
        for id in overlay.items.keys() {
            if definition.item(id).is_none() {
                p.push(format!(
                    "items.{id}: {} has no question \"{id}\"",
                    definition.short_name
                ));
            }
        }
        if p.is_empty() {
            Ok(overlay)
        } else {
            Err(DefinitionErrors(p))
        }
    }

    /// The definition with this wording filled in.
    pub fn apply(&self, definition: &Definition) -> Definition {
        let mut d = definition.clone();
        for item in &mut d.items {
            if let Some(w) = self.items.get(&item.id) {
                item.text = Some(w.text.clone());
                item.easy_read = w.easy_read.clone();
            }
        }
        if self.instructions.is_some() {
            d.instructions = self.instructions.clone();
        }
        if self.easy_read_instructions.is_some() {
            d.easy_read_instructions = self.easy_read_instructions.clone();
        }
        d
    }
}

const BUILTIN_SOURCES: [&str; 5] = [
    include_str!("builtin/ons4.json"),
    include_str!("builtin/ons_loneliness.json"),
    include_str!("builtin/swemwbs.json"),
    include_str!("builtin/wemwbs.json"),
    include_str!("builtin/session_observation.json"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, f64)]) -> BTreeMap<String, Answer> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Answer::Number(*v)))
            .collect()
    }

    #[test]
    fn every_builtin_parses_and_licensed_ones_carry_no_wording() {
        assert_eq!(builtins().len(), BUILTIN_SOURCES.len());
        for d in builtins() {
            if d.is_licensed() {
                assert!(
                    d.items
                        .iter()
                        .all(|i| i.text.is_none() && i.easy_read.is_none()),
                    "{}",
                    d.id
                );
            }
        }
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let text = r#"{"id":"check_in","version":1,"name":"Check-in","short_name":"Check-in",
          "licence":{"kind":"open","holder":"Us"},
          "scales":{"five":{"kind":"numeric","min":1,"max":5}},
          "items":[{"id":"mood","scale":"five","text":"How is your mood?"},
                   {"id":"sleep","scale":"five","text":"How did you sleep?"},
                   {"id":"mood","scale":"five","text":"Again?"},
                   {"id":"energy","scale":"agree5","text":"Energy?"}],
          "scores":[{"id":"total","label":"Total","method":"sum","items":["mood","nope"]},
                    {"id":"metric","label":"Metric","method":"lookup","from":"later","table":[[2,1],[1,2]]}]}"#;
        let e = Definition::parse(text)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            e.contains(&"items[3].scale: unknown scale \"agree5\"".to_owned()),
            "{e:#?}"
        );
        assert!(
            e.contains(&"items[2].id: \"mood\" is used twice".to_owned()),
            "{e:#?}"
        );
        assert!(
            e.contains(&"scores[0].items[1]: unknown item \"nope\"".to_owned()),
            "{e:#?}"
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("scores[1].from: unknown score \"later\"")),
            "{e:#?}"
        );
        assert!(
            e.iter().any(|m| m.starts_with("scores[1].table[1]:")),
            "{e:#?}"
        );
        // Structural problems come from the JSON Schema, also with paths.
        let e = Definition::parse(r#"{"id":"x1","version":0,"name":"","short_name":"X","licence":{"kind":"open","holder":"Us"},"scales":{},"items":[],"scores":[],"colour":"red"}"#)
            .err().map(|e| e.0).unwrap_or_default();
        assert!(e.iter().any(|m| m.starts_with("version:")), "{e:#?}");
        assert!(e.iter().any(|m| m.starts_with("items:")), "{e:#?}");
        assert!(
            e.iter().any(|m| m.contains("unknown field colour")),
            "{e:#?}"
        );
        let e = Definition::parse("{")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e[0].starts_with("line 1"), "{e:?}");
    }

    #[test]
    fn swemwbs_converts_every_raw_total_through_the_table() {
        let d = builtin("swemwbs").unwrap_or_else(|| panic!("swemwbs"));
        let ids: Vec<String> = d.items.iter().map(|i| i.id.clone()).collect();
        let rule = d
            .scores
            .iter()
            .find(|s| s.id == "metric")
            .unwrap_or_else(|| panic!("metric"));
        for raw in 7..=35 {
            // Spread the raw total over the seven items.
            let mut left = raw - 7;
            let mut a = BTreeMap::new();
            for id in &ids {
                let extra = left.min(4);
                left -= extra;
                a.insert(id.clone(), Answer::Number(f64::from(1 + extra)));
            }
            let scores = d.score(&a).unwrap_or_else(|e| panic!("{e}"));
            let expected = rule
                .table
                .iter()
                .find(|p| p[0] == f64::from(raw))
                .map(|p| p[1]);
            assert_eq!(scores[0].value, f64::from(raw));
            assert_eq!(Some(scores[1].value), expected, "raw {raw}");
        }
    }

    #[test]
    fn refuses_out_of_range_and_missing_answers_naming_the_item() {
        let d = builtin("swemwbs").unwrap_or_else(|| panic!("swemwbs"));
        let mut a = answers(&[("optimistic", 3.0), ("useful", 6.0), ("relaxed", 2.5)]);
        let e = d.score(&a).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("question 2 (\"useful\"): 6 is not an allowed answer (expected one of 1, 2, 3, 4, 5)"), "{e}");
        assert!(e.contains("question 3 (\"relaxed\"): 2.5"), "{e}");
        a.insert("useful".into(), Answer::Number(4.0));
        a.insert("relaxed".into(), Answer::Number(2.0));
        let e = d.score(&a).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains(
                "Raw score (7 to 35) cannot be scored: question 4 (\"dealing_with_problems\")"
            ),
            "{e}"
        );
        a.insert("made_up".into(), Answer::Number(1.0));
        let e = d.score(&a).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("\"made_up\" is not a question of SWEMWBS"),
            "{e}"
        );
    }

    #[test]
    fn reverse_scoring_prorating_and_means() {
        let text = r#"{"id":"mood_check","version":2,"name":"Mood check","short_name":"Mood",
          "licence":{"kind":"open","holder":"Us"},
          "scales":{"five":{"kind":"faces","options":[
             {"value":1,"label":"Very low","face":"😞"},{"value":2,"label":"Low","face":"😟"},
             {"value":3,"label":"Okay","face":"😐"},{"value":4,"label":"Good","face":"😊"},
             {"value":5,"label":"Very good","face":"😄"}]},
             "note":{"kind":"free_text","max_length":20}},
          "items":[{"id":"calm","scale":"five","text":"Calm?"},
                   {"id":"tense","scale":"five","text":"Tense?","reverse":true},
                   {"id":"hopeful","scale":"five","text":"Hopeful?"},
                   {"id":"words","scale":"note","text":"Anything else?"}],
          "scores":[{"id":"total","label":"Total","method":"sum","max_missing":1,
                     "bands":[{"label":"low","min":3,"max":8},{"label":"high","min":9,"max":15}]},
                    {"id":"average","label":"Average","method":"mean","max_missing":1}]}"#;
        let d = Definition::parse(text).unwrap_or_else(|e| panic!("{e}"));
        let mut a = answers(&[("calm", 4.0), ("tense", 1.0), ("hopeful", 3.0)]);
        a.insert("words".into(), Answer::Text("fine".into()));
        let s = d.score(&a).unwrap_or_else(|e| panic!("{e}"));
        // tense 1 reversed on 1–5 is 5: 4 + 5 + 3.
        assert_eq!((s[0].value, s[0].band.as_deref()), (12.0, Some("high")));
        assert_eq!(s[1].value, 4.0);
        // One missing is prorated: (4 + 5) / 2 × 3.
        let s = d
            .score(&answers(&[("calm", 4.0), ("tense", 1.0)]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s[0].value, 13.5);
        assert!(d.score(&answers(&[("calm", 4.0)])).is_err());
        let mut long = answers(&[("calm", 4.0), ("tense", 1.0), ("hopeful", 3.0)]);
        long.insert("words".into(), Answer::Text("x".repeat(21)));
        assert!(d.score(&long).is_err());
    }

    #[test]
    fn ons4_items_are_banded_separately() {
        let d = builtin("ons4").unwrap_or_else(|| panic!("ons4"));
        let s = d
            .score(&answers(&[
                ("life_satisfaction", 6.0),
                ("worthwhile", 9.0),
                ("happiness", 7.0),
                ("anxiety", 2.0),
            ]))
            .unwrap_or_else(|e| panic!("{e}"));
        let bands: Vec<_> = s
            .iter()
            .map(|s| (s.id.as_str(), s.value, s.band.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            bands,
            vec![
                ("life_satisfaction", 6.0, "medium".to_owned()),
                ("worthwhile", 9.0, "very high".to_owned()),
                ("happiness", 7.0, "high".to_owned()),
                ("anxiety", 2.0, "low".to_owned())
            ]
        );
    }

    #[test]
    fn overlays_must_word_every_item_of_their_version() {
        let d = builtin("swemwbs").unwrap_or_else(|| panic!("swemwbs"));
        let e = Overlay::parse_for(
            r#"{"instrument":"swemwbs","version":1,"source":"test","items":{"optimistic":{"text":"Stand-in"},"extra":{"text":"x"}}}"#,
            d,
        )
        .err()
        .map(|e| e.0)
        .unwrap_or_default();
        assert!(
            e.contains(&"items.useful: no wording for this question".to_owned()),
            "{e:?}"
        );
        assert!(e.iter().any(|m| m.starts_with("items.extra:")), "{e:?}");
    }
}
