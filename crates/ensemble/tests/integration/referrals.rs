//! People, consent and referrals: the whole pathway through the pages, the relationship
//! rules (care team, referrer, provider, person), FHIR R4 intake, reminders from the job
//! queue, the message back, and consent withdrawal leaving every evaluation set at once.

use axum::http::StatusCode;
use ensemble::modules::people::evaluation;
use ensemble::modules::referrals::selfrefer;
use ensemble::rbac::{Actor, Role};

use crate::directory::{activity, shared_dir};
use crate::support::{Client, TestApp};

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) team: String,
    pub(crate) provider_org: String,
    pub(crate) activity: String,
    pub(crate) lw: (Client, String),
    pub(crate) lw2: (Client, String),
    pub(crate) other_team_lw: Client,
    pub(crate) practitioner: (Client, String),
    pub(crate) other_practitioner: Client,
    pub(crate) clinician: (Client, String),
    pub(crate) other_clinician: Client,
}

async fn signed(app: &TestApp, role: Role, org: &str) -> (Client, String, String) {
    let (email, password, id) = app.user(role, org).await;
    let mut c = app.client();
    let r = c.sign_in(&email, &password).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    (c, id, email)
}

async fn world_with(adjust: impl FnOnce(&mut ensemble::config::Config)) -> World {
    let app = TestApp::with(|cfg| {
        if let Some(s) = shared_dir() {
            cfg.shared_dir = s;
        }
        adjust(cfg);
    })
    .await;
    let team = app.org("Knowsley Link Workers", "gp_practice_or_pcn").await;
    let other_team = app.org("Sefton Link Workers", "gp_practice_or_pcn").await;
    let provider_org = app.org("City Orchestra", "cultural_organisation").await;
    let other_provider = app.org("Drum Circle", "community_group").await;
    let trust = app.org("Mersey Trust", "nhs_trust").await;
    let act = activity(
        &app,
        &provider_org,
        "Singing for the Brain",
        53.4,
        -2.99,
        "free",
        "MO",
        &[],
    )
    .await;
    activity(
        &app,
        &other_provider,
        "Drumming Together",
        53.41,
        -2.98,
        "free",
        "TU",
        &[],
    )
    .await;
    let (lw, lw_id, _) = signed(&app, Role::LinkWorker, &team).await;
    let (lw2, lw2_id, _) = signed(&app, Role::LinkWorker, &team).await;
    let (other_team_lw, _, _) = signed(&app, Role::LinkWorker, &other_team).await;
    let (pr, pr_id, _) = signed(&app, Role::Practitioner, &provider_org).await;
    let (other_pr, _, _) = signed(&app, Role::Practitioner, &other_provider).await;
    let (cl, cl_id, _) = signed(&app, Role::Clinician, &trust).await;
    let (other_cl, _, _) = signed(&app, Role::Clinician, &trust).await;
    World {
        app,
        team,
        provider_org,
        activity: act,
        lw: (lw, lw_id),
        lw2: (lw2, lw2_id),
        other_team_lw,
        practitioner: (pr, pr_id),
        other_practitioner: other_pr,
        clinician: (cl, cl_id),
        other_clinician: other_cl,
    }
}

pub(crate) async fn world() -> World {
    world_with(|_| {}).await
}

/// Submit the self-referral form as someone who spent a minute on it.
pub(crate) async fn self_refer(app: &TestApp, fields: &[(&str, &str)]) -> crate::support::Resp {
    let mut c = app.client();
    let token = c.get("/refer-yourself").await.csrf();
    let started = selfrefer::sign(&app.state.secret, ensemble::db::now() - 60);
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token), ("started", &started)];
    all.extend_from_slice(fields);
    c.post_form("/refer-yourself", &all).await
}

pub(crate) const SELF: &[(&str, &str)] = &[
    ("given_name", "Robin"),
    ("family_name", "Tester"),
    ("email", "robin@example.org"),
    ("phone", "0151 000 0000"),
    ("reason", "I feel lonely and used to sing in a choir."),
    ("consent_contact", "yes"),
    ("consent_evaluation", "yes"),
    ("consent_research_contact", "no"),
    ("consent_share_gp", "yes"),
];

pub(crate) async fn latest_referral(app: &TestApp) -> String {
    use sqlx::Row;
    sqlx::query("SELECT id FROM referrals ORDER BY created_at DESC, id DESC LIMIT 1")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get("id")
        .unwrap()
}

