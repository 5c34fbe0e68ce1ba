//! Pages of one voice and of one action: read, edit, withdraw, moderate; turn voices into
//! an action; post progress; reply.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::access::Standing;
use super::actions::{self, ActionInput, UpdateInput};
use super::html::{status_tag, voice_fields};
use super::media::Media;
use super::media_html as mh;
use super::model::{ActionStatus, Moderation, Visibility};
use super::voices::{self, VoiceInput};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, radios, select, textarea,
    with_repeated,
};
use crate::web::layout::{datetime, long_date};
use crate::web::{Page, PageCtx, page};

/// What a page was reached after (`?saved=…`); only known codes are shown.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Saved {
    saved: String,
    voice: String,
}

fn banner(code: &str) -> maud::Markup {
    let text = match code {
        "shared" => "Thank you: your voice is shared",
        "edited" => "Your changes are saved",
        "photo" => "Photo saved",
        "audio" => "Recording saved",
        "owner" => "Action handed on: the new owner posts its progress from now on",
        "moderated" => "Moderation saved",
        "update" => "Progress posted: the people who spoke have been told",
        "reply" => "Your reply is sent to the programme team",
        "action" => "Action started",
        "coded" => "Your themes for this voice are saved",
        _ => return html! {},
    };
    html! {
        div."nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="saved-title" {
            div."nhsuk-notification-banner__header" { h2."nhsuk-notification-banner__title" id="saved-title" { "Success" } }
            div."nhsuk-notification-banner__content" { p."nhsuk-notification-banner__heading" { (text) } }
        }
    }
}

pub(super) async fn voice_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    saved: &str,
    edit: Option<&VoiceInput>,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let v = voices::read(state, Some(actor), id).await?;
    let photo = super::media::info(state, Media::Photo, &v).await?;
    let audio = super::media::info(state, Media::Audio, &v).await?;
    let coding = super::themes::for_voice(state, actor, &v).await?;
    let form = edit.cloned().unwrap_or(VoiceInput {
        kind: v.kind.code().into(),
        body: v.body.clone(),
        visibility: v.visibility.code().into(),
    });
    let title = format!("{}, {}", v.kind.label(), v.programme().name);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            (banner(saved))
            span."nhsuk-caption-l" { (v.programme().name) }
            h1 { (v.kind.label()) }
            p."nhsuk-body ensemble-pre-line" { (v.body) }
            dl."nhsuk-summary-list" {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Shared" } dd."nhsuk-summary-list__value" {
                    (datetime(v.created_at))
                    @if v.recorded_by.is_some() { ", written down by the programme team with the person's agreement" }
                    @else if v.author_id.is_none() { " without signing in" }
                } }
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Who may see it" } dd."nhsuk-summary-list__value" { (v.visibility.label()) } }
                @if v.visibility == Visibility::Public {
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Public" } dd."nhsuk-summary-list__value" { (v.moderation.label()) } }
                }
            }
            (mh::download(&v.id, Media::Photo, photo.as_ref()))
            (mh::download(&v.id, Media::Audio, audio.as_ref()))
            @if v.standing() >= Standing::Team && v.visibility == Visibility::Public && v.moderation == Moderation::Waiting {
                h2."nhsuk-heading-m" { "Check it before it is public" }
                p."nhsuk-body" { "Make it public only if nothing in it could identify anyone." }
                form method="post" action=(format!("/voices/{}/moderate", v.id)) novalidate {
                    (csrf(ctx))
                    button."nhsuk-button" type="submit" name="decision" value="approve" { "Make it public" }
                    " "
                    button."nhsuk-button nhsuk-button--secondary" type="submit" name="decision" value="decline" { "Do not make it public" }
                }
            }
            @if v.standing() >= Standing::Team {
                p."nhsuk-body" { a href=(format!("/programmes/{}/actions/new?voice={}", v.programme_id, v.id)) { "Turn this into an action" } }
            }
            @if let Some(c) = &coding { (super::themes_html::coding_section(ctx, &v, c)) }
            @if v.is_author() {
                h2."nhsuk-heading-m" { "Change what you shared" }
                form method="post" action=(format!("/voices/{}", v.id)) novalidate {
                    (csrf(ctx))
                    (voice_fields(&form, errors))
                    (button("Save changes"))
                }
                (mh::upload(ctx, &v.id, Media::Photo, photo.is_some(), errors))
                (mh::upload(ctx, &v.id, Media::Audio, audio.is_some(), errors))
                h2."nhsuk-heading-m" { "Withdraw it" }
                p."nhsuk-body" { "It will be deleted straight away, from every page, list and count, and from any action it started." }
                form method="post" action=(format!("/voices/{}/withdraw", v.id)) novalidate {
                    (csrf(ctx))
                    button."nhsuk-button nhsuk-button--warning" type="submit" { "Withdraw" }
                }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new(&title, body)
            .back(&format!("/programmes/{}", v.programme_id), "Programme")
            .errors(!errors.is_empty()),
    ))
}

