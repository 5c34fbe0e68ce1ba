//! Pages of the practitioner toolkit, built for a phone or tablet in a community room or on
//! a ward: sessions, the plan, a one-tap register and the three-part log.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::model::{ACTIVITIES, REGISTER_STATUSES, label_of};
use super::service::{self, Log, LogSaved, NewSession, Plan, Session};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, select, textarea};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

fn when(s: &Session) -> String {
    // Shown in UK time, as typed.
    let f = |t: i64| {
        let t = crate::db::uk::local(t);
        (
            t.date().to_string(),
            format!("{:02}:{:02}", t.hour(), t.minute()),
        )
    };
    let (d, a) = f(s.starts_at);
    let (_, b) = f(s.ends_at);
    format!("{d}, {a} to {b}")
}

fn status_tag(status: &str) -> Markup {
    let (class, text) = match status {
        "held" => ("nhsuk-tag nhsuk-tag--green", "Held"),
        "cancelled" => ("nhsuk-tag nhsuk-tag--grey", "Cancelled"),
        _ => ("nhsuk-tag", "Planned"),
    };
    html! { strong class=(class) { (text) } }
}

async fn list_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    f: &NewSession,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let sessions = service::list(state, actor).await?;
    let activities = service::activities(state, actor).await?;
    let templates = service::templates(state, actor).await?;
    let mut activity_options = vec![(String::new(), "Choose an activity".to_string())];
    activity_options.extend(activities);
    let mut template_options = vec![(String::new(), "No template".to_string())];
    template_options.extend(templates);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Sessions" }
            ul."nhsuk-list" {
                li { a href="/incidents" { "Incidents and safeguarding concerns" } }
                li { a href="/practice/summary" { "Practice summary" } }
                li { a href="/practice/journal" { "Reflective journal" } }
                li { a href="/practice/supervision" { "Supervision" } }
                li { a href="/practice/portfolio" { "CPD portfolio" } }
                li { a href="/practice/framework" { "Competency framework" } }
                li { a href="/practice/assessments" { "Assessments asked of you" } }
            }
            @if sessions.is_empty() { p."nhsuk-body" { "No sessions from the last week onwards." } } @else {
                ul."nhsuk-list ensemble-session-list" {
                    @for s in &sessions {
                        li {
                            a href=(format!("/sessions/{}", s.id)) { (s.activity_name) }
                            " " (status_tag(&s.status)) br;
                            span."nhsuk-body-s" { ({ let t = crate::db::uk::local(s.starts_at); format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()) }) }
                        }
                    }
                }
            }
            h2."nhsuk-heading-m" { "Plan a session" }
            form method="post" action="/sessions" novalidate {
                (csrf(ctx))
                (select("activity_id", "Activity", &activity_options, &f.activity_id, errors))
                (Input::new("date", "Date", if f.date.is_empty() { &today } else { &f.date }).hint("Year-month-day").width("nhsuk-input--width-10").render(errors))
                (Input::new("starts", "Starts", &f.starts).hint("Hours:minutes, like 14:00").width("nhsuk-input--width-5").render(errors))
                (Input::new("ends", "Ends", &f.ends).hint("Hours:minutes, like 15:30").width("nhsuk-input--width-5").render(errors))
                (Input::new("venue", "Venue or room (optional)", &f.venue).render(errors))
                (select("template_id", "Start from a plan template", &template_options, &f.template_id, errors))
                (button("Plan session"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Sessions", body).errors(!errors.is_empty()),
    ))
}

/// GET /sessions
pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    list_page(&state, &ctx, &actor, &NewSession::default(), &[]).await
}

/// POST /sessions
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<NewSession>,
) -> Result<Response, AppError> {
    match service::create(&state, &actor, &f).await {
        Ok(id) => Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
        Err(AppError::Invalid(e)) => list_page(&state, &ctx, &actor, &f, &e).await,
        Err(e) => Err(e),
    }
}

