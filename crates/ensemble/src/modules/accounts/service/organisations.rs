//! Organisations: validating, creating, updating and listing them and their members.

use serde_json::json;

use crate::audit::{self, AuditActor};
use crate::db::{is_unique_violation, new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::perm::{ManageOrganisations, ViewOrganisationMembers};
use crate::rbac::{Granted, Role};
use crate::state::AppState;

use crate::modules::accounts::model::{Membership, OrgKind, Organisation};
use crate::modules::accounts::store;

use super::*;

// ---------------------------------------------------------------- organisations

/// Input for creating or editing an organisation.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OrganisationInput {
    /// Name.
    pub name: String,
    /// Kind code (see `OrgKind`).
    pub kind: String,
    /// Borough.
    pub borough: String,
    /// NHS ODS code.
    pub ods_code: String,
    /// Website (https://…).
    pub website: String,
    /// What it does.
    pub description: String,
}

struct ValidOrg {
    name: String,
    kind: OrgKind,
    borough: Option<String>,
    ods_code: Option<String>,
    website: Option<String>,
    description: String,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn validate_org(input: &OrganisationInput) -> Result<ValidOrg, AppError> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.push(FieldError::new("name", "Enter the organisation's name"));
    } else if name.chars().count() > 200 {
        errors.push(FieldError::new(
            "name",
            "Name must be 200 characters or fewer",
        ));
    }
    let kind = OrgKind::from_code(input.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            "Choose what kind of organisation this is",
        ));
    }
    let ods = opt(&input.ods_code).map(|s| s.to_uppercase());
    if let Some(o) = &ods
        && (o.len() > 10 || !o.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        errors.push(FieldError::new(
            "ods_code",
            "ODS code must be up to 10 letters and numbers, like RW4",
        ));
    }
    let website = opt(&input.website);
    if let Some(w) = &website
        && (!(w.starts_with("https://") || w.starts_with("http://"))
            || w.len() > 300
            || w.contains(char::is_whitespace))
    {
        errors.push(FieldError::new(
            "website",
            "Website must be a full address starting with https://",
        ));
    }
    if input.description.chars().count() > 2000 {
        errors.push(FieldError::new(
            "description",
            "Description must be 2,000 characters or fewer",
        ));
    }
    if input.borough.chars().count() > 100 {
        errors.push(FieldError::new(
            "borough",
            "Borough must be 100 characters or fewer",
        ));
    }
    match (errors.is_empty(), kind) {
        (true, Some(kind)) => Ok(ValidOrg {
            name,
            kind,
            borough: opt(&input.borough),
            ods_code: ods,
            website,
            description: input.description.trim().to_string(),
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

fn name_taken() -> AppError {
    AppError::Invalid(vec![FieldError::new(
        "name",
        "An organisation with this name already exists",
    )])
}

/// Create an organisation.
pub async fn create_organisation(
    state: &AppState,
    g: &Granted<ManageOrganisations>,
    input: &OrganisationInput,
) -> Result<Organisation, AppError> {
    let v = validate_org(input)?;
    create_organisation_unchecked(state, &g.actor().audit(), v).await
}

async fn create_organisation_unchecked(
    state: &AppState,
    actor: &AuditActor,
    v: ValidOrg,
) -> Result<Organisation, AppError> {
    create_organisation_with_id(state, actor, new_id(), v).await
}

async fn create_organisation_with_id(
    state: &AppState,
    actor: &AuditActor,
    id: String,
    v: ValidOrg,
) -> Result<Organisation, AppError> {
    let t = now();
    let mut tx = state.db.begin().await?;
    let r = sqlx::query(
        "INSERT INTO organisations (id, name, kind, borough, ods_code, website, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id.clone())
    .bind(v.name.clone())
    .bind(v.kind.code())
    .bind(v.borough)
    .bind(v.ods_code)
    .bind(v.website)
    .bind(v.description)
    .bind(t)
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => return Err(name_taken()),
        r => r?,
    };
    audit::record(
        &mut tx,
        actor,
        ev(
            "organisation.create",
            "organisation",
            Some(&id),
            json!({"name": v.name, "kind": v.kind.code()}),
        ),
    )
    .await?;
    let org = store::organisation(&mut *tx, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(org)
}

/// Create an organisation from the command line or the demo loader.
pub async fn create_organisation_as_operator(
    state: &AppState,
    input: &OrganisationInput,
) -> Result<Organisation, AppError> {
    let v = validate_org(input)?;
    create_organisation_unchecked(state, &AuditActor::cli(), v).await
}

/// Create an organisation from the command line keeping an id given elsewhere (the Open
/// Referral UK importer keeps a feed's organisation id), or a new id when that one is taken.
pub async fn create_organisation_as_operator_with_id(
    state: &AppState,
    id: &str,
    input: &OrganisationInput,
) -> Result<Organisation, AppError> {
    let v = validate_org(input)?;
    let taken = store::organisation(&state.db.read, id).await?.is_some();
    let id = if taken || uuid::Uuid::parse_str(id).is_err() {
        new_id()
    } else {
        id.to_string()
    };
    create_organisation_with_id(state, &AuditActor::cli(), id, v).await
}

/// Edit an organisation.
pub async fn update_organisation(
    state: &AppState,
    g: &Granted<ManageOrganisations>,
    id: &str,
    input: &OrganisationInput,
    archived: bool,
) -> Result<Organisation, AppError> {
    let v = validate_org(input)?;
    let mut tx = state.db.begin().await?;
    let before = store::organisation(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let t = now();
    let archived_at = match (archived, before.archived_at) {
        (true, Some(a)) => Some(a),
        (true, None) => Some(t),
        (false, _) => None,
    };
    let r = sqlx::query(
        "UPDATE organisations SET name = $1, kind = $2, borough = $3, ods_code = $4, website = $5, \
         description = $6, updated_at = $7, archived_at = $8 WHERE id = $9",
    )
    .bind(v.name.clone())
    .bind(v.kind.code())
    .bind(v.borough)
    .bind(v.ods_code)
    .bind(v.website)
    .bind(v.description)
    .bind(t)
    .bind(archived_at)
    .bind(id.to_string())
    .execute(&mut *tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => return Err(name_taken()),
        r => r?,
    };
    crate::modules::directory::service::refresh_organisation(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &g.actor().audit(),
        ev(
            "organisation.update",
            "organisation",
            Some(id),
            json!({"name": v.name, "archived": archived}),
        ),
    )
    .await?;
    let org = store::organisation(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    crate::modules::directory::forget_cached(state);
    Ok(org)
}

/// Organisations visible to staff.
pub async fn list_organisations(
    state: &AppState,
    include_archived: bool,
) -> Result<Vec<Organisation>, AppError> {
    Ok(store::organisations(&state.db.read, include_archived).await?)
}

/// One organisation.
pub async fn get_organisation(state: &AppState, id: &str) -> Result<Organisation, AppError> {
    store::organisation(&state.db.read, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Members of an organisation: administrators, or programme managers of that organisation
/// (relationship rule). The read is audited.
pub async fn organisation_members(
    state: &AppState,
    g: &Granted<ViewOrganisationMembers>,
    org_id: &str,
) -> Result<Vec<Membership>, AppError> {
    let actor = g.actor();
    if !(actor.has_role(Role::Administrator) || actor.has_role_in(org_id, Role::ProgrammeManager)) {
        return Err(AppError::Forbidden);
    }
    let mut tx = state.db.begin().await?;
    let members = store::memberships(&mut *tx, None, Some(org_id)).await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        ev(
            "membership.read",
            "organisation",
            Some(org_id),
            json!({"rows": members.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(members)
}

/// Find an organisation by exact name (case-insensitive) or id.
pub async fn find_organisation(
    state: &AppState,
    name_or_id: &str,
) -> Result<Option<Organisation>, AppError> {
    let all = store::organisations(&state.db.read, true).await?;
    Ok(all
        .into_iter()
        .find(|o| o.id == name_or_id || o.name.eq_ignore_ascii_case(name_or_id.trim())))
}
