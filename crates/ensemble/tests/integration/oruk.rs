//! The Open Referral UK API's parameters, methods and OpenAPI document, and the export →
//! import → export round trip through the ORUK importer.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use ensemble::audit::AuditActor;
use ensemble::modules::accounts::service::{OrganisationInput, create_organisation_as_operator};
use ensemble::modules::directory::model::ActivityInput;
use ensemble::modules::directory::{import_oruk, service};
use serde_json::Value;

use crate::support::TestApp;

const OTHER_ID: &str = "00000000-0000-4000-8000-000000000000";

async fn organisation(app: &TestApp, name: &str, description: &str) -> String {
    create_organisation_as_operator(
        &app.state,
        &OrganisationInput {
            name: name.into(),
            kind: "community_group".into(),
            description: description.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

fn base(org: &str, name: &str) -> ActivityInput {
    ActivityInput {
        organisation_id: org.into(),
        name: name.into(),
        description: format!("{name}: come and join in."),
        how_to_join: "drop_in".into(),
        cost: "free".into(),
        types: vec!["choir".into()],
        location_name: format!("{name} Hall"),
        address_1: "1 Test Street".into(),
        city: "Liverpool".into(),
        postcode: "L1 8JQ".into(),
        latitude: "53.41".into(),
        longitude: "-2.99".into(),
        freq: "WEEKLY".into(),
        byday: "TU".into(),
        opens_at: "10:00".into(),
        closes_at: "11:30".into(),
        ..Default::default()
    }
}

async fn add(app: &TestApp, input: &ActivityInput, more: &[ActivityInput]) -> String {
    let v = service::validate(&app.state, input).await.unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    let id = service::insert(&mut tx, &AuditActor::cli(), &v, None, None)
        .await
        .unwrap();
    for m in more {
        let extra = service::validate(&app.state, m).await.unwrap();
        service::add_location(&mut tx, &id, &extra).await.unwrap();
        service::add_schedule(&mut tx, &id, &extra).await.unwrap();
    }
    tx.commit().await.unwrap();
    ensemble::modules::directory::forget_cached(&app.state);
    id
}

/// A directory with every cost kind, every attendance mode, access features, several
/// venues and schedules, several types, contacts and two organisations.
async fn varied() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    let arts = organisation(&app, "Mersey Arts", "Community arts in Liverpool.").await;
    let choirs = organisation(&app, "Wirral Choirs", "").await;
    let mut a = base(&arts, "Alpha Singers");
    a.access_features = vec!["step_free".into(), "hearing_loop".into()];
    a.contact_name = "Ann Example".into();
    a.contact_email = "ann@example.org".into();
    a.url = "https://example.org/alpha".into();
    a.minimum_age = "18".into();
    a.maximum_age = "99".into();
    a.valid_from = "2026-01-05".into();
    a.valid_to = "2026-07-20".into();
    let mut a2 = base(&arts, "Alpha Singers");
    a2.location_name = "Second Hall".into();
    a2.postcode = "CH41 5LH".into();
    a2.latitude = String::new();
    a2.longitude = String::new();
    a2.byday = "TH".into();
    a2.opens_at = "18:00".into();
    a2.closes_at = "19:30".into();
    add(&app, &a, &[a2]).await;
    let mut b = base(&arts, "Bravo Drums");
    (b.cost, b.cost_amount, b.bursary) = ("fixed".into(), "3".into(), true);
    b.online = true;
    b.online_url = "https://example.org/join".into();
    b.types = vec!["drumming".into(), "visual_art".into()];
    (b.freq, b.byday) = ("MONTHLY".into(), "1SA".into());
    add(&app, &b, &[]).await;
    let mut c = base(&choirs, "Charlie Online");
    c.cost = "pay_what_you_can".into();
    c.online = true;
    for f in [
        &mut c.location_name,
        &mut c.address_1,
        &mut c.city,
        &mut c.postcode,
    ] {
        f.clear();
    }
    (c.latitude, c.longitude) = (String::new(), String::new());
    (c.freq, c.byday, c.dtstart) = ("ONCE".into(), String::new(), "2026-03-14".into());
    add(&app, &c, &[]).await;
    let mut d = base(&choirs, "Delta Strings");
    (d.cost, d.cost_amount) = ("fixed".into(), "4.5".into());
    d.access_features = vec!["quiet_space".into()];
    add(&app, &d, &[]).await;
    let mut e = base(&choirs, "Echo Pay What You Can");
    (e.cost, e.bursary) = ("pay_what_you_can".into(), true);
    add(&app, &e, &[]).await;
    sqlx::query("UPDATE activities SET last_reviewed_at = 1767960000 WHERE name = 'Delta Strings'")
        .execute(&app.state.db.write)
        .await
        .unwrap();
    ensemble::modules::directory::forget_cached(&app.state);
    (app, arts, choirs)
}

async fn export(app: &TestApp, list: &str) -> Vec<Value> {
    let r = app
        .client()
        .get(&format!("/openreferral/{list}?per_page=100&full=true"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["contents"].as_array().unwrap().clone()
}

/// Every service as the importer reads a feed: the list, then each `/services/{id}`.
async fn export_one_by_one(app: &TestApp) -> Vec<Value> {
    let mut c = app.client();
    let list = c.get("/openreferral/services?per_page=100").await.json();
    let mut out = Vec::new();
    for s in list["contents"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        out.push(c.get(&format!("/openreferral/services/{id}")).await.json());
    }
    out
}

fn write_temp(name: &str, v: &Value) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ens-oruk-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, serde_json::to_string_pretty(v).unwrap()).unwrap();
    file
}

async fn import(app: &TestApp, file: &std::path::Path) -> import_oruk::ImportReport {
    let docs = import_oruk::read_source(file.to_str().unwrap()).unwrap();
    let r = import_oruk::import_documents(&app.state, import_oruk::SOURCE, docs)
        .await
        .unwrap();
    assert!(r.rejected.is_empty() && r.skipped.is_empty(), "{r:?}");
    r
}

/// Every difference between two JSON values, as paths.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                diff(&format!("{path}.{k}"), va, vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} became {b}")),
        _ => {}
    }
}

