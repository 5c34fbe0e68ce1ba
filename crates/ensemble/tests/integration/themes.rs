//! Co-analysis themes: the team and a co-researcher code the same voices, and the agreement
//! shown is `agreement()` over their pairs; ordinary members and outsiders are refused;
//! withdrawing a voice takes its codings and its place in the theme counts with it.

use axum::http::StatusCode;
use ensemble::modules::programmes::themes_html::{kappa, percent};
use ensemble::rbac::Role;
use ensemble_stats::agreement::agreement;

use crate::programmes::{World, add, share, signed, world};
use crate::support::Client;

async fn new_theme(c: &mut Client, programme: &str, name: &str) {
    let page = format!("/programmes/{programme}/themes");
    let r = c
        .submit(
            &page,
            &page,
            &[("name", name), ("description", "What people say about it.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

async fn theme_id(w: &World, name: &str) -> String {
    sqlx::query_scalar("SELECT id FROM programme_themes WHERE name = $1")
        .bind(name.to_string())
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap()
}

async fn code(c: &mut Client, voice: &str, themes: &[&str]) -> StatusCode {
    let fields: Vec<(&str, &str)> = themes.iter().map(|t| ("themes", *t)).collect();
    let page = format!("/voices/{voice}");
    let csrf = c.get(&page).await.csrf();
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend(fields);
    c.post_form(&format!("/voices/{voice}/themes"), &all)
        .await
        .status
}

/// Used by the withdrawal test: the team adds a theme and codes the voice with it.
pub(crate) async fn code_with_a_new_theme(team: &mut Client, programme: &str, voice: &str) {
    new_theme(team, programme, "Getting there").await;
    let page = format!("/voices/{voice}");
    let body = team.get(&page).await.body;
    let at = body.find("name=\"themes\"").expect("coding form");
    let value = body[at..].split("value=\"").nth(1).unwrap();
    let id = value.split('"').next().unwrap().to_string();
    assert_eq!(code(team, voice, &[&id]).await, StatusCode::SEE_OTHER);
}

fn cell(s: &str) -> String {
    format!("<td class=\"nhsuk-table__cell\">{s}</td>")
}

#[tokio::test]
async fn team_and_co_researcher_agreement_matches_the_reference_and_others_are_refused() {
    let mut w = world().await;
    let p = w.programme.clone();
    let org = w.app.org("Researchers", "cultural_organisation").await;
    let (mut co, co_email, _) = signed(&w.app, Role::Participant, &org).await;
    add(&mut w.manager, &p, &co_email, "consulted", "co_researcher").await;
    for name in ["Travel", "Belonging", "Unused"] {
        new_theme(&mut w.team, &p, name).await;
    }
    let (t, b) = (
        theme_id(&w, "Travel").await,
        theme_id(&w, "Belonging").await,
    );
    let mut voices = Vec::new();
    for i in 0..4 {
        voices.push(share(&mut w.member, &p, &format!("Members voice {i}"), "members").await);
    }
    let hidden = share(&mut w.member, &p, "Only for the team", "team").await;
    let team_codes: [&[&str]; 4] = [&[&t, &b], &[&t], &[], &[&b]];
    let co_codes: [&[&str]; 4] = [&[&t], &[&t], &[&b], &[&b]];
    for (i, v) in voices.iter().enumerate() {
        assert_eq!(
            code(&mut w.team, v, team_codes[i]).await,
            StatusCode::SEE_OTHER
        );
        assert_eq!(code(&mut co, v, co_codes[i]).await, StatusCode::SEE_OTHER);
    }
    assert_eq!(
        code(&mut w.team, &hidden, &[&t]).await,
        StatusCode::SEE_OTHER
    );
    // A co-researcher cannot code (or learn of) a voice they may not read.
    assert_eq!(code(&mut co, &hidden, &[&t]).await, StatusCode::NOT_FOUND);
    // A theme from outside the list is refused, and nothing changes.
    assert_eq!(
        code(&mut w.team, &voices[0], &["not-a-theme"]).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_voice_themes")
            .await,
        9
    );

    let page = format!("/programmes/{p}/themes");
    let team_page = w.team.get(&page).await;
    assert_eq!(team_page.status, StatusCode::OK);
    let co_page = co.get(&page).await;
    assert_eq!(co_page.status, StatusCode::OK, "{}", co_page.body);
    let has = |codes: &[&[&str]; 4], theme: &str, i: usize| codes[i].contains(&theme);
    let mut all = Vec::new();
    for (name, id) in [
        ("Travel", t.as_str()),
        ("Belonging", b.as_str()),
        ("Unused", ""),
    ] {
        let pairs: Vec<(bool, bool)> = (0..4)
            .map(|i| (has(&team_codes, id, i), has(&co_codes, id, i)))
            .collect();
        all.extend(pairs.iter().copied());
        let a = agreement(&pairs).unwrap();
        let row = format!("{}{}{}", cell(name), cell(&percent(&a)), cell(&kappa(&a)));
        for body in [&team_page.body, &co_page.body] {
            assert!(body.contains(&row), "{name}: {row}");
        }
    }
    let overall = agreement(&all).unwrap();
    assert!(co_page.body.contains(&format!(
        "{}{}",
        cell(&percent(&overall)),
        cell(&kappa(&overall))
    )));
    assert!(
        team_page
            .body
            .contains("not defined (both gave every voice the same answer)")
    );
    // Quotes only from voices the viewer may read.
    assert!(team_page.body.contains("Only for the team"));
    assert!(!co_page.body.contains("Only for the team"));
    assert!(co_page.body.contains("Members voice 0"));

    // The coder changes their own coding; the other coder's rows are untouched.
    assert_eq!(code(&mut co, &voices[2], &[]).await, StatusCode::SEE_OTHER);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM programme_voice_themes")
            .await,
        8
    );

    // The programme's manager codes too; ordinary members, other programmes' members,
    // outsiders and the public are refused.
    assert_eq!(w.manager.get(&page).await.status, StatusCode::OK);
    assert_eq!(w.member.get(&page).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        w.other_member.get(&page).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(w.outsider.get(&page).await.status, StatusCode::FORBIDDEN);
    assert_ne!(w.anonymous.get(&page).await.status, StatusCode::OK);
    assert_eq!(
        code(&mut w.member, &voices[0], &[&t]).await,
        StatusCode::FORBIDDEN
    );
    let r = w.member.get(&format!("/voices/{}", voices[0])).await;
    assert!(!r.body.contains("Which themes apply?") && !r.body.contains("Travel"));
    assert!(
        !w.member
            .get(&format!("/programmes/{p}"))
            .await
            .body
            .contains("/themes")
    );
    let r = co
        .submit(&page, &page, &[("name", "Mine"), ("description", "Mine.")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Bad theme input is named, and nothing is stored.
    let r = w
        .team
        .submit(&page, &page, &[("name", "Travel"), ("description", " ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("There is already a theme with this name"));
    assert!(r.body.contains("Enter a short description of the theme"));
    // Rename and retire: a retired theme is no longer offered on voices not coded with it.
    let r = w
        .team
        .submit(
            &page,
            &format!("{page}/{b}"),
            &[
                ("name", "Belonging and welcome"),
                ("description", "Feeling part of it."),
                ("retired", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page_after = w.team.get(&page).await.body;
    assert!(page_after.contains("Belonging and welcome (retired)"));
    assert!(
        !co.get(&format!("/voices/{}", voices[1]))
            .await
            .body
            .contains("Belonging and welcome")
    );
}

#[tokio::test]
async fn a_withdrawn_voice_leaves_the_theme_counts() {
    let mut w = world().await;
    let p = w.programme.clone();
    new_theme(&mut w.team, &p, "Travel").await;
    let t = theme_id(&w, "Travel").await;
    let mut voices = Vec::new();
    for i in 0..8 {
        let v = share(&mut w.member, &p, &format!("Bus story {i}"), "members").await;
        assert_eq!(code(&mut w.team, &v, &[&t]).await, StatusCode::SEE_OTHER);
        voices.push(v);
    }
    let page = format!("/programmes/{p}/themes");
    // Eight voices are published rounded to ten; seven would be suppressed.
    let body = w.team.get(&page).await.body;
    assert!(
        body.contains(&cell("10")) && !body.contains("fewer than 8"),
        "{body}"
    );
    let r = w
        .member
        .submit(
            &format!("/voices/{}", voices[0]),
            &format!("/voices/{}/withdraw", voices[0]),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for t in ["programme_voice_themes", "programme_voice_codings"] {
        assert_eq!(
            w.app
                .count(&format!(
                    "SELECT COUNT(*) FROM {t} WHERE voice_id = '{}'",
                    voices[0]
                ))
                .await,
            0
        );
    }
    let body = w.team.get(&page).await.body;
    assert!(!body.contains(&cell("10")) && body.contains("fewer than 8"));
    assert!(!body.contains("Bus story 0"));
}
