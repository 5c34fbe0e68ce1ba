//! Issue 13, security: where to go after sign-in, the `Origin` check on forms, lockout
//! that does not reveal an account, limits on wrong two-step codes, and care roles that
//! need a second administrator.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ensemble::auth::totp;
use ensemble::rbac::Role;
use sqlx::Row;

use crate::support::{Client, Resp, TestApp};

/// Sign in through the form with a `next` value, as a link from elsewhere would.
async fn sign_in_with_next(c: &mut Client, email: &str, password: &str, next: &str) -> Resp {
    let token = c.get("/sign-in").await.csrf();
    c.post_form(
        "/sign-in",
        &[
            ("csrf_token", &token),
            ("email", email),
            ("password", password),
            ("next", next),
        ],
    )
    .await
}

#[tokio::test]
async fn a_next_value_that_browsers_would_turn_into_another_site_is_ignored_after_sign_in() {
    let app = TestApp::new().await;
    let org = app.org("Choir", "community_group").await;
    let (email, password, _) = app.user(Role::Participant, &org).await;
    for hostile in [
        "/\t/evil.example/",
        "/\n/evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "https://evil.example/",
        "/%09/evil.example/",
    ] {
        let mut c = app.client();
        let r = sign_in_with_next(&mut c, &email, &password, hostile).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{hostile:?}: {}", r.body);
        assert_eq!(r.location(), "/", "{hostile:?} was followed");
    }
    let mut c = app.client();
    let r = sign_in_with_next(&mut c, &email, &password, "/my/plan?tab=1").await;
    assert_eq!(
        r.location(),
        "/my/plan?tab=1",
        "a plain local path is still followed"
    );
}

#[tokio::test]
async fn a_newline_in_next_is_not_a_server_error_and_the_sign_in_page_does_not_carry_it() {
    let app = TestApp::new().await;
    let org = app.org("Choir", "community_group").await;
    let (email, password, _) = app.user(Role::Participant, &org).await;
    let mut c = app.client();
    let page = c
        .get("/sign-in?next=%2Faccount%0D%0ASet-Cookie:%20x%3D1")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("Set-Cookie"),
        "the bad value is dropped"
    );
    // `Client::send` fails the test on any 500.
    let r = sign_in_with_next(&mut c, &email, &password, "/account\r\nSet-Cookie: x=1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/");
    assert!(!c.cookies.contains_key("x"));
}

/// Post a form with extra request headers, keeping the client's cookies.
async fn post_with(
    c: &mut Client,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Resp {
    let mut b =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = serde_urlencoded::to_string(fields).unwrap();
    c.send(b.body(Body::from(body)).unwrap()).await
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_even_with_a_valid_csrf_token() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Participant).await;
    let token = c.get("/account").await.csrf();
    let form = [("csrf_token", token.as_str()), ("current_password", "x")];
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("origin", "http://127.0.0.1:8080.evil.example")],
        vec![("referer", "https://evil.example/page")],
        vec![
            ("origin", "https://evil.example"),
            ("referer", "http://127.0.0.1:8080/account"),
        ],
    ] {
        let r = post_with(&mut c, "/account/password", &form, &headers).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(r.body.contains("This form has expired"), "{headers:?}");
    }
    // The configured site, the Host the request came to, or no header at all: the form is
    // handled (and refused for its content, not its origin).
    for headers in [
        vec![("origin", "http://127.0.0.1:8080")],
        vec![("referer", "http://127.0.0.1:8080/account")],
        vec![
            ("origin", "http://ensemble.test"),
            ("host", "ensemble.test"),
        ],
        vec![],
    ] {
        let r = post_with(&mut c, "/account/password", &form, &headers).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{headers:?}: {}",
            r.body
        );
    }
    // The bearer-token API is not cookie-authenticated and is not checked.
    let mut b = Request::post("/api/v1/organisations")
        .header("origin", "https://evil.example")
        .header(header::CONTENT_TYPE, "application/json");
    b = b.header(header::AUTHORIZATION, "Bearer ens_nothing");
    let r = app.client().send(b.body(Body::from("{}")).unwrap()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

#[tokio::test]
async fn a_locked_account_answers_exactly_like_an_unknown_address_and_its_holder_is_emailed_once() {
    let app = TestApp::new().await;
    let org = app.org("Trust", "nhs_trust").await;
    let (email, password, id) = app.user(Role::Clinician, &org).await;
    let unknown = "nobody.here@example.org";
    let mut c = app.client();
    let same = |r: &Resp, who: &str| (r.status, r.body.replace(who, "EMAIL"));
    for _ in 0..5 {
        let real = c.sign_in(&email, "wrong-password-here").await;
        let none = c.sign_in(unknown, "wrong-password-here").await;
        assert_eq!(same(&real, &email), same(&none, unknown));
    }
    // Locked now: even the right password gets the same answer as an unknown address.
    for _ in 0..3 {
        let real = c.sign_in(&email, &password).await;
        let none = c.sign_in(unknown, &password).await;
        assert_eq!(real.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(same(&real, &email), same(&none, unknown));
        assert!(!real.body.contains("locked"), "{}", real.body);
    }
    let mails = app
        .count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE to_address = '{email}' AND subject LIKE '%locked%'"
        ))
        .await;
    assert_eq!(mails, 1, "one email per lock, not one per attempt");
    let locked = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'session.sign_in_failed' AND entity_id = '{id}'"
        ))
        .await;
    assert!(locked >= 5);
}

