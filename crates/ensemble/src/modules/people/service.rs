//! Person records and consent: create, read (audited), update, and record consent
//! decisions. Identity lives in `person_identities`; every other module refers to people
//! only by their pseudonymous id. Reading an identity is allowed to the care team (link
//! workers of the person's team organisation) and always writes an audit row.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::model::{
    Decision, ETHNICITIES, GENDERS, NhsNumber, Purpose, check_method, parse_date_of_birth,
};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::accounts::model::Email;
use crate::modules::places::postcode::Postcode;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// Person details as typed on a form or sent by an API client.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PersonInput {
    /// First name (required).
    pub given_name: String,
    /// Last name.
    pub family_name: String,
    /// The name they like to be called.
    pub preferred_name: String,
    /// Pronouns.
    pub pronouns: String,
    /// NHS number (optional; checked with modulus 11).
    pub nhs_number: String,
    /// Date of birth, `YYYY-MM-DD` (optional).
    pub date_of_birth: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Address.
    pub address: String,
    /// Postcode.
    pub postcode: String,
    /// Communication needs (for example large print, BSL interpreter).
    pub communication_needs: String,
    /// Languages.
    pub languages: String,
    /// How they prefer to be contacted: `email`, `text`, `phone`, `letter`, or empty (no
    /// preference recorded).
    pub contact_method: String,
    /// NHS ethnic category code (A–Z), optional.
    pub ethnicity: String,
    /// NHS gender identity code, optional.
    pub gender: String,
    /// GP practice.
    pub gp_practice: String,
    /// Emergency contact (care team only).
    pub emergency_contact: String,
    /// Safeguarding notes (care team only).
    pub safeguarding_notes: String,
}

/// A checked [`PersonInput`].
#[derive(Debug, Clone)]
pub struct ValidPerson {
    input: PersonInput,
    nhs_number: Option<String>,
    date_of_birth: Option<String>,
    postcode: String,
}

impl ValidPerson {
    /// The given name.
    pub fn given_name(&self) -> &str {
        &self.input.given_name
    }
    /// The email, if any.
    pub fn email(&self) -> &str {
        &self.input.email
    }
}

const SHORT: usize = 200;
const LONG: usize = 4000;

