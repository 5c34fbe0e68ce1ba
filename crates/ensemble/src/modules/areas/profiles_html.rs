//! `/areas/wards/{code}` and `/areas/lsoas/{code}`: ward and small-area profiles (public
//! deprivation figures; the counts of people reached only for roles allowed aggregates).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::Edition;
use super::api::EditionQuery;
use super::html::sources;
use super::profiles::{self, AreaCounts, LsoaProfile};
use crate::error::AppError;
use crate::rbac::Granted;
use crate::rbac::perm::ViewAreaAggregates;
use crate::state::AppState;
use crate::web::forms::table_wrap;
use crate::web::{Page, PageCtx, page};

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "Not imported".into(), |v| v.to_string())
}

fn edition_of(state: &AppState, q: &EditionQuery) -> Result<Edition, AppError> {
    match q
        .edition
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Ok(super::api::installation_edition(state)),
        Some(e) => Edition::parse(e).map_err(AppError::BadRequest),
    }
}

fn not_found(ctx: &PageCtx, what: &str, code: &str, e: Edition) -> Response {
    let body = html! {
        h1 { (what) " not found" }
        p."nhsuk-body" { "There is no " (what.to_lowercase()) " \"" (code) "\" in " (e.label()) " (" (e.geography()) ")." }
        p."nhsuk-body" { a href="/areas" { "Deprivation in the Liverpool City Region" } }
    };
    let mut r = page(ctx, Page::new(&format!("{what} not found"), body));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

fn domains(l: &LsoaProfile, e: Edition) -> Markup {
    let caption = format!(
        "{}: the seven domains ({}; rank 1 = most deprived of {})",
        l.code,
        e.label(),
        e.lsoas_in_england()
    );
    table_wrap(
        &caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Domain" }
                    th."nhsuk-table__header" scope="col" { "Rank" }
                    th."nhsuk-table__header" scope="col" { "Decile" }
                } }
                tbody."nhsuk-table__body" {
                    tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="row" { "Index of Multiple Deprivation" }
                        td."nhsuk-table__cell" { (opt(l.imd_rank)) }
                        td."nhsuk-table__cell" { (opt(l.imd_decile)) }
                    }
                    @for (label, rank, decile) in &l.domains {
                        tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="row" { (label) }
                            td."nhsuk-table__cell" { (opt(*rank)) }
                            td."nhsuk-table__cell" { (opt(*decile)) }
                        }
                    }
                }
            }
        },
    )
}

fn counts_view(c: Option<AreaCounts>) -> Markup {
    let Some(c) = c else {
        return html! { p."nhsuk-body-s" { "Commissioners, programme managers and researchers who sign in also see the referrals, participants and sessions attended of people living here." } };
    };
    html! {
        h2."nhsuk-heading-m" { "People reached" }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Referrals" } dd."nhsuk-summary-list__value" { (c.referrals) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Participants (attended at least once)" } dd."nhsuk-summary-list__value" { (c.participants) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Sessions attended" } dd."nhsuk-summary-list__value" { (c.sessions_attended) } }
        }
        p."nhsuk-body-s" { "People who have agreed to their information being used for evaluation only. Counts from 1 to 7 are not shown; others are rounded to the nearest 5. " (super::aggregates::as_at(c.as_at)) " Someone who withdraws their agreement leaves these figures at the next rebuild." }
    }
}

async fn counts_for(
    state: &AppState,
    ctx: &PageCtx,
    e: Edition,
    codes: &[String],
) -> Result<Option<AreaCounts>, AppError> {
    let Some(g) = ctx
        .actor()
        .and_then(|a| Granted::<ViewAreaAggregates>::check(&a).ok())
    else {
        return Ok(None);
    };
    Ok(Some(profiles::counts(state, &g, e, codes).await?))
}

