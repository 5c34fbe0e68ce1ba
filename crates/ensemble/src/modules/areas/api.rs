//! `/api/v1/areas/…`: district summaries of the English Indices of Deprivation (public open
//! data, no token needed).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Edition;
use super::summary::{self, DistrictSummary};
use crate::error::{ApiError, ErrorEnvelope, ErrorItem};
use crate::state::AppState;

/// Query parameters of the district routes.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EditionQuery {
    /// 2019 or 2025 (default: every edition for the list, the installation's edition for one district).
    pub edition: Option<String>,
}

fn problem(status: StatusCode, code: &str, detail: String, field: &str) -> Response {
    let body = ErrorEnvelope {
        errors: vec![ErrorItem {
            code: code.into(),
            detail,
            field: Some(field.into()),
        }],
    };
    (status, Json(body)).into_response()
}

fn edition(q: &EditionQuery) -> Result<Option<Edition>, Box<Response>> {
    q.edition
        .as_deref()
        .map(Edition::parse)
        .transpose()
        .map_err(|e| {
            Box::new(problem(
                StatusCode::BAD_REQUEST,
                "bad_request",
                e,
                "edition",
            ))
        })
}

/// GET /api/v1/areas/districts — every district's summary.
#[utoipa::path(get, path = "/api/v1/areas/districts", tag = "areas", params(EditionQuery),
    responses((status = 200, description = "District summaries computed from the small-area files, by edition then rank (1 = most deprived)", body = [DistrictSummary]),
        (status = 400, description = "The edition is not 2019 or 2025", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable for a moment", body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<EditionQuery>,
) -> Result<Response, ApiError> {
    let e = match edition(&q) {
        Ok(e) => e,
        Err(r) => return Ok(*r),
    };
    Ok(Json(summary::all(&state.db, e).await?).into_response())
}

/// GET /api/v1/areas/districts/{code} — one district's summary for one edition.
#[utoipa::path(get, path = "/api/v1/areas/districts/{code}", tag = "areas",
    params(("code" = String, Path, description = "ONS district code, e.g. E08000012"), EditionQuery),
    responses((status = 200, description = "The district's summary", body = DistrictSummary),
        (status = 400, description = "The edition is not 2019 or 2025", body = ErrorEnvelope),
        (status = 404, description = "No such district in the edition (or the edition is not imported)", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable for a moment", body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<EditionQuery>,
) -> Result<Response, ApiError> {
    let e = match edition(&q) {
        Ok(e) => e.unwrap_or_else(|| installation_edition(&state)),
        Err(r) => return Ok(*r),
    };
    Ok(match summary::district(&state.db, e, &code).await? {
        Some(s) => Json(s).into_response(),
        None => problem(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "No district {:?} in {} (district codes look like E08000012).",
                code.trim(),
                e.label()
            ),
            "code",
        ),
    })
}

/// The edition this installation uses (`ENSEMBLE_IOD_EDITION`).
pub fn installation_edition(state: &AppState) -> Edition {
    Edition::from_year(state.cfg.iod_edition).unwrap_or(Edition::Iod2025)
}
