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
const RECORDERS: &[Role] = &[Role::Practitioner, Role::LinkWorker, Role::ProgrammeManager];

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
            | "/refer-yourself/done"
            | "/areas"
            | "/areas/districts/{code}"
            | "/areas/wards/{code}"
            | "/areas/lsoas/{code}"
            | "/areas/provision"
            | "/areas/cold-spots"
            | "/areas/cold-spots.csv"
            | "/areas/map"
            | "/api/v1/areas/districts"
            | "/api/v1/areas/districts/{code}"
            | "/api/v1/areas/lsoas/{code}"
            | "/api/v1/areas/cold-spots",
        ) => None,
        (
            _,
            "/areas/reach"
            | "/areas/reach.csv"
            | "/api/v1/areas/reach"
            | "/areas/barriers"
            | "/areas/barriers.csv"
            | "/api/v1/areas/barriers",
        ) => Some(&[Role::ProgrammeManager, Role::Researcher, Role::Commissioner]),
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
        (_, p) if p.starts_with("/provider/") || p.starts_with("/sessions") => Some(PROVIDERS),
        ("GET", "/practice/supervision" | "/practice/supervision/{id}") => Some(ALL),
        // Supervisors and peers asked for an assessment may hold any role.
        (
            "GET",
            "/practice/assessments"
            | "/practice/assessments/{id}"
            | "/practice/portfolio/certificates/{id}",
        )
        | ("POST", "/practice/assessments/{id}") => Some(ALL),
        (_, "/api/v1/practice/portfolio") => Some(PROVIDERS),
        (_, p) if p.starts_with("/practice/") => Some(PROVIDERS),
        (_, "/my/plan" | "/my/consents" | "/my/consents/{purpose}") => Some(ALL),
        (_, p)
            if p.starts_with("/check-ins")
                || p.starts_with("/instrument-reviews")
                || p.starts_with("/incidents") =>
        {
            Some(ALL)
        }
        (_, p) if p.starts_with("/measures/design") => {
            Some(&[Role::ProgrammeManager, Role::CoResearcher])
        }
        (_, "/api/v1/instruments" | "/api/v1/people/{id}/scores") => Some(ALL),
        (_, p) if p.starts_with("/measures") || p == "/api/v1/measures/responses" => {
            Some(RECORDERS)
        }
        (_, p) if p.starts_with("/research/") || p.starts_with("/api/v1/evaluation/") => {
            Some(&[Role::Researcher])
        }
        (_, p) if p.starts_with("/manage/activities") => Some(MANAGERS),
        (
            "GET",
            "/programmes/{id}/about"
            | "/programmes/{id}/board"
            | "/programmes/{id}/decisions"
            | "/programmes/{id}/feed.atom",
        ) => None,
        (_, p) if p.starts_with("/share/") => None,
        // Staying connected: the digest's unsubscribe link works without signing in.
        (_, "/digest/off/{token}") => None,
        (_, "/feed" | "/feed/read" | "/settings/notifications" | "/api/v1/feed") => Some(ALL),
        (
            "POST",
            "/programmes"
            | "/programmes/{id}/partners"
            | "/programmes/{id}/activities"
            | "/programmes/{id}/members"
            | "/programmes/{id}/partners/{organisation}/remove"
            | "/programmes/{id}/activities/{activity}/remove",
        ) => Some(MANAGERS),
        (_, p)
            if p.starts_with("/programmes")
                || p.starts_with("/voices/")
                || p.starts_with("/actions/")
                || p.starts_with("/proposals/")
                || p.starts_with("/decisions/")
                || p.starts_with("/api/v1/programmes") =>
        {
            Some(ALL)
        }
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
        (_, "/organisations/{id}/out-of-hours") => Some(ALL),
        (_, "/evaluation" | "/evaluation/compare") => Some(ALL),
        (_, "/evaluation/unit-costs") => Some(ADMIN),
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
        .replace("{version}", "1")
        .replace("{competency}", "00000000-0000-7000-8000-000000000003")
        .replace("{key}", "no-such-key")
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
                (Kind::Api, _) if r.meta.api_errors.is_some() => {
                    // FHIR routes answer every error with an OperationOutcome.
                    assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{path}");
                    assert_eq!(resp.json()["resourceType"], "OperationOutcome", "{path}");
                    assert_eq!(resp.json()["issue"][0]["code"], "login", "{path}");
                }
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
                } else if r.meta.api_errors.is_some() {
                    assert_eq!(resp.json()["resourceType"], "OperationOutcome", "{path}");
                    assert_eq!(resp.json()["issue"][0]["code"], "forbidden", "{path}");
                } else {
                    assert_eq!(resp.json()["errors"][0]["code"], "forbidden");
                }
            }
        }
    }
}

