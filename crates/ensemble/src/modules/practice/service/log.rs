//! The three-part session log and its observation scales (through the measures engine).

use crate::modules::practice::model::SessionStatus;
use serde_json::json;
use sqlx::Row;

use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

/// Outcome of saving a log.
#[derive(Debug, Clone, PartialEq)]
pub enum LogSaved {
    Saved,
    /// Someone else saved first: their version and log, to show beside yours.
    Conflict {
        version: i64,
        theirs: Log,
        by: String,
    },
}

/// Save the session log if it is still at `based_on`; otherwise report the conflict with
/// the other person's text (nothing is overwritten). Any practitioner or programme manager
/// of the organisation may add to it (co-facilitators); each saver is recorded.
pub async fn save_log(
    state: &AppState,
    actor: &Actor,
    id: &str,
    log: &Log,
    based_on: i64,
) -> Result<LogSaved, AppError> {
    let mut e = Vec::new();
    for (field, value) in [
        ("what_happened", &log.what_happened),
        ("engagement", &log.engagement),
        ("moments", &log.moments),
        ("debrief", &log.debrief),
        ("next_time", &log.next_time),
    ] {
        if value.chars().count() > 10_000 {
            e.push(FieldError::new(field, "Keep this to 10,000 characters"));
        }
    }
    if log.what_happened.trim().is_empty() {
        e.push(FieldError::new(
            "what_happened",
            "Say briefly what happened in the session",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, id).await?;
    if s.status == SessionStatus::Cancelled {
        return Err(AppError::Conflict(
            "This session was cancelled, so it has no log".into(),
        ));
    }
    if s.starts_at > now() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "what_happened",
            "The log can be written once the session has started",
        )]));
    }
    if s.log_version != based_on {
        let by: Option<String> = sqlx::query_scalar(
            "SELECT u.display_name FROM session_revisions r JOIN accounts_user_names u ON u.id = r.changed_by \
             WHERE r.session_id = $1 AND r.part = 'log' AND r.version = $2",
        )
        .bind(id.to_string())
        .bind(s.log_version)
        .fetch_optional(&mut *tx)
        .await?;
        return Ok(LogSaved::Conflict {
            version: s.log_version,
            theirs: s.log.clone(),
            by: by.unwrap_or_else(|| "someone".into()),
        });
    }
    let next = based_on + 1;
    let n = sqlx::query(
        "UPDATE practice_sessions SET log_what_happened = $1, log_engagement = $2, log_moments = $3, log_debrief = $4, \
         log_next_time = $5, log_version = $6, status = 'held', updated_at = $7 WHERE id = $8 AND log_version = $9",
    )
    .bind(log.what_happened.trim().to_string())
    .bind(log.engagement.trim().to_string())
    .bind(log.moments.trim().to_string())
    .bind(log.debrief.trim().to_string())
    .bind(log.next_time.trim().to_string())
    .bind(next)
    .bind(now())
    .bind(id.to_string())
    .bind(based_on)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AppError::Conflict(
            "Someone else saved this log at the same moment; reload it".into(),
        ));
    }
    sqlx::query("INSERT INTO session_facilitators (session_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(id.to_string())
        .bind(actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
    revision(&mut tx, actor, &s, "log", next, json!(log)).await?;
    audit_session(
        &mut tx,
        actor,
        "session.log.save",
        id,
        json!({ "version": next }),
    )
    .await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
    Ok(LogSaved::Saved)
}

/// Observation scales offered for a session: the built-in observer scales. (Co-designed
/// instruments are answered by people about themselves; nothing yet marks one as an
/// observer scale, so none is offered here.)
pub async fn observation_scales(
    _state: &AppState,
    _organisation_id: &str,
) -> Result<Vec<crate::modules::measures::definition::Definition>, AppError> {
    use crate::modules::measures::definition::{OBSERVATION_SCALES, builtin};
    Ok(OBSERVATION_SCALES
        .iter()
        .filter_map(|id| builtin(id).cloned())
        .collect())
}

/// A recorded observation: instrument name and its scores.
#[derive(Debug, Clone)]
pub struct Observation {
    pub instrument: String,
    pub scores: Vec<crate::modules::measures::definition::Score>,
    pub recorded_at: i64,
    /// The participant observed (first name), when not the whole group.
    pub about: Option<String>,
}

/// Observations recorded for a session, newest first.
pub async fn observations(
    state: &AppState,
    s: &SessionAccess,
) -> Result<Vec<Observation>, AppError> {
    let mut tx = state.db.begin().await?;
    let rows = sqlx::query(
        "SELECT o.instrument_id, o.scores, o.recorded_at, o.person_id \
         FROM session_observations o \
         WHERE o.session_id = $1 ORDER BY o.recorded_at DESC, o.id",
    )
    .bind(s.id.clone())
    .fetch_all(&mut *tx)
    .await?;
    let person_ids = rows
        .iter()
        .filter_map(|r| r.try_get::<Option<String>, _>("person_id").ok().flatten())
        .collect::<Vec<_>>();
    let names = crate::modules::people::service::display_names(&mut tx, &person_ids).await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for r in rows {
        let instrument: String = r.try_get("instrument_id")?;
        let scores: Vec<crate::modules::measures::definition::Score> =
            serde_json::from_str::<Vec<serde_json::Value>>(&r.try_get::<String, _>("scores")?)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| {
                    Some(crate::modules::measures::definition::Score {
                        id: v["id"].as_str()?.to_string(),
                        label: v["label"].as_str()?.to_string(),
                        value: v["value"].as_f64()?,
                        band: v["band"].as_str().map(str::to_string),
                    })
                })
                .collect();
        out.push(Observation {
            instrument: crate::modules::measures::definition::builtin(&instrument)
                .map(|d| d.short_name.clone())
                .unwrap_or(instrument),
            scores,
            recorded_at: r.try_get("recorded_at")?,
            about: r
                .try_get::<Option<String>, _>("person_id")?
                .map(|p| names.get(&p).map(|n| n.short.clone()).unwrap_or_default()),
        });
    }
    Ok(out)
}

