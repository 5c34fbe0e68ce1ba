//! When the database is down: FHIR senders are told to retry (503, `Retry-After`, an
//! `OperationOutcome` with issue code `transient`), people get a 503 page within the
//! acquire timeout, `/readyz` turns 503 within two seconds, and everything works again
//! when the database returns, without a restart.
//!
//! On PostgreSQL the database is reached through a TCP proxy in the test that can refuse
//! connections (the server stopped) or swallow them (a network black hole). On SQLite,
//! where there is no server to stop, the pools are closed instead (no recovery to check).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use ensemble::db::{Backend, Db};
use ensemble::modules::referrals::fhir::SchemaValidator;
use ensemble::rbac::{Actor, Role};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::directory::shared_dir;
use crate::support::{Client, Resp, TestApp, backend, fresh_database_url};

const ACQUIRE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forward to the database.
    Up,
    /// Close every connection at once, as a stopped server does.
    Refuse,
    /// Accept connections and never answer, as a lost network does.
    BlackHole,
}

/// A TCP proxy in front of the database; changing the mode drops every open connection.
struct Proxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Up);
        let modes = mode.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut changed = modes.subscribe();
                let now = *changed.borrow_and_update();
                let target = target.clone();
                tokio::spawn(async move {
                    match now {
                        Mode::Refuse => drop(client),
                        Mode::BlackHole => {
                            let _ = changed.changed().await;
                        }
                        Mode::Up => {
                            let Ok(mut server) = TcpStream::connect(&target).await else {
                                return;
                            };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                                _ = changed.changed() => {}
                            }
                        }
                    }
                });
            }
        });
        Self { addr, mode }
    }

    fn set(&self, m: Mode) {
        self.mode.send_replace(m);
    }
}

/// `host:port` of a PostgreSQL URL, and the URL with that part replaced.
fn through(url: &str, addr: SocketAddr) -> (String, String) {
    let start = url
        .find('@')
        .map(|i| i + 1)
        .unwrap_or(url.find("://").unwrap() + 3);
    let end = start + url[start..].find('/').unwrap();
    let target = url[start..end].to_string();
    (target, format!("{}{}{}", &url[..start], addr, &url[end..]))
}

struct Outage {
    app: TestApp,
    token: String,
    link_worker: Client,
    proxy: Option<Proxy>,
}

async fn outage_world() -> Outage {
    let url = fresh_database_url().await;
    let (db, proxy) = match backend() {
        Backend::Postgres => {
            let (target, _) = through(&url, "127.0.0.1:1".parse().unwrap());
            let proxy = Proxy::start(target).await;
            let (_, via) = through(&url, proxy.addr);
            (
                Db::connect_and_migrate_with(&via, ACQUIRE)
                    .await
                    .expect("migrate"),
                Some(proxy),
            )
        }
        Backend::Sqlite => (
            Db::connect_and_migrate_with(&url, ACQUIRE)
                .await
                .expect("migrate"),
            None,
        ),
    };
    let app = TestApp::on(url, db, |cfg| {
        cfg.db_acquire_timeout = ACQUIRE;
        if let Some(s) = shared_dir() {
            cfg.shared_dir = s;
        }
    })
    .await;
    let team = app.org("Knowsley Link Workers", "gp_practice_or_pcn").await;
    let trust = app.org("Mersey Trust", "nhs_trust").await;
    let (email, password, _) = app.user(Role::LinkWorker, &team).await;
    let mut link_worker = app.client();
    assert_eq!(
        link_worker.sign_in(&email, &password).await.status,
        StatusCode::SEE_OTHER
    );
    let (_, _, clinician) = app.user(Role::Clinician, &trust).await;
    let actor = Actor {
        user_id: clinician,
        display_name: "c".into(),
        email: "c@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "api",
    };
    let token = ensemble::modules::accounts::service::create_token(
        &app.state,
        &actor,
        "gp",
        &["referrals:write".to_string(), "referrals:read".to_string()],
        "",
    )
    .await
    .unwrap();
    Outage {
        app,
        token,
        link_worker,
        proxy,
    }
}

