//! Server-side sessions. The cookie holds a random token; the database holds only its hash,
//! with idle and absolute expiry. A new token is issued at every sign-in; sign-out deletes
//! the row, so the cookie is dead everywhere at once.

use sqlx::Row;

use crate::config::Config;
use crate::db::{Db, Tx, now};
use crate::rbac::{Actor, Role};

use super::secret::{random_token, token_hash};

/// Name of the session cookie.
pub const COOKIE: &str = "ensemble_session";

/// `last_seen_at` is written at most this often (seconds), so that a busy signed-in page
/// is not a write per request; idle expiry is therefore accurate to within this.
pub const TOUCH_INTERVAL: i64 = 60;

/// A live session and its account.
#[derive(Debug, Clone)]
pub struct LoadedSession {
    /// Hash of the cookie token (the row key).
    pub id_hash: String,
    /// The raw token (binds CSRF tokens).
    pub token: String,
    /// Has the second factor been given (or is none needed)?
    pub mfa_verified: bool,
    /// Does the account have TOTP set up?
    pub totp_enabled: bool,
    /// The account as the policy sees it.
    pub actor: Actor,
    last_seen_at: i64,
}

/// Start a session for `user_id` inside `tx`; returns the cookie token.
pub async fn create(
    tx: &mut Tx,
    user_id: &str,
    mfa_verified: bool,
    cfg: &Config,
) -> Result<String, sqlx::Error> {
    let token = random_token(32);
    let t = now();
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, mfa_verified) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(user_id.to_string())
    .bind(t)
    .bind(t)
    .bind(t + cfg.session_absolute.as_secs() as i64)
    .bind(i64::from(mfa_verified))
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// Find the live session for a cookie token, with its account and memberships. Expired
/// sessions and disabled accounts give `None`.
pub async fn load(
    db: &Db,
    token: &str,
    cfg: &Config,
) -> Result<Option<LoadedSession>, sqlx::Error> {
    if token.len() != 43 {
        return Ok(None);
    }
    let id_hash = token_hash(token);
    let t = now();
    let Some(row) = sqlx::query(
        "SELECT s.user_id, s.last_seen_at, s.expires_at, s.mfa_verified, u.email, u.display_name, \
         u.disabled_at, u.totp_enabled_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
    )
    .bind(id_hash.clone())
    .fetch_optional(&db.read)
    .await?
    else {
        return Ok(None);
    };
    let last_seen_at: i64 = row.try_get("last_seen_at")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let disabled_at: Option<i64> = row.try_get("disabled_at")?;
    if expires_at <= t
        || last_seen_at + cfg.session_idle.as_secs() as i64 <= t
        || disabled_at.is_some()
    {
        return Ok(None);
    }
    let user_id: String = row.try_get("user_id")?;
    let memberships = memberships_of(db, &user_id).await?;
    let totp_enabled_at: Option<i64> = row.try_get("totp_enabled_at")?;
    Ok(Some(LoadedSession {
        id_hash,
        token: token.to_string(),
        mfa_verified: row.try_get::<i64, _>("mfa_verified")? != 0,
        totp_enabled: totp_enabled_at.is_some(),
        actor: Actor {
            user_id,
            display_name: row.try_get("display_name")?,
            email: row.try_get("email")?,
            memberships,
            request_id: None,
            channel: "web",
        },
        last_seen_at,
    }))
}

/// (organisation id, organisation name, role) for each of an account's memberships.
pub async fn memberships_of(
    db: &Db,
    user_id: &str,
) -> Result<Vec<(String, String, Role)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT m.organisation_id, o.name, m.role FROM memberships m \
         JOIN organisations o ON o.id = m.organisation_id \
         WHERE m.user_id = $1 AND o.archived_at IS NULL ORDER BY o.name, m.role",
    )
    .bind(user_id.to_string())
    .fetch_all(&db.read)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let role: String = r.try_get("role")?;
        if let Some(role) = Role::from_code(&role) {
            out.push((r.try_get("organisation_id")?, r.try_get("name")?, role));
        }
    }
    Ok(out)
}

/// Record activity (rate-limited to one write per [`TOUCH_INTERVAL`]).
pub async fn touch(db: &Db, session: &LoadedSession) -> Result<(), sqlx::Error> {
    let t = now();
    if t - session.last_seen_at < TOUCH_INTERVAL {
        return Ok(());
    }
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(t)
        .bind(session.id_hash.clone())
        .execute(&db.write)
        .await?;
    Ok(())
}

/// End a session.
pub async fn destroy(tx: &mut Tx, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Count one more wrong second-factor code in a session; returns the session's count, or
/// `None` when the session has gone.
pub async fn count_mfa_failure(tx: &mut Tx, id_hash: &str) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE sessions SET mfa_failures = mfa_failures + 1 WHERE id_hash = $1 RETURNING mfa_failures",
    )
    .bind(id_hash.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| r.try_get::<i64, _>("mfa_failures")).transpose()
}

/// End every session of an account that still owes its second factor (when the second
/// factor is locked); returns how many ended.
pub async fn destroy_unverified_for(tx: &mut Tx, user_id: &str) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND mfa_verified = 0")
        .bind(user_id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// End every session of an account except the one whose hash is `keep` (after a password
/// change in that session); returns how many ended.
pub async fn destroy_others(tx: &mut Tx, user_id: &str, keep: &str) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id.to_string())
            .bind(keep.to_string())
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    )
}

/// End every session of an account (disable, password change).
pub async fn destroy_all_for(tx: &mut Tx, user_id: &str) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// The hourly job that deletes expired sessions.
pub struct PurgeSessions;

impl crate::jobs::JobKind for PurgeSessions {
    const KIND: &'static str = "purge_sessions";
    type Payload = ();

    async fn run(state: &crate::state::AppState, (): ()) -> anyhow::Result<()> {
        let n = purge_expired(&state.db, &state.cfg).await?;
        tracing::info!(sessions.purged = n, "purged expired sessions");
        Ok(())
    }
}

/// Delete expired sessions (a periodic job).
pub async fn purge_expired(db: &Db, cfg: &Config) -> Result<u64, sqlx::Error> {
    let t = now();
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(t)
        .bind(t - cfg.session_idle.as_secs() as i64)
        .execute(&db.write)
        .await?;
    Ok(r.rows_affected())
}
