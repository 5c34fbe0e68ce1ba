//! The administrator's views of the platform's own records: the audit trail and the email
//! outbox. Both hold personal data, so reading them is itself audited.

use crate::audit::{self, AuditFilter, AuditRow, describe};
use crate::error::AppError;
use crate::modules::accounts::store;
use crate::notify::OutboxMessage;
use crate::rbac::Granted;
use crate::rbac::perm::{ViewAudit, ViewOperations};
use crate::state::AppState;

/// An audit row with its plain sentence ("Lee Link Worker viewed Jordan Reyes's record").
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub row: AuditRow,
    pub sentence: String,
}

/// One page (50 rows) of the audit trail matching `filter`, each with its sentence (a
/// person's name only when the viewer is in that person's care team), and whether there are
/// more; the read is recorded in the trail.
pub async fn browse_audit(
    state: &AppState,
    g: &Granted<ViewAudit>,
    filter: &AuditFilter,
    pg: i64,
) -> Result<(Vec<AuditEntry>, bool), AppError> {
    let (rows, more) = audit::list(&state.db, filter, pg, 50).await?;
    let actors: Vec<String> = rows
        .iter()
        .filter_map(|r| r.actor_user_id.clone())
        .collect();
    let names = store::user_display_names(&state.db.read, &actors).await?;
    let people: Vec<String> = rows
        .iter()
        .filter(|r| r.entity_type == "person")
        .filter_map(|r| r.entity_id.clone())
        .collect();
    let people =
        crate::modules::people::viewers::names_for_viewer(state, g.actor(), &people).await?;
    let entries: Vec<AuditEntry> = rows
        .into_iter()
        .map(|row| {
            let actor = row.actor_user_id.as_ref().and_then(|u| names.get(u));
            let person = (row.entity_type == "person")
                .then(|| row.entity_id.as_ref().and_then(|p| people.get(p)))
                .flatten();
            let sentence =
                describe::sentence(&row, actor.map(String::as_str), person.map(String::as_str));
            AuditEntry { row, sentence }
        })
        .collect();
    // Browsing the trail is itself a read of personal data.
    audit::read(
        &state.db,
        g.actor(),
        "audit.read",
        "audit_log",
        None,
        serde_json::json!({"page": pg, "rows": entries.len()}),
    )
    .await?;
    Ok((entries, more))
}

/// The outbox's channels as filter values and the words the outbox page shows for them.
pub const OUTBOX_CHANNELS: [(&str, &str); 2] = [("email", "Email"), ("sms", "Text message")];

/// The 100 most recent messages in the outbox (emails and text messages), of one channel
/// when `channel` is `email` or `sms` (blank or `all`: both); the read is recorded in the
/// trail. Another channel is refused, naming the field.
pub async fn browse_outbox(
    state: &AppState,
    g: &Granted<ViewOperations>,
    channel: &str,
) -> Result<Vec<OutboxMessage>, AppError> {
    let channel = match channel.trim() {
        "" | "all" => None,
        c if OUTBOX_CHANNELS.iter().any(|(code, _)| *code == c) => Some(c),
        _ => {
            return Err(AppError::Invalid(vec![crate::error::FieldError::new(
                "channel",
                "Choose which messages to show: all, emails or text messages",
            )]));
        }
    };
    let messages = crate::notify::recent(&state.db, 100, channel).await?;
    // Emails and texts carry names, addresses and phone numbers: viewing them is audited.
    audit::read(
        &state.db,
        g.actor(),
        "outbox.read",
        "outbox",
        None,
        serde_json::json!({"rows": messages.len(), "channel": channel.unwrap_or("all")}),
    )
    .await?;
    Ok(messages)
}
