//! A session's plan and the organisation's reusable plan templates.

use crate::modules::practice::model::SessionStatus;
use serde_json::json;
use sqlx::Row;

use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::practice::model::ACTIVITIES;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

use super::*;

fn check_plan(p: &Plan) -> Vec<FieldError> {
    let mut e = Vec::new();
    if p.aims.trim().is_empty() {
        e.push(FieldError::new("aims", "Enter the aims of the session"));
    }
    if p.musical_activities.is_empty() {
        e.push(FieldError::new(
            "musical_activities",
            "Choose at least one musical activity",
        ));
    }
    if p.musical_activities
        .iter()
        .any(|c| !ACTIVITIES.iter().any(|(k, _)| k == c))
    {
        e.push(FieldError::new(
            "musical_activities",
            "Choose from the list",
        ));
    }
    for (field, value) in [
        ("aims", &p.aims),
        ("adaptations", &p.adaptations),
        ("risks", &p.risks),
        ("materials", &p.materials),
    ] {
        if value.chars().count() > 5000 {
            e.push(FieldError::new(field, "Keep this to 5,000 characters"));
        }
    }
    e
}

/// Save the plan if it is still at `based_on`; `template_name` also keeps it as a template.
pub async fn save_plan(
    state: &AppState,
    actor: &Actor,
    id: &str,
    plan: &Plan,
    based_on: i64,
    template_name: &str,
) -> Result<(), AppError> {
    let e = check_plan(plan);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, id).await?;
    if s.status == SessionStatus::Cancelled {
        return Err(AppError::Conflict("This session was cancelled".into()));
    }
    let next = based_on + 1;
    let n = sqlx::query(
        "UPDATE practice_sessions SET aims = $1, musical_activities = $2, adaptations = $3, risks = $4, materials = $5, \
         plan_version = $6, updated_at = $7 WHERE id = $8 AND plan_version = $9",
    )
    .bind(plan.aims.trim().to_string())
    .bind(plan.musical_activities.join(","))
    .bind(plan.adaptations.trim().to_string())
    .bind(plan.risks.trim().to_string())
    .bind(plan.materials.trim().to_string())
    .bind(next)
    .bind(now())
    .bind(id.to_string())
    .bind(based_on)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AppError::Conflict(
            "Someone else saved this plan while you were editing it".into(),
        ));
    }
    revision(&mut tx, actor, &s, "plan", next, json!(plan)).await?;
    if !template_name.trim().is_empty() {
        sqlx::query(
            "INSERT INTO plan_templates (id, organisation_id, name, aims, musical_activities, adaptations, risks, materials, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(s.organisation_id.clone())
        .bind(template_name.trim().chars().take(200).collect::<String>())
        .bind(plan.aims.trim().to_string())
        .bind(plan.musical_activities.join(","))
        .bind(plan.adaptations.trim().to_string())
        .bind(plan.risks.trim().to_string())
        .bind(plan.materials.trim().to_string())
        .bind(actor.user_id.clone())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    }
    audit_session(
        &mut tx,
        actor,
        "session.plan.save",
        id,
        json!({ "version": next, "template": !template_name.trim().is_empty() }),
    )
    .await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
    Ok(())
}

/// Templates of the actor's organisations: (id, name).
pub async fn templates(state: &AppState, actor: &Actor) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for (org, org_name, role) in &actor.memberships {
        if !matches!(role, Role::Practitioner | Role::ProgrammeManager) {
            continue;
        }
        for r in sqlx::query(
            "SELECT id, name FROM plan_templates WHERE organisation_id = $1 ORDER BY name",
        )
        .bind(org.clone())
        .fetch_all(&state.db.read)
        .await?
        {
            let name: String = r.try_get("name")?;
            out.push((r.try_get("id")?, format!("{name} ({org_name})")));
        }
    }
    Ok(out)
}
