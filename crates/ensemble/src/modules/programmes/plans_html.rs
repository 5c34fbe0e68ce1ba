//! Plan pages: the current plan, the editor (and the "someone else saved first" page), the
//! history of revisions, and a side-by-side comparison of any two revisions.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::access::{Member, ProgrammeAccess, Standing};
use super::plans::{self, PlanInput, Revision, Row, Saved, Side};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, csrf, error_summary, select, table_wrap, textarea,
};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

/// `?saved=1` after a save.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SavedQuery {
    saved: String,
}

fn who_when(r: &Revision) -> Markup {
    html! { "Revision " (r.number) ", saved by " (r.author) " on " (datetime(r.created_at)) }
}

/// GET /programmes/{id}/plan
pub async fn plan(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let (p, current) = plans::current(&state, &actor, &id).await?;
    let title = format!("Plan: {}", p.name);
    let body = plan_view(&p, current.as_ref(), q.saved == "1");
    Ok(page(
        &ctx,
        Page::new(&title, body).back(&format!("/programmes/{}", p.id), "Programme"),
    ))
}

fn plan_view(p: &ProgrammeAccess<Member>, current: Option<&Revision>, saved: bool) -> Markup {
    let base = format!("/programmes/{}/plan", p.id);
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            @if saved {
                div."nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="saved-title" {
                    div."nhsuk-notification-banner__header" { h2."nhsuk-notification-banner__title" id="saved-title" { "Success" } }
                    div."nhsuk-notification-banner__content" { p."nhsuk-notification-banner__heading" { "The plan is saved as a new revision" } }
                }
            }
            span."nhsuk-caption-l" { (p.name) }
            @match current {
                Some(r) => {
                    h1 { (r.title) }
                    p."nhsuk-body-s" { (who_when(r)) ". Why: " (r.reason) }
                    div."nhsuk-body ensemble-pre-line" { (r.body) }
                }
                None => {
                    h1 { "Plan" }
                    p."nhsuk-body" { "The programme has no plan yet." }
                }
            }
            p."nhsuk-body" {
                @if p.standing() >= Standing::Team { a href=(format!("{base}/edit")) { @if current.is_some() { "Change the plan" } @else { "Write the plan" } } " · " }
                a href=(format!("{base}/history")) { "History of changes" }
            }
        } }
    }
}

/// The editor's form: title, text, reason and the revision it is based on.
fn editor_form(ctx: &PageCtx, programme: &str, f: &PlanInput, errors: &[FieldError]) -> Markup {
    html! {
        form method="post" action=(format!("/programmes/{programme}/plan")) novalidate {
            (csrf(ctx))
            input type="hidden" name="base" value=(f.base);
            (Input::new("title", "Title of the plan", &f.title).render(errors))
            (textarea("body", "The plan", "Plain text. Start a new line for each point; the comparison between revisions works line by line.", &f.body, errors))
            (textarea("reason", "Why are you making this change?", "Everyone who reads the plan's history sees this, with your name.", &f.reason, errors))
            (button("Save as a new revision"))
        }
    }
}

async fn edit_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    sent: Option<&PlanInput>,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (p, current) = plans::for_editing(state, actor, id).await?;
    let f = sent.cloned().unwrap_or_else(|| PlanInput {
        title: current
            .as_ref()
            .map(|r| r.title.clone())
            .unwrap_or_default(),
        body: current.as_ref().map(|r| r.body.clone()).unwrap_or_default(),
        reason: String::new(),
        base: current.as_ref().map_or(0, |r| r.number).to_string(),
    });
    let title = format!("Change the plan: {}", p.name);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (p.name) }
            h1 { "Change the plan" }
            @if let Some(r) = &current { p."nhsuk-body-s" { "You are changing " (who_when(r)) "." } }
            (editor_form(ctx, &p.id, &f, errors))
        } }
    };
    Ok(page(
        ctx,
        Page::new(&title, body)
            .back(&format!("/programmes/{}/plan", p.id), "Plan")
            .errors(!errors.is_empty()),
    ))
}

/// GET /programmes/{id}/plan/edit
pub async fn edit(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    edit_page(&state, &ctx, &actor, &id, None, &[]).await
}

