//! The competency framework (co-created, versioned) and the CPD portfolio: evidence with
//! certificate uploads and their checks, self / peer / supervisor assessment, access, the
//! printable and JSON exports, the API and CPD in the practice summary.

use axum::http::StatusCode;
use ensemble::rbac::Role;

use crate::referrals::{World, world};
use crate::support::{Client, Resp};

async fn email_of(app: &crate::support::TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
}

fn pdf(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n% test certificate\n".to_vec();
    v.resize(len.max(v.len()), b' ');
    v
}

/// A certificate is served only as a download, never shown inline, and never cached.
fn assert_certificate_is_an_uncached_attachment(r: &Resp, filename: &str) {
    let header = |name: &str| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let disposition = header("content-disposition");
    assert!(
        disposition.starts_with("attachment;") || disposition == "attachment",
        "{disposition}"
    );
    assert!(
        disposition.contains(&format!("filename=\"{filename}\"")),
        "{disposition}"
    );
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-content-type-options"), "nosniff");
}

/// The world of the referral tests, with a signed-in programme manager of the provider.
struct Setup {
    w: World,
    org: String,
    activity: String,
    pm: Client,
    pm_email: String,
    pm_id: String,
    pr_id: String,
    pr_email: String,
}

async fn setup() -> Setup {
    let w = world().await;
    let org = w.provider_org.clone();
    let activity = w.activity.clone();
    let (pm_email, pm_password, pm_id) = w.app.user(Role::ProgrammeManager, &org).await;
    let mut pm = w.app.client();
    pm.sign_in(&pm_email, &pm_password).await;
    let pr_id = w.practitioner.1.clone();
    let pr_email = email_of(&w.app, &pr_id).await;
    Setup {
        w,
        org,
        activity,
        pm,
        pm_email,
        pm_id,
        pr_id,
        pr_email,
    }
}

/// The setup with the starter framework published by the programme manager.
async fn with_framework() -> Setup {
    let s = setup().await;
    let pm = ensemble::rbac::Actor {
        user_id: s.pm_id.clone(),
        display_name: "pm".into(),
        email: s.pm_email.clone(),
        memberships: vec![(
            s.org.clone(),
            "City Orchestra".into(),
            Role::ProgrammeManager,
        )],
        request_id: None,
        channel: "web",
    };
    let draft = ensemble::modules::practice::competencies::start_draft(&s.w.app.state, &pm, &s.org)
        .await
        .unwrap();
    ensemble::modules::practice::competencies::publish(&s.w.app.state, &pm, &draft, "v1")
        .await
        .unwrap();
    s
}

