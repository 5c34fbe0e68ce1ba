//! The activity editor's input and its validation into a `ValidActivity`, with every problem
//! reported against its field.

use crate::error::FieldError;
use crate::modules::places::{Point, Postcode};

use super::*;

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
    /// Who it is open to (`public`, `ward`, `closed`; empty means public).
    pub audience: String,
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
    pub(crate) audience: Audience,
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
    /// Small areas (LSOA 2021, LSOA 2011), filled by `directory::venue_areas::place`.
    pub(crate) lsoas: (Option<String>, Option<String>),
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
        let audience = match self.audience.trim() {
            "" => Some(Audience::Public),
            code => Audience::from_code(code),
        };
        if audience.is_none() {
            e.push(FieldError::new(
                "audience",
                "Choose who it is open to: the public, a ward only, or a closed group",
            ));
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
                lsoas: (None, None),
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
                    "Choose the day or days it happens (and, for a monthly activity, which week of the month)",
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
        let (Some(how_to_join), Some(cost), Some(audience)) = (how_to_join, cost, audience) else {
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
            audience,
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