/// A participant with TOTP set up; returns (email, password, id, secret).
async fn totp_account(app: &TestApp) -> (String, String, String, String) {
    let org = app.org("Choir", "community_group").await;
    let (email, password, id) = app.user(Role::Participant, &org).await;
    let secret = totp::new_secret();
    sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled_at = $2 WHERE id = $3")
        .bind(secret.clone())
        .bind(ensemble::db::now())
        .bind(id.clone())
        .execute(&app.state.db.write)
        .await
        .unwrap();
    (email, password, id, secret)
}

async fn half_signed_in(app: &TestApp, email: &str, password: &str) -> Client {
    let mut c = app.client();
    assert_eq!(
        c.sign_in(email, password).await.location(),
        "/sign-in/verify"
    );
    c
}

async fn wrong_code(c: &mut Client, code: &str) -> Resp {
    c.submit("/sign-in/verify", "/sign-in/verify", &[("code", code)])
        .await
}

#[tokio::test]
async fn five_wrong_codes_end_the_half_signed_in_session_and_ten_lock_the_second_factor_even_after_a_restart()
 {
    let app = TestApp::new().await;
    let (email, password, id, secret) = totp_account(&app).await;
    let mut c = half_signed_in(&app, &email, &password).await;
    for code in ["000001", "000002", "ABCD-EFGH", "000004"] {
        assert_eq!(
            wrong_code(&mut c, code).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let r = wrong_code(&mut c, "000005").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("sign in again"), "{}", r.body);
    assert!(
        !c.cookies.contains_key("ensemble_session"),
        "the session cookie is cleared"
    );
    assert_ne!(
        c.get("/sign-in/verify").await.status,
        StatusCode::OK,
        "the session has ended"
    );

    // Five more from a new half-signed-in session lock the second factor.
    let mut c = half_signed_in(&app, &email, &password).await;
    for code in ["000006", "000007", "WXYZ-WXYZ", "000009"] {
        assert_eq!(
            wrong_code(&mut c, code).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let r = wrong_code(&mut c, "000010").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("15 minutes"), "{}", r.body);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE to_address = '{email}' AND subject LIKE '%two-step%'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account.mfa_locked' AND entity_id = '{id}'"
        ))
        .await,
        1
    );

    // A restarted server (a new process over the same database) keeps the lock: the right
    // code is refused.
    let restarted = TestApp::restart(&app).await;
    let mut c = half_signed_in(&restarted, &email, &password).await;
    let code = totp::current_code(&secret).unwrap();
    let r = wrong_code(&mut c, &code).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_ne!(c.get("/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_right_code_before_the_limit_signs_in_and_clears_the_count_of_wrong_ones() {
    let app = TestApp::new().await;
    let (email, password, id, secret) = totp_account(&app).await;
    let mut c = half_signed_in(&app, &email, &password).await;
    for code in ["000001", "000002", "000003"] {
        wrong_code(&mut c, code).await;
    }
    let code = totp::current_code(&secret).unwrap();
    let r = wrong_code(&mut c, &code).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(c.get("/account").await.status, StatusCode::OK);
    let row = sqlx::query("SELECT mfa_failures FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(
        row.try_get::<i64, _>(0).unwrap(),
        0,
        "a right code clears the count"
    );
}

#[tokio::test]
async fn an_administrator_cannot_give_itself_a_role() {
    let app = TestApp::new().await;
    let (mut admin, admin_id) = app.signed_in(Role::Administrator).await;
    let team = app.org("Wirral Link Workers", "nhs_trust").await;
    let page = format!("/admin/users/{admin_id}");
    let r = admin
        .submit(
            &page,
            &format!("{page}/memberships"),
            &[("organisation_id", &team), ("role", "link_worker")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("You cannot give yourself a role"),
        "{}",
        r.body
    );
    assert_eq!(admin.get("/caseload").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM memberships WHERE user_id = '{admin_id}' AND role = 'link_worker'"
        ))
        .await,
        0
    );
}

