//! The reflective journal and supervision records.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, textarea};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use crate::modules::practice::reflection::{self, SupervisionInput};

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
        p."nhsuk-body ensemble-detail ensemble-pre-line" { (e.body) }
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
    let today = crate::db::uk::today().to_string();
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
