//! Evaluation datasets: pseudonymised, consented rows for researchers. Every dataset joins
//! the person's *current* evaluation consent, so a withdrawal takes effect from the moment
//! it is recorded. Every table that holds a person or referral id is either covered by a
//! dataset here or listed in [`NOT_FOR_EVALUATION`] with the reason; a test introspects the
//! schema so that a new table cannot be forgotten.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use sqlx::Row;

use crate::audit::{self};
use crate::error::AppError;
use crate::rbac::Granted;
use crate::rbac::perm::ExportEvaluationData;
use crate::state::AppState;

/// One dataset.
#[derive(Debug, Clone, Copy)]
pub struct Dataset {
    /// URL name.
    pub name: &'static str,
    /// Title.
    pub title: &'static str,
    /// What it holds.
    pub description: &'static str,
    /// Tables it draws on.
    pub tables: &'static [&'static str],
    /// Output columns.
    pub columns: &'static [&'static str],
}

/// The datasets.
pub const DATASETS: &[Dataset] = &[
    Dataset {
        name: "referrals",
        title: "Referrals",
        description: "One row per referral: source, status, months, days to first contact, activity, provider answer, and banded demographics.",
        tables: &["people", "referrals", "person_identities"],
        columns: &[
            "research_id",
            "referral_ref",
            "source",
            "status",
            "received_month",
            "days_to_first_contact",
            "closed_month",
            "activity_id",
            "provider_status",
            "age_band",
            "gender",
            "ethnicity",
            "local_authority",
        ],
    },
    Dataset {
        name: "barriers",
        title: "Barriers to taking part",
        description: "One row per barrier recorded, with what was done about it and when it was raised (at referral, decline, drop-out or review).",
        tables: &["referral_barriers"],
        columns: &["research_id", "referral_ref", "barrier", "action", "stage"],
    },
    Dataset {
        name: "wellbeing",
        title: "Wellbeing measures",
        description: "One row per score of each completed measure: instrument and version, how it was completed, the month, weeks since the referral was received, the score and its band.",
        tables: &["measure_responses", "measure_scores"],
        columns: &[
            "research_id",
            "referral_ref",
            "instrument",
            "instrument_version",
            "mode",
            "completed_month",
            "weeks_since_referral",
            "score",
            "value",
            "band",
        ],
    },
    Dataset {
        name: "attendance",
        title: "Attendance",
        description: "One row per session marked for a referred person.",
        tables: &["referral_attendance"],
        columns: &["research_id", "referral_ref", "session_date", "status"],
    },
];

/// Tables holding a person or referral id that are deliberately not evaluation data.
pub const NOT_FOR_EVALUATION: &[(&str, &str)] = &[
    (
        "consent_decisions",
        "the consent record itself, kept for accountability",
    ),
    (
        "person_consents",
        "the current consent state, used to filter every dataset",
    ),
    ("referral_events", "free-text case notes and messages"),
    (
        "programme_voices",
        "a participant's own words, shared with a programme (on their behalf only with their consent to share stories); themes reach evaluation as counts, never rows",
    ),
    (
        "register_entries",
        "the session register; attendance reaches evaluation through referral_attendance",
    ),
    ("referral_tasks", "operational to-do items"),
    (
        "referral_options",
        "the activities a link worker sent the person to choose from; the choice reaches evaluation as the referral's activity",
    ),
    (
        "session_moments",
        "a practitioner's free-text notes about a moment, shown to the person and their practitioners only",
    ),
    (
        "session_observations",
        "practitioner observations of a session or of one participant, for practice review, not outcome evaluation",
    ),
    (
        "referral_plans",
        "the person's own words, shared only with them and their care team",
    ),
];

/// Find a dataset by name.
pub fn dataset(name: &str) -> Option<&'static Dataset> {
    DATASETS.iter().find(|d| d.name == name)
}

/// A per-study pseudonym: the same person has a different one in every study (`kind` names
/// the study), and none can be turned back into an id without the installation's secret.
pub fn pseudonym(secret: &[u8], kind: &str, id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(kind.as_bytes());
    mac.update(b"|");
    mac.update(id.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..10])
}

const CONSENTED: &str = "JOIN person_consents ec ON ec.person_id = r.person_id AND ec.purpose = 'evaluation' AND ec.decision = 'given'";

fn month(ts: Option<i64>) -> String {
    ts.map(crate::db::month_of).unwrap_or_default()
}

