//! The practitioner's "today": sessions planned from the activity's schedule (weekly and
//! term dates, never twice), the NHS.UK date input with errors naming the part, the
//! warning for a one-off off the schedule, marking everyone present with its audit row,
//! confirmation banners and the practitioner's home page.

use axum::http::StatusCode;
use ensemble::audit::AuditActor;
use ensemble::modules::directory::model::ActivityInput;
use ensemble::modules::directory::service;
use time::{Duration, Weekday};

use crate::measures::connected;
use crate::referrals::world;
use crate::support::TestApp;

fn day_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "MO",
        Weekday::Tuesday => "TU",
        Weekday::Wednesday => "WE",
        Weekday::Thursday => "TH",
        Weekday::Friday => "FR",
        Weekday::Saturday => "SA",
        Weekday::Sunday => "SU",
    }
}

/// An activity of `org` meeting weekly on `day`, 18:00 to 19:30, between the term dates.
async fn termly(app: &TestApp, org: &str, day: &str, from: &str, to: &str) -> String {
    let input = ActivityInput {
        organisation_id: org.into(),
        name: "Term-time Strings".into(),
        description: "Strings in term time.".into(),
        how_to_join: "drop_in".into(),
        cost: "free".into(),
        types: vec!["choir".into()],
        location_name: "School Hall".into(),
        address_1: "1 Test Street".into(),
        city: "Liverpool".into(),
        postcode: "L1 8JQ".into(),
        latitude: "53.4".into(),
        longitude: "-2.99".into(),
        freq: "WEEKLY".into(),
        byday: day.into(),
        opens_at: "18:00".into(),
        closes_at: "19:30".into(),
        valid_from: from.into(),
        valid_to: to.into(),
        ..Default::default()
    };
    let v = service::validate(&app.state, &input).await.unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    let id = service::insert(&mut tx, &AuditActor::cli(), &v, None, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn sessions_are_planned_from_a_weekly_schedule_once_however_often_it_is_run() {
    let mut w = world().await;
    let activity = w.activity.clone();
    let (pr, _) = &mut w.practitioner;
    let plan = [("plan_activity", activity.as_str()), ("weeks", "4")];
    let r = pr.submit("/sessions", "/sessions/plan", &plan).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Every Monday in the next four weeks: exactly four, at 10:00 UK time.
    assert_eq!(r.location(), "/sessions?saved=planned&count=4");
    let body = pr.get(r.location()).await.body;
    assert!(body.contains("nhsuk-notification-banner--success"));
    assert!(body.contains("4 sessions planned from the schedule"));
    let n = "SELECT COUNT(*) FROM practice_sessions";
    assert_eq!(w.app.count(n).await, 4);
    let starts: Vec<i64> = sqlx::query_scalar("SELECT starts_at FROM practice_sessions")
        .fetch_all(&w.app.state.db.read)
        .await
        .unwrap();
    for s in starts {
        let t = ensemble::db::uk::local(s);
        assert_eq!(t.weekday(), Weekday::Monday);
        assert_eq!((t.hour(), t.minute()), (10, 0));
    }

    // Again: nothing new.
    let r = pr.submit("/sessions", "/sessions/plan", &plan).await;
    assert_eq!(r.location(), "/sessions?saved=planned&count=0");
    assert!(
        pr.get(r.location())
            .await
            .body
            .contains("No new sessions planned")
    );
    assert_eq!(w.app.count(n).await, 4);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'session.plan_from_schedule'")
            .await,
        2
    );

    // Bad input names the field; someone else's activity is refused; nothing is added.
    for (weeks, act) in [("0", activity.as_str()), ("lots", activity.as_str())] {
        let r = pr
            .submit(
                "/sessions",
                "/sessions/plan",
                &[("plan_activity", act), ("weeks", weeks)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body
                .contains("Enter how many weeks to plan, from 1 to 12")
        );
        assert!(r.body.contains("href=\"#weeks\""));
    }
    let r = w
        .other_practitioner
        .submit("/sessions", "/sessions/plan", &plan)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("href=\"#plan_activity\""));
    assert_eq!(w.app.count(n).await, 4);
}

#[tokio::test]
async fn term_dates_limit_the_sessions_planned_from_a_schedule() {
    let mut w = world().await;
    let today = ensemble::db::uk::today();
    let (from, to) = (today + Duration::days(7), today + Duration::days(14));
    let act = termly(
        &w.app,
        &w.provider_org,
        day_code(today.weekday()),
        &from.to_string(),
        &to.to_string(),
    )
    .await;
    let (pr, _) = &mut w.practitioner;
    let r = pr
        .submit(
            "/sessions",
            "/sessions/plan",
            &[("plan_activity", &act), ("weeks", "6")],
        )
        .await;
    // Today's weekday, six weeks ahead, but only in term: a week today and a fortnight today.
    assert_eq!(
        r.location(),
        "/sessions?saved=planned&count=2",
        "{}",
        r.body
    );
    let mut days: Vec<time::Date> =
        sqlx::query_scalar::<_, i64>("SELECT starts_at FROM practice_sessions")
            .fetch_all(&w.app.state.db.read)
            .await
            .unwrap()
            .into_iter()
            .map(|s| ensemble::db::uk::local(s).date())
            .collect();
    days.sort();
    assert_eq!(days, [from, to]);
}

#[tokio::test]
async fn the_date_input_names_the_part_in_error_and_a_one_off_off_the_schedule_is_warned_not_refused()
 {
    let mut w = world().await;
    let activity = w.activity.clone();
    let (pr, _) = &mut w.practitioner;
    let year = (ensemble::db::uk::today().year() + 1).to_string();
    for (d, m, y, field, message) in [
        (
            "31",
            "2",
            year.as_str(),
            "date-day",
            "must be a real day of that month",
        ),
        (
            "1",
            "13",
            year.as_str(),
            "date-month",
            "must be from 1 to 12",
        ),
        ("1", "1", "", "date-year", "must include a year"),
        ("", "", "", "date-day", "Enter the date of the session"),
        ("x", "1", year.as_str(), "date-day", "must be a number"),
        ("1", "1", "27", "date-year", "must have 4 numbers"),
    ] {
        let r = pr
            .submit(
                "/sessions",
                "/sessions",
                &[
                    ("activity_id", &activity),
                    ("date-day", d),
                    ("date-month", m),
                    ("date-year", y),
                    ("starts", "10:00"),
                    ("ends", "11:30"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{d}/{m}/{y}");
        assert!(r.body.contains(message), "{message}");
        assert!(r.body.contains(&format!("href=\"#{field}\"")), "{field}");
        assert!(r.body.contains("nhsuk-date-input"));
    }
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM practice_sessions").await,
        0
    );

    // The next Monday at the scheduled times: no warning. A Tuesday: planned, with a warning.
    let today = ensemble::db::uk::today();
    let monday = (1..=7)
        .map(|n| today + Duration::days(n))
        .find(|d| d.weekday() == Weekday::Monday)
        .unwrap();
    for (date, warned) in [(monday, false), (monday + Duration::days(1), true)] {
        let (d, m, y) = (
            date.day().to_string(),
            u8::from(date.month()).to_string(),
            date.year().to_string(),
        );
        let r = pr
            .submit(
                "/sessions",
                "/sessions",
                &[
                    ("activity_id", &activity),
                    ("date-day", &d),
                    ("date-month", &m),
                    ("date-year", &y),
                    ("starts", "10:00"),
                    ("ends", "11:30"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location().contains("warn=schedule"), warned, "{date}");
        let body = pr.get(r.location()).await.body;
        assert!(body.contains("Session planned"));
        assert_eq!(
            body.contains("Not on the activity&#39;s schedule")
                || body.contains("Not on the activity's schedule"),
            warned
        );
    }
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM practice_sessions").await,
        2
    );
}

#[tokio::test]
async fn everyone_not_yet_marked_is_marked_present_at_once_with_one_audit_row() {
    let mut w = world().await;
    let (rid, _, _) = connected(&mut w, "Harper").await;
    let activity = w.activity.clone();
    for name in ["Ada", "Bea", "Cal"] {
        sqlx::query("INSERT INTO activity_members (id, activity_id, name, added_by, added_at) VALUES ($1, $2, $3, $4, 0)")
            .bind(ensemble::db::new_id())
            .bind(activity.clone())
            .bind(name.to_string())
            .bind(w.practitioner.1.clone())
            .execute(&w.app.state.db.write)
            .await
            .unwrap();
    }
    let (pr, _) = &mut w.practitioner;
    let today = ensemble::db::uk::today().to_string();
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &activity),
                ("date", &today),
                ("starts", "00:00"),
                ("ends", "00:30"),
            ],
        )
        .await;
    let session = r.location().split('?').next().unwrap().to_string();
    let reg = format!("{session}/register");
    let body = pr.get(&reg).await.body;
    assert!(body.contains("0 of 4 present"), "{body}");
    assert!(body.contains("Mark everyone present"));
    assert!(body.contains("/assets/js/register."));

    // One person marked absent first keeps their mark.
    let members: Vec<String> =
        sqlx::query_scalar("SELECT id FROM activity_members WHERE name = 'Cal'")
            .fetch_all(&w.app.state.db.read)
            .await
            .unwrap();
    let cal = format!("m:{}", members[0]);
    let r = pr
        .submit(&reg, &reg, &[("key", &cal), ("status", "absent")])
        .await;
    assert_eq!(r.location(), format!("{reg}?saved=register"));
    assert!(pr.get(r.location()).await.body.contains("Register saved"));

    let everyone = format!("{reg}/everyone");
    let r = pr.submit(&reg, &everyone, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("{reg}?saved=everyone&count=3"));
    let body = pr.get(r.location()).await.body;
    assert!(body.contains("3 people marked present"));
    assert!(body.contains("3 of 4 present"));
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM register_entries WHERE status = 'present'")
            .await,
        3
    );
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM register_entries WHERE status = 'absent'")
            .await,
        1
    );
    // The referred person's attendance reached the referral.
    let attended: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM referral_attendance WHERE referral_id = $1 AND status = 'present'",
    )
    .bind(rid.clone())
    .fetch_one(&w.app.state.db.read)
    .await
    .unwrap();
    assert_eq!(attended, 1);
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'session.register.mark_everyone'",
    )
    .fetch_one(&w.app.state.db.read)
    .await
    .unwrap();
    assert!(detail.contains("\"marked\":3"), "{detail}");
    assert_eq!(
        w.app
            .count("SELECT marks_present FROM practice_sessions")
            .await,
        3
    );

    // Again: nobody left to mark, no new audit row of the kind.
    let r = pr.submit(&reg, &everyone, &[]).await;
    assert_eq!(r.location(), format!("{reg}?saved=everyone&count=0"));
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'session.register.mark_everyone'")
            .await,
        1
    );

    // A session still to come has no register to mark yet.
    let tomorrow = (ensemble::db::uk::today() + Duration::days(1)).to_string();
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &activity),
                ("date", &tomorrow),
                ("starts", "10:00"),
                ("ends", "11:30"),
            ],
        )
        .await;
    let later = r.location().split('?').next().unwrap().to_string();
    let r = pr
        .submit(
            &format!("{later}/register"),
            &format!("{later}/register/everyone"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("on the day of the session"));
    // Nobody else's register.
    let r = w
        .other_practitioner
        .submit("/sessions", &everyone, &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_practitioner_home_page_leads_with_their_week_and_referrals_to_answer() {
    let mut w = world().await;
    let activity = w.activity.clone();
    let (pr, _) = &mut w.practitioner;
    let before = pr.get("/").await.body;
    assert!(before.contains("Today&#39;s sessions") || before.contains("Today's sessions"));
    assert!(before.contains("You have no sessions today."));
    let r = pr
        .submit(
            "/sessions",
            "/sessions/plan",
            &[("plan_activity", &activity), ("weeks", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let body = pr.get("/").await.body;
    let id: String = sqlx::query_scalar("SELECT id FROM practice_sessions")
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    assert!(body.contains(&format!("/sessions/{id}/register")), "{body}");
    assert!(body.contains(&format!("/sessions/{id}/log")));
    assert!(body.contains("Singing for the Brain"));
    assert!(body.contains("Referrals to answer"));
    // Another practitioner of another organisation sees none of it; a link worker's home
    // page is as it was.
    let other = w.other_practitioner.get("/").await.body;
    assert!(!other.contains(&id));
    let (lw, _) = &mut w.lw;
    let lw_home = lw.get("/").await.body;
    assert!(!lw_home.contains("Referrals to answer"));
    assert!(lw_home.contains("Caseload"));
}
