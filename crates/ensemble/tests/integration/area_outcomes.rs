//! Outcomes by small area (issue 16 item 2): results written directly, the pre-aggregate
//! rebuilt, and the ward and small-area profiles checked against the statistics core's own
//! paired analysis of the same people.

use axum::http::StatusCode;
use ensemble::rbac::Role;

use crate::support::TestApp;

const DISTRICT: &str = "E08000012";
const WARD: &str = "E05097001";

fn lsoa(i: i64) -> String {
    format!("E010970{i:02}")
}

async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.execute(&app.state.db.write).await.unwrap();
}

/// A person in `code` with ONS4 life-satisfaction results in the order given (one response
/// each, completed a day apart), and the evaluation decision `consent`.
async fn person(app: &TestApp, org: &str, code: &str, values: &[f64], consent: Option<&str>) {
    let person = uuid::Uuid::new_v4().to_string();
    exec(app, "INSERT INTO people (id, team_organisation_id, created_at, updated_at) VALUES ($1, $2, 0, 0)", &[&person, org]).await;
    exec(app, "INSERT INTO person_identities (person_id, given_name, lsoa_code, updated_at) VALUES ($1, 'Test', $2, 0)", &[&person, code]).await;
    if let Some(d) = consent {
        exec(app, "INSERT INTO person_consents (person_id, purpose, decision, statement_id, decided_at) VALUES ($1, 'evaluation', $2, '6d1f7a52-0000-5000-8000-000000000002', 0)", &[&person, d]).await;
    }
    for (i, v) in values.iter().enumerate() {
        let id = uuid::Uuid::new_v4().to_string();
        let at = (1_700_000_000 + i as i64 * 86_400).to_string();
        exec(app, &format!("INSERT INTO measure_responses (id, person_id, instrument_id, instrument_version, mode, status, started_at, updated_at, completed_at) VALUES ($1, $2, 'ons4', 1, 'self', 'complete', {at}, {at}, {at})"), &[&id, &person]).await;
        exec(app, &format!("INSERT INTO measure_scores (response_id, score_id, value) VALUES ($1, 'life_satisfaction', {v})"), &[&id]).await;
    }
}

