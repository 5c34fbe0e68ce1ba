//! The measures API: instrument definitions, submitting a completed instrument, and a
//! person's scores.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::definition::Answer;
use super::service::{self, InstrumentSummary, Mode, NewResponse, ScoreRow};
use crate::api::ApiJson;
use crate::api::docs::{JsonBodyErrors, TokenErrors};
use crate::error::{ApiError, AppError, FieldError};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;

/// An instrument with its full definition (licensed instruments carry no wording).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstrumentOut {
    #[serde(flatten)]
    pub summary: InstrumentSummary,
    /// The definition in the format of docs/INSTRUMENTS.md.
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
}

/// Every usable instrument: the built-in library and approved co-designed instruments.
#[utoipa::path(get, path = "/api/v1/instruments", tag = "measures", security(("token" = [])),
    responses((status = 200, description = "Every usable instrument with its definition", body = [InstrumentOut]), TokenErrors))]
pub async fn list_instruments(
    State(state): State<AppState>,
) -> Result<Json<Vec<InstrumentOut>>, ApiError> {
    let mut out = Vec::new();
    for s in service::list(&state).await? {
        let d = service::definition(&state.db.read, &s.id, Some(s.version)).await?;
        out.push(InstrumentOut {
            definition: serde_json::to_value(&d).map_err(|e| AppError::Internal(e.into()))?,
            summary: s,
        });
    }
    Ok(Json(out))
}

/// A completed instrument.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitIn {
    pub person_id: String,
    /// Instrument id, e.g. `ons4`.
    pub instrument: String,
    /// The version answered; when given it must be usable.
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default)]
    pub referral_id: Option<String>,
    /// `with_practitioner` (default) or `paper`. A licensed instrument whose wording the
    /// person's organisations have not uploaded can only be entered from `paper`.
    #[serde(default)]
    #[schema(value_type = Option<ApiMode>)]
    pub mode: Option<String>,
    /// Answers by item id: numbers, or text for free-text items.
    pub answers: BTreeMap<String, Answer>,
}

/// The modes a response can be entered in through the API (`self` is refused: people
/// complete their own check-ins on `/check-ins`). Documents `SubmitIn::mode`, which is read
/// as text so that another value is refused naming the field.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiMode {
    /// Entered with the person (the default).
    WithPractitioner,
    /// Keyed from a paper form.
    Paper,
}

/// How a response was completed, as scores report it (`Mode::code`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub enum ModeCode {
    /// By the person on their own device.
    #[serde(rename = "self")]
    SelfReport,
    /// With a practitioner or link worker.
    #[serde(rename = "with_practitioner")]
    WithPractitioner,
    /// Keyed from paper.
    #[serde(rename = "paper")]
    Paper,
}

/// One computed score (`definition::Score`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScoreOut {
    /// The score's id in the definition.
    pub id: String,
    /// Its label.
    pub label: String,
    /// Its value.
    pub value: f64,
    /// The band it falls in, when the score has bands.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub band: Option<String>,
}

/// The stored response with its scores.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubmitOut {
    pub id: String,
    pub instrument: String,
    pub version: u32,
    /// One per score worked out (for ONS4, one per question answered).
    #[schema(value_type = Vec<ScoreOut>)]
    pub scores: Vec<super::definition::Score>,
}

/// Submit a completed instrument for a person you may see; answers are checked against the
/// scales and the missing-item rules, scored, and stored with the version.
#[utoipa::path(post, path = "/api/v1/measures/responses", tag = "measures", security(("token" = [])),
    request_body = SubmitIn,
    responses((status = 201, description = "Stored: the response id with its scores", body = SubmitOut), JsonBodyErrors, TokenErrors,
              (status = 404, description = "No such person", body = crate::error::ErrorEnvelope),
              (status = 422, description = "Refused whole: each problem named in `field` (`answers.<item id>`, `instrument`, `referral_id`, `mode`)", body = crate::error::ErrorEnvelope)))]
pub async fn submit_response(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ApiJson(b): ApiJson<SubmitIn>,
) -> Result<Response, ApiError> {
    let mode = api_mode(b.mode.as_deref())?;
    let (id, def, scores) = service::submit(
        &state,
        &actor,
        NewResponse {
            person_id: b.person_id,
            instrument_id: b.instrument,
            referral_id: b.referral_id,
            schedule_id: None,
            mode,
            double_entry: false,
            easy_read: false,
            one_per_page: false,
        },
        b.version,
        b.answers,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SubmitOut {
            id,
            instrument: def.id,
            version: def.version,
            scores,
        }),
    )
        .into_response())
}

/// The mode a response through the API is entered in: with a practitioner (the default) or
/// from paper; people complete their own check-ins on the pages.
fn api_mode(mode: Option<&str>) -> Result<Mode, AppError> {
    Ok(match mode {
        None => Mode::WithPractitioner,
        Some(m) => match Mode::from_code(m) {
            Some(Mode::SelfReport) | None => {
                return Err(AppError::Invalid(vec![FieldError::new(
                    "mode",
                    "must be with_practitioner or paper (people complete their own check-ins on /check-ins)",
                )]));
            }
            Some(mode) => mode,
        },
    })
}

/// A person's scores, newest first: for their care team, the provider of an open referral,
/// and the person themselves. Every call is audited.
#[utoipa::path(get, path = "/api/v1/people/{id}/scores", tag = "measures", security(("token" = [])),
    params(("id" = String, Path, description = "Pseudonymous person id")),
    responses((status = 200, description = "Every completed score, newest first", body = [ScoreRow]), TokenErrors,
              (status = 404, description = "No such person", body = crate::error::ErrorEnvelope)))]
pub async fn person_scores(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<ScoreRow>>, ApiError> {
    Ok(Json(service::person_scores(&state, &actor, &id).await?))
}
