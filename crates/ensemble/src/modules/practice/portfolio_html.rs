//! Pages of the competency framework and the CPD portfolio: the framework co-edited by an
//! organisation's practitioners, the portfolio with its evidence and assessments, the forms
//! to add evidence (with a certificate upload), assess yourself and ask for an assessment,
//! the assessor's pages, and the printable and JSON exports.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::competencies::{self, CompetencyInput, Framework};
use super::portfolio::{self, AssessInput, EvidenceInput, KINDS, LEVELS, Portfolio, level_name};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, select, textarea,
};
use crate::web::layout::datetime;
use crate::web::upload::MultipartForm;
use crate::web::{Page, PageCtx, page};

fn radios_i64(name: &str, legend: &str, selected: &str, errors: &[FieldError]) -> Markup {
    let options: Vec<(String, &str)> = LEVELS.iter().map(|(l, t)| (l.to_string(), *t)).collect();
    let refs: Vec<(&str, &str)> = options.iter().map(|(v, t)| (v.as_str(), *t)).collect();
    crate::web::forms::radios(name, legend, &refs, selected, errors)
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "session" => "Session led",
        "reflection" => "Reflection",
        "supervision" => "Supervision",
        "training" => "Training",
        "peer_observation" => "Peer observation",
        _ => "Evidence",
    }
}

fn level_text(a: Option<&portfolio::Assessment>) -> String {
    match a.and_then(|a| a.level) {
        Some(l) => format!("{l} {}", level_name(l)),
        None => "not yet".into(),
    }
}

fn competency_table(p: &Portfolio, f: &Framework, full: bool) -> Markup {
    html! {
        @for domain in f.domains() {
            h2."nhsuk-heading-m" { (domain) }
            @for c in f.competencies.iter().filter(|c| c.domain == domain) {
                div."nhsuk-card nhsuk-u-margin-bottom-3" { div."nhsuk-card__content ensemble-card-compact" {
                    h3."nhsuk-heading-s nhsuk-u-margin-bottom-1" { (c.title) " (" (c.code) ")" }
                    @if full && !c.description.is_empty() { p."nhsuk-body-s" { (c.description) } }
                    p."nhsuk-body-s nhsuk-u-margin-bottom-0" {
                        (p.evidence_for(&c.code).len()) " evidence · "
                        "You: " (level_text(p.latest(&c.code, "self"))) " · "
                        "Peer: " (level_text(p.latest(&c.code, "peer"))) " · "
                        "Supervisor: " (level_text(p.latest(&c.code, "supervisor")))
                    }
                    @if full {
                        @for e in p.evidence_for(&c.code) {
                            p."nhsuk-body-s nhsuk-u-margin-top-3 nhsuk-u-margin-bottom-0" { strong { (kind_label(&e.kind)) ": " } (e.title) ", " (e.occurred_on) }
                        }
                        @for a in p.assessments.iter().filter(|a| a.competency_code == c.code && a.status == "given" && !a.comment.is_empty()) {
                            p."nhsuk-body-s nhsuk-u-margin-top-3 nhsuk-u-margin-bottom-0" { strong { (a.assessor) " (" (a.kind) ", level " (a.level.unwrap_or(0)) "): " } (a.comment) }
                        }
                    }
                }}
            }
        }
    }
}

fn evidence_list(p: &Portfolio, links: bool) -> Markup {
    html! {
        @if p.evidence.is_empty() { p."nhsuk-body" { "No evidence yet." } } @else {
            ul."nhsuk-list nhsuk-list--border" {
                @for e in &p.evidence {
                    li {
                        @if links { a href=(format!("/practice/portfolio/evidence/{}", e.id)) { (e.title) } } @else { strong { (e.title) } }
                        br;
                        span."nhsuk-body-s" { (kind_label(&e.kind)) ", " (e.occurred_on)
                            @if let Some(h) = e.hours { ", " (h) " hours" }
                            @if !e.competencies.is_empty() { ". Shows " (e.competencies.join(", ")) }
                            @if let Some(c) = &e.certificate { ". Certificate: " (c.filename) }
                        }
                        @if !links && !e.detail.is_empty() { p."nhsuk-body-s ensemble-detail" { (e.detail) } }
                    }
                }
            }
        }
    }
}

