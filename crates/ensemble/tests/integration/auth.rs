//! Sign-in, sessions, lockout, rate limits, the second factor and CSRF.

use axum::http::StatusCode;
use ensemble::auth::totp;
use ensemble::rbac::Role;
use sqlx::Row;

use crate::support::TestApp;

#[tokio::test]
async fn an_empty_sign_in_form_names_each_field_in_the_error_summary() {
    let app = TestApp::new().await;
    let r = app
        .client()
        .submit("/sign-in", "/sign-in", &[("email", ""), ("password", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("nhsuk-error-summary"));
    assert!(r.body.contains("href=\"#email\"") && r.body.contains("Enter your email address"));
    assert!(r.body.contains("href=\"#password\"") && r.body.contains("Enter your password"));
    assert!(r.body.contains("<title>Error: Sign in"));
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong() {
    let app = TestApp::new().await;
    let org = app.org("Trust", "nhs_trust").await;
    let (email, _, _) = app.user(Role::Participant, &org).await;
    let mut c = app.client();
    let r = c.sign_in(&email, "not-the-password-at-all").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Enter a correct email address and password")
    );
    assert!(!c.cookies.contains_key("ensemble_session"));
    let r = c
        .sign_in("nobody@example.org", "not-the-password-at-all")
        .await;
    assert!(
        r.body
            .contains("Enter a correct email address and password")
    );
}

#[tokio::test]
async fn sign_in_issues_a_new_session_and_sign_out_kills_it_server_side() {
    let app = TestApp::new().await;
    let org = app.org("Trust", "nhs_trust").await;
    let (email, password, _) = app.user(Role::Participant, &org).await;
    let mut c = app.client();
    c.get("/").await;
    let pre = c
        .cookies
        .get("ensemble_csrf")
        .cloned()
        .expect("pre-session cookie");
    let r = c.sign_in(&email, &password).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "{cookie}"
    );
    let first = c.cookies.get("ensemble_session").cloned().expect("session");
    assert_ne!(first, pre);
    assert_eq!(c.get("/account").await.status, StatusCode::OK);
    // A second sign-in gets a different session id.
    let mut c2 = app.client();
    c2.sign_in(&email, &password).await;
    assert_ne!(c2.cookies.get("ensemble_session"), Some(&first));
    // Keep a copy of the cookie, sign out, and replay it.
    let mut stolen = c.clone();
    let token = c.get("/account").await.csrf();
    let r = c.post_form("/sign-out", &[("csrf_token", &token)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = stolen.get("/account").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "the old cookie must be dead"
    );
    assert!(r.location().starts_with("/sign-in"));
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Practitioner).await;
    assert_eq!(c.get("/account").await.status, StatusCode::OK);
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 3600")
        .execute(&app.state.db.write)
        .await
        .unwrap();
    let r = c.get("/account").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/sign-in?next=%2Faccount"),
        "{}",
        r.location()
    );
    // A POST with the expired session and its old token gets a clear 403, not a 500.
    let r = c
        .post_form("/account/password", &[("csrf_token", "stale")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("This form has expired"));
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_and_email_its_holder() {
    let app = TestApp::new().await;
    let org = app.org("Trust", "nhs_trust").await;
    let (email, password, _) = app.user(Role::Clinician, &org).await;
    let mut c = app.client();
    for _ in 0..5 {
        c.sign_in(&email, "wrong-password-here").await;
    }
    let r = c.sign_in(&email, &password).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "locked even with the right password"
    );
    assert!(
        r.body
            .contains("Enter a correct email address and password")
    );
    let subject: String = sqlx::query("SELECT subject FROM outbox WHERE to_address = $1")
        .bind(email.clone())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(subject, "Your Ensemble account is locked for a while");
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'session.sign_in_failed'")
            .await
            >= 5
    );
}

