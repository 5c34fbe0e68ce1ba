//! CSRF tokens: a keyed hash (HMAC-SHA256 with the installation's secret) of the value that
//! binds a form to its visitor — the session token when signed in, otherwise a random
//! pre-session cookie. Nothing is stored server-side; a POST without the matching token is
//! refused with a 403 page by `web::middleware::csrf`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::secret::constant_time_eq;

/// Name of the hidden form field.
pub const FIELD: &str = "csrf_token";
/// Cookie that binds anonymous visitors' forms.
pub const PRE_SESSION_COOKIE: &str = "ensemble_csrf";

/// The token for forms bound to `binding`.
pub fn token_for(secret: &[u8], binding: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(b"csrf|");
    mac.update(binding.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Does `submitted` match the token for `binding`?
pub fn verify(secret: &[u8], binding: &str, submitted: &str) -> bool {
    !binding.is_empty()
        && !submitted.is_empty()
        && constant_time_eq(&token_for(secret, binding), submitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_the_visitor_and_the_secret() {
        let t = token_for(b"secret", "session-a");
        assert!(verify(b"secret", "session-a", &t));
        assert!(!verify(b"secret", "session-b", &t));
        assert!(!verify(b"other", "session-a", &t));
        assert!(!verify(b"secret", "", &token_for(b"secret", "")));
        assert!(!verify(b"secret", "session-a", ""));
    }
}
