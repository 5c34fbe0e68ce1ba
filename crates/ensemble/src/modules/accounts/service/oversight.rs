//! The administrator's views of the platform's own records: the audit trail and the email
//! outbox. Both hold personal data, so reading them is itself audited.

use crate::audit::{self, AuditFilter, AuditRow};
use crate::error::AppError;
use crate::notify::OutboxMessage;
use crate::rbac::Granted;
use crate::rbac::perm::{ViewAudit, ViewOperations};
use crate::state::AppState;

/// One page (50 rows) of the audit trail matching `filter`, and whether there are more;
/// the read is recorded in the trail.
pub async fn browse_audit(
    state: &AppState,
    g: &Granted<ViewAudit>,
    filter: &AuditFilter,
    pg: i64,
) -> Result<(Vec<AuditRow>, bool), AppError> {
    let found = audit::list(&state.db, filter, pg, 50).await?;
    // Browsing the trail is itself a read of personal data.
    audit::read(
        &state.db,
        g.actor(),
        "audit.read",
        "audit_log",
        None,
        serde_json::json!({"page": pg, "rows": found.0.len()}),
    )
    .await?;
    Ok(found)
}

/// The 100 most recent emails in the outbox; the read is recorded in the trail.
pub async fn browse_outbox(
    state: &AppState,
    g: &Granted<ViewOperations>,
) -> Result<Vec<OutboxMessage>, AppError> {
    let messages = crate::notify::recent(&state.db, 100).await?;
    // Emails carry names and addresses: viewing them is audited.
    audit::read(
        &state.db,
        g.actor(),
        "outbox.read",
        "outbox",
        None,
        serde_json::json!({"rows": messages.len()}),
    )
    .await?;
    Ok(messages)
}
