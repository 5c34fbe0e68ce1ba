//! What a FHIR request asks for, and whether it can be answered: the formats it accepts
//! (`Accept`, `_format`), its body and that body's size, and what a `ServiceRequest`'s
//! `status` and `intent` ask of Ensemble.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::intake::str_at;
use super::outcome::{Issue, issue, outcome};

/// What a `ServiceRequest` asks of Ensemble, by its `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ask {
    /// A referral (for a repeat of the same one, nothing).
    Refer,
    /// Withdraw the referral sent earlier under the same identifier; the status code sent.
    Withdraw(&'static str),
}

/// The largest request body taken, in bytes (2 MiB; a BaRS message is a few tens of KiB).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The R4 value set `request-status`.
const REQUEST_STATUS: &[&str] = &[
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
];
/// The R4 value set `request-intent`.
const REQUEST_INTENT: &[&str] = &[
    "proposal",
    "plan",
    "directive",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
];
/// The intents taken as a referral: a referrer proposing, planning or ordering social
/// prescribing. Directives, the filler's and reflex orders, instances and options are not
/// referrals to Ensemble.
const REFERRAL_INTENTS: &[&str] = &["proposal", "plan", "order", "original-order"];

/// Read the request body, up to [`MAX_BODY_BYTES`]; over it, 413 with a `too-long` issue.
#[allow(clippy::result_large_err)]
pub(super) async fn read_body(body: Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|e| {
        // The other way reading fails is the client going away, which nobody hears.
        if e.to_string().contains("length limit") {
            outcome(
                StatusCode::PAYLOAD_TOO_LARGE,
                &[issue(
                    "too-long",
                    "",
                    format!(
                        "The request body is over the limit of {} bytes (2 MiB): send one referral per request",
                        MAX_BODY_BYTES
                    ),
                )],
            )
        } else {
            outcome(
                StatusCode::BAD_REQUEST,
                &[issue(
                    "structure",
                    "",
                    "The request body could not be read: send it again",
                )],
            )
        }
    })
}

/// Refuse with 406 a request that rules out JSON, by its `_format` parameter (which wins)
/// or its `Accept` header: FHIR JSON is the only format served. A missing `Accept`, `*/*`,
/// `application/json` and `application/fhir+json` (with any parameters) are fine.
#[allow(clippy::result_large_err)]
pub(super) fn check_accept(headers: &HeaderMap, query: Option<&str>) -> Result<(), Response> {
    let format = query.and_then(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == "_format")
            .map(|(_, v)| v)
    });
    let (ok, what) = match format {
        Some(f) => (format_is_json(&f), format!("_format={f}")),
        None => {
            let accept = headers
                .get_all(header::ACCEPT)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(", ");
            (accepts_json(&accept), format!("Accept: {accept}"))
        }
    };
    if ok {
        return Ok(());
    }
    Err(outcome(
        StatusCode::NOT_ACCEPTABLE,
        &[issue(
            "not-supported",
            "",
            format!(
                "This server answers only in FHIR JSON (application/fhir+json), which the request rules out ({what}); ask for application/fhir+json"
            ),
        )],
    ))
}

fn format_is_json(f: &str) -> bool {
    let f = f
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        f.as_str(),
        "json" | "application/json" | "application/fhir+json" | "application/json+fhir"
    )
}

/// Whether an `Accept` header allows FHIR JSON or plain JSON: the most specific range that
/// matches either must have a quality above zero. An empty header accepts anything.
fn accepts_json(accept: &str) -> bool {
    if accept.trim().is_empty() {
        return true;
    }
    let ranges: Vec<(String, String, f32)> = accept
        .split(',')
        .filter_map(|r| {
            let mut parts = r.split(';');
            let (ty, sub) = parts
                .next()?
                .trim()
                .to_ascii_lowercase()
                .split_once('/')
                .map(|(t, s)| (t.trim().to_string(), s.trim().to_string()))?;
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((ty, sub, q))
        })
        .collect();
    ["fhir+json", "json", "json+fhir"].iter().any(|wanted| {
        ranges
            .iter()
            .filter_map(|(t, s, q)| {
                let specificity = match (t.as_str(), s.as_str()) {
                    ("application", s) if s == *wanted => 2,
                    ("application", "*") => 1,
                    ("*", "*") => 0,
                    _ => return None,
                };
                Some((specificity, *q))
            })
            .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
            .is_some_and(|(_, q)| q > 0.0)
    })
}

