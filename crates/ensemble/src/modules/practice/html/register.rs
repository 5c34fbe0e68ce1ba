//! The one-tap register: marking attendance and a member leaving the group.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::modules::practice::model::{REGISTER_STATUSES, label_of};
use crate::modules::practice::service::{self};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary};
use crate::web::{Page, PageCtx, page};

use super::*;

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
        Page::new(
            &format!("Register: {}, {}", s.activity_name, super::when(&s)),
            body,
        )
        .errors(!errors.is_empty()),
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
