//! The one-tap register: marking attendance and a member leaving the group.

use crate::modules::practice::model::SessionStatus;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::modules::practice::model::{REGISTER_STATUSES, label_of};
use crate::modules::practice::service::{self};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::assets::ASSETS;
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
    notice: &Notice,
) -> Result<Response, AppError> {
    let (s, lines) = service::register(state, actor, id).await?;
    let (there, total) = service::head_count(&lines);
    let unmarked = lines
        .iter()
        .filter(|l| l.status.is_none() && !l.left)
        .count();
    let body = html! {
        (error_summary(errors))
        (notice.banner())
        span."nhsuk-caption-l" { (s.activity_name) }
        h1 { "Register" }
        p."nhsuk-body" { (when(&s)) }
        @if s.status == SessionStatus::Cancelled {
            p."nhsuk-body" { "This session was cancelled." }
        }
        @if lines.is_empty() { p."nhsuk-body" { "Nobody is expected yet. Add walk-ins below." } } @else {
            p."nhsuk-body-l ensemble-head-count" role="status" data-head-count { (there) " of " (total) " present" }
        }
        @if unmarked > 0 && s.status != SessionStatus::Cancelled {
            details."nhsuk-details ensemble-everyone" data-everyone {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Mark everyone present" } }
                div."nhsuk-details__text" {
                    form method="post" action=(format!("/sessions/{id}/register/everyone")) data-mark-everyone {
                        (csrf(ctx))
                        p { "This marks the " span data-unmarked { (unmarked) } " " span data-unmarked-noun { (if unmarked == 1 { "person" } else { "people" }) } " not yet marked as present. Marks already made stay as they are." }
                        button."nhsuk-button nhsuk-u-margin-bottom-0" type="submit" { "Yes, mark " span data-unmarked { (unmarked) } " present" }
                    }
                }
            }
        }
        ul."nhsuk-list ensemble-register" data-register data-total=(total) {
            @for l in &lines {
                li."ensemble-register__line" data-line data-status=(l.status.as_deref().unwrap_or("")) data-left=(if l.left { "1" } else { "" }) {
                    p."ensemble-register__name" {
                        strong { (l.name) }
                        @if l.member { " (regular)" } @else if !l.referred { " (walk-in)" }
                        br;
                        span."nhsuk-body-s" data-status-text { (l.status.as_deref().map(|c| label_of(REGISTER_STATUSES, c)).unwrap_or("Not marked")) }
                    }
                    form."ensemble-register__marks" method="post" action=(format!("/sessions/{id}/register")) {
                        (csrf(ctx))
                        input type="hidden" name="key" value=(l.key);
                        @for (code, label) in REGISTER_STATUSES {
                            @let on = l.status.as_deref() == Some(*code);
                            button class=(if on { "nhsuk-button ensemble-mark ensemble-mark--on" } else { "nhsuk-button nhsuk-button--secondary ensemble-mark" }) type="submit" name="status" value=(code) data-label=(label) aria-pressed=(if on { "true" } else { "false" }) {
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
        script type="module" src=(ASSETS.url("/assets/js/register.js")) {}
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

/// Was the request sent by the register's script (which wants no page back)?
fn from_script(headers: &HeaderMap) -> bool {
    headers
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes() == b"fetch")
}

/// GET /sessions/{id}/register
pub async fn register(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, AppError> {
    register_page(&state, &ctx, &actor, &id, &[], &notice).await
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

/// POST /sessions/{id}/register — one mark (or a walk-in). The register's script gets
/// 204 (or 422, and then sends the form the ordinary way); a plain form gets the page.
pub async fn mark(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    PageForm(f): PageForm<MarkForm>,
) -> Result<Response, AppError> {
    let regular = f.regular == "yes";
    let done = service::mark(&state, &actor, &id, &f.key, &f.status, &f.walk_in, regular).await;
    match done {
        Ok(()) if from_script(&headers) => Ok(StatusCode::NO_CONTENT.into_response()),
        Ok(()) => {
            Ok(Redirect::to(&format!("/sessions/{id}/register?saved=register")).into_response())
        }
        Err(AppError::Invalid(_)) if from_script(&headers) => {
            Ok(StatusCode::UNPROCESSABLE_ENTITY.into_response())
        }
        Err(AppError::Invalid(e)) => {
            register_page(&state, &ctx, &actor, &id, &e, &Notice::default()).await
        }
        Err(e) => Err(e),
    }
}

/// POST /sessions/{id}/register/everyone — everyone not yet marked is marked present (after
/// the confirmation in the page). The script gets `{"marked": n}`.
pub async fn mark_everyone(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    match service::mark_everyone_present(&state, &actor, &id).await {
        Ok(n) if from_script(&headers) => {
            Ok(axum::Json(serde_json::json!({ "marked": n })).into_response())
        }
        Ok(n) => Ok(
            Redirect::to(&format!("/sessions/{id}/register?saved=everyone&count={n}"))
                .into_response(),
        ),
        Err(AppError::Invalid(_)) if from_script(&headers) => {
            Ok(StatusCode::UNPROCESSABLE_ENTITY.into_response())
        }
        Err(AppError::Invalid(e)) => {
            register_page(&state, &ctx, &actor, &id, &e, &Notice::default()).await
        }
        Err(e) => Err(e),
    }
}
