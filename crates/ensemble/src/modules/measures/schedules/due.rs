//! Due lists: the measures due for the people an actor works with, and for one person.

use std::collections::HashMap;

use sqlx::Row;
use time::Date;

use super::{Anchors, DueItem, DueState, Rule, due_items, rules};
use crate::db::{now, uk};
use crate::error::AppError;
use crate::modules::measures::definition::builtin;
use crate::modules::measures::service::{PersonMeasures, Relation};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// A due measure in a staff list.
#[derive(Debug, Clone)]
pub struct DueRow {
    pub referral_id: String,
    pub person_id: String,
    pub name: String,
    pub activity: String,
    pub instrument: String,
    pub item: DueItem,
    /// Where staff open the person: the case (care team) or the provider page.
    pub link: String,
}

/// The UK date of an instant: days are counted in UK time, as `today` is.
fn date_of(ts: Option<i64>) -> Option<Date> {
    ts.map(|t| uk::local(t).date())
}

/// Due, soon-due and overdue measures for one referral.
#[allow(clippy::too_many_arguments)]
async fn due_for_referral(
    state: &AppState,
    referral_id: &str,
    person_id: &str,
    activity_id: &str,
    first_contact_at: Option<i64>,
    ended_at: Option<i64>,
    cache: &mut HashMap<String, Vec<Rule>>,
    today: Date,
) -> Result<Vec<DueItem>, AppError> {
    if !cache.contains_key(activity_id) {
        let r = rules(&state.db.read, activity_id).await?;
        cache.insert(activity_id.to_string(), r);
    }
    let rules = cache.get(activity_id).cloned().unwrap_or_default();
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let first_session: Option<String> = sqlx::query_scalar(
        "SELECT MIN(session_date) FROM referrals_attendance_marks WHERE referral_id = $1 AND status = 'present'",
    )
    .bind(referral_id.to_string())
    .fetch_one(&state.db.read)
    .await?;
    let done = sqlx::query(
        "SELECT instrument_id, completed_at FROM measure_responses WHERE person_id = $1 AND status = 'complete'",
    )
    .bind(person_id.to_string())
    .fetch_all(&state.db.read)
    .await?;
    let mut completed: HashMap<String, Vec<Date>> = HashMap::new();
    for r in done {
        if let Some(d) = date_of(r.try_get("completed_at")?) {
            completed
                .entry(r.try_get("instrument_id")?)
                .or_default()
                .push(d);
        }
    }
    let anchors = Anchors {
        first_contact: date_of(first_contact_at),
        first_session: first_session.and_then(|s| crate::dates::parse_date(&s)),
        ended: date_of(ended_at),
    };
    Ok(due_items(&rules, anchors, &completed, today))
}

const OPEN_OR_RECENT: &str = "r.activity_id IS NOT NULL AND r.status NOT IN ('declined', 'not_reached') \
     AND (r.closed_at IS NULL OR r.closed_at > $2)";

