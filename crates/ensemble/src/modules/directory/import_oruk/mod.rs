//! `ensemble directory import-oruk`: read an Open Referral UK 3.0 feed (a live API's
//! `/services`, a JSON file holding a page or a list of services or of
//! services-at-locations, one service, one service-at-location, or a folder of such files),
//! check each service against the UK profile's rules (`check`), map it to an activity
//! (`map`), and create or update activities, matching on (source, source id) so that
//! importing the same feed again changes nothing. The feed's ids are kept for the activity,
//! its organisation, venues, venue links and schedules whenever they are free, so an export
//! imported into an empty database exports again with the same ids. Every rejected service
//! is reported with the reasons, naming the field.

mod check;
mod map;

pub use check::check_service;

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::AuditActor;
use crate::error::AppError;
use crate::modules::accounts::service::{self as accounts, OrganisationInput};
use crate::state::AppState;

use super::model::parse_url;
use super::service;

/// The source name recorded on imported activities (matched with the service's UUID).
pub const SOURCE: &str = "oruk";

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// New activities.
    pub created: Vec<String>,
    /// Changed activities.
    pub updated: Vec<String>,
    /// Already up to date.
    pub unchanged: Vec<String>,
    /// Services refused: (where, reasons).
    pub rejected: Vec<(String, Vec<String>)>,
    /// Files or items that are not services: (where, what they are).
    pub skipped: Vec<(String, String)>,
    /// Accepted with parts left out: (service, note).
    pub warnings: Vec<(String, String)>,
}

/// Errors that stop an import.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The source could not be read.
    #[error("{0}: {1}")]
    Read(String, String),
    /// Storage failed.
    #[error(transparent)]
    App(#[from] AppError),
}

fn hash(s: &Value) -> String {
    hex::encode(Sha256::digest(s.to_string().as_bytes()))
}

/// The owning organisation: the one with the feed's organisation id, else the one with its
/// name, else a new community group keeping the feed's id (or `fallback` when none is named).
async fn organisation_for(state: &AppState, s: &Value, fallback: &str) -> Result<String, AppError> {
    let org = &s["organization"];
    let feed_id = map::text(org, "id").or_else(|| map::text(s, "organization_id"));
    if let Some(id) = &feed_id
        && let Some(o) = accounts::find_organisation(state, id).await?
        && o.id == *id
    {
        return Ok(o.id);
    }
    let name = map::text(org, "name").unwrap_or_else(|| fallback.to_string());
    if let Some(o) = accounts::find_organisation(state, &name).await? {
        return Ok(o.id);
    }
    let input = OrganisationInput {
        name,
        kind: "community_group".into(),
        description: map::text(org, "description")
            .unwrap_or_default()
            .chars()
            .take(2000)
            .collect(),
        website: map::text(org, "website")
            .and_then(|w| parse_url(&w))
            .unwrap_or_default(),
        ..Default::default()
    };
    let created = match &feed_id {
        Some(id) => accounts::create_organisation_as_operator_with_id(state, id, &input).await?,
        None => accounts::create_organisation_as_operator(state, &input).await?,
    };
    Ok(created.id)
}

/// The services of the documents, checked, each id once (copies merged); the rest reported.
fn collect(docs: Vec<(String, Value)>, report: &mut ImportReport) -> Vec<Value> {
    let mut items: Vec<Value> = Vec::new();
    for (where_, doc) in docs {
        let services = match map::services_in(&doc) {
            Ok(s) => s,
            Err(what) => {
                report.skipped.push((where_, what));
                continue;
            }
        };
        for (i, s) in services.into_iter().enumerate() {
            let problems = check_service(&s);
            if !problems.is_empty() {
                let id = s.get("id").and_then(Value::as_str).unwrap_or("no id");
                let label = format!("{where_} item {} ({id})", i + 1);
                report.rejected.push((label, problems));
                continue;
            }
            match items.iter_mut().find(|seen| seen.get("id") == s.get("id")) {
                Some(slot) => *slot = map::merge(std::mem::take(slot), s),
                None => items.push(s),
            }
        }
    }
    items
}

/// Import services from parsed documents. `source` identifies the feed (its URL or path).
pub async fn import_documents(
    state: &AppState,
    source: &str,
    docs: Vec<(String, Value)>,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let known: Vec<(String, String, String)> = super::store::activity_types(&state.db.read)
        .await?
        .into_iter()
        .map(|t| (t.id, t.code, t.name))
        .collect();
    for s in collect(docs, &mut report) {
        import_one(state, source, &s, &known, &mut report).await?;
    }
    super::cache::of(state).invalidate();
    Ok(report)
}

