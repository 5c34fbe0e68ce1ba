//! FHIR R4 exchange beyond the first intake (issue 13): status and intent, repeats,
//! changes and withdrawals under one identifier, the response message, the body limit,
//! content negotiation, the policy's refusals, references inside Bundles and identifier
//! systems. Every FHIR body is checked against the R4 JSON Schema.

use std::collections::HashSet;

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};

use super::*;
use crate::support::Resp;

/// An API token for `user_id` with these scopes.
async fn token(w: &World, user_id: &str, scopes: &[&str]) -> String {
    let actor = Actor {
        user_id: user_id.to_string(),
        display_name: "t".into(),
        email: "t@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "api",
    };
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    ensemble::modules::accounts::service::create_token(&w.app.state, &actor, "t", &scopes, "")
        .await
        .unwrap()
}

/// The referring clinician's token (not a link worker: referrals go to the intake team).
async fn clinician_token(w: &World) -> String {
    let id = w.clinician.1.clone();
    token(w, &id, &["referrals:write", "referrals:read"]).await
}

/// Send a request with these headers (FHIR JSON content type unless one is given).
async fn send(
    w: &World,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Resp {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if body.is_some()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        b = b.header(header::CONTENT_TYPE, "application/fhir+json");
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = body.map(Body::from).unwrap_or_else(Body::empty);
    w.app.client().send(b.body(body).unwrap()).await
}

async fn post(w: &World, path: &str, token: &str, body: &Value) -> Resp {
    send(w, "POST", path, Some(token), &[], Some(body.to_string())).await
}

/// The body as FHIR: `application/fhir+json`, and valid R4 for its resource type.
fn fhir(w: &World, r: &Resp) -> Value {
    let ct = r
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(ct.starts_with("application/fhir+json"), "{ct}: {}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let ty = v["resourceType"].as_str().unwrap().to_string();
    let schema = w
        .app
        .state
        .ext::<ensemble::modules::referrals::fhir::SchemaValidator>();
    if let Some(problems) = schema.check(&ty, &v) {
        assert!(
            problems.is_empty(),
            "not valid R4: {:?}\n{}",
            problems.iter().map(|i| &i.diagnostics).collect::<Vec<_>>(),
            r.body
        );
    }
    assert!(!r.body.contains("urn:ensemble:"), "{}", r.body);
    v
}

/// Every `reference` in a Bundle names one of its entries.
fn references_resolve_inside(bundle: &Value) {
    let urls: HashSet<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["fullUrl"].as_str())
        .collect();
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x.as_str()) {
                        ("reference", Some(r)) => out.push(r),
                        _ => walk(x, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(bundle, &mut refs);
    for r in refs {
        assert!(urls.contains(r), "{r} is not in the Bundle: {bundle}");
    }
}

/// A standalone ServiceRequest for Ada Lovelace under `identifier`, with `extra` merged in
/// (a null removes the key).
fn service_request(identifier: &str, extra: Value) -> Value {
    let mut v = json!({
        "resourceType": "ServiceRequest",
        "identifier": [{ "system": "https://gp.example/referrals", "value": identifier }],
        "status": "active", "intent": "order",
        "contained": [{ "resourceType": "Patient", "id": "p", "name": [{ "given": ["Ada"], "family": "Lovelace" }],
                        "identifier": [{ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919" }], "birthDate": "1960-12-10" }],
        "subject": { "reference": "#p" },
        "note": [{ "text": "Isolated; loves music" }]
    });
    for (k, val) in extra.as_object().unwrap() {
        if val.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = val.clone();
        }
    }
    v
}

/// A message Bundle carrying `sr` as its second entry, for a Patient entry.
fn message(bundle_id: &str, header_id: Option<&str>, sr: Value) -> Value {
    let mut sr = sr;
    sr.as_object_mut().unwrap().remove("contained");
    sr["subject"] = json!({ "reference": "urn:uuid:5a0b1a6e-0000-4000-8000-000000000003" });
    let mut header = json!({
        "resourceType": "MessageHeader",
        "eventCoding": { "system": "https://fhir.nhs.uk/CodeSystem/message-events-bars", "code": "servicerequest-request" },
        "source": { "endpoint": "https://gp.example/fhir" },
        "focus": [{ "reference": "urn:uuid:5a0b1a6e-0000-4000-8000-000000000002" }]
    });
    if let Some(id) = header_id {
        header["id"] = json!(id);
    }
    json!({
        "resourceType": "Bundle", "id": bundle_id, "type": "message",
        "entry": [
            { "fullUrl": "urn:uuid:5a0b1a6e-0000-4000-8000-000000000001", "resource": header },
            { "fullUrl": "urn:uuid:5a0b1a6e-0000-4000-8000-000000000002", "resource": sr },
            { "fullUrl": "urn:uuid:5a0b1a6e-0000-4000-8000-000000000003", "resource": {
                "resourceType": "Patient", "name": [{ "given": ["Ada"], "family": "Lovelace" }],
                "identifier": [{ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919" }] } }
        ]
    })
}

const SR: &str = "/api/v1/fhir/ServiceRequest";
const MESSAGE: &str = "/api/v1/fhir/$process-message";

#[tokio::test]
async fn a_service_request_that_is_not_active_or_not_a_referral_intent_is_refused_naming_the_element_and_value_set()
 {
    let w = world().await;
    let t = clinician_token(&w).await;
    for (status, intent, code, expr) in [
        ("draft", "order", "not-supported", "ServiceRequest.status"),
        (
            "completed",
            "order",
            "not-supported",
            "ServiceRequest.status",
        ),
        ("on-hold", "order", "not-supported", "ServiceRequest.status"),
        ("active", "wish", "code-invalid", "ServiceRequest.intent"),
        (
            "active",
            "filler-order",
            "not-supported",
            "ServiceRequest.intent",
        ),
        (
            "cancelled",
            "order",
            "code-invalid",
            "ServiceRequest.status",
        ),
    ] {
        let r = post(
            &w,
            SR,
            &t,
            &service_request(
                &format!("S-{status}-{intent}"),
                json!({ "status": status, "intent": intent }),
            ),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{status}/{intent}: {}",
            r.body
        );
        let o = fhir(&w, &r);
        assert_eq!(o["issue"][0]["code"], code, "{}", r.body);
        assert_eq!(o["issue"][0]["expression"][0], expr, "{}", r.body);
        let vs = if expr.ends_with("status") {
            "request-status"
        } else {
            "request-intent"
        };
        assert!(r.body.contains(vs), "{}", r.body);
    }
    // Revoked or entered in error for an identifier never seen: nothing to withdraw.
    for status in ["revoked", "entered-in-error"] {
        let r = post(
            &w,
            SR,
            &t,
            &service_request("never-sent", json!({ "status": status })),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let o = fhir(&w, &r);
        assert_eq!(o["issue"][0]["expression"][0], "ServiceRequest.status");
        assert!(r.body.contains("request-status"), "{}", r.body);
    }
    // In a message, the place is the Bundle entry.
    let m = message(
        "5a0b1a6e-0000-4000-8000-0000000000aa",
        None,
        service_request("M-1", json!({ "status": "draft" })),
    );
    let r = post(&w, MESSAGE, &t, &m).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        fhir(&w, &r)["issue"][0]["expression"][0],
        "Bundle.entry[1].resource.status"
    );
    // The accepted intents each make a referral.
    for intent in ["order", "original-order", "proposal", "plan"] {
        let r = post(
            &w,
            SR,
            &t,
            &service_request(&format!("I-{intent}"), json!({ "intent": intent })),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{intent}: {}", r.body);
        fhir(&w, &r);
    }
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 4);
}

#[tokio::test]
async fn a_revoked_repeat_withdraws_the_referral_with_an_event_and_an_email_to_the_team() {
    let w = world().await;
    let t = clinician_token(&w).await;
    let sent = service_request("W-1", json!({}));
    let r = post(&w, SR, &t, &sent).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = fhir(&w, &r)["id"].as_str().unwrap().to_string();

    let mut revoked = sent.clone();
    revoked["status"] = json!("revoked");
    // Only the identifier matters to a withdrawal: an activity gone from the directory
    // does not stop it.
    revoked["performer"] = json!([{ "reference": "HealthcareService/no-longer-listed" }]);
    let r = post(&w, SR, &t, &revoked).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sr = fhir(&w, &r);
    assert_eq!(
        (sr["id"].as_str(), sr["status"].as_str()),
        (Some(id.as_str()), Some("revoked"))
    );
    assert_eq!(
        count_for(&w.app, "SELECT COUNT(*) FROM referrals WHERE id = $1 AND status = 'closed' AND status_reason = 'Withdrawn by the referrer' AND closed_at IS NOT NULL", &id).await,
        1
    );
    assert_eq!(
        count_for(&w.app, "SELECT COUNT(*) FROM referral_events WHERE referral_id = $1 AND kind = 'status' AND to_status = 'closed' AND body = 'Withdrawn by the referrer'", &id).await,
        1
    );
    assert_eq!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM referral_tasks WHERE referral_id = $1 AND done_at IS NULL",
            &id
        )
        .await,
        0,
        "open tasks are done"
    );
    let lw = w.lw.1.clone();
    assert_eq!(
        count_for(&w.app, "SELECT COUNT(*) FROM outbox WHERE subject = 'A referral was withdrawn' AND to_address = (SELECT email FROM users WHERE id = $1)", &lw).await,
        1,
        "the team hears of it"
    );
    assert_eq!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'referral.withdraw' AND entity_id = $1",
            &id
        )
        .await,
        1
    );
    // The read says so too.
    let back = send(&w, "GET", &format!("{SR}/{id}"), Some(&t), &[], None).await;
    assert_eq!(fhir(&w, &back)["status"], "revoked");
    // Withdrawing again, or as entered in error, changes nothing and says the same.
    for status in ["revoked", "entered-in-error"] {
        revoked["status"] = json!(status);
        let r = post(&w, SR, &t, &revoked).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(fhir(&w, &r)["status"], "revoked");
    }
    assert_eq!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM referral_events WHERE referral_id = $1 AND to_status = 'closed'",
            &id
        )
        .await,
        1
    );
    // Sending it as active again does not bring it back.
    let r = post(&w, SR, &t, &sent).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let o = fhir(&w, &r);
    assert_eq!(o["issue"][0]["expression"][0], "ServiceRequest.status");
    assert!(r.body.contains("withdrawn"), "{}", r.body);
    // Another sender cannot withdraw it.
    let other = token(&w, &w.lw2.1.clone(), &["referrals:write"]).await;
    let r = post(&w, SR, &other, &revoked).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(!fhir(&w, &r).to_string().contains(&id));
}

#[tokio::test]
async fn a_withdrawal_in_a_message_answers_with_a_response_message() {
    let w = world().await;
    let t = clinician_token(&w).await;
    let m = message(
        "5a0b1a6e-0000-4000-8000-0000000000bb",
        None,
        service_request("MW-1", json!({})),
    );
    let r = post(&w, MESSAGE, &t, &m).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut withdraw = m.clone();
    withdraw["id"] = json!("5a0b1a6e-0000-4000-8000-0000000000bc");
    withdraw["entry"][1]["resource"]["status"] = json!("entered-in-error");
    let r = post(&w, MESSAGE, &t, &withdraw).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = fhir(&w, &r);
    references_resolve_inside(&b);
    assert_eq!(b["entry"][0]["resource"]["response"]["code"], "ok");
    assert_eq!(b["entry"][1]["resource"]["status"], "revoked");
}

#[tokio::test]
async fn a_repeat_with_a_changed_patient_or_reason_is_refused_with_409_naming_what_differs() {
    let w = world().await;
    let t = clinician_token(&w).await;
    let sent = service_request(
        "C-1",
        json!({ "performer": [{ "reference": format!("HealthcareService/{}", w.activity) }] }),
    );
    let r = post(&w, SR, &t, &sent).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = fhir(&w, &r)["id"].as_str().unwrap().to_string();
    // The exact repeat is idempotent.
    let r = post(&w, SR, &t, &sent).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(fhir(&w, &r)["id"], id.as_str());
    // Another patient under the same identifier.
    let mut other_patient = sent.clone();
    other_patient["contained"][0]["identifier"][0]["value"] = json!("9000000009");
    let r = post(&w, SR, &t, &other_patient).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let o = fhir(&w, &r);
    assert_eq!(o["issue"].as_array().unwrap().len(), 1, "{}", r.body);
    assert_eq!(o["issue"][0]["expression"][0], "ServiceRequest.subject");
    assert!(r.body.contains("NHS number"), "{}", r.body);
    // Another name and reason.
    let mut changed = sent.clone();
    changed["contained"][0]["name"][0]["given"] = json!(["Augusta"]);
    changed["note"] = json!([{ "text": "Now wants to paint" }]);
    let r = post(&w, SR, &t, &changed).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let o = fhir(&w, &r);
    let exprs: Vec<&str> = o["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["expression"][0].as_str().unwrap())
        .collect();
    assert_eq!(
        exprs,
        ["ServiceRequest.subject", "ServiceRequest.reasonCode"],
        "{}",
        r.body
    );
    assert!(
        r.body.contains("name") && r.body.contains("reason"),
        "{}",
        r.body
    );
    // Another activity.
    let mut other_activity = sent.clone();
    other_activity.as_object_mut().unwrap().remove("performer");
    let r = post(&w, SR, &t, &other_activity).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        fhir(&w, &r)["issue"][0]["expression"][0],
        "ServiceRequest.performer"
    );
    // Nothing changed: one referral, one person, the first reason.
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 1);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM people").await, 1);
    assert_eq!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM referrals WHERE id = $1 AND reason = 'Isolated; loves music'",
            &id
        )
        .await,
        1
    );
}

