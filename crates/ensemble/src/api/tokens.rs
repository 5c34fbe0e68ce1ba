//! Personal API tokens as credentials: the `api_tokens` table. Only this file reads or
//! writes it; `accounts` creates, lists and revokes tokens through these functions (and
//! audits them), and `api::auth` checks them on every request.

use sqlx::{AnyPool, Row};

use crate::db::Tx;

/// A stored API token.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRow {
    /// Id.
    pub id: String,
    /// Owner's label.
    pub name: String,
    /// First characters, to recognise it.
    pub token_prefix: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// Unix seconds.
    pub last_used_at: Option<i64>,
    /// Unix seconds.
    pub revoked_at: Option<i64>,
}

/// An account's tokens, newest first.
pub async fn list(pool: &AnyPool, user_id: &str) -> Result<Vec<TokenRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, name, token_prefix, scopes, created_at, expires_at, last_used_at, revoked_at \
         FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(user_id.to_string())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TokenRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                token_prefix: r.try_get("token_prefix")?,
                scopes: r.try_get("scopes")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
                last_used_at: r.try_get("last_used_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// A new token's stored form (the secret itself is never stored, only its hash).
pub struct NewToken<'a> {
    /// Id.
    pub id: &'a str,
    /// Owner.
    pub user_id: &'a str,
    /// Owner's label.
    pub name: &'a str,
    /// First characters of the token.
    pub token_prefix: &'a str,
    /// SHA-256 of the token.
    pub token_hash: &'a str,
    /// Space-separated scopes.
    pub scopes: &'a str,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, or never.
    pub expires_at: Option<i64>,
}

/// Store a new token inside the caller's transaction.
pub async fn insert(tx: &mut Tx, t: &NewToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, token_prefix, token_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(t.id.to_string())
    .bind(t.user_id.to_string())
    .bind(t.name.to_string())
    .bind(t.token_prefix.to_string())
    .bind(t.token_hash.to_string())
    .bind(t.scopes.to_string())
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Revoke one of an account's live tokens; false when there is no such live token.
pub async fn revoke(tx: &mut Tx, id: &str, user_id: &str, at: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(id.to_string())
    .bind(user_id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() > 0)
}
