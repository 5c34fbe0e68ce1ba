//! Programme evaluation reports (issue 17): figures checked against the statistics core on
//! the same people, the WELLBY worked example, consent withdrawal, who sees what
//! (evaluators exact, funders' commissioners controlled with secondary suppression, others
//! refused), the package's files, and plain messages for bad input.

use axum::http::StatusCode;
use ensemble::modules::evaluation::{refresh, report::Period, service};
use ensemble::rbac::Role;

use crate::support::TestApp;

async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.execute(&app.state.db.write).await.unwrap();
}

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// One result (a response and one score) completed at `at`.
async fn result(
    app: &TestApp,
    person: &str,
    instrument: &str,
    version: i64,
    score: &str,
    value: f64,
    at: i64,
) {
    let r = id();
    exec(app, &format!("INSERT INTO measure_responses (id, person_id, instrument_id, instrument_version, mode, status, started_at, updated_at, completed_at) VALUES ($1, $2, $3, {version}, 'self', 'complete', {at}, {at}, {at})"), &[&r, person, instrument]).await;
    exec(
        app,
        &format!(
            "INSERT INTO measure_scores (response_id, score_id, value) VALUES ($1, $2, {value})"
        ),
        &[&r, score],
    )
    .await;
}

const T0: i64 = 1_767_268_800; // 2026-01-01 12:00 UTC
const WEEK: i64 = 7 * 86_400;

/// A referred person with attendance, results (first, latest) on life satisfaction and
/// the SWEMWBS metric score, and an evaluation decision.
async fn person(
    app: &TestApp,
    org: &str,
    activity: &str,
    ls: (f64, f64),
    sw: (f64, f64),
    sessions: usize,
    consent: Option<&str>,
) -> (String, String) {
    let p = id();
    exec(app, "INSERT INTO people (id, team_organisation_id, created_at, updated_at) VALUES ($1, $2, 0, 0)", &[&p, org]).await;
    exec(app, "INSERT INTO person_identities (person_id, given_name, family_name, gender, date_of_birth, updated_at) VALUES ($1, 'Zebedee', 'Quillfeather', 'Female', '1970-03-03', 0)", &[&p]).await;
    if let Some(d) = consent {
        exec(app, "INSERT INTO person_consents (person_id, purpose, decision, statement_id, decided_at) VALUES ($1, 'evaluation', $2, '6d1f7a52-0000-5000-8000-000000000002', 0)", &[&p, d]).await;
    }
    let referral = id();
    exec(app, &format!("INSERT INTO referrals (id, person_id, team_organisation_id, source, reason, status, activity_id, created_at, updated_at) VALUES ($1, $2, $3, 'link_worker', 'test', 'accepted', $4, {T0}, {T0})"), &[&referral, &p, org, activity]).await;
    for s in 0..sessions {
        exec(app, &format!("INSERT INTO referral_attendance (id, referral_id, session_date, status, recorded_at) VALUES ($1, $2, '2026-01-{:02}', 'present', 0)", s + 5), &[&id(), &referral]).await;
    }
    result(app, &p, "ons4", 1, "life_satisfaction", ls.0, T0 + WEEK).await;
    result(
        app,
        &p,
        "ons4",
        1,
        "life_satisfaction",
        ls.1,
        T0 + 12 * WEEK,
    )
    .await;
    result(app, &p, "swemwbs", 1, "metric", sw.0, T0 + WEEK).await;
    result(app, &p, "swemwbs", 1, "metric", sw.1, T0 + 12 * WEEK).await;
    (p, referral)
}

/// Life satisfaction: twelve consenting people whose changes add up to 9 (mean 0.75).
const LS: [(f64, f64); 12] = [
    (4.0, 5.0),
    (5.0, 6.0),
    (6.0, 7.0),
    (3.0, 4.0),
    (5.0, 6.0),
    (7.0, 8.0),
    (2.0, 3.0),
    (6.0, 7.0),
    (4.0, 5.0),
    (6.0, 6.0),
    (5.0, 5.0),
    (8.0, 8.0),
];
const SW: [(f64, f64); 12] = [
    (19.98, 21.54),
    (17.43, 19.25),
    (23.21, 23.21),
    (20.73, 19.98),
    (16.36, 18.59),
    (21.54, 24.11),
    (19.25, 20.73),
    (18.59, 17.98),
    (22.35, 25.03),
    (17.98, 19.98),
    (20.73, 22.35),
    (24.11, 23.21),
];

struct World {
    programme: String,
    people: Vec<String>,
    funder: String,
}

