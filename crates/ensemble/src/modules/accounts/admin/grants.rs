//! Requests for care roles: the banner on the administration pages, the list of waiting
//! and recent requests, and approving or refusing one.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::error::{AppError, FieldError};
use crate::rbac::Granted;
use crate::rbac::perm::ManageAccounts;
use crate::state::AppState;
use crate::web::forms::{csrf, error_summary, table_wrap};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use super::super::service::{self, CareGrant, GRANT_TTL_DAYS, GrantStatus};

/// A warning callout when requests for care roles are waiting; nothing otherwise.
pub(super) async fn care_grant_banner(state: &AppState) -> Result<Markup, AppError> {
    let n = service::pending_care_grant_count(state).await?;
    Ok(html! {
        @if n > 0 {
            div."nhsuk-warning-callout" {
                h2."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "Care roles" } }
                p {
                    (n) @if n == 1 { " care role waiting for approval" } @else { " care roles waiting for approval" }
                    ". A role that reaches person records is given only when a second administrator approves it."
                }
                p { a href="/admin/role-grants" { "Review requests for care roles" } }
            }
        }
    })
}

/// The requests in a table, with approve and refuse buttons where `viewer` may use them.
pub(super) fn grants_table(ctx: &PageCtx, grants: &[CareGrant], viewer: &str) -> Markup {
    html! {
        (table_wrap("Requests for care roles", html! {
        table."nhsuk-table" {
            caption."nhsuk-table__caption" { "Requests for care roles" }
            thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                @for h in ["Account", "Role", "Asked by", "Status", "Action"] { th."nhsuk-table__header" scope="col" { (h) } }
            } }
            tbody."nhsuk-table__body" {
                @for g in grants {
                    tr."nhsuk-table__row" {
                        td."nhsuk-table__cell" { a href=(format!("/admin/users/{}", g.user_id)) { (g.user_name) } }
                        td."nhsuk-table__cell" { (g.role.label()) " at " (g.organisation_name) }
                        td."nhsuk-table__cell" { (g.requested_by_name) ", " (datetime(g.requested_at)) }
                        td."nhsuk-table__cell" { (status_text(g)) }
                        td."nhsuk-table__cell" { (actions(ctx, g, viewer)) }
                    }
                }
            }
        }
        }))
    }
}

fn status_text(g: &CareGrant) -> Markup {
    html! {
        strong { (g.status.label()) }
        @match (g.status, &g.decided_by_name, g.decided_at) {
            (GrantStatus::Pending, _, _) => { " until " (datetime(g.expires_at)) }
            (_, Some(by), Some(at)) => { " by " (by) ", " (datetime(at)) }
            _ => {}
        }
    }
}

fn actions(ctx: &PageCtx, g: &CareGrant, viewer: &str) -> Markup {
    let what = format!(" {} for {}", g.role.label(), g.user_name);
    html! {
        @if g.may_be_approved_by(viewer) {
            form."ensemble-inline-form" method="post" action=(format!("/admin/role-grants/{}/approve", g.id)) {
                (csrf(ctx))
                button."nhsuk-button"."nhsuk-button--small" type="submit" { "Approve" span."nhsuk-u-visually-hidden" { (what) } }
            }
        } @else if g.status == GrantStatus::Pending {
            p."nhsuk-body-s" { "Another administrator must approve this." }
        }
        @if g.status == GrantStatus::Pending {
            " "
            form."ensemble-inline-form" method="post" action=(format!("/admin/role-grants/{}/refuse", g.id)) {
                (csrf(ctx))
                button."nhsuk-button"."nhsuk-button--secondary"."nhsuk-button--small" type="submit" { "Refuse" span."nhsuk-u-visually-hidden" { (what) } }
            }
        }
    }
}

async fn grants_page(
    state: &AppState,
    ctx: &PageCtx,
    g: &Granted<ManageAccounts>,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let grants = service::care_grants(state, g, None).await?;
    let body = html! {
        (error_summary(errors))
        h1 { "Care roles" }
        p."nhsuk-body" {
            "Roles that reach person records (link worker, practitioner, programme manager, clinician) are given only when a second administrator approves them: not the one who asked, and not the account that would get the role. A request waits "
            (GRANT_TTL_DAYS) " days, then expires. Every request and decision is in the audit trail."
        }
        @if grants.is_empty() { p."nhsuk-body" { "No requests in the last 30 days." } }
        @else { (grants_table(ctx, &grants, &g.actor().user_id)) }
        p { a href="/admin/audit?action=membership.care_grant" { "Care roles in the audit trail" } }
    };
    Ok(page(
        ctx,
        Page::new("Care roles", body)
            .errors(!errors.is_empty())
            .back("/admin", "Back to administration"),
    ))
}

/// GET /admin/role-grants
pub async fn role_grants(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageAccounts>,
) -> Result<Response, AppError> {
    grants_page(&state, &ctx, &g, &[]).await
}

async fn decide(
    state: &AppState,
    ctx: &PageCtx,
    g: &Granted<ManageAccounts>,
    id: &str,
    approve: bool,
) -> Result<Response, AppError> {
    match service::decide_care_grant(state, g, id, approve).await {
        Ok(()) => Ok(Redirect::to("/admin/role-grants").into_response()),
        Err(AppError::Invalid(errors)) => grants_page(state, ctx, g, &errors).await,
        Err(e) => Err(e),
    }
}

/// POST /admin/role-grants/{id}/approve
pub async fn role_grant_approve(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageAccounts>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    decide(&state, &ctx, &g, &id, true).await
}

/// POST /admin/role-grants/{id}/refuse
pub async fn role_grant_refuse(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageAccounts>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    decide(&state, &ctx, &g, &id, false).await
}
