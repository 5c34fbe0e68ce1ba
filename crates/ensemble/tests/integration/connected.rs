//! Staying connected: the per-person feed (every visibility rule, withdrawal, another
//! programme, signed out; keyset pages that stay stable while new items arrive; own
//! notifications marked read), the notification settings (saved, audited, honoured by the
//! progress email) and the weekly digest (idempotent, only what the person may read, the
//! unsubscribe link forged, expired and working).

use axum::http::StatusCode;
use ensemble::modules::programmes::{actions, digest, feed, settings, voices};
use ensemble::rbac::Actor;
use ensemble::state::AppState;

use crate::programmes::{World, add, share, world};
use crate::support::TestApp;

fn actor(id: &str) -> Actor {
    Actor {
        user_id: id.to_string(),
        display_name: "x".into(),
        email: "x@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "web",
    }
}

async fn email_of(app: &TestApp, id: &str) -> String {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    ensemble::modules::accounts::store::enabled_emails_by_id(&mut conn, &[id.to_string()])
        .await
        .unwrap()
        .remove(id)
        .unwrap()
}

async fn user_id(st: &AppState, email: &str) -> String {
    ensemble::modules::accounts::store::user_by_email(&st.db.read, email)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn feed_of(st: &AppState, who: &Actor) -> Vec<feed::FeedItem> {
    feed::page(st, who, "", Some(100)).await.unwrap().items
}

fn bodies(items: &[feed::FeedItem]) -> String {
    items
        .iter()
        .map(|i| i.title.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A second member of the main programme (kept informed), and the id of the programme
/// team member's action over the member's voice.
async fn second_member(w: &mut World) -> (ensemble::rbac::Actor, String) {
    let (mut c, email, id) = crate::programmes::signed(
        &w.app,
        ensemble::rbac::Role::Participant,
        &w.app.org("Group", "community_group").await,
    )
    .await;
    add(
        &mut w.manager,
        &w.programme,
        &email,
        "informed",
        "participant",
    )
    .await;
    assert_eq!(
        c.get(&format!("/programmes/{}", w.programme)).await.status,
        StatusCode::OK
    );
    (actor(&id), id)
}

#[tokio::test]
async fn connected_feed_shows_each_person_only_what_they_may_read() {
    let mut w = world().await;
    let p = w.programme.clone();
    let team_only = share(&mut w.member, &p, "alpha team only words", "team").await;
    let _members = share(&mut w.member, &p, "beta words for members", "members").await;
    let public = share(&mut w.member, &p, "gamma words for everyone", "public").await;
    let gone = share(&mut w.member, &p, "delta words withdrawn", "members").await;
    let r = w
        .member
        .submit(
            &format!("/voices/{gone}"),
            &format!("/voices/{gone}/withdraw"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let other = w.other_programme.clone();
    share(
        &mut w.other_member,
        &other,
        "epsilon other programme",
        "members",
    )
    .await;
    let (second, _) = second_member(&mut w).await;
    let st = &w.app.state;

    let member = bodies(&feed_of(st, &actor(&w.member_id)).await);
    assert!(member.contains("alpha") && member.contains("beta") && member.contains("gamma"));
    assert!(!member.contains("delta") && !member.contains("epsilon"));
    let team = bodies(&feed_of(st, &actor(&w.team_id)).await);
    assert!(team.contains("alpha") && team.contains("beta") && team.contains("gamma"));
    assert!(!team.contains("delta") && !team.contains("epsilon"));
    // Another member: the members' voice only; the public one once a moderator approves it.
    let seen = bodies(&feed_of(st, &second).await);
    assert!(seen.contains("beta"), "{seen}");
    assert!(!seen.contains("alpha") && !seen.contains("gamma") && !seen.contains("delta"));
    let r = w
        .team
        .submit(
            &format!("/voices/{public}"),
            &format!("/voices/{public}/moderate"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let seen = bodies(&feed_of(st, &second).await);
    assert!(seen.contains("gamma") && !seen.contains("alpha"));
    // Each item names its programme and links into it.
    for i in feed_of(st, &second).await {
        assert!(i.programme_id == p && i.programme == "Music and Mind");
        if i.kind == feed::Source::Voice {
            assert!(i.link.starts_with("/voices/") && !i.link.ends_with(&team_only));
        }
    }

    // A signed-in outsider has an empty feed; signed out, the page asks to sign in.
    let outsider = w.outsider.get("/feed").await;
    assert_eq!(outsider.status, StatusCode::OK);
    assert!(outsider.body.contains("Nothing yet"), "{}", outsider.body);
    assert!(!outsider.body.contains("alpha") && !outsider.body.contains("beta"));
    let anon = w.anonymous.get("/feed").await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert!(anon.location().starts_with("/sign-in"));

    // The page shows the member's items with their programme, and so does the API.
    let page = w.member.get("/feed").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("beta words for members") && page.body.contains("Music and Mind"));
    assert!(!page.body.contains("delta"));
    let token = ensemble::modules::accounts::service::create_token(
        st,
        &actor(&w.member_id),
        "t",
        &["programmes:read".to_string()],
        "",
    )
    .await
    .unwrap();
    let mut c = w.app.client();
    let r = c
        .api("GET", "/api/v1/feed?limit=2", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    assert_eq!(j["items"].as_array().unwrap().len(), 2);
    assert_eq!(j["items"][0]["programme"], "Music and Mind");
    assert_eq!(j["items"][0]["kind"], "voice");
    assert!(j["next"].is_string());
    let r = c
        .api("GET", "/api/v1/feed?before=nonsense", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "before");
    let r = c
        .api("GET", "/api/v1/feed?limit=0", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c.api("GET", "/api/v1/feed", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn connected_feed_pages_are_stable_while_new_items_arrive() {
    let w = world().await;
    let st = &w.app.state;
    let me = actor(&w.member_id);
    for i in 0..25 {
        voices::share(
            st,
            &me,
            &w.programme,
            &voices::VoiceInput {
                kind: "story".into(),
                body: format!("story number {i}"),
                visibility: "members".into(),
            },
        )
        .await
        .unwrap();
    }
    let first = feed::page(st, &me, "", Some(10)).await.unwrap();
    assert_eq!(first.items.len(), 10);
    // Something new arrives between pages: the next page neither repeats nor skips.
    voices::share(
        st,
        &me,
        &w.programme,
        &voices::VoiceInput {
            kind: "story".into(),
            body: "a newer story".into(),
            visibility: "members".into(),
        },
    )
    .await
    .unwrap();
    let mut seen: Vec<String> = first.items.iter().map(|i| i.id.clone()).collect();
    let mut next = first.next.clone();
    while let Some(n) = next {
        let p = feed::page(st, &me, &n, Some(10)).await.unwrap();
        for i in &p.items {
            assert!(!seen.contains(&i.id), "repeated {}", i.title);
            assert!(!i.title.contains("a newer story"));
            seen.push(i.id.clone());
        }
        next = p.next;
    }
    assert_eq!(seen.len(), 25);
    let again = feed::page(st, &me, "", Some(10)).await.unwrap();
    assert!(again.items[0].title.contains("a newer story"));
    // Newest first, by (time, kind, id).
    let all = feed::page(st, &me, "", Some(100)).await.unwrap().items;
    for pair in all.windows(2) {
        assert!(
            (pair[0].at, pair[0].kind.code(), pair[0].id.as_str())
                > (pair[1].at, pair[1].kind.code(), pair[1].id.as_str())
        );
    }
}

#[tokio::test]
async fn connected_progress_reaches_the_feed_as_news_and_can_be_marked_read() {
    let mut w = world().await;
    let p = w.programme.clone();
    let voice = share(&mut w.member, &p, "the room is too loud", "team").await;
    let st = w.app.state.clone();
    let action = actions::create(
        &st,
        &actor(&w.team_id),
        &p,
        &actions::ActionInput {
            title: "A quieter room".into(),
            description: "We will find one.".into(),
            owner_id: w.team_id.clone(),
            due_on: "2027-02-01".into(),
        },
        &[voice],
    )
    .await
    .unwrap();
    actions::post_update(
        &st,
        &actor(&w.team_id),
        &action,
        &actions::UpdateInput {
            body: "Booked the small hall.".into(),
            status: "in_progress".into(),
        },
    )
    .await
    .unwrap();
    let items = feed_of(&st, &actor(&w.member_id)).await;
    let news: Vec<_> = items
        .iter()
        .filter(|i| i.kind == feed::Source::Notification)
        .collect();
    assert_eq!(news.len(), 1);
    assert!(news[0].unread && news[0].title.contains("A quieter room"));
    // The update reached them as news, so it is not listed twice.
    assert!(!items.iter().any(|i| i.kind == feed::Source::Update));
    // The team sees the update itself.
    let team = feed_of(&st, &actor(&w.team_id)).await;
    assert!(team.iter().any(|i| i.kind == feed::Source::Update));
    let page = w.member.get("/feed").await;
    assert!(page.body.contains("New") && page.body.contains("Mark all as read"));
    let r = w.member.submit("/feed", "/feed/read", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = feed::page(&st, &actor(&w.member_id), "", None)
        .await
        .unwrap();
    assert_eq!(after.unread, 0);
    assert!(after.items.iter().all(|i| !i.unread));
    // A reply shows to its author and the team, not to another member.
    actions::reply(&st, &actor(&w.member_id), &action, "Thank you")
        .await
        .unwrap();
    let (second, _) = second_member(&mut w).await;
    assert!(
        feed_of(&st, &actor(&w.member_id))
            .await
            .iter()
            .any(|i| i.kind == feed::Source::Reply)
    );
    assert!(
        feed_of(&st, &actor(&w.team_id))
            .await
            .iter()
            .any(|i| i.kind == feed::Source::Reply)
    );
    assert!(
        !feed_of(&st, &second)
            .await
            .iter()
            .any(|i| i.kind == feed::Source::Reply)
    );
}

#[tokio::test]
async fn connected_settings_are_saved_audited_and_honoured_by_the_progress_email() {
    use ensemble::modules::programmes::{demo, service};
    let app = TestApp::new().await;
    ensemble::demo::seed(&app.state).await.unwrap();
    let st = &app.state;
    let id = service::find_by_name(st, demo::NAME)
        .await
        .unwrap()
        .unwrap();
    let jordan = actor(&user_id(st, "jordan.participant@ensemble-demo.example").await);
    let priya = actor(&user_id(st, "priya.practitioner@ensemble-demo.example").await);
    // Jordan agreed to contact: both emails start on.
    let mut conn = st.db.read.acquire().await.unwrap();
    let s = settings::of(&mut conn, &jordan.user_id).await.unwrap();
    drop(conn);
    assert_eq!(s.contact, settings::Contact::Agreed);
    assert!(s.progress_email && s.digest && !s.saved);
    // Bad input names the field; nothing is stored.
    let bad = settings::save(
        st,
        &jordan,
        &settings::SettingsInput {
            progress_email: "maybe".into(),
            digest: "off".into(),
        },
    )
    .await;
    match bad {
        Err(ensemble::error::AppError::Invalid(e)) => assert_eq!(e[0].field, "progress_email"),
        _ => panic!("expected a field error"),
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM programme_notification_settings")
            .await,
        0
    );
    settings::save(
        st,
        &jordan,
        &settings::SettingsInput {
            progress_email: "off".into(),
            digest: "on".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification_settings.change'")
            .await,
        1
    );
    let voice = voices::share(
        st,
        &jordan,
        &id,
        &voices::VoiceInput {
            kind: "feedback".into(),
            body: "More chairs".into(),
            visibility: "team".into(),
        },
    )
    .await
    .unwrap();
    let action = actions::create(
        st,
        &priya,
        &id,
        &actions::ActionInput {
            title: "More chairs".into(),
            description: "We will borrow chairs.".into(),
            owner_id: priya.user_id.clone(),
            due_on: "2027-01-31".into(),
        },
        &[voice],
    )
    .await
    .unwrap();
    let emails = "SELECT COUNT(*) FROM outbox WHERE to_address = 'jordan.participant@ensemble-demo.example' AND subject = 'There is news on something you told us'";
    let before = app.count(emails).await;
    let update = |status: &'static str| actions::UpdateInput {
        body: "Chairs on the way.".into(),
        status: status.into(),
    };
    actions::post_update(st, &priya, &action, &update("in_progress"))
        .await
        .unwrap();
    assert_eq!(
        app.count(emails).await,
        before,
        "progress email switched off"
    );
    // Still told in the app.
    assert!(
        feed_of(st, &jordan)
            .await
            .iter()
            .any(|i| i.kind == feed::Source::Notification && i.unread)
    );
    settings::save(
        st,
        &jordan,
        &settings::SettingsInput {
            progress_email: "on".into(),
            digest: "on".into(),
        },
    )
    .await
    .unwrap();
    actions::post_update(st, &priya, &action, &update("done"))
        .await
        .unwrap();
    assert_eq!(app.count(emails).await, before + 1);

    // The page: a staff account (no person record) sees the digest off by default, and a
    // bad choice comes back naming the field.
    let (mut staff, _) = app.signed_in(ensemble::rbac::Role::Practitioner).await;
    let page = staff.get("/settings/notifications").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(r#"id="digest-1" name="digest" type="radio" value="off" checked"#),
        "{}",
        page.body
    );
    let r = staff
        .submit(
            "/settings/notifications",
            "/settings/notifications",
            &[("progress_email", "on"), ("digest", "<b>yes</b>")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose whether to get the weekly digest"));
    assert!(!r.body.contains("<b>yes</b>"));
    let r = staff
        .submit(
            "/settings/notifications",
            "/settings/notifications",
            &[("progress_email", "on"), ("digest", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = staff.get("/settings/notifications?saved=1").await;
    assert!(page.body.contains("saved"));
}

#[tokio::test]
async fn connected_weekly_digest_sends_once_with_only_what_may_be_read() {
    let mut w = world().await;
    let p = w.programme.clone();
    share(&mut w.member, &p, "members words one", "members").await;
    share(&mut w.team, &p, "team secret words", "team").await;
    share(&mut w.team, &p, "team words for members", "members").await;
    let (second, _) = second_member(&mut w).await;
    let gone = voices::share(
        &w.app.state,
        &second,
        &p,
        &voices::VoiceInput {
            kind: "moment".into(),
            body: "soon withdrawn".into(),
            visibility: "members".into(),
        },
    )
    .await
    .unwrap();
    voices::withdraw(&w.app.state, &second, &gone)
        .await
        .unwrap();
    let st = w.app.state.clone();
    let member_email = email_of(&w.app, &w.member_id).await;
    let team_email = email_of(&w.app, &w.team_id).await;
    let digests = |to: &str| {
        format!(
            "SELECT COUNT(*) FROM outbox WHERE to_address = '{to}' AND subject = 'This week in your programmes'"
        )
    };
    // The week that holds today.
    let at = ensemble::db::now() + 7 * 86_400;
    // Accounts without a person record start with the digest off.
    digest::send_weekly(&st, at).await.unwrap();
    assert_eq!(w.app.count(&digests(&member_email)).await, 0);
    for who in [&w.member_id, &w.team_id] {
        settings::save(
            &st,
            &actor(who),
            &settings::SettingsInput {
                progress_email: "on".into(),
                digest: "on".into(),
            },
        )
        .await
        .unwrap();
    }
    let first = digest::send_weekly(&st, at).await.unwrap();
    let second_run = digest::send_weekly(&st, at).await.unwrap();
    assert!(first >= 2);
    assert_eq!(second_run, 0);
    assert_eq!(w.app.count(&digests(&member_email)).await, 1);
    assert_eq!(w.app.count(&digests(&team_email)).await, 1);
    let body: String = sqlx::query_scalar("SELECT body_text FROM outbox WHERE to_address = $1 AND subject = 'This week in your programmes'")
        .bind(member_email.clone())
        .fetch_one(&st.db.read)
        .await
        .unwrap();
    // The member may read their own voice and the team's voice for members: not the
    // team-only one, not the withdrawn one.
    assert!(body.contains("Music and Mind"), "{body}");
    assert!(body.contains("New voices you can read: 2"), "{body}");
    assert!(
        !body.contains("words"),
        "no one's words in the email: {body}"
    );
    let team_body: String = sqlx::query_scalar("SELECT body_text FROM outbox WHERE to_address = $1 AND subject = 'This week in your programmes'")
        .bind(team_email)
        .fetch_one(&st.db.read)
        .await
        .unwrap();
    assert!(
        team_body.contains("New voices you can read: 3"),
        "{team_body}"
    );

    // The unsubscribe link: forged and expired refused; the real one asks, then switches off.
    let link = body
        .lines()
        .find_map(|l| l.split("/digest/off/").nth(1))
        .unwrap()
        .trim()
        .to_string();
    let mut c = w.app.client();
    let forged = c.get(&format!("/digest/off/{}x", link)).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert!(forged.body.contains("not valid"));
    let expired = digest::token(&st.secret, &w.member_id, ensemble::db::now() - 1);
    let r = c.get(&format!("/digest/off/{expired}")).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.body.contains("expired"));
    let path = format!("/digest/off/{link}");
    let r = c.submit(&path, &format!("/digest/off/{link}x"), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let mut conn = st.db.read.acquire().await.unwrap();
    assert!(settings::of(&mut conn, &w.member_id).await.unwrap().digest);
    drop(conn);
    let ask = c.get(&path).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("Stop the weekly digest"));
    let r = c.submit(&path, &path, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("The weekly digest is off"));
    let mut conn = st.db.read.acquire().await.unwrap();
    assert!(!settings::of(&mut conn, &w.member_id).await.unwrap().digest);
    drop(conn);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification_settings.digest_off_by_link'")
            .await,
        1
    );
    // Next week: nothing for the member (switched off), the team still gets theirs if
    // something happened.
    digest::send_weekly(&st, at + 7 * 86_400).await.unwrap();
    assert_eq!(w.app.count(&digests(&member_email)).await, 1);
}

#[tokio::test]
async fn connected_feed_carries_programme_news_proposals_and_decisions_to_members_only() {
    use ensemble::modules::programmes::{proposals, updates};
    let mut w = world().await;
    let p = w.programme.clone();
    let st = w.app.state.clone();
    let team = actor(&w.team_id);
    let news = updates::post(
        &st,
        &team,
        &p,
        &updates::UpdateInput {
            title: "zeta rehearsal moves to Thursdays".into(),
            body: "From next month.".into(),
            visibility: "members".into(),
        },
    )
    .await
    .unwrap();
    let proposal = proposals::create(
        &st,
        &actor(&w.member_id),
        &p,
        &proposals::ProposalInput {
            kind: "research_question".into(),
            title: "eta does singing help sleep".into(),
            body: "Many of us sleep better after choir.".into(),
        },
    )
    .await
    .unwrap();
    let decision = uuid::Uuid::new_v4().to_string();
    sqlx::query("INSERT INTO programme_decisions (id, programme_id, title, outcome, reasons, decided_on, recorded_by, created_at) VALUES ($1, $2, 'theta a quiet room at every session', 'decided', 'Asked for by members', '2026-12-01', $3, 1)")
        .bind(decision.clone())
        .bind(p.clone())
        .bind(w.team_id.clone())
        .execute(&st.db.write)
        .await
        .unwrap();
    let items = feed_of(&st, &actor(&w.member_id)).await;
    let find = |kind: feed::Source| {
        items
            .iter()
            .find(|i| i.kind == kind)
            .unwrap_or_else(|| panic!("{kind:?}: {}", bodies(&items)))
    };
    let n = find(feed::Source::News);
    assert_eq!(n.title, "Programme news: zeta rehearsal moves to Thursdays");
    assert_eq!(n.link, format!("/programmes/{p}/updates/{news}"));
    assert_eq!(
        find(feed::Source::Proposal).link,
        format!("/proposals/{proposal}")
    );
    let d = find(feed::Source::Decision);
    assert_eq!(
        d.link,
        format!("/programmes/{p}/decisions#decision-{decision}")
    );
    // A member of another programme sees none of it; the page shows it to the member.
    let other = w.other_member.get("/feed").await.body;
    assert!(!other.contains("zeta") && !other.contains("eta does") && !other.contains("theta"));
    let page = w.member.get("/feed").await;
    assert!(
        page.body.contains("Programme news: zeta rehearsal"),
        "{}",
        page.body
    );
    // Paging by the new kinds' cursors is stable: two at a time, nothing lost or repeated.
    let all: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = feed::page(&st, &actor(&w.member_id), &cursor, Some(2))
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|i| i.id.clone()));
        match page.next {
            Some(n) => cursor = n,
            None => break,
        }
    }
    assert_eq!(seen, all);
}
