//! The builder: the answer types and scorings it offers, the form, and turning the form into
//! a checked definition.

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::FieldError;
use crate::modules::measures::definition::Definition;

/// Answer types offered by the builder, each a fixed scale.
pub const KINDS: &[(&str, &str)] = &[
    (
        "zero_to_ten",
        "A number from 0 (not at all) to 10 (completely)",
    ),
    ("agree5", "Strongly disagree … strongly agree (5 options)"),
    (
        "faces5",
        "Faces from very low to very good (5 options, with words)",
    ),
    ("yes_no", "Yes or no"),
    ("free_text", "Their own words"),
];

/// How answers become scores.
pub const SCORING: &[(&str, &str)] = &[
    ("sum", "Add up the number answers"),
    ("mean", "Average of the number answers"),
    ("separate", "Report each number answer separately"),
    ("none", "No score (a conversation prompt)"),
];

fn scale(kind: &str) -> Value {
    match kind {
        "zero_to_ten" => {
            json!({"kind": "numeric", "min": 0, "max": 10, "step": 1, "min_label": "Not at all", "max_label": "Completely"})
        }
        "agree5" => json!({"kind": "labelled", "options": [
            {"value": 1, "label": "Strongly disagree"}, {"value": 2, "label": "Disagree"},
            {"value": 3, "label": "Neither agree nor disagree"}, {"value": 4, "label": "Agree"},
            {"value": 5, "label": "Strongly agree"}]}),
        "faces5" => json!({"kind": "faces", "options": [
            {"value": 1, "label": "Very low", "face": "😞"}, {"value": 2, "label": "Low", "face": "😟"},
            {"value": 3, "label": "Okay", "face": "😐"}, {"value": 4, "label": "Good", "face": "😊"},
            {"value": 5, "label": "Very good", "face": "😄"}]}),
        "yes_no" => json!({"kind": "labelled", "options": [
            {"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}]}),
        _ => json!({"kind": "free_text", "max_length": 1000}),
    }
}

/// One question in the builder.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct QuestionInput {
    pub text: String,
    pub easy_read: String,
    pub kind: String,
    pub reverse: bool,
}

/// The builder form.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DraftInput {
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub instructions: String,
    pub easy_read_instructions: String,
    pub scoring: String,
    pub meaningful_change: String,
    pub changes: String,
    pub questions: Vec<QuestionInput>,
}

impl DraftInput {
    /// Read the builder's fields (`q_text_0`, `q_kind_0`, …).
    pub fn from_form(form: &[(String, String)]) -> DraftInput {
        let get = |k: &str| {
            form.iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let count = form
            .iter()
            .filter_map(|(k, _)| k.strip_prefix("q_kind_")?.parse::<usize>().ok())
            .map(|i| i + 1)
            .max()
            .unwrap_or(0);
        DraftInput {
            name: get("name"),
            short_name: get("short_name"),
            description: get("description"),
            instructions: get("instructions"),
            easy_read_instructions: get("easy_read_instructions"),
            scoring: get("scoring"),
            meaningful_change: get("meaningful_change"),
            changes: get("changes"),
            questions: (0..count)
                .map(|i| QuestionInput {
                    text: get(&format!("q_text_{i}")),
                    easy_read: get(&format!("q_easy_{i}")),
                    kind: get(&format!("q_kind_{i}")),
                    reverse: get(&format!("q_reverse_{i}")) == "yes",
                })
                .collect(),
        }
    }

    /// Back from a stored definition.
    pub fn from_definition(d: &Value) -> DraftInput {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let scores = d["scores"].as_array().cloned().unwrap_or_default();
        let scoring = match scores.first().and_then(|s| s["method"].as_str()) {
            None => "none",
            Some("item") => "separate",
            Some("mean") => "mean",
            Some(_) => "sum",
        };
        DraftInput {
            name: s(&d["name"]),
            short_name: s(&d["short_name"]),
            description: s(&d["description"]),
            instructions: s(&d["instructions"]),
            easy_read_instructions: s(&d["easy_read_instructions"]),
            scoring: scoring.into(),
            meaningful_change: scores
                .first()
                .and_then(|s| s["meaningful_change"].as_f64())
                .map(crate::modules::measures::definition::num)
                .unwrap_or_default(),
            changes: String::new(),
            questions: d["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|i| QuestionInput {
                    text: s(&i["text"]),
                    easy_read: s(&i["easy_read"]),
                    kind: s(&i["scale"]),
                    reverse: i["reverse"].as_bool().unwrap_or(false),
                })
                .collect(),
        }
    }

    /// The definition JSON (not yet checked).
    pub fn to_definition(&self, id: &str, version: u32, changelog: &[Value]) -> Value {
        let mut scales = serde_json::Map::new();
        let mut items = Vec::new();
        for (i, q) in self.questions.iter().enumerate() {
            let kind = if KINDS.iter().any(|(k, _)| *k == q.kind) {
                q.kind.as_str()
            } else {
                "zero_to_ten"
            };
            scales.insert(kind.to_string(), scale(kind));
            let mut item = json!({ "id": format!("q{}", i + 1), "scale": kind, "text": q.text });
            if !q.easy_read.is_empty() {
                item["easy_read"] = json!(q.easy_read);
            }
            if q.reverse && kind != "free_text" {
                item["reverse"] = json!(true);
            }
            items.push(item);
        }
        let numeric: Vec<(String, String)> = self
            .questions
            .iter()
            .enumerate()
            .filter(|(_, q)| q.kind != "free_text")
            .map(|(i, q)| (format!("q{}", i + 1), q.text.chars().take(60).collect()))
            .collect();
        let change = self
            .meaningful_change
            .parse::<f64>()
            .ok()
            .filter(|c| *c > 0.0);
        let mut scores: Vec<Value> = match self.scoring.as_str() {
            "none" => vec![],
            "separate" => numeric
                .iter()
                .map(|(id, label)| json!({ "id": id, "label": if label.is_empty() { id.clone() } else { label.clone() }, "method": "item", "items": [id] }))
                .collect(),
            method => vec![json!({
                "id": "total",
                "label": if method == "mean" { "Average" } else { "Total" },
                "method": if method == "mean" { "mean" } else { "sum" },
            })],
        };
        if let (Some(c), Some(first)) = (change, scores.first_mut()) {
            first["meaningful_change"] = json!(c);
        }
        let mut d = json!({
            "id": id,
            "version": version,
            "name": self.name,
            "short_name": self.short_name,
            "licence": { "kind": "open", "holder": "Co-designed in Ensemble", "notes": "Co-designed with participants and programme teams; approved by a named panel." },
            "scales": scales,
            "items": items,
            "scores": scores,
            "changelog": changelog,
        });
        for (key, value) in [
            ("description", &self.description),
            ("instructions", &self.instructions),
            ("easy_read_instructions", &self.easy_read_instructions),
        ] {
            if !value.is_empty() {
                d[key] = json!(value);
            }
        }
        d
    }
}

/// Map a definition problem (`items[2].text: …`) to the builder's field.
fn field_of(problem: &str) -> FieldError {
    let (path, message) = problem.split_once(": ").unwrap_or(("", problem));
    let field = if let Some(rest) = path.strip_prefix("items[") {
        let index = rest.split(']').next().unwrap_or("0");
        if path.ends_with(".easy_read") {
            format!("q_easy_{index}")
        } else {
            format!("q_text_{index}")
        }
    } else if path.starts_with("scores") {
        "scoring".to_string()
    } else {
        match path {
            "name" | "short_name" | "description" | "instructions" | "easy_read_instructions" => {
                path.to_string()
            }
            _ => "name".to_string(),
        }
    };
    FieldError::new(field, format!("{path}: {message}"))
}

/// Check a draft as the builder's form: the builder's own rules, then the definition's.
pub fn check(input: &DraftInput, id: &str, version: u32) -> Result<Definition, Vec<FieldError>> {
    let mut errors = Vec::new();
    if input.name.is_empty() {
        errors.push(FieldError::new("name", "Enter a name for the instrument"));
    }
    if input.short_name.is_empty() {
        errors.push(FieldError::new(
            "short_name",
            "Enter a short name (up to 40 characters)",
        ));
    }
    if input.questions.is_empty() {
        errors.push(FieldError::new("add", "Add at least one question"));
    }
    for (i, q) in input.questions.iter().enumerate() {
        if q.text.is_empty() {
            errors.push(FieldError::new(
                format!("q_text_{i}"),
                format!("Question {}: enter the question", i + 1),
            ));
        }
    }
    if !input.meaningful_change.is_empty()
        && input
            .meaningful_change
            .parse::<f64>()
            .map_or(true, |c| c <= 0.0 || !c.is_finite())
    {
        errors.push(FieldError::new(
            "meaningful_change",
            "Enter a number above 0, or leave it empty",
        ));
    }
    if version > 1 && input.changes.is_empty() {
        errors.push(FieldError::new(
            "changes",
            "Say what changed in this version",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let value = input.to_definition(id, version, &[]);
    Definition::from_value(value).map_err(|e| e.0.iter().map(|p| field_of(p)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_makes_a_valid_definition_and_names_problems_by_question() {
        let mut input = DraftInput {
            name: "Session check-in".into(),
            short_name: "Check-in".into(),
            scoring: "sum".into(),
            meaningful_change: "2".into(),
            questions: vec![
                QuestionInput {
                    text: "How was today?".into(),
                    kind: "faces5".into(),
                    ..Default::default()
                },
                QuestionInput {
                    text: "I felt tense".into(),
                    kind: "agree5".into(),
                    reverse: true,
                    ..Default::default()
                },
                QuestionInput {
                    text: "Anything else?".into(),
                    kind: "free_text".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let d = check(&input, "check_in_abc123", 1).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.items.len(), 3);
        assert!(d.items[1].reverse);
        assert_eq!(d.scores[0].meaningful_change, Some(2.0));
        let back = DraftInput::from_definition(&input.to_definition("check_in_abc123", 1, &[]));
        assert_eq!(back.questions, input.questions);
        assert_eq!(back.scoring, "sum");
        input.questions[1].text.clear();
        input.meaningful_change = "-1".into();
        let e = check(&input, "check_in_abc123", 2)
            .err()
            .unwrap_or_default();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["q_text_1", "meaningful_change", "changes"]);
        // Only free text with a sum: the definition's own rule, mapped to the scoring field.
        let only_text = DraftInput {
            name: "Words".into(),
            short_name: "Words".into(),
            scoring: "sum".into(),
            questions: vec![QuestionInput {
                text: "Say more".into(),
                kind: "free_text".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let e = check(&only_text, "words_abc123", 1)
            .err()
            .unwrap_or_default();
        assert_eq!(e[0].field, "scoring", "{e:?}");
    }
}
