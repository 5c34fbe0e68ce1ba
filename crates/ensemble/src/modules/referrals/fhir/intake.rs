//! Reading a FHIR `ServiceRequest`, with the Patient and performer travelling with it,
//! into a referral, and taking it (new, a repeat, or a withdrawal).

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::outcome::{Issue, issue, outcome, transient};
use super::request::Ask;
use super::request::ask_of;
use super::{LEGACY_ACTIVITY_SYSTEM, NHS_NUMBER_SYSTEM, UNSPECIFIED_SYSTEM, identifier_system};
use crate::error::AppError;
use crate::modules::people::model::NhsNumber;
use crate::modules::people::service::PersonInput;
use crate::modules::referrals::model::{ReasonProblem, ReferralReason};
use crate::modules::referrals::service::{self, NewReferral, Receipt, Referral, Refusal};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

pub(super) fn resource_type(v: &Value) -> &str {
    v.get("resourceType").and_then(Value::as_str).unwrap_or("")
}

pub(super) fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => cur.get(i),
            Err(_) => cur.get(*p),
        }
        .unwrap_or(&Value::Null);
    }
    cur.as_str().unwrap_or("")
}

/// Resources that travel with the request: Bundle entries by fullUrl, and contained ones.
pub(super) struct Context<'a> {
    entries: HashMap<String, &'a Value>,
    contained: HashMap<String, &'a Value>,
}

