//! Ward and LSOA profiles (issue 16 item 2, rest): the IMD score, rank and decile, the seven
//! domains and the population of one small area, or of every small area of a ward; and, for
//! roles allowed aggregates, the referrals, participants and sessions attended of the people
//! living there (consenting people only, every count disclosure-controlled).

use ensemble_stats::{DisclosurePolicy, Published, disclose};
use sqlx::Row;

use super::Edition;
use crate::error::AppError;
use crate::rbac::Granted;
use crate::rbac::perm::ViewAreaAggregates;
use crate::state::AppState;

/// One small area of one edition.
#[derive(Debug, Clone)]
pub struct LsoaProfile {
    pub code: String,
    pub name: String,
    pub district_code: String,
    pub district_name: String,
    pub ward: Option<(String, String)>,
    pub imd_score: Option<f64>,
    pub imd_rank: Option<i64>,
    pub imd_decile: Option<i64>,
    /// The seven domains: (name, rank, decile).
    pub domains: Vec<(&'static str, Option<i64>, Option<i64>)>,
    pub population: Option<i64>,
}

/// The seven domains: label and column stem.
pub const DOMAINS: [(&str, &str); 7] = [
    ("Income", "income"),
    ("Employment", "employment"),
    ("Education, skills and training", "education"),
    ("Health deprivation and disability", "health"),
    ("Crime", "crime"),
    ("Barriers to housing and services", "barriers"),
    ("Living environment", "living"),
];

const COLUMNS: &str = "l.code, l.name, l.district_code, l.district_name, l.imd_score, l.imd_rank, l.imd_decile, \
    l.income_rank, l.income_decile, l.employment_rank, l.employment_decile, l.education_rank, l.education_decile, \
    l.health_rank, l.health_decile, l.crime_rank, l.crime_decile, l.barriers_rank, l.barriers_decile, \
    l.living_rank, l.living_decile, l.population, w.ward_code, w.ward_name";

fn from_row(r: &sqlx::any::AnyRow) -> Result<LsoaProfile, sqlx::Error> {
    let mut domains = Vec::new();
    for (label, stem) in DOMAINS {
        domains.push((
            label,
            r.try_get(format!("{stem}_rank").as_str())?,
            r.try_get(format!("{stem}_decile").as_str())?,
        ));
    }
    let ward: Option<String> = r.try_get("ward_code")?;
    let ward_name: Option<String> = r.try_get("ward_name")?;
    Ok(LsoaProfile {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        district_code: r.try_get("district_code")?,
        district_name: r.try_get("district_name")?,
        ward: ward.zip(ward_name),
        imd_score: r.try_get("imd_score")?,
        imd_rank: r.try_get("imd_rank")?,
        imd_decile: r.try_get("imd_decile")?,
        domains,
        population: r.try_get("population")?,
    })
}

/// One LSOA of an edition, or None.
pub async fn lsoa(
    state: &AppState,
    e: Edition,
    code: &str,
) -> Result<Option<LsoaProfile>, AppError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM area_lsoas l LEFT JOIN area_lsoa_wards w ON w.edition = l.edition AND w.lsoa_code = l.code \
         WHERE l.edition = $1 AND l.code = $2"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(e.year())
        .bind(code.trim().to_uppercase())
        .fetch_optional(&state.db.read)
        .await?;
    Ok(r.as_ref().map(from_row).transpose()?)
}

/// A ward of an edition: its name and its LSOAs (most deprived first), or None.
pub async fn ward(
    state: &AppState,
    e: Edition,
    code: &str,
) -> Result<Option<(String, Vec<LsoaProfile>)>, AppError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM area_lsoa_wards w JOIN area_lsoas l ON l.edition = w.edition AND l.code = w.lsoa_code \
         WHERE w.edition = $1 AND w.ward_code = $2 ORDER BY l.imd_rank, l.code"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(e.year())
        .bind(code.trim().to_uppercase())
        .fetch_all(&state.db.read)
        .await?;
    let list = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(list
        .first()
        .and_then(|l| l.ward.as_ref().map(|w| w.1.clone()))
        .map(|name| (name, list)))
}

/// The wards of a district in an edition: (code, name), by name.
pub async fn wards_of(
    state: &AppState,
    e: Edition,
    district: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let rows = sqlx::query(
        "SELECT DISTINCT ward_code, ward_name FROM area_lsoa_wards WHERE edition = $1 AND district_code = $2 ORDER BY ward_name, ward_code",
    )
    .bind(e.year())
    .bind(district.to_string())
    .fetch_all(&state.db.read)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get("ward_code")?, r.try_get("ward_name")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?)
}

/// Referrals, participants and sessions attended of consenting people living in the areas,
/// each disclosure-controlled.
#[derive(Debug, Clone, Copy)]
pub struct AreaCounts {
    pub referrals: Published,
    pub participants: Published,
    pub sessions_attended: Published,
    /// When the aggregates read were rebuilt.
    pub as_at: Option<super::aggregates::Refreshed>,
}

/// The counts for these LSOAs (codes of the edition); only with the aggregates proof. Read
/// from the pre-aggregated counts per small area (`aggregates`), never from the referrals.
pub async fn counts(
    state: &AppState,
    _g: &Granted<ViewAreaAggregates>,
    e: Edition,
    codes: &[String],
) -> Result<AreaCounts, AppError> {
    let (refs, people, sessions) = super::aggregates::lsoa_totals(state, e, codes).await?;
    let p = DisclosurePolicy::default();
    Ok(AreaCounts {
        referrals: disclose(refs, p),
        participants: disclose(people, p),
        sessions_attended: disclose(sessions, p),
        as_at: super::aggregates::status(state).await?,
    })
}