fn activity_checkboxes(selected: &[String], errors: &[FieldError]) -> Markup {
    let err = errors.iter().find(|e| e.field == "musical_activities");
    html! {
        div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
            fieldset."nhsuk-fieldset" aria-describedby=[err.map(|_| "musical_activities-error")] {
                legend."nhsuk-fieldset__legend nhsuk-fieldset__legend--s" { "Musical activities" }
                @if let Some(e) = err { span."nhsuk-error-message" id="musical_activities-error" { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                div."nhsuk-checkboxes" {
                    @for (i, (code, label)) in ACTIVITIES.iter().enumerate() {
                        @let id = if i == 0 { "musical_activities".to_string() } else { format!("musical_activities-{i}") };
                        div."nhsuk-checkboxes__item" {
                            input."nhsuk-checkboxes__input" type="checkbox" id=(id) name="musical_activities" value=(code) checked[selected.iter().any(|s| s == code)];
                            label."nhsuk-label nhsuk-checkboxes__label" for=(id) { (label) }
                        }
                    }
                }
            }
        }
    }
}

fn session_page(
    ctx: &PageCtx,
    s: &Session,
    plan: &Plan,
    version: i64,
    errors: &[FieldError],
    conflict: bool,
) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            @if conflict {
                div."nhsuk-warning-callout" {
                    h3."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "Someone else saved the plan" } }
                    p { "Your changes are in the form below but not saved. The plan as it is now:" }
                    dl."nhsuk-summary-list" {
                        @for (k, v) in [("Aims", s.plan.aims.clone()), ("Musical activities", s.plan.musical_activities.iter().map(|c| label_of(ACTIVITIES, c)).collect::<Vec<_>>().join(", ")), ("Adaptations", s.plan.adaptations.clone()), ("Risks and mitigations", s.plan.risks.clone()), ("Materials", s.plan.materials.clone())] {
                            @if !v.is_empty() { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { (k) } dd."nhsuk-summary-list__value ensemble-detail" { (v) } } }
                        }
                    }
                    p { "Combine the two in the form, then save again." }
                }
            }
            span."nhsuk-caption-l" { (s.activity_name) }
            h1 { "Session: " (when(s)) }
            p { (status_tag(&s.status)) @if !s.venue.is_empty() { " " (s.venue) } }
            @if s.status == "cancelled" {
                p."nhsuk-body" { "Cancelled: " (s.cancel_reason) }
            } @else {
                ul."nhsuk-list ensemble-button-row" {
                    li { a."nhsuk-button" href=(format!("/sessions/{}/register", s.id)) { "Register" } }
                    li { a."nhsuk-button nhsuk-button--secondary" href=(format!("/sessions/{}/log", s.id)) { "Session log" } }
                }
                p { a href=(format!("/sessions/{}/incident", s.id)) { "Record an incident or safeguarding concern" } }
                h2."nhsuk-heading-m" { "Plan" }
                form method="post" action=(format!("/sessions/{}/plan", s.id)) novalidate {
                    (csrf(ctx))
                    input type="hidden" name="version" value=(version);
                    (textarea("aims", "Aims", "What this session is for", &plan.aims, errors))
                    (activity_checkboxes(&plan.musical_activities, errors))
                    (textarea("adaptations", "Adaptations for the group", "", &plan.adaptations, errors))
                    (textarea("risks", "Risks and how they are managed", "", &plan.risks, errors))
                    (textarea("materials", "Materials", "Instruments, lyric sheets, equipment", &plan.materials, errors))
                    (Input::new("template_name", "Also keep as a template called (optional)", "").render(errors))
                    (button("Save plan"))
                }
                @if s.status == "planned" {
                    details."nhsuk-details" {
                        summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Cancel this session" } }
                        div."nhsuk-details__text" {
                            form method="post" action=(format!("/sessions/{}/cancel", s.id)) novalidate {
                                (csrf(ctx))
                                (Input::new("reason", "Why is it cancelled?", "").render(errors))
                                button."nhsuk-button nhsuk-button--warning" type="submit" { "Cancel session" }
                            }
                        }
                    }
                }
            }
        } }
    };
    page(
        ctx,
        Page::new("Session", body)
            .errors(!errors.is_empty())
            .back("/sessions", "Sessions"),
    )
}

/// GET /sessions/{id}
pub async fn view(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let s = service::get(&state, &actor, &id).await?;
    Ok(session_page(&ctx, &s, &s.plan, s.plan_version, &[], false))
}

/// The plan form, read from repeated checkboxes.
fn plan_from(form: &[(String, String)]) -> (Plan, i64, String) {
    let get = |k: &str| {
        form.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    (
        Plan {
            aims: get("aims"),
            musical_activities: form
                .iter()
                .filter(|(k, _)| k == "musical_activities")
                .map(|(_, v)| v.clone())
                .collect(),
            adaptations: get("adaptations"),
            risks: get("risks"),
            materials: get("materials"),
        },
        get("version").parse().unwrap_or(-1),
        get("template_name"),
    )
}

/// POST /sessions/{id}/plan
pub async fn save_plan(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (plan, version, template) = plan_from(&form);
    match service::save_plan(&state, &actor, &id, &plan, version, &template).await {
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
        Err(AppError::Invalid(e)) => {
            let s = service::get(&state, &actor, &id).await?;
            Ok(session_page(&ctx, &s, &plan, version, &e, false))
        }
        Err(AppError::Conflict(_)) => {
            let s = service::get(&state, &actor, &id).await?;
            let mut r = session_page(&ctx, &s, &plan, s.plan_version, &[], true);
            *r.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

/// Cancel form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CancelForm {
    reason: String,
}

/// POST /sessions/{id}/cancel
pub async fn cancel(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<CancelForm>,
) -> Result<Response, AppError> {
    match service::cancel(&state, &actor, &id, &f.reason).await {
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
        Err(AppError::Invalid(e)) => {
            let s = service::get(&state, &actor, &id).await?;
            Ok(session_page(&ctx, &s, &s.plan, s.plan_version, &e, false))
        }
        Err(e) => Err(e),
    }
}

async fn register_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (s, lines) = service::register(state, actor, id).await?;
    let body = html! {
        (error_summary(errors))
        span."nhsuk-caption-l" { (s.activity_name) }
        h1 { "Register" }
        p."nhsuk-body" { (when(&s)) }
        @if s.status == "cancelled" {
            p."nhsuk-body" { "This session was cancelled." }
        }
        @if lines.is_empty() { p."nhsuk-body" { "Nobody is expected yet. Add walk-ins below." } }
        ul."nhsuk-list ensemble-register" {
            @for l in &lines {
                li."ensemble-register__line" {
                    p."ensemble-register__name" {
                        strong { (l.name) }
                        @if l.member { " (regular)" } @else if !l.referred { " (walk-in)" }
                        " — " span { (l.status.as_deref().map(|c| label_of(REGISTER_STATUSES, c)).unwrap_or("not marked")) }
                    }
                    form."ensemble-register__marks" method="post" action=(format!("/sessions/{id}/register")) {
                        (csrf(ctx))
                        input type="hidden" name="key" value=(l.key);
                        @for (code, label) in REGISTER_STATUSES {
                            button class=(if l.status.as_deref() == Some(*code) { "nhsuk-button ensemble-mark ensemble-mark--on" } else { "nhsuk-button nhsuk-button--secondary ensemble-mark" }) type="submit" name="status" value=(code) aria-pressed=(if l.status.as_deref() == Some(*code) { "true" } else { "false" }) {
                                (label) span."nhsuk-u-visually-hidden" { ": " (l.name) }
                            }
                        }
                    }
                }
            }
        }
        h2."nhsuk-heading-m" { "Add a walk-in" }
        form method="post" action=(format!("/sessions/{id}/register")) novalidate {
            (csrf(ctx))
            input type="hidden" name="status" value="present";
            (Input::new("walk_in", "First name", "").width("nhsuk-input--width-20").render(errors))
            (crate::web::forms::checkboxes("regular", "Coming regularly?", &[("yes", "Expect them at every session of this activity", "Only their first name is kept.")], &[], errors))
            (button("Add as present"))
        }
        @let members: Vec<&service::RegisterLine> = lines.iter().filter(|l| l.member && !l.left).collect();
        @if !members.is_empty() {
            details."nhsuk-details" {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Regular members who have stopped coming" } }
                div."nhsuk-details__text" {
                    ul."nhsuk-list" {
                        @for m in &members {
                            li {
                                form method="post" action=(format!("/sessions/{id}/members")) {
                                    (csrf(ctx))
                                    input type="hidden" name="member" value=(m.key.trim_start_matches("m:"));
                                    button."nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-2" type="submit" { "No longer expect " (m.name) }
                                }
                            }
                        }
                    }
                }
            }
        }
        p { a href=(format!("/sessions/{id}")) { "Back to the session" } }
    };
    Ok(page(
        ctx,
        Page::new("Register", body).errors(!errors.is_empty()),
    ))
}

/// GET /sessions/{id}/register
pub async fn register(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    register_page(&state, &ctx, &actor, &id, &[]).await
}

/// Register form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MarkForm {
    key: String,
    status: String,
    walk_in: String,
    regular: String,
}

/// Member form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MemberForm {
    member: String,
}

