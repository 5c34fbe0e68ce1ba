//! Signing in: password, the second factor and setting up TOTP.

use serde_json::json;
use sqlx::Row;

use crate::audit::{self, AuditActor};
use crate::auth::secret::token_hash;
use crate::auth::{password, session, totp};
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::state::AppState;

use super::*;

// ---------------------------------------------------------------- sign-in

/// What has to happen after a correct password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Signed in.
    Done,
    /// Enter a TOTP or recovery code.
    Verify,
    /// Set up TOTP (staff without a second factor).
    SetUp,
}

/// Why sign-in failed; messages are shown as they are.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong email or password (deliberately not saying which).
    #[error("Enter a correct email address and password")]
    WrongCredentials,
    /// Locked after too many failures.
    #[error(
        "This account is locked for {0} minutes after too many incorrect passwords. Try again later, or ask an administrator to unlock it."
    )]
    Locked(i64),
    /// Too many attempts from this address.
    #[error("Too many sign-in attempts from your network. Wait {0} minutes and try again.")]
    RateLimited(u64),
    /// Storage failure.
    #[error(transparent)]
    Internal(#[from] sqlx::Error),
}

/// Check email and password and start a session. Returns the cookie token and what the
/// person must do next.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password_given: &str,
    client_ip: &str,
    request_id: &str,
) -> Result<(String, NextStep), SignInError> {
    if let Err(wait) = state.sign_in_limiter.hit(client_ip) {
        return Err(SignInError::RateLimited(wait.as_secs().div_ceil(60).max(1)));
    }
    let email = email.trim().to_lowercase();
    let row = sqlx::query(
        "SELECT id, password_hash, disabled_at, locked_until, failed_sign_ins, totp_enabled_at FROM users WHERE email = $1",
    )
    .bind(email.clone())
    .fetch_optional(&state.db.read)
    .await?;
    let t = now();
    let Some(row) = row else {
        password::verify(password_given, &password::DUMMY_HASH);
        return Err(SignInError::WrongCredentials);
    };
    let user_id: String = row.try_get("id")?;
    let hash: Option<String> = row.try_get("password_hash")?;
    let disabled: Option<i64> = row.try_get("disabled_at")?;
    let locked_until: Option<i64> = row.try_get("locked_until")?;
    let totp_enabled: Option<i64> = row.try_get("totp_enabled_at")?;
    if let Some(until) = locked_until.filter(|u| *u > t) {
        return Err(SignInError::Locked(((until - t) + 59) / 60));
    }
    let ok = hash
        .as_deref()
        .is_some_and(|h| password::verify(password_given, h))
        && disabled.is_none();
    let actor = AuditActor {
        user_id: Some(user_id.clone()),
        label: "web".into(),
        request_id: Some(request_id.to_string()),
    };
    let mut tx = state.db.begin().await?;
    if !ok {
        let failures: i64 = row.try_get::<i64, _>("failed_sign_ins")? + 1;
        let lock = failures >= state.cfg.lockout_threshold;
        let until = lock.then(|| t + state.cfg.lockout_duration.as_secs() as i64);
        sqlx::query("UPDATE users SET failed_sign_ins = $1, locked_until = $2 WHERE id = $3")
            .bind(if lock { 0 } else { failures })
            .bind(until)
            .bind(user_id.clone())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &actor,
            ev(
                "session.sign_in_failed",
                "user",
                Some(&user_id),
                json!({"locked": lock}),
            ),
        )
        .await?;
        tx.commit().await?;
        if lock {
            return Err(SignInError::Locked(
                state.cfg.lockout_duration.as_secs() as i64 / 60,
            ));
        }
        return Err(SignInError::WrongCredentials);
    }
    sqlx::query("UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
        .bind(user_id.clone())
        .execute(&mut *tx)
        .await?;
    let roles = session::memberships_of(&state.db, &user_id).await?;
    let staff = roles.iter().any(|m| m.2.is_staff());
    let step = if totp_enabled.is_some() {
        NextStep::Verify
    } else if staff && state.cfg.require_staff_mfa {
        NextStep::SetUp
    } else {
        NextStep::Done
    };
    let token = session::create(&mut tx, &user_id, step == NextStep::Done, &state.cfg).await?;
    audit::record(
        &mut tx,
        &actor,
        ev(
            "session.sign_in",
            "user",
            Some(&user_id),
            json!({"next_step": format!("{step:?}")}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((token, step))
}

/// End a session server-side.
pub async fn sign_out(
    state: &AppState,
    s: &session::LoadedSession,
    request_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    session::destroy(&mut tx, &s.id_hash).await?;
    let actor = AuditActor {
        user_id: Some(s.actor.user_id.clone()),
        label: "web".into(),
        request_id: Some(request_id.to_string()),
    };
    audit::record(
        &mut tx,
        &actor,
        ev(
            "session.sign_out",
            "user",
            Some(&s.actor.user_id),
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replace a session with a fresh, verified one (after the second factor).
async fn rotate_verified(
    tx: &mut Tx,
    state: &AppState,
    s: &session::LoadedSession,
) -> Result<String, sqlx::Error> {
    session::destroy(tx, &s.id_hash).await?;
    session::create(tx, &s.actor.user_id, true, &state.cfg).await
}

/// Check a TOTP or recovery code for a session that owes its second factor; returns the new
/// session token.
pub async fn verify_second_factor(
    state: &AppState,
    s: &session::LoadedSession,
    code: &str,
    request_id: &str,
) -> Result<String, AppError> {
    let row = sqlx::query("SELECT totp_secret, totp_last_step FROM users WHERE id = $1 AND totp_enabled_at IS NOT NULL")
        .bind(s.actor.user_id.clone())
        .fetch_optional(&state.db.read)
        .await?
        .ok_or(AppError::Forbidden)?;
    let secret: String = row.try_get("totp_secret")?;
    let last: Option<i64> = row.try_get("totp_last_step")?;
    let actor = AuditActor {
        user_id: Some(s.actor.user_id.clone()),
        label: "web".into(),
        request_id: Some(request_id.to_string()),
    };
    let mut tx = state.db.begin().await?;
    let method = if let Some(step) = totp::check(&secret, code, last) {
        sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2")
            .bind(step)
            .bind(s.actor.user_id.clone())
            .execute(&mut *tx)
            .await?;
        "totp"
    } else {
        let used = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(now())
            .bind(s.actor.user_id.clone())
            .bind(token_hash(&totp::normalise_recovery(code)))
            .execute(&mut *tx)
            .await?;
        if used.rows_affected() == 0 {
            audit::record(
                &mut tx,
                &actor,
                ev(
                    "session.mfa_failed",
                    "user",
                    Some(&s.actor.user_id),
                    json!({}),
                ),
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::Invalid(vec![FieldError::new(
                "code",
                "Enter the 6-digit code from your authenticator app, or one of your recovery codes",
            )]));
        }
        "recovery_code"
    };
    let token = rotate_verified(&mut tx, state, s).await?;
    audit::record(
        &mut tx,
        &actor,
        ev(
            "session.mfa_verified",
            "user",
            Some(&s.actor.user_id),
            json!({"method": method}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The pending TOTP secret for set-up (made on first visit, kept until confirmed).
pub async fn pending_totp_secret(
    state: &AppState,
    user_id: &str,
) -> Result<Option<String>, AppError> {
    let row = sqlx::query("SELECT totp_secret, totp_enabled_at FROM users WHERE id = $1")
        .bind(user_id.to_string())
        .fetch_one(&state.db.read)
        .await?;
    if row.try_get::<Option<i64>, _>("totp_enabled_at")?.is_some() {
        return Ok(None);
    }
    if let Some(s) = row.try_get::<Option<String>, _>("totp_secret")? {
        return Ok(Some(s));
    }
    let secret = totp::new_secret();
    sqlx::query("UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_enabled_at IS NULL")
        .bind(secret.clone())
        .bind(user_id.to_string())
        .execute(&state.db.write)
        .await?;
    Ok(Some(secret))
}

/// Confirm TOTP set-up with a code; returns the new session token and the recovery codes
/// (shown once).
pub async fn confirm_totp(
    state: &AppState,
    s: &session::LoadedSession,
    code: &str,
    request_id: &str,
) -> Result<(String, Vec<String>), AppError> {
    let secret = pending_totp_secret(state, &s.actor.user_id)
        .await?
        .ok_or_else(|| AppError::Conflict("Two-step sign-in is already set up.".into()))?;
    let Some(step) = totp::check(&secret, code, None) else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "code",
            "Enter the 6-digit code shown in your authenticator app now",
        )]));
    };
    let codes = totp::recovery_codes();
    let t = now();
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE users SET totp_enabled_at = $1, totp_last_step = $2 WHERE id = $3")
        .bind(t)
        .bind(step)
        .bind(s.actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(s.actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
    for (_, hash) in &codes {
        sqlx::query("INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(new_id())
            .bind(s.actor.user_id.clone())
            .bind(hash.clone())
            .bind(t)
            .execute(&mut *tx)
            .await?;
    }
    let token = rotate_verified(&mut tx, state, s).await?;
    let actor = AuditActor {
        user_id: Some(s.actor.user_id.clone()),
        label: "web".into(),
        request_id: Some(request_id.to_string()),
    };
    audit::record(
        &mut tx,
        &actor,
        ev(
            "account.mfa_enabled",
            "user",
            Some(&s.actor.user_id),
            json!({"recovery_codes": codes.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((token, codes.into_iter().map(|c| c.0).collect()))
}
