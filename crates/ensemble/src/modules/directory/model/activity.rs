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

impl Schedule {
    /// Plain-English summary, e.g. "Every Tuesday, 10:30 to 12:00".
    pub fn summary(&self) -> String {
        let days = |s: &str| {
            s.split(',')
                .filter_map(|d| {
                    let d = d.trim();
                    if !d.is_ascii() {
                        return None;
                    }
                    let (prefix, code) = d.split_at(d.len().saturating_sub(2));
                    let day = Day::from_code(code)?.label();
                    Some(match prefix {
                        "" => day.to_string(),
                        "1" => format!("first {day}"),
                        "2" => format!("second {day}"),
                        "3" => format!("third {day}"),
                        "4" => format!("fourth {day}"),
                        "-1" => format!("last {day}"),
                        _ => day.to_string(),
                    })
                })
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let when = match self.freq {
            Freq::Weekly => format!("Every {}", days(&self.byday)),
            Freq::Monthly => format!("The {} of every month", days(&self.byday)),
            Freq::Once => format!("On {}", self.dtstart.clone().unwrap_or_default()),
        };
        format!("{when}, {} to {}", self.opens_at, self.closes_at)
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
