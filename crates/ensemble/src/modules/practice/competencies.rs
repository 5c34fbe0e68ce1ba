//! The competency framework: versioned per organisation and co-created with its
//! practitioners. Practitioners and programme managers edit a draft together (every
//! contributor is recorded); a programme manager publishes it, which retires the version
//! before. Competencies keep their code from version to version, so portfolio evidence and
//! assessments linked to a code carry over to the next version.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::audit;
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// The domains the starter framework uses (an organisation may add others).
pub const STARTER_DOMAINS: [&str; 7] = [
    "Musical practice",
    "Facilitation",
    "Mental health awareness",
    "Safeguarding",
    "Co-production",
    "Evaluation and research",
    "Reflective practice",
];

/// The starter framework an organisation begins from: (domain, title, description).
const STARTER: &[(&str, &str, &str)] = &[
    (
        "Musical practice",
        "Adapts musical activities to the group",
        "Chooses and adapts singing, songwriting, percussion, improvisation and listening to the people in the room and their abilities on the day.",
    ),
    (
        "Musical practice",
        "Keeps their own musicianship developing",
        "Maintains and develops their own musical skills and repertoire for health settings.",
    ),
    (
        "Facilitation",
        "Creates a safe, welcoming group",
        "Sets up the room, welcomes newcomers, manages group dynamics and makes space for quieter people.",
    ),
    (
        "Facilitation",
        "Plans and reviews sessions",
        "Plans sessions with clear aims, adaptations and risks, and reviews them afterwards.",
    ),
    (
        "Mental health awareness",
        "Recognises distress and responds well",
        "Notices signs of distress, responds calmly and knows when and how to involve clinical colleagues.",
    ),
    (
        "Mental health awareness",
        "Works within clinical settings",
        "Understands ward routines, care plans and the limits of the musician's role.",
    ),
    (
        "Safeguarding",
        "Recognises and reports safeguarding concerns",
        "Knows the signs of abuse and neglect and follows the organisation's reporting route without delay.",
    ),
    (
        "Co-production",
        "Shares power with participants",
        "Involves participants in choosing repertoire, shaping sessions and evaluating the programme.",
    ),
    (
        "Evaluation and research",
        "Gathers data consistently and ethically",
        "Completes registers, observation scales and measures as planned, with consent and accuracy.",
    ),
    (
        "Reflective practice",
        "Reflects on practice and uses supervision",
        "Keeps a reflective journal and brings themes to regular supervision.",
    ),
];

/// One competency of a framework version.
#[derive(Debug, Clone, Serialize)]
pub struct Competency {
    pub id: String,
    /// Stable across versions (e.g. `MP1`).
    pub code: String,
    pub domain: String,
    pub title: String,
    pub description: String,
}

/// A version of an organisation's framework.
#[derive(Debug, Clone, Serialize)]
pub struct Framework {
    pub id: String,
    pub organisation_id: String,
    pub version: i64,
    pub status: String,
    pub change_note: String,
    pub published_at: Option<i64>,
    pub competencies: Vec<Competency>,
    /// Display names of everyone who edited this version.
    pub contributors: Vec<String>,
}

impl Framework {
    /// Domains in first-appearance order.
    pub fn domains(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.competencies {
            if !out.contains(&c.domain) {
                out.push(c.domain.clone());
            }
        }
        out
    }

    /// The competency with this code.
    pub fn by_code(&self, code: &str) -> Option<&Competency> {
        self.competencies.iter().find(|c| c.code == code)
    }
}

/// The organisations whose framework the actor may edit (practitioner or programme manager).
pub fn organisations(actor: &Actor) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (id, name, role) in &actor.memberships {
        if matches!(role, Role::Practitioner | Role::ProgrammeManager)
            && !out.iter().any(|(o, _)| o == id)
        {
            out.push((id.clone(), name.clone()));
        }
    }
    out
}

