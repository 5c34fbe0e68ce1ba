//! `/api/v1` handlers and the OpenAPI document.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use crate::error::{ApiError, ErrorEnvelope, ErrorItem, FieldError};
use crate::modules::accounts::model::{Membership, OrgKind, Organisation, UserSummary};
use crate::modules::accounts::service::{self, OrganisationInput};
use crate::rbac::perm::{ManageAccounts, ManageOrganisations};
use crate::rbac::{Granted, Permission, Role};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::routes::Route;

use super::ApiJson;
use super::docs::{JsonBodyErrors, TokenErrors};

/// Routes under `/api/v1`.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/openapi.json", Permission::Public, openapi_json),
        Route::get("/api/v1/me", Permission::SignedIn, me).scope("account:read"),
        Route::get(
            "/api/v1/organisations",
            Permission::ViewOrganisations,
            list_organisations,
        )
        .scope("organisations:read"),
        Route::post(
            "/api/v1/organisations",
            Permission::ManageOrganisations,
            create_organisation,
        )
        .scope("organisations:write"),
        Route::get("/api/v1/users", Permission::ManageAccounts, list_users).scope("users:read"),
    ]
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ensemble API",
        version = "1",
        description = "Co-produced community creative health. Authenticate with a personal access token \
                       (`Authorization: Bearer ens_…`) created on your account page. Errors use the envelope \
                       `{\"errors\":[{\"code\",\"detail\",\"field\"}]}`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    paths(me, list_organisations, create_organisation, list_users,
        crate::modules::referrals::fhir::post_service_request,
        crate::modules::referrals::fhir::process_message,
        crate::modules::referrals::fhir::get_service_request,
        crate::modules::referrals::fhir::get_message_back,
        crate::modules::people::html::dataset_api,
        crate::modules::measures::api::list_instruments,
        crate::modules::measures::api::submit_response,
        crate::modules::measures::api::person_scores,
        crate::modules::practice::portfolio_html::api_portfolio,
        crate::modules::programmes::api::list,
        crate::modules::programmes::api::get,
        crate::modules::evaluation::html::api_report,
        crate::modules::evaluation::html::api_package,
        crate::modules::programmes::themes_export::api,
        crate::modules::areas::api::list,
        crate::modules::areas::api::get,
        crate::modules::areas::api::get_lsoa,
        crate::modules::programmes::feed_html::api_feed,
        crate::modules::areas::api::cold_spots,
        crate::modules::areas::reach_html::api_get,
        crate::modules::areas::barriers_html::api_get),
    components(schemas(Me, MeMembership, Organisation, OrgKind, OrganisationInput, UserSummary, Membership, Role, ErrorEnvelope, ErrorItem, FieldError, UserPage,
        crate::modules::measures::api::InstrumentOut, crate::modules::measures::api::SubmitIn, crate::modules::measures::api::SubmitOut,
        crate::modules::measures::api::ApiMode, crate::modules::measures::definition::Answer, crate::modules::measures::api::ModeCode, crate::modules::measures::api::ScoreOut,
        crate::modules::measures::service::InstrumentSummary, crate::modules::measures::service::ScoreRow,
        crate::modules::people::html::DatasetOut, crate::modules::people::html::DatasetName,
        crate::modules::referrals::fhir::openapi::ServiceRequest, crate::modules::referrals::fhir::openapi::Bundle,
        crate::modules::referrals::fhir::openapi::BundleEntry, crate::modules::referrals::fhir::openapi::OperationOutcome,
        crate::modules::referrals::fhir::openapi::OperationOutcomeIssue, crate::modules::referrals::fhir::openapi::Reference,
        crate::modules::referrals::fhir::openapi::Identifier, crate::modules::referrals::fhir::openapi::CodeableConcept,
        crate::modules::referrals::fhir::openapi::Coding, crate::modules::referrals::fhir::openapi::Annotation,
        crate::modules::programmes::api::ProgrammeOut, crate::modules::programmes::service::ProgrammeSummary,
        crate::modules::programmes::service::Partner, crate::modules::programmes::service::LinkedActivity,
        crate::modules::programmes::service::MemberRow, crate::modules::programmes::actions::BoardItem,
        crate::modules::programmes::actions::Update,
        crate::modules::programmes::themes_export::ThemesOut, crate::modules::programmes::themes_export::ThemeOut,
        crate::modules::programmes::themes_export::CoderOut, crate::modules::programmes::themes_export::CodingOut,
        crate::modules::programmes::themes_export::PairOut,
        crate::modules::areas::summary::DistrictSummary,
        crate::modules::programmes::feed::FeedPage,
        crate::modules::programmes::feed::FeedItem, crate::modules::programmes::feed::Source,
        crate::modules::areas::api::ColdSpotsOut, crate::modules::areas::provision::ColdSpot,
        crate::modules::areas::api::LsoaOut,
                crate::modules::areas::reach_html::ReachBody, crate::modules::areas::reach_html::ReachDecile,
                crate::modules::areas::barriers_html::BarriersBody, crate::modules::areas::barriers_html::BarrierRow,
                crate::modules::areas::barriers_html::BarrierAction)),
    modifiers(&BearerAuth),
    tags((name = "accounts", description = "Accounts, organisations and roles"),
         (name = "referrals", description = "FHIR R4 referral intake and the message back (answers are FHIR JSON; problems are OperationOutcome resources)"),
         (name = "evaluation", description = "Pseudonymised evaluation datasets for researchers, and programme evaluation reports with their open data packages"),
         (name = "measures", description = "Wellbeing instruments, completed measures and scores"),
         (name = "practice", description = "The practitioner toolkit: the CPD portfolio"),
         (name = "programmes", description = "Programmes: partners, activities, members and the \"you said, we did\" board"),
         (name = "areas", description = "Area insight: English Indices of Deprivation district summaries, computed from the small-area files (public open data; no token needed)"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "token",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("ens_…")
                        .build(),
                ),
            );
        }
    }
}

