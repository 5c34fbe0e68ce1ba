//! Both LSOA geographies (issue 16 items 1-4 and 6): postcodes, people and venues carry the
//! LSOA 2021 and the LSOA 2011 code; LSOA boundaries of both editions are imported beside
//! the wards; a venue is placed by point-in-polygon, not by the nearest centroid; the
//! deprivation map is drawn per small area of the edition; a code of the other edition's
//! geography is named with its matches. All from the real shared files (skipped, loudly,
//! without them).

use std::path::PathBuf;

use axum::http::StatusCode;
use ensemble::audit::AuditActor;
use ensemble::modules::accounts::service::{OrganisationInput, create_organisation_as_operator};
use ensemble::modules::areas::{Edition, import, provision};
use ensemble::modules::directory::model::ActivityInput;
use ensemble::modules::directory::{service, venue_areas};
use ensemble::modules::people::service::PersonInput;
use ensemble::modules::places::{self, Postcode, small_areas};
use sqlx::Row;

use crate::directory::shared_dir;
use crate::support::TestApp;

async fn org(app: &TestApp) -> String {
    create_organisation_as_operator(
        &app.state,
        &OrganisationInput {
            name: "Mersey Arts".into(),
            kind: "community_group".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

async fn person(app: &TestApp, team: &str, postcode: &str) -> String {
    let valid = PersonInput {
        given_name: "Sam".into(),
        family_name: "Areas".into(),
        postcode: postcode.into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    let id = ensemble::modules::people::service::create(&mut tx, &app.state, team, &valid)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

type Codes = (Option<String>, Option<String>);

async fn person_codes(app: &TestApp, id: &str) -> Codes {
    let r =
        sqlx::query("SELECT lsoa_code, lsoa11_code FROM person_identities WHERE person_id = $1")
            .bind(id.to_string())
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
    (r.get("lsoa_code"), r.get("lsoa11_code"))
}

fn some(a: &str, b: &str) -> Codes {
    (Some(a.into()), Some(b.into()))
}

async fn postcode(app: &TestApp, pc: &str) -> Codes {
    let p = places::find_postcode(&app.state.db, &Postcode::parse(pc).unwrap())
        .await
        .unwrap()
        .unwrap();
    (p.lsoa_code, p.lsoa11_code)
}

async fn import_postcodes(
    app: &TestApp,
    f: &std::path::Path,
) -> ensemble::modules::places::import::ImportReport {
    ensemble::modules::places::import::import_postcodes(&app.state.db, f, |_| {})
        .await
        .unwrap()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ens-geo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f
}

#[tokio::test]
async fn geo_postcodes_and_people_carry_both_lsoa_codes_from_the_shared_files() {
    let Some(shared) = shared_dir() else { return };
    let d = shared.join("data/postcodes");
    let app = TestApp::new().await;
    let team = org(&app).await;
    // Saved before the postcode data is there: no small areas yet.
    let early = person(&app, &team, "CH41 2TX").await;
    assert_eq!(person_codes(&app, &early).await, (None, None));

    let file = d.join("lcr_postcodes_lsoa21.csv.gz");
    let r = import_postcodes(&app, &file).await;
    assert_eq!((r.rows, r.rejected_count), (64_287, 0), "{:?}", r.rejected);
    // The official ONS May 2022 LSOA 2011, not the point-in-polygon one (E01007239)...
    assert_eq!(
        postcode(&app, "CH41 2TX").await,
        some("E01007129", "E01007129")
    );
    // ...except where the ONS lookup has none (a newer postcode): then the polygon's.
    assert_eq!(
        postcode(&app, "CH25 9FS").await,
        some("E01034838", "E01007126")
    );
    // Existing people are brought up to date (one audit row), once.
    let changed = ensemble::modules::people::area_facts::refresh_small_areas(&app.state)
        .await
        .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(
        person_codes(&app, &early).await,
        some("E01007129", "E01007129")
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'person.small_areas.update'",
    )
    .fetch_one(&app.state.db.read)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    assert_eq!(
        ensemble::modules::people::area_facts::refresh_small_areas(&app.state)
            .await
            .unwrap(),
        0
    );
    // A person saved now gets both codes at once; area facts carry both.
    let late = person(&app, &team, "ch25 9fs").await;
    assert_eq!(
        person_codes(&app, &late).await,
        some("E01034838", "E01007126")
    );
    // Importing the same file again changes nothing.
    let before = ensemble::backup::dump_rows(&app.state.db).await.unwrap();
    import_postcodes(&app, &file).await;
    assert_eq!(
        ensemble::backup::dump_rows(&app.state.db).await.unwrap(),
        before
    );
    // The LSOA 2011 file fills only the 2011 code: the 2021 code stays.
    let r = import_postcodes(&app, &d.join("lcr_postcodes_lsoa11.csv.gz")).await;
    assert_eq!(r.rejected_count, 0);
    assert_eq!(
        postcode(&app, "CH41 2TX").await,
        some("E01007129", "E01007239")
    );
    // A malformed code is rejected with its line, column and value; the rest are stored.
    let bad = temp_file(
        "pc.csv",
        "pcds,latitude,longitude,lsoa21cd,lsoa11cd\nL1 8JQ,53.40,-2.98,E0100X,E01006512\nL1 8JR,53.40,-2.98,E01006512,E01006512\n",
    );
    let r = import_postcodes(&app, &bad).await;
    assert_eq!(r.rejected_count, 1, "{:?}", r.rejected);
    assert_eq!(r.rejected[0].0, 2);
    assert!(
        r.rejected[0].1.contains("lsoa21cd \"E0100X\""),
        "{:?}",
        r.rejected
    );
}

async fn import_area(app: &TestApp, f: &std::path::Path) {
    let (_, report) = import::import_file(&app.state.db, f, |_| {})
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    assert_eq!(
        report.rejected_count,
        0,
        "{}: {:?}",
        f.display(),
        report.rejected
    );
}

/// A point at Speke (Liverpool 058B, E01006739, in both geographies) more than 300 m inside
/// its boundary, but nearer the population-weighted centroid of E01006753.
const SPEKE: (f64, f64) = (53.330167, -2.844529);

#[tokio::test]
async fn geo_lsoa_boundaries_place_venues_by_polygon_and_draw_each_edition_by_small_area() {
    let Some(shared) = shared_dir() else { return };
    let d = shared.join("data");
    let app = TestApp::new().await;
    for f in [
        "geo/lsoa11_to_lsoa21_lad22_ew.csv.gz",
        "iod2025/IoD2025_File7_all_columns_lsoa21_LCR.csv",
        "iod2019/File_1_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
        "geo/lsoa21_population_weighted_centroids_lcr.csv",
    ] {
        import_area(&app, &d.join(f)).await;
    }
    for e in Edition::ALL {
        ensemble::modules::areas::summary::refresh(&app.state.db, *e)
            .await
            .unwrap();
    }
    // Both boundary files, recognised from their properties, and again changes nothing.
    for (f, n) in [
        ("geo/lcr_lsoa21_boundaries_bgc.geojson", 1003),
        ("geo/lcr_lsoa11_boundaries_bgc.geojson", 989),
    ] {
        let (kind, r) = small_areas::import_file(&app.state.db, &d.join(f), |_| {})
            .await
            .unwrap();
        assert_eq!(kind, small_areas::BoundaryFile::SmallAreas);
        assert_eq!((r.rows, r.rejected_count), (n, 0), "{f}: {:?}", r.rejected);
    }
    assert_eq!(
        small_areas::counts(&app.state.db).await.unwrap(),
        (989, 1003)
    );
    let before = ensemble::backup::dump_rows(&app.state.db).await.unwrap();
    small_areas::import_file(
        &app.state.db,
        &d.join("geo/lcr_lsoa21_boundaries_bgc.geojson"),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        ensemble::backup::dump_rows(&app.state.db).await.unwrap(),
        before
    );
    // Wrong properties: the file, the feature and the fields are named.
    let bad = temp_file(
        "x.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"FID":1,"NAME":"x"},"geometry":null}]}"#,
    );
    let err = small_areas::import_file(&app.state.db, &bad, |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x.geojson")
            && err.contains("feature 1")
            && err.contains("LSOA21CD")
            && err.contains("FID, NAME"),
        "{err}"
    );
    let bad = temp_file(
        "y.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"LSOA21CD":"E0100","LSOA21NM":"x"},"geometry":null},{"type":"Feature","properties":{"LSOA21CD":"E01999999"},"geometry":null}]}"#,
    );
    let (_, r) = small_areas::import_file(&app.state.db, &bad, |_| {})
        .await
        .unwrap();
    assert_eq!(r.rejected_count, 2, "{:?}", r.rejected);
    assert!(
        r.rejected[0].1.contains("LSOA21CD \"E0100\""),
        "{:?}",
        r.rejected
    );
    assert!(r.rejected[1].1.contains("LSOA21NM"), "{:?}", r.rejected);

    // A venue at Speke: the polygon says E01006739; the nearest centroid would say E01006753.
    let centroids = provision::region_lsoas(&app.state.db, Edition::Iod2025)
        .await
        .unwrap();
    let at = places::Point {
        lat: SPEKE.0,
        lon: SPEKE.1,
    };
    let nearest = centroids
        .iter()
        .min_by(|a, b| {
            provision::haversine_km(a.centroid, at)
                .total_cmp(&provision::haversine_km(b.centroid, at))
        })
        .unwrap();
    assert_eq!(nearest.code, "E01006753");
    let org = org(&app).await;
    let input = ActivityInput {
        organisation_id: org,
        name: "Speke Singers".into(),
        description: "Singing for everyone.".into(),
        how_to_join: "drop_in".into(),
        cost: "free".into(),
        types: vec!["choir".into()],
        location_name: "Speke Hall".into(),
        address_1: "1 Test Street".into(),
        city: "Liverpool".into(),
        postcode: "L24 1XD".into(),
        latitude: SPEKE.0.to_string(),
        longitude: SPEKE.1.to_string(),
        freq: "WEEKLY".into(),
        byday: "TU".into(),
        opens_at: "10:00".into(),
        closes_at: "11:00".into(),
        ..Default::default()
    };
    let v = service::validate(&app.state, &input).await.unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    service::insert(&mut tx, &AuditActor::cli(), &v, None, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ensemble::modules::directory::forget_cached(&app.state);
    let venue_codes = || async {
        let r = sqlx::query("SELECT lsoa_code, lsoa11_code FROM locations")
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
        (
            r.get::<Option<String>, _>("lsoa_code"),
            r.get::<Option<String>, _>("lsoa11_code"),
        )
    };
    assert_eq!(venue_codes().await, some("E01006739", "E01006739"));
    // Provision counts it in E01006739's decile, placed by its area, not by a centroid.
    let p = provision::for_edition(&app.state, Edition::Iod2025)
        .await
        .unwrap();
    assert_eq!((p.venues_by_area, p.venues_by_centroid), (1, 0));
    let decile = centroids
        .iter()
        .find(|l| l.code == "E01006739")
        .unwrap()
        .imd_decile;
    let row = p.by_decile.iter().find(|r| r.activities == 1).unwrap();
    assert_eq!(row.key, decile.to_string());
    let page = app.client().get("/areas/provision").await;
    assert!(page.body.contains("point-in-polygon"), "methods text");
    // The refresh after an import restores codes lost or stale.
    sqlx::query("UPDATE locations SET lsoa_code = NULL, lsoa11_code = 'E01006753'")
        .execute(&app.state.db.write)
        .await
        .unwrap();
    assert_eq!(venue_areas::refresh(&app.state).await.unwrap(), 1);
    assert_eq!(venue_codes().await, some("E01006739", "E01006739"));
    assert_eq!(venue_areas::refresh(&app.state).await.unwrap(), 0);

    // The LSOA maps: every small area of Liverpool a link to its profile and a table row.
    let mut c = app.client();
    for (edition, n) in [("2025", 302), ("2019", 298)] {
        let path =
            format!("/areas/map?of=deprivation&level=lsoa&district=E08000012&edition={edition}");
        let r = c.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let b = &r.body;
        eprintln!("{path}: {} bytes", b.len());
        assert!(b.contains("<title id=\"area-map-title\">"));
        assert!(b.contains("<desc id=\"area-map-desc\">"));
        assert_eq!(
            b.matches("<a href=\"/areas/lsoas/E01").count(),
            2 * n,
            "{path}: one link on the map and one in the table per area"
        );
        assert_eq!(b.matches("aria-label=\"E01").count(), n, "{path}");
        assert_eq!(
            b.matches("<tr class=\"nhsuk-table__row\" id=\"lsoa-")
                .count(),
            n,
            "{path}"
        );
        assert_eq!(
            b.matches("fill=\"url(#no-data)\"").count(),
            0,
            "{path}: every area has a decile"
        );
        let svg = &b[b.find("<svg class=\"ensemble-map\"").unwrap()..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        eprintln!("{path}: SVG {} bytes", svg.len());
        if std::env::var("GEO_DUMP").is_ok() {
            std::fs::write(format!("/tmp/geo-map-{edition}.html"), b).unwrap();
        }
        assert!(b.contains(&format!("edition={edition}")));
        assert!(b.len() < 400_000, "{path}: {} bytes", b.len());
    }
    // Without a district: Liverpool (one district at a time keeps the page light); Wirral.
    let r = c
        .get("/areas/map?of=deprivation&level=lsoa&edition=2019")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.matches("aria-label=\"E01").count(), 298);
    assert!(r.body.contains("Liverpool (shown)"));
    let r = c
        .get("/areas/map?of=deprivation&level=lsoa&district=E08000015")
        .await;
    assert_eq!(r.body.matches("aria-label=\"E01").count(), 209);
    eprintln!("Wirral, 2025: {} bytes", r.body.len());
    // Linked from the ward map and the district page.
    assert!(c.get("/areas/map").await.body.contains("level=lsoa"));
    let district = c.get("/areas/districts/E08000012").await;
    assert!(district.body.contains("level=lsoa&amp;district=E08000012"));
    // Bad parameters: 400s naming the value.
    for (path, want) in [
        ("/areas/map?level=msoa", "msoa"),
        ("/areas/map?level=lsoa&district=E09000001", "E09000001"),
        ("/areas/map?level=lsoa&edition=2011", "2011"),
        ("/areas/map?level=lsoa&of=provision", "provision"),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            r.body.contains(&format!("&quot;{want}&quot;")),
            "{path}: {}",
            r.body
        );
    }

    // A 2011 code under IoD2025, and a 2021 code under IoD2019: named, with the matches.
    let r = c.get("/areas/lsoas/E01006513?edition=2025").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for want in [
        "E01006513",
        "IoD2025",
        "LSOA 2011",
        "E01034405",
        "E01034406",
    ] {
        assert!(r.body.contains(want), "{want}: {}", r.body);
    }
    assert!(r.body.contains("/areas/lsoas/E01034405?edition=2025"));
    let r = c.get("/api/v1/areas/lsoas/E01006513?edition=2025").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let j = r.json();
    assert_eq!(j["errors"][0]["code"], "wrong_geography");
    assert_eq!(j["errors"][0]["field"], "code");
    let detail = j["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("E01006513") && detail.contains("E01034405, E01034406"),
        "{detail}"
    );
    let r = c.get("/api/v1/areas/lsoas/E01034405?edition=2019").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let detail = r.json()["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("E01034405") && detail.contains("IoD2019") && detail.contains("E01006513"),
        "{detail}"
    );
    let r = c.get("/areas/lsoas/E01034405?edition=2019").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("E01006513"));
    // A profile links the same place in the other edition.
    let r = c.get("/areas/lsoas/E01034405?edition=2025").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("/areas/lsoas/E01006513?edition=2019"),
        "{}",
        r.body
    );
    let r = c.get("/areas/lsoas/E01006513?edition=2019").await;
    assert!(r.body.contains("/areas/lsoas/E01034406?edition=2025"));
    let r = c.get("/api/v1/areas/lsoas/E01999999?edition=2019").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["errors"][0]["code"], "not_found");
    let r = c.get("/api/v1/areas/lsoas/E01006739?edition=2019").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    assert_eq!(j["edition"], 2019);
    assert!(j["imd_decile"].as_i64().is_some());
    let r = c.get("/api/v1/areas/lsoas/E01006739?edition=2011").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
