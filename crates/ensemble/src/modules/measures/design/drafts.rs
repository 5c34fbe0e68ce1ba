//! Drafting co-designed instruments: the versions a designer sees, starting an instrument,
//! saving a draft and sending it to a panel, and starting the next version.

use serde_json::{Value, json};
use sqlx::Row;

use super::{
    Designer, DesignerOrPanel, DraftInput, QuestionInput, VersionRow, VersionView, audit_version,
    check, check_version, design_organisations, designer_in,
};
use crate::db::now;
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

/// Versions of the organisations the actor designs for.
pub async fn versions(state: &AppState, actor: &Actor) -> Result<Vec<VersionRow>, AppError> {
    let mut out = Vec::new();
    for (org, name) in design_organisations(actor) {
        let rows = sqlx::query(
            "SELECT instrument_id, version, status, definition, updated_at FROM instrument_versions \
             WHERE organisation_id = $1 ORDER BY instrument_id, version DESC",
        )
        .bind(org.clone())
        .fetch_all(&state.db.read)
        .await?;
        for r in rows {
            let d: Value =
                serde_json::from_str(&r.try_get::<String, _>("definition")?).unwrap_or(Value::Null);
            out.push(VersionRow {
                instrument_id: r.try_get("instrument_id")?,
                version: r.try_get("version")?,
                name: d["name"].as_str().unwrap_or_default().to_string(),
                status: r.try_get("status")?,
                organisation: name.clone(),
                updated_at: r.try_get("updated_at")?,
            });
        }
    }
    Ok(out)
}

