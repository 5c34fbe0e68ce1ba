//! The HL7 FHIR R4 JSON Schema, compiled per resource type on first use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

use super::outcome::{Issue, issue};
use crate::state::AppState;

/// The R4 JSON Schema, compiled per resource type on first use.
pub struct SchemaValidator {
    path: PathBuf,
    document: OnceLock<Option<Arc<Value>>>,
    compiled: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// This process's FHIR R4 JSON Schema validator.
pub fn schema(state: &AppState) -> std::sync::Arc<SchemaValidator> {
    state.ext::<SchemaValidator>()
}

impl crate::state::StateExt for SchemaValidator {
    fn init(cfg: &crate::config::Config) -> Self {
        Self::new(cfg.fhir_schema_path())
    }
}

impl SchemaValidator {
    /// A validator reading the schema from `path` when first needed.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            document: OnceLock::new(),
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// Where the schema is expected.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn document(&self) -> Option<Arc<Value>> {
        self.document
            .get_or_init(|| {
                let text = std::fs::read_to_string(&self.path).ok()?;
                match serde_json::from_str::<Value>(&text) {
                    Ok(v) => Some(Arc::new(v)),
                    Err(e) => {
                        tracing::error!(path = %self.path.display(), error = %e, "the FHIR R4 JSON Schema could not be read");
                        None
                    }
                }
            })
            .clone()
    }

    /// Read and compile the validators used by the intake now, rather than on the first
    /// request (call from a blocking thread at start-up).
    pub fn preload(&self) -> bool {
        self.validator("ServiceRequest").is_some() && self.validator("Bundle").is_some()
    }

    /// Is the schema available?
    pub fn available(&self) -> bool {
        self.document().is_some()
    }

    fn validator(&self, resource_type: &str) -> Option<Arc<jsonschema::Validator>> {
        if let Ok(m) = self.compiled.lock()
            && let Some(v) = m.get(resource_type)
        {
            return Some(v.clone());
        }
        let doc = self.document()?;
        doc.get("definitions")?.get(resource_type)?;
        let schema = json!({
            "$schema": "http://json-schema.org/draft-06/schema#",
            "definitions": doc.get("definitions").cloned().unwrap_or(Value::Null),
            "allOf": [{ "$ref": format!("#/definitions/{resource_type}") }],
        });
        let compiled = match jsonschema::draft6::new(&schema) {
            Ok(v) => Arc::new(v),
            Err(e) => {
                tracing::error!(error = %e, "the FHIR R4 JSON Schema could not be compiled");
                return None;
            }
        };
        if let Ok(mut m) = self.compiled.lock() {
            m.insert(resource_type.to_string(), compiled.clone());
        }
        Some(compiled)
    }

    /// Problems with a resource of this type; `None` when the schema is not available.
    pub fn check(&self, resource_type: &str, instance: &Value) -> Option<Vec<Issue>> {
        let v = self.validator(resource_type)?;
        let mut out: Vec<Issue> = v
            .iter_errors(instance)
            .take(20)
            .map(|e| {
                let path = e.instance_path().to_string();
                let mut expr = format!("{resource_type}{}", path.replace('/', "."));
                let mut code = "structure";
                match e.kind() {
                    jsonschema::error::ValidationErrorKind::Required { property } => {
                        expr.push('.');
                        expr.push_str(property.as_str().unwrap_or_default());
                        code = "required";
                    }
                    jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                        if let Some(first) = unexpected.first() {
                            expr.push('.');
                            expr.push_str(first);
                        }
                    }
                    _ => {}
                }
                issue(code, pointer_to_fhirpath(&expr), format!("{e}"))
            })
            .collect();
        out.dedup_by(|a, b| a.expression == b.expression && a.diagnostics == b.diagnostics);
        Some(out)
    }
}

/// `Bundle.entry.3.resource` → `Bundle.entry[3].resource`.
fn pointer_to_fhirpath(expr: &str) -> String {
    let mut out = String::new();
    for (i, part) in expr.split('.').enumerate() {
        if i > 0 && part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            if i > 0 {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

pub(super) fn schema_issues(state: &AppState, ty: &str, v: &Value) -> Vec<Issue> {
    static WARNED: std::sync::Once = std::sync::Once::new();
    match schema(state).check(ty, v) {
        Some(issues) => issues,
        None => {
            WARNED.call_once(|| {
                tracing::warn!(path = %schema(state).path().display(), "FHIR R4 JSON Schema not available: checking FHIR input with Ensemble's own rules only");
            });
            vec![]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_fhirpath() {
        assert_eq!(
            pointer_to_fhirpath("Bundle.entry.3.resource"),
            "Bundle.entry[3].resource"
        );
        assert_eq!(pointer_to_fhirpath("ServiceRequest"), "ServiceRequest");
    }
}
