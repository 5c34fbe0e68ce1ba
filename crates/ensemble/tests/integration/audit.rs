//! The audit trail: written with every change and personal-data read, and tamper-evident.

use ensemble::audit::verify;
use ensemble::rbac::Role;

use crate::support::TestApp;

#[tokio::test]
async fn changes_and_reads_of_account_records_are_audited() {
    let app = TestApp::new().await;
    let (mut admin, admin_id) = app.signed_in(Role::Administrator).await;
    let org = app.org("Choir", "community_group").await;
    let (_, _, user_id) = app.user(Role::Participant, &org).await;
    let before = app.count("SELECT COUNT(*) FROM audit_log").await;
    admin.get(&format!("/admin/users/{user_id}")).await;
    let reads = app
        .count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'account.read' AND entity_id = '{user_id}' AND actor_user_id = '{admin_id}'"))
        .await;
    assert_eq!(reads, 1);
    admin.get("/admin/users").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.list'")
            .await,
        1
    );
    let r = admin
        .submit(
            &format!("/admin/users/{user_id}"),
            &format!("/admin/users/{user_id}/disable"),
            &[],
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'account.disable' AND entity_id = '{user_id}'")).await, 1);
    assert!(app.count("SELECT COUNT(*) FROM audit_log").await > before + 2);
    // The administrator can browse and filter the trail.
    let page = admin
        .get(&format!(
            "/admin/audit?action=account.disable&entity_id={user_id}"
        ))
        .await;
    assert!(page.body.contains("account.disable"));
    assert!(!page.body.contains("account.read</td>"));
    let bad = admin.get("/admin/audit?from=yesterday").await;
    assert_eq!(bad.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Enter a date like"));
}

#[tokio::test]
async fn verify_names_the_first_edited_or_deleted_row() {
    let app = TestApp::new().await;
    let org = app.org("Trust", "nhs_trust").await;
    for _ in 0..3 {
        app.user(Role::Clinician, &org).await;
    }
    let db = &app.state.db;
    let report = verify(db).await.unwrap();
    let total = app.count("SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(report.first_broken, None);
    assert_eq!(report.rows_checked, total);
    assert!(total >= 7);

    // Edit a row's detail.
    sqlx::query("UPDATE audit_log SET detail = '{\"tampered\":true}' WHERE seq = 3")
        .execute(&db.write)
        .await
        .unwrap();
    let r = verify(db).await.unwrap();
    assert_eq!(r.first_broken.as_ref().map(|b| b.0), Some(3), "{r:?}");
    assert!(r.first_broken.unwrap().1.contains("edited"));
}

#[tokio::test]
async fn verify_detects_deleted_rows_in_the_middle_and_at_the_end() {
    let app = TestApp::new().await;
    let org = app.org("Trust", "nhs_trust").await;
    for _ in 0..3 {
        app.user(Role::Clinician, &org).await;
    }
    let db = &app.state.db;
    let last = app.count("SELECT MAX(seq) FROM audit_log").await;
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(last)
        .execute(&db.write)
        .await
        .unwrap();
    let r = verify(db).await.unwrap();
    assert_eq!(r.first_broken.as_ref().map(|b| b.0), Some(last), "{r:?}");
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&db.write)
        .await
        .unwrap();
    let r = verify(db).await.unwrap();
    assert_eq!(r.first_broken.as_ref().map(|b| b.0), Some(2), "{r:?}");
    assert!(r.first_broken.unwrap().1.contains("deleted"));
}

#[tokio::test]
async fn a_failed_change_leaves_no_audit_row_and_no_half_written_data() {
    let app = TestApp::new().await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    app.org("Sefton Singers", "community_group").await;
    let rows = app.count("SELECT COUNT(*) FROM audit_log").await;
    let orgs = app.count("SELECT COUNT(*) FROM organisations").await;
    let r = admin
        .submit(
            "/admin/organisations/new",
            "/admin/organisations/new",
            &[("name", "SEFTON singers"), ("kind", "community_group")],
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("An organisation with this name already exists")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM organisations").await, orgs);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, rows);
}
