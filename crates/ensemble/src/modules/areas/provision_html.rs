//! `/areas/provision` (activities and weekly hours per 10,000 residents by decile and ward)
//! and `/areas/cold-spots` (+ `.csv`): the ranked distances to the nearest listed activity.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::Edition;
use super::provision::{self, ColdSpot, Filter, Provision, ProvisionRow};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::forms::table_wrap;
use crate::web::{Page, PageCtx, page};

/// Query parameters of the provision, cold-spot and map pages and the cold-spot API.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaQuery {
    /// 2019 or 2025 (default: the installation's edition).
    pub edition: Option<String>,
    /// Cold spots: one or more of any, free, step_free, evening, weekend, separated by commas (all must hold; default any).
    pub filter: Option<String>,
    /// Map page only: deprivation or provision.
    #[param(ignore)]
    pub of: Option<String>,
    /// Map page only: ward (default) or lsoa.
    #[param(ignore)]
    pub level: Option<String>,
    /// Map page only, with level=lsoa: one city-region district code (default: the whole region).
    #[param(ignore)]
    pub district: Option<String>,
}

impl AreaQuery {
    /// The edition asked for (or the installation's), or a 400 naming the value.
    pub fn edition(&self, state: &AppState) -> Result<Edition, AppError> {
        provision::parse_edition(state, self.edition.as_deref()).map_err(AppError::BadRequest)
    }

    /// The filters asked for, or a 400 naming the value.
    pub fn filters(&self) -> Result<Vec<Filter>, AppError> {
        provision::parse_filters(self.filter.as_deref()).map_err(AppError::BadRequest)
    }
}

pub(super) fn edition_links(path: &str, current: Edition, extra: &str) -> Markup {
    html! {
        p."nhsuk-body" { "Edition: "
            @for (i, e) in Edition::ALL.iter().enumerate() {
                @if i > 0 { " · " }
                @if *e == current { strong { (e.label()) " (shown)" } }
                @else { a href=(format!("{path}?edition={}{extra}", e.code())) { (e.label()) } }
            }
        }
    }
}

fn not_public_note() -> Markup {
    html! {
        p."nhsuk-body-s" { "These figures count activities in the public directory and residents from the official open data. They are not personal data, so no numbers are suppressed." }
    }
}

fn rows_table(caption: &str, first: &str, rows: &[ProvisionRow], ward: bool) -> Markup {
    table_wrap(
        caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { (first) }
                    @if ward { th."nhsuk-table__header" scope="col" { "District" } }
                    th."nhsuk-table__header" scope="col" { "LSOAs" }
                    th."nhsuk-table__header" scope="col" { "Residents" }
                    th."nhsuk-table__header" scope="col" { "Activities" }
                    th."nhsuk-table__header" scope="col" { "Activities per 10,000 residents" }
                    th."nhsuk-table__header" scope="col" { "Weekly session hours" }
                    th."nhsuk-table__header" scope="col" { "Weekly hours per 10,000 residents" }
                } }
                tbody."nhsuk-table__body" {
                    @for r in rows {
                        tr."nhsuk-table__row" id=[ward.then(|| format!("ward-{}", r.key))] {
                            th."nhsuk-table__header" scope="row" {
                                @if ward { (r.name) } @else { "Decile " (r.key) @if r.key == "1" { " (most deprived)" } @if r.key == "10" { " (least deprived)" } }
                            }
                            @if ward { td."nhsuk-table__cell" { (r.district) } }
                            td."nhsuk-table__cell" { (r.lsoas) }
                            td."nhsuk-table__cell" { (r.population) }
                            td."nhsuk-table__cell" { (r.activities) }
                            td."nhsuk-table__cell" { (format!("{:.2}", r.activities_per_10k)) }
                            td."nhsuk-table__cell" { (format!("{:.1}", r.weekly_hours)) }
                            td."nhsuk-table__cell" { (format!("{:.2}", r.hours_per_10k)) }
                        }
                    }
                }
            }
        },
    )
}

