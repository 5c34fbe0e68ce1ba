//! Measurement plans: a programme (a directory activity) pins a core set of instruments that
//! every site collects, and says when each is due — at baseline (first contact or first
//! session), every N weeks, at the end, or as a follow-up N weeks after — each with a window.
//! From these come the due and overdue lists for link workers and practitioners, the
//! participant's "due now" check-ins, and a daily reminder email.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use time::{Date, Duration};

use super::definition::builtin;
use crate::audit::{self, AuditEvent};
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::directory::service::can_manage;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// When in a person's journey a measure is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timepoint {
    Baseline,
    Repeat,
    End,
    FollowUp,
}

impl Timepoint {
    pub const ALL: [(Timepoint, &'static str, &'static str); 4] = [
        (Timepoint::Baseline, "baseline", "At the start"),
        (Timepoint::Repeat, "repeat", "Every few weeks"),
        (Timepoint::End, "end", "At the end"),
        (
            Timepoint::FollowUp,
            "follow_up",
            "Follow-up, weeks after the end",
        ),
    ];
    pub fn code(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|t| t.0 == self)
            .map_or("baseline", |t| t.1)
    }
    pub fn label(self) -> &'static str {
        Self::ALL.iter().find(|t| t.0 == self).map_or("", |t| t.2)
    }
    pub fn from_code(s: &str) -> Option<Timepoint> {
        Self::ALL.iter().find(|t| t.1 == s).map(|t| t.0)
    }
}

/// What the start (and repeats) count from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    FirstContact,
    FirstSession,
}

impl Anchor {
    pub fn code(self) -> &'static str {
        match self {
            Anchor::FirstContact => "first_contact",
            Anchor::FirstSession => "first_session",
        }
    }
    pub fn from_code(s: &str) -> Option<Anchor> {
        match s {
            "first_contact" => Some(Anchor::FirstContact),
            "first_session" => Some(Anchor::FirstSession),
            _ => None,
        }
    }
}

/// One rule of a measurement plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub id: String,
    pub instrument_id: String,
    pub instrument_version: i64,
    pub core: bool,
    pub timepoint: Timepoint,
    pub anchor: Anchor,
    pub weeks: i64,
    pub window_days: i64,
}

impl Rule {
    pub fn describe(&self) -> String {
        let from = match self.anchor {
            Anchor::FirstContact => "first contact",
            Anchor::FirstSession => "the first session",
        };
        match self.timepoint {
            Timepoint::Baseline => format!("at {from}"),
            Timepoint::Repeat => format!("every {} weeks from {from}", self.weeks),
            Timepoint::End => "at the end".into(),
            Timepoint::FollowUp => format!("{} weeks after the end", self.weeks),
        }
    }
}

/// Dates a person's schedule counts from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Anchors {
    pub first_contact: Option<Date>,
    pub first_session: Option<Date>,
    /// When the referral closed.
    pub ended: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    Upcoming,
    Due,
    Overdue,
}

impl DueState {
    pub fn label(self) -> &'static str {
        match self {
            DueState::Upcoming => "Due soon",
            DueState::Due => "Due now",
            DueState::Overdue => "Overdue",
        }
    }
}

/// A measure that is due (or soon, or overdue) and not yet done.
#[derive(Debug, Clone, PartialEq)]
pub struct DueItem {
    pub schedule_id: String,
    pub instrument_id: String,
    pub timepoint: Timepoint,
    pub due_on: Date,
    pub window_end: Date,
    pub state: DueState,
}

/// Days ahead that count as "due soon".
pub const SOON_DAYS: i64 = 7;

