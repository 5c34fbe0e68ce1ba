//! Checking answers against a definition and scoring them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;

/// One answer: a number, or text for a free-text item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
        let mut skipped = false;
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
                    if answered == 0 && rule.skip_when_unanswered {
                        skipped = true;
                        continue;
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
        if skipped && scores.is_empty() && problems.is_empty() {
            problems.push(AnswerProblem {
                item: self.items.first().map(|i| i.id.clone()).unwrap_or_default(),
                message: format!(
                    "{} cannot be scored: no question was answered",
                    self.short_name
                ),
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
