//! Email leaves through the outbox and the job queue, over real SMTP when configured.

use std::sync::{Arc, Mutex};

use ensemble::rbac::Role;
use sqlx::Row;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support::TestApp;

/// A minimal SMTP server that accepts one message and keeps its DATA.
async fn fake_smtp() -> (u16, Arc<Mutex<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(String::new()));
    let store = received.clone();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 fake.smtp ESMTP\r\n").await.unwrap();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                } else {
                    let mut s = store.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
                continue;
            }
            let upper = line.to_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-fake.smtp\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("DATA") {
                in_data = true;
                b"354 go ahead\r\n"
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
    });
    (port, received)
}

#[tokio::test]
async fn an_invitation_email_is_delivered_over_smtp_by_the_job_worker() {
    let (port, received) = fake_smtp().await;
    let app = TestApp::with(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let org = app.org("Halton Voices", "community_group").await;
    let r = admin
        .submit(
            "/admin/users/invite",
            "/admin/users/invite",
            &[
                ("display_name", "Sam Singer"),
                ("email", "sam@example.org"),
                ("organisation_id", &org),
                ("role", "participant"),
            ],
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    assert_eq!(ensemble::jobs::run_due(&app.state).await.unwrap(), 1);
    let row = sqlx::query("SELECT status, attempts FROM outbox")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(
        row.try_get::<String, _>(0).unwrap(),
        ensemble::notify::status::SENT
    );
    let data = received.lock().unwrap().clone();
    assert!(
        data.contains("Subject: You have been invited to Ensemble"),
        "{data}"
    );
    assert!(data.contains("/invitations/"), "{data}");
    assert!(data.contains("sam@example.org"), "{data}");
    // Running the queue again sends nothing twice.
    assert_eq!(ensemble::jobs::run_due(&app.state).await.unwrap(), 0);
}

#[tokio::test]
async fn a_failing_smtp_server_leaves_the_message_queued_for_retry() {
    // A server that refuses every connection with an SMTP error. It keeps the port for the
    // whole test, so no other process can take it and answer instead.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket
                .write_all(b"554 5.3.2 fake.smtp is not accepting mail\r\n")
                .await;
            let _ = socket.shutdown().await;
        }
    });
    let app = TestApp::with(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let (mut admin, _) = app.signed_in(Role::Administrator).await;
    let org = app.org("Halton Voices", "community_group").await;
    admin
        .submit(
            "/admin/users/invite",
            "/admin/users/invite",
            &[
                ("display_name", "Sam Singer"),
                ("email", "sam@example.org"),
                ("organisation_id", &org),
                ("role", "participant"),
            ],
        )
        .await;
    assert_eq!(ensemble::jobs::run_due(&app.state).await.unwrap(), 1);
    let row = sqlx::query("SELECT status, last_error FROM outbox")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(
        row.try_get::<String, _>(0).unwrap(),
        ensemble::notify::status::QUEUED
    );
    assert!(row.try_get::<Option<String>, _>(1).unwrap().is_some());
    let job = sqlx::query("SELECT status, attempts FROM jobs WHERE kind = 'send_email'")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    assert_eq!(
        job.try_get::<String, _>(0).unwrap(),
        "queued",
        "retried later with back-off"
    );
    assert_eq!(job.try_get::<i64, _>(1).unwrap(), 1);
    let page = admin.get("/admin/jobs").await;
    assert!(page.body.contains("send_email"));
}
