//! Users and memberships, through the administration pages and as the operator (CLI).

use serde_json::json;
use sqlx::Row;

use crate::audit::{self, AuditActor};
use crate::auth::{password, session};
use crate::db::{is_unique_violation, new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::perm::ManageAccounts;
use crate::rbac::{Granted, Role};
use crate::state::AppState;

use crate::modules::accounts::model::{Email, Membership, UserSummary, parse_name};
use crate::modules::accounts::store;

use super::*;

// ---------------------------------------------------------------- accounts

/// List accounts matching `q` (audited read of personal data).
pub async fn list_users(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    q: &str,
    page: i64,
) -> Result<(Vec<UserSummary>, bool), AppError> {
    let per = 50;
    let mut tx = state.db.begin().await?;
    let offset = (page.max(1) - 1).saturating_mul(per);
    let mut users = store::users(&mut *tx, q, per + 1, offset).await?;
    let more = users.len() as i64 > per;
    users.truncate(per as usize);
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "account.list",
            "user",
            None,
            json!({"query": q, "page": page, "rows": users.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((users, more))
}

/// One account with its memberships (audited read).
pub async fn get_user(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    id: &str,
) -> Result<(UserSummary, Vec<Membership>), AppError> {
    let mut tx = state.db.begin().await?;
    let user = store::user(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let memberships = store::memberships(&mut *tx, Some(id), None).await?;
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev("account.read", "user", Some(id), json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok((user, memberships))
}

/// Input for editing an account.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct UserInput {
    /// Name.
    pub display_name: String,
    /// Email.
    pub email: String,
}

/// Edit an account's name and email.
pub async fn update_user(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    id: &str,
    input: &UserInput,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let name = parse_name(&input.display_name, "display_name", &mut errors);
    let email = Email::parse(&input.email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let mut tx = state.db.begin().await?;
    store::user(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let r = sqlx::query(
        "UPDATE users SET display_name = $1, email = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(name)
    .bind(email.as_str().to_string())
    .bind(now())
    .bind(id.to_string())
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "email",
                "Another account already uses this email address",
            )]));
        }
        r => r?,
    };
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "account.update",
            "user",
            Some(id),
            json!({"fields": ["display_name", "email"]}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disable or re-enable an account; disabling ends its sessions and revokes nothing else.
pub async fn set_disabled(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    id: &str,
    disabled: bool,
) -> Result<(), AppError> {
    if disabled && g.actor().user_id == id {
        return Err(AppError::Conflict(
            "You cannot disable your own account.".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    store::user(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $2, failed_sign_ins = 0, locked_until = NULL WHERE id = $3")
        .bind(disabled.then(now))
        .bind(now())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let ended = if disabled {
        session::destroy_all_for(&mut tx, id).await?
    } else {
        0
    };
    let action = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(action, "user", Some(id), json!({"sessions_ended": ended})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remove an account's second factor (lost phone); they set it up again at next sign-in.
pub async fn reset_mfa(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    store::user(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    sqlx::query("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, mfa_failures = 0, mfa_failures_since = NULL, mfa_locked_until = NULL WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let ended = session::destroy_all_for(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "account.mfa_reset",
            "user",
            Some(id),
            json!({"sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What adding a role did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleAdded {
    /// The account has the role now.
    Given,
    /// A care role: it waits for a second administrator to approve it.
    WaitingForApproval,
}

/// Give an account a role in an organisation. Nobody may give themselves a role, and a
/// care role ([`Role::is_care_role`]) only becomes a request for a second administrator.
pub async fn add_membership(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    user_id: &str,
    org_id: &str,
    role: &str,
) -> Result<RoleAdded, AppError> {
    let mut errors = Vec::new();
    let ro = parse_role_and_org(role, org_id, &mut errors);
    if g.actor().user_id == user_id {
        errors.push(FieldError::new(
            "role",
            "You cannot give yourself a role. Ask another administrator to add it",
        ));
    }
    let (Some((role, org)), true) = (ro, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let mut tx = state.db.begin().await?;
    store::user(&mut *tx, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let actor = g.actor().audit();
    let added = if role.is_care_role() {
        if store::organisation(&mut *tx, &org).await?.is_none() {
            return Err(AppError::Invalid(vec![FieldError::new(
                "organisation_id",
                "Choose an organisation from the list",
            )]));
        }
        let me = g.actor().user_id.as_str();
        request_care_grant(&mut tx, &actor, me, user_id, &org, role, None).await?;
        RoleAdded::WaitingForApproval
    } else {
        insert_membership(&mut tx, &actor, user_id, &org, role).await?;
        RoleAdded::Given
    };
    tx.commit().await?;
    Ok(added)
}

/// Remove a membership.
pub async fn remove_membership(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    user_id: &str,
    membership_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let r = sqlx::query("DELETE FROM memberships WHERE id = $1 AND user_id = $2")
        .bind(membership_id.to_string())
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    if g.actor().user_id == user_id {
        let admin_left = sqlx::query(
            "SELECT COUNT(*) AS n FROM memberships WHERE user_id = $1 AND role = 'administrator'",
        )
        .bind(user_id.to_string())
        .fetch_one(&mut *tx)
        .await?
        .try_get::<i64, _>("n")?;
        if admin_left == 0 {
            return Err(AppError::Conflict(
                "You cannot remove your own last administrator role.".into(),
            ));
        }
    }
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "membership.delete",
            "user",
            Some(user_id),
            json!({"membership_id": membership_id}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- operator (CLI, demo)

/// Generated accounts for benchmarks (`ensemble programmes generate`): `n` accounts named
/// `{prefix}{i}@bench.example` sharing one password hash (hashed once), bulk-inserted, no
/// memberships. Returns their ids in order. Never run on a live database.
pub async fn bench_users_as_operator(
    state: &AppState,
    prefix: &str,
    n: usize,
    password_plain: &str,
) -> Result<Vec<String>, AppError> {
    let hash = password::hash(password_plain, state.cfg.hash_cost)?;
    let t = now();
    let cols = [
        "id",
        "email",
        "display_name",
        "password_hash",
        "password_changed_at",
        "created_at",
        "updated_at",
    ];
    let mut ids = Vec::with_capacity(n);
    let mut rows = Vec::new();
    for i in 0..n {
        let id = new_id();
        ids.push(id.clone());
        rows.push(vec![
            crate::db::Bind::T(id),
            crate::db::Bind::T(format!("{prefix}{i}@bench.example")),
            crate::db::Bind::T(format!("Generated member {i}")),
            crate::db::Bind::T(hash.clone()),
            crate::db::Bind::I(t),
            crate::db::Bind::I(t),
            crate::db::Bind::I(t),
        ]);
        if rows.len() == 500 {
            crate::db::insert_rows(&state.db, "users", &cols, &mut rows, "").await?;
        }
    }
    crate::db::insert_rows(&state.db, "users", &cols, &mut rows, "").await?;
    Ok(ids)
}

/// Create an account directly (command line, demo), optionally with a membership.
pub async fn create_user_as_operator(
    state: &AppState,
    email: &str,
    name: &str,
    password_plain: &str,
    membership: Option<(&str, Role)>,
) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let name = parse_name(name, "name", &mut errors);
    let email = Email::parse(email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    if let Err(e) = password::check_rules(
        password_plain,
        &[email.as_ref().map(Email::as_str).unwrap_or(""), &name],
    ) {
        errors.push(FieldError::new("password", e.to_string()));
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let hash = password::hash(password_plain, state.cfg.hash_cost)?;
    let id = new_id();
    let t = now();
    let mut tx = state.db.begin().await?;
    let r = sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash, password_changed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5, $5)",
    )
    .bind(id.clone())
    .bind(email.as_str().to_string())
    .bind(name)
    .bind(hash)
    .bind(t)
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "email",
                "An account with this email address already exists",
            )]));
        }
        r => r?,
    };
    let actor = AuditActor::cli();
    audit::record(
        &mut tx,
        &actor,
        ev(
            "account.create",
            "user",
            Some(&id),
            json!({"via": "operator"}),
        ),
    )
    .await?;
    if let Some((org, role)) = membership {
        insert_membership(&mut tx, &actor, &id, org, role).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Every account, for the command line (audited as an operator read).
pub async fn list_users_as_operator(
    state: &AppState,
) -> Result<Vec<(UserSummary, Vec<Membership>)>, AppError> {
    let mut tx = state.db.begin().await?;
    let users = store::users(&mut *tx, "", i64::MAX / 4, 0).await?;
    let memberships = store::memberships(&mut *tx, None, None).await?;
    audit::record(
        &mut tx,
        &AuditActor::cli(),
        ev("account.list", "user", None, json!({"rows": users.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let m = memberships
                .iter()
                .filter(|m| m.user_id == u.id)
                .cloned()
                .collect();
            (u, m)
        })
        .collect())
}

/// Disable or enable an account by email (command line).
pub async fn set_disabled_as_operator(
    state: &AppState,
    email: &str,
    disabled: bool,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let user = store::user_by_email(&mut *tx, &email.trim().to_lowercase())
        .await?
        .ok_or(AppError::NotFound)?;
    sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3")
        .bind(disabled.then(now))
        .bind(now())
        .bind(user.id.clone())
        .execute(&mut *tx)
        .await?;
    let ended = if disabled {
        session::destroy_all_for(&mut tx, &user.id).await?
    } else {
        0
    };
    let action = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    audit::record(
        &mut tx,
        &AuditActor::cli(),
        ev(
            action,
            "user",
            Some(&user.id),
            json!({"sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Set a new password by email (command line); unlocks the account and ends its sessions.
pub async fn reset_password_as_operator(
    state: &AppState,
    email: &str,
    new_password: &str,
) -> Result<(), AppError> {
    let email = email.trim().to_lowercase();
    let user = store::user_by_email(&state.db.read, &email)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(e) = password::check_rules(new_password, &[&user.email, &user.display_name]) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "password",
            e.to_string(),
        )]));
    }
    let hash = password::hash(new_password, state.cfg.hash_cost)?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2, failed_sign_ins = 0, locked_until = NULL WHERE id = $3")
        .bind(hash)
        .bind(now())
        .bind(user.id.clone())
        .execute(&mut *tx)
        .await?;
    let ended = session::destroy_all_for(&mut tx, &user.id).await?;
    audit::record(
        &mut tx,
        &AuditActor::cli(),
        ev(
            "account.password_reset",
            "user",
            Some(&user.id),
            json!({"sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Give an account (by email) a role in an organisation (command line, demo).
pub async fn add_membership_as_operator(
    state: &AppState,
    email: &str,
    org_id: &str,
    role: Role,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let user = store::user_by_email(&mut *tx, &email.trim().to_lowercase())
        .await?
        .ok_or(AppError::NotFound)?;
    insert_membership(&mut tx, &AuditActor::cli(), &user.id, org_id, role).await?;
    tx.commit().await?;
    Ok(())
}