impl PersonInput {
    /// Check every field; `prefix` is put before field names (`patient.` in FHIR errors).
    pub fn validate(&self) -> Result<ValidPerson, Vec<FieldError>> {
        let mut e = Vec::new();
        let mut p = self.clone();
        for v in [
            &mut p.given_name,
            &mut p.family_name,
            &mut p.preferred_name,
            &mut p.pronouns,
            &mut p.nhs_number,
            &mut p.date_of_birth,
            &mut p.email,
            &mut p.phone,
            &mut p.address,
            &mut p.postcode,
            &mut p.communication_needs,
            &mut p.languages,
            &mut p.contact_method,
            &mut p.ethnicity,
            &mut p.gender,
            &mut p.gp_practice,
            &mut p.emergency_contact,
            &mut p.safeguarding_notes,
        ] {
            *v = v.trim().to_string();
        }
        if p.given_name.is_empty() {
            e.push(FieldError::new("given_name", "Enter a first name"));
        }
        for (field, value, max) in [
            ("given_name", &p.given_name, SHORT),
            ("family_name", &p.family_name, SHORT),
            ("preferred_name", &p.preferred_name, SHORT),
            ("pronouns", &p.pronouns, 50),
            ("phone", &p.phone, 50),
            ("address", &p.address, 500),
            ("communication_needs", &p.communication_needs, 1000),
            ("languages", &p.languages, SHORT),
            ("gp_practice", &p.gp_practice, SHORT),
            ("emergency_contact", &p.emergency_contact, 500),
            ("safeguarding_notes", &p.safeguarding_notes, LONG),
        ] {
            if value.chars().count() > max {
                e.push(FieldError::new(
                    field,
                    format!("This must be {max} characters or fewer"),
                ));
            }
        }
        let nhs_number = if p.nhs_number.is_empty() {
            None
        } else {
            match NhsNumber::parse(&p.nhs_number) {
                Ok(n) => Some(n.as_str().to_string()),
                Err(m) => {
                    e.push(FieldError::new("nhs_number", m));
                    None
                }
            }
        };
        let today = crate::db::uk::today();
        let date_of_birth = if p.date_of_birth.is_empty() {
            None
        } else {
            match parse_date_of_birth(&p.date_of_birth, today) {
                Ok(d) => Some(d.to_string()),
                Err(m) => {
                    e.push(FieldError::new("date_of_birth", m));
                    None
                }
            }
        };
        if !p.email.is_empty() {
            match Email::parse(&p.email) {
                Ok(em) => p.email = em.as_str().to_string(),
                Err(m) => e.push(FieldError::new("email", m)),
            }
        }
        let postcode = if p.postcode.is_empty() {
            String::new()
        } else {
            match Postcode::parse(&p.postcode) {
                Ok(pc) => pc.as_str().to_string(),
                Err(_) => {
                    e.push(FieldError::new(
                        "postcode",
                        "Enter a full UK postcode, like L1 8JQ",
                    ));
                    String::new()
                }
            }
        };
        if !p.ethnicity.is_empty() && !ETHNICITIES.iter().any(|(c, _)| *c == p.ethnicity) {
            e.push(FieldError::new(
                "ethnicity",
                "Choose an ethnic group from the list",
            ));
        }
        if !p.contact_method.is_empty()
            && !super::model::CONTACT_METHODS
                .iter()
                .any(|(c, _)| *c == p.contact_method)
        {
            e.push(FieldError::new(
                "contact_method",
                "Choose how they prefer to be contacted from the list",
            ));
        }
        if !p.gender.is_empty() && !GENDERS.iter().any(|(c, _)| *c == p.gender) {
            e.push(FieldError::new("gender", "Choose a gender from the list"));
        }
        // Keep the normalised forms, so that stored values and change detection agree.
        p.nhs_number = nhs_number.clone().unwrap_or_default();
        p.date_of_birth = date_of_birth.clone().unwrap_or_default();
        p.postcode = postcode.clone();
        if e.is_empty() {
            Ok(ValidPerson {
                input: p,
                nhs_number,
                date_of_birth,
                postcode,
            })
        } else {
            Err(e)
        }
    }
}

/// A person's identity as the care team sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    /// Pseudonymous id.
    pub person_id: String,
    /// Team organisation.
    pub team_organisation_id: String,
    /// Participant account, when linked.
    pub user_id: Option<String>,
    /// Details.
    pub details: PersonInput,
    /// Small area (LSOA 2021), when the postcode is in the open data.
    pub lsoa_code: Option<String>,
    /// Small area of the 2011 geography (LSOA 2011), when the postcode is in the open data.
    pub lsoa11_code: Option<String>,
}

impl Identity {
    /// The name to use: preferred name, else first name.
    pub fn call_name(&self) -> &str {
        if self.details.preferred_name.is_empty() {
            &self.details.given_name
        } else {
            &self.details.preferred_name
        }
    }
    /// Full name.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.details.given_name, self.details.family_name)
            .trim()
            .to_string()
    }
}

/// A person's small areas of both geographies: (LSOA 2021, LSOA 2011).
type Lsoas = (Option<String>, Option<String>);

async fn lsoa_for(state: &AppState, postcode: &str) -> Result<Lsoas, AppError> {
    if postcode.is_empty() {
        return Ok((None, None));
    }
    let Ok(pc) = Postcode::parse(postcode) else {
        return Ok((None, None));
    };
    Ok(crate::modules::places::find_postcode(&state.db, &pc)
        .await?
        .map_or((None, None), |p| (p.lsoa_code, p.lsoa11_code)))
}

/// Create a person and their identity inside the caller's transaction.
pub async fn create(
    tx: &mut Tx,
    state: &AppState,
    team_organisation_id: &str,
    p: &ValidPerson,
) -> Result<String, AppError> {
    let id = new_id();
    let t = now();
    let lsoas = lsoa_for(state, &p.postcode).await?;
    sqlx::query("INSERT INTO people (id, team_organisation_id, created_at, updated_at) VALUES ($1, $2, $3, $3)")
        .bind(id.clone())
        .bind(team_organisation_id.to_string())
        .bind(t)
        .execute(&mut **tx)
        .await?;
    write_identity(tx, &id, p, lsoas, true).await?;
    Ok(id)
}