impl<'a> Context<'a> {
    /// The resources contained in a `ServiceRequest`, by id.
    pub(super) fn contained_in(v: &'a Value) -> Self {
        Self {
            entries: HashMap::new(),
            contained: v
                .get("contained")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|r| (str_at(r, &["id"]).to_string(), r))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// A message Bundle's entries, by fullUrl.
    pub(super) fn entries_of(entries: &[&'a Value]) -> Self {
        Self {
            entries: entries
                .iter()
                .copied()
                .filter_map(|e| Some((str_at(e, &["fullUrl"]).to_string(), e.get("resource")?)))
                .collect(),
            contained: HashMap::new(),
        }
    }

    pub(super) fn resolve(&self, reference: &str) -> Option<&'a Value> {
        if let Some(id) = reference.strip_prefix('#') {
            return self.contained.get(id).copied();
        }
        self.entries.get(reference).copied().or_else(|| {
            // "Patient/123" against entries whose resource has that type and id.
            let (ty, id) = reference.split_once('/')?;
            self.entries
                .values()
                .copied()
                .find(|r| resource_type(r) == ty && str_at(r, &["id"]) == id)
        })
    }
}

/// What the intake produced from a request: the referral, and the digest of what was sent
/// (see `service::receive`).
pub(super) struct Intake {
    referral: NewReferral,
    digest: Map<String, Value>,
}

fn patient_to_person(
    p: &Value,
    expr: &str,
    tasks: &mut Vec<String>,
) -> Result<PersonInput, Vec<Issue>> {
    let name = p
        .get("name")
        .and_then(|n| n.get(0))
        .cloned()
        .unwrap_or(Value::Null);
    let mut given = str_at(&name, &["given", "0"]).to_string();
    let family = str_at(&name, &["family"]).to_string();
    if given.is_empty() {
        given = str_at(&name, &["text"]).to_string();
    }
    if given.is_empty() {
        return Err(vec![issue(
            "required",
            format!("{expr}.name"),
            "The patient needs a name (name[0].given or name[0].text)",
        )]);
    }
    let mut nhs = String::new();
    if let Some(ids) = p.get("identifier").and_then(Value::as_array) {
        for id in ids {
            if str_at(id, &["system"]) == NHS_NUMBER_SYSTEM {
                let raw = str_at(id, &["value"]);
                match NhsNumber::parse(raw) {
                    Ok(n) => nhs = n.as_str().to_string(),
                    Err(_) => tasks.push(format!("Check the NHS number: the referral gave {raw}, which fails the modulus 11 check, so it was not stored")),
                }
            }
        }
    }
    let gender = match str_at(p, &["gender"]) {
        "male" => "1",
        "female" => "2",
        "other" => "4",
        "unknown" => "X",
        _ => "",
    };
    let mut phone = String::new();
    let mut email = String::new();
    let mut telecoms: Vec<&Value> = p
        .get("telecom")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if let Some(contacts) = p.get("contact").and_then(Value::as_array) {
        for c in contacts {
            let oneself = c
                .get("relationship")
                .and_then(Value::as_array)
                .is_some_and(|rs| {
                    rs.iter().any(|r| {
                        r.get("coding")
                            .and_then(Value::as_array)
                            .is_some_and(|cs| cs.iter().any(|x| str_at(x, &["code"]) == "ONESELF"))
                    })
                });
            if oneself && let Some(t) = c.get("telecom").and_then(Value::as_array) {
                telecoms.extend(t.iter());
            }
        }
    }
    telecoms.sort_by_key(|t| t.get("rank").and_then(Value::as_i64).unwrap_or(99));
    for t in telecoms {
        match str_at(t, &["system"]) {
            "phone" if phone.is_empty() => phone = str_at(t, &["value"]).to_string(),
            "email" if email.is_empty() => email = str_at(t, &["value"]).to_string(),
            _ => {}
        }
    }
    if crate::modules::accounts::model::Email::parse(&email).is_err() {
        email.clear();
    }
    let addr = p
        .get("address")
        .and_then(|a| a.get(0))
        .cloned()
        .unwrap_or(Value::Null);
    let mut postcode = str_at(&addr, &["postalCode"]).to_string();
    if crate::modules::places::postcode::Postcode::parse(&postcode).is_err() {
        postcode.clear();
    }
    let address = match str_at(&addr, &["text"]) {
        "" => addr
            .get("line")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        t => t.to_string(),
    };
    let mut ethnicity = String::new();
    if let Some(exts) = p.get("extension").and_then(Value::as_array) {
        for x in exts {
            if str_at(x, &["url"]).ends_with("Extension-UKCore-EthnicCategory") {
                let code = str_at(x, &["valueCodeableConcept", "coding", "0", "code"]);
                if crate::modules::people::model::ETHNICITIES
                    .iter()
                    .any(|(c, _)| *c == code)
                {
                    ethnicity = code.to_string();
                }
            }
        }
    }
    let languages = p
        .get("communication")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let l = str_at(c, &["language", "text"]);
                    if l.is_empty() {
                        str_at(c, &["language", "coding", "0", "display"])
                    } else {
                        l
                    }
                })
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let mut birth = str_at(p, &["birthDate"]).to_string();
    if birth.len() != 10 {
        birth.clear();
    }
    Ok(PersonInput {
        given_name: given,
        family_name: family,
        nhs_number: nhs,
        date_of_birth: birth,
        gender: gender.into(),
        phone: phone.chars().take(50).collect(),
        email,
        address: address.chars().take(500).collect(),
        postcode,
        ethnicity,
        languages: languages.chars().take(200).collect(),
        ..Default::default()
    })
}

fn person_from_subject(
    sr: &Value,
    ctx: &Context<'_>,
    tasks: &mut Vec<String>,
) -> Result<PersonInput, Vec<Issue>> {
    let Some(subject) = sr.get("subject").filter(|s| s.is_object()) else {
        return Err(vec![issue(
            "required",
            "ServiceRequest.subject",
            "ServiceRequest.subject is required: say who the referral is for (a Patient)",
        )]);
    };
    let reference = str_at(subject, &["reference"]);
    if !reference.is_empty() {
        let Some(p) = ctx.resolve(reference) else {
            return Err(vec![issue(
                "not-found",
                "ServiceRequest.subject.reference",
                format!(
                    "The Patient “{reference}” is not in the request: include it as a contained resource or a Bundle entry"
                ),
            )]);
        };
        if resource_type(p) != "Patient" {
            return Err(vec![issue(
                "invalid",
                "ServiceRequest.subject.reference",
                format!("The subject must be a Patient, not a {}", resource_type(p)),
            )]);
        }
        return patient_to_person(p, "Patient", tasks);
    }
    let display = str_at(subject, &["display"]);
    if display.is_empty() {
        return Err(vec![issue(
            "required",
            "ServiceRequest.subject",
            "ServiceRequest.subject needs a reference to a Patient, or at least a display name",
        )]);
    }
    let mut person = PersonInput {
        given_name: display.chars().take(200).collect(),
        ..Default::default()
    };
    if str_at(subject, &["identifier", "system"]) == NHS_NUMBER_SYSTEM {
        let raw = str_at(subject, &["identifier", "value"]);
        match NhsNumber::parse(raw) {
            Ok(n) => person.nhs_number = n.as_str().to_string(),
            Err(_) => tasks.push(format!(
                "Check the NHS number: the referral gave {raw}, which fails the modulus 11 check"
            )),
        }
    }
    Ok(person)
}