/// POST /sessions/{id}/members — a regular member is no longer expected.
pub async fn member_leaves(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MemberForm>,
) -> Result<Response, AppError> {
    service::member_leaves(&state, &actor, &id, &f.member).await?;
    Ok(Redirect::to(&format!("/sessions/{id}/register")).into_response())
}

/// POST /sessions/{id}/register
pub async fn mark(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MarkForm>,
) -> Result<Response, AppError> {
    match service::mark(
        &state,
        &actor,
        &id,
        &f.key,
        &f.status,
        &f.walk_in,
        f.regular == "yes",
    )
    .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}/register")).into_response()),
        Err(AppError::Invalid(e)) => register_page(&state, &ctx, &actor, &id, &e).await,
        Err(e) => Err(e),
    }
}

/// Observations and scales shown on the log page.
pub struct ObservationPart {
    pub recorded: Vec<service::Observation>,
    pub scales: Vec<crate::modules::measures::definition::Definition>,
    pub attendees: Vec<super::moments::Attendee>,
    pub moments: Vec<super::moments::Moment>,
}

async fn observation_part(
    state: &AppState,
    actor: &Actor,
    s: &Session,
) -> Result<ObservationPart, AppError> {
    Ok(ObservationPart {
        recorded: service::observations(state, actor, &s.id).await?,
        scales: service::observation_scales(state, &s.organisation_id).await?,
        attendees: super::moments::attendees(state, &s.id).await?,
        moments: super::moments::for_session(state, &s.id).await?,
    })
}

