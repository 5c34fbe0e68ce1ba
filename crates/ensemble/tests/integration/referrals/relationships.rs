//! Who sees what: Casey, referred by a clinician without consent to share with the GP, as
//! seen by the care team, the referrer, another clinician, another team and the providers.

use super::*;

// ----- Who sees what: Casey, referred by a clinician -----

/// Casey, referred by the clinician with witnessed verbal consent to contact and evaluation
/// only (not to share with their GP), with an NHS number and a safeguarding note.
async fn casey_referred(w: &mut World) -> String {
    let (cl, _) = &mut w.clinician;
    post_ok(
        cl,
        "/referrals/new",
        "/referrals/new",
        &[
            ("team", &w.team),
            ("given_name", "Casey"),
            ("family_name", "Private"),
            ("nhs_number", "943 476 5919"),
            ("safeguarding_notes", "Known to adult social care"),
            ("reason", "Low mood"),
            ("consents", "contact"),
            ("consents", "evaluation"),
            ("consent_method", "verbal"),
            ("witness", "Nurse Jones"),
        ],
    )
    .await;
    latest_referral(&w.app).await
}

/// Casey's referral, planned and sent to the provider of Singing for the Brain.
async fn casey_connected(w: &mut World) -> String {
    let id = casey_referred(w).await;
    let case = format!("/caseload/{id}");
    let (lw, _) = &mut w.lw;
    post_ok(
        lw,
        &case,
        &format!("{case}/status"),
        &[("status", "contacted")],
    )
    .await;
    let plan = format!("{case}/plan");
    let review = in_weeks(6);
    post_ok(
        lw,
        &plan,
        &plan,
        &[
            ("what_matters", "Music"),
            ("goals", "Join a choir"),
            ("next_steps", "Refer"),
            ("review_on", &review),
            ("agreed", "yes"),
        ],
    )
    .await;
    post_ok(
        lw,
        &case,
        &format!("{case}/connect"),
        &[("activity_id", &w.activity)],
    )
    .await;
    id
}

/// Casey's referral, declined by the provider with its reason.
async fn casey_declined_by_the_provider(w: &mut World) -> String {
    let id = casey_connected(w).await;
    let p = format!("/provider/referrals/{id}");
    post_ok(
        &mut w.practitioner.0,
        &p,
        &format!("{p}/respond"),
        &[
            ("decision", "decline"),
            ("reason", "Group is full until spring"),
        ],
    )
    .await;
    id
}

/// Casey's referral, closed as declined by the link worker after the provider declined.
async fn casey_declined(w: &mut World) -> String {
    let id = casey_declined_by_the_provider(w).await;
    let case = format!("/caseload/{id}");
    post_ok(
        &mut w.lw.0,
        &case,
        &format!("{case}/status"),
        &[("status", "declined"), ("reason", "Prefers to wait")],
    )
    .await;
    id
}

