//! Sessions from the activity's schedule: the dates a schedule gives (weekly, monthly on
//! the nth weekday, one-off, each limited to its term dates), planning the next weeks'
//! sessions from them (idempotent: a session already at that time is not planned again),
//! whether a typed date and time match the schedule, and reading a date typed in the
//! NHS.UK date-input pattern (day, month and year fields).

use serde_json::json;
use time::{Date, Duration, Month, Time};

use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::directory::model::Schedule;
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

/// The most weeks planned at once.
pub const MAX_PLAN_WEEKS: i64 = 12;

/// One occurrence of a schedule: a date and UK times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub date: Date,
    pub starts: Time,
    pub ends: Time,
}

fn hm(s: &str) -> Option<Time> {
    Time::parse(
        s.trim(),
        time::macros::format_description!("[hour]:[minute]"),
    )
    .ok()
}

/// The occurrences of these schedules from `from` to `to` (both included), by date.
pub fn occurrences(schedules: &[Schedule], from: Date, to: Date) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        for s in schedules {
            if let (true, Some(starts), Some(ends)) =
                (s.meets_on(d), hm(&s.opens_at), hm(&s.closes_at))
            {
                let slot = Slot {
                    date: d,
                    starts,
                    ends,
                };
                if !out.contains(&slot) {
                    out.push(slot);
                }
            }
        }
        match d.next_day() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

/// Does a session on `date` from `starts` to `ends` match one of the schedules? (True when
/// the activity has no schedule: there is nothing to disagree with.)
pub fn matches_schedule(schedules: &[Schedule], date: Date, starts: Time, ends: Time) -> bool {
    schedules.is_empty()
        || occurrences(schedules, date, date)
            .iter()
            .any(|s| s.starts == starts && s.ends == ends)
}

/// What planning from the schedule did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planned {
    /// Sessions created.
    pub created: usize,
    /// Occurrences that already had a session (not planned again).
    pub existing: usize,
}

/// Plan the activity's sessions for the next `weeks` weeks (from today) from its schedule,
/// led by the actor. A time that already has a session of the activity (planned, held or
/// cancelled) is skipped, so running it again plans nothing new.
pub async fn plan_from_schedule(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
    weeks: &str,
) -> Result<Planned, AppError> {
    let org = activity_org(state, actor, activity_id).await?;
    let weeks = match weeks.trim().parse::<i64>() {
        Ok(w) if (1..=MAX_PLAN_WEEKS).contains(&w) => w,
        _ => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "weeks",
                format!("Enter how many weeks to plan, from 1 to {MAX_PLAN_WEEKS}"),
            )]));
        }
    };
    let schedules = crate::modules::directory::service::schedules(state, activity_id).await?;
    let today = crate::db::uk::today();
    let slots = occurrences(&schedules, today, today + Duration::days(weeks * 7 - 1));
    if slots.is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "weeks",
            "This activity's schedule has no dates in those weeks: add a schedule to the activity, or plan a one-off session",
        )]));
    }
    let mut tx = state.db.begin().await?;
    let mut planned = Planned::default();
    let ts = now();
    for slot in &slots {
        let starts_at = crate::db::uk::instant(slot.date, slot.starts);
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT id FROM practice_sessions WHERE activity_id = $1 AND starts_at = $2",
        )
        .bind(activity_id.to_string())
        .bind(starts_at)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_some() {
            planned.existing += 1;
            continue;
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO practice_sessions (id, activity_id, organisation_id, starts_at, ends_at, venue, status, lead_user_id, aims, \
             musical_activities, adaptations, risks, materials, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, '', 'planned', $6, '', '', '', '', '', $6, $7, $7)",
        )
        .bind(id.clone())
        .bind(activity_id.to_string())
        .bind(org.clone())
        .bind(starts_at)
        .bind(crate::db::uk::instant(slot.date, slot.ends))
        .bind(actor.user_id.clone())
        .bind(ts)
        .execute(&mut *tx)
        .await?;
        planned.created += 1;
    }
    crate::audit::by(
        &mut tx,
        actor,
        "session.plan_from_schedule",
        "activity",
        Some(activity_id),
        json!({ "weeks": weeks, "created": planned.created, "existing": planned.existing }),
    )
    .await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
    Ok(planned)
}

/// The organisation running an active activity the actor runs sessions for; otherwise
/// the field is named.
pub(super) async fn activity_org(
    state: &AppState,
    actor: &Actor,
    activity_id: &str,
) -> Result<String, AppError> {
    let org: Option<String> = sqlx::query_scalar(
        "SELECT organisation_id FROM directory_activity_names WHERE id = $1 AND status = 'active'",
    )
    .bind(activity_id.to_string())
    .fetch_optional(&state.db.read)
    .await?;
    match org {
        Some(o) if runs_sessions(actor, &o) => Ok(o),
        _ => Err(AppError::Invalid(vec![FieldError::new(
            "activity_id",
            "Choose one of your organisation's activities",
        )])),
    }
}

