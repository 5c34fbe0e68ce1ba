//! Every route declares a permission, the policy runs on every route, and each role gets
//! exactly the access this matrix (written independently of the policy code) expects.

use axum::http::StatusCode;
use ensemble::app::all_routes;
use ensemble::modules::accounts::service;
use ensemble::rbac::Role;
use ensemble::web::routes::Kind;

use crate::support::TestApp;

const ALL: &[Role] = &Role::ALL;
const STAFF: &[Role] = &[
    Role::Practitioner,
    Role::LinkWorker,
    Role::Clinician,
    Role::ProgrammeManager,
    Role::Researcher,
    Role::Commissioner,
    Role::Administrator,
];
const MANAGERS: &[Role] = &[Role::ProgrammeManager, Role::Administrator];
const ADMIN: &[Role] = &[Role::Administrator];
const REFERRERS: &[Role] = &[
    Role::Practitioner,
    Role::LinkWorker,
    Role::Clinician,
    Role::ProgrammeManager,
];
const PROVIDERS: &[Role] = &[Role::Practitioner, Role::ProgrammeManager];

/// Who may use each route: `None` means anyone, including anonymous visitors.
fn expected(method: &str, path: &str) -> Option<&'static [Role]> {
    match (method, path) {
        (
            _,
            "/"
            | "/accessibility"
            | "/privacy"
            | "/assets/{*path}"
            | "/healthz"
            | "/readyz"
            | "/metrics"
            | "/sign-in"
            | "/sign-out"
            | "/invitations/{token}"
            | "/api/v1/openapi.json"
            | "/activities"
            | "/activities/{id}"
            | "/practitioners"
            | "/practitioners/{id}"
            | "/refer-yourself"
            | "/refer-yourself/done",
        ) => None,
        ("GET", p) if p.starts_with("/openreferral/") => None,
        (_, "/account/profile") => Some(&[Role::Practitioner]),
        (
            _,
            "/referrals/new"
            | "/referrals/sent"
            | "/referrals/{id}/message-back"
            | "/api/v1/fhir/ServiceRequest"
            | "/api/v1/fhir/$process-message"
            | "/api/v1/fhir/ServiceRequest/{id}"
            | "/api/v1/referrals/{id}/message-back",
        ) => Some(REFERRERS),
        (_, p) if p.starts_with("/caseload") || p.starts_with("/people/") => {
            Some(&[Role::LinkWorker])
        }
        (_, p) if p.starts_with("/provider/") => Some(PROVIDERS),
        (_, "/my/plan" | "/my/consents") => Some(ALL),
        (_, p) if p.starts_with("/research/") || p.starts_with("/api/v1/evaluation/") => {
            Some(&[Role::Researcher])
        }
        (_, p) if p.starts_with("/manage/activities") => Some(MANAGERS),
        (
            _,
            "/sign-in/verify"
            | "/account"
            | "/account/password"
            | "/account/security/totp"
            | "/account/tokens"
            | "/account/tokens/{id}/revoke"
            | "/api/v1/me",
        ) => Some(ALL),
        ("GET", "/organisations" | "/organisations/{id}" | "/api/v1/organisations") => Some(STAFF),
        ("GET", "/organisations/{id}/members") => Some(MANAGERS),
        ("POST", "/api/v1/organisations") | (_, "/api/v1/users") => Some(ADMIN),
        (_, p) if p.starts_with("/admin") => Some(ADMIN),
        (m, p) => panic!("route {m} {p} is missing from the authorisation matrix: add it"),
    }
}

fn concrete(path: &str) -> String {
    path.replace("{*path}", "no-such-asset.css")
        .replace("{token}", "no-such-invitation-token")
        .replace("{membership_id}", "00000000-0000-7000-8000-000000000001")
        .replace("{task_id}", "00000000-0000-7000-8000-000000000002")
        .replace("{name}", "no-such-dataset")
        .replace("{id}", "00000000-0000-7000-8000-000000000000")
}

