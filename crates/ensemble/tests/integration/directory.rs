//! The directory: open-data import, search by postcode and distance, filters, the editor's
//! validation and permissions, and the Open Referral UK API's shapes and errors.

use axum::http::StatusCode;
use ensemble::audit::AuditActor;
use ensemble::modules::directory::model::ActivityInput;
use ensemble::modules::directory::service;
use ensemble::modules::places::import;
use ensemble::rbac::Role;

use crate::support::TestApp;

/// An independent haversine (metres) to check the server's ordering against.
fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let r = 6_371_008.8_f64;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let a = ((p2 - p1) / 2.0).sin().powi(2)
        + p1.cos() * p2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * r * a.sqrt().atan2((1.0 - a).sqrt())
}

const ORIGIN: (f64, f64) = (53.4084, -2.9916); // "L1 8JQ" in the test postcode file

pub async fn load_postcodes(app: &TestApp) {
    let dir = std::env::temp_dir().join(format!("ens-pc-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("postcodes.csv");
    std::fs::write(
        &file,
        "pcds,latitude,longitude,lsoa21cd,lad25cd,lad_nm,doterm\n\
         L1 8JQ,53.4084,-2.9916,E01033758,E08000012,Liverpool,\n\
         CH41 5LH,53.3934,-3.0148,E01007123,E08000015,Wirral,\n\
         WA10 1AA,53.4539,-2.7370,E01006789,E08000013,St Helens,\n\
         L99 9ZZ,53.4,-2.9,,,,200001\n\
         NOT A CODE,53.4,-2.9,,,,\n\
         L2 2AA,99.999999,0,,,,\n",
    )
    .unwrap();
    let r = import::import_postcodes(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    assert_eq!(
        (r.rows, r.stored, r.terminated, r.rejected_count),
        (6, 3, 1, 2),
        "{r:?}"
    );
    assert_eq!(r.rejected[0].0, 6, "line numbers count the header");
    assert!(r.rejected[0].1.contains("NOT A CODE"));
    // A second import changes nothing.
    let before = ensemble::backup::dump_rows(&app.state.db).await.unwrap();
    import::import_postcodes(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    assert_eq!(
        ensemble::backup::dump_rows(&app.state.db).await.unwrap(),
        before
    );
}

#[allow(clippy::too_many_arguments)]
pub async fn activity(
    app: &TestApp,
    org: &str,
    name: &str,
    lat: f64,
    lon: f64,
    cost: &str,
    day: &str,
    access: &[&str],
) -> String {
    activity_of_types(app, org, name, lat, lon, cost, day, access, &["choir"]).await
}

/// An activity listed under the given activity types (taxonomy codes).
#[allow(clippy::too_many_arguments)]
pub async fn activity_of_types(
    app: &TestApp,
    org: &str,
    name: &str,
    lat: f64,
    lon: f64,
    cost: &str,
    day: &str,
    access: &[&str],
    types: &[&str],
) -> String {
    let input = ActivityInput {
        organisation_id: org.into(),
        name: name.into(),
        description: format!("{name} for everyone."),
        how_to_join: "drop_in".into(),
        cost: cost.into(),
        cost_amount: if cost == "fixed" {
            "3".into()
        } else {
            String::new()
        },
        types: types.iter().map(|s| s.to_string()).collect(),
        access_features: access.iter().map(|s| s.to_string()).collect(),
        location_name: format!("{name} Hall"),
        address_1: "1 Test Street".into(),
        city: "Liverpool".into(),
        postcode: "L1 8JQ".into(),
        latitude: lat.to_string(),
        longitude: lon.to_string(),
        freq: "WEEKLY".into(),
        byday: day.into(),
        opens_at: "10:00".into(),
        closes_at: "11:30".into(),
        ..Default::default()
    };
    let v = service::validate(&app.state, &input).await.unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    let id = service::insert(&mut tx, &AuditActor::cli(), &v, None, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn seeded() -> (TestApp, String) {
    let app = TestApp::new().await;
    load_postcodes(&app).await;
    let org = app.org("Sinfonia", "cultural_organisation").await;
    // Distances from the origin: about 0.7 km, 2.2 km, 4.4 km, 1.5 km, 30 km.
    activity(
        &app,
        &org,
        "Alpha Choir",
        53.4140,
        -2.9850,
        "free",
        "TU",
        &["step_free", "hearing_loop"],
    )
    .await;
    activity(
        &app,
        &org,
        "Bravo Drums",
        53.4280,
        -2.9900,
        "fixed",
        "TU",
        &["step_free"],
    )
    .await;
    activity(
        &app,
        &org,
        "Charlie Songs",
        53.3700,
        -2.9600,
        "free",
        "WE",
        &[],
    )
    .await;
    activity(
        &app,
        &org,
        "Delta Strings",
        53.4040,
        -2.9700,
        "pay_what_you_can",
        "TU",
        &["hearing_loop"],
    )
    .await;
    activity(
        &app,
        &org,
        "Echo Far Away",
        53.6500,
        -2.8000,
        "free",
        "TU",
        &["step_free"],
    )
    .await;
    (app, org)
}

#[tokio::test]
async fn postcode_search_orders_by_true_distance_in_html_and_api() {
    let (app, _) = seeded().await;
    let mut c = app.client();
    let page = c
        .get("/activities?postcode=l1+8jq&distance=5&unit=km")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("4 activities within 5.0 km of L1 8JQ"),
        "{}",
        page.body
    );
    let order: Vec<usize> = [
        "Alpha Choir",
        "Delta Strings",
        "Bravo Drums",
        "Charlie Songs",
    ]
    .iter()
    .map(|n| page.body.find(n).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "nearest first");
    assert!(!page.body.contains("Echo Far Away"));

    let r = c
        .get("/openreferral/service_at_locations?postcode=L1%208JQ&proximity=5000")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get("access-control-allow-origin").unwrap(), "*");
    let v = r.json();
    assert_eq!(v["total_items"], 4);
    let d: Vec<f64> = v["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            haversine(
                ORIGIN.0,
                ORIGIN.1,
                c["location"]["latitude"].as_f64().unwrap(),
                c["location"]["longitude"].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
    assert!(d.iter().all(|x| *x <= 5000.0));
}

#[tokio::test]
async fn filters_combine_with_and() {
    let (app, _) = seeded().await;
    let mut c = app.client();
    let page = c.get("/activities?cost=free&day=TU&access=step_free").await;
    assert!(page.body.contains("2 activities"), "{}", page.body);
    assert!(page.body.contains("Alpha Choir") && page.body.contains("Echo Far Away"));
    let page = c
        .get("/activities?cost=free&day=TU&access=step_free&access=hearing_loop")
        .await;
    assert!(
        page.body.contains("1 activity<") || page.body.contains(">1 activity"),
        "{}",
        page.body
    );
    let page = c.get("/activities?q=drums&cost=free").await;
    assert!(page.body.contains("No activities found"));
    // Each suggestion is a link to the same search without one thing asked for.
    assert!(
        page.body.contains("Search without free")
            && page.body.contains("href=\"/activities?cost=free\"")
            && page.body.contains("href=\"/activities?q=drums\""),
        "{}",
        page.body
    );
    let api = c
        .get("/openreferral/services?search=choir&day=TU")
        .await
        .json();
    assert_eq!(api["total_items"], 1);
    assert_eq!(api["contents"][0]["name"], "Alpha Choir");
}

#[tokio::test]
async fn bad_postcodes_get_clear_messages_never_a_500() {
    let (app, _) = seeded().await;
    let mut c = app.client();
    let r = c.get("/activities?postcode=NOTAPOSTCODE").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("href=\"#postcode\"") && r.body.contains("Enter a full UK postcode"));
    let r = c.get("/activities?postcode=M1+1AE").await;
    assert!(r.body.contains("We could not find M1 1AE"), "{}", r.body);
    let r = c.get("/activities?postcode=L1+8JQ&distance=far").await;
    assert!(r.body.contains("Distance must be a number"));
    for q in [
        "postcode=NOTAPOSTCODE",
        "postcode=M1%201AE",
        "postcode=L1%208JQ&proximity=-4",
    ] {
        let r = c
            .get(&format!("/openreferral/service_at_locations?{q}"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(r.json()["errors"][0]["detail"].as_str().unwrap().len() > 10);
    }
}

#[tokio::test]
async fn the_oruk_api_pages_consistently_and_finds_each_item_by_id() {
    let (app, _) = seeded().await;
    let mut c = app.client();
    let root = c.get("/openreferral/").await.json();
    assert_eq!(root["version"], "HSDS-UK-3.0");
    assert!(root["openapi_url"].as_str().unwrap().starts_with("http"));
    let p1 = c
        .get("/openreferral/services?per_page=2&page=1")
        .await
        .json();
    assert_eq!(
        (
            p1["total_items"].as_i64(),
            p1["total_pages"].as_i64(),
            p1["size"].as_i64()
        ),
        (Some(5), Some(3), Some(2))
    );
    assert_eq!(
        (p1["first_page"].as_bool(), p1["last_page"].as_bool()),
        (Some(true), Some(false))
    );
    let p3 = c
        .get("/openreferral/services?per_page=2&page=3")
        .await
        .json();
    assert_eq!(
        (p3["size"].as_i64(), p3["last_page"].as_bool()),
        (Some(1), Some(true))
    );
    // Out-of-range paging is refused by name, and a page past the end answers that page
    // empty (both in detail in tests/integration/oruk.rs).
    let r = c
        .get("/openreferral/services?per_page=-3&page=99999999999")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let past = c
        .get("/openreferral/services?per_page=2&page=9")
        .await
        .json();
    assert_eq!(
        (
            past["page_number"].as_i64(),
            past["size"].as_i64(),
            past["total_pages"].as_i64()
        ),
        (Some(9), Some(0), Some(3)),
        "{past}"
    );
    let high = c.get("/openreferral/services?per_page=100000").await.json();
    assert_eq!(
        (
            high["page_number"].as_i64(),
            high["size"].as_i64(),
            high["total_pages"].as_i64()
        ),
        (Some(1), Some(5), Some(1)),
        "{high}"
    );
    let id = p1["contents"][0]["id"].as_str().unwrap().to_string();
    let full = c.get(&format!("/openreferral/services/{id}")).await.json();
    assert_eq!(full["id"], id.as_str());
    assert!(full["service_at_locations"][0]["location"]["addresses"][0]["postal_code"].is_string());
    let text = serde_json::to_string(&full).unwrap();
    assert!(!text.contains("null"), "no nulls in ORUK output: {text}");
    let sal = full["service_at_locations"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        c.get(&format!("/openreferral/service_at_locations/{sal}"))
            .await
            .json()["service_id"],
        id.as_str()
    );
    let r = c
        .get("/openreferral/services/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["errors"][0]["code"], "not_found");
    let terms = c.get("/openreferral/taxonomy_terms").await.json();
    assert_eq!(terms["total_items"], 11);
    let term_id = |code: &str| {
        terms["contents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["code"] == code)
            .unwrap_or_else(|| panic!("no term {code}: {terms}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Two drumming groups beside the five choirs: the filter finds exactly those listed
    // under the term, and every one it returns carries the term.
    let org: String = sqlx::query_scalar("SELECT id FROM organisations")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    for name in ["Foxtrot Drums", "Golf Beats"] {
        crate::directory::activity_of_types(
            &app,
            &org,
            name,
            53.41,
            -2.99,
            "free",
            "TH",
            &[],
            &["drumming"],
        )
        .await;
    }
    let named = |page: &serde_json::Value| {
        let mut names: Vec<String> = page["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    let has_term = |service: &serde_json::Value, id: &str| {
        service["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["taxonomy_term_id"] == id && a["taxonomy_term"]["id"] == id)
    };
    for (code, expected) in [
        ("drumming", vec!["Foxtrot Drums", "Golf Beats"]),
        (
            "choir",
            vec![
                "Alpha Choir",
                "Bravo Drums",
                "Charlie Songs",
                "Delta Strings",
                "Echo Far Away",
            ],
        ),
        ("visual_art", vec![]),
    ] {
        let id = term_id(code);
        let r = c
            .get(&format!("/openreferral/services?taxonomy_term_id={id}"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let page = r.json();
        assert_eq!(named(&page), expected, "{code}");
        assert_eq!(page["total_items"], expected.len(), "{code}");
        for listed in page["contents"].as_array().unwrap() {
            let service = c
                .get(&format!(
                    "/openreferral/services/{}",
                    listed["id"].as_str().unwrap()
                ))
                .await
                .json();
            assert!(has_term(&service, &id), "{code}: {service}");
        }
    }
    assert_eq!(
        c.get("/openreferral/organizations").await.json()["total_items"],
        1
    );
}

#[tokio::test]
async fn programme_managers_edit_only_their_own_listings_and_every_change_is_audited() {
    let (app, org) = seeded().await;
    let other = app.org("Other Org", "community_group").await;
    let (email, password, _) = app.user(Role::ProgrammeManager, &org).await;
    let mut pm = app.client();
    pm.sign_in(&email, &password).await;
    // Validation names each field and stores nothing.
    let before = app.count("SELECT COUNT(*) FROM activities").await;
    let r = pm
        .submit(
            "/manage/activities/new",
            "/manage/activities/new",
            &[
                ("organisation_id", &org),
                ("name", ""),
                ("cost", "fixed"),
                ("postcode", "ZZZ"),
                ("location_name", "Hall"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in [
        "name",
        "description",
        "how_to_join",
        "cost_amount",
        "types",
        "postcode",
    ] {
        assert!(r.body.contains(&format!("href=\"#{f}\"")), "{f}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM activities").await, before);
    // Not for an organisation they do not manage.
    let r = pm
        .submit(
            "/manage/activities/new",
            "/manage/activities/new",
            &[("organisation_id", &other), ("name", "X")],
        )
        .await;
    assert!(r.body.contains("Choose an organisation you manage"));
    // A good one, looked up by postcode.
    let r = pm
        .submit(
            "/manage/activities/new",
            "/manage/activities/new",
            &[
                ("organisation_id", &org),
                ("name", "Foxtrot Folk"),
                ("description", "Folk songs."),
                ("how_to_join", "self_refer"),
                ("cost", "free"),
                ("types", "choir"),
                ("location_name", "Library"),
                ("address_1", "2 Road"),
                ("city", "Birkenhead"),
                ("postcode", "ch41 5lh"),
                ("freq", "MONTHLY"),
                ("byday", "1SA"),
                ("opens_at", "14:00"),
                ("closes_at", "15:30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = r.location().trim_start_matches("/activities/").to_string();
    let page = pm.get(&format!("/activities/{id}")).await;
    assert!(
        page.body
            .contains("The first Saturday of every month, 14:00 to 15:30")
            && page.body.contains("CH41 5LH")
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'activity.create' AND entity_id = '{id}'"
        ))
        .await,
        1
    );
    let near = "/openreferral/service_at_locations?postcode=L1%208JQ&proximity=5000";
    assert!(
        pm.get(near).await.body.contains("Foxtrot Folk"),
        "listed before archiving"
    );
    // Review, archive: gone from search and the API.
    assert_eq!(
        pm.submit(
            &format!("/manage/activities/{id}"),
            &format!("/manage/activities/{id}/review"),
            &[]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        pm.submit(
            &format!("/manage/activities/{id}"),
            &format!("/manage/activities/{id}/archive"),
            &[]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        pm.get(&format!("/activities/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        pm.get(&format!("/openreferral/services/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !pm.get(near).await.body.contains("Foxtrot Folk"),
        "archived: gone from distance search"
    );
    assert!(
        !pm.get("/activities?postcode=L1+8JQ&distance=10")
            .await
            .body
            .contains("Foxtrot Folk")
    );
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{id}' AND action IN ('activity.review', 'activity.archive')")).await, 2);
    // Another organisation's programme manager is refused.
    let (e2, p2, _) = app.user(Role::ProgrammeManager, &other).await;
    let mut pm2 = app.client();
    pm2.sign_in(&e2, &p2).await;
    assert_eq!(
        pm2.get(&format!("/manage/activities/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_map_view_draws_an_svg_with_a_title_and_the_same_results_as_a_list() {
    let (app, _) = seeded().await;
    let r = app
        .client()
        .get("/activities?postcode=L1+8JQ&view=map")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("<svg")
            && r.body.contains("<title id=\"map-title\">")
            && r.body.contains("<desc id=\"map-desc\">")
    );
    assert!(
        r.body
            .contains("<ol class=\"nhsuk-list nhsuk-list--number\">")
    );
    let print = app.client().get("/activities?view=print").await;
    assert!(
        print.body.contains("Activities (printable list)") && print.body.contains("Echo Far Away")
    );
}

pub fn shared_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::var("ENSEMBLE_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
        });
    if dir.join("standards/openreferral").is_dir() {
        return Some(dir);
    }
    if std::env::var("ENSEMBLE_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!(
            "ENSEMBLE_REQUIRE_SHARED=1 but the shared reference folder is missing: {}",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPING: shared reference data not found at {} (set ENSEMBLE_SHARED_DIR)",
        dir.display()
    );
    None
}

#[tokio::test]
async fn the_validator_default_samples_import_cleanly_and_again_change_nothing() {
    use ensemble::modules::directory::import_oruk;
    let Some(shared) = shared_dir() else { return };
    let app = TestApp::new().await;
    let dir = shared.join("standards/openreferral/oruk-validator-v3.0-uk/mocks/V3.0-UK-Default");
    let docs = import_oruk::read_source(dir.to_str().unwrap()).unwrap();
    let r = import_oruk::import_documents(&app.state, "mocks", docs.clone())
        .await
        .unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert!(!r.created.is_empty(), "{r:?}");
    let audit = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'activity.create' AND actor_label = 'import'").await;
    assert_eq!(audit as usize, r.created.len());
    let again = import_oruk::import_documents(&app.state, "mocks", docs)
        .await
        .unwrap();
    assert!(
        again.created.is_empty() && again.updated.is_empty(),
        "{again:?}"
    );
    assert_eq!(again.unchanged.len(), r.created.len() + r.unchanged.len());
    // Each imported service is served back through the API under its Ensemble id, with
    // what was imported.
    let mut c = app.client();
    let mut served = Vec::new();
    for source_id in &r.created {
        let id: String = sqlx::query_scalar(
            "SELECT id FROM activities WHERE source = 'mocks' AND source_id = $1",
        )
        .bind(source_id.clone())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
        let res = c.get(&format!("/openreferral/services/{id}")).await;
        assert_eq!(res.status, StatusCode::OK, "{source_id}: {}", res.body);
        let service = res.json();
        assert_eq!(service["id"], id.as_str());
        served.push(service);
    }
    // The validator's full service sample comes back with its own name and description.
    let sample: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("service_full.json")).unwrap())
            .unwrap();
    let service = served
        .iter()
        .find(|s| s["name"] == sample["name"])
        .unwrap_or_else(|| panic!("{} was not served: {served:?}", sample["name"]));
    // Text is stored trimmed.
    assert_eq!(
        service["description"].as_str(),
        sample["description"].as_str().map(str::trim)
    );
    assert!(service["service_at_locations"].is_array());
}

#[tokio::test]
async fn the_validator_fail_samples_are_rejected_with_named_reasons() {
    use ensemble::modules::directory::import_oruk;
    let Some(shared) = shared_dir() else { return };
    let app = TestApp::new().await;
    let dir = shared.join("standards/openreferral/oruk-validator-v3.0-uk/mocks/V3.0-UK-Fail");
    let one = |f: &str| import_oruk::read_source(dir.join(f).to_str().unwrap()).unwrap();
    let r = import_oruk::import_documents(&app.state, "fail", one("service_full.json"))
        .await
        .unwrap();
    let reasons = r
        .rejected
        .iter()
        .flat_map(|(_, rs)| rs.iter())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        reasons.contains("email:") && reasons.contains("url:"),
        "{reasons}"
    );
    let r = import_oruk::import_documents(&app.state, "fail", one("service_list.json"))
        .await
        .unwrap();
    assert_eq!(r.rejected.len(), 4, "{r:?}");
    assert!(
        r.rejected
            .iter()
            .all(|(_, rs)| rs.iter().any(|x| x.starts_with("name:")))
    );
    for f in ["api_details.json", "taxonomy_term.json"] {
        let r = import_oruk::import_documents(&app.state, "fail", one(f))
            .await
            .unwrap();
        assert!(r.created.is_empty() && r.skipped.len() == 1, "{f}: {r:?}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activities").await,
        0,
        "nothing half-written"
    );
}

#[tokio::test]
async fn practitioners_opt_in_to_a_public_profile_that_lists_what_they_lead() {
    let (app, org) = seeded().await;
    let (p_email, p_pass, p_id) = app.user(Role::Practitioner, &org).await;
    let mut prac = app.client();
    prac.sign_in(&p_email, &p_pass).await;
    // Not public yet.
    assert_eq!(
        app.client()
            .get(&format!("/practitioners/{p_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = prac
        .submit(
            "/account/profile",
            "/account/profile",
            &[("public", "yes"), ("bio", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("href=\"#bio\""));
    let r = prac
        .submit(
            "/account/profile",
            "/account/profile",
            &[
                ("public", "yes"),
                ("bio", "I play the cello on wards."),
                ("instruments", "Cello"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'practitioner_profile.update' AND entity_id = '{p_id}'")).await, 1);
    // A programme manager of the organisation makes them the lead of an activity.
    let (m_email, m_pass, _) = app.user(Role::ProgrammeManager, &org).await;
    let mut pm = app.client();
    pm.sign_in(&m_email, &m_pass).await;
    let r = pm
        .submit(
            "/manage/activities/new",
            "/manage/activities/new",
            &[
                ("organisation_id", &org),
                ("name", "Golf Cello Club"),
                ("description", "Cellos."),
                ("how_to_join", "drop_in"),
                ("cost", "free"),
                ("types", "music_group"),
                ("online", "yes"),
                ("practitioners", &p_id),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let activity = r.location().to_string();
    let page = app.client().get(&activity).await;
    assert!(page.body.contains("Led by") && page.body.contains(&format!("/practitioners/{p_id}")));
    let profile = app.client().get(&format!("/practitioners/{p_id}")).await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(profile.body.contains("Golf Cello Club") && profile.body.contains("Cello"));
    assert!(
        app.client()
            .get("/practitioners")
            .await
            .body
            .contains(&format!("/practitioners/{p_id}"))
    );
    // Someone who is not a practitioner of the organisation cannot be made a lead.
    let (_, _, outsider) = app
        .user(
            Role::Practitioner,
            &app.org("Elsewhere", "community_group").await,
        )
        .await;
    let r = pm
        .submit(
            "/manage/activities/new",
            "/manage/activities/new",
            &[
                ("organisation_id", &org),
                ("name", "Hotel Harps"),
                ("description", "Harps."),
                ("how_to_join", "drop_in"),
                ("cost", "free"),
                ("types", "music_group"),
                ("online", "yes"),
                ("practitioners", &outsider),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("is not a practitioner of this organisation")
    );
}

#[tokio::test]
async fn editing_keeps_other_venues_and_the_edited_venue_keeps_its_id_and_position() {
    let (app, org) = seeded().await;
    let (email, password, _) = app.user(Role::ProgrammeManager, &org).await;
    let id: String = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM activities WHERE name = 'Alpha Choir'")
            .fetch_one(&app.state.db.read)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    };
    // A second venue.
    let second = ActivityInput {
        organisation_id: org.clone(),
        name: "x".into(),
        description: "x".into(),
        how_to_join: "drop_in".into(),
        cost: "free".into(),
        types: vec!["choir".into()],
        location_name: "Second Hall".into(),
        address_1: "2 Street".into(),
        city: "Wallasey".into(),
        postcode: "CH41 5LH".into(),
        ..Default::default()
    };
    let v = service::validate(&app.state, &second).await.unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    service::add_location(&mut tx, &id, &v).await.unwrap();
    tx.commit().await.unwrap();
    let before = app
        .count(&format!(
            "SELECT COUNT(*) FROM activity_locations WHERE activity_id = '{id}'"
        ))
        .await;
    assert_eq!(before, 2);
    let mut pm = app.client();
    pm.sign_in(&email, &password).await;
    // Warm the search snapshot with the old name.
    let search = "/activities?postcode=L1+8JQ&distance=5&unit=km";
    assert!(pm.get(search).await.body.contains("Alpha Choir<"));
    let form = pm.get(&format!("/manage/activities/{id}")).await;
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = form.body.find(&marker).map(|i| i + marker.len()).unwrap();
        form.body[start..start + form.body[start..].find('"').unwrap()].to_string()
    };
    let (loc_id, sched_id) = (field("location_id"), field("schedule_id"));
    assert!(!loc_id.is_empty() && !sched_id.is_empty());
    let r = pm
        .post_form(
            &format!("/manage/activities/{id}"),
            &[
                ("csrf_token", &form.csrf()),
                ("name", "Alpha Choir Renamed"),
                ("description", "Still singing."),
                ("how_to_join", "drop_in"),
                ("cost", "free"),
                ("types", "choir"),
                ("location_id", &loc_id),
                ("schedule_id", &sched_id),
                ("location_name", "Alpha Hall"),
                ("address_1", "1 Test Street"),
                ("city", "Liverpool"),
                ("postcode", "L1 8JQ"),
                ("freq", "WEEKLY"),
                ("byday", "TH"),
                ("opens_at", "18:00"),
                ("closes_at", "19:30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM activity_locations WHERE activity_id = '{id}'"
        ))
        .await,
        2,
        "the other venue stays"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM locations WHERE id = '{loc_id}' AND latitude IS NOT NULL"
        ))
        .await,
        1,
        "same id, position kept"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM schedules WHERE id = '{sched_id}' AND byday = 'TH'"
        ))
        .await,
        1
    );
    assert!(
        pm.get(search).await.body.contains("Alpha Choir Renamed"),
        "search sees the change at once"
    );
    let page = pm.get(&format!("/activities/{id}")).await;
    assert!(
        page.body.contains("Alpha Choir Renamed")
            && page.body.contains("Every Thursday, 18:00 to 19:30")
            && page.body.contains("Second Hall")
    );
    // The schedule is chosen in words: ticked days and the week of the month, and the editor
    // shows them ticked again; dates use the browser's date picker.
    let form = pm.get(&format!("/manage/activities/{id}")).await;
    assert!(form.body.contains("Which days") && form.body.contains("Which week of the month"));
    assert!(
        !form.body.contains("1SA for the first Saturday"),
        "no codes to type"
    );
    assert!(form.body.contains("type=\"date\""));
    let r = pm
        .post_form(
            &format!("/manage/activities/{id}"),
            &[
                ("csrf_token", &form.csrf()),
                ("name", "Alpha Choir Renamed"),
                ("description", "Still singing."),
                ("how_to_join", "drop_in"),
                ("cost", "free"),
                ("types", "choir"),
                ("location_id", &loc_id),
                ("schedule_id", &sched_id),
                ("location_name", "Alpha Hall"),
                ("address_1", "1 Test Street"),
                ("city", "Liverpool"),
                ("postcode", "L1 8JQ"),
                ("freq", "MONTHLY"),
                ("byday", "SA"),
                ("byday", "SU"),
                ("week", "1"),
                ("opens_at", "10:00"),
                ("closes_at", "12:00"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM schedules WHERE id = '{sched_id}' AND byday = '1SA,1SU'"
        ))
        .await,
        1
    );
    let form = pm.get(&format!("/manage/activities/{id}")).await;
    assert!(
        form.body.contains("value=\"SA\" checked") && form.body.contains("value=\"SU\" checked"),
        "ticked again"
    );
    assert!(
        form.body.contains("value=\"1\" selected"),
        "first week chosen"
    );
}

#[tokio::test]
async fn hostile_inputs_get_a_400_naming_the_parameter_never_a_500() {
    let (app, org) = seeded().await;
    let mut c = app.client();
    for q in [
        "/activities?q=abc%5C",
        "/openreferral/services?search=x%00y",
    ] {
        let r = c.get(q).await;
        assert!(r.status.is_success(), "{q}: {}", r.status);
    }
    for q in [
        "/openreferral/taxonomies?per_page=nan",
        "/openreferral/services?page=nan&per_page=inf",
        "/openreferral/services?minimum_age=NaN",
    ] {
        let r = c.get(q).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(r.json()["errors"][0]["detail"].is_string(), "{q}");
    }
    let (email, password, _) = app.user(Role::ProgrammeManager, &org).await;
    let mut pm = app.client();
    pm.sign_in(&email, &password).await;
    let r = pm
        .submit(
            "/manage/activities/new",
            "/manage/activities/new",
            &[
                ("organisation_id", &org),
                ("name", "Euro"),
                ("description", "x"),
                ("how_to_join", "drop_in"),
                ("cost", "free"),
                ("types", "choir"),
                ("online", "yes"),
                ("freq", "WEEKLY"),
                ("byday", "€"),
                ("opens_at", "10:00"),
                ("closes_at", "11:00"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("href=\"#byday\""));
}

#[tokio::test]
async fn activities_of_an_archived_organisation_are_not_public() {
    let (app, org) = seeded().await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let id: String = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM activities WHERE name = 'Alpha Choir'")
            .fetch_one(&app.state.db.read)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    };
    assert_eq!(
        app.client().get(&format!("/activities/{id}")).await.status,
        StatusCode::OK
    );
    let r = admin
        .submit(
            &format!("/admin/organisations/{org}"),
            &format!("/admin/organisations/{org}"),
            &[
                ("name", "Sinfonia"),
                ("kind", "cultural_organisation"),
                ("archived", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mut c = app.client();
    assert_eq!(
        c.get(&format!("/activities/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get(&format!("/openreferral/services/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !c.get("/activities?postcode=L1+8JQ&distance=10&unit=km")
            .await
            .body
            .contains("Alpha Choir")
    );
}
