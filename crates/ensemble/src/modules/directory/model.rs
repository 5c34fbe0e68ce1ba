//! Directory types: activities with their locations, schedules and types, and the fixed
//! vocabularies (how to join, cost, access features, days) parsed once at the edge.

use serde::Serialize;

use crate::code::code_enum;
use crate::error::FieldError;
use crate::modules::places::{Point, Postcode};

code_enum!(
    /// How someone joins an activity.
    HowToJoin {
        DropIn => ("drop_in", "Just turn up"),
        SelfRefer => ("self_refer", "Contact them to book a place"),
        Referral => ("referral", "Referral needed (from a link worker, GP or clinician)"),
    }
);

code_enum!(
    /// What it costs.
    Cost {
        Free => ("free", "Free"),
        PayWhatYouCan => ("pay_what_you_can", "Pay what you can"),
        Fixed => ("fixed", "Fixed price"),
    }
);

code_enum!(
    /// Access features of an activity or its venue.
    AccessFeature {
        StepFree => ("step_free", "Step-free access"),
        AccessibleToilet => ("accessible_toilet", "Accessible toilet"),
        HearingLoop => ("hearing_loop", "Hearing loop"),
        Bsl => ("bsl", "British Sign Language"),
        QuietSpace => ("quiet_space", "Quiet space"),
        Childcare => ("childcare", "Childcare"),
        TravelHelp => ("travel_help", "Help with travel"),
    }
);

code_enum!(
    /// Days of the week (iCalendar codes).
    Day {
        Mo => ("MO", "Monday"),
        Tu => ("TU", "Tuesday"),
        We => ("WE", "Wednesday"),
        Th => ("TH", "Thursday"),
        Fr => ("FR", "Friday"),
        Sa => ("SA", "Saturday"),
        Su => ("SU", "Sunday"),
    }
);

code_enum!(
    /// Parts of the day.
    TimeOfDay {
        Morning => ("morning", "Morning (before 12pm)"),
        Afternoon => ("afternoon", "Afternoon (12pm to 5pm)"),
        Evening => ("evening", "Evening (after 5pm)"),
    }
);

code_enum!(
    /// How often a schedule repeats.
    Freq {
        Weekly => ("WEEKLY", "Every week"),
        Monthly => ("MONTHLY", "Every month"),
        Once => ("ONCE", "One-off"),
    }
);

impl TimeOfDay {
    /// Does a session starting at `opens_at` ("HH:MM") fall in this part of the day?
    pub fn contains(self, opens_at: &str) -> bool {
        let h: u32 = opens_at.get(..2).and_then(|h| h.parse().ok()).unwrap_or(0);
        match self {
            TimeOfDay::Morning => h < 12,
            TimeOfDay::Afternoon => (12..17).contains(&h),
            TimeOfDay::Evening => h >= 17,
        }
    }
}

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

/// Input for creating or editing an activity (forms and the importer).
#[derive(Debug, Clone, Default)]
pub struct ActivityInput {
    /// Owning organisation id.
    pub organisation_id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// First visit.
    pub first_visit: String,
    /// Eligibility.
    pub eligibility: String,
    /// Youngest age (text from a form).
    pub minimum_age: String,
    /// Oldest age.
    pub maximum_age: String,
    /// How to join code.
    pub how_to_join: String,
    /// Places.
    pub capacity: String,
    /// "yes" when there is a waiting list.
    pub waiting_list: bool,
    /// Cost code.
    pub cost: String,
    /// Price.
    pub cost_amount: String,
    /// Bursary.
    pub bursary: bool,
    /// Access feature codes.
    pub access_features: Vec<String>,
    /// Languages, comma-separated.
    pub languages: String,
    /// Online.
    pub online: bool,
    /// Online link.
    pub online_url: String,
    /// Web page.
    pub url: String,
    /// Contact name.
    pub contact_name: String,
    /// Contact email.
    pub contact_email: String,
    /// Contact phone.
    pub contact_phone: String,
    /// Activity type codes.
    pub types: Vec<String>,
    /// Venue (one, on the form).
    pub location_name: String,
    /// Street address.
    pub address_1: String,
    /// Town.
    pub city: String,
    /// Postcode.
    pub postcode: String,
    /// Latitude text (optional; looked up from the postcode when empty).
    pub latitude: String,
    /// Longitude text.
    pub longitude: String,
    /// Schedule: repeat.
    pub freq: String,
    /// Schedule: day(s).
    pub byday: String,
    /// Schedule: date of a one-off.
    pub dtstart: String,
    /// Schedule: start time.
    pub opens_at: String,
    /// Schedule: end time.
    pub closes_at: String,
    /// Schedule: from.
    pub valid_from: String,
    /// Schedule: until.
    pub valid_to: String,
    /// Schedule notes.
    pub schedule_note: String,
    /// Account ids of the practitioners who lead it.
    pub practitioners: Vec<String>,
    /// The venue being edited (its id), so it is updated in place.
    pub location_id: String,
    /// The schedule being edited (its id), so it is updated in place.
    pub schedule_id: String,
}