fn member(actor: &Actor, org: &str) -> Result<(), AppError> {
    if actor.has_role_in(org, Role::Practitioner) || actor.has_role_in(org, Role::ProgrammeManager)
    {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn load(
    db: &sqlx::AnyPool,
    where_sql: &str,
    a: &str,
    b: Option<&str>,
) -> Result<Option<Framework>, AppError> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, organisation_id, version, status, change_note, published_at FROM competency_frameworks WHERE {where_sql} ORDER BY version DESC LIMIT 1"
    )))
    .bind(a.to_string());
    if let Some(b) = b {
        q = q.bind(b.to_string());
    }
    let Some(r) = q.fetch_optional(db).await? else {
        return Ok(None);
    };
    let id: String = r.try_get("id")?;
    let comps = sqlx::query(
        "SELECT id, code, domain, title, description FROM competencies WHERE framework_id = $1 ORDER BY position, code",
    )
    .bind(id.clone())
    .fetch_all(db)
    .await?;
    let contributors = sqlx::query_scalar(
        "SELECT u.display_name FROM competency_framework_contributors c JOIN accounts_user_names u ON u.id = c.user_id WHERE c.framework_id = $1 ORDER BY c.first_at, u.display_name",
    )
    .bind(id.clone())
    .fetch_all(db)
    .await?;
    Ok(Some(Framework {
        organisation_id: r.try_get("organisation_id")?,
        version: r.try_get("version")?,
        status: r.try_get("status")?,
        change_note: r.try_get("change_note")?,
        published_at: r.try_get("published_at")?,
        competencies: comps
            .iter()
            .map(|c| {
                Ok(Competency {
                    id: c.try_get("id")?,
                    code: c.try_get("code")?,
                    domain: c.try_get("domain")?,
                    title: c.try_get("title")?,
                    description: c.try_get("description")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?,
        contributors,
        id,
    }))
}

/// The organisation's published framework (the version in use), if any.
pub async fn current(state: &AppState, org: &str) -> Result<Option<Framework>, AppError> {
    load(
        &state.db.read,
        "organisation_id = $1 AND status = 'published'",
        org,
        None,
    )
    .await
}

/// The draft being edited, if any.
pub async fn draft(state: &AppState, org: &str) -> Result<Option<Framework>, AppError> {
    load(
        &state.db.read,
        "organisation_id = $1 AND status = 'draft'",
        org,
        None,
    )
    .await
}

/// (version, status, change note, published at) of every version, newest first.
pub async fn history(
    state: &AppState,
    actor: &Actor,
    org: &str,
) -> Result<Vec<(i64, String, String, Option<i64>)>, AppError> {
    member(actor, org)?;
    let rows = sqlx::query("SELECT version, status, change_note, published_at FROM competency_frameworks WHERE organisation_id = $1 ORDER BY version DESC")
        .bind(org.to_string())
        .fetch_all(&state.db.read)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("version")?,
                r.try_get("status")?,
                r.try_get("change_note")?,
                r.try_get("published_at")?,
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

async fn contributed(tx: &mut Tx, framework: &str, actor: &Actor) -> Result<(), AppError> {
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM competency_framework_contributors WHERE framework_id = $1 AND user_id = $2",
    )
    .bind(framework.to_string())
    .bind(actor.user_id.clone())
    .fetch_optional(&mut **tx)
    .await?;
    if exists.is_none() {
        sqlx::query("INSERT INTO competency_framework_contributors (framework_id, user_id, first_at) VALUES ($1, $2, $3)")
            .bind(framework.to_string())
            .bind(actor.user_id.clone())
            .bind(now())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The code prefix for a domain: its initials (`Mental health awareness` → `MHA`).
fn prefix(domain: &str) -> String {
    let p: String = domain
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !matches!(w.to_lowercase().as_str(), "and" | "of" | "the"))
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .take(4)
        .collect();
    if p.is_empty() { "C".into() } else { p }
}

/// Start a draft: a copy of the version in use (or of the starter framework when there is
/// none). Refused while a draft exists.
pub async fn start_draft(state: &AppState, actor: &Actor, org: &str) -> Result<String, AppError> {
    member(actor, org)?;
    let mut tx = state.db.begin().await?;
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT id FROM competency_frameworks WHERE organisation_id = $1 AND status = 'draft'",
    )
    .bind(org.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let version: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(version) FROM competency_frameworks WHERE organisation_id = $1",
    )
    .bind(org.to_string())
    .fetch_one(&mut *tx)
    .await?;
    let version = version.unwrap_or(0) + 1;
    let id = new_id();
    sqlx::query("INSERT INTO competency_frameworks (id, organisation_id, version, status, created_by, created_at) VALUES ($1, $2, $3, 'draft', $4, $5)")
        .bind(id.clone())
        .bind(org.to_string())
        .bind(version)
        .bind(actor.user_id.clone())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    let from: Vec<(String, String, String, String)> = match current(state, org).await? {
        Some(f) => f
            .competencies
            .into_iter()
            .map(|c| (c.code, c.domain, c.title, c.description))
            .collect(),
        None => {
            let mut counts: std::collections::HashMap<String, usize> = Default::default();
            STARTER
                .iter()
                .map(|(d, t, desc)| {
                    let p = prefix(d);
                    let n = counts.entry(p.clone()).or_default();
                    *n += 1;
                    (
                        format!("{p}{n}"),
                        d.to_string(),
                        t.to_string(),
                        desc.to_string(),
                    )
                })
                .collect()
        }
    };
    for (i, (code, domain, title, description)) in from.into_iter().enumerate() {
        sqlx::query("INSERT INTO competencies (id, framework_id, code, domain, title, description, position) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(new_id())
            .bind(id.clone())
            .bind(code)
            .bind(domain)
            .bind(title)
            .bind(description)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
    }
    contributed(&mut tx, &id, actor).await?;
    audit::by(
        &mut tx,
        actor,
        "framework.draft",
        "competency_framework",
        Some(&id),
        json!({ "version": version }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A competency being added or changed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct CompetencyInput {
    pub domain: String,
    pub new_domain: String,
    pub title: String,
    pub description: String,
}

impl CompetencyInput {
    fn check(&self) -> Result<(String, String, String), AppError> {
        let mut e = Vec::new();
        let domain = if self.new_domain.trim().is_empty() {
            self.domain.trim().to_string()
        } else {
            self.new_domain.trim().to_string()
        };
        if domain.is_empty() || domain.chars().count() > 80 {
            e.push(FieldError::new(
                "domain",
                "Choose a domain or name a new one (up to 80 characters)",
            ));
        }
        let title = self.title.trim().to_string();
        if title.is_empty() || title.chars().count() > 200 {
            e.push(FieldError::new(
                "title",
                "Describe the competency in a short title (up to 200 characters)",
            ));
        }
        let description = self.description.trim().to_string();
        if description.chars().count() > 2_000 {
            e.push(FieldError::new(
                "description",
                "Keep the description to 2,000 characters",
            ));
        }
        if e.is_empty() {
            Ok((domain, title, description))
        } else {
            Err(AppError::Invalid(e))
        }
    }
}

async fn draft_for_edit(tx: &mut Tx, actor: &Actor, id: &str) -> Result<String, AppError> {
    let r = sqlx::query("SELECT organisation_id, status FROM competency_frameworks WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let org: String = r.try_get("organisation_id")?;
    member(actor, &org)?;
    if r.try_get::<String, _>("status")? != "draft" {
        return Err(AppError::Conflict(
            "This version is published and cannot change: start a new draft".into(),
        ));
    }
    Ok(org)
}

/// Add a competency to a draft.
pub async fn add(
    state: &AppState,
    actor: &Actor,
    framework: &str,
    input: &CompetencyInput,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    draft_for_edit(&mut tx, actor, framework).await?;
    let (domain, title, description) = input.check()?;
    // Codes are never reused: evidence and assessments link by code, so a code once used
    // in any version of the organisation's framework keeps its meaning.
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT c.code FROM competencies c JOIN competency_frameworks f ON f.id = c.framework_id \
         WHERE f.organisation_id = (SELECT organisation_id FROM competency_frameworks WHERE id = $1)",
    )
    .bind(framework.to_string())
    .fetch_all(&mut *tx)
    .await?;
    let p = prefix(&domain);
    let mut n = 1;
    while codes.contains(&format!("{p}{n}")) {
        n += 1;
    }
    let code = format!("{p}{n}");
    let position: Option<i64> =
        sqlx::query_scalar("SELECT MAX(position) FROM competencies WHERE framework_id = $1")
            .bind(framework.to_string())
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query("INSERT INTO competencies (id, framework_id, code, domain, title, description, position) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(new_id())
        .bind(framework.to_string())
        .bind(code.clone())
        .bind(domain)
        .bind(title)
        .bind(description)
        .bind(position.unwrap_or(0) + 1)
        .execute(&mut *tx)
        .await?;
    contributed(&mut tx, framework, actor).await?;
    audit::by(
        &mut tx,
        actor,
        "framework.competency_added",
        "competency_framework",
        Some(framework),
        json!({ "code": code }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Change or remove a competency of a draft.
pub async fn edit(
    state: &AppState,
    actor: &Actor,
    framework: &str,
    competency: &str,
    input: Option<&CompetencyInput>,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    draft_for_edit(&mut tx, actor, framework).await?;
    let code: String =
        sqlx::query_scalar("SELECT code FROM competencies WHERE id = $1 AND framework_id = $2")
            .bind(competency.to_string())
            .bind(framework.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AppError::NotFound)?;
    let action = match input {
        Some(input) => {
            let (domain, title, description) = input.check()?;
            sqlx::query(
                "UPDATE competencies SET domain = $1, title = $2, description = $3 WHERE id = $4",
            )
            .bind(domain)
            .bind(title)
            .bind(description)
            .bind(competency.to_string())
            .execute(&mut *tx)
            .await?;
            "framework.competency_changed"
        }
        None => {
            sqlx::query("DELETE FROM competencies WHERE id = $1")
                .bind(competency.to_string())
                .execute(&mut *tx)
                .await?;
            "framework.competency_removed"
        }
    };
    contributed(&mut tx, framework, actor).await?;
    audit::by(
        &mut tx,
        actor,
        action,
        "competency_framework",
        Some(framework),
        json!({ "code": code }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Publish a draft (programme managers): it becomes the version in use and the one before is
/// retired. A note of what changed is required, and at least one competency.
pub async fn publish(
    state: &AppState,
    actor: &Actor,
    framework: &str,
    change_note: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let org = draft_for_edit(&mut tx, actor, framework).await?;
    if !actor.has_role_in(&org, Role::ProgrammeManager) {
        return Err(AppError::Forbidden);
    }
    let mut e = Vec::new();
    if change_note.trim().is_empty() || change_note.chars().count() > 2_000 {
        e.push(FieldError::new(
            "change_note",
            "Say what this version changes, or who shaped it (up to 2,000 characters)",
        ));
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM competencies WHERE framework_id = $1")
        .bind(framework.to_string())
        .fetch_one(&mut *tx)
        .await?;
    if n == 0 {
        e.push(FieldError::new(
            "change_note",
            "Add at least one competency before publishing",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    sqlx::query("UPDATE competency_frameworks SET status = 'retired' WHERE organisation_id = $1 AND status = 'published'")
        .bind(org.clone())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE competency_frameworks SET status = 'published', change_note = $1, published_by = $2, published_at = $3 WHERE id = $4")
        .bind(change_note.trim().to_string())
        .bind(actor.user_id.clone())
        .bind(now())
        .bind(framework.to_string())
        .execute(&mut *tx)
        .await?;
    contributed(&mut tx, framework, actor).await?;
    audit::by(
        &mut tx,
        actor,
        "framework.publish",
        "competency_framework",
        Some(framework),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(())
}

/// The code of a competency (empty when there is none with that id).
pub async fn code_of(state: &AppState, competency_id: &str) -> Result<String, AppError> {
    Ok(
        sqlx::query_scalar("SELECT code FROM competencies WHERE id = $1")
            .bind(competency_id.to_string())
            .fetch_optional(&state.db.read)
            .await?
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_come_from_the_domain_initials() {
        assert_eq!(prefix("Musical practice"), "MP");
        assert_eq!(prefix("Mental health awareness"), "MHA");
        assert_eq!(prefix("Evaluation and research"), "ER");
        assert_eq!(prefix("Co-production"), "CP");
        assert_eq!(prefix("!!"), "C");
    }

    #[test]
    fn the_starter_framework_covers_the_starter_domains() {
        for d in STARTER_DOMAINS {
            assert!(STARTER.iter().any(|(sd, _, _)| *sd == d), "{d}");
        }
    }
}
