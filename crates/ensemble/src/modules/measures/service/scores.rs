//! Reading a person's scores, and recomputing every stored score after a scoring change.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::audit;
use crate::db::Tx;
use crate::error::AppError;
use crate::modules::measures::definition::Definition;
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

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
    audit::by(
        &mut tx,
        audit::AuditActor::cli(),
        "measure.recompute",
        "measure_response",
        None,
        json!({ "recomputed": done, "changed": changed }),
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
    #[schema(value_type = crate::modules::measures::api::ModeCode)]
    pub mode: String,
    pub completed_at: i64,
    /// Whether this score is shown in plans and messages back.
    pub headline: bool,
}

/// Every complete score of the person a proof names, newest first.
pub async fn scores_for_person<R: Relation>(
    tx: &mut Tx,
    who: &PersonMeasures<R>,
) -> Result<Vec<ScoreRow>, AppError> {
    scores_unchecked(tx, &who.person_id).await
}

/// Every complete score of a person, newest first, without any check: private to this
/// module.
async fn scores_unchecked(tx: &mut Tx, person_id: &str) -> Result<Vec<ScoreRow>, AppError> {
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

/// The latest headline scores of the person a proof names: for each instrument, its most
/// recent complete response (and the one before, for change), headline scores only.
pub async fn latest_for<R: Relation>(
    tx: &mut Tx,
    who: &PersonMeasures<R>,
) -> Result<Vec<LatestScore>, AppError> {
    latest_by_id(tx, &who.person_id).await
}

/// [`latest_for`] for the referral pages, which prove their own relationship with the
/// person (a `referrals::service::CaseAccess` for the care team, the provider, the message
/// back or the person themselves on "My plan", each an `IdentityProof`) and take no
/// measures proof. Not for use inside this module.
pub async fn latest_scores(
    tx: &mut Tx,
    proof: &impl crate::modules::people::service::IdentityProof,
) -> Result<Vec<LatestScore>, AppError> {
    latest_by_id(tx, proof.person_id()).await
}

async fn latest_by_id(tx: &mut Tx, person_id: &str) -> Result<Vec<LatestScore>, AppError> {
    let all = scores_unchecked(tx, person_id).await?;
    let mut defs: BTreeMap<(String, u32), Option<Definition>> = BTreeMap::new();
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
        let key = (row.instrument_id.clone(), row.instrument_version);
        if !defs.contains_key(&key) {
            let d = definition(&mut **tx, &row.instrument_id, Some(row.instrument_version)).await?;
            defs.insert(key.clone(), d);
        }
        let about = defs
            .get(&key)
            .and_then(Option::as_ref)
            .map(|d| ScoreAbout::of(d, &row.score_id))
            .unwrap_or_default();
        out.push(LatestScore {
            score: row.clone(),
            previous,
            about,
        });
    }
    Ok(out)
}

/// What a participant's page says about a score: the instrument in plain words, its
/// meaningful-change threshold and direction, and whether the participant sees it at all.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ScoreAbout {
    /// The instrument's name without its abbreviation.
    pub name: String,
    /// One plain sentence on what it asks about.
    pub purpose: String,
    /// The smallest change that counts (where the instrument defines one).
    pub meaningful_change: Option<f64>,
    /// A higher score means better (otherwise lower does).
    pub higher_is_better: bool,
    /// Shown on the participant's own pages.
    pub for_participant: bool,
    /// This score is the only one of its instrument a participant sees.
    pub only_one: bool,
}

impl ScoreAbout {
    fn of(def: &Definition, score_id: &str) -> Self {
        let Some(rule) = def.scores.iter().find(|s| s.id == score_id) else {
            return Self::default();
        };
        let shown = def
            .scores
            .iter()
            .filter(|s| def.shown_to_participant(s))
            .count();
        Self {
            name: def.plain_name(),
            purpose: def.plain_purpose(),
            meaningful_change: rule.meaningful_change,
            higher_is_better: rule.direction
                == crate::modules::measures::definition::Direction::HigherIsBetter,
            for_participant: def.shown_to_participant(rule),
            only_one: shown == 1,
        }
    }
}

/// A latest score with the value before it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LatestScore {
    pub score: ScoreRow,
    pub previous: Option<f64>,
    /// The score in plain words, for the participant's own pages.
    pub about: ScoreAbout,
}

/// A person's scores for someone allowed to see that person (audited).
pub async fn person_scores(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
) -> Result<Vec<ScoreRow>, AppError> {
    let mut tx = state.db.begin().await?;
    let who = check::<StaffOrThemselves>(&mut tx, actor, person_id).await?;
    let rows = scores_for_person(&mut tx, &who).await?;
    audit::by(
        &mut tx,
        actor,
        "measure.scores.read",
        "person",
        Some(person_id),
        json!({ "rows": rows.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(rows)
}
