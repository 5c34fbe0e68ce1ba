//! The evaluation pages: the report (`/programmes/{id}/evaluation`, which prints cleanly),
//! its package, the index of reports a person may open, budgets, unit costs and the
//! comparison; and the JSON API.

use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::report::{Audience, Period, Report};
use super::sections::field as input;
use super::{access, costs, sections, service};
use crate::error::{ApiError, AppError, FieldError};
use crate::rbac::Granted;
use crate::rbac::perm::ManageAccounts;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{csrf, error_summary, select};
use crate::web::{Page, PageCtx, page};

/// The report's query string.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day (YYYY-MM-DD); default: since the programme began.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD); default: today.
    pub to: Option<String>,
    /// `controlled`: the disclosure-controlled version (what people outside the programme team see).
    pub view: Option<String>,
}

impl ReportQuery {
    fn controlled(&self) -> bool {
        self.view.as_deref() == Some("controlled")
    }
    fn period(&self) -> Result<Period, Vec<FieldError>> {
        Period::parse(self.from.as_deref(), self.to.as_deref())
    }
    /// The query string of the chosen period and version (empty values left out).
    fn query_string(&self) -> String {
        let pairs: Vec<(&str, &str)> =
            [("from", &self.from), ("to", &self.to), ("view", &self.view)]
                .into_iter()
                .filter_map(|(k, v)| {
                    v.as_deref()
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| (k, v))
                })
                .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

fn period_form(id: &str, q: &ReportQuery, errors: &[FieldError]) -> Markup {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    html! {
        form."ensemble-no-print" method="get" action=(format!("/programmes/{id}/evaluation")) novalidate {
            (input("from", "First day (YYYY-MM-DD, leave empty for since the programme began)", &v(&q.from), errors))
            (input("to", "Last day (YYYY-MM-DD, leave empty for today)", &v(&q.to), errors))
            @if let Some(view) = &q.view { input type="hidden" name="view" value=(view); }
            button."nhsuk-button nhsuk-button--secondary" type="submit" { "Show this period" }
        }
    }
}

/// GET /programmes/{id}/evaluation
pub async fn report_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let period = match q.period() {
        Ok(p) => p,
        Err(errors) => {
            let mut conn = state.db.read.acquire().await?;
            let a = access::report(&mut conn, &actor, &id).await?;
            let body = html! {
                (error_summary(&errors))
                h1."nhsuk-heading-l" { "Evaluation of " (a.programme.name) }
                (period_form(&id, &q, &errors))
            };
            let mut p = Page::new("Evaluation report", body);
            p.has_errors = true;
            return Ok(
                (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page(&ctx, p)).into_response(),
            );
        }
    };
    let (r, a) = service::open(&state, &actor, &id, period, q.controlled()).await?;
    let body = html! {
        (sections::header(&r, a.evaluator, a.manager, &q.query_string()))
        (period_form(&id, &q, &[]))
        (sections::body(&r))
    };
    Ok(page(
        &ctx,
        Page::new(&format!("Evaluation of {}", r.programme.name), body),
    ))
}

/// GET /programmes/{id}/evaluation/package.zip
pub async fn package_zip(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let period = q.period().map_err(AppError::Invalid)?;
    let (name, bytes) = service::download(&state, &actor, &id, period, q.controlled()).await?;
    Ok(zip_response(name, bytes))
}

fn zip_response(name: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// GET /api/v1/programmes/{id}/evaluation — the report as JSON (the package's report.json).
#[utoipa::path(get, path = "/api/v1/programmes/{id}/evaluation", tag = "evaluation", security(("token" = [])),
    params(("id" = String, Path, description = "Programme id"), ReportQuery),
    responses((status = 200, description = "The programme's evaluation report: reach, outcomes with paired statistics, service use, value, practice, voices, barriers, costs, comparison and methods (the package's report.json)", body = Object),
        (status = 404, description = "No such programme", body = crate::error::ErrorEnvelope),
        (status = 422, description = "A date is wrong (each error names the field and value)", body = crate::error::ErrorEnvelope),
        crate::api::docs::TokenErrors))]
pub async fn api_report(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    let period = q.period().map_err(AppError::Invalid)?;
    Ok(Json(
        service::open(&state, &actor, &id, period, q.controlled())
            .await?
            .0,
    ))
}

/// GET /api/v1/programmes/{id}/evaluation/package — the open data package (zip).
#[utoipa::path(get, path = "/api/v1/programmes/{id}/evaluation/package", tag = "evaluation", security(("token" = [])),
    params(("id" = String, Path, description = "Programme id"), ReportQuery),
    responses((status = 200, description = "The package: CSV tables, datapackage.json, report.json and tables.xlsx", content_type = "application/zip", body = Vec<u8>),
        (status = 404, description = "No such programme", body = crate::error::ErrorEnvelope),
        (status = 422, description = "A date is wrong (each error names the field and value)", body = crate::error::ErrorEnvelope),
        crate::api::docs::TokenErrors))]
pub async fn api_package(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let period = q.period().map_err(AppError::Invalid)?;
    let (name, bytes) = service::download(&state, &actor, &id, period, q.controlled()).await?;
    Ok(zip_response(name, bytes))
}

