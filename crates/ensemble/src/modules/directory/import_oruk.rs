//! `ensemble directory import-oruk`: read an Open Referral UK 3.0 feed (a live API's
//! `/services`, a `/services` JSON export, a single service, or a folder of such files),
//! check each service against the UK profile's rules, and create or update activities,
//! matching on (source, source id) so that importing the same feed again changes nothing.
//! Every rejected service is reported with the reasons, naming the field.

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::AuditActor;
use crate::error::AppError;
use crate::modules::accounts::service::{self as accounts, OrganisationInput};
use crate::modules::places::{Point, Postcode};
use crate::state::AppState;

use super::model::{
    Cost, Day, Freq, HowToJoin, ValidActivity, ValidLocation, ValidSchedule, parse_date,
    parse_time, parse_url,
};
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

fn is_uuid(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok() && s.len() == 36)
}

fn is_email(s: &str) -> bool {
    crate::modules::accounts::model::Email::parse(s).is_ok() || s.ends_with("@localhost")
}

/// Check one service against the UK profile's rules; every problem is named.
pub fn check_service(s: &Value) -> Vec<String> {
    let mut e = Vec::new();
    let Some(obj) = s.as_object() else {
        return vec!["a service must be a JSON object".into()];
    };
    if !is_uuid(&s["id"]) {
        e.push(format!("id: {} is not a UUID", s["id"]));
    }
    match s.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => {}
        Some(Value::String(_)) => e.push("name: must not be empty".into()),
        Some(other) => e.push(format!("name: must be a string, not {other}")),
        None => e.push("name: is required".into()),
    }
    match s.get("status").and_then(Value::as_str) {
        Some("active" | "inactive" | "defunct" | "temporarily closed") => {}
        Some(other) => e.push(format!(
            "status: \"{other}\" is not one of active, inactive, defunct, temporarily closed"
        )),
        None => e.push("status: is required".into()),
    }
    for key in ["email", "assurer_email"] {
        match obj.get(key) {
            None => {}
            Some(Value::String(m)) if is_email(m) => {}
            Some(other) => e.push(format!("{key}: {other} is not a valid email address")),
        }
    }
    if let Some(u) = obj.get("url")
        && u.as_str().is_none_or(|u| parse_url(u).is_none())
    {
        e.push(format!("url: {u} is not an absolute http(s) URI"));
    }
    for key in ["minimum_age", "maximum_age"] {
        if obj.get(key).is_some_and(|v| !v.is_number()) {
            e.push(format!("{key}: must be a number"));
        }
    }
    if let Some(org) = obj.get("organization") {
        for key in ["id", "name", "description"] {
            if org.get(key).is_none() {
                e.push(format!("organization.{key}: is required"));
            }
        }
        if org.get("id").is_some() && !is_uuid(&org["id"]) {
            e.push(format!("organization.id: {} is not a UUID", org["id"]));
        }
    }
    for list in [
        "schedules",
        "service_at_locations",
        "cost_options",
        "contacts",
        "attributes",
        "languages",
        "service_areas",
        "funding",
    ] {
        match obj.get(list) {
            None => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if !is_uuid(&item["id"]) {
                        e.push(format!("{list}[{i}].id: is required and must be a UUID"));
                    }
                }
            }
            Some(_) => e.push(format!("{list}: must be an array")),
        }
    }
    if let Some(Value::Array(scheds)) = obj.get("schedules") {
        for (i, sc) in scheds.iter().enumerate() {
            if let Some(f) = sc.get("freq").and_then(Value::as_str)
                && f != "WEEKLY"
                && f != "MONTHLY"
            {
                e.push(format!(
                    "schedules[{i}].freq: \"{f}\" is not WEEKLY or MONTHLY"
                ));
            }
        }
    }
    if let Some(Value::Array(sals)) = obj.get("service_at_locations") {
        for (i, sal) in sals.iter().enumerate() {
            if let Some(loc) = sal.get("location") {
                if !is_uuid(&loc["id"]) {
                    e.push(format!(
                        "service_at_locations[{i}].location.id: is required and must be a UUID"
                    ));
                }
                match loc.get("location_type").and_then(Value::as_str) {
                    Some("physical" | "postal" | "virtual") => {}
                    _ => e.push(format!("service_at_locations[{i}].location.location_type: must be physical, postal or virtual")),
                }
            }
        }
    }
    e
}

