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
    refresh(app).await;
    (org, activity)
}

/// Rebuild the pre-aggregated reach figures, as the job does every ten minutes.
async fn refresh(app: &TestApp) {
    ensemble::modules::areas::aggregates::refresh(&app.state)
        .await
        .unwrap();
}

fn csv_rows(body: &str) -> Vec<Vec<String>> {
    body.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
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

/// The stored aggregates agree with a direct count from the referrals, attendance marks,
/// consents and small areas (computed here in SQL, independently of the refresh).
#[tokio::test]
async fn reach_aggregates_equal_a_direct_recomputation_on_a_small_world() {
    let app = TestApp::new().await;
    world(&app).await;
    let resolved = "COALESCE((SELECT k.lsoa21_code FROM area_lsoa_links k WHERE k.lsoa11_code = i.lsoa_code), i.lsoa_code)";
    let consenting = "JOIN person_consents c ON c.person_id = r.person_id AND c.purpose = 'evaluation' AND c.decision = 'given' \
                      JOIN person_identities i ON i.person_id = r.person_id";
    let mut checked = 0;
    for d in 1..=10_i64 {
        let direct_refs = scalar(&app, &format!(
            "SELECT COUNT(*) FROM referrals r {consenting} JOIN area_lsoas l ON l.edition = 2025 AND l.code = {resolved} WHERE l.imd_decile = {d}"
        )).await;
        let direct_parts = scalar(&app, &format!(
            "SELECT COUNT(DISTINCT r.person_id) FROM referrals r {consenting} JOIN area_lsoas l ON l.edition = 2025 AND l.code = {resolved} \
             WHERE l.imd_decile = {d} AND EXISTS (SELECT 1 FROM referral_attendance m WHERE m.referral_id = r.id AND m.status = 'present')"
        )).await;
        let stored = |col: &str, extra: &str| {
            format!(
                "SELECT CAST(COALESCE(SUM({col}), 0) AS BIGINT) FROM area_reach_cells WHERE edition = 2025 AND scope_kind = 'all' \
             AND district_code = '{DISTRICT}' AND decile = {d} {extra}"
            )
        };
        assert_eq!(
            scalar(&app, &stored("referrals", "AND breakdown = 'none'")).await,
            direct_refs,
            "decile {d}"
        );
        assert_eq!(
            scalar(&app, &stored("participants", "AND breakdown = 'none'")).await,
            direct_parts,
            "decile {d}"
        );
        // Every breakdown adds up to the same figures.
        for by in ["age", "sex", "ethnicity"] {
            assert_eq!(
                scalar(
                    &app,
                    &stored("referrals", &format!("AND breakdown = '{by}'"))
                )
                .await,
                direct_refs,
                "decile {d} by {by}"
            );
        }
        // Per small area: the decile's one LSOA.
        let lsoa_refs = scalar(&app, &format!(
            "SELECT CAST(COALESCE(SUM(referrals), 0) AS BIGINT) FROM area_reach_lsoas WHERE edition = 2025 AND lsoa_code = '{}'", lsoa(d)
        )).await;
        assert_eq!(lsoa_refs, direct_refs, "LSOA of decile {d}");
        checked += direct_refs;
    }
    assert_eq!(checked, 63, "40 + 20 + 3 consenting referrals in Liverpool");
    // Elsewhere: consenting people with no small area of the edition.
    assert_eq!(
        scalar(&app, "SELECT CAST(SUM(referrals) AS BIGINT) FROM area_reach_cells WHERE edition = 2025 AND scope_kind = 'all' AND breakdown = 'none' AND decile = 0").await,
        9
    );
    let s = ensemble::modules::areas::aggregates::status(&app.state)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (s.people, s.referrals),
        (72, 72),
        "consenting people and their referrals"
    );
    let (mut c, _) = app.signed_in(Role::Commissioner).await;
    let r = c.get("/areas/reach").await;
    assert!(r.body.contains("Figures as at"), "{}", r.body);
}

