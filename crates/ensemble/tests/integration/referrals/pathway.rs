//! The pathway step by step: Robin refers themself, and each test takes the referral as far
//! as it needs through the shared steps, then checks one behaviour.

use super::*;

// ----- The pathway, step by step: Robin refers themself -----

/// Robin's self-referral, received by the team.
async fn robin_referred(w: &World) -> String {
    let r = self_refer(&w.app, SELF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    latest_referral(&w.app).await
}

/// Robin's referral, taken on by the first link worker.
async fn robin_taken_on(w: &mut World) -> String {
    let id = robin_referred(w).await;
    let case = format!("/caseload/{id}");
    post_ok(&mut w.lw.0, &case, &format!("{case}/take"), &[]).await;
    id
}

/// Robin contacted and in conversation with the link worker.
async fn robin_in_conversation(w: &mut World) -> String {
    let id = robin_taken_on(w).await;
    let case = format!("/caseload/{id}");
    let (lw, _) = &mut w.lw;
    post_ok(
        lw,
        &case,
        &format!("{case}/status"),
        &[("status", "contacted"), ("reason", "")],
    )
    .await;
    post_ok(
        lw,
        &case,
        &format!("{case}/status"),
        &[("status", "conversation")],
    )
    .await;
    id
}

/// Robin's plan, agreed with goals in their words and a review in eight weeks.
async fn robin_plan_agreed(w: &mut World) -> String {
    let id = robin_in_conversation(w).await;
    let plan = format!("/caseload/{id}/plan");
    let review = in_weeks(8);
    post_ok(
        &mut w.lw.0,
        &plan,
        &plan,
        &[
            ("what_matters", "Singing with other people again"),
            ("needs", "Gets anxious in new places"),
            ("goals", "Sing every week; make a friend"),
            ("support_offered", "Singing for the Brain"),
            (
                "next_steps",
                "Refer to the choir; buddy for the first visit",
            ),
            ("review_on", &review),
            ("agreed", "yes"),
        ],
    )
    .await;
    id
}

/// Robin connected to Singing for the Brain, with a volunteer buddy for their confidence.
async fn robin_connected(w: &mut World) -> String {
    let id = robin_plan_agreed(w).await;
    let case = format!("/caseload/{id}");
    let (lw, _) = &mut w.lw;
    post_ok(
        lw,
        &case,
        &format!("{case}/barriers"),
        &[
            ("barrier", "confidence"),
            ("detail", ""),
            ("action", "buddy"),
            ("action_detail", "Volunteer buddy"),
        ],
    )
    .await;
    post_ok(
        lw,
        &case,
        &format!("{case}/connect"),
        &[
            ("activity_id", &w.activity),
            ("provider_note", "Robin would like a friendly welcome"),
        ],
    )
    .await;
    id
}

/// Robin's referral, accepted by the provider.
async fn robin_accepted(w: &mut World) -> String {
    let id = robin_connected(w).await;
    let p = format!("/provider/referrals/{id}");
    post_ok(
        &mut w.practitioner.0,
        &p,
        &format!("{p}/respond"),
        &[("decision", "accept"), ("reason", "")],
    )
    .await;
    id
}

/// Robin attending: the provider marked them present yesterday.
async fn robin_attending(w: &mut World) -> String {
    let id = robin_accepted(w).await;
    let p = format!("/provider/referrals/{id}");
    let yesterday = days_ago(1);
    post_ok(
        &mut w.practitioner.0,
        &p,
        &format!("{p}/attendance"),
        &[("session_date", &yesterday), ("attendance", "present")],
    )
    .await;
    id
}

#[tokio::test]
async fn a_self_referral_is_confirmed_to_the_person_by_email() {
    let w = world().await;
    let r = self_refer(&w.app, SELF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The confirmation page and the email carry the same short reference, derived from
    // the referral.
    let id = latest_referral(&w.app).await;
    let reference = ensemble::modules::referrals::model::human_reference(&id);
    assert_eq!(
        r.location(),
        format!("/refer-yourself/done?reference={reference}")
    );
    let done = w.app.client().get(r.location()).await;
    assert!(
        done.body.contains("Your reference is") && done.body.contains(&reference),
        "{}",
        done.body
    );
    assert_eq!(
        w.app
            .count(&format!("SELECT COUNT(*) FROM outbox WHERE to_address = 'robin@example.org' AND body_text LIKE '%Your reference: {reference}%'"))
            .await,
        1
    );
    // A reference of the wrong shape in the address is not shown.
    let odd = w
        .app
        .client()
        .get("/refer-yourself/done?reference=%3Cb%3Ehi")
        .await;
    assert_eq!(odd.status, StatusCode::OK);
    assert!(!odd.body.contains("Your reference is"));
}

#[tokio::test]
async fn the_team_is_told_of_new_referrals_in_a_digest_without_the_persons_name() {
    let w = world().await;
    robin_referred(&w).await;
    // The team gets one digest per quarter hour, without the person's name.
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM jobs WHERE kind = 'referral_digest'")
            .await,
        1
    );
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE kind = 'referral_digest'")
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    ensemble::jobs::run_due(&w.app.state).await.unwrap();
    let team_mail = w.app.count("SELECT COUNT(*) FROM outbox WHERE subject = 'New referrals received' AND body_text LIKE '1 new referral has%' AND body_text NOT LIKE '%Robin%'").await;
    assert_eq!(
        team_mail, 2,
        "both link workers are told, without the person's name"
    );
}

#[tokio::test]
async fn a_self_referral_gives_the_team_a_first_contact_task() {
    let w = world().await;
    let id = robin_referred(&w).await;
    // A first-contact task is due within the configured working days.
    assert_eq!(count_for(&w.app, "SELECT COUNT(*) FROM referral_tasks WHERE referral_id = $1 AND kind = 'first_contact' AND done_at IS NULL", &id).await, 1);
}

#[tokio::test]
async fn a_link_worker_takes_on_a_referral_from_the_unassigned_list() {
    let mut w = world().await;
    let id = robin_referred(&w).await;
    let case = format!("/caseload/{id}");
    let (lw, _) = &mut w.lw;
    let page = lw.get("/caseload?show=unassigned").await;
    assert!(page.body.contains("Robin Tester"), "{}", page.body);
    assert_eq!(
        post(lw, &case, &format!("{case}/take"), &[]).await.status,
        StatusCode::SEE_OTHER
    );
    assert!(lw.get("/caseload").await.body.contains("Robin Tester"));
}

#[tokio::test]
async fn a_referral_cannot_skip_ahead_and_is_told_why() {
    let mut w = world().await;
    let id = robin_taken_on(&mut w).await;
    let case = format!("/caseload/{id}");
    let bad = post(
        &mut w.lw.0,
        &case,
        &format!("{case}/status"),
        &[("status", "attending"), ("reason", "")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("cannot move to"), "{}", bad.body);
}

#[tokio::test]
async fn recording_first_contact_completes_the_first_contact_task() {
    let mut w = world().await;
    let id = robin_taken_on(&mut w).await;
    let case = format!("/caseload/{id}");
    assert_eq!(
        post(
            &mut w.lw.0,
            &case,
            &format!("{case}/status"),
            &[("status", "contacted"), ("reason", "")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(count_for(&w.app, "SELECT COUNT(*) FROM referral_tasks WHERE referral_id = $1 AND kind = 'first_contact' AND done_at IS NOT NULL", &id).await, 1);
}

#[tokio::test]
async fn a_plan_is_agreed_only_through_the_plan_form_never_by_a_status_change() {
    let mut w = world().await;
    let id = robin_taken_on(&mut w).await;
    let case = format!("/caseload/{id}");
    let (lw, _) = &mut w.lw;
    post_ok(
        lw,
        &case,
        &format!("{case}/status"),
        &[("status", "contacted"), ("reason", "")],
    )
    .await;
    assert_eq!(
        post(
            lw,
            &case,
            &format!("{case}/status"),
            &[("status", "conversation")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let skip = post(
        lw,
        &case,
        &format!("{case}/status"),
        &[("status", "plan_agreed")],
    )
    .await;
    assert_eq!(skip.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn agreeing_a_plan_needs_the_persons_goals_and_a_review_date() {
    let mut w = world().await;
    let id = robin_in_conversation(&mut w).await;
    let plan_page = format!("/caseload/{id}/plan");
    let bad = post(
        &mut w.lw.0,
        &plan_page,
        &plan_page,
        &[("what_matters", "Singing"), ("agreed", "yes")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Write at least one goal"), "{}", bad.body);
}

#[tokio::test]
async fn an_agreed_plan_moves_the_referral_on_and_sets_a_review_task() {
    let mut w = world().await;
    let id = robin_plan_agreed(&mut w).await;
    assert_eq!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM referrals WHERE id = $1 AND status = 'plan_agreed'",
            &id
        )
        .await,
        1
    );
    assert_eq!(count_for(&w.app, "SELECT COUNT(*) FROM referral_tasks WHERE referral_id = $1 AND kind = 'review' AND done_at IS NULL", &id).await, 1);
}

#[tokio::test]
async fn barriers_are_recorded_only_from_the_fixed_list() {
    let mut w = world().await;
    let id = robin_plan_agreed(&mut w).await;
    let case = format!("/caseload/{id}");
    let (lw, _) = &mut w.lw;
    assert_eq!(
        post(
            lw,
            &case,
            &format!("{case}/barriers"),
            &[
                ("barrier", "confidence"),
                ("detail", ""),
                ("action", "buddy"),
                ("action_detail", "Volunteer buddy")
            ]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let bad = post(
        lw,
        &case,
        &format!("{case}/barriers"),
        &[("barrier", "weather"), ("action", "buddy")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // When it was raised: from the list, named when wrong; blank means "from where the
    // case stands" (here, before connecting: at referral).
    let bad = post(
        lw,
        &case,
        &format!("{case}/barriers"),
        &[
            ("barrier", "cost"),
            ("action", "bursary"),
            ("stage", "tuesday"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("tuesday"), "{}", bad.body);
    let page = lw.get(&case).await;
    assert!(
        page.body.contains("When was it raised?")
            && page.body.contains("value=\"referral\" selected"),
        "{}",
        page.body
    );
    assert!(page.body.contains("At referral or first contact"));
    post_ok(
        lw,
        &case,
        &format!("{case}/barriers"),
        &[
            ("barrier", "timing"),
            ("action", "different_time"),
            ("stage", "review"),
        ],
    )
    .await;
    let stages: Vec<String> = sqlx::query_scalar(
        "SELECT stage FROM referral_barriers WHERE referral_id = $1 ORDER BY created_at, barrier",
    )
    .bind(id.clone())
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    assert_eq!(stages, ["referral", "review"]);
    // What got in the way, with the status: only when they declined or did not attend.
    let bad = post(
        lw,
        &case,
        &format!("{case}/status"),
        &[
            ("status", "closed"),
            ("reason", "Moved away"),
            ("barrier", "travel"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("only when they declined or did not attend"),
        "{}",
        bad.body
    );
    let bad = post(
        lw,
        &case,
        &format!("{case}/status"),
        &[
            ("status", "declined"),
            ("reason", "Not now"),
            ("barrier", "weather"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("weather"), "{}", bad.body);
    post_ok(
        lw,
        &case,
        &format!("{case}/status"),
        &[
            ("status", "declined"),
            ("reason", "Not now"),
            ("barrier", "caring"),
        ],
    )
    .await;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT barrier, stage, action FROM referral_barriers WHERE referral_id = $1 ORDER BY created_at, barrier",
    )
    .bind(id.clone())
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    let want = (
        "caring".to_string(),
        "decline".to_string(),
        "none_yet".to_string(),
    );
    assert!(rows.contains(&want), "{rows:?}");
    assert_eq!(rows.len(), 3, "the refused ones wrote nothing");
}

#[tokio::test]
async fn a_provider_asked_to_welcome_the_person_sees_their_first_name_and_the_support_arranged() {
    let mut w = world().await;
    let id = robin_connected(&mut w).await;
    let (pr, _) = &mut w.practitioner;
    let inbox = pr.get("/provider/referrals").await;
    assert!(inbox.body.contains("Robin"), "{}", inbox.body);
    assert!(
        !inbox.body.contains("Tester"),
        "providers see only the first name"
    );
    let view = pr.get(&format!("/provider/referrals/{id}")).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(view.body.contains("friendly welcome") && view.body.contains("Volunteer buddy"));
    assert!(
        !view.body.contains("robin@example.org"),
        "no contact details before accepting"
    );
    assert!(
        !view.body.contains("lonely"),
        "the referral reason is not the provider's business"
    );
}

#[tokio::test]
async fn a_provider_sees_the_contact_details_once_it_accepts() {
    let mut w = world().await;
    let id = robin_connected(&mut w).await;
    let ppage = format!("/provider/referrals/{id}");
    let (pr, _) = &mut w.practitioner;
    assert_eq!(
        post(
            pr,
            &ppage,
            &format!("{ppage}/respond"),
            &[("decision", "accept"), ("reason", "")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let view = pr.get(&ppage).await;
    assert!(
        view.body.contains("robin@example.org"),
        "contact details once accepted, with consent"
    );
}

#[tokio::test]
async fn attendance_marked_by_the_provider_moves_the_referral_to_attending() {
    let mut w = world().await;
    let id = robin_accepted(&mut w).await;
    let ppage = format!("/provider/referrals/{id}");
    let yesterday = days_ago(1);
    assert_eq!(
        post(
            &mut w.practitioner.0,
            &ppage,
            &format!("{ppage}/attendance"),
            &[("session_date", &yesterday), ("attendance", "present")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM referrals WHERE id = $1 AND status = 'attending'",
            &id
        )
        .await,
        1
    );
}

#[tokio::test]
async fn two_missed_sessions_in_a_row_prompt_a_gentle_follow_up_task() {
    let mut w = world().await;
    let id = robin_attending(&mut w).await;
    let case = format!("/caseload/{id}");
    let (lw, _) = &mut w.lw;
    assert_eq!(
        post(
            lw,
            &case,
            &format!("{case}/attendance"),
            &[("session_date", &days_ago(0)), ("attendance", "absent")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM referral_tasks WHERE referral_id = $1 AND kind = 'missed_sessions'",
            &id
        )
        .await,
        0
    );
    // Marking the earlier session absent too makes two missed sessions in a row.
    let yesterday = days_ago(1);
    assert_eq!(
        post(
            lw,
            &case,
            &format!("{case}/attendance"),
            &[("session_date", &yesterday), ("attendance", "absent")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(count_for(&w.app, "SELECT COUNT(*) FROM referral_tasks WHERE referral_id = $1 AND kind = 'missed_sessions' AND done_at IS NULL", &id).await, 1);
}

#[tokio::test]
async fn attendance_cannot_be_marked_for_a_future_session() {
    let mut w = world().await;
    let id = robin_attending(&mut w).await;
    let case = format!("/caseload/{id}");
    let future = in_weeks(1);
    let bad = post(
        &mut w.lw.0,
        &case,
        &format!("{case}/attendance"),
        &[("session_date", &future), ("attendance", "absent")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("cannot be in the future"));
}

#[tokio::test]
async fn with_consent_to_share_the_message_back_carries_the_summary_and_the_snomed_code() {
    let mut w = world().await;
    let id = robin_attending(&mut w).await;
    let mb = w.lw.0.get(&format!("/referrals/{id}/message-back")).await;
    assert_eq!(mb.status, StatusCode::OK);
    assert!(
        mb.body.contains("871731000000106")
            && mb.body.contains("Singing for the Brain")
            && mb.body.contains("Robin Tester"),
        "{}",
        mb.body
    );
}

#[tokio::test]
async fn sending_the_message_back_records_when_it_was_sent() {
    let mut w = world().await;
    let id = robin_attending(&mut w).await;
    let sent = post(
        &mut w.lw.0,
        &format!("/referrals/{id}/message-back"),
        &format!("/caseload/{id}/message-back"),
        &[],
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(
        count_for(
            &w.app,
            "SELECT COUNT(*) FROM referrals WHERE id = $1 AND message_back_sent_at IS NOT NULL",
            &id
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_record_is_linked_only_to_an_existing_participant_account() {
    let mut w = world().await;
    let id = robin_attending(&mut w).await;
    let ppage = format!("/people/{}", person_of(&w.app, &id).await);
    let bad = post(
        &mut w.lw.0,
        &ppage,
        &format!("{ppage}/account"),
        &[("account_email", "nobody@example.org")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("No participant account has that email address")
    );
}

#[tokio::test]
async fn the_person_sees_their_plan_once_their_account_is_linked() {
    let mut w = world().await;
    let id = robin_attending(&mut w).await;
    let (mut participant, participant_email) = {
        let org = w.app.org("Participants", "community_group").await;
        let (c, _, email) = signed(&w.app, Role::Participant, &org).await;
        (c, email)
    };
    assert!(
        participant
            .get("/my/plan")
            .await
            .body
            .contains("You do not have a social prescribing plan")
    );
    let ppage = format!("/people/{}", person_of(&w.app, &id).await);
    let ok = post(
        &mut w.lw.0,
        &ppage,
        &format!("{ppage}/account"),
        &[("account_email", &participant_email)],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let mine = participant.get("/my/plan").await;
    assert!(
        mine.body.contains("Sing every week; make a friend") && mine.body.contains("Attending"),
        "{}",
        mine.body
    );
}

#[tokio::test]
async fn every_read_of_the_person_record_is_audited() {
    let mut w = world().await;
    let id = robin_attending(&mut w).await;
    assert!(count_for(&w.app, "SELECT COUNT(*) FROM audit_log WHERE action = 'person.read' AND entity_id = (SELECT person_id FROM referrals WHERE id = $1)", &id).await >= 3);
}
