//! Authentication: passwords, sessions, TOTP second factor, CSRF tokens, sign-in rate
//! limits and personal access tokens' secrets.

pub mod csrf;
pub mod password;
pub mod ratelimit;
pub mod secret;
pub mod session;
pub mod totp;
