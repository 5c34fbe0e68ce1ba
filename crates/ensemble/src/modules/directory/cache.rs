//! An in-process snapshot of the directory for fast distance searches: every listed venue
//! link's position, sorted by latitude, and the activities already shown on result pages.
//! Every directory change bumps `directory_version` in `settings` (in the same transaction);
//! each search reads that version (one small query) and rebuilds the snapshot when it has
//! moved, so several processes over one database stay consistent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::Row;

use crate::db::{Db, Tx};
use crate::modules::places::{Point, bounding_box, distance_m};

use super::model::Activity;
use super::store::{self, Hit};

/// Activities kept per snapshot before the cache is emptied (bounds memory).
const MAX_ACTIVITIES: usize = 20_000;

struct Snapshot {
    version: String,
    /// (latitude, longitude, index into `links`), sorted by latitude.
    points: Vec<(f64, f64, u32)>,
    /// (link id, activity id).
    links: Vec<(String, String)>,
    activities: Mutex<HashMap<String, Arc<Activity>>>,
}

/// The cache held in the application state.
#[derive(Default)]
pub struct DirectoryCache {
    current: tokio::sync::Mutex<Option<Arc<Snapshot>>>,
}

/// Record a directory change (call inside the changing transaction).
pub async fn bump(tx: &mut Tx) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('directory_version', '1') ON CONFLICT (key) \
         DO UPDATE SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)",
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn version(db: &Db) -> Result<String, sqlx::Error> {
    Ok(
        sqlx::query("SELECT value FROM settings WHERE key = 'directory_version'")
            .fetch_optional(&db.read)
            .await?
            .map(|r| r.try_get::<String, _>("value"))
            .transpose()?
            .unwrap_or_else(|| "0".into()),
    )
}

impl DirectoryCache {
    async fn snapshot(&self, db: &Db) -> Result<Arc<Snapshot>, sqlx::Error> {
        let v = version(db).await?;
        let mut guard = self.current.lock().await;
        if let Some(s) = guard.as_ref().filter(|s| s.version == v) {
            return Ok(s.clone());
        }
        let rows = sqlx::query(
            "SELECT id, activity_id, latitude, longitude FROM activity_locations \
             WHERE listed = 1 AND latitude IS NOT NULL AND longitude IS NOT NULL",
        )
        .fetch_all(&db.read)
        .await?;
        let mut links = Vec::with_capacity(rows.len());
        let mut points = Vec::with_capacity(rows.len());
        for r in rows {
            let i = u32::try_from(links.len()).unwrap_or(u32::MAX);
            points.push((
                r.try_get::<f64, _>("latitude")?,
                r.try_get::<f64, _>("longitude")?,
                i,
            ));
            links.push((
                r.try_get::<String, _>("id")?,
                r.try_get::<String, _>("activity_id")?,
            ));
        }
        points.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        let snap = Arc::new(Snapshot {
            version: v,
            points,
            links,
            activities: Mutex::new(HashMap::new()),
        });
        *guard = Some(snap.clone());
        Ok(snap)
    }

    /// Listed (activity, venue) links within `radius` metres of `centre`, nearest first.
    pub async fn pairs_near(
        &self,
        db: &Db,
        centre: Point,
        radius: f64,
    ) -> Result<Vec<Hit>, sqlx::Error> {
        let snap = self.snapshot(db).await?;
        let (lat0, lat1, lon0, lon1) = bounding_box(centre, radius);
        let start = snap.points.partition_point(|p| p.0 < lat0);
        let mut hits: Vec<Hit> = snap.points[start..]
            .iter()
            .take_while(|p| p.0 <= lat1)
            .filter(|p| p.1 >= lon0 && p.1 <= lon1)
            .filter_map(|&(lat, lon, i)| {
                let d = distance_m(centre, Point { lat, lon });
                let (link, activity) = snap.links.get(i as usize)?;
                (d <= radius).then(|| Hit {
                    activity_id: activity.clone(),
                    link_id: Some(link.clone()),
                    distance_m: Some(d),
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            a.distance_m
                .partial_cmp(&b.distance_m)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.link_id.cmp(&b.link_id))
        });
        Ok(hits)
    }

    /// Activities by id (in order), from the snapshot where already loaded.
    pub async fn load(&self, db: &Db, ids: &[String]) -> Result<Vec<Activity>, sqlx::Error> {
        let snap = self.snapshot(db).await?;
        let missing: Vec<String> = {
            let map = snap
                .activities
                .lock()
                .map_err(|_| sqlx::Error::PoolClosed)?;
            ids.iter()
                .filter(|id| !map.contains_key(*id))
                .cloned()
                .collect()
        };
        let fetched = store::load(&db.read, &missing).await?;
        let mut map = snap
            .activities
            .lock()
            .map_err(|_| sqlx::Error::PoolClosed)?;
        if map.len() + fetched.len() > MAX_ACTIVITIES {
            map.clear();
        }
        let fresh: HashMap<String, Arc<Activity>> = fetched
            .into_iter()
            .map(|a| (a.id.clone(), Arc::new(a)))
            .collect();
        let out = ids
            .iter()
            .filter_map(|id| map.get(id).cloned().or_else(|| fresh.get(id).cloned()))
            .map(|a| (*a).clone())
            .collect();
        map.extend(fresh);
        Ok(out)
    }
}
