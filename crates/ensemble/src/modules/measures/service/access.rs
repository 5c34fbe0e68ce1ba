//! Who may see and record a person's measures: the care team, the provider of an active
//! referral, or the person themselves.

use sqlx::Row;

use crate::db::Tx;
use crate::error::AppError;
use crate::modules::people::service as people;
use crate::modules::referrals::service as referrals;
use crate::rbac::Actor;

/// How the actor relates to a person, for measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonAccess {
    pub person_id: String,
    pub team_organisation_id: String,
    pub care_team: bool,
    /// Referrals on which the actor is the provider (accepted or pending, still open).
    pub provider_referrals: Vec<String>,
    pub is_person: bool,
    /// Organisations whose licensed wording may be used for this person (their team, and the
    /// provider organisations of their referrals).
    pub organisations: Vec<String>,
}

impl PersonAccess {
    pub fn staff(&self) -> bool {
        self.care_team || !self.provider_referrals.is_empty()
    }
    pub fn any(&self) -> bool {
        self.staff() || self.is_person
    }
}

/// Work out the actor's relationship with a person (404 when there is no such person).
pub async fn person_access(
    tx: &mut Tx,
    actor: &Actor,
    person_id: &str,
) -> Result<PersonAccess, AppError> {
    let row = sqlx::query("SELECT team_organisation_id, user_id FROM people WHERE id = $1")
        .bind(person_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let team: String = row.try_get("team_organisation_id")?;
    let user: Option<String> = row.try_get("user_id")?;
    let mut access = PersonAccess {
        person_id: person_id.to_string(),
        care_team: people::in_care_team(actor, &team),
        provider_referrals: Vec::new(),
        is_person: user.as_deref() == Some(actor.user_id.as_str()),
        organisations: vec![team.clone()],
        team_organisation_id: team,
    };
    for r in referrals::relations_with_person(tx, actor, person_id).await? {
        if r.is_provider {
            access.provider_referrals.push(r.referral_id.clone());
        }
        if let Some(org) = r.activity_organisation_id
            && !access.organisations.contains(&org)
        {
            access.organisations.push(org);
        }
    }
    Ok(access)
}
