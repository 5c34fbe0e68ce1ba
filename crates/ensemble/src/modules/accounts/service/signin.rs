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

/// Why sign-in failed; messages are shown as they are. A locked account gets
/// `WrongCredentials` too, so the answer never tells whether an address has an account;
/// the account holder is emailed when the lock begins instead.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong email or password (deliberately not saying which).
    #[error("Enter a correct email address and password")]
    WrongCredentials,
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
    let verified = match hash.as_deref() {
        Some(h) => password::verify(password_given, h),
        None => {
            password::verify(password_given, &password::DUMMY_HASH);
            false
        }
    };
    if locked_until.is_some_and(|u| u > t) {
        // The same answer, after the same hashing work, as an unknown address.
        return Err(SignInError::WrongCredentials);
    }
    let ok = verified && disabled.is_none();
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
        if lock {
            tell_of_lock(&mut tx, state, &email).await?;
        }
        tx.commit().await?;
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

/// Email the account holder that their account is locked (once, when the lock begins).
async fn tell_of_lock(tx: &mut Tx, state: &AppState, email: &str) -> Result<(), sqlx::Error> {
    let minutes = state.cfg.lockout_duration.as_secs() / 60;
    let body = format!(
        "Hello,\n\nSomeone entered the wrong password for your Ensemble account {n} times, so \
         it is locked for {minutes} minutes. Until then it cannot be used, even with the right \
         password.\n\nIf this was you, wait and try again. If it was not, tell the administrator \
         of your organisation, and consider changing your password when you next sign in.\n",
        n = state.cfg.lockout_threshold,
    );
    crate::notify::queue_email(
        tx,
        email,
        "Your Ensemble account is locked for a while",
        &body,
    )
    .await?;
    Ok(())
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

/// Wrong codes allowed in one half-signed-in session: the one that reaches this ends it.
pub const MFA_SESSION_LIMIT: i64 = 5;
/// Wrong codes for one account within [`MFA_WINDOW_SECS`]: the one that reaches this locks
/// its second factor for [`MFA_LOCK_SECS`].
pub const MFA_ACCOUNT_LIMIT: i64 = 10;
/// The window for counting an account's wrong codes, from the first of them (seconds).
pub const MFA_WINDOW_SECS: i64 = 15 * 60;
/// How long the second factor stays locked (seconds).
pub const MFA_LOCK_SECS: i64 = 15 * 60;

/// The outcome of a code given for the second factor.
#[derive(Debug)]
pub enum SecondFactor {
    /// Right: the new, verified session's token.
    Verified(String),
    /// Wrong; the person may try again in this session.
    Wrong,
    /// Wrong, and the last allowed in this session, which has ended.
    SessionEnded,
    /// The account's second factor is locked for this many more minutes; the session has
    /// ended.
    Locked(i64),
}

/// Check a TOTP or recovery code for a session that owes its second factor. Wrong codes
/// are counted in the database, per session and per account (see the limits above), in the
/// same transaction as the check; a lock emails the account holder.
pub async fn verify_second_factor(
    state: &AppState,
    s: &session::LoadedSession,
    code: &str,
    request_id: &str,
) -> Result<SecondFactor, AppError> {
    let user_id = s.actor.user_id.as_str();
    let actor = AuditActor {
        user_id: Some(user_id.to_string()),
        label: "web".into(),
        request_id: Some(request_id.to_string()),
    };
    let t = now();
    let mut tx = state.db.begin().await?;
    let row = sqlx::query("SELECT email, totp_secret, totp_last_step, mfa_locked_until FROM users WHERE id = $1 AND totp_enabled_at IS NOT NULL")
        .bind(user_id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::Forbidden)?;
    if let Some(until) = row
        .try_get::<Option<i64>, _>("mfa_locked_until")?
        .filter(|u| *u > t)
    {
        session::destroy(&mut tx, &s.id_hash).await?;
        let detail = json!({"locked_until": until});
        audit::record(
            &mut tx,
            &actor,
            ev("session.mfa_refused_locked", "user", Some(user_id), detail),
        )
        .await?;
        tx.commit().await?;
        return Ok(SecondFactor::Locked((until - t + 59) / 60));
    }
    let secret: String = row.try_get("totp_secret")?;
    let last: Option<i64> = row.try_get("totp_last_step")?;
    let method = if let Some(step) = totp::check(&secret, code, last) {
        sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2")
            .bind(step)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        "totp"
    } else {
        let used = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(t)
            .bind(user_id.to_string())
            .bind(token_hash(&totp::normalise_recovery(code)))
            .execute(&mut *tx)
            .await?;
        if used.rows_affected() == 0 {
            let email: String = row.try_get("email")?;
            let outcome = count_wrong_code(&mut tx, s, &email, &actor, t).await?;
            tx.commit().await?;
            return Ok(outcome);
        }
        "recovery_code"
    };
    sqlx::query("UPDATE users SET mfa_failures = 0, mfa_failures_since = NULL WHERE id = $1")
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    let token = rotate_verified(&mut tx, state, s).await?;
    let detail = json!({"method": method});
    audit::record(
        &mut tx,
        &actor,
        ev("session.mfa_verified", "user", Some(user_id), detail),
    )
    .await?;
    tx.commit().await?;
    Ok(SecondFactor::Verified(token))
}

/// Count a wrong code for the session and the account, inside the caller's transaction;
/// end the session or lock the second factor when a limit is reached.
async fn count_wrong_code(
    tx: &mut Tx,
    s: &session::LoadedSession,
    email: &str,
    actor: &AuditActor,
    t: i64,
) -> Result<SecondFactor, AppError> {
    let user_id = s.actor.user_id.as_str();
    let in_session = session::count_mfa_failure(tx, &s.id_hash)
        .await?
        .unwrap_or(MFA_SESSION_LIMIT);
    // A window starts at the first wrong code; one that has run out starts again.
    let in_account: i64 = sqlx::query(
        "UPDATE users SET \
           mfa_failures = CASE WHEN mfa_failures_since IS NULL OR mfa_failures_since <= $1 THEN 1 ELSE mfa_failures + 1 END, \
           mfa_failures_since = CASE WHEN mfa_failures_since IS NULL OR mfa_failures_since <= $1 THEN $2 ELSE mfa_failures_since END \
         WHERE id = $3 RETURNING mfa_failures",
    )
    .bind(t - MFA_WINDOW_SECS)
    .bind(t)
    .bind(user_id.to_string())
    .fetch_one(&mut **tx)
    .await?
    .try_get("mfa_failures")?;
    let detail = json!({"session_failures": in_session, "account_failures": in_account});
    audit::record(
        tx,
        actor,
        ev("session.mfa_failed", "user", Some(user_id), detail),
    )
    .await?;
    if in_account >= MFA_ACCOUNT_LIMIT {
        lock_second_factor(tx, user_id, email, actor, in_account, t).await?;
        return Ok(SecondFactor::Locked(MFA_LOCK_SECS / 60));
    }
    if in_session >= MFA_SESSION_LIMIT {
        session::destroy(tx, &s.id_hash).await?;
        let detail = json!({"failures": in_session});
        audit::record(
            tx,
            actor,
            ev("session.mfa_session_ended", "user", Some(user_id), detail),
        )
        .await?;
        return Ok(SecondFactor::SessionEnded);
    }
    Ok(SecondFactor::Wrong)
}

/// Lock an account's second factor for [`MFA_LOCK_SECS`], end its half-signed-in sessions,
/// and email and audit it, inside the caller's transaction.
async fn lock_second_factor(
    tx: &mut Tx,
    user_id: &str,
    email: &str,
    actor: &AuditActor,
    in_account: i64,
    t: i64,
) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET mfa_locked_until = $1, mfa_failures = 0, mfa_failures_since = NULL WHERE id = $2")
        .bind(t + MFA_LOCK_SECS)
        .bind(user_id.to_string())
        .execute(&mut **tx)
        .await?;
    let ended = session::destroy_unverified_for(tx, user_id).await?;
    let body = format!(
        "Hello,\n\nSomeone signed in to your Ensemble account with your password, then entered \
         {MFA_ACCOUNT_LIMIT} wrong security codes. To keep your account safe, two-step sign-in is \
         locked for {m} minutes.\n\nIf this was not you, someone may know your password: change it \
         as soon as you can, and tell the administrator of your organisation.\n",
        m = MFA_LOCK_SECS / 60,
    );
    crate::notify::queue_email(tx, email, "Your Ensemble two-step sign-in is locked", &body)
        .await?;
    let detail =
        json!({"failures": in_account, "minutes": MFA_LOCK_SECS / 60, "sessions_ended": ended});
    audit::record(
        tx,
        actor,
        ev("account.mfa_locked", "user", Some(user_id), detail),
    )
    .await?;
    Ok(())
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
