//! `/areas/barriers` (page), `/areas/barriers.csv` and `GET /api/v1/areas/barriers`: the
//! barriers to taking part, by when they were raised, deprivation decile and activity, with
//! what was done and whether the person then attended.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ensemble_stats::{ProtectedTable, Published};
use maud::{Markup, html};

use super::barriers::{self, Barriers, BarriersQuery, By};
use super::reach_html::{Choices, link_with, options};
use super::{CITY_REGION, Edition};
use crate::error::{ApiError, AppError, FieldError};
use crate::modules::referrals::model::BarrierStage;
use crate::rbac::Granted;
use crate::rbac::perm::ViewAreaAggregates;
use crate::state::AppState;
use crate::web::forms::{error_summary, select, table_wrap};
use crate::web::{Page, PageCtx, page};

fn pairs<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|x| (code(*x).to_string(), label(*x).to_string()))
        .collect()
}

fn form(q: &BarriersQuery, opts: &Choices, errors: &[FieldError]) -> Markup {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let districts: Vec<(String, String)> = CITY_REGION
        .iter()
        .map(|d| (d.to_string(), d.to_string()))
        .collect();
    html! {
        form method="get" action="/areas/barriers" novalidate {
            (select("edition", "Edition of the Indices of Deprivation", &pairs(Edition::ALL, Edition::code, Edition::label), &v(&q.edition), errors))
            (select("district", "District (leave unchosen for the whole city region)", &districts, &v(&q.district), errors))
            (select("activity", "Activity", &opts.0, &v(&q.activity), errors))
            (select("organisation", "Organisation", &opts.1, &v(&q.organisation), errors))
            @if let Some(p) = &q.programme { input type="hidden" name="programme" value=(p); }
            (select("by", "Break barriers down by", &pairs(By::ALL, By::code, By::label), &v(&q.by), errors))
            button."nhsuk-button nhsuk-button--secondary" type="submit" { "Show barriers" }
        }
    }
}

/// A barrier × column table with its totals.
fn grid(
    caption: &str,
    corner: &str,
    columns: &[String],
    rows: &[&str],
    t: &ProtectedTable,
) -> Markup {
    table_wrap(
        caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { (corner) }
                    @for c in columns { th."nhsuk-table__header" scope="col" { (c) } }
                    th."nhsuk-table__header" scope="col" { "All" }
                } }
                tbody."nhsuk-table__body" {
                    @for (i, name) in rows.iter().enumerate() {
                        tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="row" { (name) }
                            @for c in &t.cells[i] { td."nhsuk-table__cell" { (c) } }
                            td."nhsuk-table__cell" { (t.row_totals[i]) }
                        }
                    }
                    tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="row" { "All barriers" }
                        @for c in &t.column_totals { td."nhsuk-table__cell" { (c) } }
                        td."nhsuk-table__cell" { (t.total) }
                    }
                }
            }
        },
    )
}

