//! The JSON API under `/api/v1`: personal-access-token authentication, the error envelope
//! (`crate::error::ApiError`), a strict JSON extractor, and the OpenAPI 3.1 document generated
//! from the handlers' annotations.

pub mod auth;
pub mod docs;
pub mod tokens;
pub mod v1;

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, AppError, ErrorEnvelope, ErrorItem};

/// JSON body that must parse into `T` (unknown fields refused when `T` says so); errors
/// become a 400 envelope naming the problem and where it is, and a body over the size limit
/// ([`docs::BODY_LIMIT_BYTES`]) a 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError(AppError::BadRequest(
                "Send the body as JSON with the header Content-Type: application/json".into(),
            ))
            .into_response());
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    ApiError(AppError::BadRequest(
                        "The request body could not be read".into(),
                    ))
                    .into_response()
                }
            })?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            ApiError(AppError::BadRequest(format!(
                "The JSON body is not valid: {e}"
            )))
            .into_response()
        })
    }
}

/// 413 in the JSON envelope, code `too_large`.
fn too_large() -> Response {
    let body = ErrorEnvelope {
        errors: vec![ErrorItem {
            code: "too_large".into(),
            detail: format!(
                "The body is larger than the limit of {} MiB: send less",
                docs::BODY_LIMIT_BYTES / (1024 * 1024)
            ),
            field: None,
        }],
    };
    (StatusCode::PAYLOAD_TOO_LARGE, Json(body)).into_response()
}
