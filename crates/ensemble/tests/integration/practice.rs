//! Practitioner toolkit: planning sessions, plans and templates, the register feeding the
//! referral pathway, the three-part log with conflict detection, bad input and access.

use axum::http::StatusCode;
use ensemble::rbac::Role;

use crate::measures::connected;
use crate::referrals::world;

/// A date `n` days from today, in UK time as the server reads typed session dates.
fn days_from_today(n: i64) -> String {
    (ensemble::db::uk::today() + time::Duration::days(n)).to_string()
}

#[tokio::test]
async fn a_practitioner_plans_a_session_takes_the_register_and_writes_the_log() {
    let mut w = world().await;
    let (rid, person, mut me) = connected(&mut w, "Harper").await;
    let activity = w.activity.clone();
    let (pr, _) = &mut w.practitioner;

    // Bad input names the field and stores nothing.
    let old = days_from_today(-30);
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &activity),
                ("date", &old),
                ("starts", "14:00"),
                ("ends", "13:00"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("up to 7 days after it happened"),
        "past window"
    );
    assert!(r.body.contains("must end after it starts"));
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", "nope"),
                ("date", "2026-13-40"),
                ("starts", "2pm"),
                ("ends", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "Choose one of your organisation",
        "year-month-day",
        "hours:minutes, like 14:00",
        "like 15:30",
    ] {
        assert!(r.body.contains(m), "{m}");
    }
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM practice_sessions").await,
        0
    );

    let today = days_from_today(0);
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &activity),
                ("date", &today),
                ("starts", "00:00"),
                ("ends", "00:45"),
                ("venue", "Church hall"),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        r.body.chars().take(400).collect::<String>()
    );
    let page = session_path(&r);
    let id = page.trim_start_matches("/sessions/").to_string();

    // The plan: required fields, then saved and kept as a template; a stale save conflicts.
    let r = pr
        .submit(
            &page,
            &format!("{page}/plan"),
            &[("version", "0"), ("aims", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter the aims") && r.body.contains("at least one musical activity"));
    let plan = [
        ("version", "0"),
        ("aims", "Warm up voices; learn a round"),
        ("musical_activities", "singing"),
        ("musical_activities", "percussion"),
        ("risks", "Trip hazards: cables taped down"),
        ("template_name", "Singing warm-up"),
    ];
    let r = pr.submit(&page, &format!("{page}/plan"), &plan).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        r.body.chars().take(400).collect::<String>()
    );
    let r = pr.submit(&page, &format!("{page}/plan"), &plan).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a save based on version 0 again"
    );
    assert!(r.body.contains("Someone else saved the plan"));
    assert!(
        r.body.contains("The plan as it is now:") && r.body.contains("Risks and mitigations</dt>"),
        "the saved plan is shown beside yours"
    );
    assert!(
        pr.get("/sessions").await.body.contains("Singing warm-up"),
        "the template is offered"
    );

    // The register lists the referred person; one tap marks them and feeds the pathway.
    let reg = format!("{page}/register");
    let r = pr.get(&reg).await;
    assert!(
        r.body.contains("Harper"),
        "{}",
        r.body.chars().take(300).collect::<String>()
    );
    let key = format!("r:{rid}");
    let r = pr
        .submit(&reg, &reg, &[("key", &key), ("status", "late")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        r.body.chars().take(400).collect::<String>()
    );
    let status: String = sqlx::query_scalar("SELECT status FROM referrals WHERE id = $1")
        .bind(rid.clone())
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    assert_eq!(status, "attending", "late counts as present on the pathway");
    let attendance: String =
        sqlx::query_scalar("SELECT status FROM referral_attendance WHERE referral_id = $1")
            .bind(rid.clone())
            .fetch_one(&w.app.state.db.read)
            .await
            .unwrap();
    assert_eq!(attendance, "present");
    let r = pr
        .submit(&reg, &reg, &[("walk_in", "Sky"), ("status", "present")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = pr
        .submit(&reg, &reg, &[("walk_in", ""), ("status", "present")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pr
        .submit(&reg, &reg, &[("key", &key), ("status", "asleep")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = pr.get(&reg).await.body;
    assert!(body.contains("Sky") && body.contains("(walk-in)"));
    // A regular member (not referred) is expected at the activity's later sessions until
    // they stop coming.
    let r = pr
        .submit(
            &reg,
            &reg,
            &[
                ("walk_in", "Kit"),
                ("status", "present"),
                ("regular", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(pr.get(&reg).await.body.contains("Kit</strong> (regular)"));
    let tomorrow = days_from_today(1);
    let next = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &activity),
                ("date", &tomorrow),
                ("starts", "10:00"),
                ("ends", "11:00"),
            ],
        )
        .await
        .location()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let next_reg = format!("{next}/register");
    let body = pr.get(&next_reg).await.body;
    assert!(
        body.contains("Kit</strong> (regular)"),
        "expected next time"
    );
    let member: String = sqlx::query_scalar("SELECT id FROM activity_members WHERE name = 'Kit'")
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    let r = pr
        .submit(
            &next_reg,
            &format!("{next}/members"),
            &[("member", &member)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        !pr.get(&next_reg).await.body.contains("Kit"),
        "no longer expected"
    );
    assert!(
        pr.get(&reg).await.body.contains("Kit</strong> (regular)"),
        "past marks stay"
    );
    let revisions = w
        .app
        .count(&format!(
            "SELECT COUNT(*) FROM session_revisions WHERE session_id = '{id}' AND part = 'register'"
        ))
        .await;
    assert_eq!(revisions, 3, "every register change is versioned");
    assert!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'session.register.mark'")
            .await
            >= 2
    );

    // The log: two practitioners edit at once; the second is told and loses nothing.
    let (email, password, _) = w.app.user(Role::Practitioner, &w.provider_org).await;
    let mut colleague = w.app.client();
    colleague.sign_in(&email, &password).await;
    let log = format!("{page}/log");
    let (pr, _) = &mut w.practitioner;
    let r = pr
        .submit(
            &log,
            &log,
            &[
                ("version", "0"),
                ("what_happened", "Eight came; we learned a round."),
                ("debrief", "Pace was right."),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        r.body.chars().take(400).collect::<String>()
    );
    let r = colleague
        .submit(
            &log,
            &log,
            &[
                ("version", "0"),
                ("what_happened", "Drumming went well."),
                ("engagement", "Everyone joined in."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("Someone else saved this log"));
    assert!(
        r.body.contains("Eight came; we learned a round."),
        "their text is shown"
    );
    assert!(
        r.body.contains("Drumming went well."),
        "mine is kept in the form"
    );
    assert!(
        r.body.contains("name=\"version\" value=\"1\""),
        "ready to save on top of theirs"
    );
    let r = colleague
        .submit(
            &log,
            &log,
            &[
                ("version", "1"),
                (
                    "what_happened",
                    "Eight came; we learned a round. Drumming went well.",
                ),
                ("engagement", "Everyone joined in."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let versions = w
        .app
        .count(&format!(
            "SELECT COUNT(*) FROM session_revisions WHERE session_id = '{id}' AND part = 'log'"
        ))
        .await;
    assert_eq!(versions, 2, "both versions kept");
    let r = colleague
        .submit(&log, &log, &[("version", "2"), ("what_happened", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The observation scale (from the measures engine): every question needed, then scored.
    let obs = format!("{page}/observation");
    let r = colleague
        .submit(
            &log,
            &obs,
            &[
                ("instrument", "session_observation"),
                ("q_group_engagement", "4"),
                ("q_participation", "9"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Question 3: 9 is not an allowed answer"),
        "{}",
        r.body.chars().take(300).collect::<String>()
    );
    let r = colleague
        .submit(
            &log,
            &obs,
            &[
                ("instrument", "session_observation"),
                ("q_group_engagement", "4"),
                ("q_wellbeing_observed", "3"),
                ("q_participation", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let body = colleague.get(&log).await.body;
    assert!(
        body.contains("Group engagement 4; Wellbeing observed 3; Participation 5"),
        "{}",
        body.chars().take(300).collect::<String>()
    );
    // An observation of one participant (someone marked as attending).
    let r = colleague
        .submit(
            &log,
            &obs,
            &[
                ("instrument", "session_observation"),
                ("about", "not-a-person"),
                ("q_group_engagement", "4"),
                ("q_wellbeing_observed", "3"),
                ("q_participation", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("someone marked as attending this session"));
    let r = colleague
        .submit(
            &log,
            &obs,
            &[
                ("instrument", "session_observation"),
                ("about", &person),
                ("q_group_engagement", "5"),
                ("q_wellbeing_observed", "4"),
                ("q_participation", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let body = colleague.get(&log).await.body;
    assert!(
        body.contains(" about Harper"),
        "{}",
        &body[body.find("id=\"observation\"").unwrap_or(0)..][..600]
    );

    // Moments linked to a participant need their consent to share stories.
    let moments = format!("{page}/moments");
    let r = colleague
        .submit(
            &log,
            &moments,
            &[("person", &person), ("moment", "Harper sang the solo")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Harper has not agreed to share stories"));
    sqlx::query(
        "INSERT INTO person_consents (person_id, purpose, decision, statement_id, decided_at) \
         SELECT person_id, 'share_stories', 'given', statement_id, decided_at FROM person_consents WHERE person_id = $1 AND purpose = 'contact'",
    )
    .bind(person.clone())
    .execute(&w.app.state.db.write)
    .await
    .unwrap();
    let r = colleague
        .submit(&log, &moments, &[("person", &person), ("moment", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Describe the moment"));
    let r = colleague
        .submit(
            &log,
            &moments,
            &[
                ("person", &person),
                ("moment", "Harper sang the solo for the first time"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        colleague
            .get(&log)
            .await
            .body
            .contains("Harper sang the solo for the first time")
    );
    assert!(
        me.get("/my/plan")
            .await
            .body
            .contains("Harper sang the solo for the first time"),
        "the person sees moments about them"
    );
    // Withdrawing the consent hides the moment everywhere at once.
    sqlx::query("UPDATE person_consents SET decision = 'withdrawn' WHERE person_id = $1 AND purpose = 'share_stories'")
        .bind(person.clone())
        .execute(&w.app.state.db.write)
        .await
        .unwrap();
    assert!(!colleague.get(&log).await.body.contains("sang the solo"));
    assert!(!me.get("/my/plan").await.body.contains("sang the solo"));

    // The practice summary: the figures in tables beside the charts.
    let (pr, _) = &mut w.practitioner;
    let summary = pr.get("/practice/summary").await;
    assert_eq!(summary.status, StatusCode::OK);
    assert!(summary.body.contains("Sessions delivered") && summary.body.contains("role=\"img\""));
    assert!(
        summary.body.contains(
            "<td class=\"nhsuk-table__cell\">Late</td><td class=\"nhsuk-table__cell\">1</td>"
        ),
        "{}",
        summary.body.chars().take(200).collect::<String>()
    );
    assert!(summary.body.contains("Group engagement"));
    let org = w.provider_org.clone();
    assert_eq!(
        pr.get(&format!("/practice/summary?organisation={org}"))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "organisation view is for programme managers"
    );
    let (_, _, mut me) = connected(&mut w, "Jules").await;
    assert!(
        !me.get("/check-ins")
            .await
            .body
            .contains("Session observation"),
        "not offered to participants"
    );

    // Another organisation's practitioner cannot see or change it.
    assert_eq!(
        w.other_practitioner.get(&page).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.other_practitioner.get(&reg).await.status,
        StatusCode::FORBIDDEN
    );
    let (lw, _) = &mut w.lw;
    assert_eq!(
        lw.get(&page).await.status,
        StatusCode::FORBIDDEN,
        "link workers do not run sessions"
    );
}

#[tokio::test]
async fn a_cancelled_session_takes_no_register_or_log() {
    let mut w = world().await;
    let (rid, _, _) = connected(&mut w, "Indigo").await;
    let activity = w.activity.clone();
    let (pr, _) = &mut w.practitioner;
    let today = days_from_today(0);
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &activity),
                ("date", &today),
                ("starts", "00:00"),
                ("ends", "01:00"),
            ],
        )
        .await;
    let page = session_path(&r);
    let r = pr
        .submit(&page, &format!("{page}/cancel"), &[("reason", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pr
        .submit(
            &page,
            &format!("{page}/cancel"),
            &[("reason", "Hall flooded")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let reg = format!("{page}/register");
    let r = pr
        .submit(
            &reg,
            &reg,
            &[("key", &format!("r:{rid}")), ("status", "present")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("cancelled, so it has no register"));
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM register_entries").await,
        0
    );
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM referral_attendance")
            .await,
        0,
        "nothing partial"
    );
    let log = format!("{page}/log");
    let r = pr
        .submit(&log, &log, &[("version", "0"), ("what_happened", "x")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // A session tomorrow has no register yet.
    let tomorrow = days_from_today(1);
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &activity),
                ("date", &tomorrow),
                ("starts", "10:00"),
                ("ends", "11:00"),
            ],
        )
        .await;
    let next = session_path(&r);
    let reg = format!("{next}/register");
    let r = pr
        .submit(&reg, &reg, &[("walk_in", "Robin"), ("status", "present")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("on the day of the session"));
}

#[tokio::test]
async fn incidents_reach_the_named_lead_and_only_those_who_need_them() {
    let mut w = world().await;
    let activity = w.activity.clone();
    let (_, clinician_id) = &w.clinician;
    let clinician_email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(clinician_id.clone())
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    // A programme manager names the partner trust's clinician as the clinical lead.
    let (email, password, _) = w.app.user(Role::ProgrammeManager, &w.provider_org).await;
    let mut pm = w.app.client();
    pm.sign_in(&email, &password).await;
    let leads = format!("/manage/activities/{activity}/leads");
    let r = pm
        .submit(
            &leads,
            &leads,
            &[("email", "nobody@example.org"), ("kind", "clinical")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pm
        .submit(
            &leads,
            &leads,
            &[("email", &clinician_email), ("kind", "clinical")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let (pr, _) = &mut w.practitioner;
    let today = days_from_today(0);
    let r = pr
        .submit(
            "/sessions",
            "/sessions",
            &[
                ("activity_id", &activity),
                ("date", &today),
                ("starts", "00:00"),
                ("ends", "01:00"),
            ],
        )
        .await;
    let session = session_path(&r);
    let form = format!("{session}/incident");
    let r = pr.submit(&form, &form, &[("category", "incident")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "Choose how serious it is",
        "Say what happened",
        "Say what was done straight away",
    ] {
        assert!(r.body.contains(m), "{m}");
    }
    assert_eq!(w.app.count("SELECT COUNT(*) FROM incidents").await, 0);
    let r = pr
        .submit(
            &form,
            &form,
            &[
                ("category", "incident"),
                ("severity", "serious"),
                ("what_happened", "A participant fainted during the warm-up."),
                (
                    "immediate_action",
                    "First aid given; ambulance called; carer told.",
                ),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        r.body.chars().take(400).collect::<String>()
    );
    let recorded = r.location().to_string();
    assert!(recorded.ends_with("?recorded=yes"), "{recorded}");
    let incident = recorded.trim_end_matches("?recorded=yes").to_string();
    // The confirmation names who was told, says what happens next and shows the
    // out-of-hours route (the default wording until the organisation sets its own).
    let clinician_name: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
        .bind(clinician_id.clone())
        .fetch_one(&w.app.state.db.read)
        .await
        .unwrap();
    let confirm = pr.get(&recorded).await;
    assert_eq!(confirm.status, StatusCode::OK);
    for text in [
        "Recorded.",
        "Who was told",
        &format!("{clinician_name}, clinical lead"),
        "What happens next",
        "Out of hours",
        "call 999",
    ] {
        assert!(confirm.body.contains(text), "{text}: {}", confirm.body);
    }
    assert!(!confirm.body.contains("Change the out-of-hours route"));
    let settings = format!("/organisations/{}/out-of-hours", w.provider_org);
    assert_eq!(pr.get(&settings).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        pm.get("/organisations/nope/out-of-hours").await.status,
        StatusCode::NOT_FOUND
    );
    let long = "x".repeat(2_001);
    let r = pm.submit(&settings, &settings, &[("route", &long)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pm
        .submit(
            &settings,
            &settings,
            &[(
                "route",
                "Call 999 in an emergency, or the Sefton emergency duty team on 0151 934 3555.",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        pr.get(&incident)
            .await
            .body
            .contains("Sefton emergency duty team")
    );
    assert!(
        pm.get(&incident)
            .await
            .body
            .contains("Change the out-of-hours route")
    );
    assert_eq!(
        w.app
            .count(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'organisation.out_of_hours.update'"
            )
            .await,
        1
    );
    let mails = w
        .app
        .count(&format!("SELECT COUNT(*) FROM outbox WHERE to_address = '{clinician_email}' AND subject = 'An incident needs you' AND body_text NOT LIKE '%fainted%'"))
        .await;
    assert_eq!(
        mails, 1,
        "the clinical lead is notified, without the details"
    );

    // The clinician's home page leads with it (the named lead's job); the other clinician,
    // who leads nothing, has none; the programme manager's home leads with their
    // activities, measurement plans and framework, then the incident.
    let (cl, _) = &mut w.clinician;
    let home = cl.get("/").await.body;
    let incidents_at = home
        .find("Incidents and concerns to follow up")
        .expect("incidents on the clinician's home");
    assert!(
        home.contains("Incident at Singing for the Brain") && home.contains("Serious, escalated"),
        "{home}"
    );
    assert!(
        incidents_at < home.find("Referrals you made").expect("referrals made"),
        "incidents lead"
    );
    assert!(incidents_at < home.find("Your roles").unwrap());
    let other = w.other_clinician.get("/").await.body;
    assert!(
        other.contains("Incidents and concerns to follow up") && other.contains("None are open")
    );
    assert!(!other.contains("Singing for the Brain"));
    let pm_home = pm.get("/").await.body;
    let order: Vec<usize> = [
        "Your activities",
        "Measurement plans",
        "Competency framework",
        "Incidents and concerns to follow up",
    ]
    .iter()
    .map(|h| {
        pm_home
            .find(&format!(">{h}</h2>"))
            .unwrap_or_else(|| panic!("{h}: {pm_home}"))
    })
    .collect();
    assert!(order.windows(2).all(|p| p[0] < p[1]), "{order:?}");
    assert!(
        pm_home.contains("Plan measures for Singing for the Brain"),
        "no plan yet"
    );

    // The lead sees it (audited) and follows up; others do not.
    let (cl, _) = &mut w.clinician;
    let view = cl.get(&incident).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(view.body.contains("fainted") && view.body.contains("Escalated"));
    assert!(
        cl.get("/incidents")
            .await
            .body
            .contains("Singing for the Brain")
    );
    let r = cl
        .submit(
            &incident,
            &format!("{incident}/follow-up"),
            &[("body", "Spoke to the GP."), ("action", "note")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = cl
        .submit(
            &incident,
            &format!("{incident}/follow-up"),
            &[
                ("body", "Resolved; risk assessment updated."),
                ("action", "close"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(cl.get(&incident).await.body.contains("Closed"));
    assert!(
        cl.get("/").await.body.contains("None are open"),
        "a closed incident leaves the home page"
    );
    assert!(
        w.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'incident.read'")
            .await
            >= 2
    );
    assert_eq!(
        w.other_clinician.get(&incident).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.other_practitioner.get(&incident).await.status,
        StatusCode::FORBIDDEN
    );
    let (lw, _) = &mut w.lw;
    assert_eq!(lw.get(&incident).await.status, StatusCode::FORBIDDEN);
    // The reporter sees it but does not close it.
    let (pr, _) = &mut w.practitioner;
    assert_eq!(pr.get(&incident).await.status, StatusCode::OK);
    let csrf = pr.get("/sessions").await.csrf();
    let r = pr
        .post_form(
            &format!("{incident}/follow-up"),
            &[("csrf_token", &csrf), ("body", "x"), ("action", "close")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A low concern not escalated notifies nobody.
    let before = w.app.count("SELECT COUNT(*) FROM outbox").await;
    let r = pr
        .submit(
            &form,
            &form,
            &[
                ("category", "safeguarding"),
                ("severity", "low"),
                ("what_happened", "A comment about home worried me."),
                ("immediate_action", "Listened; will talk to the lead."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM outbox").await, before);
}

#[tokio::test]
async fn journals_are_private_and_supervision_is_shared_only_with_the_supervisor() {
    let w = world().await;
    let app = &w.app;
    let sign = |role: Role| {
        let org = w.provider_org.clone();
        async move {
            let (email, password, id) = app.user(role, &org).await;
            let mut c = app.client();
            c.sign_in(&email, &password).await;
            (c, id, email)
        }
    };
    let (mut me, _, _) = sign(Role::Practitioner).await;
    let (mut colleague, _, _) = sign(Role::Practitioner).await;
    let (mut supervisor, _, supervisor_email) = sign(Role::ProgrammeManager).await;
    let (mut other_manager, _, _) = sign(Role::ProgrammeManager).await;

    let r = me
        .submit(
            "/practice/journal",
            "/practice/journal",
            &[("title", ""), ("body", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = me
        .submit(
            "/practice/journal",
            "/practice/journal",
            &[
                ("title", "Hard session"),
                ("body", "I felt out of my depth when a participant cried."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let entry = r.location().to_string();
    assert!(me.get(&entry).await.body.contains("out of my depth"));
    for c in [&mut colleague, &mut supervisor] {
        let r = c.get(&entry).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "private to its author");
        assert!(
            !c.get("/practice/journal")
                .await
                .body
                .contains("Hard session")
        );
    }
    let (mut admin, _) = w.app.signed_in(Role::Administrator).await;
    assert!(matches!(
        admin.get(&entry).await.status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));

    let future = days_from_today(3);
    let r = me
        .submit(
            "/practice/supervision",
            "/practice/supervision",
            &[
                ("supervisor_email", "nobody@example.org"),
                ("met_on", &future),
                ("themes", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "No active account has that email",
        "cannot be in the future",
        "Write the themes",
    ] {
        assert!(r.body.contains(m), "{m}");
    }
    let today = days_from_today(0);
    let r = me
        .submit(
            "/practice/supervision",
            "/practice/supervision",
            &[
                ("supervisor_email", &supervisor_email),
                ("met_on", &today),
                ("themes", "Holding emotion in groups"),
                ("actions", "Read the trust's guidance"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let record = r.location().to_string();
    assert!(
        supervisor
            .get(&record)
            .await
            .body
            .contains("Holding emotion in groups")
    );
    assert!(
        supervisor
            .get("/practice/supervision")
            .await
            .body
            .contains("supervising")
    );
    assert_eq!(colleague.get(&record).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other_manager.get(&record).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(w.app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('journal.read', 'supervision.read')").await >= 3);
}

/// Where creating a session led: the session page, without the confirmation query.
fn session_path(r: &crate::support::Resp) -> String {
    r.location()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string()
}
