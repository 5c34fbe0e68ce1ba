//! The web-boundary error: one type that services return and that renders as a styled
//! HTML page for pages, or as the JSON envelope `{"errors":[{"code","detail"}]}` for the API
//! (wrap in [`ApiError`]). Internal causes are logged once here and never shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One problem with one field of a form or API body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The form field or JSON pointer it concerns.
    pub field: String,
    /// What is wrong, in plain English.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Errors that reach a handler's boundary.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input was malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// Input was well-formed but invalid (422 for the API; forms re-render instead).
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// Not signed in (pages redirect to sign-in; API answers 401).
    #[error("you need to sign in")]
    Unauthenticated,
    /// The policy refused (403).
    #[error("you do not have permission to do this")]
    Forbidden,
    /// No such thing (404).
    #[error("page not found")]
    NotFound,
    /// Clashes with what is stored (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// The database could not be reached in time (503 with `Retry-After`): a transient
    /// fault, never a refusal. Logged, never shown.
    #[error("the database is unavailable")]
    Unavailable(anyhow::Error),
    /// Anything else (500). Logged, never shown.
    #[error("internal error")]
    Internal(anyhow::Error),
}

/// Seconds a client is asked to wait (`Retry-After`) when the database is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 30;

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            AppError::Unavailable(e.into())
        } else {
            AppError::Internal(e.into())
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        if crate::db::chain_is_unavailable(&e) {
            AppError::Unavailable(e)
        } else {
            AppError::Internal(e)
        }
    }
}

impl From<crate::rbac::Denied> for AppError {
    fn from(_: crate::rbac::Denied) -> Self {
        AppError::Forbidden
    }
}

impl AppError {
    /// HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Invalid(_) => "invalid",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// Log the cause once (never shown to the client).
    pub fn log(&self) {
        match self {
            AppError::Internal(e) => tracing::error!(error = %format!("{e:#}"), "internal error"),
            AppError::Unavailable(e) => {
                tracing::warn!(error = %format!("{e:#}"), "database unavailable")
            }
            _ => {}
        }
    }

    /// Is this the transient "database unavailable" fault?
    pub fn is_unavailable(&self) -> bool {
        matches!(self, AppError::Unavailable(_))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        error_response(&self)
    }
}

/// Error details carried on a response until `render_errors` draws the page.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// The page heading.
    pub title: &'static str,
    /// What happened and what to do.
    pub detail: String,
}

fn error_content(err: &AppError) -> ErrorPage {
    let (title, detail) = match err {
        AppError::BadRequest(msg) => ("There is a problem with your request", msg.clone()),
        AppError::Invalid(fields) => (
            "There is a problem with your request",
            fields.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join(" "),
        ),
        AppError::Unauthenticated => (
            "You need to sign in",
            "Your session may have ended. Sign in again to continue.".into(),
        ),
        AppError::Forbidden => (
            "You do not have permission to see this page",
            "Your account does not give you access to this page. If you think it should, ask an administrator of your organisation.".into(),
        ),
        AppError::NotFound => (
            "Page not found",
            "If you typed the web address, check it is correct. If you pasted the web address, check you copied the entire address.".into(),
        ),
        AppError::Conflict(msg) => ("This clashes with something already saved", msg.clone()),
        AppError::TooManyRequests(msg) => ("Too many attempts", msg.clone()),
        AppError::Unavailable(_) => (
            "Ensemble is having trouble reaching its database",
            "Nothing you typed was saved. Please try again in a minute.".into(),
        ),
        AppError::Internal(_) => (
            "Sorry, there is a problem with the service",
            "Try again later. Nothing you entered has been half-saved: the change was not made. The problem has been logged.".into(),
        ),
    };
    ErrorPage { title, detail }
}

/// A bare error response; `render_errors` turns it into a full page.
pub fn error_response(err: &AppError) -> Response {
    let mut resp = err.status().into_response();
    if matches!(err, AppError::Unauthenticated) {
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
    }
    if err.is_unavailable() {
        set_retry_after(&mut resp);
    }
    resp.extensions_mut().insert(error_content(err));
    resp
}

/// `Retry-After: RETRY_AFTER_SECONDS`, for answers to a transient fault.
pub fn set_retry_after(resp: &mut Response) {
    resp.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(RETRY_AFTER_SECONDS),
    );
}

/// The response for a form posted without a valid CSRF token.
pub fn csrf_failure_response() -> Response {
    let mut resp = StatusCode::FORBIDDEN.into_response();
    resp.extensions_mut().insert(ErrorPage {
        title: "This form has expired",
        detail: "For your security, forms only work for a while and only from this site. Go back, reload the page and try again.".into(),
    });
    resp
}

/// The JSON error envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    /// One entry per problem.
    pub errors: Vec<ErrorItem>,
}

/// One problem in the envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorItem {
    /// Stable code, e.g. `invalid`, `forbidden`.
    pub code: String,
    /// Plain-English detail.
    pub detail: String,
    /// The field concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An [`AppError`] rendered as the API's JSON envelope.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = self.0.status();
        let errors = match &self.0 {
            AppError::Invalid(fields) => fields
                .iter()
                .map(|f| ErrorItem {
                    code: "invalid".into(),
                    detail: f.message.clone(),
                    field: Some(f.field.clone()),
                })
                .collect(),
            AppError::Unavailable(_) => vec![ErrorItem {
                code: "unavailable".into(),
                detail: "The database is unavailable for a moment. Nothing was changed; send the request again after the number of seconds in Retry-After.".into(),
                field: None,
            }],
            AppError::Internal(_) => vec![ErrorItem {
                code: "internal".into(),
                detail: "Something went wrong on our side. It has been logged.".into(),
                field: None,
            }],
            other => vec![ErrorItem {
                code: other.code().into(),
                detail: other.to_string(),
                field: None,
            }],
        };
        let mut resp = (status, Json(ErrorEnvelope { errors })).into_response();
        if self.0.is_unavailable() {
            set_retry_after(&mut resp);
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"ensemble\""),
            );
        }
        resp
    }
}