fn assert_same(before: &[Value], after: &[Value]) {
    let mut out = Vec::new();
    diff(
        "$",
        &Value::from(before.to_vec()),
        &Value::from(after.to_vec()),
        &mut out,
    );
    assert!(
        out.is_empty(),
        "the round trip changed:\n{}",
        out.join("\n")
    );
}

#[tokio::test]
async fn an_export_imported_into_an_empty_database_exports_the_same_services_fields_and_ids() {
    let (app, _, _) = varied().await;
    let first = export_one_by_one(&app).await;
    assert_eq!(first.len(), 5);
    let fees: Vec<&str> = first.iter().map(|s| s["fees"].as_str().unwrap()).collect();
    for f in [
        "Free",
        "£3.00 (bursary available)",
        "Pay what you can",
        "£4.50",
        "Pay what you can (bursary available)",
    ] {
        assert!(fees.contains(&f), "{f} missing from {fees:?}");
    }
    let modes: Vec<&str> = first
        .iter()
        .flat_map(|s| s["schedules"].as_array().unwrap())
        .map(|s| s["attending_type"].as_str().unwrap())
        .collect();
    for m in ["in_person", "hybrid", "online"] {
        assert!(modes.contains(&m), "{m} missing from {modes:?}");
    }

    let file = write_temp("services.json", &Value::from(first.clone()));
    let empty = TestApp::new().await;
    let report = import(&empty, &file).await;
    assert_eq!(report.created.len(), 5, "{report:?}");
    let second = export_one_by_one(&empty).await;
    assert_same(&first, &second);
    // full=true gives each service as /services/{id} does.
    assert_same(&first, &export(&app, "services").await);
    assert_same(&second, &export(&empty, "services").await);
    let orgs = |app: &TestApp| {
        let mut c = app.client();
        async move { c.get("/openreferral/organizations").await.json() }
    };
    assert_eq!(orgs(&app).await, orgs(&empty).await);
    assert_eq!(
        export(&app, "service_at_locations").await,
        export(&empty, "service_at_locations").await
    );
    // Importing the same file again changes nothing.
    let again = import(&empty, &file).await;
    assert_eq!(again.unchanged.len(), 5, "{again:?}");
    assert_same(&first, &export(&empty, "services").await);
}

