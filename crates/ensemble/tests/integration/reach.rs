//! Reach and equity, and ward and LSOA profiles: small-area rows written directly (no
//! shared-data import), consenting and non-consenting people with referrals, and the
//! disclosure-controlled tables checked against hand-computed values.

use axum::http::StatusCode;
use ensemble::rbac::Role;

use crate::support::TestApp;

const DISTRICT: &str = "E08000012";
const WARD: &str = "E05099001";

fn lsoa(decile: i64) -> String {
    format!("E010990{decile:02}")
}

async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.execute(&app.state.db.write).await.unwrap();
}

/// Ten LSOAs of IoD2025 in Liverpool, one per national decile: decile 1 has 3,000 residents,
/// the others 1,000 each (12,000 in all). Deciles 1 and 2 form one ward. An LSOA 2011 code
/// E01088888 maps to the decile-1 LSOA.
async fn areas(app: &TestApp) {
    for d in 1..=10_i64 {
        let pop = if d == 1 { 3000 } else { 1000 };
        let sql = format!(
            "INSERT INTO area_lsoas (edition, code, name, district_code, district_name, imd_score, imd_rank, imd_decile, income_rank, income_decile, population) \
             VALUES (2025, $1, $2, '{DISTRICT}', 'Liverpool', {score}, {rank}, {d}, {rank}, {d}, {pop})",
            score = 60.0 - d as f64 * 5.0,
            rank = d * 3000 - 100,
        );
        exec(app, &sql, &[&lsoa(d), &format!("Liverpool {d:03}A")]).await;
        if d <= 2 {
            exec(app, &format!("INSERT INTO area_lsoa_wards (edition, lsoa_code, ward_code, ward_name, district_code, district_name) VALUES (2025, $1, '{WARD}', 'Everton <North>', '{DISTRICT}', 'Liverpool')"), &[&lsoa(d)]).await;
        }
    }
    exec(app, "INSERT INTO area_lsoa_links (lsoa11_code, lsoa21_code, change_indicator) VALUES ('E01088888', $1, 'U')", &[&lsoa(1)]).await;
}

/// `n` people living in `code`, each with one referral to `activity`; the first `attended`
/// of them attended a session. `consent` is their evaluation decision (None: none recorded).
async fn people(
    app: &TestApp,
    org: &str,
    activity: &str,
    code: &str,
    n: usize,
    attended: usize,
    consent: Option<&str>,
) {
    for i in 0..n {
        let person = uuid::Uuid::new_v4().to_string();
        let referral = uuid::Uuid::new_v4().to_string();
        exec(app, "INSERT INTO people (id, team_organisation_id, created_at, updated_at) VALUES ($1, $2, 0, 0)", &[&person, org]).await;
        exec(app, "INSERT INTO person_identities (person_id, given_name, lsoa_code, gender, date_of_birth, updated_at) VALUES ($1, 'Test', $2, $3, '1960-05-01', 0)", &[&person, code, if i % 2 == 0 { "Female" } else { "Male" }]).await;
        if let Some(c) = consent {
            exec(app, "INSERT INTO person_consents (person_id, purpose, decision, statement_id, decided_at) VALUES ($1, 'evaluation', $2, '6d1f7a52-0000-5000-8000-000000000002', 0)", &[&person, c]).await;
        }
        exec(app, "INSERT INTO referrals (id, person_id, team_organisation_id, source, reason, status, activity_id, created_at, updated_at) VALUES ($1, $2, $3, 'link_worker', 'test', 'accepted', $4, 0, 0)", &[&referral, &person, org, activity]).await;
        if i < attended {
            let mark = uuid::Uuid::new_v4().to_string();
            exec(app, "INSERT INTO referral_attendance (id, referral_id, session_date, status, recorded_at) VALUES ($1, $2, '2026-01-05', 'present', 0)", &[&mark, &referral]).await;
        }
    }
}

