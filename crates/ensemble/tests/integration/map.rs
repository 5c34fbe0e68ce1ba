//! Search and the map on a phone (issue 14 item 3): ward boundaries imported and dissolved
//! into districts and the region (idempotent, bad features named by number), drawn under
//! the map; ward-only and closed groups hidden from the public everywhere (search, map,
//! Open Referral UK, their page) while staff still see them; "ask to join" and "refer
//! someone" carry the activity into the referral forms.

use std::path::PathBuf;

use axum::http::StatusCode;
use ensemble::audit::AuditActor;
use ensemble::modules::directory::model::ActivityInput;
use ensemble::modules::directory::service;
use ensemble::modules::places::boundaries;
use ensemble::rbac::Role;

use crate::support::TestApp;

fn square(lon: f64, lat: f64, size: f64) -> String {
    format!(
        "[[[{a},{b}],[{c},{b}],[{c},{d}],[{a},{d}],[{a},{b}]]]",
        a = lon,
        b = lat,
        c = lon + size,
        d = lat + size
    )
}

fn feature(props: &str, geometry: &str) -> String {
    format!(r#"{{"type":"Feature","properties":{{{props}}},"geometry":{geometry}}}"#)
}

/// Three wards (two in one district sharing an edge, one in a second district next to
/// them) and three features that cannot be used.
fn wards_geojson() -> String {
    let poly = |c: String| format!(r#"{{"type":"Polygon","coordinates":{c}}}"#);
    let features = [
        feature(
            r#""WD25CD":"E05000001","WD25NM":"Dockside","LAD25CD":"E08000012","LAD25NM":"Liverpool","CAUTHCD":"E47000004""#,
            &poly(square(-3.00, 53.40, 0.01)),
        ),
        feature(
            r#""WD25CD":"E05000002","WD25NM":"Hillside","LAD25CD":"E08000012","LAD25NM":"Liverpool","CAUTHCD":"E47000004""#,
            &poly(square(-2.99, 53.40, 0.01)),
        ),
        feature(
            r#""WD25CD":"E05000003","WD25NM":"Meadow","LAD25CD":"E08000011","LAD25NM":"Knowsley","CAUTHCD":"E47000004""#,
            &poly(square(-2.98, 53.40, 0.01)),
        ),
        feature(
            r#""LAD25CD":"E08000012""#,
            &poly(square(-2.97, 53.40, 0.01)),
        ),
        feature(
            r#""WD25CD":"E05000005","WD25NM":"Pointy","LAD25CD":"E08000012""#,
            r#"{"type":"Point","coordinates":[-2.9,53.4]}"#,
        ),
        feature(
            r#""WD25CD":"E05000006","WD25NM":"Grid","LAD25CD":"E08000012""#,
            &poly("[[[334000,390000],[335000,390000],[335000,391000],[334000,390000]]]".into()),
        ),
    ];
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ens-map-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f
}

#[tokio::test]
async fn ward_boundaries_import_into_districts_and_the_region_naming_bad_features_and_again_change_nothing()
 {
    let app = TestApp::new().await;
    let file = temp_file("wards.geojson", &wards_geojson());
    let r = boundaries::import_wards(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    assert_eq!((r.rows, r.rejected_count), (6, 3), "{r:?}");
    let numbers: Vec<u64> = r.rejected.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [4, 5, 6], "{r:?}");
    assert!(r.rejected[0].1.contains("no ward code"), "{r:?}");
    assert!(r.rejected[1].1.contains("Point"), "{r:?}");
    assert!(r.rejected[2].1.contains("WGS84"), "{r:?}");
    assert_eq!(
        boundaries::counts(&app.state.db).await.unwrap(),
        (3, 2, 1),
        "three wards, two districts, one region"
    );
    let districts = boundaries::districts(&app.state.db).await.unwrap();
    let liverpool = districts.iter().find(|d| d.name == "Liverpool").unwrap();
    assert_eq!(
        liverpool.rings.len(),
        1,
        "the shared edge of its two wards is dissolved: {:?}",
        liverpool.rings
    );
    assert!(
        (liverpool.bbox.min_lon - -3.00).abs() < 1e-6
            && (liverpool.bbox.max_lon - -2.98).abs() < 1e-6
    );
    let region = boundaries::region_outline(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(region.name, "Liverpool City Region");
    assert_eq!(region.rings.len(), 1, "{:?}", region.rings);
    // A second import leaves the table as it was.
    let before = ensemble::backup::dump_rows(&app.state.db).await.unwrap();
    let again = boundaries::import_wards(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    assert_eq!(again.rejected_count, 3);
    assert_eq!(
        ensemble::backup::dump_rows(&app.state.db).await.unwrap(),
        before
    );
    // Not GeoJSON at all: stopped, naming the file.
    let bad = temp_file("bad.geojson", r#"{"type":"Feature"}"#);
    let err = boundaries::import_wards(&app.state.db, &bad, |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("FeatureCollection"), "{err}");
    // The map draws the districts, their names and the region outline.
    let page = app.client().get("/activities?view=map").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ensemble-map__region"), "{}", page.body);
    assert!(page.body.contains(">Liverpool</text>") && page.body.contains(">Knowsley</text>"));
    assert!(page.body.contains("Contains OS data © Crown copyright"));
}

/// An activity open to `audience`, at a venue about 0.7 km from L1 8JQ.
async fn activity_for(app: &TestApp, org: &str, name: &str, audience: &str) -> String {
    let input = ActivityInput {
        organisation_id: org.into(),
        name: name.into(),
        description: format!("{name}: music together."),
        how_to_join: "referral".into(),
        audience: audience.into(),
        cost: "free".into(),
        types: vec!["choir".into()],
        location_name: format!("{name} Hall"),
        address_1: "1 Test Street".into(),
        city: "Liverpool".into(),
        postcode: "L1 8JQ".into(),
        latitude: "53.4140".into(),
        longitude: "-2.9850".into(),
        freq: "WEEKLY".into(),
        byday: "TU".into(),
        opens_at: "10:00".into(),
        closes_at: "11:30".into(),
        contact_phone: "0151 000 0000".into(),
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

#[tokio::test]
async fn ward_only_and_closed_groups_never_reach_the_public_but_staff_still_see_them() {
    let app = TestApp::new().await;
    crate::directory::load_postcodes(&app).await;
    let org = app.org("Sinfonia", "cultural_organisation").await;
    let ward_org = app.org("Ward Music Trust", "nhs_trust").await;
    let open = activity_for(&app, &org, "Open Choir", "public").await;
    let ward = activity_for(&app, &ward_org, "Willow Ward Music", "ward").await;
    let closed = activity_for(&app, &org, "Closed Circle", "closed").await;
    // A code that is not an audience is named.
    let bad = ActivityInput {
        audience: "secret".into(),
        ..Default::default()
    };
    let errors = match service::validate(&app.state, &bad).await {
        Err(ensemble::error::AppError::Invalid(e)) => e,
        other => panic!("{other:?}"),
    };
    assert!(errors.iter().any(|e| e.field == "audience"), "{errors:?}");

    let mut anon = app.client();
    for path in [
        "/activities",
        "/activities?q=music",
        "/activities?postcode=L1+8JQ&distance=10&unit=km",
        "/activities?postcode=L1+8JQ&distance=10&unit=km&day=TU",
        "/activities?postcode=L1+8JQ&distance=10&unit=km&view=map",
        "/activities?view=print",
        "/openreferral/services?per_page=100",
        "/openreferral/service_at_locations?per_page=100",
        "/openreferral/services?postcode=L1+8JQ&proximity=10000",
    ] {
        let r = anon.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(
            r.body.contains("Open Choir"),
            "{path}: the public one is listed"
        );
        assert!(
            !r.body.contains("Willow Ward Music") && !r.body.contains("Closed Circle"),
            "{path}: {}",
            r.body
        );
    }
    for id in [&ward, &closed] {
        for path in [
            format!("/activities/{id}"),
            format!("/openreferral/services/{id}"),
        ] {
            assert_eq!(
                anon.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }
    let orgs = anon.get("/openreferral/organizations").await;
    assert!(
        orgs.body.contains("Sinfonia") && !orgs.body.contains("Ward Music Trust"),
        "an organisation with only a ward-only activity is not published: {}",
        orgs.body
    );
    let (mut participant, _) = app.signed_in(Role::Participant).await;
    assert_eq!(
        participant.get(&format!("/activities/{ward}")).await.status,
        StatusCode::NOT_FOUND
    );
    // Staff see the page, told it is not public, and may refer to it.
    let (mut lw, _) = app.signed_in(Role::LinkWorker).await;
    let page = lw.get(&format!("/activities/{ward}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Not listed publicly"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("/referrals/new?activity={ward}"))
    );
    assert!(
        !page.body.contains("/refer-yourself?activity="),
        "no 'ask to join' for a ward-only group"
    );
    let form = lw.get(&format!("/referrals/new?activity={ward}")).await;
    assert!(
        form.body.contains("Willow Ward Music")
            && form
                .body
                .contains(&format!(r#"name="activity" value="{ward}""#)),
        "{}",
        form.body
    );
    // The public page: next dates, a tappable phone number, directions by coordinates,
    // its own small map, and "ask to join" carried into the self-referral form.
    let page = anon.get(&format!("/activities/{open}")).await;
    assert!(page.body.contains("Next dates") && page.body.contains("Tuesday"));
    assert!(page.body.contains(r#"href="tel:01510000000""#));
    assert!(page.body.contains("geo:53.414000,-2.985000"));
    assert!(
        page.body.contains(r#"id="venue-map-title""#) && page.body.contains(r#"data-number="1""#)
    );
    assert!(
        !page.body.contains("/referrals/new?activity="),
        "anonymous visitors cannot refer"
    );
    let ask = anon.get(&format!("/refer-yourself?activity={open}")).await;
    assert!(
        ask.body.contains("You are asking to join")
            && ask
                .body
                .contains(&format!(r#"name="activity" value="{open}""#))
    );
    // A ward-only id in the link is not revealed to a visitor.
    let ask = anon.get(&format!("/refer-yourself?activity={ward}")).await;
    assert!(!ask.body.contains("Willow Ward Music") && ask.body.contains("no longer listed"));
}

#[tokio::test]
async fn a_search_that_finds_nothing_offers_links_that_widen_it() {
    let app = TestApp::new().await;
    crate::directory::load_postcodes(&app).await;
    let org = app.org("Sinfonia", "cultural_organisation").await;
    activity_for(&app, &org, "Open Choir", "public").await;
    let r = app
        .client()
        .get("/activities?postcode=CH41+5LH&distance=1&day=WE")
        .await;
    assert!(r.body.contains("No activities found"), "{}", r.body);
    // Each suggestion is a search that drops or widens one thing asked for.
    assert!(
        r.body.contains("postcode=CH41+5LH&amp;distance=10"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Search without on Wednesdays"));
    let wider = app
        .client()
        .get("/activities?postcode=CH41+5LH&distance=1")
        .await;
    assert!(wider.body.contains("No activities found"));
    let found = app
        .client()
        .get("/activities?postcode=CH41+5LH&distance=10")
        .await;
    assert!(found.body.contains("Open Choir"), "{}", found.body);
    // The applied filters are summarised, each with a link that removes it.
    assert!(
        found.body.contains("Your search") && found.body.contains("within 10 miles of CH41 5LH")
    );
    assert!(found.body.contains("Change your search"));
}
