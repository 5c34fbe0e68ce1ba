//! TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of skew), its
//! QR code rendered as SVG, and recovery codes.

use totp_rs::{Builder, Secret, Totp};

use super::secret::token_hash;

/// Issuer shown in authenticator apps.
pub const ISSUER: &str = "Ensemble";

/// A fresh random secret, base32.
pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

fn totp(secret_b32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_b32).ok()?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account.replace(':', ""))
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// The `otpauth://` URL an authenticator app scans.
pub fn otpauth_url(secret_b32: &str, account: &str) -> Option<String> {
    totp(secret_b32, account)?.to_url().ok()
}

/// The QR code for the URL as an SVG element (no inline styles, so CSP allows it).
pub fn qr_svg(url: &str) -> Option<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Drop the XML prolog so the SVG can sit inside HTML, and give it an accessible name.
    let start = svg.find("<svg")?;
    Some(svg[start..].replacen(
        "<svg",
        "<svg role=\"img\" aria-label=\"QR code for your authenticator app\"",
        1,
    ))
}

/// If `code` is valid now and newer than `last_step`, the step it belongs to (store it so
/// the same code cannot be replayed).
pub fn check(secret_b32: &str, code: &str, last_step: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, "x")?;
    let now = u64::try_from(crate::db::now()).ok()?;
    let step = t.check(&code, now)? as i64;
    match last_step {
        Some(last) if step <= last => None,
        _ => Some(step),
    }
}

/// The current code (for tests and the demo's documentation).
pub fn current_code(secret_b32: &str) -> Option<String> {
    let t = totp(secret_b32, "x")?;
    let now = u64::try_from(crate::db::now()).ok()?;
    Some(t.generate(now).to_string())
}

/// Ten one-time recovery codes (shown once), as (code, hash) pairs.
pub fn recovery_codes() -> Vec<(String, String)> {
    (0..10)
        .map(|_| {
            let raw = super::secret::random_token(8)
                .to_lowercase()
                .replace(['-', '_'], "x");
            let code = format!("{}-{}", &raw[..5], &raw[5..10]);
            let hash = token_hash(&code);
            (code, hash)
        })
        .collect()
}

/// Normalise a typed recovery code before hashing.
pub fn normalise_recovery(code: &str) -> String {
    code.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_code_checks_once_and_not_again() {
        let s = new_secret();
        let code = current_code(&s).unwrap();
        let step = check(&s, &code, None).expect("valid");
        assert_eq!(check(&s, &code, Some(step)), None, "replay refused");
        assert_eq!(check(&s, "12345", None), None);
        assert_eq!(check(&s, "abcdef", None), None);
    }

    #[test]
    fn qr_is_an_svg_with_a_name() {
        let url = otpauth_url(&new_secret(), "a@example.org").unwrap();
        assert!(url.starts_with("otpauth://totp/"));
        let svg = qr_svg(&url).unwrap();
        assert!(svg.starts_with("<svg role=\"img\""));
        assert!(!svg.contains("style="));
    }

    #[test]
    fn recovery_codes_are_distinct() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut c: Vec<_> = codes.iter().map(|c| c.0.clone()).collect();
        c.sort();
        c.dedup();
        assert_eq!(c.len(), 10);
        assert_eq!(codes[0].0.len(), 11);
    }
}
