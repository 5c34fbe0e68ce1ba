//! Adding, viewing and removing evidence, and downloading a certificate.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::error::{AppError, FieldError};
use crate::modules::practice::portfolio::{self, Evidence, EvidenceInput, KINDS, Portfolio};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, button, checkboxes, csrf, error_summary, select, textarea};
use crate::web::upload::MultipartForm;
use crate::web::{Page, PageCtx, page};

use super::*;

async fn evidence_form(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    f: &EvidenceInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (_, fw) = portfolio::framework_in_use(state, actor).await?;
    let records = portfolio::linkable(state, actor).await?;
    let mut sources = vec![(
        String::new(),
        "None (training or a peer observation)".to_string(),
    )];
    for (k, id, label, _) in &records {
        let prefix = match k.as_str() {
            "session" => "Session",
            "reflection" => "Journal",
            _ => "Supervision",
        };
        sources.push((format!("{k}:{id}"), format!("{prefix}: {label}")));
    }
    let comps: Vec<(String, String, String)> = fw
        .competencies
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                format!("{} ({})", c.title, c.code),
                c.domain.clone(),
            )
        })
        .collect();
    let comp_refs: Vec<(&str, &str, &str)> = comps
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    let cert_err = errors.iter().find(|e| e.field == "certificate");
    let body = html! {
        (error_summary(errors))
        h1 { "Add evidence" }
        form method="post" action="/practice/portfolio/evidence" enctype="multipart/form-data" novalidate {
            (csrf(ctx))
            (crate::web::forms::radios("kind", "What is it?", &KINDS, &f.kind, errors))
            (select("source", "Which record? (sessions, reflections and supervision)", &sources, &f.source, errors))
            (Input::new("title", "Title", &f.title).hint("For training, its name; for a peer observation, who observed you. Sessions, reflections and supervision use the record's name if you leave this empty.").render(errors))
            (Input::new("occurred_on", "Date", &f.occurred_on).hint("Year-month-day, like 2026-11-20. Leave empty to use the record's date.").width("nhsuk-input--width-10").render(errors))
            (Input::new("hours", "Hours (optional)", &f.hours).hint("For training: how long it took, like 3 or 7.5").kind("text").width("nhsuk-input--width-5").render(errors))
            (textarea("detail", "Notes", "What you learned, or the observer's feedback", &f.detail, errors))
            div class=(if cert_err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                label."nhsuk-label" for="certificate" { "Certificate (training only, optional)" }
                div."nhsuk-hint" id="certificate-hint" { "A PDF, PNG or JPEG file of up to 5 MB."
                    @if !errors.is_empty() { " If you chose a file, choose it again." } }
                @if let Some(e) = cert_err { span."nhsuk-error-message" id="certificate-error" { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                input."nhsuk-file-upload" id="certificate" name="certificate" type="file" accept=".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"
                    aria-describedby=(if cert_err.is_some() { "certificate-hint certificate-error" } else { "certificate-hint" });
            }
            (checkboxes("competencies", "Which competencies does it show?", &comp_refs, &f.competencies, errors))
            (button("Add to portfolio"))
        }
    };
    Ok(page(
        ctx,
        Page::new("Add evidence", body)
            .back("/practice/portfolio", "Your CPD portfolio")
            .errors(!errors.is_empty()),
    ))
}

/// GET /practice/portfolio/evidence/new
pub async fn new_evidence(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    evidence_form(&state, &ctx, &actor, &EvidenceInput::default(), &[]).await
}

/// POST /practice/portfolio/evidence (multipart: the certificate is a file)
pub async fn add_evidence(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    form: MultipartForm,
) -> Result<Response, AppError> {
    let f = EvidenceInput {
        kind: form.text("kind"),
        source: form.text("source"),
        title: form.text("title"),
        occurred_on: form.text("occurred_on"),
        detail: form.text("detail"),
        hours: form.text("hours"),
        competencies: form.all("competencies"),
    };
    let upload = form.file("certificate").map(|p| portfolio::Upload {
        filename: p.filename.clone().unwrap_or_default(),
        data: p.data.to_vec(),
    });
    match portfolio::add_evidence(&state, &actor, &f, upload).await {
        Ok(id) => Ok(Redirect::to(&format!("/practice/portfolio/evidence/{id}")).into_response()),
        Err(AppError::Invalid(e)) => evidence_form(&state, &ctx, &actor, &f, &e).await,
        Err(e) => Err(e),
    }
}

/// GET /practice/portfolio/evidence/{id}
pub async fn evidence(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (p, e) = portfolio::evidence(&state, &actor, &id).await?;
    let body = evidence_view(&ctx, &p, &e);
    Ok(page(
        &ctx,
        Page::new(&e.title, body).back("/practice/portfolio", "Your CPD portfolio"),
    ))
}

fn evidence_view(ctx: &PageCtx, p: &Portfolio, e: &Evidence) -> Markup {
    let source_href = match (e.kind.as_str(), &e.source_id) {
        ("session", Some(s)) => Some(format!("/sessions/{s}/log")),
        ("reflection", Some(s)) => Some(format!("/practice/journal/{s}")),
        ("supervision", Some(s)) => Some(format!("/practice/supervision/{s}")),
        _ => None,
    };
    html! {
        span."nhsuk-caption-l" { (kind_label(&e.kind)) }
        h1 { (e.title) }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Date" } dd."nhsuk-summary-list__value" { (e.occurred_on) } }
            @if let Some(h) = e.hours { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Hours" } dd."nhsuk-summary-list__value" { (h) } } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Shows" } dd."nhsuk-summary-list__value" {
                ul."nhsuk-list nhsuk-u-margin-bottom-0" { @for code in &e.competencies {
                    li { (p.framework.as_ref().and_then(|f| f.by_code(code)).map(|c| c.title.clone()).unwrap_or_default()) " (" (code) ")" }
                } }
            } }
            @if !e.detail.is_empty() { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Notes" } dd."nhsuk-summary-list__value ensemble-detail" { (e.detail) } } }
            @if let Some(href) = &source_href { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Record" } dd."nhsuk-summary-list__value" { a href=(href) { "Open the record" } } } }
            @if let Some(c) = &e.certificate { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Certificate" } dd."nhsuk-summary-list__value" {
                a href=(format!("/practice/portfolio/certificates/{}", c.id)) { "Download " (c.filename) } " (" (crate::web::upload::file_size(usize::try_from(c.size_bytes).unwrap_or(0))) ")" } } }
        }
        form method="post" action=(format!("/practice/portfolio/evidence/{}/remove", e.id)) {
            (csrf(ctx))
            button."nhsuk-button nhsuk-button--secondary" type="submit" { "Remove from portfolio" }
        }
    }
}

/// POST /practice/portfolio/evidence/{id}/remove
pub async fn remove_evidence(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    portfolio::remove_evidence(&state, &actor, &id).await?;
    Ok(Redirect::to("/practice/portfolio").into_response())
}

/// GET /practice/portfolio/certificates/{id}
pub async fn certificate(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (filename, content_type, data) = portfolio::certificate(&state, &actor, &id).await?;
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        data,
    )
        .into_response())
}
