//! Pieces of the OpenAPI document that many `/api/v1` operations share: the error answers
//! in the JSON envelope, with their headers (`WWW-Authenticate` on 401, `Retry-After` on
//! 503), as `utoipa::IntoResponses` sets an operation lists in its `responses(…)`.
//! Modules that answer in another format (FHIR) build their own sets with [`response`].

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Type};

/// The size limit on a request body, in bytes (axum's default, which the router keeps).
pub const BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;

/// A response with `description`, whose body is `schema` (a component name) as
/// `content_type`.
pub fn response(description: &str, content_type: &str, schema: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        content_type,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(schema)))
            .build(),
    )
}

/// The `WWW-Authenticate` header of a 401.
pub fn www_authenticate(response: ResponseBuilder) -> ResponseBuilder {
    response.header(
        "WWW-Authenticate",
        HeaderBuilder::new()
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new().schema_type(Type::String),
            ))
            .description(Some("`Bearer realm=\"ensemble\"`"))
            .build(),
    )
}

/// The `Retry-After` header of a 503: whole seconds to wait before trying again.
pub fn retry_after(response: ResponseBuilder) -> ResponseBuilder {
    response.header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            ))
            .description(Some("Seconds to wait before trying again"))
            .build(),
    )
}

/// An error answer in the JSON envelope.
pub fn envelope(description: &str) -> ResponseBuilder {
    response(description, "application/json", "ErrorEnvelope")
}

fn set(items: Vec<(&str, ResponseBuilder)>) -> BTreeMap<String, RefOr<Response>> {
    items
        .into_iter()
        .map(|(status, r)| (status.to_string(), RefOr::T(r.build())))
        .collect()
}

/// What every `/api/v1` operation behind a token may answer besides its own results: 401
/// (no live token), 403 (the token lacks the scope, or its owner the permission) and 503
/// (the database is unavailable for now; try again after `Retry-After` seconds), in the
/// JSON envelope.
pub struct TokenErrors;

impl utoipa::IntoResponses for TokenErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![
            (
                "401",
                www_authenticate(envelope(
                    "No live token: send `Authorization: Bearer ens_…` with a token that is not revoked or expired",
                )),
            ),
            (
                "403",
                envelope(
                    "The token lacks this operation's scope, or its owner the permission (or may not see this record)",
                ),
            ),
            (
                "503",
                retry_after(envelope(
                    "The database is unavailable for now: try again after `Retry-After` seconds",
                )),
            ),
        ])
    }
}

/// What an operation taking a JSON body may answer about the body itself: 400 (not JSON,
/// the wrong content type, an unknown field, the wrong shape) and 413 (larger than
/// [`BODY_LIMIT_BYTES`]), in the JSON envelope.
pub struct JsonBodyErrors;

impl utoipa::IntoResponses for JsonBodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![
            (
                "400",
                envelope(
                    "The body is not JSON of this shape, or is not sent as `Content-Type: application/json`: the detail names the problem and where",
                ),
            ),
            ("413", envelope("The body is larger than 2 MiB")),
        ])
    }
}
