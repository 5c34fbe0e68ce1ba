//! Where consenting people live, in the small areas of an edition: the one rule every area
//! aggregate (reach, barriers, outcomes) uses to place a person.
//!
//! - Only people who have currently given consent for evaluation
//!   (`people::area_facts::consenting`); no names or contact details.
//! - A person's postcode carries both codes (LSOA 2021 and LSOA 2011). The code of the
//!   edition's own geography is used when it is one of the area served; otherwise the other
//!   code is mapped through the ONS LSOA 2011→2021 lookup (`area_lsoa_links`; where an area
//!   split, the first successor code in code order is used).

use std::collections::{BTreeSet, HashMap};

use sqlx::Row;

use super::{CITY_REGION, Edition};
use crate::db::{Bind, bind_all};
use crate::error::AppError;
use crate::modules::people::area_facts::AreaFact;
use crate::state::AppState;

/// A small area of the area served: (national IMD decile, residents).
pub type Served = HashMap<String, (i64, f64)>;

/// One consenting person's small area (if in the area served) and recorded characteristics.
#[derive(Debug, Clone)]
pub struct Resident {
    pub lsoa: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub birth_year: Option<String>,
}

/// The small areas of the area served (one district, or the whole city region) with a
/// decile: code → (decile, residents). Residents are File 6/7 populations, or the File 8
/// income numerator ÷ File 7 income rate where no population is held.
pub async fn served(
    state: &AppState,
    edition: Edition,
    district: Option<&str>,
) -> Result<Served, AppError> {
    let districts: Vec<String> = match district {
        Some(d) => vec![d.to_string()],
        None => CITY_REGION.iter().map(|s| s.to_string()).collect(),
    };
    let marks: Vec<String> = (0..districts.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let sql = format!(
        "SELECT code, imd_decile, population, income_numerator, income_score FROM area_lsoas \
         WHERE edition = $1 AND imd_decile IS NOT NULL AND district_code IN ({})",
        marks.join(", ")
    );
    let mut binds = vec![Bind::I(edition.year())];
    binds.extend(districts.into_iter().map(Bind::T));
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
        .fetch_all(&state.db.read)
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        let pop: Option<i64> = r.try_get("population")?;
        let num: Option<f64> = r.try_get("income_numerator")?;
        let rate: Option<f64> = r.try_get("income_score")?;
        let p = match (pop, num, rate) {
            (Some(p), _, _) => p as f64,
            (None, Some(n), Some(r)) if r > 0.0 => n / r,
            _ => 0.0,
        };
        out.insert(r.try_get("code")?, (r.try_get("imd_decile")?, p));
    }
    Ok(out)
}

fn norm(c: &Option<String>) -> Option<String> {
    c.as_deref()
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty())
}

/// (own-geography code, other-geography code) of a person for an edition.
fn codes(p: &AreaFact, e: Edition) -> (Option<String>, Option<String>) {
    let (l21, l11) = (norm(&p.lsoa_code), norm(&p.lsoa11_code));
    match e {
        Edition::Iod2025 => (l21, l11),
        Edition::Iod2019 => (l11, l21),
    }
}

/// Other-geography codes → the edition's code, through the ONS lookup (first in code order).
async fn lookup(
    state: &AppState,
    e: Edition,
    codes: Vec<String>,
) -> Result<HashMap<String, String>, AppError> {
    let (from_col, to_col) = match e {
        Edition::Iod2025 => ("lsoa11_code", "lsoa21_code"),
        Edition::Iod2019 => ("lsoa21_code", "lsoa11_code"),
    };
    let mut map = HashMap::new();
    for chunk in codes.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {from_col} AS from_code, {to_col} AS to_code FROM area_lsoa_links WHERE {from_col} IN ({}) ORDER BY {from_col}, {to_col}",
            marks.join(", ")
        );
        let binds: Vec<Bind> = chunk.iter().cloned().map(Bind::T).collect();
        for l in bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .fetch_all(&state.db.read)
            .await?
        {
            map.entry(l.try_get("from_code")?)
                .or_insert(l.try_get("to_code")?);
        }
    }
    Ok(map)
}

/// Every consenting person, placed in a small area of the area served where they live there.
pub async fn resolve(
    state: &AppState,
    e: Edition,
    served: &Served,
) -> Result<HashMap<String, Resident>, AppError> {
    let people = crate::modules::people::area_facts::consenting(state).await?;
    place(state, e, served, people).await
}

/// These consenting people, each placed in a small area of the area served where they live
/// there (the rule of [`resolve`], for a given list).
pub async fn place(
    state: &AppState,
    e: Edition,
    served: &Served,
    people: Vec<AreaFact>,
) -> Result<HashMap<String, Resident>, AppError> {
    // A code held that is one served is used as it is (whichever column it came from);
    // otherwise each code held is tried through the lookup, the edition's own column first.
    let direct = |own: &Option<String>, other: &Option<String>| {
        [own, other]
            .into_iter()
            .flatten()
            .find(|c| served.contains_key(*c))
            .cloned()
    };
    let wanted: BTreeSet<String> = people
        .iter()
        .filter_map(|p| {
            let (own, other) = codes(p, e);
            direct(&own, &other).is_none().then_some([own, other])
        })
        .flatten()
        .flatten()
        .collect();
    let map = lookup(state, e, wanted.into_iter().collect()).await?;
    let mut out = HashMap::with_capacity(people.len());
    for p in people {
        let (own, other) = codes(&p, e);
        let via = |c: &Option<String>| {
            c.as_ref()
                .and_then(|c| map.get(c).cloned())
                .filter(|t| served.contains_key(t))
        };
        let lsoa = direct(&own, &other)
            .or_else(|| via(&own))
            .or_else(|| via(&other));
        out.insert(
            p.person_id,
            Resident {
                lsoa,
                gender: p.gender,
                ethnicity: p.ethnicity,
                birth_year: p.birth_year,
            },
        );
    }
    Ok(out)
}
