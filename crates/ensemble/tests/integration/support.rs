//! Test harness: a fresh database per test (a temp SQLite file, or a new PostgreSQL
//! database), the router driven in-process, and a client that keeps cookies.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ensemble::config::{Config, HashCost};
use ensemble::db::{Backend, Db};
use ensemble::modules::accounts::service::{self, OrganisationInput};
use ensemble::rbac::{Permission, Role};
use ensemble::web::routes::PermissionChecked;
use ensemble::{AppState, build_router};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Which backend this run uses.
pub fn backend() -> Backend {
    if pg_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

fn pg_admin_url() -> Option<String> {
    let url = std::env::var("ENSEMBLE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("ENSEMBLE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!("ENSEMBLE_REQUIRE_POSTGRES=1 but ENSEMBLE_TEST_DATABASE_URL is not set");
    }
    url
}

/// A URL for a brand-new empty database.
pub async fn fresh_database_url() -> String {
    let name = format!("ens_test_{}", uuid::Uuid::new_v4().simple());
    match pg_admin_url() {
        Some(admin) => {
            let db = Db::connect(&admin)
                .await
                .expect("connect to the PostgreSQL test server");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&db.write)
                .await
                .expect("create test database");
            db.close().await;
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or(admin);
            format!("{base}/{name}")
        }
        None => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            format!("sqlite://{}", path.display())
        }
    }
}

/// The test configuration: cheap password hashing, MFA not forced unless asked.
pub fn test_config(url: &str) -> Config {
    let mut cfg = Config::for_database(url);
    cfg.hash_cost = HashCost::Fast;
    cfg.require_staff_mfa = false;
    cfg.run_worker = false;
    // Re-check the directory version on every search, as changes here bypass the services.
    cfg.directory_cache_ttl = std::time::Duration::ZERO;
    cfg
}

/// Compare `actual` with the committed snapshot at `path`. With `UPDATE_SNAPSHOTS=1` (and
/// only that value) the snapshot is rewritten first, for review in the diff.
pub fn check_snapshot(path: &str, actual: &str, what: &str) {
    if update_snapshots(std::env::var("UPDATE_SNAPSHOTS").ok().as_deref()) {
        std::fs::write(path, actual).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run with UPDATE_SNAPSHOTS=1)"));
    assert!(
        actual == expected,
        "{what} differs from {path}; review and run with UPDATE_SNAPSHOTS=1"
    );
}

/// Does this value of `UPDATE_SNAPSHOTS` ask for the snapshots to be rewritten?
pub fn update_snapshots(value: Option<&str>) -> bool {
    value == Some("1")
}

/// A running application on a fresh database.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub url: String,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut Config)) -> Self {
        let url = fresh_database_url().await;
        let mut cfg = test_config(&url);
        adjust(&mut cfg);
        let db = Db::connect_and_migrate(&url).await.expect("migrate");
        let state = AppState::new(cfg, db).await.expect("state");
        let router = build_router(state.clone());
        Self { state, router, url }
    }

    /// An application on an already-open database (`url` names the database itself).
    pub async fn on(url: String, db: Db, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut cfg = test_config(&url);
        adjust(&mut cfg);
        let state = AppState::new(cfg, db).await.expect("state");
        let router = build_router(state.clone());
        Self { state, router, url }
    }

    /// Another application over the same database, as after a restart or on a second
    /// instance: nothing kept in memory carries over.
    pub async fn restart(app: &TestApp) -> Self {
        let cfg = test_config(&app.url);
        let db = Db::connect_and_migrate(&app.url).await.expect("migrate");
        let state = AppState::new(cfg, db).await.expect("state");
        let router = build_router(state.clone());
        Self {
            state,
            router,
            url: app.url.clone(),
        }
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
        }
    }

    pub async fn org(&self, name: &str, kind: &str) -> String {
        service::create_organisation_as_operator(
            &self.state,
            &OrganisationInput {
                name: name.into(),
                kind: kind.into(),
                ..Default::default()
            },
        )
        .await
        .expect("create organisation")
        .id
    }

    /// An account with one role in the given organisation; returns (email, password, id).
    pub async fn user(&self, role: Role, org_id: &str) -> (String, String, String) {
        let email = format!(
            "{}.{}@example.org",
            role.code(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let password = "tangerine-harbour-lantern".to_string();
        let id = service::create_user_as_operator(
            &self.state,
            &email,
            &format!("Test {}", role.label()),
            &password,
            Some((org_id, role)),
        )
        .await
        .expect("create user");
        (email, password, id)
    }

    /// A signed-in client for a new account with this role.
    pub async fn signed_in(&self, role: Role) -> (Client, String) {
        let org = self
            .org(
                &format!("Org {}", uuid::Uuid::new_v4().simple()),
                "nhs_trust",
            )
            .await;
        let (email, password, id) = self.user(role, &org).await;
        let mut c = self.client();
        let r = c.sign_in(&email, &password).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "sign-in for {role:?}: {}",
            r.body
        );
        (c, id)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.state.db.read)
            .await
            .expect("count")
            .try_get::<i64, _>(0)
            .expect("count column")
    }
}

/// A response, read fully.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub permission: Option<Permission>,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The value of the first hidden CSRF field on the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf field in: {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').expect("end of csrf value");
        self.body[start..start + end].to_string()
    }
}

/// An in-process HTTP client that keeps cookies.
#[derive(Clone)]
pub struct Client {
    router: Router,
    pub cookies: HashMap<String, String>,
}

impl Client {
    pub async fn send(&mut self, req: Request<Body>) -> Resp {
        let mut req = req;
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req.headers_mut()
                .insert(header::COOKIE, cookie.parse().expect("cookie header"));
        }
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        for v in resp.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().expect("ascii cookie");
            let first = v.split(';').next().expect("cookie pair");
            let (k, val) = first.split_once('=').expect("cookie k=v");
            if val.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let permission = resp.extensions().get::<PermissionChecked>().map(|p| p.0);
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8_lossy(&bytes).to_string();
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 from the app: {body}"
        );
        Resp {
            status,
            headers,
            body,
            permission,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).expect("encode");
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("request"),
        )
        .await
    }

    /// Fetch `page` for its CSRF token, then post the form with it.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.get(page).await.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form(action, &all).await
    }

    /// Post a multipart form: text fields and files as (field, file name, bytes).
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Resp {
        let boundary = "ensembleTestBoundary7MA4YWxk";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (k, name, data) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.send(
            Request::post(path)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .expect("request"),
        )
        .await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Resp {
        self.submit(
            "/sign-in",
            "/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn api(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(json) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let mut c = Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
        };
        c.send(b.body(body).expect("request")).await
    }
}
