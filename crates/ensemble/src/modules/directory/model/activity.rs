//! An activity as it is shown: its locations, schedules and types.

use serde::Serialize;

use crate::modules::places::Point;

use super::*;

/// A venue.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    /// Id (UUID).
    pub id: String,
    /// Link id between activity and location (ORUK service_at_location id).
    pub link_id: String,
    /// Venue name.
    pub name: String,
    /// Street address.
    pub address_1: String,
    /// Town or city.
    pub city: String,
    /// Postcode.
    pub postcode: String,
    /// Position, when known.
    pub point: Option<Point>,
    /// Small area of the 2021 geography (`directory::venue_areas`), when known.
    #[serde(skip)]
    pub lsoa_code: Option<String>,
    /// Small area of the 2011 geography, when known.
    #[serde(skip)]
    pub lsoa11_code: Option<String>,
}

/// When an activity happens.
#[derive(Debug, Clone, Serialize)]
pub struct Schedule {
    /// Id (UUID).
    pub id: String,
    /// Repeat.
    pub freq: Freq,
    /// Days ("TU", or "1SA" monthly).
    pub byday: String,
    /// One-off date.
    pub dtstart: Option<String>,
    /// From (term start).
    pub valid_from: Option<String>,
    /// Until (term end).
    pub valid_to: Option<String>,
    /// Start "HH:MM".
    pub opens_at: String,
    /// End "HH:MM".
    pub closes_at: String,
    /// Notes, e.g. "Term time only".
    pub description: String,
}

/// The day rules of a stored `byday` list (`TU,TH`, `1SA`, `-1SU`): for each, the week of the
/// month (0 for every week, 1 to 5 for the nth, -1 for the last) and the day. Codes that are
/// not day rules are skipped (validation names them when they are typed).
pub fn day_rules(byday: &str) -> Vec<(i8, Day)> {
    byday
        .split(',')
        .filter_map(|d| {
            let d = d.trim();
            if !d.is_ascii() || d.len() < 2 {
                return None;
            }
            let (prefix, code) = d.split_at(d.len() - 2);
            let week = if prefix.is_empty() {
                0
            } else {
                prefix.parse::<i8>().ok().filter(|n| (-1..=5).contains(n))?
            };
            Some((week, Day::from_code(code)?))
        })
        .collect()
}

