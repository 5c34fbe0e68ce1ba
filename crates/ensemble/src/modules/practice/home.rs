//! The practice module's parts of the home page: the practitioner's day ([`super::today`]),
//! the incidents waiting for a clinician, a named lead or a programme manager, and the
//! programme manager's competency framework.

use futures_util::future::BoxFuture;
use maud::{Markup, html};
use sqlx::Row;

use super::incidents::{CATEGORIES, SEVERITIES};
use super::model::label_of;
use crate::error::AppError;
use crate::manifest::{HomePart, home_order};
use crate::rbac::{Actor, Role};
use crate::state::AppState;
use crate::web::layout::datetime;

/// An incident not yet closed, as the home page lists it (no personal details).
#[derive(Debug, Clone)]
pub struct OpenIncident {
    pub id: String,
    pub activity_name: String,
    pub category: String,
    pub severity: String,
    pub status: String,
    pub reported_at: i64,
}

/// How many open incidents the home page lists before "see all".
pub const INCIDENTS_SHOWN: usize = 5;

/// The incidents not yet closed that wait for the actor: those of activities they are a
/// named lead of and, for programme managers, their organisations'. Serious first, then
/// newest. Also whether the actor is a named lead of any activity.
pub async fn open_incidents(
    state: &AppState,
    actor: &Actor,
) -> Result<(Vec<OpenIncident>, bool), AppError> {
    let rows = sqlx::query(
        "SELECT i.id, a.name, i.category, i.severity, i.status, i.reported_at FROM incidents i \
         JOIN directory_activity_names a ON a.id = i.activity_id \
         WHERE i.status <> 'closed' AND (i.activity_id IN (SELECT activity_id FROM programme_leads WHERE user_id = $1) \
         OR i.organisation_id IN (SELECT organisation_id FROM accounts_member_roles WHERE user_id = $1 AND role = 'programme_manager')) \
         ORDER BY CASE i.severity WHEN 'critical' THEN 0 WHEN 'serious' THEN 1 WHEN 'moderate' THEN 2 ELSE 3 END, i.reported_at DESC, i.id LIMIT 200",
    )
    .bind(actor.user_id.clone())
    .fetch_all(&state.db.read)
    .await?;
    let lead: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM programme_leads WHERE user_id = $1")
        .bind(actor.user_id.clone())
        .fetch_one(&state.db.read)
        .await?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(OpenIncident {
                id: r.try_get("id")?,
                activity_name: r.try_get("name")?,
                category: r.try_get("category")?,
                severity: r.try_get("severity")?,
                status: r.try_get("status")?,
                reported_at: r.try_get("reported_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((list, lead > 0))
}

/// The home section (see [`crate::manifest::HomeSection`]).
pub fn home(state: AppState, actor: Actor) -> BoxFuture<'static, Result<Vec<HomePart>, AppError>> {
    Box::pin(async move {
        let mut parts = Vec::new();
        if actor.has_role(Role::Practitioner) {
            let t = super::today::today(&state, &actor).await?;
            parts.push(HomePart {
                order: home_order::LEAD,
                markup: super::today::section(&t),
            });
        }
        let clinician = actor.has_role(Role::Clinician);
        let manager = actor.has_role(Role::ProgrammeManager);
        if clinician || manager || actor.has_role(Role::Practitioner) {
            let (open, lead) = open_incidents(&state, &actor).await?;
            // Clinicians and named leads lead with incidents; a programme manager (even one
            // who is also a named lead) sees them after their activities, measurement plans
            // and framework.
            if clinician || lead || (manager && !open.is_empty()) {
                let order = if clinician || (lead && !manager) {
                    home_order::LEAD
                } else {
                    home_order::LATER
                };
                parts.push(HomePart {
                    order,
                    markup: incidents_part(&open),
                });
            }
        }
        if manager {
            parts.push(HomePart {
                order: home_order::THEN,
                markup: framework_part(&state, &actor).await?,
            });
        }
        Ok(parts)
    })
}

fn incidents_part(open: &[OpenIncident]) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-incidents" { "Incidents and concerns to follow up" }
            @if open.is_empty() {
                p."nhsuk-body" { "None are open. When a practitioner escalates an incident or safeguarding concern about an activity you lead, it appears here and you are emailed." }
            } @else {
                p."nhsuk-body" { (open.len()) " not yet closed, the most serious first." }
                ul."nhsuk-list nhsuk-list--border" {
                    @for i in open.iter().take(INCIDENTS_SHOWN) {
                        li {
                            a href=(format!("/incidents/{}", i.id)) { (label_of(CATEGORIES, &i.category).split(' ').next().unwrap_or("Incident")) " at " (i.activity_name) }
                            br;
                            span."nhsuk-body-s" {
                                (label_of(SEVERITIES, &i.severity).split(':').next().unwrap_or("")) ", "
                                (if i.status == "escalated" { "escalated" } else { "open" }) ", reported " (datetime(i.reported_at))
                            }
                        }
                    }
                }
            }
            p."nhsuk-body" { a href="/incidents" { "All incidents and concerns" } }
        }
    }
}

async fn framework_part(state: &AppState, actor: &Actor) -> Result<Markup, AppError> {
    let mut rows = Vec::new();
    for (org, name, role) in &actor.memberships {
        if *role != Role::ProgrammeManager || rows.iter().any(|(o, _, _, _)| o == org) {
            continue;
        }
        let current = super::competencies::current(state, org).await?;
        let draft = super::competencies::draft(state, org).await?;
        rows.push((
            org.clone(),
            name.clone(),
            current.map(|f| (f.version, f.competencies.len())),
            draft.is_some(),
        ));
    }
    Ok(html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-framework" { "Competency framework" }
            ul."nhsuk-list" {
                @for (_, name, current, draft) in &rows {
                    li {
                        strong { (name) } ": "
                        @match current {
                            Some((v, n)) => { "version " (v) " in use, " (n) " competencies" }
                            None => { "no framework published yet" }
                        }
                        @if *draft { "; a draft is being edited" }
                    }
                }
            }
            p."nhsuk-body" { a href="/practice/framework" { "Review and edit the framework" } }
        }
    })
}
