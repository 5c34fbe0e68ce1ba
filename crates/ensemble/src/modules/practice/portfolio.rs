//! The CPD portfolio: a practitioner links evidence — sessions they led, journal
//! reflections, supervision, training records with certificates, peer observations — to the
//! competencies of their organisation's framework, assesses themselves, and asks a peer or
//! their supervisor for an assessment. The portfolio is its owner's: an assessor sees only
//! the evidence linked to the competency they were asked about, while the request is open
//! or after they answered it. Every read of someone else's evidence, every change and every
//! export is audited.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::competencies::{self, Framework};
use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// Largest certificate accepted.
pub const MAX_CERTIFICATE_BYTES: usize = 5 * 1024 * 1024;

/// Kinds of evidence: (code, label).
pub const KINDS: [(&str, &str); 5] = [
    ("session", "A session I led"),
    ("reflection", "A reflection from my journal"),
    ("supervision", "A supervision session"),
    ("training", "Training (with a certificate if you have one)"),
    ("peer_observation", "A peer observation of my practice"),
];

/// Assessment levels: (level, label).
pub const LEVELS: [(i64, &str); 4] = [
    (1, "Aware: I know what this involves"),
    (2, "Developing: I do this with support"),
    (3, "Competent: I do this confidently on my own"),
    (4, "Leading: I can guide and teach others"),
];

/// The short name of a level.
pub fn level_name(level: i64) -> &'static str {
    match level {
        1 => "Aware",
        2 => "Developing",
        3 => "Competent",
        4 => "Leading",
        _ => "",
    }
}

/// A certificate's description (never its content).
#[derive(Debug, Clone, Serialize)]
pub struct CertificateInfo {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// One piece of evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub occurred_on: String,
    pub detail: String,
    /// The session, journal entry or supervision record it points to.
    pub source_id: Option<String>,
    pub hours: Option<f64>,
    pub certificate: Option<CertificateInfo>,
    /// Competency codes.
    pub competencies: Vec<String>,
}

/// An assessment given or asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub id: String,
    pub practitioner: String,
    pub competency_code: String,
    pub framework_version: i64,
    pub assessor: String,
    pub kind: String,
    pub status: String,
    pub level: Option<i64>,
    pub comment: String,
    pub requested_at: i64,
    pub given_at: Option<i64>,
    #[serde(skip)]
    pub assessor_id: String,
}

/// A practitioner's portfolio against the framework in use.
#[derive(Debug, Clone, Serialize)]
pub struct Portfolio {
    pub practitioner: String,
    pub organisation_id: String,
    pub organisation: String,
    pub framework: Option<Framework>,
    pub evidence: Vec<Evidence>,
    pub assessments: Vec<Assessment>,
}

impl Portfolio {
    /// Evidence linked to a competency.
    pub fn evidence_for(&self, code: &str) -> Vec<&Evidence> {
        self.evidence
            .iter()
            .filter(|e| e.competencies.iter().any(|c| c == code))
            .collect()
    }

    /// The latest given assessment of each kind for a competency.
    pub fn latest(&self, code: &str, kind: &str) -> Option<&Assessment> {
        self.assessments
            .iter()
            .filter(|a| a.competency_code == code && a.kind == kind && a.status == "given")
            .max_by_key(|a| (a.given_at, a.requested_at))
    }
}

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

async fn evidence_rows(
    db: &sqlx::AnyPool,
    user: &str,
    org: &str,
    only_code: Option<&str>,
) -> Result<Vec<Evidence>, AppError> {
    let rows = sqlx::query(
        "SELECT e.id, e.kind, e.title, e.occurred_on, e.detail, e.source_id, e.hours, \
         c.id AS cert_id, c.filename, c.content_type, c.size_bytes, c.sha256 \
         FROM portfolio_evidence e LEFT JOIN certificates c ON c.id = e.certificate_id \
         WHERE e.user_id = $1 AND e.organisation_id = $2 ORDER BY e.occurred_on DESC, e.created_at DESC",
    )
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
        let cert_id: Option<String> = r.try_get("cert_id")?;
        out.push(Evidence {
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
            id,
        });
    }
    Ok(out)
}

const ASSESSMENT_SELECT: &str = "SELECT a.id, a.competency_code, a.framework_version, a.kind, a.status, a.level, a.comment, \
    a.requested_at, a.given_at, p.display_name AS practitioner, v.display_name AS assessor, a.practitioner_id, a.assessor_id, a.organisation_id \
    FROM competency_assessments a JOIN users p ON p.id = a.practitioner_id JOIN users v ON v.id = a.assessor_id";

