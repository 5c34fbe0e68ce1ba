//! Types for organisations, accounts and memberships, parsed once at the edge.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The kinds of organisation that work together in Ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// NHS trust.
    NhsTrust,
    /// Orchestra, arts or cultural organisation.
    CulturalOrganisation,
    /// Community or voluntary group.
    CommunityGroup,
    /// University or research partner.
    University,
    /// Combined authority or council.
    CombinedAuthorityOrCouncil,
    /// GP practice or primary care network.
    GpPracticeOrPcn,
}

impl OrgKind {
    /// Every kind.
    pub const ALL: [OrgKind; 6] = [
        OrgKind::NhsTrust,
        OrgKind::CulturalOrganisation,
        OrgKind::CommunityGroup,
        OrgKind::University,
        OrgKind::CombinedAuthorityOrCouncil,
        OrgKind::GpPracticeOrPcn,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            OrgKind::NhsTrust => "nhs_trust",
            OrgKind::CulturalOrganisation => "cultural_organisation",
            OrgKind::CommunityGroup => "community_group",
            OrgKind::University => "university",
            OrgKind::CombinedAuthorityOrCouncil => "combined_authority_or_council",
            OrgKind::GpPracticeOrPcn => "gp_practice_or_pcn",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            OrgKind::NhsTrust => "NHS trust",
            OrgKind::CulturalOrganisation => "Cultural organisation",
            OrgKind::CommunityGroup => "Community group",
            OrgKind::University => "University",
            OrgKind::CombinedAuthorityOrCouncil => "Combined authority or council",
            OrgKind::GpPracticeOrPcn => "GP practice or primary care network",
        }
    }

    /// Parse a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// An organisation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    /// UUID.
    pub id: String,
    /// Name, unique regardless of case.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Borough or local authority area.
    pub borough: Option<String>,
    /// NHS ODS code, when it has one.
    pub ods_code: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// What it does.
    pub description: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; archived organisations are hidden.
    pub archived_at: Option<i64>,
}

/// An account as administrators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    /// UUID.
    pub id: String,
    /// Sign-in email.
    pub email: String,
    /// Name shown.
    pub display_name: String,
    /// Unix seconds when disabled.
    pub disabled_at: Option<i64>,
    /// Has a TOTP second factor.
    pub mfa_enabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Locked after failed sign-ins until (Unix seconds).
    pub locked_until: Option<i64>,
}

/// A membership: a role in an organisation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Membership {
    /// UUID.
    pub id: String,
    /// Account.
    pub user_id: String,
    /// Account's name.
    pub user_name: String,
    /// Organisation.
    pub organisation_id: String,
    /// Organisation's name.
    pub organisation_name: String,
    /// Role.
    pub role: crate::rbac::Role,
}

/// A checked email address (trimmed, lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parse, or say what is wrong.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let e = raw.trim().to_lowercase();
        if e.is_empty() {
            return Err("Enter an email address");
        }
        if e.len() > 254 {
            return Err("Email address must be 254 characters or fewer");
        }
        let Some((local, domain)) = e.split_once('@') else {
            return Err("Enter an email address in the correct format, like name@example.org");
        };
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !e
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',');
        if !ok {
            return Err("Enter an email address in the correct format, like name@example.org");
        }
        Ok(Self(e))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parse a display name (1–100 characters).
pub fn parse_name(raw: &str, field: &str, errors: &mut Vec<FieldError>) -> String {
    let n = raw.trim().to_string();
    if n.is_empty() {
        errors.push(FieldError::new(field, "Enter a name"));
    } else if n.chars().count() > 100 {
        errors.push(FieldError::new(
            field,
            "Name must be 100 characters or fewer",
        ));
    } else if n.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "Name must not contain control characters",
        ));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Sam@Example.ORG ").unwrap().as_str(),
            "sam@example.org"
        );
        assert!(Email::parse("").is_err());
        assert!(Email::parse("sam").is_err());
        assert!(Email::parse("sam@localhost").is_err());
        assert!(Email::parse("a b@example.org").is_err());
        assert!(Email::parse("a@@example.org").is_err());
    }

    #[test]
    fn org_kind_codes_round_trip() {
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::from_code(k.code()), Some(k));
        }
    }
}