/// Decile 1: 40 referrals (one via an LSOA 2011 code), 10 attended; decile 2: 20; decile
/// 3: 3 (primary suppression); decile 5: 12 people without evaluation consent (not counted);
/// 9 more referrals of people with no known small area.
async fn world(app: &TestApp) -> (String, String) {
    areas(app).await;
    let org = app.org("Reach Arts", "cultural_organisation").await;
    let activity = uuid::Uuid::new_v4().to_string();
    exec(app, "INSERT INTO activities (id, organisation_id, name, description, how_to_join, cost, status, created_at, updated_at) VALUES ($1, $2, 'Singing for breath', 'd', 'h', 'free', 'active', 0, 0)", &[&activity, &org]).await;
    people(app, &org, &activity, &lsoa(1), 39, 10, Some("given")).await;
    people(app, &org, &activity, "E01088888", 1, 0, Some("given")).await;
    people(app, &org, &activity, &lsoa(2), 20, 0, Some("given")).await;
    people(app, &org, &activity, &lsoa(3), 3, 0, Some("given")).await;
    people(app, &org, &activity, &lsoa(5), 6, 0, Some("declined")).await;
    people(app, &org, &activity, &lsoa(5), 6, 0, None).await;
    people(app, &org, &activity, "W01000001", 9, 0, Some("given")).await;
    (org, activity)
}

