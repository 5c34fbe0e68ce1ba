//! Directory pages: public search (list, map and print views), activity pages, and the
//! programme managers' pages to add, edit, review and archive listings.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::error::{AppError, FieldError};
use crate::modules::accounts::service as accounts;
use crate::modules::places::Point;
use crate::rbac::Granted;
use crate::rbac::perm::ManageActivities;
use crate::state::AppState;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, select, table_wrap,
};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use super::model::{AccessFeature, Activity, ActivityInput, Cost, Day, Freq, HowToJoin, TimeOfDay};
use super::search::{self, Outcome, SearchForm, distance_text};
use super::{service, store};

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

fn search_form(ctx_form: &SearchForm, types: &[(String, String)], errors: &[FieldError]) -> Markup {
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
        form method="get" action="/activities" novalidate {
            (Input::new("q", "What are you looking for?", &ctx_form.q).kind("search").hint("For example singing, drumming or ukulele").render(errors))
            div."nhsuk-grid-row" {
                div."nhsuk-grid-column-one-half" {
                    (Input::new("postcode", "Postcode", &ctx_form.postcode).autocomplete("postal-code").width("nhsuk-input--width-10").hint("To sort by distance, like L1 8JQ").render(errors))
                }
                div."nhsuk-grid-column-one-half" {
                    (Input::new("distance", "Within", &ctx_form.distance).kind("text").width("nhsuk-input--width-4").hint("Distance from the postcode; 5 if left empty").render(errors))
                    (select("unit", "Unit", &[("miles".into(), "miles".into()), ("km".into(), "kilometres".into())], if ctx_form.unit.is_empty() { "miles" } else { &ctx_form.unit }, errors))
                }
            }
            details."nhsuk-details" open[!ctx_form.is_blank()] {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "More filters: day, time, cost, access and type" } }
                div."nhsuk-details__text" {
                    (select("day", "Day", &days, &ctx_form.day, errors))
                    (select("time", "Time of day", &times, &ctx_form.time, errors))
                    (checkboxes("cost", "Cost", &costs, &ctx_form.cost, errors))
                    (checkboxes("access", "Access needs (all must be met)", &access, &ctx_form.access, errors))
                    (checkboxes("type", "Type of activity", &type_opts, &ctx_form.types, errors))
                    (select("online", "Online or in person", &online, &ctx_form.online, errors))
                }
            }
            button."nhsuk-button" type="submit" { "Search" }
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

/// An SVG map of the results: venues as numbered points, the search centre and its circle,
/// and (when the open data is loaded) the area's small-area centroids as a faint backdrop.
fn map_svg(out: &Outcome, backdrop: &[Point]) -> Markup {
    let mut pts: Vec<(usize, Point)> = Vec::new();
    for (i, (a, _)) in out.results.iter().enumerate() {
        for l in &a.locations {
            if let Some(p) = l.point {
                pts.push((i + 1, p));
            }
        }
    }
    let mut all: Vec<Point> = pts.iter().map(|p| p.1).collect();
    if let Some((_, c, r)) = &out.centre {
        // Show the whole search circle.
        let (a, b, l, rt) = crate::modules::places::bounding_box(*c, *r);
        all.extend([Point { lat: a, lon: l }, Point { lat: b, lon: rt }]);
    }
    if all.is_empty() {
        all.extend_from_slice(backdrop);
    }
    let (w, h) = (640.0_f64, 480.0_f64);
    let lat0 = all.iter().map(|p| p.lat).fold(f64::INFINITY, f64::min);
    let lat1 = all.iter().map(|p| p.lat).fold(f64::NEG_INFINITY, f64::max);
    let lon0 = all.iter().map(|p| p.lon).fold(f64::INFINITY, f64::min);
    let lon1 = all.iter().map(|p| p.lon).fold(f64::NEG_INFINITY, f64::max);
    let (lat0, lat1, lon0, lon1) = if all.is_empty() {
        (53.3, 53.6, -3.1, -2.7)
    } else {
        (lat0 - 0.01, lat1 + 0.01, lon0 - 0.015, lon1 + 0.015)
    };
    let k = ((lat0 + lat1) / 2.0).to_radians().cos();
    let sx = w / ((lon1 - lon0) * k).max(1e-6);
    let sy = h / (lat1 - lat0).max(1e-6);
    let s = sx.min(sy);
    let x = |p: Point| 10.0 + (p.lon - lon0) * k * s;
    let y = |p: Point| 10.0 + (lat1 - p.lat) * s;
    let desc = format!(
        "Map of {} result(s) on this page{}.",
        out.results.len(),
        out.centre
            .as_ref()
            .map(|(pc, _, _)| format!(" around {pc}"))
            .unwrap_or_default()
    );
    html! {
        svg."ensemble-map" viewBox=(format!("0 0 {} {}", w + 20.0, h + 20.0)) role="img" aria-labelledby="map-title map-desc" {
            title id="map-title" { "Map of activities" }
            desc id="map-desc" { (desc) }
            rect x="0" y="0" width=(w + 20.0) height=(h + 20.0) fill="#f0f4f5" {}
            @for p in backdrop {
                @if p.lat >= lat0 && p.lat <= lat1 && p.lon >= lon0 && p.lon <= lon1 {
                    circle cx=(format!("{:.1}", x(*p))) cy=(format!("{:.1}", y(*p))) r="1.5" fill="#aeb7bd" {}
                }
            }
            @if let Some((_, c, r)) = &out.centre {
                circle cx=(format!("{:.1}", x(*c))) cy=(format!("{:.1}", y(*c))) r=(format!("{:.1}", r / 111_320.0 * s)) fill="none" stroke="#005eb8" stroke-dasharray="6 4" {}
                path d=(format!("M{:.1} {:.1} l-7 -14 a8 8 0 1 1 14 0 z", x(*c), y(*c))) fill="#d5281b" {}
            }
            @for (n, p) in &pts {
                g {
                    circle cx=(format!("{:.1}", x(*p))) cy=(format!("{:.1}", y(*p))) r="11" fill="#005eb8" stroke="#ffffff" stroke-width="2" {}
                    text x=(format!("{:.1}", x(*p))) y=(format!("{:.1}", y(*p) + 4.0)) text-anchor="middle" font-size="11" font-family="Arial, sans-serif" fill="#ffffff" { (n) }
                }
            }
        }
    }
}

