//! Migrations, schema parity, security headers, health and error pages.

use axum::http::StatusCode;
use ensemble::db::{Db, MIGRATIONS};

use crate::support::{TestApp, backend, check_snapshot, fresh_database_url, update_snapshots};

fn folder_names(dir: &str) -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/");
    let mut names: Vec<String> = std::fs::read_dir(format!("{root}{dir}"))
        .expect("migrations folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn both_migration_folders_hold_the_same_embedded_file_names() {
    let sqlite = folder_names("sqlite");
    let postgres = folder_names("postgres");
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres differ"
    );
    let embedded: Vec<String> = MIGRATIONS.iter().map(|m| m.file_name.to_string()).collect();
    assert_eq!(
        sqlite, embedded,
        "a migration file is not registered in db/migrate.rs"
    );
}

/// Both backends are compared with the same committed outline, so they match each other.
#[tokio::test]
async fn migrated_schema_has_the_same_tables_and_columns_on_both_backends() {
    let url = fresh_database_url().await;
    let db = Db::connect_and_migrate(&url).await.expect("migrate");
    // Running again changes nothing.
    ensemble::db::migrate(&db).await.expect("second migrate");
    let outline = db.schema_outline().await.expect("outline");
    let text: String = outline
        .iter()
        .map(|(t, cols)| format!("{t}: {}\n", cols.join(", ")))
        .collect();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/integration/schema_outline.txt"
    );
    check_snapshot(path, &text, &format!("the schema on {:?}", backend()));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new().await;
    let mut c = app.client();
    for path in ["/", "/sign-in", "/no-such-page", "/healthz"] {
        let r = c.get(path).await;
        let h = &r.headers;
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{path}"
        );
        assert!(h.get("referrer-policy").is_some(), "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
        assert!(h.get("x-request-id").is_some(), "{path}");
    }
    let https = TestApp::with(|c| {
        c.base_url = "https://ensemble.example.org".into();
        c.cookie_secure = true;
    })
    .await;
    let r = https.client().get("/sign-in").await;
    assert!(r.headers.get("strict-transport-security").is_some());
    let cookie = r
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn health_ready_and_metrics_answer() {
    let app = TestApp::new().await;
    let mut c = app.client();
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(c.get("/readyz").await.status, StatusCode::OK);
    let m = c.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.body.contains("ensemble_http_requests_total"),
        "{}",
        m.body
    );
    assert!(m.body.contains("route=\"/readyz\""), "{}", m.body);
}

#[tokio::test]
async fn made_up_methods_and_raw_paths_add_no_new_metric_labels() {
    let app = TestApp::new().await;
    let mut c = app.client();
    for (method, path) in [
        ("ANYTHING", "/"),
        ("BREW", "/healthz"),
        ("XYZZY", "/no/such/page/12345"),
        ("GET", "/no/such/page/67890"),
        ("GET", "/api/v1/fhir/ServiceRequest/some-raw-id-424242"),
    ] {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let r = c.send(req).await;
        assert!(
            r.status.is_client_error() || r.status.is_success(),
            "{method} {path}: {}",
            r.status
        );
    }
    let m = c.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    for made_up in ["ANYTHING", "BREW", "XYZZY", "12345", "67890", "424242"] {
        assert!(
            !m.body.contains(made_up),
            "{made_up} became a label:\n{}",
            m.body
        );
    }
    assert!(m.body.contains("method=\"other\""), "{}", m.body);
    assert!(
        m.body
            .contains("route=\"/api/v1/fhir/ServiceRequest/{id}\""),
        "{}",
        m.body
    );
    assert!(m.body.contains("route=\"unmatched\""), "{}", m.body);
}

#[tokio::test]
async fn unknown_pages_get_a_styled_404_and_assets_are_immutable() {
    let app = TestApp::new().await;
    let mut c = app.client();
    let r = c.get("/definitely/not/here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.body.contains("<h1>Page not found</h1>") && r.body.contains("<title>"),
        "{}",
        r.body
    );
    let home = c.get("/").await;
    let start = home
        .body
        .find("/assets/vendor/nhsuk-frontend/nhsuk-frontend.min.")
        .expect("css link");
    let end = start + home.body[start..].find('"').expect("end");
    let css = c.get(&home.body[start..end]).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .contains("immutable")
    );
}