fn observation_section(
    ctx: &PageCtx,
    s: &Session,
    part: &ObservationPart,
    errors: &[FieldError],
) -> Markup {
    let values: std::collections::BTreeMap<String, crate::modules::measures::definition::Answer> =
        std::collections::BTreeMap::new();
    html! {
        h2."nhsuk-heading-m" id="observation" { "Observation scale" }
        @for o in &part.recorded {
            p."nhsuk-body" {
                strong { (o.instrument) } @if let Some(a) = &o.about { " about " (a) } ", " (datetime(o.recorded_at)) ": "
                (o.scores.iter().map(|sc| format!("{} {}", sc.label, crate::modules::measures::definition::num(sc.value))).collect::<Vec<_>>().join("; "))
            }
        }
        @for (k, d) in part.scales.iter().enumerate() {
            details."nhsuk-details" open[k == 0 && part.recorded.is_empty()] {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Record " (d.name) } }
                div."nhsuk-details__text" {
                    form method="post" action=(format!("/sessions/{}/observation", s.id)) novalidate {
                        (csrf(ctx))
                        input type="hidden" name="instrument" value=(d.id);
                        @if !part.attendees.is_empty() {
                            @let about_id = format!("about-{k}");
                            div class=(if errors.iter().any(|e| e.field == "about") { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                                label."nhsuk-label" for=(about_id) { "Who is this about?" }
                                @if let Some(e) = errors.iter().find(|e| e.field == "about") { span."nhsuk-error-message" { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                                select."nhsuk-select" id=(about_id) name="about" {
                                    option value="" { "The whole group" }
                                    @for a in &part.attendees { option value=(a.person_id) { (a.name) } }
                                }
                            }
                        }
                        @if let Some(i) = &d.instructions { p."nhsuk-body" { (i) } }
                        @for (i, item) in d.items.iter().enumerate() {
                            (crate::modules::measures::html::question(d, i, item, values.get(&item.id), false, true, errors))
                        }
                        (button("Save observation"))
                    }
                }
            }
        }
        h2."nhsuk-heading-m" id="moments" { "Moments linked to a participant" }
        @for m in &part.moments {
            p."nhsuk-body" { strong { (m.name) } ": " (m.moment) br; span."nhsuk-body-s" { (m.recorded_by) ", " (datetime(m.recorded_at)) } }
        }
        @let sharing: Vec<&super::moments::Attendee> = part.attendees.iter().filter(|a| a.shares_stories).collect();
        @if sharing.is_empty() {
            p."nhsuk-body" { "A moment can be linked to someone marked as attending who has agreed to share stories. No one at this session has, so write moments in the log without names." }
        } @else {
            details."nhsuk-details" open[errors.iter().any(|e| e.field == "person" || e.field == "moment")] {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Link a moment to a participant" } }
                div."nhsuk-details__text" {
                    p."nhsuk-body-s" { "Only people who have agreed to share stories are listed. They will see the moment on their own page." }
                    form method="post" action=(format!("/sessions/{}/moments", s.id)) novalidate {
                        (csrf(ctx))
                        (select("person", "Who", &std::iter::once((String::new(), "Choose a person".to_string())).chain(sharing.iter().map(|a| (a.person_id.clone(), a.name.clone()))).collect::<Vec<_>>(), "", errors))
                        (textarea("moment", "The moment", "What happened, in a sentence or two", "", errors))
                        (button("Save moment"))
                    }
                }
            }
        }
    }
}

fn log_page(
    ctx: &PageCtx,
    s: &Session,
    log: &Log,
    version: i64,
    errors: &[FieldError],
    conflict: Option<(&Log, &str)>,
    part: &ObservationPart,
) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            @if let Some((theirs, by)) = conflict {
                div."nhsuk-warning-callout" {
                    h3."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "Someone else saved this log" } }
                    p { (by) " saved the log while you were writing. Nothing was lost: your text is in the form, theirs is here. Combine them and save again." }
                    dl."nhsuk-summary-list" {
                        @for (k, v) in [("What happened", &theirs.what_happened), ("Engagement observed", &theirs.engagement), ("Moments that mattered", &theirs.moments), ("Debrief", &theirs.debrief), ("Next time", &theirs.next_time)] {
                            @if !v.is_empty() { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { (k) } dd."nhsuk-summary-list__value" { (v) } } }
                        }
                    }
                }
            }
            span."nhsuk-caption-l" { (s.activity_name) }
            h1 { "Session log" }
            p."nhsuk-body" { (when(s)) }
            h2."nhsuk-heading-m" { "1. The plan" }
            dl."nhsuk-summary-list" {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Aims" } dd."nhsuk-summary-list__value" { (if s.plan.aims.is_empty() { "No plan written" } else { &s.plan.aims }) } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Activities" } dd."nhsuk-summary-list__value" { (s.plan.musical_activities.iter().map(|c| label_of(ACTIVITIES, c)).collect::<Vec<_>>().join(", ")) } }
            }
            form method="post" action=(format!("/sessions/{}/log", s.id)) novalidate {
                (csrf(ctx))
                input type="hidden" name="version" value=(version);
                h2."nhsuk-heading-m" { "2. The session" }
                (textarea("what_happened", "What happened", "", &log.what_happened, errors))
                (textarea("engagement", "Engagement observed", "How people took part", &log.engagement, errors))
                (textarea("moments", "Moments that mattered", "Do not name anyone here unless they agreed", &log.moments, errors))
                h2."nhsuk-heading-m" { "3. Reflective debrief" }
                (textarea("debrief", "Debrief", "What went well, what was hard", &log.debrief, errors))
                (textarea("next_time", "What to change next time", "", &log.next_time, errors))
                (button("Save log"))
            }
            (observation_section(ctx, s, part, errors))
        } }
    };
    let has_errors = !errors.is_empty();
    let mut r = page(
        ctx,
        Page::new("Session log", body)
            .errors(has_errors)
            .back(&format!("/sessions/{}", s.id), "Back to the session"),
    );
    if conflict.is_some() && !has_errors {
        *r.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    r
}

/// GET /sessions/{id}/log
pub async fn log(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let s = service::get(&state, &actor, &id).await?;
    let part = observation_part(&state, &actor, &s).await?;
    Ok(log_page(&ctx, &s, &s.log, s.log_version, &[], None, &part))
}

/// Log form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogForm {
    version: String,
    what_happened: String,
    engagement: String,
    moments: String,
    debrief: String,
    next_time: String,
}

