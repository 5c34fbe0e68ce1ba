//! Matching from the case: the search pre-filled from the record, the results with
//! distance, next date, cost and access, sending two or three options and recording the
//! person's choice. Works without JavaScript: the filters are a GET form, sending and
//! choosing are POST forms that carry the filters as hidden fields.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::db::date_of;
use crate::error::{AppError, FieldError};
use crate::modules::directory::model::{AccessFeature, Cost, TimeOfDay};
use crate::modules::directory::search::distance_text;
use crate::modules::people::model::{CONTACT_METHODS, label_of};
use crate::modules::referrals::model::{BARRIERS, label};
use crate::modules::referrals::service::{
    self, MatchFilters, MatchResult, MatchView, SendInput, date_words,
};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, radios, textarea,
};
use crate::web::{Page, PageCtx, page};

fn pairs(raw: Option<String>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(&q).ok())
        .unwrap_or_default()
}

fn hidden(f: &MatchFilters) -> Markup {
    html! { @for (k, v) in f.pairs() { input type="hidden" name=(k) value=(v); } }
}

/// The filters in words, e.g. "within 5 miles of L8 0AB; free; step-free access".
fn applied(f: &MatchFilters) -> String {
    let mut parts = vec![if f.postcode.is_empty() {
        "no postcode (sorted by name)".to_string()
    } else {
        format!(
            "within {} miles of {}",
            if f.distance.is_empty() {
                "5"
            } else {
                &f.distance
            },
            f.postcode
        )
    }];
    let costs: Vec<&str> = f
        .cost
        .iter()
        .filter_map(|c| Cost::from_code(c))
        .map(|c| c.label())
        .collect();
    if !costs.is_empty() {
        parts.push(costs.join(" or ").to_lowercase());
    }
    parts.extend(
        f.access
            .iter()
            .filter_map(|a| AccessFeature::from_code(a))
            .map(|a| a.label().to_lowercase()),
    );
    if let Some(t) = TimeOfDay::from_code(&f.time) {
        parts.push(t.label().to_lowercase());
    }
    if f.language {
        parts.push("in their language".into());
    }
    parts.join("; ")
}

fn filters_form(id: &str, v: &MatchView, errors: &[FieldError]) -> Markup {
    let f = &v.filters;
    let costs: Vec<(&str, &str, &str)> = Cost::ALL
        .iter()
        .map(|c| (c.code(), c.label(), ""))
        .collect();
    let access: Vec<(&str, &str, &str)> = AccessFeature::ALL
        .iter()
        .map(|a| (a.code(), a.label(), ""))
        .collect();
    let mut times: Vec<(&str, &str)> = vec![("", "Any time")];
    times.extend(TimeOfDay::ALL.iter().map(|t| (t.code(), t.label())));
    let language = format!("Only activities in {}", v.needs.languages.trim());
    html! {
        p."nhsuk-body" { strong { "Searching: " } (applied(f)) }
        details."nhsuk-details" open[!errors.is_empty()] {
            summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Change the filters" } }
            div."nhsuk-details__text" {
                form method="get" action=(format!("/caseload/{id}/match")) novalidate {
                    input type="hidden" name="searched" value="1";
                    (Input::new("postcode", "Postcode", &f.postcode).hint("Distances are measured from here").width("nhsuk-input--width-10").render(errors))
                    (Input::new("distance", "Within (miles)", &f.distance).width("nhsuk-input--width-4").render(errors))
                    (checkboxes("cost", "Cost", &costs, &f.cost, errors))
                    (checkboxes("access", "Access needed (all of them)", &access, &f.access, errors))
                    (radios("time", "Time of day", &times, &f.time, errors))
                    @if !v.needs.languages.trim().is_empty() {
                        (checkboxes("language", "Language", &[("yes", &language, "")], &(if f.language { vec!["yes".to_string()] } else { vec![] }), errors))
                    }
                    button."nhsuk-button nhsuk-button--secondary" type="submit" { "Search again" }
                }
            }
        }
    }
}

