//! An organisation's out-of-hours safeguarding route: read and changed by its administrator
//! or programme manager (or a platform administrator), audited.

use serde_json::json;

use super::ev;
use crate::audit;
use crate::db::now;
use crate::error::{AppError, FieldError};
use crate::modules::accounts::store;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// The route as the organisation set it (blank means the default), with its name.
#[derive(Debug, Clone)]
pub struct OutOfHours {
    pub organisation_id: String,
    pub organisation_name: String,
    /// As set; blank when the default applies.
    pub route: String,
}

/// May the actor change this organisation's safeguarding settings?
fn may_manage(actor: &Actor, organisation_id: &str) -> bool {
    actor.has_role(Role::Administrator)
        || actor.has_role_in(organisation_id, Role::ProgrammeManager)
        || actor.has_role_in(organisation_id, Role::Administrator)
}

/// Read the route for the settings page (403 unless the actor may change it).
pub async fn out_of_hours(
    state: &AppState,
    actor: &Actor,
    organisation_id: &str,
) -> Result<OutOfHours, AppError> {
    let org = store::organisation(&state.db.read, organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_manage(actor, organisation_id) {
        return Err(AppError::Forbidden);
    }
    let route = store::out_of_hours_route(&state.db.read, organisation_id)
        .await?
        .unwrap_or_default();
    Ok(OutOfHours {
        organisation_id: org.id,
        organisation_name: org.name,
        route,
    })
}

/// Set the route (blank restores the default): authorised, validated, changed and audited
/// in one transaction.
pub async fn set_out_of_hours(
    state: &AppState,
    actor: &Actor,
    organisation_id: &str,
    route: &str,
) -> Result<(), AppError> {
    let route = route.trim();
    if route.chars().count() > 2_000 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "route",
            "Keep the out-of-hours route to 2,000 characters",
        )]));
    }
    let mut tx = state.db.begin().await?;
    store::organisation(&mut *tx, organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_manage(actor, organisation_id) {
        return Err(AppError::Forbidden);
    }
    sqlx::query("UPDATE organisations SET out_of_hours_route = $1, updated_at = $2 WHERE id = $3")
        .bind(route.to_string())
        .bind(now())
        .bind(organisation_id.to_string())
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        ev(
            "organisation.out_of_hours.update",
            "organisation",
            Some(organisation_id),
            json!({ "default": route.is_empty() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