#[tokio::test]
async fn a_service_at_location_file_imports_its_service_with_the_venue() {
    let (app, _, _) = varied().await;
    let services = export(&app, "services").await;
    let with_venues: Vec<Value> = services
        .iter()
        .filter(|s| !s["service_at_locations"].as_array().unwrap().is_empty())
        .cloned()
        .collect();
    let sals = export(&app, "service_at_locations").await;
    assert_eq!(sals.len(), 5, "Alpha has two venues, Charlie none");
    // A page of services-at-locations, as the API gives it.
    let page = app
        .client()
        .get("/openreferral/service_at_locations?per_page=100&full=true")
        .await
        .json();
    let empty = TestApp::new().await;
    import(&empty, &write_temp("sal_page.json", &page)).await;
    assert_same(&with_venues, &export(&empty, "services").await);
    // A bare list of them.
    let empty = TestApp::new().await;
    import(
        &empty,
        &write_temp("sal_list.json", &Value::from(sals.clone())),
    )
    .await;
    assert_same(&with_venues, &export(&empty, "services").await);
    // One service-at-location: its service comes with that one venue.
    let one = &sals[0];
    let empty = TestApp::new().await;
    let r = import(&empty, &write_temp("sal.json", one)).await;
    assert_eq!(
        r.created,
        vec![one["service_id"].as_str().unwrap().to_string()]
    );
    let got = export(&empty, "service_at_locations").await;
    assert_eq!(got, vec![one.clone()]);
}

