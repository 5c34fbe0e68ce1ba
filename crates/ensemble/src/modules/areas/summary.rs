//! The district summary: MHCLG's headline district measures recomputed from the imported
//! small-area rows of each edition (never copied from File 10, which is kept only to check).
//!
//! - **Average score**: the population-weighted mean of the district's LSOA IMD scores;
//!   **rank of average score**: its position among every district of the edition (1 = most
//!   deprived; equal averages share the lower rank).
//! - **LSOAs in the most deprived 10% / 20%**: LSOAs in national IMD deciles 1 / 1–2.
//! - **Residents there**: the same LSOAs' populations over the district's.
//!
//! Populations: IoD2019 uses File 6's mid-2015 totals (the official denominators, held for
//! all England), with the IMD score derived from File 9. IoD2025 uses File 7's mid-2022
//! totals where they are imported (only the Liverpool City Region's are available here);
//! elsewhere each LSOA's population is **estimated** as File 8's income-domain numerator
//! over File 7's income score (rate), and an LSOA without either gets its district's mean.
//! Each summary says which (`population_basis`).

use std::collections::BTreeMap;

use sqlx::Row;

use super::Edition;
use crate::code::code_enum;
use crate::db::{Bind, Db, bind_all};

code_enum!(
    /// Where a summary's populations come from.
    PopulationBasis {
        Official => ("official", "official population denominators"),
        Estimated => ("estimated", "estimated populations"),
        Mixed => ("mixed", "partly official, partly estimated populations"),
    }
);

/// One district's summary for one edition.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DistrictSummary {
    /// ONS district code, e.g. E08000012.
    pub district_code: String,
    /// District name as the edition spells it.
    pub district_name: String,
    /// 2019 or 2025.
    pub edition: i64,
    /// How many LSOAs the district has in this edition.
    pub lsoas: i64,
    /// Rank of the population-weighted average LSOA score among all districts (1 = most deprived).
    pub rank_of_average_score: i64,
    /// How many districts were ranked.
    pub districts: i64,
    /// Population-weighted average of the LSOA IMD scores (3 decimal places).
    pub average_score: f64,
    /// LSOAs in the most deprived 10% nationally (IMD decile 1).
    pub lsoas_most_deprived_10: i64,
    /// LSOAs in the most deprived 20% nationally (IMD deciles 1 and 2).
    pub lsoas_most_deprived_20: i64,
    /// Share of the district's LSOAs in the most deprived 10% (0–1, 4 decimal places).
    pub share_lsoas_most_deprived_10: f64,
    /// Share of the district's LSOAs in the most deprived 20% (0–1, 4 decimal places).
    pub share_lsoas_most_deprived_20: f64,
    /// Share of residents living in LSOAs in the most deprived 10% (0–1).
    pub share_residents_most_deprived_10: f64,
    /// Share of residents living in LSOAs in the most deprived 20% (0–1).
    pub share_residents_most_deprived_20: f64,
    /// Residents counted (sum of the LSOA populations used).
    pub population: i64,
    /// `official`, `estimated` or `mixed`.
    pub population_basis: String,
    /// Exactly which populations weight the average and count the residents.
    pub population_source: String,
}

/// What a basis means for an edition, in words.
pub fn population_source(edition: Edition, basis: PopulationBasis) -> &'static str {
    match (edition, basis) {
        (Edition::Iod2019, _) => {
            "Total population mid-2015, excluding prisoners (IoD2019 File 6 population denominators)."
        }
        (Edition::Iod2025, PopulationBasis::Official) => {
            "Total population mid-2022 (IoD2025 File 7), so the average score and the shares of residents are the official ones. The rank is among every district of England, most of whose populations are estimated here (File 7's are held only for the Liverpool City Region), so it can differ from the published rank by a place or two."
        }
        (Edition::Iod2025, PopulationBasis::Estimated) => {
            "Estimated: each LSOA's income-domain numerator (IoD2025 File 8) divided by its income score (File 7). File 7's mid-2022 populations are held only for the Liverpool City Region, so this district's average score, rank and share of residents are close to, but not exactly, the official figures."
        }
        (Edition::Iod2025, PopulationBasis::Mixed) => {
            "Partly File 7 mid-2022 populations, partly estimated from File 8's income-domain numerator over File 7's income score."
        }
    }
}

/// One district's figures before ranking: code, rows, average, basis, populations (all, in
/// decile 1, in deciles 1-2) and LSOA counts (decile 1, deciles 1-2).
type Computed = (String, Acc, f64, PopulationBasis, [f64; 3], [i64; 2]);

