//! Sharing without an account: the team's page for a programme's link and QR code, the
//! share form behind the link, and the withdrawal page for a voice shared that way.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::html::voice_fields;
use super::link::{self, LinkError};
use super::voices::{self, VoiceInput};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

/// `?days=` on the link page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Days {
    days: String,
    /// `1` after the team ended every link.
    ended: String,
}

/// GET /programmes/{id}/link — the team makes a link and QR code that expire.
pub async fn link_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Days>,
) -> Result<Response, AppError> {
    let (s, errors, made) = link::make(&state, &actor, &id, &q.days).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(&errors))
            @if q.ended == "1" { div."nhsuk-inset-text" { p { "Every link made before now has been ended. Make a new one below if you need it." } } }
            span."nhsuk-caption-l" { (s.programme.name) }
            h1 { "Link for sharing without an account" }
            p."nhsuk-body" { "Anyone with the link can share a voice with this programme until it expires. Print the QR code for a session, or send the link." }
            form method="get" action=(format!("/programmes/{}/link", s.programme.id)) novalidate {
                (Input::new("days", "How many days should it work for?", &q.days).hint("From 1 to 90").width("nhsuk-input--width-4").render(&errors))
                (button("Make link"))
            }
            @if let Some((url, t, expires)) = &made {
                h2."nhsuk-heading-m" { "Your link" }
                p."nhsuk-body ensemble-detail" { a href=(url) { (url) } }
                p."nhsuk-body" { "It works until " (datetime(*expires)) "." }
                img src=(format!("/share/{t}/qr.svg")) alt="QR code for the link" width="240" height="240";
                p."nhsuk-body" { a href=(format!("/share/{t}/qr.svg")) download="share-qr.svg" { "Download the QR code (SVG) to print" } }
            }
            (end_form(&ctx, &s.programme.id))
        } }
    };
    Ok(page(
        &ctx,
        Page::new("Link for sharing without an account", body)
            .back(&format!("/programmes/{}", s.programme.id), "Programme")
            .errors(!errors.is_empty()),
    ))
}

/// The form that ends every link made so far.
fn end_form(ctx: &PageCtx, programme: &str) -> maud::Markup {
    html! {
        h2."nhsuk-heading-m" { "End every link made so far" }
        p."nhsuk-body" { "If a link or QR code reached the wrong people, end it now. Every link made before this moment stops working at once, printed ones too; voices already shared stay. You can then make a new link." }
        form method="post" action=(format!("/programmes/{programme}/link/end")) novalidate {
            (csrf(ctx))
            button."nhsuk-button nhsuk-button--warning" type="submit" { "End every link" }
        }
    }
}

/// POST /programmes/{id}/link/end — the team ends every link made so far.
pub async fn end_links(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    link::end_all(&state, &actor, &id).await?;
    Ok(axum::response::Redirect::to(&format!("/programmes/{id}/link?ended=1")).into_response())
}

fn refused(ctx: &PageCtx, e: &LinkError) -> Response {
    let (status, title) = match e {
        LinkError::Forged => (StatusCode::BAD_REQUEST, "This link is not valid"),
        LinkError::Expired(_) => (StatusCode::GONE, "This link has expired"),
        LinkError::Ended => (StatusCode::GONE, "This link has been ended"),
    };
    let body = html! { h1 { (title) } p."nhsuk-body" { (e.to_string()) } };
    (status, page(ctx, Page::new(title, body))).into_response()
}

/// GET /share/{token}/qr.svg — the QR code of a genuine link.
pub async fn qr(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    link::open(&state, &token)
        .await?
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let url = format!("{}/share/{token}", state.cfg.base_url.trim_end_matches('/'));
    let svg = crate::auth::totp::qr_svg(&url)
        .ok_or_else(|| AppError::BadRequest("The link is too long for a QR code".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

async fn share_page(
    state: &AppState,
    ctx: &PageCtx,
    token: &str,
    f: &VoiceInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let claim = match link::open(state, token).await? {
        Ok(c) => c,
        Err(e) => return Ok(refused(ctx, &e)),
    };
    let pp = super::service::public_page(state, None, &claim.programme).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (pp.programme.name) }
            h1 { "Share your voice" }
            p."nhsuk-body" { "You do not need an account, and we do not ask your name. After you share, you get a private link to withdraw it at any time." }
            form method="post" action=(format!("/share/{token}")) novalidate {
                (csrf(ctx))
                (voice_fields(f, errors))
                (button("Share"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Share your voice", body).errors(!errors.is_empty()),
    ))
}

/// GET /share/{token}
pub async fn share_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    share_page(&state, &ctx, &token, &VoiceInput::default(), &[]).await
}

/// POST /share/{token}
pub async fn share(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    PageForm(f): PageForm<VoiceInput>,
) -> Result<Response, AppError> {
    let claim = match link::open(&state, &token).await? {
        Ok(c) => c,
        Err(e) => return Ok(refused(&ctx, &e)),
    };
    let id = match voices::share_anonymously(&state, &claim, &f).await {
        Ok(Ok(id)) => id,
        Ok(Err(e)) => return Ok(refused(&ctx, &e)),
        Err(AppError::Invalid(e)) => return share_page(&state, &ctx, &token, &f, &e).await,
        Err(e) => return Err(e),
    };
    let key = link::withdrawal_key(&state.secret, &id);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            h1 { "Thank you for sharing" }
            p."nhsuk-body" { "The programme team will read what you said." }
            h2."nhsuk-heading-m" { "If you change your mind" }
            p."nhsuk-body" { "Keep this private link: it is the only way to withdraw what you shared, and we cannot show it again." }
            p."nhsuk-body ensemble-detail" { a href=(format!("/share/withdraw/{key}")) { "Withdraw what I shared" } }
        } }
    };
    Ok(page(&ctx, Page::new("Thank you for sharing", body)))
}

/// GET /share/withdraw/{key}
pub async fn withdraw_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(key): Path<String>,
) -> Result<Response, AppError> {
    if let Err(e) = link::check_withdrawal(&state.secret, &key) {
        return Ok(refused(&ctx, &e));
    }
    let body = html! {
        h1 { "Withdraw what you shared" }
        p."nhsuk-body" { "It will be deleted straight away, from every page, list and count." }
        form method="post" action=(format!("/share/withdraw/{key}")) novalidate {
            (csrf(&ctx))
            button."nhsuk-button nhsuk-button--warning" type="submit" { "Withdraw" }
        }
    };
    Ok(page(&ctx, Page::new("Withdraw what you shared", body)))
}

/// POST /share/withdraw/{key}
pub async fn withdraw(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(key): Path<String>,
) -> Result<Response, AppError> {
    let voice = match link::check_withdrawal(&state.secret, &key) {
        Ok(v) => v,
        Err(e) => return Ok(refused(&ctx, &e)),
    };
    let gone = voices::withdraw_anonymous(&state, &voice).await?;
    let title = if gone {
        "Withdrawn"
    } else {
        "Already withdrawn"
    };
    let body = html! { h1 { (title) } p."nhsuk-body" { "What you shared has been deleted." } };
    Ok(page(&ctx, Page::new(title, body)))
}