#[tokio::test]
async fn withdrawing_a_referral_the_care_team_has_closed_is_refused_and_changes_nothing() {
    let w = world().await;
    let t = clinician_token(&w).await;
    let sent = service_request("X-1", json!({}));
    let r = post(&w, SR, &t, &sent).await;
    let id = fhir(&w, &r)["id"].as_str().unwrap().to_string();
    let lw = Actor {
        user_id: w.lw.1.clone(),
        display_name: "lw".into(),
        email: "lw@example.org".into(),
        memberships: vec![(
            w.team.clone(),
            "Knowsley Link Workers".into(),
            Role::LinkWorker,
        )],
        request_id: None,
        channel: "web",
    };
    ensemble::modules::referrals::service::change_status(
        &w.app.state,
        &lw,
        &id,
        "declined",
        "Prefers to wait",
        "",
    )
    .await
    .unwrap();
    let mut revoked = sent.clone();
    revoked["status"] = json!("revoked");
    let r = post(&w, SR, &t, &revoked).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let o = fhir(&w, &r);
    assert_eq!(o["issue"][0]["expression"][0], "ServiceRequest.status");
    assert!(r.body.contains("already closed"), "{}", r.body);
    assert_eq!(
        count_for(&w.app, "SELECT COUNT(*) FROM referrals WHERE id = $1 AND status = 'declined' AND status_reason = 'Prefers to wait'", &id).await,
        1
    );
}