async fn backdrop(state: &AppState) -> Vec<Point> {
    use sqlx::Row;
    sqlx::query("SELECT latitude, longitude FROM places_lsoa_areas")
        .fetch_all(&state.db.read)
        .await
        .map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    Some(Point {
                        lat: r.try_get("latitude").ok()?,
                        lon: r.try_get("longitude").ok()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
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
    let map = if view == "map" {
        Some(map_svg(&out, &backdrop(&state).await))
    } else {
        None
    };
    let body = search_view(&form, &out, &types, view, map);
    let title = if view == "print" {
        "Activities (printable list)"
    } else {
        "Find a music or creative activity"
    };
    let r = page(&ctx, Page::new(title, body).errors(!out.errors.is_empty()));
    Ok(r)
}

/// The search page: the form (unless printing), the heading, the results as a list or a
/// map, and the pages.
fn search_view(
    form: &SearchForm,
    out: &Outcome,
    types: &[(String, String)],
    view: &str,
    map: Option<Markup>,
) -> Markup {
    let pages = (out.total + search::PER_PAGE - 1) / search::PER_PAGE;
    let heading = match (&out.centre, out.total) {
        (_, 0) => "No activities found".to_string(),
        (Some((pc, _, r)), n) => format!(
            "{n} {} within {} of {pc}",
            if n == 1 { "activity" } else { "activities" },
            distance_text(*r, out.miles)
        ),
        (None, n) => format!("{n} {}", if n == 1 { "activity" } else { "activities" }),
    };
    html! {
        (error_summary(&out.errors))
        h1 { "Find a music or creative activity" }
        @if view != "print" {
            p."nhsuk-lede-text" { "Groups across the Liverpool City Region for your mental health and wellbeing. Most are free and you do not need any experience." }
            (search_form(form, types, &out.errors))
        }
        @if out.errors.is_empty() {
            h2."nhsuk-heading-m" id="results" { (heading) }
            @if view != "print" {
                nav aria-label="Ways to see the results" {
                    ul."nhsuk-list"."ensemble-inline-list" {
                        li { @if view == "list" { strong { "List" } } @else { a href=(format!("/activities?{}", form.query_string(1, "list"))) { "List" } } }
                        li { @if view == "map" { strong { "Map" } } @else { a href=(format!("/activities?{}", form.query_string(1, "map"))) { "Map" } } }
                        li { a href=(format!("/activities?{}", form.query_string(1, "print"))) { "Printable list" } }
                    }
                }
            }
            @if out.total == 0 {
                div."nhsuk-inset-text" {
                    span."nhsuk-u-visually-hidden" { "Information: " }
                    p { (empty_reason(form, out)) }
                    ul."nhsuk-list"."nhsuk-list--bullet" {
                        @if out.centre.is_some() { li { "search a wider distance, such as 10 or 20 miles" } }
                        @if !form.q.trim().is_empty() { li { "use fewer or different words" } }
                        @if !form.day.is_empty() || !form.time.is_empty() { li { "try any day or any time" } }
                        @if !form.access.is_empty() || !form.cost.is_empty() || !form.types.is_empty() { li { "choose fewer filters" } }
                        li { a href="/activities" { "start a new search" } }
                    }
                }
            }
            @if let Some(m) = map {
                div."ensemble-map-wrap" { (m) }
                p."nhsuk-body-s" { "Numbers on the map match the numbers in the list. Contains OS data © Crown copyright and database right; Royal Mail data © Royal Mail copyright and database right; Office for National Statistics data licensed under the Open Government Licence v3.0." }
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
                        @if form.page > 1 { li."nhsuk-pagination-item--previous" { a."nhsuk-pagination__link"."nhsuk-pagination__link--prev" href=(format!("/activities?{}", form.query_string(form.page - 1, view))) { span."nhsuk-pagination__title" { "Previous" } span."nhsuk-u-visually-hidden" { ":" } span."nhsuk-pagination__page" { "Page " (form.page - 1) " of " (pages) } } } }
                        @if form.page < pages { li."nhsuk-pagination-item--next" { a."nhsuk-pagination__link"."nhsuk-pagination__link--next" href=(format!("/activities?{}", form.query_string(form.page + 1, view))) { span."nhsuk-pagination__title" { "Next" } span."nhsuk-u-visually-hidden" { ":" } span."nhsuk-pagination__page" { "Page " (form.page + 1) " of " (pages) } } } }
                    }
                }
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

fn row(k: &str, v: Markup) -> Markup {
    html! { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { (k) } dd."nhsuk-summary-list__value" { (v) } } }
}

/// GET /activities/{id}
pub async fn activity_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let a = service::get_public(&state, &id).await?;
    // Only practitioners who made their profile public are named.
    let leads: Vec<_> = super::practitioners::leads(&state, &a.id)
        .await?
        .into_iter()
        .filter(|l| l.2)
        .collect();
    let can_edit = ctx
        .actor()
        .is_some_and(|act| service::can_manage(&act, &a.organisation_id));
    let body = activity_view(&a, &leads, can_edit);
    Ok(page(
        &ctx,
        Page::new(&a.name, body).back("/activities", "Back to search"),
    ))
}

fn activity_view(a: &Activity, leads: &[(String, String, bool)], can_edit: bool) -> Markup {
    html! {
        span."nhsuk-caption-l" { (a.organisation_name) }
        h1 { (a.name) }
        p."nhsuk-lede-text" { (a.description) }
        @if !a.first_visit.is_empty() {
            div."nhsuk-inset-text" {
                span."nhsuk-u-visually-hidden" { "Information: " }
                h2."nhsuk-heading-s" { "What to expect on your first visit" }
                p { (a.first_visit) }
            }
        }
        dl."nhsuk-summary-list" {
            (row("When", html! { @if a.schedules.is_empty() { "Contact them for times" } @for s in &a.schedules { (s.summary()) @if !s.description.is_empty() { " (" (s.description) ")" } br; } }))
            (row("Where", html! {
                @for l in &a.locations {
                    (l.name) br; (l.address_1) ", " (l.city) " " (l.postcode) br;
                    @if let Some(p) = l.point {
                        a href=(directions_href(p, &l.name)) { "Directions to " (l.name) " (opens your maps app)" } br;
                    }
                }
                @if a.online { "Online" @if let Some(u) = &a.online_url { ": " a href=(u) rel="noopener noreferrer" { "joining link" } } }
            }))
            (row("Who it is for", html! { (if a.eligibility.is_empty() { "Everyone" } else { &a.eligibility }) br; (a.ages_text()) }))
            (row("How to join", html! { (a.how_to_join.label()) }))
            (row("Cost", html! { (a.cost_text()) }))
            (row("Places", html! { @if let Some(c) = a.capacity { (c) " places" } @else { "No set limit" } @if a.waiting_list { br; strong."nhsuk-tag"."nhsuk-tag--yellow" { "Waiting list" } } }))
            (row("Access", html! { @if a.access_features.is_empty() { "Ask the organiser about access" } ul."nhsuk-list" { @for f in &a.access_features { li { (f.label()) } } } }))
            (row("Languages", html! { (if a.languages.is_empty() { "English".to_string() } else { a.languages.join(", ") }) }))
            @if !leads.is_empty() {
                (row("Led by", html! { @for (uid, name, public) in leads { @if *public { a href=(format!("/practitioners/{uid}")) { (name) } } @else { (name) } br; } }))
            }
            (row("Type", html! { (a.types.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")) }))
            (row("Contact", html! {
                @if let Some(n) = &a.contact_name { (n) br; }
                @if let Some(e) = &a.contact_email { a href=(format!("mailto:{e}")) { (e) } br; }
                @if let Some(p) = &a.contact_phone { a href=(tel_href(p)) { (p) } br; }
                @if let Some(u) = &a.url { a href=(u) rel="noopener noreferrer" { "Website" } }
            }))
            (row("Last checked", html! { @if let Some(t) = a.last_reviewed_at { (datetime(t)) @if let Some(n) = &a.reviewed_by_name { " by " (n) } } @else { "Not yet checked" } }))
        }
        @if can_edit {
            p { a."nhsuk-button"."nhsuk-button--secondary" href=(format!("/manage/activities/{}", a.id)) { "Edit this activity" } }
        }
    }
}

/// Form fields for the activity editor.
#[derive(Debug, Default, Clone)]
pub struct EditorForm(pub ActivityInput);

fn input_from_pairs(p: &[(String, String)]) -> ActivityInput {
    let one = |k: &str| {
        p.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let many = |k: &str| {
        p.iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    ActivityInput {
        organisation_id: one("organisation_id"),
        name: one("name"),
        description: one("description"),
        first_visit: one("first_visit"),
        eligibility: one("eligibility"),
        minimum_age: one("minimum_age"),
        maximum_age: one("maximum_age"),
        how_to_join: one("how_to_join"),
        capacity: one("capacity"),
        waiting_list: one("waiting_list") == "yes",
        cost: one("cost"),
        cost_amount: one("cost_amount"),
        bursary: one("bursary") == "yes",
        access_features: many("access_features"),
        languages: one("languages"),
        online: one("online") == "yes",
        online_url: one("online_url"),
        url: one("url"),
        contact_name: one("contact_name"),
        contact_email: one("contact_email"),
        contact_phone: one("contact_phone"),
        types: many("types"),
        location_name: one("location_name"),
        address_1: one("address_1"),
        city: one("city"),
        postcode: one("postcode"),
        latitude: String::new(),
        longitude: String::new(),
        freq: one("freq"),
        byday: byday_from(&many("byday"), &one("week")),
        dtstart: one("dtstart"),
        opens_at: one("opens_at"),
        closes_at: one("closes_at"),
        valid_from: one("valid_from"),
        valid_to: one("valid_to"),
        schedule_note: one("schedule_note"),
        practitioners: many("practitioners"),
        location_id: one("location_id"),
        schedule_id: one("schedule_id"),
    }
}

fn input_from_activity(a: &Activity) -> ActivityInput {
    let loc = a.locations.first();
    let s = a.schedules.first();
    ActivityInput {
        organisation_id: a.organisation_id.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
        first_visit: a.first_visit.clone(),
        eligibility: a.eligibility.clone(),
        minimum_age: a.minimum_age.map(|v| v.to_string()).unwrap_or_default(),
        maximum_age: a.maximum_age.map(|v| v.to_string()).unwrap_or_default(),
        how_to_join: a.how_to_join.code().into(),
        capacity: a.capacity.map(|v| v.to_string()).unwrap_or_default(),
        waiting_list: a.waiting_list,
        cost: a.cost.code().into(),
        cost_amount: a.cost_amount.map(|v| format!("{v:.2}")).unwrap_or_default(),
        bursary: a.bursary,
        access_features: a
            .access_features
            .iter()
            .map(|f| f.code().to_string())
            .collect(),
        languages: a.languages.join(", "),
        online: a.online,
        online_url: a.online_url.clone().unwrap_or_default(),
        url: a.url.clone().unwrap_or_default(),
        contact_name: a.contact_name.clone().unwrap_or_default(),
        contact_email: a.contact_email.clone().unwrap_or_default(),
        contact_phone: a.contact_phone.clone().unwrap_or_default(),
        types: a.types.iter().map(|t| t.code.clone()).collect(),
        location_name: loc.map(|l| l.name.clone()).unwrap_or_default(),
        address_1: loc.map(|l| l.address_1.clone()).unwrap_or_default(),
        city: loc.map(|l| l.city.clone()).unwrap_or_default(),
        postcode: loc.map(|l| l.postcode.clone()).unwrap_or_default(),
        latitude: String::new(),
        longitude: String::new(),
        freq: s.map(|s| s.freq.code().to_string()).unwrap_or_default(),
        byday: s.map(|s| s.byday.clone()).unwrap_or_default(),
        dtstart: s.and_then(|s| s.dtstart.clone()).unwrap_or_default(),
        opens_at: s.map(|s| s.opens_at.clone()).unwrap_or_default(),
        closes_at: s.map(|s| s.closes_at.clone()).unwrap_or_default(),
        valid_from: s.and_then(|s| s.valid_from.clone()).unwrap_or_default(),
        valid_to: s.and_then(|s| s.valid_to.clone()).unwrap_or_default(),
        schedule_note: s.map(|s| s.description.clone()).unwrap_or_default(),
        practitioners: Vec::new(),
        location_id: loc.map(|l| l.id.clone()).unwrap_or_default(),
        schedule_id: s.map(|s| s.id.clone()).unwrap_or_default(),
    }
}

fn textarea(
    name: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
    errors: &[FieldError],
) -> Markup {
    let err = errors.iter().find(|e| e.field == name);
    html! {
        div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
            label."nhsuk-label" for=(name) { (label) }
            @if let Some(h) = hint { div."nhsuk-hint" id=(format!("{name}-hint")) { (h) } }
            @if let Some(e) = err { span."nhsuk-error-message" id=(format!("{name}-error")) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
            textarea class=(if err.is_some() { "nhsuk-textarea nhsuk-textarea--error" } else { "nhsuk-textarea" }) id=(name) name=(name) rows="4"
                aria-describedby=[hint.map(|_| format!("{name}-hint"))] { (value) }
        }
    }
}

fn yes_box(name: &str, label: &str, checked: bool) -> Markup {
    html! {
        div."nhsuk-form-group" { div."nhsuk-checkboxes" { div."nhsuk-checkboxes__item" {
            input."nhsuk-checkboxes__input" id=(name) name=(name) type="checkbox" value="yes" checked[checked];
            label."nhsuk-label"."nhsuk-checkboxes__label" for=(name) { (label) }
        } } }
    }
}

#[allow(clippy::too_many_arguments)]
async fn editor(
    state: &AppState,
    ctx: &PageCtx,
    g: &Granted<ManageActivities>,
    action: &str,
    title: &str,
    input: &ActivityInput,
    errors: &[FieldError],
    existing: bool,
    extra: Markup,
) -> Result<Response, AppError> {
    let orgs: Vec<(String, String)> = accounts::list_organisations(state, false)
        .await?
        .into_iter()
        .filter(|o| service::can_manage(g.actor(), &o.id))
        .map(|o| (o.id, o.name))
        .collect();
    let types = store::activity_types(&state.db.read).await?;
    let type_opts: Vec<(&str, &str, &str)> = types
        .iter()
        .map(|t| (t.code.as_str(), t.name.as_str(), ""))
        .collect();
    let joins: Vec<(String, String)> = HowToJoin::ALL
        .iter()
        .map(|h| (h.code().into(), h.label().into()))
        .collect();
    let costs: Vec<(String, String)> = Cost::ALL
        .iter()
        .map(|c| (c.code().into(), c.label().into()))
        .collect();
    let freqs: Vec<(String, String)> = Freq::ALL
        .iter()
        .map(|c| (c.code().into(), c.label().into()))
        .collect();
    let access = opts(
        AccessFeature::ALL,
        AccessFeature::code,
        AccessFeature::label,
    );
    let mut practitioners: Vec<(String, String)> = Vec::new();
    for (org_id, _) in &orgs {
        for p in super::practitioners::practitioners_of(state, org_id).await? {
            if !practitioners.contains(&p) {
                practitioners.push(p);
            }
        }
    }
    let practitioner_opts: Vec<(&str, &str, &str)> = practitioners
        .iter()
        .map(|(id, n)| (id.as_str(), n.as_str(), ""))
        .collect();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { (title) }
            form method="post" action=(action) novalidate {
                (csrf(ctx))
                @if !existing { (select("organisation_id", "Organisation that runs it", &orgs, &input.organisation_id, errors)) }
                (Input::new("name", "Name of the activity", &input.name).render(errors))
                (textarea("description", "Description", &input.description, Some("In plain English: what happens and who it suits"), errors))
                (textarea("first_visit", "What to expect on a first visit", &input.first_visit, Some("Who will greet them, whether they need anything, that they can just watch"), errors))
                (Input::new("eligibility", "Who it is for (optional)", &input.eligibility).render(errors))
                (Input::new("minimum_age", "Youngest age (optional)", &input.minimum_age).width("nhsuk-input--width-3").render(errors))
                (Input::new("maximum_age", "Oldest age (optional)", &input.maximum_age).width("nhsuk-input--width-3").render(errors))
                (checkboxes("types", "Type of activity", &type_opts, &input.types, errors))
                @if !practitioner_opts.is_empty() {
                    (checkboxes("practitioners", "Led by (practitioners of the organisation)", &practitioner_opts, &input.practitioners, errors))
                }
                (select("how_to_join", "How people join", &joins, &input.how_to_join, errors))
                (Input::new("capacity", "Number of places (optional)", &input.capacity).width("nhsuk-input--width-4").render(errors))
                (yes_box("waiting_list", "There is a waiting list", input.waiting_list))
                (select("cost", "Cost", &costs, &input.cost, errors))
                (Input::new("cost_amount", "Price in pounds (fixed price only)", &input.cost_amount).width("nhsuk-input--width-5").render(errors))
                (yes_box("bursary", "A bursary is available", input.bursary))
                (checkboxes("access_features", "Access", &access, &input.access_features, errors))
                (Input::new("languages", "Languages (optional)", &input.languages).hint("Separate with commas, like English, Polish").render(errors))
                input type="hidden" name="location_id" value=(input.location_id);
                input type="hidden" name="schedule_id" value=(input.schedule_id);
                h2."nhsuk-heading-m" { "Where" }
                (yes_box("online", "It happens online (or online as well)", input.online))
                (Input::new("online_url", "Online joining link (optional)", &input.online_url).kind("url").render(errors))
                (Input::new("location_name", "Venue name", &input.location_name).render(errors))
                (Input::new("address_1", "Street address", &input.address_1).render(errors))
                (Input::new("city", "Town or city", &input.city).render(errors))
                (Input::new("postcode", "Postcode", &input.postcode).width("nhsuk-input--width-10").render(errors))
                h2."nhsuk-heading-m" { "When" }
                (select("freq", "How often", &freqs, &input.freq, errors))
                @let (week, days) = week_and_days(&input.byday);
                (checkboxes("byday", "Which days (weekly or monthly)", &day_options(), &days, errors))
                (select("week", "Which week of the month (monthly only)", &week_options(), &week, errors))
                (Input::new("dtstart", "Date (one-off only)", &input.dtstart).kind("date").width("nhsuk-input--width-10").render(errors))
                (Input::new("opens_at", "Start time", &input.opens_at).width("nhsuk-input--width-5").hint("Like 10:30").render(errors))
                (Input::new("closes_at", "End time", &input.closes_at).width("nhsuk-input--width-5").hint("Like 12:00").render(errors))
                (Input::new("valid_from", "From (optional)", &input.valid_from).kind("date").width("nhsuk-input--width-10").hint("The first date of a term").render(errors))
                (Input::new("valid_to", "Until (optional)", &input.valid_to).kind("date").width("nhsuk-input--width-10").hint("The last date of a term").render(errors))
                (Input::new("schedule_note", "Note about times (optional)", &input.schedule_note).render(errors))
                h2."nhsuk-heading-m" { "Contact" }
                (Input::new("contact_name", "Contact name (optional)", &input.contact_name).render(errors))
                (Input::new("contact_email", "Contact email (optional)", &input.contact_email).kind("email").render(errors))
                (Input::new("contact_phone", "Contact phone (optional)", &input.contact_phone).kind("tel").render(errors))
                (Input::new("url", "Web page (optional)", &input.url).kind("url").render(errors))
                (button("Save activity"))
            }
            (extra)
        } }
    };
    let r = page(
        ctx,
        Page::new(title, body)
            .errors(!errors.is_empty())
            .back("/manage/activities", "Back to your activities"),
    );
    Ok(if errors.is_empty() {
        r
    } else {
        let mut r = r;
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
    })
}

/// GET /manage/activities
pub async fn manage_list(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageActivities>,
) -> Result<Response, AppError> {
    let list = service::managed_list(&state, &g).await?;
    let body = html! {
        h1 { "Your activities" }
        p { a."nhsuk-button" href="/manage/activities/new" { "Add an activity" } }
        @if list.is_empty() { p."nhsuk-body" { "Your organisations have no activities listed yet." } } @else {
            (table_wrap("Your activities", html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption"."nhsuk-u-visually-hidden" { "Your activities" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Activity" }
                    th."nhsuk-table__header" scope="col" { "Organisation" }
                    th."nhsuk-table__header" scope="col" { "Status" }
                    th."nhsuk-table__header" scope="col" { "Last checked" }
                } }
                tbody."nhsuk-table__body" {
                    @for a in &list {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { a href=(format!("/manage/activities/{}", a.id)) { (a.name) } }
                            td."nhsuk-table__cell" { (a.organisation_name) }
                            td."nhsuk-table__cell" { @if a.status == "active" { "Listed" } @else { "Archived" } }
                            td."nhsuk-table__cell" { @if let Some(t) = a.last_reviewed_at { (datetime(t)) } @else { "Never" } }
                        }
                    }
                }
            }
            }))
        }
    };
    Ok(page(&ctx, Page::new("Your activities", body)))
}