/// The installation's activity identifier system, or the one of earlier versions.
fn is_activity_system(state: &AppState, system: &str) -> bool {
    system == LEGACY_ACTIVITY_SYSTEM || system == identifier_system(&state.cfg.base_url, "activity")
}

/// The NHS number as sent (before any check), for the digest: on the subject's Patient, or
/// on the subject reference itself.
fn sent_nhs_number(sr: &Value, ctx: &Context<'_>) -> String {
    let subject = sr.get("subject").unwrap_or(&Value::Null);
    let ids: Vec<&Value> = match ctx.resolve(str_at(subject, &["reference"])) {
        Some(p) => p
            .get("identifier")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        None => subject.get("identifier").into_iter().collect(),
    };
    ids.iter()
        .find(|i| str_at(i, &["system"]) == NHS_NUMBER_SYSTEM)
        .map(|i| str_at(i, &["value"]).split_whitespace().collect())
        .unwrap_or_default()
}

async fn activity_from_performers(
    state: &AppState,
    sr: &Value,
    ctx: &Context<'_>,
) -> Result<Option<String>, Vec<Issue>> {
    let Some(performers) = sr.get("performer").and_then(Value::as_array) else {
        return Ok(None);
    };
    for (i, p) in performers.iter().enumerate() {
        let reference = str_at(p, &["reference"]);
        let expr = format!("ServiceRequest.performer[{i}]");
        let candidate = if let Some(id) = reference.strip_prefix("HealthcareService/") {
            Some(id.to_string())
        } else if is_activity_system(state, str_at(p, &["identifier", "system"])) {
            Some(str_at(p, &["identifier", "value"]).to_string())
        } else if let Some(hs) = ctx
            .resolve(reference)
            .filter(|r| resource_type(r) == "HealthcareService")
        {
            hs.get("identifier")
                .and_then(Value::as_array)
                .and_then(|ids| {
                    ids.iter()
                        .find(|x| is_activity_system(state, str_at(x, &["system"])))
                        .map(|x| str_at(x, &["value"]).to_string())
                })
        } else {
            None
        };
        if let Some(id) = candidate {
            match service::active_activity(state, &id).await {
                Ok(true) => return Ok(Some(id)),
                Ok(false) => {
                    return Err(vec![issue(
                        "not-found",
                        expr,
                        format!(
                            "There is no activity “{id}” in the directory (use the id of an Open Referral UK service)"
                        ),
                    )]);
                }
                Err(e) => {
                    e.log();
                    return Err(vec![if e.is_unavailable() {
                        transient(expr, "The activity")
                    } else {
                        issue("exception", expr, "The activity could not be checked")
                    }]);
                }
            }
        }
    }
    Ok(None)
}

/// The referral's reason from `reasonCode`, `code` and `note` texts, joined; a referral
/// without any gets a stand-in, and one over the limit is refused (never cut short).
fn reason_text(sr: &Value) -> Result<ReferralReason, Issue> {
    let mut parts: Vec<String> = Vec::new();
    for key in ["reasonCode", "code"] {
        if let Some(arr) = sr
            .get(key)
            .map(|v| if v.is_array() { v.clone() } else { json!([v]) })
            .and_then(|v| v.as_array().cloned())
        {
            for c in arr {
                let t = str_at(&c, &["text"]);
                let d = str_at(&c, &["coding", "0", "display"]);
                let s = if t.is_empty() { d } else { t };
                if !s.is_empty() {
                    parts.push(s.to_string());
                }
            }
        }
    }
    if let Some(notes) = sr.get("note").and_then(Value::as_array) {
        parts.extend(
            notes
                .iter()
                .map(|n| str_at(n, &["text"]).to_string())
                .filter(|s| !s.is_empty()),
        );
    }
    let pi = str_at(sr, &["patientInstruction"]);
    if !pi.is_empty() {
        parts.push(pi.to_string());
    }
    let s = parts.join("\n");
    let s = if s.trim().is_empty() {
        "Electronic referral (no reason given)".to_string()
    } else {
        s
    };
    ReferralReason::parse(&s).map_err(|p| {
        let n = match p {
            ReasonProblem::TooLong(n) => n,
            ReasonProblem::Empty => 0,
        };
        issue(
            "too-long",
            "ServiceRequest.note",
            format!(
                "The reason (reasonCode, code and note texts together) has {n} characters; at most {} are accepted. Shorten it; nothing was stored.",
                ReferralReason::MAX_CHARS
            ),
        )
    })
}