/// Pull the services out of a JSON document (a page, a list, one service, or a
/// service-at-location); `Err` names what the document is instead.
fn services_in(doc: &Value) -> Result<Vec<Value>, String> {
    if let Some(contents) = doc.get("contents").and_then(Value::as_array) {
        let mut out = Vec::new();
        for c in contents {
            if c.get("service").is_some() && c.get("location_id").is_some() {
                out.push(c["service"].clone());
            } else if c.get("status").is_some()
                || c.get("organization").is_some()
                || c.get("organization_id").is_some()
            {
                out.push(c.clone());
            } else {
                return Err("a page of records that are not services".into());
            }
        }
        return Ok(out);
    }
    if let Some(items) = doc.as_array() {
        return Ok(items.clone());
    }
    if doc.get("service").is_some() && doc.get("location_id").is_some() {
        let mut s = doc["service"].clone();
        if let (Some(obj), Some(loc)) = (s.as_object_mut(), doc.get("location")) {
            obj.entry("service_at_locations")
                .or_insert_with(|| serde_json::json!([{ "id": doc["id"], "location": loc }]));
        }
        return Ok(vec![s]);
    }
    if doc.get("status").is_some()
        || doc.get("organization").is_some()
        || doc.get("service_at_locations").is_some()
    {
        return Ok(vec![doc.clone()]);
    }
    if doc.get("version").is_some() && doc.get("openapi_url").is_some() {
        return Err("an API description (/), not services".into());
    }
    if doc.get("taxonomy_id").is_some() || doc.get("term_uri").is_some() {
        return Err("a taxonomy term, not services".into());
    }
    Err("not a services feed (no contents, no service fields)".into())
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Map our taxonomy from an ORUK attribute's term (by code or name), if it matches.
fn type_code(term: &Value, known: &[(String, String)]) -> Option<String> {
    let candidates = [text(term, "code"), text(term, "name"), text(term, "term")];
    candidates.into_iter().flatten().find_map(|c| {
        known
            .iter()
            .find(|(code, name)| code.eq_ignore_ascii_case(&c) || name.eq_ignore_ascii_case(&c))
            .map(|(code, _)| code.clone())
    })
}

fn to_activity(
    s: &Value,
    org_id: &str,
    known: &[(String, String)],
    warnings: &mut Vec<String>,
) -> (ValidActivity, Vec<ValidLocation>, Vec<ValidSchedule>) {
    let mut types: Vec<String> = s["attributes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| type_code(&x["taxonomy_term"], known))
                .collect()
        })
        .unwrap_or_default();
    types.sort();
    types.dedup();
    if types.is_empty() {
        types.push("other_creative".into());
    }
    let (cost, amount) = match s["cost_options"]
        .as_array()
        .and_then(|c| c.first())
        .and_then(|c| c["amount"].as_f64())
    {
        Some(a) if a > 0.0 => (Cost::Fixed, Some(a)),
        Some(_) => (Cost::Free, None),
        None => (Cost::Free, None),
    };
    let mut locations = Vec::new();
    for (i, sal) in s["service_at_locations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let loc = &sal["location"];
        let addr = loc["addresses"]
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or(Value::Null);
        let raw_pc = text(&addr, "postal_code").unwrap_or_default();
        let Ok(postcode) = Postcode::parse(&raw_pc) else {
            warnings.push(format!("service_at_locations[{i}]: left out, because postal_code \"{raw_pc}\" is not a UK postcode"));
            continue;
        };
        let point = match (loc["latitude"].as_f64(), loc["longitude"].as_f64()) {
            (Some(la), Some(lo))
                if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo) =>
            {
                Some(Point { lat: la, lon: lo })
            }
            (Some(_), Some(_)) => {
                warnings.push(format!("service_at_locations[{i}]: latitude/longitude out of range; position looked up from the postcode instead"));
                None
            }
            _ => None,
        };
        locations.push(ValidLocation {
            name: text(loc, "name").unwrap_or_else(|| "Venue".into()),
            address_1: text(&addr, "address_1").unwrap_or_default(),
            city: text(&addr, "city").unwrap_or_default(),
            postcode,
            point,
        });
    }
    let mut schedules = Vec::new();
    for (i, sc) in s["schedules"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let opens = text(sc, "opens_at").and_then(|t| parse_time(&t));
        let closes = text(sc, "closes_at").and_then(|t| parse_time(&t));
        let (Some(opens_at), Some(closes_at)) = (opens, closes) else {
            warnings.push(format!(
                "schedules[{i}]: left out, because opens_at/closes_at are missing or not times"
            ));
            continue;
        };
        let freq = match text(sc, "freq").as_deref() {
            Some("MONTHLY") => Freq::Monthly,
            Some(_) => Freq::Weekly,
            None => Freq::Once,
        };
        let byday: String = text(sc, "byday")
            .unwrap_or_default()
            .to_uppercase()
            .chars()
            .filter(char::is_ascii)
            .collect();
        let byday_ok = byday
            .split(',')
            .all(|d| Day::from_code(&d.trim()[d.trim().len().saturating_sub(2)..]).is_some())
            && !byday.is_empty();
        if freq != Freq::Once && !byday_ok {
            warnings.push(format!(
                "schedules[{i}]: left out, because byday \"{byday}\" is not a list of days"
            ));
            continue;
        }
        schedules.push(ValidSchedule {
            freq,
            byday: if freq == Freq::Once {
                String::new()
            } else {
                byday
            },
            dtstart: text(sc, "dtstart").and_then(|d| parse_date(&d)),
            valid_from: text(sc, "valid_from").and_then(|d| parse_date(&d)),
            valid_to: text(sc, "valid_to").and_then(|d| parse_date(&d)),
            opens_at,
            closes_at,
            description: text(sc, "description")
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect(),
        });
    }
    let v = ValidActivity {
        organisation_id: org_id.to_string(),
        name: text(s, "name")
            .unwrap_or_default()
            .chars()
            .take(120)
            .collect(),
        description: text(s, "description")
            .unwrap_or_else(|| "No description given by the source directory.".into()),
        first_visit: String::new(),
        eligibility: String::new(),
        minimum_age: s["minimum_age"].as_f64().map(|a| a as i64),
        maximum_age: s["maximum_age"].as_f64().map(|a| a as i64),
        how_to_join: HowToJoin::SelfRefer,
        capacity: None,
        waiting_list: false,
        cost,
        cost_amount: amount,
        bursary: false,
        access_features: Vec::new(),
        languages: Vec::new(),
        online: false,
        online_url: None,
        url: text(s, "url").and_then(|u| parse_url(&u)),
        contact_name: s["contacts"]
            .as_array()
            .and_then(|c| c.first())
            .and_then(|c| text(c, "name")),
        contact_email: text(s, "email"),
        contact_phone: None,
        types,
        location: locations.first().cloned(),
        schedule: schedules.first().cloned(),
        location_id: None,
        schedule_id: None,
    };
    (v, locations, schedules)
}

