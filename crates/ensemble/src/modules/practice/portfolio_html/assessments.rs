//! Assessing yourself, asking for an assessment, and the assessor's pages.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::modules::practice::competencies::Framework;
use crate::modules::practice::portfolio::{self, AssessInput};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, select, textarea};
use crate::web::{Page, PageCtx, page};

use super::*;

fn competency_options(f: &Framework) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), "Choose a competency".to_string())];
    out.extend(f.competencies.iter().map(|c| {
        (
            c.code.clone(),
            format!("{}: {} ({})", c.domain, c.title, c.code),
        )
    }));
    out
}

async fn assess_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    ask: bool,
    f: &AssessInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (_, fw) = portfolio::framework_in_use(state, actor).await?;
    let title = if ask {
        "Ask for an assessment"
    } else {
        "Assess yourself"
    };
    let body = html! {
        (error_summary(errors))
        h1 { (title) }
        @if ask {
            p."nhsuk-body" { "A peer is a practitioner or programme manager in your organisation. A supervisor assessment comes from someone you have recorded supervision with. They are emailed a link and see only the evidence you linked to this competency." }
            form method="post" action="/practice/portfolio/request" novalidate {
                (csrf(ctx))
                (select("competency", "Competency", &competency_options(&fw), &f.competency, errors))
                (crate::web::forms::radios("kind", "Who are you asking?", &[("peer", "A peer"), ("supervisor", "My supervisor")], &f.kind, errors))
                (Input::new("assessor_email", "Their email address", &f.assessor_email).kind("email").autocomplete("off").render(errors))
                (button("Send the request"))
            }
        } @else {
            form method="post" action="/practice/portfolio/assess" novalidate {
                (csrf(ctx))
                (select("competency", "Competency", &competency_options(&fw), &f.competency, errors))
                (radios_i64("level", "Where are you now?", &f.level, errors))
                (textarea("comment", "Why (optional)", "What shows this, and what you want to develop next", &f.comment, errors))
                (button("Save my assessment"))
            }
        }
    };
    Ok(page(
        ctx,
        Page::new(title, body)
            .back("/practice/portfolio", "Your CPD portfolio")
            .errors(!errors.is_empty()),
    ))
}

/// GET /practice/portfolio/assess
pub async fn assess_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    assess_page(&state, &ctx, &actor, false, &AssessInput::default(), &[]).await
}

/// POST /practice/portfolio/assess
pub async fn assess(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<AssessInput>,
) -> Result<Response, AppError> {
    match portfolio::self_assess(&state, &actor, &f).await {
        Ok(()) => Ok(Redirect::to("/practice/portfolio").into_response()),
        Err(AppError::Invalid(e)) => assess_page(&state, &ctx, &actor, false, &f, &e).await,
        Err(e) => Err(e),
    }
}

/// GET /practice/portfolio/request
pub async fn request_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    assess_page(&state, &ctx, &actor, true, &AssessInput::default(), &[]).await
}

/// POST /practice/portfolio/request
pub async fn request(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<AssessInput>,
) -> Result<Response, AppError> {
    match portfolio::request(&state, &actor, &f).await {
        Ok(_) => Ok(Redirect::to("/practice/portfolio").into_response()),
        Err(AppError::Invalid(e)) => assess_page(&state, &ctx, &actor, true, &f, &e).await,
        Err(e) => Err(e),
    }
}

/// GET /practice/assessments — assessments asked of the actor.
pub async fn asked(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let list = portfolio::asked_of(&state, &actor).await?;
    let body = html! {
        h1 { "Assessments asked of you" }
        @if list.is_empty() { p."nhsuk-body" { "No one has asked you for an assessment." } } @else {
            ul."nhsuk-list nhsuk-list--border" {
                @for a in &list {
                    li { a href=(format!("/practice/assessments/{}", a.id)) { (a.practitioner) ": " (a.competency_code) } br;
                        span."nhsuk-body-s" { (if a.kind == "peer" { "Peer" } else { "Supervisor" }) " assessment, "
                            (match a.status.as_str() { "requested" => "waiting for you", "given" => "given", _ => "declined" }) } }
                }
            }
        }
    };
    Ok(page(&ctx, Page::new("Assessments asked of you", body)))
}

async fn request_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    f: &AssessInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (a, c, evidence) = portfolio::request_view(state, actor, id).await?;
    let mine_to_answer = a.status == "requested" && a.assessor_id == actor.user_id;
    let title = format!("Assessment for {}", a.practitioner);
    let body = html! {
        (error_summary(errors))
        span."nhsuk-caption-l" { (if a.kind == "peer" { "Peer assessment" } else { "Supervisor assessment" }) }
        h1 { (title) }
        @if let Some(c) = &c {
            h2."nhsuk-heading-m" { (c.title) " (" (c.code) ")" }
            p."nhsuk-body" { (c.domain) ". " (c.description) }
        }
        h2."nhsuk-heading-m" { "Evidence linked to this competency" }
        @if evidence.is_empty() { p."nhsuk-body" { "None linked." } } @else {
            ul."nhsuk-list nhsuk-list--border" { @for e in &evidence {
                li { strong { (e.title) } br; span."nhsuk-body-s" { (kind_label(&e.kind)) ", " (e.occurred_on) @if let Some(h) = e.hours { ", " (h) " hours" } }
                    @if !e.detail.is_empty() { p."nhsuk-body-s ensemble-detail" { (e.detail) } }
                    @if let Some(cert) = &e.certificate { p."nhsuk-body-s" { a href=(format!("/practice/portfolio/certificates/{}", cert.id)) { "Download certificate " (cert.filename) } } } }
            } }
        }
        @if a.status == "given" {
            div."nhsuk-inset-text" { p { "Given by " (a.assessor) ": level " (level_text(Some(&a))) "." } @if !a.comment.is_empty() { p."ensemble-detail" { (a.comment) } } }
        } @else if a.status == "declined" {
            div."nhsuk-inset-text" { p { (a.assessor) " declined this request." } }
        } @else if mine_to_answer {
            form method="post" action=(format!("/practice/assessments/{id}")) novalidate {
                (csrf(ctx))
                (radios_i64("level", "Your assessment", &f.level, errors))
                (textarea("comment", "What you saw", "The practice you observed or discussed that supports this level", &f.comment, errors))
                div."ensemble-button-row" {
                    (button("Give assessment"))
                    button."nhsuk-button nhsuk-button--secondary" type="submit" name="decision" value="decline" { "Decline" }
                }
            }
        } @else {
            p."nhsuk-body" { "Waiting for " (a.assessor) "." }
        }
    };
    Ok(page(
        ctx,
        Page::new(&title, body)
            .back("/practice/assessments", "Assessments asked of you")
            .errors(!errors.is_empty()),
    ))
}

/// GET /practice/assessments/{id}
pub async fn request_view(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    request_page(&state, &ctx, &actor, &id, &AssessInput::default(), &[]).await
}

/// The assessor's answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerForm {
    pub level: String,
    pub comment: String,
    pub decision: String,
}

/// POST /practice/assessments/{id}
pub async fn answer(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<AnswerForm>,
) -> Result<Response, AppError> {
    let input = AssessInput {
        level: f.level.clone(),
        comment: f.comment.clone(),
        ..Default::default()
    };
    match portfolio::answer(&state, &actor, &id, &input, f.decision == "decline").await {
        Ok(()) => Ok(Redirect::to(&format!("/practice/assessments/{id}")).into_response()),
        Err(AppError::Invalid(e)) => request_page(&state, &ctx, &actor, &id, &input, &e).await,
        Err(e) => Err(e),
    }
}
