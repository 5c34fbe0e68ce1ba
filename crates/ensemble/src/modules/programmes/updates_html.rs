//! Update pages: the programme's updates with the form to post one, and one update with its
//! comments.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::access::Standing;
use super::updates::{self, Update, UpdateInput, UpdateVisibility};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, radios, textarea};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

/// `?saved=…` after posting.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SavedQuery {
    saved: String,
}

fn banner(text: &str) -> Markup {
    html! {
        div."nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="saved-title" {
            div."nhsuk-notification-banner__header" { h2."nhsuk-notification-banner__title" id="saved-title" { "Success" } }
            div."nhsuk-notification-banner__content" { p."nhsuk-notification-banner__heading" { (text) } }
        }
    }
}

/// The public updates on the programme's public page (nobody named).
pub(super) fn public_list(news: &[Update]) -> Markup {
    html! {
        h2."nhsuk-heading-m" { "Updates" }
        @if news.is_empty() { p."nhsuk-body" { "No public updates yet." } }
        @for u in news {
            div."nhsuk-card" id=(format!("update-{}", u.id)) { div."nhsuk-card__content" {
                h3."nhsuk-card__heading nhsuk-heading-s" { (u.title) }
                p."nhsuk-body-s" { (crate::web::layout::long_date(u.created_at)) }
                p."nhsuk-body ensemble-pre-line" { (u.body) }
            } }
        }
    }
}

/// Who may read an update, as a tag in words.
fn visibility_tag(u: &Update) -> Markup {
    match u.visibility {
        UpdateVisibility::Public => html! { strong."nhsuk-tag nhsuk-tag--green" { "Public" } },
        UpdateVisibility::Members => {
            html! { strong."nhsuk-tag nhsuk-tag--grey" { "Members only" } }
        }
    }
}

async fn list_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    sent: &UpdateInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (p, list) = updates::for_members(state, actor, id).await?;
    let team = p.standing() >= Standing::Team;
    let base = format!("/programmes/{}/updates", p.id);
    let title = format!("Updates: {}", p.name);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (p.name) }
            h1 { "Updates" }
            @if list.is_empty() { p."nhsuk-body" { "No updates yet." } }
            ul."nhsuk-list" { @for u in &list {
                li { a href=(format!("{base}/{}", u.id)) { (u.title) } " " (visibility_tag(u)) br; span."nhsuk-body-s" { (u.author) ", " (datetime(u.created_at)) } }
            } }
            h2."nhsuk-heading-m" id="post" { "Post an update" }
            form method="post" action=(base) novalidate {
                (csrf(ctx))
                (Input::new("title", "Title", &sent.title).render(errors))
                (textarea("body", "Your update", "Plain text. Leave out anything that could identify a participant.", &sent.body, errors))
                (visibility_field(team, &sent.visibility, errors))
                (button("Post update"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new(&title, body)
            .back(&format!("/programmes/{}", p.id), "Programme")
            .errors(!errors.is_empty()),
    ))
}

/// GET /programmes/{id}/updates
pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    list_page(&state, &ctx, &actor, &id, &UpdateInput::default(), &[]).await
}

/// POST /programmes/{id}/updates
pub async fn post(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<UpdateInput>,
) -> Result<Response, AppError> {
    match updates::post(&state, &actor, &id, &f).await {
        Ok(u) => {
            Ok(Redirect::to(&format!("/programmes/{id}/updates/{u}?saved=posted")).into_response())
        }
        Err(AppError::Invalid(e)) => list_page(&state, &ctx, &actor, &id, &f, &e).await,
        Err(e) => Err(e),
    }
}

/// What the update page shows besides the update: a banner, and forms sent back with errors.
#[derive(Default)]
struct Sent<'a> {
    saved: &'a str,
    comment: &'a str,
    edit: Option<&'a UpdateInput>,
}

fn visibility_field(team: bool, value: &str, errors: &[FieldError]) -> Markup {
    let vis: Vec<(&str, &str)> = UpdateVisibility::ALL
        .iter()
        .map(|v| (v.code(), v.label()))
        .collect();
    html! {
        @if team {
            (radios("visibility", "Who may read it?", &vis, value, errors))
        } @else {
            input type="hidden" name="visibility" value="members";
            p."nhsuk-body" { "Your update is for members of the programme only. The programme team posts public updates." }
        }
    }
}

