//! Evidence: what may be linked, adding it (with a certificate upload), removing it, and
//! reading a certificate.

use serde_json::json;
use sqlx::Row;

use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::practice::access::{CertificateAccess, EvidenceAccess, Owner, Party};
use crate::modules::practice::competencies::{self, Framework};
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

/// The actor's own records that can be linked as evidence: (kind, id, label, date).
pub async fn linkable(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(String, String, String, String)>, AppError> {
    let mut out = Vec::new();
    let rows = sqlx::query(
        "SELECT s.id, s.starts_at, a.name FROM practice_sessions s JOIN directory_activity_names a ON a.id = s.activity_id \
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
    let rows = sqlx::query("SELECT s.id, s.met_on, u.display_name FROM supervision_records s JOIN accounts_user_names u ON u.id = s.supervisor_id WHERE s.practitioner_id = $1 ORDER BY s.met_on DESC LIMIT 100")
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
    match crate::modules::practice::service::parse_date(&occurred_on) {
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
    crate::modules::practice::summary::invalidate();
    Ok(id)
}

/// One piece of the actor's evidence, with the portfolio it is shown in: its owner only,
/// and only in the portfolio of the organisation they now use (404 otherwise).
pub async fn evidence(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Portfolio, Evidence), AppError> {
    let p = mine(state, actor).await?;
    let mut tx = state.db.begin().await?;
    let e = EvidenceAccess::<Owner>::check(&mut tx, actor, id).await?;
    tx.commit().await?;
    if e.organisation_id != p.organisation_id {
        return Err(AppError::NotFound);
    }
    Ok((p, e.into_record()))
}

/// Remove a piece of the actor's evidence (and its certificate).
pub async fn remove_evidence(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let e = EvidenceAccess::<Owner>::check(&mut tx, actor, id).await?;
    sqlx::query("DELETE FROM portfolio_evidence_competencies WHERE evidence_id = $1")
        .bind(e.id.clone())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM portfolio_evidence WHERE id = $1")
        .bind(e.id.clone())
        .execute(&mut *tx)
        .await?;
    if let Some(c) = &e.certificate {
        sqlx::query("DELETE FROM certificates WHERE id = $1")
            .bind(c.id.clone())
            .execute(&mut *tx)
            .await?;
    }
    audit::by(
        &mut tx,
        actor,
        "portfolio.evidence_removed",
        "portfolio_evidence",
        Some(&e.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
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
    let c = CertificateAccess::<Party>::check(&mut tx, actor, id).await?;
    audit::by(
        &mut tx,
        actor,
        "portfolio.certificate_read",
        "certificate",
        Some(&c.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    let c = c.into_record();
    Ok((c.filename, c.content_type, c.data))
}
