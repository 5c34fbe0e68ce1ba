//! Assessments: assessing yourself, asking a peer or supervisor, and their answer.

use serde_json::json;

use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::practice::access::{AssessmentAccess, Assessor, Party, Relationship};
use crate::modules::practice::competencies::{self};
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

/// Self-assessment or a request (fields of the form).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AssessInput {
    pub competency: String,
    pub level: String,
    pub comment: String,
    /// `peer` or `supervisor`, for requests.
    pub kind: String,
    pub assessor_email: String,
}

fn check_level(level: &str, e: &mut Vec<FieldError>) -> Option<i64> {
    match level.trim().parse::<i64>() {
        Ok(l) if (1..=4).contains(&l) => Some(l),
        _ => {
            e.push(FieldError::new("level", "Choose a level from 1 to 4"));
            None
        }
    }
}

async fn competency_in_use(
    state: &AppState,
    actor: &Actor,
    code: &str,
    e: &mut Vec<FieldError>,
) -> Result<Option<(String, i64)>, AppError> {
    let (org, f) = framework_in_use(state, actor).await?;
    if f.by_code(code.trim()).is_none() {
        e.push(FieldError::new("competency", "Choose a competency"));
        return Ok(None);
    }
    Ok(Some((org, f.version)))
}

/// Record the actor's self-assessment of a competency.
pub async fn self_assess(state: &AppState, actor: &Actor, f: &AssessInput) -> Result<(), AppError> {
    let mut e = Vec::new();
    let found = competency_in_use(state, actor, &f.competency, &mut e).await?;
    let level = check_level(&f.level, &mut e);
    if f.comment.chars().count() > 5_000 {
        e.push(FieldError::new(
            "comment",
            "Keep the comment to 5,000 characters",
        ));
    }
    let (Some((org, version)), Some(level), true) = (found, level, e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let id = new_id();
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO competency_assessments (id, practitioner_id, organisation_id, competency_code, framework_version, assessor_id, kind, status, level, comment, requested_at, given_at) \
                 VALUES ($1, $2, $3, $4, $5, $2, 'self', 'given', $6, $7, $8, $8)")
        .bind(id.clone())
        .bind(actor.user_id.clone())
        .bind(org)
        .bind(f.competency.trim().to_string())
        .bind(version)
        .bind(level)
        .bind(f.comment.trim().to_string())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "portfolio.self_assessed",
        "competency_assessment",
        Some(&id),
        json!({ "competency": f.competency.trim() }),
    )
    .await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
    Ok(())
}