/// GET /areas/provision (public)
pub async fn provision_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<AreaQuery>,
) -> Result<Response, AppError> {
    let e = q.edition(&state)?;
    let p = provision::for_edition(&state, e).await?;
    let title = "Provision by deprivation and ward";
    Ok(page(&ctx, Page::new(title, provision_view(e, &p))))
}

fn provision_view(e: Edition, p: &Provision) -> Markup {
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            h1 { "Provision by deprivation and ward" }
            p."nhsuk-lede-text" { "Listed creative health activities and their weekly session hours per 10,000 residents in the Liverpool City Region, by national deprivation decile (" (e.label()) ") and by ward." }
            (edition_links("/areas/provision", e, ""))
            @if p.total.lsoas == 0 { (super::html::not_loaded_note()) }
            h2."nhsuk-heading-s" { "How these are counted" }
            ul."nhsuk-list nhsuk-list--bullet nhsuk-body-s" {
                li { "Activities: those listed in the public directory (active, open to the public) with a venue that has a position. An activity counts once in each decile or ward where it has a venue." }
                li { "Weekly session hours: for each schedule, the sessions it meets in the 28 days from today, times their length, divided by 4. An activity with several venues has its hours shared equally between them." }
                li { "A venue belongs to the small area (" (e.geography()) ") whose boundary contains it, found when the venue is saved by point-in-polygon against the ONS generalised boundaries (within about 8 m of an edge either side may be chosen), or, where its position is in no boundary, the small area of its postcode: " (p.venues_by_area) " venue(s) placed this way. A venue with no small area stored (boundaries and postcodes not imported) belongs to the LSOA whose population-weighted centroid is nearest, if within 3 km: " (p.venues_by_centroid) " venue(s). " (p.venues_outside) " venue(s) are outside the city region and are not counted." }
                li { "Residents: the edition's population of each LSOA (" (e.label()) ")." }
            }
            (not_public_note())
            p."nhsuk-body" { "City region: " (p.total.activities) " activities, " (format!("{:.1}", p.total.weekly_hours)) " weekly hours, " (p.total.population) " residents (" (format!("{:.2}", p.total.activities_per_10k)) " activities and " (format!("{:.2}", p.total.hours_per_10k)) " weekly hours per 10,000)." }
            p."nhsuk-body" { a href=(format!("/areas/map?of=provision&edition={}", e.code())) { "Map of activities per 10,000 residents by ward" } }
            h2."nhsuk-heading-m" { "By national deprivation decile" }
            (rows_table("Provision by national IMD decile (1 = most deprived 10% of England)", "Decile", &p.by_decile, false))
            h2."nhsuk-heading-m" { "By ward" }
            (rows_table("Provision by ward", "Ward", &p.by_ward, true))
            (super::html::sources())
        } }
    }
}

fn query_string(e: Edition, filters: &[Filter]) -> String {
    let f = filters
        .iter()
        .map(|f| f.code())
        .collect::<Vec<_>>()
        .join(",");
    if f.is_empty() {
        format!("edition={}", e.code())
    } else {
        format!("edition={}&filter={f}", e.code())
    }
}

/// How many rows the page shows (the CSV has all).
const PAGE_ROWS: usize = 100;

/// GET /areas/cold-spots (public)
pub async fn cold_spots_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<AreaQuery>,
) -> Result<Response, AppError> {
    let (e, filters) = (q.edition(&state)?, q.filters()?);
    let rows = provision::ranked(&state, e, &filters).await?;
    let title = "Cold spots: distance to the nearest activity";
    Ok(page(&ctx, Page::new(title, cold_view(e, &filters, &rows))))
}

