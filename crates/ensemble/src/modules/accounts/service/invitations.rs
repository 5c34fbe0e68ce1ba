//! Invitations: sending, finding, accepting and listing them.

use serde_json::json;
use sqlx::Row;

use crate::audit::{self, AuditActor};
use crate::auth::password;
use crate::auth::secret::{random_token, token_hash};
use crate::db::{is_unique_violation, new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::perm::ManageAccounts;
use crate::rbac::{Granted, Role};
use crate::state::AppState;

use crate::modules::accounts::model::{Email, parse_name};
use crate::modules::accounts::store;

use super::*;

/// Input for inviting someone.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct InviteInput {
    /// Their name.
    pub display_name: String,
    /// Their email.
    pub email: String,
    /// Organisation id.
    pub organisation_id: String,
    /// Role code.
    pub role: String,
}

/// Invite a new person: an invitation link goes to them by email (through the outbox).
pub async fn invite(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    input: &InviteInput,
) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let name = parse_name(&input.display_name, "display_name", &mut errors);
    let email = Email::parse(&input.email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    let ro = parse_role_and_org(&input.role, &input.organisation_id, &mut errors);
    let (Some(email), Some((role, org_id)), true) = (email, ro, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let mut tx = state.db.begin().await?;
    if store::user_by_email(&mut *tx, email.as_str())
        .await?
        .is_some()
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "email",
            "An account with this email address already exists. Add a role to that account instead.",
        )]));
    }
    let org = store::organisation(&mut *tx, &org_id)
        .await?
        .ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new(
                "organisation_id",
                "Choose an organisation from the list",
            )])
        })?;
    let token = random_token(32);
    let id = new_id();
    let t = now();
    sqlx::query(
        "INSERT INTO invitations (id, token_hash, email, display_name, organisation_id, role, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.clone())
    .bind(token_hash(&token))
    .bind(email.as_str().to_string())
    .bind(name.clone())
    .bind(org_id.clone())
    .bind(role.code())
    .bind(g.actor().user_id.clone())
    .bind(t)
    .bind(t + state.cfg.invitation_ttl.as_secs() as i64)
    .execute(&mut *tx)
    .await?;
    let link = format!(
        "{}/invitations/{token}",
        state.cfg.base_url.trim_end_matches('/')
    );
    let days = state.cfg.invitation_ttl.as_secs() / 86_400;
    let body = format!(
        "Hello {name},\n\n{inviter} has invited you to join Ensemble as {role} at {org}.\n\n\
         Open this link to choose your password and finish setting up your account:\n{link}\n\n\
         The link works once and for {days} days. If you were not expecting this, you can ignore this email.\n",
        inviter = g.actor().display_name,
        role = role.label().to_lowercase(),
        org = org.name,
    );
    crate::notify::queue_email(
        &mut tx,
        email.as_str(),
        "You have been invited to Ensemble",
        &body,
    )
    .await?;
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "invitation.create",
            "invitation",
            Some(&id),
            json!({"organisation_id": org_id, "role": role.code()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A valid, unused invitation.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// Id.
    pub id: String,
    /// Email invited.
    pub email: String,
    /// Name given.
    pub display_name: String,
    /// Organisation name.
    pub organisation_name: String,
    /// Role.
    pub role: Role,
}

/// Look up an invitation by its link token.
pub async fn find_invitation(state: &AppState, token: &str) -> Result<Invitation, AppError> {
    let row = sqlx::query(
        "SELECT i.id, i.email, i.display_name, i.role, o.name FROM invitations i JOIN organisations o ON o.id = i.organisation_id \
         WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2",
    )
    .bind(token_hash(token))
    .bind(now())
    .fetch_optional(&state.db.read)
    .await?
    .ok_or(AppError::NotFound)?;
    let role: String = row.try_get("role")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        organisation_name: row.try_get("name")?,
        role: Role::from_code(&role).ok_or(AppError::NotFound)?,
    })
}

/// Accept an invitation: create the account with the chosen password and its membership
/// (for a care role, a request that a second administrator must approve).
pub async fn accept_invitation(
    state: &AppState,
    token: &str,
    new_password: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let inv = find_invitation(state, token).await?;
    if let Err(e) = password::check_rules(new_password, &[&inv.email, &inv.display_name]) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "new_password",
            e.to_string(),
        )]));
    }
    if new_password != confirm {
        return Err(AppError::Invalid(vec![FieldError::new(
            "confirm_password",
            "The passwords do not match",
        )]));
    }
    let hash = password::hash(new_password, state.cfg.hash_cost)?;
    let mut tx = state.db.begin().await?;
    let row = sqlx::query(
        "SELECT organisation_id, role, invited_by FROM invitations WHERE id = $1 AND accepted_at IS NULL",
    )
    .bind(inv.id.clone())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let org_id: String = row.try_get("organisation_id")?;
    let user_id = new_id();
    let t = now();
    let r = sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash, password_changed_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5, $5)",
    )
    .bind(user_id.clone())
    .bind(inv.email.clone())
    .bind(inv.display_name.clone())
    .bind(hash)
    .bind(t)
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Conflict(
                "An account with this email address already exists. Sign in instead.".into(),
            ));
        }
        r => r?,
    };
    sqlx::query("UPDATE invitations SET accepted_at = $1 WHERE id = $2")
        .bind(t)
        .bind(inv.id.clone())
        .execute(&mut *tx)
        .await?;
    let actor = AuditActor {
        user_id: Some(user_id.clone()),
        label: "web".into(),
        request_id: None,
    };
    audit::record(
        &mut tx,
        &actor,
        ev(
            "account.create",
            "user",
            Some(&user_id),
            json!({"via": "invitation", "invitation_id": inv.id}),
        ),
    )
    .await?;
    // A care role was asked for by the inviting administrator; another must approve it.
    let inviter: Option<String> = row.try_get("invited_by")?;
    match inviter.filter(|_| inv.role.is_care_role()) {
        Some(by) => {
            let invitation = Some(inv.id.as_str());
            request_care_grant(
                &mut tx, &actor, &by, &user_id, &org_id, inv.role, invitation,
            )
            .await?;
        }
        None => insert_membership(&mut tx, &actor, &user_id, &org_id, inv.role).await?,
    }
    tx.commit().await?;
    Ok(())
}

/// Pending invitations (administrators).
pub async fn pending_invitations(
    state: &AppState,
    _g: &Granted<ManageAccounts>,
) -> Result<Vec<(String, String, String, Role, i64)>, AppError> {
    let rows = sqlx::query(
        "SELECT i.id, i.email, o.name, i.role, i.expires_at FROM invitations i JOIN organisations o ON o.id = i.organisation_id \
         WHERE i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $1 ORDER BY i.created_at DESC",
    )
    .bind(now())
    .fetch_all(&state.db.read)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let role: String = r.try_get("role")?;
        if let Some(role) = Role::from_code(&role) {
            out.push((
                r.try_get("id")?,
                r.try_get("email")?,
                r.try_get("name")?,
                role,
                r.try_get("expires_at")?,
            ));
        }
    }
    Ok(out)
}
