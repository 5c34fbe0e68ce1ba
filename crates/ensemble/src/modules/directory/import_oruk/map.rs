//! From ORUK documents to services, and from one service to an activity: the reverse of
//! `oruk.rs`, so that what Ensemble publishes comes back as it was (cost kind and bursary,
//! attendance, access features, schedule notes, types, contact, dates and every id).

use serde_json::{Value, json};

use crate::modules::places::{Point, Postcode};

use super::super::model::{
    AccessFeature, Cost, Day, Freq, HowToJoin, Schedule, ValidActivity, ValidLocation,
    ValidSchedule, parse_date, parse_time, parse_url,
};

/// A known activity type: (term id, code, name).
pub(super) type Known = [(String, String, String)];

/// An activity mapped from a service, with the ids and dates the feed gave.
pub(super) struct Mapped {
    /// The activity (no venue or schedule: those are below, with their ids).
    pub activity: ValidActivity,
    /// (service_at_location id, location id, venue).
    pub locations: Vec<(String, String, ValidLocation)>,
    /// (schedule id, schedule).
    pub schedules: Vec<(String, ValidSchedule)>,
    /// `last_modified`, Unix seconds.
    pub updated_at: Option<i64>,
    /// `assured_date` at midnight UTC, Unix seconds.
    pub reviewed_at: Option<i64>,
}

fn is_sal(v: &Value) -> bool {
    v.get("service").is_some_and(Value::is_object)
        && (v.get("location").is_some() || v.get("location_id").is_some())
}

/// A service-at-location as its service, carrying the location (and any schedules or
/// contacts given at the service-at-location) as the service's own.
fn sal_to_service(sal: &Value) -> Value {
    let mut s = sal["service"].clone();
    let Some(obj) = s.as_object_mut() else {
        return s;
    };
    if let Some(loc) = sal.get("location") {
        let entry = json!({ "id": sal["id"], "service_id": obj.get("id"), "location_id": loc.get("id"), "location": loc });
        match obj
            .get_mut("service_at_locations")
            .and_then(Value::as_array_mut)
        {
            Some(list) if !list.iter().any(|x| x["id"] == sal["id"]) => list.push(entry),
            Some(_) => {}
            None => {
                obj.insert("service_at_locations".into(), json!([entry]));
            }
        }
    }
    for key in ["schedules", "contacts"] {
        if let Some(extra) = sal.get(key).and_then(Value::as_array) {
            let list = obj.entry(key).or_insert_with(|| json!([]));
            if let Some(list) = list.as_array_mut() {
                for x in extra {
                    if !list.iter().any(|y| y["id"] == x["id"]) {
                        list.push(x.clone());
                    }
                }
            }
        }
    }
    s
}

fn looks_like_service(v: &Value) -> bool {
    v.get("status").is_some()
        || v.get("organization").is_some()
        || v.get("organization_id").is_some()
        || v.get("service_at_locations").is_some()
}

/// Pull the services out of a JSON document (a page or a list of services or of
/// services-at-locations, one service, or one service-at-location); `Err` names what the
/// document is instead.
pub(super) fn services_in(doc: &Value) -> Result<Vec<Value>, String> {
    let items = match (doc.get("contents"), doc.as_array()) {
        (Some(Value::Array(c)), _) => Some(c),
        (_, Some(list)) => Some(list),
        _ => None,
    };
    if let Some(items) = items {
        let mut out = Vec::new();
        for (i, c) in items.iter().enumerate() {
            if is_sal(c) {
                out.push(sal_to_service(c));
            } else if looks_like_service(c) || doc.is_array() {
                out.push(c.clone());
            } else {
                return Err(format!(
                    "a page of records that are not services (item {} has no status, organization or service)",
                    i + 1
                ));
            }
        }
        return Ok(out);
    }
    if is_sal(doc) {
        return Ok(vec![sal_to_service(doc)]);
    }
    if looks_like_service(doc) {
        return Ok(vec![doc.clone()]);
    }
    if doc.get("version").is_some() && doc.get("openapi_url").is_some() {
        return Err("an API description (/), not services".into());
    }
    if doc.get("taxonomy_id").is_some() || doc.get("term_uri").is_some() {
        return Err("a taxonomy term, not services".into());
    }
    Err("not a services feed (no contents, no service fields)".into())
}

/// Two copies of one service (a list item and its full record, or the same service at two
/// locations): the fuller copy, with every service_at_location of both (a location with an
/// address wins over the same location without).
pub(super) fn merge(a: Value, b: Value) -> Value {
    let size = |v: &Value| v.to_string().len();
    let (mut base, other) = if size(&b) > size(&a) { (b, a) } else { (a, b) };
    let Some(extra) = other["service_at_locations"].as_array().cloned() else {
        return base;
    };
    let Some(obj) = base.as_object_mut() else {
        return base;
    };
    let list = obj
        .entry("service_at_locations")
        .or_insert_with(|| json!([]));
    if let Some(list) = list.as_array_mut() {
        for x in extra {
            match list.iter_mut().find(|y| y["id"] == x["id"]) {
                Some(y) if y["location"]["addresses"].is_null() => *y = x,
                Some(_) => {}
                None => list.push(x),
            }
        }
    }
    base
}

