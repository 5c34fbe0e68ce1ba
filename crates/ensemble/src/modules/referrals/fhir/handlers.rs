//! The FHIR `/api/v1` handlers: intake of a `ServiceRequest` or a message Bundle, and
//! reading a referral or its message back.

use axum::body::Body;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::intake::{Context, read_referral, resource_type, str_at, take};
use super::openapi::{self, Bundle, IntakeErrors, ReadErrors};
use super::outcome::{app_error_outcome, fhir_json, issue, outcome, parse_body, refusal_outcome};
use super::output::{message_back_bundle, response_message, service_request};
use super::request::{check_accept, read_body};
use super::schema::schema_issues;
use super::{MESSAGE_BUNDLE_SYSTEM, URI_SYSTEM};
use crate::modules::referrals::service::{self, Receipt};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;

/// Send a referral as a FHIR R4 `ServiceRequest` (with the patient as a contained resource
/// or identified by NHS number and name). Checked against the R4 JSON Schema, then
/// Ensemble's rules (status `active`; intent `order`, `original-order`, `proposal` or
/// `plan`). An exact repeat with the same identifier returns the referral (200), a changed
/// one is refused (409), and status `revoked` or `entered-in-error` withdraws it (200).
#[utoipa::path(post, path = "/api/v1/fhir/ServiceRequest", tag = "referrals", security(("token" = [])),
    request_body(content((openapi::ServiceRequest = "application/fhir+json"), (openapi::ServiceRequest = "application/json")), description = "A FHIR R4 ServiceRequest"),
    responses(
        (status = 201, description = "Created: the referral as a ServiceRequest", body = openapi::ServiceRequest, content_type = "application/fhir+json",
            headers(("Location" = String, description = "`/api/v1/fhir/ServiceRequest/<id>`"))),
        (status = 200, description = "Already received from you (the referral as it is now), or withdrawn (status revoked)", body = openapi::ServiceRequest, content_type = "application/fhir+json"),
        IntakeErrors))]
pub async fn post_service_request(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    take_service_request(&state, &actor, &headers, query.as_deref(), body)
        .await
        .unwrap_or_else(|refused| refused)
}

#[allow(clippy::result_large_err)]
async fn take_service_request(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> Result<Response, Response> {
    check_accept(headers, query)?;
    let v = parse_body(headers, &read_body(body).await?)?;
    check_service_request(state, &v)?;
    let ctx = Context::contained_in(&v);
    let asked = read_referral(state, actor, &v, &ctx, "ServiceRequest", None).await?;
    let (receipt, r) = take(state, actor, asked)
        .await
        .map_err(|e| refusal_outcome(e, "ServiceRequest"))?;
    let mut resp = fhir_json(
        answer_status(&receipt),
        &service_request(&r, &state.cfg.base_url),
    );
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/fhir/ServiceRequest/{}", r.id)) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// Refuse a body that is not a `ServiceRequest`, or that breaks the R4 JSON Schema.
#[allow(clippy::result_large_err)]
fn check_service_request(state: &AppState, v: &Value) -> Result<(), Response> {
    if resource_type(v) != "ServiceRequest" {
        let got = resource_type(v);
        let msg = if got.is_empty() {
            "The body has no resourceType: send a ServiceRequest".to_string()
        } else {
            format!(
                "Expected a ServiceRequest here, not a {got} (send message Bundles to $process-message)"
            )
        };
        return Err(outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue("not-supported", "resourceType", msg)],
        ));
    }
    let issues = schema_issues(state, "ServiceRequest", v);
    if !issues.is_empty() {
        return Err(outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues));
    }
    Ok(())
}

/// 201 for a new referral; 200 for a repeat of an earlier one, or a withdrawal.
fn answer_status(receipt: &Receipt) -> StatusCode {
    match receipt {
        Receipt::Created(_) => StatusCode::CREATED,
        Receipt::Repeat(_) | Receipt::Withdrawn(_) => StatusCode::OK,
    }
}

/// Send a referral as a FHIR R4 message Bundle (NHS Booking and Referral Standard style):
/// the first entry a `MessageHeader`, its focus a `ServiceRequest`, the `Patient` an entry.
/// Answers with a response message Bundle.
#[utoipa::path(post, path = "/api/v1/fhir/$process-message", tag = "referrals", security(("token" = [])),
    request_body(content((Bundle = "application/fhir+json"), (Bundle = "application/json")), description = "A FHIR R4 Bundle of type message"),
    responses(
        (status = 201, description = "Created: a response message Bundle whose MessageHeader says `ok`", body = Bundle, content_type = "application/fhir+json"),
        (status = 200, description = "Already received from you, or withdrawn: the response message for the referral", body = Bundle, content_type = "application/fhir+json"),
        IntakeErrors))]
pub async fn process_message(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    take_message(&state, &actor, &headers, query.as_deref(), body)
        .await
        .unwrap_or_else(|refused| refused)
}

