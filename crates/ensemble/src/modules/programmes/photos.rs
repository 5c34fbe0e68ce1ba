//! An optional photo with a voice: PNG or JPEG only (the type is read from the file's first
//! bytes, never from its name or the browser's word), at most [`MAX_PHOTO_BYTES`], added or
//! replaced by the voice's author, and served only as an attachment to people allowed to
//! read the voice. Withdrawing the voice deletes it.

use serde_json::json;
use sqlx::Row;

use super::access::{Author, Reader, VoiceAccess};
use crate::audit;
use crate::db::now;
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::upload::{file_size, sniff};

/// The largest photo accepted (under the 1 MB limit on every form).
pub const MAX_PHOTO_BYTES: usize = 900 * 1024;

/// A stored photo's type and size.
#[derive(Debug, Clone)]
pub struct PhotoInfo {
    pub content_type: String,
    pub size_bytes: i64,
}

/// Add or replace the photo of a voice (its author).
pub async fn add(
    state: &AppState,
    actor: &Actor,
    voice: &str,
    data: Option<&[u8]>,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let v = VoiceAccess::<Author>::check(&mut tx, Some(actor), voice).await?;
    let Some(data) = data else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "photo",
            "Choose a photo to add",
        )]));
    };
    if data.len() > MAX_PHOTO_BYTES {
        return Err(AppError::Invalid(vec![FieldError::new(
            "photo",
            format!(
                "The photo must be {} or smaller (it is {})",
                file_size(MAX_PHOTO_BYTES),
                file_size(data.len())
            ),
        )]));
    }
    let Some(content_type) = sniff(data).filter(|t| t.starts_with("image/")) else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "photo",
            "The photo must be a PNG or JPEG image: this file is not one",
        )]));
    };
    sqlx::query("INSERT INTO programme_voice_photos (voice_id, content_type, size_bytes, data, added_at) VALUES ($1, $2, $3, $4, $5) \
        ON CONFLICT (voice_id) DO UPDATE SET content_type = excluded.content_type, size_bytes = excluded.size_bytes, data = excluded.data, added_at = excluded.added_at")
        .bind(v.id.clone())
        .bind(content_type)
        .bind(data.len() as i64)
        .bind(data.to_vec())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "voice.photo",
        "programme_voice",
        Some(&v.id),
        json!({ "type": content_type, "bytes": data.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The type and size of a voice's photo, if it has one (for someone who may read it).
pub async fn info(
    state: &AppState,
    voice: &VoiceAccess<Reader>,
) -> Result<Option<PhotoInfo>, AppError> {
    let row = sqlx::query(
        "SELECT content_type, size_bytes FROM programme_voice_photos WHERE voice_id = $1",
    )
    .bind(voice.id.clone())
    .fetch_optional(&state.db.read)
    .await?;
    row.map(|r| {
        Ok(PhotoInfo {
            content_type: r.try_get("content_type")?,
            size_bytes: r.try_get("size_bytes")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| AppError::from(e))
}

/// The photo itself, for someone who may read the voice (audited unless the author).
pub async fn get(
    state: &AppState,
    actor: &Actor,
    voice: &str,
) -> Result<(String, Vec<u8>), AppError> {
    let mut tx = state.db.begin().await?;
    let v = VoiceAccess::<Reader>::check(&mut tx, Some(actor), voice).await?;
    let row =
        sqlx::query("SELECT content_type, data FROM programme_voice_photos WHERE voice_id = $1")
            .bind(v.id.clone())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AppError::NotFound)?;
    if !v.is_author() {
        audit::by(
            &mut tx,
            actor,
            "voice.photo_read",
            "programme_voice",
            Some(&v.id),
            json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok((row.try_get("content_type")?, row.try_get("data")?))
}