#[tokio::test]
async fn backup_then_restore_into_a_new_database_gives_identical_data() {
    let app = TestApp::new().await;
    let org = app.org("Knowsley Link Workers", "gp_practice_or_pcn").await;
    app.user(ensemble::rbac::Role::LinkWorker, &org).await;
    let dir = std::env::temp_dir().join(format!("ens-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("backup.bin");
    ensemble::backup::backup(&app.state.db, &app.url, &file)
        .await
        .expect("backup");
    // A second backup to the same file is refused rather than overwriting.
    assert!(
        ensemble::backup::backup(&app.state.db, &app.url, &file)
            .await
            .is_err()
    );
    let target = match backend() {
        ensemble::db::Backend::Sqlite => format!("sqlite://{}", dir.join("restored.db").display()),
        ensemble::db::Backend::Postgres => fresh_database_url().await,
    };
    ensemble::backup::restore(&file, &target)
        .await
        .expect("restore");
    let restored = Db::connect(&target).await.unwrap();
    let a = ensemble::backup::dump_rows(&app.state.db).await.unwrap();
    let b = ensemble::backup::dump_rows(&restored).await.unwrap();
    assert!(a.iter().map(|(_, rows)| rows.len()).sum::<usize>() >= 8);
    assert_eq!(a, b);
    // Restoring over a database that has data is refused.
    assert!(ensemble::backup::restore(&file, &target).await.is_err());
    // A file that is not a backup gets a clear error.
    let junk = dir.join("junk.txt");
    std::fs::write(&junk, "hello").unwrap();
    let other = format!("sqlite://{}", dir.join("other.db").display());
    let err = ensemble::backup::restore(&junk, &other)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not an Ensemble database backup"), "{err}");
}

#[test]
fn only_update_snapshots_1_rewrites_the_snapshots() {
    assert!(update_snapshots(Some("1")));
    for other in [
        None,
        Some("0"),
        Some(""),
        Some("true"),
        Some("yes"),
        Some("01"),
    ] {
        assert!(!update_snapshots(other), "{other:?}");
    }
}

/// The values are the ones docs/SECURITY.md lists, character for character.
#[tokio::test]
async fn personal_pages_carry_every_security_header_with_the_documented_values() {
    let app = TestApp::new().await;
    let (mut participant, _) = app.signed_in(ensemble::rbac::Role::Participant).await;
    let (mut practitioner, _) = app.signed_in(ensemble::rbac::Role::Practitioner).await;
    let expected = [
        (
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ),
        ("cache-control", "no-store"),
    ];
    let mut pages = Vec::new();
    for path in ["/account", "/account/tokens", "/my/plan", "/check-ins"] {
        pages.push((path, participant.get(path).await));
    }
    for path in ["/practice/journal", "/practice/portfolio"] {
        pages.push((path, practitioner.get(path).await));
    }
    pages.push(("/sign-in", app.client().get("/sign-in").await));
    for (path, r) in &pages {
        assert_eq!(r.status, StatusCode::OK, "{path}");
        for (name, value) in expected {
            assert_eq!(
                r.headers.get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{path}: {name}"
            );
        }
        assert!(
            r.headers.get("strict-transport-security").is_none(),
            "{path}: no HSTS over plain HTTP"
        );
    }
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_configured() {
    let app = TestApp::with(|c| c.metrics_token = Some("scrape-me-9f2c".into())).await;
    let mut c = app.client();
    let r = c.get("/metrics").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "no token");
    assert!(!r.body.contains("ensemble_http_requests_total"));
    let with = |token: &str| {
        axum::http::Request::get("/metrics")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    for wrong in ["wrong-token", "scrape-me-9f2", "scrape-me-9f2cX", ""] {
        let r = c.send(with(wrong)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "token {wrong:?}");
        assert!(!r.body.contains("ensemble_http_requests_total"));
    }
    let r = c
        .send(
            axum::http::Request::get("/metrics")
                .header("authorization", "Basic scrape-me-9f2c")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "not a bearer token");
    let r = c.send(with("scrape-me-9f2c")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("ensemble_http_requests_total"),
        "{}",
        r.body
    );
}
