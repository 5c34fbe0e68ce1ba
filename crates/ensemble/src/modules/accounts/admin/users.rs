//! Administration of accounts: the list, invitations, one account's page with its roles,
//! and the actions on it (details, disable, enable, reset two-step, add and remove roles).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::rbac::perm::ManageAccounts;
use crate::rbac::{Granted, Role};
use crate::state::AppState;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, select, table_wrap};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use super::super::model::UserSummary;
use super::super::service::{self, InviteInput, RoleAdded, UserInput};
use super::row;

/// Account list query.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UsersQuery {
    q: String,
    page: Option<i64>,
}

/// GET /admin/users
pub async fn users(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageAccounts>,
    Query(q): Query<UsersQuery>,
) -> Result<Response, AppError> {
    let pg = q.page.unwrap_or(1).max(1);
    let (users, more) = service::list_users(&state, &g, &q.q, pg).await?;
    let invitations = service::pending_invitations(&state, &g).await?;
    let banner = super::care_grant_banner(&state).await?;
    let body = html! { (banner) (users_view(&q, &users, pg, more, &invitations)) };
    Ok(page(
        &ctx,
        Page::new("Accounts", body).back("/admin", "Back to administration"),
    ))
}

fn users_view(
    q: &UsersQuery,
    users: &[UserSummary],
    pg: i64,
    more: bool,
    invitations: &[(String, String, String, Role, i64)],
) -> Markup {
    let qs = |p: i64| {
        serde_urlencoded::to_string([("q", q.q.as_str()), ("page", &p.to_string())])
            .unwrap_or_default()
    };
    html! {
        h1 { "Accounts" }
        p { a."nhsuk-button" href="/admin/users/invite" { "Invite someone" } }
        form method="get" action="/admin/users" {
            (Input::new("q", "Search by name or email", &q.q).kind("search").render(&[]))
            button."nhsuk-button"."nhsuk-button--secondary" type="submit" { "Search" }
        }
        (table_wrap("Accounts", html! {
        table."nhsuk-table" {
            caption."nhsuk-table__caption" { "Accounts" }
            thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                th."nhsuk-table__header" scope="col" { "Name" }
                th."nhsuk-table__header" scope="col" { "Email" }
                th."nhsuk-table__header" scope="col" { "Two-step" }
                th."nhsuk-table__header" scope="col" { "Status" }
            } }
            tbody."nhsuk-table__body" {
                @for u in users {
                    tr."nhsuk-table__row" {
                        td."nhsuk-table__cell" { a href=(format!("/admin/users/{}", u.id)) { (u.display_name) } }
                        td."nhsuk-table__cell" { (u.email) }
                        td."nhsuk-table__cell" { @if u.mfa_enabled { "On" } @else { "Off" } }
                        td."nhsuk-table__cell" { @if u.disabled_at.is_some() { "Disabled" } @else if u.locked_until.is_some_and(|l| l > crate::db::now()) { "Locked" } @else { "Active" } }
                    }
                }
            }
        }
        }))
        @if pg > 1 || more {
            nav."nhsuk-pagination" role="navigation" aria-label="Pagination" {
                ul."nhsuk-list"."nhsuk-pagination__list" {
                    @if pg > 1 { li."nhsuk-pagination-item--previous" { a."nhsuk-pagination__link"."nhsuk-pagination__link--prev" href=(format!("/admin/users?{}", qs(pg - 1))) { span."nhsuk-pagination__title" { "Previous" } } } }
                    @if more { li."nhsuk-pagination-item--next" { a."nhsuk-pagination__link"."nhsuk-pagination__link--next" href=(format!("/admin/users?{}", qs(pg + 1))) { span."nhsuk-pagination__title" { "Next" } } } }
                }
            }
        }
        h2."nhsuk-heading-m" { "Invitations waiting to be accepted" }
        @if invitations.is_empty() { p."nhsuk-body" { "None." } } @else {
            ul."nhsuk-list"."nhsuk-list--bullet" {
                @for (_, email, org, role, expires) in invitations { li { (email) " – " (role.label()) " at " (org) ", until " (datetime(*expires)) } }
            }
        }
    }
}

async fn org_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    Ok(service::list_organisations(state, false)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

fn role_options() -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .map(|r| (r.code().to_string(), r.label().to_string()))
        .collect()
}