/// POST /sessions/{id}/log
pub async fn save_log(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<LogForm>,
) -> Result<Response, AppError> {
    let log = Log {
        what_happened: f.what_happened,
        engagement: f.engagement,
        moments: f.moments,
        debrief: f.debrief,
        next_time: f.next_time,
    };
    let version: i64 = f.version.parse().unwrap_or(-1);
    match service::save_log(&state, &actor, &id, &log, version).await {
        Ok(LogSaved::Saved) => Ok(Redirect::to(&format!("/sessions/{id}/log")).into_response()),
        Ok(LogSaved::Conflict {
            version,
            theirs,
            by,
        }) => {
            let s = service::get(&state, &actor, &id).await?;
            let part = observation_part(&state, &actor, &s).await?;
            Ok(log_page(
                &ctx,
                &s,
                &log,
                version,
                &[],
                Some((&theirs, &by)),
                &part,
            ))
        }
        Err(AppError::Invalid(e)) => {
            let s = service::get(&state, &actor, &id).await?;
            let part = observation_part(&state, &actor, &s).await?;
            Ok(log_page(&ctx, &s, &log, version, &e, None, &part))
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- incidents

use super::incidents::{self, CATEGORIES, IncidentInput, LEAD_KINDS, SEVERITIES};
use crate::web::forms::radios;

fn incident_form_page(
    ctx: &PageCtx,
    s: &Session,
    f: &IncidentInput,
    errors: &[FieldError],
) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (s.activity_name) ", " (when(s)) }
            h1 { "Record an incident or concern" }
            div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " }
                p { "If someone is in immediate danger, call 999 first. Record it here as soon as you can." } }
            form method="post" action=(format!("/sessions/{}/incident", s.id)) novalidate {
                (csrf(ctx))
                (radios("category", "What is it?", CATEGORIES, &f.category, errors))
                (radios("severity", "How serious?", SEVERITIES, &f.severity, errors))
                (textarea("what_happened", "What happened", "Facts: who was involved (first names), where, when", &f.what_happened, errors))
                (textarea("immediate_action", "What was done straight away", "", &f.immediate_action, errors))
                div."nhsuk-form-group" { div."nhsuk-checkboxes" { div."nhsuk-checkboxes__item" {
                    input."nhsuk-checkboxes__input" type="checkbox" id="escalate" name="escalate" value="yes" checked[f.escalate == "yes"];
                    label."nhsuk-label nhsuk-checkboxes__label" for="escalate" { "Escalate to the programme's named lead now (serious and critical ones always are)" }
                } } }
                (button("Record"))
            }
        } }
    };
    page(
        ctx,
        Page::new("Record an incident or concern", body)
            .errors(!errors.is_empty())
            .back(&format!("/sessions/{}", s.id), "Back to the session"),
    )
}

/// GET /sessions/{id}/incident
pub async fn incident_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let s = service::get(&state, &actor, &id).await?;
    Ok(incident_form_page(&ctx, &s, &IncidentInput::default(), &[]))
}

/// POST /sessions/{id}/incident
pub async fn incident_report(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<IncidentInput>,
) -> Result<Response, AppError> {
    match incidents::report(&state, &actor, &id, &f).await {
        Ok(incident) => Ok(Redirect::to(&format!("/incidents/{incident}")).into_response()),
        Err(AppError::Invalid(e)) => {
            let s = service::get(&state, &actor, &id).await?;
            Ok(incident_form_page(&ctx, &s, &f, &e))
        }
        Err(e) => Err(e),
    }
}

/// GET /incidents
pub async fn incidents_list(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let rows = incidents::list(&state, &actor).await?;
    let body = html! {
        h1 { "Incidents and concerns" }
        p."nhsuk-body" { "Those you reported, those escalated to you as a named lead, and, for programme managers, their organisation's." }
        @if rows.is_empty() { p."nhsuk-body" { "None." } } @else {
            ul."nhsuk-list" {
                @for r in &rows {
                    li { a href=(format!("/incidents/{}", r.id)) { (label_of(CATEGORIES, &r.category).split(' ').next().unwrap_or("")) " at " (r.activity_name) }
                        br; span."nhsuk-body-s" { (label_of(SEVERITIES, &r.severity).split(':').next().unwrap_or("")) ", " (r.status) ", " (datetime(r.reported_at)) } }
                }
            }
        }
    };
    Ok(page(&ctx, Page::new("Incidents and concerns", body)))
}

async fn incident_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let i = incidents::get(state, actor, id).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (i.activity_name) }
            h1 { (label_of(CATEGORIES, &i.category).split(' ').next().unwrap_or("Incident")) ": " (label_of(SEVERITIES, &i.severity).split(':').next().unwrap_or("")) }
            p { strong class=(if i.status == "closed" { "nhsuk-tag nhsuk-tag--grey" } else { "nhsuk-tag nhsuk-tag--red" }) { (match i.status.as_str() { "escalated" => "Escalated", "closed" => "Closed", _ => "Open" }) } }
            dl."nhsuk-summary-list" {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Reported" } dd."nhsuk-summary-list__value" { (i.reported_by) ", " (datetime(i.reported_at)) } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "What happened" } dd."nhsuk-summary-list__value ensemble-detail" { (i.what_happened) } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Done straight away" } dd."nhsuk-summary-list__value ensemble-detail" { (i.immediate_action) } }
                @if !i.closure_note.is_empty() {
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Closed" } dd."nhsuk-summary-list__value ensemble-detail" { (i.closure_note) } }
                }
            }
            @if !i.updates.is_empty() {
                h2."nhsuk-heading-m" { "Follow-up" }
                ul."nhsuk-list" { @for (who, body, at) in &i.updates { li { strong { (who) } ", " (datetime(*at)) ": " (body) } } }
            }
            @if i.can_follow_up && i.status != "closed" {
                form method="post" action=(format!("/incidents/{}/follow-up", i.id)) novalidate {
                    (csrf(ctx))
                    (textarea("body", "Follow-up", "What was done, who was told, what happens next", "", errors))
                    div."ensemble-button-row" {
                        button."nhsuk-button" type="submit" name="action" value="note" { "Add follow-up" }
                        button."nhsuk-button nhsuk-button--secondary" type="submit" name="action" value="close" { "Close with this note" }
                    }
                }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Incident", body)
            .errors(!errors.is_empty())
            .back("/incidents", "Incidents"),
    ))
}

