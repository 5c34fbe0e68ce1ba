//! An activity's measurement plan: who may manage it ([`PlanAccess`]), its rules, adding
//! and removing them.

use serde_json::json;
use sqlx::Row;

use super::{Anchor, Rule, Timepoint};
use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::directory::service::can_manage;
use crate::rbac::Actor;
use crate::state::AppState;

fn rule_from(r: &sqlx::any::AnyRow) -> Result<Rule, sqlx::Error> {
    Ok(Rule {
        id: r.try_get("id")?,
        instrument_id: r.try_get("instrument_id")?,
        instrument_version: r.try_get("instrument_version")?,
        core: r.try_get::<i64, _>("core")? != 0,
        timepoint: Timepoint::from_code(&r.try_get::<String, _>("timepoint")?)
            .unwrap_or(Timepoint::Baseline),
        anchor: Anchor::from_code(&r.try_get::<String, _>("anchor")?)
            .unwrap_or(Anchor::FirstContact),
        weeks: r.try_get("weeks")?,
        window_days: r.try_get("window_days")?,
    })
}

/// The measurement plan of an activity, without any check: private to this module (the due
/// lists read every plan; pages read one through [`PlanAccess`]).
pub(super) async fn rules<'e, E>(exec: E, activity_id: &str) -> Result<Vec<Rule>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT id, instrument_id, instrument_version, core, timepoint, anchor, weeks, window_days FROM measure_schedules \
         WHERE activity_id = $1 ORDER BY core DESC, instrument_id, timepoint, weeks",
    )
    .bind(activity_id.to_string())
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(rule_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::from)
}

/// The plan form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RuleInput {
    pub instrument: String,
    pub timepoint: String,
    pub anchor: String,
    pub weeks: String,
    pub window_days: String,
    pub core: String,
}

/// Proof that the actor may manage an activity's measurement plan and see its programme
/// results: `directory::service::can_manage` on the organisation running the activity (its
/// programme managers, and administrators). Only [`check_plan`] makes one; functions that
/// read or change a plan take it.
#[derive(Debug)]
pub struct PlanAccess {
    activity_id: String,
    organisation_id: String,
    name: String,
}

impl PlanAccess {
    /// The activity.
    pub fn activity_id(&self) -> &str {
        &self.activity_id
    }
    /// The organisation running it.
    pub fn organisation_id(&self) -> &str {
        &self.organisation_id
    }
    /// The activity's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// May this actor manage this activity's measurement plan? The activity's owner comes from
/// the directory's one loader (`directory::service::owner`): 404 when there is no such
/// activity, 403 when the actor may not manage its organisation.
pub async fn check_plan(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
) -> Result<PlanAccess, AppError> {
    let (organisation_id, name) =
        crate::modules::directory::service::owner(state, activity_id).await?;
    if !can_manage(actor, &organisation_id) {
        return Err(AppError::Forbidden);
    }
    Ok(PlanAccess {
        activity_id: activity_id.to_string(),
        organisation_id,
        name,
    })
}

/// The rules of the plan a proof names.
pub async fn rules_of(state: &AppState, plan: &PlanAccess) -> Result<Vec<Rule>, AppError> {
    rules(&state.db.read, &plan.activity_id).await
}

/// The activity's name and plan, for its programme managers.
pub async fn plan(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
) -> Result<(String, Vec<Rule>), AppError> {
    let plan = check_plan(state, actor, activity_id).await?;
    let rules = rules_of(state, &plan).await?;
    Ok((plan.name, rules))
}

/// Add a rule to an activity's plan (programme managers of the organisation running it).
pub async fn add(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
    f: &RuleInput,
) -> Result<(), AppError> {
    let plan = check_plan(state, actor, activity_id).await?;
    let mut errors = Vec::new();
    let def =
        crate::modules::measures::service::definition(&state.db.read, &f.instrument, None).await?;
    if def.is_none() {
        errors.push(FieldError::new("instrument", "Choose an instrument"));
    }
    let timepoint = Timepoint::from_code(&f.timepoint);
    if timepoint.is_none() {
        errors.push(FieldError::new("timepoint", "Choose when it is due"));
    }
    let anchor = Anchor::from_code(&f.anchor).unwrap_or(Anchor::FirstContact);
    let weeks = match (timepoint, f.weeks.trim()) {
        (Some(Timepoint::Repeat | Timepoint::FollowUp), w) => match w.parse::<i64>() {
            Ok(n) if (1..=104).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "weeks",
                    "Enter a whole number of weeks from 1 to 104",
                ));
                0
            }
        },
        _ => 0,
    };
    let window_days = if f.window_days.trim().is_empty() {
        14
    } else {
        match f.window_days.trim().parse::<i64>() {
            Ok(n) if (0..=90).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "window_days",
                    "Enter a whole number of days from 0 to 90",
                ));
                14
            }
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (Some(def), Some(timepoint)) = (def, timepoint) else {
        return Err(AppError::Invalid(vec![]));
    };
    let mut tx = state.db.begin().await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO measure_schedules (id, activity_id, instrument_id, instrument_version, core, timepoint, anchor, weeks, window_days, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id.clone())
    .bind(plan.activity_id.clone())
    .bind(def.id.clone())
    .bind(i64::from(def.version))
    .bind(i64::from(f.core == "yes"))
    .bind(timepoint.code())
    .bind(anchor.code())
    .bind(weeks)
    .bind(window_days)
    .bind(actor.user_id.clone())
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::by(
        &mut tx,
        actor,
        "measure.schedule.add",
        "activity",
        Some(plan.activity_id()),
        json!({ "schedule_id": id, "instrument": def.key(), "timepoint": timepoint.code(), "weeks": weeks, "core": f.core == "yes" }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remove a rule (answers already given are kept).
pub async fn remove(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
    schedule_id: &str,
) -> Result<(), AppError> {
    let plan = check_plan(state, actor, activity_id).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE measure_responses SET schedule_id = NULL WHERE schedule_id = $1")
        .bind(schedule_id.to_string())
        .execute(&mut *tx)
        .await?;
    let n = sqlx::query("DELETE FROM measure_schedules WHERE id = $1 AND activity_id = $2")
        .bind(schedule_id.to_string())
        .bind(plan.activity_id.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::by(
        &mut tx,
        actor,
        "measure.schedule.remove",
        "activity",
        Some(plan.activity_id()),
        json!({ "schedule_id": schedule_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