pub(crate) async fn post(
    c: &mut Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> crate::support::Resp {
    c.submit(page, action, fields).await
}

// The referral service reads typed dates (review, attendance) against the UK date, as
// every other service does, so these helpers do too.

fn today() -> String {
    ensemble::db::uk::today().to_string()
}

pub(crate) fn days_ago(n: i64) -> String {
    (ensemble::db::uk::today() - time::Duration::days(n)).to_string()
}

pub(crate) fn in_weeks(n: i64) -> String {
    (ensemble::db::uk::today() + time::Duration::weeks(n)).to_string()
}

/// A count from `sql` with the referral id bound as `$1`.
async fn count_for(app: &TestApp, sql: &str, id: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id.to_string())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

/// The person a referral is for.
async fn person_of(app: &TestApp, id: &str) -> String {
    use sqlx::Row;
    sqlx::query("SELECT person_id FROM referrals WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get("person_id")
        .unwrap()
}

/// Send a form from its page and expect the redirect that says it was taken.
async fn post_ok(c: &mut Client, page: &str, action: &str, fields: &[(&str, &str)]) {
    let r = post(c, page, action, fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
}

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
    assert_eq!(r.location(), "/refer-yourself/done");
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM outbox WHERE to_address = 'robin@example.org'")
            .await,
        1
    );
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

#[tokio::test]
async fn self_referral_spam_protection_and_bad_input() {
    let w = world().await;
    let before = w.app.count("SELECT COUNT(*) FROM referrals").await;
    // Sent less than 3 seconds after the form was opened: refused, nothing stored. The
    // signed start time is an hour ahead of the clock, so however slow the machine, the
    // server sees under 3 seconds.
    let mut c = w.app.client();
    let token = c.get("/refer-yourself").await.csrf();
    let started = selfrefer::sign(&w.app.state.secret, ensemble::db::now() + 3600);
    let mut fields = vec![
        ("csrf_token", token.as_str()),
        ("started", started.as_str()),
    ];
    fields.extend_from_slice(SELF);
    let r = c.post_form("/refer-yourself", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("very quick"));
    // A forged start time is refused.
    let mut fields = vec![("csrf_token", token.as_str()), ("started", "1.forged")];
    fields.extend_from_slice(SELF);
    assert_eq!(
        c.post_form("/refer-yourself", &fields).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The honeypot: thanks, but nothing is kept.
    let mut with_bot = SELF.to_vec();
    with_bot.push(("website", "http://spam.example"));
    let r = self_refer(&w.app, &with_bot).await;
    assert_eq!(r.location(), "/refer-yourself/done");
    // Missing contact routes, consent, reason and a bad postcode are named.
    let r = self_refer(
        &w.app,
        &[
            ("given_name", "A"),
            ("postcode", "NOT A POSTCODE"),
            ("consent_contact", "no"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "phone number or an email",
        "what you would like help with",
        "full UK postcode",
        "cannot help without being able to reach you",
        "evaluate the programme",
    ] {
        assert!(r.body.contains(msg), "missing message: {msg}");
    }
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, before);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM people").await, 0);
    // The confirmation page is plain and public.
    assert!(
        w.app
            .client()
            .get("/refer-yourself/done")
            .await
            .body
            .contains("What happens next")
    );
}

/// Submit the self-referral form with a start time `age` seconds before now.
async fn self_refer_opened(app: &TestApp, age: i64) -> crate::support::Resp {
    let mut c = app.client();
    let token = c.get("/refer-yourself").await.csrf();
    let started = selfrefer::sign(&app.state.secret, ensemble::db::now() - age);
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token), ("started", &started)];
    all.extend_from_slice(SELF);
    c.post_form("/refer-yourself", &all).await
}

#[tokio::test]
async fn a_self_referral_form_opened_more_than_a_day_ago_is_refused() {
    let w = world().await;
    let r = self_refer_opened(&w.app, 24 * 3600 + 60).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("This form was opened more than a day ago"),
        "{}",
        r.body
    );
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 0);
    // Opened a little under a day ago, it is still accepted.
    let r = self_refer_opened(&w.app, 24 * 3600 - 60).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 1);
}

