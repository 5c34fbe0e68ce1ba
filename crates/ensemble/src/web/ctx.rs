//! Per-request context: the session (if any), the CSRF binding and the request id, put in
//! the request's extensions by `middleware::session` and read by handlers through
//! [`PageCtx`], [`CurrentUser`] and [`Granted`](crate::rbac::Granted).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::auth::csrf;
use crate::auth::session::LoadedSession;
use crate::error::AppError;
use crate::rbac::{Actor, Granted, Perm};
use crate::state::AppState;

/// What the session middleware learned about the request.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    /// The session, verified or waiting for a second factor.
    pub session: Option<LoadedSession>,
    /// Value CSRF tokens are bound to (session token or pre-session cookie).
    pub csrf_binding: String,
    /// Correlation id (also in logs and audit rows).
    pub request_id: String,
    /// Client address, for rate limiting.
    pub client_ip: String,
}

impl RequestCtx {
    /// The signed-in actor, only when the second factor (if needed) has been given.
    pub fn verified_actor(&self) -> Option<Actor> {
        let s = self.session.as_ref().filter(|s| s.mfa_verified)?;
        let mut actor = s.actor.clone();
        actor.request_id = Some(self.request_id.clone());
        Some(actor)
    }
}

/// An API caller authenticated by a personal access token.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The token's owner.
    pub actor: Actor,
    /// Scopes granted to the token.
    pub scopes: Vec<String>,
    /// Token id.
    pub token_id: String,
}

/// Everything a page needs to render its shell.
#[derive(Debug, Clone)]
pub struct PageCtx {
    /// Request context.
    pub req: RequestCtx,
    /// CSRF token for forms on this page.
    pub csrf_token: String,
    /// Request path, to mark the current navigation item.
    pub path: String,
}

impl PageCtx {
    /// The verified signed-in actor.
    pub fn actor(&self) -> Option<Actor> {
        self.req.verified_actor()
    }

    /// Signed in but still owes a second factor.
    pub fn pending_mfa(&self) -> bool {
        self.req.session.as_ref().is_some_and(|s| !s.mfa_verified)
    }

    /// Any session at all (verified or not).
    pub fn has_session(&self) -> bool {
        self.req.session.is_some()
    }
}

fn request_ctx(parts: &Parts) -> Result<RequestCtx, AppError> {
    parts
        .extensions
        .get::<RequestCtx>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("session middleware did not run")))
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let req = request_ctx(parts)?;
        let csrf_token = csrf::token_for(&state.secret, &req.csrf_binding);
        Ok(PageCtx {
            req,
            csrf_token,
            path: parts.uri.path().to_string(),
        })
    }
}

/// The verified signed-in actor (for pages) or the token's owner (for the API).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Actor);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(api) = parts.extensions.get::<ApiCaller>() {
            return Ok(CurrentUser(api.actor.clone()));
        }
        request_ctx(parts)?
            .verified_actor()
            .map(CurrentUser)
            .ok_or(AppError::Unauthenticated)
    }
}

impl<P: Perm> FromRequestParts<AppState> for Granted<P> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(actor) = CurrentUser::from_request_parts(parts, state).await?;
        Ok(Granted::<P>::check(&actor)?)
    }
}