async fn write_identity(
    tx: &mut Tx,
    person_id: &str,
    p: &ValidPerson,
    (lsoa, lsoa11): Lsoas,
    insert: bool,
) -> Result<(), sqlx::Error> {
    let i = &p.input;
    let sql = if insert {
        "INSERT INTO person_identities (given_name, family_name, preferred_name, pronouns, nhs_number, date_of_birth, email, phone, \
         address, postcode, lsoa_code, communication_needs, languages, ethnicity, gender, gp_practice, emergency_contact, \
         safeguarding_notes, updated_at, person_id, contact_method, lsoa11_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
    } else {
        "UPDATE person_identities SET given_name = $1, family_name = $2, preferred_name = $3, pronouns = $4, nhs_number = $5, \
         date_of_birth = $6, email = $7, phone = $8, address = $9, postcode = $10, lsoa_code = $11, communication_needs = $12, \
         languages = $13, ethnicity = $14, gender = $15, gp_practice = $16, emergency_contact = $17, safeguarding_notes = $18, \
         updated_at = $19, contact_method = $21, lsoa11_code = $22 WHERE person_id = $20"
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    sqlx::query(sql)
        .bind(i.given_name.clone())
        .bind(i.family_name.clone())
        .bind(i.preferred_name.clone())
        .bind(i.pronouns.clone())
        .bind(p.nhs_number.clone())
        .bind(p.date_of_birth.clone())
        .bind(i.email.clone())
        .bind(i.phone.clone())
        .bind(i.address.clone())
        .bind(p.postcode.clone())
        .bind(lsoa)
        .bind(i.communication_needs.clone())
        .bind(i.languages.clone())
        .bind(opt(&i.ethnicity))
        .bind(opt(&i.gender))
        .bind(i.gp_practice.clone())
        .bind(i.emergency_contact.clone())
        .bind(i.safeguarding_notes.clone())
        .bind(now())
        .bind(person_id.to_string())
        .bind(i.contact_method.clone())
        .bind(lsoa11)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A person's name as lists show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisplayName {
    /// The preferred name, or else the given name.
    pub short: String,
    /// The short name and the family name.
    pub full: String,
}

/// The names to show in lists (caseload, register, due lists) for these people: the only
/// way another module reads anything from `person_identities`. Names only, no other
/// detail, so it is not audited row by row; the caller audits the page it shows, and the
/// full record is read through [`read`], which is. People without a record are left out.
pub async fn display_names(
    conn: &mut sqlx::AnyConnection,
    person_ids: &[String],
) -> Result<HashMap<String, DisplayName>, sqlx::Error> {
    let mut out = HashMap::new();
    let mut ids: Vec<&String> = person_ids.iter().collect();
    ids.sort_unstable();
    ids.dedup();
    // The names travel as one JSON row, not one message per row: these lists are read
    // inside audited write transactions, where SQLite's single writer waits on them.
    let sqlite = conn.backend_name().eq_ignore_ascii_case("sqlite");
    const COLS: &str = "person_id, preferred_name, given_name, family_name";
    for chunk in ids.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = if sqlite {
            format!(
                "SELECT json_group_array(json_array({COLS})) AS j FROM person_identities \
                 WHERE person_id IN ({marks})"
            )
        } else {
            format!(
                "SELECT COALESCE(json_agg(json_build_array({COLS}))::text, '[]') AS j \
                 FROM person_identities WHERE person_id IN ({marks})"
            )
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind((*id).clone());
        }
        let text: String = q.fetch_one(&mut *conn).await?.try_get("j")?;
        let rows: Vec<[Option<String>; 4]> =
            serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        for [id, preferred, given, family] in rows {
            let short = preferred
                .filter(|p| !p.is_empty())
                .or(given)
                .unwrap_or_default();
            let full = format!("{short} {}", family.unwrap_or_default())
                .trim()
                .to_string();
            if let Some(id) = id {
                out.insert(id, DisplayName { short, full });
            }
        }
    }
    Ok(out)
}

/// A proof, made by another module, that an actor may read one person's identity: it names
/// the person and says how the actor came to it (written into the audit row).
pub trait IdentityProof {
    /// The person.
    fn person_id(&self) -> &str;
    /// How the actor reached the person, for the audit row (`{"via": "provider", …}`).
    fn via(&self) -> serde_json::Value;
}

