//! Plans, updates and the Atom feed: who may read and change what (the relationship
//! matrix), revisions with reasons and their comparison, two editors saving at once, updates
//! with comments, and a feed that holds only public items.

use axum::http::StatusCode;

use crate::programmes::{World, share, world};
use crate::support::{Client, Resp};

/// Save the plan as `c` (the CSRF token comes from the programmes list, open to anyone
/// signed in).
async fn save_plan(
    c: &mut Client,
    p: &str,
    title: &str,
    body: &str,
    reason: &str,
    base: &str,
) -> Resp {
    c.submit(
        "/programmes",
        &format!("/programmes/{p}/plan"),
        &[
            ("title", title),
            ("body", body),
            ("reason", reason),
            ("base", base),
        ],
    )
    .await
}

async fn post_update(c: &mut Client, p: &str, title: &str, body: &str, visibility: &str) -> Resp {
    c.submit(
        "/programmes",
        &format!("/programmes/{p}/updates"),
        &[("title", title), ("body", body), ("visibility", visibility)],
    )
    .await
}

fn update_id(r: &Resp) -> String {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    r.location()
        .split("/updates/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

async fn revisions(w: &World) -> i64 {
    w.app
        .count(&format!(
            "SELECT COUNT(*) FROM programme_plan_revisions WHERE programme_id = '{}'",
            w.programme
        ))
        .await
}

async fn audited(w: &World, action: &str) -> i64 {
    w.app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
        ))
        .await
}