/// GET /practice/portfolio
pub async fn overview(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let p = portfolio::mine(&state, &actor).await?;
    let body = html! {
        span."nhsuk-caption-l" { (p.organisation) }
        h1 { "Your CPD portfolio" }
        @match &p.framework {
            None => {
                div."nhsuk-inset-text" {
                    p { (p.organisation) " has not published a competency framework yet. "
                        a href=(format!("/practice/framework?organisation={}", p.organisation_id)) { "Shape the framework with your colleagues" } "." }
                }
            }
            Some(f) => {
                p."nhsuk-body" { "Framework version " (f.version) ". "
                    a href=(format!("/practice/framework?organisation={}", p.organisation_id)) { "See or help shape the framework" } "." }
                div."ensemble-button-row" {
                    a."nhsuk-button" href="/practice/portfolio/evidence/new" draggable="false" { "Add evidence" }
                    a."nhsuk-button nhsuk-button--secondary" href="/practice/portfolio/assess" draggable="false" { "Assess yourself" }
                    a."nhsuk-button nhsuk-button--secondary" href="/practice/portfolio/request" draggable="false" { "Ask for an assessment" }
                }
                ul."nhsuk-list" {
                    li { a href="/practice/portfolio/print" { "Printable portfolio" } }
                    li { a href="/practice/portfolio/export.json" download="portfolio.json" { "Download the portfolio as JSON" } }
                    li { a href="/practice/assessments" { "Assessments colleagues asked of you" } }
                }
                (competency_table(&p, f, false))
            }
        }
        h2."nhsuk-heading-m" { "Evidence" }
        (evidence_list(&p, true))
        @let asked: Vec<_> = p.assessments.iter().filter(|a| a.kind != "self").collect();
        @if !asked.is_empty() {
            h2."nhsuk-heading-m" { "Assessments you asked for" }
            ul."nhsuk-list nhsuk-list--border" {
                @for a in asked {
                    li { a href=(format!("/practice/assessments/{}", a.id)) { (a.competency_code) ", " (a.kind) " assessment by " (a.assessor) } br;
                        span."nhsuk-body-s" { (match a.status.as_str() { "given" => format!("Given: {}", level_text(Some(a))), "declined" => "Declined".to_string(), _ => format!("Asked {}", datetime(a.requested_at)) }) } }
                }
            }
        }
    };
    Ok(page(&ctx, Page::new("Your CPD portfolio", body)))
}

/// GET /practice/portfolio/print
pub async fn print(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let p = portfolio::mine(&state, &actor).await?;
    let body = html! {
        span."nhsuk-caption-l" { (p.organisation) }
        h1 { "CPD portfolio: " (p.practitioner) }
        p."nhsuk-body" { "Printed " (crate::db::date_of(crate::db::now()))
            @if let Some(f) = &p.framework { ". Competency framework version " (f.version) } "." }
        p."ensemble-no-print" { a href="/practice/portfolio" { "Back to your portfolio" } " (use your browser's print command to print this page)." }
        @if let Some(f) = &p.framework { (competency_table(&p, f, true)) }
        h2."nhsuk-heading-m" { "Evidence" }
        (evidence_list(&p, false))
    };
    Ok(page(&ctx, Page::new("Printable CPD portfolio", body)))
}

/// GET /practice/portfolio/export.json
pub async fn export_json(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let doc = portfolio::export(&state, &actor).await?;
    let body = serde_json::to_vec_pretty(&doc).map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"cpd-portfolio.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// GET /api/v1/practice/portfolio — the token owner's portfolio, as the JSON export.
#[utoipa::path(get, path = "/api/v1/practice/portfolio", tag = "practice", security(("token" = [])),
    responses((status = 200, description = "The CPD portfolio (format ensemble-cpd-portfolio/1)", body = Object),
        (status = 401, body = crate::error::ErrorEnvelope), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_portfolio(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    Ok(axum::Json(portfolio::export(&state, &actor).await?))
}

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
    let p = portfolio::mine(&state, &actor).await?;
    let e = p
        .evidence
        .iter()
        .find(|e| e.id == id)
        .ok_or(AppError::NotFound)?;
    let source_href = match (e.kind.as_str(), &e.source_id) {
        ("session", Some(s)) => Some(format!("/sessions/{s}/log")),
        ("reflection", Some(s)) => Some(format!("/practice/journal/{s}")),
        ("supervision", Some(s)) => Some(format!("/practice/supervision/{s}")),
        _ => None,
    };
    let body = html! {
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
            (csrf(&ctx))
            button."nhsuk-button nhsuk-button--secondary" type="submit" { "Remove from portfolio" }
        }
    };
    Ok(page(
        &ctx,
        Page::new(&e.title, body).back("/practice/portfolio", "Your CPD portfolio"),
    ))
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

/// Which framework form a set of errors belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FormAt {
    None,
    Add,
    Edit(String),
    Publish,
}

/// `?organisation=`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrgQuery {
    pub organisation: String,
}

fn pick_org(actor: &Actor, requested: &str) -> Result<(String, String), AppError> {
    let orgs = competencies::organisations(actor);
    if requested.is_empty() {
        return orgs.into_iter().next().ok_or(AppError::Forbidden);
    }
    orgs.into_iter()
        .find(|(o, _)| o == requested)
        .ok_or(AppError::Forbidden)
}