/// The open occurrences of each rule: not completed within the window around the due date.
pub fn due_items(
    rules: &[Rule],
    anchors: Anchors,
    completed: &HashMap<String, Vec<Date>>,
    today: Date,
) -> Vec<DueItem> {
    let mut out = Vec::new();
    for rule in rules {
        let start = match rule.anchor {
            Anchor::FirstContact => anchors.first_contact,
            Anchor::FirstSession => anchors.first_session,
        };
        let horizon = today + Duration::days(SOON_DAYS);
        let due_on = match rule.timepoint {
            Timepoint::Baseline => start,
            Timepoint::Repeat => start.and_then(|s| {
                let step = Duration::weeks(rule.weeks.max(1));
                let last = anchors.ended.map_or(horizon, |e| e.min(horizon));
                // The latest occurrence up to the horizon (never the start itself).
                let mut k = 1;
                let mut latest = None;
                while s + step * k <= last && k < 1000 {
                    latest = Some(s + step * k);
                    k += 1;
                }
                latest
            }),
            Timepoint::End => anchors.ended,
            Timepoint::FollowUp => anchors.ended.map(|e| e + Duration::weeks(rule.weeks)),
        };
        let Some(due_on) = due_on else { continue };
        if due_on > horizon {
            continue;
        }
        let window = Duration::days(rule.window_days.max(0));
        let done = completed.get(&rule.instrument_id).is_some_and(|dates| {
            dates
                .iter()
                .any(|d| *d >= due_on - window && *d <= due_on + window)
        });
        if done {
            continue;
        }
        let window_end = due_on + window;
        let state = if today < due_on {
            DueState::Upcoming
        } else if today <= window_end {
            DueState::Due
        } else {
            DueState::Overdue
        };
        out.push(DueItem {
            schedule_id: rule.id.clone(),
            instrument_id: rule.instrument_id.clone(),
            timepoint: rule.timepoint,
            due_on,
            window_end,
            state,
        });
    }
    out
}

fn rule_from(r: &sqlx::any::AnyRow) -> Result<Rule, sqlx::Error> {
    Ok(Rule {
        id: r.try_get("id")?,
        instrument_id: r.try_get("instrument_id")?,
        instrument_version: r.try_get("instrument_version")?,
        core: r.try_get::<i64, _>("core")? != 0,
        timepoint: Timepoint::from_code(&r.try_get::<String, _>("timepoint")?)
            .unwrap_or(Timepoint::Baseline),
        anchor: Anchor::from_code(&r.try_get::<String, _>("anchor")?)
            .unwrap_or(Anchor::FirstContact),
        weeks: r.try_get("weeks")?,
        window_days: r.try_get("window_days")?,
    })
}

/// The measurement plan of an activity.
pub async fn rules<'e, E>(exec: E, activity_id: &str) -> Result<Vec<Rule>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT id, instrument_id, instrument_version, core, timepoint, anchor, weeks, window_days FROM measure_schedules \
         WHERE activity_id = $1 ORDER BY core DESC, instrument_id, timepoint, weeks",
    )
    .bind(activity_id.to_string())
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(rule_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::from)
}

/// The plan form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RuleInput {
    pub instrument: String,
    pub timepoint: String,
    pub anchor: String,
    pub weeks: String,
    pub window_days: String,
    pub core: String,
}

/// The activity's name and plan, for its programme managers.
pub async fn plan(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
) -> Result<(String, Vec<Rule>), AppError> {
    let (org, name) = crate::modules::directory::service::owner(state, activity_id).await?;
    if !can_manage(actor, &org) {
        return Err(AppError::Forbidden);
    }
    Ok((name, rules(&state.db.read, activity_id).await?))
}

