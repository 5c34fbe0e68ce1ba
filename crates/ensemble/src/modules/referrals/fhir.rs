//! FHIR R4 for referrals: intake of a `ServiceRequest` (alone, or in a `$process-message`
//! Bundle as in the NHS Booking and Referral Standard), validated against the HL7 R4 JSON
//! Schema when it is available (`ENSEMBLE_FHIR_SCHEMA`, else the shared reference folder),
//! then against Ensemble's own rules; answers are FHIR resources or an `OperationOutcome`
//! naming each problem. Also the FHIR form of a referral and of the message back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::model::{ReasonProblem, ReferralReason, SNOMED_REFERRAL, SNOMED_SYSTEM, Status};
use super::service::{self, Created, MessageBack, NewReferral, Referral};
use crate::audit::AuditActor;
use crate::error::{AppError, ErrorEnvelope};
use crate::modules::people::model::NhsNumber;
use crate::modules::people::service::PersonInput;
use crate::rbac::{Actor, Role};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;

/// Identifier system for Ensemble activities (the same ids as Open Referral UK services).
pub const ACTIVITY_SYSTEM: &str = "urn:ensemble:activity";
/// Identifier system for Ensemble referrals.
pub const REFERRAL_SYSTEM: &str = "urn:ensemble:referral";
const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// One problem, as an `OperationOutcome.issue`.
#[derive(Debug, Clone)]
pub struct Issue {
    /// FHIR issue type (`structure`, `required`, `invalid`, `not-found`, `not-supported`…).
    pub code: &'static str,
    /// Where, as a FHIRPath-like expression (`ServiceRequest.subject`).
    pub expression: String,
    /// What is wrong.
    pub diagnostics: String,
}

fn issue(
    code: &'static str,
    expression: impl Into<String>,
    diagnostics: impl Into<String>,
) -> Issue {
    Issue {
        code,
        expression: expression.into(),
        diagnostics: diagnostics.into(),
    }
}

/// An `OperationOutcome` response.
pub fn outcome(status: StatusCode, issues: &[Issue]) -> Response {
    let body = json!({
        "resourceType": "OperationOutcome",
        "issue": issues.iter().map(|i| {
            let mut v = json!({ "severity": "error", "code": i.code, "diagnostics": i.diagnostics });
            if !i.expression.is_empty() {
                v["expression"] = json!([i.expression]);
            }
            v
        }).collect::<Vec<_>>()
    });
    fhir_json(status, &body)
}

fn fhir_json(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json; fhirVersion=4.0"),
    );
    r
}

fn app_error_outcome(e: AppError) -> Response {
    let status = e.status();
    match e {
        AppError::Invalid(fields) => outcome(
            status,
            &fields
                .iter()
                .map(|f| issue("invalid", f.field.clone(), f.message.clone()))
                .collect::<Vec<_>>(),
        ),
        AppError::Internal(err) => {
            tracing::error!(error = %format!("{err:#}"), "internal error");
            outcome(
                status,
                &[issue(
                    "exception",
                    "",
                    "Something went wrong on our side. It has been logged.",
                )],
            )
        }
        AppError::Forbidden => outcome(
            status,
            &[issue(
                "forbidden",
                "",
                "You do not have permission to do this",
            )],
        ),
        AppError::NotFound => outcome(status, &[issue("not-found", "", "No such referral")]),
        other => outcome(status, &[issue("processing", "", other.to_string())]),
    }
}

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

#[allow(clippy::result_large_err)]
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(ct.starts_with("application/fhir+json") || ct.starts_with("application/json")) {
        return Err(outcome(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &[issue(
                "not-supported",
                "",
                "Send FHIR JSON with Content-Type: application/fhir+json",
            )],
        ));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        outcome(
            StatusCode::BAD_REQUEST,
            &[issue(
                "structure",
                "",
                format!(
                    "The body is not valid JSON: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )],
        )
    })?;
    if !v.is_object() {
        return Err(outcome(
            StatusCode::BAD_REQUEST,
            &[issue(
                "structure",
                "",
                "The body must be a JSON object (a FHIR resource)",
            )],
        ));
    }
    Ok(v)
}

fn resource_type(v: &Value) -> &str {
    v.get("resourceType").and_then(Value::as_str).unwrap_or("")
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => cur.get(i),
            Err(_) => cur.get(*p),
        }
        .unwrap_or(&Value::Null);
    }
    cur.as_str().unwrap_or("")
}

