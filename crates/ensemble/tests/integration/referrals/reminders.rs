//! Reminders from the job queue: an unanswered provider is chased, then the referral returns.

use super::*;

/// Move every queued provider chase `secs` earlier, as if that much time had passed.
async fn let_time_pass_for_the_provider(app: &TestApp, secs: i64) {
    sqlx::query(
        "UPDATE jobs SET run_at = run_at - $1 WHERE kind = 'referral_provider_chase' AND status = 'queued'",
    )
    .bind(secs)
    .execute(&app.state.db.write)
    .await
    .unwrap();
}

#[tokio::test]
async fn an_unanswered_provider_is_reminded_then_the_referral_returns() {
    let window = 3 * 24 * 3600;
    let mut w = world_with(|cfg| {
        cfg.provider_response_time = std::time::Duration::from_secs(window as u64);
    })
    .await;
    let r = self_refer(&w.app, SELF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = latest_referral(&w.app).await;
    let (lw, _) = &mut w.lw;
    let case = format!("/caseload/{id}");
    post(
        lw,
        &case,
        &format!("{case}/status"),
        &[("status", "contacted")],
    )
    .await;
    let plan = format!("{case}/plan");
    let review = in_weeks(4);
    post(
        lw,
        &plan,
        &plan,
        &[
            ("what_matters", "Music"),
            ("goals", "Sing"),
            ("next_steps", "Refer"),
            ("review_on", &review),
            ("agreed", "yes"),
        ],
    )
    .await;
    assert_eq!(
        post(
            lw,
            &case,
            &format!("{case}/connect"),
            &[("activity_id", &w.activity)]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let app = &w.app;
    let reminders = || {
        app.count("SELECT COUNT(*) FROM outbox WHERE subject = 'Reminder: a referral is waiting for your answer'")
    };
    let returned_sql = format!(
        "SELECT COUNT(*) FROM referrals WHERE id = '{id}' AND provider_status = 'returned'"
    );
    let returned = || app.count(&returned_sql);
    let reconnect_sql = format!(
        "SELECT COUNT(*) FROM referral_tasks WHERE referral_id = '{id}' AND kind = 'reconnect' AND done_at IS NULL"
    );
    let reconnect_tasks = || app.count(&reconnect_sql);
    let came_back = || {
        app.count("SELECT COUNT(*) FROM outbox WHERE subject = 'A referral has come back to you'")
    };
    // Within the window nothing happens.
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert_eq!(reminders().await, 0);
    // A minute short of the window: still nothing.
    let_time_pass_for_the_provider(app, window - 60).await;
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert_eq!(reminders().await, 0);
    // The window has passed: the provider is reminded, and the referral stays with it.
    let_time_pass_for_the_provider(app, 60).await;
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert!(reminders().await >= 1);
    let sent = reminders().await;
    assert_eq!(
        returned().await,
        0,
        "only a reminder after the first window"
    );
    assert_eq!(reconnect_tasks().await, 0);
    assert_eq!(came_back().await, 0);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM referrals WHERE id = '{id}' AND provider_status = 'pending' AND provider_reminders = 1"
        ))
        .await,
        1
    );
    // Running the queue again before the second window ends changes nothing.
    ensemble::jobs::run_due(&app.state).await.unwrap();
    let_time_pass_for_the_provider(app, window - 60).await;
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert_eq!(
        returned().await,
        0,
        "not returned before the second window ends"
    );
    assert_eq!(reminders().await, sent, "reminded once");
    // As long again: the referral returns to the link worker with a task.
    let_time_pass_for_the_provider(app, 60).await;
    ensemble::jobs::run_due(&app.state).await.unwrap();
    assert_eq!(returned().await, 1);
    assert_eq!(reconnect_tasks().await, 1);
    assert!(came_back().await >= 1);
    assert_eq!(reminders().await, sent, "no second reminder");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity_id = '{id}' AND action IN ('referral.provider_reminder', 'referral.provider_returned') AND actor_label = 'system'"
        ))
        .await,
        2
    );
    // The link worker can connect again.
    let (lw, _) = &mut w.lw;
    assert_eq!(
        post(
            lw,
            &case,
            &format!("{case}/connect"),
            &[("activity_id", &w.activity)]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        w.app
            .count(&format!(
                "SELECT COUNT(*) FROM referrals WHERE id = '{id}' AND provider_status = 'pending'"
            ))
            .await,
        1
    );
    // Task reminders are mailed when due.
    assert!(
        w.app
            .count("SELECT COUNT(*) FROM jobs WHERE kind = 'referral_task_due'")
            .await
            >= 1
    );
    let _ = &w.provider_org;
}