fn assessment_row(r: &sqlx::any::AnyRow) -> Result<Assessment, sqlx::Error> {
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

/// The actor's own records that can be linked as evidence: (kind, id, label, date).
pub async fn linkable(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(String, String, String, String)>, AppError> {
    let mut out = Vec::new();
    let rows = sqlx::query(
        "SELECT s.id, s.starts_at, a.name FROM practice_sessions s JOIN activities a ON a.id = s.activity_id \
         WHERE s.status <> 'cancelled' AND s.starts_at <= $2 AND (s.lead_user_id = $1 OR EXISTS (SELECT 1 FROM session_facilitators f WHERE f.session_id = s.id AND f.user_id = $1)) \
         ORDER BY s.starts_at DESC LIMIT 100",
    )
    .bind(actor.user_id.clone())
    .bind(now())
    .fetch_all(&state.db.read)
    .await?;
    for r in &rows {
        let d = crate::db::date_of(r.try_get("starts_at")?);
        out.push((
            "session".into(),
            r.try_get("id")?,
            format!("{}, {d}", r.try_get::<String, _>("name")?),
            d,
        ));
    }
    let rows = sqlx::query("SELECT id, title, created_at FROM journal_entries WHERE user_id = $1 ORDER BY created_at DESC LIMIT 100")
        .bind(actor.user_id.clone())
        .fetch_all(&state.db.read)
        .await?;
    for r in &rows {
        let d = crate::db::date_of(r.try_get("created_at")?);
        out.push((
            "reflection".into(),
            r.try_get("id")?,
            format!("{}, {d}", r.try_get::<String, _>("title")?),
            d,
        ));
    }
    let rows = sqlx::query("SELECT s.id, s.met_on, u.display_name FROM supervision_records s JOIN users u ON u.id = s.supervisor_id WHERE s.practitioner_id = $1 ORDER BY s.met_on DESC LIMIT 100")
        .bind(actor.user_id.clone())
        .fetch_all(&state.db.read)
        .await?;
    for r in &rows {
        let d: String = r.try_get("met_on")?;
        out.push((
            "supervision".into(),
            r.try_get("id")?,
            format!(
                "Supervision with {}, {d}",
                r.try_get::<String, _>("display_name")?
            ),
            d,
        ));
    }
    Ok(out)
}

/// The actor's portfolio organisation and its framework in use (409 when it has none).
pub async fn framework_in_use(
    state: &AppState,
    actor: &Actor,
) -> Result<(String, Framework), AppError> {
    let (org, _) = home(actor)?;
    let f = competencies::current(state, &org).await?.ok_or_else(|| {
        AppError::Conflict(
            "Your organisation has not published a competency framework yet: start one on the framework page".into(),
        )
    })?;
    Ok((org, f))
}

/// New evidence (fields of the form).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct EvidenceInput {
    pub kind: String,
    /// `kind:id` of a linked record, for sessions, reflections and supervision.
    pub source: String,
    pub title: String,
    pub occurred_on: String,
    pub detail: String,
    pub hours: String,
    pub competencies: Vec<String>,
}

/// A certificate file as uploaded.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub data: Vec<u8>,
}

/// Check a certificate: size and type (from its first bytes, not its name).
pub fn check_certificate(u: &Upload) -> Result<&'static str, FieldError> {
    if u.data.len() > MAX_CERTIFICATE_BYTES {
        return Err(FieldError::new(
            "certificate",
            format!(
                "The certificate \"{}\" is {}; the largest accepted is {}",
                u.filename,
                crate::web::upload::file_size(u.data.len()),
                crate::web::upload::file_size(MAX_CERTIFICATE_BYTES)
            ),
        ));
    }
    crate::web::upload::sniff(&u.data).ok_or_else(|| {
        FieldError::new(
            "certificate",
            format!(
                "The certificate \"{}\" is not a PDF, PNG or JPEG file: upload a PDF of the certificate or a photo of it",
                u.filename
            ),
        )
    })
}

