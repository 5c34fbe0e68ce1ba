//! Reach and equity (issue 16 item 3): referrals and participants by the national IMD decile
//! of the small area they live in, against each decile's share of the residents of the area
//! served (the Liverpool City Region, or one district), as a representation ratio with a
//! 95% interval (`ensemble_stats::representation`), optionally broken down by age band, sex
//! or ethnic group where recorded.
//!
//! Rules, the same as the programme results (`measures::results`):
//! - only people who have **currently given consent for evaluation** are counted; a person
//!   whose record was erased, or who withdrew, drops out of every figure;
//! - every count passes through `ensemble_stats::disclosure`: each column is protected as a
//!   table with its total (primary suppression of 1–7, rounding to 5, secondary suppression
//!   so no hidden cell can be worked out from the total); a breakdown is one two-way table;
//! - ratios are computed from the **published** (rounded) counts and shown only where the
//!   count is published, so a ratio never reveals more than the count beside it.
//!
//! People are placed in the small areas of the edition by the rule of [`super::residents`]
//! (their postcode's code of the edition, else through the ONS LSOA 2011→2021 lookup), as
//! applied by the pre-aggregate rebuild ([`super::aggregates`]).

use std::collections::{BTreeMap, BTreeSet};

use ensemble_stats::{
    DisclosurePolicy, ProtectedTable, Published, Representation, protect_table, representation,
};
use sqlx::Row;

use super::aggregates::{self, Scope};
use super::{CITY_REGION, Edition};
use crate::code::code_enum;
use crate::error::{AppError, FieldError};
use crate::rbac::Granted;
use crate::rbac::perm::ViewAreaAggregates;
use crate::state::AppState;

code_enum!(
    /// How the referrals may be broken down beside the decile.
    Breakdown {
        Age => ("age", "age band"),
        Sex => ("sex", "sex"),
        Ethnicity => ("ethnicity", "ethnic group"),
    }
);

/// The filters as typed (query string of the page, the CSV and the API).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReachQuery {
    /// 2019 or 2025 (default: the installation's edition).
    pub edition: Option<String>,
    /// A district code (default: the whole Liverpool City Region).
    pub district: Option<String>,
    /// Only referrals to this activity (id).
    pub activity: Option<String>,
    /// Only referrals to activities of this organisation (id).
    pub organisation: Option<String>,
    /// Only referrals to activities of this programme (id).
    pub programme: Option<String>,
    /// Break referrals down by `age`, `sex` or `ethnicity`.
    pub by: Option<String>,
}

/// Checked filters.
#[derive(Debug, Clone)]
pub struct Filters {
    pub edition: Edition,
    pub district: Option<String>,
    pub activity: Option<String>,
    pub organisation: Option<String>,
    pub programme: Option<String>,
    pub by: Option<Breakdown>,
}

/// One decile's row.
#[derive(Debug, Clone)]
pub struct DecileRow {
    /// National IMD decile (1 = most deprived 10% of England).
    pub decile: i64,
    /// Residents of the area served living in this decile's LSOAs.
    pub population: f64,
    pub population_share: f64,
    pub referrals: Published,
    pub referral_ratio: Option<Representation>,
    pub participants: Published,
    pub participant_ratio: Option<Representation>,
}

