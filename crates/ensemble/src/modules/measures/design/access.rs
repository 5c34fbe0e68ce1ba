//! Who may do what with a co-designed instrument version, as types: [`DesignAccess<R>`]
//! with the relations [`Designer`], [`Panel`] and [`DesignerOrPanel`], made only by
//! [`check_version`]. Also the version as the pages show it, and its audit row.

use std::marker::PhantomData;

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::audit;
use crate::db::Tx;
use crate::error::AppError;
use crate::rbac::{Actor, Role};

/// A version in a list.
#[derive(Debug, Clone, Serialize)]
pub struct VersionRow {
    pub instrument_id: String,
    pub version: i64,
    pub name: String,
    pub status: String,
    pub organisation: String,
    pub updated_at: i64,
}

/// One panel member's decision.
#[derive(Debug, Clone, Serialize)]
pub struct PanelRow {
    pub user_id: String,
    pub name: String,
    pub decision: String,
    pub comment: String,
}

/// A version with everything the builder and review pages show.
#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    pub instrument_id: String,
    pub version: i64,
    pub organisation_id: String,
    pub status: String,
    pub definition: Value,
    pub created_by: String,
    pub panel: Vec<PanelRow>,
}

/// Whether the actor designs instruments for `org` (programme manager or co-researcher).
pub(super) fn designer_in(actor: &Actor, org: &str) -> bool {
    actor.has_role_in(org, Role::ProgrammeManager) || actor.has_role_in(org, Role::CoResearcher)
}

/// Organisations where the actor may design instruments.
pub fn design_organisations(actor: &Actor) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = actor
        .memberships
        .iter()
        .filter(|m| matches!(m.2, Role::ProgrammeManager | Role::CoResearcher))
        .map(|m| (m.0.clone(), m.1.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Load one version with its panel, without any check: private to this module, whose
/// functions prove a relation first ([`check_version`]). 404 when there is no such version.
async fn load(tx: &mut Tx, id: &str, version: i64) -> Result<VersionView, AppError> {
    let r = sqlx::query(
        "SELECT organisation_id, status, definition, created_by FROM instrument_versions WHERE instrument_id = $1 AND version = $2",
    )
    .bind(id.to_string())
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let panel = sqlx::query(
        "SELECT p.user_id, u.display_name, p.decision, p.comment FROM instrument_panel p JOIN accounts_user_names u ON u.id = p.user_id \
         WHERE p.instrument_id = $1 AND p.version = $2 ORDER BY u.display_name",
    )
    .bind(id.to_string())
    .bind(version)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|p| {
        Ok(PanelRow {
            user_id: p.try_get("user_id")?,
            name: p.try_get("display_name")?,
            decision: p.try_get("decision")?,
            comment: p.try_get("comment")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(VersionView {
        instrument_id: id.to_string(),
        version,
        organisation_id: r.try_get("organisation_id")?,
        status: r.try_get("status")?,
        definition: serde_json::from_str(&r.try_get::<String, _>("definition")?)
            .unwrap_or(Value::Null),
        created_by: r.try_get("created_by")?,
        panel,
    })
}

/// Write an `instrument_version` audit row for `id@version`.
pub(super) async fn audit_version(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    id: &str,
    version: i64,
    detail: Value,
) -> Result<(), AppError> {
    let entity = format!("{id}@{version}");
    audit::by(
        tx,
        actor,
        action,
        "instrument_version",
        Some(&entity),
        detail,
    )
    .await?;
    Ok(())
}

mod sealed {
    pub trait Sealed {}
}

/// A relationship with a co-designed instrument version as a type, so that a proof can
/// name it. Sealed: the relations are the ones below.
pub trait VersionRelation: sealed::Sealed + Send + Sync + 'static {
    /// Whether the actor may act as this relation on `v`.
    fn holds(actor: &Actor, v: &VersionView) -> bool;
}

/// A programme manager or co-researcher of the organisation the instrument belongs to:
/// edits drafts, sends them to a panel, starts new versions.
pub struct Designer;
/// A member named on this version's panel: approves it or asks for changes.
pub struct Panel;
/// A designer or a panel member: reads the version.
pub struct DesignerOrPanel;

impl sealed::Sealed for Designer {}
impl sealed::Sealed for Panel {}
impl sealed::Sealed for DesignerOrPanel {}

fn on_panel(actor: &Actor, v: &VersionView) -> bool {
    v.panel.iter().any(|p| p.user_id == actor.user_id)
}

impl VersionRelation for Designer {
    fn holds(actor: &Actor, v: &VersionView) -> bool {
        designer_in(actor, &v.organisation_id)
    }
}
impl VersionRelation for Panel {
    fn holds(actor: &Actor, v: &VersionView) -> bool {
        on_panel(actor, v)
    }
}
impl VersionRelation for DesignerOrPanel {
    fn holds(actor: &Actor, v: &VersionView) -> bool {
        designer_in(actor, &v.organisation_id) || on_panel(actor, v)
    }
}

/// Proof that an actor may act on one instrument version as relation `R`, holding the
/// version (with its panel) as read in the caller's transaction. Only [`check_version`]
/// makes one; functions that read or change a version take it.
pub struct DesignAccess<R: VersionRelation> {
    version: VersionView,
    _relation: PhantomData<R>,
}

impl<R: VersionRelation> std::ops::Deref for DesignAccess<R> {
    type Target = VersionView;
    fn deref(&self) -> &VersionView {
        &self.version
    }
}

impl<R: VersionRelation> DesignAccess<R> {
    /// Give up the proof for the version as read.
    pub fn into_version(self) -> VersionView {
        self.version
    }
}

/// What may this actor do with this instrument version? Load it inside the caller's
/// transaction and prove relation `R`: 404 when there is no such version, 403 when the actor
/// does not hold `R`.
pub async fn check_version<R: VersionRelation>(
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
    version: i64,
) -> Result<DesignAccess<R>, AppError> {
    let v = load(tx, id, version).await?;
    if !R::holds(actor, &v) {
        return Err(AppError::Forbidden);
    }
    Ok(DesignAccess {
        version: v,
        _relation: PhantomData,
    })
}
