//! Withdrawing consent removes the person from every evaluation set at once.

use super::*;

/// Every table holding a person or referral id, by introspection.
async fn person_tables(app: &TestApp) -> Vec<String> {
    let outline = app.state.db.schema_outline().await.unwrap();
    outline
        .into_iter()
        .filter(|(table, cols)| {
            table == "people" || cols.iter().any(|c| c == "person_id" || c == "referral_id")
        })
        .map(|(t, _)| t)
        .collect()
}

#[tokio::test]
async fn withdrawing_consent_removes_the_person_from_every_evaluation_set_at_once() {
    let mut w = world().await;
    // Two people referred; both agree to evaluation. Give each rows in every table.
    for name in ["Kim", "Lee"] {
        let mut fields = SELF.to_vec();
        fields[0] = ("given_name", name);
        assert_eq!(
            self_refer(&w.app, &fields).await.status,
            StatusCode::SEE_OTHER
        );
        let id = latest_referral(&w.app).await;
        let (lw, _) = &mut w.lw;
        let case = format!("/caseload/{id}");
        post(lw, &case, &format!("{case}/take"), &[]).await;
        post(
            lw,
            &case,
            &format!("{case}/status"),
            &[("status", "contacted")],
        )
        .await;
        let plan = format!("{case}/plan");
        let review = in_weeks(4);
        post(
            lw,
            &plan,
            &plan,
            &[
                ("what_matters", "Music"),
                ("goals", "Sing"),
                ("next_steps", "Refer"),
                ("review_on", &review),
                ("agreed", "yes"),
            ],
        )
        .await;
        post(
            lw,
            &case,
            &format!("{case}/barriers"),
            &[("barrier", "cost"), ("action", "bursary")],
        )
        .await;
        post(
            lw,
            &case,
            &format!("{case}/notes"),
            &[("note", "Spoke on the phone")],
        )
        .await;
        post(
            lw,
            &case,
            &format!("{case}/connect"),
            &[("activity_id", &w.activity)],
        )
        .await;
        let y = days_ago(1);
        assert_eq!(
            post(
                lw,
                &case,
                &format!("{case}/attendance"),
                &[("session_date", &y), ("attendance", "present")]
            )
            .await
            .status,
            StatusCode::SEE_OTHER
        ); // A wellbeing measure recorded with the person.
        let person: String = sqlx::query_scalar("SELECT person_id FROM referrals WHERE id = $1")
            .bind(id.clone())
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
        let started = post(
            lw,
            &case,
            &format!("/measures/people/{person}/start"),
            &[
                ("instrument", "ons4"),
                ("mode", "with_practitioner"),
                ("referral_id", &id),
            ],
        )
        .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let form = started.location().to_string();
        let done = post(
            lw,
            &form,
            &form,
            &[
                ("q_life_satisfaction", "6"),
                ("q_worthwhile", "7"),
                ("q_happiness", "5"),
                ("q_anxiety", "3"),
                ("action", "finish"),
            ],
        )
        .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert!(done.body.contains("Thank you"), "{}", done.body);
    }
    use sqlx::Row;
    let people: Vec<(String, String)> = sqlx::query("SELECT i.given_name, p.id FROM people p JOIN person_identities i ON i.person_id = p.id ORDER BY i.given_name")
        .fetch_all(&w.app.state.db.read).await.unwrap().iter().map(|r| (r.try_get("given_name").unwrap(), r.try_get("id").unwrap())).collect();
    let kim = people.iter().find(|p| p.0 == "Kim").unwrap().1.clone();
    let lee = people.iter().find(|p| p.0 == "Lee").unwrap().1.clone();

    // Every table with a person or referral id is either in a dataset or excluded on purpose.
    let tables = person_tables(&w.app).await;
    assert!(tables.len() >= 9, "{tables:?}");
    for t in &tables {
        let in_dataset = evaluation::DATASETS
            .iter()
            .any(|d| d.tables.contains(&t.as_str()));
        let excluded = evaluation::NOT_FOR_EVALUATION.iter().any(|(x, _)| x == t);
        assert!(
            in_dataset ^ excluded,
            "table {t} holds a person or referral id: add it to an evaluation dataset or to NOT_FOR_EVALUATION with a reason"
        );
        if in_dataset {
            // The person has rows in it, so the check below is not vacuous.
            let n = if t == "people" {
                w.app
                    .count(&format!("SELECT COUNT(*) FROM people WHERE id = '{kim}'"))
                    .await
            } else if t == "person_identities" || t == "referrals" {
                w.app
                    .count(&format!(
                        "SELECT COUNT(*) FROM {t} WHERE person_id = '{kim}'"
                    ))
                    .await
            } else {
                w.app.count(&format!("SELECT COUNT(*) FROM {t} WHERE referral_id IN (SELECT id FROM referrals WHERE person_id = '{kim}')")).await
            };
            assert!(n > 0, "{t} has no rows for the test person");
        }
    }
    let kim_rid = evaluation::research_id(&w.app.state, &kim);
    let lee_rid = evaluation::research_id(&w.app.state, &lee);
    let present = |rows: &Vec<Vec<String>>, rid: &str| rows.iter().skip(1).any(|r| r[0] == rid);
    for d in evaluation::DATASETS {
        let rows = evaluation::rows(&w.app.state, d).await.unwrap();
        assert!(
            present(&rows, &kim_rid) && present(&rows, &lee_rid),
            "{} before withdrawal",
            d.name
        );
    }
    // Kim withdraws through the care team; from that moment no dataset or export has Kim.
    let (lw, _) = &mut w.lw;
    let r = post(
        lw,
        &format!("/people/{kim}"),
        &format!("/people/{kim}/consents"),
        &[
            ("purpose", "evaluation"),
            ("decision", "withdrawn"),
            ("method", "verbal"),
            ("witness", ""),
        ],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a verbal decision needs a witness"
    );
    let r = post(
        lw,
        &format!("/people/{kim}"),
        &format!("/people/{kim}/consents"),
        &[
            ("purpose", "evaluation"),
            ("decision", "withdrawn"),
            ("method", "paper"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for d in evaluation::DATASETS {
        let rows = evaluation::rows(&w.app.state, d).await.unwrap();
        assert!(
            !present(&rows, &kim_rid),
            "{} still has the withdrawn person",
            d.name
        );
        assert!(
            present(&rows, &lee_rid),
            "{} lost a consenting person",
            d.name
        );
    }
    // The researcher's download and API agree, and are audited.
    let org = w.app.org("Uni", "university").await;
    let (mut res, res_id, _) = signed(&w.app, Role::Researcher, &org).await;
    let csv = res.get("/research/datasets/referrals.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains(&lee_rid) && !csv.body.contains(&kim_rid));
    assert!(
        !csv.body.contains("Lee") && !csv.body.contains("robin@example.org"),
        "no identity in exports"
    );
    let actor = Actor {
        user_id: res_id,
        display_name: "r".into(),
        email: "r@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "api",
    };
    let token = ensemble::modules::accounts::service::create_token(
        &w.app.state,
        &actor,
        "r",
        &["evaluation:read".to_string()],
        "",
    )
    .await
    .unwrap();
    let api = w
        .app
        .client()
        .api("GET", "/api/v1/evaluation/attendance", Some(&token), None)
        .await;
    assert_eq!(api.status, StatusCode::OK);
    assert!(api.body.contains(&lee_rid) && !api.body.contains(&kim_rid));
    assert_eq!(
        w.app
            .client()
            .api("GET", "/api/v1/evaluation/nope", Some(&token), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'evaluation.export'")
            .await
            >= 2
    );
    // A participant withdraws their own consent from "My plan".
    let porg = w.app.org("Participants", "community_group").await;
    let (mut me, me_id, _) = signed(&w.app, Role::Participant, &porg).await;
    sqlx::query("UPDATE people SET user_id = $1 WHERE id = $2")
        .bind(me_id)
        .bind(lee.clone())
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    // Withdrawing asks to confirm first, saying what happens.
    let confirm = me.get("/my/consents/evaluation").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("Are you sure you want to withdraw")
            && confirm.body.contains("What happens if you withdraw"),
        "{}",
        confirm.body
    );
    let r = me
        .submit(
            "/my/consents/evaluation",
            "/my/consents",
            &[("purpose", "evaluation"), ("decision", "withdrawn")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for d in evaluation::DATASETS {
        assert!(!present(
            &evaluation::rows(&w.app.state, d).await.unwrap(),
            &lee_rid
        ));
    }
    assert_eq!(w.app.count(&format!("SELECT COUNT(*) FROM consent_decisions WHERE person_id = '{lee}' AND purpose = 'evaluation' AND decision = 'withdrawn' AND method = 'online'")).await, 1);
}

#[tokio::test]
async fn a_research_dataset_cell_a_spreadsheet_would_run_as_a_formula_is_downloaded_as_text() {
    let mut w = world().await;
    assert_eq!(self_refer(&w.app, SELF).await.status, StatusCode::SEE_OTHER);
    let id = latest_referral(&w.app).await;
    let (lw, _) = &mut w.lw;
    let case = format!("/caseload/{id}");
    post(lw, &case, &format!("{case}/take"), &[]).await;
    post(
        lw,
        &case,
        &format!("{case}/barriers"),
        &[("barrier", "cost"), ("action", "bursary")],
    )
    .await;
    // Stored text that did not come from Ensemble's own lists (an older import, a
    // database edit) is exported as text, never as a formula.
    sqlx::query("UPDATE referral_barriers SET action = $1")
        .bind("=HYPERLINK(\"http://example.org\",\"x\")")
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    let org = w.app.org("Uni", "university").await;
    let (mut res, _, _) = signed(&w.app, Role::Researcher, &org).await;
    let csv = res.get("/research/datasets/barriers.csv").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(
        csv.body
            .contains(",\"'=HYPERLINK(\"\"http://example.org\"\",\"\"x\"\")\""),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains(",\"=HYPERLINK"), "{}", csv.body);
}

#[tokio::test]
async fn a_participant_withdraws_a_consent_after_confirming_and_gives_it_again_as_a_new_decision() {
    let w = world().await;
    assert_eq!(self_refer(&w.app, SELF).await.status, StatusCode::SEE_OTHER);
    let person: String =
        sqlx::query_scalar("SELECT person_id FROM referrals ORDER BY created_at DESC LIMIT 1")
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
    let porg = w.app.org("Participants", "community_group").await;
    let (mut me, me_id, _) = signed(&w.app, Role::Participant, &porg).await;
    sqlx::query("UPDATE people SET user_id = $1 WHERE id = $2")
        .bind(me_id)
        .bind(person.clone())
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    let decisions = |d: &str| {
        format!(
            "SELECT COUNT(*) FROM consent_decisions WHERE person_id = '{person}' AND purpose = 'share_stories' AND decision = '{d}'"
        )
    };
    let before_given = w.app.count(&decisions("given")).await;
    // First person on "My plan", with a link to the confirmation page.
    let plan = me.get("/my/plan").await;
    assert!(plan.body.contains("I agree that"), "{}", plan.body);
    // Give, withdraw, give again: each a confirmation page and a new decision.
    // Self-referral does not ask about sharing stories: the person gives it first.
    let give = me.get("/my/consents/share_stories").await;
    assert!(
        give.body.contains("Do you want to give your consent?"),
        "{}",
        give.body
    );
    let step = |decision: &'static str| [("purpose", "share_stories"), ("decision", decision)];
    let r = me
        .submit("/my/consents/share_stories", "/my/consents", &step("given"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let confirm = me.get("/my/consents/share_stories").await;
    assert!(
        confirm.body.contains("Yes, withdraw my consent"),
        "{}",
        confirm.body
    );
    let r = me
        .submit(
            "/my/consents/share_stories",
            "/my/consents",
            &step("withdrawn"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        me.get("/my/plan?consent=withdrawn")
            .await
            .body
            .contains("You have withdrawn your consent")
    );
    let again = me.get("/my/consents/share_stories").await;
    assert!(
        again.body.contains("Do you want to give your consent?"),
        "{}",
        again.body
    );
    let r = me
        .submit("/my/consents/share_stories", "/my/consents", &step("given"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(w.app.count(&decisions("withdrawn")).await, 1);
    assert_eq!(w.app.count(&decisions("given")).await, before_given + 2);
    assert!(
        w.app
            .count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'consent.record' AND entity_id = '{person}' AND detail LIKE '%\"decision\":\"given\"%' AND detail LIKE '%\"previous\":\"withdrawn\"%'"))
            .await
            == 1
    );
    let current: String = sqlx::query_scalar(
        "SELECT decision FROM person_consents WHERE person_id = $1 AND purpose = 'share_stories'",
    )
    .bind(person.clone())
    .fetch_one(&w.app.state.db.read)
    .await
    .unwrap();
    assert_eq!(current, "given");
    // Bad input never 500s.
    assert_eq!(
        me.get("/my/consents/nope").await.status,
        StatusCode::NOT_FOUND
    );
    let bad = me
        .submit(
            "/my/plan",
            "/my/consents",
            &[("purpose", "share_stories"), ("decision", "maybe")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = me
        .submit("/my/plan", "/my/consents", &[("purpose", "x")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
