//! The public search page (`/activities`): list, map and print views. After a search the
//! form folds under a summary of what is applied (each with a link that removes it), so on
//! a phone the results come first; a search that finds nothing offers links that widen it.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{Markup, html};

use crate::error::{AppError, FieldError};
use crate::modules::places::Point;
use crate::state::AppState;
use crate::web::forms::{Input, checkboxes, error_summary, select};
use crate::web::{Page, PageCtx, page};

use super::map::{self, MapSpec};
use super::model::{AccessFeature, Activity, Cost, Day, TimeOfDay};
use super::search::{self, Outcome, SearchForm, distance_text};

fn pairs(raw: Option<String>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(&q).ok())
        .unwrap_or_default()
}

fn opts<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str, &'static str)> {
    all.iter().map(|v| (code(*v), label(*v), "")).collect()
}

fn href(form: &SearchForm, view: &str) -> String {
    let q = form.query_string(form.page, view);
    if q.is_empty() {
        "/activities".into()
    } else {
        format!("/activities?{q}")
    }
}

/// The filters: day, time, cost, access, type and online.
fn filter_fields(f: &SearchForm, types: &[(String, String)], errors: &[FieldError]) -> Markup {
    let days: Vec<(String, String)> = Day::ALL
        .iter()
        .map(|d| (d.code().to_string(), d.label().to_string()))
        .collect();
    let times: Vec<(String, String)> = TimeOfDay::ALL
        .iter()
        .map(|d| (d.code().to_string(), d.label().to_string()))
        .collect();
    let mut costs = opts(Cost::ALL, Cost::code, Cost::label);
    costs.push(("bursary", "Bursary available", ""));
    let access = opts(
        AccessFeature::ALL,
        AccessFeature::code,
        AccessFeature::label,
    );
    let type_opts: Vec<(&str, &str, &str)> = types
        .iter()
        .map(|(c, n)| (c.as_str(), n.as_str(), ""))
        .collect();
    let online: Vec<(String, String)> = vec![
        ("online".into(), "Online only".into()),
        ("in_person".into(), "In person only".into()),
    ];
    html! {
        (select("day", "Day", &days, &f.day, errors))
        (select("time", "Time of day", &times, &f.time, errors))
        (checkboxes("cost", "Cost", &costs, &f.cost, errors))
        (checkboxes("access", "Access needs (all must be met)", &access, &f.access, errors))
        (checkboxes("type", "Type of activity", &type_opts, &f.types, errors))
        (select("online", "Online or in person", &online, &f.online, errors))
    }
}

/// The whole form. Before any search the filters are folded under "More filters"; after
/// one the caller folds the whole form.
fn search_form(f: &SearchForm, types: &[(String, String)], errors: &[FieldError]) -> Markup {
    let unit = if f.unit.is_empty() { "miles" } else { &f.unit };
    let fold_filters = f.is_blank() && errors.is_empty();
    html! {
        form method="get" action="/activities" novalidate {
            (Input::new("q", "What are you looking for?", &f.q).kind("search").hint("For example singing, drumming or ukulele").render(errors))
            (Input::new("postcode", "Postcode", &f.postcode).autocomplete("postal-code").width("nhsuk-input--width-10").hint("To sort by distance, like L1 8JQ").render(errors))
            (Input::new("distance", "Within", &f.distance).kind("text").width("nhsuk-input--width-4").hint("Distance from the postcode; 5 if left empty").render(errors))
            (select("unit", "Unit", &[("miles".into(), "miles".into()), ("km".into(), "kilometres".into())], unit, errors))
            @if fold_filters {
                details."nhsuk-details" {
                    summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "More filters: day, time, cost, access and type" } }
                    div."nhsuk-details__text" { (filter_fields(f, types, errors)) }
                }
            } @else {
                (filter_fields(f, types, errors))
            }
            button."nhsuk-button" type="submit" { "Search" }
        }
    }
}

/// What is applied, each with a link that removes it.
fn applied_summary(form: &SearchForm, types: &[(String, String)], view: &str) -> Markup {
    let applied = form.applied(types);
    html! {
        h2."nhsuk-heading-s" id="applied" { "Your search" }
        ul."nhsuk-list"."ensemble-applied" aria-labelledby="applied" {
            @for a in &applied {
                li {
                    strong."nhsuk-tag"."nhsuk-tag--white" { (a.label) }
                    " "
                    a href=(href(&a.without, view)) { "Remove" span."nhsuk-u-visually-hidden" { " " (a.label) } }
                }
            }
        }
    }
}