/// POST /programmes/{id}/plan
pub async fn save(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<PlanInput>,
) -> Result<Response, AppError> {
    match plans::save(&state, &actor, &id, &f).await {
        Ok(Saved::Saved(_)) => {
            Ok(Redirect::to(&format!("/programmes/{id}/plan?saved=1")).into_response())
        }
        Ok(Saved::Conflict { latest, base }) => {
            Ok(conflict_page(&ctx, &id, &f, &latest, base.as_deref()))
        }
        Err(AppError::Invalid(e)) => edit_page(&state, &ctx, &actor, &id, Some(&f), &e).await,
        Err(e) => Err(e),
    }
}

/// The page for a save refused because someone else saved first (409): what they changed,
/// their version beside the editor's, and the editor's text kept in the form, now based on
/// the latest revision so that saving again is a deliberate merge.
fn conflict_page(
    ctx: &PageCtx,
    programme: &str,
    mine: &PlanInput,
    latest: &Revision,
    base: Option<&Revision>,
) -> Response {
    let theirs_vs_mine = plans::side_by_side(&latest.body, &mine.body);
    let form = PlanInput {
        base: latest.number.to_string(),
        ..mine.clone()
    };
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            div."nhsuk-error-summary" aria-labelledby="conflict-title" role="alert" tabindex="-1" {
                h2."nhsuk-error-summary__title" id="conflict-title" { "Someone else saved the plan while you were editing it" }
                div."nhsuk-error-summary__body" {
                    p { "Your changes are not saved yet. " (latest.author) " saved revision " (latest.number) " on " (datetime(latest.created_at)) ". Why: " (latest.reason) }
                    ul."nhsuk-list nhsuk-error-summary__list" { li { a href="#merge" { "Merge their changes into your text below, then save again" } } }
                }
            }
            h1 { "Your changes clash with a newer revision" }
            @if let Some(b) = base {
                h2."nhsuk-heading-m" { "What they changed" }
                (title_change(&b.title, &latest.title))
                (comparison(&format!("Revision {} compared with revision {}", b.number, latest.number), &format!("Revision {} (you started from)", b.number), &format!("Revision {} (theirs)", latest.number), &plans::side_by_side(&b.body, &latest.body)))
            }
            h2."nhsuk-heading-m" { "Their version compared with yours" }
            (title_change(&latest.title, &mine.title))
            (comparison("Their revision compared with your text", &format!("Revision {} (theirs)", latest.number), "Your text (not saved)", &theirs_vs_mine))
        } }
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            h2."nhsuk-heading-m" id="merge" { "Your text, to merge and save again" }
            (editor_form(ctx, programme, &form, &[]))
        } }
    };
    let mut r = page(
        ctx,
        Page::new("Someone else saved the plan first", body)
            .back(&format!("/programmes/{programme}/plan"), "Plan"),
    );
    *r.status_mut() = StatusCode::CONFLICT;
    r
}

/// GET /programmes/{id}/plan/history
pub async fn history(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (p, revisions) = plans::history(&state, &actor, &id).await?;
    let title = format!("History of the plan: {}", p.name);
    let body = history_view(&p, &revisions);
    let back = format!("/programmes/{}/plan", p.id);
    Ok(page(&ctx, Page::new(&title, body).back(&back, "Plan")))
}

fn history_view(p: &ProgrammeAccess<Member>, revisions: &[Revision]) -> Markup {
    let base = format!("/programmes/{}/plan", p.id);
    let options: Vec<(String, String)> = revisions
        .iter()
        .map(|r| {
            (
                r.number.to_string(),
                format!("Revision {}: {}", r.number, r.title),
            )
        })
        .collect();
    let newest = revisions
        .first()
        .map(|r| r.number.to_string())
        .unwrap_or_default();
    let older = revisions
        .get(1)
        .map(|r| r.number.to_string())
        .unwrap_or_default();
    html! {
        span."nhsuk-caption-l" { (p.name) }
        h1 { "History of the plan" }
        @if revisions.is_empty() { p."nhsuk-body" { "The plan has not been written yet." } }
        @else {
            (table_wrap("Revisions of the plan", html! {
                table."nhsuk-table" {
                    caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Revisions of the plan, newest first" }
                    thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="col" { "Revision" }
                        th."nhsuk-table__header" scope="col" { "Saved by" }
                        th."nhsuk-table__header" scope="col" { "Why" }
                    } }
                    tbody."nhsuk-table__body" { @for r in revisions {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" {
                                (r.number)
                                @if r.number > 1 { br; a href=(format!("{base}/compare?from={}&to={}", r.number - 1, r.number)) { "Compare with " (r.number - 1) } }
                            }
                            td."nhsuk-table__cell" { (r.author) br; span."nhsuk-body-s" { (datetime(r.created_at)) } }
                            td."nhsuk-table__cell ensemble-pre-line" { (r.reason) }
                        }
                    } }
                }
            }))
            @if revisions.len() > 1 {
                h2."nhsuk-heading-m" { "Compare any two revisions" }
                form method="get" action=(format!("{base}/compare")) novalidate {
                    (select("from", "Earlier revision", &options, &older, &[]))
                    (select("to", "Later revision", &options, &newest, &[]))
                    (button("Compare"))
                }
            }
        }
    }
}