#[tokio::test]
async fn area_outcomes_match_the_paired_analysis_and_follow_consent() {
    let app = TestApp::new().await;
    for i in 1..=2_i64 {
        exec(&app, &format!("INSERT INTO area_lsoas (edition, code, name, district_code, district_name, imd_score, imd_rank, imd_decile, population) VALUES (2025, $1, 'Liverpool 0{i}C', '{DISTRICT}', 'Liverpool', 40, 100, 1, 1500)"), &[&lsoa(i)]).await;
        exec(&app, &format!("INSERT INTO area_lsoa_wards (edition, lsoa_code, ward_code, ward_name, district_code, district_name) VALUES (2025, $1, '{WARD}', 'Test Ward', '{DISTRICT}', 'Liverpool')"), &[&lsoa(i)]).await;
    }
    let org = app.org("Outcome Arts", "cultural_organisation").await;
    // Five people in each small area with a first and latest result (a middle result in
    // between is ignored), one with a single result, and people without consent.
    let pairs: [(f64, f64); 10] = [
        (5.0, 7.0),
        (6.0, 6.0),
        (4.0, 7.0),
        (7.0, 8.0),
        (3.0, 5.0),
        (6.0, 5.0),
        (5.0, 8.0),
        (4.0, 4.0),
        (6.0, 9.0),
        (2.0, 6.0),
    ];
    for (k, (first, latest)) in pairs.iter().enumerate() {
        let code = lsoa(1 + (k as i64 % 2));
        person(&app, &org, &code, &[*first, 0.0, *latest], Some("given")).await;
    }
    person(&app, &org, &lsoa(1), &[9.0], Some("given")).await;
    person(&app, &org, &lsoa(1), &[0.0, 10.0], Some("withdrawn")).await;
    person(&app, &org, &lsoa(2), &[0.0, 10.0], None).await;
    let rows = ensemble::modules::areas::outcomes::refresh(&app.state)
        .await
        .unwrap();
    assert!(rows >= 2, "one row per small area with results: {rows}");

    let (before, after): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    let p = ensemble_stats::paired(&before, &after).unwrap();
    let (mut c, _) = app.signed_in(Role::Commissioner).await;
    let r = c.get(&format!("/areas/wards/{WARD}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("ONS4: Life satisfaction"), "{}", r.body);
    let want = format!(
        "{:+.2} ({:+.2} to {:+.2})",
        p.mean_change, p.ci95_low, p.ci95_high
    );
    assert!(r.body.contains(&want), "{want}: {}", r.body);
    assert!(r.body.contains(">10<"), "10 people: {}", r.body);
    // One small area holds only 5 people: the count is hidden and so is the change.
    let r = c.get(&format!("/areas/lsoas/{}", lsoa(1))).await;
    assert!(r.body.contains("fewer than 8"), "{}", r.body);
    assert!(
        r.body.contains("Not shown (fewer than 8 people)"),
        "{}",
        r.body
    );
    // Signed out: no outcomes.
    let r = app.client().get(&format!("/areas/wards/{WARD}")).await;
    assert!(!r.body.contains("Life satisfaction"));

    // Withdrawn consents leave the figures at the next rebuild: with the second small area's
    // five withdrawn, five people are left and the change is no longer shown.
    exec(
        &app,
        "UPDATE person_consents SET decision = 'withdrawn' WHERE purpose = 'evaluation' \
                AND person_id IN (SELECT person_id FROM person_identities WHERE lsoa_code = $1)",
        &[&lsoa(2)],
    )
    .await;
    ensemble::modules::areas::outcomes::refresh(&app.state)
        .await
        .unwrap();
    let r = c.get(&format!("/areas/wards/{WARD}")).await;
    assert!(!r.body.contains(&want), "{}", r.body);
    assert!(
        r.body.contains("Not shown (fewer than 8 people)"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn area_residents_are_placed_by_the_code_of_the_edition_then_through_the_lookup() {
    use ensemble::modules::areas::{Edition, residents};
    let app = TestApp::new().await;
    // IoD2019 small areas E01096001 (split in 2021 into E01096101 and E01096102) and
    // E01096002; IoD2025 small areas E01096101 and E01096102.
    for (e, code) in [
        (2019, "E01096001"),
        (2019, "E01096002"),
        (2025, "E01096101"),
        (2025, "E01096102"),
    ] {
        exec(&app, &format!("INSERT INTO area_lsoas (edition, code, name, district_code, district_name, imd_decile, population) VALUES ({e}, $1, 'x', '{DISTRICT}', 'Liverpool', 3, 1000)"), &[code]).await;
    }
    for to in ["E01096101", "E01096102"] {
        exec(&app, "INSERT INTO area_lsoa_links (lsoa11_code, lsoa21_code, change_indicator) VALUES ('E01096001', $1, 'S')", &[to]).await;
    }
    let org = app.org("Resident Arts", "cultural_organisation").await;
    // Both codes stored; only the 2021 code (an older record); a 2011 code stored in the
    // 2021 column; no consent.
    let cases: [(&str, Option<&str>, Option<&str>); 4] = [
        ("E01096102", Some("E01096002"), Some("given")),
        ("E01096102", None, Some("given")),
        ("E01096001", None, Some("given")),
        ("E01096101", Some("E01096001"), None),
    ];
    let mut ids = Vec::new();
    for (l21, l11, consent) in cases {
        let id = uuid::Uuid::new_v4().to_string();
        exec(&app, "INSERT INTO people (id, team_organisation_id, created_at, updated_at) VALUES ($1, $2, 0, 0)", &[&id, &org]).await;
        exec(&app, "INSERT INTO person_identities (person_id, given_name, lsoa_code, updated_at) VALUES ($1, 'Test', $2, 0)", &[&id, l21]).await;
        if let Some(l11) = l11 {
            exec(
                &app,
                "UPDATE person_identities SET lsoa11_code = $1 WHERE person_id = $2",
                &[l11, &id],
            )
            .await;
        }
        if let Some(c) = consent {
            exec(&app, "INSERT INTO person_consents (person_id, purpose, decision, statement_id, decided_at) VALUES ($1, 'evaluation', $2, '6d1f7a52-0000-5000-8000-000000000002', 0)", &[&id, c]).await;
        }
        ids.push(id);
    }
    let at = |e: Edition| {
        let app = &app;
        async move {
            let served = residents::served(&app.state, e, None).await.unwrap();
            residents::resolve(&app.state, e, &served).await.unwrap()
        }
    };
    let r19 = at(Edition::Iod2019).await;
    let r25 = at(Edition::Iod2025).await;
    let lsoa = |m: &std::collections::HashMap<String, residents::Resident>, i: usize| {
        m.get(&ids[i]).and_then(|r| r.lsoa.clone())
    };
    // The stored 2011 code wins for IoD2019 (not the lookup's parent of the 2021 code).
    assert_eq!(lsoa(&r19, 0).as_deref(), Some("E01096002"));
    assert_eq!(lsoa(&r25, 0).as_deref(), Some("E01096102"));
    // Only a 2021 code: IoD2019 maps it back through the lookup.
    assert_eq!(lsoa(&r19, 1).as_deref(), Some("E01096001"));
    // A 2011 code in the 2021 column: used as it is for 2019, mapped (first successor) for 2025.
    assert_eq!(lsoa(&r19, 2).as_deref(), Some("E01096001"));
    assert_eq!(lsoa(&r25, 2).as_deref(), Some("E01096101"));
    // Without consent, nobody is placed.
    assert!(!r19.contains_key(&ids[3]) && !r25.contains_key(&ids[3]));
}