/// A practitioner's draft (from the starter framework) with "P1" added, published by the
/// programme manager; returns the draft's path for adding competencies.
async fn shape_and_publish(s: &mut Setup) -> String {
    let org = s.org.clone();
    let (pr, _) = &mut s.w.practitioner;
    let r = pr
        .submit(
            "/practice/framework",
            "/practice/framework",
            &[("organisation", &org)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let draft: String =
        sqlx::query_scalar("SELECT id FROM competency_frameworks WHERE status = 'draft'")
            .fetch_one(&s.w.app.state.db.read)
            .await
            .unwrap();
    let add = format!("/practice/framework/{draft}/competencies");
    let r = pr
        .submit(
            "/practice/framework",
            &add,
            &[
                ("new_domain", "Performance"),
                ("title", "Performs for audiences in care settings"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r =
        s.pm.submit(
            "/practice/framework",
            &format!("/practice/framework/{draft}/publish"),
            &[("change_note", "First version")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    add
}

/// Evidence of a session the practitioner led today (competencies F2 and MP1).
async fn add_session_evidence(s: &mut Setup) {
    // Session and evidence dates are UK dates on the server.
    let today = ensemble::db::uk::today().to_string();
    let (pr, _) = &mut s.w.practitioner;
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &s.activity),
                ("date", &today),
                ("starts", "00:00"),
                ("ends", "01:00"),
            ],
        )
        .await;
    let session = r
        .location()
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_start_matches("/sessions/")
        .to_string();
    let token = pr.get("/practice/portfolio/evidence/new").await.csrf();
    let source = format!("session:{session}");
    let r = pr
        .post_multipart(
            "/practice/portfolio/evidence",
            &[
                ("csrf_token", &token),
                ("kind", "session"),
                ("source", &source),
                ("competencies", "F2"),
                ("competencies", "MP1"),
            ],
            &[],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        &r.body[..r.body.len().min(600)]
    );
}

/// The fields of a training record for competency S1.
fn training(title: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("kind", "training"),
        ("title", title),
        ("occurred_on", "2026-10-01"),
        ("hours", "6"),
        ("competencies", "S1"),
    ]
}

/// A training record with a 40 kB PDF certificate: (evidence path, certificate path, bytes).
async fn add_training_evidence(s: &mut Setup) -> (String, String, Vec<u8>) {
    let (pr, _) = &mut s.w.practitioner;
    let token = pr.get("/practice/portfolio/evidence/new").await.csrf();
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend(training("Level 2 safeguarding adults"));
    let cert = pdf(40_000);
    let r = pr
        .post_multipart(
            "/practice/portfolio/evidence",
            &fields,
            &[("certificate", "safeguarding-certificate.pdf", &cert)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let evidence = r.location().to_string();
    let cert_id: String = sqlx::query_scalar("SELECT id FROM certificates")
        .fetch_one(&s.w.app.state.db.read)
        .await
        .unwrap();
    (
        evidence,
        format!("/practice/portfolio/certificates/{cert_id}"),
        cert,
    )
}

async fn self_assess(s: &mut Setup) {
    let (pr, _) = &mut s.w.practitioner;
    let r = pr
        .submit(
            "/practice/portfolio/assess",
            "/practice/portfolio/assess",
            &[
                ("competency", "S1"),
                ("level", "3"),
                ("comment", "Trained and confident"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

/// The practitioner asks someone, by email, to assess S1.
async fn ask(s: &mut Setup, kind: &str, email: &str) -> Resp {
    let (pr, _) = &mut s.w.practitioner;
    pr.submit(
        "/practice/portfolio/request",
        "/practice/portfolio/request",
        &[
            ("competency", "S1"),
            ("kind", kind),
            ("assessor_email", email),
        ],
    )
    .await
}

/// The programme manager is asked, as a peer, to assess S1; returns the request's path.
async fn ask_the_programme_manager(s: &mut Setup) -> String {
    let email = s.pm_email.clone();
    assert_eq!(ask(s, "peer", &email).await.status, StatusCode::SEE_OTHER);
    let request: String =
        sqlx::query_scalar("SELECT id FROM competency_assessments WHERE status = 'requested'")
            .fetch_one(&s.w.app.state.db.read)
            .await
            .unwrap();
    format!("/practice/assessments/{request}")
}

async fn the_programme_manager_answers(s: &mut Setup, url: &str) {
    let r =
        s.pm.submit(
            url,
            url,
            &[
                ("level", "3"),
                (
                    "comment",
                    "Raised a concern promptly and correctly in October",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

/// Session and training evidence, a self-assessment and a peer assessment of S1.
async fn assessed() -> (Setup, String) {
    let mut s = with_framework().await;
    add_session_evidence(&mut s).await;
    let (evidence, _, _) = add_training_evidence(&mut s).await;
    self_assess(&mut s).await;
    let url = ask_the_programme_manager(&mut s).await;
    the_programme_manager_answers(&mut s, &url).await;
    (s, evidence)
}

#[tokio::test]
async fn without_a_published_framework_the_portfolio_says_so_and_takes_no_evidence() {
    let mut s = setup().await;
    let (pr, _) = &mut s.w.practitioner;
    let r = pr.get("/practice/portfolio").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains("has not published a competency framework yet")
    );
    assert_eq!(
        pr.get("/practice/portfolio/evidence/new").await.status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn practitioners_draft_a_framework_and_only_a_programme_manager_publishes_it_with_a_note() {
    let mut s = setup().await;
    let org = s.org.clone();
    // A practitioner starts the draft (from the starter framework) and adds a competency.
    let (pr, _) = &mut s.w.practitioner;
    let r = pr
        .submit(
            "/practice/framework",
            "/practice/framework",
            &[("organisation", &org)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let draft: String =
        sqlx::query_scalar("SELECT id FROM competency_frameworks WHERE status = 'draft'")
            .fetch_one(&s.w.app.state.db.read)
            .await
            .unwrap();
    assert_eq!(
        s.w.app
            .count(&format!(
                "SELECT COUNT(*) FROM competencies WHERE framework_id = '{draft}'"
            ))
            .await,
        10
    );
    let add = format!("/practice/framework/{draft}/competencies");
    let r = pr
        .submit(
            "/practice/framework",
            &add,
            &[("domain", ""), ("title", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose a domain or name a new one"));
    assert!(r.body.contains("short title"));
    let r = pr
        .submit(
            "/practice/framework",
            &add,
            &[
                ("new_domain", "Performance"),
                ("title", "Performs for audiences in care settings"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        s.w.app
            .count("SELECT COUNT(*) FROM competencies WHERE code = 'P1'")
            .await,
        1
    );
    // Only a programme manager publishes; a note of what changed is required.
    let publish = format!("/practice/framework/{draft}/publish");
    let r = pr
        .submit(
            "/practice/framework",
            &publish,
            &[("change_note", "First version")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r =
        s.pm.submit("/practice/framework", &publish, &[("change_note", "")])
            .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Say what this version changes"));
    let r =
        s.pm.submit(
            "/practice/framework",
            &publish,
            &[(
                "change_note",
                "First version, shaped at the November practice day",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = s.pm.get("/practice/framework").await;
    assert!(page.body.contains("In use: version 1"));
    assert!(
        page.body
            .contains("Performs for audiences in care settings")
    );
    assert_eq!(
        s.w.app
            .count(&format!(
                "SELECT COUNT(*) FROM competency_framework_contributors WHERE framework_id = '{draft}'"
            ))
            .await,
        2,
        "both contributors are named"
    );
}

#[tokio::test]
async fn a_published_framework_cannot_change() {
    let mut s = setup().await;
    let add = shape_and_publish(&mut s).await;
    let (pr, _) = &mut s.w.practitioner;
    let r = pr
        .submit(
            "/practice/framework",
            &add,
            &[("domain", "Safeguarding"), ("title", "Late change")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_removed_competency_code_is_never_given_to_another_one() {
    let mut s = setup().await;
    shape_and_publish(&mut s).await;
    let org = s.org.clone();
    // A new draft: a removed competency's code is never given to another one.
    let (pr, _) = &mut s.w.practitioner;
    let r = pr
        .submit(
            "/practice/framework",
            "/practice/framework",
            &[("organisation", &org)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (draft2, p1): (String, String) = {
        use sqlx::Row;
        let r = sqlx::query("SELECT f.id, c.id AS c FROM competency_frameworks f JOIN competencies c ON c.framework_id = f.id WHERE f.status = 'draft' AND c.code = 'P1'")
            .fetch_one(&s.w.app.state.db.read)
            .await
            .unwrap();
        (r.try_get("id").unwrap(), r.try_get("c").unwrap())
    };
    let edit = format!("/practice/framework/{draft2}/competencies/{p1}");
    let r = pr
        .submit("/practice/framework", &edit, &[("action", "remove")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = pr
        .submit(
            "/practice/framework",
            &format!("/practice/framework/{draft2}/competencies"),
            &[("domain", "Performance"), ("title", "Leads a concert")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        s.w.app
            .count(&format!(
                "SELECT COUNT(*) FROM competencies WHERE framework_id = '{draft2}' AND code = 'P2'"
            ))
            .await,
        1,
        "P1 is not reused"
    );
}

#[tokio::test]
async fn a_session_the_practitioner_led_is_accepted_as_evidence() {
    let mut s = with_framework().await;
    add_session_evidence(&mut s).await;
    assert_eq!(
        s.w.app
            .count("SELECT COUNT(*) FROM portfolio_evidence WHERE kind = 'session'")
            .await,
        1
    );
    assert_eq!(
        s.w.app
            .count("SELECT COUNT(*) FROM portfolio_evidence_competencies")
            .await,
        2
    );
}

#[tokio::test]
async fn a_certificate_that_is_not_a_pdf_or_image_or_is_too_large_is_refused() {
    let mut s = with_framework().await;
    let (pr, _) = &mut s.w.practitioner;
    let token = pr.get("/practice/portfolio/evidence/new").await.csrf();
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend(training("Level 2 safeguarding adults"));
    let docx = b"PK\x03\x04 this is a word document".to_vec();
    let r = pr
        .post_multipart(
            "/practice/portfolio/evidence",
            &fields,
            &[("certificate", "certificate.docx", &docx)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains(
            "The certificate &quot;certificate.docx&quot; is not a PDF, PNG or JPEG file"
        )
    );
    assert!(r.body.contains("choose it again"));
    let big = pdf(6 * 1024 * 1024);
    let r = pr
        .post_multipart(
            "/practice/portfolio/evidence",
            &fields,
            &[("certificate", "scan.pdf", &big)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("is 6.0 MB; the largest accepted is 5.0 MB"),
        "oversized"
    );
    // Far beyond any limit: a plain refusal, never a 500.
    let huge = pdf(17 * 1024 * 1024);
    let r = pr
        .post_multipart(
            "/practice/portfolio/evidence",
            &fields,
            &[("certificate", "huge.pdf", &huge)],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("too large"));
    assert_eq!(
        s.w.app
            .count("SELECT COUNT(*) FROM portfolio_evidence")
            .await,
        0
    );
    assert_eq!(s.w.app.count("SELECT COUNT(*) FROM certificates").await, 0);
}

#[tokio::test]
async fn a_training_record_without_its_details_names_each_problem() {
    let mut s = with_framework().await;
    let (pr, _) = &mut s.w.practitioner;
    let token = pr.get("/practice/portfolio/evidence/new").await.csrf();
    let r = pr
        .post_multipart(
            "/practice/portfolio/evidence",
            &[
                ("csrf_token", &token),
                ("kind", "training"),
                ("occurred_on", "next week"),
                ("hours", "lots"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "Enter the name of the training",
        "year-month-day",
        "between 0.5 and 1000",
        "Choose at least one competency",
    ] {
        assert!(r.body.contains(m), "{m}");
    }
    assert_eq!(
        s.w.app
            .count("SELECT COUNT(*) FROM portfolio_evidence")
            .await,
        0
    );
}

#[tokio::test]
async fn only_the_evidence_form_takes_large_bodies_and_a_broken_multipart_body_is_a_400() {
    let mut s = with_framework().await;
    let (pr, _) = &mut s.w.practitioner;
    let token = pr.get("/practice/portfolio/evidence/new").await.csrf();
    let big = pdf(6 * 1024 * 1024);
    let r = pr
        .post_multipart(
            "/practice/journal",
            &[("csrf_token", &token), ("title", "x"), ("body", "y")],
            &[("certificate", "big.pdf", &big)],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = pr
        .send(
            axum::http::Request::post("/practice/portfolio/evidence")
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(axum::body::Body::from("--XyZ\r\nbroken"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("could not be read"));
    assert_eq!(
        s.w.app.count("SELECT COUNT(*) FROM journal_entries").await,
        0
    );
}

#[tokio::test]
async fn an_upload_without_the_csrf_token_is_refused() {
    let mut s = with_framework().await;
    let (pr, _) = &mut s.w.practitioner;
    let r = pr
        .post_multipart("/practice/portfolio/evidence", &training("x"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.w.app
            .count("SELECT COUNT(*) FROM portfolio_evidence")
            .await,
        0
    );
    assert_eq!(s.w.app.count("SELECT COUNT(*) FROM certificates").await, 0);
}

#[tokio::test]
async fn a_certificate_is_served_only_as_an_attachment_that_is_never_cached() {
    let mut s = with_framework().await;
    let (evidence, cert_url, cert) = add_training_evidence(&mut s).await;
    let (pr, _) = &mut s.w.practitioner;
    let page = pr.get(&evidence).await;
    assert!(page.body.contains("Download safeguarding-certificate.pdf"));
    let got = pr.get(&cert_url).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.headers["content-type"], "application/pdf");
    assert_eq!(got.body.len(), cert.len());
    assert_certificate_is_an_uncached_attachment(&got, "safeguarding-certificate.pdf");
}

#[tokio::test]
async fn a_self_assessment_needs_a_level_from_1_to_4() {
    let mut s = with_framework().await;
    let (pr, _) = &mut s.w.practitioner;
    let r = pr
        .submit(
            "/practice/portfolio/assess",
            "/practice/portfolio/assess",
            &[("competency", "S1"), ("level", "7")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose a level from 1 to 4"));
    self_assess(&mut s).await;
}

#[tokio::test]
async fn a_peer_must_be_in_the_organisation_and_a_supervisor_must_be_recorded() {
    let mut s = with_framework().await;
    let other_email: String = sqlx::query_scalar(
        "SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.organisation_id <> $1 AND m.role = 'practitioner' LIMIT 1",
    )
    .bind(s.org.clone())
    .fetch_one(&s.w.app.state.db.read)
    .await
    .unwrap();
    let (pm_email, pr_email) = (s.pm_email.clone(), s.pr_email.clone());
    for (kind, email, message) in [
        (
            "peer",
            other_email,
            "must be a practitioner or programme manager in your organisation",
        ),
        ("supervisor", pm_email, "Record a supervision session"),
        ("peer", pr_email, "Ask someone other than yourself"),
    ] {
        let r = ask(&mut s, kind, &email).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(message), "{message}");
    }
    assert_eq!(
        s.w.app
            .count("SELECT COUNT(*) FROM competency_assessments")
            .await,
        0
    );
}

#[tokio::test]
async fn an_assessor_is_emailed_a_link_without_the_details() {
    let mut s = with_framework().await;
    add_training_evidence(&mut s).await;
    let url = ask_the_programme_manager(&mut s).await;
    let request = url.trim_start_matches("/practice/assessments/");
    let pm_email = &s.pm_email;
    assert_eq!(
        s.w.app
            .count(&format!(
                "SELECT COUNT(*) FROM outbox WHERE to_address = '{pm_email}' AND body_text LIKE '%/practice/assessments/{request}%' AND body_text NOT LIKE '%safeguarding%'"
            ))
            .await,
        1,
        "the assessor is emailed a link without details"
    );
}

#[tokio::test]
async fn the_assessor_sees_the_linked_evidence_and_its_certificate_and_others_do_not() {
    let mut s = with_framework().await;
    add_session_evidence(&mut s).await;
    let (_, cert_url, _) = add_training_evidence(&mut s).await;
    let url = ask_the_programme_manager(&mut s).await;
    let page = s.pm.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Level 2 safeguarding adults"));
    assert!(
        !page.body.contains("City Orchestra, "),
        "evidence for other competencies is not shown"
    );
    let got = s.pm.get(&cert_url).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_certificate_is_an_uncached_attachment(&got, "safeguarding-certificate.pdf");
    assert_eq!(
        s.w.other_practitioner.get(&cert_url).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.w.other_practitioner.get(&url).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_assessment_needs_a_comment_and_is_answered_once() {
    let mut s = with_framework().await;
    add_training_evidence(&mut s).await;
    let url = ask_the_programme_manager(&mut s).await;
    let r = s.pm.submit(&url, &url, &[("level", "3")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Write what you saw"));
    the_programme_manager_answers(&mut s, &url).await;
    let r =
        s.pm.submit(&url, &url, &[("level", "4"), ("comment", "again")])
            .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "answered once");
}

#[tokio::test]
async fn the_portfolio_its_printable_page_and_json_export_show_evidence_and_assessments() {
    let (mut s, _) = assessed().await;
    let (pr, _) = &mut s.w.practitioner;
    let page = pr.get("/practice/portfolio").await;
    assert!(page.body.contains("Peer: 3 Competent"));
    let print = pr.get("/practice/portfolio/print").await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(print.body.contains("Raised a concern promptly"));
    let export = pr.get("/practice/portfolio/export.json").await;
    assert_eq!(export.status, StatusCode::OK);
    let doc = export.json();
    assert_eq!(doc["format"], "ensemble-cpd-portfolio/1");
    assert_eq!(doc["evidence"].as_array().unwrap().len(), 2);
    let s1 = doc["framework"]["competencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "S1")
        .unwrap()
        .clone();
    assert_eq!(s1["self_assessment"], 3);
    assert_eq!(s1["peer_assessment"], 3);
    assert_eq!(s1["evidence"].as_array().unwrap().len(), 1);
    assert!(
        !export.body.contains("%PDF"),
        "certificates are described, not embedded"
    );
    assert_eq!(
        s.w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'portfolio.export'")
            .await,
        1
    );
}

#[tokio::test]
async fn cpd_by_competency_domain_is_in_the_practice_summaries() {
    let (mut s, _) = assessed().await;
    let org = s.org.clone();
    let (pr, _) = &mut s.w.practitioner;
    let summary = pr.get("/practice/summary").await;
    assert!(summary.body.contains("CPD by competency domain"));
    assert!(summary.body.contains("<td class=\"nhsuk-table__cell\">Safeguarding</td><td class=\"nhsuk-table__cell\">1</td><td class=\"nhsuk-table__cell\">6.0</td>"));
    let summary =
        s.pm.get(&format!("/practice/summary?organisation={org}"))
            .await;
    assert!(summary.body.contains("<td class=\"nhsuk-table__cell\">Facilitation</td><td class=\"nhsuk-table__cell\">1</td><td class=\"nhsuk-table__cell\">0.0</td><td class=\"nhsuk-table__cell\">1</td>"), "{}", &summary.body[summary.body.find("CPD by").unwrap_or(0)..]);
}

#[tokio::test]
async fn a_practice_read_token_gets_the_same_portfolio_from_the_api() {
    let (mut s, _) = assessed().await;
    let actor = ensemble::rbac::Actor {
        user_id: s.pr_id.clone(),
        display_name: "p".into(),
        email: s.pr_email.clone(),
        memberships: vec![],
        request_id: None,
        channel: "web",
    };
    let token = ensemble::modules::accounts::service::create_token(
        &s.w.app.state,
        &actor,
        "cpd",
        &["practice:read".to_string()],
        "",
    )
    .await
    .unwrap();
    let (pr, _) = &mut s.w.practitioner;
    let r = pr
        .api("GET", "/api/v1/practice/portfolio", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["evidence"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn removing_evidence_removes_its_certificate() {
    let (mut s, evidence) = assessed().await;
    assert_eq!(s.w.app.count("SELECT COUNT(*) FROM certificates").await, 1);
    let (pr, _) = &mut s.w.practitioner;
    let remove = format!("{evidence}/remove");
    let r = pr.submit(&evidence, &remove, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(s.w.app.count("SELECT COUNT(*) FROM certificates").await, 0);
}
