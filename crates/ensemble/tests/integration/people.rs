//! People: the person page for the care team, every read of a person's identity audited as
//! `person.read`, and consent records (an append-only history of decisions beside the
//! current decision for each purpose).

use axum::http::StatusCode;
use sqlx::Row;

use crate::referrals::{SELF, World, latest_referral, post, self_refer, world};
use crate::support::TestApp;

/// A self-referred person in the world's team: (person id, person page path).
async fn referred_person(w: &World) -> (String, String) {
    let r = self_refer(&w.app, SELF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = latest_referral(&w.app).await;
    let person: String = sqlx::query_scalar("SELECT person_id FROM referrals WHERE id = $1")
        .bind(id)
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    let page = format!("/people/{person}");
    (person, page)
}

async fn person_reads(app: &TestApp, person: &str) -> Vec<Option<String>> {
    sqlx::query(
        "SELECT actor_user_id FROM audit_log WHERE action = 'person.read' AND entity_id = $1 ORDER BY seq",
    )
    .bind(person.to_string())
    .fetch_all(&app.state.db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get("actor_user_id").unwrap())
    .collect()
}

/// Every decision recorded for a person, oldest first: (purpose, decision, method, witness).
async fn history(app: &TestApp, person: &str) -> Vec<(String, String, String, String)> {
    sqlx::query(
        "SELECT purpose, decision, method, witness FROM consent_decisions WHERE person_id = $1 ORDER BY recorded_at, id",
    )
    .bind(person.to_string())
    .fetch_all(&app.state.db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.try_get("purpose").unwrap(),
            r.try_get("decision").unwrap(),
            r.try_get("method").unwrap(),
            r.try_get::<Option<String>, _>("witness")
                .unwrap()
                .unwrap_or_default(),
        )
    })
    .collect()
}

