//! An audit row in plain words ("Lee Link Worker viewed Jordan Reyes's record"), for the
//! administrator's audit view and a person page's "who viewed this record". Pure: the
//! caller supplies the names it may show.

use super::AuditRow;

/// Who acted, in words: the account's name when known, otherwise how they acted.
pub fn who(row: &AuditRow, actor_name: Option<&str>) -> String {
    match (actor_name, row.actor_label.as_str()) {
        (Some(n), _) if !n.trim().is_empty() => n.to_string(),
        (_, "cli") => "The operator (command line)".into(),
        (_, "system") => "Ensemble".into(),
        (_, "anonymous") => "Someone not signed in".into(),
        (_, "api") => "An API client".into(),
        _ => "An account".into(),
    }
}

/// The record an entry is about, in words. A person's name is given only when the caller
/// may show it (`record_name`); otherwise "a person record".
fn thing(entity_type: &str, record_name: Option<&str>) -> String {
    match (entity_type, record_name) {
        ("person", Some(n)) if !n.trim().is_empty() => format!("{n}'s record"),
        ("person", _) => "a person record".into(),
        ("user", _) => "an account".into(),
        ("organisation", _) => "an organisation".into(),
        ("incident", _) => "an incident".into(),
        ("referral", _) => "a referral".into(),
        ("audit_log", _) => "the audit trail".into(),
        ("outbox", _) => "the email outbox".into(),
        ("activity", _) => "an activity".into(),
        ("session", _) => "a session".into(),
        (other, _) => {
            let words = other.replace('_', " ");
            let article = if words.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {words}")
        }
    }
}

/// What was done, in words, without the actor: "viewed Jordan's record".
pub fn what(row: &AuditRow, record_name: Option<&str>) -> String {
    let action = row.action.as_str();
    let thing = thing(&row.entity_type, record_name);
    let last = action.rsplit('.').next().unwrap_or(action);
    match (action, last) {
        ("session.sign_in", _) => "signed in".into(),
        ("session.sign_out", _) => "signed out".into(),
        ("consent.record", _) => format!("recorded a consent decision on {thing}"),
        ("person.link_account", _) => format!("linked a participant account to {thing}"),
        ("plan.own.view", _) => "viewed their own plan".into(),
        ("person.views.read", _) => format!("looked at who viewed {thing}"),
        (_, "read" | "view" | "export") => format!("viewed {thing}"),
        (_, "update" | "edit") => format!("changed {thing}"),
        (_, "create" | "report") => format!("created {thing}"),
        (_, "delete" | "revoke" | "disable") => format!("removed {thing}"),
        _ => format!("{} ({thing})", action.replace(['.', '_'], " ")),
    }
}

/// The whole sentence: "Lee Link Worker viewed Jordan's record".
pub fn sentence(row: &AuditRow, actor_name: Option<&str>, record_name: Option<&str>) -> String {
    format!("{} {}", who(row, actor_name), what(row, record_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(action: &str, entity_type: &str, label: &str) -> AuditRow {
        AuditRow {
            seq: 1,
            at: 0,
            actor_user_id: None,
            actor_label: label.into(),
            action: action.into(),
            entity_type: entity_type.into(),
            entity_id: Some("p1".into()),
            detail: "{}".into(),
            request_id: None,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn entries_read_as_sentences_and_names_only_when_given() {
        let r = row("person.read", "person", "web");
        assert_eq!(
            sentence(&r, Some("Lee Link Worker"), Some("Jordan")),
            "Lee Link Worker viewed Jordan's record"
        );
        assert_eq!(
            sentence(&r, Some("Ash Admin"), None),
            "Ash Admin viewed a person record"
        );
        assert_eq!(
            sentence(&row("session.sign_in", "user", "web"), Some("Kim"), None),
            "Kim signed in"
        );
        assert_eq!(
            sentence(
                &row("organisation.update", "organisation", "cli"),
                None,
                None
            ),
            "The operator (command line) changed an organisation"
        );
        assert_eq!(
            what(
                &row("measure.response.start", "measure_response", "web"),
                None
            ),
            "measure response start (a measure response)"
        );
    }
}
