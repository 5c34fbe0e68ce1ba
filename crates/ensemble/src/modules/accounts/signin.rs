//! Sign-in, second-factor verification, sign-out and accepting invitations.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};

use maud::html;
use serde::Deserialize;

use crate::auth::session;
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary};
use crate::web::middleware::set_cookie;
use crate::web::{Page, PageCtx, page};

use super::service::{self, NextStep, SecondFactor, SignInError};

/// The sign-in form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    email: String,
    password: String,
    next: String,
}

/// Where to go after signing in: `next` when it is a plain path on this site, else `/`.
///
/// Browsers drop tabs and newlines from a URL and read `\\` as `/`, so `/<TAB>/evil.example/`
/// becomes `//evil.example/`, another site. Only a path of printable ASCII is followed: one
/// leading `/` (not `//` or `/\\`), no whitespace, control characters or backslashes (raw
/// or percent-encoded), and it must parse as a path and query. The sign-in pages themselves
/// are never a destination.
pub fn local_next(next: &str) -> &str {
    safe_next(next).unwrap_or("/")
}

/// `next` if it may be followed (see [`local_next`]).
pub fn safe_next(next: &str) -> Option<&str> {
    let b = next.as_bytes();
    let printable = b.iter().all(|c| (0x21..=0x7e).contains(c));
    let plain_start = b.first() == Some(&b'/') && !matches!(b.get(1), Some(b'/' | b'\\'));
    let lower = next.to_ascii_lowercase();
    // %00-%1f and %7f are control characters; %5c is a backslash; %2f%2f or a leading
    // %2f would make `//` once decoded by a lenient proxy.
    let encoded_bad = lower.match_indices('%').any(|(i, _)| {
        let hex = lower.get(i + 1..i + 3).unwrap_or("");
        matches!(hex.as_bytes().first(), Some(b'0' | b'1')) || hex == "7f" || hex == "5c"
    }) || lower.starts_with("/%2f");
    let ok = printable
        && plain_start
        && !next.contains('\\')
        && !encoded_bad
        && !next.starts_with("/sign-")
        && next.parse::<axum::http::uri::PathAndQuery>().is_ok();
    ok.then_some(next)
}

fn sign_in_form(
    ctx: &PageCtx,
    form: &SignInForm,
    errors: &[FieldError],
    notice: Option<&str>,
) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Sign in" }
            @if let Some(n) = notice {
                div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { (n) } }
            }
            form method="post" action="/sign-in" novalidate {
                (csrf(ctx))
                input type="hidden" name="next" value=(form.next);
                (Input::new("email", "Email address", &form.email).kind("email").autocomplete("username").render(errors))
                (Input::new("password", "Password", "").kind("password").autocomplete("current-password").render(errors))
                (button("Sign in"))
            }
            p."nhsuk-body" { "If you have forgotten your password, ask the administrator of your organisation to reset it." }
        } }
    };

    page(ctx, Page::new("Sign in", body).errors(!errors.is_empty()))
}

/// Query for the sign-in page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// GET /sign-in
pub async fn sign_in_page(ctx: PageCtx, Query(q): Query<NextQuery>) -> Response {
    if ctx.actor().is_some() {
        return Redirect::to("/").into_response();
    }
    let next = safe_next(&q.next).unwrap_or_default().to_string();
    let notice = (!next.is_empty()).then_some("Sign in to see that page.");
    sign_in_form(
        &ctx,
        &SignInForm {
            next,
            ..Default::default()
        },
        &[],
        notice,
    )
}

/// POST /sign-in
pub async fn sign_in_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(mut form): PageForm<SignInForm>,
) -> Response {
    // A `next` that may not be followed is dropped before anything else happens.
    form.next = local_next(&form.next).to_string();
    let errors = form.missing();
    if !errors.is_empty() {
        return sign_in_form(&ctx, &form, &errors, None);
    }
    match service::sign_in(
        &state,
        &form.email,
        &form.password,
        &ctx.req.client_ip,
        &ctx.req.request_id,
    )
    .await
    {
        Ok((token, step)) => signed_in(&state, &form, &token, step),
        Err(e) => sign_in_refused(&ctx, &form, e),
    }
}

impl SignInForm {
    /// A problem for each empty field.
    fn missing(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.email.trim().is_empty() {
            errors.push(FieldError::new("email", "Enter your email address"));
        }
        if self.password.is_empty() {
            errors.push(FieldError::new("password", "Enter your password"));
        }
        errors
    }
}