/// Resources that travel with the request: Bundle entries by fullUrl, and contained ones.
struct Context<'a> {
    entries: HashMap<String, &'a Value>,
    contained: HashMap<String, &'a Value>,
}

impl<'a> Context<'a> {
    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        if let Some(id) = reference.strip_prefix('#') {
            return self.contained.get(id).copied();
        }
        self.entries.get(reference).copied().or_else(|| {
            // "Patient/123" against entries whose resource has that type and id.
            let (ty, id) = reference.split_once('/')?;
            self.entries
                .values()
                .copied()
                .find(|r| resource_type(r) == ty && str_at(r, &["id"]) == id)
        })
    }
}

/// What the intake produced from a request.
struct Intake {
    referral: NewReferral,
}

fn patient_to_person(
    p: &Value,
    expr: &str,
    tasks: &mut Vec<String>,
) -> Result<PersonInput, Vec<Issue>> {
    let name = p
        .get("name")
        .and_then(|n| n.get(0))
        .cloned()
        .unwrap_or(Value::Null);
    let mut given = str_at(&name, &["given", "0"]).to_string();
    let family = str_at(&name, &["family"]).to_string();
    if given.is_empty() {
        given = str_at(&name, &["text"]).to_string();
    }
    if given.is_empty() {
        return Err(vec![issue(
            "required",
            format!("{expr}.name"),
            "The patient needs a name (name[0].given or name[0].text)",
        )]);
    }
    let mut nhs = String::new();
    if let Some(ids) = p.get("identifier").and_then(Value::as_array) {
        for id in ids {
            if str_at(id, &["system"]) == NHS_NUMBER_SYSTEM {
                let raw = str_at(id, &["value"]);
                match NhsNumber::parse(raw) {
                    Ok(n) => nhs = n.as_str().to_string(),
                    Err(_) => tasks.push(format!("Check the NHS number: the referral gave {raw}, which fails the modulus 11 check, so it was not stored")),
                }
            }
        }
    }
    let gender = match str_at(p, &["gender"]) {
        "male" => "1",
        "female" => "2",
        "other" => "4",
        "unknown" => "X",
        _ => "",
    };
    let mut phone = String::new();
    let mut email = String::new();
    let mut telecoms: Vec<&Value> = p
        .get("telecom")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if let Some(contacts) = p.get("contact").and_then(Value::as_array) {
        for c in contacts {
            let oneself = c
                .get("relationship")
                .and_then(Value::as_array)
                .is_some_and(|rs| {
                    rs.iter().any(|r| {
                        r.get("coding")
                            .and_then(Value::as_array)
                            .is_some_and(|cs| cs.iter().any(|x| str_at(x, &["code"]) == "ONESELF"))
                    })
                });
            if oneself && let Some(t) = c.get("telecom").and_then(Value::as_array) {
                telecoms.extend(t.iter());
            }
        }
    }
    telecoms.sort_by_key(|t| t.get("rank").and_then(Value::as_i64).unwrap_or(99));
    for t in telecoms {
        match str_at(t, &["system"]) {
            "phone" if phone.is_empty() => phone = str_at(t, &["value"]).to_string(),
            "email" if email.is_empty() => email = str_at(t, &["value"]).to_string(),
            _ => {}
        }
    }
    if crate::modules::accounts::model::Email::parse(&email).is_err() {
        email.clear();
    }
    let addr = p
        .get("address")
        .and_then(|a| a.get(0))
        .cloned()
        .unwrap_or(Value::Null);
    let mut postcode = str_at(&addr, &["postalCode"]).to_string();
    if crate::modules::places::postcode::Postcode::parse(&postcode).is_err() {
        postcode.clear();
    }
    let address = match str_at(&addr, &["text"]) {
        "" => addr
            .get("line")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        t => t.to_string(),
    };
    let mut ethnicity = String::new();
    if let Some(exts) = p.get("extension").and_then(Value::as_array) {
        for x in exts {
            if str_at(x, &["url"]).ends_with("Extension-UKCore-EthnicCategory") {
                let code = str_at(x, &["valueCodeableConcept", "coding", "0", "code"]);
                if crate::modules::people::model::ETHNICITIES
                    .iter()
                    .any(|(c, _)| *c == code)
                {
                    ethnicity = code.to_string();
                }
            }
        }
    }
    let languages = p
        .get("communication")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let l = str_at(c, &["language", "text"]);
                    if l.is_empty() {
                        str_at(c, &["language", "coding", "0", "display"])
                    } else {
                        l
                    }
                })
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let mut birth = str_at(p, &["birthDate"]).to_string();
    if birth.len() != 10 {
        birth.clear();
    }
    Ok(PersonInput {
        given_name: given,
        family_name: family,
        nhs_number: nhs,
        date_of_birth: birth,
        gender: gender.into(),
        phone: phone.chars().take(50).collect(),
        email,
        address: address.chars().take(500).collect(),
        postcode,
        ethnicity,
        languages: languages.chars().take(200).collect(),
        ..Default::default()
    })
}