async fn current(app: &TestApp, person: &str, purpose: &str) -> String {
    sqlx::query_scalar("SELECT decision FROM person_consents WHERE person_id = $1 AND purpose = $2")
        .bind(person.to_string())
        .bind(purpose.to_string())
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_person_page_shows_the_care_team_the_whole_record() {
    let mut w = world().await;
    let (_, page) = referred_person(&w).await;
    let (lw, _) = &mut w.lw;
    let r = lw.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    for shown in ["Robin", "Tester", "robin@example.org", "0151 000 0000"] {
        assert!(r.body.contains(shown), "{shown} is on the page");
    }
    // Another team's link worker, a provider and a referrer are refused.
    assert_eq!(
        w.other_team_lw.get(&page).await.status,
        StatusCode::FORBIDDEN
    );
    let (pr, _) = &mut w.practitioner;
    assert_eq!(pr.get(&page).await.status, StatusCode::FORBIDDEN);
    let (cl, _) = &mut w.clinician;
    assert_eq!(cl.get(&page).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_read_of_a_person_record_is_audited_as_person_read_with_the_reader() {
    let mut w = world().await;
    let (person, page) = referred_person(&w).await;
    assert!(person_reads(&w.app, &person).await.is_empty());
    let lw_id = w.lw.1.clone();
    let lw2_id = w.lw2.1.clone();
    assert_eq!(w.lw.0.get(&page).await.status, StatusCode::OK);
    assert_eq!(w.lw.0.get(&page).await.status, StatusCode::OK);
    assert_eq!(w.lw2.0.get(&page).await.status, StatusCode::OK);
    assert_eq!(
        person_reads(&w.app, &person).await,
        [Some(lw_id.clone()), Some(lw_id), Some(lw2_id)],
        "one row per read, naming who read it"
    );
    // A refused read shows nothing, so records nothing.
    assert_eq!(
        w.other_team_lw.get(&page).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(person_reads(&w.app, &person).await.len(), 3);
    // The detail holds no personal data.
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'person.read' AND entity_id = $1",
    )
    .bind(person.clone())
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    for d in details {
        assert!(
            !d.contains("Robin") && !d.contains("robin@example.org"),
            "{d}"
        );
    }
}

#[tokio::test]
async fn a_consent_decision_is_added_to_the_history_and_becomes_the_current_decision() {
    let mut w = world().await;
    let (person, page) = referred_person(&w).await;
    let consents = format!("{page}/consents");
    // The self-referral recorded one decision for each of the four purposes.
    let first = history(&w.app, &person).await;
    assert_eq!(first.len(), 4, "{first:?}");
    assert_eq!(current(&w.app, &person, "evaluation").await, "given");
    let (lw, _) = &mut w.lw;
    // Withdrawn verbally, with a witness.
    let r = post(
        lw,
        &page,
        &consents,
        &[
            ("purpose", "evaluation"),
            ("decision", "withdrawn"),
            ("method", "verbal"),
            ("witness", "Sam Colleague"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let second = history(&w.app, &person).await;
    assert_eq!(second.len(), 5);
    assert_eq!(
        &second[..4],
        &first[..],
        "earlier decisions are kept as they were"
    );
    assert_eq!(
        second[4],
        (
            "evaluation".to_string(),
            "withdrawn".to_string(),
            "verbal".to_string(),
            "Sam Colleague".to_string()
        )
    );
    assert_eq!(current(&w.app, &person, "evaluation").await, "withdrawn");
    assert_eq!(
        w.app
            .count(&format!(
                "SELECT COUNT(*) FROM person_consents WHERE person_id = '{person}'"
            ))
            .await,
        4,
        "one current decision per purpose"
    );
    // Given again on paper: appended again, and current again.
    let (lw, _) = &mut w.lw;
    let r = post(
        lw,
        &page,
        &consents,
        &[
            ("purpose", "evaluation"),
            ("decision", "given"),
            ("method", "paper"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let third = history(&w.app, &person).await;
    assert_eq!(third.len(), 6);
    assert_eq!(&third[..5], &second[..]);
    assert_eq!(current(&w.app, &person, "evaluation").await, "given");
    assert_eq!(
        w.app
            .count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'consent.record' AND entity_id = '{person}' AND detail LIKE '%evaluation%'"
            ))
            .await,
        3,
        "the self-referral's decision and the two changes"
    );
}

#[tokio::test]
async fn a_verbal_consent_without_a_witness_is_refused_and_nothing_is_recorded() {
    let mut w = world().await;
    let (person, page) = referred_person(&w).await;
    let before = history(&w.app, &person).await;
    let (lw, _) = &mut w.lw;
    let r = post(
        lw,
        &page,
        &format!("{page}/consents"),
        &[
            ("purpose", "evaluation"),
            ("decision", "withdrawn"),
            ("method", "verbal"),
            ("witness", " "),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Enter the name of the witness to a verbal decision")
    );
    assert_eq!(history(&w.app, &person).await, before);
    assert_eq!(current(&w.app, &person, "evaluation").await, "given");
    // Another team cannot record a decision at all.
    let r = post(
        &mut w.other_team_lw,
        "/caseload",
        &format!("{page}/consents"),
        &[
            ("purpose", "evaluation"),
            ("decision", "withdrawn"),
            ("method", "online"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(history(&w.app, &person).await, before);
}

#[tokio::test]
async fn withdrawing_a_consent_never_given_is_recorded_as_declined() {
    let mut w = world().await;
    let (person, page) = referred_person(&w).await;
    // The self-referral said no to being asked about research.
    assert_eq!(
        current(&w.app, &person, "research_contact").await,
        "refused"
    );
    let (lw, _) = &mut w.lw;
    let r = post(
        lw,
        &page,
        &format!("{page}/consents"),
        &[
            ("purpose", "research_contact"),
            ("decision", "withdrawn"),
            ("method", "online"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let h = history(&w.app, &person).await;
    assert_eq!(h.last().unwrap().1, "refused");
    assert_eq!(
        current(&w.app, &person, "research_contact").await,
        "refused"
    );
}

#[tokio::test]
async fn researchers_get_a_codebook_of_every_dataset_variable_as_a_page_and_as_csv() {
    let app = TestApp::new().await;
    let (mut researcher, _) = app.signed_in(ensemble::rbac::Role::Researcher).await;
    let page = researcher.get("/research/codebook").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for ds in ensemble::modules::people::evaluation::DATASETS {
        for column in ds.columns {
            assert!(
                page.body.contains(&format!("<code>{column}</code>")),
                "{column} missing"
            );
        }
    }
    assert!(page.body.contains("did_not_attend") && page.body.contains("Not stated"));
    let csv = researcher.get("/research/codebook.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[axum::http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next(),
        Some("dataset,variable,type,description,allowed_values")
    );
    assert!(csv.body.contains("referrals,provider_status,code,"));
    assert!(
        csv.body.contains("instrument=swemwbs, version=1"),
        "{}",
        csv.body
    );
    // The datasets page links to it; people without the permission do not get it.
    assert!(
        researcher
            .get("/research/datasets")
            .await
            .body
            .contains("/research/codebook")
    );
    let (mut participant, _) = app.signed_in(ensemble::rbac::Role::Participant).await;
    assert_ne!(
        participant.get("/research/codebook").await.status,
        StatusCode::OK
    );
    assert_ne!(
        participant.get("/research/codebook.csv").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_person_page_answers_who_viewed_the_record_and_the_audit_trail_reads_as_sentences() {
    let mut w = world().await;
    let (person, page) = referred_person(&w).await;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT display_name FROM users WHERE id = $1 OR id = $2 ORDER BY id = $1 DESC",
    )
    .bind(w.lw.1.clone())
    .bind(w.lw2.1.clone())
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    let (lw_name, lw2_name) = (&names[0], &names[1]);
    assert_eq!(w.lw2.0.get(&page).await.status, StatusCode::OK);
    let r = w.lw.0.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    // "Who viewed this record", in words, with the care team's names and the person's.
    assert!(r.body.contains("Who viewed this record"), "{}", r.body);
    assert!(
        r.body
            .contains(&format!("{lw2_name} viewed Robin Tester&#39;s record"))
            || r.body
                .contains(&format!("{lw2_name} viewed Robin Tester's record")),
        "{}",
        r.body
    );
    assert!(r.body.contains(lw_name.as_str()));
    // Looking at the list is itself audited.
    assert_eq!(
        w.app
            .count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'person.views.read' AND entity_id = '{person}'"))
            .await,
        2
    );
    // The administrator's audit view: sentences with names, but "a person record" for a
    // person outside their care team, and the raw entry one click away.
    let (mut admin, _) = w.app.signed_in(ensemble::rbac::Role::Administrator).await;
    let audit = admin
        .get(&format!(
            "/admin/audit?entity_type=person&entity_id={person}"
        ))
        .await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(
        audit
            .body
            .contains(&format!("{lw_name} viewed a person record")),
        "{}",
        audit.body
    );
    assert!(!audit.body.contains("Robin Tester"));
    assert!(audit.body.contains("<details") && audit.body.contains("person.read"));
    // Bad filters never 500.
    let odd = admin
        .get("/admin/audit?entity_type=%00&from=nope&page=-3")
        .await;
    assert!(
        odd.status.is_client_error() || odd.status == StatusCode::OK,
        "{}",
        odd.status
    );
    // Outside the care team, the list is refused with the record.
    assert_eq!(
        w.other_team_lw.get(&page).await.status,
        StatusCode::FORBIDDEN
    );
}
