//! Assemble the router from every module's declared routes and wrap it in the platform's
//! middleware. Order (outermost first): request id → tracing → security
//! headers → metrics → session → error pages → CSRF → panic catcher → route policy
//! (`enforce`) → handler.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::middleware::from_fn_with_state;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::web::routes::{self, Route};
use crate::web::{middleware, pages};

/// Every declared route of the application.
pub fn all_routes() -> Vec<Route> {
    let mut r = Vec::new();
    r.extend(pages::routes());
    r.extend(crate::ops::routes());
    r.extend(crate::modules::accounts::routes());
    r.extend(crate::modules::directory::routes());
    r.extend(crate::modules::people::routes());
    r.extend(crate::modules::referrals::routes());
    r.extend(crate::modules::measures::routes());
    r.extend(crate::modules::practice::routes());
    r.extend(crate::api::v1::routes());
    r
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a request handler panicked");
    crate::web::pages::error_response(&crate::error::AppError::Internal(anyhow::anyhow!("panic")))
}

/// Build the application.
pub fn build_router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    routes::build(&state, all_routes())
        .fallback(pages::not_found)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn_with_state(state.clone(), middleware::csrf_layer))
        .layer(from_fn_with_state(state.clone(), pages::render_errors))
        .layer(from_fn_with_state(state.clone(), middleware::session_layer))
        .layer(from_fn_with_state(state.clone(), middleware::metrics_layer))
        .layer(from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    // Route pattern only: raw paths can carry tokens (invitation links).
                    let route = req
                        .extensions()
                        .get::<axum::extract::MatchedPath>()
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_default();
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    tracing::info_span!("request", method = %req.method(), route = %route, request_id = %id)
                })
                .on_request(())
                .on_response(|resp: &axum::response::Response, latency: Duration, _span: &tracing::Span| {
                    // Access lines at debug (ENSEMBLE_LOG=debug); failures always.
                    let status = resp.status().as_u16();
                    let ms = latency.as_millis() as u64;
                    if status >= 500 {
                        tracing::warn!(status, latency_ms = ms, "response");
                    } else {
                        tracing::debug!(status, latency_ms = ms, "response");
                    }
                }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
