//! The FHIR form of a referral (`ServiceRequest`) and of the message back (`Bundle`).
//!
//! Every reference in a Bundle resolves inside it; where the target is not sent (the person
//! without their consent, the activity) the reference is by identifier only, under the
//! installation's identifier systems (`identifier_system`).

use serde_json::{Value, json};

use super::{NHS_NUMBER_SYSTEM, identifier_system};
use crate::modules::referrals::model::{SNOMED_REFERRAL, SNOMED_SYSTEM, Status};
use crate::modules::referrals::service::{MessageBack, Referral, WITHDRAWN_BY_REFERRER};

fn fhir_status(r: &Referral) -> &'static str {
    match r.status {
        Status::Closed if r.status_reason == WITHDRAWN_BY_REFERRER => "revoked",
        Status::Closed | Status::Reviewed => "completed",
        Status::Declined | Status::NotReached | Status::DidNotAttend => "revoked",
        _ => "active",
    }
}

/// The person as a reference by identifier only (the pseudonymous id), for when the
/// Patient is not sent.
fn person_by_identifier(base_url: &str, person_id: &str) -> Value {
    json!({ "identifier": { "system": identifier_system(base_url, "person"), "value": person_id } })
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

/// A referral as a FHIR R4 ServiceRequest (no identity beyond the pseudonymous subject id,
/// which is referred to by identifier: Ensemble serves no `Patient`).
pub fn service_request(r: &Referral, base_url: &str) -> Value {
    let mut identifiers =
        vec![json!({ "system": identifier_system(base_url, "referral"), "value": r.id })];
    if let Some(si) = &r.source_identifier {
        let (sys, val) = si.split_once('|').unwrap_or(("", si.as_str()));
        let mut id = json!({ "value": val });
        // `urn:ensemble:…` systems only key the stored identifier (a sender's identifier
        // without a system, the demo): they are not identifier systems, so never sent.
        if !sys.is_empty() && !sys.starts_with("urn:ensemble:") {
            id["system"] = json!(sys);
        }
        identifiers.push(id);
    }
    let mut v = json!({
        "resourceType": "ServiceRequest",
        "id": r.id,
        "identifier": identifiers,
        "status": fhir_status(r),
        "intent": "order",
        "code": { "coding": [{ "system": SNOMED_SYSTEM, "code": SNOMED_REFERRAL.0, "display": SNOMED_REFERRAL.1 }] },
        "subject": person_by_identifier(base_url, &r.person_id),
        "authoredOn": iso(r.created_at),
        "note": [{ "text": format!("Ensemble status: {}", r.status.label()) }],
    });
    if let Some(a) = &r.activity_id {
        let mut p = json!({ "identifier": { "system": identifier_system(base_url, "activity"), "value": a } });
        if let Some(name) = r.activity_name.as_deref().filter(|n| !n.trim().is_empty()) {
            p["display"] = json!(name);
        }
        v["performer"] = json!([p]);
    }
    v
}

/// The message back as a FHIR R4 Bundle (collection): the referral's status and an
/// Observation per SNOMED CT code; the person's details, activity and attendance only when
/// they agreed to share with their GP and referrer.
pub fn message_back_bundle(mb: &MessageBack, base_url: &str) -> Value {
    let r = &mb.referral;
    let full_url = format!("urn:uuid:{}", r.person_id);
    // The Patient travels only with consent; otherwise the subject is named by identifier,
    // so no reference points outside the Bundle.
    let subject = if mb.person.is_some() {
        json!({ "reference": full_url })
    } else {
        person_by_identifier(base_url, &r.person_id)
    };
    let mut sr = service_request(r, base_url);
    if !mb.consent_to_share
        && let Some(o) = sr.as_object_mut()
    {
        o.remove("performer");
        o.remove("note");
    }
    sr["subject"] = subject.clone();
    let mut entries = vec![json!({ "fullUrl": format!("urn:uuid:{}", r.id), "resource": sr })];
    for (i, (code, display)) in mb.codes.iter().enumerate() {
        entries.push(json!({ "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{}:{i}", r.id).as_bytes())), "resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": { "coding": [{ "system": SNOMED_SYSTEM, "code": code, "display": display }] },
            "subject": subject,
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
            "subject": subject,
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
        entries.push(json!({ "fullUrl": full_url, "resource": p }));
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

/// The answer to a `$process-message`: a response message Bundle naming the referral.
/// `request_header_id` is the id of the request's `MessageHeader` (R4:
/// `MessageHeader.response.identifier`).
pub(super) fn response_message(
    base_url: &str,
    header_res: &Value,
    request_header_id: &str,
    r: &Referral,
) -> Value {
    let mut header = json!({
        "resourceType": "MessageHeader",
        "id": uuid::Uuid::new_v4().to_string(),
        "source": { "name": "Ensemble", "endpoint": format!("{base_url}/api/v1/fhir") },
        "response": { "identifier": request_header_id, "code": "ok" },
        "focus": [{ "reference": format!("urn:uuid:{}", r.id) }]
    });
    for event in ["eventCoding", "eventUri"] {
        if let Some(e) = header_res.get(event) {
            header[event] = e.clone();
        }
    }
    let header_url = format!("urn:uuid:{}", header["id"].as_str().unwrap_or_default());
    json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "type": "message",
        "timestamp": iso(crate::db::now()),
        "entry": [
            { "fullUrl": header_url, "resource": header },
            { "fullUrl": format!("urn:uuid:{}", r.id), "resource": service_request(r, base_url) }
        ]
    })
}
