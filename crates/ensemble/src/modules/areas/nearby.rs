//! Activities within reach of a small area or ward (issue 16 item 2): the listed activities
//! with a venue within [`WALK_KM`] (straight line) of the population-weighted centroid of
//! any of the area's LSOAs, nearest first, with their weekly session hours (the provision
//! rules of [`super::provision`]: hours over the next 28 days ÷ 4, shared equally between an
//! activity's venues; only the venues within reach count towards the area's hours).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sqlx::Row;

use super::Edition;
use super::provision::{Venue, haversine_km, listed_venues};
use crate::db::{Bind, bind_all};
use crate::error::AppError;
use crate::modules::places::Point;
use crate::state::AppState;

/// "Within reach": 1.6 km in a straight line, about a mile or a 20-minute walk.
pub const WALK_KM: f64 = 1.6;

/// One activity within reach.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyActivity {
    pub id: String,
    pub name: String,
    /// Straight-line distance from the nearest of the area's centroids to the nearest venue.
    pub km: f64,
    /// Weekly session hours at the venues within reach.
    pub weekly_hours: f64,
    pub free: bool,
    pub step_free: bool,
}

/// What is within reach of an area.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nearby {
    /// Nearest first, then by name.
    pub activities: Vec<NearbyActivity>,
    /// Sum of the activities' weekly hours within reach.
    pub weekly_hours: f64,
    /// How many of the area's LSOAs have a centroid (those without are left out).
    pub centroids: usize,
}

/// The activities whose venues lie within [`WALK_KM`] of any of `centroids`.
pub fn within_reach(centroids: &[Point], venues: &[Venue]) -> Nearby {
    let mut by: BTreeMap<String, NearbyActivity> = BTreeMap::new();
    for v in venues {
        let Some(km) = centroids
            .iter()
            .map(|c| haversine_km(*c, v.point))
            .min_by(f64::total_cmp)
        else {
            continue;
        };
        if km > WALK_KM {
            continue;
        }
        let e = by
            .entry(v.activity_id.clone())
            .or_insert_with(|| NearbyActivity {
                id: v.activity_id.clone(),
                name: v.activity_name.clone(),
                km,
                weekly_hours: 0.0,
                free: v.free,
                step_free: false,
            });
        e.km = e.km.min(km);
        e.weekly_hours += v.weekly_hours;
        e.step_free |= v.step_free;
    }
    let mut activities: Vec<NearbyActivity> = by.into_values().collect();
    activities.sort_by(|a, b| a.km.total_cmp(&b.km).then_with(|| a.name.cmp(&b.name)));
    Nearby {
        weekly_hours: activities.iter().map(|a| a.weekly_hours).sum(),
        activities,
        centroids: centroids.len(),
    }
}

/// The population-weighted centroids of the given LSOAs of an edition.
async fn centroids(state: &AppState, e: Edition, codes: &[String]) -> Result<Vec<Point>, AppError> {
    let mut out = Vec::new();
    for chunk in codes.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT latitude, longitude FROM area_lsoas WHERE edition = $1 AND latitude IS NOT NULL AND longitude IS NOT NULL AND code IN ({})",
            marks.join(", ")
        );
        let mut binds = vec![Bind::I(e.year())];
        binds.extend(chunk.iter().cloned().map(Bind::T));
        for r in bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .fetch_all(&state.db.read)
            .await?
        {
            out.push(Point {
                lat: r.try_get("latitude")?,
                lon: r.try_get("longitude")?,
            });
        }
    }
    Ok(out)
}

/// This process's listed venues, kept while the directory (its `directory_version`
/// setting, bumped by every directory change) and the day stay the same, so a profile does
/// not load every listed activity.
#[derive(Default)]
pub struct VenueCache(Mutex<Option<(String, Arc<Vec<Venue>>)>>);

impl crate::state::StateExt for VenueCache {
    fn init(_: &crate::config::Config) -> Self {
        Self::default()
    }
}

async fn venues(state: &AppState) -> Result<Arc<Vec<Venue>>, AppError> {
    let version = {
        let mut conn = state.db.read.acquire().await?;
        crate::db::settings::get(&mut conn, "directory_version").await?
    };
    let key = format!("{}|{}", version.unwrap_or_default(), crate::db::uk::today());
    let cache = state.ext::<VenueCache>();
    if let Some((k, v)) = cache.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
        && *k == key
    {
        return Ok(v.clone());
    }
    let fresh = Arc::new(listed_venues(state).await?);
    *cache.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((key, fresh.clone()));
    Ok(fresh)
}

/// What is within reach of the LSOAs `codes` (one small area, or a ward's).
pub async fn of_areas(state: &AppState, e: Edition, codes: &[String]) -> Result<Nearby, AppError> {
    let points = centroids(state, e, codes).await?;
    if points.is_empty() {
        return Ok(Nearby::default());
    }
    Ok(within_reach(&points, &venues(state).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue(id: &str, lat: f64, lon: f64, hours: f64, step_free: bool) -> Venue {
        Venue {
            activity_id: id.into(),
            activity_name: format!("Activity {id}"),
            point: Point { lat, lon },
            weekly_hours: hours,
            free: true,
            step_free,
            evening: false,
            weekend: false,
            lsoas: Default::default(),
        }
    }

    #[test]
    fn only_venues_within_reach_count_and_the_nearest_comes_first() {
        // One degree of latitude is about 111.2 km, so 0.01° ≈ 1.11 km and 0.02° ≈ 2.22 km.
        let home = Point {
            lat: 53.4,
            lon: -2.98,
        };
        let venues = [
            venue("b", 53.41, -2.98, 2.0, false), // 1.11 km
            venue("a", 53.405, -2.98, 1.5, true), // 0.56 km
            venue("b", 53.42, -2.98, 2.0, true),  // 2.22 km: out of reach
            venue("c", 53.43, -2.98, 4.0, false), // out of reach
        ];
        let n = within_reach(&[home], &venues);
        let ids: Vec<&str> = n.activities.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(
            (n.activities[0].km - 0.556).abs() < 0.01,
            "{:?}",
            n.activities[0]
        );
        // b's far venue (step-free, 2 hours) is out of reach: neither counts.
        assert_eq!(n.activities[1].weekly_hours, 2.0);
        assert!(!n.activities[1].step_free);
        assert_eq!(n.weekly_hours, 3.5);
        // A second centroid near the far venues brings them in, each activity once.
        let n = within_reach(
            &[
                home,
                Point {
                    lat: 53.43,
                    lon: -2.98,
                },
            ],
            &venues,
        );
        assert_eq!(n.activities.len(), 3);
        assert_eq!(
            n.activities
                .iter()
                .find(|a| a.id == "b")
                .unwrap()
                .weekly_hours,
            4.0
        );
        assert_eq!(n.weekly_hours, 9.5);
        assert_eq!(within_reach(&[], &venues), Nearby::default());
    }
}
