//! Reading a portfolio: its owner's page, the export, the CPD hours by domain, and who may
//! edit the framework.

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::Row;

use crate::audit;
use crate::db::now;
use crate::error::AppError;
use crate::modules::practice::competencies::{self};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

use super::*;

/// The organisation whose framework a practitioner's portfolio uses: the first where they
/// are a practitioner, else the first they manage.
pub fn home(actor: &Actor) -> Result<(String, String), AppError> {
    actor
        .memberships
        .iter()
        .find(|m| m.2 == Role::Practitioner)
        .map(|m| (m.0.clone(), m.1.clone()))
        .or_else(|| competencies::organisations(actor).into_iter().next())
        .ok_or(AppError::Forbidden)
}

/// Evidence with its certificate's description; a `WHERE` follows.
pub(in crate::modules::practice) const EVIDENCE_SELECT: &str = "SELECT e.id, e.user_id, e.organisation_id, e.kind, e.title, e.occurred_on, e.detail, e.source_id, e.hours, \
    c.id AS cert_id, c.filename, c.content_type, c.size_bytes, c.sha256 \
    FROM portfolio_evidence e LEFT JOIN certificates c ON c.id = e.certificate_id";

/// A row of [`EVIDENCE_SELECT`] with its competency codes.
pub(in crate::modules::practice) fn evidence_from_row(
    r: &sqlx::any::AnyRow,
    competencies: Vec<String>,
) -> Result<Evidence, sqlx::Error> {
    let cert_id: Option<String> = r.try_get("cert_id")?;
    Ok(Evidence {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        title: r.try_get("title")?,
        occurred_on: r.try_get("occurred_on")?,
        detail: r.try_get("detail")?,
        source_id: r.try_get("source_id")?,
        hours: r.try_get("hours")?,
        certificate: match cert_id {
            Some(cid) => Some(CertificateInfo {
                id: cid,
                filename: r.try_get("filename")?,
                content_type: r.try_get("content_type")?,
                size_bytes: r.try_get("size_bytes")?,
                sha256: r.try_get("sha256")?,
            }),
            None => None,
        },
        competencies,
        organisation_id: r.try_get("organisation_id")?,
    })
}

pub(super) async fn evidence_rows(
    db: &sqlx::AnyPool,
    user: &str,
    org: &str,
    only_code: Option<&str>,
) -> Result<Vec<Evidence>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{EVIDENCE_SELECT} WHERE e.user_id = $1 AND e.organisation_id = $2 ORDER BY e.occurred_on DESC, e.created_at DESC"
    )))
    .bind(user.to_string())
    .bind(org.to_string())
    .fetch_all(db)
    .await?;
    let links = sqlx::query(
        "SELECT l.evidence_id, l.competency_code FROM portfolio_evidence_competencies l \
         JOIN portfolio_evidence e ON e.id = l.evidence_id WHERE e.user_id = $1 AND e.organisation_id = $2 ORDER BY l.competency_code",
    )
    .bind(user.to_string())
    .bind(org.to_string())
    .fetch_all(db)
    .await?;
    let mut by_evidence: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in &links {
        by_evidence
            .entry(l.try_get("evidence_id")?)
            .or_default()
            .push(l.try_get("competency_code")?);
    }
    let mut out = Vec::new();
    for r in &rows {
        let id: String = r.try_get("id")?;
        let competencies = by_evidence.remove(&id).unwrap_or_default();
        if let Some(code) = only_code
            && !competencies.iter().any(|c| c == code)
        {
            continue;
        }
        out.push(evidence_from_row(r, competencies)?);
    }
    Ok(out)
}

pub(in crate::modules::practice) const ASSESSMENT_SELECT: &str = "SELECT a.id, a.competency_code, a.framework_version, a.kind, a.status, a.level, a.comment, \
    a.requested_at, a.given_at, p.display_name AS practitioner, v.display_name AS assessor, a.practitioner_id, a.assessor_id, a.organisation_id \
    FROM competency_assessments a JOIN accounts_user_names p ON p.id = a.practitioner_id JOIN accounts_user_names v ON v.id = a.assessor_id";

pub(in crate::modules::practice) fn assessment_row(
    r: &sqlx::any::AnyRow,
) -> Result<Assessment, sqlx::Error> {
    Ok(Assessment {
        id: r.try_get("id")?,
        practitioner: r.try_get("practitioner")?,
        competency_code: r.try_get("competency_code")?,
        framework_version: r.try_get("framework_version")?,
        assessor: r.try_get("assessor")?,
        kind: r.try_get("kind")?,
        status: r.try_get("status")?,
        level: r.try_get("level")?,
        comment: r.try_get("comment")?,
        requested_at: r.try_get("requested_at")?,
        given_at: r.try_get("given_at")?,
        assessor_id: r.try_get("assessor_id")?,
        practitioner_id: r.try_get("practitioner_id")?,
        organisation_id: r.try_get("organisation_id")?,
    })
}