/// An API token of the referring clinician, to read referrals.
async fn referrer_token(w: &World) -> String {
    let (_, cl_id) = &w.clinician;
    let actor = Actor {
        user_id: cl_id.clone(),
        display_name: "c".into(),
        email: "c@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "api",
    };
    ensemble::modules::accounts::service::create_token(
        &w.app.state,
        &actor,
        "t",
        &["referrals:read".to_string()],
        "",
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_clinician_refers_with_witnessed_verbal_consent() {
    let mut w = world().await;
    let page = w.clinician.0.get("/referrals/new").await;
    assert_eq!(page.status, StatusCode::OK);
    let id = casey_referred(&mut w).await;
    assert_eq!(count_for(&w.app, "SELECT COUNT(*) FROM consent_decisions WHERE method = 'verbal' AND witness = 'Nurse Jones' AND person_id = (SELECT person_id FROM referrals WHERE id = $1)", &id).await, 2);
}

#[tokio::test]
async fn the_staff_referral_form_names_a_bad_nhs_number_and_a_missing_witness() {
    let mut w = world().await;
    let (cl, _) = &mut w.clinician;
    let bad = post(
        cl,
        "/referrals/new",
        "/referrals/new",
        &[
            ("team", &w.team),
            ("given_name", "X"),
            ("nhs_number", "943 476 5918"),
            ("reason", "r"),
            ("consents", "contact"),
            ("consent_method", "verbal"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("not a valid NHS number") && bad.body.contains("witness"),
        "{}",
        bad.body
    );
}

#[tokio::test]
async fn the_referrer_follows_the_status_and_the_message_back() {
    let mut w = world().await;
    let id = casey_referred(&mut w).await;
    let (cl, _) = &mut w.clinician;
    assert!(
        cl.get("/referrals/sent")
            .await
            .body
            .contains("Casey Private")
    );
    assert_eq!(
        cl.get(&format!("/referrals/{id}/message-back"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_clinician_sees_neither_the_referral_nor_its_message_back() {
    let mut w = world().await;
    let id = casey_referred(&mut w).await;
    assert!(
        !w.other_clinician
            .get("/referrals/sent")
            .await
            .body
            .contains("Casey")
    );
    assert_eq!(
        w.other_clinician
            .get(&format!("/referrals/{id}/message-back"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_referrer_cannot_open_the_caseload_record() {
    let mut w = world().await;
    let id = casey_referred(&mut w).await;
    assert_eq!(
        w.clinician.0.get(&format!("/caseload/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn caseload_page_numbers_out_of_range_are_refused_never_a_500() {
    let mut w = world().await;
    let (lw2, _) = &mut w.lw2;
    assert_eq!(
        lw2.get("/caseload?page=9223372036854775807").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        lw2.get("/caseload?page=abc").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn link_workers_of_the_team_see_the_referral_and_another_team_does_not() {
    let mut w = world().await;
    let id = casey_referred(&mut w).await;
    let (lw2, _) = &mut w.lw2;
    assert_eq!(
        lw2.get(&format!("/caseload/{id}")).await.status,
        StatusCode::OK
    );
    assert!(
        lw2.get("/caseload?show=team")
            .await
            .body
            .contains("Casey Private")
    );
    assert_eq!(
        w.other_team_lw.get(&format!("/caseload/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !w.other_team_lw
            .get("/caseload?show=team")
            .await
            .body
            .contains("Casey")
    );
}

#[tokio::test]
async fn only_the_care_team_opens_the_full_person_record() {
    let mut w = world().await;
    let id = casey_referred(&mut w).await;
    let person = person_of(&w.app, &id).await;
    assert_eq!(
        w.other_team_lw
            .get(&format!("/people/{person}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let full = w.lw2.0.get(&format!("/people/{person}")).await;
    assert!(full.body.contains("943 476 5919") && full.body.contains("Known to adult social care"));
}

#[tokio::test]
async fn a_provider_sees_nothing_until_the_person_is_referred_to_its_activity() {
    let mut w = world().await;
    let id = casey_referred(&mut w).await;
    assert_eq!(
        w.practitioner
            .0
            .get(&format!("/provider/referrals/{id}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_provider_sees_only_what_it_needs_to_welcome_the_person() {
    let mut w = world().await;
    let id = casey_connected(&mut w).await;
    let view = w
        .practitioner
        .0
        .get(&format!("/provider/referrals/{id}"))
        .await;
    assert_eq!(view.status, StatusCode::OK);
    for secret in [
        "943 476 5919",
        "9434765919",
        "Known to adult social care",
        "Private",
        "Low mood",
    ] {
        assert!(!view.body.contains(secret), "provider page shows {secret}");
    }
}

#[tokio::test]
async fn another_provider_sees_nothing_of_the_referral() {
    let mut w = world().await;
    let id = casey_connected(&mut w).await;
    assert_eq!(
        w.other_practitioner
            .get(&format!("/provider/referrals/{id}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !w.other_practitioner
            .get("/provider/referrals")
            .await
            .body
            .contains("Casey")
    );
}

#[tokio::test]
async fn a_provider_cannot_mark_attendance_before_accepting() {
    let mut w = world().await;
    let id = casey_connected(&mut w).await;
    let p = format!("/provider/referrals/{id}");
    let today = today();
    assert_eq!(
        post(
            &mut w.practitioner.0,
            &p,
            &format!("{p}/attendance"),
            &[("session_date", &today), ("attendance", "present")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_message_from_the_provider_reaches_the_link_worker() {
    let mut w = world().await;
    let id = casey_connected(&mut w).await;
    let p = format!("/provider/referrals/{id}");
    assert_eq!(
        post(
            &mut w.practitioner.0,
            &p,
            &format!("{p}/message"),
            &[("message", "We could offer the Tuesday group")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert!(
        w.lw.0
            .get(&format!("/caseload/{id}"))
            .await
            .body
            .contains("We could offer the Tuesday group")
    );
}

#[tokio::test]
async fn declining_needs_a_reason_and_sends_the_referral_back_with_a_reconnect_task() {
    let mut w = world().await;
    let id = casey_connected(&mut w).await;
    let p = format!("/provider/referrals/{id}");
    let (pr, _) = &mut w.practitioner;
    let bad = post(
        pr,
        &p,
        &format!("{p}/respond"),
        &[("decision", "decline"), ("reason", "")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        post(
            pr,
            &p,
            &format!("{p}/respond"),
            &[
                ("decision", "decline"),
                ("reason", "Group is full until spring")
            ]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM referral_tasks WHERE referral_id = $1 AND kind = 'reconnect'",
            &id
        )
        .await,
        1
    );
}

#[tokio::test]
async fn once_it_has_declined_the_provider_no_longer_sees_the_referral() {
    let mut w = world().await;
    let id = casey_declined_by_the_provider(&mut w).await;
    let p = format!("/provider/referrals/{id}");
    let (pr, _) = &mut w.practitioner;
    assert_eq!(
        post(pr, &p, &format!("{p}/respond"), &[("decision", "accept")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(pr.get(&p).await.status, StatusCode::FORBIDDEN);
    assert!(!pr.get("/provider/referrals").await.body.contains(&id));
}

#[tokio::test]
async fn without_consent_to_share_the_message_back_carries_only_the_codes() {
    let mut w = world().await;
    let id = casey_declined(&mut w).await;
    let mb = w.lw.0.get(&format!("/referrals/{id}/message-back")).await;
    assert!(
        mb.body.contains("871711000000103") && mb.body.contains("only the codes"),
        "{}",
        mb.body
    );
    assert!(!mb.body.contains("Casey"));
}

#[tokio::test]
async fn without_consent_to_share_the_fhir_message_back_carries_only_the_codes_as_valid_r4() {
    let mut w = world().await;
    let id = casey_declined(&mut w).await;
    let token = referrer_token(&w).await;
    let fhir = w
        .app
        .client()
        .api(
            "GET",
            &format!("/api/v1/referrals/{id}/message-back"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(fhir.status, StatusCode::OK);
    let text = fhir.body.clone();
    assert!(
        text.contains("871711000000103") && !text.contains("Casey") && !text.contains("9434765919"),
        "{text}"
    );
    if let Some(v) = w
        .app
        .state
        .ext::<ensemble::modules::referrals::fhir::SchemaValidator>()
        .check("Bundle", &fhir.json())
    {
        assert!(
            v.is_empty(),
            "our message back is valid FHIR R4: {:?}",
            v.iter().map(|i| &i.diagnostics).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn the_referrers_fhir_read_follows_the_same_consent_and_is_audited() {
    let mut w = world().await;
    let id = casey_declined(&mut w).await;
    let token = referrer_token(&w).await;
    // No activity without share_gp.
    let sr = w
        .app
        .client()
        .api(
            "GET",
            &format!("/api/v1/fhir/ServiceRequest/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(sr.status, StatusCode::OK);
    assert!(
        sr.json()["performer"].is_null() && !sr.body.contains("Singing"),
        "{}",
        sr.body
    );
    assert!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'referral.read' AND entity_id = $1",
            &id
        )
        .await
            >= 1
    );
}

#[tokio::test]
async fn without_consent_to_share_the_referrers_list_shows_the_status_but_not_the_activity() {
    let mut w = world().await;
    casey_declined(&mut w).await;
    let sent = w.clinician.0.get("/referrals/sent").await;
    assert!(
        sent.body.contains("Casey Private") && !sent.body.contains("Singing for the Brain"),
        "{}",
        sent.body
    );
}

#[tokio::test]
async fn every_list_of_referrals_is_audited() {
    let mut w = world().await;
    casey_connected(&mut w).await;
    w.lw2.0.get("/caseload?show=team").await;
    w.other_team_lw.get("/caseload?show=team").await;
    w.other_practitioner.get("/provider/referrals").await;
    w.clinician.0.get("/referrals/sent").await;
    assert!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'caseload.view'")
            .await
            >= 2
    );
    assert!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'referrals.provider.view'")
            .await
            >= 1
    );
    assert!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'referrals.sent.view'")
            .await
            >= 1
    );
}
