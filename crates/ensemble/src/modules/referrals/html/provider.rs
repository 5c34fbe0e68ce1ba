//! The provider's pages: referrals to its activities, answering, messages and attendance.

use crate::modules::referrals::model::ProviderStatus;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::{AttendanceForm, provider_label, rows_table};
use crate::error::{AppError, FieldError};
use crate::modules::measures::service::InstrumentSummary;
use crate::modules::referrals::model::{ACTIONS, BARRIERS, Status, label};
use crate::modules::referrals::service::{self, ProviderView};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, csrf, error_summary, radios, summary_row, textarea,
};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

/// GET /provider/referrals
pub async fn provider_inbox(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let rows = service::provider_inbox(&state, &actor).await?;
    let body = html! {
        h1 { "Referrals to your activities" }
        @if rows.is_empty() { p."nhsuk-body" { "No referrals yet." } }
        @else { (rows_table(&rows, |r| format!("/provider/referrals/{}", r.id), "Waiting for an answer first", false)) }
    };
    Ok(page(&ctx, Page::new("Referrals to your activities", body)))
}

async fn provider_page_with(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let v = service::provider_view(state, actor, id).await?;
    let instruments = crate::modules::measures::service::list(state).await?;
    Ok(provider_page_view(ctx, id, &v, &instruments, errors))
}

/// The provider's page: what it needs to welcome the person, its answer, wellbeing,
/// attendance and messages with the link worker, with the problems named.
fn provider_page_view(
    ctx: &PageCtx,
    id: &str,
    v: &ProviderView,
    instruments: &[InstrumentSummary],
    errors: &[FieldError],
) -> Response {
    let today = crate::db::uk::today().to_string();
    let body = html! {
        (error_summary(errors))
        span."nhsuk-caption-l" { "Referral to " (v.activity_name) }
        h1 { (v.name) }
        p { strong."nhsuk-tag" { (provider_label(v.provider_status)) } }
        dl."nhsuk-summary-list" {
            (summary_row("Pronouns", &v.pronouns))
            (summary_row("Communication needs", &v.communication_needs))
            (summary_row("Languages", &v.languages))
            (summary_row("Link worker", &v.link_worker))
            (summary_row("Note from the link worker", &v.note))
            (summary_row("Asked", &v.requested_at.map(datetime).unwrap_or_default()))
            @if let Some((phone, email)) = &v.contact {
                (summary_row("Phone", phone))
                (summary_row("Email", email))
            }
        }
        @if v.contact.is_none() && v.provider_status == Some(ProviderStatus::Accepted) {
            p."nhsuk-body" { "The person has not agreed to be contacted directly: arrange the first visit through the link worker." }
        }
        @if !v.barriers.is_empty() {
            h2."nhsuk-heading-m" { "Support arranged" }
            ul."nhsuk-list nhsuk-list--bullet" { @for b in &v.barriers { li { (label(BARRIERS, &b.barrier)) ": " (label(ACTIONS, &b.action)) @if !b.action_detail.is_empty() { " – " (b.action_detail) } } } }
        }
        @if v.provider_status == Some(ProviderStatus::Pending) {
            h2."nhsuk-heading-m" id="respond" { "Can you accept this referral?" }
            form method="post" action=(format!("/provider/referrals/{id}/respond")) novalidate {
                (csrf(ctx))
                (radios("decision", "Your answer", &[("accept", "Accept – we will welcome them"), ("decline", "Decline")], "", errors))
                (Input::new("reason", "Reason (needed if you decline)", "").render(errors))
                (button("Send answer"))
            }
        }
        @if v.provider_status == Some(ProviderStatus::Accepted) {
            div id="wellbeing" {
                (crate::modules::measures::html::scores_panel(&v.scores, "Wellbeing"))
                (crate::modules::measures::html::start_form(ctx, instruments, &v.person_id, Some(id)))
            }
        }
        @if v.provider_status == Some(ProviderStatus::Accepted) && matches!(v.status, Status::Connected | Status::Attending | Status::Reviewed) {
            h2."nhsuk-heading-m" id="attendance" { "Attendance" }
            @if !v.attendance.is_empty() { ul."nhsuk-list" { @for (d, s) in &v.attendance { li { (d) ": " (s) } } } }
            form method="post" action=(format!("/provider/referrals/{id}/attendance")) novalidate {
                (csrf(ctx))
                (Input::new("session_date", "Session date", &today).hint("Year-month-day").width("nhsuk-input--width-10").render(errors))
                (radios("attendance", "Attendance", &[("present", "Present"), ("absent", "Absent")], "present", errors))
                (button("Mark attendance"))
            }
        }
        h2."nhsuk-heading-m" id="messages" { "Messages with the link worker" }
        form method="post" action=(format!("/provider/referrals/{id}/message")) novalidate {
            (csrf(ctx))
            (textarea("message", "Send a message", "", "", errors))
            (button("Send message"))
        }
        ul."nhsuk-list" { @for e in &v.messages { li { span."nhsuk-body-s" { (datetime(e.at)) " · " (e.actor.clone().unwrap_or_default()) } br; (e.body) } } }
    };
    page(
        ctx,
        Page::new(&v.name, body)
            .errors(!errors.is_empty())
            .back("/provider/referrals", "Back to referrals"),
    )
}

/// GET /provider/referrals/{id}
pub async fn provider_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    provider_page_with(&state, &ctx, &actor, &id, &[]).await
}

async fn provider_after(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    result: Result<(), AppError>,
) -> Result<Response, AppError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/provider/referrals/{id}")).into_response()),
        Err(AppError::Invalid(e)) => provider_page_with(state, ctx, actor, id, &e).await,
        Err(e) => Err(e),
    }
}

/// Provider answer form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RespondForm {
    decision: String,
    reason: String,
}

/// POST /provider/referrals/{id}/respond
pub async fn provider_respond(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<RespondForm>,
) -> Result<Response, AppError> {
    let r = service::respond(&state, &actor, &id, &f.decision, &f.reason).await;
    provider_after(&state, &ctx, &actor, &id, r).await
}

/// Message form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageForm {
    message: String,
}

/// POST /provider/referrals/{id}/message
pub async fn provider_message(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MessageForm>,
) -> Result<Response, AppError> {
    let r = service::provider_message(&state, &actor, &id, &f.message).await;
    provider_after(&state, &ctx, &actor, &id, r).await
}

/// POST /provider/referrals/{id}/attendance
pub async fn provider_attendance(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<AttendanceForm>,
) -> Result<Response, AppError> {
    let r = service::mark_attendance(&state, &actor, &id, &f.session_date, &f.attendance).await;
    provider_after(&state, &ctx, &actor, &id, r).await
}