#[tokio::test]
async fn too_many_attempts_from_one_address_are_rate_limited() {
    let app = TestApp::with(|c| c.sign_in_rate_per_ip = 3).await;
    let mut c = app.client();
    for _ in 0..3 {
        assert_eq!(
            c.sign_in("x@example.org", "whatever-password").await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let r = c.sign_in("x@example.org", "whatever-password").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Too many sign-in attempts"));
}

#[tokio::test]
async fn staff_must_set_up_totp_and_then_use_it_with_recovery_codes_working_once() {
    let app = TestApp::with(|c| c.require_staff_mfa = true).await;
    let org = app.org("Trust", "nhs_trust").await;
    let (email, password, id) = app.user(Role::LinkWorker, &org).await;
    let mut c = app.client();
    let r = c.sign_in(&email, &password).await;
    assert_eq!(r.location(), "/account/security/totp");
    // Everything else sends them back to set-up.
    let r = c.get("/account").await;
    assert_eq!(r.location(), "/account/security/totp");
    let page = c.get("/account/security/totp").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<svg role=\"img\""),
        "QR code rendered as SVG"
    );
    let secret: String = sqlx::query("SELECT totp_secret FROM users WHERE id = $1")
        .bind(id.clone())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let r = c
        .post_form(
            "/account/security/totp",
            &[("csrf_token", &page.csrf()), ("code", "000000")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = totp::current_code(&secret).unwrap();
    let page = c.get("/account/security/totp").await;
    let r = c
        .post_form(
            "/account/security/totp",
            &[("csrf_token", &page.csrf()), ("code", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Save your recovery codes"));
    let start = r.body.find("ensemble-code\"><li>").expect("codes") + "ensemble-code\"><li>".len();
    let recovery = r.body[start..start + 11].to_string();
    assert_eq!(c.get("/account").await.status, StatusCode::OK);

    // Next sign-in asks for the code; a wrong one is refused; a recovery code works once.
    let mut c2 = app.client();
    assert_eq!(
        c2.sign_in(&email, &password).await.location(),
        "/sign-in/verify"
    );
    let r = c2
        .submit("/sign-in/verify", "/sign-in/verify", &[("code", "123456")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c2
        .submit("/sign-in/verify", "/sign-in/verify", &[("code", &recovery)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(c2.get("/account").await.status, StatusCode::OK);
    let mut c3 = app.client();
    c3.sign_in(&email, &password).await;
    let r = c3
        .submit("/sign-in/verify", "/sign-in/verify", &[("code", &recovery)])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a recovery code works only once"
    );
}

#[tokio::test]
async fn participants_are_not_forced_into_a_second_factor() {
    let app = TestApp::with(|c| c.require_staff_mfa = true).await;
    let org = app.org("Choir", "community_group").await;
    let (email, password, _) = app.user(Role::Participant, &org).await;
    let mut c = app.client();
    assert_eq!(c.sign_in(&email, &password).await.location(), "/");
}

#[tokio::test]
async fn password_changes_follow_the_ncsc_rules() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Participant).await;
    let r = c
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", "tangerine-harbour-lantern"),
                ("new_password", "password123"),
                ("confirm_password", "password123"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("too common"));
    let r = c
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert!(
        r.body.contains("href=\"#current_password\"") && r.body.contains("href=\"#new_password\"")
    );
    let r = c
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", "tangerine-harbour-lantern"),
                ("new_password", "plum orbit kettle"),
                ("confirm_password", "plum orbit kettle"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Your password has been changed"));
}

#[tokio::test]
async fn a_form_without_a_valid_csrf_token_gets_a_403_page() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Participant).await;
    let r = c
        .post_form("/account/password", &[("current_password", "x")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("<h1>This form has expired</h1>"));
    let r = c.post_form("/sign-out", &[("csrf_token", "forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Still signed in: the forged sign-out did nothing.
    assert_eq!(c.get("/account").await.status, StatusCode::OK);
    // Anonymous forms are protected too.
    let r = app
        .client()
        .post_form("/sign-in", &[("email", "a@example.org"), ("password", "x")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn changing_your_own_password_ends_your_other_sessions() {
    let app = TestApp::new().await;
    let org = app.org("Trust", "nhs_trust").await;
    let (email, password, id) = app.user(Role::Practitioner, &org).await;
    let mut here = app.client();
    let mut elsewhere = app.client();
    assert_eq!(
        here.sign_in(&email, &password).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        elsewhere.sign_in(&email, &password).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(elsewhere.get("/account").await.status, StatusCode::OK);
    let r = here
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", &password),
                ("new_password", "plum orbit kettle"),
                ("confirm_password", "plum orbit kettle"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The other browser is signed out; this one stays signed in.
    let r = elsewhere.get("/account").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/sign-in"), "{}", r.location());
    assert_eq!(here.get("/account").await.status, StatusCode::OK);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = '{id}'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn a_session_ends_twelve_hours_after_sign_in_even_while_in_use() {
    let app = TestApp::new().await;
    let (mut c, id) = app.signed_in(Role::Practitioner).await;
    assert_eq!(c.get("/account").await.status, StatusCode::OK);
    let row = sqlx::query("SELECT created_at, expires_at FROM sessions WHERE user_id = $1")
        .bind(id.clone())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    let (created, expires): (i64, i64) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
    assert_eq!(expires - created, 12 * 3600, "12 hours after sign-in");
    // Signed in 11 hours 59 minutes ago, and active a moment ago: still signed in.
    let age = |secs: i64| {
        let app = &app;
        let id = id.clone();
        async move {
            let now = ensemble::db::now();
            sqlx::query(
                "UPDATE sessions SET created_at = $1, expires_at = $2, last_seen_at = $3 WHERE user_id = $4",
            )
            .bind(now - secs)
            .bind(now - secs + 12 * 3600)
            .bind(now - 5)
            .bind(id)
            .execute(&app.state.db.write)
            .await
            .unwrap();
        }
    };
    age(12 * 3600 - 60).await;
    assert_eq!(c.get("/account").await.status, StatusCode::OK);
    // Signed in 12 hours ago and still active: the session has ended all the same.
    age(12 * 3600).await;
    let r = c.get("/account").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/sign-in?next=%2Faccount"),
        "{}",
        r.location()
    );
}

#[tokio::test]
async fn a_totp_code_already_used_to_sign_in_is_refused_at_the_next_sign_in() {
    let app = TestApp::new().await;
    let org = app.org("Choir", "community_group").await;
    let (email, password, id) = app.user(Role::Participant, &org).await;
    let secret = totp::new_secret();
    sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled_at = $2 WHERE id = $3")
        .bind(secret.clone())
        .bind(ensemble::db::now())
        .bind(id)
        .execute(&app.state.db.write)
        .await
        .unwrap();
    let code = totp::current_code(&secret).unwrap();
    let mut c = app.client();
    assert_eq!(
        c.sign_in(&email, &password).await.location(),
        "/sign-in/verify"
    );
    let r = c
        .submit("/sign-in/verify", "/sign-in/verify", &[("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(c.get("/account").await.status, StatusCode::OK);
    let token = c.get("/account").await.csrf();
    assert_eq!(
        c.post_form("/sign-out", &[("csrf_token", &token)])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The same code again, at once (so it is still within its time step): refused.
    let mut again = app.client();
    assert_eq!(
        again.sign_in(&email, &password).await.location(),
        "/sign-in/verify"
    );
    let r = again
        .submit("/sign-in/verify", "/sign-in/verify", &[("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = again.get("/account").await;
    assert_ne!(r.status, StatusCode::OK, "the second factor is still owed");
}
