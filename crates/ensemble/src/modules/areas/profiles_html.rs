//! `/areas/wards/{code}` and `/areas/lsoas/{code}`: ward and small-area profiles (public
//! deprivation figures; the counts of people reached only for roles allowed aggregates).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::Edition;
use super::api::EditionQuery;
use super::html::sources;
use super::nearby::{self, Nearby, WALK_KM};
use super::outcomes::{self, OutcomeRow};
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

/// A small area not found: when the code is of the other edition's geography, say so and
/// link its matches in this edition and the code itself in its own.
async fn lsoa_not_found(
    state: &AppState,
    ctx: &PageCtx,
    code: &str,
    e: Edition,
) -> Result<Response, AppError> {
    let Some(w) = super::lsoa_codes::wrong_geography(&state.db, e, code).await? else {
        return Ok(not_found(ctx, "Small area", code, e));
    };
    let body = html! {
        h1 { "Small area not found in " (e.label()) }
        p."nhsuk-body" { (w.message()) }
        ul."nhsuk-list" {
            @for m in &w.matches {
                li { a href=(format!("/areas/lsoas/{m}?edition={}", e.code())) { (m) " in " (e.label()) " (" (e.geography()) ")" } }
            }
            li { a href=(format!("/areas/lsoas/{}?edition={}", w.code, w.belongs.code())) { (w.code) " in " (w.belongs.label()) " (" (w.belongs.geography()) ")" } }
        }
        p."nhsuk-body" { a href="/areas" { "Deprivation in the Liverpool City Region" } }
    };
    let mut r = page(ctx, Page::new("Small area not found", body));
    *r.status_mut() = StatusCode::NOT_FOUND;
    Ok(r)
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

/// What roles allowed aggregates see of the people living in an area.
type Reached = Option<(AreaCounts, Vec<OutcomeRow>)>;

fn outcomes_view(rows: &[OutcomeRow]) -> Markup {
    let caption = "Change in wellbeing of people living here: first and latest result";
    html! {
        h2."nhsuk-heading-m" { "Outcomes" }
        @if rows.is_empty() {
            p."nhsuk-body" { "No one living here who agreed to evaluation has a first and a later result yet." }
        } @else {
            (table_wrap(caption, html! {
                table."nhsuk-table" {
                    caption."nhsuk-table__caption nhsuk-u-visually-hidden" { (caption) }
                    thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="col" { "Measure" }
                        th."nhsuk-table__header" scope="col" { "People with a first and later result" }
                        th."nhsuk-table__header" scope="col" { "Mean change (95% interval)" }
                    } }
                    tbody."nhsuk-table__body" {
                        @for r in rows {
                            tr."nhsuk-table__row" {
                                th."nhsuk-table__header" scope="row" {
                                    (r.instrument) ": " (r.label)
                                    span."nhsuk-body-s" { (if r.higher_is_better { " (higher is better)" } else { " (lower is better)" }) }
                                }
                                td."nhsuk-table__cell" { (r.people) }
                                td."nhsuk-table__cell" {
                                    @match r.mean_change {
                                        Some((m, lo, hi)) => (format!("{m:+.2} ({lo:+.2} to {hi:+.2})")),
                                        None => "Not shown (fewer than 8 people)",
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
        p."nhsuk-body-s" { "Each person's first and latest completed result, for people who agreed to evaluation and live here. The mean change is shown once at least 8 people have both; the interval uses Student's t. Rebuilt every hour." }
    }
}

fn counts_view(c: Reached) -> Markup {
    let Some((c, outcomes)) = c else {
        return html! { p."nhsuk-body-s" { "Commissioners, programme managers and researchers who sign in also see the referrals, participants, sessions attended and outcomes of people living here." } };
    };
    html! {
        h2."nhsuk-heading-m" { "People reached" }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Referrals" } dd."nhsuk-summary-list__value" { (c.referrals) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Participants (attended at least once)" } dd."nhsuk-summary-list__value" { (c.participants) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Sessions attended" } dd."nhsuk-summary-list__value" { (c.sessions_attended) } }
        }
        p."nhsuk-body-s" { "People who have agreed to their information being used for evaluation only. Counts from 1 to 7 are not shown; others are rounded to the nearest 5. " (super::aggregates::as_at(c.as_at)) " Someone who withdraws their agreement leaves these figures at the next rebuild." }
        (outcomes_view(&outcomes))
    }
}

fn nearby_view(n: &Nearby, area: &str) -> Markup {
    const SHOWN: usize = 20;
    let caption = format!("Activities within {WALK_KM} km of {area}, nearest first");
    html! {
        h2."nhsuk-heading-m" { "Activities within reach" }
        @if n.centroids == 0 {
            p."nhsuk-body" { "The population-weighted centre of this area has not been imported, so distances cannot be measured." }
        } @else if n.activities.is_empty() {
            p."nhsuk-body" { "No listed activity meets within " (WALK_KM) " km (about a mile, or a 20-minute walk) of where people here live." }
        } @else {
            p."nhsuk-body" {
                (n.activities.len()) " listed " (if n.activities.len() == 1 { "activity meets" } else { "activities meet" })
                " within " (WALK_KM) " km (about a mile, or a 20-minute walk, in a straight line) of where people here live, with "
                (format!("{:.1}", n.weekly_hours)) " hours of sessions a week between them."
            }
            (table_wrap(&caption, html! {
                table."nhsuk-table" {
                    caption."nhsuk-table__caption nhsuk-u-visually-hidden" { (caption) }
                    thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="col" { "Activity" }
                        th."nhsuk-table__header" scope="col" { "Distance" }
                        th."nhsuk-table__header" scope="col" { "Hours a week" }
                        th."nhsuk-table__header" scope="col" { "Free" }
                        th."nhsuk-table__header" scope="col" { "Step-free" }
                    } }
                    tbody."nhsuk-table__body" {
                        @for a in n.activities.iter().take(SHOWN) {
                            tr."nhsuk-table__row" {
                                th."nhsuk-table__header" scope="row" { a href=(format!("/activities/{}", a.id)) { (a.name) } }
                                td."nhsuk-table__cell" { (format!("{:.1} km", a.km)) }
                                td."nhsuk-table__cell" { (format!("{:.1}", a.weekly_hours)) }
                                td."nhsuk-table__cell" { (if a.free { "Yes" } else { "No" }) }
                                td."nhsuk-table__cell" { (if a.step_free { "Yes" } else { "No" }) }
                            }
                        }
                    }
                }
            }))
            @if n.activities.len() > SHOWN {
                p."nhsuk-body-s" { "The " (SHOWN) " nearest are shown, of " (n.activities.len()) "." }
            }
            p."nhsuk-body-s" { "Distances are in a straight line from the population-weighted centre of each small area to the venue. Hours are the sessions the activity's schedule meets in the next four weeks, divided by four, shared equally between its venues." }
        }
    }
}

async fn counts_for(
    state: &AppState,
    ctx: &PageCtx,
    e: Edition,
    codes: &[String],
) -> Result<Reached, AppError> {
    let Some(g) = ctx
        .actor()
        .and_then(|a| Granted::<ViewAreaAggregates>::check(&a).ok())
    else {
        return Ok(None);
    };
    Ok(Some((
        profiles::counts(state, &g, e, codes).await?,
        outcomes::for_areas(state, &g, e, codes).await?,
    )))
}

/// The same place in the other edition's geography, with links.
fn counterparts_view(e: Edition, codes: &[String], district: &str) -> Markup {
    let o = super::lsoa_codes::other(e);
    html! {
        @if !codes.is_empty() {
            p."nhsuk-body" { "The same place in " (o.label()) " (" (o.geography()) "), through the ONS lookup: "
                @for (i, c) in codes.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(format!("/areas/lsoas/{c}?edition={}", o.code())) { (c) }
                }
                "."
            }
        }
        @if super::CITY_REGION.contains(&district) {
            p."nhsuk-body" { a href=(format!("/areas/map?of=deprivation&level=lsoa&district={district}&edition={}", e.code())) { "Map of deprivation by small area in this district (" (e.label()) ")" } }
        }
    }
}

/// What an LSOA profile shows beside its own figures.
struct Around<'a> {
    reached: Reached,
    nearby: &'a Nearby,
    other: &'a [String],
}

fn lsoa_view(l: &LsoaProfile, e: Edition, a: Around<'_>) -> Markup {
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
        (counterparts_view(e, a.other, &l.district_code))
        (domains(l, e))
        (nearby_view(a.nearby, "this small area"))
        (counts_view(a.reached))
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
        return lsoa_not_found(&state, &ctx, code.trim(), e).await;
    };
    let codes = std::slice::from_ref(&l.code);
    let reached = counts_for(&state, &ctx, e, codes).await?;
    let nearby = nearby::of_areas(&state, e, codes).await?;
    let other = super::lsoa_codes::counterparts(&state.db, e, &l.code).await?;
    let around = Around {
        reached,
        nearby: &nearby,
        other: &other,
    };
    let title = format!("Small area {}", l.code);
    Ok(page(&ctx, Page::new(&title, lsoa_view(&l, e, around))))
}

fn ward_view(
    name: &str,
    code: &str,
    list: &[LsoaProfile],
    e: Edition,
    c: Reached,
    n: &Nearby,
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
        (nearby_view(n, "any of its small areas"))
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
    let n = nearby::of_areas(&state, e, &codes).await?;
    let code = code.trim().to_uppercase();
    Ok(page(
        &ctx,
        Page::new(&name, ward_view(&name, &code, &list, e, c, &n)),
    ))
}
