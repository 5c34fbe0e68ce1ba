//! The FHIR `/api/v1` handlers: intake of a `ServiceRequest` or a message Bundle, and
//! reading a referral or its message back.

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::intake::{Context, create_from, intake, resource_type, str_at};
use super::openapi::{self, Bundle, IntakeErrors, ReadErrors};
use super::outcome::{app_error_outcome, fhir_json, issue, outcome, parse_body};
use super::output::{message_back_bundle, response_message, service_request};
use super::schema::schema_issues;
use crate::modules::referrals::service::{self, Referral};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;

/// Send a referral as a FHIR R4 `ServiceRequest` (with the patient as a contained resource
/// or identified by NHS number and name). Checked against the R4 JSON Schema, then
/// Ensemble's rules; a repeat with the same identifier returns the first referral (200).
#[utoipa::path(post, path = "/api/v1/fhir/ServiceRequest", tag = "referrals", security(("token" = [])),
    request_body(content((openapi::ServiceRequest = "application/fhir+json"), (openapi::ServiceRequest = "application/json")), description = "A FHIR R4 ServiceRequest"),
    responses(
        (status = 201, description = "Created: the referral as a ServiceRequest", body = openapi::ServiceRequest, content_type = "application/fhir+json",
            headers(("Location" = String, description = "`/api/v1/fhir/ServiceRequest/<id>`"))),
        (status = 200, description = "Already received from you: the earlier referral", body = openapi::ServiceRequest, content_type = "application/fhir+json"),
        IntakeErrors))]
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
    if let Err(r) = check_service_request(&state, &v) {
        return r;
    }
    let ctx = Context::contained_in(&v);
    let intake = match intake(&state, &actor, &v, &ctx, None).await {
        Ok(i) => i,
        Err(issues) => return outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues),
    };
    match create_from(&state, &actor, intake).await {
        Ok((c, r)) => created_service_request(c.created, &r),
        Err(e) => app_error_outcome(e),
    }
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

/// 201 for a new referral, 200 for a repeat of an earlier one.
fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// The referral as a `ServiceRequest`, with its Location.
fn created_service_request(created: bool, r: &Referral) -> Response {
    let mut resp = fhir_json(created_or_ok(created), &service_request(r));
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/fhir/ServiceRequest/{}", r.id)) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}

/// Send a referral as a FHIR R4 message Bundle (NHS Booking and Referral Standard style):
/// the first entry a `MessageHeader`, its focus a `ServiceRequest`, the `Patient` an entry.
/// Answers with a response message Bundle.
#[utoipa::path(post, path = "/api/v1/fhir/$process-message", tag = "referrals", security(("token" = [])),
    request_body(content((Bundle = "application/fhir+json"), (Bundle = "application/json")), description = "A FHIR R4 Bundle of type message"),
    responses(
        (status = 201, description = "Created: a response message Bundle whose MessageHeader says `ok`", body = Bundle, content_type = "application/fhir+json"),
        (status = 200, description = "Already received from you: the response message for the earlier referral", body = Bundle, content_type = "application/fhir+json"),
        IntakeErrors))]
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
    let m = match read_message(&state, &v) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let bundle_id = str_at(&v, &["id"]).to_string();
    let fallback = (!bundle_id.is_empty()).then(|| {
        (
            "urn:ietf:rfc:3986:message-bundle".to_string(),
            bundle_id.clone(),
        )
    });
    let intake = match intake(&state, &actor, m.service_request, &m.ctx, fallback).await {
        Ok(i) => i,
        Err(issues) => return outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues),
    };
    match create_from(&state, &actor, intake).await {
        Ok((c, r)) => fhir_json(
            created_or_ok(c.created),
            &response_message(&state.cfg.base_url, m.header, &bundle_id, &r),
        ),
        Err(e) => app_error_outcome(e),
    }
}

/// A message Bundle's parts: its `MessageHeader`, its entries, and the `ServiceRequest`.
struct Message<'a> {
    header: &'a Value,
    ctx: Context<'a>,
    service_request: &'a Value,
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
    Ok(Message {
        header: header_res,
        ctx,
        service_request: sr,
    })
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
        (status = 200, description = "The message back: a `collection` Bundle", body = Bundle, content_type = "application/fhir+json"),
        ReadErrors))]
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