async fn token(c: &mut crate::support::Client, scope: &str) -> String {
    let r = c
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[
                ("name", "reach"),
                ("expires_in_days", "30"),
                ("scopes", scope),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let start = r.body.find("ens_").expect("token shown once");
    r.body[start..].split('<').next().unwrap().to_string()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 5e-3
}

#[tokio::test]
async fn reach_ratios_intervals_and_suppression_match_hand_computed_values() {
    let app = TestApp::new().await;
    let (org, activity) = world(&app).await;
    let (mut c, _) = app.signed_in(Role::Commissioner).await;
    let r = c.get("/areas/reach").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Liverpool City Region"));

    let r = c
        .get(&format!(
            "/areas/reach.csv?district={DISTRICT}&activity={activity}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rows: Vec<Vec<String>> = r
        .body
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 10, "{}", r.body);
    // Population shares: 3,000 / 12,000 and 1,000 / 12,000.
    assert_eq!(rows[0][4], "0.2500");
    assert_eq!(rows[1][4], "0.0833");
    // Decile 3's 3 referrals are suppressed (primary); since 40 + 20 + 3 = 63 is published
    // as a total, one more cell is hidden so decile 3 cannot be worked out (secondary).
    assert_eq!(rows[2][5], "suppressed", "{}", r.body);
    let hidden: Vec<usize> = (0..10).filter(|i| rows[*i][5] == "suppressed").collect();
    assert_eq!(hidden.len(), 2, "{}", r.body);
    // The withdrawn / unconsented people of decile 5 are not counted.
    assert_eq!(rows[4][5], "0");
    // The shown decile's ratio is its published share of the published total (65) over its
    // population share, with the Wilson interval: 40/65 / 0.25 = 2.462 (1.975 to 2.896);
    // 20/65 / (1/12) = 3.692 (2.506 to 5.136).
    let shown = if hidden.contains(&1) { 0 } else { 1 };
    let expect = if shown == 0 {
        ("40", 2.4615, 1.9754, 2.8962)
    } else {
        ("20", 3.6923, 2.5064, 5.1357)
    };
    assert_eq!(rows[shown][5], expect.0, "{}", r.body);
    let f = |s: &str| s.parse::<f64>().unwrap();
    assert!(close(f(&rows[shown][6]), expect.1), "{}", r.body);
    assert!(close(f(&rows[shown][7]), expect.2), "{}", r.body);
    assert!(close(f(&rows[shown][8]), expect.3), "{}", r.body);
    // Ratios are not shown where the count is suppressed.
    assert_eq!(rows[2][6], "");
    // Participants: 10 in decile 1, all of them; 10/10 / 0.25 = 4.0 (2.890 to 4.0).
    assert_eq!(rows[0][9], "10");
    assert!(
        close(f(&rows[0][10]), 4.0)
            && close(f(&rows[0][11]), 2.8899)
            && close(f(&rows[0][12]), 4.0),
        "{}",
        r.body
    );

    // The page: the people outside the area are counted apart, and a breakdown by sex.
    let r = c
        .get(&format!(
            "/areas/reach?district={DISTRICT}&organisation={org}&by=sex"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("no known small area in Liverpool: 10"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Referrals by decile and sex"));
    assert!(r.body.contains("fewer than 8"));

    // The API, with a token of the areas:read scope.
    let r = c
        .api(
            "GET",
            &format!("/api/v1/areas/reach?district={DISTRICT}"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let good = token(&mut c, "areas:read").await;
    let other = token(&mut c, "programmes:read").await;
    let path = format!("/api/v1/areas/reach?district={DISTRICT}&activity={activity}");
    let r = c.api("GET", &path, Some(&other), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = c.api("GET", &path, Some(&good), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    assert_eq!(j["referrals"], 65);
    assert_eq!(
        j["deciles"][2]["referrals"],
        serde_json::Value::Null,
        "suppressed"
    );
    assert_eq!(j["deciles"][0]["participants"], 10);
    let r = c
        .api("GET", "/api/v1/areas/reach?by=shoe", Some(&good), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("shoe") && r.body.contains("\"by\""),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn reach_is_refused_to_other_roles_and_signed_out_and_bad_filters_are_named() {
    let app = TestApp::new().await;
    let r = app.client().get("/areas/reach").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "signed out goes to sign-in"
    );
    let r = app.client().get("/areas/reach.csv").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for role in [Role::Practitioner, Role::LinkWorker, Role::Participant] {
        let (mut c, _) = app.signed_in(role).await;
        assert_eq!(
            c.get("/areas/reach").await.status,
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
        assert_eq!(
            c.get("/areas/reach.csv").await.status,
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
    }
    for role in [Role::ProgrammeManager, Role::Researcher] {
        let (mut c, _) = app.signed_in(role).await;
        assert_eq!(
            c.get("/areas/reach").await.status,
            StatusCode::OK,
            "{role:?}"
        );
    }
    let (mut c, _) = app.signed_in(Role::Commissioner).await;
    let r = c
        .get("/areas/reach?edition=2020&district=E0899&activity=nope&by=shoe")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "edition must be 2019 or 2025, not \"2020\"",
        "No district \"E0899\"",
        "No activity has the id \"nope\"",
        "not \"shoe\"",
    ] {
        assert!(
            r.body.contains(&m.replace('"', "&quot;")) || r.body.contains(m),
            "{m}: {}",
            r.body
        );
    }
    let r = c
        .get("/areas/reach?by=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.body.contains("<script>alert(1)"));
    let r = c.get("/areas/reach.csv?organisation=nobody").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn reach_ward_and_lsoa_profiles_show_deprivation_and_guarded_counts() {
    let app = TestApp::new().await;
    world(&app).await;
    let r = app.client().get(&format!("/areas/wards/{WARD}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Everton &lt;North&gt;"), "shown as text");
    assert!(r.body.contains(&lsoa(1)) && r.body.contains(&lsoa(2)) && !r.body.contains(&lsoa(3)));
    assert!(r.body.contains("population 4000"));
    assert!(
        !r.body.contains("People reached"),
        "counts only for roles allowed aggregates"
    );
    let r = app.client().get(&format!("/areas/lsoas/{}", lsoa(1))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("Liverpool 001A")
            && r.body.contains("Income")
            && r.body.contains("Living environment")
    );
    assert!(r.body.contains("2900 of 33755"), "{}", r.body);
    let (mut c, _) = app.signed_in(Role::Commissioner).await;
    let r = c.get(&format!("/areas/wards/{WARD}")).await;
    assert!(r.body.contains("People reached"), "{}", r.body);
    // 40 + 20 referrals, rounded: 60; 10 participants; 10 sessions.
    assert!(r.body.contains(">60<"), "{}", r.body);
    let r = c.get(&format!("/areas/lsoas/{}", lsoa(3))).await;
    assert!(r.body.contains("fewer than 8"), "3 referrals suppressed");
    ensemble::modules::areas::summary::refresh(
        &app.state.db,
        ensemble::modules::areas::Edition::Iod2025,
    )
    .await
    .unwrap();
    let r = app
        .client()
        .get(&format!("/areas/districts/{DISTRICT}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body
            .contains(&format!("/areas/wards/{WARD}?edition=2025")),
        "district links its wards"
    );
    let r = app.client().get("/areas/wards/E05000000").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("E05000000") && r.body.contains("IoD2025"));
    let r = app
        .client()
        .get("/areas/lsoas/E01000000?edition=2019")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("E01000000") && r.body.contains("IoD2019"));
}
