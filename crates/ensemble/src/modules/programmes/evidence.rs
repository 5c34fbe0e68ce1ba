//! What a programme's evaluation report shows of its voices: themes over time (voices coded
//! with each theme, by month), quotes their authors allowed (voices shared publicly and
//! approved by a moderator, so nothing here is new to the public), and "you said, we did":
//! the actions, how many voices started each, and where each stands. Counts are exact
//! here; the report applies disclosure control for its audience.

use std::collections::BTreeMap;

use sqlx::Row;

use super::access::VOICE;
use super::model::{ActionStatus, VoiceKind};
use crate::db::month_of;
use crate::error::AppError;
use crate::state::AppState;

/// The most quotes a report carries.
pub const QUOTES: usize = 6;

/// Voices coded with one theme, by month.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThemeMonths {
    pub theme: String,
    /// (`YYYY-MM`, voices).
    pub months: Vec<(String, u64)>,
}

/// A quote its author shared publicly.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Quote {
    pub kind: String,
    pub text: String,
    pub month: String,
    pub themes: Vec<String>,
}

/// One action and the voices behind it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActionLine {
    pub title: String,
    pub status: String,
    pub voices: u64,
    pub updated_month: String,
}

/// A programme's voices as evidence.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Evidence {
    /// Voices shared in the window.
    pub voices: u64,
    pub themes: Vec<ThemeMonths>,
    pub quotes: Vec<Quote>,
    /// Actions by status (every status, zero included).
    pub actions: Vec<(String, u64)>,
    pub action_lines: Vec<ActionLine>,
}

/// The evidence of one programme's voices shared between two instants (open-ended if `None`).
pub async fn for_report(
    state: &AppState,
    programme: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Evidence, AppError> {
    let (from, to) = (from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX));
    let mut out = Evidence::default();
    let voices = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT v.id, v.kind, v.body, v.visibility, v.moderation, v.created_at FROM ({VOICE}) v \
         WHERE v.programme_id = $1 AND v.created_at >= $2 AND v.created_at < $3 ORDER BY v.created_at, v.id"
    )))
    .bind(programme.to_string())
    .bind(from)
    .bind(to)
    .fetch_all(&state.db.read)
    .await?;
    out.voices = voices.len() as u64;
    let codings = sqlx::query(
        "SELECT DISTINCT vt.voice_id, t.name FROM programme_voice_themes vt \
         JOIN programme_themes t ON t.id = vt.theme_id WHERE t.programme_id = $1 ORDER BY t.name",
    )
    .bind(programme.to_string())
    .fetch_all(&state.db.read)
    .await?;
    let mut themes_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &codings {
        themes_of
            .entry(r.try_get("voice_id")?)
            .or_default()
            .push(r.try_get("name")?);
    }
    let mut by_theme: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for v in &voices {
        let id: String = v.try_get("id")?;
        let month = month_of(v.try_get("created_at")?);
        let themes = themes_of.get(&id).cloned().unwrap_or_default();
        for t in &themes {
            *by_theme
                .entry(t.clone())
                .or_default()
                .entry(month.clone())
                .or_default() += 1;
        }
        let public = v.try_get::<String, _>("visibility")? == "public"
            && v.try_get::<String, _>("moderation")? == "approved";
        if public && out.quotes.len() < QUOTES {
            let kind: String = v.try_get("kind")?;
            out.quotes.push(Quote {
                kind: VoiceKind::from_code(&kind).map_or(kind.clone(), |k| k.label().to_string()),
                text: v.try_get("body")?,
                month,
                themes,
            });
        }
    }
    out.themes = by_theme
        .into_iter()
        .map(|(theme, months)| ThemeMonths {
            theme,
            months: months.into_iter().collect(),
        })
        .collect();
    let actions = sqlx::query(
        "SELECT a.title, a.status, a.updated_at, \
         (SELECT COUNT(*) FROM programme_action_voices av WHERE av.action_id = a.id) AS voices \
         FROM programme_actions a WHERE a.programme_id = $1 AND a.created_at < $2 \
         ORDER BY a.updated_at DESC, a.id",
    )
    .bind(programme.to_string())
    .bind(to)
    .fetch_all(&state.db.read)
    .await?;
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    for a in &actions {
        let status: String = a.try_get("status")?;
        let status = ActionStatus::from_code(&status)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown action status {status}")))?;
        *counts.entry(status.code()).or_default() += 1;
        out.action_lines.push(ActionLine {
            title: a.try_get("title")?,
            status: status.label().to_string(),
            voices: a.try_get::<i64, _>("voices")?.max(0) as u64,
            updated_month: month_of(a.try_get("updated_at")?),
        });
    }
    out.actions = ActionStatus::ALL
        .iter()
        .map(|s| {
            (
                s.label().to_string(),
                counts.get(s.code()).copied().unwrap_or(0),
            )
        })
        .collect();
    Ok(out)
}