/// Add a rule to an activity's plan (programme managers of the organisation running it).
pub async fn add(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
    f: &RuleInput,
) -> Result<(), AppError> {
    let (org, _) = crate::modules::directory::service::owner(state, activity_id).await?;
    if !can_manage(actor, &org) {
        return Err(AppError::Forbidden);
    }
    let mut errors = Vec::new();
    let def = super::service::definition(&state.db.read, &f.instrument, None).await?;
    if def.is_none() {
        errors.push(FieldError::new("instrument", "Choose an instrument"));
    }
    let timepoint = Timepoint::from_code(&f.timepoint);
    if timepoint.is_none() {
        errors.push(FieldError::new("timepoint", "Choose when it is due"));
    }
    let anchor = Anchor::from_code(&f.anchor).unwrap_or(Anchor::FirstContact);
    let weeks = match (timepoint, f.weeks.trim()) {
        (Some(Timepoint::Repeat | Timepoint::FollowUp), w) => match w.parse::<i64>() {
            Ok(n) if (1..=104).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "weeks",
                    "Enter a whole number of weeks from 1 to 104",
                ));
                0
            }
        },
        _ => 0,
    };
    let window_days = if f.window_days.trim().is_empty() {
        14
    } else {
        match f.window_days.trim().parse::<i64>() {
            Ok(n) if (0..=90).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "window_days",
                    "Enter a whole number of days from 0 to 90",
                ));
                14
            }
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (Some(def), Some(timepoint)) = (def, timepoint) else {
        return Err(AppError::Invalid(vec![]));
    };
    let mut tx = state.db.begin().await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO measure_schedules (id, activity_id, instrument_id, instrument_version, core, timepoint, anchor, weeks, window_days, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id.clone())
    .bind(activity_id.to_string())
    .bind(def.id.clone())
    .bind(i64::from(def.version))
    .bind(i64::from(f.core == "yes"))
    .bind(timepoint.code())
    .bind(anchor.code())
    .bind(weeks)
    .bind(window_days)
    .bind(actor.user_id.clone())
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "measure.schedule.add",
            entity_type: "activity",
            entity_id: Some(activity_id),
            detail: json!({ "schedule_id": id, "instrument": def.key(), "timepoint": timepoint.code(), "weeks": weeks, "core": f.core == "yes" }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remove a rule (answers already given are kept).
pub async fn remove(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
    schedule_id: &str,
) -> Result<(), AppError> {
    let (org, _) = crate::modules::directory::service::owner(state, activity_id).await?;
    if !can_manage(actor, &org) {
        return Err(AppError::Forbidden);
    }
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE measure_responses SET schedule_id = NULL WHERE schedule_id = $1")
        .bind(schedule_id.to_string())
        .execute(&mut *tx)
        .await?;
    let n = sqlx::query("DELETE FROM measure_schedules WHERE id = $1 AND activity_id = $2")
        .bind(schedule_id.to_string())
        .bind(activity_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &actor.audit(),
        AuditEvent {
            action: "measure.schedule.remove",
            entity_type: "activity",
            entity_id: Some(activity_id),
            detail: json!({ "schedule_id": schedule_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

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

fn date_of(ts: Option<i64>) -> Option<Date> {
    ts.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .map(|t| t.date())
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
        "SELECT MIN(session_date) FROM referral_attendance WHERE referral_id = $1 AND status = 'present'",
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
        first_session: first_session.and_then(|s| {
            Date::parse(
                &s,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()
        }),
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
        FROM referrals r JOIN activities a ON a.id = r.activity_id";
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
    let today = time::OffsetDateTime::now_utc().date();
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

/// The measures due for a person (their "due now" check-ins).
pub async fn due_for_person(state: &AppState, person_id: &str) -> Result<Vec<DueItem>, AppError> {
    let refs = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT r.id, r.activity_id, r.first_contact_at, r.closed_at FROM referrals r WHERE r.person_id = $1 AND {OPEN_OR_RECENT}"
    )))
    .bind(person_id.to_string())
    .bind(now() - 365 * 86_400)
    .fetch_all(&state.db.read)
    .await?;
    let today = time::OffsetDateTime::now_utc().date();
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

/// The daily job that sends [`daily_reminders`].
pub struct DueReminders;

impl crate::jobs::JobKind for DueReminders {
    const KIND: &'static str = "measures_due_reminders";
    type Payload = ();

    async fn run(state: &AppState, (): ()) -> anyhow::Result<()> {
        let n = daily_reminders(state).await?;
        tracing::info!(emails = n, "queued wellbeing-measure reminders");
        Ok(())
    }
}

/// The daily reminder: every account that records measures and has some due or overdue gets
/// one email with the count and a link (no names in the email); every person with an
/// account, who agreed to be contacted and has a check-in due, gets a short nudge.
pub async fn daily_reminders(state: &AppState) -> anyhow::Result<usize> {
    let users = sqlx::query(
        "SELECT DISTINCT u.id, u.email, u.display_name FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE u.disabled_at IS NULL AND m.role IN ('link_worker', 'practitioner', 'programme_manager')",
    )
    .fetch_all(&state.db.read)
    .await?;
    let mut sent = 0;
    for u in users {
        let user_id: String = u.try_get("id")?;
        let memberships = sqlx::query(
            "SELECT m.organisation_id, o.name, m.role FROM memberships m JOIN organisations o ON o.id = m.organisation_id WHERE m.user_id = $1",
        )
        .bind(user_id.clone())
        .fetch_all(&state.db.read)
        .await?
        .iter()
        .filter_map(|r| {
            Some((
                r.try_get::<String, _>("organisation_id").ok()?,
                r.try_get::<String, _>("name").ok()?,
                Role::from_code(&r.try_get::<String, _>("role").ok()?)?,
            ))
        })
        .collect();
        let actor = Actor {
            user_id,
            display_name: u.try_get("display_name")?,
            email: u.try_get("email")?,
            memberships,
            request_id: None,
            channel: "job",
        };
        let due = due_for_actor(state, &actor)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let now_due = due.iter().filter(|d| d.item.state == DueState::Due).count();
        let overdue = due
            .iter()
            .filter(|d| d.item.state == DueState::Overdue)
            .count();
        if now_due + overdue == 0 {
            continue;
        }
        let mut tx = state.db.begin().await?;
        crate::notify::queue_email(
            &mut tx,
            &actor.email,
            "Wellbeing measures are due",
            &format!(
                "{now_due} wellbeing measure(s) are due and {overdue} overdue for people you work with.\n\nSee them at {}/measures",
                state.cfg.base_url.trim_end_matches('/')
            ),
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    // People with an account who agreed to be contacted: a nudge that a check-in is waiting
    // (no instrument names or scores in the email).
    let people = sqlx::query(
        "SELECT p.id, u.email FROM people p JOIN users u ON u.id = p.user_id \
         JOIN person_consents c ON c.person_id = p.id AND c.purpose = 'contact' AND c.decision = 'given' \
         WHERE u.disabled_at IS NULL",
    )
    .fetch_all(&state.db.read)
    .await?;
    for p in people {
        let person_id: String = p.try_get("id")?;
        let due = due_for_person(state, &person_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if due.is_empty() {
            continue;
        }
        let email: String = p.try_get("email")?;
        let mut tx = state.db.begin().await?;
        crate::notify::queue_email(
            &mut tx,
            &email,
            "A check-in is waiting for you",
            &format!(
                "A short check-in about how you have been is waiting for you. It takes a few minutes, and you can stop and come back.\n\n{}/check-ins",
                state.cfg.base_url.trim_end_matches('/')
            ),
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn rule(timepoint: Timepoint, anchor: Anchor, weeks: i64) -> Rule {
        Rule {
            id: format!("{timepoint:?}-{weeks}"),
            instrument_id: "ons4".into(),
            instrument_version: 1,
            core: true,
            timepoint,
            anchor,
            weeks,
            window_days: 7,
        }
    }

    #[test]
    fn baseline_repeat_end_and_follow_up_fall_due_in_their_windows() {
        let anchors = Anchors {
            first_contact: Some(date!(2026 - 09 - 01)),
            first_session: Some(date!(2026 - 09 - 10)),
            ended: None,
        };
        let none = HashMap::new();
        let rules = [
            rule(Timepoint::Baseline, Anchor::FirstContact, 0),
            rule(Timepoint::Repeat, Anchor::FirstSession, 4),
            rule(Timepoint::End, Anchor::FirstContact, 0),
            rule(Timepoint::FollowUp, Anchor::FirstContact, 12),
        ];
        // 5 Sep: baseline (1 Sep + 7 days) is due; nothing else yet.
        let d = due_items(&rules, anchors, &none, date!(2026 - 09 - 05));
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].timepoint, d[0].state),
            (Timepoint::Baseline, DueState::Due)
        );
        // 6 Oct: baseline overdue; the 4-weekly repeat from 10 Sep falls on 8 Oct (soon).
        let d = due_items(&rules, anchors, &none, date!(2026 - 10 - 06));
        let states: Vec<_> = d.iter().map(|i| (i.timepoint, i.state, i.due_on)).collect();
        assert_eq!(
            states,
            vec![
                (
                    Timepoint::Baseline,
                    DueState::Overdue,
                    date!(2026 - 09 - 01)
                ),
                (Timepoint::Repeat, DueState::Upcoming, date!(2026 - 10 - 08)),
            ]
        );
        // Completed within the windows: nothing outstanding.
        let done = HashMap::from([(
            "ons4".to_string(),
            vec![date!(2026 - 09 - 03), date!(2026 - 10 - 09)],
        )]);
        assert!(due_items(&rules, anchors, &done, date!(2026 - 10 - 10)).is_empty());
        // Ended on 1 Dec: the end measure is due then; the follow-up 12 weeks later.
        let ended = Anchors {
            ended: Some(date!(2026 - 12 - 01)),
            ..anchors
        };
        let d = due_items(&rules[2..], ended, &none, date!(2026 - 12 - 02));
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].timepoint, d[0].state),
            (Timepoint::End, DueState::Due)
        );
        let d = due_items(&rules[3..], ended, &none, date!(2027 - 02 - 23));
        assert_eq!(
            (d[0].due_on, d[0].state),
            (date!(2027 - 02 - 23), DueState::Due)
        );
        // Without a first session there is nothing to count the repeat from.
        let no_session = Anchors {
            first_session: None,
            ..anchors
        };
        assert!(due_items(&rules[1..2], no_session, &none, date!(2026 - 12 - 01)).is_empty());
    }
}
