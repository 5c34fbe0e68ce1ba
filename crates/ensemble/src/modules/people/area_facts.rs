//! What area aggregates (the areas module's reach and profiles) may know of a person: their
//! small-area code (as resolved from the postcode, either LSOA geography), recorded sex,
//! ethnic group and birth year (never the date). Only people who have currently given
//! consent for evaluation, the rule every aggregate follows; no names, no contact details.

use sqlx::Row;

use crate::error::AppError;
use crate::state::AppState;

/// One consenting person's facts for area aggregates.
#[derive(Debug, Clone)]
pub struct AreaFact {
    pub person_id: String,
    pub lsoa_code: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub birth_year: Option<String>,
}

/// Every person with evaluation consent given, with their area facts.
pub async fn consenting(state: &AppState) -> Result<Vec<AreaFact>, AppError> {
    let rows = sqlx::query(
        "SELECT i.person_id, i.lsoa_code, i.gender, i.ethnicity, i.date_of_birth FROM person_identities i \
         JOIN person_consents c ON c.person_id = i.person_id AND c.purpose = 'evaluation' AND c.decision = 'given'",
    )
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let dob: Option<String> = r.try_get("date_of_birth")?;
            Ok(AreaFact {
                person_id: r.try_get("person_id")?,
                lsoa_code: r.try_get("lsoa_code")?,
                gender: r.try_get("gender")?,
                ethnicity: r.try_get("ethnicity")?,
                birth_year: dob.and_then(|d| d.get(..4).map(str::to_string)),
            })
        })
        .collect()
}
