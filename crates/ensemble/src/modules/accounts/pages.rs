//! Pages for one's own account (details, password, two-step sign-in, API tokens) and the
//! staff view of partner organisations.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::{session, totp};
use crate::error::{AppError, FieldError};
use crate::rbac::perm::ViewOrganisationMembers;
use crate::rbac::{Granted, Role};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, checkboxes, csrf, error_summary, table_wrap};
use crate::web::layout::datetime;
use crate::web::middleware::set_cookie;
use crate::web::{Page, PageCtx, page};

use super::service::{self, SCOPES};
use super::store;

fn account_body(
    ctx: &PageCtx,
    actor: &crate::rbac::Actor,
    totp_on: bool,
    errors: &[FieldError],
    saved: bool,
) -> Markup {
    html! {
        (error_summary(errors))
        @if saved {
            div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "Your password has been changed. You have been signed out everywhere else." } }
        }
        h1 { "My account" }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Name" } dd."nhsuk-summary-list__value" { (actor.display_name) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Email address" } dd."nhsuk-summary-list__value" { (actor.email) } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Roles" } dd."nhsuk-summary-list__value" {
                @if actor.memberships.is_empty() { "None yet" }
                ul."nhsuk-list" { @for (_, org, role) in &actor.memberships { li { (role.label()) ", " (org) } } }
            } }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Two-step sign-in" } dd."nhsuk-summary-list__value" {
                @if totp_on { strong."nhsuk-tag"."nhsuk-tag--green" { "On" } } @else { strong."nhsuk-tag"."nhsuk-tag--grey" { "Off" } }
            } }
        }
        p."nhsuk-body" { "To change your name or email address, ask an administrator." }
        ul."nhsuk-list" {
            @if !totp_on { li { a href="/account/security/totp" { "Set up two-step sign-in" } } }
            @if actor.has_role(crate::rbac::Role::Practitioner) { li { a href="/account/profile" { "Your practitioner profile" } } }
            li { a href="/account/tokens" { "API tokens" } }
        }
        h2."nhsuk-heading-m" id="change-password" { "Change your password" }
        form method="post" action="/account/password" novalidate {
            (csrf(ctx))
            (Input::new("current_password", "Current password", "").kind("password").autocomplete("current-password").render(errors))
            (Input::new("new_password", "New password", "").kind("password").autocomplete("new-password")
                .hint("Use 10 characters or more. Three random words work well. Avoid common passwords.").render(errors))
            (Input::new("confirm_password", "Type the new password again", "").kind("password").autocomplete("new-password").render(errors))
            (button("Change password"))
        }
    }
}

fn totp_on(ctx: &PageCtx) -> bool {
    ctx.req.session.as_ref().is_some_and(|s| s.totp_enabled)
}

/// GET /account
pub async fn account(ctx: PageCtx, CurrentUser(actor): CurrentUser) -> Response {
    page(
        &ctx,
        Page::new(
            "My account",
            account_body(&ctx, &actor, totp_on(&ctx), &[], false),
        ),
    )
}

/// The change-password form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// POST /account/password
pub async fn change_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<PasswordForm>,
) -> Response {
    let Some(s) = ctx.req.session.clone() else {
        return AppError::Unauthenticated.into_response();
    };
    match service::change_password(
        &state,
        &actor,
        &f.current_password,
        &f.new_password,
        &f.confirm_password,
        &s.id_hash,
    )
    .await
    {
        Ok(()) => page(
            &ctx,
            Page::new(
                "My account",
                account_body(&ctx, &actor, totp_on(&ctx), &[], true),
            ),
        ),
        Err(AppError::Invalid(errors)) => page(
            &ctx,
            Page::new(
                "My account",
                account_body(&ctx, &actor, totp_on(&ctx), &errors, false),
            )
            .errors(true),
        ),
        Err(e) => e.into_response(),
    }
}

fn totp_form(ctx: &PageCtx, secret: &str, email: &str, errors: &[FieldError]) -> Response {
    let url = totp::otpauth_url(secret, email).unwrap_or_default();
    let qr = totp::qr_svg(&url).unwrap_or_default();
    let forced = ctx.pending_mfa();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Set up two-step sign-in" }
            @if forced {
                div."nhsuk-warning-callout" {
                    h2."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "You need to do this before you continue" } }
                    p { "Staff accounts can see personal health information, so they must use a second step when signing in." }
                }
            }
            ol."nhsuk-list"."nhsuk-list--number" {
                li { "Install an authenticator app on your phone, such as Microsoft Authenticator, Google Authenticator or FreeOTP." }
                li { "In the app, add an account and scan this QR code." }
                li { "Enter the 6-digit code the app shows." }
            }
            div."ensemble-qr" { (maud::PreEscaped(qr)) }
            details."nhsuk-details" {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "I cannot scan the QR code" } }
                div."nhsuk-details__text" {
                    p { "Enter this key in your app instead (time-based, 6 digits):" }
                    p."ensemble-code" { (secret) }
                }
            }
            form method="post" action="/account/security/totp" novalidate {
                (csrf(ctx))
                (Input::new("code", "6-digit code from the app", "").autocomplete("one-time-code").width("nhsuk-input--width-10").render(errors))
                (button("Turn on two-step sign-in"))
            }
        } }
    };
    page(
        ctx,
        Page::new("Set up two-step sign-in", body).errors(!errors.is_empty()),
    )
}