/// Ask a peer (a practitioner or programme manager of the same organisation) or a
/// supervisor (someone recorded as the actor's supervisor) to assess a competency. The
/// assessor is emailed a link, with no details.
pub async fn request(state: &AppState, actor: &Actor, f: &AssessInput) -> Result<String, AppError> {
    let mut e = Vec::new();
    let found = competency_in_use(state, actor, &f.competency, &mut e).await?;
    let kind = f.kind.trim();
    if !matches!(kind, "peer" | "supervisor") {
        e.push(FieldError::new("kind", "Choose a peer or your supervisor"));
    }
    let assessor =
        crate::modules::accounts::store::active_user_by_email(&state.db.read, &f.assessor_email)
            .await?;
    let mut assessor_id = String::new();
    let mut assessor_email = String::new();
    match &assessor {
        None => e.push(FieldError::new(
            "assessor_email",
            "No active account has that email address",
        )),
        Some(u) => {
            assessor_id = u.id.clone();
            assessor_email = u.email.clone();
            if assessor_id == actor.user_id {
                e.push(FieldError::new(
                    "assessor_email",
                    "Ask someone other than yourself (use self-assessment for your own view)",
                ));
            } else if let Some((org, _)) = &found {
                if kind == "peer" {
                    let peer: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM accounts_member_roles WHERE user_id = $1 AND organisation_id = $2 AND role IN ('practitioner', 'programme_manager')",
                    )
                    .bind(assessor_id.clone())
                    .bind(org.clone())
                    .fetch_one(&state.db.read)
                    .await?;
                    if peer == 0 {
                        e.push(FieldError::new(
                            "assessor_email",
                            "A peer assessor must be a practitioner or programme manager in your organisation",
                        ));
                    }
                } else if kind == "supervisor" {
                    let supervises: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM supervision_records WHERE practitioner_id = $1 AND supervisor_id = $2",
                    )
                    .bind(actor.user_id.clone())
                    .bind(assessor_id.clone())
                    .fetch_one(&state.db.read)
                    .await?;
                    if supervises == 0 {
                        e.push(FieldError::new(
                            "assessor_email",
                            "Record a supervision session with this person first: only your supervisor can give a supervisor assessment",
                        ));
                    }
                }
            }
        }
    }
    let (Some((org, version)), true) = (found, e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let id = new_id();
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO competency_assessments (id, practitioner_id, organisation_id, competency_code, framework_version, assessor_id, kind, status, requested_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8)")
        .bind(id.clone())
        .bind(actor.user_id.clone())
        .bind(org)
        .bind(f.competency.trim().to_string())
        .bind(version)
        .bind(assessor_id)
        .bind(kind.to_string())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "portfolio.assessment_requested",
        "competency_assessment",
        Some(&id),
        json!({ "competency": f.competency.trim(), "kind": kind }),
    )
    .await?;
    crate::notify::queue_email(
        &mut tx,
        &assessor_email,
        "A colleague has asked for your assessment",
        &format!(
            "A colleague has asked you to assess one of their competencies in Ensemble.\n\nOpen the request: {}/practice/assessments/{id}\n",
            state.cfg.base_url.trim_end_matches('/')
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Assessments asked of the actor (open first).
pub async fn asked_of(state: &AppState, actor: &Actor) -> Result<Vec<Assessment>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ASSESSMENT_SELECT} WHERE a.assessor_id = $1 AND a.kind <> 'self' ORDER BY CASE a.status WHEN 'requested' THEN 0 ELSE 1 END, a.requested_at DESC"
    )))
    .bind(actor.user_id.clone())
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(assessment_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::from)
}

/// A request as its assessor (or the practitioner) sees it: the competency and the evidence
/// linked to it. Everyone else gets 404. Audited.
pub async fn request_view(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Assessment, Option<competencies::Competency>, Vec<Evidence>), AppError> {
    let mut tx = state.db.begin().await?;
    let a = AssessmentAccess::<Party>::check(&mut tx, actor, id).await?;
    let competency = competencies::current(state, &a.organisation_id)
        .await?
        .and_then(|f| f.by_code(&a.competency_code).cloned());
    let evidence = if a.status == "declined" && !a.has(Relationship::Requester) {
        Vec::new()
    } else {
        evidence_rows(
            &state.db.read,
            &a.practitioner_id,
            &a.organisation_id,
            Some(&a.competency_code),
        )
        .await?
    };
    audit::by(
        &mut tx,
        actor,
        "portfolio.assessment_read",
        "competency_assessment",
        Some(&a.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok((a.into_record(), competency, evidence))
}

/// The assessor gives (or declines) an assessment asked of them.
pub async fn answer(
    state: &AppState,
    actor: &Actor,
    id: &str,
    f: &AssessInput,
    decline: bool,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let a = AssessmentAccess::<Assessor>::check(&mut tx, actor, id).await?;
    if a.status != "requested" {
        return Err(AppError::Conflict(
            "This assessment has already been answered".into(),
        ));
    }
    let mut e = Vec::new();
    let level = if decline {
        None
    } else {
        check_level(&f.level, &mut e)
    };
    if !decline && f.comment.trim().is_empty() {
        e.push(FieldError::new(
            "comment",
            "Write what you saw that supports this level",
        ));
    }
    if f.comment.chars().count() > 5_000 {
        e.push(FieldError::new(
            "comment",
            "Keep the comment to 5,000 characters",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let changed = sqlx::query("UPDATE competency_assessments SET status = $1, level = $2, comment = $3, given_at = $4 WHERE id = $5 AND status = 'requested'")
        .bind(if decline { "declined" } else { "given" })
        .bind(level)
        .bind(f.comment.trim().to_string())
        .bind(now())
        .bind(a.id.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(AppError::Conflict(
            "This assessment has already been answered".into(),
        ));
    }
    audit::by(
        &mut tx,
        actor,
        if decline {
            "portfolio.assessment_declined"
        } else {
            "portfolio.assessment_given"
        },
        "competency_assessment",
        Some(&a.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
    Ok(())
}