/// Someone who withdraws their agreement stays in the figures until the next rebuild and
/// is gone after it.
#[tokio::test]
async fn reach_withdrawn_consent_leaves_the_figures_at_the_next_refresh() {
    let app = TestApp::new().await;
    world(&app).await;
    let (mut c, _) = app.signed_in(Role::Commissioner).await;
    let path = format!("/areas/reach.csv?district={DISTRICT}");
    let before = csv_rows(&c.get(&path).await.body);
    assert_eq!(before[0][5], "40", "{before:?}");
    exec(
        &app,
        &format!(
            "UPDATE person_consents SET decision = 'withdrawn' WHERE purpose = 'evaluation' AND person_id IN \
             (SELECT person_id FROM person_identities WHERE lsoa_code = '{}')",
            lsoa(1)
        ),
        &[],
    )
    .await;
    let r = c.get(&format!("/areas/lsoas/{}", lsoa(1))).await;
    assert!(r.body.contains(">40<"), "until the rebuild: {}", r.body);
    refresh(&app).await;
    let after = csv_rows(&c.get(&path).await.body);
    // Only the person living under the LSOA 2011 code is left in decile 1.
    assert_eq!(after[0][5], "suppressed", "{after:?}");
    assert_eq!(after[0][9], "0", "the ten participants withdrew");
    let r = c.get(&format!("/areas/lsoas/{}", lsoa(1))).await;
    assert!(
        r.body.contains("fewer than 8") && !r.body.contains(">40<"),
        "{}",
        r.body
    );
}

/// Filters count distinct people: someone referred to two activities of one organisation
/// (both in one programme) is one participant of the organisation and of the programme.
#[tokio::test]
async fn reach_filters_count_each_person_once_per_organisation_and_programme() {
    let app = TestApp::new().await;
    world(&app).await;
    let org = app.org("Two Choirs", "community_group").await;
    let (mut c, user) = app.signed_in(Role::Commissioner).await;
    let (a, b) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    for (id, name) in [(&a, "Morning choir"), (&b, "Evening choir")] {
        exec(&app, "INSERT INTO activities (id, organisation_id, name, description, how_to_join, cost, status, created_at, updated_at) VALUES ($1, $2, $3, 'd', 'h', 'free', 'active', 0, 0)", &[id, &org, name]).await;
    }
    let programme = uuid::Uuid::new_v4().to_string();
    exec(&app, "INSERT INTO programmes (id, name, summary, lead_organisation_id, created_by, created_at) VALUES ($1, 'Choirs for health', 's', $2, $3, 0)", &[&programme, &org, &user]).await;
    for id in [&a, &b] {
        exec(&app, "INSERT INTO programme_activities (programme_id, activity_id, added_at) VALUES ($1, $2, 0)", &[&programme, id]).await;
    }
    // Ten people of decile 4, each referred to both choirs and attending both.
    for i in 0..10 {
        let person = uuid::Uuid::new_v4().to_string();
        exec(&app, "INSERT INTO people (id, team_organisation_id, created_at, updated_at) VALUES ($1, $2, 0, 0)", &[&person, &org]).await;
        exec(&app, "INSERT INTO person_identities (person_id, given_name, lsoa_code, updated_at) VALUES ($1, 'Test', $2, 0)", &[&person, &lsoa(4)]).await;
        exec(&app, "INSERT INTO person_consents (person_id, purpose, decision, statement_id, decided_at) VALUES ($1, 'evaluation', 'given', '6d1f7a52-0000-5000-8000-000000000002', 0)", &[&person]).await;
        for act in [&a, &b] {
            let referral = uuid::Uuid::new_v4().to_string();
            exec(&app, "INSERT INTO referrals (id, person_id, team_organisation_id, source, reason, status, activity_id, created_at, updated_at) VALUES ($1, $2, $3, 'link_worker', 'test', 'accepted', $4, 0, 0)", &[&referral, &person, &org, act]).await;
            let mark = uuid::Uuid::new_v4().to_string();
            exec(&app, &format!("INSERT INTO referral_attendance (id, referral_id, session_date, status, recorded_at) VALUES ($1, $2, '2026-01-0{}', 'present', 0)", i % 9 + 1), &[&mark, &referral]).await;
        }
    }
    let shown = |q: String| format!("/areas/reach.csv?district={DISTRICT}&{q}");
    // Not counted until the rebuild.
    let r = c.get(&shown(format!("organisation={org}"))).await;
    assert_eq!(csv_rows(&r.body)[3][5], "0", "{}", r.body);
    refresh(&app).await;
    for (q, refs, parts) in [
        (format!("organisation={org}"), "20", "10"),
        (format!("programme={programme}"), "20", "10"),
        (
            format!("organisation={org}&programme={programme}"),
            "20",
            "10",
        ),
        (format!("activity={a}"), "10", "10"),
        (format!("activity={a}&programme={programme}"), "10", "10"),
    ] {
        let r = c.get(&shown(q.clone())).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let rows = csv_rows(&r.body);
        assert_eq!(
            (rows[3][5].as_str(), rows[3][9].as_str()),
            (refs, parts),
            "{q}: {}",
            r.body
        );
        assert_eq!(
            rows[0][5], "0",
            "{q}: nobody of decile 1 went to the choirs"
        );
    }
    // An activity of another organisation: nothing can match both filters.
    let other = world_activity(&app).await;
    let r = c
        .get(&shown(format!("activity={other}&organisation={org}")))
        .await;
    assert!(
        csv_rows(&r.body).iter().all(|row| row[5] == "0"),
        "{}",
        r.body
    );
    // Unfiltered, everyone is counted once: 40 + 10 people in deciles 1 and 4.
    let r = c
        .get(&format!("/areas/reach.csv?district={DISTRICT}"))
        .await;
    let rows = csv_rows(&r.body);
    assert_eq!(
        (rows[3][5].as_str(), rows[3][9].as_str()),
        ("20", "10"),
        "{}",
        r.body
    );
}