/// GET /account/security/totp
pub async fn totp_page(State(state): State<AppState>, ctx: PageCtx) -> Response {
    let Some(s) = ctx.req.session.clone() else {
        return Redirect::to("/sign-in").into_response();
    };
    match service::pending_totp_secret(&state, &s.actor.user_id).await {
        Ok(Some(secret)) => totp_form(&ctx, &secret, &s.actor.email, &[]),
        Ok(None) => Redirect::to("/account").into_response(),
        Err(e) => e.into_response(),
    }
}

/// The code form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

/// POST /account/security/totp
pub async fn totp_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(f): PageForm<CodeForm>,
) -> Response {
    let Some(s) = ctx.req.session.clone() else {
        return Redirect::to("/sign-in").into_response();
    };
    match service::confirm_totp(&state, &s, &f.code, &ctx.req.request_id).await {
        Ok((token, codes)) => {
            let body = html! {
                div."nhsuk-panel" { h1."nhsuk-panel__title" { "Two-step sign-in is on" } }
                h2."nhsuk-heading-m" { "Save your recovery codes" }
                p."nhsuk-body" { "If you lose your phone, each of these codes lets you sign in once. Keep them somewhere safe, such as a password manager. You will not see them again." }
                ul."nhsuk-list"."ensemble-code" { @for c in &codes { li { (c) } } }
                p { a."nhsuk-button" href="/" { "Continue" } }
            };
            let mut r = page(&ctx, Page::new("Two-step sign-in is on", body));
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state, session::COOKIE, &token, None),
            );
            r
        }
        Err(AppError::Invalid(errors)) => {
            match service::pending_totp_secret(&state, &s.actor.user_id).await {
                Ok(Some(secret)) => totp_form(&ctx, &secret, &s.actor.email, &errors),
                Ok(None) => Redirect::to("/account").into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => e.into_response(),
    }
}

async fn tokens_body(
    state: &AppState,
    ctx: &PageCtx,
    actor: &crate::rbac::Actor,
    errors: &[FieldError],
    name: &str,
    chosen: &[String],
    new_token: Option<&str>,
) -> Result<Markup, AppError> {
    let tokens = store::tokens(&state.db.read, &actor.user_id).await?;
    let options: Vec<(&str, &str, &str)> = SCOPES.iter().map(|(k, d)| (*k, *k, *d)).collect();
    Ok(html! {
        (error_summary(errors))
        h1 { "API tokens" }
        p."nhsuk-body" { "A personal access token lets a program use the Ensemble API as you. Give each token only what it needs, and revoke it when you stop using it. The API is described at " a href="/api/v1/openapi.json" { "/api/v1/openapi.json" } "." }
        @if let Some(t) = new_token {
            div."nhsuk-panel" {
                h2."nhsuk-panel__title" { "Your new token" }
                div."nhsuk-panel__body" { p."ensemble-code" { (t) } p { "Copy it now. You will not be able to see it again." } }
            }
        }
        h2."nhsuk-heading-m" { "Your tokens" }
        @if tokens.is_empty() {
            p."nhsuk-body" { "You have no tokens." }
        } @else {
            (table_wrap("Your API tokens", html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption"."nhsuk-u-visually-hidden" { "Your API tokens" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Name" }
                    th."nhsuk-table__header" scope="col" { "Starts with" }
                    th."nhsuk-table__header" scope="col" { "Scopes" }
                    th."nhsuk-table__header" scope="col" { "Created" }
                    th."nhsuk-table__header" scope="col" { "Status" }
                    th."nhsuk-table__header" scope="col" { span."nhsuk-u-visually-hidden" { "Action" } }
                } }
                tbody."nhsuk-table__body" {
                    @for t in &tokens {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { (t.name) }
                            td."nhsuk-table__cell" { span."ensemble-code" { (t.token_prefix) "…" } }
                            td."nhsuk-table__cell" { (t.scopes) }
                            td."nhsuk-table__cell" { (datetime(t.created_at)) }
                            td."nhsuk-table__cell" {
                                @if t.revoked_at.is_some() { "Revoked" }
                                @else if t.expires_at.is_some_and(|e| e <= crate::db::now()) { "Expired" }
                                @else if let Some(e) = t.expires_at { "Active until " (datetime(e)) }
                                @else { "Active" }
                            }
                            td."nhsuk-table__cell" {
                                @if t.revoked_at.is_none() {
                                    form method="post" action=(format!("/account/tokens/{}/revoke", t.id)) {
                                        (csrf(ctx))
                                        button."nhsuk-button"."nhsuk-button--secondary"."nhsuk-button--small" type="submit" {
                                            "Revoke" span."nhsuk-u-visually-hidden" { " " (t.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            }))
        }
        h2."nhsuk-heading-m" { "Create a token" }
        form method="post" action="/account/tokens" novalidate {
            (csrf(ctx))
            (Input::new("name", "Name", name).hint("What the token is for, for example \"Weekly report script\"").render(errors))
            (checkboxes("scopes", "What may it do?", &options, chosen, errors))
            (Input::new("expires_in_days", "Expires after (days)", "90").hint("1 to 366, or \"never\"").width("nhsuk-input--width-5").render(errors))
            (button("Create token"))
        }
    })
}

/// GET /account/tokens
pub async fn tokens_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let body = tokens_body(&state, &ctx, &actor, &[], "", &[], None).await?;
    Ok(page(&ctx, Page::new("API tokens", body)))
}

/// POST /account/tokens
pub async fn tokens_create(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let scopes: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "scopes")
        .map(|(_, v)| v.clone())
        .collect();
    let name = get("name");
    match service::create_token(&state, &actor, &name, &scopes, &get("expires_in_days")).await {
        Ok(token) => {
            let body = tokens_body(&state, &ctx, &actor, &[], "", &[], Some(&token)).await?;
            Ok(page(&ctx, Page::new("API tokens", body)))
        }
        Err(AppError::Invalid(errors)) => {
            let body = tokens_body(&state, &ctx, &actor, &errors, &name, &scopes, None).await?;
            Ok(page(&ctx, Page::new("API tokens", body).errors(true)))
        }
        Err(e) => Err(e),
    }
}

/// POST /account/tokens/{id}/revoke
pub async fn tokens_revoke(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::revoke_token(&state, &actor, &id).await?;
    Ok(Redirect::to("/account/tokens").into_response())
}

/// GET /organisations (staff)
pub async fn organisations(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    let orgs = service::list_organisations(&state, false).await?;
    let body = html! {
        h1 { "Organisations" }
        p."nhsuk-body" { "The partners working together through Ensemble." }
        (table_wrap("Organisations", html! {
        table."nhsuk-table" {
            caption."nhsuk-table__caption" { (orgs.len()) " organisations" }
            thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                th."nhsuk-table__header" scope="col" { "Name" }
                th."nhsuk-table__header" scope="col" { "Kind" }
                th."nhsuk-table__header" scope="col" { "Borough" }
            } }
            tbody."nhsuk-table__body" {
                @for o in &orgs {
                    tr."nhsuk-table__row" {
                        td."nhsuk-table__cell" { a href=(format!("/organisations/{}", o.id)) { (o.name) } }
                        td."nhsuk-table__cell" { (o.kind.label()) }
                        td."nhsuk-table__cell" { (o.borough.as_deref().unwrap_or("—")) }
                    }
                }
            }
        }
        }))
    };
    Ok(page(&ctx, Page::new("Organisations", body)))
}

