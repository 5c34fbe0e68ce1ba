//! Licensed wording overlays: the text of a licensed instrument, uploaded by an administrator
//! and laid over a definition that ships without it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;

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
