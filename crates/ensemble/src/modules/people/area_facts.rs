//! What area aggregates (the areas module's reach and profiles) may know of a person: their
//! small-area codes of both geographies (LSOA 2021 and LSOA 2011, from the postcode), recorded sex,
//! ethnic group and birth year (never the date). Only people who have currently given
//! consent for evaluation, the rule every aggregate follows; no names, no contact details.

use sqlx::Row;

use crate::error::AppError;
use crate::state::AppState;

/// One consenting person's facts for area aggregates.
#[derive(Debug, Clone)]
pub struct AreaFact {
    pub person_id: String,
    /// Small area of the 2021 geography (IoD2025's), from the postcode.
    pub lsoa_code: Option<String>,
    /// Small area of the 2011 geography (IoD2019's), from the postcode.
    pub lsoa11_code: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub birth_year: Option<String>,
}

/// Every person with evaluation consent given, with their area facts.
pub async fn consenting(state: &AppState) -> Result<Vec<AreaFact>, AppError> {
    let rows = sqlx::query(
        "SELECT i.person_id, i.lsoa_code, i.lsoa11_code, i.gender, i.ethnicity, i.date_of_birth FROM person_identities i \
         JOIN person_consents c ON c.person_id = i.person_id AND c.purpose = 'evaluation' AND c.decision = 'given'",
    )
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| fact_from(r).map_err(AppError::from))
        .collect()
}

/// Those of these people who have evaluation consent given, with their area facts (the
/// others are left out).
pub async fn consenting_among(state: &AppState, ids: &[String]) -> Result<Vec<AreaFact>, AppError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT i.person_id, i.lsoa_code, i.lsoa11_code, i.gender, i.ethnicity, i.date_of_birth FROM person_identities i \
             JOIN person_consents c ON c.person_id = i.person_id AND c.purpose = 'evaluation' AND c.decision = 'given' \
             WHERE i.person_id IN ({})",
            marks.join(", ")
        );
        let binds: Vec<crate::db::Bind> = chunk.iter().cloned().map(crate::db::Bind::T).collect();
        let rows = crate::db::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .fetch_all(&state.db.read)
            .await?;
        for r in &rows {
            out.push(fact_from(r)?);
        }
    }
    Ok(out)
}

fn fact_from(r: &sqlx::any::AnyRow) -> Result<AreaFact, sqlx::Error> {
    let dob: Option<String> = r.try_get("date_of_birth")?;
    Ok(AreaFact {
        person_id: r.try_get("person_id")?,
        lsoa_code: r.try_get("lsoa_code")?,
        lsoa11_code: r.try_get("lsoa11_code")?,
        gender: r.try_get("gender")?,
        ethnicity: r.try_get("ethnicity")?,
        birth_year: dob.and_then(|d| d.get(..4).map(str::to_string)),
    })
}

/// Bring every person's small areas (both geographies) up to date with the postcode open
/// data, after it is (re)imported: people whose postcode is there take its codes; the rest
/// keep theirs. Only rows that change are written, with one audit row saying how many
/// (no names or codes). Returns how many people changed.
pub async fn refresh_small_areas(state: &AppState) -> Result<u64, AppError> {
    let mut tx = state.db.begin().await?;
    let changed = sqlx::query(
        "UPDATE person_identities SET \
         lsoa_code = (SELECT v.lsoa_code FROM places_postcode_lsoas v WHERE v.postcode = person_identities.postcode), \
         lsoa11_code = (SELECT v.lsoa11_code FROM places_postcode_lsoas v WHERE v.postcode = person_identities.postcode) \
         WHERE EXISTS (SELECT 1 FROM places_postcode_lsoas v WHERE v.postcode = person_identities.postcode \
         AND (v.lsoa_code IS DISTINCT FROM person_identities.lsoa_code OR v.lsoa11_code IS DISTINCT FROM person_identities.lsoa11_code))",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed > 0 {
        crate::audit::by(
            &mut tx,
            crate::audit::AuditActor::system(),
            "person.small_areas.update",
            "person",
            None,
            serde_json::json!({ "people": changed, "why": "postcode open data imported" }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}