/// GET /evaluation — the reports this person may open.
pub async fn index(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let list = access::programmes(&state, &actor).await?;
    let body = html! {
        h1."nhsuk-heading-l" { "Programme evaluations" }
        p."nhsuk-body" { "Reports on the programmes you manage, take part in or fund: reach, outcomes, practice, voices, costs and value, each with the methods used and an open data package." }
        @if list.is_empty() {
            p."nhsuk-body" { "There are no reports for you yet. Programme teams see their own programmes' reports; commissioners see the reports of programmes their organisation is named as funding on a budget line." }
        } @else {
            ul."nhsuk-list nhsuk-list--bullet" {
                @for (id, name, audience) in &list {
                    li { a href=(format!("/programmes/{id}/evaluation")) { (name) }
                        " — " (match audience { Audience::Evaluator => "exact figures (you are one of its evaluators)", Audience::Controlled => "disclosure-controlled figures" }) }
                }
            }
        }
        p."nhsuk-body" { a href="/evaluation/compare" { "Compare programmes that use the same measures" } }
    };
    Ok(page(&ctx, Page::new("Programme evaluations", body)))
}

/// The budget form.
#[derive(Debug, Default, Deserialize)]
pub struct BudgetForm {
    #[serde(flatten)]
    pub input: costs::BudgetInput,
}

async fn budget_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &crate::rbac::Actor,
    id: &str,
    form: &costs::BudgetInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = access::manage(&mut conn, actor, id).await?;
    drop(conn);
    let lines = costs::lines(state, id).await?;
    let funders = costs::funder_options(state).await?;
    let body = sections::budget(&p, &lines, &funders, form, errors, ctx);
    let mut page_ = Page::new("Budget", body);
    page_.has_errors = !errors.is_empty();
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page(ctx, page_)).into_response())
}

/// GET /programmes/{id}/evaluation/budget
pub async fn budget_get(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    budget_page(
        &state,
        &ctx,
        &actor,
        &id,
        &costs::BudgetInput::default(),
        &[],
    )
    .await
}

/// POST /programmes/{id}/evaluation/budget
pub async fn budget_post(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<BudgetForm>,
) -> Result<Response, AppError> {
    match costs::add_line(&state, &actor, &id, &f.input).await {
        Ok(_) => Ok(Redirect::to(&format!("/programmes/{id}/evaluation/budget")).into_response()),
        Err(AppError::Invalid(errors)) => {
            budget_page(&state, &ctx, &actor, &id, &f.input, &errors).await
        }
        Err(e) => Err(e),
    }
}

/// POST /programmes/{id}/evaluation/budget/{line}/remove
pub async fn budget_remove(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, line)): Path<(String, String)>,
) -> Result<Response, AppError> {
    costs::remove_line(&state, &actor, &id, &line).await?;
    Ok(Redirect::to(&format!("/programmes/{id}/evaluation/budget")).into_response())
}

async fn unit_costs_page(
    state: &AppState,
    ctx: &PageCtx,
    form: &costs::UnitCostInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let list = costs::unit_costs(state).await?;
    let items: Vec<(String, String)> = costs::ITEMS
        .iter()
        .map(|(c, l)| (c.to_string(), l.to_string()))
        .collect();
    let body = html! {
        @if !errors.is_empty() { (error_summary(errors)) }
        (sections::unit_costs(&list, ctx))
        h2."nhsuk-heading-m" { "Enter or replace a unit cost" }
        form method="post" action="/evaluation/unit-costs" novalidate {
            (csrf(ctx))
            (select("item", "What is being costed", &items, &form.item, errors))
            (input("cost", "Cost of one, in pounds (for example 42 or 635.50)", &form.cost, errors))
            (input("source", "Source, with its table (for example PSSRU Unit Costs of Health and Social Care 2024, table 10.3b)", &form.source, errors))
            (input("price_year", "Price year (four digits)", &form.price_year, errors))
            button."nhsuk-button" type="submit" { "Save unit cost" }
        }
    };
    let mut p = Page::new("Unit costs of health-service use", body);
    p.has_errors = !errors.is_empty();
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page(ctx, p)).into_response())
}

/// GET /evaluation/unit-costs
pub async fn unit_costs_get(
    State(state): State<AppState>,
    ctx: PageCtx,
    _g: Granted<ManageAccounts>,
) -> Result<Response, AppError> {
    unit_costs_page(&state, &ctx, &costs::UnitCostInput::default(), &[]).await
}

/// POST /evaluation/unit-costs
pub async fn unit_costs_post(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageAccounts>,
    Form(f): Form<costs::UnitCostInput>,
) -> Result<Response, AppError> {
    match costs::set_unit_cost(&state, &g, &f).await {
        Ok(()) => Ok(Redirect::to("/evaluation/unit-costs").into_response()),
        Err(AppError::Invalid(errors)) => unit_costs_page(&state, &ctx, &f, &errors).await,
        Err(e) => Err(e),
    }
}

/// GET /evaluation/compare
pub async fn compare_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let view = super::compare::overview(&state, &actor).await?;
    Ok(page(
        &ctx,
        Page::new("Compare programmes", sections::compare(&view)),
    ))
}