#[tokio::test]
async fn the_eleventh_self_referral_from_one_address_within_an_hour_is_refused() {
    let w = world().await;
    for n in 1..=10 {
        let r = self_refer(&w.app, SELF).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "referral {n}: {}", r.body);
    }
    let r = self_refer(&w.app, SELF).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.body
            .contains("Too many referrals have been sent from this connection"),
        "{}",
        r.body
    );
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 10);
    // Forms with mistakes do not count, and are still answered with the mistakes.
    let r = self_refer(&w.app, &[("given_name", "A")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

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

/// Move every queued provider chase `secs` earlier, as if that much time had passed.
async fn let_time_pass_for_the_provider(app: &TestApp, secs: i64) {
    sqlx::query(
        "UPDATE jobs SET run_at = run_at - $1 WHERE kind = 'referral_provider_chase' AND status = 'queued'",
    )
    .bind(secs)
    .execute(&app.state.db.write)
    .await
    .unwrap();
}

#[tokio::test]
async fn an_unanswered_provider_is_reminded_then_the_referral_returns() {
    let window = 3 * 24 * 3600;
    let mut w = world_with(|cfg| {
        cfg.provider_response_time = std::time::Duration::from_secs(window as u64);
    })
    .await;
    let r = self_refer(&w.app, SELF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = latest_referral(&w.app).await;
    let (lw, _) = &mut w.lw;
    let case = format!("/caseload/{id}");
    post(
        lw,
        &case,
        &format!("{case}/status"),
        &[("status", "contacted")],
    )
    .await;
    let plan = format!("{case}/plan");
    let review = in_weeks(4);
    post(
        lw,
        &plan,
        &plan,
        &[
            ("what_matters", "Music"),
            ("goals", "Sing"),
            ("next_steps", "Refer"),
            ("review_on", &review),
            ("agreed", "yes"),
        ],
    )
    .await;
    assert_eq!(
        post(
            lw,
            &case,
            &format!("{case}/connect"),
            &[("activity_id", &w.activity)]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let app = &w.app;
    let reminders = || {
        app.count("SELECT COUNT(*) FROM outbox WHERE subject = 'Reminder: a referral is waiting for your answer'")
    };
    let returned_sql = format!(
        "SELECT COUNT(*) FROM referrals WHERE id = '{id}' AND provider_status = 'returned'"
    );
    let returned = || app.count(&returned_sql);
    let reconnect_sql = format!(
        "SELECT COUNT(*) FROM referral_tasks WHERE referral_id = '{id}' AND kind = 'reconnect' AND done_at IS NULL"
    );
    let reconnect_tasks = || app.count(&reconnect_sql);
    let came_back = || {
        app.count("SELECT COUNT(*) FROM outbox WHERE subject = 'A referral has come back to you'")
    };
    // Within the window nothing happens.
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert_eq!(reminders().await, 0);
    // A minute short of the window: still nothing.
    let_time_pass_for_the_provider(app, window - 60).await;
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert_eq!(reminders().await, 0);
    // The window has passed: the provider is reminded, and the referral stays with it.
    let_time_pass_for_the_provider(app, 60).await;
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert!(reminders().await >= 1);
    let sent = reminders().await;
    assert_eq!(
        returned().await,
        0,
        "only a reminder after the first window"
    );
    assert_eq!(reconnect_tasks().await, 0);
    assert_eq!(came_back().await, 0);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM referrals WHERE id = '{id}' AND provider_status = 'pending' AND provider_reminders = 1"
        ))
        .await,
        1
    );
    // Running the queue again before the second window ends changes nothing.
    ensemble::jobs::run_due(&app.state).await.unwrap();
    let_time_pass_for_the_provider(app, window - 60).await;
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert_eq!(
        returned().await,
        0,
        "not returned before the second window ends"
    );
    assert_eq!(reminders().await, sent, "reminded once");
    // As long again: the referral returns to the link worker with a task.
    let_time_pass_for_the_provider(app, 60).await;
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert_eq!(returned().await, 1);
    assert_eq!(reconnect_tasks().await, 1);
    assert!(came_back().await >= 1);
    assert_eq!(reminders().await, sent, "no second reminder");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity_id = '{id}' AND action IN ('referral.provider_reminder', 'referral.provider_returned') AND actor_label = 'system'"
        ))
        .await,
        2
    );
    // The link worker can connect again.
    let (lw, _) = &mut w.lw;
    assert_eq!(
        post(
            lw,
            &case,
            &format!("{case}/connect"),
            &[("activity_id", &w.activity)]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        w.app
            .count(&format!(
                "SELECT COUNT(*) FROM referrals WHERE id = '{id}' AND provider_status = 'pending'"
            ))
            .await,
        1
    );
    // Task reminders are mailed when due.
    assert!(
        w.app
            .count("SELECT COUNT(*) FROM jobs WHERE kind = 'referral_task_due'")
            .await
            >= 1
    );
    let _ = &w.provider_org;
}