fn hash(s: &Value) -> String {
    hex::encode(Sha256::digest(s.to_string().as_bytes()))
}

async fn organisation_for(state: &AppState, s: &Value, fallback: &str) -> Result<String, AppError> {
    let name = s["organization"]
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(fallback)
        .to_string();
    if let Some(o) = accounts::find_organisation(state, &name).await? {
        return Ok(o.id);
    }
    let description = text(&s["organization"], "description").unwrap_or_default();
    let website = text(&s["organization"], "website")
        .and_then(|w| parse_url(&w))
        .unwrap_or_default();
    Ok(accounts::create_organisation_as_operator(
        state,
        &OrganisationInput {
            name,
            kind: "community_group".into(),
            description: description.chars().take(2000).collect(),
            website,
            ..Default::default()
        },
    )
    .await?
    .id)
}

/// Import services from parsed documents. `source` identifies the feed (its URL or path).
pub async fn import_documents(
    state: &AppState,
    source: &str,
    docs: Vec<(String, Value)>,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let known: Vec<(String, String)> = super::store::activity_types(&state.db.read)
        .await?
        .into_iter()
        .map(|t| (t.code, t.name))
        .collect();
    let actor = AuditActor {
        user_id: None,
        label: "import".into(),
        request_id: None,
    };
    // A feed may carry the same service more than once (a list item and its full record):
    // keep the fullest copy of each id, so that a repeat import sees the same content.
    let mut items: Vec<(String, Value)> = Vec::new();
    for (where_, doc) in docs {
        let services = match services_in(&doc) {
            Ok(s) => s,
            Err(what) => {
                report.skipped.push((where_, what));
                continue;
            }
        };
        for (i, s) in services.into_iter().enumerate() {
            let label = format!(
                "{where_} item {} ({})",
                i + 1,
                s.get("id").and_then(Value::as_str).unwrap_or("no id")
            );
            let problems = check_service(&s);
            if !problems.is_empty() {
                report.rejected.push((label, problems));
                continue;
            }
            let size = |v: &Value| v.to_string().len();
            match items
                .iter_mut()
                .find(|(_, seen)| seen.get("id").is_some() && seen.get("id") == s.get("id"))
            {
                Some(slot) if size(&s) > size(&slot.1) => *slot = (label, s),
                Some(_) => {}
                None => items.push((label, s)),
            }
        }
    }
    {
        for (_, s) in &items {
            let source_id = s["id"].as_str().unwrap_or_default().to_string();
            let h = hash(s);
            let existing = sqlx::query(
                "SELECT id, source_hash FROM activities WHERE source = $1 AND source_id = $2",
            )
            .bind(source.to_string())
            .bind(source_id.clone())
            .fetch_optional(&state.db.read)
            .await?;
            if let Some(row) = &existing
                && row.try_get::<Option<String>, _>("source_hash")?.as_deref() == Some(h.as_str())
            {
                report.unchanged.push(source_id);
                continue;
            }
            let org_id = organisation_for(state, s, "Imported services").await?;
            let mut notes = Vec::new();
            let (mut v, mut locations, schedules) = to_activity(s, &org_id, &known, &mut notes);
            for loc in locations.iter_mut().filter(|l| l.point.is_none()) {
                loc.point = crate::modules::places::find_postcode(&state.db, &loc.postcode)
                    .await?
                    .map(|p| p.point);
            }
            v.location = locations.first().cloned();
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
                    service::overwrite(&mut tx, &actor, &id, &v).await?;
                    report.updated.push(source_id.clone());
                    id
                }
                None => {
                    let id = service::insert(&mut tx, &actor, &v, Some((source, &source_id)), None)
                        .await?;
                    report.created.push(source_id.clone());
                    id
                }
            };
            for loc in locations.into_iter().skip(1) {
                let extra = ValidActivity {
                    location: Some(loc),
                    schedule: None,
                    ..v.clone()
                };
                service::add_location(&mut tx, &id, &extra).await?;
            }
            for sc in schedules.into_iter().skip(1) {
                let extra = ValidActivity {
                    location: None,
                    schedule: Some(sc),
                    ..v.clone()
                };
                service::add_schedule(&mut tx, &id, &extra).await?;
            }
            sqlx::query("UPDATE activities SET source_hash = $1, status = $2 WHERE id = $3")
                .bind(h)
                .bind(if s["status"] == "active" {
                    "active"
                } else {
                    "archived"
                })
                .bind(id.clone())
                .execute(&mut *tx)
                .await?;
            service::refresh_listing(&mut tx, &id).await?;
            tx.commit().await?;
            report
                .warnings
                .extend(notes.into_iter().map(|n| (source_id.clone(), n)));
        }
    }
    super::cache::of(state).invalidate();
    Ok(report)
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