async fn world_activity(app: &TestApp) -> String {
    sqlx::query_scalar::<_, String>("SELECT id FROM activities WHERE name = 'Singing for breath'")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
}

/// The reach-ratio map: a ward's share of referrals over its share of residents, from the
/// published counts; a suppressed ward is never given a ratio.
#[tokio::test]
async fn reach_map_shows_ward_ratios_and_suppressed_wards_without_a_ratio() {
    let app = TestApp::new().await;
    world(&app).await;
    exec(&app, &format!("INSERT INTO area_lsoa_wards (edition, lsoa_code, ward_code, ward_name, district_code, district_name) VALUES (2025, $1, 'E05099002', 'Anfield', '{DISTRICT}', 'Liverpool')"), &[&lsoa(3)]).await;
    for d in 4..=10 {
        exec(&app, &format!("INSERT INTO area_lsoa_wards (edition, lsoa_code, ward_code, ward_name, district_code, district_name) VALUES (2025, $1, 'E05099003', 'Kirkdale', '{DISTRICT}', 'Liverpool')"), &[&lsoa(d)]).await;
    }
    let (mut c, _) = app.signed_in(Role::Researcher).await;
    let r = c.get("/areas/map?of=reach").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let row = |code: &str| {
        let start = r
            .body
            .find(&format!("id=\"reach-ward-{code}\""))
            .expect("ward row");
        r.body[start..].split("</tr>").next().unwrap().to_string()
    };
    // Anfield's 3 referrals are suppressed: no ratio, no class.
    let anfield = row("E05099002");
    assert!(
        anfield.contains("suppressed / too few") && anfield.contains("Not shown"),
        "{anfield}"
    );
    // Everton North: 60 of the published 65 referrals, 4,000 of 12,000 residents:
    // (60 / 65) / (1 / 3) = 2.77, over-reached; unless hidden to protect Anfield.
    let everton = row(WARD);
    assert!(
        everton.contains("2.77") && everton.contains("3: over-reached")
            || everton.contains("suppressed / too few") && !everton.contains("2.77"),
        "{everton}"
    );
    assert!(r.body.contains("Figures as at"));
    assert!(r.body.contains("Legend") && r.body.contains("under-reached: ratio below 0.8"));
    // The reach page links the map; the public maps link it too.
    assert!(
        c.get("/areas/reach")
            .await
            .body
            .contains("/areas/map?of=reach")
    );
    assert!(
        app.client()
            .get("/areas/map")
            .await
            .body
            .contains("/areas/map?of=reach")
    );
}