fn person_from_subject(
    sr: &Value,
    ctx: &Context<'_>,
    tasks: &mut Vec<String>,
) -> Result<PersonInput, Vec<Issue>> {
    let Some(subject) = sr.get("subject").filter(|s| s.is_object()) else {
        return Err(vec![issue(
            "required",
            "ServiceRequest.subject",
            "ServiceRequest.subject is required: say who the referral is for (a Patient)",
        )]);
    };
    let reference = str_at(subject, &["reference"]);
    if !reference.is_empty() {
        let Some(p) = ctx.resolve(reference) else {
            return Err(vec![issue(
                "not-found",
                "ServiceRequest.subject.reference",
                format!(
                    "The Patient “{reference}” is not in the request: include it as a contained resource or a Bundle entry"
                ),
            )]);
        };
        if resource_type(p) != "Patient" {
            return Err(vec![issue(
                "invalid",
                "ServiceRequest.subject.reference",
                format!("The subject must be a Patient, not a {}", resource_type(p)),
            )]);
        }
        return patient_to_person(p, "Patient", tasks);
    }
    let display = str_at(subject, &["display"]);
    if display.is_empty() {
        return Err(vec![issue(
            "required",
            "ServiceRequest.subject",
            "ServiceRequest.subject needs a reference to a Patient, or at least a display name",
        )]);
    }
    let mut person = PersonInput {
        given_name: display.chars().take(200).collect(),
        ..Default::default()
    };
    if str_at(subject, &["identifier", "system"]) == NHS_NUMBER_SYSTEM {
        let raw = str_at(subject, &["identifier", "value"]);
        match NhsNumber::parse(raw) {
            Ok(n) => person.nhs_number = n.as_str().to_string(),
            Err(_) => tasks.push(format!(
                "Check the NHS number: the referral gave {raw}, which fails the modulus 11 check"
            )),
        }
    }
    Ok(person)
}

async fn activity_from_performers(
    state: &AppState,
    sr: &Value,
    ctx: &Context<'_>,
) -> Result<Option<String>, Vec<Issue>> {
    let Some(performers) = sr.get("performer").and_then(Value::as_array) else {
        return Ok(None);
    };
    for (i, p) in performers.iter().enumerate() {
        let reference = str_at(p, &["reference"]);
        let expr = format!("ServiceRequest.performer[{i}]");
        let candidate = if let Some(id) = reference.strip_prefix("HealthcareService/") {
            Some(id.to_string())
        } else if str_at(p, &["identifier", "system"]) == ACTIVITY_SYSTEM {
            Some(str_at(p, &["identifier", "value"]).to_string())
        } else if let Some(hs) = ctx
            .resolve(reference)
            .filter(|r| resource_type(r) == "HealthcareService")
        {
            hs.get("identifier")
                .and_then(Value::as_array)
                .and_then(|ids| {
                    ids.iter()
                        .find(|x| str_at(x, &["system"]) == ACTIVITY_SYSTEM)
                        .map(|x| str_at(x, &["value"]).to_string())
                })
        } else {
            None
        };
        if let Some(id) = candidate {
            match service::active_activity(state, &id).await {
                Ok(true) => return Ok(Some(id)),
                Ok(false) => {
                    return Err(vec![issue(
                        "not-found",
                        expr,
                        format!(
                            "There is no activity “{id}” in the directory (use the id of an Open Referral UK service)"
                        ),
                    )]);
                }
                Err(_) => {
                    return Err(vec![issue(
                        "exception",
                        expr,
                        "The activity could not be checked",
                    )]);
                }
            }
        }
    }
    Ok(None)
}