impl Schedule {
    /// Plain-English summary, e.g. "Every Tuesday, 10:30 to 12:00".
    pub fn summary(&self) -> String {
        let days = day_rules(&self.byday)
            .into_iter()
            .map(|(week, day)| {
                let day = day.label();
                match week {
                    1 => format!("first {day}"),
                    2 => format!("second {day}"),
                    3 => format!("third {day}"),
                    4 => format!("fourth {day}"),
                    5 => format!("fifth {day}"),
                    -1 => format!("last {day}"),
                    _ => day.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join(" and ");
        let when = match self.freq {
            Freq::Weekly => format!("Every {days}"),
            Freq::Monthly => format!("The {days} of every month"),
            Freq::Once => format!("On {}", self.dtstart.clone().unwrap_or_default()),
        };
        format!("{when}, {} to {}", self.opens_at, self.closes_at)
    }

    /// Does this schedule meet on date `d` (within its term dates; times are not looked at)?
    /// The one rule for "which dates": the directory's next date and the practitioner's
    /// sessions planned from the schedule both use it.
    pub fn meets_on(&self, d: time::Date) -> bool {
        let parse = |s: &Option<String>| s.as_deref().and_then(crate::dates::parse_date);
        if parse(&self.valid_from).is_some_and(|f| d < f)
            || parse(&self.valid_to).is_some_and(|t| d > t)
        {
            return false;
        }
        match self.freq {
            Freq::Once => parse(&self.dtstart) == Some(d),
            Freq::Weekly | Freq::Monthly => day_rules(&self.byday)
                .into_iter()
                .any(|(week, day)| falls_on(d, week, day, self.freq)),
        }
    }

    /// The first date on or after `from` when this schedule meets (within its term dates),
    /// looking up to a year ahead.
    pub fn next_date(&self, from: time::Date) -> Option<time::Date> {
        let start = self
            .valid_from
            .as_deref()
            .and_then(crate::dates::parse_date)
            .filter(|s| *s > from)
            .unwrap_or(from);
        let mut d = start;
        for _ in 0..370 {
            if self.meets_on(d) {
                return Some(d);
            }
            d = d.next_day()?;
        }
        None
    }
}

/// Does date `d` fall on `day`, and (monthly) in its `week` of the month (0: any, -1: last)?
fn falls_on(d: time::Date, week: i8, day: Day, freq: Freq) -> bool {
    let wd = d.weekday().number_days_from_monday();
    let want = Day::ALL.iter().position(|x| *x == day).unwrap_or(7) as u8;
    if wd != want {
        return false;
    }
    match (freq, week) {
        (Freq::Monthly, -1) => d.month() != (d + time::Duration::days(7)).month(),
        (Freq::Monthly, n) if n > 0 => (d.day() as i8 - 1) / 7 + 1 == n,
        _ => true,
    }
}

#[cfg(test)]
mod schedule_tests {
    use super::*;
    use time::macros::date;

    fn schedule(freq: Freq, byday: &str) -> Schedule {
        Schedule {
            id: String::new(),
            freq,
            byday: byday.to_string(),
            dtstart: None,
            valid_from: None,
            valid_to: None,
            opens_at: "10:00".into(),
            closes_at: "12:00".into(),
            description: String::new(),
        }
    }

    #[test]
    fn weekly_monthly_last_and_term_dates() {
        let weekly = schedule(Freq::Weekly, "TU,TH");
        // 1 December 2026 is a Tuesday.
        assert!(weekly.meets_on(date!(2026 - 12 - 01)));
        assert!(weekly.meets_on(date!(2026 - 12 - 03)));
        assert!(!weekly.meets_on(date!(2026 - 12 - 02)));
        let first_sat = schedule(Freq::Monthly, "1SA");
        assert!(first_sat.meets_on(date!(2026 - 12 - 05)));
        assert!(!first_sat.meets_on(date!(2026 - 12 - 12)));
        let last_sun = schedule(Freq::Monthly, "-1SU");
        assert!(last_sun.meets_on(date!(2026 - 12 - 27)));
        assert!(!last_sun.meets_on(date!(2026 - 12 - 20)));
        assert_eq!(
            last_sun.next_date(date!(2026 - 12 - 06)),
            Some(date!(2026 - 12 - 27))
        );
        let mut term = schedule(Freq::Weekly, "TU");
        term.valid_from = Some("2027-01-05".into());
        term.valid_to = Some("2027-01-12".into());
        assert_eq!(
            term.next_date(date!(2026 - 12 - 01)),
            Some(date!(2027 - 01 - 05))
        );
        assert!(!term.meets_on(date!(2027 - 01 - 19)));
        assert_eq!(term.next_date(date!(2027 - 01 - 13)), None);
        let mut once = schedule(Freq::Once, "");
        once.dtstart = Some("2026-12-24".into());
        assert!(once.meets_on(date!(2026 - 12 - 24)));
        assert_eq!(once.next_date(date!(2026 - 12 - 25)), None);
        assert_eq!(
            day_rules("TU, 1SA,-1SU,9MO,XX"),
            vec![(0, Day::Tu), (1, Day::Sa), (-1, Day::Su)]
        );
        assert_eq!(
            schedule(Freq::Monthly, "1SA,-1SU").summary(),
            "The first Saturday and last Sunday of every month, 10:00 to 12:00"
        );
    }
}

/// An activity type (taxonomy term).
#[derive(Debug, Clone, Serialize)]
pub struct ActivityType {
    /// Term id (UUID).
    pub id: String,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Taxonomy id.
    pub taxonomy_id: String,
}

/// A full activity.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    /// Id (UUID).
    pub id: String,
    /// Owning organisation.
    pub organisation_id: String,
    /// Its name.
    pub organisation_name: String,
    /// Its description.
    pub organisation_description: String,
    /// Name.
    pub name: String,
    /// Plain-English description.
    pub description: String,
    /// What to expect on a first visit.
    pub first_visit: String,
    /// Who it is for.
    pub eligibility: String,
    /// Youngest age.
    pub minimum_age: Option<i64>,
    /// Oldest age.
    pub maximum_age: Option<i64>,
    /// How to join.
    pub how_to_join: HowToJoin,
    /// Who it is open to.
    pub audience: Audience,
    /// Places.
    pub capacity: Option<i64>,
    /// Is there a waiting list?
    pub waiting_list: bool,
    /// Cost.
    pub cost: Cost,
    /// Price in pounds (fixed price).
    pub cost_amount: Option<f64>,
    /// Bursary available.
    pub bursary: bool,
    /// Access features.
    pub access_features: Vec<AccessFeature>,
    /// Languages.
    pub languages: Vec<String>,
    /// Online (or hybrid).
    pub online: bool,
    /// Joining link for online sessions.
    pub online_url: Option<String>,
    /// Web page.
    pub url: Option<String>,
    /// Contact name.
    pub contact_name: Option<String>,
    /// Contact email.
    pub contact_email: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// `active` or `archived`.
    pub status: String,
    /// The owning organisation is archived (its activities are not shown).
    pub organisation_archived: bool,
    /// Unix seconds.
    pub last_reviewed_at: Option<i64>,
    /// Reviewer's name.
    pub reviewed_by_name: Option<String>,
    /// Unix seconds.
    pub updated_at: i64,
    /// Venues.
    pub locations: Vec<Location>,
    /// Times.
    pub schedules: Vec<Schedule>,
    /// Types.
    pub types: Vec<ActivityType>,
}

impl Activity {
    /// Is it open to the public (found by search, on the map and in the open data feed)?
    pub fn is_public(&self) -> bool {
        self.audience == Audience::Public
    }

    /// "Free", "Pay what you can", "£3.50" — with "(bursary available)" when there is one.
    pub fn cost_text(&self) -> String {
        let base = match (self.cost, self.cost_amount) {
            (Cost::Fixed, Some(a)) => format!("£{a:.2}"),
            (c, _) => c.label().to_string(),
        };
        if self.bursary {
            format!("{base} (bursary available)")
        } else {
            base
        }
    }

    /// The next date any of its schedules meets, on or after `from`.
    pub fn next_session(&self, from: time::Date) -> Option<time::Date> {
        self.schedules
            .iter()
            .filter_map(|s| s.next_date(from))
            .min()
    }

    /// Ages in words.
    pub fn ages_text(&self) -> String {
        match (self.minimum_age, self.maximum_age) {
            (Some(a), Some(b)) => format!("Ages {a} to {b}"),
            (Some(a), None) => format!("Ages {a} and over"),
            (None, Some(b)) => format!("Ages up to {b}"),
            (None, None) => "All ages".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn sched(freq: Freq, byday: &str) -> Schedule {
        Schedule {
            id: String::new(),
            freq,
            byday: byday.into(),
            dtstart: None,
            valid_from: None,
            valid_to: None,
            opens_at: "10:00".into(),
            closes_at: "11:00".into(),
            description: String::new(),
        }
    }

    #[test]
    fn the_next_date_follows_weekly_monthly_one_off_and_term_dates() {
        // 2026-12-07 is a Monday.
        let mon = date!(2026 - 12 - 07);
        assert_eq!(sched(Freq::Weekly, "MO").next_date(mon), Some(mon));
        assert_eq!(
            sched(Freq::Weekly, "TU,FR").next_date(mon),
            Some(date!(2026 - 12 - 08))
        );
        assert_eq!(
            sched(Freq::Weekly, "SU").next_date(mon),
            Some(date!(2026 - 12 - 13))
        );
        assert_eq!(
            sched(Freq::Monthly, "1SA").next_date(mon),
            Some(date!(2027 - 01 - 02))
        );
        assert_eq!(
            sched(Freq::Monthly, "2SA").next_date(mon),
            Some(date!(2026 - 12 - 12))
        );
        assert_eq!(
            sched(Freq::Monthly, "-1FR").next_date(mon),
            Some(date!(2026 - 12 - 25))
        );
        let mut once = sched(Freq::Once, "");
        once.dtstart = Some("2026-12-20".into());
        assert_eq!(once.next_date(mon), Some(date!(2026 - 12 - 20)));
        assert_eq!(once.next_date(date!(2026 - 12 - 21)), None);
        let mut term = sched(Freq::Weekly, "WE");
        term.valid_from = Some("2027-01-04".into());
        assert_eq!(term.next_date(mon), Some(date!(2027 - 01 - 06)));
        term.valid_to = Some("2026-12-01".into());
        term.valid_from = None;
        assert_eq!(term.next_date(mon), None);
    }
}
