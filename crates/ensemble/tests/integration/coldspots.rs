//! Provision, cold spots and maps (issue 16 items 4 and 6): distances checked against an
//! independent haversine, the ranking reproduced from its own CSV, filters, provision per
//! 10,000 residents, the choropleth's links and text alternatives, and bad input.

use axum::http::StatusCode;
use ensemble::audit::AuditActor;
use ensemble::modules::accounts::service::{OrganisationInput, create_organisation_as_operator};
use ensemble::modules::areas::{Edition, import, provision, summary};
use ensemble::modules::directory::model::ActivityInput;
use ensemble::modules::directory::service;
use ensemble::modules::places::boundaries;

use crate::directory::shared_dir;
use crate::support::TestApp;

/// The test's own haversine (R = 6371.0088 km), written independently of the module's.
fn reference_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let r = 6371.0088_f64;
    let (φ1, φ2) = (lat1.to_radians(), lat2.to_radians());
    let (dφ, dλ) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let a = (dφ / 2.0).sin() * (dφ / 2.0).sin()
        + φ1.cos() * φ2.cos() * (dλ / 2.0).sin() * (dλ / 2.0).sin();
    r * 2.0 * a.sqrt().atan2((1.0 - a).sqrt())
}

struct Spot {
    lat: f64,
    lon: f64,
}

fn input(org: &str, name: &str, at: &Spot) -> ActivityInput {
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
        latitude: at.lat.to_string(),
        longitude: at.lon.to_string(),
        freq: "WEEKLY".into(),
        byday: "TU".into(),
        opens_at: "10:00".into(),
        closes_at: "11:30".into(),
        ..Default::default()
    }
}