fn actions(b: &Barriers) -> Markup {
    let caption = "What was done about each barrier, and whether the person then attended";
    html! {
        @if b.actions.is_empty() {
            p."nhsuk-body" { "No barriers have been recorded for these filters." }
        } @else {
            (table_wrap(caption, html! {
                table."nhsuk-table" {
                    caption."nhsuk-table__caption" { (caption) }
                    thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="col" { "Barrier" }
                        th."nhsuk-table__header" scope="col" { "What was done" }
                        th."nhsuk-table__header" scope="col" { "Recorded" }
                        th."nhsuk-table__header" scope="col" { "Then attended" }
                        th."nhsuk-table__header" scope="col" { "Share that then attended (95% interval)" }
                    } }
                    tbody."nhsuk-table__body" {
                        @for a in &b.actions {
                            tr."nhsuk-table__row" {
                                th."nhsuk-table__header" scope="row" { (a.barrier) }
                                td."nhsuk-table__cell" { (a.action) }
                                td."nhsuk-table__cell" { (a.recorded) }
                                td."nhsuk-table__cell" { (a.attended) }
                                td."nhsuk-table__cell" {
                                    @match a.share {
                                        Some(p) => (format!("{:.0}% ({:.0}% to {:.0}%)", p.share * 100.0, p.ci95_low * 100.0, p.ci95_high * 100.0)),
                                        None => "Not shown",
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
    }
}

fn csv_link(q: &BarriersQuery) -> String {
    link_with(
        "/areas/barriers.csv",
        &[
            ("edition", &q.edition),
            ("district", &q.district),
            ("activity", &q.activity),
            ("organisation", &q.organisation),
            ("programme", &q.programme),
            ("by", &q.by),
        ],
    )
}

fn results(q: &BarriersQuery, b: &Barriers) -> Markup {
    let stages: Vec<String> = BarrierStage::ALL
        .iter()
        .map(|s| s.label().to_string())
        .collect();
    let by_caption = format!(
        "Barriers by {}, {} ({})",
        b.by.label(),
        b.area,
        b.filters.edition.label()
    );
    let corner = match b.by {
        By::Decile => "Barrier / IMD decile (1 = most deprived 10% of England)",
        By::Activity => "Barrier / activity",
    };
    html! {
        (grid(&format!("Barriers by when they were raised, {}", b.area), "Barrier", &stages, &b.barriers, &b.stages))
        (grid(&by_caption, corner, &b.groups, &b.barriers, &b.by_table))
        (actions(b))
        p."nhsuk-body" { "Barriers of people with no known small area in " (b.area) ": " (b.elsewhere) "." }
        p."nhsuk-body" { a href=(csv_link(q)) download { "Download these tables (CSV)" } }
        h2."nhsuk-heading-s" { "How to read this" }
        ul."nhsuk-list nhsuk-list--bullet nhsuk-body-s" {
            li { "Link workers record each barrier on the case, with when it was raised (at referral or first contact, when the person declined, when they stopped coming, or at review) and what was done about it." }
            li { "\"Then attended\" means a session of the same referral was marked attended on or after the day the barrier was recorded. The share's 95% interval is the Wilson score interval of the published counts." }
            li { "Only people who have agreed to their information being used for evaluation, and who live in the area chosen, are counted. Counts from 1 to 7 are not shown, others are rounded to the nearest 5, and further cells are hidden where a hidden one could be worked out from the totals." }
        }
    }
}

/// GET /areas/barriers
pub async fn page_get(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ViewAreaAggregates>,
    Query(q): Query<BarriersQuery>,
) -> Result<Response, AppError> {
    let opts = options(&state).await?;
    let result = match barriers::check(&state, &q).await {
        Ok((f, by)) => Ok(barriers::barriers(&state, &g, f, by).await?),
        Err(AppError::Invalid(errors)) => Err(errors),
        Err(e) => return Err(e),
    };
    let errors: &[FieldError] = result.as_ref().err().map_or(&[], Vec::as_slice);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            (error_summary(errors))
            h1 { "Barriers to taking part" }
            p."nhsuk-lede-text" { "What stops people taking part, when it was raised, where they live, what was done about it, and whether they then came." }
            (form(&q, &opts, errors))
            @if let Ok(b) = &result { (results(&q, b)) }
        } }
    };
    Ok(page(
        &ctx,
        Page::new("Barriers to taking part", body).errors(result.is_err()),
    ))
}

/// GET /areas/barriers.csv
pub async fn csv_get(
    State(state): State<AppState>,
    g: Granted<ViewAreaAggregates>,
    Query(q): Query<BarriersQuery>,
) -> Result<Response, AppError> {
    let (f, by) = barriers::check(&state, &q).await?;
    let b = barriers::barriers(&state, &g, f, by).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"barriers.csv\"",
            ),
        ],
        barriers::csv(&b),
    )
        .into_response())
}

fn val(p: Published) -> Option<u64> {
    match p {
        Published::Value(v) => Some(v),
        Published::Suppressed => None,
    }
}

/// One barrier's row of the API answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BarrierRow {
    /// The barrier, as labelled on the case page.
    pub barrier: String,
    /// Recorded at each stage: referral, decline, drop_out, review (rounded to 5; null when suppressed).
    pub by_stage: Vec<Option<u64>>,
    /// Recorded in each group of `groups`, in order (null when suppressed).
    pub by_group: Vec<Option<u64>>,
    /// All recorded (null when suppressed).
    pub recorded: Option<u64>,
}

