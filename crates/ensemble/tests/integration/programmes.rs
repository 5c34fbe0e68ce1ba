//! Programmes, voices and "you said, we did": who sees which voice (the relationship
//! matrix, through the record-access proofs), withdrawal (every table naming a voice found
//! by reading the schema), notifications and replies, and bad input.

use axum::http::StatusCode;
use ensemble::rbac::Role;

use crate::support::{Client, TestApp};

/// The smallest PNG: its first bytes are what the type check reads.
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) programme: String,
    pub(crate) other_programme: String,
    pub(crate) manager: Client,
    pub(crate) team: Client,
    pub(crate) team_id: String,
    pub(crate) member: Client,
    pub(crate) member_id: String,
    pub(crate) other_member: Client,
    pub(crate) outsider: Client,
    pub(crate) anonymous: Client,
}

pub(crate) async fn signed(app: &TestApp, role: Role, org: &str) -> (Client, String, String) {
    let (email, password, id) = app.user(role, org).await;
    let mut c = app.client();
    assert_eq!(
        c.sign_in(&email, &password).await.status,
        StatusCode::SEE_OTHER
    );
    (c, email, id)
}

async fn start(c: &mut Client, name: &str, lead: &str) -> String {
    let r = c
        .submit(
            "/programmes",
            "/programmes",
            &[
                ("name", name),
                ("summary", "Music groups."),
                ("lead_organisation_id", lead),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    r.location().trim_start_matches("/programmes/").to_string()
}

pub(crate) async fn add(c: &mut Client, programme: &str, email: &str, role: &str, capacity: &str) {
    let page = format!("/programmes/{programme}");
    let r = c
        .submit(
            &page,
            &format!("{page}/members"),
            &[("email", email), ("role", role), ("capacity", capacity)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

pub(crate) async fn world() -> World {
    let app = TestApp::new().await;
    let trust = app.org("Trust", "nhs_trust").await;
    let orchestra = app.org("Orchestra", "cultural_organisation").await;
    let (mut manager, _, _) = signed(&app, Role::ProgrammeManager, &trust).await;
    let (team, team_email, team_id) = signed(&app, Role::Practitioner, &orchestra).await;
    let (member, member_email, member_id) = signed(&app, Role::Participant, &orchestra).await;
    let (other_member, other_email, _) = signed(&app, Role::Participant, &orchestra).await;
    let (outsider, _, _) = signed(&app, Role::Practitioner, &orchestra).await;
    let programme = start(&mut manager, "Music and Mind", &trust).await;
    let other_programme = start(&mut manager, "Another programme", &trust).await;
    add(
        &mut manager,
        &programme,
        &team_email,
        "responsible",
        "staff",
    )
    .await;
    add(
        &mut manager,
        &programme,
        &member_email,
        "consulted",
        "participant",
    )
    .await;
    add(
        &mut manager,
        &other_programme,
        &other_email,
        "responsible",
        "participant",
    )
    .await;
    World {
        anonymous: app.client(),
        app,
        programme,
        other_programme,
        manager,
        team,
        team_id,
        member,
        member_id,
        other_member,
        outsider,
    }
}

pub(crate) async fn share(c: &mut Client, programme: &str, body: &str, visibility: &str) -> String {
    let page = format!("/programmes/{programme}");
    let r = c
        .submit(
            &page,
            &format!("{page}/voices"),
            &[
                ("kind", "feedback"),
                ("body", body),
                ("visibility", visibility),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    r.location()
        .trim_start_matches("/voices/")
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

/// Every visibility rule, for each kind of viewer: the voice page (200 or 404), the
/// members' space and the public page.
#[tokio::test]
async fn programme_voices_relationships_matrix() {
    let mut w = world().await;
    let p = w.programme.clone();
    let team_only = share(&mut w.member, &p, "Team only words", "team").await;
    let members = share(&mut w.member, &p, "Members words", "members").await;
    let waiting = share(&mut w.member, &p, "Waiting public words", "public").await;
    let approved = share(&mut w.member, &p, "Approved public words", "public").await;
    let withdrawn = share(&mut w.member, &p, "Withdrawn words", "members").await;
    let r = w
        .team
        .submit(
            &format!("/voices/{approved}"),
            &format!("/voices/{approved}/moderate"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // A member cannot moderate: the proof is refused as if the voice did not exist.
    let r = w
        .member
        .submit(
            &format!("/voices/{waiting}"),
            &format!("/voices/{waiting}/moderate"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = w
        .member
        .submit(
            &format!("/voices/{withdrawn}"),
            &format!("/voices/{withdrawn}/withdraw"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // (voice, text, [author, manager, team, member of this programme (not author), other
    // programme's member, outsider, signed out]) — true when the voice page opens.
    let other_here = {
        let (mut c, email, _) = signed(
            &w.app,
            Role::CoResearcher,
            &w.app.org("Group", "community_group").await,
        )
        .await;
        add(&mut w.manager, &p, &email, "informed", "co_researcher").await;
        let _ = c.get("/").await;
        c
    };
    let mut viewers: Vec<(&str, Client)> = vec![
        ("author", w.member.clone()),
        ("manager", w.manager.clone()),
        ("team", w.team.clone()),
        ("member", other_here),
        ("other programme", w.other_member.clone()),
        ("outsider", w.outsider.clone()),
        ("signed out", w.anonymous.clone()),
    ];
    let cases = [
        (
            &team_only,
            "Team only words",
            [true, true, true, false, false, false, false],
        ),
        (
            &members,
            "Members words",
            [true, true, true, true, false, false, false],
        ),
        (
            &waiting,
            "Waiting public words",
            [true, true, true, false, false, false, false],
        ),
        (
            &approved,
            "Approved public words",
            [true, true, true, true, true, true, false],
        ),
        (&withdrawn, "Withdrawn words", [false; 7]),
    ];
    for (voice, text, expect) in cases {
        for (i, (label, c)) in viewers.iter_mut().enumerate() {
            let r = c.get(&format!("/voices/{voice}")).await;
            let want = if expect[i] {
                StatusCode::OK
            } else if *label == "signed out" {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(r.status, want, "{label} opening '{text}'");
            // The space lists exactly the voices the page opens (for those who reach it).
            let space = c.get(&format!("/programmes/{p}")).await;
            if i <= 3 {
                assert_eq!(space.status, StatusCode::OK, "{label} space");
                assert_eq!(
                    space.body.contains(&format!("/voices/{voice}")),
                    expect[i],
                    "{label} sees '{text}' in the space"
                );
            } else if *label == "signed out" {
                assert_eq!(space.status, StatusCode::SEE_OTHER);
            } else {
                assert_eq!(space.status, StatusCode::FORBIDDEN, "{label} space");
            }
            // The public page and board, for everyone: only the approved public voice.
            let about = c.get(&format!("/programmes/{p}/about")).await;
            assert_eq!(about.status, StatusCode::OK);
            assert_eq!(
                about.body.contains(text),
                text == "Approved public words",
                "{label}: '{text}' on the public page"
            );
        }
    }
    // The other programme's member sees their own programme, and none of these voices there.
    let r = w
        .other_member
        .get(&format!("/programmes/{}", w.other_programme))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for text in [
        "Team only words",
        "Members words",
        "Waiting public words",
        "Approved public words",
    ] {
        assert!(!r.body.contains(text), "{text} in another programme");
    }
}

/// A withdrawn voice is deleted with every row naming it — the tables are found by reading
/// the schema, so a new one cannot be missed — and is gone from every page, list, export
/// and count at once.
#[tokio::test]
async fn a_withdrawn_voice_is_gone_from_every_table_page_and_count() {
    let mut w = world().await;
    let p = w.programme.clone();
    let voice = share(
        &mut w.member,
        &p,
        "The bus leaves at ten past four",
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
    let new = format!("/programmes/{p}/actions/new?voice={voice}");
    let r = w
        .team
        .submit(
            &new,
            &format!("/programmes/{p}/actions"),
            &[
                ("voices", &voice),
                ("title", "Earlier finish"),
                ("description", "Move the group."),
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
    let page = format!("/actions/{action}");
    let r = w
        .team
        .submit(
            &page,
            &format!("{page}/updates"),
            &[("body", "Venue agreed."), ("status", "in_progress")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The person who spoke is told, opens the action and replies.
    let list = w.member.get("/programmes").await;
    assert!(list.body.contains("News on what you told us") && list.body.contains(&page));
    let r = w
        .member
        .submit(
            &page,
            &format!("{page}/replies"),
            &[("reply", "Thank you!")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(w.team.get(&page).await.body.contains("Thank you!"));

    let csrf = w.member.get(&format!("/voices/{voice}")).await.csrf();
    let r = w
        .member
        .post_multipart(
            &format!("/voices/{voice}/photo"),
            &[("csrf_token", &csrf)],
            &[("photo", "bus.png", PNG)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = w
        .member
        .post_multipart(
            &format!("/voices/{voice}/audio"),
            &[("csrf_token", &csrf)],
            &[("audio", "bus.ogg", b"OggS\0\x02 a recording")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    crate::themes::code_with_a_new_theme(&mut w.team, &p, &voice).await;
    let team_id = w.team_id.clone();
    crate::proposals::link_in_a_decision(&mut w.team, &team_id, &p, &voice).await;
    // Every table with a voice_id column holds this voice before withdrawal.
    let outline = w.app.state.db.schema_outline().await.unwrap();
    let mut naming: Vec<String> = outline
        .iter()
        .filter(|(_, cols)| cols.iter().any(|c| c == "voice_id"))
        .map(|(t, _)| t.clone())
        .collect();
    naming.sort();
    let mut declared: Vec<String> = ensemble::modules::programmes::voices::NAMED_IN
        .iter()
        .map(|s| s.to_string())
        .collect();
    declared.sort();
    assert_eq!(
        naming, declared,
        "withdrawal must clear every table naming a voice"
    );
    for t in &naming {
        assert!(
            w.app
                .count(&format!(
                    "SELECT COUNT(*) FROM {t} WHERE voice_id = '{voice}'"
                ))
                .await
                > 0,
            "{t} holds the voice before"
        );
    }

    let r = w
        .member
        .submit(
            &format!("/voices/{voice}"),
            &format!("/voices/{voice}/withdraw"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for t in &naming {
        assert_eq!(
            w.app
                .count(&format!(
                    "SELECT COUNT(*) FROM {t} WHERE voice_id = '{voice}'"
                ))
                .await,
            0,
            "{t} after withdrawal"
        );
    }
    assert_eq!(
        w.app
            .count(&format!(
                "SELECT COUNT(*) FROM programme_voices WHERE id = '{voice}'"
            ))
            .await,
        0
    );
    // Pages, the board, the feeds, the exports and the counts.
    for (mut c, path) in [
        (w.member.clone(), format!("/programmes/{p}")),
        (w.team.clone(), format!("/programmes/{p}")),
        (w.anonymous.clone(), format!("/programmes/{p}/about")),
        (w.anonymous.clone(), format!("/programmes/{p}/board")),
        (w.anonymous.clone(), format!("/programmes/{p}/feed.atom")),
        (w.anonymous.clone(), format!("/programmes/{p}/decisions")),
        (w.team.clone(), format!("/programmes/{p}/decisions")),
        (w.team.clone(), format!("/programmes/{p}/themes")),
        (
            w.team.clone(),
            format!("/programmes/{p}/themes/codings.csv"),
        ),
        (w.member.clone(), "/programmes".to_string()),
        (w.member.clone(), "/feed".to_string()),
        (w.team.clone(), "/feed".to_string()),
        (w.team.clone(), page.clone()),
    ] {
        let r = c.get(&path).await;
        assert!(
            !r.body.contains("ten past four")
                && !r.body.contains(&voice)
                && !r.body.contains("Thank you!"),
            "{path} after withdrawal"
        );
    }
    assert!(
        w.team
            .get(&format!("/programmes/{p}"))
            .await
            .body
            .contains("0 shared in this programme")
    );
    // The person is no longer linked to the action: a member still reads it, but cannot reply.
    let r = w.member.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("Send reply") && !r.body.contains("Started by"));
    // Outside the programme, the action is not found.
    assert_eq!(w.outsider.get(&page).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        w.other_member.get(&page).await.status,
        StatusCode::NOT_FOUND
    );
    let _ = w.member_id;
}

/// Empty, oversized and marked-up input: a clear message naming the field, nothing stored,
/// and markup shown as text.
#[tokio::test]
async fn bad_voice_and_action_input_is_named_and_nothing_partial_is_stored() {
    let mut w = world().await;
    let p = w.programme.clone();
    let page = format!("/programmes/{p}");
    let before = w.app.count("SELECT COUNT(*) FROM programme_voices").await;
    for (fields, message) in [
        (
            vec![
                ("kind", "feedback"),
                ("body", "   "),
                ("visibility", "team"),
            ],
            "Enter what you want to say",
        ),
        (
            vec![
                ("kind", "feedback"),
                ("body", &*"x".repeat(4_001)),
                ("visibility", "team"),
            ],
            "What you want to say must be 4000 characters or fewer (it has 4001)",
        ),
        (
            vec![("kind", "poem"), ("body", "Hello"), ("visibility", "team")],
            "Choose what you are sharing",
        ),
        (
            vec![
                ("kind", "story"),
                ("body", "Hello"),
                ("visibility", "everyone"),
            ],
            "Choose who may see it",
        ),
    ] {
        let r = w
            .member
            .submit(&page, &format!("{page}/voices"), &fields)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(message), "{message}");
        assert!(r.body.contains("nhsuk-error-summary"));
    }
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM programme_voices").await,
        before
    );

    let voice = share(&mut w.member, &p, "<script>alert(1)</script>", "team").await;
    let r = w.team.get(&format!("/voices/{voice}")).await;
    assert!(
        r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            && !r.body.contains("<script>alert(1)")
    );

    let actions = w.app.count("SELECT COUNT(*) FROM programme_actions").await;
    let r = w
        .team
        .submit(
            &format!("{page}/actions/new"),
            &format!("{page}/actions"),
            &[
                ("voices", &voice),
                ("title", ""),
                ("description", "x"),
                ("owner_id", &w.member_id),
                ("due_on", "31/12/2026"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "Enter what will change",
        "Choose an owner from the programme team",
        "Enter the due date as year-month-day",
    ] {
        assert!(r.body.contains(m), "{m}");
    }
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM programme_actions").await,
        actions
    );
    // A member who is not on the team cannot start an action.
    let r = w.member.get(&format!("{page}/actions/new")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A name already taken is refused with the field named.
    let r = w
        .manager
        .submit(
            "/programmes",
            "/programmes",
            &[
                ("name", "music and mind"),
                ("summary", "x"),
                ("lead_organisation_id", "nope"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose the lead organisation"));
}

/// The API lists the token owner's programmes and shows one to its members only.
#[tokio::test]
async fn the_programmes_api_shows_members_their_programme() {
    let w = world().await;
    let actor = ensemble::rbac::Actor {
        user_id: w.member_id.clone(),
        display_name: "m".into(),
        email: "m@example.org".into(),
        memberships: vec![],
        request_id: None,
        channel: "api",
    };
    let token = ensemble::modules::accounts::service::create_token(
        &w.app.state,
        &actor,
        "t",
        &["programmes:read".to_string()],
        "",
    )
    .await
    .unwrap();
    let mut c = w.app.client();
    let r = c.api("GET", "/api/v1/programmes", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()[0]["name"], "Music and Mind");
    assert_eq!(r.json()[0]["your_role"], "consulted");
    let r = c
        .api(
            "GET",
            &format!("/api/v1/programmes/{}", w.programme),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["partners"][0]["name"], "Trust");
    let r = c
        .api(
            "GET",
            &format!("/api/v1/programmes/{}", w.other_programme),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Sharing without an account: the team's link and QR code, the share form behind it, a
/// forged or expired link refused with a clear message and nothing stored, the anonymous
/// voice seen by the team only (as chosen) and withdrawn with its private key.
#[tokio::test]
async fn anonymous_sharing_through_a_signed_link_that_expires() {
    let mut w = world().await;
    let p = w.programme.clone();
    let r = w.member.get(&format!("/programmes/{p}/link?days=7")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only the team makes links");
    let r = w.team.get(&format!("/programmes/{p}/link?days=500")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter a whole number of days from 1 to 90"));
    let r = w.team.get(&format!("/programmes/{p}/link?days=7")).await;
    assert_eq!(r.status, StatusCode::OK);
    let start = r.body.find("/share/").unwrap();
    let token: String = r.body[start + 7..]
        .chars()
        .take_while(|c| *c != '"' && *c != '<' && *c != '/')
        .collect();
    let qr = w.anonymous.get(&format!("/share/{token}/qr.svg")).await;
    assert_eq!(qr.status, StatusCode::OK);
    assert_eq!(qr.headers["content-type"], "image/svg+xml");
    assert!(qr.body.contains("<svg"));

    let before = w.app.count("SELECT COUNT(*) FROM programme_voices").await;
    let expired = ensemble::modules::programmes::link::token(
        &w.app.state.secret,
        &p,
        0,
        ensemble::db::now() - 60,
    );
    let forged = token.replacen(&p[..8], "00000000", 1);
    for (t, status, message) in [
        (
            forged.as_str(),
            StatusCode::BAD_REQUEST,
            "This link is not valid",
        ),
        (expired.as_str(), StatusCode::GONE, "This link expired on"),
        (
            "nonsense",
            StatusCode::BAD_REQUEST,
            "This link is not valid",
        ),
    ] {
        let r = w.anonymous.get(&format!("/share/{t}")).await;
        assert_eq!(r.status, status, "{t}");
        assert!(r.body.contains(message), "{message}");
        let csrf = w.anonymous.get(&format!("/share/{token}")).await.csrf();
        let r = w
            .anonymous
            .post_form(
                &format!("/share/{t}"),
                &[
                    ("csrf_token", &csrf),
                    ("kind", "feedback"),
                    ("body", "Forged words"),
                    ("visibility", "team"),
                ],
            )
            .await;
        assert_eq!(r.status, status);
    }
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM programme_voices").await,
        before
    );

    let form = format!("/share/{token}");
    let r = w
        .anonymous
        .submit(
            &form,
            &form,
            &[("kind", "moment"), ("body", ""), ("visibility", "team")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter what you want to say"));
    let r = w
        .anonymous
        .submit(
            &form,
            &form,
            &[
                ("kind", "moment"),
                ("body", "Singing again after years"),
                ("visibility", "team"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_voices WHERE author_id IS NULL")
            .await,
        1
    );
    let start = r.body.find("/share/withdraw/").unwrap();
    let withdraw: String = r.body[start..].chars().take_while(|c| *c != '"').collect();
    // Team only: the team sees it, anonymous; another member does not.
    let space = w.team.get(&format!("/programmes/{p}")).await.body;
    assert!(space.contains("Anonymous"));
    assert!(
        !w.member
            .get(&format!("/programmes/{p}"))
            .await
            .body
            .contains("A moment that mattered, ")
    );
    // A changed key is refused; the real one withdraws it.
    let r = w.anonymous.get(&format!("{withdraw}x")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = w.anonymous.submit(&withdraw, &withdraw, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Withdrawn"));
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_voices WHERE author_id IS NULL")
            .await,
        0
    );
    assert!(
        !w.team
            .get(&format!("/programmes/{p}"))
            .await
            .body
            .contains("Anonymous")
    );
}

/// A photo with a voice: the type read from the bytes, the size limited, each refusal named
/// with nothing stored, and the file served only as an attachment to people who may read
/// the voice.
#[tokio::test]
async fn a_voice_photo_is_checked_by_its_bytes_and_served_only_to_readers() {
    let mut w = world().await;
    let p = w.programme.clone();
    let voice = share(&mut w.member, &p, "Our first concert", "team").await;
    let page = format!("/voices/{voice}");
    let action = format!("{page}/photo");
    let csrf = w.member.get(&page).await.csrf();
    let big = [PNG, &vec![0u8; 901 * 1024]].concat();
    for (name, bytes, message) in [
        (
            "photo.png",
            &b"%PDF-1.4 not an image"[..],
            "The photo must be a PNG or JPEG image",
        ),
        (
            "photo.png",
            &b"<svg onload=alert(1)>"[..],
            "The photo must be a PNG or JPEG image",
        ),
        (
            "photo.png",
            &big[..],
            "The photo must be 900 KB or smaller (it is 902 KB)",
        ),
    ] {
        let r = w
            .member
            .post_multipart(&action, &[("csrf_token", &csrf)], &[("photo", name, bytes)])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(r.body.contains(message), "{message}");
    }
    let r = w
        .member
        .post_multipart(&action, &[("csrf_token", &csrf)], &[])
        .await;
    assert!(r.body.contains("Choose a photo to add"));
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_voice_photos")
            .await,
        0
    );
    // Only its author adds one.
    let csrf_team = w.team.get(&page).await.csrf();
    let r = w
        .team
        .post_multipart(
            &action,
            &[("csrf_token", &csrf_team)],
            &[("photo", "x.png", PNG)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = w
        .member
        .post_multipart(
            &action,
            &[("csrf_token", &csrf)],
            &[("photo", "concert.png", PNG)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        w.member
            .get(&page)
            .await
            .body
            .contains("Download the photo (PNG, 1 KB)")
    );
    // Served as an attachment to the team (the voice is for the team only) …
    let r = w.team.get(&action).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "image/png");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    // … and to nobody else.
    assert_eq!(w.outsider.get(&action).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        w.other_member.get(&action).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(w.anonymous.get(&action).await.status, StatusCode::SEE_OTHER);
}

/// The demo programme loads; progress on an action reaches a participant who agreed to be
/// contacted by email too (a link, none of their words), and in the app.
#[tokio::test]
async fn the_demo_programme_loads_and_progress_emails_a_participant_who_agreed_to_contact() {
    use ensemble::modules::programmes::{actions, demo, service, voices};
    async fn actor(st: &ensemble::state::AppState, email: &str) -> ensemble::rbac::Actor {
        let u = ensemble::modules::accounts::store::user_by_email(&st.db.read, email)
            .await
            .unwrap()
            .unwrap();
        // No memberships needed: their standing comes from the programme's member list.
        ensemble::rbac::Actor {
            user_id: u.id,
            display_name: u.display_name,
            email: u.email,
            memberships: vec![],
            request_id: None,
            channel: "web",
        }
    }
    let app = TestApp::new().await;
    ensemble::demo::seed(&app.state).await.unwrap();
    let st = &app.state;
    let id = service::find_by_name(st, demo::NAME)
        .await
        .unwrap()
        .unwrap();
    let jordan = actor(st, "jordan.participant@ensemble-demo.example").await;
    let priya = actor(st, "priya.practitioner@ensemble-demo.example").await;
    let voice = voices::share(
        st,
        &jordan,
        &id,
        &voices::VoiceInput {
            kind: "feedback".into(),
            body: "More chairs, please".into(),
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
    let before = app.count("SELECT COUNT(*) FROM outbox WHERE to_address = 'jordan.participant@ensemble-demo.example'").await;
    actions::post_update(
        st,
        &priya,
        &action,
        &actions::UpdateInput {
            body: "Chairs borrowed.".into(),
            status: "done".into(),
        },
    )
    .await
    .unwrap();
    let emails = app
        .count("SELECT COUNT(*) FROM outbox WHERE to_address = 'jordan.participant@ensemble-demo.example' AND subject = 'There is news on something you told us' AND body_text NOT LIKE '%chairs%' AND body_text NOT LIKE '%Chairs%'")
        .await;
    assert_eq!(emails, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE to_address = 'jordan.participant@ensemble-demo.example'").await, before + 1);
    let news = actions::notifications(st, &jordan).await.unwrap();
    assert!(news.iter().any(|n| n.action_id == action && n.unread));
    // Robin's approved voice is quoted on the public page, without a name.
    let mut c = app.client();
    let about = c.get(&format!("/programmes/{id}/about")).await.body;
    assert!(about.contains("last bus") && !about.contains("Robin"));
}
