//! The public self-referral form: spam protection, bad input, stale forms and the limit.

use super::*;

#[tokio::test]
async fn self_referral_spam_protection_and_bad_input() {
    let w = world().await;
    let before = w.app.count("SELECT COUNT(*) FROM referrals").await;
    // Sent less than 3 seconds after the form was opened: refused, nothing stored. The
    // signed start time is an hour ahead of the clock, so however slow the machine, the
    // server sees under 3 seconds.
    let mut c = w.app.client();
    let token = c.get("/refer-yourself").await.csrf();
    let started = selfrefer::sign(&w.app.state.secret, ensemble::db::now() + 3600);
    let mut fields = vec![
        ("csrf_token", token.as_str()),
        ("started", started.as_str()),
    ];
    fields.extend_from_slice(SELF);
    let r = c.post_form("/refer-yourself", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("very quick"));
    // A forged start time is refused.
    let mut fields = vec![("csrf_token", token.as_str()), ("started", "1.forged")];
    fields.extend_from_slice(SELF);
    assert_eq!(
        c.post_form("/refer-yourself", &fields).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The honeypot: thanks, but nothing is kept.
    let mut with_bot = SELF.to_vec();
    with_bot.push(("website", "http://spam.example"));
    let r = self_refer(&w.app, &with_bot).await;
    assert!(
        r.location()
            .starts_with("/refer-yourself/done?reference=ENS-")
    );
    // Missing contact routes, consent, reason and a bad postcode are named.
    let r = self_refer(
        &w.app,
        &[
            ("given_name", "A"),
            ("postcode", "NOT A POSTCODE"),
            ("consent_contact", "no"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "phone number or an email",
        "what you would like help with",
        "full UK postcode",
        "cannot help without being able to reach you",
        "evaluate the programme",
    ] {
        assert!(r.body.contains(msg), "missing message: {msg}");
    }
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, before);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM people").await, 0);
    // The confirmation page is plain and public.
    assert!(
        w.app
            .client()
            .get("/refer-yourself/done")
            .await
            .body
            .contains("What happens next")
    );
}

/// Submit the self-referral form with a start time `age` seconds before now.
async fn self_refer_opened(app: &TestApp, age: i64) -> crate::support::Resp {
    let mut c = app.client();
    let token = c.get("/refer-yourself").await.csrf();
    let started = selfrefer::sign(&app.state.secret, ensemble::db::now() - age);
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token), ("started", &started)];
    all.extend_from_slice(SELF);
    c.post_form("/refer-yourself", &all).await
}

#[tokio::test]
async fn a_self_referral_form_opened_more_than_a_day_ago_is_refused() {
    let w = world().await;
    let r = self_refer_opened(&w.app, 24 * 3600 + 60).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("This form was opened more than a day ago"),
        "{}",
        r.body
    );
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 0);
    // Opened a little under a day ago, it is still accepted.
    let r = self_refer_opened(&w.app, 24 * 3600 - 60).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 1);
}

#[tokio::test]
async fn the_eleventh_self_referral_from_one_address_within_an_hour_is_refused() {
    let w = world().await;
    for n in 1..=10 {
        let r = self_refer(&w.app, SELF).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "referral {n}: {}", r.body);
    }
    let r = self_refer(&w.app, SELF).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.body
            .contains("Too many referrals have been sent from this connection"),
        "{}",
        r.body
    );
    assert_eq!(w.app.count("SELECT COUNT(*) FROM referrals").await, 10);
    // Forms with mistakes do not count, and are still answered with the mistakes.
    let r = self_refer(&w.app, &[("given_name", "A")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_self_referral_goes_to_the_team_that_covers_the_persons_borough() {
    use ensemble::modules::accounts::service::{self, OrganisationInput};
    let app = TestApp::new().await;
    let mut teams = Vec::new();
    // "Knowsley…" sorts first, so it is the intake team for everyone no team covers.
    for (name, borough) in [
        ("Knowsley Link Workers", "Knowsley"),
        ("Liverpool Link Workers", "Liverpool"),
    ] {
        let id = service::create_organisation_as_operator(
            &app.state,
            &OrganisationInput {
                name: name.into(),
                kind: "gp_practice_or_pcn".into(),
                borough: borough.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        app.user(Role::LinkWorker, &id).await;
        teams.push(id);
    }
    for (pc, lat, lon, lad) in [
        ("L8 7NJ", 53.3902, -2.9713, "Liverpool"),
        ("L36 9YU", 53.4150, -2.8490, "Knowsley"),
        ("WA8 7QA", 53.3620, -2.7330, "Halton"),
    ] {
        sqlx::query("INSERT INTO places_postcodes (postcode, latitude, longitude, lsoa_code, lad_code, lad_name) VALUES ($1, $2, $3, NULL, NULL, $4)")
            .bind(pc)
            .bind(lat)
            .bind(lon)
            .bind(lad)
            .execute(&app.state.db.write)
            .await
            .unwrap();
    }
    for (postcode, team) in [
        ("l8 7nj", &teams[1]), // Liverpool: the Liverpool team, though it is not the intake team
        ("L36 9YU", &teams[0]), // Knowsley
        ("WA8 7QA", &teams[0]), // Halton: no team covers it, so the intake team
        ("", &teams[0]),       // no postcode: the intake team
        ("CH41 1AA", &teams[0]), // not in the loaded open data: the intake team
    ] {
        let mut fields = SELF.to_vec();
        fields.push(("postcode", postcode));
        let r = self_refer(&app, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{postcode}: {}", r.body);
        let id = latest_referral(&app).await;
        let sql = format!(
            "SELECT COUNT(*) FROM referrals WHERE id = '{id}' AND team_organisation_id = '{team}'"
        );
        assert_eq!(app.count(&sql).await, 1, "{postcode} went to another team");
    }
}