/// What was done, and whether people then attended.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BarrierAction {
    pub barrier: String,
    /// What was done, as labelled on the case page.
    pub action: String,
    pub recorded: Option<u64>,
    pub then_attended: Option<u64>,
    /// Share that then attended with its Wilson 95% interval [share, low, high]; null when a count is suppressed.
    pub then_attended_share: Option<[f64; 3]>,
}

/// The API answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BarriersBody {
    pub edition: i64,
    /// The area served.
    pub area: String,
    /// Stage codes, in the order of `by_stage`.
    pub stages: Vec<String>,
    /// `decile` or `activity`.
    pub by: String,
    /// Column labels of `by_group` (deciles 1–10, or activity names).
    pub groups: Vec<String>,
    pub barriers: Vec<BarrierRow>,
    pub actions: Vec<BarrierAction>,
    /// All barriers counted (null when suppressed).
    pub recorded: Option<u64>,
}

/// GET /api/v1/areas/barriers
#[utoipa::path(get, path = "/api/v1/areas/barriers", tag = "areas", params(BarriersQuery),
    operation_id = "list_area_barriers",
    security(("token" = [])),
    responses((status = 200, description = "Barriers to taking part by stage and by decile or activity, with what was done and whether people then attended; disclosure-controlled", body = BarriersBody),
        (status = 401, description = "No valid token", body = crate::error::ErrorEnvelope),
        (status = 403, description = "The token lacks areas:read or the account may not see aggregates", body = crate::error::ErrorEnvelope),
        (status = 422, description = "A filter is wrong (each error names the field and value)", body = crate::error::ErrorEnvelope)))]
pub async fn api_get(
    State(state): State<AppState>,
    g: Granted<ViewAreaAggregates>,
    Query(q): Query<BarriersQuery>,
) -> Result<Json<BarriersBody>, ApiError> {
    let (f, by) = barriers::check(&state, &q).await?;
    let b = barriers::barriers(&state, &g, f, by).await?;
    Ok(Json(api_body(&b)))
}

/// The analysis as the API answers it (published figures only).
fn api_body(b: &Barriers) -> BarriersBody {
    let vals = |row: &[Published]| row.iter().map(|p| val(*p)).collect::<Vec<_>>();
    BarriersBody {
        edition: b.filters.edition.year(),
        area: b.area.clone(),
        stages: BarrierStage::ALL
            .iter()
            .map(|s| s.code().to_string())
            .collect(),
        by: b.by.code().to_string(),
        groups: b.groups.clone(),
        barriers: b
            .barriers
            .iter()
            .enumerate()
            .map(|(i, name)| BarrierRow {
                barrier: name.to_string(),
                by_stage: vals(&b.stages.cells[i]),
                by_group: vals(&b.by_table.cells[i]),
                recorded: val(b.stages.row_totals[i]),
            })
            .collect(),
        actions: b
            .actions
            .iter()
            .map(|a| BarrierAction {
                barrier: a.barrier.to_string(),
                action: a.action.to_string(),
                recorded: val(a.recorded),
                then_attended: val(a.attended),
                then_attended_share: a.share.map(|p| [p.share, p.ci95_low, p.ci95_high]),
            })
            .collect(),
        recorded: val(b.stages.total),
    }
}