fn result_card(a: &Activity, dist: Option<f64>, miles: bool) -> Markup {
    html! {
        li."nhsuk-card"."nhsuk-card--clickable" {
            div."nhsuk-card__content" {
                h3."nhsuk-card__heading"."nhsuk-heading-s" { a."nhsuk-card__link" href=(format!("/activities/{}", a.id)) { (a.name) } }
                p."nhsuk-card__description" { (a.organisation_name) }
                dl."nhsuk-summary-list" {
                    @if let Some(d) = dist {
                        div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Distance" } dd."nhsuk-summary-list__value" { (distance_text(d, miles)) } }
                    }
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "When" } dd."nhsuk-summary-list__value" {
                        @if a.schedules.is_empty() { "Contact them for times" }
                        @for s in &a.schedules { (s.summary()) br; }
                    } }
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Where" } dd."nhsuk-summary-list__value" {
                        @for l in &a.locations { (l.name) ", " (l.postcode) br; }
                        @if a.online { "Online" }
                    } }
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Cost" } dd."nhsuk-summary-list__value" { (a.cost_text()) } }
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "How to join" } dd."nhsuk-summary-list__value" { (a.how_to_join.label()) } }
                }
            }
        }
    }
}

/// The map of the results on this page: numbered markers in list order, the search circle
/// and "you are here".
async fn results_map(state: &AppState, out: &Outcome) -> Markup {
    let mut markers: Vec<(usize, Point)> = Vec::new();
    for (i, (a, _)) in out.results.iter().enumerate() {
        for l in &a.locations {
            if let Some(p) = l.point {
                markers.push((i + 1, p));
            }
        }
    }
    let around = out
        .centre
        .as_ref()
        .map(|(pc, _, _)| format!(" around {pc}, marked \u{201c}You are here\u{201d}"))
        .unwrap_or_default();
    let spec = MapSpec {
        markers,
        here: out.centre.as_ref().map(|(_, p, r)| (*p, Some(*r))),
        margin_m: 600.0,
        height: 400.0,
        title: "Map of activities".into(),
        desc: format!(
            "Map of {} result{} on this page{around}. Numbered markers match the numbered list below the map.",
            out.results.len(),
            if out.results.len() == 1 { "" } else { "s" }
        ),
        id: "map".into(),
    };
    let base = map::base(state, map::view_for(&spec)).await;
    map::draw(&spec, &base)
}

/// GET /activities
pub async fn search_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let form = SearchForm::from_pairs(&pairs(raw));
    let view = match form.view.as_str() {
        "map" => "map",
        "print" => "print",
        _ => "list",
    };
    let out = search::run(&state, &form, view == "print").await?;
    let types = super::cache::of(&state).types(&state.db).await?;
    let map = if view == "map" && out.errors.is_empty() {
        Some(results_map(&state, &out).await)
    } else {
        None
    };
    let body = search_view(&form, &out, &types, view, map);
    let title = if view == "print" {
        "Activities (printable list)"
    } else {
        "Find a music or creative activity"
    };
    Ok(page(
        &ctx,
        Page::new(title, body).errors(!out.errors.is_empty()),
    ))
}

fn heading(out: &Outcome) -> String {
    match (&out.centre, out.total) {
        (_, 0) => "No activities found".to_string(),
        (Some((pc, _, r)), n) => format!(
            "{n} {} within {} of {pc}",
            if n == 1 { "activity" } else { "activities" },
            distance_text(*r, out.miles)
        ),
        (None, n) => format!("{n} {}", if n == 1 { "activity" } else { "activities" }),
    }
}

/// The search page: the form (folded under what is applied once a search is made), the
/// results as a list or a map, and the pages.
fn search_view(
    form: &SearchForm,
    out: &Outcome,
    types: &[(String, String)],
    view: &str,
    map: Option<Markup>,
) -> Markup {
    let searched = !form.is_blank() || !out.errors.is_empty();
    html! {
        (error_summary(&out.errors))
        h1 { "Find a music or creative activity" }
        @if view == "print" {
            (results(form, out, types, view, map))
        } @else {
            @if !searched {
                p."nhsuk-lede-text" { "Groups across the Liverpool City Region for your mental health and wellbeing. Most are free and you do not need any experience." }
            }
            div."nhsuk-grid-row" {
                div."nhsuk-grid-column-one-third"."ensemble-search-form" {
                    @if searched {
                        @if !form.is_blank() { (applied_summary(form, types, view)) }
                        details."nhsuk-details" open[!out.errors.is_empty()] {
                            summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Change your search" } }
                            div."nhsuk-details__text" { (search_form(form, types, &out.errors)) }
                        }
                    } @else {
                        (search_form(form, types, &out.errors))
                    }
                }
                div."nhsuk-grid-column-two-thirds" { (results(form, out, types, view, map)) }
            }
        }
    }
}

