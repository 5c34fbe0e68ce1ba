//! Account use cases. Each authorises (a [`Granted`] proof or the actor's own record),
//! validates, changes and audits in one transaction.

mod grants;
mod invitations;
mod organisations;
mod oversight;
mod own_account;
mod safeguarding;
mod signin;
mod users;

pub use grants::*;
pub use invitations::*;
pub use organisations::*;
pub use oversight::*;
pub use own_account::*;
pub use safeguarding::*;
pub use signin::*;
pub use users::*;

use serde_json::json;

use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::{Tx, is_unique_violation, new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Role;

use super::store;

fn ev<'a>(
    action: &'a str,
    entity_type: &'a str,
    entity_id: Option<&'a str>,
    detail: serde_json::Value,
) -> AuditEvent<'a> {
    AuditEvent {
        action,
        entity_type,
        entity_id,
        detail,
    }
}

fn parse_role_and_org(
    role: &str,
    org: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(Role, String)> {
    let r = Role::from_code(role.trim());
    if r.is_none() {
        errors.push(FieldError::new("role", "Choose a role"));
    }
    let o = org.trim().to_string();
    if o.is_empty() {
        errors.push(FieldError::new("organisation_id", "Choose an organisation"));
    }
    r.filter(|_| !o.is_empty()).map(|r| (r, o))
}

async fn insert_membership(
    tx: &mut Tx,
    actor: &AuditActor,
    user_id: &str,
    org_id: &str,
    role: Role,
) -> Result<(), AppError> {
    if store::organisation(&mut **tx, org_id).await?.is_none() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "organisation_id",
            "Choose an organisation from the list",
        )]));
    }
    let id = new_id();
    let r = sqlx::query("INSERT INTO memberships (id, user_id, organisation_id, role, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.clone())
        .bind(user_id.to_string())
        .bind(org_id.to_string())
        .bind(role.code())
        .bind(now())
        .execute(&mut **tx)
        .await;
    match r {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "role",
                "The account already has this role in this organisation",
            )]));
        }
        r => r?,
    };
    audit::record(
        tx,
        actor,
        ev(
            "membership.create",
            "user",
            Some(user_id),
            json!({"organisation_id": org_id, "role": role.code(), "membership_id": id}),
        ),
    )
    .await?;
    Ok(())
}