async fn invite_form(
    state: &AppState,
    ctx: &PageCtx,
    input: &InviteInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let orgs = org_options(state).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Invite someone" }
            p."nhsuk-body" { "They will get an email with a link to choose their password. The link works once, for 7 days." }
            form method="post" action="/admin/users/invite" novalidate {
                (csrf(ctx))
                (Input::new("display_name", "Full name", &input.display_name).autocomplete("off").render(errors))
                (Input::new("email", "Email address", &input.email).kind("email").autocomplete("off").render(errors))
                (select("organisation_id", "Organisation", &orgs, &input.organisation_id, errors))
                (select("role", "Role", &role_options(), &input.role, errors))
                (button("Send invitation"))
            }
        } }
    };
    let r = page(
        ctx,
        Page::new("Invite someone", body)
            .errors(!errors.is_empty())
            .back("/admin/users", "Back to accounts"),
    );
    Ok(r)
}

/// GET /admin/users/invite
pub async fn invite_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    _g: Granted<ManageAccounts>,
) -> Result<Response, AppError> {
    invite_form(&state, &ctx, &InviteInput::default(), &[]).await
}

/// POST /admin/users/invite
pub async fn invite_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageAccounts>,
    PageForm(input): PageForm<InviteInput>,
) -> Result<Response, AppError> {
    match service::invite(&state, &g, &input).await {
        Ok(_) => {
            let body = html! {
                div."nhsuk-panel" { h1."nhsuk-panel__title" { "Invitation sent" } div."nhsuk-panel__body" { "to " (input.email.trim()) } }
                @if Role::from_code(input.role.trim()).is_some_and(Role::is_care_role) {
                    div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " }
                        p { "This role reaches person records. When they accept, it waits for a second administrator to approve it on the " a href="/admin/role-grants" { "care roles" } " page." } }
                }
                p { a href="/admin/users/invite" { "Invite someone else" } }
                p { a href="/admin/users" { "Back to accounts" } }
            };
            Ok(page(&ctx, Page::new("Invitation sent", body)))
        }
        Err(AppError::Invalid(errors)) => invite_form(&state, &ctx, &input, &errors).await,
        Err(e) => Err(e),
    }
}

async fn user_page(
    state: &AppState,
    ctx: &PageCtx,
    g: &Granted<ManageAccounts>,
    id: &str,
    input: Option<&UserInput>,
    errors: &[FieldError],
    membership_errors: &[FieldError],
) -> Result<Response, AppError> {
    let (u, memberships) = service::get_user(state, g, id).await?;
    let grants = service::care_grants(state, g, Some(id)).await?;
    let orgs = org_options(state).await?;
    let input = input.cloned().unwrap_or(UserInput {
        display_name: u.display_name.clone(),
        email: u.email.clone(),
    });
    let mut all_errors = errors.to_vec();
    all_errors.extend_from_slice(membership_errors);
    let body = html! {
        (error_summary(&all_errors))
        h1 { (u.display_name) }
        dl."nhsuk-summary-list" {
            (row("Email address", html! { (u.email) }))
            (row("Status", html! { @if let Some(d) = u.disabled_at { "Disabled on " (datetime(d)) } @else { "Active" } }))
            (row("Two-step sign-in", html! { @if u.mfa_enabled { "On" } @else { "Off" } }))
            (row("Created", html! { (datetime(u.created_at)) }))
        }
        h2."nhsuk-heading-m" { "Roles" }
        @if memberships.is_empty() { p."nhsuk-body" { "No roles yet." } } @else {
            (table_wrap("Roles", html! { table."nhsuk-table" {
                caption."nhsuk-table__caption"."nhsuk-u-visually-hidden" { "Roles" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Organisation" }
                    th."nhsuk-table__header" scope="col" { "Role" }
                    th."nhsuk-table__header" scope="col" { span."nhsuk-u-visually-hidden" { "Action" } }
                } }
                tbody."nhsuk-table__body" {
                    @for m in &memberships {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { (m.organisation_name) }
                            td."nhsuk-table__cell" { (m.role.label()) }
                            td."nhsuk-table__cell" {
                                form method="post" action=(format!("/admin/users/{}/memberships/{}/delete", u.id, m.id)) {
                                    (csrf(ctx))
                                    button."nhsuk-button"."nhsuk-button--secondary"."nhsuk-button--small" type="submit" {
                                        "Remove" span."nhsuk-u-visually-hidden" { " " (m.role.label()) " at " (m.organisation_name) }
                                    }
                                }
                            }
                        }
                    }
                }
            } }))
        }
        @if grants.iter().any(|gr| gr.status == service::GrantStatus::Pending) {
            div."nhsuk-inset-text" {
                span."nhsuk-u-visually-hidden" { "Information: " }
                p { "Waiting for a second administrator to approve: "
                    @for (i, gr) in grants.iter().filter(|gr| gr.status == service::GrantStatus::Pending).enumerate() {
                        @if i > 0 { "; " } (gr.role.label()) " at " (gr.organisation_name) " (asked by " (gr.requested_by_name) ")"
                    }
                    ". "
                    a href="/admin/role-grants" { "Care roles" }
                }
            }
        }
        @if !grants.is_empty() { (super::grants_table(ctx, &grants, &g.actor().user_id)) }
        h3."nhsuk-heading-s" { "Add a role" }
        p."nhsuk-body-s" { "A role that reaches person records (link worker, practitioner, programme manager, clinician) is given only when a second administrator approves it. You cannot give yourself a role." }
        form method="post" action=(format!("/admin/users/{}/memberships", u.id)) novalidate {
            (csrf(ctx))
            (select("organisation_id", "Organisation", &orgs, "", membership_errors))
            (select("role", "Role", &role_options(), "", membership_errors))
            (button("Add role"))
        }
        h2."nhsuk-heading-m" { "Details" }
        form method="post" action=(format!("/admin/users/{}", u.id)) novalidate {
            (csrf(ctx))
            (Input::new("display_name", "Full name", &input.display_name).render(errors))
            (Input::new("email", "Email address", &input.email).kind("email").render(errors))
            (button("Save details"))
        }
        h2."nhsuk-heading-m" { "Access" }
        @if u.mfa_enabled {
            form method="post" action=(format!("/admin/users/{}/reset-mfa", u.id)) {
                (csrf(ctx))
                p."nhsuk-body" { "If they have lost their phone and recovery codes, reset two-step sign-in. They will set it up again when they next sign in." }
                button."nhsuk-button"."nhsuk-button--secondary" type="submit" { "Reset two-step sign-in" }
            }
        }
        @if u.disabled_at.is_some() {
            form method="post" action=(format!("/admin/users/{}/enable", u.id)) {
                (csrf(ctx))
                button."nhsuk-button"."nhsuk-button--secondary" type="submit" { "Enable account" }
            }
        } @else {
            form method="post" action=(format!("/admin/users/{}/disable", u.id)) {
                (csrf(ctx))
                p."nhsuk-body" { "Disabling signs them out everywhere straight away. Their records are kept." }
                button."nhsuk-button"."nhsuk-button--warning" type="submit" { "Disable account" }
            }
        }
        p { a href=(format!("/admin/audit?entity_id={}", u.id)) { "Audit trail for this account" } }
    };
    let r = page(
        ctx,
        Page::new(&u.display_name, body)
            .errors(!all_errors.is_empty())
            .back("/admin/users", "Back to accounts"),
    );
    Ok(r)
}