/// Record an observation scale for a session: answers checked against the scale (every
/// problem named by question), scored, stored with the version, audited.
pub async fn observe(
    state: &AppState,
    actor: &Actor,
    id: &str,
    instrument: &str,
    about: Option<&str>,
    answers: std::collections::BTreeMap<String, crate::modules::measures::definition::Answer>,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, id).await?;
    if s.status == SessionStatus::Cancelled {
        return Err(AppError::Conflict("This session was cancelled".into()));
    }
    // An observation of one participant: someone marked as attending this session.
    if let Some(person) = about
        && !crate::modules::practice::moments::attendees(state, &s)
            .await?
            .iter()
            .any(|a| a.person_id == person)
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "about",
            "Choose the whole group or someone marked as attending this session",
        )]));
    }
    let scales = observation_scales(state, &s.organisation_id).await?;
    let def = scales
        .into_iter()
        .find(|d| d.id == instrument)
        .ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new(
                "instrument",
                "Choose an observation scale",
            )])
        })?;
    let problems = crate::modules::measures::service::check_answers(&def, &answers);
    if !problems.is_empty() {
        return Err(AppError::Invalid(
            problems
                .into_iter()
                .map(|p| FieldError::new(format!("q_{}", p.field), p.message))
                .collect(),
        ));
    }
    let scores = def.score(&answers).map_err(|e| {
        AppError::Invalid(
            e.0.into_iter()
                .map(|p| FieldError::new(format!("q_{}", p.item), p.message))
                .collect(),
        )
    })?;
    let obs_id = new_id();
    sqlx::query(
        "INSERT INTO session_observations (id, session_id, instrument_id, instrument_version, answers, scores, recorded_by, recorded_at, person_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(obs_id.clone())
    .bind(id.to_string())
    .bind(def.id.clone())
    .bind(i64::from(def.version))
    .bind(serde_json::to_string(&answers).map_err(anyhow::Error::from)?)
    .bind(serde_json::to_string(&scores).map_err(anyhow::Error::from)?)
    .bind(actor.user_id.clone())
    .bind(now())
    .bind(about.map(str::to_string))
    .execute(&mut *tx)
    .await?;
    audit_session(
        &mut tx,
        actor,
        "session.observation",
        id,
        json!({ "instrument": def.key(), "participant": about.is_some() }),
    )
    .await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
    Ok(())
}
