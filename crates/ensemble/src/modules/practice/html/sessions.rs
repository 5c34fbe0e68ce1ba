//! Sessions and their plans: the list, creating a session, the session page, saving the
//! plan and cancelling.

use crate::modules::practice::model::SessionStatus;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::modules::practice::model::{ACTIVITIES, label_of};
use crate::modules::practice::service::{self, NewSession, Plan, Session};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, csrf, date_input, error_summary, select, textarea,
};
use crate::web::{Page, PageCtx, page};

use super::*;

/// The schedule form: an activity and how many weeks to plan.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PlanForm {
    plan_activity: String,
    weeks: String,
}

#[allow(clippy::too_many_arguments)]
async fn list_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    f: &NewSession,
    p: &PlanForm,
    errors: &[FieldError],
    notice: &Notice,
) -> Result<Response, AppError> {
    let sessions = service::list(state, actor).await?;
    let activities = service::activities(state, actor).await?;
    let templates = service::templates(state, actor).await?;
    let mut activity_options = vec![(String::new(), "Choose an activity".to_string())];
    activity_options.extend(activities);
    let mut template_options = vec![(String::new(), "No template".to_string())];
    template_options.extend(templates);
    let today = crate::db::uk::today();
    let (d, m, y) =
        if f.day.is_empty() && f.month.is_empty() && f.year.is_empty() && errors.is_empty() {
            (
                today.day().to_string(),
                u8::from(today.month()).to_string(),
                today.year().to_string(),
            )
        } else {
            (f.day.clone(), f.month.clone(), f.year.clone())
        };
    let weeks = if p.weeks.is_empty() {
        "4"
    } else {
        p.weeks.as_str()
    };
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            (notice.banner())
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
                            " " (status_tag(s.status)) br;
                            span."nhsuk-body-s" { ({ let t = crate::db::uk::local(s.starts_at); format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()) }) }
                        }
                    }
                }
            }
            h2."nhsuk-heading-m" { "Plan sessions from the schedule" }
            p."nhsuk-body" { "Adds a session for every date on the activity's schedule (within its term dates) in the coming weeks. Dates that already have a session are left as they are." }
            form method="post" action="/sessions/plan" novalidate {
                (csrf(ctx))
                (select("plan_activity", "Activity", &activity_options, &p.plan_activity, errors))
                (Input::new("weeks", "How many weeks", weeks).hint("From 1 to 12").width("nhsuk-input--width-2").render(errors))
                (button("Plan sessions from the schedule"))
            }
            h2."nhsuk-heading-m" { "Plan a one-off session" }
            form method="post" action="/sessions" novalidate {
                (csrf(ctx))
                (select("activity_id", "Activity", &activity_options, &f.activity_id, errors))
                (date_input("date", "Date", "For example, 15 3 2026", (&d, &m, &y), errors))
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
    Query(notice): Query<Notice>,
) -> Result<Response, AppError> {
    let (f, p) = (NewSession::default(), PlanForm::default());
    list_page(&state, &ctx, &actor, &f, &p, &[], &notice).await
}

/// POST /sessions — a one-off session; a date or time off the schedule is planned, with a
/// warning on the session page.
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<NewSession>,
) -> Result<Response, AppError> {
    match service::create_checked(&state, &actor, &f).await {
        Ok((id, on_schedule)) => {
            let warn = if on_schedule { "" } else { "&warn=schedule" };
            Ok(Redirect::to(&format!("/sessions/{id}?saved=session{warn}")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            let p = PlanForm::default();
            list_page(&state, &ctx, &actor, &f, &p, &e, &Notice::default()).await
        }
        Err(e) => Err(e),
    }
}

/// POST /sessions/plan — the next weeks' sessions from the activity's schedule.
pub async fn plan_from_schedule(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(p): PageForm<PlanForm>,
) -> Result<Response, AppError> {
    match service::plan_from_schedule(&state, &actor, &p.plan_activity, &p.weeks).await {
        Ok(n) => Ok(
            Redirect::to(&format!("/sessions?saved=planned&count={}", n.created)).into_response(),
        ),
        Err(AppError::Invalid(mut e)) => {
            for fe in &mut e {
                if fe.field == "activity_id" {
                    fe.field = "plan_activity".into();
                }
            }
            let f = NewSession::default();
            list_page(&state, &ctx, &actor, &f, &p, &e, &Notice::default()).await
        }
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
    notice: &Notice,
) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            (notice.banner())
            (notice.warning())
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
            p { (status_tag(s.status)) @if !s.venue.is_empty() { " " (s.venue) } }
            @if s.status == SessionStatus::Cancelled {
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
                @if s.status == SessionStatus::Planned {
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
        Page::new(&format!("Session: {}, {}", s.activity_name, when(s)), body)
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
    Query(notice): Query<Notice>,
) -> Result<Response, AppError> {
    let s = service::get(&state, &actor, &id).await?;
    Ok(session_page(
        &ctx,
        &s,
        &s.plan,
        s.plan_version,
        &[],
        false,
        &notice,
    ))
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
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}?saved=plan")).into_response()),
        Err(AppError::Invalid(e)) => {
            let s = service::get(&state, &actor, &id).await?;
            Ok(session_page(
                &ctx,
                &s,
                &plan,
                version,
                &e,
                false,
                &Notice::default(),
            ))
        }
        Err(AppError::Conflict(_)) => {
            let s = service::get(&state, &actor, &id).await?;
            let mut r = session_page(
                &ctx,
                &s,
                &plan,
                s.plan_version,
                &[],
                true,
                &Notice::default(),
            );
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
            Ok(session_page(
                &ctx,
                &s,
                &s.plan,
                s.plan_version,
                &e,
                false,
                &Notice::default(),
            ))
        }
        Err(e) => Err(e),
    }
}