/// The referral's reason from `reasonCode`, `code` and `note` texts, joined; a referral
/// without any gets a stand-in, and one over the limit is refused (never cut short).
fn reason_text(sr: &Value) -> Result<ReferralReason, Issue> {
    let mut parts: Vec<String> = Vec::new();
    for key in ["reasonCode", "code"] {
        if let Some(arr) = sr
            .get(key)
            .map(|v| if v.is_array() { v.clone() } else { json!([v]) })
            .and_then(|v| v.as_array().cloned())
        {
            for c in arr {
                let t = str_at(&c, &["text"]);
                let d = str_at(&c, &["coding", "0", "display"]);
                let s = if t.is_empty() { d } else { t };
                if !s.is_empty() {
                    parts.push(s.to_string());
                }
            }
        }
    }
    if let Some(notes) = sr.get("note").and_then(Value::as_array) {
        parts.extend(
            notes
                .iter()
                .map(|n| str_at(n, &["text"]).to_string())
                .filter(|s| !s.is_empty()),
        );
    }
    let pi = str_at(sr, &["patientInstruction"]);
    if !pi.is_empty() {
        parts.push(pi.to_string());
    }
    let s = parts.join("\n");
    let s = if s.trim().is_empty() {
        "Electronic referral (no reason given)".to_string()
    } else {
        s
    };
    ReferralReason::parse(&s).map_err(|p| {
        let n = match p {
            ReasonProblem::TooLong(n) => n,
            ReasonProblem::Empty => 0,
        };
        issue(
            "too-long",
            "ServiceRequest.note",
            format!(
                "The reason (reasonCode, code and note texts together) has {n} characters; at most {} are accepted. Shorten it; nothing was stored.",
                ReferralReason::MAX_CHARS
            ),
        )
    })
}

