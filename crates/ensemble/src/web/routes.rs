//! The route registry. Every route is declared as a [`Route`] with its permission; the
//! router is built only from these declarations (`build`), each wrapped in the
//! [`enforce`] layer, so a route cannot exist without a permission and the policy runs
//! before any handler. Tests read the same declarations to walk every route.

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;

use crate::error::{ApiError, AppError};
use crate::rbac::{Permission, allows};
use crate::state::AppState;

use super::ctx::RequestCtx;

/// Page (HTML, session cookie) or API (JSON, bearer token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Server-rendered page.
    Page,
    /// `/api/v1` JSON.
    Api,
}

/// What a route declares about itself.
#[derive(Debug, Clone, Copy)]
pub struct RouteMeta {
    /// HTTP method.
    pub method: &'static str,
    /// Path pattern, e.g. `/admin/users/{id}`.
    pub path: &'static str,
    /// What the caller needs.
    pub permission: Permission,
    /// Page or API.
    pub kind: Kind,
    /// Token scope required (API only).
    pub scope: Option<&'static str>,
    /// Reachable by a signed-in account that still owes its second factor.
    pub mfa_pending_ok: bool,
    /// How an API route's refusals by the policy (401, 403) are answered, when not with the
    /// JSON error envelope (the FHIR routes answer with an `OperationOutcome`).
    pub api_errors: Option<fn(AppError) -> Response>,
}

/// Marker put on every response that went through [`enforce`]; tests assert it is present.
#[derive(Debug, Clone, Copy)]
pub struct PermissionChecked(pub Permission);

/// A declared route.
pub struct Route {
    /// Its declaration.
    pub meta: RouteMeta,
    handler: MethodRouter<AppState>,
}

impl Route {
    fn new(
        method: &'static str,
        path: &'static str,
        permission: Permission,
        handler: MethodRouter<AppState>,
    ) -> Self {
        let kind = if path.starts_with("/api/") {
            Kind::Api
        } else {
            Kind::Page
        };
        Self {
            meta: RouteMeta {
                method,
                path,
                permission,
                kind,
                scope: None,
                mfa_pending_ok: false,
                api_errors: None,
            },
            handler,
        }
    }

    /// A GET route.
    pub fn get<H, T>(path: &'static str, permission: Permission, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self::new("GET", path, permission, axum::routing::get(handler))
    }

    /// A POST route.
    pub fn post<H, T>(path: &'static str, permission: Permission, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self::new("POST", path, permission, axum::routing::post(handler))
    }

    /// A DELETE route.
    pub fn delete<H, T>(path: &'static str, permission: Permission, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self::new("DELETE", path, permission, axum::routing::delete(handler))
    }

    /// Require this token scope (API routes).
    pub fn scope(mut self, scope: &'static str) -> Self {
        self.meta.scope = Some(scope);
        self
    }

    /// Answer the policy's refusals (401, 403) with `render` instead of the JSON error
    /// envelope (API routes that speak another format, such as FHIR).
    pub fn errors_as(mut self, render: fn(AppError) -> Response) -> Self {
        self.meta.api_errors = Some(render);
        self
    }

    /// Answer the methods this path does not take with `handler` instead of axum's bare 405
    /// (axum still adds the `Allow` header unless the handler sets one).
    pub fn other_methods<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.handler = self.handler.fallback(handler);
        self
    }

    /// Allow while the second factor is still owed (sign-out, MFA set-up and verification).
    pub fn mfa_pending_ok(mut self) -> Self {
        self.meta.mfa_pending_ok = true;
        self
    }
}

/// Build a router from declarations; each gets the [`enforce`] layer.
pub fn build(state: &AppState, routes: Vec<Route>) -> Router<AppState> {
    let mut router = Router::new();
    for r in routes {
        let meta = r.meta;
        let handler = r
            .handler
            .route_layer(from_fn_with_state((state.clone(), meta), enforce));
        router = router.route(meta.path, handler);
    }
    router
}

fn safe_next(path_and_query: &str) -> String {
    let encoded: String =
        serde_urlencoded::to_string([("next", path_and_query)]).unwrap_or_default();
    format!("/sign-in?{encoded}")
}

/// The policy in front of every route.
pub async fn enforce(
    State((state, meta)): State<(AppState, RouteMeta)>,
    mut req: Request,
    next: Next,
) -> Response {
    let denied = match meta.kind {
        Kind::Page => check_page(&req, meta),
        Kind::Api => {
            let headers = req.headers().clone();
            let request_id = req
                .extensions()
                .get::<RequestCtx>()
                .map(|c| c.request_id.clone());
            match crate::api::auth::authenticate(
                &state,
                &headers,
                request_id,
                crate::api::auth::Requirement {
                    permission: meta.permission,
                    scope: meta.scope,
                },
            )
            .await
            {
                Ok(Some(caller)) => {
                    req.extensions_mut().insert(caller);
                    None
                }
                Ok(None) => None,
                Err(e) => Some(match meta.api_errors {
                    Some(render) => render(e),
                    None => ApiError(e).into_response(),
                }),
            }
        }
    };
    let mut resp = match denied {
        Some(resp) => resp,
        None => next.run(req).await,
    };
    resp.extensions_mut()
        .insert(PermissionChecked(meta.permission));
    resp
}

fn check_page(req: &Request, meta: RouteMeta) -> Option<Response> {
    let ctx = req.extensions().get::<RequestCtx>();
    let session = ctx.and_then(|c| c.session.as_ref());
    if meta.permission == Permission::Public {
        return None;
    }
    if let Some(s) = session.filter(|s| !s.mfa_verified) {
        if meta.mfa_pending_ok {
            return None;
        }
        let to = if s.totp_enabled {
            "/sign-in/verify"
        } else {
            "/account/security/totp"
        };
        return Some(Redirect::to(to).into_response());
    }
    let actor = ctx.and_then(RequestCtx::verified_actor);
    let roles = actor.as_ref().map(|a| a.roles()).unwrap_or_default();
    if allows(&roles, actor.is_some(), meta.permission) {
        return None;
    }
    if actor.is_none() {
        if req.method() == Method::GET {
            let pq = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            return Some(Redirect::to(&safe_next(pq)).into_response());
        }
        return Some(AppError::Unauthenticated.into_response());
    }
    Some(AppError::Forbidden.into_response())
}

/// Respond 405 with an Allow header listing nothing more (used by the fallback for methods).
pub fn method_not_allowed() -> Response {
    let mut r = (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    r
}
