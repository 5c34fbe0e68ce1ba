//! The competency framework (co-created, versioned) and the CPD portfolio: evidence with
//! certificate uploads and their checks, self / peer / supervisor assessment, access, the
//! printable and JSON exports, the API and CPD in the practice summary.

use axum::http::StatusCode;
use ensemble::rbac::Role;

use crate::referrals::world;

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
fn assert_certificate_is_an_uncached_attachment(r: &crate::support::Resp, filename: &str) {
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

#[tokio::test]
async fn a_framework_is_shaped_together_and_a_portfolio_is_built_against_it() {
    let mut w = world().await;
    let org = w.provider_org.clone();
    let activity = w.activity.clone();
    let (pm_email, pm_password, pm_id) = w.app.user(Role::ProgrammeManager, &org).await;
    let mut pm = w.app.client();
    pm.sign_in(&pm_email, &pm_password).await;
    let pr_id = w.practitioner.1.clone();
    let pr_email = email_of(&w.app, &pr_id).await;

    // No framework yet: the portfolio says so and evidence cannot be added.
    let (pr, _) = &mut w.practitioner;
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

    // A practitioner starts the draft (from the starter framework) and adds a competency.
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
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
    assert_eq!(
        w.app
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
        w.app
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
    let r = pm
        .submit("/practice/framework", &publish, &[("change_note", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Say what this version changes"));
    let r = pm
        .submit(
            "/practice/framework",
            &publish,
            &[(
                "change_note",
                "First version, shaped at the November practice day",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = pm.get("/practice/framework").await;
    assert!(page.body.contains("In use: version 1"));
    assert!(
        page.body
            .contains("Performs for audiences in care settings")
    );
    assert_eq!(
        w.app
            .count(&format!(
                "SELECT COUNT(*) FROM competency_framework_contributors WHERE framework_id = '{draft}'"
            ))
            .await,
        2,
        "both contributors are named"
    );
    // A published version cannot change.
    let (pr, _) = &mut w.practitioner;
    let r = pr
        .submit(
            "/practice/framework",
            &add,
            &[("domain", "Safeguarding"), ("title", "Late change")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // A new draft: a removed competency's code is never given to another one.
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
            .fetch_one(&w.app.state.db.read)
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
        w.app
            .count(&format!(
                "SELECT COUNT(*) FROM competencies WHERE framework_id = '{draft2}' AND code = 'P2'"
            ))
            .await,
        1,
        "P1 is not reused"
    );

    // Evidence: a session the practitioner led.
    // Session and evidence dates are UK dates on the server.
    let today = ensemble::db::uk::today().to_string();
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &activity),
                ("date", &today),
                ("starts", "00:00"),
                ("ends", "01:00"),
            ],
        )
        .await;
    let session = r.location().trim_start_matches("/sessions/").to_string();
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

    // Training records: a file that is not a PDF or image, an oversized file, missing
    // fields — each refused with a message, and nothing stored.
    let before = w.app.count("SELECT COUNT(*) FROM portfolio_evidence").await;
    let training = |title: &'static str| {
        vec![
            ("kind", "training"),
            ("title", title),
            ("occurred_on", "2026-10-01"),
            ("hours", "6"),
            ("competencies", "S1"),
        ]
    };
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
    // Other forms do not take large bodies, and a malformed multipart body is a 400.
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
    // Without the CSRF token the upload is refused.
    let r = pr
        .post_multipart("/practice/portfolio/evidence", &training("x"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM portfolio_evidence").await,
        before
    );
    assert_eq!(w.app.count("SELECT COUNT(*) FROM certificates").await, 0);
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
    let page = pr.get(&evidence).await;
    assert!(page.body.contains("Download safeguarding-certificate.pdf"));
    let cert_id: String = sqlx::query_scalar("SELECT id FROM certificates")
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    let cert_url = format!("/practice/portfolio/certificates/{cert_id}");
    let got = pr.get(&cert_url).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.headers["content-type"], "application/pdf");
    assert_eq!(got.body.len(), cert.len());
    assert_certificate_is_an_uncached_attachment(&got, "safeguarding-certificate.pdf");

    // Self-assessment.
    let r = pr
        .submit(
            "/practice/portfolio/assess",
            "/practice/portfolio/assess",
            &[("competency", "S1"), ("level", "7")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose a level from 1 to 4"));
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

    // Asking for assessments: a peer must be in the organisation; a supervisor must be one.
    let other_email: String = sqlx::query_scalar(
        "SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.organisation_id <> $1 AND m.role = 'practitioner' LIMIT 1",
    )
    .bind(org.clone())
    .fetch_one(&w.app.state.db.read)
    .await
    .unwrap();
    let ask = |kind: &'static str, email: String| {
        vec![
            ("competency".to_string(), "S1".to_string()),
            ("kind".to_string(), kind.to_string()),
            ("assessor_email".to_string(), email),
        ]
    };
    for (kind, email, message) in [
        (
            "peer",
            other_email.clone(),
            "must be a practitioner or programme manager in your organisation",
        ),
        (
            "supervisor",
            pm_email.clone(),
            "Record a supervision session",
        ),
        ("peer", pr_email.clone(), "Ask someone other than yourself"),
    ] {
        let f = ask(kind, email);
        let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let r = pr
            .submit(
                "/practice/portfolio/request",
                "/practice/portfolio/request",
                &f,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(message), "{message}");
    }
    let f = ask("peer", pm_email.clone());
    let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = pr
        .submit(
            "/practice/portfolio/request",
            "/practice/portfolio/request",
            &f,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let request: String =
        sqlx::query_scalar("SELECT id FROM competency_assessments WHERE status = 'requested'")
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
    assert_eq!(
        w.app
            .count(&format!(
                "SELECT COUNT(*) FROM outbox WHERE to_address = '{pm_email}' AND body_text LIKE '%/practice/assessments/{request}%' AND body_text NOT LIKE '%safeguarding%'"
            ))
            .await,
        1,
        "the assessor is emailed a link without details"
    );

    // The peer sees the linked evidence and its certificate; others do not.
    let url = format!("/practice/assessments/{request}");
    let page = pm.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Level 2 safeguarding adults"));
    assert!(
        !page.body.contains("City Orchestra, "),
        "evidence for other competencies is not shown"
    );
    assert_eq!(pm.get(&cert_url).await.status, StatusCode::OK);
    assert_eq!(
        w.other_practitioner.get(&cert_url).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.other_practitioner.get(&url).await.status,
        StatusCode::NOT_FOUND
    );
    let r = pm.submit(&url, &url, &[("level", "3")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Write what you saw"));
    let r = pm
        .submit(
            &url,
            &url,
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
    let r = pm
        .submit(&url, &url, &[("level", "4"), ("comment", "again")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "answered once");

    // The portfolio, its printable page and JSON export.
    let (pr, _) = &mut w.practitioner;
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
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'portfolio.export'")
            .await,
        1
    );

    // CPD by domain in the practice summaries.
    let s = pr.get("/practice/summary").await;
    assert!(s.body.contains("CPD by competency domain"));
    assert!(s.body.contains("<td class=\"nhsuk-table__cell\">Safeguarding</td><td class=\"nhsuk-table__cell\">1</td><td class=\"nhsuk-table__cell\">6.0</td>"));
    let s = pm
        .get(&format!("/practice/summary?organisation={org}"))
        .await;
    assert!(s.body.contains("<td class=\"nhsuk-table__cell\">Facilitation</td><td class=\"nhsuk-table__cell\">1</td><td class=\"nhsuk-table__cell\">0.0</td><td class=\"nhsuk-table__cell\">1</td>"), "{}", &s.body[s.body.find("CPD by").unwrap_or(0)..]);

    // The API gives the same export to a token with practice:read.
    let actor = ensemble::rbac::Actor {
        user_id: pr_id.clone(),
        display_name: "p".into(),
        email: pr_email.clone(),
        memberships: vec![],
        request_id: None,
        channel: "web",
    };
    let token = ensemble::modules::accounts::service::create_token(
        &w.app.state,
        &actor,
        "cpd",
        &["practice:read".to_string()],
        "",
    )
    .await
    .unwrap();
    let (pr, _) = &mut w.practitioner;
    let r = pr
        .api("GET", "/api/v1/practice/portfolio", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["evidence"].as_array().unwrap().len(), 2);

    // Removing evidence removes its certificate.
    let remove = format!("{evidence}/remove");
    let r = pr.submit(&evidence, &remove, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM certificates").await, 0);
    let _ = pm_id;
}
