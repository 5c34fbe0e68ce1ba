//! Matching from the case (issue 14): the search pre-filled from the record and sorted by
//! distance, sending two or three options by email or text message, consent to contact,
//! bad choices named in an error summary, and recording the person's choice.

use super::*;
use ensemble::modules::places::import;
use sqlx::Row;

/// "L8 0AB" as in the test postcode file below.
const L8: (f64, f64) = (53.390166, -2.948658);

/// An independent haversine (metres), not Ensemble's.
fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8_f64;
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2)
        + p1.cos() * p2.cos() * ((b.1 - a.1).to_radians() / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().atan2((1.0 - h).sqrt())
}

async fn postcodes(app: &TestApp) {
    let dir = std::env::temp_dir().join(format!("ens-match-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("postcodes.csv");
    std::fs::write(
        &file,
        format!(
            "pcds,latitude,longitude,lsoa21cd,lad25cd,lad_nm,doterm\n\
             L8 0AB,{},{},E01006549,E08000012,Liverpool,\n\
             L1 8JQ,53.4084,-2.9916,E01033758,E08000012,Liverpool,\n",
            L8.0, L8.1
        ),
    )
    .unwrap();
    import::import_postcodes(&app.state.db, &file, |_| {})
        .await
        .unwrap();
}

/// Activities around L8: (name, latitude, longitude, cost, access).
const AROUND: &[(&str, f64, f64, &str, &[&str])] = &[
    (
        "Paid Step-free Pottery",
        53.3905,
        -2.9490,
        "fixed",
        &["step_free"],
    ),
    ("Free Upstairs Choir", 53.3910, -2.9480, "free", &[]),
    (
        "Free Park Painting",
        53.3960,
        -2.9600,
        "free",
        &["step_free"],
    ),
    (
        "Free Dock Drumming",
        53.4050,
        -2.9850,
        "free",
        &["step_free", "hearing_loop"],
    ),
    (
        "Free Garden Poetry",
        53.3800,
        -2.9300,
        "free",
        &["step_free"],
    ),
    ("Free Far Ukulele", 53.6500, -2.9000, "free", &["step_free"]),
];

/// (id, name, latitude, longitude, cost, access).
type Act = (
    String,
    &'static str,
    f64,
    f64,
    &'static str,
    &'static [&'static str],
);

struct Case {
    w: World,
    id: String,
    acts: Vec<Act>,
}

/// Riley, referred from L8 with cost and mobility barriers, plan agreed.
async fn riley() -> Case {
    let mut w = world().await;
    postcodes(&w.app).await;
    let mut acts = Vec::new();
    for (name, lat, lon, cost, access) in AROUND {
        let id = crate::directory::activity(
            &w.app,
            &w.provider_org,
            name,
            *lat,
            *lon,
            cost,
            "TU",
            access,
        )
        .await;
        acts.push((id, *name, *lat, *lon, *cost, *access));
    }
    let mut fields = SELF.to_vec();
    fields.retain(|(k, _)| *k != "given_name");
    fields.push(("given_name", "Riley"));
    fields.push(("postcode", "L8 0AB"));
    let r = self_refer(&w.app, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = latest_referral(&w.app).await;
    let case = format!("/caseload/{id}");
    let lw = &mut w.lw.0;
    post_ok(lw, &case, &format!("{case}/take"), &[]).await;
    post_ok(
        lw,
        &case,
        &format!("{case}/status"),
        &[("status", "contacted"), ("reason", "")],
    )
    .await;
    for b in ["cost", "mobility"] {
        post_ok(
            lw,
            &case,
            &format!("{case}/barriers"),
            &[
                ("barrier", b),
                ("detail", ""),
                ("action", "none_yet"),
                ("action_detail", ""),
            ],
        )
        .await;
    }
    let plan = format!("{case}/plan");
    let review = in_weeks(8);
    post_ok(
        lw,
        &plan,
        &plan,
        &[
            ("what_matters", "Meeting people"),
            ("needs", ""),
            ("goals", "Go to a group every week"),
            ("support_offered", ""),
            ("next_steps", "Send options"),
            ("review_on", &review),
            ("agreed", "yes"),
        ],
    )
    .await;
    Case { w, id, acts }
}

/// The activity names in the order the page lists them.
fn listed(body: &str, acts: &[Act]) -> Vec<String> {
    let mut found: Vec<(usize, String)> = acts
        .iter()
        .filter_map(|a| {
            body.find(&format!(">{}</a>", a.1))
                .map(|i| (i, a.1.to_string()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

#[tokio::test]
async fn a_person_in_l8_with_cost_and_mobility_barriers_sees_free_step_free_activities_nearest_first()
 {
    let mut c = riley().await;
    let page = c.w.lw.0.get(&format!("/caseload/{}/match", c.id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for hint in [
        "Cost is a barrier",
        "Mobility is a barrier",
        "value=\"L8 0AB\"",
    ] {
        assert!(page.body.contains(hint), "{hint}");
    }
    // Independently: free, step-free, within 5 miles of L8 0AB, nearest first.
    let mut expected: Vec<(f64, &str)> = c
        .acts
        .iter()
        .filter(|a| a.4 == "free" && a.5.contains(&"step_free"))
        .map(|a| (haversine(L8, (a.2, a.3)), a.1))
        .filter(|(d, _)| *d <= 5.0 * 1609.344)
        .collect();
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));
    let expected: Vec<String> = expected.into_iter().map(|(_, n)| n.to_string()).collect();
    assert_eq!(expected.len(), 3, "the far one is outside five miles");
    assert_eq!(listed(&page.body, &c.acts), expected);
    assert!(page.body.contains("Next session") && page.body.contains("Tuesday"));
    assert!(page.body.contains("Step-free access") && page.body.contains("Free"));

    // Widening the filters: the nearer paid and upstairs activities come first.
    let wide =
        c.w.lw
            .0
            .get(&format!(
                "/caseload/{}/match?searched=1&postcode=L8+0AB&distance=5",
                c.id
            ))
            .await;
    assert_eq!(wide.status, StatusCode::OK);
    let order = listed(&wide.body, &c.acts);
    assert_eq!(
        &order[..2],
        ["Paid Step-free Pottery", "Free Upstairs Choir"]
    );
    assert!(
        c.w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'referral.match.view'")
            .await
            >= 2
    );
}

fn send_fields<'a>(
    csrf: &'a str,
    options: &[&'a str],
    channel: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("csrf_token", csrf),
        ("searched", "1"),
        ("postcode", "L8 0AB"),
        ("distance", "5"),
        ("cost", "free"),
        ("access", "step_free"),
        ("channel", channel),
    ];
    f.extend(options.iter().map(|o| ("options", *o)));
    f
}

#[tokio::test]
async fn options_go_by_email_or_text_into_the_outbox_and_bad_choices_are_named() {
    let mut c = riley().await;
    let page = format!("/caseload/{}/match", c.id);
    let send = format!("{page}/send");
    let token = c.w.lw.0.get(&page).await.csrf();
    let id_of = |n: &str| c.acts.iter().find(|a| a.1 == n).unwrap().0.clone();
    let (park, dock, garden, paid) = (
        id_of("Free Park Painting"),
        id_of("Free Dock Drumming"),
        id_of("Free Garden Poetry"),
        id_of("Paid Step-free Pottery"),
    );
    let lw = &mut c.w.lw.0;
    for (options, message) in [
        (vec![], "Choose two or three activities to send"),
        (vec![park.as_str()], "Choose at least two activities"),
        (
            vec![
                park.as_str(),
                dock.as_str(),
                garden.as_str(),
                c.w.activity.as_str(),
            ],
            "Choose no more than three activities",
        ),
        (
            vec![park.as_str(), paid.as_str()],
            "Choose activities from the results on this page",
        ),
    ] {
        let r = lw
            .post_form(&send, &send_fields(&token, &options, "email"))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(
            r.body.contains("There is a problem") && r.body.contains(message),
            "{message}: {}",
            r.body
        );
    }
    let r = lw
        .post_form(&send, &send_fields(&token, &[&park, &dock], "pigeon"))
        .await;
    assert!(r.body.contains("Choose how to send the options"));
    assert_eq!(
        c.w.app.count("SELECT COUNT(*) FROM referral_options").await,
        0
    );

    // By email, then by text message.
    let r = lw
        .post_form(&send, &send_fields(&token, &[&park, &garden], "email"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = lw
        .post_form(
            &send,
            &send_fields(&token, &[&park, &dock, &garden], "text"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let rows = sqlx::query("SELECT to_address, body_text, channel FROM outbox WHERE subject = 'Activities your link worker found for you' OR channel = 'sms' ORDER BY created_at, id")
        .fetch_all(&c.w.app.state.db.read).await.unwrap();
    assert_eq!(rows.len(), 2);
    let get = |i: usize, k: &str| rows[i].try_get::<String, _>(k).unwrap();
    assert_eq!(
        (get(0, "channel").as_str(), get(0, "to_address").as_str()),
        ("email", "robin@example.org")
    );
    assert!(
        get(0, "body_text").contains("Free Park Painting")
            && get(0, "body_text").contains("Next session: Tuesday")
    );
    assert!(
        !get(0, "body_text").contains("Meeting people"),
        "nothing from the plan"
    );
    assert_eq!(
        (get(1, "channel").as_str(), get(1, "to_address").as_str()),
        ("sms", "0151 000 0000")
    );
    assert!(get(1, "body_text").contains("Free Dock Drumming"));
    assert_eq!(
        c.w.app.count("SELECT COUNT(*) FROM referral_options").await,
        5
    );
    assert_eq!(
        c.w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'referral.options.send'")
            .await,
        2
    );
    // The default sender keeps the text message in the outbox.
    while ensemble::jobs::run_due(&c.w.app.state).await.unwrap() > 0 {}
    assert_eq!(c.w.app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND status = 'kept (no SMS provider configured)'").await, 1);

    // Recording the choice: only one of those sent; then the referral is connected.
    let choice = format!("{page}/choice");
    let r = lw
        .post_form(
            &choice,
            &[
                ("csrf_token", &token),
                ("choice", &paid),
                ("provider_note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose one of the activities sent to them"));
    let r = lw
        .post_form(
            &choice,
            &[
                ("csrf_token", &token),
                ("choice", &dock),
                ("provider_note", "Uses a walking frame"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let row =
        sqlx::query("SELECT status, activity_id, provider_status FROM referrals WHERE id = $1")
            .bind(c.id.clone())
            .fetch_one(&c.w.app.state.db.read)
            .await
            .unwrap();
    assert_eq!(row.try_get::<String, _>("status").unwrap(), "connected");
    assert_eq!(row.try_get::<String, _>("activity_id").unwrap(), dock);
    assert_eq!(
        row.try_get::<String, _>("provider_status").unwrap(),
        "pending"
    );
    assert_eq!(
        c.w.app
            .count("SELECT COUNT(*) FROM referral_options WHERE chosen_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        c.w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'referral.options.choice'")
            .await,
        1
    );
    assert_eq!(
        c.w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'referral.connect'")
            .await,
        1
    );
}

#[tokio::test]
async fn without_consent_to_contact_nothing_is_sent_and_the_page_says_why() {
    let mut c = riley().await;
    let person = person_of(&c.w.app, &c.id).await;
    let lw = &mut c.w.lw.0;
    post_ok(
        lw,
        &format!("/people/{person}"),
        &format!("/people/{person}/consents"),
        &[
            ("purpose", "contact"),
            ("decision", "withdrawn"),
            ("method", "paper"),
        ],
    )
    .await;
    let page = format!("/caseload/{}/match", c.id);
    let before = c.w.app.count("SELECT COUNT(*) FROM outbox").await;
    let token = lw.get(&page).await.csrf();
    let (a, b) = (c.acts[2].0.clone(), c.acts[3].0.clone());
    let r = lw
        .post_form(
            &format!("{page}/send"),
            &send_fields(&token, &[&a, &b], "text"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Riley has not agreed to be contacted, so nothing was sent"),
        "{}",
        r.body
    );
    assert_eq!(c.w.app.count("SELECT COUNT(*) FROM outbox").await, before);
    assert_eq!(
        c.w.app.count("SELECT COUNT(*) FROM referral_options").await,
        0
    );
}
