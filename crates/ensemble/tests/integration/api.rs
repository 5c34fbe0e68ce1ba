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
    // OpenAPI requires every operationId to be unique (utoipa takes the function's name, so
    // two modules' `get` clash unless one names its own).
    let mut seen = std::collections::BTreeMap::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if let Some(id) = op["operationId"].as_str()
                && let Some(other) = seen.insert(id.to_string(), format!("{method} {path}"))
            {
                panic!("operationId {id:?} is used by {other} and by {method} {path}");
            }
        }
    }
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

/// Every `$ref` in `v`, with where it was found.
fn refs(v: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push((at.to_string(), x.as_str().unwrap_or("").to_string()));
                } else {
                    refs(x, &format!("{at}/{k}"), out);
                }
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The rules of OpenAPI 3.1 that the document broke before (tests/openapi/validate.py runs
/// the full validator against the served document in scripts/test).
#[test]
fn every_operation_in_the_openapi_document_has_described_responses_and_declared_parameters() {
    let doc: serde_json::Value =
        serde_json::from_str(&ensemble::api::v1::openapi_document()).unwrap();
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let in_template: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            for (status, r) in op["responses"].as_object().unwrap() {
                if !r["description"].is_string() {
                    problems.push(format!("{method} {path} {status}: no description"));
                }
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &params {
                let name = p["name"].as_str().unwrap_or("");
                if p["in"] == "path" && !in_template.contains(&name) {
                    problems.push(format!(
                        "{method} {path}: path parameter {name} is not in the path"
                    ));
                }
            }
            for name in &in_template {
                if !params
                    .iter()
                    .any(|p| p["in"] == "path" && p["name"] == *name)
                {
                    problems.push(format!("{method} {path}: {{{name}}} is not declared"));
                }
            }
        }
    }
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    for (at, r) in found {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(&r);
        if !doc["components"]["schemas"][name].is_object() {
            problems.push(format!("{at}: {r} does not resolve"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let users = &doc["paths"]["/api/v1/users"]["get"]["parameters"];
    assert!(
        users.as_array().unwrap().iter().all(|p| p["in"] == "query"),
        "{users}"
    );
}

#[test]
fn the_openapi_document_describes_fhir_bodies_fhir_errors_and_the_measures_mode() {
    let doc: serde_json::Value =
        serde_json::from_str(&ensemble::api::v1::openapi_document()).unwrap();
    let schemas = &doc["components"]["schemas"];
    for (name, required) in [
        (
            "ServiceRequest",
            vec!["resourceType", "status", "intent", "subject"],
        ),
        ("Bundle", vec!["resourceType", "type"]),
        ("OperationOutcome", vec!["resourceType", "issue"]),
    ] {
        let s = &schemas[name];
        for r in required {
            assert!(
                s["required"].as_array().unwrap().iter().any(|x| x == r),
                "{name} requires {r}: {s}"
            );
        }
        let rt = &s["properties"]["resourceType"]["$ref"];
        let rt = rt.as_str().unwrap().rsplit('/').next().unwrap();
        assert_eq!(schemas[rt]["enum"], serde_json::json!([name]), "{name}");
    }
    let intake = &doc["paths"]["/api/v1/fhir/ServiceRequest"]["post"];
    for status in ["401", "403", "404", "406", "409", "413", "422", "503"] {
        let r = &intake["responses"][status];
        assert_eq!(
            r["content"]["application/fhir+json"]["schema"]["$ref"],
            "#/components/schemas/OperationOutcome",
            "intake {status}: {r}"
        );
    }
    assert!(intake["responses"]["503"]["headers"]["Retry-After"].is_object());
    assert!(intake["responses"]["401"]["headers"]["WWW-Authenticate"].is_object());
    assert_eq!(
        intake["requestBody"]["content"]["application/fhir+json"]["schema"]["$ref"],
        "#/components/schemas/ServiceRequest"
    );
    for path in [
        "/api/v1/fhir/ServiceRequest/{id}",
        "/api/v1/referrals/{id}/message-back",
    ] {
        let op = &doc["paths"][path]["get"];
        for status in ["401", "403", "404", "406", "503"] {
            assert!(
                op["responses"][status]["content"]["application/fhir+json"].is_object(),
                "{path} {status}"
            );
        }
    }
    let submit = &doc["paths"]["/api/v1/measures/responses"]["post"]["responses"];
    for status in ["400", "413", "503"] {
        assert!(submit[status].is_object(), "measures {status}");
    }
    let mode = &schemas["SubmitIn"]["properties"]["mode"];
    assert!(mode.to_string().contains("ApiMode"), "{mode}");
    assert_eq!(
        schemas["ApiMode"]["enum"],
        serde_json::json!(["with_practitioner", "paper"])
    );
    assert_eq!(
        schemas["ModeCode"]["enum"],
        serde_json::json!(["self", "with_practitioner", "paper"])
    );
    let names: Vec<&str> = ensemble::modules::people::evaluation::DATASETS
        .iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(schemas["DatasetName"]["enum"], serde_json::json!(names));
}

#[tokio::test]
async fn a_json_body_over_the_size_limit_is_refused_with_413_in_the_envelope() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Administrator).await;
    let token = token_for(&app, &mut c, &["organisations:write"]).await;
    let big = format!(
        "{{\"name\": \"{}\"}}",
        "x".repeat(ensemble::api::docs::BODY_LIMIT_BYTES)
    );
    let r = app
        .client()
        .api("POST", "/api/v1/organisations", Some(&token), Some(&big))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(r.json()["errors"][0]["code"], "too_large", "{}", r.body);
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

#[tokio::test]
async fn an_operator_token_works_with_only_its_scopes_and_is_audited_as_the_command_line() {
    let app = TestApp::new().await;
    let (_, user_id) = app.signed_in(Role::Administrator).await;
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user_id.clone())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    let token = ensemble::modules::accounts::service::create_token_as_operator(
        &app.state,
        &email,
        "schemathesis",
        &["account:read".to_string()],
        "1",
    )
    .await
    .unwrap();
    let mut api = app.client();
    let me = api.api("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(
        api.api("GET", "/api/v1/users", Some(&token), None)
            .await
            .status,
        StatusCode::FORBIDDEN,
        "an administrator's token still needs the scope"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'api_token.create' AND actor_label = 'cli' AND detail LIKE '%{user_id}%'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn a_page_number_far_past_the_end_of_the_account_list_is_an_empty_page_not_a_500() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Administrator).await;
    let token = token_for(&app, &mut c, &["users:read"]).await;
    let r = app
        .client()
        .api(
            "GET",
            "/api/v1/users?q=&page=9223372036854775806",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["users"], serde_json::json!([]), "{}", r.body);
    assert_eq!(r.json()["more"], false);
}