/// A date typed in the NHS.UK date-input pattern: `field` names the group (`date`), whose
/// inputs are `{field}-day`, `{field}-month` and `{field}-year`. The error names the part
/// that is missing or wrong, as the pattern asks.
pub fn parse_date_input(
    field: &str,
    label: &str,
    day: &str,
    month: &str,
    year: &str,
) -> Result<Date, FieldError> {
    let (day, month, year) = (day.trim(), month.trim(), year.trim());
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return Err(FieldError::new(
            format!("{field}-day"),
            format!("Enter the {label}"),
        ));
    }
    let part = |v: &str, name: &str| -> Result<u32, FieldError> {
        if v.is_empty() {
            return Err(FieldError::new(
                format!("{field}-{name}"),
                format!("The {label} must include a {name}"),
            ));
        }
        v.parse::<u32>().map_err(|_| {
            FieldError::new(
                format!("{field}-{name}"),
                format!("The {name} of the {label} must be a number"),
            )
        })
    };
    let d = part(day, "day")?;
    let m = part(month, "month")?;
    let y = part(year, "year")?;
    if year.len() != 4 {
        return Err(FieldError::new(
            format!("{field}-year"),
            format!("The year of the {label} must have 4 numbers, like 2026"),
        ));
    }
    let month = u8::try_from(m)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| {
            FieldError::new(
                format!("{field}-month"),
                format!("The month of the {label} must be from 1 to 12"),
            )
        })?;
    let year = i32::try_from(y).unwrap_or(0);
    u8::try_from(d)
        .ok()
        .and_then(|d| Date::from_calendar_date(year, month, d).ok())
        .ok_or_else(|| {
            FieldError::new(
                format!("{field}-day"),
                format!(
                    "The day of the {label} must be a real day of that month (up to {})",
                    month.length(year)
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::directory::model::Freq;
    use time::macros::date;

    fn sched(freq: Freq, byday: &str, from: Option<&str>, to: Option<&str>) -> Schedule {
        Schedule {
            id: String::new(),
            freq,
            byday: byday.into(),
            dtstart: None,
            valid_from: from.map(Into::into),
            valid_to: to.map(Into::into),
            opens_at: "10:30".into(),
            closes_at: "12:00".into(),
            description: String::new(),
        }
    }

    #[test]
    fn weekly_monthly_and_term_dates_give_the_right_days() {
        // December 2026: Tuesdays are 1, 8, 15, 22, 29; Saturdays 5, 12, 19, 26.
        let weekly = sched(Freq::Weekly, "TU", None, None);
        let days: Vec<u8> = occurrences(&[weekly], date!(2026 - 12 - 01), date!(2026 - 12 - 31))
            .iter()
            .map(|s| s.date.day())
            .collect();
        assert_eq!(days, [1, 8, 15, 22, 29]);
        let monthly = sched(Freq::Monthly, "1SA,-1SA", None, None);
        let days: Vec<u8> = occurrences(&[monthly], date!(2026 - 12 - 01), date!(2026 - 12 - 31))
            .iter()
            .map(|s| s.date.day())
            .collect();
        assert_eq!(days, [5, 26]);
        let term = sched(Freq::Weekly, "TU", Some("2026-12-05"), Some("2026-12-20"));
        let days: Vec<u8> = occurrences(&[term], date!(2026 - 12 - 01), date!(2026 - 12 - 31))
            .iter()
            .map(|s| s.date.day())
            .collect();
        assert_eq!(days, [8, 15]);
    }

    #[test]
    fn a_date_typed_in_three_fields_is_read_or_refused_naming_the_field() {
        let ok = parse_date_input("date", "date of the session", "8", "12", "2026");
        assert_eq!(ok.ok(), Some(date!(2026 - 12 - 08)));
        let e = parse_date_input("date", "date", "31", "2", "2026")
            .err()
            .map(|e| e.field);
        assert_eq!(e.as_deref(), Some("date-day"));
        let e = parse_date_input("date", "date", "1", "13", "2026")
            .err()
            .map(|e| e.field);
        assert_eq!(e.as_deref(), Some("date-month"));
        let e = parse_date_input("date", "date", "1", "1", "26")
            .err()
            .map(|e| e.field);
        assert_eq!(e.as_deref(), Some("date-year"));
        let e = parse_date_input("date", "date", "1", "x", "2026")
            .err()
            .map(|e| e.field);
        assert_eq!(e.as_deref(), Some("date-month"));
    }
}