#[test]
fn routes_are_only_added_through_the_permission_registry() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut offenders = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(src)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("web/routes.rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                if text.contains(".route(")
                    || text.contains(".nest(")
                    || text.contains(".merge(")
                    || text.contains("routing::get(")
                {
                    offenders.push(p.display().to_string());
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes added outside web/routes.rs (no permission declared): {offenders:?}"
    );
}

#[test]
fn every_declared_route_is_in_the_matrix() {
    let routes = all_routes();
    assert!(routes.len() > 30);
    for r in &routes {
        expected(r.meta.method, r.meta.path);
        if r.meta.kind == Kind::Api && r.meta.permission != ensemble::rbac::Permission::Public {
            assert!(
                r.meta.scope.is_some(),
                "API route {} has no token scope",
                r.meta.path
            );
        }
    }
}

#[tokio::test]
async fn anonymous_visitors_reach_public_routes_and_are_sent_to_sign_in_elsewhere() {
    let app = TestApp::new().await;
    let mut c = app.client();
    let token = c.get("/sign-in").await.csrf();
    for r in all_routes() {
        let path = concrete(r.meta.path);
        let resp = match (r.meta.kind, r.meta.method) {
            (Kind::Api, m) => c.api(m, &path, None, None).await,
            (Kind::Page, "GET") => c.get(&path).await,
            (Kind::Page, _) => c.post_form(&path, &[("csrf_token", &token)]).await,
        };
        {
            assert_eq!(
                resp.permission,
                Some(r.meta.permission),
                "{} {path} did not pass the policy layer",
                r.meta.method
            );
        }
        match expected(r.meta.method, r.meta.path) {
            None => assert!(
                resp.status != StatusCode::FORBIDDEN && resp.status != StatusCode::UNAUTHORIZED,
                "{} {path}: {}",
                r.meta.method,
                resp.status
            ),
            Some(_) => match (r.meta.kind, r.meta.method) {
                (Kind::Api, _) => {
                    assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{path}");
                    assert_eq!(resp.json()["errors"][0]["code"], "unauthenticated");
                }
                (Kind::Page, "GET") => {
                    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{path}");
                    assert!(
                        resp.location().starts_with("/sign-in?next="),
                        "{path} -> {}",
                        resp.location()
                    );
                }
                _ => assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "POST {path}"),
            },
        }
    }
}

#[tokio::test]
async fn each_role_gets_exactly_the_access_in_the_matrix() {
    let app = TestApp::new().await;
    for role in Role::ALL {
        let (mut c, user_id) = app.signed_in(role).await;
        let actor = ensemble::rbac::Actor {
            user_id: user_id.clone(),
            display_name: "t".into(),
            email: "t@example.org".into(),
            memberships: vec![],
            request_id: None,
            channel: "web",
        };
        let scopes: Vec<String> = service::SCOPES.iter().map(|(s, _)| s.to_string()).collect();
        let token = service::create_token(&app.state, &actor, "matrix", &scopes, "")
            .await
            .unwrap();
        let csrf = c.get("/account").await.csrf();
        for r in all_routes()
            .into_iter()
            .filter(|r| r.meta.path != "/sign-out")
        {
            let path = concrete(r.meta.path);
            let resp = match (r.meta.kind, r.meta.method) {
                (Kind::Api, m) => {
                    c.api(m, &path, Some(&token), (m == "POST").then_some("{}"))
                        .await
                }
                (Kind::Page, "GET") => c.get(&path).await,
                (Kind::Page, _) => c.post_form(&path, &[("csrf_token", &csrf)]).await,
            };
            let allowed =
                expected(r.meta.method, r.meta.path).is_none_or(|roles| roles.contains(&role));
            if allowed {
                assert!(
                    resp.status != StatusCode::FORBIDDEN && resp.status != StatusCode::UNAUTHORIZED,
                    "{role:?} should reach {} {path} but got {}",
                    r.meta.method,
                    resp.status
                );
            } else {
                assert_eq!(
                    resp.status,
                    StatusCode::FORBIDDEN,
                    "{role:?} must be refused {} {path}",
                    r.meta.method
                );
                if r.meta.kind == Kind::Page {
                    assert!(
                        resp.body
                            .contains("<h1>You do not have permission to see this page</h1>"),
                        "403 page for {path}"
                    );
                } else {
                    assert_eq!(resp.json()["errors"][0]["code"], "forbidden");
                }
            }
        }
    }
}
