//! Area pages: `/areas` (the city region's districts on both editions) and
//! `/areas/districts/{code}` (one district, both editions side by side, with the change and
//! the share of neighbourhoods beside the share of residents).

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};

use super::summary::{self, DistrictSummary};
use super::{CITY_REGION, Edition, ONS_ATTRIBUTION};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::forms::table_wrap;
use crate::web::{Page, PageCtx, page};

/// "3rd", "9th", "21st".
pub fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn share(n: i64, of: i64) -> f64 {
    if of > 0 { n as f64 / of as f64 } else { 0.0 }
}

/// The editions in the order this installation shows them (its own edition first).
fn editions(state: &AppState) -> [Edition; 2] {
    if super::api::installation_edition(state) == Edition::Iod2019 {
        [Edition::Iod2019, Edition::Iod2025]
    } else {
        [Edition::Iod2025, Edition::Iod2019]
    }
}

fn attribution() -> Markup {
    html! {
        h2."nhsuk-heading-s" { "Sources" }
        ul."nhsuk-list nhsuk-body-s" {
            @for e in Edition::ALL { li { (e.attribution()) } }
            li { (ONS_ATTRIBUTION) }
        }
    }
}

fn not_loaded() -> Markup {
    html! {
        div."nhsuk-inset-text" {
            p { "The English Indices of Deprivation have not been imported into this installation yet. An administrator can load them with "
                code { "ensemble opendata import --shared-dir DIR" } "." }
        }
    }
}

fn edition_table(e: Edition, rows: &[&DistrictSummary]) -> Markup {
    let caption = format!(
        "{} ({}): Liverpool City Region districts",
        e.label(),
        e.geography()
    );
    table_wrap(
        &caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "District" }
                    th."nhsuk-table__header" scope="col" { "Rank of average score (1 = most deprived)" }
                    th."nhsuk-table__header" scope="col" { "Average score" }
                    th."nhsuk-table__header" scope="col" { "LSOAs" }
                    th."nhsuk-table__header" scope="col" { "Share of LSOAs in the most deprived 20%" }
                    th."nhsuk-table__header" scope="col" { "Share of residents in the most deprived 20%" }
                } }
                tbody."nhsuk-table__body" {
                    @for s in rows {
                        tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="row" {
                                a href=(format!("/areas/districts/{}", s.district_code)) { (s.district_name) }
                            }
                            td."nhsuk-table__cell" { (ordinal(s.rank_of_average_score)) " of " (s.districts) }
                            td."nhsuk-table__cell" { (format!("{:.3}", s.average_score)) }
                            td."nhsuk-table__cell" { (s.lsoas) }
                            td."nhsuk-table__cell" { (pct(share(s.lsoas_most_deprived_20, s.lsoas))) " (" (s.lsoas_most_deprived_20) ")" }
                            td."nhsuk-table__cell" { (pct(s.share_residents_most_deprived_20)) @if s.population_basis != "official" { " (estimated)" } }
                        }
                    }
                }
            }
        },
    )
}

/// GET /areas (public)
pub async fn index(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let rows = summary::of_districts(&state.db, CITY_REGION).await?;
    let aggregates = ctx.actor().is_some_and(|a| {
        crate::rbac::allows(
            &a.roles(),
            true,
            crate::rbac::Permission::ViewAreaAggregates,
        )
    });
    Ok(page(
        &ctx,
        Page::new(
            "Deprivation in the Liverpool City Region",
            index_view(&rows, editions(&state), aggregates),
        ),
    ))
}

fn index_view(rows: &[DistrictSummary], order: [Edition; 2], aggregates: bool) -> Markup {
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            h1 { "Deprivation in the Liverpool City Region" }
            p."nhsuk-lede-text" { "The English Indices of Deprivation rank every small area (LSOA) in England. These figures are computed here from the official small-area files, the way the Ministry of Housing, Communities and Local Government computes its district summaries." }
            p."nhsuk-body" { "Small-area (LSOA) boundaries changed in 2021: IoD2019 uses the 2011 areas and IoD2025 the 2021 areas, and the number of districts in England changed from 317 to 296, so ranks and shares are not directly comparable between editions." }
            @if rows.is_empty() { (not_loaded()) }
            h2."nhsuk-heading-m" { "Provision, cold spots and maps" }
            ul."nhsuk-list nhsuk-list--bullet" {
                li { a href="/areas/provision" { "Provision by deprivation decile and ward" } ": activities and weekly session hours per 10,000 residents" }
                li { a href="/areas/cold-spots" { "Cold spots" } ": each neighbourhood's distance to the nearest activity (free, step-free, evening or weekend), as a table and CSV" }
                li { a href="/areas/map?of=deprivation" { "Map of deprivation by ward" } " and " a href="/areas/map?of=provision" { "map of provision by ward" } }
            }
            @if aggregates {
                h2."nhsuk-heading-m" { "Reach and barriers" }
                ul."nhsuk-list nhsuk-list--bullet" {
                    li { a href="/areas/reach" { "Reach and equity" } ": who is referred and who takes part, by deprivation decile, against each decile's share of residents" }
                    li { a href="/areas/barriers" { "Barriers to taking part" } ": what stops people, when it was raised, what was done and whether they then came" }
                }
            }
            @for e in order {
                @let of: Vec<&DistrictSummary> = rows.iter().filter(|s| s.edition == e.year()).collect();
                @if !of.is_empty() {
                    h2."nhsuk-heading-m" { (e.label()) }
                    (edition_table(e, &of))
                    @if e == Edition::Iod2025 { (rank_note_2025()) }
                }
            }
            (attribution())
        } }
    }
}

/// GET /areas/districts/{code} (public)
pub async fn district(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let both = summary::of_districts(&state.db, &[code.as_str()]).await?;
    let name = both
        .first()
        .ok_or(AppError::NotFound)?
        .district_name
        .clone();
    let by = |e: Edition| both.iter().find(|s| s.edition == e.year());
    let edition = super::api::installation_edition(&state);
    let wards = super::profiles::wards_of(&state, edition, code.trim()).await?;
    let body = super::district_html::view(
        &name,
        by(Edition::Iod2019),
        by(Edition::Iod2025),
        editions(&state),
        (edition, &wards),
    );
    Ok(page(&ctx, Page::new(&name, body)))
}

/// Why an IoD2025 rank here can differ from the published one by a place or two.
pub(super) fn rank_note_2025() -> Markup {
    html! {
        p."nhsuk-body-s" { "IoD2025 ranks: the city-region averages use File 7's mid-2022 populations, but for the other districts of England only estimated populations are held (File 8's income-domain numerator divided by File 7's income score), so a rank here can differ from the published one by a place or two. The shares of LSOAs are exact." }
    }
}

pub(super) fn not_loaded_note() -> Markup {
    not_loaded()
}

pub(super) fn sources() -> Markup {
    attribution()
}

pub(super) fn percent(x: f64) -> String {
    pct(x)
}

pub(super) fn lsoa_share(n: i64, of: i64) -> f64 {
    share(n, of)
}
