//! Care roles (roles that reach person records, [`Role::is_care_role`]) are given in two
//! steps: one administrator asks, a different administrator, who is not the account
//! concerned either, approves within [`GRANT_TTL_DAYS`] days. Every step is audited with
//! its own action (`membership.care_grant.request`, `.approve`, `.refuse`).

use serde_json::json;
use sqlx::Row;

use crate::audit::{self, AuditActor};
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::perm::ManageAccounts;
use crate::rbac::{Granted, Role};
use crate::state::AppState;

use super::*;

/// Days a request for a care role may wait for approval.
pub const GRANT_TTL_DAYS: i64 = 7;
/// Days decided and expired requests stay in the list on the administration page.
pub const GRANT_RECENT_DAYS: i64 = 30;

/// Where a request for a care role stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantStatus {
    /// Waiting for a second administrator.
    Pending,
    /// Approved: the membership exists.
    Approved,
    /// Refused by an administrator.
    Refused,
    /// Not decided in time.
    Expired,
}

impl GrantStatus {
    /// Label for pages.
    pub fn label(self) -> &'static str {
        match self {
            GrantStatus::Pending => "Waiting for approval",
            GrantStatus::Approved => "Approved",
            GrantStatus::Refused => "Refused",
            GrantStatus::Expired => "Expired",
        }
    }
}

/// One request for a care role, with names for the page.
#[derive(Debug, Clone)]
pub struct CareGrant {
    /// Id.
    pub id: String,
    /// The account that would get the role.
    pub user_id: String,
    /// Its name.
    pub user_name: String,
    /// Organisation name.
    pub organisation_name: String,
    /// The role.
    pub role: Role,
    /// Where it stands (expiry worked out now).
    pub status: GrantStatus,
    /// Who asked.
    pub requested_by: String,
    /// Their name.
    pub requested_by_name: String,
    /// When (Unix seconds).
    pub requested_at: i64,
    /// Until when it may be approved.
    pub expires_at: i64,
    /// Who decided, by name.
    pub decided_by_name: Option<String>,
    /// When.
    pub decided_at: Option<i64>,
}

impl CareGrant {
    /// May this account approve it? Not the one who asked, nor the one who would get it.
    pub fn may_be_approved_by(&self, user_id: &str) -> bool {
        self.status == GrantStatus::Pending
            && self.requested_by != user_id
            && self.user_id != user_id
    }
}

/// Record a request for a care role inside the caller's transaction (from the account
/// page or an accepted invitation).
pub(super) async fn request_care_grant(
    tx: &mut Tx,
    actor: &AuditActor,
    requested_by: &str,
    user_id: &str,
    org_id: &str,
    role: Role,
    invitation_id: Option<&str>,
) -> Result<String, AppError> {
    let waiting = sqlx::query(
        "SELECT COUNT(*) AS n FROM role_grants WHERE user_id = $1 AND organisation_id = $2 AND role = $3 AND status = 'pending' AND expires_at > $4",
    )
    .bind(user_id.to_string())
    .bind(org_id.to_string())
    .bind(role.code())
    .bind(now())
    .fetch_one(&mut **tx)
    .await?
    .try_get::<i64, _>("n")?;
    if waiting > 0 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "role",
            "This role is already waiting for a second administrator to approve it",
        )]));
    }
    let id = new_id();
    let t = now();
    sqlx::query(
        "INSERT INTO role_grants (id, user_id, organisation_id, role, status, requested_by, requested_at, expires_at, invitation_id) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8)",
    )
    .bind(id.clone())
    .bind(user_id.to_string())
    .bind(org_id.to_string())
    .bind(role.code())
    .bind(requested_by.to_string())
    .bind(t)
    .bind(t + GRANT_TTL_DAYS * 86_400)
    .bind(invitation_id.map(str::to_string))
    .execute(&mut **tx)
    .await?;
    let detail = json!({"grant_id": id, "organisation_id": org_id, "role": role.code(),
        "requested_by": requested_by, "invitation_id": invitation_id});
    let e = ev(
        "membership.care_grant.request",
        "user",
        Some(user_id),
        detail,
    );
    audit::record(tx, actor, e).await?;
    Ok(id)
}

/// How many requests for care roles are waiting (for the banner on administration pages).
pub async fn pending_care_grant_count(state: &AppState) -> Result<i64, AppError> {
    let n = sqlx::query(
        "SELECT COUNT(*) AS n FROM role_grants WHERE status = 'pending' AND expires_at > $1",
    )
    .bind(now())
    .fetch_one(&state.db.read)
    .await?
    .try_get::<i64, _>("n")?;
    Ok(n)
}

