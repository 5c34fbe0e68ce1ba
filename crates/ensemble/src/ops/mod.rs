//! Operations endpoints: `/healthz` (process up), `/readyz` (database answers) and
//! Prometheus `/metrics`.

pub mod metrics;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::rbac::Permission;
use crate::state::AppState;
use crate::web::routes::Route;

/// Routes for the operations endpoints.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/healthz", Permission::Public, healthz),
        Route::get("/readyz", Permission::Public, readyz),
        Route::get("/metrics", Permission::Public, metrics_page),
    ]
}

async fn healthz() -> Response {
    let mut r = "ok\n".into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Ready when the database answers `SELECT 1` within [`crate::db::READY_TIMEOUT`], so a
/// load balancer sees 503 within a second of an outage, not after the acquire timeout.
async fn readyz(State(state): State<AppState>) -> Response {
    let mut r = match state.db.ping(crate::db::READY_TIMEOUT).await {
        Ok(()) => "ready\n".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let mut r = (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
    };
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Prometheus text format. When `ENSEMBLE_METRICS_TOKEN` is set the scraper must send it as
/// a bearer token.
async fn metrics_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = state.cfg.metrics_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !crate::auth::secret::constant_time_eq(given, expected) {
            return (StatusCode::UNAUTHORIZED, "metrics token required\n").into_response();
        }
    }
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}