/// The OpenAPI document as pretty JSON (served, and snapshot-tested).
pub fn openapi_document() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

async fn openapi_json() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_document(),
    )
        .into_response()
}

/// The caller's account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// Account id.
    pub id: String,
    /// Name.
    pub display_name: String,
    /// Email.
    pub email: String,
    /// Roles by organisation.
    pub memberships: Vec<MeMembership>,
}

/// One of the caller's roles.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeMembership {
    /// Organisation id.
    pub organisation_id: String,
    /// Organisation name.
    pub organisation_name: String,
    /// Role.
    pub role: Role,
}

/// Your own account and roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("token" = [])),
    responses((status = 200, description = "The token owner's account and roles", body = Me), TokenErrors))]
async fn me(CurrentUser(actor): CurrentUser) -> Json<Me> {
    Json(Me {
        memberships: actor
            .memberships
            .iter()
            .map(|(id, name, role)| MeMembership {
                organisation_id: id.clone(),
                organisation_name: name.clone(),
                role: *role,
            })
            .collect(),
        id: actor.user_id,
        display_name: actor.display_name,
        email: actor.email,
    })
}

/// Organisations in the region (staff).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "accounts", security(("token" = [])),
    responses((status = 200, description = "Every organisation, by name", body = Vec<Organisation>), TokenErrors))]
async fn list_organisations(
    State(state): State<AppState>,
) -> Result<Json<Vec<Organisation>>, ApiError> {
    Ok(Json(service::list_organisations(&state, false).await?))
}

/// Create an organisation (administrators). Unknown fields are refused.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "accounts", security(("token" = [])),
    request_body = OrganisationInput,
    responses((status = 201, description = "Created: the organisation", body = Organisation), JsonBodyErrors, TokenErrors,
              (status = 422, description = "Each invalid field, named in `field` (a name already in use included)", body = ErrorEnvelope)))]
async fn create_organisation(
    State(state): State<AppState>,
    g: Granted<ManageOrganisations>,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> Result<(StatusCode, Json<Organisation>), ApiError> {
    let org = service::create_organisation(&state, &g, &input).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// Query for the account list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Part of a name or email.
    #[serde(default)]
    pub q: String,
    /// Page number from 1.
    #[serde(default = "one")]
    #[param(minimum = 1)]
    pub page: i64,
}

fn one() -> i64 {
    1
}

/// A page of accounts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    /// Accounts.
    pub users: Vec<UserSummary>,
    /// Is there a next page?
    pub more: bool,
}

/// Accounts (administrators). Each call is written to the audit trail.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", security(("token" = [])), params(UserQuery),
    responses((status = 200, description = "A page of accounts matching `q`", body = UserPage),
              (status = 400, description = "The query string is not valid (an unknown parameter, or `page` not a whole number)", body = ErrorEnvelope),
              (status = 422, description = "`page` is below 1", body = ErrorEnvelope), TokenErrors))]
async fn list_users(
    State(state): State<AppState>,
    g: Granted<ManageAccounts>,
    query: Result<Query<UserQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UserPage>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError(crate::error::AppError::BadRequest(format!(
            "The query string is not valid: {}",
            e.body_text()
        )))
    })?;
    if q.page < 1 {
        return Err(ApiError(crate::error::AppError::Invalid(vec![
            FieldError::new("page", "page must be 1 or more"),
        ])));
    }
    let (users, more) = service::list_users(&state, &g, &q.q, q.page).await?;
    Ok(Json(UserPage { users, more }))
}