/// GET /voices/{id}
pub async fn voice(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    voice_page(&state, &ctx, &actor, &id, &q.saved, None, &[]).await
}

/// POST /voices/{id}
pub async fn edit(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<VoiceInput>,
) -> Result<Response, AppError> {
    match voices::edit(&state, &actor, &id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/voices/{id}?saved=edited")).into_response()),
        Err(AppError::Invalid(e)) => voice_page(&state, &ctx, &actor, &id, "", Some(&f), &e).await,
        Err(e) => Err(e),
    }
}

/// POST /voices/{id}/withdraw
pub async fn withdraw(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let programme = voices::withdraw(&state, &actor, &id).await?;
    Ok(Redirect::to(&format!("/programmes/{programme}")).into_response())
}

/// The moderation buttons.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ModerateForm {
    decision: String,
}

/// POST /voices/{id}/moderate
pub async fn moderate(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ModerateForm>,
) -> Result<Response, AppError> {
    let approve = match f.decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Choose whether to make it public".into(),
            ));
        }
    };
    voices::moderate(&state, &actor, &id, approve).await?;
    Ok(Redirect::to(&format!("/voices/{id}?saved=moderated")).into_response())
}

async fn new_action_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    programme: &str,
    f: &ActionInput,
    chosen: &[String],
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let s = super::service::space(state, actor, programme).await?;
    if s.programme.standing() < Standing::Team {
        return Err(AppError::Forbidden);
    }
    let mut conn = state.db.read.acquire().await?;
    let all = voices::visible(&mut conn, actor, &s.programme, 200).await?;
    let owners: Vec<(String, String)> = super::service::team_rows(&mut conn, &s.programme.id)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m.name))
        .collect();
    drop(conn);
    let labels: Vec<(String, String)> = all
        .iter()
        .map(|(v, _)| {
            let excerpt: String = v.body.chars().take(80).collect();
            (
                v.id.clone(),
                format!(
                    "{}, {}: {}",
                    v.kind.label(),
                    long_date(v.created_at),
                    excerpt
                ),
            )
        })
        .collect();
    let options: Vec<(&str, &str, &str)> = labels
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str(), ""))
        .collect();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (s.programme.name) }
            h1 { "Turn voices into an action" }
            p."nhsuk-body" { "The people whose voices you choose will be told about every update, and can reply. The title, description and updates appear on the public board: do not name anyone." }
            form method="post" action=(format!("/programmes/{}/actions", s.programme.id)) novalidate {
                (csrf(ctx))
                (checkboxes("voices", "Which voices does it answer?", &options, chosen, errors))
                (Input::new("title", "What will change", &f.title).render(errors))
                (textarea("description", "What you heard and what you will do", "", &f.description, errors))
                (select("owner_id", "Owner", &owners, &f.owner_id, errors))
                (Input::new("due_on", "Due date", &f.due_on).hint("Year-month-day, for example 2026-03-31").width("nhsuk-input--width-10").render(errors))
                (button("Start action"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Turn voices into an action", body)
            .back(&format!("/programmes/{}", s.programme.id), "Programme")
            .errors(!errors.is_empty()),
    ))
}

/// GET /programmes/{id}/actions/new
pub async fn new_action(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    let chosen: Vec<String> = if q.voice.is_empty() {
        vec![]
    } else {
        vec![q.voice]
    };
    new_action_page(
        &state,
        &ctx,
        &actor,
        &id,
        &ActionInput::default(),
        &chosen,
        &[],
    )
    .await
}