/// GET /incidents/{id}
pub async fn incident_view(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    incident_page(&state, &ctx, &actor, &id, &[]).await
}

/// Follow-up form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FollowUpForm {
    body: String,
    action: String,
}

/// POST /incidents/{id}/follow-up
pub async fn incident_follow_up(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<FollowUpForm>,
) -> Result<Response, AppError> {
    match incidents::follow_up(&state, &actor, &id, &f.body, f.action == "close").await {
        Ok(()) => Ok(Redirect::to(&format!("/incidents/{id}")).into_response()),
        Err(AppError::Invalid(e)) => incident_page(&state, &ctx, &actor, &id, &e).await,
        Err(e) => Err(e),
    }
}

/// Leads form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LeadForm {
    email: String,
    kind: String,
}

async fn leads_view(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    f: &LeadForm,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (name, leads) = incidents::leads_page(state, actor, id).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (name) }
            h1 { "Named leads" }
            p."nhsuk-body" { "Incidents escalated from this programme's sessions go to its named clinical lead; safeguarding concerns to its safeguarding lead." }
            @if leads.is_empty() { p."nhsuk-body" { "No leads named yet: escalations go to the organisation's programme managers." } } @else {
                ul."nhsuk-list" { @for (_, who, kind) in &leads { li { (who) ": " (label_of(LEAD_KINDS, kind)) } } }
            }
            form method="post" action=(format!("/manage/activities/{id}/leads")) novalidate {
                (csrf(ctx))
                (Input::new("email", "Their email address", &f.email).kind("email").render(errors))
                (radios("kind", "Lead for", LEAD_KINDS, &f.kind, errors))
                (button("Name lead"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Named leads", body)
            .errors(!errors.is_empty())
            .back(&format!("/manage/activities/{id}"), "Back to the activity"),
    ))
}

/// GET /manage/activities/{id}/leads
pub async fn leads(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    leads_view(&state, &ctx, &actor, &id, &LeadForm::default(), &[]).await
}

/// POST /manage/activities/{id}/leads
pub async fn name_lead(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<LeadForm>,
) -> Result<Response, AppError> {
    match incidents::name_lead(&state, &actor, &id, &f.email, &f.kind).await {
        Ok(()) => Ok(Redirect::to(&format!("/manage/activities/{id}/leads")).into_response()),
        Err(AppError::Invalid(e)) => leads_view(&state, &ctx, &actor, &id, &f, &e).await,
        Err(e) => Err(e),
    }
}

/// POST /sessions/{id}/observation
pub async fn observe(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    use crate::modules::measures::definition::Answer;
    let instrument = form
        .iter()
        .find(|(k, _)| k == "instrument")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let answers: std::collections::BTreeMap<String, Answer> = form
        .iter()
        .filter_map(|(k, v)| {
            let item = k.strip_prefix("q_")?;
            let v = v.trim();
            (!v.is_empty()).then(|| {
                (
                    item.to_string(),
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .map_or_else(|| Answer::Text(v.to_string()), Answer::Number),
                )
            })
        })
        .collect();
    let about = form
        .iter()
        .find(|(k, _)| k == "about")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty());
    match service::observe(&state, &actor, &id, &instrument, about.as_deref(), answers).await {
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}/log#observation")).into_response()),
        Err(AppError::Invalid(e)) => {
            let s = service::get(&state, &actor, &id).await?;
            let part = observation_part(&state, &actor, &s).await?;
            Ok(log_page(&ctx, &s, &s.log, s.log_version, &e, None, &part))
        }
        Err(e) => Err(e),
    }
}

/// Moment form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MomentForm {
    person: String,
    moment: String,
}

/// POST /sessions/{id}/moments
pub async fn add_moment(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MomentForm>,
) -> Result<Response, AppError> {
    match super::moments::add(&state, &actor, &id, &f.person, &f.moment).await {
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}/log#moments")).into_response()),
        Err(AppError::Invalid(e)) => {
            let s = service::get(&state, &actor, &id).await?;
            let part = observation_part(&state, &actor, &s).await?;
            Ok(log_page(&ctx, &s, &s.log, s.log_version, &e, None, &part))
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- reflective practice

use super::reflection::{self, SupervisionInput};

/// Journal form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JournalForm {
    title: String,
    body: String,
}

async fn journal_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    f: &JournalForm,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let entries = reflection::journal(state, actor).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Reflective journal" }
            p."nhsuk-body" { "Private to you: nobody else can read it, including programme managers and administrators." }
            form method="post" action="/practice/journal" novalidate {
                (csrf(ctx))
                (Input::new("title", "Title", &f.title).render(errors))
                (textarea("body", "Reflection", "What happened, how it felt, what you learned, what you will try", &f.body, errors))
                (button("Save entry"))
            }
            @if !entries.is_empty() {
                h2."nhsuk-heading-m" { "Entries" }
                ul."nhsuk-list" { @for e in &entries { li { a href=(format!("/practice/journal/{}", e.id)) { (e.title) } " — " (datetime(e.created_at)) } } }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Reflective journal", body).errors(!errors.is_empty()),
    ))
}

