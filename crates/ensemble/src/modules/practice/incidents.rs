//! Incidents and safeguarding: a practitioner records what happened and what they did at
//! once; escalation notifies the programme's named clinical or safeguarding leads (by email,
//! with a link and no details); the leads and the organisation's programme managers follow
//! up and close it. Only the reporter, the named leads and the programme managers see an
//! incident, and every view is audited.

use crate::modules::practice::model::IncidentStatus;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::access::{
    IncidentAccess, Involved, Relationship, Responder, SessionAccess, SessionTeam,
};
use crate::audit;
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::directory::service::can_manage;
use crate::rbac::Actor;
use crate::state::AppState;

pub const SEVERITIES: &[(&str, &str)] = &[
    ("low", "Low: no harm, worth noting"),
    ("moderate", "Moderate: some distress or minor harm"),
    ("serious", "Serious: harm, or risk of harm"),
    ("critical", "Critical: immediate danger"),
];

pub const CATEGORIES: &[(&str, &str)] = &[
    (
        "incident",
        "Incident (health and safety, behaviour, an accident)",
    ),
    ("safeguarding", "Safeguarding concern"),
];

pub const LEAD_KINDS: &[(&str, &str)] = &[
    ("clinical", "Clinical lead"),
    ("safeguarding", "Safeguarding lead"),
];

/// The incident form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct IncidentInput {
    pub category: String,
    pub severity: String,
    pub what_happened: String,
    pub immediate_action: String,
    pub escalate: String,
}