/// The measures due for the people an actor works with: a link worker's own caseload, and
/// the people a practitioner's or programme manager's organisation has accepted.
pub async fn due_for_actor(state: &AppState, actor: &Actor) -> Result<Vec<DueRow>, AppError> {
    let year_ago = now() - 365 * 86_400;
    let select = "SELECT r.id, r.person_id, r.activity_id, r.first_contact_at, r.closed_at, a.name AS activity \
        FROM referrals_case_summaries r JOIN directory_activity_names a ON a.id = r.activity_id";
    let mut rows = Vec::new();
    if actor.roles().contains(&Role::LinkWorker) {
        let q = format!("{select} WHERE r.assigned_to = $1 AND {OPEN_OR_RECENT}");
        for r in sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(actor.user_id.clone())
            .bind(year_ago)
            .fetch_all(&state.db.read)
            .await?
        {
            let id: String = r.try_get("id")?;
            rows.push((r, format!("/caseload/{id}")));
        }
    }
    let provider_orgs: Vec<String> = actor
        .memberships
        .iter()
        .filter(|m| matches!(m.2, Role::Practitioner | Role::ProgrammeManager))
        .map(|m| m.0.clone())
        .collect();
    for org in provider_orgs {
        let q = format!(
            "{select} WHERE a.organisation_id = $1 AND r.provider_status = 'accepted' AND r.closed_at IS NULL \
             AND r.status NOT IN ('closed', 'declined', 'not_reached', 'did_not_attend') AND {OPEN_OR_RECENT}"
        );
        for r in sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(org.clone())
            .bind(year_ago)
            .fetch_all(&state.db.read)
            .await?
        {
            let id: String = r.try_get("id")?;
            if !rows
                .iter()
                .any(|(_, l): &(sqlx::any::AnyRow, String)| l.ends_with(&id))
            {
                rows.push((r, format!("/provider/referrals/{id}")));
            }
        }
    }
    let person_ids = rows
        .iter()
        .map(|(r, _)| r.try_get::<String, _>("person_id"))
        .collect::<Result<Vec<_>, _>>()?;
    let names = {
        let mut conn = state.db.read.acquire().await?;
        crate::modules::people::service::display_names(&mut conn, &person_ids).await?
    };
    let today = uk::today();
    let mut cache = HashMap::new();
    let mut out = Vec::new();
    for (r, link) in rows {
        let referral_id: String = r.try_get("id")?;
        let person_id: String = r.try_get("person_id")?;
        let activity_id: String = r.try_get("activity_id")?;
        let items = due_for_referral(
            state,
            &referral_id,
            &person_id,
            &activity_id,
            r.try_get("first_contact_at")?,
            r.try_get("closed_at")?,
            &mut cache,
            today,
        )
        .await?;
        for item in items {
            out.push(DueRow {
                referral_id: referral_id.clone(),
                person_id: person_id.clone(),
                name: names
                    .get(&person_id)
                    .map(|n| n.short.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "(no name)".into()),
                activity: r.try_get("activity")?,
                instrument: builtin(&item.instrument_id)
                    .map(|d| d.short_name.clone())
                    .unwrap_or_else(|| item.instrument_id.clone()),
                link: link.clone(),
                item,
            });
        }
    }
    out.sort_by_key(|d| (d.item.state != DueState::Overdue, d.item.due_on));
    Ok(out)
}

/// The measures due for the person a proof names (their "due now" check-ins).
pub async fn due_for_person<R: Relation>(
    state: &AppState,
    who: &PersonMeasures<R>,
) -> Result<Vec<DueItem>, AppError> {
    due_for_person_id(state, &who.person_id).await
}

/// [`due_for_person`] without any check: private to this module, for the daily reminder job,
/// which acts for nobody.
pub(super) async fn due_for_person_id(
    state: &AppState,
    person_id: &str,
) -> Result<Vec<DueItem>, AppError> {
    let refs = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT r.id, r.activity_id, r.first_contact_at, r.closed_at FROM referrals_case_summaries r WHERE r.person_id = $1 AND {OPEN_OR_RECENT}"
    )))
    .bind(person_id.to_string())
    .bind(now() - 365 * 86_400)
    .fetch_all(&state.db.read)
    .await?;
    let today = uk::today();
    let mut cache = HashMap::new();
    let mut out: Vec<DueItem> = Vec::new();
    for r in refs {
        let activity: String = r.try_get("activity_id")?;
        for item in due_for_referral(
            state,
            &r.try_get::<String, _>("id")?,
            person_id,
            &activity,
            r.try_get("first_contact_at")?,
            r.try_get("closed_at")?,
            &mut cache,
            today,
        )
        .await?
        {
            if item.state != DueState::Upcoming
                && !out.iter().any(|o| o.instrument_id == item.instrument_id)
            {
                out.push(item);
            }
        }
    }
    Ok(out)
}