/// Relationship rules for people and referrals, written independently of the services:
/// for one referral connected to one provider, which account may open which page.
#[tokio::test]
async fn referral_relationships_matrix() {
    use ensemble::modules::people::model::{Decision, Purpose};
    use ensemble::modules::people::service::PersonInput;
    use ensemble::modules::referrals::service as referrals;

    let app = TestApp::new().await;
    let team = app.org("Team A", "gp_practice_or_pcn").await;
    let other_team = app.org("Team B", "gp_practice_or_pcn").await;
    let provider = app.org("Provider A", "cultural_organisation").await;
    let other_provider = app.org("Provider B", "community_group").await;
    let trust = app.org("Trust", "nhs_trust").await;
    let uni = app.org("Uni", "university").await;
    let activity =
        crate::directory::activity(&app, &provider, "Choir", 53.4, -2.99, "free", "MO", &[]).await;

    struct Who {
        label: &'static str,
        client: crate::support::Client,
        id: String,
        roles: Vec<(String, Role)>,
    }
    let mut people = Vec::new();
    for (label, role, org) in [
        ("care team link worker", Role::LinkWorker, &team),
        ("other team link worker", Role::LinkWorker, &other_team),
        ("referring clinician", Role::Clinician, &trust),
        ("other clinician", Role::Clinician, &trust),
        ("provider practitioner", Role::Practitioner, &provider),
        (
            "provider programme manager",
            Role::ProgrammeManager,
            &provider,
        ),
        (
            "other provider practitioner",
            Role::Practitioner,
            &other_provider,
        ),
        ("the person", Role::Participant, &provider),
        ("another participant", Role::Participant, &provider),
        ("researcher", Role::Researcher, &uni),
    ] {
        let (email, password, id) = app.user(role, org).await;
        let mut client = app.client();
        assert_eq!(
            client.sign_in(&email, &password).await.status,
            StatusCode::SEE_OTHER
        );
        people.push(Who {
            label,
            client,
            id,
            roles: vec![(org.clone(), role)],
        });
    }
    let actor = |w: &Who| ensemble::rbac::Actor {
        user_id: w.id.clone(),
        display_name: w.label.into(),
        email: format!("{}@example.org", w.id),
        memberships: w
            .roles
            .iter()
            .map(|(o, r)| (o.clone(), "org".into(), *r))
            .collect(),
        request_id: None,
        channel: "web",
    };
    let lw = actor(&people[0]);
    let clinician = actor(&people[2]);
    let created = referrals::create(
        &app.state,
        &clinician.audit(),
        &referrals::NewReferral {
            team_organisation_id: team.clone(),
            source: "clinician",
            referrer_user_id: Some(clinician.user_id.clone()),
            referrer_organisation_id: Some(trust.clone()),
            referrer_name: "Dr Test".into(),
            referrer_email: "dr@example.org".into(),
            source_system: None,
            source_identifier: None,
            reason: ensemble::modules::referrals::model::ReferralReason::parse("Low mood").unwrap(),
            person: PersonInput {
                given_name: "Pat".into(),
                family_name: "Matrix".into(),
                ..Default::default()
            }
            .validate()
            .unwrap(),
            consents: vec![(Purpose::Contact, Decision::Given)],
            consent_method: "paper",
            consent_witness: String::new(),
            activity_id: None,
            extra_tasks: vec![],
        },
    )
    .await
    .unwrap();
    let id = created.id;
    referrals::change_status(&app.state, &lw, &id, "contacted", "", "")
        .await
        .unwrap();
    let review = (ensemble::db::uk::today() + time::Duration::weeks(4)).to_string();
    referrals::save_plan(
        &app.state,
        &lw,
        &id,
        &referrals::PlanInput {
            what_matters: "Music".into(),
            goals: "Sing".into(),
            next_steps: "Refer".into(),
            review_on: review,
            agreed: "yes".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    referrals::connect(&app.state, &lw, &id, &activity, "")
        .await
        .unwrap();
    let person: String = {
        use sqlx::Row;
        sqlx::query("SELECT person_id FROM referrals WHERE id = $1")
            .bind(id.clone())
            .fetch_one(&app.state.db.read)
            .await
            .unwrap()
            .try_get("person_id")
            .unwrap()
    };
    sqlx::query("UPDATE people SET user_id = $1 WHERE id = $2")
        .bind(people[7].id.clone())
        .bind(person.clone())
        .execute(&app.state.db.write)
        .await
        .unwrap();

    // (page, who may open it). Everyone else gets 403.
    let pages: Vec<(String, &[&str])> = vec![
        (format!("/caseload/{id}"), &["care team link worker"]),
        (format!("/caseload/{id}/plan"), &["care team link worker"]),
        (format!("/caseload/{id}/match"), &["care team link worker"]),
        (format!("/people/{person}"), &["care team link worker"]),
        (
            format!("/provider/referrals/{id}"),
            &["provider practitioner", "provider programme manager"],
        ),
        (
            format!("/referrals/{id}/message-back"),
            &["care team link worker", "referring clinician"],
        ),
    ];
    for w in &mut people {
        for (path, allowed) in &pages {
            let r = w.client.get(path).await;
            if allowed.contains(&w.label) {
                assert_eq!(r.status, StatusCode::OK, "{} should open {path}", w.label);
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{} must not open {path}",
                    w.label
                );
            }
        }
        // Lists show the referral only to those related to it.
        let lists: &[(&str, &[&str])] = &[
            ("/caseload?show=team", &["care team link worker"]),
            ("/referrals/sent", &["referring clinician"]),
            (
                "/provider/referrals",
                &["provider practitioner", "provider programme manager"],
            ),
            ("/my/plan", &["the person"]),
        ];
        for (path, allowed) in lists {
            let r = w.client.get(path).await;
            let shows = r.status == StatusCode::OK
                && (r.body.contains(&id) || r.body.contains("Your plan with"));
            assert_eq!(
                shows,
                allowed.contains(&w.label),
                "{} on {path}: {}",
                w.label,
                r.status
            );
        }
    }
}

/// Relationship rules of the practitioner toolkit, written independently of the services:
/// journals (their author only), supervision records (the practitioner and supervisor),
/// incidents (the reporter, the named lead and the organisation's programme managers),
/// portfolio evidence (its owner) and what an assessor may see (the request and the
/// certificates linked to the competency asked about). Everyone else who may reach the page
/// gets what docs/SECURITY.md promises: 404 for journals, supervision records, evidence,
/// certificates and assessment requests (their existence is not revealed), 403 for
/// incidents; those whose role may not reach the page at all get the route's 403.
#[tokio::test]
async fn practice_relationships_matrix() {
    let app = TestApp::new().await;
    let provider = app.org("Provider A", "cultural_organisation").await;
    let other_provider = app.org("Provider B", "community_group").await;
    let trust = app.org("Trust", "nhs_trust").await;
    let activity = crate::directory::activity(
        &app,
        &provider,
        "Ward music",
        53.4,
        -2.99,
        "free",
        "MO",
        &[],
    )
    .await;

    struct Who {
        label: &'static str,
        role: Role,
        client: crate::support::Client,
        id: String,
        email: String,
    }
    let mut people = Vec::new();
    for (label, role, org) in [
        ("author", Role::Practitioner, &provider),
        ("colleague", Role::Practitioner, &provider),
        ("programme manager", Role::ProgrammeManager, &provider),
        ("supervisor", Role::Clinician, &trust),
        ("named lead", Role::Clinician, &trust),
        ("other clinician", Role::Clinician, &trust),
        (
            "other provider practitioner",
            Role::Practitioner,
            &other_provider,
        ),
        ("participant", Role::Participant, &provider),
        ("administrator", Role::Administrator, &provider),
    ] {
        let (email, password, id) = app.user(role, org).await;
        let mut client = app.client();
        assert_eq!(
            client.sign_in(&email, &password).await.status,
            StatusCode::SEE_OTHER
        );
        people.push(Who {
            label,
            role,
            client,
            id,
            email,
        });
    }
    let emails: Vec<(&str, String)> = people.iter().map(|w| (w.label, w.email.clone())).collect();
    let email = |label: &str| emails.iter().find(|w| w.0 == label).unwrap().1.clone();
    let lead_email = email("named lead");
    let supervisor_email = email("supervisor");
    let colleague_email = email("colleague");
    let pm_id = people[2].id.clone();

    // The programme manager names the lead and publishes a framework.
    let leads = format!("/manage/activities/{activity}/leads");
    let r = people[2]
        .client
        .submit(
            &leads,
            &leads,
            &[("email", &lead_email), ("kind", "clinical")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let pm = ensemble::rbac::Actor {
        user_id: pm_id,
        display_name: "pm".into(),
        email: email("programme manager"),
        memberships: vec![(
            provider.clone(),
            "Provider A".into(),
            Role::ProgrammeManager,
        )],
        request_id: None,
        channel: "web",
    };
    let draft = ensemble::modules::practice::competencies::start_draft(&app.state, &pm, &provider)
        .await
        .unwrap();
    ensemble::modules::practice::competencies::publish(&app.state, &pm, &draft, "v1")
        .await
        .unwrap();

    // The author's records.
    let author = &mut people[0].client;
    // Session and evidence dates are UK dates on the server.
    let today = ensemble::db::uk::today().to_string();
    let session = author
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
        .await
        .location()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let form = format!("{session}/incident");
    let incident = author
        .submit(
            &form,
            &form,
            &[
                ("category", "safeguarding"),
                ("severity", "serious"),
                ("what_happened", "A disclosure during the session."),
                ("immediate_action", "Listened and reported."),
            ],
        )
        .await
        .location()
        .trim_end_matches("?recorded=yes")
        .to_string();
    let journal = author
        .submit(
            "/practice/journal",
            "/practice/journal",
            &[("title", "Hard day"), ("body", "Private thoughts.")],
        )
        .await
        .location()
        .to_string();
    let supervision = author
        .submit(
            "/practice/supervision",
            "/practice/supervision",
            &[
                ("supervisor_email", &supervisor_email),
                ("met_on", &today),
                ("themes", "Boundaries"),
            ],
        )
        .await
        .location()
        .to_string();
    let token = author.get("/practice/portfolio/evidence/new").await.csrf();
    let cert = b"%PDF-1.4 certificate".to_vec();
    let evidence = author
        .post_multipart(
            "/practice/portfolio/evidence",
            &[
                ("csrf_token", &token),
                ("kind", "training"),
                ("title", "Safeguarding adults"),
                ("occurred_on", &today),
                ("competencies", "S1"),
            ],
            &[("certificate", "cert.pdf", &cert)],
        )
        .await
        .location()
        .to_string();
    let r = author
        .submit(
            "/practice/portfolio/request",
            "/practice/portfolio/request",
            &[
                ("competency", "S1"),
                ("kind", "peer"),
                ("assessor_email", &colleague_email),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let ids = |sql: &'static str| {
        let app = &app;
        async move {
            sqlx::query_scalar::<_, String>(sql)
                .fetch_one(&app.state.db.read)
                .await
                .unwrap()
        }
    };
    let certificate = format!(
        "/practice/portfolio/certificates/{}",
        ids("SELECT id FROM certificates").await
    );
    let request = format!(
        "/practice/assessments/{}",
        ids("SELECT id FROM competency_assessments").await
    );
    for p in [&incident, &journal, &supervision, &evidence] {
        assert!(p.starts_with('/'), "created: {p}");
    }

    const HIDDEN: StatusCode = StatusCode::NOT_FOUND;
    const REFUSED: StatusCode = StatusCode::FORBIDDEN;
    let pages: Vec<(&str, &[&str], StatusCode)> = vec![
        (&journal, &["author"], HIDDEN),
        (&supervision, &["author", "supervisor"], HIDDEN),
        (
            &incident,
            &["author", "named lead", "programme manager"],
            REFUSED,
        ),
        (&evidence, &["author"], HIDDEN),
        (&certificate, &["author", "colleague"], HIDDEN),
        (&request, &["author", "colleague"], HIDDEN),
    ];
    for w in &mut people {
        for (path, allowed, others) in &pages {
            let r = w.client.get(path).await;
            if allowed.contains(&w.label) {
                assert_eq!(r.status, StatusCode::OK, "{} should open {path}", w.label);
                continue;
            }
            let permission = r.permission.expect("every route declares a permission");
            let expected = if ensemble::rbac::allows(&[w.role], true, permission) {
                *others
            } else {
                REFUSED
            };
            assert_eq!(
                r.status, expected,
                "{} must not open {path} ({permission:?})",
                w.label
            );
        }
        // Lists show the record only to those related to it.
        let incident_id = incident.trim_start_matches("/incidents/");
        let supervision_id = supervision.trim_start_matches("/practice/supervision/");
        let request_id = request.trim_start_matches("/practice/assessments/");
        let lists: &[(&str, &str, &[&str])] = &[
            (
                "/incidents",
                incident_id,
                &["author", "named lead", "programme manager"],
            ),
            (
                "/practice/supervision",
                supervision_id,
                &["author", "supervisor"],
            ),
            ("/practice/assessments", request_id, &["colleague"]),
        ];
        for (path, id, allowed) in lists {
            let r = w.client.get(path).await;
            let shows = r.status == StatusCode::OK && r.body.contains(id);
            assert_eq!(
                shows,
                allowed.contains(&w.label),
                "{} on {path}: {}",
                w.label,
                r.status
            );
        }
    }
}

/// `/areas/map?of=reach` is the public map route with reach figures: it follows the
/// aggregates row of the matrix (sign-in first, then 403 for other roles).
#[tokio::test]
async fn areas_reach_map_follows_the_aggregates_row_of_the_matrix() {
    let app = TestApp::new().await;
    let r = app.client().get("/areas/map?of=reach").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/sign-in?next="),
        "{}",
        r.location()
    );
    let allowed = expected("GET", "/areas/reach").unwrap();
    for role in Role::ALL {
        let (mut c, _) = app.signed_in(role).await;
        let r = c.get("/areas/map?of=reach").await;
        if allowed.contains(&role) {
            assert_eq!(r.status, StatusCode::OK, "{role:?}: {}", r.body);
            assert!(r.body.contains("Referral reach ratio by ward"), "{role:?}");
        } else {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}");
        }
        let r = c.get("/areas/map?of=provision").await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{role:?}: the other maps stay public"
        );
    }
}