/// The rows of a dataset (header first), for consented people only; the export is audited.
pub async fn export(
    state: &AppState,
    g: &Granted<ExportEvaluationData>,
    name: &str,
) -> Result<Vec<Vec<String>>, AppError> {
    let ds = dataset(name).ok_or(AppError::NotFound)?;
    let rows = rows(state, ds).await?;
    let mut tx = state.db.begin().await?;
    audit::by(
        &mut tx,
        g.actor(),
        "evaluation.export",
        "dataset",
        Some(ds.name),
        json!({ "rows": rows.len() - 1 }),
    )
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// The rows without the audit (used by [`export`] and tests).
pub async fn rows(state: &AppState, ds: &Dataset) -> Result<Vec<Vec<String>>, AppError> {
    let mut out = vec![ds.columns.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
    let secret = &state.secret;
    let today = crate::db::uk::today();
    match ds.name {
        "referrals" => {
            let q = format!(
                "SELECT r.id, r.person_id, r.source, r.status, r.created_at, r.first_contact_at, r.closed_at, r.activity_id, r.provider_status, \
                 i.date_of_birth, i.gender, i.ethnicity, l.lad_name FROM referrals_case_summaries r {CONSENTED} \
                 JOIN person_identities i ON i.person_id = r.person_id LEFT JOIN places_lsoa_areas l ON l.code = i.lsoa_code ORDER BY r.created_at, r.id"
            );
            for r in sqlx::query(sqlx::AssertSqlSafe(q))
                .fetch_all(&state.db.read)
                .await?
            {
                let created: i64 = r.try_get("created_at")?;
                let first: Option<i64> = r.try_get("first_contact_at")?;
                let dob: Option<String> = r.try_get("date_of_birth")?;
                out.push(vec![
                    pseudonym(secret, "person", &r.try_get::<String, _>("person_id")?),
                    pseudonym(secret, "referral", &r.try_get::<String, _>("id")?),
                    r.try_get("source")?,
                    r.try_get("status")?,
                    month(Some(created)),
                    first
                        .map(|f| ((f - created).max(0) / 86_400).to_string())
                        .unwrap_or_default(),
                    month(r.try_get("closed_at")?),
                    r.try_get::<Option<String>, _>("activity_id")?
                        .unwrap_or_default(),
                    r.try_get::<Option<String>, _>("provider_status")?
                        .unwrap_or_default(),
                    super::model::age_band(dob.as_deref().unwrap_or(""), today).to_string(),
                    r.try_get::<Option<String>, _>("gender")?
                        .unwrap_or_default(),
                    r.try_get::<Option<String>, _>("ethnicity")?
                        .unwrap_or_default(),
                    r.try_get::<Option<String>, _>("lad_name")?
                        .unwrap_or_default(),
                ]);
            }
        }
        "barriers" => {
            let q = format!(
                "SELECT r.person_id, r.id, b.barrier, b.action, b.stage FROM referrals_barrier_actions b JOIN referrals_case_summaries r ON r.id = b.referral_id {CONSENTED} \
                 ORDER BY b.created_at, b.id"
            );
            for r in sqlx::query(sqlx::AssertSqlSafe(q))
                .fetch_all(&state.db.read)
                .await?
            {
                out.push(vec![
                    pseudonym(secret, "person", &r.try_get::<String, _>("person_id")?),
                    pseudonym(secret, "referral", &r.try_get::<String, _>("id")?),
                    r.try_get("barrier")?,
                    r.try_get("action")?,
                    r.try_get("stage")?,
                ]);
            }
        }
        "wellbeing" => {
            // Joined through the referral when there is one, else the person directly.
            let q = "SELECT m.person_id, m.referral_id, m.instrument_id, m.instrument_version, m.mode, m.completed_at, \
                     r.created_at AS referred_at, s.score_id, s.value, s.band FROM measures_response_summaries m \
                     JOIN measures_score_values s ON s.response_id = m.id \
                     JOIN person_consents ec ON ec.person_id = m.person_id AND ec.purpose = 'evaluation' AND ec.decision = 'given' \
                     LEFT JOIN referrals_case_summaries r ON r.id = m.referral_id \
                     WHERE m.status = 'complete' ORDER BY m.completed_at, m.id, s.score_id";
            for r in sqlx::query(q).fetch_all(&state.db.read).await? {
                let completed: Option<i64> = r.try_get("completed_at")?;
                let referred: Option<i64> = r.try_get("referred_at")?;
                let value: f64 = r.try_get("value")?;
                out.push(vec![
                    pseudonym(secret, "person", &r.try_get::<String, _>("person_id")?),
                    r.try_get::<Option<String>, _>("referral_id")?
                        .map(|id| pseudonym(secret, "referral", &id))
                        .unwrap_or_default(),
                    r.try_get("instrument_id")?,
                    r.try_get::<i64, _>("instrument_version")?.to_string(),
                    r.try_get("mode")?,
                    month(completed),
                    match (completed, referred) {
                        (Some(c), Some(f)) => ((c - f).max(0) / (7 * 86_400)).to_string(),
                        _ => String::new(),
                    },
                    r.try_get("score_id")?,
                    crate::modules::measures::definition::num(value),
                    r.try_get::<Option<String>, _>("band")?.unwrap_or_default(),
                ]);
            }
        }
        "attendance" => {
            let q = format!(
                "SELECT r.person_id, r.id, a.session_date, a.status FROM referrals_attendance_marks a JOIN referrals_case_summaries r ON r.id = a.referral_id {CONSENTED} \
                 ORDER BY a.session_date, a.id"
            );
            for r in sqlx::query(sqlx::AssertSqlSafe(q))
                .fetch_all(&state.db.read)
                .await?
            {
                out.push(vec![
                    pseudonym(secret, "person", &r.try_get::<String, _>("person_id")?),
                    pseudonym(secret, "referral", &r.try_get::<String, _>("id")?),
                    r.try_get("session_date")?,
                    r.try_get("status")?,
                ]);
            }
        }
        _ => return Err(AppError::NotFound),
    }
    Ok(out)
}

/// The research id a dataset uses for a person (so tests and data controllers can find a
/// person's rows).
pub fn research_id(state: &AppState, person_id: &str) -> String {
    pseudonym(&state.secret, "person", person_id)
}

/// The reference a dataset uses for a referral.
pub fn referral_ref(state: &AppState, referral_id: &str) -> String {
    pseudonym(&state.secret, "referral", referral_id)
}
