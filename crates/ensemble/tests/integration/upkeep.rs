//! Programme upkeep: ending every share link early, removing partners, activities and
//! members (and leaving), handing an action on, a voice's short recording (type from its
//! bytes, served only to readers), and the codings export behind the themes page.

use axum::http::StatusCode;
use ensemble::rbac::Role;
use ensemble_stats::agreement::agreement;

use crate::programmes::{add, share, signed, world};
use crate::support::Client;

fn token_in(body: &str) -> String {
    let start = body.find("/share/").expect("a link on the page");
    body[start + 7..]
        .chars()
        .take_while(|c| *c != '"' && *c != '<' && *c != '/')
        .collect()
}

/// The team ends every link made so far: an ended link is refused with its own message and
/// shares nothing (even a form opened before); a new link works; only the team can end links.
#[tokio::test]
async fn upkeep_ending_links_refuses_every_older_link() {
    let mut w = world().await;
    let p = w.programme.clone();
    let old = token_in(
        &w.team
            .get(&format!("/programmes/{p}/link?days=7"))
            .await
            .body,
    );
    let form = format!("/share/{old}");
    let csrf = w.anonymous.get(&form).await.csrf();
    let link_page = format!("/programmes/{p}/link");
    let end = format!("/programmes/{p}/link/end");
    let r = w
        .member
        .submit(&format!("/programmes/{p}"), &end, &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a member cannot end links");
    assert_eq!(w.anonymous.get(&form).await.status, StatusCode::OK);
    let r = w.team.submit(&link_page, &end, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        w.team
            .get(r.location())
            .await
            .body
            .contains("Every link made before now has been ended")
    );
    let before = w.app.count("SELECT COUNT(*) FROM programme_voices").await;
    let r = w.anonymous.get(&form).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.body.contains("The programme team has ended this link"));
    assert_eq!(
        w.anonymous.get(&format!("{form}/qr.svg")).await.status,
        StatusCode::BAD_REQUEST
    );
    let r = w
        .anonymous
        .post_form(
            &form,
            &[
                ("csrf_token", &csrf),
                ("kind", "feedback"),
                ("body", "Too late"),
                ("visibility", "team"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM programme_voices").await,
        before
    );
    let new = token_in(&w.team.get(&format!("{link_page}?days=1")).await.body);
    assert_ne!(new, old);
    let new_form = format!("/share/{new}");
    let r = w
        .anonymous
        .submit(
            &new_form,
            &new_form,
            &[
                ("kind", "moment"),
                ("body", "Still welcome"),
                ("visibility", "team"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'programme.links_ended'")
            .await,
        1
    );
}

/// Managers remove an activity, a partner (its activities go too; never the lead) and a
/// member; a member who owns an unfinished action is kept until it is handed on; a removed
/// member loses the space but keeps their own voice; anyone can leave; nobody else removes.
#[tokio::test]
async fn upkeep_removing_partners_activities_and_members() {
    let mut w = world().await;
    let p = w.programme.clone();
    let space = format!("/programmes/{p}");
    let orchestra: String =
        sqlx::query_scalar("SELECT id FROM organisations WHERE name = 'Orchestra'")
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
    let trust: String = sqlx::query_scalar("SELECT id FROM organisations WHERE name = 'Trust'")
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    let r = w
        .manager
        .submit(
            &space,
            &format!("{space}/partners"),
            &[("organisation_id", &orchestra), ("part", "Music")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Removing takes two steps: a disclosure that says what goes, then its own button.
    let page = w.manager.get(&space).await;
    let form = format!("action=\"{space}/partners/{orchestra}/remove\"");
    let at = page
        .body
        .find(&form)
        .expect("a remove form for the partner");
    let before = &page.body[..at];
    assert!(
        before.rfind("<details").unwrap_or(0) > before.rfind("</details>").unwrap_or(0),
        "the form sits inside a closed disclosure"
    );
    assert!(page.body[at..].contains(
        "Orchestra and its linked activities from this programme? This cannot be undone."
    ));
    // The lead organisation stays.
    let r = w
        .manager
        .submit(&space, &format!("{space}/partners/{trust}/remove"), &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("The lead organisation cannot be removed"));
    // Only managers remove partners; a member cannot remove another member.
    let r = w
        .team
        .submit(&space, &format!("{space}/partners/{orchestra}/remove"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = w
        .member
        .submit(
            &space,
            &format!("{space}/members/{}/remove", w.team_id),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The member's voice starts an action the team member owns.
    let voice = share(&mut w.member, &p, "Please start earlier", "team").await;
    let new = format!("{space}/actions/new?voice={voice}");
    let r = w
        .team
        .submit(
            &new,
            &format!("{space}/actions"),
            &[
                ("title", "Start earlier"),
                ("description", "Move the group."),
                ("owner_id", &w.team_id),
                ("due_on", "2030-01-01"),
                ("voices", &voice),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let action = r.location().split('?').next().unwrap().to_string();
    let remove_team = format!("{space}/members/{}/remove", w.team_id);
    let r = w.manager.submit(&space, &remove_team, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body
            .contains("They own 1 action on the board that is not finished")
    );
    // Hand it on: only to another responsible member.
    let (mut second, second_email, second_id) =
        signed(&w.app, Role::Practitioner, &orchestra).await;
    let owner = format!("{action}/owner");
    let r = w
        .team
        .submit(&action, &owner, &[("owner_id", &w.member_id)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Choose another member of the programme team")
    );
    add(&mut w.manager, &p, &second_email, "responsible", "staff").await;
    assert!(
        w.team
            .get(&action)
            .await
            .body
            .contains("Hand this action on")
    );
    let r = w
        .member
        .submit(
            &format!("/voices/{voice}"),
            &owner,
            &[("owner_id", &second_id)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "only its owner hands it on"
    );
    let r = w
        .team
        .submit(&action, &owner, &[("owner_id", &second_id)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(second.get(&action).await.body.contains("Post progress"));
    let r = w.manager.submit(&space, &remove_team, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        w.manager
            .get(r.location())
            .await
            .body
            .contains("Member removed")
    );
    assert_eq!(w.team.get(&space).await.status, StatusCode::FORBIDDEN);

    // Removing the partner takes its linked activity off too.
    let r = w
        .manager
        .submit(&space, &format!("{space}/partners/{orchestra}/remove"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_partners WHERE organisation_id IN (SELECT id FROM organisations WHERE name = 'Orchestra')")
            .await,
        0
    );
    let r = w
        .manager
        .submit(&space, &format!("{space}/partners/{orchestra}/remove"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "already removed");
    let r = w
        .manager
        .submit(&space, &format!("{space}/activities/nothing/remove"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The member leaves: the space is gone, their own voice is still theirs to withdraw.
    let leave = format!("{space}/members/{}/remove", w.member_id);
    assert!(
        w.member
            .get(&space)
            .await
            .body
            .contains("Leave this programme")
    );
    let r = w.member.submit(&space, &leave, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(w.member.get(&space).await.status, StatusCode::FORBIDDEN);
    let page = format!("/voices/{voice}");
    assert_eq!(w.member.get(&page).await.status, StatusCode::OK);
    let r = w
        .member
        .submit(&page, &format!("{page}/withdraw"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for what in [
        "programme.member_removed",
        "programme.member_left",
        "programme.partner_removed",
        "action.handed_over",
    ] {
        assert_eq!(
            w.app
                .count(&format!(
                    "SELECT COUNT(*) FROM audit_log WHERE action = '{what}'"
                ))
                .await,
            1,
            "{what}"
        );
    }
}

/// A short recording with a voice: the type read from its bytes (not its name), the size
/// limited with a message naming it, nothing stored on refusal, and the file served only as
/// an attachment to people who may read the voice.
#[tokio::test]
async fn upkeep_a_voice_recording_is_checked_by_its_bytes_and_served_only_to_readers() {
    let mut w = world().await;
    let p = w.programme.clone();
    let voice = share(&mut w.member, &p, "How the group felt", "team").await;
    let page = format!("/voices/{voice}");
    let action = format!("{page}/audio");
    let csrf = w.member.get(&page).await.csrf();
    assert!(
        w.member
            .get(&page)
            .await
            .body
            .contains("Add a short recording")
    );
    let m4a = b"\0\0\0\x20ftypM4A \0\0\0\0M4A mp42isom\0\0\0\x08free";
    let mut big = b"OggS".to_vec();
    big.resize(8 * 1024 * 1024 + 1, 0);
    for (name, bytes, message) in [
        (
            "song.mp3",
            &b"\x89PNG\r\n\x1a\n not sound"[..],
            "The recording must be an audio file",
        ),
        (
            "song.m4a",
            &b"<script>alert(1)</script>"[..],
            "The recording must be an audio file",
        ),
        (
            "long.ogg",
            &big[..],
            "The recording must be 8.0 MB or smaller (it is 8.0 MB)",
        ),
    ] {
        let r = w
            .member
            .post_multipart(&action, &[("csrf_token", &csrf)], &[("audio", name, bytes)])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(r.body.contains(message), "{message}: {}", r.body);
    }
    let r = w
        .member
        .post_multipart(&action, &[("csrf_token", &csrf)], &[])
        .await;
    assert!(r.body.contains("Choose a recording to add"));
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_voice_audio")
            .await,
        0
    );
    let r = w
        .member
        .post_multipart(
            &action,
            &[("csrf_token", &csrf)],
            &[("audio", "memo.bin", &m4a[..])],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        w.member
            .get(&page)
            .await
            .body
            .contains("Download the recording (M4A, 1 KB)")
    );
    let r = w.team.get(&action).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "audio/mp4");
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"voice-audio.m4a\""
    );
    assert_eq!(w.outsider.get(&action).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        w.other_member.get(&action).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(w.anonymous.get(&action).await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'voice.audio_read'")
            .await,
        1
    );
    // A photo over the form limit now gets its own message too.
    let mut photo = b"\x89PNG\r\n\x1a\n".to_vec();
    photo.resize(1200 * 1024, 0);
    let r = w
        .member
        .post_multipart(
            &format!("{page}/photo"),
            &[("csrf_token", &csrf)],
            &[("photo", "big.png", &photo[..])],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("The photo must be 900 KB or smaller"));
    // Withdrawing the voice deletes the recording.
    let r = w
        .member
        .submit(&page, &format!("{page}/withdraw"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_voice_audio")
            .await,
        0
    );
}

async fn code(c: &mut Client, voice: &str, themes: &[&str]) {
    let page = format!("/voices/{voice}");
    let csrf = c.get(&page).await.csrf();
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend(themes.iter().map(|t| ("themes", *t)));
    let r = c.post_form(&format!("/voices/{voice}/themes"), &all).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

/// The codings export: the CSV's two coder columns give exactly the agreement the page and
/// the API show; no voice text is in it; only coders get it; a withdrawn voice leaves it.
#[tokio::test]
async fn upkeep_codings_export_reproduces_the_agreement_shown() {
    let mut w = world().await;
    let p = w.programme.clone();
    let org = w.app.org("Researchers", "cultural_organisation").await;
    let (mut co, co_email, co_id) = signed(&w.app, Role::Participant, &org).await;
    add(&mut w.manager, &p, &co_email, "consulted", "co_researcher").await;
    let themes_page = format!("/programmes/{p}/themes");
    let mut ids = Vec::new();
    for name in ["Travel", "=Belonging"] {
        let r = w
            .team
            .submit(
                &themes_page,
                &themes_page,
                &[("name", name), ("description", "About it.")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let id: String = sqlx::query_scalar("SELECT id FROM programme_themes WHERE name = $1")
            .bind(name)
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
        ids.push(id);
    }
    let (t, b) = (ids[0].as_str(), ids[1].as_str());
    let mut voices = Vec::new();
    for i in 0..4 {
        voices.push(share(&mut w.member, &p, &format!("Secret words {i}"), "members").await);
    }
    let team_codes: [&[&str]; 4] = [&[t, b], &[t], &[], &[b]];
    let co_codes: [&[&str]; 3] = [&[t], &[t], &[b]];
    for (i, v) in voices.iter().enumerate() {
        code(&mut w.team, v, team_codes[i]).await;
        if i < 3 {
            code(&mut co, v, co_codes[i]).await;
        }
    }
    let csv_path = format!("{themes_page}/codings.csv");
    let r = w.team.get(&csv_path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"codings.csv\""
    );
    assert!(!r.body.contains("Secret words"), "no voice text");
    assert!(
        r.body.contains("'=Belonging"),
        "a formula-like cell is made text"
    );
    let mut reader = csv::Reader::from_reader(r.body.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..3], &["voice", "month", "theme"]);
    assert_eq!(header.len(), 5, "one column per coder: {header:?}");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4 * 2, "each coded voice, each theme");
    let pairs: Vec<(String, String)> = rows
        .iter()
        .filter(|r| !r[3].is_empty() && !r[4].is_empty())
        .map(|r| (r[3].to_string(), r[4].to_string()))
        .collect();
    assert_eq!(
        pairs.len(),
        3 * 2,
        "blank where one coder did not code the voice"
    );
    let from_csv = agreement(&pairs).unwrap();
    // The same as the API's pair and the page's "All themes" row.
    let actor = ensemble::rbac::Actor {
        user_id: co_id.clone(),
        display_name: "c".into(),
        email: "c@example.org".into(),
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
    let api = format!("/api/v1/programmes/{p}/themes");
    let r = w.app.client().api("GET", &api, Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    assert_eq!(j["themes"].as_array().unwrap().len(), 2);
    assert_eq!(j["codings"].as_array().unwrap().len(), 4 + 3);
    let pair = &j["pairs"][0];
    assert_eq!(pair["voices"], 3);
    assert_eq!(pair["decisions"], 6);
    assert!((pair["observed"].as_f64().unwrap() - from_csv.observed).abs() < 1e-12);
    assert!((pair["kappa"].as_f64().unwrap() - from_csv.kappa.unwrap()).abs() < 1e-12);
    let page = w.team.get(&themes_page).await.body;
    assert!(page.contains(&format!(
        "<td class=\"nhsuk-table__cell\">{}</td><td class=\"nhsuk-table__cell\">{}</td>",
        ensemble::modules::programmes::themes_html::percent(&from_csv),
        ensemble::modules::programmes::themes_html::kappa(&from_csv)
    )));
    assert!(page.contains("Download the codings (CSV)"));
    // Only coders.
    assert_eq!(w.member.get(&csv_path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        w.outsider.get(&csv_path).await.status,
        StatusCode::FORBIDDEN
    );
    assert_ne!(w.anonymous.get(&csv_path).await.status, StatusCode::OK);
    // Withdrawing a voice takes its rows out of the export.
    let v = format!("/voices/{}", voices[0]);
    let r = w.member.submit(&v, &format!("{v}/withdraw"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let body = w.team.get(&csv_path).await.body;
    assert!(!body.contains(&voices[0]));
    assert_eq!(body.lines().count(), 1 + 3 * 2);
}

/// A practitioner records a voice for someone taking part: only people of the programme's
/// activities who agreed to share their stories are offered; the voice is theirs where they
/// have an account (otherwise the practitioner's to change); withdrawing the consent hides
/// it at once and the sweep deletes it with everything naming it.
#[tokio::test]
async fn upkeep_a_voice_recorded_on_someones_behalf_follows_their_consent() {
    let mut w = crate::referrals::world().await;
    let (_, harper, mut harper_client) = crate::measures::connected(&mut w, "Harper").await;
    let (_, sam, _) = crate::measures::connected(&mut w, "Sam").await;
    let (mut manager, _, _) = signed(&w.app, Role::ProgrammeManager, &w.provider_org).await;
    let r = manager
        .submit(
            "/programmes",
            "/programmes",
            &[
                ("name", "Singing programme"),
                ("summary", "Singing."),
                ("lead_organisation_id", &w.provider_org),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let space = r.location().to_string();
    let p = space.trim_start_matches("/programmes/").to_string();
    let r = manager
        .submit(
            &space,
            &format!("{space}/activities"),
            &[("activity_id", &w.activity)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let pr_email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(w.practitioner.1.clone())
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    add(&mut manager, &p, &pr_email, "responsible", "staff").await;
    let give = |person: String| {
        let db = w.app.state.db.write.clone();
        async move {
            sqlx::query(
                "INSERT INTO person_consents (person_id, purpose, decision, statement_id, decided_at) \
                 SELECT person_id, 'share_stories', 'given', statement_id, decided_at FROM person_consents WHERE person_id = $1 AND purpose = 'contact'",
            )
            .bind(person)
            .execute(&db)
            .await
            .unwrap();
        }
    };
    give(harper.clone()).await;

    let form = format!("{space}/voices/for");
    let (pr, _) = &mut w.practitioner;
    assert!(
        pr.get(&space)
            .await
            .body
            .contains("Record a voice for someone")
    );
    let page = pr.get(&form).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Harper"));
    assert!(
        !page.body.contains("Sam"),
        "Sam has not agreed to share stories"
    );
    assert!(
        page.body
            .contains("1 person you work with here has not agreed")
    );
    // Not agreed, or empty: named, nothing stored.
    let before = w.app.count("SELECT COUNT(*) FROM programme_voices").await;
    let r = pr
        .submit(
            &form,
            &form,
            &[
                ("person_id", &sam),
                ("kind", "feedback"),
                ("body", ""),
                ("visibility", "team"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("has agreed to share their stories"));
    assert!(r.body.contains("Enter what you want to say"));
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM programme_voices").await,
        before
    );
    // Someone outside the programme team cannot record.
    assert_eq!(
        w.other_practitioner.get(&form).await.status,
        StatusCode::FORBIDDEN
    );
    let r = pr
        .submit(
            &form,
            &form,
            &[
                ("person_id", &harper),
                ("kind", "moment"),
                ("body", "Singing <b>made</b> my week"),
                ("visibility", "team"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let voice_page = r.location().split('?').next().unwrap().to_string();
    let r = pr.get(&voice_page).await;
    assert!(r.body.contains("Singing &lt;b&gt;made&lt;/b&gt; my week"));
    assert!(r.body.contains("written down by the programme team"));
    assert!(
        !r.body.contains("Change what you shared"),
        "Harper's to change"
    );
    // Harper has an account: the voice is hers.
    let mine = harper_client.get(&voice_page).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("Change what you shared"));

    // Sam agrees, has no account: the practitioner keeps it for him.
    give(sam.clone()).await;
    sqlx::query("UPDATE people SET user_id = NULL WHERE id = $1")
        .bind(sam.clone())
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    let r = pr
        .submit(
            &form,
            &form,
            &[
                ("person_id", &sam),
                ("kind", "feedback"),
                ("body", "Later buses please"),
                ("visibility", "members"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let sam_page = r.location().split('?').next().unwrap().to_string();
    assert!(
        pr.get(&sam_page)
            .await
            .body
            .contains("Change what you shared")
    );

    // Harper withdraws her consent: the voice is gone at once, then deleted by the sweep.
    sqlx::query("UPDATE person_consents SET decision = 'withdrawn' WHERE person_id = $1 AND purpose = 'share_stories'")
        .bind(harper.clone())
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    assert_eq!(pr.get(&voice_page).await.status, StatusCode::NOT_FOUND);
    assert!(!pr.get(&space).await.body.contains(&voice_page));
    assert!(pr.get(&space).await.body.contains(&sam_page));
    let n = ensemble::modules::programmes::behalf::sweep(&w.app.state)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_voices WHERE person_id IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'voice.consent_withdrawn'")
            .await,
        1
    );
    assert_eq!(
        ensemble::modules::programmes::behalf::sweep(&w.app.state)
            .await
            .unwrap(),
        0
    );
}

/// The members' space counts voices only up to a cap, and says "more than" beyond it.
#[tokio::test]
async fn upkeep_the_space_caps_its_voice_count() {
    let mut w = world().await;
    let p = w.programme.clone();
    let cap = ensemble::modules::programmes::voices::COUNT_CAP;
    for i in 0..cap {
        sqlx::query(
            "INSERT INTO programme_voices (id, programme_id, author_id, kind, body, visibility, moderation, created_at, updated_at) \
             VALUES ($1, $2, NULL, 'feedback', 'x', 'team', 'not_needed', $3, $3)",
        )
        .bind(format!("bulk-{i:05}"))
        .bind(p.clone())
        .bind(i)
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    }
    let space = format!("/programmes/{p}");
    assert!(
        w.team
            .get(&space)
            .await
            .body
            .contains(&format!("{cap} shared in this programme"))
    );
    share(&mut w.member, &p, "One more", "team").await;
    let body = w.team.get(&space).await.body;
    assert!(body.contains(&format!("More than {cap} shared in this programme")));
}
