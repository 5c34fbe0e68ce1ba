//! The activity page: what it is, the next dates, a small map of its venues with
//! directions, how to get in touch, and the actions to ask to join (anyone) or refer
//! someone (staff who may refer). A ward-only or closed group's page is shown only to
//! signed-in staff.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};

use crate::error::AppError;
use crate::modules::places::Point;
use crate::rbac::{Permission, allows};
use crate::state::AppState;
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use super::map::{self, MapSpec};
use super::model::{Activity, Audience};
use super::service;

fn row(k: &str, v: Markup) -> Markup {
    html! { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { (k) } dd."nhsuk-summary-list__value" { (v) } } }
}

/// What the page offers the person looking at it.
struct Actions {
    can_edit: bool,
    can_refer: bool,
}

/// GET /activities/{id}
pub async fn activity_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = ctx.actor();
    let a = service::get_for_page(&state, &id, actor.as_ref()).await?;
    // Only practitioners who made their profile public are named.
    let leads: Vec<_> = super::practitioners::leads(&state, &a.id)
        .await?
        .into_iter()
        .filter(|l| l.2)
        .collect();
    let actions = Actions {
        can_edit: actor
            .as_ref()
            .is_some_and(|act| service::can_manage(act, &a.organisation_id)),
        can_refer: actor
            .as_ref()
            .is_some_and(|act| allows(&act.roles(), true, Permission::MakeReferrals)),
    };
    let small_map = venue_map(&state, &a).await;
    let body = activity_view(&a, &leads, &actions, small_map);
    Ok(page(
        &ctx,
        Page::new(&a.name, body).back("/activities", "Back to search"),
    ))
}

/// A small map of the activity's venues (none when no venue has a position).
async fn venue_map(state: &AppState, a: &Activity) -> Option<Markup> {
    let markers: Vec<(usize, Point)> = a
        .locations
        .iter()
        .filter_map(|l| l.point)
        .enumerate()
        .map(|(i, p)| (i + 1, p))
        .collect();
    if markers.is_empty() {
        return None;
    }
    let names: Vec<&str> = a
        .locations
        .iter()
        .filter(|l| l.point.is_some())
        .map(|l| l.name.as_str())
        .collect();
    let spec = MapSpec {
        markers,
        here: None,
        margin_m: 1_500.0,
        height: 240.0,
        title: format!("Map of where {} meets", a.name),
        desc: format!("Numbered markers show {}.", names.join("; ")),
        id: "venue-map".into(),
    };
    let base = map::base(state, map::view_for(&spec)).await;
    Some(map::draw(&spec, &base))
}

/// The next few dates the activity meets (up to `n`, within a year), each with its times.
pub fn next_dates(a: &Activity, from: time::Date, n: usize) -> Vec<(time::Date, String)> {
    let mut out: Vec<(time::Date, String)> = Vec::new();
    for s in &a.schedules {
        let mut d = from;
        for _ in 0..n {
            let Some(next) = s.next_date(d) else { break };
            out.push((next, format!("{} to {}", s.opens_at, s.closes_at)));
            match next.next_day() {
                Some(x) => d = x,
                None => break,
            }
        }
    }
    out.sort();
    out.dedup();
    out.truncate(n);
    out
}

fn date_words(d: time::Date) -> String {
    let fmt =
        time::macros::format_description!("[weekday] [day padding:none] [month repr:long] [year]");
    d.format(fmt).unwrap_or_else(|_| d.to_string())
}

fn activity_view(
    a: &Activity,
    leads: &[(String, String, bool)],
    actions: &Actions,
    small_map: Option<Markup>,
) -> Markup {
    let dates = next_dates(a, crate::db::uk::today(), 4);
    html! {
        span."nhsuk-caption-l" { (a.organisation_name) }
        h1 { (a.name) }
        @if !a.is_public() {
            div."nhsuk-warning-callout" {
                h2."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "Not listed publicly" } }
                p { (match a.audience { Audience::Ward => "This activity is for people staying on a ward. It is not shown in public search, on the map or in the open data feed; only staff can see this page.", _ => "This is a closed group, joined by referral. It is not shown in public search, on the map or in the open data feed; only staff can see this page." }) }
            }
        }
        p."nhsuk-lede-text" { (a.description) }
        div."ensemble-actions" {
            @if a.is_public() {
                a."nhsuk-button" href=(format!("/refer-yourself?activity={}", a.id)) draggable="false" { "Ask to join" }
            }
            @if actions.can_refer {
                a."nhsuk-button"."nhsuk-button--secondary" href=(format!("/referrals/new?activity={}", a.id)) draggable="false" { "Refer someone" }
            }
        }
        @if !a.first_visit.is_empty() {
            div."nhsuk-inset-text" {
                span."nhsuk-u-visually-hidden" { "Information: " }
                h2."nhsuk-heading-s" { "What to expect on your first visit" }
                p { (a.first_visit) }
            }
        }
        h2."nhsuk-heading-m" id="next-dates" { "Next dates" }
        @if dates.is_empty() {
            p."nhsuk-body" { @if a.schedules.is_empty() { "Contact them for times." } @else { "No dates are planned in the coming year. Contact them to ask." } }
        } @else {
            ul."nhsuk-list"."nhsuk-list--bullet" {
                @for (d, times) in &dates { li { (date_words(*d)) ", " (times) } }
            }
        }
        @if !a.locations.is_empty() || a.online {
            h2."nhsuk-heading-m" { "Where" }
            @if let Some(m) = small_map {
                div."ensemble-map-wrap"."ensemble-map-wrap--small" { (m) }
                p."nhsuk-body-s" { (map::ATTRIBUTION) }
            }
            ol."nhsuk-list" class=(if a.locations.len() > 1 { "nhsuk-list--number" } else { "" }) {
                @for l in &a.locations {
                    li {
                        (l.name) br; (l.address_1) ", " (l.city) " " (l.postcode) br;
                        @if let Some(p) = l.point {
                            a href=(directions_href(p, &l.name)) { "Directions to " (l.name) " (opens your maps app)" }
                        }
                    }
                }
            }
            @if a.online { p."nhsuk-body" { "Online" @if let Some(u) = &a.online_url { ": " a href=(u) rel="noopener noreferrer" { "joining link" } } } }
        }
        h2."nhsuk-heading-m" { "About this activity" }
        dl."nhsuk-summary-list" {
            (row("When", html! { @if a.schedules.is_empty() { "Contact them for times" } @for s in &a.schedules { (s.summary()) @if !s.description.is_empty() { " (" (s.description) ")" } br; } }))
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
                @if let Some(p) = &a.contact_phone { "Phone " a href=(tel_href(p)) { (p) } br; }
                @if let Some(u) = &a.url { a href=(u) rel="noopener noreferrer" { "Website" } }
            }))
            (row("Last checked", html! { @if let Some(t) = a.last_reviewed_at { (datetime(t)) @if let Some(n) = &a.reviewed_by_name { " by " (n) } } @else { "Not yet checked" } }))
        }
        @if actions.can_edit {
            p { a."nhsuk-button"."nhsuk-button--secondary" href=(format!("/manage/activities/{}", a.id)) { "Edit this activity" } }
        }
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