#[tokio::test]
async fn the_response_message_names_the_request_message_header_not_the_bundle() {
    let w = world().await;
    let t = clinician_token(&w).await;
    // BaRS sends the header without an id: its fullUrl's UUID is its id.
    let m = message(
        "5a0b1a6e-0000-4000-8000-0000000000cc",
        None,
        service_request("H-1", json!({})),
    );
    let r = post(&w, MESSAGE, &t, &m).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let b = fhir(&w, &r);
    assert_eq!(
        b["entry"][0]["resource"]["response"]["identifier"],
        "5a0b1a6e-0000-4000-8000-000000000001"
    );
    assert_eq!(
        b["entry"][0]["resource"]["eventCoding"]["code"],
        "servicerequest-request"
    );
    references_resolve_inside(&b);
    // A header with an id is named by it.
    let m = message(
        "5a0b1a6e-0000-4000-8000-0000000000cd",
        Some("request-header-7"),
        service_request("H-2", json!({})),
    );
    let r = post(&w, MESSAGE, &t, &m).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        fhir(&w, &r)["entry"][0]["resource"]["response"]["identifier"],
        "request-header-7"
    );
    // A header that can be named neither way is refused.
    let mut m = message(
        "5a0b1a6e-0000-4000-8000-0000000000ce",
        None,
        service_request("H-3", json!({})),
    );
    m["entry"][0]["fullUrl"] = json!("https://gp.example/fhir/Bundle/1");
    let r = post(&w, MESSAGE, &t, &m).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        fhir(&w, &r)["issue"][0]["expression"][0],
        "Bundle.entry[0].resource.id"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_answered_with_a_too_long_operation_outcome() {
    let w = world().await;
    let t = clinician_token(&w).await;
    let max = ensemble::modules::referrals::fhir::MAX_BODY_BYTES;
    let big = service_request("B-1", json!({ "note": [{ "text": "x".repeat(max) }] }));
    for path in [SR, MESSAGE] {
        let r = post(&w, path, &t, &big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let o = fhir(&w, &r);
        assert_eq!(o["issue"][0]["code"], "too-long", "{}", r.body);
    }
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 0);
}