/// Ask for `role` for `user_id` from `admin`; returns the grant's id.
async fn request_role(
    app: &TestApp,
    admin: &mut Client,
    user_id: &str,
    org: &str,
    role: &str,
) -> String {
    let page = format!("/admin/users/{user_id}");
    let r = admin
        .submit(
            &page,
            &format!("{page}/memberships"),
            &[("organisation_id", org), ("role", role)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    sqlx::query("SELECT id FROM role_grants WHERE user_id = $1 ORDER BY requested_at DESC, id DESC")
        .bind(user_id.to_string())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

#[tokio::test]
async fn a_care_role_waits_for_a_second_administrator_and_the_requester_cannot_approve_it() {
    let app = TestApp::new().await;
    let (mut first, _) = app.signed_in(Role::Administrator).await;
    let (mut second, second_id) = app.signed_in(Role::Administrator).await;
    let team = app.org("Wirral Link Workers", "nhs_trust").await;
    let (lw_email, lw_password, lw_id) = app.user(Role::Participant, &team).await;
    let grant = request_role(&app, &mut first, &lw_id, &team, "link_worker").await;
    let has_role = format!(
        "SELECT COUNT(*) FROM memberships WHERE user_id = '{lw_id}' AND role = 'link_worker'"
    );
    assert_eq!(app.count(&has_role).await, 0, "nothing until approved");
    let user_page = first.get(&format!("/admin/users/{lw_id}")).await;
    assert!(
        user_page
            .body
            .contains("Waiting for a second administrator"),
        "{}",
        user_page.body
    );

    // Shown prominently to every administrator.
    for page in ["/admin", "/admin/users"] {
        let r = second.get(page).await;
        assert!(
            r.body.contains("care role waiting for approval"),
            "{page}: {}",
            r.body
        );
    }
    let list = second.get("/admin/role-grants").await;
    assert!(list.body.contains("Link worker") && list.body.contains("Wirral Link Workers"));

    // The requester cannot approve their own request.
    let approve = format!("/admin/role-grants/{grant}/approve");
    let r = first.submit("/admin/role-grants", &approve, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("another administrator"), "{}", r.body);
    assert_eq!(app.count(&has_role).await, 0);

    // A second administrator can.
    let r = second.submit("/admin/role-grants", &approve, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.count(&has_role).await, 1);
    for action in [
        "membership.care_grant.request",
        "membership.care_grant.approve",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await,
            1,
            "{action}"
        );
    }
    let approved: String = sqlx::query("SELECT decided_by FROM role_grants WHERE id = $1")
        .bind(grant.clone())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(approved, second_id);
    let mut lw = app.client();
    lw.sign_in(&lw_email, &lw_password).await;
    assert_eq!(lw.get("/caseload").await.status, StatusCode::OK);
    // Approving twice does nothing more.
    let r = second.submit("/admin/role-grants", &approve, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

#[tokio::test]
async fn an_administrator_cannot_approve_a_care_role_for_itself_and_a_grant_expires_after_seven_days()
 {
    let app = TestApp::new().await;
    let (mut first, first_id) = app.signed_in(Role::Administrator).await;
    let (mut second, _) = app.signed_in(Role::Administrator).await;
    let team = app.org("Wirral Link Workers", "nhs_trust").await;
    // The second asks for a care role for the first: the first may not approve it.
    let grant = request_role(&app, &mut second, &first_id, &team, "link_worker").await;
    let r = first
        .submit(
            "/admin/role-grants",
            &format!("/admin/role-grants/{grant}/approve"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(first.get("/caseload").await.status, StatusCode::FORBIDDEN);

    // A request left for more than seven days can no longer be approved.
    let (_, _, other_id) = app.user(Role::Participant, &team).await;
    let old = request_role(&app, &mut first, &other_id, &team, "practitioner").await;
    sqlx::query("UPDATE role_grants SET requested_at = requested_at - 8 * 86400, expires_at = expires_at - 8 * 86400 WHERE id = $1")
        .bind(old.clone())
        .execute(&app.state.db.write)
        .await
        .unwrap();
    let r = second
        .submit(
            "/admin/role-grants",
            &format!("/admin/role-grants/{old}/approve"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("expired"), "{}", r.body);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM memberships WHERE user_id = '{other_id}' AND role = 'practitioner'")).await,
        0
    );
    // Refusing is recorded too.
    let r = second
        .submit(
            "/admin/role-grants",
            &format!("/admin/role-grants/{grant}/refuse"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'membership.care_grant.refuse'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_role_that_reaches_no_person_record_is_given_at_once() {
    let app = TestApp::new().await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let org = app.org("University", "university").await;
    let (_, _, id) = app.user(Role::Participant, &org).await;
    let page = format!("/admin/users/{id}");
    let r = admin
        .submit(
            &page,
            &format!("{page}/memberships"),
            &[("organisation_id", &org), ("role", "researcher")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM memberships WHERE user_id = '{id}' AND role = 'researcher'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn an_invitation_with_a_care_role_gives_the_role_only_after_a_second_administrator_approves()
{
    let app = TestApp::new().await;
    let (mut first, _) = app.signed_in(Role::Administrator).await;
    let (mut second, _) = app.signed_in(Role::Administrator).await;
    let team = app.org("Sefton Link Workers", "nhs_trust").await;
    let r = first
        .submit(
            "/admin/users/invite",
            "/admin/users/invite",
            &[
                ("display_name", "Lee Link"),
                ("email", "lee@example.org"),
                ("organisation_id", &team),
                ("role", "link_worker"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("second administrator"), "{}", r.body);
    let body: String = sqlx::query("SELECT body_text FROM outbox")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let link = body.lines().find(|l| l.contains("/invitations/")).unwrap();
    let path = link[link.find("/invitations/").unwrap()..].to_string();
    let mut lee = app.client();
    let r = lee
        .submit(
            &path,
            &path,
            &[
                ("new_password", "cello harbour lantern"),
                ("confirm_password", "cello harbour lantern"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    lee.sign_in("lee@example.org", "cello harbour lantern")
        .await;
    assert_eq!(
        lee.get("/caseload").await.status,
        StatusCode::FORBIDDEN,
        "not before approval"
    );
    let grant: String = sqlx::query("SELECT g.id FROM role_grants g JOIN users u ON u.id = g.user_id WHERE u.email = 'lee@example.org'")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let approve = format!("/admin/role-grants/{grant}/approve");
    assert_eq!(
        first
            .submit("/admin/role-grants", &approve, &[])
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        second
            .submit("/admin/role-grants", &approve, &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(lee.get("/caseload").await.status, StatusCode::OK);
}
