//! `OperationOutcome` answers naming each problem, and reading the request body.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::AppError;
use crate::modules::referrals::service::Refusal;

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

pub(super) fn issue(
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

/// An `OperationOutcome` response. An outcome carrying a `transient` issue (the database
/// could not be asked) is always 503 with `Retry-After` and only the transient issues,
/// whatever status the caller gave: a fault found while checking a referral must never
/// read as a refusal, which a sending system would not retry.
pub fn outcome(status: StatusCode, issues: &[Issue]) -> Response {
    if issues.iter().any(|i| i.code == TRANSIENT) {
        let transient: Vec<Issue> = issues
            .iter()
            .filter(|i| i.code == TRANSIENT)
            .cloned()
            .collect();
        let mut r = outcome_body(StatusCode::SERVICE_UNAVAILABLE, &transient);
        crate::error::set_retry_after(&mut r);
        return r;
    }
    outcome_body(status, issues)
}

/// The issue code for "could not be checked now; send it again".
pub(super) const TRANSIENT: &str = "transient";

/// A `transient` issue: the database could not be asked about `expression`.
pub(super) fn transient(expression: impl Into<String>, what: &str) -> Issue {
    issue(
        TRANSIENT,
        expression,
        format!(
            "{what} could not be checked because the database is unavailable for a moment; nothing was stored: send the same request again after the number of seconds in Retry-After"
        ),
    )
}

fn outcome_body(status: StatusCode, issues: &[Issue]) -> Response {
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

pub(super) fn fhir_json(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json; fhirVersion=4.0"),
    );
    r
}

/// An error as an `OperationOutcome`: what every FHIR route answers, its refusals by the
/// route policy included (the routes declare it with `Route::errors_as`).
pub fn app_error_outcome(e: AppError) -> Response {
    let status = e.status();
    match e {
        AppError::Invalid(fields) => outcome(
            status,
            &fields
                .iter()
                .map(|f| issue("invalid", f.field.clone(), f.message.clone()))
                .collect::<Vec<_>>(),
        ),
        AppError::Unavailable(_) => {
            e.log();
            outcome(status, &[transient("", "The request")])
        }
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
        AppError::Unauthenticated => {
            let mut r = outcome(
                status,
                &[issue(
                    "login",
                    "",
                    "Send a live API token as Authorization: Bearer ens_…",
                )],
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ensemble\""),
            );
            r
        }
        AppError::NotFound => outcome(status, &[issue("not-found", "", "No such referral")]),
        AppError::Conflict(m) => outcome(status, &[issue("conflict", "", m)]),
        AppError::TooManyRequests(m) => outcome(status, &[issue("throttled", "", m)]),
        AppError::BadRequest(m) => outcome(status, &[issue("structure", "", m)]),
        // Every variant is named above today; this keeps a new one answering sensibly.
        #[allow(unreachable_patterns)]
        other => outcome(status, &[issue("processing", "", other.to_string())]),
    }
}

#[allow(clippy::result_large_err)]
pub(super) fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
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

/// Why a referral was not taken, as an `OperationOutcome`; `at` is where its
/// `ServiceRequest` sits (`ServiceRequest`, or `Bundle.entry[1].resource`).
pub(super) fn refusal_outcome(refusal: Refusal, at: &str) -> Response {
    let status_at = format!("{at}.status");
    match refusal {
        Refusal::App(e) => app_error_outcome(e),
        Refusal::Differs(parts) => outcome(
            StatusCode::CONFLICT,
            &parts
                .iter()
                .map(|part| {
                    let (element, what) = match part.as_str() {
                        "nhs_number" => ("subject", "the patient's NHS number"),
                        "name" => ("subject", "the patient's name"),
                        "birth_date" => ("subject", "the patient's date of birth"),
                        "reason" => ("reasonCode", "the reason (reasonCode, code, note and patientInstruction texts)"),
                        "activity" => ("performer", "the activity asked for"),
                        other => (other, other),
                    };
                    issue("conflict", format!("{at}.{element}"), format!(
                        "A referral was already received under this identifier, and this one differs in {what}. Nothing was changed: a referral is not updated by sending it again. Withdraw it (status “revoked”) and send a new one with a new identifier, or tell the link worker"
                    ))
                })
                .collect::<Vec<_>>(),
        ),
        Refusal::NothingToWithdraw => outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue(
                "business-rule",
                status_at,
                "A ServiceRequest with status “revoked” or “entered-in-error” (value set http://hl7.org/fhir/ValueSet/request-status) withdraws a referral sent earlier under the same identifier, and none was received under this one: send “active” for a new referral",
            )],
        ),
        Refusal::AlreadyClosed(s) => outcome(
            StatusCode::CONFLICT,
            &[issue(
                "business-rule",
                status_at,
                format!(
                    "The referral is already closed (“{}”), so it cannot be withdrawn; nothing was changed",
                    s.label()
                ),
            )],
        ),
        Refusal::WasWithdrawn => outcome(
            StatusCode::CONFLICT,
            &[issue(
                "business-rule",
                status_at,
                "This referral was withdrawn. To refer the person again, send a new ServiceRequest with a new identifier",
            )],
        ),
    }
}
