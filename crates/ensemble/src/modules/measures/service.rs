//! Measures use cases: which instruments exist (built-in and co-designed), licensed wording
//! overlays, completing an instrument (self, with a practitioner, or from paper with optional
//! double entry), and reading a person's scores. Each use case authorises against the
//! person (care team, provider of an active referral, or the person themselves), validates,
//! changes and audits in one transaction.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::definition::{Answer, Definition, Overlay, Score, builtin, builtins, num};
use crate::audit::{self, AuditEvent};
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::people::service as people;
use crate::modules::referrals::service as referrals;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// How an instrument is being completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The person on their own device.
    SelfReport,
    /// A practitioner or link worker with the person.
    WithPractitioner,
    /// Keyed from a paper form.
    Paper,
}

impl Mode {
    pub fn code(self) -> &'static str {
        match self {
            Mode::SelfReport => "self",
            Mode::WithPractitioner => "with_practitioner",
            Mode::Paper => "paper",
        }
    }
    pub fn from_code(s: &str) -> Option<Mode> {
        [Mode::SelfReport, Mode::WithPractitioner, Mode::Paper]
            .into_iter()
            .find(|m| m.code() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Mode::SelfReport => "by the person",
            Mode::WithPractitioner => "with a practitioner",
            Mode::Paper => "from paper",
        }
    }
}

/// Response statuses.
pub const IN_PROGRESS: &str = "in_progress";
pub const AWAITING_SECOND_ENTRY: &str = "awaiting_second_entry";
pub const MISMATCH: &str = "mismatch";
pub const COMPLETE: &str = "complete";

/// How the actor relates to a person, for measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonAccess {
    pub person_id: String,
    pub team_organisation_id: String,
    pub care_team: bool,
    /// Referrals on which the actor is the provider (accepted or pending, still open).
    pub provider_referrals: Vec<String>,
    pub is_person: bool,
    /// Organisations whose licensed wording may be used for this person (their team, and the
    /// provider organisations of their referrals).
    pub organisations: Vec<String>,
}

impl PersonAccess {
    pub fn staff(&self) -> bool {
        self.care_team || !self.provider_referrals.is_empty()
    }
    pub fn any(&self) -> bool {
        self.staff() || self.is_person
    }
}

