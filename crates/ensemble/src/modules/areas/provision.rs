//! Provision and cold spots (issue 16 item 4): listed activities and their weekly session
//! hours per 10,000 residents by national deprivation decile and by ward of the city
//! region, and for every LSOA of the city region the straight-line distance from its
//! population-weighted centroid to the nearest listed activity meeting a filter.
//!
//! Rules (the documentation states the same):
//! - **Activities** are the directory's listed ones (`directory::service::listed`: active,
//!   public, organisation not archived) with at least one venue that has a position.
//! - **Weekly hours**: for each schedule, the sessions it meets (`Schedule::meets_on`, the
//!   directory's one rule) on the 28 days from today (UK), times its length (opens to
//!   closes), divided by 4. An activity with several venues has its hours shared equally
//!   between them.
//! - **Where a venue is**: the venue's stored LSOA of the edition's geography
//!   (`directory::venue_areas`: point-in-polygon against the ONS boundaries, else its
//!   postcode's), when that is one of the city region's LSOAs of the edition; a stored LSOA
//!   elsewhere puts it outside. A venue with no stored LSOA (boundaries and postcodes not
//!   imported) falls back to the LSOA whose population-weighted centroid is nearest, if
//!   within 3 km, else outside. An activity counts once in each decile or ward where it has
//!   a venue.
//! - **Distance**: haversine on a sphere of radius 6,371.0088 km (the mean Earth radius),
//!   rounded to the metre (km with three decimals) before ranking.
//! - **Cold-spot order**: national IMD decile ascending (most deprived first), then
//!   distance descending (an LSOA with no qualifying activity at all is furthest), then IMD
//!   rank ascending, then LSOA code.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::Row;

use super::{CITY_REGION, Edition};
use crate::code::code_enum;
use crate::db::Db;
use crate::error::AppError;
use crate::modules::directory::model::{Activity, Schedule};
use crate::modules::places::Point;
use crate::state::AppState;

/// Mean Earth radius used for every distance here, in km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;
/// A venue further than this from every city-region LSOA centroid is outside the region.
const OUTSIDE_KM: f64 = 3.0;
/// Days of schedule looked at for weekly hours (four weeks).
const WINDOW_DAYS: i64 = 28;

code_enum!(
    /// What a nearest activity must offer.
    Filter {
        Any => ("any", "Any listed activity"),
        Free => ("free", "Free"),
        StepFree => ("step_free", "Step-free access"),
        Evening => ("evening", "Evening (a session starting at 17:00 or later)"),
        Weekend => ("weekend", "Weekend (meets on a Saturday or Sunday in the next four weeks)"),
    }
);

