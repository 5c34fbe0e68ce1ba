//! A voice's photo and recording on its page: the download links (for people who may read
//! the voice) and the author's upload forms, and the handlers that take and serve the files.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::media::{self, Media, PhotoInfo};
use crate::error::AppError;
use crate::error::FieldError;
use crate::state::AppState;
use crate::web::PageCtx;
use crate::web::ctx::CurrentUser;
use crate::web::forms::csrf;
use crate::web::upload::{MultipartForm, file_size};

/// The download link of a stored photo or recording (nothing when there is none).
pub fn download(voice: &str, m: Media, info: Option<&PhotoInfo>) -> Markup {
    let Some(i) = info else { return html! {} };
    let what = match m {
        Media::Photo => "the photo",
        Media::Audio => "the recording",
    };
    html! {
        p."nhsuk-body" {
            a href=(format!("/voices/{voice}/{}", m.field())) download {
                "Download " (what) " (" (Media::type_label(&i.content_type)) ", "
                (file_size(usize::try_from(i.size_bytes).unwrap_or(0))) ")"
            }
        }
    }
}

/// The author's form to add or replace a photo or recording. On a phone the recording field
/// offers the voice recorder.
pub fn upload(ctx: &PageCtx, voice: &str, m: Media, has: bool, errors: &[FieldError]) -> Markup {
    let f = m.field();
    let (heading, label, hint, accept, submit) = match m {
        Media::Photo => (
            if has {
                "Replace the photo"
            } else {
                "Add a photo"
            },
            "Photo (optional)",
            format!(
                "A PNG or JPEG of up to {}. Only people who may read what you shared can download it. Leave out faces and names.",
                file_size(media::MAX_PHOTO_BYTES)
            ),
            "image/png,image/jpeg",
            "Upload photo",
        ),
        Media::Audio => (
            if has {
                "Replace the recording"
            } else {
                "Add a short recording"
            },
            "Recording (optional)",
            format!(
                "Say it in your own voice: M4A, MP3, Ogg, WebM or WAV, up to {} (a few minutes). Only people who may read what you shared can download it. Leave out other people's names.",
                file_size(media::MAX_AUDIO_BYTES)
            ),
            "audio/*",
            "Upload recording",
        ),
    };
    let err = errors.iter().find(|e| e.field == f);
    html! {
        h2."nhsuk-heading-m" { (heading) }
        form method="post" action=(format!("/voices/{voice}/{f}")) enctype="multipart/form-data" novalidate {
            (csrf(ctx))
            div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                label."nhsuk-label" for=(f) { (label) }
                div."nhsuk-hint" id=(format!("{f}-hint")) { (hint) }
                @if let Some(e) = err { span."nhsuk-error-message" id=(format!("{f}-error")) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                input."nhsuk-file-upload" id=(f) name=(f) type="file" accept=(accept)
                    aria-describedby=(if err.is_some() { format!("{f}-hint {f}-error") } else { format!("{f}-hint") });
            }
            button."nhsuk-button nhsuk-button--secondary" type="submit" { (submit) }
        }
    }
}

async fn add(
    state: &AppState,
    ctx: &PageCtx,
    actor: &crate::rbac::Actor,
    id: &str,
    m: Media,
    form: &MultipartForm,
) -> Result<Response, AppError> {
    let file = form.file(m.field()).map(|p| p.data.as_ref());
    match media::add(state, actor, m, id, file).await {
        Ok(()) => Ok(Redirect::to(&format!("/voices/{id}?saved={}", m.field())).into_response()),
        Err(AppError::Invalid(e)) => {
            super::voices_html::voice_page(state, ctx, actor, id, "", None, &e).await
        }
        Err(e) => Err(e),
    }
}

async fn serve(
    state: &AppState,
    actor: &crate::rbac::Actor,
    id: &str,
    m: Media,
) -> Result<Response, AppError> {
    let (content_type, data) = media::get(state, actor, m, id).await?;
    let name = format!("voice-{}.{}", m.field(), Media::extension(&content_type));
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_string()),
        ],
        data,
    )
        .into_response())
}

/// POST /voices/{id}/photo
pub async fn add_photo(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    form: MultipartForm,
) -> Result<Response, AppError> {
    add(&state, &ctx, &actor, &id, Media::Photo, &form).await
}

/// POST /voices/{id}/audio
pub async fn add_audio(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    form: MultipartForm,
) -> Result<Response, AppError> {
    add(&state, &ctx, &actor, &id, Media::Audio, &form).await
}

/// GET /voices/{id}/photo — as an attachment, to people who may read the voice.
pub async fn photo(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    serve(&state, &actor, &id, Media::Photo).await
}

/// GET /voices/{id}/audio — as an attachment, to people who may read the voice.
pub async fn audio(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    serve(&state, &actor, &id, Media::Audio).await
}
