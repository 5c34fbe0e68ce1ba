//! Text messages. A message is written to the `outbox` (channel `sms`) in the same
//! transaction as the change that caused it, and a `send_sms` job hands it to the configured
//! [`SmsSender`]: by default [`OutboxSender`], which keeps it in the outbox for the
//! administrators' outbox view; with `ENSEMBLE_SMS=notify`, [`NotifySender`], which sends
//! it through GOV.UK Notify. The phone number and the text never reach the logs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;

use super::status;
use crate::config::{Config, SmsProvider};
use crate::db::{Db, Tx, new_id, now};
use crate::state::AppState;

/// Outbox status of a text message kept because no SMS provider is configured.
pub const KEPT: &str = "kept (no SMS provider configured)";

/// What a sender did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the provider.
    Sent,
    /// Kept in the outbox only.
    Kept,
}

/// Something that delivers text messages. Blocking: the job runs it off the async runtime.
pub trait SmsSender: Send + Sync {
    /// Deliver one message.
    fn send(&self, to: &str, body: &str) -> anyhow::Result<Delivery>;
}

/// The default sender: the message stays in the outbox, where administrators can read it.
pub struct OutboxSender;

impl SmsSender for OutboxSender {
    fn send(&self, _to: &str, _body: &str) -> anyhow::Result<Delivery> {
        Ok(Delivery::Kept)
    }
}

/// GOV.UK Notify's SMS API: one template whose whole text is the placeholder `((body))`.
pub struct NotifySender {
    service_id: String,
    secret: String,
    template_id: String,
    base_url: String,
}

/// The GOV.UK Notify API.
pub const NOTIFY_BASE_URL: &str = "https://api.notifications.service.gov.uk";

impl NotifySender {
    /// A sender from a Notify API key (`name-{service id}-{secret}`) and a template id.
    pub fn new(api_key: &str, template_id: &str) -> anyhow::Result<Self> {
        let (service_id, secret) = split_key(api_key).ok_or_else(|| {
            anyhow::anyhow!(
                "ENSEMBLE_NOTIFY_API_KEY is not a GOV.UK Notify API key (name-service id-secret)"
            )
        })?;
        if uuid::Uuid::parse_str(template_id.trim()).is_err() {
            anyhow::bail!("ENSEMBLE_NOTIFY_SMS_TEMPLATE_ID must be the template's id (a UUID)");
        }
        Ok(Self {
            service_id,
            secret,
            template_id: template_id.trim().to_string(),
            base_url: NOTIFY_BASE_URL.into(),
        })
    }

    /// The bearer token Notify asks for: a JWT (HS256) with the service id as issuer.
    pub fn token(&self, iat: i64) -> String {
        jwt(&self.service_id, &self.secret, iat)
    }
}

/// Split a Notify API key into the service id and the secret (each a 36-character UUID).
pub fn split_key(key: &str) -> Option<(String, String)> {
    let key = key.trim();
    if key.len() < 74 || !key.is_ascii() {
        return None;
    }
    let secret = &key[key.len() - 36..];
    let service = &key[key.len() - 73..key.len() - 37];
    if uuid::Uuid::parse_str(secret).is_err() || uuid::Uuid::parse_str(service).is_err() {
        return None;
    }
    Some((service.to_string(), secret.to_string()))
}