pub(super) async fn intake(
    state: &AppState,
    actor: &Actor,
    sr: &Value,
    ctx: &Context<'_>,
    fallback_identifier: Option<(String, String)>,
) -> Result<Intake, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut tasks = Vec::new();
    let person = match person_from_subject(sr, ctx, &mut tasks) {
        Ok(p) => Some(p),
        Err(mut e) => {
            issues.append(&mut e);
            None
        }
    };
    let activity = match activity_from_performers(state, sr, ctx).await {
        Ok(a) => a,
        Err(mut e) => {
            issues.append(&mut e);
            None
        }
    };
    let ident = identifier_of(sr, fallback_identifier);
    if ident.is_none() {
        issues.push(identifier_required());
    }
    let sent_person = person.as_ref().map(|p| {
        (
            format!("{}\u{1f}{}", p.given_name.trim(), p.family_name.trim()),
            p.date_of_birth.clone(),
        )
    });
    let postcode = person
        .as_ref()
        .map(|p| p.postcode.clone())
        .unwrap_or_default();
    let valid = match person.map(|p| p.validate()) {
        Some(Ok(v)) => Some(v),
        Some(Err(fields)) => {
            issues.extend(
                fields
                    .into_iter()
                    .map(|f| issue("invalid", format!("Patient.{}", f.field), f.message)),
            );
            None
        }
        None => None,
    };
    let team = match actor.memberships.iter().find(|m| m.2 == Role::LinkWorker) {
        Some(m) => Some(m.0.clone()),
        // Not found and could not ask are different answers: the second is never a refusal.
        None => match service::team_for_postcode(state, &postcode).await {
            Ok(team) => team,
            Err(e) => {
                e.log();
                return Err(vec![if e.is_unavailable() {
                    transient("", "The receiving team")
                } else {
                    issue("exception", "", "The receiving team could not be looked up")
                }]);
            }
        },
    };
    if team.is_none() {
        issues.push(issue(
            "processing",
            "",
            "No social prescribing team is set up to receive referrals yet",
        ));
    }
    let reason = reason_text(sr).map_err(|i| issues.push(i)).ok();
    if !issues.is_empty() {
        return Err(issues);
    }
    let requester = str_at(sr, &["requester", "reference"]);
    let referrer_name = ctx
        .resolve(requester)
        .map(|p| {
            let n = p
                .get("name")
                .map(|n| {
                    if n.is_array() {
                        n.get(0).cloned().unwrap_or(Value::Null)
                    } else {
                        n.clone()
                    }
                })
                .unwrap_or(Value::Null);
            let t = str_at(&n, &["text"]);
            if t.is_empty() {
                format!(
                    "{} {}",
                    str_at(&n, &["given", "0"]),
                    str_at(&n, &["family"])
                )
                .trim()
                .to_string()
            } else {
                t.to_string()
            }
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| actor.display_name.clone());
    let (system, value) = ident.unwrap_or_default();
    let (Some(person), Some(team), Some(reason), Some((name, birth_date))) =
        (valid, team, reason, sent_person)
    else {
        return Err(vec![issue(
            "exception",
            "",
            "The referral could not be read",
        )]);
    };
    let mut digest = Map::new();
    for (key, part) in [
        ("nhs_number", sent_nhs_number(sr, ctx)),
        ("name", name),
        ("birth_date", birth_date),
        ("reason", reason.as_str().to_string()),
        ("activity", activity.clone().unwrap_or_default()),
    ] {
        digest.insert(key.into(), service::digest_part(state, key, &part));
    }
    Ok(Intake {
        digest,
        referral: NewReferral {
            team_organisation_id: team,
            source: "fhir",
            referrer_user_id: Some(actor.user_id.clone()),
            referrer_organisation_id: actor.memberships.first().map(|m| m.0.clone()),
            referrer_name: referrer_name.chars().take(200).collect(),
            referrer_email: actor.email.clone(),
            source_system: Some(system),
            source_identifier: Some(value),
            reason,
            person,
            consents: vec![],
            consent_method: "online",
            consent_witness: String::new(),
            activity_id: activity,
            extra_tasks: tasks,
        },
    })
}

