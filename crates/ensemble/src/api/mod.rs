//! The JSON API under `/api/v1`: personal-access-token authentication, the error envelope
//! (`crate::error::ApiError`), a strict JSON extractor, and the OpenAPI 3.1 document generated
//! from the handlers' annotations.

pub mod auth;
pub mod tokens;
pub mod v1;

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, AppError};

/// JSON body that must parse into `T` (unknown fields refused when `T` says so); errors
/// become a 400 envelope naming the problem and where it is.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError(AppError::BadRequest(
                "Send the body as JSON with the header Content-Type: application/json".into(),
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| {
                ApiError(AppError::BadRequest(
                    "The request body could not be read (too large?)".into(),
                ))
            })?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            ApiError(AppError::BadRequest(format!(
                "The JSON body is not valid: {e}"
            )))
        })
    }
}
