//! Checking a definition: the JSON Schema first, then the rules the schema cannot express.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::*;

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