async fn world(app: &TestApp, manager: &str) -> World {
    let org = app.org("Evaluation Arts", "cultural_organisation").await;
    let funder = app
        .org("Funding Authority", "combined_authority_or_council")
        .await;
    let activity = id();
    exec(app, "INSERT INTO activities (id, organisation_id, name, description, how_to_join, cost, status, created_at, updated_at) VALUES ($1, $2, 'Orchestra for wellbeing', 'd', 'h', 'free', 'active', 0, 0)", &[&activity, &org]).await;
    let programme = id();
    exec(app, "INSERT INTO programmes (id, name, summary, lead_organisation_id, created_by, created_at) VALUES ($1, 'Strings for health', 's', $2, $3, 0)", &[&programme, &org, manager]).await;
    exec(
        app,
        "INSERT INTO programme_activities (programme_id, activity_id, added_at) VALUES ($1, $2, 0)",
        &[&programme, &activity],
    )
    .await;
    let mut people = Vec::new();
    for (i, (ls, sw)) in LS.iter().zip(SW).enumerate() {
        let (p, referral) = person(
            app,
            &org,
            &activity,
            *ls,
            sw,
            if i < 8 { 6 } else { 2 },
            Some("given"),
        )
        .await;
        if i < 3 {
            exec(app, "INSERT INTO referral_barriers (id, referral_id, barrier, action, created_at, stage) VALUES ($1, $2, 'travel', 'travel_help', 0, 'referral')", &[&id(), &referral]).await;
        }
        people.push(p);
    }
    // Not counted: no consent, declined, and wild values that would move every figure.
    person(app, &org, &activity, (0.0, 10.0), (7.0, 35.0), 6, None).await;
    person(
        app,
        &org,
        &activity,
        (0.0, 10.0),
        (7.0, 35.0),
        6,
        Some("refused"),
    )
    .await;
    World {
        programme,
        people,
        funder,
    }
}

