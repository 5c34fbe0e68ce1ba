//! The actor's own account: changing the password and API tokens.

use serde_json::json;
use sqlx::Row;

use crate::audit::{self};
use crate::auth::secret::{random_token, token_hash};
use crate::auth::{password, session};
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

/// Change one's own password (needs the current one); ends other sessions.
pub async fn change_password(
    state: &AppState,
    actor: &Actor,
    current: &str,
    new: &str,
    confirm: &str,
    session_hash: &str,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(actor.user_id.clone())
        .fetch_one(&state.db.read)
        .await?;
    let hash: Option<String> = row.try_get("password_hash")?;
    if !hash
        .as_deref()
        .is_some_and(|h| password::verify(current, h))
    {
        errors.push(FieldError::new(
            "current_password",
            "Your current password is not correct",
        ));
    }
    if let Err(e) = password::check_rules(new, &[&actor.email, &actor.display_name]) {
        errors.push(FieldError::new("new_password", e.to_string()));
    } else if new != confirm {
        errors.push(FieldError::new(
            "confirm_password",
            "The passwords do not match",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let new_hash = password::hash(new, state.cfg.hash_cost)?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2 WHERE id = $3")
        .bind(new_hash)
        .bind(now())
        .bind(actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
    let ended = session::destroy_others(&mut tx, &actor.user_id, session_hash).await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        ev(
            "account.password_changed",
            "user",
            Some(&actor.user_id),
            json!({"other_sessions_ended": ended}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- API tokens

/// Scopes a personal access token can carry, with what each allows.
pub const SCOPES: &[(&str, &str)] = &[
    ("account:read", "Read your own account and roles"),
    (
        "organisations:read",
        "Read the list of organisations (staff)",
    ),
    (
        "organisations:write",
        "Create organisations (administrators)",
    ),
    ("users:read", "Read accounts (administrators)"),
    (
        "referrals:write",
        "Send referrals as FHIR (clinicians, link workers, programme teams)",
    ),
    (
        "referrals:read",
        "Read referrals you made or work on, and their message back",
    ),
    (
        "evaluation:read",
        "Download pseudonymised evaluation datasets (researchers) and read the programme evaluation reports you may open",
    ),
    (
        "areas:read",
        "Read reach and equity by deprivation decile (commissioners, programme managers, researchers)",
    ),
    (
        "measures:read",
        "List instruments, and read the scores of people you may see",
    ),
    (
        "measures:write",
        "Submit completed wellbeing measures (link workers, practitioners, programme teams)",
    ),
    (
        "practice:read",
        "Export your own CPD portfolio (practitioners, programme teams)",
    ),
    (
        "programmes:read",
        "Read the programmes you are a member of, with their board",
    ),
];

/// Create a token; returns the secret, shown once.
pub async fn create_token(
    state: &AppState,
    actor: &Actor,
    name: &str,
    scopes: &[String],
    days: &str,
) -> Result<String, AppError> {
    let (name, days) = check_token(name, scopes, days)?;
    let mut tx = state.db.begin().await?;
    let (id, token) = store_token(&mut tx, &actor.user_id, name, scopes, days).await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        ev(
            "api_token.create",
            "api_token",
            Some(&id),
            json!({"scopes": scopes, "expires_in_days": days}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Create a token for an enabled account from the command line (`ensemble user token
/// create`), for scripts and test harnesses run by the operator; returns the secret, shown
/// once. The same checks as on the account page (a name, at least one known scope, an
/// expiry of 1 to 366 days or never); the token can do no more than its scopes and its
/// owner's roles allow. Audited as `api_token.create` by the command line, naming the owner.
pub async fn create_token_as_operator(
    state: &AppState,
    email: &str,
    name: &str,
    scopes: &[String],
    days: &str,
) -> Result<String, AppError> {
    let (name, days) = check_token(name, scopes, days)?;
    let mut tx = state.db.begin().await?;
    let user =
        crate::modules::accounts::store::user_by_email(&mut *tx, &email.trim().to_lowercase())
            .await?
            .ok_or_else(|| {
                AppError::Invalid(vec![FieldError::new(
                    "email",
                    format!("No account has the email address \"{}\"", email.trim()),
                )])
            })?;
    if user.disabled_at.is_some() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "email",
            format!("The account {} is disabled; enable it first", user.email),
        )]));
    }
    let (id, token) = store_token(&mut tx, &user.id, name, scopes, days).await?;
    audit::record(
        &mut tx,
        &crate::audit::AuditActor::cli(),
        ev(
            "api_token.create",
            "api_token",
            Some(&id),
            json!({"owner": user.id, "scopes": scopes, "expires_in_days": days}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// A token's name (trimmed) and lifetime in days (`None` for never), or every problem.
fn check_token<'a>(
    name: &'a str,
    scopes: &[String],
    days: &str,
) -> Result<(&'a str, Option<i64>), AppError> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() {
        errors.push(FieldError::new(
            "name",
            "Enter a name so you can recognise this token later",
        ));
    } else if name.chars().count() > 100 {
        errors.push(FieldError::new(
            "name",
            "Name must be 100 characters or fewer",
        ));
    }
    if scopes.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            "Choose at least one thing the token may do",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.iter().any(|(k, _)| k == s)) {
        errors.push(FieldError::new(
            "scopes",
            format!("Unknown scope \"{bad}\""),
        ));
    }
    let days: Option<i64> = match days.trim() {
        "" | "never" => None,
        d => match d.parse::<i64>() {
            Ok(n) if (1..=366).contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new(
                    "expires_in_days",
                    "Expiry must be a whole number of days from 1 to 366, or never",
                ));
                None
            }
        },
    };
    if errors.is_empty() {
        Ok((name, days))
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Store a new token for `user_id` in the caller's transaction: its id and the secret.
async fn store_token(
    tx: &mut crate::db::Tx,
    user_id: &str,
    name: &str,
    scopes: &[String],
    days: Option<i64>,
) -> Result<(String, String), AppError> {
    let token = format!("ens_{}", random_token(30));
    let id = new_id();
    let t = now();
    crate::api::tokens::insert(
        tx,
        &crate::api::tokens::NewToken {
            id: &id,
            user_id,
            name,
            token_prefix: &token[..10],
            token_hash: &token_hash(&token),
            scopes: &scopes.join(" "),
            created_at: t,
            expires_at: days.map(|d| t + d * 86_400),
        },
    )
    .await?;
    Ok((id, token))
}

/// Revoke one of one's own tokens.
pub async fn revoke_token(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    if !crate::api::tokens::revoke(&mut tx, id, &actor.user_id, now()).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &actor.audit(),
        ev("api_token.revoke", "api_token", Some(id), json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
