//! Measurement plans: a programme (a directory activity) pins a core set of instruments that
//! every site collects, and says when each is due — at baseline (first contact or first
//! session), every N weeks, at the end, or as a follow-up N weeks after — each with a window.
//! From these come the due and overdue lists for link workers and practitioners, the
//! participant's "due now" check-ins, and a daily reminder email.

mod due;
mod plans;
mod reminders;

pub use due::*;
pub use plans::*;
pub use reminders::*;

use std::collections::HashMap;

use serde::Serialize;
use time::{Date, Duration};

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