fn result_item(i: usize, r: &MatchResult, errors: &[FieldError], choosable: bool) -> Markup {
    let a = &r.activity;
    let field = if i == 0 {
        "options".to_string()
    } else {
        format!("options-{i}")
    };
    let access: Vec<&str> = a.access_features.iter().map(|f| f.label()).collect();
    html! {
        li."nhsuk-card nhsuk-u-margin-bottom-3" { div."nhsuk-card__content" {
            h3."nhsuk-card__heading nhsuk-heading-s" { a href=(format!("/activities/{}", a.id)) { (a.name) } }
            p."nhsuk-body-s" { (a.organisation_name) }
            dl."nhsuk-summary-list nhsuk-u-margin-bottom-2" {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Distance" } dd."nhsuk-summary-list__value" { (r.distance_m.map(|d| distance_text(d, true)).unwrap_or_else(|| "Not known".into())) } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Next session" } dd."nhsuk-summary-list__value" { (r.next_session.map(date_words).unwrap_or_else(|| "No date in the schedule".into())) @if let Some(s) = a.schedules.first() { ", " (s.opens_at) } } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Cost" } dd."nhsuk-summary-list__value" { (a.cost_text()) } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Access" } dd."nhsuk-summary-list__value" { @if access.is_empty() { "None listed" } @else { (access.join(", ")) } } }
                @if let Some(l) = a.locations.first() { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Where" } dd."nhsuk-summary-list__value" { (l.name) ", " (l.postcode) } } }
            }
            @if choosable {
            div."nhsuk-checkboxes" { div."nhsuk-checkboxes__item" {
                input."nhsuk-checkboxes__input" id=(field) name="options" type="checkbox" value=(a.id)
                    aria-describedby=[errors.iter().any(|e| e.field == "options").then_some("options-error")];
                label."nhsuk-label nhsuk-checkboxes__label" for=(field) { "Send this option" span."nhsuk-u-visually-hidden" { ": " (a.name) } }
            } }
            }
        } }
    }
}

fn send_form(ctx: &PageCtx, id: &str, v: &MatchView, errors: &[FieldError]) -> Markup {
    let c = &v.contact;
    let email = format!(
        "Email{}",
        if c.email.is_empty() {
            " (no address on their record)".to_string()
        } else {
            format!(" to {}", c.email)
        }
    );
    let text = format!(
        "Text message{}",
        if c.phone.is_empty() {
            " (no phone number on their record)".to_string()
        } else {
            format!(" to {}", c.phone)
        }
    );
    let preferred = if c.preferred == "text" {
        "text"
    } else {
        "email"
    };
    let err = errors.iter().find(|e| e.field == "options");
    html! {
        form method="post" action=(format!("/caseload/{id}/match/send")) novalidate {
            (csrf(ctx))
            (hidden(&v.filters))
            div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                @if let Some(e) = err { span."nhsuk-error-message" id="options-error" { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                ol."ensemble-results" { @for (i, r) in v.results.iter().enumerate() { (result_item(i, r, errors, true)) } }
            }
            h2."nhsuk-heading-m" id="send" { "Send them two or three options" }
            @if !c.consent { div."nhsuk-warning-callout" { h3."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "No consent to contact" } } p { (v.name) " has not agreed to be contacted. Options cannot be sent until they do." } } }
            (radios("channel", "How to send them", &[("email", email.as_str()), ("text", text.as_str())], preferred, errors))
            (button("Send the options"))
        }
    }
}

fn choice_form(ctx: &PageCtx, id: &str, v: &MatchView, errors: &[FieldError]) -> Markup {
    let batch = v.sent.first().map(|s| s.sent_at);
    let latest: Vec<(&str, &str)> = v
        .sent
        .iter()
        .filter(|s| Some(s.sent_at) == batch)
        .map(|s| (s.activity_id.as_str(), s.name.as_str()))
        .collect();
    html! {
        h2."nhsuk-heading-m" id="sent" { "Options sent" }
        ul."nhsuk-list nhsuk-list--bullet" {
            @for s in &v.sent { li { (s.name) " – by " (if s.channel == "text" { "text message" } else { "email" }) " on " (date_of(s.sent_at)) @if s.chosen_at.is_some() { " " strong."nhsuk-tag nhsuk-tag--green" { "Chosen" } } } }
        }
        @if v.can_connect {
            form method="post" action=(format!("/caseload/{id}/match/choice")) novalidate {
                (csrf(ctx))
                (hidden(&v.filters))
                (radios("choice", "Which one did they choose?", &latest, "", errors))
                (textarea("provider_note", "Note to the provider (optional)", "What will help them welcome the person. Do not include medical details they do not need.", "", errors))
                (button("Record their choice and send to the provider"))
            }
        }
    }
}

fn needs_list(v: &MatchView) -> Markup {
    let n = &v.needs;
    html! {
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Barriers" } dd."nhsuk-summary-list__value" {
                @if n.barriers.is_empty() { "None recorded" } @else { (n.barriers.iter().map(|(b, _)| label(BARRIERS, b)).collect::<Vec<_>>().join(", ")) }
            } }
            @if !n.communication_needs.is_empty() { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Communication needs" } dd."nhsuk-summary-list__value" { (n.communication_needs) } } }
            @if !n.languages.is_empty() { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Languages" } dd."nhsuk-summary-list__value" { (n.languages) } } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Contact" } dd."nhsuk-summary-list__value" {
                (if v.contact.consent { "Agreed to be contacted" } else { "Has not agreed to be contacted" })
                @if !v.contact.preferred.is_empty() { "; prefers " (label_of(CONTACT_METHODS, &v.contact.preferred).to_lowercase()) }
            } }
        }
    }
}