#[tokio::test]
async fn the_referrers_read_keeps_the_activity_they_asked_for() {
    let w = world().await;
    let t = clinician_token(&w).await;
    let sent = service_request(
        "P-1",
        json!({ "performer": [{ "reference": format!("HealthcareService/{}", w.activity) }] }),
    );
    let r = post(&w, SR, &t, &sent).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = fhir(&w, &r);
    assert_eq!(
        created["performer"][0]["identifier"]["value"],
        w.activity.as_str()
    );
    let id = created["id"].as_str().unwrap();
    let back = send(&w, "GET", &format!("{SR}/{id}"), Some(&t), &[], None).await;
    assert_eq!(back.status, StatusCode::OK);
    let read = fhir(&w, &back);
    assert_eq!(read["performer"], created["performer"], "{}", back.body);
    assert_eq!(read["performer"][0]["display"], "Singing for the Brain");
}

#[tokio::test]
async fn every_bundle_ensemble_sends_has_no_reference_outside_it() {
    let w = world().await;
    let t = clinician_token(&w).await;
    // A referral whose person has not agreed to share: the message back names them by
    // identifier only.
    let r = post(&w, SR, &t, &service_request("R-1", json!({}))).await;
    let id = fhir(&w, &r)["id"].as_str().unwrap().to_string();
    let mb = send(
        &w,
        "GET",
        &format!("/api/v1/referrals/{id}/message-back"),
        Some(&t),
        &[],
        None,
    )
    .await;
    assert_eq!(mb.status, StatusCode::OK, "{}", mb.body);
    let b = fhir(&w, &mb);
    references_resolve_inside(&b);
    assert!(
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["resource"]["resourceType"] != "Patient")
    );
    let subject = &b["entry"][0]["resource"]["subject"];
    assert!(subject.get("reference").is_none(), "{subject}");
    assert_eq!(
        subject["identifier"]["system"],
        format!("{}/fhir/identifier/person", w.app.state.cfg.base_url)
    );
    // A self-referral that agreed to share, read by the care team: the Patient travels.
    let sr = self_refer(&w.app, SELF).await;
    assert_eq!(sr.status, StatusCode::SEE_OTHER, "{}", sr.body);
    let own = latest_referral(&w.app).await;
    let lw = token(&w, &w.lw.1.clone(), &["referrals:read"]).await;
    let mb = send(
        &w,
        "GET",
        &format!("/api/v1/referrals/{own}/message-back"),
        Some(&lw),
        &[],
        None,
    )
    .await;
    assert_eq!(mb.status, StatusCode::OK, "{}", mb.body);
    let b = fhir(&w, &mb);
    references_resolve_inside(&b);
    assert!(
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resource"]["resourceType"] == "Patient")
    );
}