/// Work out the actor's relationship with a person (404 when there is no such person).
pub async fn person_access(
    tx: &mut Tx,
    actor: &Actor,
    person_id: &str,
) -> Result<PersonAccess, AppError> {
    let row = sqlx::query("SELECT team_organisation_id, user_id FROM people WHERE id = $1")
        .bind(person_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let team: String = row.try_get("team_organisation_id")?;
    let user: Option<String> = row.try_get("user_id")?;
    let mut access = PersonAccess {
        person_id: person_id.to_string(),
        care_team: people::in_care_team(actor, &team),
        provider_referrals: Vec::new(),
        is_person: user.as_deref() == Some(actor.user_id.as_str()),
        organisations: vec![team.clone()],
        team_organisation_id: team,
    };
    for r in referrals::relations_with_person(tx, actor, person_id).await? {
        if r.is_provider {
            access.provider_referrals.push(r.referral_id.clone());
        }
        if let Some(org) = r.activity_organisation_id
            && !access.organisations.contains(&org)
        {
            access.organisations.push(org);
        }
    }
    Ok(access)
}

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

/// The current licensed wording an organisation has uploaded for an instrument version.
pub async fn overlay_for(
    tx: &mut Tx,
    organisations: &[String],
    definition: &Definition,
) -> Result<Option<(String, Overlay)>, AppError> {
    for org in organisations {
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
         FROM instrument_overlays w JOIN organisations o ON o.id = w.organisation_id JOIN users u ON u.id = w.uploaded_by \
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
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1")
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
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "instrument.overlay.upload",
            entity_type: "instrument_overlay",
            entity_id: Some(&id),
            detail: json!({ "instrument": def.key(), "organisation_id": organisation_id, "stand_in": overlay.stand_in }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What to start.
#[derive(Debug, Clone)]
pub struct NewResponse {
    pub person_id: String,
    pub instrument_id: String,
    pub referral_id: Option<String>,
    pub schedule_id: Option<String>,
    pub mode: Mode,
    pub double_entry: bool,
    pub easy_read: bool,
    pub one_per_page: bool,
}

/// Start a response (or resume the actor's unfinished one for the same person and
/// instrument). Self-report needs the person; the other modes need the care team or the
/// provider. Licensed instruments need their wording for self-report and entry with the
/// person; from paper only the item numbers and answer labels are shown.
pub async fn start(state: &AppState, actor: &Actor, n: NewResponse) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let access = person_access(&mut tx, actor, &n.person_id).await?;
    let allowed = match n.mode {
        Mode::SelfReport => access.is_person,
        Mode::WithPractitioner | Mode::Paper => access.staff(),
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let def = definition(&mut *tx, &n.instrument_id, None)
        .await?
        .ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new(
                "instrument",
                "Choose an instrument from the list",
            )])
        })?;
    let overlay = overlay_for(&mut tx, &access.organisations, &def).await?;
    if super::definition::OBSERVATION_SCALES.contains(&def.id.as_str()) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "instrument",
            format!(
                "{} is an observation scale for sessions, not a measure for a person",
                def.short_name
            ),
        )]));
    }
    if def.is_licensed() && overlay.is_none() && n.mode != Mode::Paper {
        return Err(AppError::Invalid(vec![FieldError::new(
            "instrument",
            format!(
                "The wording of {} has not been uploaded for this organisation (it is licensed by its owners), so it can only be entered from paper",
                def.short_name
            ),
        )]));
    }
    if let Some(rid) = &n.referral_id {
        let ok: Option<String> =
            sqlx::query_scalar("SELECT id FROM referrals WHERE id = $1 AND person_id = $2")
                .bind(rid.clone())
                .bind(n.person_id.clone())
                .fetch_optional(&mut *tx)
                .await?;
        if ok.is_none() {
            return Err(AppError::NotFound);
        }
    }
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT id FROM measure_responses WHERE person_id = $1 AND instrument_id = $2 AND entered_by = $3 AND status = 'in_progress' \
         AND mode = $4 ORDER BY started_at DESC LIMIT 1",
    )
    .bind(n.person_id.clone())
    .bind(def.id.clone())
    .bind(actor.user_id.clone())
    .bind(n.mode.code())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = existing {
        sqlx::query("UPDATE measure_responses SET easy_read = $1, one_per_page = $2 WHERE id = $3")
            .bind(i64::from(n.easy_read))
            .bind(i64::from(n.one_per_page))
            .bind(id.clone())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(id);
    }
    let id = new_id();
    let at = now();
    sqlx::query(
        "INSERT INTO measure_responses (id, person_id, referral_id, schedule_id, instrument_id, instrument_version, overlay_id, mode, status, \
         double_entry, easy_read, one_per_page, entered_by, started_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'in_progress', $9, $10, $11, $12, $13, $13)",
    )
    .bind(id.clone())
    .bind(n.person_id.clone())
    .bind(n.referral_id.clone())
    .bind(n.schedule_id.clone())
    .bind(def.id.clone())
    .bind(i64::from(def.version))
    .bind(overlay.map(|(oid, _)| oid))
    .bind(n.mode.code())
    .bind(i64::from(n.double_entry && n.mode == Mode::Paper))
    .bind(i64::from(n.easy_read))
    .bind(i64::from(n.one_per_page))
    .bind(actor.user_id.clone())
    .bind(at)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "measure.start",
            entity_type: "measure_response",
            entity_id: Some(&id),
            detail: json!({ "person_id": n.person_id, "instrument": def.key(), "mode": n.mode.code() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A response with what is needed to show or continue it.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseView {
    pub id: String,
    pub person_id: String,
    pub referral_id: Option<String>,
    /// With the overlay's wording applied where there is one.
    #[serde(skip)]
    pub definition: Definition,
    pub worded: bool,
    pub stand_in_wording: bool,
    pub mode: Mode,
    pub status: String,
    pub double_entry: bool,
    pub easy_read: bool,
    pub one_per_page: bool,
    pub entered_by: Option<String>,
    pub answers: BTreeMap<String, Answer>,
    pub second_answers: BTreeMap<String, Answer>,
    pub scores: Vec<Score>,
    pub completed_at: Option<i64>,
}

async fn answers_of(
    tx: &mut Tx,
    id: &str,
    entry: i64,
) -> Result<BTreeMap<String, Answer>, AppError> {
    let rows = sqlx::query(
        "SELECT item_id, value, text_value FROM measure_answers WHERE response_id = $1 AND entry = $2",
    )
    .bind(id.to_string())
    .bind(entry)
    .fetch_all(&mut **tx)
    .await?;
    let mut out = BTreeMap::new();
    for r in rows {
        let item: String = r.try_get("item_id")?;
        let value: Option<f64> = r.try_get("value")?;
        let text: Option<String> = r.try_get("text_value")?;
        match (value, text) {
            (Some(v), _) => {
                out.insert(item, Answer::Number(v));
            }
            (None, Some(t)) => {
                out.insert(item, Answer::Text(t));
            }
            _ => {}
        }
    }
    Ok(out)
}

async fn scores_of(tx: &mut Tx, id: &str, def: &Definition) -> Result<Vec<Score>, AppError> {
    let rows =
        sqlx::query("SELECT score_id, value, band FROM measure_scores WHERE response_id = $1")
            .bind(id.to_string())
            .fetch_all(&mut **tx)
            .await?;
    let mut out = Vec::new();
    for rule in &def.scores {
        if let Some(r) = rows
            .iter()
            .find(|r| r.try_get::<String, _>("score_id").ok().as_deref() == Some(&rule.id))
        {
            out.push(Score {
                id: rule.id.clone(),
                label: rule.label.clone(),
                value: r.try_get("value")?,
                band: r.try_get("band")?,
            });
        }
    }
    Ok(out)
}

/// Load a response the actor may see or continue: the person, the care team, or a provider
/// of the person; each view is audited.
async fn load(
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
) -> Result<(ResponseView, PersonAccess), AppError> {
    let r = sqlx::query(
        "SELECT person_id, referral_id, instrument_id, instrument_version, overlay_id, mode, status, double_entry, easy_read, \
         one_per_page, entered_by, completed_at FROM measure_responses WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let person_id: String = r.try_get("person_id")?;
    let access = person_access(tx, actor, &person_id).await?;
    let mode = Mode::from_code(&r.try_get::<String, _>("mode")?).unwrap_or(Mode::Paper);
    let entered_by: Option<String> = r.try_get("entered_by")?;
    // The person sees all of their own responses; staff who may see the person see theirs.
    if !access.any() {
        return Err(AppError::Forbidden);
    }
    let instrument: String = r.try_get("instrument_id")?;
    let version: i64 = r.try_get("instrument_version")?;
    let mut def = definition(&mut **tx, &instrument, u32::try_from(version).ok())
        .await?
        .ok_or(AppError::NotFound)?;
    let overlay_id: Option<String> = r.try_get("overlay_id")?;
    let mut stand_in = false;
    let mut worded = !def.is_licensed();
    if let Some(oid) = overlay_id {
        let text: Option<String> =
            sqlx::query_scalar("SELECT overlay FROM instrument_overlays WHERE id = $1")
                .bind(oid)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(o) = text.and_then(|t| Overlay::parse_for(&t, &def).ok()) {
            stand_in = o.stand_in;
            def = o.apply(&def);
            worded = true;
        }
    }
    let answers = answers_of(tx, id, 1).await?;
    let second_answers = answers_of(tx, id, 2).await?;
    let scores = scores_of(tx, id, &def).await?;
    Ok((
        ResponseView {
            id: id.to_string(),
            person_id,
            referral_id: r.try_get("referral_id")?,
            definition: def,
            worded,
            stand_in_wording: stand_in,
            mode,
            status: r.try_get("status")?,
            double_entry: r.try_get::<i64, _>("double_entry")? != 0,
            easy_read: r.try_get::<i64, _>("easy_read")? != 0,
            one_per_page: r.try_get::<i64, _>("one_per_page")? != 0,
            entered_by,
            answers,
            second_answers,
            scores,
            completed_at: r.try_get("completed_at")?,
        },
        access,
    ))
}

/// Read a response (audited).
pub async fn view(state: &AppState, actor: &Actor, id: &str) -> Result<ResponseView, AppError> {
    let mut tx = state.db.begin().await?;
    let (v, _) = load(&mut tx, actor, id).await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "measure.read",
            entity_type: "measure_response",
            entity_id: Some(id),
            detail: json!({ "person_id": v.person_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

/// Check submitted answers against the scales, keyed by item id for the form.
pub fn check_answers(def: &Definition, answers: &BTreeMap<String, Answer>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (id, answer) in answers {
        let Some((index, item)) = def.item(id) else {
            errors.push(FieldError::new(
                id.clone(),
                format!("\"{id}\" is not a question of {}", def.short_name),
            ));
            continue;
        };
        let Some(scale) = def.scale_of(item) else {
            continue;
        };
        let problem = match (scale.is_text(), answer) {
            (true, Answer::Text(t)) => match scale {
                super::definition::Scale::FreeText { max_length }
                    if t.chars().count() > *max_length =>
                {
                    Some(format!("keep it to {max_length} characters"))
                }
                _ => None,
            },
            (true, Answer::Number(_)) => None,
            (false, Answer::Number(v)) if scale.allows(*v) => None,
            (false, Answer::Number(v)) => Some(format!(
                "{} is not an allowed answer: choose {}",
                num(*v),
                scale.describe_allowed()
            )),
            (false, Answer::Text(t)) => Some(format!(
                "\"{t}\" is not a number: choose {}",
                scale.describe_allowed()
            )),
        };
        if let Some(p) = problem {
            errors.push(FieldError::new(
                id.clone(),
                format!("Question {}: {p}", index + 1),
            ));
        }
    }
    errors
}

/// The outcome of saving answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Answers kept; more to do.
    InProgress,
    /// Scored and complete.
    Complete,
    /// First keying of a double-entry paper form done; a second person keys it again.
    AwaitingSecondEntry,
    /// The two keyings differ on these items.
    Mismatch(Vec<String>),
}

async fn store_answers(
    tx: &mut Tx,
    id: &str,
    entry: i64,
    answers: &BTreeMap<String, Answer>,
) -> Result<(), AppError> {
    for (item, answer) in answers {
        let (value, text) = match answer {
            Answer::Number(v) => (Some(*v), None),
            Answer::Text(t) => (None, Some(t.clone())),
        };
        sqlx::query(
            "DELETE FROM measure_answers WHERE response_id = $1 AND item_id = $2 AND entry = $3",
        )
        .bind(id.to_string())
        .bind(item.clone())
        .bind(entry)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO measure_answers (response_id, item_id, entry, value, text_value) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(item.clone())
        .bind(entry)
        .bind(value)
        .bind(text)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn write_scores(tx: &mut Tx, id: &str, scores: &[Score]) -> Result<(), AppError> {
    sqlx::query("DELETE FROM measure_scores WHERE response_id = $1")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    for s in scores {
        sqlx::query("INSERT INTO measure_scores (response_id, score_id, value, band) VALUES ($1, $2, $3, $4)")
            .bind(id.to_string())
            .bind(s.id.clone())
            .bind(s.value)
            .bind(s.band.clone())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn score_errors(e: super::definition::AnswerErrors) -> AppError {
    AppError::Invalid(
        e.0.into_iter()
            .map(|p| FieldError::new(p.item, p.message))
            .collect(),
    )
}

/// Save answers (a page of them, or all) and, with `finish`, score and complete. Partial
/// answers are kept so the person can stop and come back. Refusals name the item; nothing is
/// stored when any answer is refused.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    id: &str,
    answers: BTreeMap<String, Answer>,
    finish: bool,
) -> Result<Saved, AppError> {
    let mut tx = state.db.begin().await?;
    let (v, access) = load(&mut tx, actor, id).await?;
    let may_enter = match v.mode {
        Mode::SelfReport => access.is_person,
        _ => access.staff(),
    };
    if !may_enter {
        return Err(AppError::Forbidden);
    }
    let errors = check_answers(&v.definition, &answers);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let at = now();
    let outcome = match v.status.as_str() {
        IN_PROGRESS => {
            store_answers(&mut tx, id, 1, &answers).await?;
            if !finish {
                Saved::InProgress
            } else {
                let all = answers_of(&mut tx, id, 1).await?;
                let scores = v.definition.score(&all).map_err(score_errors)?;
                if v.double_entry {
                    sqlx::query(
                        "UPDATE measure_responses SET status = $1, updated_at = $2 WHERE id = $3",
                    )
                    .bind(AWAITING_SECOND_ENTRY)
                    .bind(at)
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                    Saved::AwaitingSecondEntry
                } else {
                    complete(&mut tx, id, &scores, at).await?;
                    Saved::Complete
                }
            }
        }
        AWAITING_SECOND_ENTRY => {
            if v.entered_by.as_deref() == Some(actor.user_id.as_str()) {
                return Err(AppError::Conflict(
                    "The second keying must be done by someone else, so that mistakes are caught"
                        .into(),
                ));
            }
            store_answers(&mut tx, id, 2, &answers).await?;
            if !finish {
                Saved::AwaitingSecondEntry
            } else {
                let second = answers_of(&mut tx, id, 2).await?;
                let first = v.answers.clone();
                let mut differ: Vec<String> = v
                    .definition
                    .items
                    .iter()
                    .filter(|i| first.get(&i.id) != second.get(&i.id))
                    .map(|i| i.id.clone())
                    .collect();
                differ.sort();
                sqlx::query("UPDATE measure_responses SET second_entry_by = $1, updated_at = $2 WHERE id = $3")
                    .bind(actor.user_id.clone())
                    .bind(at)
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                if differ.is_empty() {
                    let scores = v.definition.score(&first).map_err(score_errors)?;
                    complete(&mut tx, id, &scores, at).await?;
                    Saved::Complete
                } else {
                    sqlx::query("UPDATE measure_responses SET status = $1 WHERE id = $2")
                        .bind(MISMATCH)
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    Saved::Mismatch(differ)
                }
            }
        }
        MISMATCH => {
            // Resolution: the chosen answers replace the first keying, then it is scored.
            store_answers(&mut tx, id, 1, &answers).await?;
            let all = answers_of(&mut tx, id, 1).await?;
            let scores = v.definition.score(&all).map_err(score_errors)?;
            complete(&mut tx, id, &scores, at).await?;
            Saved::Complete
        }
        _ => {
            return Err(AppError::Conflict(
                "This has already been completed; start a new one to record a new answer".into(),
            ));
        }
    };
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: match outcome {
                Saved::Complete => "measure.complete",
                _ => "measure.save",
            },
            entity_type: "measure_response",
            entity_id: Some(id),
            detail: json!({ "person_id": v.person_id, "instrument": v.definition.key(), "items": answers.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

async fn complete(tx: &mut Tx, id: &str, scores: &[Score], at: i64) -> Result<(), AppError> {
    write_scores(tx, id, scores).await?;
    sqlx::query("UPDATE measure_responses SET status = 'complete', completed_at = $1, updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Recompute every complete response's scores from its stored answers and the definition of
/// the version it was collected with. Returns (recomputed, changed).
pub async fn recompute_all(state: &AppState) -> Result<(usize, usize), AppError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM measure_responses WHERE status = 'complete' ORDER BY id",
    )
    .fetch_all(&state.db.read)
    .await?;
    let (mut done, mut changed) = (0, 0);
    for id in ids {
        let mut tx = state.db.begin().await?;
        let r = sqlx::query(
            "SELECT instrument_id, instrument_version FROM measure_responses WHERE id = $1",
        )
        .bind(id.clone())
        .fetch_one(&mut *tx)
        .await?;
        let instrument: String = r.try_get("instrument_id")?;
        let version: i64 = r.try_get("instrument_version")?;
        let Some(def) = definition(&mut *tx, &instrument, u32::try_from(version).ok()).await?
        else {
            continue;
        };
        let answers = answers_of(&mut tx, &id, 1).await?;
        let Ok(scores) = def.score(&answers) else {
            continue;
        };
        let before = scores_of(&mut tx, &id, &def).await?;
        if before != scores {
            write_scores(&mut tx, &id, &scores).await?;
            changed += 1;
        }
        tx.commit().await?;
        done += 1;
    }
    let mut tx = state.db.begin().await?;
    audit::record(
        &mut tx,
        &crate::audit::AuditActor::cli(),
        AuditEvent {
            action: "measure.recompute",
            entity_type: "measure_response",
            entity_id: None,
            detail: json!({ "recomputed": done, "changed": changed }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((done, changed))
}

/// One score in a person's history.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ScoreRow {
    pub response_id: String,
    pub instrument_id: String,
    pub instrument_version: u32,
    pub instrument: String,
    pub score_id: String,
    pub label: String,
    pub value: f64,
    pub band: Option<String>,
    /// SNOMED CT code of the score, where the instrument has one.
    pub snomed_code: Option<String>,
    pub snomed_display: Option<String>,
    /// self, with_practitioner or paper.
    pub mode: String,
    pub completed_at: i64,
    /// Whether this score is shown in plans and messages back.
    pub headline: bool,
}

/// Every complete score of a person, newest first (no authorisation: callers check).
pub async fn scores_for_person(tx: &mut Tx, person_id: &str) -> Result<Vec<ScoreRow>, AppError> {
    let rows = sqlx::query(
        "SELECT r.id, r.instrument_id, r.instrument_version, r.mode, r.completed_at, s.score_id, s.value, s.band \
         FROM measure_responses r JOIN measure_scores s ON s.response_id = r.id \
         WHERE r.person_id = $1 AND r.status = 'complete' ORDER BY r.completed_at DESC, r.id, s.score_id",
    )
    .bind(person_id.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let mut defs: BTreeMap<(String, i64), Option<Definition>> = BTreeMap::new();
    let mut out = Vec::new();
    for r in rows {
        let instrument: String = r.try_get("instrument_id")?;
        let version: i64 = r.try_get("instrument_version")?;
        let key = (instrument.clone(), version);
        if !defs.contains_key(&key) {
            let d = definition(&mut **tx, &instrument, u32::try_from(version).ok()).await?;
            defs.insert(key.clone(), d);
        }
        let Some(Some(def)) = defs.get(&key) else {
            continue;
        };
        let score_id: String = r.try_get("score_id")?;
        let Some(rule) = def.scores.iter().find(|s| s.id == score_id) else {
            continue;
        };
        let snomed = rule.snomed.as_ref();
        out.push(ScoreRow {
            response_id: r.try_get("id")?,
            instrument_id: instrument,
            instrument_version: def.version,
            instrument: def.short_name.clone(),
            score_id,
            label: rule.label.clone(),
            value: r.try_get("value")?,
            band: r.try_get("band")?,
            snomed_code: snomed.map(|s| s.code.clone()),
            snomed_display: snomed.map(|s| s.display.clone()),
            mode: r.try_get("mode")?,
            completed_at: r.try_get::<Option<i64>, _>("completed_at")?.unwrap_or(0),
            headline: rule.headline,
        });
    }
    Ok(out)
}

/// The latest headline scores of a person: for each instrument, its most recent complete
/// response (and the one before, for change), headline scores only.
pub async fn latest_scores(tx: &mut Tx, person_id: &str) -> Result<Vec<LatestScore>, AppError> {
    let all = scores_for_person(tx, person_id).await?;
    let mut out: Vec<LatestScore> = Vec::new();
    for row in all.iter().filter(|r| r.headline) {
        if out
            .iter()
            .any(|l| l.score.instrument_id == row.instrument_id && l.score.score_id == row.score_id)
        {
            continue;
        }
        let previous = all
            .iter()
            .find(|p| {
                p.instrument_id == row.instrument_id
                    && p.score_id == row.score_id
                    && p.completed_at < row.completed_at
            })
            .map(|p| p.value);
        out.push(LatestScore {
            score: row.clone(),
            previous,
        });
    }
    Ok(out)
}

/// A latest score with the value before it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LatestScore {
    pub score: ScoreRow,
    pub previous: Option<f64>,
}

/// A person's scores for someone allowed to see that person (audited).
pub async fn person_scores(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
) -> Result<Vec<ScoreRow>, AppError> {
    let mut tx = state.db.begin().await?;
    let access = person_access(&mut tx, actor, person_id).await?;
    if !access.any() {
        return Err(AppError::Forbidden);
    }
    let rows = scores_for_person(&mut tx, person_id).await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "measure.scores.read",
            entity_type: "person",
            entity_id: Some(person_id),
            detail: json!({ "rows": rows.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// Responses waiting for the actor: unfinished ones they started, and double-entry forms
/// needing a second keying or a resolution (for staff who may see the person).
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub id: String,
    pub person_id: String,
    pub instrument: String,
    pub status: String,
    pub mode: String,
    pub started_at: i64,
}

pub async fn pending_for(state: &AppState, actor: &Actor) -> Result<Vec<Pending>, AppError> {
    let mut tx = state.db.begin().await?;
    let rows = sqlx::query(
        "SELECT id, person_id, instrument_id, status, mode, started_at, entered_by FROM measure_responses \
         WHERE (status = 'in_progress' AND entered_by = $1) OR status IN ('awaiting_second_entry', 'mismatch') \
         ORDER BY started_at DESC LIMIT 200",
    )
    .bind(actor.user_id.clone())
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let person_id: String = r.try_get("person_id")?;
        let status: String = r.try_get("status")?;
        if status != IN_PROGRESS {
            let access = person_access(&mut tx, actor, &person_id).await?;
            if !access.staff() {
                continue;
            }
        }
        let instrument: String = r.try_get("instrument_id")?;
        out.push(Pending {
            id: r.try_get("id")?,
            person_id,
            instrument: builtin(&instrument)
                .map(|d| d.short_name.clone())
                .unwrap_or(instrument),
            status,
            mode: r.try_get("mode")?,
            started_at: r.try_get("started_at")?,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// Instruments the person can complete themselves: open built-ins, licensed ones whose
/// wording one of their organisations has uploaded, and approved co-designed instruments of
/// their organisations.
pub async fn available_for(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
) -> Result<Vec<(Definition, bool)>, AppError> {
    let mut tx = state.db.begin().await?;
    let access = person_access(&mut tx, actor, person_id).await?;
    if !access.any() {
        return Err(AppError::Forbidden);
    }
    let mut out = Vec::new();
    for d in builtins()
        .iter()
        .filter(|d| !super::definition::OBSERVATION_SCALES.contains(&d.id.as_str()))
    {
        let worded = !d.is_licensed()
            || overlay_for(&mut tx, &access.organisations, d)
                .await?
                .is_some();
        if worded {
            out.push((d.clone(), true));
        }
    }
    for org in &access.organisations {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT instrument_id FROM instrument_versions WHERE organisation_id = $1 AND status = 'approved' ORDER BY instrument_id",
        )
        .bind(org.clone())
        .fetch_all(&mut *tx)
        .await?;
        for id in ids {
            if let Some(d) = definition(&mut *tx, &id, None).await?
                && !out.iter().any(|(o, _)| o.id == d.id)
            {
                out.push((d, true));
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// The person's own latest scores.
pub async fn own_latest(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
) -> Result<Vec<LatestScore>, AppError> {
    let mut tx = state.db.begin().await?;
    let access = person_access(&mut tx, actor, person_id).await?;
    if !access.any() {
        return Err(AppError::Forbidden);
    }
    let latest = latest_scores(&mut tx, person_id).await?;
    tx.commit().await?;
    Ok(latest)
}

/// Submit a whole completed instrument at once (the API): checked, scored and stored in one
/// transaction, so a refusal leaves nothing behind. Field names in errors are
/// `answers.<item>`.
pub async fn submit(
    state: &AppState,
    actor: &Actor,
    n: NewResponse,
    version: Option<u32>,
    answers: BTreeMap<String, Answer>,
) -> Result<(String, Definition, Vec<Score>), AppError> {
    let mut tx = state.db.begin().await?;
    let access = person_access(&mut tx, actor, &n.person_id).await?;
    let allowed = match n.mode {
        Mode::SelfReport => access.is_person,
        Mode::WithPractitioner | Mode::Paper => access.staff(),
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let def = definition(&mut *tx, &n.instrument_id, version)
        .await?
        .ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new(
                "instrument",
                match version {
                    Some(v) => format!("no usable instrument \"{}\" version {v}", n.instrument_id),
                    None => format!("no usable instrument \"{}\"", n.instrument_id),
                },
            )])
        })?;
    let prefix = |e: Vec<FieldError>| {
        AppError::Invalid(
            e.into_iter()
                .map(|f| FieldError::new(format!("answers.{}", f.field), f.message))
                .collect(),
        )
    };
    let problems = check_answers(&def, &answers);
    if !problems.is_empty() {
        return Err(prefix(problems));
    }
    let scores = def.score(&answers).map_err(|e| {
        prefix(
            e.0.into_iter()
                .map(|p| FieldError::new(p.item, p.message))
                .collect(),
        )
    })?;
    if let Some(rid) = &n.referral_id {
        let ok: Option<String> =
            sqlx::query_scalar("SELECT id FROM referrals WHERE id = $1 AND person_id = $2")
                .bind(rid.clone())
                .bind(n.person_id.clone())
                .fetch_optional(&mut *tx)
                .await?;
        if ok.is_none() {
            return Err(AppError::Invalid(vec![FieldError::new(
                "referral_id",
                "no referral of this person has that id",
            )]));
        }
    }
    let overlay = overlay_for(&mut tx, &access.organisations, &def).await?;
    if super::definition::OBSERVATION_SCALES.contains(&def.id.as_str()) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "instrument",
            format!(
                "{} is an observation scale for sessions, not a measure for a person",
                def.short_name
            ),
        )]));
    }
    if def.is_licensed() && overlay.is_none() && n.mode != Mode::Paper {
        return Err(AppError::Invalid(vec![FieldError::new(
            "mode",
            format!(
                "the wording of {} has not been uploaded for this person's organisations, so it can only be entered from paper",
                def.short_name
            ),
        )]));
    }
    let id = new_id();
    let at = now();
    sqlx::query(
        "INSERT INTO measure_responses (id, person_id, referral_id, instrument_id, instrument_version, overlay_id, mode, status, \
         entered_by, started_at, updated_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'complete', $8, $9, $9, $9)",
    )
    .bind(id.clone())
    .bind(n.person_id.clone())
    .bind(n.referral_id.clone())
    .bind(def.id.clone())
    .bind(i64::from(def.version))
    .bind(overlay.map(|(o, _)| o))
    .bind(n.mode.code())
    .bind(actor.user_id.clone())
    .bind(at)
    .execute(&mut *tx)
    .await?;
    store_answers(&mut tx, &id, 1, &answers).await?;
    write_scores(&mut tx, &id, &scores).await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "measure.complete",
            entity_type: "measure_response",
            entity_id: Some(&id),
            detail: json!({ "person_id": n.person_id, "instrument": def.key(), "mode": n.mode.code(), "channel": "api" }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((id, def, scores))
}