async fn framework_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    org: &str,
    at: FormAt,
    input: &CompetencyInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (org, org_name) = pick_org(actor, org)?;
    let current = competencies::current(state, &org).await?;
    let draft = competencies::draft(state, &org).await?;
    let history = competencies::history(state, actor, &org).await?;
    let manager = actor.has_role_in(&org, crate::rbac::Role::ProgrammeManager);
    let mut domains: Vec<String> = competencies::STARTER_DOMAINS
        .iter()
        .map(|d| d.to_string())
        .collect();
    for f in current.iter().chain(draft.iter()) {
        for d in f.domains() {
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
    }
    let domain_options: Vec<(String, String)> =
        std::iter::once((String::new(), "Choose a domain".to_string()))
            .chain(domains.iter().map(|d| (d.clone(), d.clone())))
            .collect();
    let none: &[FieldError] = &[];
    let errs_for = |which: &FormAt| if *which == at { errors } else { none };
    let others: Vec<(String, String)> = competencies::organisations(actor)
        .into_iter()
        .filter(|(o, _)| *o != org)
        .collect();
    let body = html! {
        (error_summary(errors))
        span."nhsuk-caption-l" { (org_name) }
        h1 { "Competency framework" }
        @if !others.is_empty() {
            p."nhsuk-body" { "Also: " @for (o, n) in &others { a href=(format!("/practice/framework?organisation={o}")) { (n) } " " } }
        }
        p."nhsuk-body" { "The framework is shaped together: any practitioner or programme manager of " (org_name) " can edit the draft, and everyone who does is named. A programme manager publishes it, and each published version is kept." }
        @match &current {
            Some(f) => {
                h2."nhsuk-heading-m" { "In use: version " (f.version) }
                @if !f.change_note.is_empty() { p."nhsuk-body" { (f.change_note) } }
                @if !f.contributors.is_empty() { p."nhsuk-body-s" { "Shaped by " (f.contributors.join(", ")) "." } }
                @for d in f.domains() {
                    h3."nhsuk-heading-s" { (d) }
                    ul."nhsuk-list nhsuk-list--bullet" { @for c in f.competencies.iter().filter(|c| c.domain == d) { li { strong { (c.title) } " (" (c.code) ")" @if !c.description.is_empty() { ": " (c.description) } } } }
                }
            }
            None => { p."nhsuk-body" { "No version has been published yet." } }
        }
        @match &draft {
            None => {
                form method="post" action="/practice/framework" {
                    (csrf(ctx))
                    input type="hidden" name="organisation" value=(org);
                    button."nhsuk-button" type="submit" { (if current.is_some() { "Start a new draft from this version" } else { "Start a draft from the starter framework" }) }
                }
            }
            Some(d) => {
                h2."nhsuk-heading-m" { "Draft: version " (d.version) }
                @if !d.contributors.is_empty() { p."nhsuk-body-s" { "Edited by " (d.contributors.join(", ")) "." } }
                @for c in &d.competencies {
                    @let which = FormAt::Edit(c.id.clone());
                    @let open = at == which;
                    div."nhsuk-card" { div."nhsuk-card__content" {
                        h3."nhsuk-card__heading nhsuk-heading-s" { (c.title) " (" (c.code) ")" }
                        p."nhsuk-body-s" { (c.domain) @if !c.description.is_empty() { ". " (c.description) } }
                        details."nhsuk-details" open[open] {
                            summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Change " span."nhsuk-u-visually-hidden" { (c.title) } } }
                            div."nhsuk-details__text" {
                                form method="post" action=(format!("/practice/framework/{}/competencies/{}", d.id, c.id)) novalidate {
                                    (csrf(ctx))
                                    @let e = errs_for(&which);
                                    @let (dom, ti, de) = if open { (input.domain.as_str(), input.title.as_str(), input.description.as_str()) } else { (c.domain.as_str(), c.title.as_str(), c.description.as_str()) };
                                    (select(&format!("domain-{}", c.code), "Domain", &domain_options, dom, e))
                                    (Input::new(&format!("title-{}", c.code), "Title", ti).render(e))
                                    (textarea(&format!("description-{}", c.code), "Description", "", de, e))
                                    div."ensemble-button-row" {
                                        button."nhsuk-button" type="submit" name="action" value="save" { "Save" }
                                        button."nhsuk-button nhsuk-button--warning" type="submit" name="action" value="remove" { "Remove" }
                                    }
                                }
                            }
                        }
                    }}
                }
                h3."nhsuk-heading-s" { "Add a competency" }
                form method="post" action=(format!("/practice/framework/{}/competencies", d.id)) novalidate {
                    (csrf(ctx))
                    @let e = errs_for(&FormAt::Add);
                    @let blank = CompetencyInput::default();
                    @let v = if at == FormAt::Add { input } else { &blank };
                    (select("domain", "Domain", &domain_options, &v.domain, e))
                    (Input::new("new_domain", "Or a new domain", &v.new_domain).hint("Leave empty to use the domain chosen above").render(e))
                    (Input::new("title", "Title", &v.title).hint("What a practitioner does, like \"Adapts musical activities to the group\"").render(e))
                    (textarea("description", "Description (optional)", "", &v.description, e))
                    (button("Add competency"))
                }
                @if manager {
                    h3."nhsuk-heading-s" { "Publish version " (d.version) }
                    form method="post" action=(format!("/practice/framework/{}/publish", d.id)) novalidate {
                        (csrf(ctx))
                        (textarea("change_note", "What changed, and who shaped it", "Shown with the version", "", errs_for(&FormAt::Publish)))
                        (button("Publish"))
                    }
                } @else {
                    p."nhsuk-body" { "A programme manager publishes the draft when the group agrees." }
                }
            }
        }
        @if !history.is_empty() {
            h2."nhsuk-heading-m" { "Versions" }
            ul."nhsuk-list" { @for (v, status, note, at) in &history {
                li { "Version " (v) ", " (status) @if let Some(t) = at { ", published " (crate::db::date_of(*t)) } @if !note.is_empty() { ": " (note) } }
            } }
        }
    };
    Ok(page(
        ctx,
        Page::new("Competency framework", body).errors(!errors.is_empty()),
    ))
}