#[tokio::test]
async fn the_hsds_example_service_at_location_imports_naming_what_is_left_out() {
    let Some(shared) = crate::directory::shared_dir() else {
        return;
    };
    let file =
        shared.join("standards/openreferral/hsds-3.0/examples/service_at_location_full.json");
    let app = TestApp::new().await;
    let docs = import_oruk::read_source(file.to_str().unwrap()).unwrap();
    let r = import_oruk::import_documents(&app.state, import_oruk::SOURCE, docs)
        .await
        .unwrap();
    assert_eq!(r.created.len(), 1, "{r:?}");
    let notes: Vec<&str> = r.warnings.iter().map(|(_, n)| n.as_str()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("\"ABC 1234\" is not a UK postcode")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn services_are_filtered_by_organization_id() {
    let (app, arts, choirs) = varied().await;
    let mut c = app.client();
    let names = |v: Value| -> Vec<String> {
        v["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    let r = c
        .get(&format!("/openreferral/services?organization_id={arts}"))
        .await
        .json();
    assert_eq!(names(r.clone()), ["Alpha Singers", "Bravo Drums"], "{r}");
    assert_eq!(r["total_items"], 2);
    let r = c
        .get(&format!(
            "/openreferral/services?organization_id={choirs}&search=delta"
        ))
        .await
        .json();
    assert_eq!(names(r), ["Delta Strings"]);
    let r = c
        .get(&format!(
            "/openreferral/service_at_locations?organization_id={arts}"
        ))
        .await
        .json();
    assert_eq!(r["total_items"], 3, "Alpha's two venues and Bravo's one");
    let r = c
        .get(&format!(
            "/openreferral/services?organization_id={OTHER_ID}"
        ))
        .await
        .json();
    assert_eq!(
        (r["total_items"].as_i64(), r["empty"].as_bool()),
        (Some(0), Some(true))
    );
    // modified_after: everything was changed just now, nothing after next year.
    let r = c
        .get("/openreferral/services?modified_after=2000-01-01")
        .await
        .json();
    assert_eq!(r["total_items"], 5);
    let r = c
        .get("/openreferral/services?modified_after=2999-01-01T00:00:00Z")
        .await
        .json();
    assert_eq!(r["total_items"], 0);
}

fn assert_refused(r: &crate::support::Resp, param: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{param}: {}", r.body);
    assert_eq!(r.headers.get("access-control-allow-origin").unwrap(), "*");
    let detail = r.json()["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.starts_with(&format!("{param}:")),
        "{param}: {detail}"
    );
}

#[tokio::test]
async fn a_page_past_the_last_answers_that_page_empty_and_bad_paging_is_refused_by_name() {
    let (app, _, _) = varied().await;
    let mut c = app.client();
    for list in [
        "services",
        "service_at_locations",
        "taxonomies",
        "taxonomy_terms",
        "organizations",
    ] {
        let first = c
            .get(&format!("/openreferral/{list}?per_page=2"))
            .await
            .json();
        let total = first["total_items"].as_i64().unwrap();
        let pages = first["total_pages"].as_i64().unwrap();
        let past = pages + 4;
        let r = c
            .get(&format!("/openreferral/{list}?per_page=2&page={past}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{list}");
        let v = r.json();
        assert_eq!(v["page_number"], past, "{list}: {v}");
        assert_eq!(
            (v["total_items"].as_i64(), v["total_pages"].as_i64()),
            (Some(total), Some(pages))
        );
        assert_eq!(v["size"], 0);
        assert_eq!(v["contents"], Value::Array(vec![]));
        assert_eq!(
            (
                v["first_page"].as_bool(),
                v["last_page"].as_bool(),
                v["empty"].as_bool()
            ),
            (Some(false), Some(true), Some(true)),
            "{list}"
        );
        for (q, param) in [
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=abc", "page"),
            ("page=1.5", "page"),
            ("page=99999999999", "page"),
            ("per_page=0", "per_page"),
            ("per_page=-3", "per_page"),
            ("per_page=nan", "per_page"),
        ] {
            assert_refused(&c.get(&format!("/openreferral/{list}?{q}")).await, param);
        }
    }
    // A page size above the maximum is treated as the maximum, and the wrapper says so.
    let v = c.get("/openreferral/services?per_page=100000").await.json();
    assert_eq!(
        (v["size"].as_i64(), v["total_pages"].as_i64()),
        (Some(5), Some(1))
    );
}

#[tokio::test]
async fn every_documented_parameter_is_applied_or_refused_by_name() {
    let (app, _, _) = varied().await;
    let mut c = app.client();
    for list in ["services", "service_at_locations"] {
        for (q, param) in [
            ("minimum_age=old", "minimum_age"),
            ("maximum_age=-1", "maximum_age"),
            ("start_time=6pm", "start_time"),
            ("end_time=25:00", "end_time"),
            ("day=Funday", "day"),
            ("modified_after=yesterday", "modified_after"),
            ("full=yes", "full"),
            ("minimal=true", "minimal"),
            ("format=ndjson", "format"),
            ("proximity=5000", "proximity"),
            ("postcode=NOTAPOSTCODE", "postcode"),
        ] {
            assert_refused(&c.get(&format!("/openreferral/{list}?{q}")).await, param);
        }
    }
    let count = |v: Value| v["total_items"].as_i64().unwrap();
    assert_eq!(
        count(c.get("/openreferral/services?day=thursday").await.json()),
        1
    );
    assert_eq!(
        count(
            c.get("/openreferral/services?start_time=17:00:00")
                .await
                .json()
        ),
        1
    );
    assert_eq!(
        count(c.get("/openreferral/services?end_time=11:00").await.json()),
        0
    );
    assert_eq!(
        count(c.get("/openreferral/services?end_time=11:30").await.json()),
        5
    );
    assert_eq!(
        count(c.get("/openreferral/services?minimum_age=100").await.json()),
        4
    );
    let brief = c
        .get("/openreferral/services?minimal=false&format=json")
        .await
        .json();
    assert!(brief["contents"][0].get("schedules").is_none());
}

#[tokio::test]
async fn other_methods_on_every_oruk_route_are_405_with_allow_never_a_csrf_refusal() {
    let app = TestApp::new().await;
    let routes = ensemble::modules::directory::routes();
    let oruk: Vec<&str> = routes
        .iter()
        .map(|r| r.meta.path)
        .filter(|p| p.starts_with("/openreferral/"))
        .collect();
    assert_eq!(oruk.len(), 12);
    let mut c = app.client();
    for path in oruk {
        let uri = path.replace("{id}", OTHER_ID);
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let req = Request::builder()
                .method(method.clone())
                .uri(&uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let r = c.send(req).await;
            assert_eq!(
                r.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}: {}",
                r.body
            );
            let allow = r.headers.get("allow").unwrap().to_str().unwrap();
            assert!(allow.contains("GET") && !allow.contains("POST"), "{allow}");
            assert_eq!(r.headers.get("access-control-allow-origin").unwrap(), "*");
            assert_eq!(
                r.json()["errors"][0]["code"],
                "method_not_allowed",
                "{method} {uri}"
            );
        }
        let req = Request::builder()
            .method(Method::OPTIONS)
            .uri(&uri)
            .body(Body::empty())
            .unwrap();
        let r = c.send(req).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "OPTIONS {uri}");
        assert!(r.headers.get("allow").is_some());
    }
}

/// Every `$ref` in the document points at something in it.
fn refs_resolve(doc: &Value, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                let ptr = r.trim_start_matches('#');
                if doc.pointer(ptr).is_none() {
                    out.push(r.clone());
                }
            }
            m.values().for_each(|x| refs_resolve(doc, x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs_resolve(doc, x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_served_route_with_its_parameters() {
    let app = TestApp::new().await;
    let mut c = app.client();
    let root = c.get("/openreferral/").await.json();
    assert!(
        root["openapi_url"]
            .as_str()
            .unwrap()
            .ends_with("/openreferral/openapi.json")
    );
    let r = c.get("/openreferral/openapi.json").await;
    assert_eq!(r.headers.get("access-control-allow-origin").unwrap(), "*");
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut broken = Vec::new();
    refs_resolve(&doc, &doc, &mut broken);
    assert!(broken.is_empty(), "unresolved: {broken:?}");
    let params_of = |op: &Value| -> Vec<(String, String)> {
        op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| match p.get("$ref").and_then(Value::as_str) {
                        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap().clone(),
                        None => p.clone(),
                    })
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap().to_string(),
                            p["in"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let routes = ensemble::modules::directory::routes();
    for route in routes
        .iter()
        .filter(|r| r.meta.path.starts_with("/openreferral/"))
    {
        let path = &route.meta.path["/openreferral".len()..];
        let op = &doc["paths"][path]["get"];
        assert!(op.is_object(), "{path} is not in the document");
        assert!(op["responses"]["200"]["description"].is_string(), "{path}");
        let params = params_of(op);
        if path.ends_with("{id}") {
            assert!(
                params.contains(&("id".into(), "path".into())),
                "{path}: {params:?}"
            );
            assert!(op["responses"]["404"].is_object(), "{path}");
        }
        let is_list = !path.ends_with("{id}") && !["/", "/openapi.json"].contains(&path);
        if is_list {
            for p in ["page", "per_page"] {
                assert!(
                    params.contains(&(p.into(), "query".into())),
                    "{path} lacks {p}"
                );
            }
            assert!(op["responses"]["400"].is_object(), "{path}");
            let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
            assert!(schema["allOf"].is_array(), "{path}: a page schema");
        }
        // Every query parameter documented is read: a value of the wrong type is refused.
        for (name, _) in params.iter().filter(|(_, at)| at == "query") {
            let bad = match name.as_str() {
                "search" | "taxonomy_term_id" | "taxonomy_id" | "organization_id" => continue,
                "postcode" => "NOTAPOSTCODE",
                "proximity" => "far",
                _ => "not-a-valid-value",
            };
            let r = c.get(&format!("/openreferral{path}?{name}={bad}")).await;
            assert_refused(&r, name);
        }
    }
    // Every filter the UK profile lists for /services and /service_at_locations is documented.
    if let Some(shared) = crate::directory::shared_dir() {
        let profile: Value = serde_json::from_str(
            &std::fs::read_to_string(shared.join(
                "standards/openreferral/oruk-uk-profile-3.0/schema/openapi.local.fixed.json",
            ))
            .unwrap(),
        )
        .unwrap();
        for path in [
            "/services",
            "/service_at_locations",
            "/taxonomies",
            "/taxonomy_terms",
        ] {
            let ours = params_of(&doc["paths"][path]["get"]);
            for p in profile["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap()
            {
                let name = p["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
                assert!(
                    ours.iter().any(|(n, _)| n == name),
                    "{path}: {name} is not documented"
                );
            }
        }
    }
    let services = params_of(&doc["paths"]["/services"]["get"]);
    assert!(services.iter().any(|(n, _)| n == "organization_id"));
}
