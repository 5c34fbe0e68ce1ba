//! The JSON API: tokens, scopes, the error envelope and the OpenAPI document.

use axum::http::StatusCode;
use ensemble::rbac::Role;

use crate::support::TestApp;

async fn token_for(app: &TestApp, c: &mut crate::support::Client, scopes: &[&str]) -> String {
    let mut fields: Vec<(&str, &str)> = vec![("name", "script"), ("expires_in_days", "30")];
    for s in scopes {
        fields.push(("scopes", s));
    }
    let r = c
        .submit("/account/tokens", "/account/tokens", &fields)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let start = r.body.find("ens_").expect("token shown once");
    let token = r.body[start..].split('<').next().unwrap().to_string();
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{token}'"
        ))
        .await,
        0,
        "stored hashed"
    );
    token
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_matches_the_snapshot() {
    let app = TestApp::new().await;
    let r = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/organisations"]["post"].is_object());
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/integration/openapi.snapshot.json"
    );
    crate::support::check_snapshot(path, &r.body, "the OpenAPI document");
}

#[tokio::test]
async fn tokens_authenticate_with_scopes_and_stop_working_when_revoked() {
    let app = TestApp::new().await;
    let (mut c, user_id) = app.signed_in(Role::Administrator).await;
    let token = token_for(&app, &mut c, &["account:read"]).await;
    let mut api = app.client();
    let me = api.api("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["id"], user_id.as_str());
    // Missing scope.
    let r = api.api("GET", "/api/v1/users", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["errors"][0]["code"], "forbidden");
    // No token, a bad token.
    let r = api.api("GET", "/api/v1/me", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.get("www-authenticate").is_some());
    assert_eq!(
        api.api("GET", "/api/v1/me", Some("ens_not-a-real-token"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Revoke it from the account page.
    let id: String = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM api_tokens WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&app.state.db.read)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    };
    let r = c
        .submit(
            "/account/tokens",
            &format!("/account/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        api.api("GET", "/api/v1/me", Some(&token), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn token_form_errors_name_each_field() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Participant).await;
    let r = c
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[("name", ""), ("expires_in_days", "9999")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["#name", "#scopes", "#expires_in_days"] {
        assert!(r.body.contains(&format!("href=\"{field}\"")), "{field}");
    }
}

#[tokio::test]
async fn bad_json_unknown_fields_and_invalid_values_get_clear_4xx_envelopes() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Administrator).await;
    let token = token_for(
        &app,
        &mut c,
        &["organisations:write", "organisations:read", "users:read"],
    )
    .await;
    let mut api = app.client();
    let r = api
        .api(
            "POST",
            "/api/v1/organisations",
            Some(&token),
            Some("{not json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("not valid")
    );
    let r = api
        .api(
            "POST",
            "/api/v1/organisations",
            Some(&token),
            Some(r#"{"name":"A","kind":"nhs_trust","colour":"red"}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{}",
        r.body
    );
    let r = api
        .api(
            "POST",
            "/api/v1/organisations",
            Some(&token),
            Some(r#"{"name":"","kind":"castle"}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["name", "kind"]);
    let r = api
        .api(
            "POST",
            "/api/v1/organisations",
            Some(&token),
            Some(r#"{"name":"Halton Harmony","kind":"community_group","borough":"Halton"}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["kind"], "community_group");
    let r = api
        .api("GET", "/api/v1/organisations", Some(&token), None)
        .await;
    assert!(r.body.contains("Halton Harmony"));
    let r = api
        .api("GET", "/api/v1/users?page=0", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = api
        .api("GET", "/api/v1/users?colour=red", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .api("GET", "/api/v1/users?q=admin", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account.list' AND actor_label = 'api'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_participant_token_cannot_read_organisations_or_accounts() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Participant).await;
    let token = token_for(
        &app,
        &mut c,
        &["account:read", "organisations:read", "users:read"],
    )
    .await;
    let mut api = app.client();
    assert_eq!(
        api.api("GET", "/api/v1/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        api.api("GET", "/api/v1/organisations", Some(&token), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.api("GET", "/api/v1/users", Some(&token), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[test]
fn every_api_route_is_in_the_openapi_document() {
    let doc: serde_json::Value =
        serde_json::from_str(&ensemble::api::v1::openapi_document()).unwrap();
    for r in ensemble::app::all_routes() {
        let path = r.meta.path;
        if !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json" {
            continue;
        }
        let method = r.meta.method.to_lowercase();
        assert!(
            doc["paths"][path][&method].is_object(),
            "{} {path} is missing from the OpenAPI document",
            r.meta.method
        );
    }
}

#[tokio::test]
async fn an_api_token_stops_working_when_it_expires() {
    let app = TestApp::new().await;
    let (mut c, user_id) = app.signed_in(Role::Participant).await;
    let token = token_for(&app, &mut c, &["account:read"]).await;
    let mut api = app.client();
    assert_eq!(
        api.api("GET", "/api/v1/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    // A minute before its expiry it still works; at its expiry it does not.
    let expire_in = |secs: i64| {
        let app = &app;
        let user_id = user_id.clone();
        async move {
            sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE user_id = $2")
                .bind(ensemble::db::now() + secs)
                .bind(user_id)
                .execute(&app.state.db.write)
                .await
                .unwrap();
        }
    };
    expire_in(60).await;
    assert_eq!(
        api.api("GET", "/api/v1/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    expire_in(0).await;
    let r = api.api("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.get("www-authenticate").is_some());
    assert!(
        c.get("/account/tokens").await.body.contains("Expired"),
        "the list says so"
    );
}

#[tokio::test]
async fn an_api_token_stops_working_at_once_when_its_owner_is_disabled() {
    let app = TestApp::new().await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let (mut owner, owner_id) = app.signed_in(Role::Researcher).await;
    let token = token_for(&app, &mut owner, &["account:read"]).await;
    let mut api = app.client();
    assert_eq!(
        api.api("GET", "/api/v1/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    let r = admin
        .submit(
            &format!("/admin/users/{owner_id}"),
            &format!("/admin/users/{owner_id}/disable"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = api.api("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json()["errors"][0]["code"],
        "unauthenticated",
        "{}",
        r.body
    );
}