/// GET /practice/journal
pub async fn journal(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    journal_page(&state, &ctx, &actor, &JournalForm::default(), &[]).await
}

/// POST /practice/journal
pub async fn journal_write(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<JournalForm>,
) -> Result<Response, AppError> {
    match reflection::write(&state, &actor, &f.title, &f.body).await {
        Ok(id) => Ok(Redirect::to(&format!("/practice/journal/{id}")).into_response()),
        Err(AppError::Invalid(e)) => journal_page(&state, &ctx, &actor, &f, &e).await,
        Err(e) => Err(e),
    }
}

/// GET /practice/journal/{id}
pub async fn journal_entry(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let e = reflection::entry(&state, &actor, &id).await?;
    let body = html! {
        span."nhsuk-caption-l" { "Journal, " (datetime(e.created_at)) }
        h1 { (e.title) }
        p."nhsuk-body ensemble-detail" style="white-space: pre-line" { (e.body) }
    };
    Ok(page(
        &ctx,
        Page::new(&e.title, body).back("/practice/journal", "Reflective journal"),
    ))
}

async fn supervision_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    f: &SupervisionInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let records = reflection::supervision(state, actor).await?;
    let records_html = html! {
        @if !records.is_empty() {
            h2."nhsuk-heading-m" { "Records" }
            ul."nhsuk-list" { @for r in &records {
                li { a href=(format!("/practice/supervision/{}", r.id)) { (r.met_on) ": " (if r.mine_as_supervisor { format!("supervising {}", r.practitioner) } else { format!("with {}", r.supervisor) }) } }
            } }
        }
    };
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Supervision" }
            p."nhsuk-body" { "Shared only between you and your supervisor." }
            (records_html)
            h2."nhsuk-heading-m" { "Record a supervision session" }
            form method="post" action="/practice/supervision" novalidate {
                (csrf(ctx))
                (Input::new("supervisor_email", "Your supervisor's email address", &f.supervisor_email).kind("email").render(errors))
                (Input::new("met_on", "Date", if f.met_on.is_empty() { &today } else { &f.met_on }).hint("Year-month-day").width("nhsuk-input--width-10").render(errors))
                (textarea("themes", "Themes discussed", "", &f.themes, errors))
                (textarea("actions", "Actions agreed", "", &f.actions, errors))
                (button("Save record"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Supervision", body).errors(!errors.is_empty()),
    ))
}

/// GET /practice/supervision
pub async fn supervision(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    supervision_page(&state, &ctx, &actor, &SupervisionInput::default(), &[]).await
}

/// POST /practice/supervision
pub async fn supervision_write(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<SupervisionInput>,
) -> Result<Response, AppError> {
    match reflection::record_supervision(&state, &actor, &f).await {
        Ok(id) => Ok(Redirect::to(&format!("/practice/supervision/{id}")).into_response()),
        Err(AppError::Invalid(e)) => supervision_page(&state, &ctx, &actor, &f, &e).await,
        Err(e) => Err(e),
    }
}

/// GET /practice/supervision/{id}
pub async fn supervision_record(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let r = reflection::supervision_record(&state, &actor, &id).await?;
    let body = html! {
        span."nhsuk-caption-l" { "Supervision" }
        h1 { (r.met_on) }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Practitioner" } dd."nhsuk-summary-list__value" { (r.practitioner) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Supervisor" } dd."nhsuk-summary-list__value" { (r.supervisor) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Themes" } dd."nhsuk-summary-list__value ensemble-detail" { (r.themes) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Actions" } dd."nhsuk-summary-list__value ensemble-detail" { (r.actions) } }
        }
    };
    Ok(page(
        &ctx,
        Page::new("Supervision record", body).back("/practice/supervision", "Supervision"),
    ))
}

// ---------------------------------------------------------------- practice summary

use super::summary::{self, Scope};

/// A horizontal bar chart as SVG, described for screen readers (the table beside it holds
/// the same figures).
fn bars(title: &str, data: &[(String, f64)]) -> Markup {
    if data.iter().all(|d| d.1 == 0.0) {
        // Nothing to draw: the table below says it.
        return html! {};
    }
    let max = data.iter().map(|d| d.1).fold(0.0_f64, f64::max).max(1.0);
    // Long labels (more than about 15 characters at this size) go above their bar.
    let stacked = data.iter().any(|d| d.0.chars().count() > 15);
    let (row, bar_x, label_dy, bar_dy) = if stacked {
        (40.0, 0.0, 14.0, 20.0)
    } else {
        (28.0, 110.0, 18.0, 6.0)
    };
    let width = if stacked { 280.0 } else { 170.0 };
    let height = (data.len() as f64 * row).max(row);
    html! {
        svg."ensemble-chart" viewBox=(format!("0 0 320 {height}")) role="img" aria-label=(format!("{title} (the table below has the same figures)")) {
            @for (i, (label, v)) in data.iter().enumerate() {
                @let y = i as f64 * row;
                text x="0" y=(y + label_dy) font-size="12" fill="#212b32" { (label) }
                rect x=(bar_x) y=(y + bar_dy) width=(format!("{:.1}", width * v / max)) height="16" fill="#005eb8" {}
                text x=(format!("{:.1}", bar_x + 5.0 + width * v / max)) y=(y + bar_dy + 12.0) font-size="12" fill="#212b32" { (crate::modules::measures::definition::num((*v * 100.0).round() / 100.0)) }
            }
        }
    }
}

