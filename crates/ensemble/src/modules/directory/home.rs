//! The directory's parts of the home page: a programme manager's activities (how many are
//! listed and which are due a check), and for a commissioner the activities across the city
//! region (counts only).

use futures_util::future::BoxFuture;
use maud::{Markup, html};
use sqlx::Row;

use crate::error::AppError;
use crate::manifest::{HomePart, home_order};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// A listing not checked for this long is due a check.
pub const REVIEW_AFTER_DAYS: i64 = 183;

/// How many activities due a check the home page names.
pub const DUE_SHOWN: usize = 5;

/// A programme manager's activities at a glance.
#[derive(Debug, Clone, Default)]
pub struct ManagedSummary {
    /// Listed (active) activities.
    pub listed: i64,
    /// Archived ones.
    pub archived: i64,
    /// Listed activities not checked for [`REVIEW_AFTER_DAYS`] (or never): (id, name),
    /// longest unchecked first.
    pub due_check: Vec<(String, String)>,
}

/// The activities of the organisations where the actor is a programme manager.
pub async fn managed_summary(state: &AppState, actor: &Actor) -> Result<ManagedSummary, AppError> {
    let orgs: Vec<&str> = actor
        .memberships
        .iter()
        .filter(|m| m.2 == Role::ProgrammeManager)
        .map(|m| m.0.as_str())
        .collect();
    let cutoff = crate::db::now() - REVIEW_AFTER_DAYS * 86_400;
    let mut out = ManagedSummary::default();
    for org in orgs {
        let rows = sqlx::query(
            "SELECT id, name, status, last_reviewed_at FROM activities WHERE organisation_id = $1 \
             ORDER BY COALESCE(last_reviewed_at, 0), lower(name), id",
        )
        .bind(org.to_string())
        .fetch_all(&state.db.read)
        .await?;
        for r in rows {
            let status: String = r.try_get("status")?;
            if status != "active" {
                out.archived += 1;
                continue;
            }
            out.listed += 1;
            let reviewed: Option<i64> = r.try_get("last_reviewed_at")?;
            if reviewed.is_none_or(|t| t < cutoff) {
                out.due_check.push((r.try_get("id")?, r.try_get("name")?));
            }
        }
    }
    Ok(out)
}

/// (listed activities, organisations running them, free ones) across the directory.
pub async fn region_counts(state: &AppState) -> Result<(i64, i64, i64), AppError> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT organisation_id) AS orgs, \
         COALESCE(SUM(CASE WHEN cost = 'free' THEN 1 ELSE 0 END), 0) AS free \
         FROM activities WHERE status = 'active'",
    )
    .fetch_one(&state.db.read)
    .await?;
    Ok((r.try_get("n")?, r.try_get("orgs")?, r.try_get("free")?))
}

/// The home section (see [`crate::manifest::HomeSection`]).
pub fn home(state: AppState, actor: Actor) -> BoxFuture<'static, Result<Vec<HomePart>, AppError>> {
    Box::pin(async move {
        let mut parts = Vec::new();
        if actor.has_role(Role::ProgrammeManager) {
            let s = managed_summary(&state, &actor).await?;
            parts.push(HomePart {
                order: home_order::LEAD,
                markup: managed_part(&s),
            });
        }
        if actor.has_role(Role::Commissioner) {
            let counts = region_counts(&state).await?;
            parts.push(HomePart {
                order: home_order::LEAD,
                markup: region_part(counts),
            });
        }
        Ok(parts)
    })
}

fn managed_part(s: &ManagedSummary) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-activities" { "Your activities" }
            p."nhsuk-body" {
                (s.listed) (if s.listed == 1 { " activity is" } else { " activities are" }) " listed"
                @if s.archived > 0 { ", " (s.archived) " archived" } "."
            }
            @if s.due_check.is_empty() {
                @if s.listed > 0 { p."nhsuk-body" { "Every listing has been checked in the last six months." } }
            } @else {
                p."nhsuk-body" { (s.due_check.len()) (if s.due_check.len() == 1 { " listing has" } else { " listings have" }) " not been checked in the last six months:" }
                ul."nhsuk-list nhsuk-list--bullet" {
                    @for (id, name) in s.due_check.iter().take(DUE_SHOWN) {
                        li { a href=(format!("/manage/activities/{id}")) { "Check " (name) } }
                    }
                }
            }
            ul."nhsuk-list" {
                li { a href="/manage/activities" { "All your activities" } }
                li { a href="/manage/activities/new" { "Add an activity" } }
            }
        }
    }
}

fn region_part((listed, orgs, free): (i64, i64, i64)) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-region" { "Activities across the city region" }
            p."nhsuk-body" {
                (listed) " activities are listed by " (orgs) " organisations; " (free) " of them are free."
            }
            ul."nhsuk-list" {
                li { a href="/activities" { "Find activities" } }
                li { a href="/organisations" { "Partner organisations and who to contact" } }
            }
        }
    }
}
