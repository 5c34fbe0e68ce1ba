//! Bearer-token authentication for `/api/v1`. Tokens look like `ens_…`; only their SHA-256
//! is stored. A request passes when the token is live, its owner is enabled, the token
//! carries the route's scope, and the policy allows the owner the route's permission.

use axum::http::{HeaderMap, header};
use sqlx::Row;

use crate::auth::secret::token_hash;
use crate::auth::session::memberships_of;
use crate::db::now;
use crate::error::AppError;
use crate::rbac::{Actor, Permission, allows};
use crate::state::AppState;
use crate::web::ctx::ApiCaller;

/// What an API route asks of its caller: a permission and, optionally, a token scope.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// The route's permission.
    pub permission: Permission,
    /// The token scope it needs, if any.
    pub scope: Option<&'static str>,
}

/// Authenticate and authorise an API request for a route. `Ok(None)` for public routes.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    request_id: Option<String>,
    meta: Requirement,
) -> Result<Option<ApiCaller>, AppError> {
    if meta.permission == Permission::Public {
        return Ok(None);
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.starts_with("ens_"))
        .ok_or(AppError::Unauthenticated)?;
    let t = now();
    let row = sqlx::query(
        "SELECT k.id, k.user_id, k.scopes, k.last_used_at, u.email, u.display_name FROM api_tokens k \
         JOIN users u ON u.id = k.user_id \
         WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2) \
         AND u.disabled_at IS NULL",
    )
    .bind(token_hash(token))
    .bind(t)
    .fetch_optional(&state.db.read)
    .await?
    .ok_or(AppError::Unauthenticated)?;
    let user_id: String = row.try_get("user_id")?;
    let scopes: Vec<String> = row
        .try_get::<String, _>("scopes")?
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let actor = Actor {
        memberships: memberships_of(&state.db, &user_id).await?,
        user_id,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        request_id,
        channel: "api",
    };
    if let Some(scope) = meta.scope
        && !scopes.iter().any(|s| s == scope)
    {
        return Err(AppError::Forbidden);
    }
    if !allows(&actor.roles(), true, meta.permission) {
        return Err(AppError::Forbidden);
    }
    let token_id: String = row.try_get("id")?;
    let last_used: Option<i64> = row.try_get("last_used_at")?;
    if last_used.is_none_or(|l| t - l >= 60) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(t)
            .bind(token_id.clone())
            .execute(&state.db.write)
            .await?;
    }
    Ok(Some(ApiCaller {
        actor,
        scopes,
        token_id,
    }))
}