/// GET /admin/users/{id}
pub async fn user(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageAccounts>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    user_page(&state, &ctx, &g, &id, None, &[], &[]).await
}

/// POST /admin/users/{id}
pub async fn user_update(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageAccounts>,
    Path(id): Path<String>,
    PageForm(input): PageForm<UserInput>,
) -> Result<Response, AppError> {
    match service::update_user(&state, &g, &id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            user_page(&state, &ctx, &g, &id, Some(&input), &errors, &[]).await
        }
        Err(e) => Err(e),
    }
}

/// POST /admin/users/{id}/disable
pub async fn user_disable(
    State(state): State<AppState>,
    g: Granted<ManageAccounts>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::set_disabled(&state, &g, &id, true).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

/// POST /admin/users/{id}/enable
pub async fn user_enable(
    State(state): State<AppState>,
    g: Granted<ManageAccounts>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::set_disabled(&state, &g, &id, false).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

/// POST /admin/users/{id}/reset-mfa
pub async fn user_reset_mfa(
    State(state): State<AppState>,
    g: Granted<ManageAccounts>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::reset_mfa(&state, &g, &id).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

/// The add-role form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MembershipForm {
    organisation_id: String,
    role: String,
}

/// POST /admin/users/{id}/memberships
pub async fn membership_add(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageAccounts>,
    Path(id): Path<String>,
    PageForm(f): PageForm<MembershipForm>,
) -> Result<Response, AppError> {
    match service::add_membership(&state, &g, &id, &f.organisation_id, &f.role).await {
        Ok(RoleAdded::Given | RoleAdded::WaitingForApproval) => {
            Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            user_page(&state, &ctx, &g, &id, None, &[], &errors).await
        }
        Err(e) => Err(e),
    }
}

/// POST /admin/users/{id}/memberships/{membership_id}/delete
pub async fn membership_remove(
    State(state): State<AppState>,
    g: Granted<ManageAccounts>,
    Path((id, membership_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    service::remove_membership(&state, &g, &id, &membership_id).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}
