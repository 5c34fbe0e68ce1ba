//! The UK profile's rules for one imported service: every problem is named by its field.

use serde_json::Value;

use super::super::model::parse_url;

pub(super) fn is_uuid(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok() && s.len() == 36)
}

fn is_email(s: &str) -> bool {
    crate::modules::accounts::model::Email::parse(s).is_ok() || s.ends_with("@localhost")
}

/// Check one service against the UK profile's rules; every problem is named.
pub fn check_service(s: &Value) -> Vec<String> {
    let mut e = Vec::new();
    let Some(obj) = s.as_object() else {
        return vec!["a service must be a JSON object".into()];
    };
    if !is_uuid(&s["id"]) {
        e.push(format!("id: {} is not a UUID", s["id"]));
    }
    match s.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => {}
        Some(Value::String(_)) => e.push("name: must not be empty".into()),
        Some(other) => e.push(format!("name: must be a string, not {other}")),
        None => e.push("name: is required".into()),
    }
    match s.get("status").and_then(Value::as_str) {
        Some("active" | "inactive" | "defunct" | "temporarily closed") => {}
        Some(other) => e.push(format!(
            "status: \"{other}\" is not one of active, inactive, defunct, temporarily closed"
        )),
        None => e.push("status: is required".into()),
    }
    for key in ["email", "assurer_email"] {
        match obj.get(key) {
            None => {}
            Some(Value::String(m)) if is_email(m) => {}
            Some(other) => e.push(format!("{key}: {other} is not a valid email address")),
        }
    }
    if let Some(u) = obj.get("url")
        && u.as_str().is_none_or(|u| parse_url(u).is_none())
    {
        e.push(format!("url: {u} is not an absolute http(s) URI"));
    }
    for key in ["minimum_age", "maximum_age"] {
        if obj.get(key).is_some_and(|v| !v.is_number()) {
            e.push(format!("{key}: must be a number"));
        }
    }
    if let Some(org) = obj.get("organization") {
        for key in ["id", "name", "description"] {
            if org.get(key).is_none() {
                e.push(format!("organization.{key}: is required"));
            }
        }
        if org.get("id").is_some() && !is_uuid(&org["id"]) {
            e.push(format!("organization.id: {} is not a UUID", org["id"]));
        }
    }
    for list in [
        "schedules",
        "service_at_locations",
        "cost_options",
        "contacts",
        "attributes",
        "languages",
        "service_areas",
        "funding",
    ] {
        match obj.get(list) {
            None => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if !is_uuid(&item["id"]) {
                        e.push(format!("{list}[{i}].id: is required and must be a UUID"));
                    }
                }
            }
            Some(_) => e.push(format!("{list}: must be an array")),
        }
    }
    if let Some(Value::Array(scheds)) = obj.get("schedules") {
        for (i, sc) in scheds.iter().enumerate() {
            if let Some(f) = sc.get("freq").and_then(Value::as_str)
                && f != "WEEKLY"
                && f != "MONTHLY"
            {
                e.push(format!(
                    "schedules[{i}].freq: \"{f}\" is not WEEKLY or MONTHLY"
                ));
            }
        }
    }
    if let Some(Value::Array(sals)) = obj.get("service_at_locations") {
        for (i, sal) in sals.iter().enumerate() {
            if let Some(loc) = sal.get("location") {
                if !is_uuid(&loc["id"]) {
                    e.push(format!(
                        "service_at_locations[{i}].location.id: is required and must be a UUID"
                    ));
                }
                match loc.get("location_type").and_then(Value::as_str) {
                    Some("physical" | "postal" | "virtual") => {}
                    _ => e.push(format!("service_at_locations[{i}].location.location_type: must be physical, postal or virtual")),
                }
            }
        }
    }
    e
}