/// Add evidence (with an optional certificate for training). Checked whole: nothing is
/// stored unless every field is right.
pub async fn add_evidence(
    state: &AppState,
    actor: &Actor,
    f: &EvidenceInput,
    certificate: Option<Upload>,
) -> Result<String, AppError> {
    let (org, framework) = framework_in_use(state, actor).await?;
    let mut e = Vec::new();
    let kind = f.kind.trim();
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        e.push(FieldError::new(
            "kind",
            "Choose what kind of evidence this is",
        ));
    }
    let typed_title = f.title.trim().to_string();
    let mut title = typed_title.clone();
    let mut occurred_on = f.occurred_on.trim().to_string();
    let mut source_id = None;
    if matches!(kind, "session" | "reflection" | "supervision") {
        let records = linkable(state, actor).await?;
        match f
            .source
            .split_once(':')
            .and_then(|(k, id)| records.iter().find(|r| r.0 == k && r.1 == id && k == kind))
        {
            Some((_, id, label, date)) => {
                source_id = Some(id.clone());
                if title.is_empty() {
                    title = label.chars().take(200).collect();
                }
                if occurred_on.is_empty() {
                    occurred_on = date.clone();
                }
            }
            None => e.push(FieldError::new(
                "source",
                format!(
                    "Choose the {} from your records",
                    match kind {
                        "session" => "session you led",
                        "reflection" => "journal entry",
                        _ => "supervision session",
                    }
                ),
            )),
        }
    } else if !f.source.trim().is_empty() && !kind.is_empty() {
        e.push(FieldError::new(
            "source",
            "Only sessions, reflections and supervision link to a record: leave this empty",
        ));
    }
    if matches!(kind, "training" | "peer_observation") && title.is_empty() {
        e.push(FieldError::new(
            "title",
            if kind == "training" {
                "Enter the name of the training"
            } else {
                "Enter who observed you and what they saw (for example, \"Observed by Sam: Tuesday choir\")"
            },
        ));
    }
    if typed_title.chars().count() > 200 {
        e.push(FieldError::new("title", "Keep the title to 200 characters"));
    }
    let today = crate::db::uk::today();
    match super::service::parse_date(&occurred_on) {
        Some(d) if d > today => e.push(FieldError::new(
            "occurred_on",
            "The date cannot be in the future",
        )),
        Some(_) => {}
        // A missing record is reported on its own field.
        None if source_id.is_none() && matches!(kind, "session" | "reflection" | "supervision") => {
        }
        None => e.push(FieldError::new(
            "occurred_on",
            "Enter the date as year-month-day, like 2026-11-20",
        )),
    }
    let hours = if f.hours.trim().is_empty() {
        None
    } else {
        match f.hours.trim().parse::<f64>() {
            Ok(h) if h > 0.0 && h <= 1000.0 && h.is_finite() => Some(h),
            _ => {
                e.push(FieldError::new(
                    "hours",
                    "Enter the hours as a number between 0.5 and 1000, like 3 or 7.5",
                ));
                None
            }
        }
    };
    if f.detail.chars().count() > 10_000 {
        e.push(FieldError::new(
            "detail",
            "Keep the notes to 10,000 characters",
        ));
    }
    if kind == "peer_observation" && f.detail.trim().is_empty() {
        e.push(FieldError::new(
            "detail",
            "Write what the observer noticed and their feedback",
        ));
    }
    let mut codes: Vec<String> = f
        .competencies
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        e.push(FieldError::new(
            "competencies",
            "Choose at least one competency this shows",
        ));
    } else if let Some(bad) = codes.iter().find(|c| framework.by_code(c).is_none()) {
        e.push(FieldError::new(
            "competencies",
            format!("{bad} is not a competency of your organisation's framework"),
        ));
    }
    let mut cert = None;
    if let Some(u) = certificate {
        if kind != "training" {
            e.push(FieldError::new(
                "certificate",
                "Certificates go with training records: choose \"Training\" or remove the file",
            ));
        } else {
            match check_certificate(&u) {
                Ok(ct) => cert = Some((u, ct)),
                Err(fe) => e.push(fe),
            }
        }
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = new_id();
    let mut tx = state.db.begin().await?;
    let cert_id = match cert {
        Some((u, ct)) => {
            use sha2::Digest;
            let cid = new_id();
            sqlx::query("INSERT INTO certificates (id, user_id, filename, content_type, size_bytes, sha256, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(cid.clone())
                .bind(actor.user_id.clone())
                .bind(u.filename.chars().take(200).collect::<String>())
                .bind(ct)
                .bind(u.data.len() as i64)
                .bind(hex::encode(sha2::Sha256::digest(&u.data)))
                .bind(u.data)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            Some(cid)
        }
        None => None,
    };
    sqlx::query("INSERT INTO portfolio_evidence (id, user_id, organisation_id, kind, title, occurred_on, detail, source_id, hours, certificate_id, created_at) \
                 VALUES ($1, $2, $11, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(id.clone())
        .bind(actor.user_id.clone())
        .bind(kind.to_string())
        .bind(title)
        .bind(occurred_on)
        .bind(f.detail.trim().to_string())
        .bind(source_id)
        .bind(hours)
        .bind(cert_id.clone())
        .bind(now())
        .bind(org.clone())
        .execute(&mut *tx)
        .await?;
    for c in &codes {
        sqlx::query("INSERT INTO portfolio_evidence_competencies (evidence_id, competency_code) VALUES ($1, $2)")
            .bind(id.clone())
            .bind(c.clone())
            .execute(&mut *tx)
            .await?;
    }
    audit::by(
        &mut tx,
        actor,
        "portfolio.evidence_added",
        "portfolio_evidence",
        Some(&id),
        json!({ "kind": kind, "competencies": codes, "certificate": cert_id.is_some() }),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(id)
}

/// Remove a piece of the actor's evidence (and its certificate).
pub async fn remove_evidence(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let cert: Option<Option<String>> = sqlx::query_scalar(
        "SELECT certificate_id FROM portfolio_evidence WHERE id = $1 AND user_id = $2",
    )
    .bind(id.to_string())
    .bind(actor.user_id.clone())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(cert) = cert else {
        return Err(AppError::NotFound);
    };
    sqlx::query("DELETE FROM portfolio_evidence_competencies WHERE evidence_id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM portfolio_evidence WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    if let Some(c) = cert {
        sqlx::query("DELETE FROM certificates WHERE id = $1")
            .bind(c)
            .execute(&mut *tx)
            .await?;
    }
    audit::by(
        &mut tx,
        actor,
        "portfolio.evidence_removed",
        "portfolio_evidence",
        Some(id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(())
}

/// A certificate's content: its owner, or someone asked to assess a competency the
/// certificate's evidence is linked to. 404 for everyone else.
pub async fn certificate(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(String, String, Vec<u8>), AppError> {
    let mut tx = state.db.begin().await?;
    let r = sqlx::query(
        "SELECT c.user_id, c.filename, c.content_type, c.data FROM certificates c WHERE c.id = $1 AND (c.user_id = $2 OR EXISTS ( \
           SELECT 1 FROM portfolio_evidence e JOIN portfolio_evidence_competencies l ON l.evidence_id = e.id \
           JOIN competency_assessments a ON a.practitioner_id = e.user_id AND a.competency_code = l.competency_code \
           WHERE e.certificate_id = c.id AND a.assessor_id = $2 AND a.kind <> 'self' AND a.status <> 'declined'))",
    )
    .bind(id.to_string())
    .bind(actor.user_id.clone())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    audit::by(
        &mut tx,
        actor,
        "portfolio.certificate_read",
        "certificate",
        Some(id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        r.try_get("filename")?,
        r.try_get("content_type")?,
        r.try_get("data")?,
    ))
}

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
    super::summary::invalidate();
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
                        "SELECT COUNT(*) FROM memberships WHERE user_id = $1 AND organisation_id = $2 AND role IN ('practitioner', 'programme_manager')",
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
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ASSESSMENT_SELECT} WHERE a.id = $1 AND a.kind <> 'self' AND (a.assessor_id = $2 OR a.practitioner_id = $2)"
    )))
    .bind(id.to_string())
    .bind(actor.user_id.clone())
    .fetch_optional(&state.db.read)
    .await?
    .ok_or(AppError::NotFound)?;
    let a = assessment_row(&r)?;
    let practitioner: String = r.try_get("practitioner_id")?;
    let org: String = r.try_get("organisation_id")?;
    let competency = competencies::current(state, &org)
        .await?
        .and_then(|f| f.by_code(&a.competency_code).cloned());
    let evidence = if a.status == "declined" && practitioner != actor.user_id {
        Vec::new()
    } else {
        evidence_rows(
            &state.db.read,
            &practitioner,
            &org,
            Some(&a.competency_code),
        )
        .await?
    };
    let mut tx = state.db.begin().await?;
    audit::by(
        &mut tx,
        actor,
        "portfolio.assessment_read",
        "competency_assessment",
        Some(id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok((a, competency, evidence))
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
    let status: String = sqlx::query_scalar(
        "SELECT status FROM competency_assessments WHERE id = $1 AND assessor_id = $2 AND kind <> 'self'",
    )
    .bind(id.to_string())
    .bind(actor.user_id.clone())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if status != "requested" {
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
        .bind(id.to_string())
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
        Some(id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(())
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