/// GET /organisations/{id} (staff)
pub async fn organisation(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let o = service::get_organisation(&state, &id).await?;
    if o.archived_at.is_some() && !actor.has_role(Role::Administrator) {
        return Err(AppError::NotFound);
    }
    let can_see_members =
        actor.has_role(Role::Administrator) || actor.has_role_in(&o.id, Role::ProgrammeManager);
    let body = html! {
        span."nhsuk-caption-l" { (o.kind.label()) }
        h1 { (o.name) }
        @if !o.description.is_empty() { p."nhsuk-body" { (o.description) } }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Borough" } dd."nhsuk-summary-list__value" { (o.borough.as_deref().unwrap_or("Not given")) } }
            @if let Some(ods) = &o.ods_code {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "ODS code" } dd."nhsuk-summary-list__value" { (ods) } }
            }
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Website" } dd."nhsuk-summary-list__value" {
                @if let Some(w) = &o.website { a href=(w) rel="noopener noreferrer" { (w) } } @else { "Not given" }
            } }
        }
        @if can_see_members {
            p { a href=(format!("/organisations/{}/members", o.id)) { "People and roles at " (o.name) } }
        }
    };
    Ok(page(
        &ctx,
        Page::new(&o.name, body).back("/organisations", "Back to organisations"),
    ))
}

/// GET /organisations/{id}/members (programme managers of that organisation, administrators)
pub async fn organisation_members(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ViewOrganisationMembers>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let o = service::get_organisation(&state, &id).await?;
    let members = service::organisation_members(&state, &g, &id).await?;
    let title = format!("People at {}", o.name);
    let back = format!("/organisations/{}", o.id);
    let body = html! {
        h1 { (title) }
        p."nhsuk-body" { "Viewing this list is recorded in the audit trail." }
        @if members.is_empty() { p."nhsuk-body" { "Nobody has a role here yet." } } @else {
            (table_wrap(&title, html! { table."nhsuk-table" {
                caption."nhsuk-table__caption"."nhsuk-u-visually-hidden" { (title) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Name" }
                    th."nhsuk-table__header" scope="col" { "Role" }
                } }
                tbody."nhsuk-table__body" {
                    @for m in &members {
                        tr."nhsuk-table__row" { td."nhsuk-table__cell" { (m.user_name) } td."nhsuk-table__cell" { (m.role.label()) } }
                    }
                }
            } }))
        }
    };
    Ok(page(
        &ctx,
        Page::new(&title, body).back(&back, "Back to the organisation"),
    ))
}