/// GET /manage/activities/new
pub async fn manage_new(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageActivities>,
) -> Result<Response, AppError> {
    editor(
        &state,
        &ctx,
        &g,
        "/manage/activities/new",
        "Add an activity",
        &ActivityInput::default(),
        &[],
        false,
        html! {},
    )
    .await
}

/// POST /manage/activities/new
pub async fn manage_create(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageActivities>,
    PageForm(p): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = input_from_pairs(&p);
    match service::create(&state, &g, &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/activities/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            editor(
                &state,
                &ctx,
                &g,
                "/manage/activities/new",
                "Add an activity",
                &input,
                &errors,
                false,
                html! {},
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// GET /manage/activities/{id}
pub async fn manage_edit(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageActivities>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let a = service::get_managed(&state, &g, &id).await?;
    let extra = html! {
        h2."nhsuk-heading-m" { "Wellbeing measures" }
        p."nhsuk-body" { a href=(format!("/manage/activities/{id}/measures")) { "Measurement plan: the core set and when each measure is due" } }
        p."nhsuk-body" { a href=(format!("/manage/activities/{id}/leads")) { "Named clinical and safeguarding leads" } }
        h2."nhsuk-heading-m" { "Keep the listing up to date" }
        form method="post" action=(format!("/manage/activities/{id}/review")) { (csrf(&ctx)) p."nhsuk-body" { "Checked that everything here is still right? Record it so people can trust the listing." } button."nhsuk-button"."nhsuk-button--secondary" type="submit" { "Mark as checked today" } }
        form method="post" action=(format!("/manage/activities/{id}/{}", if a.status == "active" { "archive" } else { "restore" })) {
            (csrf(&ctx))
            @if a.status == "active" { button."nhsuk-button"."nhsuk-button--warning" type="submit" { "Archive (remove from search)" } }
            @else { button."nhsuk-button"."nhsuk-button--secondary" type="submit" { "Restore to search" } }
        }
    };
    let mut input = input_from_activity(&a);
    input.practitioners = super::practitioners::leads(&state, &a.id)
        .await?
        .into_iter()
        .map(|l| l.0)
        .collect();
    editor(
        &state,
        &ctx,
        &g,
        &format!("/manage/activities/{id}"),
        &format!("Edit {}", a.name),
        &input,
        &[],
        true,
        extra,
    )
    .await
}

/// POST /manage/activities/{id}
pub async fn manage_update(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageActivities>,
    Path(id): Path<String>,
    PageForm(p): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = input_from_pairs(&p);
    match service::update(&state, &g, &id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/activities/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            editor(
                &state,
                &ctx,
                &g,
                &format!("/manage/activities/{id}"),
                "Edit activity",
                &input,
                &errors,
                true,
                html! {},
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// POST /manage/activities/{id}/review
pub async fn manage_review(
    State(state): State<AppState>,
    g: Granted<ManageActivities>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::mark_reviewed(&state, &g, &id).await?;
    Ok(Redirect::to(&format!("/manage/activities/{id}")).into_response())
}

/// POST /manage/activities/{id}/archive
pub async fn manage_archive(
    State(state): State<AppState>,
    g: Granted<ManageActivities>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::set_archived(&state, &g, &id, true).await?;
    Ok(Redirect::to("/manage/activities").into_response())
}

/// POST /manage/activities/{id}/restore
pub async fn manage_restore(
    State(state): State<AppState>,
    g: Granted<ManageActivities>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::set_archived(&state, &g, &id, false).await?;
    Ok(Redirect::to(&format!("/manage/activities/{id}")).into_response())
}

/// The days of the week as checkbox options (stored as iCalendar codes such as `TU`).
fn day_options() -> Vec<(&'static str, &'static str, &'static str)> {
    Day::ALL.iter().map(|d| (d.code(), d.label(), "")).collect()
}

/// The weeks of a month a monthly activity can fall in (the prefix of its day codes).
fn week_options() -> Vec<(String, String)> {
    [
        ("1", "First"),
        ("2", "Second"),
        ("3", "Third"),
        ("4", "Fourth"),
        ("-1", "Last"),
    ]
    .iter()
    .map(|(c, l)| ((*c).to_string(), format!("{l} week of the month")))
    .collect()
}

/// The stored day codes from the ticked days and the week of the month: `TU,TH` weekly,
/// `1SA` for the first Saturday. A code sent whole (`1SA`) is kept as it is, and anything
/// else is left for validation to name.
fn byday_from(days: &[String], week: &str) -> String {
    let week = week.trim();
    days.iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .map(|d| {
            if d.len() == 2 && d.chars().all(|c| c.is_ascii_alphabetic()) {
                format!("{week}{d}")
            } else {
                d.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The week prefix and the day codes of stored day codes, to show them ticked.
fn week_and_days(byday: &str) -> (String, Vec<String>) {
    let mut week = String::new();
    let days = byday
        .split(',')
        .map(str::trim)
        .filter(|d| d.len() >= 2 && d.is_ascii())
        .map(|d| {
            let (prefix, code) = d.split_at(d.len() - 2);
            if week.is_empty() {
                week = prefix.to_string();
            }
            code.to_uppercase()
        })
        .collect();
    (week, days)
}

#[cfg(test)]
mod schedule_words_tests {
    use super::*;

    #[test]
    fn ticked_days_and_the_week_make_the_stored_codes_and_back() {
        let days = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(byday_from(&days(&["TU", "TH"]), ""), "TU,TH");
        assert_eq!(byday_from(&days(&["SA"]), "1"), "1SA");
        assert_eq!(byday_from(&days(&["SU"]), "-1"), "-1SU");
        assert_eq!(
            byday_from(&days(&["1SA"]), ""),
            "1SA",
            "a whole code is kept"
        );
        assert_eq!(week_and_days("1SA"), ("1".to_string(), days(&["SA"])));
        assert_eq!(week_and_days("TU,TH"), (String::new(), days(&["TU", "TH"])));
        assert_eq!(week_and_days(""), (String::new(), vec![]));
    }
}

/// A `tel:` link for a phone number as typed (spaces and punctuation dropped, a leading `+`
/// kept), so a phone can call it with one tap.
fn tel_href(phone: &str) -> String {
    let digits: String = phone
        .trim()
        .chars()
        .enumerate()
        .filter(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '+'))
        .map(|(_, c)| c)
        .collect();
    // "+44 (0)151…": the trunk 0 is not dialled after the country code.
    let digits = match digits.strip_prefix("+440") {
        Some(rest) => format!("+44{rest}"),
        None => digits,
    };
    format!("tel:{digits}")
}

/// A `geo:` link (RFC 5870) to a venue's coordinates, which phones open in their maps app
/// with directions to offer; the venue's name is the label.
fn directions_href(p: Point, name: &str) -> String {
    let label: String = name
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .collect();
    format!(
        "geo:{lat:.6},{lon:.6}?q={lat:.6},{lon:.6}({label})",
        lat = p.lat,
        lon = p.lon,
        label = label.trim().replace(' ', "+")
    )
}

#[cfg(test)]
mod contact_link_tests {
    use super::*;

    #[test]
    fn phone_numbers_and_venues_become_links_a_phone_can_use() {
        assert_eq!(tel_href("0151 000 0000"), "tel:01510000000");
        assert_eq!(tel_href("+44 (0)151 000-0000"), "tel:+441510000000");
        let p = Point {
            lat: 53.4084,
            lon: -2.9916,
        };
        assert_eq!(
            directions_href(p, "St George's Hall"),
            "geo:53.408400,-2.991600?q=53.408400,-2.991600(St+Georges+Hall)"
        );
    }
}