async fn intake(
    state: &AppState,
    actor: &Actor,
    sr: &Value,
    ctx: &Context<'_>,
    fallback_identifier: Option<(String, String)>,
) -> Result<Intake, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut tasks = Vec::new();
    let person = match person_from_subject(sr, ctx, &mut tasks) {
        Ok(p) => Some(p),
        Err(mut e) => {
            issues.append(&mut e);
            None
        }
    };
    let activity = match activity_from_performers(state, sr, ctx).await {
        Ok(a) => a,
        Err(mut e) => {
            issues.append(&mut e);
            None
        }
    };
    let ident = sr
        .get("identifier")
        .and_then(|i| i.get(0))
        .map(|i| {
            (
                str_at(i, &["system"]).to_string(),
                str_at(i, &["value"]).to_string(),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .or(fallback_identifier);
    if ident.is_none() {
        issues.push(issue("required", "ServiceRequest.identifier", "ServiceRequest.identifier is required (system and value), so that a repeated submission is not taken twice"));
    }
    let valid = match person.map(|p| p.validate()) {
        Some(Ok(v)) => Some(v),
        Some(Err(fields)) => {
            issues.extend(
                fields
                    .into_iter()
                    .map(|f| issue("invalid", format!("Patient.{}", f.field), f.message)),
            );
            None
        }
        None => None,
    };
    let team = match actor.memberships.iter().find(|m| m.2 == Role::LinkWorker) {
        Some(m) => Some(m.0.clone()),
        None => service::intake_team(state).await.ok().flatten(),
    };
    if team.is_none() {
        issues.push(issue(
            "processing",
            "",
            "No social prescribing team is set up to receive referrals yet",
        ));
    }
    let reason = reason_text(sr).map_err(|i| issues.push(i)).ok();
    if !issues.is_empty() {
        return Err(issues);
    }
    let requester = str_at(sr, &["requester", "reference"]);
    let referrer_name = ctx
        .resolve(requester)
        .map(|p| {
            let n = p
                .get("name")
                .map(|n| {
                    if n.is_array() {
                        n.get(0).cloned().unwrap_or(Value::Null)
                    } else {
                        n.clone()
                    }
                })
                .unwrap_or(Value::Null);
            let t = str_at(&n, &["text"]);
            if t.is_empty() {
                format!(
                    "{} {}",
                    str_at(&n, &["given", "0"]),
                    str_at(&n, &["family"])
                )
                .trim()
                .to_string()
            } else {
                t.to_string()
            }
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| actor.display_name.clone());
    let (system, value) = ident.unwrap_or_default();
    let (Some(person), Some(team), Some(reason)) = (valid, team, reason) else {
        return Err(vec![issue(
            "exception",
            "",
            "The referral could not be read",
        )]);
    };
    Ok(Intake {
        referral: NewReferral {
            team_organisation_id: team,
            source: "fhir",
            referrer_user_id: Some(actor.user_id.clone()),
            referrer_organisation_id: actor.memberships.first().map(|m| m.0.clone()),
            referrer_name: referrer_name.chars().take(200).collect(),
            referrer_email: actor.email.clone(),
            source_system: Some(if system.is_empty() {
                "urn:ensemble:unspecified".into()
            } else {
                system
            }),
            source_identifier: Some(value),
            reason,
            person,
            consents: vec![],
            consent_method: "online",
            consent_witness: String::new(),
            activity_id: activity,
            extra_tasks: tasks,
        },
    })
}

fn fhir_status(s: Status) -> &'static str {
    match s {
        Status::Closed | Status::Reviewed => "completed",
        Status::Declined | Status::NotReached | Status::DidNotAttend => "revoked",
        _ => "active",
    }
}

fn iso(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A referral as a FHIR R4 ServiceRequest (no identity beyond the pseudonymous subject id).
pub fn service_request(r: &Referral) -> Value {
    let mut identifiers = vec![json!({ "system": REFERRAL_SYSTEM, "value": r.id })];
    if let Some(si) = &r.source_identifier {
        let (sys, val) = si.split_once('|').unwrap_or(("", si.as_str()));
        let mut id = json!({ "value": val });
        if !sys.is_empty() {
            id["system"] = json!(sys);
        }
        identifiers.push(id);
    }
    let mut v = json!({
        "resourceType": "ServiceRequest",
        "id": r.id,
        "identifier": identifiers,
        "status": fhir_status(r.status),
        "intent": "order",
        "code": { "coding": [{ "system": SNOMED_SYSTEM, "code": SNOMED_REFERRAL.0, "display": SNOMED_REFERRAL.1 }] },
        "subject": { "reference": format!("Patient/{}", r.person_id) },
        "authoredOn": iso(r.created_at),
        "note": [{ "text": format!("Ensemble status: {}", r.status.label()) }],
    });
    if let Some(a) = &r.activity_id {
        v["performer"] = json!([{ "reference": format!("HealthcareService/{a}"), "display": r.activity_name.clone().unwrap_or_default() }]);
    }
    v
}

/// The message back as a FHIR R4 Bundle (collection): the referral's status and an
/// Observation per SNOMED CT code; the person's details, activity and attendance only when
/// they agreed to share with their GP and referrer.
pub fn message_back_bundle(mb: &MessageBack) -> Value {
    let r = &mb.referral;
    let subject = format!("urn:uuid:{}", r.person_id);
    let mut sr = service_request(r);
    if !mb.consent_to_share
        && let Some(o) = sr.as_object_mut()
    {
        o.remove("performer");
        o.remove("note");
    }
    sr["subject"] = json!({ "reference": subject });
    let mut entries = vec![json!({ "fullUrl": format!("urn:uuid:{}", r.id), "resource": sr })];
    for (i, (code, display)) in mb.codes.iter().enumerate() {
        entries.push(json!({ "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{}:{i}", r.id).as_bytes())), "resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": { "coding": [{ "system": SNOMED_SYSTEM, "code": code, "display": display }] },
            "subject": { "reference": subject },
            "effectiveDateTime": iso(r.updated_at),
        }}));
    }
    // Latest wellbeing scores (only with consent to share): one Observation each, coded with
    // the instrument's SNOMED CT concept where it has one.
    for l in &mb.scores {
        let sc = &l.score;
        let code = match (&sc.snomed_code, &sc.snomed_display) {
            (Some(c), Some(d)) => {
                json!({ "coding": [{ "system": SNOMED_SYSTEM, "code": c, "display": d }], "text": format!("{}: {}", sc.instrument, sc.label) })
            }
            _ => json!({ "text": format!("{}: {}", sc.instrument, sc.label) }),
        };
        let mut obs = json!({
            "resourceType": "Observation",
            "status": "final",
            "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey" }] }],
            "code": code,
            "subject": { "reference": subject },
            "effectiveDateTime": iso(sc.completed_at),
            "valueQuantity": { "value": sc.value },
        });
        if let Some(b) = &sc.band {
            obs["interpretation"] = json!([{ "text": b }]);
        }
        entries.push(json!({ "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{}:{}:{}", sc.response_id, sc.score_id, r.id).as_bytes())), "resource": obs }));
    }
    if let Some((name, nhs, dob)) = &mb.person {
        let mut p = json!({ "resourceType": "Patient", "name": [{ "text": name }] });
        if !nhs.is_empty() {
            p["identifier"] = json!([{ "system": NHS_NUMBER_SYSTEM, "value": nhs }]);
        }
        if !dob.is_empty() {
            p["birthDate"] = json!(dob);
        }
        entries.push(json!({ "fullUrl": subject, "resource": p }));
        let mut text = format!("Outcome: {}.", mb.outcome);
        if let Some(a) = &mb.activity {
            text.push_str(&format!(" Activity: {a}."));
        }
        if let Some(n) = mb.sessions_attended {
            text.push_str(&format!(" Sessions attended: {n}."));
        }
        if let Some(g) = &mb.goals {
            text.push_str(&format!(" Goals in their words: {g}"));
        }
        entries[0]["resource"]["note"] = json!([{ "text": text }]);
    }
    json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("message-back:{}:{}", r.id, r.updated_at).as_bytes()).to_string(),
        "type": "collection",
        "timestamp": iso(crate::db::now()),
        "entry": entries,
    })
}