/// Parse `?filter=` (one or more codes separated by commas; empty = any), naming a bad one.
pub fn parse_filters(s: Option<&str>) -> Result<Vec<Filter>, String> {
    let mut out = Vec::new();
    for part in s.unwrap_or("").split(',').map(str::trim) {
        if part.is_empty() {
            continue;
        }
        let f = Filter::from_code(part).ok_or_else(|| {
            format!(
                "filter must be one or more of {} (separated by commas), not \"{part}\"",
                Filter::ALL
                    .iter()
                    .map(|f| f.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        if f != Filter::Any && !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

/// Parse `?edition=`, defaulting to the installation's edition.
pub fn parse_edition(state: &AppState, s: Option<&str>) -> Result<Edition, String> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Edition::parse(s),
        None => Ok(super::api::installation_edition(state)),
    }
}

/// Haversine distance in km.
pub fn haversine_km(a: Point, b: Point) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = (b.lat - a.lat).to_radians();
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// One small area of the city region.
#[derive(Debug, Clone)]
pub struct Lsoa {
    pub code: String,
    pub name: String,
    pub ward_code: String,
    pub ward_name: String,
    pub district_code: String,
    pub district_name: String,
    pub imd_decile: i64,
    pub imd_rank: i64,
    pub population: i64,
    pub centroid: Point,
}

/// The city region's LSOAs of an edition that have a decile and a centroid.
pub async fn region_lsoas(db: &Db, e: Edition) -> Result<Vec<Lsoa>, sqlx::Error> {
    let codes = CITY_REGION
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT l.code, l.name, COALESCE(w.ward_code, '') AS ward_code, COALESCE(w.ward_name, '') AS ward_name, \
         COALESCE(w.district_code, l.district_code) AS district_code, COALESCE(w.district_name, l.district_name) AS district_name, \
         l.imd_decile, l.imd_rank, COALESCE(l.population, 0) AS population, l.latitude, l.longitude \
         FROM area_lsoas l LEFT JOIN area_lsoa_wards w ON w.edition = l.edition AND w.lsoa_code = l.code \
         WHERE l.edition = $1 AND COALESCE(w.district_code, l.district_code) IN ({codes}) \
         AND l.imd_decile IS NOT NULL AND l.latitude IS NOT NULL AND l.longitude IS NOT NULL ORDER BY l.code"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(e.year())
        .fetch_all(&db.read)
        .await?;
    Ok(rows
        .iter()
        .map(|r| Lsoa {
            code: r.get("code"),
            name: r.get("name"),
            ward_code: r.get("ward_code"),
            ward_name: r.get("ward_name"),
            district_code: r.get("district_code"),
            district_name: r.get("district_name"),
            imd_decile: r.get("imd_decile"),
            imd_rank: r.try_get("imd_rank").unwrap_or(0),
            population: r.get("population"),
            centroid: Point {
                lat: r.get("latitude"),
                lon: r.get("longitude"),
            },
        })
        .collect())
}

/// A venue's stored small areas: (LSOA 2021, LSOA 2011).
pub type Lsoas = (Option<String>, Option<String>);

/// A listed activity's venue, with what the filters look at.
#[derive(Debug, Clone)]
pub struct Venue {
    pub activity_id: String,
    pub activity_name: String,
    pub point: Point,
    /// This venue's share of the activity's weekly hours.
    pub weekly_hours: f64,
    pub free: bool,
    pub step_free: bool,
    pub evening: bool,
    pub weekend: bool,
    /// The venue's stored small areas (LSOA 2021, LSOA 2011), when known.
    pub lsoas: Lsoas,
}

impl Venue {
    /// The venue's stored small area of the edition's geography.
    pub fn lsoa(&self, e: Edition) -> Option<&str> {
        match e {
            Edition::Iod2025 => self.lsoas.0.as_deref(),
            Edition::Iod2019 => self.lsoas.1.as_deref(),
        }
    }
}

impl Venue {
    fn meets(&self, filters: &[Filter]) -> bool {
        filters.iter().all(|f| match f {
            Filter::Any => true,
            Filter::Free => self.free,
            Filter::StepFree => self.step_free,
            Filter::Evening => self.evening,
            Filter::Weekend => self.weekend,
        })
    }
}

fn minutes(hhmm: &str) -> Option<i64> {
    let (h, m) = hhmm.split_once(':')?;
    Some(h.trim().parse::<i64>().ok()? * 60 + m.trim().parse::<i64>().ok()?)
}

/// Dates in the window when a schedule meets.
fn meeting_dates(s: &Schedule, from: time::Date) -> Vec<time::Date> {
    (0..WINDOW_DAYS)
        .filter_map(|i| from.checked_add(time::Duration::days(i)))
        .filter(|d| s.meets_on(*d))
        .collect()
}

/// Weekly session hours of an activity: sessions met in the 28 days from `from` times their
/// length, over 4.
pub fn weekly_hours(a: &Activity, from: time::Date) -> f64 {
    let total: f64 = a
        .schedules
        .iter()
        .map(|s| {
            let len = match (minutes(&s.opens_at), minutes(&s.closes_at)) {
                (Some(o), Some(c)) if c > o => (c - o) as f64 / 60.0,
                _ => 0.0,
            };
            meeting_dates(s, from).len() as f64 * len
        })
        .sum();
    total * 7.0 / WINDOW_DAYS as f64
}

/// The venues of listed activities, with their hours shared out.
pub fn venues(activities: &[Activity], from: time::Date) -> Vec<Venue> {
    use crate::modules::directory::model::{AccessFeature, Cost};
    let mut out = Vec::new();
    for a in activities {
        let points: Vec<(Point, Lsoas)> = a
            .locations
            .iter()
            .filter_map(|l| Some((l.point?, (l.lsoa_code.clone(), l.lsoa11_code.clone()))))
            .collect();
        if points.is_empty() {
            continue;
        }
        let hours = weekly_hours(a, from) / points.len() as f64;
        let evening = a
            .schedules
            .iter()
            .any(|s| minutes(&s.opens_at).is_some_and(|m| m >= 17 * 60));
        let weekend = a.schedules.iter().any(|s| {
            meeting_dates(s, from)
                .iter()
                .any(|d| matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday))
        });
        for (p, lsoas) in points {
            out.push(Venue {
                activity_id: a.id.clone(),
                activity_name: a.name.clone(),
                point: p,
                lsoas,
                weekly_hours: hours,
                free: a.cost == Cost::Free,
                step_free: a.access_features.contains(&AccessFeature::StepFree),
                evening,
                weekend,
            });
        }
    }
    out
}

/// The listed venues, read through the directory's published function.
pub async fn listed_venues(state: &AppState) -> Result<Vec<Venue>, AppError> {
    let activities = crate::modules::directory::service::listed(state).await?;
    Ok(venues(&activities, crate::db::uk::today()))
}

/// Provision in one group (a decile or a ward).
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ProvisionRow {
    /// Decile (1 = most deprived 10% in England) or ward code.
    pub key: String,
    /// Ward name (empty for a decile).
    pub name: String,
    /// The ward's district (empty for a decile).
    pub district: String,
    pub lsoas: i64,
    pub population: i64,
    /// Distinct listed activities with a venue here.
    pub activities: i64,
    /// Weekly session hours at venues here.
    pub weekly_hours: f64,
    pub activities_per_10k: f64,
    pub hours_per_10k: f64,
}

/// Provision by decile and by ward, and what fell outside.
#[derive(Debug, Clone, Default)]
pub struct Provision {
    pub by_decile: Vec<ProvisionRow>,
    pub by_ward: Vec<ProvisionRow>,
    pub total: ProvisionRow,
    /// Venues outside the city region (a stored LSOA elsewhere, or none stored and more
    /// than 3 km from every city-region centroid).
    pub venues_outside: usize,
    /// Venues placed by their stored LSOA (boundary, else postcode).
    pub venues_by_area: usize,
    /// Venues placed by the nearest population-weighted centroid (no stored LSOA).
    pub venues_by_centroid: usize,
    pub venues: Vec<Venue>,
}

/// Where a venue was placed, and how.
enum Home {
    /// By its stored LSOA of the edition.
    Area(usize),
    /// By the nearest centroid (no stored LSOA).
    Centroid(usize),
    Outside,
}

/// The venue's LSOA among `lsoas` (index by code in `by_code`): its stored LSOA of the
/// edition, else the LSOA whose centroid is nearest, if within the region's reach.
fn home(lsoas: &[Lsoa], by_code: &HashMap<&str, usize>, e: Edition, v: &Venue) -> Home {
    if let Some(code) = v.lsoa(e) {
        return by_code.get(code).map_or(Home::Outside, |i| Home::Area(*i));
    }
    lsoas
        .iter()
        .enumerate()
        .map(|(i, l)| (i, haversine_km(l.centroid, v.point)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .filter(|(_, d)| *d <= OUTSIDE_KM)
        .map_or(Home::Outside, |(i, _)| Home::Centroid(i))
}

#[derive(Default)]
struct Acc {
    name: String,
    district: String,
    lsoas: i64,
    population: i64,
    activities: HashSet<String>,
    hours: f64,
}

fn finish(key: String, a: Acc) -> ProvisionRow {
    let per = |x: f64| {
        if a.population > 0 {
            x * 10_000.0 / a.population as f64
        } else {
            0.0
        }
    };
    ProvisionRow {
        key,
        name: a.name,
        district: a.district,
        lsoas: a.lsoas,
        population: a.population,
        activities: a.activities.len() as i64,
        weekly_hours: a.hours,
        activities_per_10k: per(a.activities.len() as f64),
        hours_per_10k: per(a.hours),
    }
}

/// Compute provision from the region's LSOAs of an edition and the listed venues.
pub fn provision(e: Edition, lsoas: &[Lsoa], venues: Vec<Venue>) -> Provision {
    let by_code: HashMap<&str, usize> = lsoas
        .iter()
        .enumerate()
        .map(|(i, l)| (l.code.as_str(), i))
        .collect();
    let mut deciles: BTreeMap<i64, Acc> = (1..=10).map(|d| (d, Acc::default())).collect();
    let mut wards: BTreeMap<String, Acc> = BTreeMap::new();
    let mut total = Acc::default();
    for l in lsoas {
        let w = wards.entry(l.ward_code.clone()).or_default();
        w.name.clone_from(&l.ward_name);
        w.district.clone_from(&l.district_name);
        for acc in [w, deciles.entry(l.imd_decile).or_default()] {
            acc.lsoas += 1;
            acc.population += l.population;
        }
        total.lsoas += 1;
        total.population += l.population;
    }
    let (mut outside, mut by_area, mut by_centroid) = (0, 0, 0);
    for v in &venues {
        let i = match home(lsoas, &by_code, e, v) {
            Home::Area(i) => {
                by_area += 1;
                i
            }
            Home::Centroid(i) => {
                by_centroid += 1;
                i
            }
            Home::Outside => {
                outside += 1;
                continue;
            }
        };
        let l = &lsoas[i];
        for acc in [
            deciles.get_mut(&l.imd_decile),
            wards.get_mut(&l.ward_code),
            Some(&mut total),
        ]
        .into_iter()
        .flatten()
        {
            acc.activities.insert(v.activity_id.clone());
            acc.hours += v.weekly_hours;
        }
    }
    let mut by_ward: Vec<ProvisionRow> = wards.into_iter().map(|(k, a)| finish(k, a)).collect();
    by_ward.sort_by(|a, b| (&a.district, &a.name).cmp(&(&b.district, &b.name)));
    Provision {
        by_decile: deciles
            .into_iter()
            .map(|(k, a)| finish(k.to_string(), a))
            .collect(),
        by_ward,
        total: finish("total".into(), total),
        venues_outside: outside,
        venues_by_area: by_area,
        venues_by_centroid: by_centroid,
        venues,
    }
}

/// Provision for an edition.
pub async fn for_edition(state: &AppState, e: Edition) -> Result<Provision, AppError> {
    let lsoas = region_lsoas(&state.db, e).await?;
    let venues = listed_venues(state).await?;
    Ok(provision(e, &lsoas, venues))
}

/// One LSOA's distance to the nearest qualifying activity.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ColdSpot {
    /// Position in the ranking (1 = coldest).
    pub rank: i64,
    pub lsoa_code: String,
    pub lsoa_name: String,
    pub ward_code: String,
    pub ward: String,
    pub district_code: String,
    pub district: String,
    /// National IMD decile (1 = most deprived 10%).
    pub imd_decile: i64,
    /// National IMD rank (1 = most deprived).
    pub imd_rank: i64,
    pub population: i64,
    /// Population-weighted centroid.
    pub centroid_lat: f64,
    pub centroid_lon: f64,
    /// The nearest qualifying activity (none when no listed activity qualifies).
    pub nearest_activity_id: Option<String>,
    pub nearest_activity_name: Option<String>,
    /// Straight-line (haversine) distance in km, three decimals.
    pub distance_km: Option<f64>,
}

/// Rank every LSOA by the cold-spot order.
pub fn cold_spots(lsoas: &[Lsoa], venues: &[Venue], filters: &[Filter]) -> Vec<ColdSpot> {
    let ok: Vec<&Venue> = venues.iter().filter(|v| v.meets(filters)).collect();
    let mut out: Vec<ColdSpot> = lsoas
        .iter()
        .map(|l| {
            let near = ok
                .iter()
                .map(|v| (v, haversine_km(l.centroid, v.point)))
                .min_by(|a, b| {
                    a.1.total_cmp(&b.1)
                        .then(a.0.activity_id.cmp(&b.0.activity_id))
                });
            ColdSpot {
                rank: 0,
                lsoa_code: l.code.clone(),
                lsoa_name: l.name.clone(),
                ward_code: l.ward_code.clone(),
                ward: l.ward_name.clone(),
                district_code: l.district_code.clone(),
                district: l.district_name.clone(),
                imd_decile: l.imd_decile,
                imd_rank: l.imd_rank,
                population: l.population,
                centroid_lat: l.centroid.lat,
                centroid_lon: l.centroid.lon,
                nearest_activity_id: near.map(|(v, _)| v.activity_id.clone()),
                nearest_activity_name: near.map(|(v, _)| v.activity_name.clone()),
                distance_km: near.map(|(_, d)| (d * 1000.0).round() / 1000.0),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.imd_decile
            .cmp(&b.imd_decile)
            .then_with(|| {
                let d = |x: &ColdSpot| x.distance_km.unwrap_or(f64::INFINITY);
                d(b).total_cmp(&d(a))
            })
            .then(a.imd_rank.cmp(&b.imd_rank))
            .then_with(|| a.lsoa_code.cmp(&b.lsoa_code))
    });
    for (i, c) in out.iter_mut().enumerate() {
        c.rank = i as i64 + 1;
    }
    out
}

/// The ranked cold spots of an edition for some filters.
pub async fn ranked(
    state: &AppState,
    e: Edition,
    filters: &[Filter],
) -> Result<Vec<ColdSpot>, AppError> {
    let lsoas = region_lsoas(&state.db, e).await?;
    let venues = listed_venues(state).await?;
    Ok(cold_spots(&lsoas, &venues, filters))
}

/// The CSV of a ranking (header first).
pub fn csv_rows(rows: &[ColdSpot]) -> Vec<Vec<String>> {
    let mut out = vec![
        [
            "rank",
            "lsoa_code",
            "lsoa_name",
            "ward_code",
            "ward",
            "district_code",
            "district",
            "imd_decile",
            "imd_rank",
            "population",
            "centroid_lat",
            "centroid_lon",
            "nearest_activity_id",
            "nearest_activity_name",
            "distance_km",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    ];
    for r in rows {
        out.push(vec![
            r.rank.to_string(),
            r.lsoa_code.clone(),
            r.lsoa_name.clone(),
            r.ward_code.clone(),
            r.ward.clone(),
            r.district_code.clone(),
            r.district.clone(),
            r.imd_decile.to_string(),
            r.imd_rank.to_string(),
            r.population.to_string(),
            format!("{:.6}", r.centroid_lat),
            format!("{:.6}", r.centroid_lon),
            r.nearest_activity_id.clone().unwrap_or_default(),
            r.nearest_activity_name.clone().unwrap_or_default(),
            r.distance_km.map(|d| format!("{d:.3}")).unwrap_or_default(),
        ]);
    }
    out
}
