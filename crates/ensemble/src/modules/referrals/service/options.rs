//! Sending a person two or three of the activities matching found (by email or text
//! message, with their consent to contact, by the way they prefer) and recording which one
//! they chose, which connects the referral through [`connect_in`].

#[allow(unused_imports)]
use super::*;

use serde_json::json;

use super::matching::{can_connect, load_case, sent_options};
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::directory::model::Activity;
use crate::modules::people::model::{CONTACT_METHODS, label_of};
use crate::rbac::Actor;
use crate::state::AppState;

/// What to send, as ticked.
#[derive(Debug, Clone, Default)]
pub struct SendInput {
    /// The filters the results came from.
    pub filters: MatchFilters,
    /// Activity ids ticked.
    pub options: Vec<String>,
    /// `email` or `text`.
    pub channel: String,
}

fn check_choice(input: &SendInput, results: &[MatchResult]) -> Vec<FieldError> {
    let mut e = Vec::new();
    let n = input.options.len();
    if n == 0 {
        e.push(FieldError::new(
            "options",
            "Choose two or three activities to send",
        ));
    } else if n == 1 {
        e.push(FieldError::new(
            "options",
            "Choose at least two activities, so they have a choice",
        ));
    } else if n > 3 {
        e.push(FieldError::new(
            "options",
            format!("Choose no more than three activities; you chose {n}"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if input
        .options
        .iter()
        .any(|o| !seen.insert(o) || !results.iter().any(|r| &r.activity.id == o))
    {
        e.push(FieldError::new(
            "options",
            "Choose activities from the results on this page",
        ));
    }
    if !matches!(input.channel.as_str(), "email" | "text") {
        e.push(FieldError::new(
            "channel",
            "Choose how to send the options: email or text message",
        ));
    }
    e
}

/// Why the options cannot go to this person by this channel, if they cannot.
fn contact_refusal(name: &str, c: &Contact, channel: &str) -> Option<String> {
    if !c.consent {
        return Some(format!(
            "{name} has not agreed to be contacted, so nothing was sent. Record their consent to contact on their record first, or talk the options through with them"
        ));
    }
    let preferred = label_of(CONTACT_METHODS, &c.preferred).to_lowercase();
    match (c.preferred.as_str(), channel) {
        ("email", "text") | ("text", "email") | ("phone" | "letter", _) => {
            return Some(format!(
                "{name} prefers to be contacted by {preferred}, so nothing was sent. Use that, or change their preference on their record if they tell you otherwise"
            ));
        }
        _ => {}
    }
    match channel {
        "email" if c.email.is_empty() => Some(format!(
            "There is no email address on {name}'s record, so nothing was sent"
        )),
        "text" if c.phone.is_empty() => Some(format!(
            "There is no phone number on {name}'s record, so nothing was sent"
        )),
        _ => None,
    }
}

/// A date in words, like "Tuesday 8 December 2026".
pub fn date_words(d: time::Date) -> String {
    format!("{} {} {} {}", d.weekday(), d.day(), d.month(), d.year())
}

fn when(r: &MatchResult) -> String {
    let time = r
        .activity
        .schedules
        .first()
        .map(|s| format!(", {}", s.opens_at))
        .unwrap_or_default();
    r.next_session
        .map(|d| format!("{}{time}", date_words(d)))
        .unwrap_or_else(|| "ask the organiser for dates".into())
}

fn venue(a: &Activity) -> String {
    a.locations
        .first()
        .map(|l| format!("{}, {}, {}", l.name, l.address_1, l.postcode))
        .unwrap_or_else(|| "Online".into())
}

/// The message: what each activity is, when it next meets, where, what it costs and its
/// access; nothing about the person's health or the referral.
fn compose(name: &str, from: &str, chosen: &[&MatchResult], channel: &str) -> String {
    if channel == "text" {
        let list: Vec<String> = chosen
            .iter()
            .enumerate()
            .map(|(i, r)| {
                format!(
                    "{}) {}: next {}, {}. {}",
                    i + 1,
                    r.activity.name,
                    when(r),
                    venue(&r.activity),
                    r.activity.cost_text()
                )
            })
            .collect();
        return format!(
            "Hello {name}, {from} (link worker) found these for you: {} Reply or call to say which you'd like to try.",
            list.join(" ")
        );
    }
    let mut body = format!(
        "Hello {name},\n\n{from}, your link worker, has found some activities you might like. Let them know which one you would like to try.\n"
    );
    for (i, r) in chosen.iter().enumerate() {
        let a = &r.activity;
        let access: Vec<&str> = a.access_features.iter().map(|f| f.label()).collect();
        body.push_str(&format!(
            "\n{}. {} ({})\n   Next session: {}\n   Where: {}\n   Cost: {}\n   Access: {}\n",
            i + 1,
            a.name,
            a.organisation_name,
            when(r),
            venue(a),
            a.cost_text(),
            if access.is_empty() {
                "ask the organiser".to_string()
            } else {
                access.join(", ")
            }
        ));
    }
    body
}

/// Send the person two or three of the activities found, by email or text message, with
/// their consent to contact and by the way they prefer; audited as
/// `referral.options.send` (activity ids and channel only).
pub async fn send_options(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &SendInput,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let case = load_case(&mut tx, actor, id).await?;
    let (results, _, search_errors) = search(state, &input.filters, &case.needs.languages).await?;
    let mut e = search_errors;
    e.extend(check_choice(input, &results));
    if !can_connect(&case.referral) {
        e.push(FieldError::new(
            "options",
            format!(
                "Agree a plan before sending options; this referral is “{}”",
                case.referral.status.label()
            ),
        ));
    }
    if e.is_empty()
        && let Some(why) = contact_refusal(case.ident.call_name(), &case.contact, &input.channel)
    {
        e.push(FieldError::new("channel", why));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let chosen: Vec<&MatchResult> = input
        .options
        .iter()
        .filter_map(|o| results.iter().find(|r| &r.activity.id == o))
        .collect();
    let body = compose(
        case.ident.call_name(),
        &actor.display_name,
        &chosen,
        &input.channel,
    );
    if input.channel == "email" {
        crate::notify::queue_email(
            &mut tx,
            &case.contact.email,
            "Activities your link worker found for you",
            &body,
        )
        .await?;
    } else {
        crate::notify::sms::queue_sms(&mut tx, &case.contact.phone, &body).await?;
    }
    let (batch, t) = (new_id(), now());
    for (i, r) in chosen.iter().enumerate() {
        let q = sqlx::query(
            "INSERT INTO referral_options (id, referral_id, batch_id, activity_id, position, channel, sent_by, sent_at, distance_m) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(id.to_string())
        .bind(batch.clone())
        .bind(r.activity.id.clone())
        .bind(i as i64 + 1)
        .bind(input.channel.clone())
        .bind(actor.user_id.clone())
        .bind(t);
        crate::db::bind_opt_f64(q, r.distance_m)
            .execute(&mut *tx)
            .await?;
    }
    let names: Vec<&str> = chosen.iter().map(|r| r.activity.name.as_str()).collect();
    let how = if input.channel == "email" {
        "email"
    } else {
        "text message"
    };
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        "note",
        None,
        None,
        &format!(
            "Sent {} options by {how}: {}",
            chosen.len(),
            names.join("; ")
        ),
        false,
    )
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.options.send",
        id,
        json!({ "channel": input.channel, "activity_ids": input.options }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Record which of the options sent the person chose, and connect the referral to it
/// (the provider is asked to accept, as when connecting by hand); audited as
/// `referral.options.choice` and `referral.connect`.
pub async fn record_choice(
    state: &AppState,
    actor: &Actor,
    id: &str,
    activity_id: &str,
    note: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    check::<CareTeam>(&mut tx, actor, id).await?;
    let sent = sent_options(&mut tx, id).await?;
    if sent.is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "choice",
            "Send the person some options before recording their choice",
        )]));
    }
    if activity_id.trim().is_empty() || !sent.iter().any(|s| s.activity_id == activity_id.trim()) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "choice",
            "Choose one of the activities sent to them",
        )]));
    }
    let activity_id = activity_id.trim();
    sqlx::query(
        "UPDATE referral_options SET chosen_at = $1 WHERE referral_id = $2 AND activity_id = $3 AND chosen_at IS NULL",
    )
    .bind(now())
    .bind(id.to_string())
    .bind(activity_id.to_string())
    .execute(&mut *tx)
    .await?;
    connect_in(state, &mut tx, actor, id, activity_id, note).await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.options.choice",
        id,
        json!({ "activity_id": activity_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_and_the_preferred_method_decide_whether_options_go() {
        let c = Contact {
            consent: true,
            email: "a@example.org".into(),
            phone: "07700900000".into(),
            preferred: String::new(),
        };
        assert!(contact_refusal("Riley", &c, "email").is_none());
        assert!(contact_refusal("Riley", &c, "text").is_none());
        let refused = Contact {
            consent: false,
            ..c.clone()
        };
        assert!(
            contact_refusal("Riley", &refused, "email")
                .unwrap()
                .contains("has not agreed to be contacted")
        );
        let texts = Contact {
            preferred: "text".into(),
            ..c.clone()
        };
        assert!(
            contact_refusal("Riley", &texts, "email")
                .unwrap()
                .contains("prefers to be contacted by text message")
        );
        assert!(contact_refusal("Riley", &texts, "text").is_none());
        let no_phone = Contact {
            phone: String::new(),
            ..c
        };
        assert!(
            contact_refusal("Riley", &no_phone, "text")
                .unwrap()
                .contains("no phone number")
        );
    }
}
