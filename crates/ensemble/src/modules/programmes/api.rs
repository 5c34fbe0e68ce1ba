//! `/api/v1/programmes`: the token owner's programmes, one programme's members' view, and
//! the public board.

use axum::Json;
use axum::extract::{Path, State};

use super::actions::{self, BoardItem};
use super::service::{self, LinkedActivity, MemberRow, Partner, ProgrammeSummary};
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;

/// One programme as its members see it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProgrammeOut {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub lead_organisation: String,
    pub partners: Vec<Partner>,
    pub activities: Vec<LinkedActivity>,
    pub members: Vec<MemberRow>,
    pub board: Vec<BoardItem>,
}

/// GET /api/v1/programmes — the programmes the token's owner is a member or manager of.
#[utoipa::path(get, path = "/api/v1/programmes", tag = "programmes", security(("token" = [])),
    responses((status = 200, description = "Your programmes, by name", body = [ProgrammeSummary]),
        crate::api::docs::TokenErrors))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<Json<Vec<ProgrammeSummary>>, ApiError> {
    Ok(Json(service::mine(&state, &actor).await?))
}

/// GET /api/v1/programmes/{id} — partners, activities, members and the board (its first
/// page: the 50 actions due soonest), for members.
#[utoipa::path(get, path = "/api/v1/programmes/{id}", tag = "programmes", security(("token" = [])),
    params(("id" = String, Path, description = "Programme id")),
    responses((status = 200, description = "The programme as its members see it", body = ProgrammeOut),
        (status = 404, description = "No such programme", body = crate::error::ErrorEnvelope),
        crate::api::docs::TokenErrors))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ProgrammeOut>, ApiError> {
    let s = service::space(&state, &actor, &id).await?;
    let (_, board, _) = actions::board(&state, Some(&actor), &id, "").await?;
    let members = {
        let mut conn = state.db.read.acquire().await?;
        service::members(&mut conn, &s.programme).await?
    };
    let p = &s.programme;
    Ok(Json(ProgrammeOut {
        id: p.id.clone(),
        name: p.name.clone(),
        summary: p.summary.clone(),
        lead_organisation: p.lead_organisation.clone(),
        partners: s.partners,
        activities: s.activities,
        members,
        board,
    }))
}