/// What a `ServiceRequest` asks for, from its `status` and `intent`; `at` is where it sits
/// (`ServiceRequest`, or `Bundle.entry[1].resource` in a message). `active` is a referral;
/// `revoked` and `entered-in-error` withdraw one sent earlier under the same identifier;
/// other codes of the value set are refused as not supported, and codes outside it as
/// invalid.
pub(super) fn ask_of(sr: &Value, at: &str) -> Result<Ask, Vec<Issue>> {
    let mut issues = Vec::new();
    let status = str_at(sr, &["status"]);
    let ask = match status {
        "active" => Some(Ask::Refer),
        "revoked" => Some(Ask::Withdraw("revoked")),
        "entered-in-error" => Some(Ask::Withdraw("entered-in-error")),
        other => {
            issues.push(code_issue(
                at,
                "status",
                other,
                REQUEST_STATUS,
                "request-status",
                "send “active” for a referral, or “revoked” or “entered-in-error” to withdraw one sent earlier under the same identifier",
            ));
            None
        }
    };
    let intent = str_at(sr, &["intent"]);
    if !REFERRAL_INTENTS.contains(&intent) {
        issues.push(code_issue(
            at,
            "intent",
            intent,
            REQUEST_INTENT,
            "request-intent",
            "a referral's intent is “order”, “original-order”, “proposal” or “plan”",
        ));
    }
    match ask {
        Some(a) if issues.is_empty() => Ok(a),
        _ => Err(issues),
    }
}

fn code_issue(
    at: &str,
    element: &str,
    code: &str,
    value_set: &[&str],
    value_set_name: &str,
    what_to_send: &str,
) -> Issue {
    let expression = format!("{at}.{element}");
    let vs = format!("http://hl7.org/fhir/ValueSet/{value_set_name}");
    if code.is_empty() {
        issue(
            "required",
            expression,
            format!("ServiceRequest.{element} is required (value set {vs}): {what_to_send}"),
        )
    } else if value_set.contains(&code) {
        issue(
            "not-supported",
            expression,
            format!(
                "A ServiceRequest with {element} “{code}” is not taken as a referral (value set {vs}): {what_to_send}"
            ),
        )
    } else {
        issue(
            "code-invalid",
            expression,
            format!(
                "“{code}” is not a code of the value set {vs} ({}): {what_to_send}",
                value_set.join(", ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_acceptable_unless_the_accept_header_or_format_rules_it_out() {
        for ok in [
            "",
            "*/*",
            "application/json",
            "application/fhir+json",
            "application/fhir+json; fhirVersion=4.0",
            "application/*",
            "application/fhir+xml;q=1, application/fhir+json;q=0.5",
            "text/html, */*;q=0.1",
        ] {
            assert!(accepts_json(ok), "{ok}");
        }
        for refused in [
            "application/fhir+xml",
            "application/xml",
            "text/html",
            "application/fhir+json;q=0, application/json;q=0",
            "*/*;q=0",
        ] {
            assert!(!accepts_json(refused), "{refused}");
        }
        assert!(format_is_json("json") && format_is_json("application/fhir+json"));
        assert!(!format_is_json("xml") && !format_is_json("application/fhir+xml"));
    }

    #[test]
    fn status_and_intent_outside_the_value_sets_are_named_with_their_place() {
        let sr = serde_json::json!({ "status": "draft", "intent": "wish" });
        let issues = ask_of(&sr, "Bundle.entry[1].resource").unwrap_err();
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].code, "not-supported");
        assert_eq!(issues[0].expression, "Bundle.entry[1].resource.status");
        assert_eq!(issues[1].code, "code-invalid");
        assert!(issues[1].diagnostics.contains("request-intent"));
        let revoke = serde_json::json!({ "status": "revoked", "intent": "plan" });
        assert_eq!(
            ask_of(&revoke, "ServiceRequest").unwrap(),
            Ask::Withdraw("revoked")
        );
    }
}
