//! Which instruments are usable (built-in and co-designed) and their licensed wording overlays.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::audit;
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::measures::definition::{Definition, Overlay, builtin, builtins};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

use super::{PersonMeasures, Relation};

/// A usable instrument version: built in, or co-designed and approved.
pub async fn definition<'e, E>(
    exec: E,
    id: &str,
    version: Option<u32>,
) -> Result<Option<Definition>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if let Some(d) = builtin(id) {
        return Ok((version.is_none() || version == Some(d.version)).then(|| d.clone()));
    }
    let row = match version {
        Some(v) => {
            sqlx::query(
                "SELECT version, definition FROM instrument_versions WHERE instrument_id = $1 AND version = $2 AND status IN ('approved', 'retired')",
            )
            .bind(id.to_string())
            .bind(i64::from(v))
            .fetch_optional(exec)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT version, definition FROM instrument_versions WHERE instrument_id = $1 AND status = 'approved' ORDER BY version DESC LIMIT 1",
            )
            .bind(id.to_string())
            .fetch_optional(exec)
            .await?
        }
    };
    let Some(row) = row else { return Ok(None) };
    // Approved and retired versions never change, so each is parsed (and checked against
    // the schema) once per process.
    type Parsed = std::sync::Mutex<std::collections::HashMap<(String, i64), Definition>>;
    static PARSED: std::sync::OnceLock<Parsed> = std::sync::OnceLock::new();
    let key = (id.to_string(), row.try_get::<i64, _>("version")?);
    let parsed = PARSED.get_or_init(Default::default);
    if let Some(d) = parsed.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(Some(d));
    }
    let text: String = row.try_get("definition")?;
    let d = Definition::parse(&text)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored definition {id}: {e}")))?;
    if let Ok(mut m) = parsed.lock() {
        m.insert(key, d.clone());
    }
    Ok(Some(d))
}

/// An instrument in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InstrumentSummary {
    pub id: String,
    pub version: u32,
    pub name: String,
    pub short_name: String,
    /// `open` or `licensed_wording_not_shipped`.
    pub licence: String,
    pub builtin: bool,
    pub snomed_code: Option<String>,
    pub items: usize,
    /// The organisation that co-designed it (absent for built-ins).
    pub organisation_id: Option<String>,
}

fn summary(d: &Definition, builtin: bool, organisation_id: Option<String>) -> InstrumentSummary {
    InstrumentSummary {
        id: d.id.clone(),
        version: d.version,
        name: d.name.clone(),
        short_name: d.short_name.clone(),
        licence: if d.is_licensed() {
            "licensed_wording_not_shipped".into()
        } else {
            "open".into()
        },
        builtin,
        snomed_code: d.snomed.as_ref().map(|s| s.code.clone()),
        items: d.items.len(),
        organisation_id,
    }
}

/// Built-in instruments and every approved co-designed one (latest approved version).
pub async fn list(state: &AppState) -> Result<Vec<InstrumentSummary>, AppError> {
    let mut out: Vec<InstrumentSummary> =
        builtins().iter().map(|d| summary(d, true, None)).collect();
    let rows = sqlx::query(
        "SELECT v.instrument_id, v.organisation_id, v.definition FROM instrument_versions v \
         WHERE v.status = 'approved' AND v.version = (SELECT MAX(w.version) FROM instrument_versions w \
         WHERE w.instrument_id = v.instrument_id AND w.status = 'approved') ORDER BY v.instrument_id",
    )
    .fetch_all(&state.db.read)
    .await?;
    for r in rows {
        let text: String = r.try_get("definition")?;
        if let Ok(d) = Definition::parse(&text) {
            out.push(summary(&d, false, r.try_get("organisation_id")?));
        }
    }
    Ok(out)
}

