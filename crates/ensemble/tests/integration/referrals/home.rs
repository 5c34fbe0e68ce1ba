//! The link worker's first view of the caseload (new referrals nobody has taken on beside
//! their own), their home page, and the case page's order.

use axum::http::StatusCode;

use super::*;

/// Where `needle` is in `hay`, or a failure naming it.
fn at(hay: &str, needle: &str) -> usize {
    hay.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found in:\n{hay}"))
}

#[tokio::test]
async fn the_caseload_shows_new_unassigned_referrals_beside_the_link_worker_s_own() {
    let mut w = world().await;
    let r = self_refer(&w.app, SELF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let robin = latest_referral(&w.app).await;
    let mut sam_fields: Vec<(&str, &str)> = SELF.to_vec();
    sam_fields[0] = ("given_name", "Sam");
    sam_fields[2] = ("email", "sam@example.org");
    let r = self_refer(&w.app, &sam_fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let sam = latest_referral(&w.app).await;
    // The other link worker of the team takes Sam on.
    let case = format!("/caseload/{sam}");
    post_ok(&mut w.lw2.0, &case, &format!("{case}/take"), &[]).await;

    let (lw, _) = &mut w.lw;
    // The home page counts the new one and none of Lee's own yet.
    let home = lw.get("/").await.body;
    assert!(
        home.contains("<strong>1</strong> new referral nobody has taken on yet"),
        "{home}"
    );
    assert!(
        home.contains("You have <strong>0</strong> open referrals"),
        "{home}"
    );
    // The caseload, with no filter: Robin under the new ones; Sam (someone else's) not at all.
    let page = lw.get("/caseload").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = page.body;
    let new_at = at(&body, ">New referrals nobody has taken on</h2>");
    let mine_at = at(&body, ">Your referrals</h2>");
    let robin_at = at(&body, &format!("/caseload/{robin}"));
    assert!(
        new_at < robin_at && robin_at < mine_at,
        "Robin is listed as new"
    );
    assert!(
        !body.contains(&format!("/caseload/{sam}")),
        "another link worker's referral"
    );
    assert!(body[mine_at..].contains("You have no open referrals"));

    // Once Lee takes Robin on, Robin moves to Lee's own list.
    let case = format!("/caseload/{robin}");
    post_ok(lw, &case, &format!("{case}/take"), &[]).await;
    let body = lw.get("/caseload").await.body;
    let mine_at = at(&body, ">Your referrals</h2>");
    assert!(
        at(&body, &format!("/caseload/{robin}")) > mine_at,
        "Robin is now Lee's"
    );
    assert!(body[..mine_at].contains("None: every open referral to your team has a link worker"));
    let home = lw.get("/").await.body;
    assert!(
        home.contains("You have <strong>1</strong> open referral<"),
        "{home}"
    );
    assert!(home.contains("No new referrals are waiting"), "{home}");
    // A chosen filter still shows one list.
    let team = lw.get("/caseload?show=team&status=open").await.body;
    assert!(
        team.contains(&format!("/caseload/{sam}")) && team.contains(&format!("/caseload/{robin}"))
    );
    assert!(!team.contains(">New referrals nobody has taken on</h2>"));
}

#[tokio::test]
async fn the_case_page_leads_with_contact_details_and_communication_needs_and_folds_the_rest() {
    let mut w = world().await;
    let mut fields: Vec<(&str, &str)> = SELF.to_vec();
    fields.push((
        "communication_needs",
        "Uses a hearing aid; please text first.",
    ));
    let r = self_refer(&w.app, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = latest_referral(&w.app).await;
    let case = format!("/caseload/{id}");
    let (lw, _) = &mut w.lw;
    let body = lw.get(&case).await.body;
    let h1 = at(&body, "<h1>Robin Tester</h1>");
    let contact = at(&body, ">Contact details and communication needs</h2>");
    let phone = at(&body, "0151 000 0000");
    let email = at(&body, "robin@example.org");
    let needs = at(&body, "Communication needs");
    let next = at(&body, ">Next step</h2>");
    assert!(h1 < contact && contact < phone && phone < next && email < next && needs < next);
    // The rest is folded into sections after the next step, each closed at first.
    let mut last = next;
    for summary in [
        "About the referral",
        "What matters to them and the plan",
        "Wellbeing",
        "Tasks (",
        "Barriers (",
        "More about Robin and their consent",
        "Message back",
        "Case notes and messages (",
    ] {
        let here = at(
            &body,
            &format!("<span class=\"nhsuk-details__summary-text\">{summary}"),
        );
        assert!(here > last, "{summary} comes after the one before");
        last = here;
    }
    assert!(
        at(&body, "I feel lonely") > at(&body, "About the referral"),
        "the reason is folded"
    );
    assert_eq!(
        body.matches("<details class=\"nhsuk-details ensemble-case-section\">")
            .count(),
        8
    );
    // A mistake in a folded form opens its section and names the field.
    let r = post(
        lw,
        &case,
        &format!("{case}/tasks"),
        &[("title", ""), ("due", "soon")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("<details class=\"nhsuk-details ensemble-case-section\" open>"),
        "the tasks section is open"
    );
    assert!(r.body.contains("href=\"#title\""), "{}", r.body);
}

#[tokio::test]
async fn every_role_s_home_page_leads_with_its_jobs() {
    let app = TestApp::new().await;
    for (role, lead) in [
        (Role::Participant, "Your plan"),
        (Role::Practitioner, "Today's sessions"),
        (Role::LinkWorker, "Referrals"),
        (Role::Clinician, "Incidents and concerns to follow up"),
        (Role::ProgrammeManager, "Your activities"),
        (Role::Researcher, "Evaluation datasets"),
        (Role::Commissioner, "Activities across the city region"),
        (Role::Administrator, "Waiting for an administrator"),
        (Role::CoResearcher, "Questionnaires waiting for your review"),
    ] {
        let (mut c, _) = app.signed_in(role).await;
        let home = c.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{role:?}: {}", home.body);
        let first = home
            .body
            .split("<h2")
            .nth(1)
            .and_then(|h| h.split_once('>'))
            .map(|(_, rest)| rest.split("</h2>").next().unwrap_or(""))
            .unwrap_or("");
        assert_eq!(first, lead, "{role:?} leads with its job");
        assert!(at(&home.body, &format!(">{lead}</h2>")) < at(&home.body, ">Your roles</h2>"));
    }
}