fn results(
    form: &SearchForm,
    out: &Outcome,
    types: &[(String, String)],
    view: &str,
    map: Option<Markup>,
) -> Markup {
    let pages = (out.total + search::PER_PAGE - 1) / search::PER_PAGE;
    let at = |page: i64, v: &str| format!("/activities?{}", form.query_string(page, v));
    html! {
        @if out.errors.is_empty() {
            h2."nhsuk-heading-m" id="results" { (heading(out)) }
            @if view != "print" {
                nav aria-label="Ways to see the results" {
                    ul."nhsuk-list"."ensemble-inline-list" {
                        li { @if view == "list" { strong { "List" } } @else { a href=(at(1, "list")) { "List" } } }
                        li { @if view == "map" { strong { "Map" } } @else { a href=(at(1, "map")) { "Map" } } }
                        li { a href=(at(1, "print")) { "Printable list" } }
                    }
                }
            }
            @if out.total == 0 { (widen(form, out, types, view)) }
            @if let Some(m) = map {
                div."ensemble-map-wrap" { (m) }
                p."nhsuk-body-s" { "Numbers on the map match the numbers in the list. " (map::ATTRIBUTION) }
                ol."nhsuk-list"."nhsuk-list--number" {
                    @for (a, d) in &out.results {
                        li { a href=(format!("/activities/{}", a.id)) { (a.name) } @if let Some(d) = d { " – " (distance_text(*d, out.miles)) } }
                    }
                }
            } @else {
                ul."nhsuk-list"."ensemble-results" {
                    @for (a, d) in &out.results { (result_card(a, *d, out.miles)) }
                }
            }
            @if pages > 1 && view != "print" {
                nav."nhsuk-pagination" role="navigation" aria-label="Pagination" {
                    ul."nhsuk-list"."nhsuk-pagination__list" {
                        @if form.page > 1 { li."nhsuk-pagination-item--previous" { a."nhsuk-pagination__link"."nhsuk-pagination__link--prev" href=(at(form.page - 1, view)) { span."nhsuk-pagination__title" { "Previous" } span."nhsuk-u-visually-hidden" { ":" } span."nhsuk-pagination__page" { "Page " (form.page - 1) " of " (pages) } } } }
                        @if form.page < pages { li."nhsuk-pagination-item--next" { a."nhsuk-pagination__link"."nhsuk-pagination__link--next" href=(at(form.page + 1, view)) { span."nhsuk-pagination__title" { "Next" } span."nhsuk-u-visually-hidden" { ":" } span."nhsuk-pagination__page" { "Page " (form.page + 1) " of " (pages) } } } }
                    }
                }
            }
        }
    }
}

/// Nothing found: why, and links that widen the search (a wider distance, or the same
/// search without each thing asked for).
fn widen(form: &SearchForm, out: &Outcome, types: &[(String, String)], view: &str) -> Markup {
    let wider = form.wider();
    let applied = form.applied(types);
    html! {
        div."nhsuk-inset-text"."ensemble-widen" {
            span."nhsuk-u-visually-hidden" { "Information: " }
            p { (empty_reason(form, out)) }
            ul."nhsuk-list"."nhsuk-list--bullet" {
                @for (label, f) in &wider { li { a href=(href(f, view)) { (label) } } }
                @for a in &applied { li { a href=(href(&a.without, view)) { "Search without " (a.label) } } }
                li { a href="/activities" { "Or start a new search" } }
            }
        }
    }
}

fn empty_reason(form: &SearchForm, out: &Outcome) -> String {
    match &out.centre {
        Some((pc, _, r)) => format!(
            "Nothing matches your search within {} of {pc}. You could:",
            distance_text(*r, out.miles)
        ),
        None if form.is_blank() => "There are no activities listed yet.".into(),
        None => "Nothing matches all of your choices. You could:".into(),
    }
}
