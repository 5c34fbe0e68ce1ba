//! Proposals, the decision panel and the decisions log: who may read, propose, support,
//! comment, choose the panel, decide and start an action (the relationship matrix); the
//! panel cannot decide without someone with lived experience; bad input is refused with a
//! clear message and nothing stored; the proposer is told; links are checked and withdrawn
//! voices drop out.

use axum::http::StatusCode;
use ensemble::rbac::Role;

use crate::programmes::{World, add, share, signed, world};
use crate::support::Client;

async fn propose(c: &mut Client, programme: &str, title: &str) -> (StatusCode, String) {
    let page = format!("/programmes/{programme}/proposals");
    let r = c
        .submit(
            &page,
            &page,
            &[
                ("kind", "activity_change"),
                ("title", title),
                ("body", "Start the group later so people can get there."),
            ],
        )
        .await;
    let id = r
        .location()
        .trim_start_matches("/proposals/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_string();
    (
        r.status,
        if r.status == StatusCode::SEE_OTHER {
            id
        } else {
            r.body
        },
    )
}

async fn set_panel(c: &mut Client, programme: &str, people: &[&str]) -> StatusCode {
    let page = format!("/programmes/{programme}/proposals");
    let fields: Vec<(&str, &str)> = people.iter().map(|p| ("panel", *p)).collect();
    c.submit(&page, &format!("/programmes/{programme}/panel"), &fields)
        .await
        .status
}

async fn decide(c: &mut Client, proposal: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let r = c
        .submit(
            &format!("/proposals/{proposal}"),
            &format!("/proposals/{proposal}/decision"),
            fields,
        )
        .await;
    (r.status, r.body)
}

async fn csrf_post(
    c: &mut Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> StatusCode {
    c.submit(page, action, fields).await.status
}

async fn name_of(w: &World, id: &str) -> String {
    sqlx::query_scalar("SELECT display_name FROM accounts_user_names WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap()
}

async fn count(w: &World, sql: &str) -> i64 {
    w.app.count(sql).await
}

/// Used by the withdrawal test: the team logs a decision with this voice behind it.
pub(crate) async fn link_in_a_decision(
    team: &mut Client,
    team_id: &str,
    programme: &str,
    voice: &str,
) {
    let page = format!("/programmes/{programme}/decisions/new");
    let r = team
        .submit(
            &page,
            &format!("/programmes/{programme}/decisions"),
            &[
                ("title", "Move the group"),
                ("reasons", "People told us about the bus."),
                ("decided_on", "2026-01-15"),
                ("present", team_id),
                ("voices", voice),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn proposals_matrix_who_may_read_propose_and_decide() {
    let mut w = world().await;
    let p = w.programme.clone();
    let other = w.other_programme.clone();
    let (status, proposal) = propose(&mut w.member, &p, "Later start").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{proposal}");
    let page = format!("/proposals/{proposal}");
    let list = format!("/programmes/{p}/proposals");
    // Reading: members of this programme only; a proposal is a 404 to anyone else.
    for (label, c, want_page, want_list) in [
        ("proposer", &mut w.member, StatusCode::OK, StatusCode::OK),
        ("team", &mut w.team, StatusCode::OK, StatusCode::OK),
        ("manager", &mut w.manager, StatusCode::OK, StatusCode::OK),
        (
            "other programme",
            &mut w.other_member,
            StatusCode::NOT_FOUND,
            StatusCode::FORBIDDEN,
        ),
        (
            "outsider",
            &mut w.outsider,
            StatusCode::NOT_FOUND,
            StatusCode::FORBIDDEN,
        ),
        (
            "signed out",
            &mut w.anonymous,
            StatusCode::SEE_OTHER,
            StatusCode::SEE_OTHER,
        ),
    ] {
        assert_eq!(
            c.get(&page).await.status,
            want_page,
            "{label} opening the proposal"
        );
        assert_eq!(
            c.get(&list).await.status,
            want_list,
            "{label} opening the list"
        );
    }
    // Proposing, supporting and commenting: a member of another programme cannot.
    let csrf = w.other_member.get("/programmes").await.csrf();
    let r = w
        .other_member
        .post_form(
            &format!("/proposals/{proposal}/support"),
            &[("csrf_token", &csrf), ("support", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = w
        .other_member
        .post_form(
            &list,
            &[
                ("csrf_token", &csrf),
                ("kind", "other"),
                ("title", "Mine"),
                ("body", "Mine"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_proposals").await,
        1
    );

    // The panel: only the team chooses it, from this programme's members.
    let team_id = w.team_id.clone();
    let member_id = w.member_id.clone();
    assert_eq!(
        set_panel(&mut w.member, &p, &[&member_id]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        set_panel(&mut w.team, &p, &["nobody"]).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_panel_members").await,
        0
    );
    // A participant who is not on the panel (and not the team) cannot decide.
    let today = ensemble::db::uk::today().to_string();
    let fields = [
        ("outcome", "accepted"),
        ("reasons", "It helps people get home."),
        ("decided_on", today.as_str()),
        ("present", member_id.as_str()),
    ];
    assert_eq!(
        decide(&mut w.member, &proposal, &fields).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        decide(&mut w.outsider, &proposal, &fields).await.0,
        StatusCode::NOT_FOUND
    );
    // Once on the panel, the participant can decide (a second proposal, below).
    assert_eq!(
        set_panel(&mut w.team, &p, &[&team_id, &member_id]).await,
        StatusCode::SEE_OTHER
    );
    let (_, second) = propose(&mut w.team, &p, "A new measure").await;
    let (s, body) = decide(&mut w.member, &second, &fields).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    // Starting an action from a decision is for the team only.
    let decision: String =
        sqlx::query_scalar("SELECT id FROM programme_decisions WHERE proposal_id = $1")
            .bind(second.clone())
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
    let form = format!("/decisions/{decision}/action");
    assert_eq!(w.member.get(&form).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        w.other_member.get(&form).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(w.team.get(&form).await.status, StatusCode::OK);
    // Logging a decision directly is for the team only.
    let new = format!("/programmes/{p}/decisions/new");
    assert_eq!(w.member.get(&new).await.status, StatusCode::FORBIDDEN);
    assert_eq!(w.team.get(&new).await.status, StatusCode::OK);
    assert_eq!(
        w.team
            .get(&format!("/programmes/{other}/decisions/new"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The log is public; names are for members.
    let member_name = name_of(&w, &member_id).await;
    let log = format!("/programmes/{p}/decisions");
    let public = w.anonymous.get(&log).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains("A new measure") && !public.body.contains("Took part:"));
    assert!(
        public
            .body
            .contains("Their names are shown to the programme")
    );
    assert!(!public.body.contains(&format!("/proposals/{second}")));
    let outsider = w.outsider.get(&log).await;
    assert!(outsider.status == StatusCode::OK && !outsider.body.contains("Took part:"));
    let members = w.member.get(&log).await;
    assert!(
        members
            .body
            .contains(&format!("Took part: {member_name} (lived experience)"))
            && members.body.contains(&format!("/proposals/{second}"))
    );
}

#[tokio::test]
async fn proposals_panel_decides_with_lived_experience_and_the_proposer_is_told() {
    let mut w = world().await;
    let p = w.programme.clone();
    let (team_id, member_id) = (w.team_id.clone(), w.member_id.clone());

    // Bad input: empty title, unknown kind; nothing stored. HTML is shown as text.
    let (s, body) = propose(&mut w.member, &p, "   ").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Enter a title"));
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_proposals").await,
        0
    );
    let (s, proposal) = propose(&mut w.member, &p, "<script>alert(1)</script> Later start").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let page = format!("/proposals/{proposal}");
    let shown = w.team.get(&page).await.body;
    assert!(
        shown.contains("&lt;script&gt;alert(1)&lt;/script&gt; Later start")
            && !shown.contains("<script>alert(1)")
    );

    // Support: one per person, can be withdrawn; the count is shown.
    for v in ["yes", "yes"] {
        assert_eq!(
            csrf_post(
                &mut w.team,
                &page,
                &format!("{page}/support"),
                &[("support", v)]
            )
            .await,
            StatusCode::SEE_OTHER
        );
    }
    assert!(w.team.get(&page).await.body.contains("1 supporter"));
    assert_eq!(
        csrf_post(
            &mut w.manager,
            &page,
            &format!("{page}/support"),
            &[("support", "yes")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert!(w.team.get(&page).await.body.contains("2 supporters"));
    assert_eq!(
        csrf_post(
            &mut w.manager,
            &page,
            &format!("{page}/support"),
            &[("support", "no")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_proposal_supports").await,
        1
    );
    // Comments: an empty one is refused; HTML is text.
    let r = w
        .team
        .submit(&page, &format!("{page}/comments"), &[("comment", "  ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter your comment"));
    assert_eq!(
        csrf_post(
            &mut w.team,
            &page,
            &format!("{page}/comments"),
            &[("comment", "<b>Yes</b> please")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert!(
        w.member
            .get(&page)
            .await
            .body
            .contains("&lt;b&gt;Yes&lt;/b&gt; please")
    );
    // Only the proposer withdraws; the team sends it to the panel.
    assert_eq!(
        csrf_post(
            &mut w.team,
            &page,
            &format!("{page}/status"),
            &[("status", "withdrawn")]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        csrf_post(
            &mut w.member,
            &page,
            &format!("{page}/status"),
            &[("status", "under_review")]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        csrf_post(
            &mut w.team,
            &page,
            &format!("{page}/status"),
            &[("status", "under_review")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert!(
        w.member
            .get(&page)
            .await
            .body
            .contains("Under panel review")
    );

    // A panel without lived experience cannot decide.
    assert_eq!(
        set_panel(&mut w.team, &p, &[&team_id]).await,
        StatusCode::SEE_OTHER
    );
    let today = ensemble::db::uk::today().to_string();
    let mut fields = vec![
        ("outcome", "accepted"),
        ("reasons", "It helps people get home."),
        ("decided_on", today.as_str()),
        ("present", team_id.as_str()),
    ];
    let (s, body) = decide(&mut w.team, &proposal, &fields).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("it has nobody with lived experience"),
        "{body}"
    );
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_decisions").await,
        0
    );
    // With a participant on the panel, one of them must be ticked as taking part.
    assert_eq!(
        set_panel(&mut w.team, &p, &[&team_id, &member_id]).await,
        StatusCode::SEE_OTHER
    );
    let (s, body) = decide(&mut w.team, &proposal, &fields).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Tick at least one panel member with lived experience"));
    fields.push(("present", member_id.as_str()));
    // Reasons required, a real date, known links only.
    for (field, value, message) in [
        ("reasons", " ", "Enter the reasons for the decision"),
        (
            "decided_on",
            "31/01/2026",
            "Enter the date of the decision as year-month-day",
        ),
        ("decided_on", "2999-01-01", "cannot be in the future"),
        (
            "outcome",
            "decided",
            "Choose whether the panel accepts or declines",
        ),
        (
            "voices",
            "no-such-voice",
            "Link only voices of this programme that you can read",
        ),
        (
            "actions",
            "no-such-action",
            "Link only actions of this programme",
        ),
        ("present", "someone-else", "Tick who took part"),
    ] {
        let mut f: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| *k != field || field == "present")
            .copied()
            .collect();
        f.push((field, value));
        let (s, body) = decide(&mut w.team, &proposal, &f).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
        assert!(body.contains(message), "{field}={value}: {message}");
    }
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_decisions").await,
        0
    );
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_decision_participants").await,
        0
    );

    // A voice of another programme, or one the recorder cannot read, cannot be linked.
    let elsewhere = share(
        &mut w.other_member,
        &w.other_programme.clone(),
        "Elsewhere",
        "members",
    )
    .await;
    let (mut co, co_email, co_id) = signed(
        &w.app,
        Role::Participant,
        &w.app.org("Group", "community_group").await,
    )
    .await;
    add(&mut w.manager, &p, &co_email, "consulted", "co_researcher").await;
    let private = share(&mut w.member, &p, "Just for the team", "team").await;
    let heard = share(&mut w.member, &p, "The bus goes at 4.10", "members").await;
    assert_eq!(
        set_panel(&mut w.team, &p, &[&team_id, &member_id, &co_id]).await,
        StatusCode::SEE_OTHER
    );
    let mut f = fields.clone();
    f.push(("voices", &elsewhere));
    assert_eq!(
        decide(&mut w.team, &proposal, &f).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut f = fields.clone();
    f.push(("voices", &private));
    assert_eq!(
        decide(&mut co, &proposal, &f).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_decisions").await,
        0
    );

    // The team records it on the panel's behalf, with the voice behind it.
    let mut f = fields.clone();
    f.push(("voices", &heard));
    let (s, body) = decide(&mut w.team, &proposal, &f).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    assert!(w.team.get(&page).await.body.contains("Accepted"));
    // Deciding twice is refused, and nothing changes.
    let mut again = fields.clone();
    again[0] = ("outcome", "declined");
    let (s, body) = decide(&mut w.team, &proposal, &again).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("already accepted: it cannot be decided again"),
        "{body}"
    );
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_decisions").await,
        1
    );
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_decision_participants").await,
        2
    );
    // Supporting or commenting on a decided proposal is refused.
    assert_eq!(
        csrf_post(
            &mut w.manager,
            &page,
            &format!("{page}/support"),
            &[("support", "yes")]
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The proposer is told, on the space and the proposals page, until they open it.
    let space = w.member.get(&format!("/programmes/{p}")).await.body;
    assert!(space.contains("news on 1 of yours"), "{space}");
    let list = w
        .member
        .get(&format!("/programmes/{p}/proposals"))
        .await
        .body;
    assert!(list.contains("Your proposals that have been decided") && list.contains("(new)"));
    let opened = w.member.get(&page).await.body;
    assert!(opened.contains("Took part: ") && opened.contains("(lived experience)"));
    assert!(
        !w.member
            .get(&format!("/programmes/{p}"))
            .await
            .body
            .contains("news on")
    );
    assert_eq!(
        count(
            &w,
            "SELECT COUNT(*) FROM programme_proposal_notifications WHERE read_at IS NOT NULL"
        )
        .await,
        1
    );

    // The decision starts an action through the actions service; the log links it.
    let decision: String = sqlx::query_scalar("SELECT id FROM programme_decisions")
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    let form = format!("/decisions/{decision}/action");
    let r = w
        .team
        .submit(
            &form,
            &form,
            &[
                ("title", ""),
                ("description", "x"),
                ("owner_id", &team_id),
                ("due_on", "2026-06-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter what will change"));
    assert_eq!(count(&w, "SELECT COUNT(*) FROM programme_actions").await, 0);
    let r = w
        .team
        .submit(
            &form,
            &form,
            &[
                ("title", "Start at 2"),
                ("description", "We heard about the bus."),
                ("owner_id", &team_id),
                ("due_on", "2026-06-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let action = r
        .location()
        .trim_start_matches("/actions/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(count(&w, &format!("SELECT COUNT(*) FROM programme_action_voices WHERE action_id = '{action}' AND voice_id = '{heard}'")).await, 1);
    assert_eq!(w.team.get(&form).await.status, StatusCode::CONFLICT);
    let log = w
        .member
        .get(&format!("/programmes/{p}/decisions"))
        .await
        .body;
    assert!(
        log.contains(&format!("/actions/{action}")) && log.contains(&format!("/voices/{heard}"))
    );
    assert!(log.contains("(lived experience)"));
    assert!(
        w.anonymous
            .get(&format!("/programmes/{p}/board"))
            .await
            .body
            .contains("Start at 2")
    );

    // Every change is audited.
    for what in [
        "proposal.create",
        "proposal.support",
        "proposal.unsupport",
        "proposal.comment",
        "proposal.status",
        "panel.set",
        "decision.record",
        "decision.action",
        "action.create",
    ] {
        assert!(
            count(
                &w,
                &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{what}'")
            )
            .await
                > 0,
            "{what} audited"
        );
    }
}

#[tokio::test]
async fn proposals_direct_decisions_check_links_and_withdrawn_voices_drop_out() {
    let mut w = world().await;
    let p = w.programme.clone();
    let team_id = w.team_id.clone();
    let voice = share(&mut w.member, &p, "Please tell us what changed", "members").await;
    let elsewhere = share(
        &mut w.other_member,
        &w.other_programme.clone(),
        "Elsewhere",
        "members",
    )
    .await;
    let page = format!("/programmes/{p}/decisions/new");
    let post = format!("/programmes/{p}/decisions");
    // Members who are not the team cannot log a decision directly.
    let r = w
        .member
        .submit(
            &format!("/programmes/{p}"),
            &post,
            &[
                ("title", "x"),
                ("reasons", "y"),
                ("decided_on", "2026-01-01"),
                ("present", &team_id),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Bad input: empty title, a voice of another programme; nothing stored.
    let r = w
        .team
        .submit(
            &page,
            &post,
            &[
                ("title", ""),
                ("reasons", "y"),
                ("decided_on", "2026-01-01"),
                ("present", &team_id),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter what was decided"));
    let r = w
        .team
        .submit(
            &page,
            &post,
            &[
                ("title", "x"),
                ("reasons", "y"),
                ("decided_on", "2026-01-01"),
                ("present", &team_id),
                ("voices", &elsewhere),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Link only voices of this programme"));
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_decisions").await,
        0
    );
    link_in_a_decision(&mut w.team, &team_id, &p, &voice).await;
    let log = format!("/programmes/{p}/decisions");
    let body = w.member.get(&log).await.body;
    assert!(
        body.contains("Move the group")
            && body.contains(&format!("/voices/{voice}"))
            && body.contains("Decided")
    );
    // A members-only voice is not linked for the public.
    assert!(
        !w.anonymous
            .get(&log)
            .await
            .body
            .contains(&format!("/voices/{voice}"))
    );
    // Withdrawn, it drops out of the log.
    let r = w
        .member
        .submit(
            &format!("/voices/{voice}"),
            &format!("/voices/{voice}/withdraw"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let body = w.team.get(&log).await.body;
    assert!(body.contains("Move the group") && !body.contains(&format!("/voices/{voice}")));
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM programme_decision_voices").await,
        0
    );
}