fn match_page_view(
    ctx: &PageCtx,
    id: &str,
    v: &MatchView,
    errors: &[FieldError],
    sent: bool,
) -> Response {
    let all: Vec<FieldError> = v.errors.iter().chain(errors).cloned().collect();
    let title = format!("Find activities for {}", v.name);
    let back = format!("/caseload/{id}");
    let body = html! {
        (error_summary(&all))
        @if sent { div."ensemble-confirmation" role="status" { h2."nhsuk-heading-m" { "Options sent" } p { "When " (v.name) " tells you which they chose, record it below." } } }
        span."nhsuk-caption-l" { "Referral" }
        h1 { (title) }
        (needs_list(v))
        @if !v.suggested.is_empty() {
            div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "Filters suggested from the record (you can change them):" } ul."nhsuk-list nhsuk-list--bullet" { @for w in &v.suggested { li { (w) } } } }
        }
        (filters_form(id, v, &all))
        h2."nhsuk-heading-m" id="results" {
            @if v.total == 0 { "No activities found" }
            @else if v.total > v.results.len() { (v.total) " activities found, nearest " (v.results.len()) " shown" }
            @else { (v.total) " activities found" }
        }
        @if v.results.is_empty() {
            p."nhsuk-body" { "Try a wider distance, or untick some filters." }
        } @else if v.can_connect { (send_form(ctx, id, v, &all)) }
        @else { ol."ensemble-results" { @for (i, r) in v.results.iter().enumerate() { (result_item(i, r, &all, false)) } } }
        @if !v.sent.is_empty() { (choice_form(ctx, id, v, &all)) }
    };
    page(
        ctx,
        Page::new(&title, body)
            .errors(!all.is_empty())
            .back(&back, "Back to the referral"),
    )
}

/// GET /caseload/{id}/match
pub async fn match_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let p = pairs(raw);
    let sent = p.iter().any(|(k, v)| k == "sent" && v == "1");
    let v = service::match_view(&state, &actor, &id, Some(MatchFilters::from_pairs(&p))).await?;
    Ok(match_page_view(&ctx, &id, &v, &[], sent))
}

/// POST /caseload/{id}/match/send
pub async fn match_send(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(p): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let one = |k: &str| {
        p.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let input = SendInput {
        filters: MatchFilters::from_pairs(&p),
        options: p
            .iter()
            .filter(|(k, _)| k == "options")
            .map(|(_, v)| v.clone())
            .collect(),
        channel: one("channel"),
    };
    match service::send_options(&state, &actor, &id, &input).await {
        Ok(()) => {
            let mut q = input.filters.pairs();
            q.push(("sent", "1".into()));
            let qs = serde_urlencoded::to_string(q).unwrap_or_default();
            Ok(Redirect::to(&format!("/caseload/{id}/match?{qs}#sent")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            let v = service::match_view(&state, &actor, &id, Some(input.filters)).await?;
            Ok(match_page_view(&ctx, &id, &v, &e, false))
        }
        Err(e) => Err(e),
    }
}

/// POST /caseload/{id}/match/choice
pub async fn match_choice(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(p): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let one = |k: &str| {
        p.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    match service::record_choice(&state, &actor, &id, &one("choice"), &one("provider_note")).await {
        Ok(()) => Ok(Redirect::to(&format!("/caseload/{id}")).into_response()),
        Err(AppError::Invalid(e)) => {
            let v = service::match_view(&state, &actor, &id, Some(MatchFilters::from_pairs(&p)))
                .await?;
            Ok(match_page_view(&ctx, &id, &v, &e, false))
        }
        Err(e) => Err(e),
    }
}