/// Query of the summary page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SummaryQuery {
    organisation: String,
}

/// GET /practice/summary
pub async fn practice_summary(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    axum::extract::Query(q): axum::extract::Query<SummaryQuery>,
) -> Result<Response, AppError> {
    let scope = if q.organisation.is_empty() {
        Scope::Mine
    } else {
        Scope::Organisation(q.organisation.clone())
    };
    let s = summary::summary(&state, &actor, &scope).await?;
    let managed: Vec<&(String, String, crate::rbac::Role)> = actor
        .memberships
        .iter()
        .filter(|m| m.2 == crate::rbac::Role::ProgrammeManager)
        .collect();
    let sessions: Vec<(String, f64)> = s
        .sessions
        .iter()
        .map(|(m, h, _)| (m.clone(), *h as f64))
        .collect();
    let marks: Vec<(String, f64)> = s
        .marks
        .iter()
        .map(|(k, n)| (label_of(REGISTER_STATUSES, k).to_string(), *n as f64))
        .collect();
    let incidents: Vec<(String, f64)> = s
        .incidents
        .iter()
        .map(|(k, n)| (k.clone(), *n as f64))
        .collect();
    let cpd: Vec<(String, f64)> = s
        .cpd
        .iter()
        .map(|(d, n, _, _)| (d.clone(), *n as f64))
        .collect();
    let body = html! {
        span."nhsuk-caption-l" { "Practice summary, last 12 months" }
        h1 { (s.title) }
        @if !managed.is_empty() {
            ul."nhsuk-list" {
                li { a href="/practice/summary" { "Your practice" } }
                @for m in &managed { li { a href=(format!("/practice/summary?organisation={}", m.0)) { (m.1) } } }
            }
        }
        h2."nhsuk-heading-m" { "Sessions delivered" }
        @if sessions.is_empty() { p."nhsuk-body" { "No sessions yet." } } @else {
            (bars("Sessions held by month", &sessions))
            table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Sessions by month" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Month" } th."nhsuk-table__header" scope="col" { "Held" } th."nhsuk-table__header" scope="col" { "Cancelled" } } }
                tbody."nhsuk-table__body" { @for (m, h, c) in &s.sessions { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (m) } td."nhsuk-table__cell" { (h) } td."nhsuk-table__cell" { (c) } } } }
            }
        }
        h2."nhsuk-heading-m" { "Attendance" }
        @if marks.is_empty() { p."nhsuk-body" { "No registers taken yet." } } @else {
            @if let Some(a) = s.average_attendance { p."nhsuk-body" { "On average " strong { (format!("{a:.1}")) } " people attended each session with a register." } }
            (bars("Register marks", &marks))
            table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Register marks" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Mark" } th."nhsuk-table__header" scope="col" { "Count" } } }
                tbody."nhsuk-table__body" { @for (k, n) in &s.marks { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (label_of(REGISTER_STATUSES, k)) } td."nhsuk-table__cell" { (n) } } } }
            }
        }
        h2."nhsuk-heading-m" { "Observation trends" }
        @if s.observations.is_empty() { p."nhsuk-body" { "No observation scales recorded yet." } } @else {
            table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Average observation scores by month" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Month" } th."nhsuk-table__header" scope="col" { "Score" } th."nhsuk-table__header" scope="col" { "Average" } th."nhsuk-table__header" scope="col" { "Sessions" } } }
                tbody."nhsuk-table__body" { @for (m, l, mean, n) in &s.observations { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (m) } td."nhsuk-table__cell" { (l) } td."nhsuk-table__cell" { (format!("{mean:.2}")) } td."nhsuk-table__cell" { (n) } } } }
            }
        }
        h2."nhsuk-heading-m" { "Incidents by severity" }
        (bars("Incidents by severity", &incidents))
        table."nhsuk-table" {
            caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Incidents by severity" }
            thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Severity" } th."nhsuk-table__header" scope="col" { "Count" } } }
            tbody."nhsuk-table__body" { @for (k, n) in &s.incidents { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (k) } td."nhsuk-table__cell" { (n) } } } }
        }
        h2."nhsuk-heading-m" { "CPD by competency domain" }
        @if s.cpd.iter().all(|d| d.1 == 0) {
            p."nhsuk-body" { "No portfolio evidence yet. " a href="/practice/portfolio" { "Add evidence to a portfolio" } "." }
        } @else {
            (bars("Portfolio evidence by domain", &cpd))
            table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "CPD by competency domain" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Domain" } th."nhsuk-table__header" scope="col" { "Evidence" } th."nhsuk-table__header" scope="col" { "Training hours" } @if !matches!(scope, Scope::Mine) { th."nhsuk-table__header" scope="col" { "Practitioners" } } } }
                tbody."nhsuk-table__body" { @for (d, n, h, p) in &s.cpd { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (d) } td."nhsuk-table__cell" { (n) } td."nhsuk-table__cell" { (format!("{h:.1}")) } @if !matches!(scope, Scope::Mine) { td."nhsuk-table__cell" { (p) } } } } }
            }
        }
    };
    Ok(page(&ctx, Page::new("Practice summary", body)))
}
