//! Static assets compiled into the binary and served with content-hashed, immutable URLs
//! (`/assets/<dir>/<stem>.<hash>.<ext>`). Plain URLs are also served, with a short cache
//! life, because the vendored stylesheet refers to its icons by relative path. Text assets
//! are gzip-compressed once at start-up.

use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One servable file.
#[derive(Debug)]
pub struct Asset {
    /// MIME type.
    pub content_type: &'static str,
    /// Raw bytes.
    pub bytes: axum::body::Bytes,
    /// Gzip-compressed bytes, when compression helps.
    pub gzip: Option<axum::body::Bytes>,
    /// Served under its hashed name (cache forever).
    pub immutable: bool,
}

/// All assets by URL path (both hashed and plain), plus hashed URLs by plain path.
pub struct Assets {
    by_path: HashMap<String, std::sync::Arc<Asset>>,
    hashed: HashMap<&'static str, String>,
}

const BUNDLE: &str = "/assets/vendor/nhsuk-frontend/nhsuk-frontend.min.js";

macro_rules! file {
    ($path:literal) => {
        (
            $path,
            include_bytes!(concat!("../../assets/", $path)).as_slice(),
        )
    };
}

const FILES: &[(&str, &[u8])] = &[
    file!("vendor/nhsuk-frontend/nhsuk-frontend.min.css"),
    file!("vendor/nhsuk-frontend/nhsuk-frontend.min.js"),
    file!("vendor/nhsuk-frontend/LICENSE"),
    file!("vendor/nhsuk-frontend/images/favicon.ico"),
    file!("vendor/nhsuk-frontend/images/favicon.svg"),
    file!("vendor/nhsuk-frontend/images/nhsuk-icon-180.png"),
    file!("vendor/nhsuk-frontend/images/nhsuk-icon-arrow-down.svg"),
    file!("vendor/nhsuk-frontend/images/nhsuk-icon-arrow-up-down.svg"),
    file!("vendor/nhsuk-frontend/images/nhsuk-icon-arrow-up.svg"),
    file!("vendor/nhsuk-frontend/images/nhsuk-icon-cross.svg"),
    file!("vendor/nhsuk-frontend/images/nhsuk-icon-mask.svg"),
    file!("css/ensemble.css"),
    file!("js/init.js"),
    file!("js/register.js"),
];

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "text/plain; charset=utf-8",
    }
}

fn hashed_name(path: &str, bytes: &[u8]) -> String {
    let hash = &hex::encode(Sha256::digest(bytes))[..12];
    match path.rsplit_once('.') {
        Some((stem, ext)) if !stem.ends_with('/') => format!("{stem}.{hash}.{ext}"),
        _ => format!("{path}.{hash}"),
    }
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).ok()?;
    let out = enc.finish().ok()?;
    (out.len() < bytes.len()).then_some(out)
}

impl Assets {
    fn build() -> Self {
        let mut by_path = HashMap::new();
        let mut hashed: HashMap<&'static str, String> = HashMap::new();
        // The bundle first: init.js imports it by its hashed URL.
        let mut files: Vec<(&'static str, Vec<u8>)> =
            FILES.iter().map(|(p, b)| (*p, b.to_vec())).collect();
        files.sort_by_key(|(p, _)| *p != "vendor/nhsuk-frontend/nhsuk-frontend.min.js");
        for (rel, mut bytes) in files {
            let plain = format!("/assets/{rel}");
            if rel == "js/init.js"
                && let (Ok(text), Some(bundle)) =
                    (String::from_utf8(bytes.clone()), hashed.get(BUNDLE))
            {
                bytes = text.replace(BUNDLE, bundle).into_bytes();
            }
            let compressible = !rel.ends_with(".png") && !rel.ends_with(".ico");
            let hashed_path = hashed_name(&plain, &bytes);
            let make = |immutable| {
                std::sync::Arc::new(Asset {
                    content_type: content_type(rel),
                    gzip: if compressible {
                        gzip(&bytes).map(Into::into)
                    } else {
                        None
                    },
                    bytes: bytes.clone().into(),
                    immutable,
                })
            };
            by_path.insert(hashed_path.clone(), make(true));
            by_path.insert(plain.clone(), make(false));
            let key: &'static str = Box::leak(plain.into_boxed_str());
            hashed.insert(key, hashed_path);
        }
        Self { by_path, hashed }
    }

    /// The asset at a request path.
    pub fn get(&self, path: &str) -> Option<&std::sync::Arc<Asset>> {
        self.by_path.get(path)
    }

    /// The hashed URL for a plain asset path such as `/assets/css/ensemble.css`.
    pub fn url<'a>(&'a self, plain: &'a str) -> &'a str {
        self.hashed.get(plain).map(String::as_str).unwrap_or(plain)
    }
}

/// The assets, built once.
pub static ASSETS: LazyLock<Assets> = LazyLock::new(Assets::build);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_urls_resolve_and_init_imports_the_hashed_bundle() {
        let css = ASSETS.url("/assets/vendor/nhsuk-frontend/nhsuk-frontend.min.css");
        assert!(css.starts_with("/assets/vendor/nhsuk-frontend/nhsuk-frontend.min."));
        assert!(ASSETS.get(css).unwrap().immutable);
        let init = ASSETS.get(ASSETS.url("/assets/js/init.js")).unwrap();
        let text = String::from_utf8(init.bytes.to_vec()).unwrap();
        assert!(text.contains(ASSETS.url(BUNDLE)), "{text}");
        assert!(ASSETS.get(css).unwrap().gzip.is_some());
    }
}