/// Requests waiting, and those decided or expired in the last [`GRANT_RECENT_DAYS`] days;
/// only one account's when `user_id` is given. Waiting ones first, newest first.
pub async fn care_grants(
    state: &AppState,
    _g: &Granted<ManageAccounts>,
    user_id: Option<&str>,
) -> Result<Vec<CareGrant>, AppError> {
    let t = now();
    let rows = sqlx::query(
        "SELECT g.id, g.user_id, u.display_name AS user_name, o.name AS organisation_name, g.role, g.status, \
         g.requested_by, r.display_name AS requested_by_name, g.requested_at, g.expires_at, \
         d.display_name AS decided_by_name, g.decided_at \
         FROM role_grants g JOIN users u ON u.id = g.user_id JOIN organisations o ON o.id = g.organisation_id \
         JOIN users r ON r.id = g.requested_by LEFT JOIN users d ON d.id = g.decided_by \
         WHERE ($1 = '' OR g.user_id = $1) AND (g.status = 'pending' OR COALESCE(g.decided_at, g.expires_at) > $2) \
         ORDER BY g.requested_at DESC, g.id DESC LIMIT 200",
    )
    .bind(user_id.unwrap_or("").to_string())
    .bind(t - GRANT_RECENT_DAYS * 86_400)
    .fetch_all(&state.db.read)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(role) = Role::from_code(&r.try_get::<String, _>("role")?) else {
            continue;
        };
        let expires_at: i64 = r.try_get("expires_at")?;
        let status = match r.try_get::<String, _>("status")?.as_str() {
            "approved" => GrantStatus::Approved,
            "refused" => GrantStatus::Refused,
            _ if expires_at <= t => GrantStatus::Expired,
            _ => GrantStatus::Pending,
        };
        out.push(CareGrant {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            user_name: r.try_get("user_name")?,
            organisation_name: r.try_get("organisation_name")?,
            role,
            status,
            requested_by: r.try_get("requested_by")?,
            requested_by_name: r.try_get("requested_by_name")?,
            requested_at: r.try_get("requested_at")?,
            expires_at,
            decided_by_name: r.try_get("decided_by_name")?,
            decided_at: r.try_get("decided_at")?,
        });
    }
    out.sort_by_key(|g| g.status != GrantStatus::Pending);
    Ok(out)
}

/// Approve (give the role) or refuse a waiting request. Approval must come from an
/// administrator who neither asked for it nor would get it, before it expires.
pub async fn decide_care_grant(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    grant_id: &str,
    approve: bool,
) -> Result<(), AppError> {
    let me = g.actor().user_id.as_str();
    let t = now();
    let mut tx = state.db.begin().await?;
    let row = sqlx::query(
        "SELECT user_id, organisation_id, role, status, requested_by, expires_at FROM role_grants WHERE id = $1",
    )
    .bind(grant_id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let user_id: String = row.try_get("user_id")?;
    let org_id: String = row.try_get("organisation_id")?;
    let requested_by: String = row.try_get("requested_by")?;
    let role = Role::from_code(&row.try_get::<String, _>("role")?).ok_or(AppError::NotFound)?;
    if row.try_get::<String, _>("status")? != "pending" {
        return Err(AppError::Conflict(
            "This request has already been decided.".into(),
        ));
    }
    if row.try_get::<i64, _>("expires_at")? <= t {
        return Err(AppError::Conflict(format!(
            "This request expired: requests wait {GRANT_TTL_DAYS} days for approval. Ask again from the account's page if the role is still needed."
        )));
    }
    if approve && (requested_by == me || user_id == me) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "grant",
            "A role that reaches person records must be approved by another administrator: not the one who asked for it, and not the account that would get it",
        )]));
    }
    let status = if approve { "approved" } else { "refused" };
    let done = sqlx::query(
        "UPDATE role_grants SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND status = 'pending'",
    )
    .bind(status)
    .bind(me.to_string())
    .bind(t)
    .bind(grant_id.to_string())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Conflict(
            "This request has already been decided.".into(),
        ));
    }
    let actor = g.actor().audit();
    if approve {
        insert_membership(&mut tx, &actor, &user_id, &org_id, role).await?;
    }
    let detail = json!({"grant_id": grant_id, "organisation_id": org_id, "role": role.code(),
        "requested_by": requested_by});
    let action = if approve {
        "membership.care_grant.approve"
    } else {
        "membership.care_grant.refuse"
    };
    audit::record(&mut tx, &actor, ev(action, "user", Some(&user_id), detail)).await?;
    tx.commit().await?;
    Ok(())
}
