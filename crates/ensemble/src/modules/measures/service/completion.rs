//! Completing an instrument with a practitioner or from paper: starting a response, saving
//! answers, double entry and scoring.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit;
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::measures::definition::{Answer, Definition, Overlay, Score, num};
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

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
    let who = check_recording(&mut tx, actor, &n.person_id, n.mode).await?;
    let def = definition(&mut *tx, &n.instrument_id, None)
        .await?
        .ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new(
                "instrument",
                "Choose an instrument from the list",
            )])
        })?;
    let overlay = overlay_for(&mut tx, &who, &def).await?;
    if crate::modules::measures::definition::OBSERVATION_SCALES.contains(&def.id.as_str()) {
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
        let ok: Option<String> = sqlx::query_scalar(
            "SELECT id FROM referrals_case_summaries WHERE id = $1 AND person_id = $2",
        )
        .bind(rid.clone())
        .bind(who.person_id.clone())
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
    .bind(who.person_id.clone())
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
    .bind(who.person_id.clone())
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
    audit::by(
        &mut tx,
        actor,
        "measure.start",
        "measure_response",
        Some(&id),
        json!({ "person_id": who.person_id, "instrument": def.key(), "mode": n.mode.code() }),
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
    pub status: ResponseStatus,
    pub double_entry: bool,
    pub easy_read: bool,
    pub one_per_page: bool,
    pub entered_by: Option<String>,
    pub answers: BTreeMap<String, Answer>,
    pub second_answers: BTreeMap<String, Answer>,
    pub scores: Vec<Score>,
    pub completed_at: Option<i64>,
}

pub(super) async fn answers_of(
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

pub(super) async fn scores_of(
    tx: &mut Tx,
    id: &str,
    def: &Definition,
) -> Result<Vec<Score>, AppError> {
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

/// The stored row of one response, without any check: private to this module, whose
/// functions prove a relation first ([`check_response`]).
pub(super) async fn load_row(tx: &mut Tx, id: &str) -> Result<Option<AnyRow>, AppError> {
    Ok(sqlx::query(
        "SELECT person_id, referral_id, instrument_id, instrument_version, overlay_id, mode, status, double_entry, easy_read, \
         one_per_page, entered_by, completed_at FROM measure_responses WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?)
}

/// A response with its definition (worded with its overlay), answers and scores, from its
/// stored row: private to this module, for [`check_response`]. 404 when the instrument
/// version cannot be found.
pub(super) async fn view_of(tx: &mut Tx, id: &str, r: &AnyRow) -> Result<ResponseView, AppError> {
    let person_id: String = r.try_get("person_id")?;
    let mode = Mode::from_code(&r.try_get::<String, _>("mode")?).unwrap_or(Mode::Paper);
    let entered_by: Option<String> = r.try_get("entered_by")?;
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
    Ok(ResponseView {
        id: id.to_string(),
        person_id,
        referral_id: r.try_get("referral_id")?,
        definition: def,
        worded,
        stand_in_wording: stand_in,
        mode,
        status: ResponseStatus::decode(r.try_get("status")?)?,
        double_entry: r.try_get::<i64, _>("double_entry")? != 0,
        easy_read: r.try_get::<i64, _>("easy_read")? != 0,
        one_per_page: r.try_get::<i64, _>("one_per_page")? != 0,
        entered_by,
        answers,
        second_answers,
        scores,
        completed_at: r.try_get("completed_at")?,
    })
}

/// Read a response (audited): the person, the care team, or a provider of the person.
pub async fn view(state: &AppState, actor: &Actor, id: &str) -> Result<ResponseView, AppError> {
    let mut tx = state.db.begin().await?;
    let v = check_response::<StaffOrThemselves>(&mut tx, actor, id).await?;
    audit::by(
        &mut tx,
        actor,
        "measure.read",
        "measure_response",
        Some(id),
        json!({ "person_id": v.person_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(v.into_view())
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
                crate::modules::measures::definition::Scale::FreeText { max_length }
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

pub(super) async fn store_answers(
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

pub(super) async fn write_scores(tx: &mut Tx, id: &str, scores: &[Score]) -> Result<(), AppError> {
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

fn score_errors(e: crate::modules::measures::definition::AnswerErrors) -> AppError {
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
    let v = check_response::<Recorder>(&mut tx, actor, id).await?;
    let errors = check_answers(&v.definition, &answers);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let at = now();
    let outcome = match v.status {
        ResponseStatus::InProgress => {
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
                    .bind(ResponseStatus::AwaitingSecondEntry.code())
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
        ResponseStatus::AwaitingSecondEntry => {
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
                        .bind(ResponseStatus::Mismatch.code())
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    Saved::Mismatch(differ)
                }
            }
        }
        ResponseStatus::Mismatch => {
            // Resolution: the chosen answers replace the first keying, then it is scored.
            store_answers(&mut tx, id, 1, &answers).await?;
            let all = answers_of(&mut tx, id, 1).await?;
            let scores = v.definition.score(&all).map_err(score_errors)?;
            complete(&mut tx, id, &scores, at).await?;
            Saved::Complete
        }
        ResponseStatus::Complete => {
            return Err(AppError::Conflict(
                "This has already been completed; start a new one to record a new answer".into(),
            ));
        }
    };
    audit::by(
        &mut tx,
        actor,
        match outcome {
            Saved::Complete => "measure.complete",
            _ => "measure.save",
        },
        "measure_response",
        Some(id),
        json!({ "person_id": v.person_id, "instrument": v.definition.key(), "items": answers.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

pub(super) async fn complete(
    tx: &mut Tx,
    id: &str,
    scores: &[Score],
    at: i64,
) -> Result<(), AppError> {
    write_scores(tx, id, scores).await?;
    sqlx::query("UPDATE measure_responses SET status = 'complete', completed_at = $1, updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
