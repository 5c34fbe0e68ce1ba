//! Incidents and safeguarding: reporting, the list, an incident's page, follow-ups, and
//! naming programme leads.

use crate::modules::practice::model::IncidentStatus;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::modules::practice::model::label_of;
use crate::modules::practice::service::{self, Session};
use crate::rbac::{Actor, Role};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, textarea};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use crate::modules::practice::incidents::{
    self, CATEGORIES, IncidentInput, LEAD_KINDS, SEVERITIES,
};
use crate::web::forms::radios;

use super::*;

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
        Ok(incident) => {
            Ok(Redirect::to(&format!("/incidents/{incident}?recorded=yes")).into_response())
        }
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
                        br; span."nhsuk-body-s" { (label_of(SEVERITIES, &r.severity).split(':').next().unwrap_or("")) ", " (r.status.label().to_lowercase()) ", " (datetime(r.reported_at)) } }
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
    recorded: bool,
) -> Result<Response, AppError> {
    let i = incidents::get(state, actor, id).await?;
    let manages = actor.has_role(Role::Administrator)
        || actor.has_role_in(&i.organisation_id, Role::ProgrammeManager);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            @if recorded {
                div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { strong { "Recorded." } " Thank you. Below is who was told, what happens next and who to call out of hours." } }
            }
            span."nhsuk-caption-l" { (i.activity_name) }
            h1 { (label_of(CATEGORIES, &i.category).split(' ').next().unwrap_or("Incident")) ": " (label_of(SEVERITIES, &i.severity).split(':').next().unwrap_or("")) }
            p { strong class=(if i.status == IncidentStatus::Closed { "nhsuk-tag nhsuk-tag--grey" } else { "nhsuk-tag nhsuk-tag--red" }) { (i.status.label()) } }
            dl."nhsuk-summary-list" {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Reported" } dd."nhsuk-summary-list__value" { (i.reported_by) ", " (datetime(i.reported_at)) } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "What happened" } dd."nhsuk-summary-list__value ensemble-detail" { (i.what_happened) } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Done straight away" } dd."nhsuk-summary-list__value ensemble-detail" { (i.immediate_action) } }
                @if !i.closure_note.is_empty() {
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Closed" } dd."nhsuk-summary-list__value ensemble-detail" { (i.closure_note) } }
                }
            }
            (follow_through(&i, manages))
            @if !i.updates.is_empty() {
                h2."nhsuk-heading-m" { "Follow-up" }
                ul."nhsuk-list" { @for (who, body, at) in &i.updates { li { strong { (who) } ", " (datetime(*at)) ": " (body) } } }
            }
            @if i.can_follow_up && i.status != IncidentStatus::Closed {
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
        Page::new(
            &format!(
                "{}: {}",
                label_of(CATEGORIES, &i.category)
                    .split(' ')
                    .next()
                    .unwrap_or("Incident"),
                i.activity_name
            ),
            body,
        )
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
    q: Result<Query<IncidentQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let recorded = q.is_ok_and(|Query(q)| q.recorded == "yes");
    incident_page(&state, &ctx, &actor, &id, &[], recorded).await
}

/// `?recorded=yes`: the page is the confirmation straight after recording.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IncidentQuery {
    recorded: String,
}

/// Who was told (by name and role), what happens next, and the organisation's
/// out-of-hours safeguarding route.
fn follow_through(i: &incidents::Incident, manages: bool) -> Markup {
    let roles: Vec<&str> = i.told.iter().map(|t| t.role.as_str()).collect();
    html! {
        h2."nhsuk-heading-m" { "Who was told" }
        @if i.escalated && !i.told.is_empty() {
            p."nhsuk-body" { "These people were emailed a link to this page (the email has no details):" }
            ul."nhsuk-list nhsuk-list--bullet" { @for t in &i.told { li { (t.name) ", " (t.role.to_lowercase()) } } }
        } @else if i.escalated {
            p."nhsuk-body" { "Nobody could be emailed: this programme has no named leads or programme managers with an account. Tell your manager or safeguarding lead yourself now." }
        } @else {
            p."nhsuk-body" { "It was not escalated, so nobody was emailed. The programme's named leads and programme managers can see it in their list of incidents." }
        }
        h2."nhsuk-heading-m" { "What happens next" }
        @if i.escalated && !i.told.is_empty() {
            p."nhsuk-body" { "The " (roles.first().map(|r| r.to_lowercase()).unwrap_or_default()) " will look at it, decide what to do and record each step here. You can come back to this page to see what has been done." }
        } @else {
            p."nhsuk-body" { "A named lead or programme manager will review it and may add a follow-up here. If you are worried about someone's safety, escalate it: record it again as serious or choose to escalate." }
        }
        h2."nhsuk-heading-m" { "Out of hours" }
        div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p."ensemble-detail" { (i.out_of_hours) } }
        @if manages {
            p."nhsuk-body" { a href=(format!("/organisations/{}/out-of-hours", i.organisation_id)) { "Change the out-of-hours route" } }
        }
    }
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
        Err(AppError::Invalid(e)) => incident_page(&state, &ctx, &actor, &id, &e, false).await,
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