/// Read a person's identity for an actor who holds a proof from another module (the case
/// page, the provider page, the message back), writing `person.read` in the caller's
/// transaction. The only way another module reads an identity.
pub async fn identity(
    tx: &mut Tx,
    actor: &Actor,
    proof: &impl IdentityProof,
) -> Result<Identity, AppError> {
    let person_id = proof.person_id();
    let ident = load_unchecked(&mut **tx, person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::by(
        tx,
        actor,
        "person.read",
        "person",
        Some(person_id),
        proof.via(),
    )
    .await?;
    Ok(ident)
}

/// Load an identity without any check or audit: private to this module, whose functions
/// check the care team (or take an [`IdentityProof`]) and audit the read.
async fn load_unchecked<'e, E>(exec: E, person_id: &str) -> Result<Option<Identity>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query(
        "SELECT p.id, p.team_organisation_id, p.user_id, i.given_name, i.family_name, i.preferred_name, i.pronouns, i.nhs_number, \
         i.date_of_birth, i.email, i.phone, i.address, i.postcode, i.lsoa_code, i.lsoa11_code, i.communication_needs, i.languages, i.ethnicity, \
         i.gender, i.gp_practice, i.emergency_contact, i.safeguarding_notes, i.contact_method \
         FROM people p JOIN person_identities i ON i.person_id = p.id WHERE p.id = $1",
    )
    .bind(person_id.to_string())
    .fetch_optional(exec)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let s = |k: &str| -> Result<String, sqlx::Error> {
        Ok(r.try_get::<Option<String>, _>(k)?.unwrap_or_default())
    };
    Ok(Some(Identity {
        person_id: r.try_get("id")?,
        team_organisation_id: r.try_get("team_organisation_id")?,
        user_id: r.try_get("user_id")?,
        lsoa_code: r.try_get("lsoa_code")?,
        lsoa11_code: r.try_get("lsoa11_code")?,
        details: PersonInput {
            given_name: s("given_name")?,
            family_name: s("family_name")?,
            preferred_name: s("preferred_name")?,
            pronouns: s("pronouns")?,
            nhs_number: s("nhs_number")?,
            date_of_birth: s("date_of_birth")?,
            email: s("email")?,
            phone: s("phone")?,
            address: s("address")?,
            postcode: s("postcode")?,
            communication_needs: s("communication_needs")?,
            languages: s("languages")?,
            contact_method: s("contact_method")?,
            ethnicity: s("ethnicity")?,
            gender: s("gender")?,
            gp_practice: s("gp_practice")?,
            emergency_contact: s("emergency_contact")?,
            safeguarding_notes: s("safeguarding_notes")?,
        },
    }))
}

/// Is the actor in this person's care team (a link worker of the team organisation)?
pub fn in_care_team(actor: &Actor, team_organisation_id: &str) -> bool {
    actor.has_role_in(team_organisation_id, Role::LinkWorker)
}

