//! Co-designed instruments: programme teams and co-researchers draft a check-in or creative
//! format in a builder; a named panel of at least two other members of the organisation
//! approves it before use; every version is kept, and responses record the version they were
//! collected with. A new version starts as a copy of the last approved one.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use super::definition::Definition;
use crate::audit::{self, AuditEvent};
use crate::db::{Tx, now};
use crate::error::{AppError, FieldError};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// Answer types offered by the builder, each a fixed scale.
pub const KINDS: &[(&str, &str)] = &[
    (
        "zero_to_ten",
        "A number from 0 (not at all) to 10 (completely)",
    ),
    ("agree5", "Strongly disagree … strongly agree (5 options)"),
    (
        "faces5",
        "Faces from very low to very good (5 options, with words)",
    ),
    ("yes_no", "Yes or no"),
    ("free_text", "Their own words"),
];

/// How answers become scores.
pub const SCORING: &[(&str, &str)] = &[
    ("sum", "Add up the number answers"),
    ("mean", "Average of the number answers"),
    ("separate", "Report each number answer separately"),
    ("none", "No score (a conversation prompt)"),
];

fn scale(kind: &str) -> Value {
    match kind {
        "zero_to_ten" => {
            json!({"kind": "numeric", "min": 0, "max": 10, "step": 1, "min_label": "Not at all", "max_label": "Completely"})
        }
        "agree5" => json!({"kind": "labelled", "options": [
            {"value": 1, "label": "Strongly disagree"}, {"value": 2, "label": "Disagree"},
            {"value": 3, "label": "Neither agree nor disagree"}, {"value": 4, "label": "Agree"},
            {"value": 5, "label": "Strongly agree"}]}),
        "faces5" => json!({"kind": "faces", "options": [
            {"value": 1, "label": "Very low", "face": "😞"}, {"value": 2, "label": "Low", "face": "😟"},
            {"value": 3, "label": "Okay", "face": "😐"}, {"value": 4, "label": "Good", "face": "😊"},
            {"value": 5, "label": "Very good", "face": "😄"}]}),
        "yes_no" => json!({"kind": "labelled", "options": [
            {"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}]}),
        _ => json!({"kind": "free_text", "max_length": 1000}),
    }
}

/// One question in the builder.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct QuestionInput {
    pub text: String,
    pub easy_read: String,
    pub kind: String,
    pub reverse: bool,
}

/// The builder form.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DraftInput {
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub instructions: String,
    pub easy_read_instructions: String,
    pub scoring: String,
    pub meaningful_change: String,
    pub changes: String,
    pub questions: Vec<QuestionInput>,
}

impl DraftInput {
    /// Read the builder's fields (`q_text_0`, `q_kind_0`, …).
    pub fn from_form(form: &[(String, String)]) -> DraftInput {
        let get = |k: &str| {
            form.iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let count = form
            .iter()
            .filter_map(|(k, _)| k.strip_prefix("q_kind_")?.parse::<usize>().ok())
            .map(|i| i + 1)
            .max()
            .unwrap_or(0);
        DraftInput {
            name: get("name"),
            short_name: get("short_name"),
            description: get("description"),
            instructions: get("instructions"),
            easy_read_instructions: get("easy_read_instructions"),
            scoring: get("scoring"),
            meaningful_change: get("meaningful_change"),
            changes: get("changes"),
            questions: (0..count)
                .map(|i| QuestionInput {
                    text: get(&format!("q_text_{i}")),
                    easy_read: get(&format!("q_easy_{i}")),
                    kind: get(&format!("q_kind_{i}")),
                    reverse: get(&format!("q_reverse_{i}")) == "yes",
                })
                .collect(),
        }
    }

    /// Back from a stored definition.
    pub fn from_definition(d: &Value) -> DraftInput {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let scores = d["scores"].as_array().cloned().unwrap_or_default();
        let scoring = match scores.first().and_then(|s| s["method"].as_str()) {
            None => "none",
            Some("item") => "separate",
            Some("mean") => "mean",
            Some(_) => "sum",
        };
        DraftInput {
            name: s(&d["name"]),
            short_name: s(&d["short_name"]),
            description: s(&d["description"]),
            instructions: s(&d["instructions"]),
            easy_read_instructions: s(&d["easy_read_instructions"]),
            scoring: scoring.into(),
            meaningful_change: scores
                .first()
                .and_then(|s| s["meaningful_change"].as_f64())
                .map(super::definition::num)
                .unwrap_or_default(),
            changes: String::new(),
            questions: d["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|i| QuestionInput {
                    text: s(&i["text"]),
                    easy_read: s(&i["easy_read"]),
                    kind: s(&i["scale"]),
                    reverse: i["reverse"].as_bool().unwrap_or(false),
                })
                .collect(),
        }
    }

    /// The definition JSON (not yet checked).
    pub fn to_definition(&self, id: &str, version: u32, changelog: &[Value]) -> Value {
        let mut scales = serde_json::Map::new();
        let mut items = Vec::new();
        for (i, q) in self.questions.iter().enumerate() {
            let kind = if KINDS.iter().any(|(k, _)| *k == q.kind) {
                q.kind.as_str()
            } else {
                "zero_to_ten"
            };
            scales.insert(kind.to_string(), scale(kind));
            let mut item = json!({ "id": format!("q{}", i + 1), "scale": kind, "text": q.text });
            if !q.easy_read.is_empty() {
                item["easy_read"] = json!(q.easy_read);
            }
            if q.reverse && kind != "free_text" {
                item["reverse"] = json!(true);
            }
            items.push(item);
        }
        let numeric: Vec<(String, String)> = self
            .questions
            .iter()
            .enumerate()
            .filter(|(_, q)| q.kind != "free_text")
            .map(|(i, q)| (format!("q{}", i + 1), q.text.chars().take(60).collect()))
            .collect();
        let change = self
            .meaningful_change
            .parse::<f64>()
            .ok()
            .filter(|c| *c > 0.0);
        let mut scores: Vec<Value> = match self.scoring.as_str() {
            "none" => vec![],
            "separate" => numeric
                .iter()
                .map(|(id, label)| json!({ "id": id, "label": if label.is_empty() { id.clone() } else { label.clone() }, "method": "item", "items": [id] }))
                .collect(),
            method => vec![json!({
                "id": "total",
                "label": if method == "mean" { "Average" } else { "Total" },
                "method": if method == "mean" { "mean" } else { "sum" },
            })],
        };
        if let (Some(c), Some(first)) = (change, scores.first_mut()) {
            first["meaningful_change"] = json!(c);
        }
        let mut d = json!({
            "id": id,
            "version": version,
            "name": self.name,
            "short_name": self.short_name,
            "licence": { "kind": "open", "holder": "Co-designed in Ensemble", "notes": "Co-designed with participants and programme teams; approved by a named panel." },
            "scales": scales,
            "items": items,
            "scores": scores,
            "changelog": changelog,
        });
        for (key, value) in [
            ("description", &self.description),
            ("instructions", &self.instructions),
            ("easy_read_instructions", &self.easy_read_instructions),
        ] {
            if !value.is_empty() {
                d[key] = json!(value);
            }
        }
        d
    }
}

/// Map a definition problem (`items[2].text: …`) to the builder's field.
fn field_of(problem: &str) -> FieldError {
    let (path, message) = problem.split_once(": ").unwrap_or(("", problem));
    let field = if let Some(rest) = path.strip_prefix("items[") {
        let index = rest.split(']').next().unwrap_or("0");
        if path.ends_with(".easy_read") {
            format!("q_easy_{index}")
        } else {
            format!("q_text_{index}")
        }
    } else if path.starts_with("scores") {
        "scoring".to_string()
    } else {
        match path {
            "name" | "short_name" | "description" | "instructions" | "easy_read_instructions" => {
                path.to_string()
            }
            _ => "name".to_string(),
        }
    };
    FieldError::new(field, format!("{path}: {message}"))
}

/// Check a draft as the builder's form: the builder's own rules, then the definition's.
pub fn check(input: &DraftInput, id: &str, version: u32) -> Result<Definition, Vec<FieldError>> {
    let mut errors = Vec::new();
    if input.name.is_empty() {
        errors.push(FieldError::new("name", "Enter a name for the instrument"));
    }
    if input.short_name.is_empty() {
        errors.push(FieldError::new(
            "short_name",
            "Enter a short name (up to 40 characters)",
        ));
    }
    if input.questions.is_empty() {
        errors.push(FieldError::new("add", "Add at least one question"));
    }
    for (i, q) in input.questions.iter().enumerate() {
        if q.text.is_empty() {
            errors.push(FieldError::new(
                format!("q_text_{i}"),
                format!("Question {}: enter the question", i + 1),
            ));
        }
    }
    if !input.meaningful_change.is_empty()
        && input
            .meaningful_change
            .parse::<f64>()
            .map_or(true, |c| c <= 0.0 || !c.is_finite())
    {
        errors.push(FieldError::new(
            "meaningful_change",
            "Enter a number above 0, or leave it empty",
        ));
    }
    if version > 1 && input.changes.is_empty() {
        errors.push(FieldError::new(
            "changes",
            "Say what changed in this version",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let value = input.to_definition(id, version, &[]);
    Definition::from_value(value).map_err(|e| e.0.iter().map(|p| field_of(p)).collect())
}

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

fn designer_in(actor: &Actor, org: &str) -> bool {
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

async fn audit_version(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    id: &str,
    version: i64,
    detail: Value,
) -> Result<(), AppError> {
    let entity = format!("{id}@{version}");
    audit::record(
        tx,
        &actor.audit(),
        AuditEvent {
            action,
            entity_type: "instrument_version",
            entity_id: Some(&entity),
            detail,
        },
    )
    .await?;
    Ok(())
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
        "SELECT p.user_id, u.display_name, p.decision, p.comment FROM instrument_panel p JOIN users u ON u.id = p.user_id \
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

/// A version for its designers (members designing for the organisation) or its panel.
pub async fn view(
    state: &AppState,
    actor: &Actor,
    id: &str,
    version: i64,
) -> Result<VersionView, AppError> {
    let mut tx = state.db.begin().await?;
    let v = load(&mut tx, id, version).await?;
    let on_panel = v.panel.iter().any(|p| p.user_id == actor.user_id);
    if !designer_in(actor, &v.organisation_id) && !on_panel {
        return Err(AppError::Forbidden);
    }
    tx.commit().await?;
    Ok(v)
}

/// Members of the organisation who could sit on the panel (everyone but the actor).
pub async fn panel_candidates(
    state: &AppState,
    actor: &Actor,
    organisation_id: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.id, u.display_name FROM memberships m JOIN users u ON u.id = m.user_id \
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
    let v = load(&mut tx, id, version).await?;
    if !designer_in(actor, &v.organisation_id) {
        return Err(AppError::Forbidden);
    }
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
            "date": time::OffsetDateTime::now_utc().date().to_string(),
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

/// A panel member approves or asks for changes (with a comment). When every member has
/// approved, the version is approved and can be used.
pub async fn review(
    state: &AppState,
    actor: &Actor,
    id: &str,
    version: i64,
    approve: bool,
    comment: &str,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let v = load(&mut tx, id, version).await?;
    if !v.panel.iter().any(|p| p.user_id == actor.user_id) {
        return Err(AppError::Forbidden);
    }
    if v.status != "in_review" {
        return Err(AppError::Conflict(
            "This version is not waiting for review".into(),
        ));
    }
    if !approve && comment.trim().is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "comment",
            "Say what needs to change",
        )]));
    }
    let at = now();
    sqlx::query(
        "UPDATE instrument_panel SET decision = $1, comment = $2, decided_at = $3 WHERE instrument_id = $4 AND version = $5 AND user_id = $6",
    )
    .bind(if approve { "approved" } else { "changes_requested" })
    .bind(comment.trim().to_string())
    .bind(at)
    .bind(id.to_string())
    .bind(version)
    .bind(actor.user_id.clone())
    .execute(&mut *tx)
    .await?;
    let status = if !approve {
        "draft"
    } else {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM instrument_panel WHERE instrument_id = $1 AND version = $2 AND decision <> 'approved'",
        )
        .bind(id.to_string())
        .bind(version)
        .fetch_one(&mut *tx)
        .await?;
        if waiting == 0 {
            "approved"
        } else {
            "in_review"
        }
    };
    sqlx::query(
        "UPDATE instrument_versions SET status = $1, updated_at = $2, approved_at = CASE WHEN $1 = 'approved' THEN $2 ELSE approved_at END \
         WHERE instrument_id = $3 AND version = $4",
    )
    .bind(status)
    .bind(at)
    .bind(id.to_string())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    audit_version(
        &mut tx,
        actor,
        "instrument.review",
        id,
        version,
        json!({ "approve": approve, "status": status }),
    )
    .await?;
    tx.commit().await?;
    Ok(status.to_string())
}

/// Start the next version as a draft copy of this approved one.
pub async fn new_version(
    state: &AppState,
    actor: &Actor,
    id: &str,
    version: i64,
) -> Result<i64, AppError> {
    let mut tx = state.db.begin().await?;
    let v = load(&mut tx, id, version).await?;
    if !designer_in(actor, &v.organisation_id) {
        return Err(AppError::Forbidden);
    }
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

/// Versions waiting for the actor's review.
pub async fn reviews_for(state: &AppState, actor: &Actor) -> Result<Vec<VersionRow>, AppError> {
    let rows = sqlx::query(
        "SELECT v.instrument_id, v.version, v.status, v.definition, v.updated_at, o.name AS organisation FROM instrument_panel p \
         JOIN instrument_versions v ON v.instrument_id = p.instrument_id AND v.version = p.version \
         JOIN organisations o ON o.id = v.organisation_id \
         WHERE p.user_id = $1 AND p.decision = 'pending' AND v.status = 'in_review' ORDER BY v.updated_at",
    )
    .bind(actor.user_id.clone())
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let d: Value =
                serde_json::from_str(&r.try_get::<String, _>("definition")?).unwrap_or(Value::Null);
            Ok(VersionRow {
                instrument_id: r.try_get("instrument_id")?,
                version: r.try_get("version")?,
                name: d["name"].as_str().unwrap_or_default().to_string(),
                status: r.try_get("status")?,
                organisation: r.try_get("organisation")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_makes_a_valid_definition_and_names_problems_by_question() {
        let mut input = DraftInput {
            name: "Session check-in".into(),
            short_name: "Check-in".into(),
            scoring: "sum".into(),
            meaningful_change: "2".into(),
            questions: vec![
                QuestionInput {
                    text: "How was today?".into(),
                    kind: "faces5".into(),
                    ..Default::default()
                },
                QuestionInput {
                    text: "I felt tense".into(),
                    kind: "agree5".into(),
                    reverse: true,
                    ..Default::default()
                },
                QuestionInput {
                    text: "Anything else?".into(),
                    kind: "free_text".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let d = check(&input, "check_in_abc123", 1).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.items.len(), 3);
        assert!(d.items[1].reverse);
        assert_eq!(d.scores[0].meaningful_change, Some(2.0));
        let back = DraftInput::from_definition(&input.to_definition("check_in_abc123", 1, &[]));
        assert_eq!(back.questions, input.questions);
        assert_eq!(back.scoring, "sum");
        input.questions[1].text.clear();
        input.meaningful_change = "-1".into();
        let e = check(&input, "check_in_abc123", 2)
            .err()
            .unwrap_or_default();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["q_text_1", "meaningful_change", "changes"]);
        // Only free text with a sum: the definition's own rule, mapped to the scoring field.
        let only_text = DraftInput {
            name: "Words".into(),
            short_name: "Words".into(),
            scoring: "sum".into(),
            questions: vec![QuestionInput {
                text: "Say more".into(),
                kind: "free_text".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let e = check(&only_text, "words_abc123", 1)
            .err()
            .unwrap_or_default();
        assert_eq!(e[0].field, "scoring", "{e:?}");
    }
}