/// Every reader of plans, updates and comments: the manager, a responsible member, a
/// consulted participant, a member of another programme, an outsider, and someone signed
/// out — through the pages, the forms and the public page and feed.
#[tokio::test]
async fn plans_relationships_matrix() {
    let mut w = world().await;
    let p = w.programme.clone();
    let r = save_plan(&mut w.team, &p, "Plan", "One\nTwo", "First plan", "0").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = save_plan(&mut w.manager, &p, "Plan", "One\nThree", "Second plan", "1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let public =
        update_id(&post_update(&mut w.team, &p, "Public news words", "For all.", "public").await);
    let members =
        update_id(&post_update(&mut w.team, &p, "Members news words", "For us.", "members").await);

    let mut viewers: Vec<(&str, Client)> = vec![
        ("manager", w.manager.clone()),
        ("responsible", w.team.clone()),
        ("participant", w.member.clone()),
        ("other programme", w.other_member.clone()),
        ("outsider", w.outsider.clone()),
        ("signed out", w.anonymous.clone()),
    ];
    use StatusCode as S;
    let (ok, no, gone, out) = (S::OK, S::FORBIDDEN, S::NOT_FOUND, S::SEE_OTHER);
    let gets: [(String, [S; 6]); 7] = [
        (format!("/programmes/{p}/plan"), [ok, ok, ok, no, no, out]),
        (
            format!("/programmes/{p}/plan/history"),
            [ok, ok, ok, no, no, out],
        ),
        (
            format!("/programmes/{p}/plan/compare?from=1&to=2"),
            [ok, ok, ok, no, no, out],
        ),
        (
            format!("/programmes/{p}/plan/edit"),
            [ok, ok, no, no, no, out],
        ),
        (
            format!("/programmes/{p}/updates"),
            [ok, ok, ok, no, no, out],
        ),
        (
            format!("/programmes/{p}/updates/{public}"),
            [ok, ok, ok, gone, gone, out],
        ),
        (
            format!("/programmes/{p}/updates/{members}"),
            [ok, ok, ok, gone, gone, out],
        ),
    ];
    for (path, expect) in &gets {
        for (i, (label, c)) in viewers.iter_mut().enumerate() {
            assert_eq!(c.get(path).await.status, expect[i], "{label} GET {path}");
        }
    }
    // The plan page shows the edit link only to those who may edit.
    assert!(
        w.team
            .get(&format!("/programmes/{p}/plan"))
            .await
            .body
            .contains("Change the plan")
    );
    assert!(
        !w.member
            .get(&format!("/programmes/{p}/plan"))
            .await
            .body
            .contains("Change the plan")
    );

    // Forms: saving the plan, posting updates, commenting (signed in only).
    let mut base = 2;
    for (i, (label, c)) in viewers.iter_mut().enumerate().take(5) {
        let r = save_plan(
            c,
            &p,
            "Plan",
            &format!("One\nBy {label}"),
            "Because",
            &base.to_string(),
        )
        .await;
        let want = if i < 2 { S::SEE_OTHER } else { S::FORBIDDEN };
        assert_eq!(r.status, want, "{label} saves the plan: {}", r.body);
        if i < 2 {
            base += 1;
        }
        let r = post_update(c, &p, "By a member", "Words", "members").await;
        let want = if i < 3 { S::SEE_OTHER } else { S::FORBIDDEN };
        assert_eq!(r.status, want, "{label} posts an update");
        let r = c
            .submit(
                "/programmes",
                &format!("/programmes/{p}/updates/{public}/comments"),
                &[("comment", "A comment")],
            )
            .await;
        let want = if i < 3 { S::SEE_OTHER } else { S::NOT_FOUND };
        assert_eq!(r.status, want, "{label} comments");
    }
    assert_eq!(revisions(&w).await, 4);
    // A participant may not post a public update: the field says why, nothing is stored.
    let before = w.app.count("SELECT COUNT(*) FROM programme_updates").await;
    let r = post_update(
        &mut w.member,
        &p,
        "Public by participant",
        "Words",
        "public",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Only the programme team can post a public update")
    );
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM programme_updates").await,
        before
    );

    // The public page and the feed, for everyone: the public update only.
    for (label, c) in viewers.iter_mut() {
        for path in [
            format!("/programmes/{p}/about"),
            format!("/programmes/{p}/feed.atom"),
        ] {
            let r = c.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{label} {path}");
            assert!(
                r.body.contains("Public news words"),
                "{label}: public update on {path}"
            );
            assert!(
                !r.body.contains("Members news words"),
                "{label}: members' update on {path}"
            );
            assert!(!r.body.contains("A comment"), "{label}: comments on {path}");
        }
    }
    // An update is only found under its own programme.
    let r = w
        .manager
        .get(&format!(
            "/programmes/{}/updates/{public}",
            w.other_programme
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Each save is a revision with who, when and why; the history lists them; two revisions
/// compare line by line with `<del>`/`<ins>` and the words "Removed"/"Added"; text with
/// HTML is shown as text; bad input names the field and stores nothing.
#[tokio::test]
async fn plans_revisions_history_and_compare() {
    let mut w = world().await;
    let p = w.programme.clone();
    let r = save_plan(&mut w.team, &p, "Plan", "Groups on wards", "", "0").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Enter why you made this change"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Groups on wards"), "the typed text is kept");
    let r = save_plan(&mut w.team, &p, "", "", "Because", "0").await;
    assert!(
        r.body.contains("Enter a title for the plan")
            && r.body.contains("Enter the text of the plan")
    );
    assert_eq!(revisions(&w).await, 0);
    let long = "x".repeat(20_001);
    let r = save_plan(&mut w.team, &p, "Plan", &long, "Because", "0").await;
    assert!(r.body.contains("must be 20000 characters or fewer"));

    let r = save_plan(
        &mut w.team,
        &p,
        "Plan 2026",
        "Groups on wards\r\nOne venue\r\nMeasure at 12 weeks",
        "First plan agreed",
        "0",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = save_plan(
        &mut w.manager,
        &p,
        "Plan 2026 <b>revised</b>",
        "Groups on wards\nTwo venues\nMeasure at 12 weeks\n<script>alert(1)</script>",
        "Participants asked for a second venue",
        "1",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The same text again is refused: it would be a revision with no change.
    let r = save_plan(
        &mut w.manager,
        &p,
        "Plan 2026 <b>revised</b>",
        "Groups on wards\nTwo venues\nMeasure at 12 weeks\n<script>alert(1)</script>",
        "Again",
        "2",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("The plan is the same as the current revision")
    );
    assert_eq!(revisions(&w).await, 2);
    assert_eq!(audited(&w, "plan.revise").await, 2);

    let plan = w.member.get(&format!("/programmes/{p}/plan")).await;
    assert!(
        plan.body.contains("Revision 2")
            && plan.body.contains("Participants asked for a second venue")
    );
    assert!(
        plan.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            && !plan.body.contains("<script>alert")
    );
    let history = w.member.get(&format!("/programmes/{p}/plan/history")).await;
    assert!(
        history.body.contains("First plan agreed")
            && history
                .body
                .contains("Participants asked for a second venue")
    );
    assert!(
        history
            .body
            .contains(&format!("/programmes/{p}/plan/compare?from=1&amp;to=2"))
    );

    let cmp = w
        .member
        .get(&format!("/programmes/{p}/plan/compare?from=1&to=2"))
        .await;
    assert_eq!(cmp.status, StatusCode::OK);
    assert!(
        cmp.body.contains("Removed</strong><del>One venue</del>"),
        "{}",
        cmp.body
    );
    assert!(cmp.body.contains("Added</strong><ins>Two venues</ins>"));
    assert!(
        cmp.body
            .contains("Added</strong><ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>")
    );
    assert!(
        cmp.body.contains("<del>Plan 2026</del>")
            && cmp
                .body
                .contains("<ins>Plan 2026 &lt;b&gt;revised&lt;/b&gt;</ins>")
    );
    assert!(
        !cmp.body.contains("<del>Groups on wards</del>"),
        "unchanged lines are not marked"
    );
    assert!(cmp.body.contains("1 line removed, 2 lines added."));
    // Either order, and bad numbers: a clear 400 or 404, never a 500.
    assert_eq!(
        w.member
            .get(&format!("/programmes/{p}/plan/compare?from=2&to=1"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        w.member
            .get(&format!("/programmes/{p}/plan/compare?from=x&to=1"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        w.member
            .get(&format!("/programmes/{p}/plan/compare?from=1&to=9"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        save_plan(&mut w.team, &p, "T", "B", "R", "nope")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        save_plan(&mut w.team, &p, "T", "B", "R", "7").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(revisions(&w).await, 2);
}

/// Two people open the editor on the same revision; the first saves; the second's save is
/// refused (409) with the first person's changes shown beside theirs and their text kept in
/// the form, based now on the newer revision, so saving again merges deliberately.
#[tokio::test]
async fn plans_two_editors_do_not_lose_work() {
    let mut w = world().await;
    let p = w.programme.clone();
    let r = save_plan(&mut w.team, &p, "Plan", "Wards\nOne venue", "First", "0").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let edit = format!("/programmes/{p}/plan/edit");
    let a = w.team.get(&edit).await;
    let b = w.manager.get(&edit).await;
    for form in [&a, &b] {
        assert!(form.body.contains(r#"name="base" value="1""#));
    }
    let r = save_plan(
        &mut w.team,
        &p,
        "Plan",
        "Wards\nTwo venues",
        "Second venue",
        "1",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = save_plan(
        &mut w.manager,
        &p,
        "Plan",
        "Wards\nOne venue\nEvening group",
        "Add an evening group",
        "1",
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("Someone else saved the plan while you were editing it")
    );
    assert!(r.body.contains("Second venue"), "their reason");
    assert!(
        r.body.contains("Added</strong><ins>Two venues</ins>"),
        "what they changed"
    );
    assert!(
        r.body.contains("Added</strong><ins>Evening group</ins>"),
        "yours beside theirs"
    );
    assert!(
        r.body
            .contains("Wards\nOne venue\nEvening group</textarea>"),
        "your text is kept"
    );
    assert!(
        r.body.contains("Add an evening group</textarea>"),
        "your reason is kept"
    );
    assert!(r.body.contains(r#"name="base" value="2""#));
    assert_eq!(revisions(&w).await, 2);
    let r = save_plan(
        &mut w.manager,
        &p,
        "Plan",
        "Wards\nTwo venues\nEvening group",
        "Merged: evening group",
        "2",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(revisions(&w).await, 3);
    let plan = w.member.get(&format!("/programmes/{p}/plan")).await;
    assert!(plan.body.contains("Two venues\nEvening group"));
}

/// Updates and comments: required fields named, HTML shown as text, nothing partial stored,
/// every change audited.
#[tokio::test]
async fn plans_updates_comments_and_bad_input() {
    let mut w = world().await;
    let p = w.programme.clone();
    let r = post_update(&mut w.member, &p, "", "", "members").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter a title") && r.body.contains("Enter the update"));
    let r = post_update(&mut w.team, &p, "Title", "Body", "everyone").await;
    assert!(r.body.contains("Choose who may read the update"));
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM programme_updates").await,
        0
    );
    let id = update_id(
        &post_update(
            &mut w.member,
            &p,
            "<i>News</i>",
            "<script>alert(2)</script>",
            "members",
        )
        .await,
    );
    let page = format!("/programmes/{p}/updates/{id}");
    let r = w.team.get(&page).await;
    assert!(
        r.body.contains("&lt;i&gt;News&lt;/i&gt;") && r.body.contains("&lt;script&gt;alert(2)")
    );
    assert!(!r.body.contains("<script>alert"));
    let comments = format!("{page}/comments");
    let r = w.team.submit(&page, &comments, &[("comment", "  ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter your comment"));
    let r = w
        .team
        .submit(&page, &comments, &[("comment", "Good <b>news</b>")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = w.member.get(&page).await;
    assert!(r.body.contains("Good &lt;b&gt;news&lt;/b&gt;"));
    assert!(
        w.member
            .get(&format!("/programmes/{p}/updates"))
            .await
            .body
            .contains("&lt;i&gt;News&lt;/i&gt;")
    );
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_update_comments")
            .await,
        1
    );
    assert_eq!(audited(&w, "update.post").await, 1);
    assert_eq!(audited(&w, "update.comment").await, 1);
}

/// The feed: Atom 1.0, linked from the public page and the board, holding the public
/// updates and the board's actions with progress — no members' update, no voice, no name,
/// nothing withdrawn.
#[tokio::test]
async fn plans_atom_feed_holds_only_public_items() {
    let mut w = world().await;
    let p = w.programme.clone();
    let voice = share(
        &mut w.member,
        &p,
        "The last bus is at ten past four",
        "public",
    )
    .await;
    let r = w
        .team
        .submit(
            &format!("/voices/{voice}"),
            &format!("/voices/{voice}/moderate"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let gone = share(&mut w.member, &p, "Withdrawn words for the feed", "public").await;
    let r = w
        .team
        .submit(
            &format!("/programmes/{p}/actions/new?voice={voice}"),
            &format!("/programmes/{p}/actions"),
            &[
                ("voices", &voice),
                ("voices", &gone),
                ("title", "Finish before the bus"),
                ("description", "Move the group earlier & keep it <short>."),
                ("owner_id", &w.team_id),
                ("due_on", "2026-12-31"),
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
    let r = w
        .team
        .submit(
            &format!("/actions/{action}"),
            &format!("/actions/{action}/updates"),
            &[("body", "Venue agreed."), ("status", "in_progress")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = w
        .member
        .submit(
            &format!("/voices/{gone}"),
            &format!("/voices/{gone}/withdraw"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let public = update_id(
        &post_update(
            &mut w.team,
            &p,
            "Second venue <opens>",
            "At the library.",
            "public",
        )
        .await,
    );
    post_update(
        &mut w.team,
        &p,
        "Private partners note",
        "Members only.",
        "members",
    )
    .await;
    let owner: String =
        sqlx::query_scalar("SELECT display_name FROM accounts_user_names WHERE id = $1")
            .bind(w.team_id.clone())
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();

    let feed = w.anonymous.get(&format!("/programmes/{p}/feed.atom")).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(
        feed.headers["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let x = &feed.body;
    assert!(x.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""
    ));
    assert!(x.contains(&format!("<id>urn:uuid:{p}</id>")));
    assert!(
        x.contains(&format!("/programmes/{p}/feed.atom\"/>")) && x.contains("<link rel=\"self\"")
    );
    assert!(x.contains("<author>") && x.contains("<updated>"));
    assert!(
        x.contains(&format!("<id>urn:uuid:{public}</id>"))
            && x.contains("Second venue &lt;opens&gt;")
    );
    assert!(
        x.contains(&format!("<id>urn:uuid:{action}</id>")) && x.contains("Finish before the bus")
    );
    assert!(
        x.contains("Move the group earlier &amp; keep it &lt;short&gt;.")
            && x.contains("Venue agreed.")
    );
    for hidden in [
        "Private partners note",
        "The last bus is at ten past four",
        "Withdrawn words for the feed",
        owner.as_str(),
    ] {
        assert!(!x.contains(hidden), "{hidden} in the feed");
    }
    assert_eq!(x.matches("<entry>").count(), 2);
    for path in [
        format!("/programmes/{p}/about"),
        format!("/programmes/{p}/board"),
    ] {
        let r = w.anonymous.get(&path).await;
        assert!(r.body.contains(&format!(r#"<link rel="alternate" type="application/atom+xml" href="/programmes/{p}/feed.atom""#)), "{path}");
    }
    let r = w
        .anonymous
        .get("/programmes/00000000-0000-7000-8000-000000000000/feed.atom")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// An update's author may change it (public still the team's only) and remove it with its
/// comments; a comment's author may remove it; anyone else is answered 404 and nothing
/// changes.
#[tokio::test]
async fn plans_authors_change_and_remove_their_updates_and_comments() {
    let mut w = world().await;
    let p = w.programme.clone();
    let id = update_id(&post_update(&mut w.member, &p, "First words", "Body", "members").await);
    let page = format!("/programmes/{p}/updates/{id}");
    let edit = format!("{page}/edit");
    let fields = [
        ("title", "Better words"),
        ("body", "New body"),
        ("visibility", "members"),
    ];
    // Another member, the team and a manager cannot change it.
    for c in [&mut w.team, &mut w.manager, &mut w.other_member] {
        assert_eq!(
            c.submit("/programmes", &edit, &fields).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            c.submit("/programmes", &format!("{page}/remove"), &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let r = w
        .member
        .submit(
            &page,
            &edit,
            &[("title", ""), ("body", "x"), ("visibility", "public")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Enter a title")
            && r.body
                .contains("Only the programme team can post a public update")
    );
    let r = w.member.submit(&page, &edit, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = w.team.get(&page).await;
    assert!(r.body.contains("Better words") && r.body.contains("New body"));
    assert!(
        !r.body.contains("Change your update"),
        "only its author sees the form"
    );

    // Comments: only their author removes them.
    let r = w
        .team
        .submit(
            &page,
            &format!("{page}/comments"),
            &[("comment", "Team comment")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let comment: String =
        sqlx::query_scalar("SELECT id FROM programme_update_comments WHERE update_id = $1")
            .bind(id.clone())
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
    let remove = format!("{page}/comments/{comment}/remove");
    assert_eq!(
        w.member.submit(&page, &remove, &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_update_comments")
            .await,
        1
    );
    assert_eq!(
        w.team.submit(&page, &remove, &[]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_update_comments")
            .await,
        0
    );

    // Removing the update removes its comments too.
    w.team
        .submit(
            &page,
            &format!("{page}/comments"),
            &[("comment", "Another")],
        )
        .await;
    let r = w.member.submit(&page, &format!("{page}/remove"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(w.member.get(&page).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM programme_updates").await,
        0
    );
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_update_comments")
            .await,
        0
    );
    assert_eq!(audited(&w, "update.edit").await, 1);
    assert_eq!(audited(&w, "update.remove").await, 1);
    assert_eq!(audited(&w, "update.comment_remove").await, 1);
}