async fn add(app: &TestApp, i: &ActivityInput) -> String {
    let v = service::validate(&app.state, i).await.unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    let id = service::insert(&mut tx, &AuditActor::cli(), &v, None, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ensemble::modules::directory::forget_cached(&app.state);
    id
}

fn parse_csv(body: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn num(row: &std::collections::HashMap<String, String>, k: &str) -> f64 {
    row[k]
        .parse()
        .unwrap_or_else(|_| panic!("{k}: {:?}", row[k]))
}

/// The stated order: decile ascending, distance descending (blank = furthest), IMD rank
/// ascending, LSOA code.
fn by_stated_rule(
    a: &std::collections::HashMap<String, String>,
    b: &std::collections::HashMap<String, String>,
) -> std::cmp::Ordering {
    let d = |r: &std::collections::HashMap<String, String>| {
        r["distance_km"].parse::<f64>().unwrap_or(f64::INFINITY)
    };
    num(a, "imd_decile")
        .total_cmp(&num(b, "imd_decile"))
        .then(d(b).total_cmp(&d(a)))
        .then(num(a, "imd_rank").total_cmp(&num(b, "imd_rank")))
        .then(a["lsoa_code"].cmp(&b["lsoa_code"]))
}

/// One import of the city region's IoD2025 rows, lookups, centroids and ward boundaries,
/// shared by every assertion that needs data.
#[tokio::test]
async fn coldspots_distances_ranking_filters_provision_and_map_from_the_shared_data() {
    let Some(shared) = shared_dir() else { return };
    let d = shared.join("data");
    let app = TestApp::new().await;
    for f in [
        "iod2025/IoD2025_File7_all_columns_lsoa21_LCR.csv",
        "geo/lsoa21_to_ward24_lad24_ew.csv.gz",
        "geo/lsoa21_population_weighted_centroids_lcr.csv",
    ] {
        let (_, report) = import::import_file(&app.state.db, &d.join(f), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(report.rejected_count, 0, "{f}: {:?}", report.rejected);
    }
    summary::refresh(&app.state.db, Edition::Iod2025)
        .await
        .unwrap();
    boundaries::import_wards(
        &app.state.db,
        &d.join("geo/lcr_wards_may2025_boundaries_bgc.geojson"),
        |_| {},
    )
    .await
    .unwrap();

    let org = create_organisation_as_operator(
        &app.state,
        &OrganisationInput {
            name: "Mersey Arts".into(),
            kind: "community_group".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    // A: free, step-free, Tuesday mornings (1.5 h a week) in Liverpool city centre.
    let a_at = Spot {
        lat: 53.4055,
        lon: -2.9810,
    };
    let mut a = input(&org, "Alpha Singers", &a_at);
    a.access_features = vec!["step_free".into()];
    let a_id = add(&app, &a).await;
    // B: paid, Saturday evenings 18:00-20:00 (2 h a week) in Birkenhead.
    let b_at = Spot {
        lat: 53.3900,
        lon: -3.0250,
    };
    let mut b = input(&org, "Beta Painters", &b_at);
    b.cost = "fixed".into();
    b.cost_amount = "3.50".into();
    b.byday = "SA".into();
    b.opens_at = "18:00".into();
    b.closes_at = "20:00".into();
    let b_id = add(&app, &b).await;
    let spots = [(a_id.clone(), &a_at), (b_id.clone(), &b_at)];

    let mut c = app.client();
    // Any activity: distances agree with the reference, the nearest is the right one.
    let resp = c.get("/areas/cold-spots.csv?edition=2025").await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert!(
        resp.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let rows = parse_csv(&resp.body);
    assert!(rows.len() > 900, "city-region LSOAs: {}", rows.len());
    for r in &rows {
        for k in [
            "lsoa_code",
            "lsoa_name",
            "ward",
            "district",
            "imd_decile",
            "imd_rank",
            "population",
            "centroid_lat",
            "centroid_lon",
            "nearest_activity_id",
            "distance_km",
        ] {
            assert!(r.contains_key(k), "{k}");
        }
        let (lat, lon) = (num(r, "centroid_lat"), num(r, "centroid_lon"));
        let (best_id, best) = spots
            .iter()
            .map(|(id, s)| (id, reference_km(lat, lon, s.lat, s.lon)))
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .unwrap();
        assert!(
            (num(r, "distance_km") - best).abs() < 0.0011,
            "{}: {} vs {best}",
            r["lsoa_code"],
            r["distance_km"]
        );
        assert_eq!(&r["nearest_activity_id"], best_id, "{}", r["lsoa_code"]);
    }
    // The ranking is reproducible from the CSV by the stated rule.
    let mut sorted = rows.clone();
    sorted.sort_by(by_stated_rule);
    let order = |v: &[std::collections::HashMap<String, String>]| {
        v.iter().map(|r| r["lsoa_code"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(order(&sorted), order(&rows));
    assert_eq!(rows[0]["rank"], "1");
    assert_eq!(rows[0]["imd_decile"], "1");

    // Filters: free and step-free find only A; evening and weekend only B.
    for (filter, want) in [
        ("free", &a_id),
        ("step_free", &a_id),
        ("evening", &b_id),
        ("weekend", &b_id),
        ("evening,weekend", &b_id),
    ] {
        let resp = c
            .get(&format!(
                "/api/v1/areas/cold-spots?edition=2025&filter={filter}"
            ))
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{filter}: {}", resp.body);
        let j = resp.json();
        let rows = j["rows"].as_array().unwrap();
        assert!(rows.len() > 900);
        assert!(
            rows.iter()
                .all(|r| r["nearest_activity_id"] == want.as_str()),
            "{filter}"
        );
    }
    // Free and evening: nothing qualifies, so every distance is empty.
    let j = c
        .get("/api/v1/areas/cold-spots?filter=free,evening")
        .await
        .json();
    assert!(
        j["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["distance_km"].is_null())
    );
    assert_eq!(j["edition"], 2025);

    // Provision: 1.5 + 2 weekly hours, two activities, each counted once.
    let p = provision::for_edition(&app.state, Edition::Iod2025)
        .await
        .unwrap();
    assert_eq!(p.total.activities, 2);
    assert!(
        (p.total.weekly_hours - 3.5).abs() < 1e-9,
        "{}",
        p.total.weekly_hours
    );
    assert_eq!(p.by_decile.len(), 10);
    assert_eq!(p.by_decile.iter().map(|r| r.activities).sum::<i64>(), 2);
    assert_eq!(
        p.by_decile.iter().map(|r| r.population).sum::<i64>(),
        p.total.population
    );
    let t = &p.total;
    assert!((t.activities_per_10k - 2.0 * 10_000.0 / t.population as f64).abs() < 1e-9);
    assert!(p.total.population > 1_000_000, "{}", p.total.population);
    assert_eq!(p.by_ward.iter().map(|r| r.activities).sum::<i64>(), 2);
    let page = c.get("/areas/provision").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Decile 1 (most deprived)"));
    assert!(page.body.contains("not personal data"));

    let page = c.get("/areas/cold-spots?filter=step_free").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Alpha Singers"));
    assert!(!page.body.contains("Beta Painters"));
    assert!(
        page.body
            .contains("/areas/cold-spots.csv?edition=2025&amp;filter=step_free")
    );

    // Maps: a title, a description, a link per ward to its table row, numbered classes (a
    // group, not an image, since it holds links).
    for of in ["deprivation", "provision"] {
        let page = c.get(&format!("/areas/map?of={of}")).await;
        assert_eq!(page.status, StatusCode::OK, "{of}");
        let b = &page.body;
        assert!(b.contains("<title id=\"area-map-title\">"), "{of}");
        assert!(b.contains("<desc id=\"area-map-desc\">"), "{of}");
        let links = b.matches("<a href=\"#ward-").count();
        assert!(links > 100, "{of}: {links} ward links");
        assert_eq!(
            links,
            b.matches("<tr class=\"nhsuk-table__row\" id=\"ward-")
                .count()
        );
        assert!(b.contains("aria-label=\""), "{of}");
        assert!(
            b.contains("role=\"group\" aria-labelledby=\"area-map-title\""),
            "{of}"
        );
        assert!(b.contains("viewBox=\"0 0 800 640\""));
        assert!(!b.contains("Most wards have no data"), "{of}");
    }

    // Activities within reach on the small-area and ward profiles: every LSOA whose centroid
    // is within 1.6 km of Alpha (by the reference haversine) lists it with that distance,
    // and no LSOA further away does.
    let near: Vec<_> = rows
        .iter()
        .map(|r| {
            let km = reference_km(
                num(r, "centroid_lat"),
                num(r, "centroid_lon"),
                a_at.lat,
                a_at.lon,
            );
            (r["lsoa_code"].clone(), km)
        })
        .collect();
    let inside = near
        .iter()
        .filter(|(_, km)| *km <= 1.6)
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap();
    let page = c.get(&format!("/areas/lsoas/{}", inside.0)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Activities within reach"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!("/activities/{a_id}")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!("{:.1} km", inside.1)),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("1.5 hours of sessions a week"),
        "{}",
        page.body
    );
    let outside = near.iter().find(|(_, km)| *km > 1.7).unwrap();
    let page = c.get(&format!("/areas/lsoas/{}", outside.0)).await;
    assert!(
        !page.body.contains(&format!("/activities/{a_id}")),
        "{}",
        outside.0
    );
    // The profile's venues are kept per directory version: a new activity shows at once.
    let o = rows.iter().find(|r| r["lsoa_code"] == outside.0).unwrap();
    let g_at = Spot {
        lat: num(o, "centroid_lat"),
        lon: num(o, "centroid_lon"),
    };
    let g_id = add(&app, &input(&org, "Gamma Drummers", &g_at)).await;
    let page = c.get(&format!("/areas/lsoas/{}", outside.0)).await;
    assert!(
        page.body.contains(&format!("/activities/{g_id}")),
        "{}",
        page.body
    );
    assert!(page.body.contains("0.0 km"), "{}", page.body);
}

/// Unknown filters, editions and map kinds are clear 400s naming the value; with nothing
/// imported the pages still answer.
#[tokio::test]
async fn coldspots_bad_input_is_a_400_naming_the_value() {
    let app = TestApp::new().await;
    let mut c = app.client();
    for (path, want) in [
        ("/areas/cold-spots?filter=cheap", "cheap"),
        ("/areas/cold-spots.csv?filter=free,cheap", "cheap"),
        ("/areas/cold-spots?edition=2020", "2020"),
        ("/areas/provision?edition=2011", "2011"),
        ("/areas/map?of=rainfall", "rainfall"),
        ("/areas/map?edition=x", "x"),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            r.body.contains(&format!("&quot;{want}&quot;"))
                || r.body.contains(&format!("\"{want}\"")),
            "{path}: {}",
            r.body
        );
    }
    let r = c.get("/api/v1/areas/cold-spots?filter=cheap").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let j = r.json();
    assert_eq!(j["errors"][0]["field"], "filter");
    assert!(
        j["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("\"cheap\"")
    );
    let r = c.get("/api/v1/areas/cold-spots?edition=2020").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"][0]["field"], "edition");
    for path in [
        "/areas/provision",
        "/areas/cold-spots",
        "/areas/map",
        "/areas/map?of=provision",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
    }
    let r = c.get("/areas/cold-spots.csv").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(parse_csv(&r.body).len(), 0);
    assert!(c.get("/areas").await.body.contains("/areas/cold-spots"));
}