#[tokio::test]
async fn the_report_reproduces_the_paired_analysis_and_values_the_change() {
    let app = TestApp::new().await;
    let org = app.org("Lead Trust", "nhs_trust").await;
    let (email, password, manager) = app.user(Role::ProgrammeManager, &org).await;
    let w = world(&app, &manager).await;
    exec(
        &app,
        "UPDATE programmes SET lead_organisation_id = $1 WHERE id = $2",
        &[&org, &w.programme],
    )
    .await;
    let mut c = app.client();
    c.sign_in(&email, &password).await;
    let r = c
        .get(&format!("/programmes/{}/evaluation", w.programme))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("Evaluation of Strings for health"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<title id=\"reach-deciles-t\">"),
        "charts carry a title"
    );
    assert!(!r.body.contains("Quillfeather"), "no names in the report");
    // Figures as the statistics core computes them on the twelve consenting people.
    refresh::refresh_all(&app.state).await.unwrap();
    let files = service::export_as_operator(&app.state, &w.programme, Period::default())
        .await
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&files.iter().find(|f| f.0 == "report.json").unwrap().1).unwrap();
    let row = |score: &str| {
        report["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["score"] == score)
            .unwrap()
            .clone()
    };
    let (before, after): (Vec<f64>, Vec<f64>) = LS.iter().copied().unzip();
    let core = ensemble_stats::paired(&before, &after).unwrap();
    let ls = row("life_satisfaction");
    assert_eq!(ls["n"], 12);
    assert!((ls["mean_change"].as_f64().unwrap() - core.mean_change).abs() < 1e-12);
    assert!((ls["p_value"].as_f64().unwrap() - core.p_value).abs() < 1e-12);
    assert!((ls["wilcoxon_p"].as_f64().unwrap() - core.wilcoxon.p_value).abs() < 1e-12);
    let (b, a): (Vec<f64>, Vec<f64>) = SW.iter().copied().unzip();
    let sw = row("metric");
    let shares = ensemble_stats::change::change_shares(
        &b,
        &a,
        1.0,
        ensemble_stats::change::Direction::HigherIsBetter,
    )
    .unwrap();
    assert_eq!(sw["improved"], shares.improved.count as u64);
    assert!((sw["improved_ci_low"].as_f64().unwrap() - shares.improved.ci95_low).abs() < 1e-12);
    // WELLBY worked example: 12 people × mean change 0.75 × 1 year = 9 WELLBYs;
    // 9 × £10,000 = £90,000; 9 × £13,000 = £117,000; 9 × £16,000 = £144,000 (2019 prices).
    let v = &report["value"];
    assert_eq!(v["wellbys"].as_f64().unwrap(), 9.0);
    assert_eq!(v["value_low"].as_f64().unwrap(), 90_000.0);
    assert_eq!(v["value_central"].as_f64().unwrap(), 117_000.0);
    assert_eq!(v["value_high"].as_f64().unwrap(), 144_000.0);
    assert_eq!(v["price_year"], 2019);
    assert_eq!(v["duration_years"].as_f64().unwrap(), 1.0);
    // Reach: 12 consenting people, all attended, 8 came six or more times.
    assert_eq!(report["reach"]["totals"]["people"], 12);
    assert_eq!(report["reach"]["totals"]["retained"], 8);
    // The package: every table, a descriptor, no names.
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    for f in [
        "outcome_pairs.csv",
        "outcomes.csv",
        "datapackage.json",
        "report.json",
        "tables.xlsx",
        "reach_by_decile.csv",
    ] {
        assert!(names.contains(&f), "{f} in {names:?}");
    }
    for (name, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("Quillfeather") && !text.contains("Zebedee"),
            "{name} holds a name"
        );
        assert!(
            !w.people.iter().any(|p| text.contains(p.as_str())),
            "{name} holds a person id"
        );
    }
    let pairs =
        String::from_utf8_lossy(&files.iter().find(|f| f.0 == "outcome_pairs.csv").unwrap().1)
            .to_string();
    assert_eq!(
        pairs
            .lines()
            .filter(|l| l.contains(",life_satisfaction,"))
            .count(),
        12
    );
    // Comparison: three other organisations' programmes using the same instrument version,
    // never named.
    let elsewhere = app.org("Elsewhere Arts", "cultural_organisation").await;
    for (i, change) in [0.2_f64, 0.5, 1.5].iter().enumerate() {
        let other = id();
        exec(&app, &format!("INSERT INTO programmes (id, name, summary, lead_organisation_id, created_by, created_at) VALUES ($1, 'Secret programme {i}', 's', $2, $3, 0)"), &[&other, &elsewhere, &manager]).await;
        exec(&app, &format!("INSERT INTO evaluation_score_changes (programme_id, instrument_id, instrument_version, score_id, people, mean_change, refreshed_at) VALUES ($1, 'ons4', 1, 'life_satisfaction', 20, {change}, 0)"), &[&other]).await;
    }
    let files = service::export_as_operator(&app.state, &w.programme, Period::default())
        .await
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&files.iter().find(|f| f.0 == "report.json").unwrap().1).unwrap();
    let cmp = report["comparison"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["score"] == "life_satisfaction")
        .unwrap()
        .clone();
    assert_eq!(cmp["others"], 3, "{cmp}");
    assert_eq!(cmp["better_than"], 2, "0.75 beats 0.2 and 0.5: {cmp}");
    assert_eq!(cmp["median"].as_f64().unwrap(), 0.5);
    let r = c.get("/evaluation/compare").await;
    assert!(
        r.body.contains("Strings for health"),
        "yours are named: {}",
        r.body
    );
    assert!(
        !r.body.contains("Secret programme"),
        "others are not: {}",
        r.body
    );
    let r = c
        .get(&format!("/programmes/{}/evaluation", w.programme))
        .await;
    assert!(
        r.body.contains("compare-0-t"),
        "the comparison chart: {}",
        r.body
    );
    assert!(!r.body.contains("Secret programme"));
    // Withdrawing consent removes the person from the next report and package.
    exec(&app, &format!("UPDATE person_consents SET decision = 'withdrawn', decided_at = {} WHERE person_id = $1", ensemble::db::now() + 1), &[&w.people[0]]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = c
        .get(&format!("/programmes/{}/evaluation", w.programme))
        .await;
    assert!(r.body.contains("11 people were referred"), "{}", r.body);
    let files = service::export_as_operator(&app.state, &w.programme, Period::default())
        .await
        .unwrap();
    let pairs =
        String::from_utf8_lossy(&files.iter().find(|f| f.0 == "outcome_pairs.csv").unwrap().1)
            .to_string();
    assert_eq!(
        pairs
            .lines()
            .filter(|l| l.contains(",life_satisfaction,"))
            .count(),
        11
    );
    // The package over HTTP, and its download audited.
    let r = c
        .get(&format!(
            "/programmes/{}/evaluation/package.zip",
            w.programme
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/zip");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'evaluation.package.download'")
            .await,
        1
    );
    let _ = w.funder;
}