/// Start a new instrument: a draft version 1 with one empty question.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    organisation_id: &str,
    name: &str,
    short_name: &str,
) -> Result<(String, i64), AppError> {
    let mut errors = Vec::new();
    if !designer_in(actor, organisation_id) {
        errors.push(FieldError::new(
            "organisation_id",
            "Choose an organisation you design instruments for",
        ));
    }
    if name.trim().is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new(
            "name",
            "Enter a name (up to 200 characters)",
        ));
    }
    if short_name.trim().is_empty() || short_name.chars().count() > 40 {
        errors.push(FieldError::new(
            "short_name",
            "Enter a short name (up to 40 characters)",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let slug: String = short_name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let slug: String = slug.chars().take(30).collect();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let id = if slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        format!("{slug}_{suffix}")
    } else {
        format!("i_{slug}_{suffix}")
    };
    let input = DraftInput {
        name: name.trim().to_string(),
        short_name: short_name.trim().to_string(),
        scoring: "none".into(),
        questions: vec![QuestionInput {
            kind: "faces5".into(),
            ..QuestionInput::default()
        }],
        ..DraftInput::default()
    };
    let definition = input.to_definition(&id, 1, &[]);
    let mut tx = state.db.begin().await?;
    let at = now();
    sqlx::query(
        "INSERT INTO instrument_versions (instrument_id, version, organisation_id, status, definition, created_by, created_at, updated_at) \
         VALUES ($1, 1, $2, 'draft', $3, $4, $5, $5)",
    )
    .bind(id.clone())
    .bind(organisation_id.to_string())
    .bind(definition.to_string())
    .bind(actor.user_id.clone())
    .bind(at)
    .execute(&mut *tx)
    .await?;
    audit_version(
        &mut tx,
        actor,
        "instrument.draft.create",
        &id,
        1,
        json!({ "organisation_id": organisation_id }),
    )
    .await?;
    tx.commit().await?;
    Ok((id, 1))
}

/// A version for its designers (members designing for the organisation) or its panel.
pub async fn view(
    state: &AppState,
    actor: &Actor,
    id: &str,
    version: i64,
) -> Result<VersionView, AppError> {
    let mut tx = state.db.begin().await?;
    let v = check_version::<DesignerOrPanel>(&mut tx, actor, id, version).await?;
    tx.commit().await?;
    Ok(v.into_version())
}

/// Members of the organisation who could sit on the panel (everyone but the actor): for the
/// builder page, shown after [`view`] has proved the actor a designer or panel member, and
/// for [`save`]. Private to this module.
pub(in crate::modules::measures) async fn panel_candidates(
    state: &AppState,
    actor: &Actor,
    organisation_id: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.id, u.display_name FROM accounts_member_roles m JOIN accounts_user_names u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 AND u.disabled_at IS NULL AND u.id <> $2 ORDER BY u.display_name",
    )
    .bind(organisation_id.to_string())
    .bind(actor.user_id.clone())
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("display_name")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Save a draft; with `panel`, check it fully and send it to the panel for approval.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    id: &str,
    version: i64,
    input: &DraftInput,
    submit_to: Option<&[String]>,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let v = check_version::<Designer>(&mut tx, actor, id, version).await?;
    if v.status != "draft" {
        return Err(AppError::Conflict(
            "Only a draft can be changed; start a new version instead".into(),
        ));
    }
    let mut changelog: Vec<Value> = v.definition["changelog"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["version"].as_i64() != Some(version))
        .collect();
    let ver = u32::try_from(version).unwrap_or(1);
    if let Some(panel) = submit_to {
        let mut errors = check(input, id, ver).err().unwrap_or_default();
        let members = panel_candidates(state, actor, &v.organisation_id).await?;
        let chosen: Vec<&String> = panel
            .iter()
            .filter(|p| members.iter().any(|(m, _)| m == *p))
            .collect();
        if chosen.len() < 2 {
            errors.push(FieldError::new(
                "panel",
                "Choose at least two people, other than you, to approve it",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        changelog.push(json!({
            "version": version,
            "date": crate::db::uk::today().to_string(),
            "changes": if input.changes.is_empty() { "First version, co-designed." } else { input.changes.as_str() },
        }));
        let definition = input.to_definition(id, ver, &changelog);
        sqlx::query("DELETE FROM instrument_panel WHERE instrument_id = $1 AND version = $2")
            .bind(id.to_string())
            .bind(version)
            .execute(&mut *tx)
            .await?;
        for member in &chosen {
            sqlx::query(
                "INSERT INTO instrument_panel (instrument_id, version, user_id, decision) VALUES ($1, $2, $3, 'pending')",
            )
            .bind(id.to_string())
            .bind(version)
            .bind((*member).clone())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE instrument_versions SET definition = $1, status = 'in_review', submitted_at = $2, updated_at = $2 \
             WHERE instrument_id = $3 AND version = $4",
        )
        .bind(definition.to_string())
        .bind(now())
        .bind(id.to_string())
        .bind(version)
        .execute(&mut *tx)
        .await?;
        audit_version(
            &mut tx,
            actor,
            "instrument.submit",
            id,
            version,
            json!({ "panel": chosen }),
        )
        .await?;
    } else {
        let mut errors = Vec::new();
        if input.name.is_empty() {
            errors.push(FieldError::new("name", "Enter a name for the instrument"));
        }
        if input.short_name.is_empty() {
            errors.push(FieldError::new("short_name", "Enter a short name"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let definition = input.to_definition(id, ver, &changelog);
        sqlx::query(
            "UPDATE instrument_versions SET definition = $1, updated_at = $2 WHERE instrument_id = $3 AND version = $4",
        )
        .bind(definition.to_string())
        .bind(now())
        .bind(id.to_string())
        .bind(version)
        .execute(&mut *tx)
        .await?;
        audit_version(
            &mut tx,
            actor,
            "instrument.draft.save",
            id,
            version,
            json!({ "questions": input.questions.len() }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Start the next version as a draft copy of this approved one.
pub async fn new_version(
    state: &AppState,
    actor: &Actor,
    id: &str,
    version: i64,
) -> Result<i64, AppError> {
    let mut tx = state.db.begin().await?;
    let v = check_version::<Designer>(&mut tx, actor, id, version).await?;
    if v.status != "approved" {
        return Err(AppError::Conflict(
            "Only an approved version can be revised".into(),
        ));
    }
    let latest: i64 =
        sqlx::query_scalar("SELECT MAX(version) FROM instrument_versions WHERE instrument_id = $1")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await?;
    let next = latest + 1;
    let mut d = v.definition.clone();
    d["version"] = json!(next);
    let at = now();
    sqlx::query(
        "INSERT INTO instrument_versions (instrument_id, version, organisation_id, status, definition, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $6)",
    )
    .bind(id.to_string())
    .bind(next)
    .bind(v.organisation_id.clone())
    .bind(d.to_string())
    .bind(actor.user_id.clone())
    .bind(at)
    .execute(&mut *tx)
    .await?;
    audit_version(
        &mut tx,
        actor,
        "instrument.draft.create",
        id,
        next,
        json!({ "from_version": version }),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}
