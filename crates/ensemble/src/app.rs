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

use std::sync::Arc;

use crate::jobs::{Every, JobHandler, JobRegistry, Schedule};
use crate::manifest::Manifest;
use crate::state::AppState;
use crate::web::routes::{self, Route};
use crate::web::{middleware, pages};

/// The platform's own manifest: shared pages, operations endpoints, the `/api/v1` core,
/// email delivery and the session purge.
fn platform() -> Manifest {
    let mut routes = pages::routes();
    routes.extend(crate::ops::routes());
    routes.extend(crate::api::v1::routes());
    Manifest::new("platform", routes)
        .jobs(vec![
            JobHandler::of::<crate::notify::SendEmail>(),
            JobHandler::of::<crate::notify::sms::SendSms>(),
            JobHandler::of::<crate::auth::session::PurgeSessions>(),
        ])
        .schedules(vec![
            Schedule::every::<crate::auth::session::PurgeSessions>(Every::Hour),
        ])
        .private(&["sessions", "api_tokens"])
        .tables(&[
            "settings",
            "sessions",
            "audit_head",
            "audit_log",
            "outbox",
            "jobs",
            "api_tokens",
        ])
}

/// Every manifest: the platform's and each capability module's. Adding a module means
/// adding its `manifest()` here, and nowhere else.
pub fn manifests() -> Vec<Manifest> {
    vec![
        platform(),
        crate::modules::accounts::manifest(),
        crate::modules::places::manifest(),
        crate::modules::areas::manifest(),
        crate::modules::directory::manifest(),
        crate::modules::people::manifest(),
        crate::modules::referrals::manifest(),
        crate::modules::measures::manifest(),
        crate::modules::practice::manifest(),
        crate::modules::programmes::manifest(),
        crate::modules::evaluation::manifest(),
    ]
}

/// Every declared route of the application.
pub fn all_routes() -> Vec<Route> {
    manifests().into_iter().flat_map(|m| m.routes).collect()
}

/// The job registry built from every manifest's jobs and schedules.
pub fn job_registry() -> anyhow::Result<JobRegistry> {
    let mut registry = JobRegistry::default();
    for m in manifests() {
        for job in m.jobs {
            registry.register(job).map_err(anyhow::Error::msg)?;
        }
        for s in m.schedules {
            registry.schedule(s).map_err(anyhow::Error::msg)?;
        }
    }
    Ok(registry)
}

impl AppState {
    /// Build the state for a migrated database, with every module's jobs registered.
    pub async fn new(cfg: crate::config::Config, db: crate::db::Db) -> anyhow::Result<Self> {
        let registry: Arc<dyn std::any::Any + Send + Sync> = Arc::new(job_registry()?);
        let home: Arc<dyn std::any::Any + Send + Sync> = Arc::new(crate::manifest::HomeSections(
            manifests().into_iter().filter_map(|m| m.home).collect(),
        ));
        AppState::assemble(cfg, db, vec![registry, home]).await
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a request handler panicked");
    crate::error::error_response(&crate::error::AppError::Internal(anyhow::anyhow!("panic")))
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