#[tokio::test]
async fn others_see_controlled_figures_or_nothing_and_bad_input_gets_a_message() {
    let app = TestApp::new().await;
    let org = app.org("Lead Trust", "nhs_trust").await;
    let (email, password, manager) = app.user(Role::ProgrammeManager, &org).await;
    let w = world(&app, &manager).await;
    exec(
        &app,
        "UPDATE programmes SET lead_organisation_id = $1 WHERE id = $2",
        &[&org, &w.programme],
    )
    .await;
    let mut pm = app.client();
    pm.sign_in(&email, &password).await;
    let path = format!("/programmes/{}/evaluation", w.programme);
    // A commissioner of an organisation that does not fund it: refused.
    let (cemail, cpassword, _) = app.user(Role::Commissioner, &w.funder).await;
    let mut com = app.client();
    com.sign_in(&cemail, &cpassword).await;
    assert_eq!(com.get(&path).await.status, StatusCode::FORBIDDEN);
    // The manager names the funder on a budget line (bad input first).
    let budget = format!("{path}/budget");
    let r = pm
        .submit(
            &budget,
            &budget,
            &[
                ("description", "Players"),
                ("amount", "twelve"),
                ("starts_on", "2026-01-01"),
                ("ends_on", "2025-01-01"),
                ("funder", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("not &quot;twelve&quot;"), "{}", r.body);
    assert!(
        r.body.contains("must be on or after the first day"),
        "{}",
        r.body
    );
    let r = pm
        .submit(
            &budget,
            &budget,
            &[
                ("description", "Players"),
                ("amount", "12,000"),
                ("starts_on", "2026-01-01"),
                ("ends_on", "2026-12-31"),
                ("funder", &w.funder),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = com.get(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Disclosure-controlled"), "{}", r.body);
    assert!(
        r.body.contains("£1,200 per participant"),
        "12,000 ÷ 10 (12 participants, rounded as published): {}",
        r.body
    );
    // Controlled figures: 12 rounded to 10; three barriers suppressed and, with them, the
    // other cell of the table so the three cannot be worked out from the total.
    let r = com
        .get(&format!("/api/v1/programmes/{}/evaluation", w.programme))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the API needs a token");
    let (report, _) = service::open(
        &app.state,
        &ensemble::rbac::Actor {
            user_id: String::new(),
            display_name: String::new(),
            email: String::new(),
            memberships: vec![(
                w.funder.clone(),
                "Funding Authority".into(),
                Role::Commissioner,
            )],
            request_id: None,
            channel: "test",
        },
        &w.programme,
        Period::default(),
        false,
    )
    .await
    .unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["audience"], "controlled");
    assert_eq!(json["reach"]["totals"]["people"], 10);
    assert!(json["barriers"][0]["count"].is_null(), "3 is suppressed");
    assert!(
        json["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["n"] == 10)
    );
    // Improved / unchanged / worse add up to n: a hidden one never stands alone, and a
    // hidden count's share is hidden with it.
    let metric = json["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["score"] == "metric")
        .unwrap();
    let hidden = ["improved", "unchanged", "worse"]
        .iter()
        .filter(|k| metric[**k].is_null())
        .count();
    assert!(
        metric["unchanged"].is_null(),
        "4 unchanged is suppressed: {metric}"
    );
    assert_ne!(hidden, 1, "{metric}");
    assert!(metric["unchanged_share"].is_null(), "{metric}");
    // Secondary suppression across the decile table: one small non-zero cell is never alone.
    let people: Vec<&serde_json::Value> = json["reach"]["by_decile"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["people"])
        .collect();
    assert_ne!(
        people.iter().filter(|p| p.is_null()).count(),
        1,
        "{people:?}"
    );
    // Bad dates and empty periods: plain messages, never a 500 or an empty chart.
    let r = pm.get(&format!("{path}?from=2026-13-01")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("not &quot;2026-13-01&quot;"), "{}", r.body);
    let r = pm
        .get(&format!("{path}?from=2001-01-01&to=2001-12-31"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("try a wider period"), "{}", r.body);
    assert!(
        !r.body.contains("reach-deciles-t"),
        "no chart of nothing: {}",
        r.body
    );
    // Mixed versions of one instrument are named, never pooled.
    for p in &w.people[..2] {
        result(&app, p, "swemwbs", 2, "metric", 20.0, T0 + 2 * WEEK).await;
    }
    exec(&app, "DELETE FROM evaluation_snapshots", &[]).await;
    let r = pm.get(&path).await;
    assert!(
        r.body.contains("more than one version (1 and 2)"),
        "{}",
        r.body
    );
    // A programme with no consenting people.
    exec(
        &app,
        "UPDATE person_consents SET decision = 'withdrawn'",
        &[],
    )
    .await;
    exec(&app, "DELETE FROM evaluation_snapshots", &[]).await;
    let r = pm.get(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("nothing to report yet"), "{}", r.body);
    // Unit costs: administrators only, with a source and price year.
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let r = admin
        .submit(
            "/evaluation/unit-costs",
            "/evaluation/unit-costs",
            &[
                ("item", "gp_appointments"),
                ("cost", "42"),
                ("source", ""),
                ("price_year", "19"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("not &quot;19&quot;"), "{}", r.body);
    assert_eq!(
        pm.get("/evaluation/unit-costs").await.status,
        StatusCode::FORBIDDEN
    );
}
