//! The feed's page (`/feed`), marking notifications read, and `GET /api/v1/feed`.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::feed::{self, FeedItem, FeedPage};
use crate::error::{ApiError, AppError};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{button, csrf};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

/// `?before=` (and, for the API, `limit`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `next` marker of the previous page; blank for the newest items.
    pub before: String,
    /// Items per page, 1 to 100 (20 when absent).
    pub limit: Option<usize>,
}

/// One item as a list entry: what, where, when; unread notifications marked in words.
pub(super) fn item_line(i: &FeedItem) -> Markup {
    html! {
        li."ensemble-feed__item" {
            p."nhsuk-body-s nhsuk-u-margin-bottom-1" {
                strong { (i.kind.label()) } " · "
                a href=(format!("/programmes/{}", i.programme_id)) { (i.programme) }
                " · " (datetime(i.at))
                @if i.unread { " " strong."nhsuk-tag nhsuk-tag--blue" { "New" } }
            }
            p."nhsuk-body" { a href=(i.link) { (i.title) } }
        }
    }
}

/// GET /feed — what happened in the person's programmes, newest first.
pub async fn feed_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Query(q): Query<FeedQuery>,
) -> Result<Response, AppError> {
    let p = feed::page(&state, &actor, &q.before, None).await?;
    let first = q.before.trim().is_empty();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            h1 { "Your feed" }
            p."nhsuk-body" { "What happened in your programmes, newest first: voices you may read, actions, progress and replies, and news on what you told us." }
            @if p.unread > 0 {
                p."nhsuk-body" { strong { (p.unread) " new" } " on what you told us." }
                form method="post" action="/feed/read" { (csrf(&ctx)) (button("Mark all as read")) }
            }
            p."nhsuk-body" { a href="/settings/notifications" { "Notification settings" } }
            @if p.items.is_empty() {
                p."nhsuk-body" { @if first { "Nothing yet. When you join a programme, what happens there shows here." } @else { "No older items." } }
            }
            ul."nhsuk-list ensemble-feed" { @for i in &p.items { (item_line(i)) } }
            nav."nhsuk-pagination" role="navigation" aria-label="Feed pages" {
                ul."nhsuk-list nhsuk-pagination__list" {
                    @if !first { li."nhsuk-pagination-item--previous" { a."nhsuk-pagination__link nhsuk-pagination__link--prev" href="/feed" { span."nhsuk-pagination__title" { "Newest" } } } }
                    @if let Some(next) = &p.next {
                        li."nhsuk-pagination-item--next" { a."nhsuk-pagination__link nhsuk-pagination__link--next" href=(format!("/feed?before={next}")) { span."nhsuk-pagination__title" { "Older" } } }
                    }
                }
            }
        } }
    };
    Ok(page(&ctx, Page::new("Your feed", body)))
}

/// POST /feed/read — mark every notification read.
pub async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    feed::mark_all_read(&state, &actor).await?;
    Ok(Redirect::to("/feed").into_response())
}

/// GET /api/v1/feed — the token owner's feed, one page.
#[utoipa::path(get, path = "/api/v1/feed", tag = "programmes", security(("token" = [])),
    params(FeedQuery),
    responses((status = 200, description = "One page of the feed, newest first", body = FeedPage),
        (status = 422, description = "A bad `before` marker or `limit`", body = crate::error::ErrorEnvelope),
        crate::api::docs::TokenErrors))]
pub async fn api_feed(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(q): Query<FeedQuery>,
) -> Result<Json<FeedPage>, ApiError> {
    Ok(Json(feed::page(&state, &actor, &q.before, q.limit).await?))
}

/// The home page part: the latest few items, for members of a programme.
pub fn home(
    state: AppState,
    actor: crate::rbac::Actor,
) -> futures_util::future::BoxFuture<'static, Result<Vec<crate::manifest::HomePart>, AppError>> {
    Box::pin(async move {
        let p = feed::page(&state, &actor, "", Some(3)).await?;
        if p.items.is_empty() {
            return Ok(vec![]);
        }
        Ok(vec![crate::manifest::HomePart {
            order: crate::manifest::home_order::LATER,
            markup: html! {
                h2."nhsuk-heading-m" { "In your programmes" }
                @if p.unread > 0 { p."nhsuk-body" { strong { (p.unread) " new" } " on what you told us." } }
                ul."nhsuk-list" { @for i in &p.items { (item_line(i)) } }
                p."nhsuk-body" { a href="/feed" { "Your feed" } }
            },
        }])
    })
}
