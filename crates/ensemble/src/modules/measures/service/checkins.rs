//! Check-ins: what a participant may complete, their latest scores, and submitting their own
//! answers.

use std::collections::BTreeMap;

use serde_json::json;

use crate::audit;
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::measures::definition::{Answer, Definition, Score, builtins};
use crate::modules::measures::schedules::DueItem;
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

/// Instruments the person can complete themselves: open built-ins, licensed ones whose
/// wording one of their organisations has uploaded, and approved co-designed instruments of
/// their organisations.
async fn available_for<R: Relation>(
    tx: &mut Tx,
    who: &PersonMeasures<R>,
) -> Result<Vec<(Definition, bool)>, AppError> {
    let mut out = Vec::new();
    for d in builtins().iter().filter(|d| {
        !crate::modules::measures::definition::OBSERVATION_SCALES.contains(&d.id.as_str())
    }) {
        let worded = !d.is_licensed() || overlay_for(tx, who, d).await?.is_some();
        if worded {
            out.push((d.clone(), true));
        }
    }
    for org in &who.organisations {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT instrument_id FROM instrument_versions WHERE organisation_id = $1 AND status = 'approved' ORDER BY instrument_id",
        )
        .bind(org.clone())
        .fetch_all(&mut **tx)
        .await?;
        for id in ids {
            if let Some(d) = definition(&mut **tx, &id, None).await?
                && !out.iter().any(|(o, _)| o.id == d.id)
            {
                out.push((d, true));
            }
        }
    }
    Ok(out)
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
    let who = check_recording(&mut tx, actor, &n.person_id, n.mode).await?;
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
        let ok: Option<String> = sqlx::query_scalar(
            "SELECT id FROM referrals_case_summaries WHERE id = $1 AND person_id = $2",
        )
        .bind(rid.clone())
        .bind(who.person_id.clone())
        .fetch_optional(&mut *tx)
        .await?;
        if ok.is_none() {
            return Err(AppError::Invalid(vec![FieldError::new(
                "referral_id",
                "no referral of this person has that id",
            )]));
        }
    }
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
    .bind(who.person_id.clone())
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
    audit::by(
        &mut tx,
        actor,
        "measure.complete",
        "measure_response",
        Some(&id),
        json!({ "person_id": who.person_id, "instrument": def.key(), "mode": n.mode.code(), "channel": "api" }),
    )
    .await?;
    tx.commit().await?;
    Ok((id, def, scores))
}

/// The participant record linked to the actor's account, if any.
pub async fn own_person(state: &AppState, actor: &Actor) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM people_person_accounts WHERE user_id = $1 ORDER BY created_at LIMIT 1",
    )
    .bind(actor.user_id.clone())
    .fetch_optional(&state.db.read)
    .await?)
}

/// What a participant's own check-ins page shows.
pub struct OwnCheckIns {
    pub person_id: String,
    pub available: Vec<(Definition, bool)>,
    pub due: Vec<DueItem>,
    pub latest: Vec<LatestScore>,
    pub pending: Vec<Pending>,
}

/// The actor's own check-ins: what they may start, what is due, what they left unfinished and
/// their latest scores; `None` when no participant record is linked to their account.
pub async fn own_check_ins(
    state: &AppState,
    actor: &Actor,
) -> Result<Option<OwnCheckIns>, AppError> {
    let Some(person_id) = own_person(state, actor).await? else {
        return Ok(None);
    };
    let mut tx = state.db.begin().await?;
    let me = check::<Themselves>(&mut tx, actor, &person_id).await?;
    let available = available_for(&mut tx, &me).await?;
    let latest = latest_for(&mut tx, &me).await?;
    tx.commit().await?;
    let due = crate::modules::measures::schedules::due_for_person(state, &me).await?;
    let pending = pending_for(state, actor).await?;
    Ok(Some(OwnCheckIns {
        person_id,
        available,
        due,
        latest,
        pending,
    }))
}