/// A validated activity, ready to store.
#[derive(Debug, Clone)]
pub struct ValidActivity {
    pub(crate) organisation_id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) first_visit: String,
    pub(crate) eligibility: String,
    pub(crate) minimum_age: Option<i64>,
    pub(crate) maximum_age: Option<i64>,
    pub(crate) how_to_join: HowToJoin,
    pub(crate) capacity: Option<i64>,
    pub(crate) waiting_list: bool,
    pub(crate) cost: Cost,
    pub(crate) cost_amount: Option<f64>,
    pub(crate) bursary: bool,
    pub(crate) access_features: Vec<AccessFeature>,
    pub(crate) languages: Vec<String>,
    pub(crate) online: bool,
    pub(crate) online_url: Option<String>,
    pub(crate) url: Option<String>,
    pub(crate) contact_name: Option<String>,
    pub(crate) contact_email: Option<String>,
    pub(crate) contact_phone: Option<String>,
    pub(crate) types: Vec<String>,
    pub(crate) location: Option<ValidLocation>,
    pub(crate) schedule: Option<ValidSchedule>,
    pub(crate) location_id: Option<String>,
    pub(crate) schedule_id: Option<String>,
}

/// A validated venue.
#[derive(Debug, Clone)]
pub struct ValidLocation {
    pub(crate) name: String,
    pub(crate) address_1: String,
    pub(crate) city: String,
    pub(crate) postcode: Postcode,
    pub(crate) point: Option<Point>,
}