fn lsoa_view(l: &LsoaProfile, e: Edition, c: Option<AreaCounts>) -> Markup {
    html! {
        span."nhsuk-caption-l" { "Small area (" (e.geography()) ") " (l.code) }
        h1 { (if l.name.is_empty() { &l.code } else { &l.name }) }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "District" } dd."nhsuk-summary-list__value" { a href=(format!("/areas/districts/{}", l.district_code)) { (l.district_name) } } }
            @if let Some((code, name)) = &l.ward {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Ward" } dd."nhsuk-summary-list__value" { a href=(format!("/areas/wards/{code}?edition={}", e.code())) { (name) } } }
            }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "IMD score" } dd."nhsuk-summary-list__value" { (l.imd_score.map_or_else(|| "Not imported".into(), |s| format!("{s:.3}"))) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "IMD rank (1 = most deprived)" } dd."nhsuk-summary-list__value" { (opt(l.imd_rank)) " of " (e.lsoas_in_england()) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "IMD decile" } dd."nhsuk-summary-list__value" { (opt(l.imd_decile)) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Population" } dd."nhsuk-summary-list__value" { (opt(l.population)) } }
        }
        (domains(l, e))
        (counts_view(c))
        (sources())
    }
}

/// GET /areas/lsoas/{code}
pub async fn lsoa(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Query(q): Query<EditionQuery>,
) -> Result<Response, AppError> {
    let e = edition_of(&state, &q)?;
    let Some(l) = profiles::lsoa(&state, e, &code).await? else {
        return Ok(not_found(&ctx, "Small area", code.trim(), e));
    };
    let c = counts_for(&state, &ctx, e, std::slice::from_ref(&l.code)).await?;
    let title = format!("Small area {}", l.code);
    Ok(page(&ctx, Page::new(&title, lsoa_view(&l, e, c))))
}

fn ward_view(
    name: &str,
    code: &str,
    list: &[LsoaProfile],
    e: Edition,
    c: Option<AreaCounts>,
) -> Markup {
    let caption = format!("Small areas of {name} ({}, most deprived first)", e.label());
    let pop: i64 = list.iter().filter_map(|l| l.population).sum();
    html! {
        span."nhsuk-caption-l" { "Ward " (code) }
        h1 { (name) }
        @if let Some(l) = list.first() {
            p."nhsuk-body" { "In " a href=(format!("/areas/districts/{}", l.district_code)) { (l.district_name) } ". "
                (list.len()) " small areas (" (e.geography()) "); population " (pop) "." }
        }
        (table_wrap(&caption, html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Small area" }
                    th."nhsuk-table__header" scope="col" { "IMD score" }
                    th."nhsuk-table__header" scope="col" { "IMD rank" }
                    th."nhsuk-table__header" scope="col" { "IMD decile" }
                    th."nhsuk-table__header" scope="col" { "Population" }
                } }
                tbody."nhsuk-table__body" {
                    @for l in list {
                        tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="row" { a href=(format!("/areas/lsoas/{}?edition={}", l.code, e.code())) { (l.code) " " (l.name) } }
                            td."nhsuk-table__cell" { (l.imd_score.map_or_else(|| "Not imported".into(), |s| format!("{s:.3}"))) }
                            td."nhsuk-table__cell" { (opt(l.imd_rank)) }
                            td."nhsuk-table__cell" { (opt(l.imd_decile)) }
                            td."nhsuk-table__cell" { (opt(l.population)) }
                        }
                    }
                }
            }
        }))
        (counts_view(c))
        (sources())
    }
}

/// GET /areas/wards/{code}
pub async fn ward(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Query(q): Query<EditionQuery>,
) -> Result<Response, AppError> {
    let e = edition_of(&state, &q)?;
    let Some((name, list)) = profiles::ward(&state, e, &code).await? else {
        return Ok(not_found(&ctx, "Ward", code.trim(), e));
    };
    let codes: Vec<String> = list.iter().map(|l| l.code.clone()).collect();
    let c = counts_for(&state, &ctx, e, &codes).await?;
    let code = code.trim().to_uppercase();
    Ok(page(
        &ctx,
        Page::new(&name, ward_view(&name, &code, &list, e, c)),
    ))
}