async fn create_from(
    state: &AppState,
    actor: &Actor,
    intake: Intake,
) -> Result<(Created, Referral), AppError> {
    let who = AuditActor {
        user_id: Some(actor.user_id.clone()),
        label: actor.channel.into(),
        request_id: actor.request_id.clone(),
    };
    let c = service::create(state, &who, &intake.referral).await?;
    let r = service::load(&state.db.write, &c.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((c, r))
}

fn schema_issues(state: &AppState, ty: &str, v: &Value) -> Vec<Issue> {
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

/// Send a referral as a FHIR R4 `ServiceRequest` (with the patient as a contained resource
/// or identified by NHS number and name). Checked against the R4 JSON Schema, then
/// Ensemble's rules; a repeat with the same identifier returns the first referral (200).
#[utoipa::path(post, path = "/api/v1/fhir/ServiceRequest", tag = "referrals", security(("token" = [])),
    request_body(content = serde_json::Value, content_type = "application/fhir+json", description = "A FHIR R4 ServiceRequest"),
    responses(
        (status = 201, description = "Created: the referral as a ServiceRequest", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 200, description = "Already received: the earlier referral", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 400, description = "Not JSON: an OperationOutcome", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "The identifier was used by another sender", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 415, description = "Not FHIR JSON", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 422, description = "Each problem as an OperationOutcome issue with its expression", body = serde_json::Value, content_type = "application/fhir+json")))]
pub async fn post_service_request(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v = match parse_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if resource_type(&v) != "ServiceRequest" {
        let got = resource_type(&v);
        let msg = if got.is_empty() {
            "The body has no resourceType: send a ServiceRequest".to_string()
        } else {
            format!(
                "Expected a ServiceRequest here, not a {got} (send message Bundles to $process-message)"
            )
        };
        return outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue("not-supported", "resourceType", msg)],
        );
    }
    let issues = schema_issues(&state, "ServiceRequest", &v);
    if !issues.is_empty() {
        return outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues);
    }
    let ctx = Context {
        entries: HashMap::new(),
        contained: v
            .get("contained")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|r| (str_at(r, &["id"]).to_string(), r))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let intake = match intake(&state, &actor, &v, &ctx, None).await {
        Ok(i) => i,
        Err(issues) => return outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues),
    };
    match create_from(&state, &actor, intake).await {
        Ok((c, r)) => {
            let mut resp = fhir_json(
                if c.created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                &service_request(&r),
            );
            if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/fhir/ServiceRequest/{}", r.id))
            {
                resp.headers_mut().insert(header::LOCATION, loc);
            }
            resp
        }
        Err(e) => app_error_outcome(e),
    }
}

/// Send a referral as a FHIR R4 message Bundle (NHS Booking and Referral Standard style):
/// the first entry a `MessageHeader`, its focus a `ServiceRequest`, the `Patient` an entry.
/// Answers with a response message Bundle.
#[utoipa::path(post, path = "/api/v1/fhir/$process-message", tag = "referrals", security(("token" = [])),
    request_body(content = serde_json::Value, content_type = "application/fhir+json", description = "A FHIR R4 Bundle of type message"),
    responses(
        (status = 201, description = "Created: a response message Bundle", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 200, description = "Already received", body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 400, body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 415, body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 422, body = serde_json::Value, content_type = "application/fhir+json")))]