/// POST /programmes/{id}/actions
pub async fn create_action(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (f, voices): (ActionInput, Vec<String>) = with_repeated(pairs, "voices")?;
    match actions::create(&state, &actor, &id, &f, &voices).await {
        Ok(a) => Ok(Redirect::to(&format!("/actions/{a}?saved=action")).into_response()),
        Err(AppError::Invalid(e)) => {
            new_action_page(&state, &ctx, &actor, &id, &f, &voices, &e).await
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn action_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    saved: &str,
    sent: (&UpdateInput, &str),
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let v = actions::view(state, actor, id).await?;
    let a = &v.action;
    let owner = a.owner_id == actor.user_id || a.standing() == Standing::Manager;
    let others = if owner {
        super::upkeep::owner_choices(state, &a.programme_id, &a.owner_id).await?
    } else {
        Vec::new()
    };
    let statuses: Vec<(&str, &str)> = ActionStatus::ALL
        .iter()
        .map(|s| (s.code(), s.label()))
        .collect();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            (banner(saved))
            span."nhsuk-caption-l" { "You said, we did: " (a.programme().name) }
            h1 { (a.title) }
            p."nhsuk-body" { (status_tag(a.status.code())) " Due " (a.due_on) ". Owner: " (a.owner) }
            p."nhsuk-body ensemble-pre-line" { (a.description) }
            @if !v.voices.is_empty() {
                h2."nhsuk-heading-m" { "Started by" }
                ul."nhsuk-list" { @for (vid, label) in &v.voices { li { a href=(format!("/voices/{vid}")) { (label) } } } }
            }
            h2."nhsuk-heading-m" { "Progress" }
            @if v.updates.is_empty() { p."nhsuk-body" { "No updates yet." } }
            ul."nhsuk-list" { @for u in &v.updates { li { (datetime(u.created_at)) " (" (ActionStatus::from_code(&u.status).map(|s| s.label()).unwrap_or_default()) "): " (u.body) } } }
            @if !v.replies.is_empty() {
                h2."nhsuk-heading-m" { "Replies" }
                ul."nhsuk-list" { @for r in &v.replies { li { (datetime(r.created_at)) ", " (if r.mine { "you" } else { "someone who spoke" }) ": " (r.body) } } }
            }
            @if owner {
                h2."nhsuk-heading-m" { "Post progress" }
                form method="post" action=(format!("/actions/{}/updates", a.id)) novalidate {
                    (csrf(ctx))
                    (textarea("body", "What has happened", "Shown on the public board. Do not name anyone.", &sent.0.body, errors))
                    (radios("status", "Where it stands now", &statuses, if sent.0.status.is_empty() { a.status.code() } else { &sent.0.status }, errors))
                    (button("Post progress"))
                }
                @if !others.is_empty() {
                    h2."nhsuk-heading-m" { "Hand this action on" }
                    form method="post" action=(format!("/actions/{}/owner", a.id)) novalidate {
                        (csrf(ctx))
                        (select("owner_id", "New owner", &others, "", errors))
                        (button("Hand on"))
                    }
                }
            }
            @if !a.own_voices().is_empty() {
                h2."nhsuk-heading-m" { "Reply" }
                form method="post" action=(format!("/actions/{}/replies", a.id)) novalidate {
                    (csrf(ctx))
                    (textarea("reply", "Your reply", "Only the programme team will read it.", sent.1, errors))
                    (button("Send reply"))
                }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new(&a.title, body)
            .back(&format!("/programmes/{}", a.programme_id), "Programme")
            .errors(!errors.is_empty()),
    ))
}

/// GET /actions/{id}
pub async fn action(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    action_page(
        &state,
        &ctx,
        &actor,
        &id,
        &q.saved,
        (&UpdateInput::default(), ""),
        &[],
    )
    .await
}

/// POST /actions/{id}/updates
pub async fn post_update(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<UpdateInput>,
) -> Result<Response, AppError> {
    match actions::post_update(&state, &actor, &id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/actions/{id}?saved=update")).into_response()),
        Err(AppError::Invalid(e)) => action_page(&state, &ctx, &actor, &id, "", (&f, ""), &e).await,
        Err(e) => Err(e),
    }
}

/// The reply form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplyForm {
    reply: String,
}

/// POST /actions/{id}/replies
pub async fn reply(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ReplyForm>,
) -> Result<Response, AppError> {
    match actions::reply(&state, &actor, &id, &f.reply).await {
        Ok(()) => Ok(Redirect::to(&format!("/actions/{id}?saved=reply")).into_response()),
        Err(AppError::Invalid(e)) => {
            action_page(
                &state,
                &ctx,
                &actor,
                &id,
                "",
                (&UpdateInput::default(), &f.reply),
                &e,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