/// Read a person's full record and current consents (care team only), in one audited
/// transaction.
pub async fn read(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
) -> Result<(Identity, Vec<CurrentConsent>), AppError> {
    let mut tx = state.db.begin().await?;
    let ident = load_unchecked(&mut *tx, person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !in_care_team(actor, &ident.team_organisation_id) {
        return Err(AppError::Forbidden);
    }
    audit::by(
        &mut tx,
        actor,
        "person.read",
        "person",
        Some(person_id),
        json!({}),
    )
    .await?;
    let consents = consents(&mut *tx, person_id).await?;
    tx.commit().await?;
    Ok((ident, consents))
}

/// Update a person's details (care team only); audited with the names of changed fields.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    input: &PersonInput,
) -> Result<(), AppError> {
    let valid = input.validate().map_err(AppError::Invalid)?;
    let lsoas = lsoa_for(state, &valid.postcode).await?;
    let mut tx = state.db.begin().await?;
    let before = load_unchecked(&mut *tx, person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !in_care_team(actor, &before.team_organisation_id) {
        return Err(AppError::Forbidden);
    }
    write_identity(&mut tx, person_id, &valid, lsoas, false).await?;
    let after = serde_json::to_value(&valid.input).unwrap_or_default();
    let was = serde_json::to_value(&before.details).unwrap_or_default();
    let changed: Vec<&String> = after
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| after[k.as_str()] != was[k.as_str()])
                .collect()
        })
        .unwrap_or_default();
    audit::by(
        &mut tx,
        actor,
        "person.update",
        "person",
        Some(person_id),
        json!({ "fields": changed }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One consent statement.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// Id.
    pub id: String,
    /// Purpose.
    pub purpose: Purpose,
    /// Version.
    pub version: i64,
    /// Title.
    pub title: String,
    /// Wording shown to the person.
    pub wording: String,
}

/// The current (latest) statement for each purpose.
pub async fn current_statements(state: &AppState) -> Result<Vec<Statement>, AppError> {
    let rows = sqlx::query(
        "SELECT s.id, s.purpose, s.version, s.title, s.wording FROM consent_statements s \
         WHERE s.version = (SELECT MAX(version) FROM consent_statements m WHERE m.purpose = s.purpose)",
    )
    .fetch_all(&state.db.read)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let purpose: String = r.try_get("purpose")?;
        if let Some(purpose) = Purpose::from_code(&purpose) {
            out.push(Statement {
                id: r.try_get("id")?,
                purpose,
                version: r.try_get("version")?,
                title: r.try_get("title")?,
                wording: r.try_get("wording")?,
            });
        }
    }
    out.sort_by_key(|s| Purpose::ALL.iter().position(|p| *p == s.purpose));
    Ok(out)
}

/// A person's current decision for one purpose.
#[derive(Debug, Clone, Serialize)]
pub struct CurrentConsent {
    /// Purpose.
    pub purpose: Purpose,
    /// Decision.
    pub decision: Decision,
    /// Statement version it was given against.
    pub version: i64,
    /// When.
    pub decided_at: i64,
}

/// Current decisions (purposes never asked are absent).
pub async fn consents<'e, E>(exec: E, person_id: &str) -> Result<Vec<CurrentConsent>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT c.purpose, c.decision, c.decided_at, s.version FROM person_consents c \
         JOIN consent_statements s ON s.id = c.statement_id WHERE c.person_id = $1",
    )
    .bind(person_id.to_string())
    .fetch_all(exec)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let (Some(purpose), Some(decision)) = (
            Purpose::from_code(&r.try_get::<String, _>("purpose")?),
            Decision::from_code(&r.try_get::<String, _>("decision")?),
        ) else {
            continue;
        };
        out.push(CurrentConsent {
            purpose,
            decision,
            version: r.try_get("version")?,
            decided_at: r.try_get("decided_at")?,
        });
    }
    out.sort_by_key(|c| Purpose::ALL.iter().position(|p| *p == c.purpose));
    Ok(out)
}

/// Has the person currently agreed to this purpose?
pub async fn has_consent<'e, E>(
    exec: E,
    person_id: &str,
    purpose: Purpose,
) -> Result<bool, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query(
        "SELECT 1 AS one FROM person_consents WHERE person_id = $1 AND purpose = $2 AND decision = 'given'",
    )
    .bind(person_id.to_string())
    .bind(purpose.code())
    .fetch_optional(exec)
    .await?
    .is_some())
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct ConsentInput<'a> {
    /// Purpose.
    pub purpose: Purpose,
    /// Agreed / declined / withdrawn.
    pub decision: Decision,
    /// online, verbal, paper.
    pub method: &'a str,
    /// Witness of a verbal decision.
    pub witness: &'a str,
}

