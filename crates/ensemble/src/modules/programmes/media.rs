//! An optional photo and an optional short audio recording with a voice. A photo is PNG or
//! JPEG, at most [`MAX_PHOTO_BYTES`]; a recording is Ogg, WebM, MP3, WAV or M4A, at most
//! [`MAX_AUDIO_BYTES`]. The type is read from the file's first bytes, never from its name or
//! the browser's word. Each is added or replaced by the voice's author, and served only as an
//! attachment to people allowed to read the voice (a reader other than the author is
//! audited). Withdrawing the voice deletes both.

use serde_json::json;
use sqlx::Row;

use super::access::{Author, Reader, VoiceAccess};
use crate::audit;
use crate::db::now;
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::upload::{file_size, sniff, sniff_audio};

/// The largest photo accepted.
pub const MAX_PHOTO_BYTES: usize = 900 * 1024;

/// The largest recording accepted (a few minutes as phones record).
pub const MAX_AUDIO_BYTES: usize = 8 * 1024 * 1024;

/// Which attachment of a voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Photo,
    Audio,
}

impl Media {
    /// The form field and path segment (`photo`, `audio`).
    pub fn field(self) -> &'static str {
        match self {
            Media::Photo => "photo",
            Media::Audio => "audio",
        }
    }
    fn table(self) -> &'static str {
        match self {
            Media::Photo => "programme_voice_photos",
            Media::Audio => "programme_voice_audio",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Media::Photo => "photo",
            Media::Audio => "recording",
        }
    }
    fn max(self) -> usize {
        match self {
            Media::Photo => MAX_PHOTO_BYTES,
            Media::Audio => MAX_AUDIO_BYTES,
        }
    }
    fn sniff(self, data: &[u8]) -> Option<&'static str> {
        match self {
            Media::Photo => sniff(data).filter(|t| t.starts_with("image/")),
            Media::Audio => sniff_audio(data),
        }
    }
    fn wrong_type(self) -> &'static str {
        match self {
            Media::Photo => "The photo must be a PNG or JPEG image: this file is not one",
            Media::Audio => {
                "The recording must be an audio file (M4A, MP3, Ogg, WebM or WAV): this file is not one"
            }
        }
    }
    /// A short name of a stored type, for links ("PNG", "M4A").
    pub fn type_label(content_type: &str) -> &'static str {
        match content_type {
            "image/png" => "PNG",
            "image/jpeg" => "JPEG",
            "audio/ogg" => "Ogg",
            "audio/webm" => "WebM",
            "audio/mpeg" => "MP3",
            "audio/wav" => "WAV",
            "audio/mp4" => "M4A",
            _ => "file",
        }
    }
    /// The file name extension of a stored type.
    pub fn extension(content_type: &str) -> &'static str {
        match content_type {
            "image/png" => "png",
            "image/jpeg" => "jpg",
            "audio/ogg" => "ogg",
            "audio/webm" => "webm",
            "audio/mpeg" => "mp3",
            "audio/wav" => "wav",
            "audio/mp4" => "m4a",
            _ => "bin",
        }
    }
}

/// A stored attachment's type and size.
#[derive(Debug, Clone)]
pub struct PhotoInfo {
    pub content_type: String,
    pub size_bytes: i64,
}

/// Add or replace the photo or recording of a voice (its author).
pub async fn add(
    state: &AppState,
    actor: &Actor,
    media: Media,
    voice: &str,
    data: Option<&[u8]>,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let v = VoiceAccess::<Author>::check(&mut tx, Some(actor), voice).await?;
    let (field, noun) = (media.field(), media.noun());
    let Some(data) = data else {
        return Err(AppError::Invalid(vec![FieldError::new(
            field,
            format!("Choose a {noun} to add"),
        )]));
    };
    if data.len() > media.max() {
        return Err(AppError::Invalid(vec![FieldError::new(
            field,
            format!(
                "The {noun} must be {} or smaller (it is {})",
                file_size(media.max()),
                file_size(data.len())
            ),
        )]));
    }
    let Some(content_type) = media.sniff(data) else {
        return Err(AppError::Invalid(vec![FieldError::new(
            field,
            media.wrong_type(),
        )]));
    };
    sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO {} (voice_id, content_type, size_bytes, data, added_at) VALUES ($1, $2, $3, $4, $5) \
        ON CONFLICT (voice_id) DO UPDATE SET content_type = excluded.content_type, size_bytes = excluded.size_bytes, data = excluded.data, added_at = excluded.added_at", media.table())))
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
        match media {
            Media::Photo => "voice.photo",
            Media::Audio => "voice.audio",
        },
        "programme_voice",
        Some(&v.id),
        json!({ "type": content_type, "bytes": data.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The type and size of a voice's photo or recording, if it has one (for someone who may
/// read it).
pub async fn info(
    state: &AppState,
    media: Media,
    voice: &VoiceAccess<Reader>,
) -> Result<Option<PhotoInfo>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT content_type, size_bytes FROM {} WHERE voice_id = $1",
        media.table()
    )))
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

/// The photo or recording itself, for someone who may read the voice (audited unless the
/// author).
pub async fn get(
    state: &AppState,
    actor: &Actor,
    media: Media,
    voice: &str,
) -> Result<(String, Vec<u8>), AppError> {
    let mut tx = state.db.begin().await?;
    let v = VoiceAccess::<Reader>::check(&mut tx, Some(actor), voice).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT content_type, data FROM {} WHERE voice_id = $1",
        media.table()
    )))
    .bind(v.id.clone())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if !v.is_author() {
        audit::by(
            &mut tx,
            actor,
            match media {
                Media::Photo => "voice.photo_read",
                Media::Audio => "voice.audio_read",
            },
            "programme_voice",
            Some(&v.id),
            json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok((row.try_get("content_type")?, row.try_get("data")?))
}