pub(super) fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Our activity type for an ORUK attribute: by term id, else by the term's code or name.
fn type_code(attr: &Value, known: &Known) -> Option<String> {
    let term = &attr["taxonomy_term"];
    let ids = [text(attr, "taxonomy_term_id"), text(term, "id")];
    if let Some((_, code, _)) = ids
        .iter()
        .flatten()
        .find_map(|id| known.iter().find(|(k, _, _)| k == id))
    {
        return Some(code.clone());
    }
    let candidates = [text(term, "code"), text(term, "name"), text(term, "term")];
    candidates.into_iter().flatten().find_map(|c| {
        known
            .iter()
            .find(|(_, code, name)| code.eq_ignore_ascii_case(&c) || name.eq_ignore_ascii_case(&c))
            .map(|(_, code, _)| code.clone())
    })
}

/// The cost kind, price and bursary from the first cost option and the fees text.
fn cost(s: &Value, warnings: &mut Vec<String>) -> (Cost, Option<f64>, bool) {
    let option = s["cost_options"].as_array().and_then(|c| c.first());
    let amount = option.and_then(|c| c["amount"].as_f64());
    let words: Vec<String> = [
        option.and_then(|c| text(c, "option")),
        option.and_then(|c| text(c, "amount_description")),
        text(s, "fees"),
        text(s, "fees_description"),
    ]
    .into_iter()
    .flatten()
    .map(|w| w.to_lowercase())
    .collect();
    let says = |what: &str| words.iter().any(|w| w.contains(what));
    let bursary = says("bursary");
    let kind = match amount {
        Some(a) if a > 0.0 && a.is_finite() => (Cost::Fixed, Some(a)),
        _ if says("pay what you can") => (Cost::PayWhatYouCan, None),
        Some(_) => (Cost::Free, None),
        None => match words.iter().find_map(|w| price_in(w)) {
            Some(p) if p > 0.0 => (Cost::Fixed, Some(p)),
            _ => {
                if !words.is_empty() && !says("free") {
                    warnings.push(format!(
                        "cost: \"{}\" gives no amount; imported as free",
                        words.join("; ")
                    ));
                }
                (Cost::Free, None)
            }
        },
    };
    (kind.0, kind.1, bursary)
}

/// A price written as "£3.50".
fn price_in(words: &str) -> Option<f64> {
    let rest = &words[words.find('£')? + '£'.len_utf8()..];
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok()
}

/// Access features given at any of the service's locations, by label or code.
fn access(s: &Value) -> Vec<AccessFeature> {
    let mut found = Vec::new();
    for sal in s["service_at_locations"].as_array().into_iter().flatten() {
        for a in sal["location"]["accessibility"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = text(a, "accessibility").unwrap_or_default();
            let f = AccessFeature::ALL
                .iter()
                .copied()
                .find(|f| f.label().eq_ignore_ascii_case(&name) || f.code() == name);
            if let Some(f) = f.filter(|f| !found.contains(f)) {
                found.push(f);
            }
        }
    }
    found.sort_by_key(|f| AccessFeature::ALL.iter().position(|x| x == f));
    found
}

fn location(
    i: usize,
    sal: &Value,
    warnings: &mut Vec<String>,
) -> Option<(String, String, ValidLocation)> {
    let loc = &sal["location"];
    let addr = loc["addresses"]
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Value::Null);
    let raw_pc = text(&addr, "postal_code").unwrap_or_default();
    let Ok(postcode) = Postcode::parse(&raw_pc) else {
        warnings.push(format!("service_at_locations[{i}]: left out, because postal_code \"{raw_pc}\" is not a UK postcode"));
        return None;
    };
    let point = match (loc["latitude"].as_f64(), loc["longitude"].as_f64()) {
        (Some(la), Some(lo)) if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo) => {
            Some(Point { lat: la, lon: lo })
        }
        (Some(_), Some(_)) => {
            warnings.push(format!("service_at_locations[{i}]: latitude/longitude out of range; position looked up from the postcode instead"));
            None
        }
        _ => None,
    };
    let id = |v: Option<String>| v.unwrap_or_else(crate::db::new_id);
    Some((
        id(text(sal, "id")),
        id(text(loc, "id")),
        ValidLocation {
            name: text(loc, "name").unwrap_or_else(|| "Venue".into()),
            address_1: text(&addr, "address_1").unwrap_or_default(),
            city: text(&addr, "city").unwrap_or_default(),
            postcode,
            point,
            lsoas: (None, None),
        },
    ))
}

