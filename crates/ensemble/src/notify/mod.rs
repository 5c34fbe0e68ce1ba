//! Email: every message is written to the `outbox` table in the same transaction as the
//! change that caused it, and a `send_email` job delivers it over SMTP (lettre) when SMTP is
//! configured. Administrators can read the outbox; tests assert on it.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::Row;

use crate::db::{Db, Tx, new_id, now};

pub mod sms;
use crate::state::AppState;

/// Outbox status values.
pub mod status {
    /// Waiting for the worker.
    pub const QUEUED: &str = "queued";
    /// Delivered to the SMTP server.
    pub const SENT: &str = "sent";
    /// No SMTP configured: kept in the outbox only.
    pub const NOT_SENT: &str = "kept (no SMTP configured)";
    /// Gave up after retries.
    pub const FAILED: &str = "failed";
}

/// Put a message in the outbox and queue its delivery, inside the caller's transaction.
pub async fn queue_email(
    tx: &mut Tx,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO outbox (id, to_address, subject, body_text, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.clone())
    .bind(to.to_string())
    .bind(subject.to_string())
    .bind(body.to_string())
    .bind(status::QUEUED)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    crate::jobs::enqueue::<SendEmail>(
        tx,
        &SendEmailPayload {
            outbox_id: id.clone(),
        },
        Some(&format!("send_email:{id}")),
        0,
    )
    .await?;
    Ok(id)
}

/// One outbox message.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    /// Id.
    pub id: String,
    /// Recipient.
    pub to_address: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body_text: String,
    /// Status.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Last error.
    pub last_error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// `email` or `sms`.
    pub channel: String,
}

/// How many messages (emails and text messages) could not be delivered, in the last `days`
/// days.
pub async fn failed_since(db: &Db, days: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = $1 AND created_at >= $2")
        .bind(status::FAILED)
        .bind(now() - days * 86_400)
        .fetch_one(&db.read)
        .await
}

/// The newest messages.
pub async fn recent(
    db: &Db,
    limit: i64,
    channel: Option<&str>,
) -> Result<Vec<OutboxMessage>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, to_address, subject, body_text, status, attempts, last_error, created_at, channel FROM outbox \
         WHERE ($2 = '' OR channel = $2) ORDER BY created_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .bind(channel.unwrap_or("").to_string())
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OutboxMessage {
                id: r.try_get("id")?,
                to_address: r.try_get("to_address")?,
                subject: r.try_get("subject")?,
                body_text: r.try_get("body_text")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                channel: r.try_get("channel")?,
            })
        })
        .collect()
}

/// The job that delivers one outbox message.
pub struct SendEmail;

/// What a [`SendEmail`] job carries.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SendEmailPayload {
    /// The outbox row.
    pub outbox_id: String,
}

impl crate::jobs::JobKind for SendEmail {
    const KIND: &'static str = "send_email";
    type Payload = SendEmailPayload;

    async fn run(state: &AppState, p: SendEmailPayload) -> anyhow::Result<()> {
        deliver(state, &p.outbox_id).await
    }

    async fn gave_up(state: &AppState, p: SendEmailPayload) -> anyhow::Result<()> {
        Ok(mark_failed(&state.db, &p.outbox_id).await?)
    }
}

/// Deliver one outbox message (idempotent: a message already sent is left alone).
pub async fn deliver(state: &AppState, outbox_id: &str) -> anyhow::Result<()> {
    let Some(row) =
        sqlx::query("SELECT to_address, subject, body_text, status FROM outbox WHERE id = $1 AND channel = 'email'")
            .bind(outbox_id.to_string())
            .fetch_optional(&state.db.read)
            .await?
    else {
        return Ok(());
    };
    let st: String = row.try_get("status")?;
    if st != status::QUEUED {
        return Ok(());
    }
    let Some(url) = state.cfg.smtp_url.as_deref() else {
        set_status(&state.db, outbox_id, status::NOT_SENT, None).await?;
        return Ok(());
    };
    let to: String = row.try_get("to_address")?;
    let message = Message::builder()
        .from(state.cfg.mail_from.parse::<Mailbox>()?)
        .to(to.parse::<Mailbox>()?)
        .subject(row.try_get::<String, _>("subject")?)
        .body(row.try_get::<String, _>("body_text")?)?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build();
    match transport.send(message).await {
        Ok(_) => {
            set_status(&state.db, outbox_id, status::SENT, None).await?;
            Ok(())
        }
        Err(e) => {
            set_status(&state.db, outbox_id, status::QUEUED, Some(&e.to_string())).await?;
            Err(e.into())
        }
    }
}

pub(crate) async fn set_status(
    db: &Db,
    id: &str,
    st: &str,
    err: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2, sent_at = $3 WHERE id = $4",
    )
    .bind(st.to_string())
    .bind(err.map(str::to_string))
    .bind((st == status::SENT).then(now))
    .bind(id.to_string())
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Mark messages whose delivery job gave up.
pub async fn mark_failed(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET status = $1 WHERE id = $2 AND status = $3")
        .bind(status::FAILED)
        .bind(id.to_string())
        .bind(status::QUEUED)
        .execute(&db.write)
        .await?;
    Ok(())
}
