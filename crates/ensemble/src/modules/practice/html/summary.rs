//! The practice summary page.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::AppError;
use crate::modules::practice::model::{REGISTER_STATUSES, label_of};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::table_wrap;
use crate::web::{Page, PageCtx, page};

use crate::modules::practice::summary::{self, Scope, Summary};
use crate::rbac::Actor;

/// A horizontal bar chart as SVG, described for screen readers (the table beside it holds
/// the same figures).
fn bars(title: &str, data: &[(String, f64)]) -> Markup {
    if data.iter().all(|d| d.1 == 0.0) {
        // Nothing to draw: the table below says it.
        return html! {};
    }
    let max = data.iter().map(|d| d.1).fold(0.0_f64, f64::max).max(1.0);
    // Long labels (more than about 15 characters at this size) go above their bar.
    let stacked = data.iter().any(|d| d.0.chars().count() > 15);
    let (row, bar_x, label_dy, bar_dy) = if stacked {
        (40.0, 0.0, 14.0, 20.0)
    } else {
        (28.0, 110.0, 18.0, 6.0)
    };
    let width = if stacked { 280.0 } else { 170.0 };
    let height = (data.len() as f64 * row).max(row);
    html! {
        svg."ensemble-chart" viewBox=(format!("0 0 320 {height}")) role="img" aria-label=(format!("{title} (the table below has the same figures)")) {
            @for (i, (label, v)) in data.iter().enumerate() {
                @let y = i as f64 * row;
                text x="0" y=(y + label_dy) font-size="12" fill="#212b32" { (label) }
                rect x=(bar_x) y=(y + bar_dy) width=(format!("{:.1}", width * v / max)) height="16" fill="#005eb8" {}
                text x=(format!("{:.1}", bar_x + 5.0 + width * v / max)) y=(y + bar_dy + 12.0) font-size="12" fill="#212b32" { (crate::modules::measures::definition::num((*v * 100.0).round() / 100.0)) }
            }
        }
    }
}

/// Query of the summary page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SummaryQuery {
    organisation: String,
}

/// GET /practice/summary
pub async fn practice_summary(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    axum::extract::Query(q): axum::extract::Query<SummaryQuery>,
) -> Result<Response, AppError> {
    let scope = if q.organisation.is_empty() {
        Scope::Mine
    } else {
        Scope::Organisation(q.organisation.clone())
    };
    let s = summary::summary(&state, &actor, &scope).await?;
    let body = summary_view(&actor, &scope, &s);
    Ok(page(&ctx, Page::new("Practice summary", body)))
}

/// The summary page; `actor` picks which organisations' summaries it links to.
fn summary_view(actor: &Actor, scope: &Scope, s: &Summary) -> Markup {
    let managed: Vec<&(String, String, crate::rbac::Role)> = actor
        .memberships
        .iter()
        .filter(|m| m.2 == crate::rbac::Role::ProgrammeManager)
        .collect();
    let sessions: Vec<(String, f64)> = s
        .sessions
        .iter()
        .map(|(m, h, _)| (m.clone(), *h as f64))
        .collect();
    let marks: Vec<(String, f64)> = s
        .marks
        .iter()
        .map(|(k, n)| (label_of(REGISTER_STATUSES, k).to_string(), *n as f64))
        .collect();
    let incidents: Vec<(String, f64)> = s
        .incidents
        .iter()
        .map(|(k, n)| (k.clone(), *n as f64))
        .collect();
    let cpd: Vec<(String, f64)> = s
        .cpd
        .iter()
        .map(|(d, n, _, _)| (d.clone(), *n as f64))
        .collect();
    html! {
        span."nhsuk-caption-l" { "Practice summary, last 12 months" }
        h1 { (s.title) }
        @if !managed.is_empty() {
            ul."nhsuk-list" {
                li { a href="/practice/summary" { "Your practice" } }
                @for m in &managed { li { a href=(format!("/practice/summary?organisation={}", m.0)) { (m.1) } } }
            }
        }
        h2."nhsuk-heading-m" { "Sessions delivered" }
        @if sessions.is_empty() { p."nhsuk-body" { "No sessions yet." } } @else {
            (bars("Sessions held by month", &sessions))
            (table_wrap("Sessions by month", html! { table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Sessions by month" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Month" } th."nhsuk-table__header" scope="col" { "Held" } th."nhsuk-table__header" scope="col" { "Cancelled" } } }
                tbody."nhsuk-table__body" { @for (m, h, c) in &s.sessions { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (m) } td."nhsuk-table__cell" { (h) } td."nhsuk-table__cell" { (c) } } } }
            } }))
        }
        h2."nhsuk-heading-m" { "Attendance" }
        @if marks.is_empty() { p."nhsuk-body" { "No registers taken yet." } } @else {
            @if let Some(a) = s.average_attendance { p."nhsuk-body" { "On average " strong { (format!("{a:.1}")) } " people attended each session with a register." } }
            (bars("Register marks", &marks))
            (table_wrap("Register marks", html! { table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Register marks" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Mark" } th."nhsuk-table__header" scope="col" { "Count" } } }
                tbody."nhsuk-table__body" { @for (k, n) in &s.marks { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (label_of(REGISTER_STATUSES, k)) } td."nhsuk-table__cell" { (n) } } } }
            } }))
        }
        h2."nhsuk-heading-m" { "Observation trends" }
        @if s.observations.is_empty() { p."nhsuk-body" { "No observation scales recorded yet." } } @else {
            (table_wrap("Average observation scores by month", html! { table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Average observation scores by month" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Month" } th."nhsuk-table__header" scope="col" { "Score" } th."nhsuk-table__header" scope="col" { "Average" } th."nhsuk-table__header" scope="col" { "Sessions" } } }
                tbody."nhsuk-table__body" { @for (m, l, mean, n) in &s.observations { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (m) } td."nhsuk-table__cell" { (l) } td."nhsuk-table__cell" { (format!("{mean:.2}")) } td."nhsuk-table__cell" { (n) } } } }
            } }))
        }
        h2."nhsuk-heading-m" { "Incidents by severity" }
        (bars("Incidents by severity", &incidents))
        (table_wrap("Incidents by severity", html! { table."nhsuk-table" {
            caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Incidents by severity" }
            thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Severity" } th."nhsuk-table__header" scope="col" { "Count" } } }
            tbody."nhsuk-table__body" { @for (k, n) in &s.incidents { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (k) } td."nhsuk-table__cell" { (n) } } } }
        } }))
        h2."nhsuk-heading-m" { "CPD by competency domain" }
        @if s.cpd.iter().all(|d| d.1 == 0) {
            p."nhsuk-body" { "No portfolio evidence yet. " a href="/practice/portfolio" { "Add evidence to a portfolio" } "." }
        } @else {
            (bars("Portfolio evidence by domain", &cpd))
            (table_wrap("CPD by competency domain", html! { table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "CPD by competency domain" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Domain" } th."nhsuk-table__header" scope="col" { "Evidence" } th."nhsuk-table__header" scope="col" { "Training hours" } @if !matches!(scope, Scope::Mine) { th."nhsuk-table__header" scope="col" { "Practitioners" } } } }
                tbody."nhsuk-table__body" { @for (d, n, h, p) in &s.cpd { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (d) } td."nhsuk-table__cell" { (n) } td."nhsuk-table__cell" { (format!("{h:.1}")) } @if !matches!(scope, Scope::Mine) { td."nhsuk-table__cell" { (p) } } } } }
            } }))
        }
    }
}