/// A validated schedule.
#[derive(Debug, Clone)]
pub struct ValidSchedule {
    pub(crate) freq: Freq,
    pub(crate) byday: String,
    pub(crate) dtstart: Option<String>,
    pub(crate) valid_from: Option<String>,
    pub(crate) valid_to: Option<String>,
    pub(crate) opens_at: String,
    pub(crate) closes_at: String,
    pub(crate) description: String,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn text(
    value: &str,
    field: &str,
    label: &str,
    max: usize,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let v = value.trim().to_string();
    if required && v.is_empty() {
        errors.push(FieldError::new(field, format!("Enter {label}")));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("{} must be {max} characters or fewer", capitalise(label)),
        ));
    }
    v
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn int(
    value: &str,
    field: &str,
    label: &str,
    range: std::ops::RangeInclusive<i64>,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(n) if range.contains(&n) => Some(n),
        _ => {
            errors.push(FieldError::new(
                field,
                format!(
                    "{label} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            ));
            None
        }
    }
}

/// Check "HH:MM".
pub fn parse_time(s: &str) -> Option<String> {
    let s = s.trim();
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    (h < 24 && m < 60).then(|| format!("{h:02}:{m:02}"))
}

/// Check "YYYY-MM-DD" ([`crate::dates::parse_date`]); the trimmed text is kept as typed.
pub fn parse_date(s: &str) -> Option<String> {
    crate::dates::parse_date(s).map(|_| s.trim().to_string())
}

/// Check an http(s) URL.
pub fn parse_url(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 10
        && s.len() <= 500
        && !s.contains(char::is_whitespace);
    ok.then(|| s.to_string())
}

fn byday_ok(freq: Freq, byday: &str) -> bool {
    !byday.is_empty()
        && byday.is_ascii()
        && byday.split(',').all(|d| {
            let d = d.trim();
            let (prefix, code) = d.split_at(d.len().saturating_sub(2));
            Day::from_code(code).is_some()
                && match freq {
                    Freq::Weekly => prefix.is_empty(),
                    Freq::Monthly => matches!(prefix, "1" | "2" | "3" | "4" | "-1"),
                    Freq::Once => false,
                }
        })
}

impl ActivityInput {
    /// Validate; every problem is reported against its field.
    pub fn validate(&self, known_types: &[String]) -> Result<ValidActivity, Vec<FieldError>> {
        let mut e = Vec::new();
        let name = text(&self.name, "name", "the activity's name", 120, true, &mut e);
        let description = text(
            &self.description,
            "description",
            "a description",
            3000,
            true,
            &mut e,
        );
        let first_visit = text(
            &self.first_visit,
            "first_visit",
            "what to expect on a first visit",
            3000,
            false,
            &mut e,
        );
        let eligibility = text(
            &self.eligibility,
            "eligibility",
            "who it is for",
            1000,
            false,
            &mut e,
        );
        if self.organisation_id.trim().is_empty() {
            e.push(FieldError::new(
                "organisation_id",
                "Choose the organisation that runs it",
            ));
        }
        let minimum_age = int(
            &self.minimum_age,
            "minimum_age",
            "Youngest age",
            0..=120,
            &mut e,
        );
        let maximum_age = int(
            &self.maximum_age,
            "maximum_age",
            "Oldest age",
            0..=120,
            &mut e,
        );
        if let (Some(a), Some(b)) = (minimum_age, maximum_age)
            && a > b
        {
            e.push(FieldError::new(
                "maximum_age",
                "Oldest age must be the same as or more than the youngest age",
            ));
        }
        let how_to_join = HowToJoin::from_code(&self.how_to_join);
        if how_to_join.is_none() {
            e.push(FieldError::new("how_to_join", "Choose how people join"));
        }
        let capacity = int(
            &self.capacity,
            "capacity",
            "Number of places",
            1..=10_000,
            &mut e,
        );
        let cost = Cost::from_code(&self.cost);
        if cost.is_none() {
            e.push(FieldError::new("cost", "Choose what it costs"));
        }
        let cost_amount = match (cost, self.cost_amount.trim()) {
            (Some(Cost::Fixed), "") => {
                e.push(FieldError::new("cost_amount", "Enter the price, like 3.50"));
                None
            }
            (_, "") => None,
            (_, v) => match v.trim_start_matches('£').parse::<f64>() {
                Ok(a) if (0.0..=1000.0).contains(&a) => Some((a * 100.0).round() / 100.0),
                _ => {
                    e.push(FieldError::new(
                        "cost_amount",
                        "Price must be an amount in pounds, like 3.50",
                    ));
                    None
                }
            },
        };
        let mut access_features = Vec::new();
        for f in &self.access_features {
            match AccessFeature::from_code(f) {
                Some(a) if !access_features.contains(&a) => access_features.push(a),
                Some(_) => {}
                None => e.push(FieldError::new(
                    "access_features",
                    format!("Unknown access feature \"{f}\""),
                )),
            }
        }
        let languages: Vec<String> = self
            .languages
            .split(',')
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        if languages.iter().any(|l| l.chars().count() > 40) {
            e.push(FieldError::new(
                "languages",
                "Each language must be 40 characters or fewer",
            ));
        }
        let online_url = opt(&self.online_url);
        let online_url = match online_url {
            Some(u) => match parse_url(&u) {
                Some(u) => Some(u),
                None => {
                    e.push(FieldError::new(
                        "online_url",
                        "Online link must be a full web address starting with https://",
                    ));
                    None
                }
            },
            None => None,
        };
        let url = match opt(&self.url) {
            Some(u) => match parse_url(&u) {
                Some(u) => Some(u),
                None => {
                    e.push(FieldError::new(
                        "url",
                        "Web page must be a full web address starting with https://",
                    ));
                    None
                }
            },
            None => None,
        };
        let contact_email = match opt(&self.contact_email) {
            Some(m) => match crate::modules::accounts::model::Email::parse(&m) {
                Ok(m) => Some(m.as_str().to_string()),
                Err(msg) => {
                    e.push(FieldError::new("contact_email", msg));
                    None
                }
            },
            None => None,
        };
        let contact_phone = opt(&self.contact_phone);
        if contact_phone.as_ref().is_some_and(|p| {
            p.len() > 30 || !p.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c))
        }) {
            e.push(FieldError::new(
                "contact_phone",
                "Phone number must contain only digits, spaces, brackets, + and -",
            ));
        }
        let contact_name = opt(&self.contact_name);
        let mut types = Vec::new();
        for t in &self.types {
            if known_types.iter().any(|k| k == t) {
                if !types.contains(t) {
                    types.push(t.clone());
                }
            } else {
                e.push(FieldError::new(
                    "types",
                    format!("Unknown activity type \"{t}\""),
                ));
            }
        }
        if types.is_empty() && !e.iter().any(|x| x.field == "types") {
            e.push(FieldError::new(
                "types",
                "Choose at least one type of activity",
            ));
        }
        // Venue: all or nothing.
        let any_location = [
            &self.location_name,
            &self.address_1,
            &self.city,
            &self.postcode,
        ]
        .iter()
        .any(|s| !s.trim().is_empty());
        let location = if any_location {
            let lname = text(
                &self.location_name,
                "location_name",
                "the venue's name",
                200,
                true,
                &mut e,
            );
            let address_1 = text(
                &self.address_1,
                "address_1",
                "the street address",
                200,
                true,
                &mut e,
            );
            let city = text(&self.city, "city", "the town or city", 100, true, &mut e);
            let postcode = match Postcode::parse(&self.postcode) {
                Ok(p) => Some(p),
                Err(err) => {
                    e.push(FieldError::new("postcode", err.to_string()));
                    None
                }
            };
            let point = match (self.latitude.trim(), self.longitude.trim()) {
                ("", "") => None,
                (la, lo) => match (la.parse::<f64>(), lo.parse::<f64>()) {
                    (Ok(la), Ok(lo))
                        if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo) =>
                    {
                        Some(Point { lat: la, lon: lo })
                    }
                    _ => {
                        e.push(FieldError::new(
                            "latitude",
                            "Latitude and longitude must be numbers, like 53.4084 and -2.9916",
                        ));
                        None
                    }
                },
            };
            postcode.map(|postcode| ValidLocation {
                name: lname,
                address_1,
                city,
                postcode,
                point,
            })
        } else {
            if !self.online {
                e.push(FieldError::new(
                    "location_name",
                    "Enter where it happens, or say it is online",
                ));
            }
            None
        };
        // Schedule: optional, but complete if started.
        let any_schedule = [
            &self.freq,
            &self.byday,
            &self.dtstart,
            &self.opens_at,
            &self.closes_at,
        ]
        .iter()
        .any(|s| !s.trim().is_empty());
        let schedule = if any_schedule {
            let freq = Freq::from_code(&self.freq);
            if freq.is_none() {
                e.push(FieldError::new("freq", "Choose how often it happens"));
            }
            let byday = self.byday.trim().to_uppercase();
            let dtstart = opt(&self.dtstart);
            let missing = match freq {
                Some(Freq::Once) => dtstart.as_deref().and_then(parse_date).is_none().then_some((
                    "dtstart",
                    "Enter the date, like 2026-12-12",
                )),
                Some(f) => (!byday_ok(f, &byday)).then_some((
                    "byday",
                    "Enter the day, like TU for every Tuesday, or 1SA for the first Saturday of the month",
                )),
                None => None,
            };
            if let Some((field, msg)) = missing {
                e.push(FieldError::new(field, msg));
            }
            let opens = parse_time(&self.opens_at);
            let closes = parse_time(&self.closes_at);
            if opens.is_none() {
                e.push(FieldError::new(
                    "opens_at",
                    "Enter the start time, like 10:30",
                ));
            }
            if closes.is_none() {
                e.push(FieldError::new(
                    "closes_at",
                    "Enter the end time, like 12:00",
                ));
            }
            if let (Some(o), Some(c)) = (&opens, &closes)
                && c <= o
            {
                e.push(FieldError::new(
                    "closes_at",
                    "End time must be after the start time",
                ));
            }
            let valid_from = opt(&self.valid_from);
            let valid_to = opt(&self.valid_to);
            for (f, v) in [("valid_from", &valid_from), ("valid_to", &valid_to)] {
                if v.as_deref().is_some_and(|d| parse_date(d).is_none()) {
                    e.push(FieldError::new(f, "Enter a date like 2026-09-01"));
                }
            }
            match (freq, opens, closes) {
                (Some(freq), Some(opens_at), Some(closes_at)) => Some(ValidSchedule {
                    freq,
                    byday: if freq == Freq::Once {
                        String::new()
                    } else {
                        byday
                    },
                    dtstart: if freq == Freq::Once { dtstart } else { None },
                    valid_from,
                    valid_to,
                    opens_at,
                    closes_at,
                    description: self.schedule_note.trim().chars().take(200).collect(),
                }),
                _ => None,
            }
        } else {
            None
        };
        if !e.is_empty() {
            return Err(e);
        }
        let (Some(how_to_join), Some(cost)) = (how_to_join, cost) else {
            return Err(e);
        };
        Ok(ValidActivity {
            organisation_id: self.organisation_id.trim().to_string(),
            name,
            description,
            first_visit,
            eligibility,
            minimum_age,
            maximum_age,
            how_to_join,
            capacity,
            waiting_list: self.waiting_list,
            cost,
            cost_amount,
            bursary: self.bursary,
            access_features,
            languages,
            online: self.online,
            online_url,
            url,
            contact_name,
            contact_email,
            contact_phone,
            types,
            location,
            schedule,
            location_id: opt(&self.location_id),
            schedule_id: opt(&self.schedule_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ActivityInput {
        ActivityInput {
            organisation_id: "org".into(),
            name: "Tuesday Singers".into(),
            description: "We sing.".into(),
            how_to_join: "drop_in".into(),
            cost: "free".into(),
            types: vec!["choir".into()],
            location_name: "Hall".into(),
            address_1: "1 Street".into(),
            city: "Liverpool".into(),
            postcode: "l1 8jq".into(),
            freq: "WEEKLY".into(),
            byday: "tu".into(),
            opens_at: "10:30".into(),
            closes_at: "12:00".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_activity_validates_and_normalises() {
        let v = good().validate(&["choir".into()]).unwrap();
        assert_eq!(v.location.unwrap().postcode.as_str(), "L1 8JQ");
        assert_eq!(v.schedule.unwrap().byday, "TU");
    }

    #[test]
    fn every_problem_names_its_field() {
        let mut i = good();
        i.name = " ".into();
        i.cost = "fixed".into();
        i.postcode = "nope".into();
        i.closes_at = "09:00".into();
        i.types = vec!["karaoke".into()];
        i.minimum_age = "30".into();
        i.maximum_age = "20".into();
        let errs = i.validate(&["choir".into()]).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "name",
            "cost_amount",
            "postcode",
            "closes_at",
            "types",
            "maximum_age",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn schedules_summarise_in_plain_english() {
        let s = Schedule {
            id: "x".into(),
            freq: Freq::Monthly,
            byday: "1SA".into(),
            dtstart: None,
            valid_from: None,
            valid_to: None,
            opens_at: "10:00".into(),
            closes_at: "12:00".into(),
            description: String::new(),
        };
        assert_eq!(
            s.summary(),
            "The first Saturday of every month, 10:00 to 12:00"
        );
        assert!(TimeOfDay::Evening.contains("18:30") && !TimeOfDay::Evening.contains("10:00"));
    }
}
