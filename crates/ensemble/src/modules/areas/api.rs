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
#[utoipa::path(get, path = "/api/v1/areas/districts", tag = "areas", operation_id = "list_districts", params(EditionQuery),
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
#[utoipa::path(get, path = "/api/v1/areas/districts/{code}", tag = "areas", operation_id = "get_district",
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

/// One small area's deprivation figures in one edition.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LsoaOut {
    /// 2019 or 2025.
    pub edition: i64,
    /// LSOA code of the edition's geography (2011 for 2019, 2021 for 2025).
    pub code: String,
    pub name: String,
    pub district_code: String,
    pub district_name: String,
    /// Best-fit ward of the edition's lookup.
    pub ward_code: Option<String>,
    pub ward_name: Option<String>,
    pub imd_score: Option<f64>,
    /// National rank, 1 = most deprived.
    pub imd_rank: Option<i64>,
    /// National decile, 1 = most deprived 10%.
    pub imd_decile: Option<i64>,
    pub population: Option<i64>,
}

/// GET /api/v1/areas/lsoas/{code} — one small area's IMD figures for one edition.
#[utoipa::path(get, path = "/api/v1/areas/lsoas/{code}", tag = "areas", operation_id = "get_lsoa",
    params(("code" = String, Path, description = "LSOA code of the edition's geography: LSOA 2011 for 2019, LSOA 2021 for 2025, e.g. E01006512"), EditionQuery),
    responses((status = 200, description = "The small area's figures", body = LsoaOut),
        (status = 400, description = "The edition is not 2019 or 2025", body = ErrorEnvelope),
        (status = 404, description = "No such small area in the edition; code `wrong_geography` when the code is of the other edition's geography, naming its match(es) through the ONS lookup", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable for a moment", body = ErrorEnvelope)))]
pub async fn get_lsoa(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<EditionQuery>,
) -> Result<Response, ApiError> {
    let e = match edition(&q) {
        Ok(e) => e.unwrap_or_else(|| installation_edition(&state)),
        Err(r) => return Ok(*r),
    };
    Ok(match super::profiles::lsoa(&state, e, &code).await? {
        Some(l) => Json(LsoaOut::of(e, l)).into_response(),
        None => lsoa_missing(&state, e, &code).await?,
    })
}

impl LsoaOut {
    fn of(e: Edition, l: super::profiles::LsoaProfile) -> LsoaOut {
        LsoaOut {
            edition: e.year(),
            ward_code: l.ward.as_ref().map(|w| w.0.clone()),
            ward_name: l.ward.as_ref().map(|w| w.1.clone()),
            code: l.code,
            name: l.name,
            district_code: l.district_code,
            district_name: l.district_name,
            imd_score: l.imd_score,
            imd_rank: l.imd_rank,
            imd_decile: l.imd_decile,
            population: l.population,
        }
    }
}

/// The 404 for a small area not in the edition: `wrong_geography` (naming the matches)
/// when the code is of the other edition's geography, else `not_found`.
async fn lsoa_missing(state: &AppState, e: Edition, code: &str) -> Result<Response, sqlx::Error> {
    Ok(
        match super::lsoa_codes::wrong_geography(&state.db, e, code).await? {
            Some(w) => problem(
                StatusCode::NOT_FOUND,
                "wrong_geography",
                w.message(),
                "code",
            ),
            None => problem(
                StatusCode::NOT_FOUND,
                "not_found",
                format!(
                    "No small area {:?} in {} ({} codes look like E01006512).",
                    code.trim(),
                    e.label(),
                    e.geography()
                ),
                "code",
            ),
        },
    )
}

/// The edition this installation uses (`ENSEMBLE_IOD_EDITION`).
pub fn installation_edition(state: &AppState) -> Edition {
    Edition::from_year(state.cfg.iod_edition).unwrap_or(Edition::Iod2025)
}

/// The cold-spot ranking of an edition for some filters.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ColdSpotsOut {
    /// 2019 or 2025.
    pub edition: i64,
    /// The filters every nearest activity meets (empty = any listed activity).
    pub filters: Vec<String>,
    /// The ordering rule, in words.
    pub order: String,
    /// The sphere radius of the haversine distances, in km.
    pub earth_radius_km: f64,
    /// Every LSOA of the city region, coldest first.
    pub rows: Vec<super::provision::ColdSpot>,
}

/// GET /api/v1/areas/cold-spots — every city-region LSOA's distance to the nearest listed
/// activity meeting the filters, ranked.
#[utoipa::path(get, path = "/api/v1/areas/cold-spots", tag = "areas", params(super::provision_html::AreaQuery),
    responses((status = 200, description = "Every LSOA of the city region: most deprived decile first, then furthest (none qualifying = furthest), then IMD rank, then LSOA code", body = ColdSpotsOut),
        (status = 400, description = "The edition is not 2019 or 2025, or a filter is unknown", body = ErrorEnvelope),
        (status = 503, description = "The database is unavailable for a moment", body = ErrorEnvelope)))]
pub async fn cold_spots(
    State(state): State<AppState>,
    Query(q): Query<super::provision_html::AreaQuery>,
) -> Result<Response, ApiError> {
    use super::provision;
    let e = match provision::parse_edition(&state, q.edition.as_deref()) {
        Ok(e) => e,
        Err(m) => {
            return Ok(problem(
                StatusCode::BAD_REQUEST,
                "bad_request",
                m,
                "edition",
            ));
        }
    };
    let filters = match provision::parse_filters(q.filter.as_deref()) {
        Ok(f) => f,
        Err(m) => return Ok(problem(StatusCode::BAD_REQUEST, "bad_request", m, "filter")),
    };
    let rows = provision::ranked(&state, e, &filters).await?;
    Ok(Json(ColdSpotsOut {
        edition: e.year(),
        filters: filters.iter().map(|f| f.code().to_string()).collect(),
        order: "imd_decile ascending, distance_km descending (no qualifying activity = furthest), imd_rank ascending, lsoa_code ascending".into(),
        earth_radius_km: provision::EARTH_RADIUS_KM,
        rows,
    })
    .into_response())
}