/// The current licensed wording that one of the person's organisations (their team, the
/// providers of their referrals) has uploaded for an instrument version.
pub async fn overlay_for<R: Relation>(
    tx: &mut Tx,
    who: &PersonMeasures<R>,
    definition: &Definition,
) -> Result<Option<(String, Overlay)>, AppError> {
    for org in &who.organisations {
        let row = sqlx::query(
            "SELECT id, overlay FROM instrument_overlays WHERE organisation_id = $1 AND instrument_id = $2 \
             AND version = $3 AND replaced_at IS NULL",
        )
        .bind(org.clone())
        .bind(definition.id.clone())
        .bind(i64::from(definition.version))
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(r) = row {
            let text: String = r.try_get("overlay")?;
            if let Ok(o) = Overlay::parse_for(&text, definition) {
                return Ok(Some((r.try_get("id")?, o)));
            }
        }
    }
    Ok(None)
}

/// An overlay as listed for administrators.
#[derive(Debug, Clone, Serialize)]
pub struct OverlayRow {
    pub organisation: String,
    pub instrument: String,
    pub version: i64,
    pub stand_in: bool,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

pub async fn overlays(state: &AppState) -> Result<Vec<OverlayRow>, AppError> {
    let rows = sqlx::query(
        "SELECT o.name AS organisation, w.instrument_id, w.version, w.stand_in, u.display_name, w.uploaded_at \
         FROM instrument_overlays w JOIN accounts_organisation_profiles o ON o.id = w.organisation_id JOIN accounts_user_names u ON u.id = w.uploaded_by \
         WHERE w.replaced_at IS NULL ORDER BY o.name, w.instrument_id",
    )
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OverlayRow {
                organisation: r.try_get("organisation")?,
                instrument: r.try_get("instrument_id")?,
                version: r.try_get("version")?,
                stand_in: r.try_get::<i64, _>("stand_in")? != 0,
                uploaded_by: r.try_get("display_name")?,
                uploaded_at: r.try_get("uploaded_at")?,
            })
        })
        .collect()
}

/// An administrator uploads licensed wording for an organisation that holds the licence.
/// Replaces (and keeps) any earlier upload. Every problem is reported against `overlay`.
pub async fn upload_overlay(
    state: &AppState,
    actor: &Actor,
    organisation_id: &str,
    text: &str,
) -> Result<(), AppError> {
    if !actor.roles().contains(&Role::Administrator) {
        return Err(AppError::Forbidden);
    }
    let instrument = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            v.get("instrument")
                .and_then(|i| i.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let Some(def) = builtin(&instrument).filter(|d| d.is_licensed()) else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "overlay",
            format!(
                "\"instrument\" must name a licensed instrument ({})",
                builtins()
                    .iter()
                    .filter(|d| d.is_licensed())
                    .map(|d| d.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )]));
    };
    let overlay = Overlay::parse_for(text, def).map_err(|e| {
        AppError::Invalid(
            e.0.into_iter()
                .map(|m| FieldError::new("overlay", m))
                .collect(),
        )
    })?;
    let mut tx = state.db.begin().await?;
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM accounts_organisation_profiles WHERE id = $1")
            .bind(organisation_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "organisation_id",
            "Choose the organisation that holds the licence",
        )]));
    }
    let at = now();
    sqlx::query(
        "UPDATE instrument_overlays SET replaced_at = $1 WHERE organisation_id = $2 AND instrument_id = $3 AND version = $4 AND replaced_at IS NULL",
    )
    .bind(at)
    .bind(organisation_id.to_string())
    .bind(def.id.clone())
    .bind(i64::from(def.version))
    .execute(&mut *tx)
    .await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO instrument_overlays (id, instrument_id, version, organisation_id, overlay, stand_in, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.clone())
    .bind(def.id.clone())
    .bind(i64::from(def.version))
    .bind(organisation_id.to_string())
    .bind(serde_json::to_string(&overlay).map_err(anyhow::Error::from)?)
    .bind(i64::from(overlay.stand_in))
    .bind(actor.user_id.clone())
    .bind(at)
    .execute(&mut *tx)
    .await?;
    audit::by(
        &mut tx,
        actor,
        "instrument.overlay.upload",
        "instrument_overlay",
        Some(&id),
        json!({ "instrument": def.key(), "organisation_id": organisation_id, "stand_in": overlay.stand_in }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
