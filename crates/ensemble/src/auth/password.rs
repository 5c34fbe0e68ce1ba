//! Passwords: argon2id hashing and the NCSC-style password rules (length and a check against
//! commonly used passwords; no composition rules, no forced expiry).

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::HashCost;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;
/// Longest password accepted (long passphrases are welcome; this only bounds the work).
pub const MAX_LENGTH: usize = 256;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Why a new password was refused. Messages are shown to the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    /// Too short.
    #[error(
        "Password must be {MIN_LENGTH} characters or more. Three random words make a strong, memorable password."
    )]
    TooShort,
    /// Too long.
    #[error("Password must be {MAX_LENGTH} characters or fewer")]
    TooLong,
    /// On the list of commonly used passwords.
    #[error(
        "This password is too common and easy to guess. Choose a different one, such as three random words."
    )]
    Common,
    /// Contains the email address or name.
    #[error("Password must not contain your email address or name")]
    Personal,
}

/// Check a new password against the rules.
pub fn check_rules(password: &str, personal: &[&str]) -> Result<(), PasswordRuleError> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(PasswordRuleError::TooShort);
    }
    if len > MAX_LENGTH {
        return Err(PasswordRuleError::TooLong);
    }
    let lower = password.to_lowercase();
    let squashed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    if COMMON.contains(lower.as_str()) || COMMON.contains(squashed.as_str()) {
        return Err(PasswordRuleError::Common);
    }
    for p in personal {
        let p = p.trim().to_lowercase();
        let local = p.split('@').next().unwrap_or("").to_string();
        if (local.len() >= 4 && lower.contains(&local)) || (p.len() >= 4 && lower.contains(&p)) {
            return Err(PasswordRuleError::Personal);
        }
    }
    Ok(())
}

fn hasher(cost: HashCost) -> Argon2<'static> {
    let params = match cost {
        HashCost::Standard => Params::new(19 * 1024, 2, 1, None),
        HashCost::Fast => Params::new(Params::MIN_M_COST, 1, 1, None),
    };
    // The parameters above are constants inside argon2's valid ranges.
    let params = params.unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a password with argon2id and a random salt, in PHC string form.
pub fn hash(password: &str, cost: HashCost) -> anyhow::Result<String> {
    let hash = hasher(cost)
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// Does the password match the stored PHC hash? Parameters come from the hash itself.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = argon2::password_hash::phc::PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash to verify against when the account does not exist, so that timing does not reveal
/// which email addresses have accounts.
pub static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash("not a real password at all", HashCost::Standard).unwrap_or_default());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash("correct horse battery", HashCost::Fast).unwrap();
        let b = hash("correct horse battery", HashCost::Fast).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse battery!", &a));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn rules_follow_ncsc_length_and_deny_list_without_composition() {
        assert_eq!(check_rules("short", &[]), Err(PasswordRuleError::TooShort));
        assert_eq!(
            check_rules("password123", &[]),
            Err(PasswordRuleError::Common)
        );
        assert_eq!(
            check_rules(&"a".repeat(300), &[]),
            Err(PasswordRuleError::TooLong)
        );
        // All lower case, no digits or symbols: fine, because it is long and uncommon.
        assert_eq!(check_rules("kettle orbit marmalade", &[]), Ok(()));
        assert_eq!(
            check_rules("sam.jones-kettle", &["sam.jones@example.org"]),
            Err(PasswordRuleError::Personal)
        );
    }

    #[test]
    fn the_common_password_list_is_loaded() {
        assert!(
            COMMON.len() > 1000,
            "only {} common passwords",
            COMMON.len()
        );
    }
}
