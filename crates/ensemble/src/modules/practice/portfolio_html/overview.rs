//! The portfolio page, its printable and JSON exports, and the API handler.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crate::error::AppError;
use crate::modules::practice::competencies::Framework;
use crate::modules::practice::portfolio::{self, Portfolio};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use super::*;

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
    let body = overview_view(&p);
    Ok(page(&ctx, Page::new("Your CPD portfolio", body)))
}

fn overview_view(p: &Portfolio) -> Markup {
    html! {
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
                (competency_table(p, f, false))
            }
        }
        h2."nhsuk-heading-m" { "Evidence" }
        (evidence_list(p, true))
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
    }
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
        crate::api::docs::TokenErrors))]
pub async fn api_portfolio(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    Ok(axum::Json(portfolio::export(&state, &actor).await?))
}
