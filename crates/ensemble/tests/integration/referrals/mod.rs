//! People, consent and referrals: the whole pathway through the pages, the relationship
//! rules (care team, referrer, provider, person), FHIR R4 intake, reminders from the job
//! queue, the message back, and consent withdrawal leaving every evaluation set at once.
//!
//! The world and the shared steps live here; `pathway.rs` (Robin's self-referral, step by
//! step), `relationships.rs` (who sees what of Casey's referral), `self_referral.rs`,
//! `fhir.rs`, `fhir_exchange.rs`, `reminders.rs` and `consent.rs` hold the tests.

use axum::http::StatusCode;
use ensemble::modules::people::evaluation;
use ensemble::modules::referrals::selfrefer;
use ensemble::rbac::{Actor, Role};

use crate::directory::{activity, shared_dir};
use crate::support::{Client, TestApp};

mod consent;
mod fhir;
mod fhir_exchange;
mod home;
mod matching;
mod pathway;
mod relationships;
mod reminders;
mod self_referral;

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) team: String,
    pub(crate) provider_org: String,
    pub(crate) activity: String,
    pub(crate) lw: (Client, String),
    pub(crate) lw2: (Client, String),
    pub(crate) other_team_lw: Client,
    pub(crate) practitioner: (Client, String),
    pub(crate) other_practitioner: Client,
    pub(crate) clinician: (Client, String),
    pub(crate) other_clinician: Client,
}

async fn signed(app: &TestApp, role: Role, org: &str) -> (Client, String, String) {
    let (email, password, id) = app.user(role, org).await;
    let mut c = app.client();
    let r = c.sign_in(&email, &password).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    (c, id, email)
}

async fn world_with(adjust: impl FnOnce(&mut ensemble::config::Config)) -> World {
    let app = TestApp::with(|cfg| {
        if let Some(s) = shared_dir() {
            cfg.shared_dir = s;
        }
        adjust(cfg);
    })
    .await;
    let team = app.org("Knowsley Link Workers", "gp_practice_or_pcn").await;
    let other_team = app.org("Sefton Link Workers", "gp_practice_or_pcn").await;
    let provider_org = app.org("City Orchestra", "cultural_organisation").await;
    let other_provider = app.org("Drum Circle", "community_group").await;
    let trust = app.org("Mersey Trust", "nhs_trust").await;
    let act = activity(
        &app,
        &provider_org,
        "Singing for the Brain",
        53.4,
        -2.99,
        "free",
        "MO",
        &[],
    )
    .await;
    activity(
        &app,
        &other_provider,
        "Drumming Together",
        53.41,
        -2.98,
        "free",
        "TU",
        &[],
    )
    .await;
    let (lw, lw_id, _) = signed(&app, Role::LinkWorker, &team).await;
    let (lw2, lw2_id, _) = signed(&app, Role::LinkWorker, &team).await;
    let (other_team_lw, _, _) = signed(&app, Role::LinkWorker, &other_team).await;
    let (pr, pr_id, _) = signed(&app, Role::Practitioner, &provider_org).await;
    let (other_pr, _, _) = signed(&app, Role::Practitioner, &other_provider).await;
    let (cl, cl_id, _) = signed(&app, Role::Clinician, &trust).await;
    let (other_cl, _, _) = signed(&app, Role::Clinician, &trust).await;
    World {
        app,
        team,
        provider_org,
        activity: act,
        lw: (lw, lw_id),
        lw2: (lw2, lw2_id),
        other_team_lw,
        practitioner: (pr, pr_id),
        other_practitioner: other_pr,
        clinician: (cl, cl_id),
        other_clinician: other_cl,
    }
}

pub(crate) async fn world() -> World {
    world_with(|_| {}).await
}

/// Submit the self-referral form as someone who spent a minute on it.
pub(crate) async fn self_refer(app: &TestApp, fields: &[(&str, &str)]) -> crate::support::Resp {
    let mut c = app.client();
    let token = c.get("/refer-yourself").await.csrf();
    let started = selfrefer::sign(&app.state.secret, ensemble::db::now() - 60);
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token), ("started", &started)];
    all.extend_from_slice(fields);
    c.post_form("/refer-yourself", &all).await
}

pub(crate) const SELF: &[(&str, &str)] = &[
    ("given_name", "Robin"),
    ("family_name", "Tester"),
    ("email", "robin@example.org"),
    ("phone", "0151 000 0000"),
    ("reason", "I feel lonely and used to sing in a choir."),
    ("consent_contact", "yes"),
    ("consent_evaluation", "yes"),
    ("consent_research_contact", "no"),
    ("consent_share_gp", "yes"),
];

pub(crate) async fn latest_referral(app: &TestApp) -> String {
    use sqlx::Row;
    sqlx::query("SELECT id FROM referrals ORDER BY created_at DESC, id DESC LIMIT 1")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get("id")
        .unwrap()
}

pub(crate) async fn post(
    c: &mut Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> crate::support::Resp {
    c.submit(page, action, fields).await
}

// The referral service reads typed dates (review, attendance) against the UK date, as
// every other service does, so these helpers do too.

fn today() -> String {
    ensemble::db::uk::today().to_string()
}

pub(crate) fn days_ago(n: i64) -> String {
    (ensemble::db::uk::today() - time::Duration::days(n)).to_string()
}

pub(crate) fn in_weeks(n: i64) -> String {
    (ensemble::db::uk::today() + time::Duration::weeks(n)).to_string()
}

/// A count from `sql` with the referral id bound as `$1`.
async fn count_for(app: &TestApp, sql: &str, id: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id.to_string())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

/// The person a referral is for.
async fn person_of(app: &TestApp, id: &str) -> String {
    use sqlx::Row;
    sqlx::query("SELECT person_id FROM referrals WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get("person_id")
        .unwrap()
}

/// Send a form from its page and expect the redirect that says it was taken.
async fn post_ok(c: &mut Client, page: &str, action: &str, fields: &[(&str, &str)]) {
    let r = post(c, page, action, fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
}
