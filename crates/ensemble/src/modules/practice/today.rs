//! The practitioner's "today": the part of the home page that leads a practitioner's day —
//! their sessions today and in the coming week (as lead or co-facilitator), each with its
//! register and log, and how many referrals to their organisations' activities wait for an
//! answer. [`super::home`] puts it first on a practitioner's home page.

use crate::modules::practice::model::SessionStatus;
use maud::{Markup, html};
use sqlx::Row;
use time::{Duration, Time};

use crate::error::AppError;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// A session in the practitioner's week.
#[derive(Debug, Clone)]
pub struct TodayRow {
    pub id: String,
    pub activity_name: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: SessionStatus,
}

/// What the practitioner's home page leads with.
#[derive(Debug, Clone, Default)]
pub struct Today {
    /// Sessions from the start of today to the end of the seventh day after, by time.
    pub sessions: Vec<TodayRow>,
    /// Referrals to the organisations' activities waiting for the provider's answer.
    pub referrals_waiting: i64,
}

/// The actor's own sessions (lead or co-facilitator) of organisations they still run
/// sessions for, and the referrals waiting for their organisations' answer.
pub async fn today(state: &AppState, actor: &Actor) -> Result<Today, AppError> {
    let start = crate::db::uk::instant(crate::db::uk::today(), Time::MIDNIGHT);
    let end = crate::db::uk::instant(crate::db::uk::today() + Duration::days(8), Time::MIDNIGHT);
    let rows = sqlx::query(
        "SELECT s.id, a.name, s.starts_at, s.ends_at, s.status, s.organisation_id FROM practice_sessions s \
         JOIN directory_activity_names a ON a.id = s.activity_id \
         WHERE s.starts_at >= $2 AND s.starts_at < $3 AND (s.lead_user_id = $1 OR EXISTS \
         (SELECT 1 FROM session_facilitators f WHERE f.session_id = s.id AND f.user_id = $1)) \
         ORDER BY s.starts_at, s.id LIMIT 100",
    )
    .bind(actor.user_id.clone())
    .bind(start)
    .bind(end)
    .fetch_all(&state.db.read)
    .await?;
    let mut out = Today::default();
    for r in rows {
        let org: String = r.try_get("organisation_id")?;
        if !super::service::runs_sessions(actor, &org) {
            continue;
        }
        out.sessions.push(TodayRow {
            id: r.try_get("id")?,
            activity_name: r.try_get("name")?,
            starts_at: r.try_get("starts_at")?,
            ends_at: r.try_get("ends_at")?,
            status: SessionStatus::decode(r.try_get("status")?)?,
        });
    }
    for (org, _, role) in &actor.memberships {
        if !matches!(role, Role::Practitioner | Role::ProgrammeManager) {
            continue;
        }
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM referrals_case_summaries r JOIN directory_activity_names a ON a.id = r.activity_id \
             WHERE a.organisation_id = $1 AND r.provider_status = 'pending' \
             AND r.status NOT IN ('closed', 'declined', 'not_reached', 'did_not_attend')",
        )
        .bind(org.clone())
        .fetch_one(&state.db.read)
        .await?;
        out.referrals_waiting += n;
    }
    Ok(out)
}

fn hm(ts: i64) -> String {
    let t = crate::db::uk::local(ts);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn day_label(ts: i64) -> String {
    let d = crate::db::uk::local(ts).date();
    let today = crate::db::uk::today();
    if d == today {
        return "Today".into();
    }
    if d == today + Duration::days(1) {
        return "Tomorrow".into();
    }
    format!("{} {} {}", d.weekday(), d.day(), d.month())
}

fn session_list(rows: &[&TodayRow]) -> Markup {
    html! {
        ul."nhsuk-list ensemble-today" {
            @for s in rows {
                li."ensemble-today__session" {
                    p."nhsuk-u-margin-bottom-1" {
                        a href=(format!("/sessions/{}", s.id)) { strong { (s.activity_name) } }
                        br;
                        (day_label(s.starts_at)) ", " (hm(s.starts_at)) " to " (hm(s.ends_at))
                        @if s.status == SessionStatus::Cancelled { " " strong."nhsuk-tag nhsuk-tag--grey" { "Cancelled" } }
                    }
                    @if s.status != SessionStatus::Cancelled {
                        p."ensemble-today__links" {
                            a href=(format!("/sessions/{}/register", s.id)) { "Register" span."nhsuk-u-visually-hidden" { ": " (s.activity_name) ", " (day_label(s.starts_at)) " " (hm(s.starts_at)) } }
                            a href=(format!("/sessions/{}/log", s.id)) { "Log" span."nhsuk-u-visually-hidden" { ": " (s.activity_name) ", " (day_label(s.starts_at)) " " (hm(s.starts_at)) } }
                        }
                    }
                }
            }
        }
    }
}

/// The practitioner's part of the home page (drawn by [`super::home`]).
pub fn section(t: &Today) -> Markup {
    let today = crate::db::uk::today();
    let (now, later): (Vec<&TodayRow>, Vec<&TodayRow>) = t
        .sessions
        .iter()
        .partition(|s| crate::db::uk::local(s.starts_at).date() == today);
    html! {
        h2."nhsuk-heading-m" { "Today's sessions" }
        @if now.is_empty() { p."nhsuk-body" { "You have no sessions today." } } @else { (session_list(&now)) }
        h2."nhsuk-heading-m" { "The coming week" }
        @if later.is_empty() {
            p."nhsuk-body" { "No sessions in the next seven days. " a href="/sessions" { "Plan sessions from an activity's schedule" } "." }
        } @else { (session_list(&later)) }
        h2."nhsuk-heading-m" { "Referrals to answer" }
        @if t.referrals_waiting == 0 {
            p."nhsuk-body" { "No referrals are waiting for an answer. " a href="/provider/referrals" { "Referrals to your activities" } }
        } @else {
            p."nhsuk-body" {
                a href="/provider/referrals" {
                    (t.referrals_waiting) " " (if t.referrals_waiting == 1 { "referral is" } else { "referrals are" }) " waiting for your answer"
                }
            }
        }
        p."nhsuk-body" { a href="/sessions" { "All sessions" } }
    }
}