/// The actor's own portfolio.
pub async fn mine(state: &AppState, actor: &Actor) -> Result<Portfolio, AppError> {
    let (org, org_name) = home(actor)?;
    let framework = competencies::current(state, &org).await?;
    let evidence = evidence_rows(&state.db.read, &actor.user_id, &org, None).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ASSESSMENT_SELECT} WHERE a.practitioner_id = $1 AND a.organisation_id = $2 ORDER BY a.requested_at DESC, a.id"
    )))
    .bind(actor.user_id.clone())
    .bind(org.clone())
    .fetch_all(&state.db.read)
    .await?;
    let assessments = rows
        .iter()
        .map(assessment_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Portfolio {
        practitioner: actor.display_name.clone(),
        organisation_id: org,
        organisation: org_name,
        framework,
        evidence,
        assessments,
    })
}

/// The portfolio as a JSON document (audited as an export).
pub async fn export(state: &AppState, actor: &Actor) -> Result<serde_json::Value, AppError> {
    let p = mine(state, actor).await?;
    let mut tx = state.db.begin().await?;
    audit::by(
        &mut tx,
        actor,
        "portfolio.export",
        "portfolio",
        Some(&actor.user_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    let framework = p.framework.as_ref().map(|f| {
        json!({
            "version": f.version,
            "published_at": f.published_at.map(crate::db::date_of),
            "change_note": f.change_note,
            "competencies": f.competencies.iter().map(|c| json!({
                "code": c.code,
                "domain": c.domain,
                "title": c.title,
                "description": c.description,
                "evidence": p.evidence_for(&c.code).iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
                "self_assessment": p.latest(&c.code, "self").and_then(|a| a.level),
                "peer_assessment": p.latest(&c.code, "peer").and_then(|a| a.level),
                "supervisor_assessment": p.latest(&c.code, "supervisor").and_then(|a| a.level),
            })).collect::<Vec<_>>(),
        })
    });
    Ok(json!({
        "format": "ensemble-cpd-portfolio/1",
        "generated_at": crate::db::date_of(now()),
        "practitioner": p.practitioner,
        "organisation": p.organisation,
        "framework": framework,
        "levels": LEVELS.iter().map(|(l, n)| json!({ "level": l, "label": n })).collect::<Vec<_>>(),
        "evidence": p.evidence,
        "assessments": p.assessments,
    }))
}

/// CPD by domain for the summary: (domain, evidence items, training hours, practitioners
/// with evidence), for one practitioner or everyone in an organisation, against the
/// organisation's framework in use.
pub async fn cpd_by_domain(
    state: &AppState,
    org: &str,
    user: Option<&str>,
) -> Result<Vec<(String, i64, f64, i64)>, AppError> {
    let Some(f) = competencies::current(state, org).await? else {
        return Ok(Vec::new());
    };
    let rows = match user {
        Some(u) => {
            sqlx::query(
                "SELECT e.id, e.user_id, e.hours, l.competency_code FROM portfolio_evidence e \
                 JOIN portfolio_evidence_competencies l ON l.evidence_id = e.id WHERE e.user_id = $1 AND e.organisation_id = $2",
            )
            .bind(u.to_string())
            .bind(org.to_string())
            .fetch_all(&state.db.read)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT e.id, e.user_id, e.hours, l.competency_code FROM portfolio_evidence e \
                 JOIN portfolio_evidence_competencies l ON l.evidence_id = e.id \
                 WHERE e.organisation_id = $1",
            )
            .bind(org.to_string())
            .fetch_all(&state.db.read)
            .await?
        }
    };
    type Acc = (
        std::collections::BTreeSet<String>,
        BTreeMap<String, f64>,
        std::collections::BTreeSet<String>,
    );
    let mut by: BTreeMap<String, Acc> = BTreeMap::new();
    for r in &rows {
        let code: String = r.try_get("competency_code")?;
        let Some(c) = f.by_code(&code) else { continue };
        let acc = by.entry(c.domain.clone()).or_default();
        let id: String = r.try_get("id")?;
        if let Some(h) = r.try_get::<Option<f64>, _>("hours")? {
            acc.1.insert(id.clone(), h);
        }
        acc.0.insert(id);
        acc.2.insert(r.try_get("user_id")?);
    }
    Ok(f.domains()
        .into_iter()
        .map(|d| {
            let (ev, hours, people) = by.remove(&d).unwrap_or_default();
            (
                d,
                ev.len() as i64,
                hours.values().sum::<f64>() + 0.0,
                people.len() as i64,
            )
        })
        .collect())
}

/// Whether the actor may look at an organisation's framework pages.
pub fn may_edit_framework(actor: &Actor, org: &str) -> bool {
    actor.has_role_in(org, Role::Practitioner) || actor.has_role_in(org, Role::ProgrammeManager)
}