struct Acc {
    name: String,
    scores: Vec<(f64, i64, Option<f64>, bool)>,
}

/// Recompute every district summary of an edition from the small-area rows, replacing the
/// stored ones in one transaction. Returns how many districts were summarised.
pub async fn refresh(db: &Db, edition: Edition) -> Result<usize, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT district_code, district_name, imd_score, imd_decile, population, income_score, income_numerator \
         FROM area_lsoas WHERE edition = $1 AND imd_decile IS NOT NULL AND imd_score IS NOT NULL AND district_code <> ''",
    )
    .bind(edition.year())
    .fetch_all(&db.read)
    .await?;
    let mut by: BTreeMap<String, Acc> = BTreeMap::new();
    for r in rows {
        let code: String = r.try_get("district_code")?;
        let pop: Option<i64> = r.try_get("population")?;
        let rate: Option<f64> = r.try_get("income_score")?;
        let num: Option<f64> = r.try_get("income_numerator")?;
        let (weight, official) = match (pop, num, rate) {
            (Some(p), _, _) => (Some(p as f64), true),
            (None, Some(n), Some(r)) if r > 0.0 && n > 0.0 => (Some(n / r), false),
            _ => (None, false),
        };
        let acc = by.entry(code).or_insert_with(|| Acc {
            name: String::new(),
            scores: Vec::new(),
        });
        acc.name = r.try_get("district_name")?;
        acc.scores.push((
            r.try_get("imd_score")?,
            r.try_get("imd_decile")?,
            weight,
            official,
        ));
    }
    let mut out: Vec<Computed> = Vec::new();
    for (code, acc) in by {
        let known: Vec<f64> = acc.scores.iter().filter_map(|s| s.2).collect();
        let fill = if known.is_empty() {
            1.0
        } else {
            known.iter().sum::<f64>() / known.len() as f64
        };
        let (mut wsum, mut wscore, mut r10, mut r20) = (0.0, 0.0, 0.0, 0.0);
        let (mut n10, mut n20) = (0, 0);
        for (score, decile, w, _) in &acc.scores {
            let w = w.unwrap_or(fill);
            wsum += w;
            wscore += w * score;
            if *decile <= 1 {
                n10 += 1;
                r10 += w;
            }
            if *decile <= 2 {
                n20 += 1;
                r20 += w;
            }
        }
        let officials = acc.scores.iter().filter(|s| s.3).count();
        let basis = if officials == acc.scores.len() {
            PopulationBasis::Official
        } else if officials == 0 {
            PopulationBasis::Estimated
        } else {
            PopulationBasis::Mixed
        };
        let avg = if wsum > 0.0 { wscore / wsum } else { 0.0 };
        out.push((code, acc, avg, basis, [wsum, r10, r20], [n10, n20]));
    }
    let districts = out.len() as i64;
    let averages: Vec<f64> = out.iter().map(|o| o.2).collect();
    let now = crate::db::now();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM area_district_summaries WHERE edition = $1")
        .bind(edition.year())
        .execute(&mut *tx)
        .await?;
    for chunk in out.chunks(200) {
        let mut binds = Vec::new();
        let mut values = Vec::new();
        for (code, acc, avg, basis, pops, counts) in chunk {
            let rank = 1 + averages.iter().filter(|a| **a > *avg).count() as i64;
            let base = binds.len();
            values.push(format!(
                "({})",
                (1..=14)
                    .map(|i| format!("${}", base + i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            binds.extend([
                Bind::I(edition.year()),
                Bind::T(code.clone()),
                Bind::T(acc.name.clone()),
                Bind::I(acc.scores.len() as i64),
                Bind::F(*avg),
                Bind::I(rank),
                Bind::I(districts),
                Bind::I(counts[0]),
                Bind::I(counts[1]),
                Bind::F(pops[0]),
                Bind::F(pops[1]),
                Bind::F(pops[2]),
                Bind::T(basis.code().into()),
                Bind::I(now),
            ]);
        }
        let sql = format!(
            "INSERT INTO area_district_summaries (edition, district_code, district_name, lsoas, average_score, \
             rank_of_average_score, districts, lsoas_most_deprived_10, lsoas_most_deprived_20, population, \
             residents_most_deprived_10, residents_most_deprived_20, population_basis, computed_at) VALUES {}",
            values.join(", ")
        );
        bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(out.len())
}

const COLUMNS: &str = "edition, district_code, district_name, lsoas, average_score, rank_of_average_score, districts, \
    lsoas_most_deprived_10, lsoas_most_deprived_20, population, residents_most_deprived_10, \
    residents_most_deprived_20, population_basis";

fn round(x: f64, dp: i32) -> f64 {
    let m = 10f64.powi(dp);
    (x * m).round() / m
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<DistrictSummary, sqlx::Error> {
    let year: i64 = r.try_get("edition")?;
    let edition = Edition::from_year(year)
        .ok_or_else(|| sqlx::Error::Decode(format!("{year} is not an edition").into()))?;
    let basis = PopulationBasis::decode(&r.try_get::<String, _>("population_basis")?)?;
    let lsoas: i64 = r.try_get("lsoas")?;
    let n10: i64 = r.try_get("lsoas_most_deprived_10")?;
    let n20: i64 = r.try_get("lsoas_most_deprived_20")?;
    let pop: f64 = r.try_get("population")?;
    let r10: f64 = r.try_get("residents_most_deprived_10")?;
    let r20: f64 = r.try_get("residents_most_deprived_20")?;
    let share = |a: f64, b: f64| if b > 0.0 { round(a / b, 4) } else { 0.0 };
    Ok(DistrictSummary {
        district_code: r.try_get("district_code")?,
        district_name: r.try_get("district_name")?,
        edition: year,
        lsoas,
        rank_of_average_score: r.try_get("rank_of_average_score")?,
        districts: r.try_get("districts")?,
        average_score: round(r.try_get("average_score")?, 3),
        lsoas_most_deprived_10: n10,
        lsoas_most_deprived_20: n20,
        share_lsoas_most_deprived_10: share(n10 as f64, lsoas as f64),
        share_lsoas_most_deprived_20: share(n20 as f64, lsoas as f64),
        share_residents_most_deprived_10: share(r10, pop),
        share_residents_most_deprived_20: share(r20, pop),
        population: pop.round() as i64,
        population_basis: basis.code().into(),
        population_source: population_source(edition, basis).into(),
    })
}

/// One district's summary for an edition.
pub async fn district(
    db: &Db,
    edition: Edition,
    code: &str,
) -> Result<Option<DistrictSummary>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM area_district_summaries WHERE edition = $1 AND district_code = $2"
    )))
    .bind(edition.year())
    .bind(code.trim().to_ascii_uppercase())
    .fetch_optional(&db.read)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every district summary of an edition (or of both), by edition then rank.
pub async fn all(db: &Db, edition: Option<Edition>) -> Result<Vec<DistrictSummary>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM area_district_summaries WHERE ($1 = 0 OR edition = $1) \
         ORDER BY edition, rank_of_average_score, district_code"
    )))
    .bind(edition.map_or(0, Edition::year))
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The summaries of the given districts (both editions), in the order given.
pub async fn of_districts(db: &Db, codes: &[&str]) -> Result<Vec<DistrictSummary>, sqlx::Error> {
    let mut out = Vec::new();
    for e in Edition::ALL {
        for c in codes {
            if let Some(s) = district(db, *e, c).await? {
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// Find a district's code from a code or a name (ignoring case and full stops, so
/// "St Helens" finds "St. Helens"), in either edition.
pub async fn resolve(db: &Db, query: &str) -> Result<Option<String>, sqlx::Error> {
    let norm = |s: &str| {
        s.to_lowercase()
            .replace('.', "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let q = norm(query);
    let rows =
        sqlx::query("SELECT DISTINCT district_code, district_name FROM area_district_summaries")
            .fetch_all(&db.read)
            .await?;
    for r in rows {
        let code: String = r.try_get("district_code")?;
        let name: String = r.try_get("district_name")?;
        if code.eq_ignore_ascii_case(query.trim()) || norm(&name) == q {
            return Ok(Some(code));
        }
    }
    Ok(None)
}

/// The published File 10 figures for an edition: (code, average score, rank of average
/// score, proportion of LSOAs in the most deprived 10%), for checking.
pub async fn reference(
    db: &Db,
    edition: Edition,
) -> Result<Vec<(String, f64, i64, f64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT district_code, average_score, rank_of_average_score, proportion_most_deprived_10 \
         FROM area_district_reference WHERE edition = $1 ORDER BY district_code",
    )
    .bind(edition.year())
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("district_code")?,
                r.try_get("average_score")?,
                r.try_get("rank_of_average_score")?,
                r.try_get("proportion_most_deprived_10")?,
            ))
        })
        .collect()
}
