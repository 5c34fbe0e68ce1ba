//! The codings behind the themes page, for coders to check or re-analyse:
//!
//! - `GET /programmes/{id}/themes/codings.csv`: one row per voice someone coded and theme,
//!   one column per coder, `1` where they ticked the theme, `0` where they coded the voice
//!   without it, blank where they did not code the voice. The agreement between two coders on
//!   the themes page is exactly `ensemble analyse agreement codings.csv --first A --second B`
//!   (rows with a blank are the voices one of them did not code); filter on `theme` for one
//!   theme's figures.
//! - `GET /api/v1/programmes/{id}/themes`: the themes, each coder's codings, and the agreement
//!   of each pair of coders, as JSON.
//!
//! Only coders (the programme team and co-researchers) get either; no voice text is included,
//! only its id and month; each download is audited. Withdrawn voices are gone with their
//! codings.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sqlx::Row;

use super::themes::{Theme, coder, codings, list, month_of, pairs};
use crate::audit;
use crate::error::{ApiError, AppError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;

/// A theme in the export.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ThemeOut {
    pub id: String,
    pub name: String,
    pub description: String,
    pub retired: bool,
}

/// What one coder decided about one voice.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CodingOut {
    pub voice_id: String,
    /// UK month the voice was shared (`2026-03`).
    pub month: String,
    pub coder_id: String,
    /// The themes they ticked (empty: coded, nothing applied).
    pub themes: Vec<String>,
}

/// How far two coders agree over the voices both coded, every theme pooled.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PairOut {
    pub first: String,
    pub second: String,
    /// Voices both coded.
    pub voices: usize,
    /// Decisions compared (voices × themes).
    pub decisions: usize,
    /// Share of decisions the same (0 to 1).
    pub observed: f64,
    /// Share expected to match by chance (0 to 1).
    pub expected: f64,
    /// Cohen's kappa; null where it is not defined (chance agreement of 1).
    pub kappa: Option<f64>,
}

/// A coder.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CoderOut {
    pub id: String,
    pub name: String,
}

/// Themes, codings and agreement of a programme.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ThemesOut {
    pub programme_id: String,
    pub themes: Vec<ThemeOut>,
    pub coders: Vec<CoderOut>,
    pub codings: Vec<CodingOut>,
    pub pairs: Vec<PairOut>,
}

/// Everything both exports hold, for a coder (audited as `theme.export`).
pub async fn export(
    state: &AppState,
    actor: &Actor,
    programme: &str,
) -> Result<ThemesOut, AppError> {
    let mut tx = state.db.begin().await?;
    let p = coder(&mut tx, actor, programme).await?;
    let themes: Vec<Theme> = list(&mut tx, &p.id).await?;
    let (ticks, coded) = codings(&mut tx, &p.id).await?;
    let months: HashMap<String, String> =
        sqlx::query("SELECT id, created_at FROM programme_voices WHERE programme_id = $1")
            .bind(p.id.clone())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                Ok((r.try_get::<String, _>("id")?, {
                    let ((y, m), _) = month_of(r.try_get::<i64, _>("created_at")?);
                    format!("{y:04}-{m:02}")
                }))
            })
            .collect::<Result<_, sqlx::Error>>()?;
    let mut coders = Vec::new();
    for id in coded.keys() {
        let name: Option<String> =
            sqlx::query_scalar("SELECT display_name FROM accounts_user_names WHERE id = $1")
                .bind(id.clone())
                .fetch_optional(&mut *tx)
                .await?;
        coders.push(CoderOut {
            id: id.clone(),
            name: name.unwrap_or_else(|| "Someone".into()),
        });
    }
    let mut out_codings = Vec::new();
    for (c, voices) in &coded {
        for v in voices {
            out_codings.push(CodingOut {
                voice_id: v.clone(),
                month: months.get(v).cloned().unwrap_or_default(),
                coder_id: c.clone(),
                themes: themes
                    .iter()
                    .filter(|t| ticks.contains(&(v.clone(), c.clone(), t.id.clone())))
                    .map(|t| t.id.clone())
                    .collect(),
            });
        }
    }
    let out_pairs = pairs(&coded, &ticks, &themes)
        .into_iter()
        .map(|pr| PairOut {
            decisions: pr.overall.n,
            observed: pr.overall.observed,
            expected: pr.overall.expected,
            kappa: pr.overall.kappa,
            voices: pr.voices,
            first: pr.first,
            second: pr.second,
        })
        .collect();
    audit::by(
        &mut tx,
        actor,
        "theme.export",
        "programme",
        Some(&p.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(ThemesOut {
        programme_id: p.id.clone(),
        themes: themes
            .into_iter()
            .map(|t| ThemeOut {
                id: t.id,
                name: t.name,
                description: t.description,
                retired: t.retired,
            })
            .collect(),
        coders,
        codings: out_codings,
        pairs: out_pairs,
    })
}

/// The export as CSV rows: `voice`, `month`, `theme`, then one column per coder (named as
/// shown on the themes page; a repeated name gets ` (2)`, ` (3)`).
pub fn csv_rows(x: &ThemesOut) -> Vec<Vec<String>> {
    let mut header = vec!["voice".to_string(), "month".into(), "theme".into()];
    let mut seen: HashMap<String, usize> = HashMap::new();
    for c in &x.coders {
        let n = seen.entry(c.name.to_lowercase()).or_insert(0);
        *n += 1;
        header.push(if *n == 1 {
            c.name.clone()
        } else {
            format!("{} ({n})", c.name)
        });
    }
    // voice -> coder -> ticked themes
    let mut by_voice: BTreeMap<(&str, &str), HashMap<&str, &[String]>> = BTreeMap::new();
    for c in &x.codings {
        by_voice
            .entry((c.month.as_str(), c.voice_id.as_str()))
            .or_default()
            .insert(c.coder_id.as_str(), &c.themes);
    }
    let mut rows = vec![header];
    for ((month, voice), decided) in &by_voice {
        for t in &x.themes {
            let mut row = vec![voice.to_string(), month.to_string(), t.name.clone()];
            for c in &x.coders {
                row.push(match decided.get(c.id.as_str()) {
                    Some(ticked) if ticked.contains(&t.id) => "1".into(),
                    Some(_) => "0".into(),
                    None => String::new(),
                });
            }
            rows.push(row);
        }
    }
    rows
}

/// GET /programmes/{id}/themes/codings.csv
pub async fn codings_csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let x = export(&state, &actor, &id).await?;
    let bytes = crate::csvfile::to_bytes(&csv_rows(&x)).map_err(AppError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"codings.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// GET /api/v1/programmes/{id}/themes — themes, codings and agreement, for coders.
#[utoipa::path(get, path = "/api/v1/programmes/{id}/themes", tag = "programmes", security(("token" = [])),
    params(("id" = String, Path, description = "Programme id")),
    responses((status = 200, description = "The programme's themes, each coder's codings and each pair's agreement", body = ThemesOut),
        (status = 404, description = "No such programme, or you do not code its voices", body = crate::error::ErrorEnvelope),
        crate::api::docs::TokenErrors))]
pub async fn api(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ThemesOut>, ApiError> {
    Ok(Json(export(&state, &actor, &id).await?))
}