#[tokio::test]
async fn an_accept_header_that_rules_out_json_gets_406_and_json_ones_keep_working() {
    let w = world().await;
    let t = clinician_token(&w).await;
    let r = post(&w, SR, &t, &service_request("A-1", json!({}))).await;
    let id = fhir(&w, &r)["id"].as_str().unwrap().to_string();
    let read = format!("{SR}/{id}");
    for accept in [
        "application/fhir+xml",
        "application/xml",
        "text/html",
        "application/fhir+json;q=0",
    ] {
        let r = send(&w, "GET", &read, Some(&t), &[("accept", accept)], None).await;
        assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "{accept}");
        assert_eq!(fhir(&w, &r)["issue"][0]["code"], "not-supported");
    }
    for q in ["_format=xml", "_format=application/fhir%2Bxml"] {
        let r = send(
            &w,
            "GET",
            &format!("{read}?{q}"),
            Some(&t),
            &[("accept", "application/fhir+json")],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "{q}");
        fhir(&w, &r);
    }
    for accept in [
        "*/*",
        "application/json",
        "application/fhir+json",
        "application/fhir+json; fhirVersion=4.0",
        "application/fhir+xml, application/fhir+json;q=0.9",
    ] {
        let r = send(&w, "GET", &read, Some(&t), &[("accept", accept)], None).await;
        assert_eq!(r.status, StatusCode::OK, "{accept}");
        fhir(&w, &r);
    }
    let r = send(&w, "GET", &read, Some(&t), &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(
        &w,
        "GET",
        &format!("{read}?_format=json"),
        Some(&t),
        &[("accept", "application/xml")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "_format wins over Accept");
    // The same for intake and the message back, before anything is stored.
    let before = w.app.count("SELECT COUNT(*) FROM referrals").await;
    let r = send(
        &w,
        "POST",
        SR,
        Some(&t),
        &[("accept", "application/fhir+xml")],
        Some(service_request("A-2", json!({})).to_string()),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
    fhir(&w, &r);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, before);
    let r = send(
        &w,
        "GET",
        &format!("/api/v1/referrals/{id}/message-back"),
        Some(&t),
        &[("accept", "application/xml")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
    fhir(&w, &r);
}

#[tokio::test]
async fn fhir_routes_answer_401_and_403_with_an_operation_outcome() {
    let w = world().await;
    let t = clinician_token(&w).await;
    let r = post(&w, SR, &t, &service_request("F-1", json!({}))).await;
    let id = fhir(&w, &r)["id"].as_str().unwrap().to_string();
    let read_only = token(&w, &w.clinician.1.clone(), &["referrals:read"]).await;
    let team_member = token(&w, &w.lw2.1.clone(), &["referrals:read"]).await;
    let body = Some(service_request("F-2", json!({})).to_string());
    for (method, path, tok, status, code) in [
        ("POST", SR, None, StatusCode::UNAUTHORIZED, "login"),
        (
            "POST",
            MESSAGE,
            Some("ens_not-a-token"),
            StatusCode::UNAUTHORIZED,
            "login",
        ),
        (
            "GET",
            &format!("{SR}/{id}") as &str,
            None,
            StatusCode::UNAUTHORIZED,
            "login",
        ),
        (
            "POST",
            SR,
            Some(read_only.as_str()),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            "GET",
            &format!("/api/v1/referrals/{id}/message-back") as &str,
            Some(t.as_str()),
            StatusCode::OK,
            "",
        ),
    ] {
        let b = (method == "POST").then(|| body.clone().unwrap());
        let r = send(&w, method, path, tok, &[], b).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        let v = fhir(&w, &r);
        if !code.is_empty() {
            assert_eq!(v["resourceType"], "OperationOutcome");
            assert_eq!(v["issue"][0]["code"], code, "{}", r.body);
        }
        if status == StatusCode::UNAUTHORIZED {
            assert!(r.headers.get(header::WWW_AUTHENTICATE).is_some());
        }
    }
    // A link worker of the intake team is the care team; one outside it is refused.
    let other_team = w.app.org("Wirral Link Workers", "gp_practice_or_pcn").await;
    let (_, _, outsider) = w.app.user(Role::LinkWorker, &other_team).await;
    let outsider = token(&w, &outsider, &["referrals:read"]).await;
    let r = send(&w, "GET", &format!("{SR}/{id}"), Some(&outsider), &[], None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(fhir(&w, &r)["issue"][0]["code"], "forbidden");
    let r = send(
        &w,
        "GET",
        &format!("{SR}/{id}"),
        Some(&team_member),
        &[],
        None,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a link worker of the team reads it"
    );
}

#[tokio::test]
async fn identifiers_use_the_installation_s_systems_and_uuid_uris() {
    let w = world().await;
    let t = clinician_token(&w).await;
    let base = w.app.state.cfg.base_url.clone();
    // The activity by the installation's system, by the old one, and a sender identifier
    // without a system.
    for (n, system) in [
        (1, format!("{base}/fhir/identifier/activity")),
        (2, "urn:ensemble:activity".to_string()),
    ] {
        let mut sr = service_request(
            &format!("ID-{n}"),
            json!({ "performer": [{ "identifier": { "system": system, "value": w.activity } }] }),
        );
        if n == 2 {
            sr["identifier"] = json!([{ "value": "no-system-1" }]);
        }
        let r = post(&w, SR, &t, &sr).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v = fhir(&w, &r);
        assert_eq!(
            v["identifier"][0]["system"],
            format!("{base}/fhir/identifier/referral")
        );
        assert_eq!(
            v["performer"][0]["identifier"]["system"],
            format!("{base}/fhir/identifier/activity")
        );
        if n == 2 {
            assert_eq!(v["identifier"][1], json!({ "value": "no-system-1" }));
        }
    }
    // A message without a ServiceRequest.identifier is known by its Bundle id as a urn:uuid.
    let mut sr = service_request("unused", json!({}));
    sr.as_object_mut().unwrap().remove("identifier");
    let m = message("5A0B1A6E-0000-4000-8000-0000000000DD", None, sr);
    let r = post(&w, MESSAGE, &t, &m).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let b = fhir(&w, &r);
    assert_eq!(
        b["entry"][1]["resource"]["identifier"][1],
        json!({ "system": "urn:ietf:rfc:3986", "value": "urn:uuid:5a0b1a6e-0000-4000-8000-0000000000dd" })
    );
    let r = post(&w, MESSAGE, &t, &m).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the same message again: {}",
        r.body
    );
}