/// The reach table.
#[derive(Debug, Clone)]
pub struct Reach {
    pub filters: Filters,
    /// "Liverpool City Region" or the district's name.
    pub area: String,
    pub rows: Vec<DecileRow>,
    pub referrals_total: Published,
    pub participants_total: Published,
    /// Referrals of people with no known small area in the area served.
    pub referrals_elsewhere: Published,
    /// The breakdown: group labels and the protected decile × group table of referrals.
    pub breakdown: Option<(Vec<String>, ProtectedTable)>,
    /// When the aggregates read were rebuilt.
    pub as_at: Option<aggregates::Refreshed>,
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

async fn exists(state: &AppState, sql: &'static str, v: &str) -> Result<bool, AppError> {
    Ok(sqlx::query(sql)
        .bind(v.to_string())
        .fetch_optional(&state.db.read)
        .await?
        .is_some())
}

/// Check the filters; every error names the field and the value.
pub async fn check(state: &AppState, q: &ReachQuery) -> Result<Filters, AppError> {
    let mut errors = Vec::new();
    let edition = match blank(&q.edition) {
        None => super::api::installation_edition(state),
        Some(e) => Edition::parse(&e).unwrap_or_else(|m| {
            errors.push(FieldError::new("edition", m));
            Edition::Iod2025
        }),
    };
    let f = Filters {
        edition,
        district: blank(&q.district).map(|d| d.to_uppercase()),
        activity: blank(&q.activity),
        organisation: blank(&q.organisation),
        programme: blank(&q.programme),
        by: None,
    };
    let known = match &f.district {
        None => true,
        Some(d) => sqlx::query(
            "SELECT 1 AS x FROM area_lsoas WHERE edition = $1 AND district_code = $2 LIMIT 1",
        )
        .bind(edition.year())
        .bind(d.clone())
        .fetch_optional(&state.db.read)
        .await?
        .is_some(),
    };
    if let (false, Some(d)) = (known, &f.district) {
        errors.push(FieldError::new(
            "district",
            format!(
                "No district \"{d}\" in {} (district codes look like E08000012).",
                edition.label()
            ),
        ));
    }
    let checks = [
        (
            "activity",
            &f.activity,
            "SELECT 1 AS x FROM directory_activity_names WHERE id = $1",
            "No activity",
        ),
        (
            "organisation",
            &f.organisation,
            "SELECT 1 AS x FROM directory_activity_names WHERE organisation_id = $1",
            "No organisation with activities",
        ),
        (
            "programme",
            &f.programme,
            "SELECT 1 AS x FROM programmes_activity_links WHERE programme_id = $1",
            "No programme with activities",
        ),
    ];
    for (field, v, sql, what) in checks {
        if let Some(v) = v
            && !exists(state, sql, v).await?
        {
            errors.push(FieldError::new(
                field,
                format!("{what} has the id \"{v}\"."),
            ));
        }
    }
    let by = match blank(&q.by) {
        None => None,
        Some(b) => Breakdown::from_code(&b).or_else(|| {
            errors.push(FieldError::new(
                "by",
                format!("Break down by age, sex or ethnicity, not \"{b}\"."),
            ));
            None
        }),
    };
    if errors.is_empty() {
        Ok(Filters { by, ..f })
    } else {
        Err(AppError::Invalid(errors))
    }
}

fn protect_column(counts: &[u64], policy: DisclosurePolicy) -> (Vec<Published>, Published) {
    let t = protect_table(&counts.iter().map(|c| vec![*c]).collect::<Vec<_>>(), policy);
    (t.cells.into_iter().map(|c| c[0]).collect(), t.total)
}

fn ratio(cell: Published, total: Published, population_share: f64) -> Option<Representation> {
    match (cell, total) {
        (Published::Value(c), Published::Value(n)) if n > 0 && c <= n => {
            representation(c as usize, n as usize, population_share).ok()
        }
        _ => None,
    }
}

/// The stored scope the filters select, or None when they cannot both hold (an activity
/// of another organisation, or outside the programme): then every count is zero.
async fn scope_of(state: &AppState, f: &Filters) -> Result<Option<Scope>, AppError> {
    if let Some(a) = &f.activity {
        if let Some(o) = &f.organisation
            && !exists2(
                state,
                "SELECT 1 AS x FROM directory_activity_names WHERE id = $1 AND organisation_id = $2",
                a,
                o,
            )
            .await?
        {
            return Ok(None);
        }
        if let Some(p) = &f.programme
            && !exists2(
                state,
                "SELECT 1 AS x FROM programmes_activity_links WHERE activity_id = $1 AND programme_id = $2",
                a,
                p,
            )
            .await?
        {
            return Ok(None);
        }
        return Ok(Some(Scope::Activity(a.clone())));
    }
    Ok(Some(match (&f.organisation, &f.programme) {
        (Some(o), Some(p)) => Scope::OrganisationProgramme(o.clone(), p.clone()),
        (Some(o), None) => Scope::Organisation(o.clone()),
        (None, Some(p)) => Scope::Programme(p.clone()),
        (None, None) => Scope::All,
    }))
}

async fn exists2(state: &AppState, sql: &'static str, a: &str, b: &str) -> Result<bool, AppError> {
    Ok(sqlx::query(sql)
        .bind(a.to_string())
        .bind(b.to_string())
        .fetch_optional(&state.db.read)
        .await?
        .is_some())
}

/// The reach table for the filters; only for roles allowed aggregates (the proof). Read
/// from the pre-aggregated counts ([`aggregates`]), never from the referrals.
pub async fn reach(
    state: &AppState,
    _g: &Granted<ViewAreaAggregates>,
    f: Filters,
) -> Result<Reach, AppError> {
    let policy = DisclosurePolicy::default();
    let served = super::residents::served(state, f.edition, f.district.as_deref()).await?;
    let districts: BTreeSet<String> = match &f.district {
        Some(d) => BTreeSet::from([d.clone()]),
        None => CITY_REGION.iter().map(|s| s.to_string()).collect(),
    };
    let cells = match scope_of(state, &f).await? {
        Some(scope) => {
            aggregates::cells(state, f.edition, &scope, f.by.map(Breakdown::code)).await?
        }
        None => Vec::new(),
    };
    let mut refs = [0_u64; 10];
    let mut parts = [0_u64; 10];
    let mut all = 0_u64;
    let mut groups: BTreeMap<(usize, String), u64> = BTreeMap::new();
    for c in &cells {
        let inside = (1..=10).contains(&c.decile) && districts.contains(&c.district);
        let i = (c.decile.clamp(1, 10) - 1) as usize;
        if c.breakdown == "none" {
            all += c.referrals;
            if inside {
                refs[i] += c.referrals;
                parts[i] += c.participants;
            }
        } else if inside {
            *groups.entry((i, c.group.clone())).or_default() += c.referrals;
        }
    }
    let elsewhere = all - refs.iter().sum::<u64>();
    let mut pops = [0.0_f64; 10];
    for (decile, p) in served.values() {
        pops[(*decile).clamp(1, 10) as usize - 1] += p;
    }
    let total_pop: f64 = pops.iter().sum();
    let (ref_cells, ref_total) = protect_column(&refs, policy);
    let (part_cells, part_total) = protect_column(&parts, policy);
    let rows = (0..10)
        .map(|i| {
            let share = if total_pop > 0.0 {
                pops[i] / total_pop
            } else {
                0.0
            };
            DecileRow {
                decile: i as i64 + 1,
                population: pops[i],
                population_share: share,
                referrals: ref_cells[i],
                referral_ratio: ratio(ref_cells[i], ref_total, share),
                participants: part_cells[i],
                participant_ratio: ratio(part_cells[i], part_total, share),
            }
        })
        .collect();
    let breakdown = f.by.map(|_| {
        let labels: Vec<String> = groups
            .keys()
            .map(|k| k.1.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let cells: Vec<Vec<u64>> = (0..10)
            .map(|i| {
                labels
                    .iter()
                    .map(|l| groups.get(&(i, l.clone())).copied().unwrap_or(0))
                    .collect()
            })
            .collect();
        let table = protect_table(&cells, policy);
        (labels, table)
    });
    let area = match &f.district {
        None => "Liverpool City Region".to_string(),
        Some(d) => district_name(state, f.edition, d).await?,
    };
    Ok(Reach {
        filters: f,
        area,
        rows,
        referrals_total: ref_total,
        participants_total: part_total,
        referrals_elsewhere: ensemble_stats::disclose(elsewhere, policy),
        breakdown,
        as_at: aggregates::status(state).await?,
    })
}

pub(super) async fn district_name(
    state: &AppState,
    e: Edition,
    code: &str,
) -> Result<String, AppError> {
    let r = sqlx::query(
        "SELECT district_name FROM area_lsoas WHERE edition = $1 AND district_code = $2 LIMIT 1",
    )
    .bind(e.year())
    .bind(code.to_string())
    .fetch_optional(&state.db.read)
    .await?;
    Ok(match r {
        Some(r) => r.try_get("district_name")?,
        None => code.to_string(),
    })
}

pub(super) fn chrono_year() -> i64 {
    // Days since 1970 → civil year (Howard Hinnant's algorithm, year part only).
    let days = crate::db::now().div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(m <= 2)
}

/// The table as CSV (published figures only).
pub fn csv(r: &Reach) -> String {
    let mut out = String::from(
        "edition,area,decile,population,population_share,referrals,referral_ratio,referral_ratio_low,referral_ratio_high,participants,participant_ratio,participant_ratio_low,participant_ratio_high,figures_as_at\n",
    );
    let pubd = |p: Published| match p {
        Published::Value(v) => v.to_string(),
        Published::Suppressed => "suppressed".into(),
    };
    let rat = |x: Option<Representation>| match x {
        Some(x) => format!("{:.3},{:.3},{:.3}", x.ratio, x.ci95_low, x.ci95_high),
        None => ",,".into(),
    };
    let area = r.area.replace([',', '"', '\n'], " ");
    let as_at = r.as_at.map_or_else(String::new, |s| {
        time::OffsetDateTime::from_unix_timestamp(s.refreshed_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    });
    for row in &r.rows {
        out.push_str(&format!(
            "{},{},{},{:.0},{:.4},{},{},{},{},{}\n",
            r.filters.edition.year(),
            area,
            row.decile,
            row.population,
            row.population_share,
            pubd(row.referrals),
            rat(row.referral_ratio),
            pubd(row.participants),
            rat(row.participant_ratio),
            as_at,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::aggregates::age_band;

    #[test]
    fn age_bands() {
        assert_eq!(age_band(Some("2010"), 2026), "Under 18");
        assert_eq!(age_band(Some("2002"), 2026), "18 to 24");
        assert_eq!(age_band(Some("1940"), 2026), "80 and over");
        assert_eq!(age_band(None, 2026), "Not recorded");
        assert_eq!(age_band(Some("19x"), 2026), "Not recorded");
        assert!(chrono_year() >= 2025);
    }
}