#[allow(clippy::result_large_err)]
async fn take_message(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> Result<Response, Response> {
    check_accept(headers, query)?;
    let v = parse_body(headers, &read_body(body).await?)?;
    let m = read_message(state, &v)?;
    let fallback = bundle_identifier(str_at(&v, &["id"]));
    let asked = read_referral(state, actor, m.service_request, &m.ctx, &m.at, fallback).await?;
    let (receipt, r) = take(state, actor, asked)
        .await
        .map_err(|e| refusal_outcome(e, &m.at))?;
    let answer = response_message(&state.cfg.base_url, m.header, &m.header_id, &r);
    Ok(fhir_json(answer_status(&receipt), &answer))
}

/// The identifier of a message whose `ServiceRequest` has none: its Bundle id, as a
/// `urn:uuid:` URI when it is a UUID (BaRS Bundle ids are), else under an internal system.
fn bundle_identifier(bundle_id: &str) -> Option<(String, String)> {
    if bundle_id.is_empty() {
        return None;
    }
    Some(match uuid::Uuid::parse_str(bundle_id) {
        Ok(u) => (
            URI_SYSTEM.to_string(),
            format!("urn:uuid:{}", u.hyphenated()),
        ),
        Err(_) => (MESSAGE_BUNDLE_SYSTEM.to_string(), bundle_id.to_string()),
    })
}

/// A message Bundle's parts: its `MessageHeader`, its entries, and the `ServiceRequest`.
struct Message<'a> {
    header: &'a Value,
    /// The request `MessageHeader`'s id (or its `urn:uuid:` fullUrl's), which the response
    /// names.
    header_id: String,
    ctx: Context<'a>,
    service_request: &'a Value,
    /// Where the `ServiceRequest` sits: `Bundle.entry[1].resource`.
    at: String,
}

/// Read a message Bundle: refused unless it is a Bundle of type message, valid against the
/// R4 JSON Schema, opening with a `MessageHeader` and carrying a `ServiceRequest`.
#[allow(clippy::result_large_err)]
fn read_message<'a>(state: &AppState, v: &'a Value) -> Result<Message<'a>, Response> {
    if resource_type(v) != "Bundle" || str_at(v, &["type"]) != "message" {
        return Err(outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue(
                "not-supported",
                "Bundle.type",
                "Send a Bundle of type “message” whose first entry is a MessageHeader",
            )],
        ));
    }
    let issues = schema_issues(state, "Bundle", v);
    if !issues.is_empty() {
        return Err(outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues));
    }
    let entries: Vec<&Value> = v
        .get("entry")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let Some(header_res) = entries
        .first()
        .copied()
        .and_then(|e| e.get("resource"))
        .filter(|r| resource_type(r) == "MessageHeader")
    else {
        return Err(outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue(
                "required",
                "Bundle.entry[0]",
                "The first entry of a message must be a MessageHeader",
            )],
        ));
    };
    let ctx = Context::entries_of(&entries);
    let focus = str_at(header_res, &["focus", "0", "reference"]);
    let sr = ctx
        .resolve(focus)
        .filter(|r| resource_type(r) == "ServiceRequest")
        .or_else(|| {
            entries
                .iter()
                .copied()
                .filter_map(|e| e.get("resource"))
                .find(|r| resource_type(r) == "ServiceRequest")
        });
    let Some(sr) = sr else {
        return Err(outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue(
                "required",
                "MessageHeader.focus",
                "The message carries no ServiceRequest",
            )],
        ));
    };
    let Some(header_id) = header_id(entries[0], header_res) else {
        return Err(outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue(
                "required",
                "Bundle.entry[0].resource.id",
                "The MessageHeader needs an id, or a fullUrl “urn:uuid:…”, for the response to name it",
            )],
        ));
    };
    let index = entries
        .iter()
        .position(|e| e.get("resource").is_some_and(|r| std::ptr::eq(r, sr)))
        .unwrap_or_default();
    Ok(Message {
        header: header_res,
        header_id,
        ctx,
        service_request: sr,
        at: format!("Bundle.entry[{index}].resource"),
    })
}

/// A `MessageHeader`'s id: its `id`, else the UUID of a `urn:uuid:` fullUrl (as BaRS sends
/// it), else the last part of a `…/MessageHeader/<id>` fullUrl.
fn header_id(entry: &Value, header: &Value) -> Option<String> {
    let id = str_at(header, &["id"]);
    if !id.is_empty() {
        return Some(id.to_string());
    }
    let full_url = str_at(entry, &["fullUrl"]);
    full_url
        .strip_prefix("urn:uuid:")
        .or_else(|| full_url.rsplit_once("/MessageHeader/").map(|(_, id)| id))
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

/// A referral as a FHIR R4 `ServiceRequest` (the care team or the referrer).
#[utoipa::path(get, path = "/api/v1/fhir/ServiceRequest/{id}", tag = "referrals", security(("token" = [])),
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, description = "The referral as a ServiceRequest", body = openapi::ServiceRequest, content_type = "application/fhir+json"),
        ReadErrors))]
pub async fn get_service_request(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    UrlPath(id): UrlPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check_accept(&headers, query.as_deref()) {
        return r;
    }
    match service::read_for_referrer(&state, &actor, &id).await {
        Ok(r) => fhir_json(StatusCode::OK, &service_request(&r, &state.cfg.base_url)),
        Err(e) => app_error_outcome(e),
    }
}

/// The message back to the referrer and GP as a FHIR R4 Bundle: the referral's status and
/// SNOMED CT coded observations; the person's details only with their consent.
#[utoipa::path(get, path = "/api/v1/referrals/{id}/message-back", tag = "referrals", security(("token" = [])),
    params(("id" = String, Path, description = "Referral id")),
    responses(
        (status = 200, description = "The message back: a `collection` Bundle", body = Bundle, content_type = "application/fhir+json"),
        ReadErrors))]
pub async fn get_message_back(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    UrlPath(id): UrlPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check_accept(&headers, query.as_deref()) {
        return r;
    }
    match service::message_back(&state, &actor, &id).await {
        Ok(mb) => fhir_json(
            StatusCode::OK,
            &message_back_bundle(&mb, &state.cfg.base_url),
        ),
        Err(e) => app_error_outcome(e),
    }
}