/// GET /areas/cold-spots.csv (public)
pub async fn cold_spots_csv(
    State(state): State<AppState>,
    Query(q): Query<AreaQuery>,
) -> Result<Response, AppError> {
    let (e, filters) = (q.edition(&state)?, q.filters()?);
    let rows = provision::ranked(&state, e, &filters).await?;
    let bytes =
        crate::csvfile::to_bytes(&provision::csv_rows(&rows)).map_err(AppError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"cold-spots.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

fn filter_form(e: Edition, filters: &[Filter]) -> Markup {
    html! {
        form method="get" action="/areas/cold-spots" novalidate {
            input type="hidden" name="edition" value=(e.code());
            div."nhsuk-form-group" {
                label."nhsuk-label" for="filter" { "The nearest activity must be" }
                select."nhsuk-select" id="filter" name="filter" {
                    @for f in Filter::ALL {
                        option value=(f.code()) selected[filters == [*f] || (filters.is_empty() && *f == Filter::Any)] { (f.label()) }
                    }
                }
            }
            button."nhsuk-button nhsuk-button--secondary" type="submit" { "Show cold spots" }
        }
    }
}

fn cold_view(e: Edition, filters: &[Filter], rows: &[ColdSpot]) -> Markup {
    let wanted = if filters.is_empty() {
        "any listed activity".to_string()
    } else {
        filters
            .iter()
            .map(|f| f.label().to_lowercase())
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let qs = query_string(e, filters);
    let caption = format!(
        "Coldest {} of {} LSOAs: distance to the nearest activity ({wanted})",
        rows.len().min(PAGE_ROWS),
        rows.len()
    );
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            h1 { "Cold spots: distance to the nearest activity" }
            p."nhsuk-lede-text" { "For every small area (LSOA) of the Liverpool City Region, the straight-line distance from its population-weighted centroid to the nearest venue of a listed activity that meets the filter." }
            (edition_links("/areas/cold-spots", e, &filters.iter().map(|f| format!("&filter={}", f.code())).collect::<String>()))
            (filter_form(e, filters))
            h2."nhsuk-heading-s" { "How the list is ordered" }
            p."nhsuk-body-s" { "Most deprived national IMD decile first; within a decile, furthest first (an area with no qualifying activity at all is furthest); then IMD rank (most deprived first), then LSOA code. Distances are haversine great-circle distances on a sphere of radius 6,371.0088 km, rounded to the metre." }
            (not_public_note())
            p."nhsuk-body" { a href=(format!("/areas/cold-spots.csv?{qs}")) download { "Download every LSOA as CSV" } " (" (rows.len()) " rows)" }
            @if rows.is_empty() { (super::html::not_loaded_note()) } @else {
                (table_wrap(&caption, html! {
                    table."nhsuk-table" {
                        caption."nhsuk-table__caption" { (caption) }
                        thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="col" { "Rank" }
                            th."nhsuk-table__header" scope="col" { "LSOA" }
                            th."nhsuk-table__header" scope="col" { "Ward and district" }
                            th."nhsuk-table__header" scope="col" { "IMD decile" }
                            th."nhsuk-table__header" scope="col" { "Residents" }
                            th."nhsuk-table__header" scope="col" { "Nearest activity" }
                            th."nhsuk-table__header" scope="col" { "Distance" }
                        } }
                        tbody."nhsuk-table__body" {
                            @for r in rows.iter().take(PAGE_ROWS) {
                                tr."nhsuk-table__row" {
                                    td."nhsuk-table__cell" { (r.rank) }
                                    th."nhsuk-table__header" scope="row" { (r.lsoa_name) " (" (r.lsoa_code) ")" }
                                    td."nhsuk-table__cell" { (r.ward) ", " (r.district) }
                                    td."nhsuk-table__cell" { (r.imd_decile) }
                                    td."nhsuk-table__cell" { (r.population) }
                                    td."nhsuk-table__cell" { @match (&r.nearest_activity_id, &r.nearest_activity_name) {
                                        (Some(id), Some(n)) => a href=(format!("/activities/{id}")) { (n) },
                                        _ => "None listed",
                                    } }
                                    td."nhsuk-table__cell" { @match r.distance_km { Some(d) => (format!("{d:.2} km")), None => "—" } }
                                }
                            }
                        }
                    }
                }))
            }
            (super::html::sources())
        } }
    }
}