/// Which two revisions to compare (`?from=1&to=2`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CompareQuery {
    from: String,
    to: String,
}

/// GET /programmes/{id}/plan/compare
pub async fn compare(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, AppError> {
    let number = |s: &str| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| AppError::BadRequest("Choose two revisions of the plan to compare".into()))
    };
    let (p, a, b) = plans::pair(&state, &actor, &id, number(&q.from)?, number(&q.to)?).await?;
    let rows = plans::side_by_side(&a.body, &b.body);
    let title = format!("Revision {} compared with revision {}", a.number, b.number);
    let body = html! {
        span."nhsuk-caption-l" { "Plan: " (p.name) }
        h1 { (title) }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Revision " (a.number) } dd."nhsuk-summary-list__value" { (a.author) ", " (datetime(a.created_at)) ". Why: " (a.reason) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Revision " (b.number) } dd."nhsuk-summary-list__value" { (b.author) ", " (datetime(b.created_at)) ". Why: " (b.reason) } }
        }
        (title_change(&a.title, &b.title))
        (comparison(&title, &format!("Revision {}", a.number), &format!("Revision {}", b.number), &rows))
        p."nhsuk-body" { a href=(format!("/programmes/{}/plan/history", p.id)) { "Back to the history of the plan" } }
    };
    Ok(page(
        &ctx,
        Page::new(&title, body).back(&format!("/programmes/{}/plan/history", p.id), "History"),
    ))
}

/// The title's change, if any, in words and with `<del>`/`<ins>`.
fn title_change(before: &str, after: &str) -> Markup {
    html! {
        @if before != after {
            p."nhsuk-body ensemble-diff" {
                "Title changed: " strong."ensemble-diff__marker" { "Removed" } " " del { (before) } "; "
                strong."ensemble-diff__marker" { "Added" } " " ins { (after) }
            }
        } @else {
            p."nhsuk-body" { "Title unchanged: " (after) }
        }
    }
}

fn cell(side: Option<&Side>, added: bool) -> Markup {
    html! {
        td."nhsuk-table__cell" {
            @if let Some(s) = side {
                span."ensemble-diff__line" { span."nhsuk-u-visually-hidden" { "Line " } (s.number) " " }
                @if s.changed && added {
                    strong."ensemble-diff__marker" { "Added" } ins { (s.text) }
                } @else if s.changed {
                    strong."ensemble-diff__marker" { "Removed" } del { (s.text) }
                } @else {
                    (s.text)
                }
            }
        }
    }
}

/// A side-by-side, line-by-line comparison: removed lines on the left marked "Removed"
/// inside `<del>`, added lines on the right marked "Added" inside `<ins>`.
pub(super) fn comparison(caption: &str, before: &str, after: &str, rows: &[Row]) -> Markup {
    let removed = rows
        .iter()
        .filter(|r| r.old.as_ref().is_some_and(|s| s.changed))
        .count();
    let added = rows
        .iter()
        .filter(|r| r.new.as_ref().is_some_and(|s| s.changed))
        .count();
    html! {
        p."nhsuk-body" { (removed) " " (if removed == 1 { "line" } else { "lines" }) " removed, " (added) " " (if added == 1 { "line" } else { "lines" }) " added." }
        (table_wrap(caption, html! {
            table."nhsuk-table ensemble-diff" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { (before) }
                    th."nhsuk-table__header" scope="col" { (after) }
                } }
                tbody."nhsuk-table__body" { @for r in rows {
                    tr."nhsuk-table__row" { (cell(r.old.as_ref(), false)) (cell(r.new.as_ref(), true)) }
                } }
            }
        }))
    }
}