/// Set the session cookie and go on to the next step (or where the visitor was going).
fn signed_in(state: &AppState, form: &SignInForm, token: &str, step: NextStep) -> Response {
    let to = match step {
        NextStep::Done => local_next(&form.next).to_string(),
        NextStep::Verify => "/sign-in/verify".into(),
        NextStep::SetUp => "/account/security/totp".into(),
    };
    let mut resp = Redirect::to(&to).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, session::COOKIE, token, None),
    );
    resp
}

/// The form again with the reason, or the error page when the service failed.
fn sign_in_refused(ctx: &PageCtx, form: &SignInForm, e: SignInError) -> Response {
    match e {
        SignInError::Internal(e) => AppError::from(e).into_response(),
        e @ SignInError::RateLimited(_) => {
            let mut r = sign_in_form(ctx, form, &[FieldError::new("email", e.to_string())], None);
            *r.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
            r
        }
        e => sign_in_form(ctx, form, &[FieldError::new("email", e.to_string())], None),
    }
}

/// The code form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

fn verify_form(ctx: &PageCtx, errors: &[FieldError]) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Enter your security code" }
            p."nhsuk-body" { "Open your authenticator app and enter the 6-digit code it shows for Ensemble. If you do not have your phone, enter one of your recovery codes instead." }
            form method="post" action="/sign-in/verify" novalidate {
                (csrf(ctx))
                (Input::new("code", "Security code or recovery code", "").autocomplete("one-time-code").width("nhsuk-input--width-10").render(errors))
                (button("Continue"))
            }
        } }
    };

    page(
        ctx,
        Page::new("Enter your security code", body).errors(!errors.is_empty()),
    )
}

/// GET /sign-in/verify
pub async fn verify_page(ctx: PageCtx) -> Response {
    match &ctx.req.session {
        Some(s) if !s.mfa_verified && s.totp_enabled => verify_form(&ctx, &[]),
        _ => Redirect::to("/").into_response(),
    }
}

/// POST /sign-in/verify
pub async fn verify_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<CodeForm>,
) -> Response {
    let Some(s) = ctx
        .req
        .session
        .clone()
        .filter(|s| !s.mfa_verified && s.totp_enabled)
    else {
        return Redirect::to("/").into_response();
    };
    if form.code.trim().is_empty() {
        return verify_form(
            &ctx,
            &[FieldError::new(
                "code",
                "Enter the 6-digit code from your authenticator app",
            )],
        );
    }
    match service::verify_second_factor(&state, &s, &form.code, &ctx.req.request_id).await {
        Ok(SecondFactor::Verified(token)) => second_factor_passed(&state, &token),
        Ok(SecondFactor::Wrong) => verify_form(
            &ctx,
            &[FieldError::new(
                "code",
                "Enter the 6-digit code from your authenticator app, or one of your recovery codes",
            )],
        ),
        Ok(ended) => too_many_codes(&state, &ctx, &ended),
        Err(e) => e.into_response(),
    }
}

/// Both factors checked: set the new session cookie and go home.
fn second_factor_passed(state: &AppState, token: &str) -> Response {
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, session::COOKIE, token, None),
    );
    resp
}

/// The session has ended after too many wrong codes: say so, clear the cookie (429).
fn too_many_codes(state: &AppState, ctx: &PageCtx, outcome: &SecondFactor) -> Response {
    let detail = match outcome {
        SecondFactor::Locked(minutes) => format!(
            "Two-step sign-in for this account is locked for {minutes} minutes after too many incorrect codes. We have emailed the account holder. You can sign in again after that."
        ),
        _ => "You entered too many incorrect codes. For your security, sign in again.".into(),
    };
    let body = html! {
        h1 { "Too many incorrect codes" }
        p."nhsuk-body" { (detail) }
        p { a."nhsuk-link" href="/sign-in" { "Sign in again" } }
    };
    let mut r = page(ctx, Page::new("Too many incorrect codes", body));
    *r.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, session::COOKIE, "", Some(0)),
    );
    r
}

/// POST /sign-out: ends the session server-side and clears the cookie.
pub async fn sign_out(State(state): State<AppState>, ctx: PageCtx) -> Response {
    if let Some(s) = &ctx.req.session
        && let Err(e) = service::sign_out(&state, s, &ctx.req.request_id).await
    {
        return e.into_response();
    }
    let mut resp = Redirect::to("/sign-in").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, session::COOKIE, "", Some(0)),
    );
    resp
}