fn referral(identifier: &str) -> String {
    serde_json::json!({
        "resourceType": "ServiceRequest",
        "identifier": [{ "system": "https://gp.example/referrals", "value": identifier }],
        "status": "active", "intent": "order",
        "contained": [{ "resourceType": "Patient", "id": "p", "name": [{ "given": ["Ada"], "family": "Lovelace" }],
                        "identifier": [{ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919" }], "birthDate": "1960-12-10" }],
        "subject": { "reference": "#p" },
        "note": [{ "text": "Isolated; loves music" }]
    })
    .to_string()
}

async fn timed<F: std::future::Future<Output = Resp>>(f: F) -> (Resp, Duration) {
    let t = Instant::now();
    let r = f.await;
    (r, t.elapsed())
}

/// What a sender and a person see while the database cannot be reached.
async fn check_outage_answers(w: &mut Outage, identifier: &str) {
    let mut api = w.app.client();
    let (page, took) = timed(w.link_worker.get("/caseload")).await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("trouble reaching its database"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Nothing you typed was saved"),
        "{}",
        page.body
    );
    assert!(page.headers.contains_key(header::RETRY_AFTER));
    assert!(
        took < ACQUIRE + Duration::from_millis(1500),
        "the page answered after {took:?}"
    );

    // A form sent during the outage comes back with what was typed, ready to send again.
    let sent = w
        .link_worker
        .post_form(
            "/referrals/new",
            &[("reason", "A long note typed with care")],
        )
        .await;
    assert_eq!(
        sent.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        sent.body
    );
    assert!(sent.body.contains("Send it again"), "{}", sent.body);
    assert!(
        sent.body.contains("value=\"A long note typed with care\""),
        "{}",
        sent.body
    );

    let (ready, took) = timed(api.get("/readyz")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        took < Duration::from_secs(2),
        "/readyz answered after {took:?}"
    );

    let (json, _) = timed(api.api("GET", "/api/v1/me", Some(&w.token), None)).await;
    assert_eq!(
        json.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        json.body
    );
    assert_eq!(json.json()["errors"][0]["code"], "unavailable");
    assert!(json.headers.contains_key(header::RETRY_AFTER));
    let body = referral(identifier);
    let (r, took) = timed(api.api(
        "POST",
        "/api/v1/fhir/ServiceRequest",
        Some(&w.token),
        Some(&body),
    ))
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(
        r.headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json"),
        "{:?}",
        r.headers
    );
    let j = r.json();
    assert_eq!(j["resourceType"], "OperationOutcome", "{}", r.body);
    assert_eq!(j["issue"][0]["code"], "transient", "{}", r.body);
    let schema = w.app.state.ext::<SchemaValidator>();
    if schema.available() {
        assert!(
            schema.check("OperationOutcome", &j).unwrap().is_empty(),
            "{}",
            r.body
        );
    }
    assert!(
        took < ACQUIRE + Duration::from_millis(1500),
        "FHIR answered after {took:?}"
    );
}

async fn referrals_with(app: &TestApp, identifier: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM referrals WHERE source_identifier = '{identifier}'"
    ))
    .await
}

#[tokio::test]
async fn a_database_outage_is_answered_503_transient_and_the_same_referral_is_taken_once_after_it()
{
    let mut w = outage_world().await;
    assert_eq!(w.link_worker.get("/caseload").await.status, StatusCode::OK);
    let Some(proxy) = w.proxy.take() else {
        // SQLite: no server to stop; a closed pool is the fault (and there is no way back).
        eprintln!("outage: SQLite run closes the pools; the recovery half runs on PostgreSQL");
        w.app.state.db.close().await;
        check_outage_answers(&mut w, "R-outage-sqlite").await;
        return;
    };
    for (mode, identifier) in [
        (Mode::Refuse, "R-outage-refused"),
        (Mode::BlackHole, "R-outage-silent"),
    ] {
        proxy.set(mode);
        check_outage_answers(&mut w, identifier).await;
        proxy.set(Mode::Up);

        // Back again, no restart: the same referral is accepted once, pages work.
        let mut api = w.app.client();
        let body = referral(identifier);
        let first = api
            .api(
                "POST",
                "/api/v1/fhir/ServiceRequest",
                Some(&w.token),
                Some(&body),
            )
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let again = api
            .api(
                "POST",
                "/api/v1/fhir/ServiceRequest",
                Some(&w.token),
                Some(&body),
            )
            .await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(referrals_with(&w.app, identifier).await, 1);
        assert_eq!(w.link_worker.get("/caseload").await.status, StatusCode::OK);
        assert_eq!(api.get("/readyz").await.status, StatusCode::OK);
    }
}