/// Record a decision inside the caller's transaction, against the current statement
/// version; it takes effect at once (evaluation sets and exports read `person_consents`).
pub async fn record_consent(
    tx: &mut Tx,
    audit_actor: &AuditActor,
    person_id: &str,
    c: &ConsentInput<'_>,
) -> Result<(), AppError> {
    check_method(c.method, c.witness).map_err(|e| AppError::Invalid(vec![e]))?;
    let statement: String = sqlx::query(
        "SELECT id FROM consent_statements WHERE purpose = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(c.purpose.code())
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    let previous: Option<String> =
        sqlx::query("SELECT decision FROM person_consents WHERE person_id = $1 AND purpose = $2")
            .bind(person_id.to_string())
            .bind(c.purpose.code())
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get("decision"))
            .transpose()?;
    // Withdrawing something never agreed is recorded as declining.
    let decision = if c.decision == Decision::Withdrawn && previous.as_deref() != Some("given") {
        Decision::Refused
    } else {
        c.decision
    };
    let t = now();
    sqlx::query(
        "INSERT INTO consent_decisions (id, person_id, statement_id, purpose, decision, method, witness, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(person_id.to_string())
    .bind(statement.clone())
    .bind(c.purpose.code())
    .bind(decision.code())
    .bind(c.method.to_string())
    .bind(c.witness.trim().to_string())
    .bind(audit_actor.user_id.clone())
    .bind(t)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO person_consents (person_id, purpose, decision, statement_id, decided_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (person_id, purpose) DO UPDATE SET decision = excluded.decision, statement_id = excluded.statement_id, \
         decided_at = excluded.decided_at",
    )
    .bind(person_id.to_string())
    .bind(c.purpose.code())
    .bind(decision.code())
    .bind(statement)
    .bind(t)
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        audit_actor,
        AuditEvent {
            action: "consent.record",
            entity_type: "person",
            entity_id: Some(person_id),
            detail: json!({ "purpose": c.purpose.code(), "decision": decision.code(), "method": c.method, "previous": previous }),
        },
    )
    .await?;
    Ok(())
}

/// Record a decision for a person in one's care team (the consent form on the person page).
pub async fn record_consent_as_staff(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    c: &ConsentInput<'_>,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let team: Option<String> = sqlx::query("SELECT team_organisation_id FROM people WHERE id = $1")
        .bind(person_id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("team_organisation_id"))
        .transpose()?;
    let team = team.ok_or(AppError::NotFound)?;
    if !in_care_team(actor, &team) {
        return Err(AppError::Forbidden);
    }
    record_consent(&mut tx, &actor.audit(), person_id, c).await?;
    tx.commit().await?;
    Ok(())
}

/// Link a demo person's record to their participant account, for the demo loader only (no
/// checks and, as before, no audit row: the demo is loaded by the operator).
pub(crate) async fn link_demo_account(
    state: &AppState,
    person_id: &str,
    user_id: &str,
) -> Result<(), AppError> {
    sqlx::query("UPDATE people SET user_id = $1 WHERE id = $2")
        .bind(user_id.to_string())
        .bind(person_id.to_string())
        .execute(&state.db.write)
        .await?;
    Ok(())
}

/// Let the person see their own plan: link their record to their participant account,
/// found by email (care team only; audited). The account must hold the participant role.
pub async fn link_account(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    email: &str,
) -> Result<(), AppError> {
    let email = Email::parse(email)
        .map_err(|m| AppError::Invalid(vec![FieldError::new("account_email", m)]))?;
    let mut tx = state.db.begin().await?;
    let ident = load_unchecked(&mut *tx, person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !in_care_team(actor, &ident.team_organisation_id) {
        return Err(AppError::Forbidden);
    }
    let user =
        crate::modules::accounts::store::participant_by_email(&mut tx, email.as_str()).await?;
    let Some(user) = user else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "account_email",
            "No participant account has that email address. Ask an administrator to invite the person as a participant first.",
        )]));
    };
    sqlx::query("UPDATE people SET user_id = $1, updated_at = $2 WHERE id = $3")
        .bind(user.clone())
        .bind(now())
        .bind(person_id.to_string())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "person.link_account",
        "person",
        Some(person_id),
        json!({ "user_id": user }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_input_is_normalised_and_every_problem_is_named() {
        let v = PersonInput {
            given_name: " Ada ".into(),
            nhs_number: "943 476 5919".into(),
            postcode: "l1 8jq".into(),
            email: "Ada@Example.ORG".into(),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(v.input.given_name, "Ada");
        assert_eq!(v.input.nhs_number, "9434765919");
        assert_eq!(v.input.postcode, "L1 8JQ");
        assert_eq!(v.input.email, "ada@example.org");
        let e = PersonInput {
            nhs_number: "943 476 5918".into(),
            date_of_birth: "27/03/1984".into(),
            ethnicity: "Q".into(),
            gender: "male".into(),
            postcode: "nowhere".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "given_name",
                "nhs_number",
                "date_of_birth",
                "postcode",
                "ethnicity",
                "gender"
            ]
        );
    }
}