/// The invitation acceptance form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InvitationForm {
    new_password: String,
    confirm_password: String,
}

async fn invitation_form(
    state: &AppState,
    ctx: &PageCtx,
    token: &str,
    errors: &[FieldError],
) -> Response {
    let inv = match service::find_invitation(state, token).await {
        Ok(inv) => inv,
        Err(AppError::NotFound) => {
            let body = html! {
                h1 { "This invitation link does not work" }
                p."nhsuk-body" { "It may have been used already or it may have expired. Ask the person who invited you to send a new invitation." }
                p { a href="/sign-in" { "Sign in" } }
            };
            let mut r = page(ctx, Page::new("This invitation link does not work", body));
            *r.status_mut() = axum::http::StatusCode::NOT_FOUND;
            return r;
        }
        Err(e) => return e.into_response(),
    };
    let action = format!("/invitations/{token}");
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Set up your Ensemble account" }
            p."nhsuk-body" { "You have been invited as " (inv.role.label().to_lowercase()) " at " (inv.organisation_name) "." }
            dl."nhsuk-summary-list" {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Name" } dd."nhsuk-summary-list__value" { (inv.display_name) } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Email address" } dd."nhsuk-summary-list__value" { (inv.email) } }
            }
            form method="post" action=(action) novalidate {
                (csrf(ctx))
                (Input::new("new_password", "Choose a password", "").kind("password").autocomplete("new-password")
                    .hint("Use 10 characters or more. Three random words work well. Avoid common passwords.").render(errors))
                (Input::new("confirm_password", "Type the password again", "").kind("password").autocomplete("new-password").render(errors))
                (button("Create my account"))
            }
        } }
    };

    page(
        ctx,
        Page::new("Set up your Ensemble account", body).errors(!errors.is_empty()),
    )
}

/// GET /invitations/{token}
pub async fn invitation_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Response {
    invitation_form(&state, &ctx, &token, &[]).await
}

/// POST /invitations/{token}
pub async fn invitation_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    PageForm(form): PageForm<InvitationForm>,
) -> Response {
    match service::accept_invitation(&state, &token, &form.new_password, &form.confirm_password)
        .await
    {
        Ok(()) => {
            let body = html! {
                div."nhsuk-panel" {
                    h1."nhsuk-panel__title" { "Your account is ready" }
                    div."nhsuk-panel__body" { "You can now sign in." }
                }
                p { a."nhsuk-button" href="/sign-in" { "Sign in" } }
            };
            page(&ctx, Page::new("Your account is ready", body))
        }
        Err(AppError::Invalid(errors)) => invitation_form(&state, &ctx, &token, &errors).await,
        Err(e) => e.into_response(),
    }
}

/// Used by tests: the `Location` of a redirect.
pub fn location(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_local_paths_are_followed_after_sign_in() {
        let hostile = [
            "",
            "evil.example",
            "//evil.example/",
            "/\\evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\r\n/evil.example/",
            "/ /evil.example/",
            "/account\r\nSet-Cookie: x=1",
            "/account\u{0}",
            "/account\u{7f}",
            "/caf\u{e9}",
            "/\u{3000}/evil.example/",
            "/a\\b",
            "/%09/evil.example/",
            "/%0a/evil.example/",
            "/%0D%0ASet-Cookie:x=1",
            "/%00",
            "/%7F",
            "/%5c/evil.example/",
            "/%2f/evil.example/",
            "/%2F%2Fevil.example/",
            "https://evil.example/",
            "javascript:alert(1)",
            "http:/evil.example",
            " /account",
            "/account ",
            "/sign-in",
            "/sign-in/verify",
            "\\\\evil.example",
        ];
        for next in hostile {
            assert_eq!(safe_next(next), None, "{next:?} must not be followed");
            assert_eq!(local_next(next), "/", "{next:?}");
        }
        for next in [
            "/",
            "/account",
            "/my/plan?tab=1&x=%20y",
            "/activities?q=choir%2Fdrum",
            "/people/0192-ab/consents#top",
            "/a:b",
        ] {
            assert_eq!(
                safe_next(next),
                Some(next),
                "{next:?} is a plain local path"
            );
        }
    }
}