/// A JWT signed with HS256 carrying `iss` and `iat`, as GOV.UK Notify expects.
pub fn jwt(iss: &str, secret: &str, iat: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let claims = URL_SAFE_NO_PAD.encode(serde_json::json!({ "iss": iss, "iat": iat }).to_string());
    let signing = format!("{header}.{claims}");
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(signing.as_bytes());
    format!(
        "{signing}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

impl SmsSender for NotifySender {
    fn send(&self, to: &str, body: &str) -> anyhow::Result<Delivery> {
        let payload = serde_json::json!({
            "phone_number": to,
            "template_id": self.template_id,
            "personalisation": { "body": body },
        });
        let res = ureq::post(format!("{}/v2/notifications/sms", self.base_url))
            .header("Authorization", &format!("Bearer {}", self.token(now())))
            .header("Content-Type", "application/json")
            .config()
            .http_status_as_error(false)
            .build()
            .send(payload.to_string());
        match res {
            Ok(r) if r.status().is_success() => Ok(Delivery::Sent),
            // The status only: Notify's error body can echo the phone number.
            Ok(r) => anyhow::bail!("GOV.UK Notify answered {}", r.status().as_u16()),
            Err(e) => anyhow::bail!("GOV.UK Notify could not be reached: {}", e),
        }
    }
}

/// The sender the configuration asks for (refused when Notify is asked for without a key).
pub fn sender_for(cfg: &Config) -> anyhow::Result<Box<dyn SmsSender>> {
    match &cfg.sms {
        SmsProvider::Outbox => Ok(Box::new(OutboxSender)),
        SmsProvider::Notify {
            api_key,
            template_id,
        } => Ok(Box::new(NotifySender::new(api_key, template_id)?)),
    }
}

/// Put a text message in the outbox and queue its delivery, inside the caller's transaction.
pub async fn queue_sms(tx: &mut Tx, to: &str, body: &str) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO outbox (id, to_address, subject, body_text, status, created_at, channel) VALUES ($1, $2, $3, $4, $5, $6, 'sms')",
    )
    .bind(id.clone())
    .bind(to.to_string())
    .bind("Text message")
    .bind(body.to_string())
    .bind(status::QUEUED)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    crate::jobs::enqueue::<SendSms>(
        tx,
        &SendSmsPayload {
            outbox_id: id.clone(),
        },
        Some(&format!("send_sms:{id}")),
        0,
    )
    .await?;
    Ok(id)
}

/// The job that delivers one text message.
pub struct SendSms;

/// What a [`SendSms`] job carries.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SendSmsPayload {
    /// The outbox row.
    pub outbox_id: String,
}

impl crate::jobs::JobKind for SendSms {
    const KIND: &'static str = "send_sms";
    type Payload = SendSmsPayload;

    async fn run(state: &AppState, p: SendSmsPayload) -> anyhow::Result<()> {
        let sender: std::sync::Arc<dyn SmsSender> = sender_for(&state.cfg)?.into();
        deliver(&state.db, sender, &p.outbox_id).await
    }

    async fn gave_up(state: &AppState, p: SendSmsPayload) -> anyhow::Result<()> {
        Ok(super::mark_failed(&state.db, &p.outbox_id).await?)
    }
}

/// Deliver one queued text message with `sender` (idempotent).
pub async fn deliver(
    db: &Db,
    sender: std::sync::Arc<dyn SmsSender>,
    outbox_id: &str,
) -> anyhow::Result<()> {
    let Some(row) = sqlx::query(
        "SELECT to_address, body_text, status FROM outbox WHERE id = $1 AND channel = 'sms'",
    )
    .bind(outbox_id.to_string())
    .fetch_optional(&db.read)
    .await?
    else {
        return Ok(());
    };
    if row.try_get::<String, _>("status")? != status::QUEUED {
        return Ok(());
    }
    let to: String = row.try_get("to_address")?;
    let body: String = row.try_get("body_text")?;
    let sent = tokio::task::spawn_blocking(move || sender.send(&to, &body)).await?;
    match sent {
        Ok(Delivery::Sent) => super::set_status(db, outbox_id, status::SENT, None).await?,
        Ok(Delivery::Kept) => super::set_status(db, outbox_id, KEPT, None).await?,
        Err(e) => {
            super::set_status(db, outbox_id, status::QUEUED, Some(&e.to_string())).await?;
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ensemble_test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";

    #[test]
    fn a_notify_key_splits_into_service_and_secret() {
        let (service, secret) = split_key(KEY).unwrap();
        assert_eq!(service, "26785a09-ab16-4eb0-8407-a37497a57506");
        assert_eq!(secret, "3d844edf-8d35-48ac-975b-e847b4f122b0");
        assert!(split_key("not-a-key").is_none());
        assert!(NotifySender::new(KEY, "not a uuid").is_err());
    }

    #[test]
    fn the_token_is_an_hs256_jwt_over_issuer_and_time() {
        let t = jwt("svc", "secret", 1_700_000_000);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&claims).unwrap();
        assert_eq!(v, serde_json::json!({ "iss": "svc", "iat": 1_700_000_000 }));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert!(
            mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
                .is_ok()
        );
    }
}
