//! A participant's check-ins on their own phone, and starting one.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::error::AppError;
use crate::modules::measures::service::{self, Mode, NewResponse};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, csrf, error_summary};
use crate::web::{Page, PageCtx, page};

use super::*;

/// The person record of a signed-in participant.
async fn own_person(state: &AppState, actor: &Actor) -> Result<Option<String>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM people WHERE user_id = $1 ORDER BY created_at LIMIT 1")
            .bind(actor.user_id.clone())
            .fetch_optional(&state.db.read)
            .await?,
    )
}

/// GET /check-ins — the participant's own check-ins.
pub async fn my_check_ins(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let person = own_person(&state, &actor).await?;
    let Some(person_id) = person else {
        let body = html! {
            h1 { "Your check-ins" }
            p."nhsuk-body" { "There is no participant record linked to your account yet. Your link worker can link it for you." }
        };
        return Ok(page(&ctx, Page::new("Your check-ins", body)));
    };
    let available = service::available_for(&state, &actor, &person_id).await?;
    let due = crate::modules::measures::schedules::due_for_person(&state, &person_id).await?;
    let latest = service::own_latest(&state, &actor, &person_id).await?;
    let pending = service::pending_for(&state, &actor).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            h1 { "Your check-ins" }
            p."nhsuk-body" { "Short questions about how you have been. Your answers help you and your link worker see what is changing. You can stop at any point and come back." }
            @let mine: Vec<_> = pending.iter().filter(|p| p.person_id == person_id).collect();
            @if !mine.is_empty() {
                h2."nhsuk-heading-m" { "Carry on where you left off" }
                ul."nhsuk-list" {
                    @for p in mine { li { a href=(format!("/check-ins/{}", p.id)) { "Continue " (p.instrument) } } }
                }
            }
            @if !due.is_empty() {
                div."nhsuk-inset-text" {
                    span."nhsuk-u-visually-hidden" { "Information: " }
                    p { "Due now: " (due.iter().map(|d| available.iter().find(|(a, _)| a.id == d.instrument_id).map(|(a, _)| a.short_name.clone()).unwrap_or_else(|| d.instrument_id.clone())).collect::<Vec<_>>().join(", ")) }
                }
            }
            h2."nhsuk-heading-m" { "Start a check-in" }
            @for (d, _) in &available {
                div."nhsuk-card" { div."nhsuk-card__content" {
                    h3."nhsuk-card__heading nhsuk-heading-s" { (d.name) }
                    p."nhsuk-card__description" { (d.items.len()) " questions" }
                    form method="post" action="/check-ins/start" novalidate {
                        (csrf(&ctx))
                        input type="hidden" name="instrument" value=(d.id);
                        @let base = format!("{}-", d.id);
                        div."nhsuk-form-group" {
                            fieldset."nhsuk-fieldset" {
                                legend."nhsuk-fieldset__legend nhsuk-fieldset__legend--s" { "How would you like to answer?" }
                                div."nhsuk-checkboxes" {
                                    div."nhsuk-checkboxes__item" {
                                        input."nhsuk-checkboxes__input" type="checkbox" id=(format!("{base}one")) name="one_per_page" value="yes";
                                        label."nhsuk-label nhsuk-checkboxes__label" for=(format!("{base}one")) { "One question at a time" }
                                    }
                                    div."nhsuk-checkboxes__item" {
                                        input."nhsuk-checkboxes__input" type="checkbox" id=(format!("{base}easy")) name="easy_read" value="yes";
                                        label."nhsuk-label nhsuk-checkboxes__label" for=(format!("{base}easy")) { "Easy read wording" }
                                    }
                                }
                            }
                        }
                        button."nhsuk-button" type="submit" { "Start " (d.short_name) }
                    }
                } }
            }
            (scores_panel(&latest, "Your latest scores"))
        } }
    };
    Ok(page(&ctx, Page::new("Your check-ins", body)))
}

/// Form to start a self check-in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartSelf {
    instrument: String,
    one_per_page: String,
    easy_read: String,
}

/// POST /check-ins/start
pub async fn start_self(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<StartSelf>,
) -> Result<Response, AppError> {
    let Some(person_id) = own_person(&state, &actor).await? else {
        // No participant record linked: the list page explains what to do.
        return Ok(Redirect::to("/check-ins").into_response());
    };
    let outcome = service::start(
        &state,
        &actor,
        NewResponse {
            person_id,
            instrument_id: f.instrument,
            referral_id: None,
            schedule_id: None,
            mode: Mode::SelfReport,
            double_entry: false,
            easy_read: f.easy_read == "yes",
            one_per_page: f.one_per_page == "yes",
        },
    )
    .await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/check-ins/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let body = html! {
                (error_summary(&errors))
                h1 { "This check-in cannot be started" }
                p."nhsuk-body" { a href="/check-ins" { "Back to your check-ins" } }
            };
            Ok(page(
                &ctx,
                Page::new("This check-in cannot be started", body).errors(true),
            ))
        }
        Err(e) => Err(e),
    }
}
