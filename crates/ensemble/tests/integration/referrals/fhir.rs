//! FHIR R4 intake: the BaRS example taken once, and every problem named.

use super::*;

fn read_shared(rel: &str) -> Option<String> {
    let dir = shared_dir()?;
    Some(std::fs::read_to_string(dir.join(rel)).unwrap())
}

#[tokio::test]
async fn fhir_intake_accepts_the_bars_example_once_and_names_every_problem() {
    let Some(valid) = read_shared(
        "standards/fhir/bars-examples/process_message_request_ValidationRequest_POST.json",
    ) else {
        return;
    };
    let invalid =
        read_shared("standards/fhir/bars-examples/service_request_id_GET-success.json").unwrap();
    let w = world().await;
    assert!(
        w.app
            .state
            .ext::<ensemble::modules::referrals::fhir::SchemaValidator>()
            .available(),
        "the R4 schema is read from the shared folder"
    );
    let (_, cl_id) = &w.clinician;
    let actor = Actor {
        user_id: cl_id.clone(),
        display_name: "c".into(),
        email: "c@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "api",
    };
    let token = ensemble::modules::accounts::service::create_token(
        &w.app.state,
        &actor,
        "gp",
        &["referrals:write".to_string(), "referrals:read".to_string()],
        "",
    )
    .await
    .unwrap();
    let mut api = w.app.client();
    let r = api
        .api(
            "POST",
            "/api/v1/fhir/$process-message",
            Some(&token),
            Some(&valid),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let j = r.json();
    assert_eq!(j["resourceType"], "Bundle");
    assert_eq!(j["entry"][0]["resource"]["response"]["code"], "ok");
    let sr = &j["entry"][1]["resource"];
    assert_eq!(sr["resourceType"], "ServiceRequest");
    let id = sr["id"].as_str().unwrap().to_string();
    assert!(
        w.app
            .state
            .ext::<ensemble::modules::referrals::fhir::SchemaValidator>()
            .check("Bundle", &j)
            .unwrap()
            .is_empty(),
        "our response is valid R4"
    );
    // The patient came across; the bad NHS number in the example becomes a task, not a refusal.
    assert_eq!(w.app.count("SELECT COUNT(*) FROM person_identities WHERE given_name = 'Julie' AND family_name = 'Jones' AND nhs_number IS NULL AND postcode = 'LS10 4YU'").await, 1);
    assert_eq!(w.app.count(&format!("SELECT COUNT(*) FROM referral_tasks WHERE referral_id = '{id}' AND title LIKE 'Check the NHS number%'")).await, 1);
    // The same message again does not make a second referral.
    let again = api
        .api(
            "POST",
            "/api/v1/fhir/$process-message",
            Some(&token),
            Some(&valid),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["entry"][1]["resource"]["id"], id.as_str());
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 1);
    // The same identifier from another account is refused without revealing anything.
    let (_, other_id) = &w.lw;
    let other = Actor {
        user_id: other_id.clone(),
        display_name: "o".into(),
        email: "o@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "api",
    };
    let other_token = ensemble::modules::accounts::service::create_token(
        &w.app.state,
        &other,
        "o",
        &["referrals:write".to_string()],
        "",
    )
    .await
    .unwrap();
    let clash = api
        .api(
            "POST",
            "/api/v1/fhir/$process-message",
            Some(&other_token),
            Some(&valid),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);
    assert!(clash.body.contains("OperationOutcome") && !clash.body.contains(&id));
    // The referrer can read it back.
    let back = api
        .api(
            "GET",
            &format!("/api/v1/fhir/ServiceRequest/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(back.json()["status"], "active");

    // The invalid example: each schema problem is named.
    let r = api
        .api(
            "POST",
            "/api/v1/fhir/ServiceRequest",
            Some(&token),
            Some(&invalid),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let j = r.json();
    assert_eq!(j["resourceType"], "OperationOutcome");
    let text = r.body.clone();
    assert!(
        text.contains("ServiceRequest.basedOn") && text.contains("PatientInstruction"),
        "{text}"
    );

    let sr = |extra: serde_json::Value| {
        let mut v = serde_json::json!({
            "resourceType": "ServiceRequest",
            "identifier": [{ "system": "https://gp.example/referrals", "value": format!("R-{}", uuid::Uuid::new_v4()) }],
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
        v.to_string()
    };
    // A good standalone ServiceRequest to a named activity.
    let ok = api.api("POST", "/api/v1/fhir/ServiceRequest", Some(&token), Some(&sr(serde_json::json!({ "performer": [{ "reference": format!("HealthcareService/{}", w.activity) }] })))).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert!(ok.headers.get("location").is_some());
    // A reason over the limit is refused with a too-long issue, never cut short.
    let before = w.app.count("SELECT COUNT(*) FROM referrals").await;
    let long = "x".repeat(ensemble::modules::referrals::model::ReferralReason::MAX_CHARS + 1);
    let r = api
        .api(
            "POST",
            "/api/v1/fhir/ServiceRequest",
            Some(&token),
            Some(&sr(serde_json::json!({ "note": [{ "text": long }] }))),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["issue"][0]["code"], "too-long", "{}", r.body);
    assert!(r.body.contains("4001 characters"), "{}", r.body);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, before);
    assert_eq!(
        w.app
            .count(&format!(
                "SELECT COUNT(*) FROM referrals WHERE activity_id = '{}' AND source = 'fhir'",
                w.activity
            ))
            .await,
        1
    );
    // Malformed JSON.
    let r = api
        .api(
            "POST",
            "/api/v1/fhir/ServiceRequest",
            Some(&token),
            Some("{\"resourceType\": "),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("not valid JSON") && r.body.contains("OperationOutcome"));
    // Wrong resource type.
    let r = api
        .api(
            "POST",
            "/api/v1/fhir/ServiceRequest",
            Some(&token),
            Some(r#"{"resourceType":"Patient"}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Expected a ServiceRequest"), "{}", r.body);
    // Missing subject.
    let r = api
        .api(
            "POST",
            "/api/v1/fhir/ServiceRequest",
            Some(&token),
            Some(&sr(serde_json::json!({ "subject": null }))),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("ServiceRequest.subject"), "{}", r.body);
    // Unknown activity.
    let r = api.api("POST", "/api/v1/fhir/ServiceRequest", Some(&token), Some(&sr(serde_json::json!({ "performer": [{ "reference": "HealthcareService/no-such-activity" }] })))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("ServiceRequest.performer[0]") && r.body.contains("no-such-activity"),
        "{}",
        r.body
    );
    // A subject that is not in the request.
    let r = api
        .api(
            "POST",
            "/api/v1/fhir/ServiceRequest",
            Some(&token),
            Some(&sr(
                serde_json::json!({ "subject": { "reference": "Patient/elsewhere" } }),
            )),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("not in the request"));
    // No identifier: refused, because duplicates could not be detected.
    let r = api
        .api(
            "POST",
            "/api/v1/fhir/ServiceRequest",
            Some(&token),
            Some(&sr(serde_json::json!({ "identifier": null }))),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("ServiceRequest.identifier"));
    // Nothing half-written by any of the refusals.
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 2);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM people").await, 2);
    // Roles without referral rights are refused.
    let (_, pid) = &w.practitioner;
    let _ = pid;
    let researcher_org = w.app.org("Uni", "university").await;
    let (_, _, rid) = {
        let (e, p, i) = w.app.user(Role::Researcher, &researcher_org).await;
        (e, p, i)
    };
    let ractor = Actor {
        user_id: rid,
        display_name: "r".into(),
        email: "r@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "api",
    };
    let rtoken = ensemble::modules::accounts::service::create_token(
        &w.app.state,
        &ractor,
        "r",
        &["referrals:write".to_string()],
        "",
    )
    .await
    .unwrap();
    assert_eq!(
        api.api(
            "POST",
            "/api/v1/fhir/ServiceRequest",
            Some(&rtoken),
            Some(&sr(serde_json::json!({})))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}
