//! The programme managers' pages to add, edit, review and archive listings (the search
//! page is in `search_page`, the activity page in `activity_page`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::error::{AppError, FieldError};
use crate::modules::accounts::service as accounts;
use crate::rbac::Granted;
use crate::rbac::perm::ManageActivities;
use crate::state::AppState;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, radios, select, table_wrap,
};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use super::model::{AccessFeature, Activity, ActivityInput, Audience, Cost, Day, Freq, HowToJoin};
use super::{service, store};

fn opts<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str, &'static str)> {
    all.iter().map(|v| (code(*v), label(*v), "")).collect()
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
        audience: one("audience"),
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
        audience: a.audience.code().into(),
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
    let audiences: Vec<(&str, &str)> = Audience::ALL
        .iter()
        .map(|a| (a.code(), a.label()))
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
                (radios("audience", "Who can join", &audiences, if input.audience.is_empty() { "public" } else { &input.audience }, errors))
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