/// Field errors for a competency's edit form, whose field names carry the code.
fn rename(errors: &[FieldError], code: &str) -> Vec<FieldError> {
    errors
        .iter()
        .map(|e| FieldError::new(format!("{}-{code}", e.field), e.message.clone()))
        .collect()
}

/// GET /practice/framework
pub async fn framework(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Query(q): Query<OrgQuery>,
) -> Result<Response, AppError> {
    framework_page(
        &state,
        &ctx,
        &actor,
        &q.organisation,
        FormAt::None,
        &CompetencyInput::default(),
        &[],
    )
    .await
}

/// POST /practice/framework — start a draft.
pub async fn start_draft(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    PageForm(q): PageForm<OrgQuery>,
) -> Result<Response, AppError> {
    let (org, _) = pick_org(&actor, &q.organisation)?;
    competencies::start_draft(&state, &actor, &org).await?;
    Ok(Redirect::to(&format!("/practice/framework?organisation={org}")).into_response())
}

async fn org_of(state: &AppState, framework: &str) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT organisation_id FROM competency_frameworks WHERE id = $1")
        .bind(framework.to_string())
        .fetch_optional(&state.db.read)
        .await?
        .ok_or(AppError::NotFound)
}

/// POST /practice/framework/{id}/competencies
pub async fn add_competency(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<CompetencyInput>,
) -> Result<Response, AppError> {
    let org = org_of(&state, &id).await?;
    match competencies::add(&state, &actor, &id, &f).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/practice/framework?organisation={org}")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            framework_page(&state, &ctx, &actor, &org, FormAt::Add, &f, &e).await
        }
        Err(e) => Err(e),
    }
}

/// POST /practice/framework/{id}/competencies/{competency} — save or remove.
pub async fn edit_competency(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, competency)): Path<(String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let org = org_of(&state, &id).await?;
    let get = |prefix: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let input = CompetencyInput {
        domain: get("domain-"),
        new_domain: String::new(),
        title: get("title-"),
        description: get("description-"),
    };
    let remove = get("action") == "remove";
    match competencies::edit(
        &state,
        &actor,
        &id,
        &competency,
        (!remove).then_some(&input),
    )
    .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/practice/framework?organisation={org}")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            // Error links point at the renamed fields of this competency's form.
            let code: String = sqlx::query_scalar("SELECT code FROM competencies WHERE id = $1")
                .bind(competency.clone())
                .fetch_optional(&state.db.read)
                .await?
                .unwrap_or_default();
            let summary = rename(&e, &code);
            framework_page(
                &state,
                &ctx,
                &actor,
                &org,
                FormAt::Edit(competency),
                &input,
                &summary,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The publish form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PublishForm {
    pub change_note: String,
}

/// POST /practice/framework/{id}/publish
pub async fn publish(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<PublishForm>,
) -> Result<Response, AppError> {
    let org = org_of(&state, &id).await?;
    match competencies::publish(&state, &actor, &id, &f.change_note).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/practice/framework?organisation={org}")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            framework_page(
                &state,
                &ctx,
                &actor,
                &org,
                FormAt::Publish,
                &CompetencyInput::default(),
                &e,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