pub async fn process_message(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v = match parse_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if resource_type(&v) != "Bundle" || str_at(&v, &["type"]) != "message" {
        return outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue(
                "not-supported",
                "Bundle.type",
                "Send a Bundle of type “message” whose first entry is a MessageHeader",
            )],
        );
    }
    let issues = schema_issues(&state, "Bundle", &v);
    if !issues.is_empty() {
        return outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues);
    }
    let entries: Vec<&Value> = v
        .get("entry")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let Some(header_res) = entries
        .first()
        .and_then(|e| e.get("resource"))
        .filter(|r| resource_type(r) == "MessageHeader")
    else {
        return outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue(
                "required",
                "Bundle.entry[0]",
                "The first entry of a message must be a MessageHeader",
            )],
        );
    };
    let ctx = Context {
        entries: entries
            .iter()
            .filter_map(|e| Some((str_at(e, &["fullUrl"]).to_string(), e.get("resource")?)))
            .collect(),
        contained: HashMap::new(),
    };
    let focus = str_at(header_res, &["focus", "0", "reference"]);
    let sr = ctx
        .resolve(focus)
        .filter(|r| resource_type(r) == "ServiceRequest")
        .or_else(|| {
            entries
                .iter()
                .filter_map(|e| e.get("resource"))
                .find(|r| resource_type(r) == "ServiceRequest")
        });
    let Some(sr) = sr else {
        return outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue(
                "required",
                "MessageHeader.focus",
                "The message carries no ServiceRequest",
            )],
        );
    };
    let bundle_id = str_at(&v, &["id"]).to_string();
    let fallback = (!bundle_id.is_empty()).then(|| {
        (
            "urn:ietf:rfc:3986:message-bundle".to_string(),
            bundle_id.clone(),
        )
    });
    let intake = match intake(&state, &actor, sr, &ctx, fallback).await {
        Ok(i) => i,
        Err(issues) => return outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues),
    };
    match create_from(&state, &actor, intake).await {
        Ok((c, r)) => {
            let response = json!({
                "resourceType": "Bundle",
                "id": uuid::Uuid::new_v4().to_string(),
                "type": "message",
                "timestamp": iso(crate::db::now()),
                "entry": [
                    { "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()), "resource": {
                        "resourceType": "MessageHeader",
                        "eventCoding": header_res.get("eventCoding").cloned().unwrap_or(json!({})),
                        "source": { "name": "Ensemble", "endpoint": format!("{}/api/v1/fhir", state.cfg.base_url) },
                        "response": { "identifier": if bundle_id.is_empty() { r.id.clone() } else { bundle_id.clone() }, "code": "ok" },
                        "focus": [{ "reference": format!("urn:uuid:{}", r.id) }]
                    }},
                    { "fullUrl": format!("urn:uuid:{}", r.id), "resource": service_request(&r) }
                ]
            });
            fhir_json(
                if c.created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                &response,
            )
        }
        Err(e) => app_error_outcome(e),
    }
}

/// A referral as a FHIR R4 `ServiceRequest` (the care team or the referrer).
#[utoipa::path(get, path = "/api/v1/fhir/ServiceRequest/{id}", tag = "referrals", security(("token" = [])),
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 404, body = serde_json::Value, content_type = "application/fhir+json")))]
pub async fn get_service_request(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    UrlPath(id): UrlPath<String>,
) -> Response {
    match service::read_for_referrer(&state, &actor, &id).await {
        Ok(r) => fhir_json(StatusCode::OK, &service_request(&r)),
        Err(e) => app_error_outcome(e),
    }
}

/// The message back to the referrer and GP as a FHIR R4 Bundle: the referral's status and
/// SNOMED CT coded observations; the person's details only with their consent.
#[utoipa::path(get, path = "/api/v1/referrals/{id}/message-back", tag = "referrals", security(("token" = [])),
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = serde_json::Value, content_type = "application/fhir+json"),
        (status = 404, body = serde_json::Value, content_type = "application/fhir+json")))]
pub async fn get_message_back(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    UrlPath(id): UrlPath<String>,
) -> Response {
    match service::message_back(&state, &actor, &id).await {
        Ok(mb) => fhir_json(StatusCode::OK, &message_back_bundle(&mb)),
        Err(e) => app_error_outcome(e),
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