/// Create, overwrite or leave alone the activity for one checked service.
async fn import_one(
    state: &AppState,
    source: &str,
    s: &Value,
    known: &map::Known,
    report: &mut ImportReport,
) -> Result<(), AppError> {
    let source_id = s["id"].as_str().unwrap_or_default().to_string();
    let h = hash(s);
    let existing =
        sqlx::query("SELECT id, source_hash FROM activities WHERE source = $1 AND source_id = $2")
            .bind(source.to_string())
            .bind(source_id.clone())
            .fetch_optional(&state.db.read)
            .await?;
    if let Some(row) = &existing
        && row.try_get::<Option<String>, _>("source_hash")?.as_deref() == Some(h.as_str())
    {
        report.unchanged.push(source_id);
        return Ok(());
    }
    let org_id = organisation_for(state, s, "Imported services").await?;
    let mut notes = Vec::new();
    let mut m = map::to_activity(s, &org_id, known, &mut notes);
    for (_, _, loc) in m.locations.iter_mut() {
        crate::modules::directory::venue_areas::place(state, loc).await?;
    }
    let mut tx = state.db.begin().await?;
    let id = match &existing {
        Some(row) => {
            let id: String = row.try_get("id")?;
            // The feed's copy replaces the venues and times wholesale.
            for table in ["activity_locations", "schedules"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE activity_id = $1"
                )))
                .bind(id.clone())
                .execute(&mut *tx)
                .await?;
            }
            service::overwrite(&mut tx, &importer(), &id, &m.activity).await?;
            report.updated.push(source_id.clone());
            id
        }
        None => {
            let at = Some((source, source_id.as_str()));
            let id =
                service::insert_as(&mut tx, &importer(), &source_id, &m.activity, at, None).await?;
            report.created.push(source_id.clone());
            id
        }
    };
    for (link_id, location_id, loc) in &m.locations {
        service::add_location_as(&mut tx, &id, link_id, location_id, loc).await?;
    }
    for (schedule_id, sc) in &m.schedules {
        service::add_schedule_as(&mut tx, &id, schedule_id, sc).await?;
    }
    let status = if s["status"] == "active" {
        "active"
    } else {
        "archived"
    };
    sqlx::query(
        "UPDATE activities SET source_hash = $1, status = $2, updated_at = COALESCE($3, updated_at), \
         last_reviewed_at = $4 WHERE id = $5",
    )
    .bind(h)
    .bind(status)
    .bind(m.updated_at)
    .bind(m.reviewed_at)
    .bind(id.clone())
    .execute(&mut *tx)
    .await?;
    service::refresh_listing(&mut tx, &id).await?;
    tx.commit().await?;
    report
        .warnings
        .extend(notes.into_iter().map(|n| (source_id.clone(), n)));
    Ok(())
}

/// Who imports: recorded as `import` in the audit trail.
fn importer() -> AuditActor {
    AuditActor {
        user_id: None,
        label: "import".into(),
        request_id: None,
    }
}

fn fetch_json(url: &str) -> Result<Value, FeedError> {
    let body = ureq::get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| FeedError::Read(url.into(), e.to_string()))?
        .body_mut()
        .read_to_string()
        .map_err(|e| FeedError::Read(url.into(), e.to_string()))?;
    serde_json::from_str(&body).map_err(|e| FeedError::Read(url.into(), format!("not JSON: {e}")))
}

/// Read the documents at a URL (following `/services` pages and fetching each full service),
/// a file, or every `.json` file in a folder.
pub fn read_source(source: &str) -> Result<Vec<(String, Value)>, FeedError> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let base = source.trim_end_matches('/');
        let list_url = if base.ends_with("/services") {
            base.to_string()
        } else {
            format!("{base}/services")
        };
        let mut docs = Vec::new();
        let mut page = 1;
        loop {
            let sep = if list_url.contains('?') { '&' } else { '?' };
            let doc = fetch_json(&format!("{list_url}{sep}page={page}&per_page=50"))?;
            let ids: Vec<String> = doc["contents"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .filter_map(|s| s["id"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for id in &ids {
                let root = list_url.split('?').next().unwrap_or(&list_url);
                let url = format!("{root}/{id}");
                docs.push((url.clone(), fetch_json(&url)?));
            }
            let last =
                doc["last_page"].as_bool().unwrap_or(true) || ids.is_empty() || page >= 10_000;
            if last {
                break;
            }
            page += 1;
        }
        return Ok(docs);
    }
    let path = Path::new(source);
    let read = |p: &Path| -> Result<(String, Value), FeedError> {
        let shown = p.display().to_string();
        let text = std::fs::read_to_string(p)
            .map_err(|e| FeedError::Read(shown.clone(), e.to_string()))?;
        let v = serde_json::from_str(&text)
            .map_err(|e| FeedError::Read(shown.clone(), format!("not valid JSON: {e}")))?;
        Ok((shown, v))
    };
    if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| FeedError::Read(source.into(), e.to_string()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(FeedError::Read(
                source.into(),
                "a folder with no .json files in it; give a folder of ORUK JSON files, a file or an http(s) URL".into(),
            ));
        }
        return files.iter().map(|p| read(p)).collect();
    }
    if path.is_file() {
        return Ok(vec![read(path)?]);
    }
    Err(FeedError::Read(
        source.into(),
        "no such file, folder or http(s) URL".into(),
    ))
}