/// A schedule's own note: our feeds write "summary (note)" in `description`.
fn note(description: &str, s: &ValidSchedule) -> String {
    let summary = Schedule {
        id: String::new(),
        freq: s.freq,
        byday: s.byday.clone(),
        dtstart: s.dtstart.clone(),
        valid_from: None,
        valid_to: None,
        opens_at: s.opens_at.clone(),
        closes_at: s.closes_at.clone(),
        description: String::new(),
    }
    .summary();
    if description == summary {
        return String::new();
    }
    description
        .strip_prefix(&format!("{summary} ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(description)
        .chars()
        .take(200)
        .collect()
}

fn schedule(i: usize, sc: &Value, warnings: &mut Vec<String>) -> Option<(String, ValidSchedule)> {
    let opens = text(sc, "opens_at").and_then(|t| parse_time(&t));
    let closes = text(sc, "closes_at").and_then(|t| parse_time(&t));
    let (Some(opens_at), Some(closes_at)) = (opens, closes) else {
        warnings.push(format!(
            "schedules[{i}]: left out, because opens_at/closes_at are missing or not times"
        ));
        return None;
    };
    let freq = match text(sc, "freq").as_deref() {
        Some("MONTHLY") => Freq::Monthly,
        Some(_) => Freq::Weekly,
        None => Freq::Once,
    };
    let byday: String = text(sc, "byday")
        .unwrap_or_default()
        .to_uppercase()
        .chars()
        .filter(char::is_ascii)
        .collect();
    let byday_ok = !byday.is_empty()
        && byday
            .split(',')
            .all(|d| Day::from_code(&d.trim()[d.trim().len().saturating_sub(2)..]).is_some());
    if freq != Freq::Once && !byday_ok {
        warnings.push(format!(
            "schedules[{i}]: left out, because byday \"{byday}\" is not a list of days"
        ));
        return None;
    }
    let mut v = ValidSchedule {
        freq,
        byday: if freq == Freq::Once {
            String::new()
        } else {
            byday
        },
        dtstart: text(sc, "dtstart").and_then(|d| parse_date(&d)),
        valid_from: text(sc, "valid_from").and_then(|d| parse_date(&d)),
        valid_to: text(sc, "valid_to").and_then(|d| parse_date(&d)),
        opens_at,
        closes_at,
        description: String::new(),
    };
    v.description = note(&text(sc, "description").unwrap_or_default(), &v);
    Some((text(sc, "id").unwrap_or_else(crate::db::new_id), v))
}

fn instant(v: &Value, key: &str) -> Option<i64> {
    let t = text(v, key)?;
    let rfc = time::format_description::well_known::Rfc3339;
    if let Ok(dt) = time::OffsetDateTime::parse(&t, &rfc) {
        return Some(dt.unix_timestamp());
    }
    crate::dates::parse_date(&t).map(|d| d.midnight().assume_utc().unix_timestamp())
}

/// Map one (checked) service to an activity for `org_id`.
pub(super) fn to_activity(
    s: &Value,
    org_id: &str,
    known: &Known,
    warnings: &mut Vec<String>,
) -> Mapped {
    let mut types: Vec<String> = s["attributes"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| type_code(x, known)).collect())
        .unwrap_or_default();
    types.sort();
    types.dedup();
    if types.is_empty() {
        types.push("other_creative".into());
    }
    let (cost, cost_amount, bursary) = cost(s, warnings);
    let sals = s["service_at_locations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let locations: Vec<_> = sals
        .iter()
        .enumerate()
        .filter_map(|(i, sal)| location(i, sal, warnings))
        .collect();
    let scheds = s["schedules"].as_array().cloned().unwrap_or_default();
    let schedules: Vec<_> = scheds
        .iter()
        .enumerate()
        .filter_map(|(i, sc)| schedule(i, sc, warnings))
        .collect();
    // "online" and "hybrid" sessions make the activity online; "hybrid" keeps its venues.
    let online = scheds.iter().any(|sc| {
        matches!(
            text(sc, "attending_type").as_deref(),
            Some("online" | "hybrid")
        )
    });
    let activity = ValidActivity {
        organisation_id: org_id.to_string(),
        name: text(s, "name")
            .unwrap_or_default()
            .chars()
            .take(120)
            .collect(),
        description: text(s, "description")
            .unwrap_or_else(|| "No description given by the source directory.".into()),
        first_visit: String::new(),
        eligibility: String::new(),
        minimum_age: s["minimum_age"].as_f64().map(|a| a as i64),
        maximum_age: s["maximum_age"].as_f64().map(|a| a as i64),
        how_to_join: HowToJoin::SelfRefer,
        // A feed publishes what is open to the public.
        audience: super::super::model::Audience::Public,
        capacity: None,
        waiting_list: false,
        cost,
        cost_amount,
        bursary,
        access_features: access(s),
        languages: Vec::new(),
        online,
        online_url: None,
        url: text(s, "url").and_then(|u| parse_url(&u)),
        contact_name: s["contacts"]
            .as_array()
            .and_then(|c| c.first())
            .and_then(|c| text(c, "name")),
        contact_email: text(s, "email"),
        contact_phone: None,
        types,
        location: None,
        schedule: None,
        location_id: None,
        schedule_id: None,
    };
    Mapped {
        activity,
        locations,
        schedules,
        updated_at: instant(s, "last_modified"),
        reviewed_at: instant(s, "assured_date"),
    }
}
