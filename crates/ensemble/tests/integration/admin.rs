//! Administration: organisations, invitations by email, disabling accounts, and the
//! relationship rule for organisation members.

use axum::http::StatusCode;
use ensemble::rbac::Role;
use sqlx::Row;

use crate::support::TestApp;

#[tokio::test]
async fn an_empty_organisation_form_lists_every_problem() {
    let app = TestApp::new().await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let r = admin
        .submit(
            "/admin/organisations/new",
            "/admin/organisations/new",
            &[("name", " "), ("kind", ""), ("website", "example dot org")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (field, msg) in [
        ("name", "Enter the organisation"),
        ("kind", "Choose what kind"),
        ("website", "Website must be a full address"),
    ] {
        assert!(r.body.contains(&format!("href=\"#{field}\"")), "{field}");
        assert!(r.body.contains(msg), "{msg}");
    }
    let r = admin
        .submit(
            "/admin/organisations/new",
            "/admin/organisations/new",
            &[
                ("name", "Wirral Drummers"),
                ("kind", "community_group"),
                ("borough", "Wirral"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let list = admin.get("/admin/organisations").await;
    assert!(list.body.contains("Wirral Drummers"));
}

#[tokio::test]
async fn an_invited_person_gets_an_email_link_and_sets_up_their_account_once() {
    let app = TestApp::new().await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let org = app.org("Liverpool Sinfonia", "cultural_organisation").await;
    let r = admin
        .submit(
            "/admin/users/invite",
            "/admin/users/invite",
            &[
                ("display_name", ""),
                ("email", "not-an-email"),
                ("organisation_id", ""),
                ("role", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["display_name", "email", "organisation_id", "role"] {
        assert!(r.body.contains(&format!("href=\"#{f}\"")), "{f}");
    }
    let r = admin
        .submit(
            "/admin/users/invite",
            "/admin/users/invite",
            &[
                ("display_name", "Morgan Musician"),
                ("email", "Morgan@Example.org"),
                ("organisation_id", &org),
                ("role", "practitioner"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let row = sqlx::query("SELECT to_address, body_text FROM outbox")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    let to: String = row.try_get(0).unwrap();
    let body: String = row.try_get(1).unwrap();
    assert_eq!(to, "morgan@example.org");
    let link = body
        .lines()
        .find(|l| l.contains("/invitations/"))
        .expect("link in email");
    let path = &link[link.find("/invitations/").unwrap()..];
    // The job worker delivers (here: keeps, as no SMTP is configured) the email.
    assert_eq!(ensemble::jobs::run_due(&app.state).await.unwrap(), 1);
    let status: String = sqlx::query("SELECT status FROM outbox")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(status, ensemble::notify::status::NOT_SENT);

    let mut person = app.client();
    let page = person.get(path).await;
    assert!(
        page.body.contains("Set up your Ensemble account")
            && page.body.contains("Liverpool Sinfonia")
    );
    let r = person
        .submit(
            path,
            path,
            &[
                ("new_password", "qwertyuiop"),
                ("confirm_password", "qwertyuiop"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("too common"));
    let r = person
        .submit(
            path,
            path,
            &[
                ("new_password", "cello harbour lantern"),
                ("confirm_password", "cello harbour lantern"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Your account is ready"));
    assert_eq!(
        person.get(path).await.status,
        StatusCode::NOT_FOUND,
        "the link works once"
    );
    // A practitioner reaches person records, so a second administrator approves the role.
    let (mut second, _) = app.signed_in(Role::Administrator).await;
    let grant: String = sqlx::query("SELECT id FROM role_grants")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let approve = format!("/admin/role-grants/{grant}/approve");
    let r = second.submit("/admin/role-grants", &approve, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = person
        .sign_in("morgan@example.org", "cello harbour lantern")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let home = person.get("/").await;
    assert!(
        home.body.contains("Practitioner at Liverpool Sinfonia"),
        "{}",
        home.body
    );
}

#[tokio::test]
async fn disabling_an_account_signs_it_out_everywhere() {
    let app = TestApp::new().await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let (mut person, person_id) = app.signed_in(Role::Researcher).await;
    assert_eq!(person.get("/account").await.status, StatusCode::OK);
    let r = admin
        .submit(
            &format!("/admin/users/{person_id}"),
            &format!("/admin/users/{person_id}/disable"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(person.get("/account").await.status, StatusCode::SEE_OTHER);
    let page = admin.get(&format!("/admin/users/{person_id}")).await;
    assert!(page.body.contains("Disabled on"));
}

#[tokio::test]
async fn programme_managers_see_members_of_their_own_organisation_only() {
    let app = TestApp::new().await;
    let mine = app.org("Mine", "nhs_trust").await;
    let other = app.org("Other", "cultural_organisation").await;
    let (email, password, _) = app.user(Role::ProgrammeManager, &mine).await;
    app.user(Role::Practitioner, &mine).await;
    let mut pm = app.client();
    pm.sign_in(&email, &password).await;
    let r = pm.get(&format!("/organisations/{mine}/members")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Test Practitioner"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'membership.read'")
            .await,
        1
    );
    let r = pm.get(&format!("/organisations/{other}/members")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn navigation_fits_the_role() {
    let app = TestApp::new().await;
    let (mut participant, _) = app.signed_in(Role::Participant).await;
    let home = participant.get("/").await;
    assert!(home.body.contains("href=\"/account\""));
    assert!(
        !home.body.contains("href=\"/admin\"") && !home.body.contains("href=\"/organisations\"")
    );
    let (mut worker, _) = app.signed_in(Role::LinkWorker).await;
    let home = worker.get("/").await;
    assert!(
        home.body.contains("href=\"/organisations\"") && !home.body.contains("href=\"/admin\"")
    );
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    assert!(admin.get("/").await.body.contains("href=\"/admin\""));
    let anon = app.client().get("/").await;
    assert!(anon.body.contains("href=\"/sign-in\""));
}

#[tokio::test]
async fn an_invitation_link_stops_working_seven_days_after_it_was_sent() {
    let app = TestApp::new().await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let org = app.org("Liverpool Sinfonia", "cultural_organisation").await;
    let r = admin
        .submit(
            "/admin/users/invite",
            "/admin/users/invite",
            &[
                ("display_name", "Morgan Musician"),
                ("email", "morgan@example.org"),
                ("organisation_id", &org),
                ("role", "practitioner"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body: String = sqlx::query("SELECT body_text FROM outbox")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let link = body
        .lines()
        .find(|l| l.contains("/invitations/"))
        .expect("link in email");
    let path = link[link.find("/invitations/").unwrap()..]
        .trim()
        .to_string();
    let row = sqlx::query("SELECT created_at, expires_at FROM invitations")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    let (created, expires): (i64, i64) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
    assert_eq!(expires - created, 7 * 24 * 3600, "valid for 7 days");
    // Sent 7 days less a minute ago: it still works.
    let sent_ago = |secs: i64| {
        let app = &app;
        async move {
            let now = ensemble::db::now();
            sqlx::query("UPDATE invitations SET created_at = $1, expires_at = $2")
                .bind(now - secs)
                .bind(now - secs + 7 * 24 * 3600)
                .execute(&app.state.db.write)
                .await
                .unwrap();
        }
    };
    sent_ago(7 * 24 * 3600 - 60).await;
    let mut person = app.client();
    let page = person.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Set up your Ensemble account"));
    let csrf = page.csrf();
    // Sent 7 days ago: the link no longer works, and the account cannot be set up.
    sent_ago(7 * 24 * 3600).await;
    let page = person.get(&path).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("This invitation link does not work"));
    let r = person
        .post_form(
            &path,
            &[
                ("csrf_token", &csrf),
                ("new_password", "cello harbour lantern"),
                ("confirm_password", "cello harbour lantern"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email = 'morgan@example.org'")
            .await,
        0
    );
    assert_eq!(
        person
            .sign_in("morgan@example.org", "cello harbour lantern")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn the_outbox_shows_text_messages_beside_emails_with_a_channel_filter() {
    let app = TestApp::new().await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let mut tx = app.state.db.begin().await.unwrap();
    ensemble::notify::queue_email(&mut tx, "sam@example.org", "Your referral", "Email body")
        .await
        .unwrap();
    ensemble::notify::sms::queue_sms(&mut tx, "07700900123", "Three activities near you")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let all = admin.get("/admin/outbox").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.body
            .contains("<th class=\"nhsuk-table__header\" scope=\"col\">Channel</th>"),
        "{}",
        all.body
    );
    assert!(all.body.contains("data-channel=\"email\""));
    assert!(all.body.contains("data-channel=\"sms\""));
    assert!(all.body.contains("07700900123") && all.body.contains("sam@example.org"));

    let texts = admin.get("/admin/outbox?channel=sms").await;
    assert_eq!(texts.status, StatusCode::OK);
    assert!(texts.body.contains("data-channel=\"sms\"") && texts.body.contains("Text message"));
    assert!(texts.body.contains("Three activities near you"));
    assert!(
        !texts.body.contains("data-channel=\"email\"") && !texts.body.contains("sam@example.org")
    );
    assert!(texts.body.contains("<option value=\"sms\" selected>"));

    let emails = admin.get("/admin/outbox?channel=email").await;
    assert!(
        emails.body.contains("data-channel=\"email\"")
            && !emails.body.contains("data-channel=\"sms\"")
    );

    let bad = admin.get("/admin/outbox?channel=fax").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#channel\""), "{}", bad.body);
    assert!(bad.body.contains("Choose which messages to show"));
    assert!(!bad.body.contains("07700900123"));
    // Each look at the outbox is audited, with the channel shown.
    let reads = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'outbox.read'")
        .await;
    assert_eq!(reads, 3);
}
