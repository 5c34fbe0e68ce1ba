//! Practice use cases: sessions of an activity, their plan (and reusable templates), the
//! register (which feeds the referral pathway's attendance), and the three-part log. Each
//! authorises (a [`SessionAccess`] proof, made in its transaction: practitioners and
//! programme managers of the organisation running the activity), validates, changes, keeps
//! a revision and audits in one transaction. Plans and
//! logs carry a version: a save based on an older version is refused as a conflict, so two
//! people editing the same log cannot overwrite each other.

mod log;
mod plans;
mod register;
mod schedule;
mod sessions;

pub use log::*;
pub use plans::*;
pub use register::*;
pub use schedule::*;
pub use sessions::*;

pub use super::access::{SessionAccess, SessionTeam};

use crate::audit;
use crate::db::{Tx, new_id, now};
use crate::error::AppError;
use crate::rbac::{Actor, Role};

/// How far back a session may be recorded (for logging one held last week).
pub const PAST_WINDOW_DAYS: i64 = 7;

/// Can the actor run sessions for this organisation?
pub fn runs_sessions(actor: &Actor, organisation_id: &str) -> bool {
    actor.has_role_in(organisation_id, Role::Practitioner)
        || actor.has_role_in(organisation_id, Role::ProgrammeManager)
}

async fn audit_session(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    id: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    audit::by(tx, actor, action, "practice_session", Some(id), detail).await?;
    Ok(())
}

async fn revision(
    tx: &mut Tx,
    actor: &Actor,
    session: &SessionAccess,
    part: &str,
    version: i64,
    content: serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO session_revisions (id, session_id, part, version, content, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(session.id.clone())
    .bind(part.to_string())
    .bind(version)
    .bind(content.to_string())
    .bind(actor.user_id.clone())
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