/// The author's forms: change the update, or remove it with its comments.
fn author_forms(
    ctx: &PageCtx,
    u: &updates::UpdateAccess,
    sent: Option<&UpdateInput>,
    errors: &[FieldError],
) -> Markup {
    let base = format!("/programmes/{}/updates/{}", u.programme_id, u.id);
    let f = sent.cloned().unwrap_or_else(|| UpdateInput {
        title: u.title.clone(),
        body: u.body.clone(),
        visibility: u.visibility.code().into(),
    });
    let team = u.standing() >= Standing::Team;
    html! {
        h2."nhsuk-heading-m" id="change" { "Change your update" }
        form method="post" action=(format!("{base}/edit")) novalidate {
            (csrf(ctx))
            (Input::new("title", "Title", &f.title).render(errors))
            (textarea("body", "Your update", "", &f.body, errors))
            (visibility_field(team, &f.visibility, errors))
            (button("Save changes"))
        }
        form method="post" action=(format!("{base}/remove")) novalidate {
            (csrf(ctx))
            button."nhsuk-button nhsuk-button--warning" type="submit" { "Remove your update and its comments" }
        }
    }
}

async fn update_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    (id, update): (&str, &str),
    sent: Sent<'_>,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (u, comments) = updates::view(state, actor, id, update).await?;
    let base = format!("/programmes/{}/updates/{}", u.programme_id, u.id);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            @match sent.saved {
                "posted" => (banner("Your update is posted")),
                "edited" => (banner("Your changes are saved")),
                "comment" => (banner("Your comment is posted")),
                "removed" => (banner("Your comment is removed")),
                _ => {},
            }
            span."nhsuk-caption-l" { "Update: " (u.programme().name) }
            h1 { (u.title) }
            p."nhsuk-body-s" { (u.author) ", " (datetime(u.created_at)) ". " (visibility_tag(&u)) }
            div."nhsuk-body ensemble-pre-line" { (u.body) }
            h2."nhsuk-heading-m" id="comments" { "Comments" }
            p."nhsuk-body-s" { "Only members of the programme see comments." }
            @if comments.is_empty() { p."nhsuk-body" { "No comments yet." } }
            @for c in &comments {
                div."nhsuk-inset-text" {
                    p."ensemble-pre-line" { (c.body) }
                    p."nhsuk-body-s" { (c.author) ", " (datetime(c.created_at)) }
                    @if c.mine {
                        form method="post" action=(format!("{base}/comments/{}/remove", c.id)) novalidate {
                            (csrf(ctx))
                            button."nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="submit" { "Remove your comment" }
                        }
                    }
                }
            }
            form method="post" action=(format!("{base}/comments")) novalidate {
                (csrf(ctx))
                (textarea("comment", "Add a comment", "", sent.comment, errors))
                (button("Post comment"))
            }
            @if u.is_author(actor) { (author_forms(ctx, &u, sent.edit, errors)) }
        } }
    };
    let title = format!("{}: update", u.title);
    Ok(page(
        ctx,
        Page::new(&title, body)
            .back(
                &format!("/programmes/{}/updates", u.programme_id),
                "Updates",
            )
            .errors(!errors.is_empty()),
    ))
}

/// GET /programmes/{id}/updates/{update}
pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, update)): Path<(String, String)>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let sent = Sent {
        saved: &q.saved,
        ..Default::default()
    };
    update_page(&state, &ctx, &actor, (&id, &update), sent, &[]).await
}

/// The comment form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommentForm {
    comment: String,
}

/// POST /programmes/{id}/updates/{update}/comments
pub async fn comment(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, update)): Path<(String, String)>,
    PageForm(f): PageForm<CommentForm>,
) -> Result<Response, AppError> {
    match updates::comment(&state, &actor, &id, &update, &f.comment).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/programmes/{id}/updates/{update}?saved=comment#comments"
        ))
        .into_response()),
        Err(AppError::Invalid(e)) => {
            let sent = Sent {
                comment: &f.comment,
                ..Default::default()
            };
            update_page(&state, &ctx, &actor, (&id, &update), sent, &e).await
        }
        Err(e) => Err(e),
    }
}

/// POST /programmes/{id}/updates/{update}/edit
pub async fn edit(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, update)): Path<(String, String)>,
    PageForm(f): PageForm<UpdateInput>,
) -> Result<Response, AppError> {
    match updates::edit(&state, &actor, &id, &update, &f).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/programmes/{id}/updates/{update}?saved=edited"))
                .into_response(),
        ),
        Err(AppError::Invalid(e)) => {
            let sent = Sent {
                edit: Some(&f),
                ..Default::default()
            };
            update_page(&state, &ctx, &actor, (&id, &update), sent, &e).await
        }
        Err(e) => Err(e),
    }
}

/// POST /programmes/{id}/updates/{update}/remove
pub async fn remove(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, update)): Path<(String, String)>,
) -> Result<Response, AppError> {
    updates::remove(&state, &actor, &id, &update).await?;
    Ok(Redirect::to(&format!("/programmes/{id}/updates")).into_response())
}

/// POST /programmes/{id}/updates/{update}/comments/{comment}/remove
pub async fn remove_comment(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, update, comment)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    updates::remove_comment(&state, &actor, &id, &update, &comment).await?;
    Ok(Redirect::to(&format!(
        "/programmes/{id}/updates/{update}?saved=removed#comments"
    ))
    .into_response())
}
