//! Forms with a file (`multipart/form-data`): the body is read whole (up to
//! [`MAX_UPLOAD_BYTES`] on [`UPLOAD_PATHS`]) and split into its parts with `multer`, once,
//! by the CSRF layer, which reads the token from the parts and leaves them on the request
//! for the handler's [`MultipartForm`].

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;

use crate::error::AppError;

/// Largest body of a form with a file. Larger than any single file a service accepts, so an
/// oversized file is answered with a form error naming the limit, not a bare refusal.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// The forms that take a file (the only paths given [`MAX_UPLOAD_BYTES`]); `*` stands for
/// one path segment (a record id).
pub const UPLOAD_PATHS: &[&str] = &[
    "/practice/portfolio/evidence",
    "/voices/*/photo",
    "/voices/*/audio",
];

/// Whether `path` is one of [`UPLOAD_PATHS`].
pub fn takes_file(path: &str) -> bool {
    UPLOAD_PATHS.iter().any(|pattern| {
        let mut want = pattern.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some("*"), Some(g)) if !g.is_empty() => {}
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    })
}

/// One part of a multipart form.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    /// The file name the browser sent (no directories), for file fields.
    pub filename: Option<String>,
    pub data: Bytes,
}

/// The boundary of a multipart body, if the request is one.
pub fn boundary(content_type: Option<&str>) -> Option<String> {
    let ct = content_type?;
    if !ct
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    multer::parse_boundary(ct).ok()
}

/// Split a multipart body into its parts.
pub async fn parts(body: Bytes, boundary: &str) -> Result<Vec<Part>, AppError> {
    let stream =
        futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(AppError::BadRequest(format!(
                    "The form could not be read: {e}"
                )));
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(|f| {
            // Browsers send a bare name; keep only the last path segment in any case.
            f.rsplit(['/', '\\']).next().unwrap_or_default().to_string()
        });
        let data = field
            .bytes()
            .await
            .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))?;
        out.push(Part {
            name,
            filename,
            data,
        });
    }
    Ok(out)
}

/// A multipart form, read from the request (the CSRF layer has already checked its token).
#[derive(Debug, Clone, Default)]
pub struct MultipartForm {
    pub parts: Vec<Part>,
}

impl MultipartForm {
    /// The text of a field (empty when absent or not UTF-8).
    pub fn text(&self, name: &str) -> String {
        self.parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
            .unwrap_or_default()
    }

    /// Every value of a repeated field (a checkbox group).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.parts
            .iter()
            .filter(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
            .collect()
    }

    /// A file field: `None` when no file was chosen (browsers send an empty part).
    pub fn file(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| {
            p.name == name
                && p.filename.as_deref().is_some_and(|f| !f.is_empty())
                && !p.data.is_empty()
        })
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for MultipartForm {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        // Already split by the CSRF layer (every page form passes through it).
        let (mut head, body) = req.into_parts();
        if let Some(form) = head.extensions.remove::<MultipartForm>() {
            return Ok(form);
        }
        let req = Request::from_parts(head, body);
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let Some(b) = boundary(ct.as_deref()) else {
            return Err(AppError::BadRequest(
                "This form must be sent as multipart/form-data.".into(),
            ));
        };
        let body = axum::body::to_bytes(req.into_body(), MAX_UPLOAD_BYTES)
            .await
            .map_err(|_| too_large())?;
        Ok(MultipartForm {
            parts: parts(body, &b).await?,
        })
    }
}

/// The refusal for a body over [`MAX_UPLOAD_BYTES`].
pub fn too_large() -> AppError {
    AppError::BadRequest(format!(
        "The form was too large to accept: files of up to {} MB are accepted.",
        MAX_UPLOAD_BYTES / (1024 * 1024)
    ))
}

/// A file size for people: KB under a megabyte, else MB to one decimal place.
pub fn file_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// What a file's first bytes say it is: only the types the platform accepts are named.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// What an audio file's first bytes say it is: Ogg (Opus or Vorbis), WebM, MP3, WAV or MP4
/// audio (M4A, as phones record). Anything else is `None`.
pub fn sniff_audio(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"OggS") {
        Some("audio/ogg")
    } else if data.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("audio/webm")
    } else if data.starts_with(b"ID3")
        || (data.len() >= 2 && data[0] == 0xFF && (data[1] & 0xE0) == 0xE0 && data[1] & 0x06 != 0)
    {
        Some("audio/mpeg")
    } else if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WAVE" {
        Some("audio/wav")
    } else if data.len() >= 12 && &data[4..8] == b"ftyp" {
        Some("audio/mp4")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn parts_text_and_files_are_read() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nFirst aid\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\na\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\nb\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\x\\\\cert.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 x\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n\r\n\r\n\
                    --XyZ--\r\n";
        let b = boundary(Some("multipart/form-data; boundary=XyZ")).unwrap();
        let form = MultipartForm {
            parts: parts(Bytes::from(body), &b).await.unwrap(),
        };
        assert_eq!(form.text("title"), "First aid");
        assert_eq!(form.all("c"), vec!["a", "b"]);
        let f = form.file("file").unwrap();
        assert_eq!(f.filename.as_deref(), Some("cert.pdf"));
        assert_eq!(sniff(&f.data), Some("application/pdf"));
        assert!(form.file("empty").is_none());
        assert!(boundary(Some("application/x-www-form-urlencoded")).is_none());
        assert!(parts(Bytes::from("--XyZ\r\nbroken"), "XyZ").await.is_err());
    }

    #[test]
    fn upload_paths_match_one_segment_per_star() {
        assert!(takes_file("/practice/portfolio/evidence"));
        assert!(takes_file("/voices/abc-123/photo"));
        assert!(takes_file("/voices/abc/audio"));
        assert!(!takes_file("/voices//audio"));
        assert!(!takes_file("/voices/a/b/audio"));
        assert!(!takes_file("/voices/abc/edit"));
        assert!(!takes_file("/practice/portfolio/evidence/x"));
    }

    #[test]
    fn audio_is_recognised_by_its_bytes() {
        assert_eq!(sniff_audio(b"OggS\0\x02...."), Some("audio/ogg"));
        assert_eq!(
            sniff_audio(&[0x1A, 0x45, 0xDF, 0xA3, 1]),
            Some("audio/webm")
        );
        assert_eq!(sniff_audio(b"ID3\x04\0"), Some("audio/mpeg"));
        assert_eq!(sniff_audio(&[0xFF, 0xFB, 0x90, 0x00]), Some("audio/mpeg"));
        assert_eq!(sniff_audio(b"RIFF\x24\0\0\0WAVEfmt "), Some("audio/wav"));
        assert_eq!(sniff_audio(b"\0\0\0\x20ftypM4A \0\0"), Some("audio/mp4"));
        assert_eq!(sniff_audio(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(sniff_audio(b"RIFF\x24\0\0\0AVI LIST"), None);
        assert_eq!(sniff_audio(b"<script>"), None);
        assert_eq!(sniff_audio(b""), None);
    }

    #[test]
    fn only_pdf_png_and_jpeg_are_recognised() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"PK\x03\x04 docx"), None);
        assert_eq!(sniff(b"<html>%PDF-"), None);
        assert_eq!(sniff(b""), None);
    }
}