/// Named leads of an activity: (user id, name, kind).
pub async fn leads<'e, E>(
    exec: E,
    activity_id: &str,
) -> Result<Vec<(String, String, String)>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT l.user_id, u.display_name, l.kind FROM programme_leads l JOIN accounts_user_names u ON u.id = l.user_id \
         WHERE l.activity_id = $1 ORDER BY l.kind, u.display_name",
    )
    .bind(activity_id.to_string())
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("user_id")?,
                r.try_get("display_name")?,
                r.try_get("kind")?,
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Name a lead (programme managers of the organisation running the activity). The lead may
/// be any enabled account, for example a clinician of the partner trust, found by email.
pub async fn name_lead(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
    email: &str,
    kind: &str,
) -> Result<(), AppError> {
    let (org, _) = crate::modules::directory::service::owner(state, activity_id).await?;
    if !can_manage(actor, &org) {
        return Err(AppError::Forbidden);
    }
    let mut e = Vec::new();
    if !LEAD_KINDS.iter().any(|(k, _)| *k == kind) {
        e.push(FieldError::new(
            "kind",
            "Choose clinical or safeguarding lead",
        ));
    }
    let user = crate::modules::accounts::store::active_user_by_email(&state.db.read, email)
        .await?
        .map(|u| u.id);
    if user.is_none() {
        e.push(FieldError::new(
            "email",
            "No active account has that email address",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let user = user.unwrap_or_default();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO programme_leads (activity_id, user_id, kind, named_by, named_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(activity_id.to_string())
    .bind(user.clone())
    .bind(kind.to_string())
    .bind(actor.user_id.clone())
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::by(
        &mut tx,
        actor,
        "programme.lead.name",
        "activity",
        Some(activity_id),
        json!({ "user_id": user, "kind": kind }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Leads for the leads page (programme managers).
pub async fn leads_page(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
) -> Result<(String, Vec<(String, String, String)>), AppError> {
    let (org, name) = crate::modules::directory::service::owner(state, activity_id).await?;
    if !can_manage(actor, &org) {
        return Err(AppError::Forbidden);
    }
    Ok((name, leads(&state.db.read, activity_id).await?))
}

/// Record an incident from a session. With `escalate` (always for serious and critical
/// ones) the named leads of the matching kind are notified — every named lead when none of
/// that kind is named, and the organisation's programme managers when there are none.
pub async fn report(
    state: &AppState,
    actor: &Actor,
    session_id: &str,
    f: &IncidentInput,
) -> Result<String, AppError> {
    let mut e = Vec::new();
    if !CATEGORIES.iter().any(|(k, _)| *k == f.category) {
        e.push(FieldError::new(
            "category",
            "Choose incident or safeguarding concern",
        ));
    }
    if !SEVERITIES.iter().any(|(k, _)| *k == f.severity) {
        e.push(FieldError::new("severity", "Choose how serious it is"));
    }
    if f.what_happened.trim().is_empty() {
        e.push(FieldError::new("what_happened", "Say what happened"));
    }
    if f.immediate_action.trim().is_empty() {
        e.push(FieldError::new(
            "immediate_action",
            "Say what was done straight away",
        ));
    }
    for (field, v) in [
        ("what_happened", &f.what_happened),
        ("immediate_action", &f.immediate_action),
    ] {
        if v.chars().count() > 10_000 {
            e.push(FieldError::new(field, "Keep this to 10,000 characters"));
        }
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    // Reported from a session: the proof that the actor is of its organisation.
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, session_id).await?;
    let activity = s.activity_id.clone();
    let org = s.organisation_id.clone();
    let escalate = f.escalate == "yes" || matches!(f.severity.as_str(), "serious" | "critical");
    let id = new_id();
    let at = now();
    sqlx::query(
        "INSERT INTO incidents (id, session_id, activity_id, organisation_id, category, severity, what_happened, immediate_action, status, \
         reported_by, reported_at, escalated_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11)",
    )
    .bind(id.clone())
    .bind(s.id.clone())
    .bind(activity.clone())
    .bind(org.clone())
    .bind(f.category.clone())
    .bind(f.severity.clone())
    .bind(f.what_happened.trim().to_string())
    .bind(f.immediate_action.trim().to_string())
    .bind(if escalate { IncidentStatus::Escalated } else { IncidentStatus::Open }.code())
    .bind(actor.user_id.clone())
    .bind(at)
    .bind(escalate.then_some(at))
    .execute(&mut *tx)
    .await?;
    let mut notified = 0;
    let mut to: Vec<(String, String, String)> = Vec::new();
    if escalate {
        let kind = if f.category == "safeguarding" {
            "safeguarding"
        } else {
            "clinical"
        };
        let all = leads(&mut *tx, &activity).await?;
        let role = |k: &str| {
            LEAD_KINDS
                .iter()
                .find(|(c, _)| *c == k)
                .map_or("Named lead", |(_, l)| *l)
        };
        to = all
            .iter()
            .filter(|l| l.2 == kind)
            .map(|l| (l.0.clone(), l.1.clone(), role(&l.2).to_string()))
            .collect();
        if to.is_empty() {
            to = all
                .iter()
                .map(|l| (l.0.clone(), l.1.clone(), role(&l.2).to_string()))
                .collect();
        }
        if to.is_empty() {
            to = sqlx::query(
                "SELECT m.user_id, u.display_name FROM accounts_member_roles m JOIN accounts_user_names u ON u.id = m.user_id \
                 WHERE m.organisation_id = $1 AND m.role = 'programme_manager' AND u.disabled_at IS NULL",
            )
            .bind(org.clone())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("user_id")?, r.try_get("display_name")?, "Programme manager".to_string())))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        }
        to.sort();
        to.dedup_by(|a, b| a.0 == b.0);
        for (user, _, _) in &to {
            let email = crate::modules::accounts::store::enabled_emails(
                &mut tx,
                std::slice::from_ref(user),
            )
            .await?
            .pop();
            if let Some(email) = email {
                crate::notify::queue_email(
                    &mut tx,
                    &email,
                    if f.category == "safeguarding" { "A safeguarding concern needs you" } else { "An incident needs you" },
                    &format!(
                        "A {} {} was recorded at a session and escalated to you.\n\nSee it at {}/incidents/{id}",
                        f.severity,
                        if f.category == "safeguarding" { "safeguarding concern" } else { "incident" },
                        state.cfg.base_url.trim_end_matches('/')
                    ),
                )
                .await?;
                notified += 1;
            }
        }
    }
    let told: Vec<Told> = to
        .into_iter()
        .map(|(_, name, role)| Told { name, role })
        .collect();
    sqlx::query("UPDATE incidents SET told = $1 WHERE id = $2")
        .bind(serde_json::to_string(&told).map_err(|e| AppError::Internal(e.into()))?)
        .bind(id.clone())
        .execute(&mut *tx)
        .await?;
    audit_incident(&mut tx, actor, "incident.report", &id, json!({ "severity": f.severity, "category": f.category, "escalated": escalate, "notified": notified })).await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(id)
}

async fn audit_incident(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    id: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    audit::by(tx, actor, action, "incident", Some(id), detail).await?;
    Ok(())
}

/// An incident with its follow-ups.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub id: String,
    pub session_id: Option<String>,
    pub activity_name: String,
    pub category: String,
    pub severity: String,
    pub what_happened: String,
    pub immediate_action: String,
    pub status: IncidentStatus,
    pub reported_by: String,
    pub reported_at: i64,
    pub closure_note: String,
    pub updates: Vec<(String, String, i64)>,
    /// Whether the viewer may follow up and close (a named lead or a programme manager).
    pub can_follow_up: bool,
    /// Whether it was escalated when recorded (its leads were told by email).
    pub escalated: bool,
    /// Who was told when it was recorded.
    pub told: Vec<Told>,
    /// The organisation's out-of-hours safeguarding route (or the default wording).
    pub out_of_hours: String,
    /// The organisation running the session (for the link to its safeguarding settings).
    pub organisation_id: String,
}

/// Someone told about an incident when it was recorded: their name and role as the
/// service knew them then.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Told {
    pub name: String,
    pub role: String,
}

/// An incident as stored, with the names it points at: what [`IncidentAccess`] holds.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentRecord {
    pub id: String,
    pub session_id: Option<String>,
    pub activity_id: String,
    pub activity_name: String,
    pub organisation_id: String,
    pub category: String,
    pub severity: String,
    pub what_happened: String,
    pub immediate_action: String,
    pub status: IncidentStatus,
    /// The reporter's account.
    pub reported_by: String,
    /// The reporter's name.
    pub reporter: String,
    pub reported_at: i64,
    pub closure_note: String,
    /// When it was escalated to the leads, if it was.
    pub escalated_at: Option<i64>,
    /// Who was told when it was recorded (JSON list of [`Told`]).
    pub told: String,
}

/// One incident (audited): its reporter, the activity's named leads and the organisation's
/// programme managers (403 for anyone else).
pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<Incident, AppError> {
    let mut tx = state.db.begin().await?;
    let i = IncidentAccess::<Involved>::check(&mut tx, actor, id).await?;
    let updates = sqlx::query(
        "SELECT u.display_name, x.body, x.at FROM incident_updates x JOIN accounts_user_names u ON u.id = x.author_id WHERE x.incident_id = $1 ORDER BY x.at, x.id",
    )
    .bind(i.id.clone())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|x| Ok((x.try_get("display_name")?, x.try_get("body")?, x.try_get("at")?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    audit_incident(&mut tx, actor, "incident.read", &i.id, json!({})).await?;
    let out_of_hours =
        crate::modules::accounts::store::out_of_hours_or_default(&mut *tx, &i.organisation_id)
            .await?;
    tx.commit().await?;
    let can_follow_up = i.has(Relationship::NamedLead) || i.has(Relationship::ProgrammeManager);
    let r = i.into_record();
    Ok(Incident {
        id: r.id,
        session_id: r.session_id,
        activity_name: r.activity_name,
        category: r.category,
        severity: r.severity,
        what_happened: r.what_happened,
        immediate_action: r.immediate_action,
        status: r.status,
        reported_by: r.reporter,
        reported_at: r.reported_at,
        closure_note: r.closure_note,
        updates,
        can_follow_up,
        escalated: r.escalated_at.is_some(),
        told: serde_json::from_str(&r.told).unwrap_or_default(),
        out_of_hours,
        organisation_id: r.organisation_id,
    })
}

/// Add a follow-up note, or close with a note (leads and programme managers).
pub async fn follow_up(
    state: &AppState,
    actor: &Actor,
    id: &str,
    body: &str,
    close: bool,
) -> Result<(), AppError> {
    if body.trim().is_empty() || body.chars().count() > 10_000 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "body",
            "Write the follow-up (up to 10,000 characters)",
        )]));
    }
    let mut tx = state.db.begin().await?;
    let i = IncidentAccess::<Responder>::check(&mut tx, actor, id).await?;
    if i.status == IncidentStatus::Closed {
        return Err(AppError::Conflict("This incident is closed".into()));
    }
    let at = now();
    if close {
        sqlx::query("UPDATE incidents SET status = $5, closed_by = $1, closed_at = $2, closure_note = $3, updated_at = $2 WHERE id = $4")
            .bind(actor.user_id.clone())
            .bind(at)
            .bind(body.trim().to_string())
            .bind(i.id.clone())
            .bind(IncidentStatus::Closed.code())
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query("INSERT INTO incident_updates (id, incident_id, author_id, body, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(i.id.clone())
            .bind(actor.user_id.clone())
            .bind(body.trim().to_string())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(i.id.clone())
            .execute(&mut *tx)
            .await?;
    }
    audit_incident(
        &mut tx,
        actor,
        if close {
            "incident.close"
        } else {
            "incident.follow_up"
        },
        &i.id,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    super::summary::invalidate();
    Ok(())
}

/// A row in the incidents list.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentRow {
    pub id: String,
    pub activity_name: String,
    pub category: String,
    pub severity: String,
    pub status: IncidentStatus,
    pub reported_at: i64,
}

/// Incidents the actor may see, newest first.
pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<IncidentRow>, AppError> {
    let rows = sqlx::query(
        "SELECT i.id, a.name, i.category, i.severity, i.status, i.reported_at, i.organisation_id FROM incidents i \
         JOIN directory_activity_names a ON a.id = i.activity_id \
         WHERE i.reported_by = $1 OR i.activity_id IN (SELECT activity_id FROM programme_leads WHERE user_id = $1) \
         OR i.organisation_id IN (SELECT organisation_id FROM accounts_member_roles WHERE user_id = $1 AND role = 'programme_manager') \
         ORDER BY i.reported_at DESC LIMIT 200",
    )
    .bind(actor.user_id.clone())
    .fetch_all(&state.db.read)
    .await?;
    let mut tx = state.db.begin().await?;
    audit::by(
        &mut tx,
        actor,
        "incident.list",
        "incident",
        None,
        json!({ "rows": rows.len() }),
    )
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            Ok(IncidentRow {
                id: r.try_get("id")?,
                activity_name: r.try_get("name")?,
                category: r.try_get("category")?,
                severity: r.try_get("severity")?,
                status: IncidentStatus::decode(r.try_get("status")?)?,
                reported_at: r.try_get("reported_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}