/// Every table holding a person or referral id, by introspection.
async fn person_tables(app: &TestApp) -> Vec<String> {
    let outline = app.state.db.schema_outline().await.unwrap();
    outline
        .into_iter()
        .filter(|(table, cols)| {
            table == "people" || cols.iter().any(|c| c == "person_id" || c == "referral_id")
        })
        .map(|(t, _)| t)
        .collect()
}

#[tokio::test]
async fn withdrawing_consent_removes_the_person_from_every_evaluation_set_at_once() {
    let mut w = world().await;
    // Two people referred; both agree to evaluation. Give each rows in every table.
    for name in ["Kim", "Lee"] {
        let mut fields = SELF.to_vec();
        fields[0] = ("given_name", name);
        assert_eq!(
            self_refer(&w.app, &fields).await.status,
            StatusCode::SEE_OTHER
        );
        let id = latest_referral(&w.app).await;
        let (lw, _) = &mut w.lw;
        let case = format!("/caseload/{id}");
        post(lw, &case, &format!("{case}/take"), &[]).await;
        post(
            lw,
            &case,
            &format!("{case}/status"),
            &[("status", "contacted")],
        )
        .await;
        let plan = format!("{case}/plan");
        let review = in_weeks(4);
        post(
            lw,
            &plan,
            &plan,
            &[
                ("what_matters", "Music"),
                ("goals", "Sing"),
                ("next_steps", "Refer"),
                ("review_on", &review),
                ("agreed", "yes"),
            ],
        )
        .await;
        post(
            lw,
            &case,
            &format!("{case}/barriers"),
            &[("barrier", "cost"), ("action", "bursary")],
        )
        .await;
        post(
            lw,
            &case,
            &format!("{case}/notes"),
            &[("note", "Spoke on the phone")],
        )
        .await;
        post(
            lw,
            &case,
            &format!("{case}/connect"),
            &[("activity_id", &w.activity)],
        )
        .await;
        let y = days_ago(1);
        assert_eq!(
            post(
                lw,
                &case,
                &format!("{case}/attendance"),
                &[("session_date", &y), ("attendance", "present")]
            )
            .await
            .status,
            StatusCode::SEE_OTHER
        ); // A wellbeing measure recorded with the person.
        let person: String = sqlx::query_scalar("SELECT person_id FROM referrals WHERE id = $1")
            .bind(id.clone())
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
        let started = post(
            lw,
            &case,
            &format!("/measures/people/{person}/start"),
            &[
                ("instrument", "ons4"),
                ("mode", "with_practitioner"),
                ("referral_id", &id),
            ],
        )
        .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let form = started.location().to_string();
        let done = post(
            lw,
            &form,
            &form,
            &[
                ("q_life_satisfaction", "6"),
                ("q_worthwhile", "7"),
                ("q_happiness", "5"),
                ("q_anxiety", "3"),
                ("action", "finish"),
            ],
        )
        .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert!(done.body.contains("Thank you"), "{}", done.body);
    }
    use sqlx::Row;
    let people: Vec<(String, String)> = sqlx::query("SELECT i.given_name, p.id FROM people p JOIN person_identities i ON i.person_id = p.id ORDER BY i.given_name")
        .fetch_all(&w.app.state.db.read).await.unwrap().iter().map(|r| (r.try_get("given_name").unwrap(), r.try_get("id").unwrap())).collect();
    let kim = people.iter().find(|p| p.0 == "Kim").unwrap().1.clone();
    let lee = people.iter().find(|p| p.0 == "Lee").unwrap().1.clone();

    // Every table with a person or referral id is either in a dataset or excluded on purpose.
    let tables = person_tables(&w.app).await;
    assert!(tables.len() >= 9, "{tables:?}");
    for t in &tables {
        let in_dataset = evaluation::DATASETS
            .iter()
            .any(|d| d.tables.contains(&t.as_str()));
        let excluded = evaluation::NOT_FOR_EVALUATION.iter().any(|(x, _)| x == t);
        assert!(
            in_dataset ^ excluded,
            "table {t} holds a person or referral id: add it to an evaluation dataset or to NOT_FOR_EVALUATION with a reason"
        );
        if in_dataset {
            // The person has rows in it, so the check below is not vacuous.
            let n = if t == "people" {
                w.app
                    .count(&format!("SELECT COUNT(*) FROM people WHERE id = '{kim}'"))
                    .await
            } else if t == "person_identities" || t == "referrals" {
                w.app
                    .count(&format!(
                        "SELECT COUNT(*) FROM {t} WHERE person_id = '{kim}'"
                    ))
                    .await
            } else {
                w.app.count(&format!("SELECT COUNT(*) FROM {t} WHERE referral_id IN (SELECT id FROM referrals WHERE person_id = '{kim}')")).await
            };
            assert!(n > 0, "{t} has no rows for the test person");
        }
    }
    let kim_rid = evaluation::research_id(&w.app.state, &kim);
    let lee_rid = evaluation::research_id(&w.app.state, &lee);
    let present = |rows: &Vec<Vec<String>>, rid: &str| rows.iter().skip(1).any(|r| r[0] == rid);
    for d in evaluation::DATASETS {
        let rows = evaluation::rows(&w.app.state, d).await.unwrap();
        assert!(
            present(&rows, &kim_rid) && present(&rows, &lee_rid),
            "{} before withdrawal",
            d.name
        );
    }
    // Kim withdraws through the care team; from that moment no dataset or export has Kim.
    let (lw, _) = &mut w.lw;
    let r = post(
        lw,
        &format!("/people/{kim}"),
        &format!("/people/{kim}/consents"),
        &[
            ("purpose", "evaluation"),
            ("decision", "withdrawn"),
            ("method", "verbal"),
            ("witness", ""),
        ],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a verbal decision needs a witness"
    );
    let r = post(
        lw,
        &format!("/people/{kim}"),
        &format!("/people/{kim}/consents"),
        &[
            ("purpose", "evaluation"),
            ("decision", "withdrawn"),
            ("method", "paper"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for d in evaluation::DATASETS {
        let rows = evaluation::rows(&w.app.state, d).await.unwrap();
        assert!(
            !present(&rows, &kim_rid),
            "{} still has the withdrawn person",
            d.name
        );
        assert!(
            present(&rows, &lee_rid),
            "{} lost a consenting person",
            d.name
        );
    }
    // The researcher's download and API agree, and are audited.
    let org = w.app.org("Uni", "university").await;
    let (mut res, res_id, _) = signed(&w.app, Role::Researcher, &org).await;
    let csv = res.get("/research/datasets/referrals.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains(&lee_rid) && !csv.body.contains(&kim_rid));
    assert!(
        !csv.body.contains("Lee") && !csv.body.contains("robin@example.org"),
        "no identity in exports"
    );
    let actor = Actor {
        user_id: res_id,
        display_name: "r".into(),
        email: "r@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "api",
    };
    let token = ensemble::modules::accounts::service::create_token(
        &w.app.state,
        &actor,
        "r",
        &["evaluation:read".to_string()],
        "",
    )
    .await
    .unwrap();
    let api = w
        .app
        .client()
        .api("GET", "/api/v1/evaluation/attendance", Some(&token), None)
        .await;
    assert_eq!(api.status, StatusCode::OK);
    assert!(api.body.contains(&lee_rid) && !api.body.contains(&kim_rid));
    assert_eq!(
        w.app
            .client()
            .api("GET", "/api/v1/evaluation/nope", Some(&token), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'evaluation.export'")
            .await
            >= 2
    );
    // A participant withdraws their own consent from "My plan".
    let porg = w.app.org("Participants", "community_group").await;
    let (mut me, me_id, _) = signed(&w.app, Role::Participant, &porg).await;
    sqlx::query("UPDATE people SET user_id = $1 WHERE id = $2")
        .bind(me_id)
        .bind(lee.clone())
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    let r = me
        .submit("/my/plan", "/my/consents", &[("purpose", "evaluation")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for d in evaluation::DATASETS {
        assert!(!present(
            &evaluation::rows(&w.app.state, d).await.unwrap(),
            &lee_rid
        ));
    }
    assert_eq!(w.app.count(&format!("SELECT COUNT(*) FROM consent_decisions WHERE person_id = '{lee}' AND purpose = 'evaluation' AND decision = 'withdrawn' AND method = 'online'")).await, 1);
}