/// The identifier a `ServiceRequest` is known by: its first `identifier` (a missing system
/// is keyed under an internal one), or else `fallback` (a message's Bundle id).
fn identifier_of(sr: &Value, fallback: Option<(String, String)>) -> Option<(String, String)> {
    sr.get("identifier")
        .and_then(|i| i.get(0))
        .map(|i| {
            let system = match str_at(i, &["system"]) {
                "" => UNSPECIFIED_SYSTEM,
                s => s,
            };
            (system.to_string(), str_at(i, &["value"]).to_string())
        })
        .filter(|(_, v)| !v.is_empty())
        .or(fallback)
}

fn identifier_required() -> Issue {
    issue(
        "required",
        "ServiceRequest.identifier",
        "ServiceRequest.identifier is required (system and value), so that a repeated submission is not taken twice",
    )
}

/// What a request asks, read: a referral, or the withdrawal of the one sent under an
/// identifier (which needs nothing else from the request).
pub(super) enum Asked {
    Refer(Box<Intake>),
    Withdraw {
        system: String,
        identifier: String,
        code: &'static str,
    },
}

/// Read a `ServiceRequest` found at `at` (`ServiceRequest`, or `Bundle.entry[1].resource`)
/// into what it asks, answering 422 with every problem found.
#[allow(clippy::result_large_err)]
pub(super) async fn read_referral(
    state: &AppState,
    actor: &Actor,
    sr: &Value,
    ctx: &Context<'_>,
    at: &str,
    fallback_identifier: Option<(String, String)>,
) -> Result<Asked, Response> {
    let ask = ask_of(sr, at);
    if let Ok(Ask::Withdraw(code)) = ask {
        let Some((system, identifier)) = identifier_of(sr, fallback_identifier) else {
            return Err(outcome(
                StatusCode::UNPROCESSABLE_ENTITY,
                &[identifier_required()],
            ));
        };
        return Ok(Asked::Withdraw {
            system,
            identifier,
            code,
        });
    }
    let read = intake(state, actor, sr, ctx, fallback_identifier).await;
    match (ask, read) {
        (Ok(_), Ok(intake)) => Ok(Asked::Refer(Box::new(intake))),
        (ask, read) => {
            let mut issues = ask.err().unwrap_or_default();
            issues.extend(read.err().unwrap_or_default());
            Err(outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues))
        }
    }
}

/// Take what was asked (`service::receive` or `service::withdraw_sent`), and the referral
/// to answer with. A new one is answered in full; otherwise it is read as the referrer's
/// FHIR read is (`service::read_for_referrer`: audited, and the activity chosen with the
/// person only with their consent).
pub(super) async fn take(
    state: &AppState,
    actor: &Actor,
    asked: Asked,
) -> Result<(Receipt, Referral), Refusal> {
    let receipt = match asked {
        Asked::Refer(i) => service::receive(state, actor, &i.referral, &i.digest).await?,
        Asked::Withdraw {
            system,
            identifier,
            code,
        } => service::withdraw_sent(state, actor, &system, &identifier, code).await?,
    };
    let r = match &receipt {
        Receipt::Created(id) => service::load(&state.db.write, id)
            .await?
            .ok_or(AppError::NotFound)?,
        Receipt::Repeat(id) | Receipt::Withdrawn(id) => {
            service::read_for_referrer(state, actor, id).await?
        }
    };
    Ok((receipt, r))
}
