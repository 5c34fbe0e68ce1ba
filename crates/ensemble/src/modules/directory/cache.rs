//! An in-process snapshot of the directory for fast distance searches: every listed venue
//! link's position, sorted by latitude, and the activities already shown on result pages.
//! Every directory change bumps `directory_version` in `settings` (in the same transaction);
//! a search reads that version (one small query, at most once per `ttl`) and rebuilds the
//! snapshot when it has moved. Changes made through this process invalidate it at once;
//! changes made by another process over the same database show within `ttl` (250 ms by
//! default). Postcode positions (static open data) are cached for five minutes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Row;

use crate::db::{Db, Tx};
use crate::modules::places::{Point, Postcode, PostcodePlace, bounding_box, distance_m};

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
    briefs: Mutex<HashMap<String, Arc<str>>>,
    /// Activity types (code, name) for the search form.
    types: Arc<Vec<(String, String)>>,
}

/// A handle on the snapshot that answered a search, so that what is rendered from it is
/// stored with it (and not with a newer snapshot).
pub struct SnapshotRef(Arc<Snapshot>);

/// The cache held in the application state.
pub struct DirectoryCache {
    current: tokio::sync::Mutex<Option<Arc<Snapshot>>>,
    checked_at: Mutex<Option<Instant>>,
    dirty: AtomicBool,
    ttl: Duration,
    postcodes: Mutex<PostcodeMemo>,
}

/// Postcode lookups: when the memo was started, and what each lookup found.
type PostcodeMemo = (Option<Instant>, HashMap<String, Option<PostcodePlace>>);

/// Record a directory change (call inside the changing transaction).
pub async fn bump(tx: &mut Tx) -> Result<(), sqlx::Error> {
    crate::db::settings::increment(tx, "directory_version").await
}

async fn version(db: &Db) -> Result<String, sqlx::Error> {
    let mut conn = db.read.acquire().await?;
    Ok(crate::db::settings::get(&mut conn, "directory_version")
        .await?
        .unwrap_or_else(|| "0".into()))
}

/// This process's directory cache.
pub fn of(state: &crate::state::AppState) -> std::sync::Arc<DirectoryCache> {
    state.ext::<DirectoryCache>()
}

impl crate::state::StateExt for DirectoryCache {
    fn init(cfg: &crate::config::Config) -> Self {
        Self::new(cfg.directory_cache_ttl)
    }
}

impl DirectoryCache {
    /// A cache that re-checks the directory version at most once per `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            current: tokio::sync::Mutex::new(None),
            checked_at: Mutex::new(None),
            dirty: AtomicBool::new(true),
            ttl,
            postcodes: Mutex::new((None, HashMap::new())),
        }
    }

    /// Forget the snapshot after a change made in this process.
    pub fn invalidate(&self) {
        self.dirty.store(true, Ordering::SeqCst);
    }

    /// Where a postcode is (from the open data), cached.
    pub async fn postcode(
        &self,
        db: &Db,
        pc: &Postcode,
    ) -> Result<Option<PostcodePlace>, sqlx::Error> {
        if let Ok(map) = self.postcodes.lock() {
            let fresh = map
                .0
                .is_some_and(|t| t.elapsed() < Duration::from_secs(300));
            if fresh && let Some(hit) = map.1.get(pc.as_str()) {
                return Ok(hit.clone());
            }
        }
        let found = crate::modules::places::find_postcode(db, pc).await?;
        if let Ok(mut map) = self.postcodes.lock() {
            if map
                .0
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(300))
                || map.1.len() > 50_000
            {
                *map = (Some(Instant::now()), HashMap::new());
            }
            map.1.insert(pc.as_str().to_string(), found.clone());
        }
        Ok(found)
    }

    async fn snapshot(&self, db: &Db) -> Result<Arc<Snapshot>, sqlx::Error> {
        let recent = self
            .checked_at
            .lock()
            .ok()
            .and_then(|t| *t)
            .is_some_and(|t| t.elapsed() < self.ttl);
        if recent
            && !self.dirty.load(Ordering::SeqCst)
            && let Some(s) = self.current.lock().await.as_ref()
        {
            return Ok(s.clone());
        }
        self.dirty.store(false, Ordering::SeqCst);
        let v = version(db).await?;
        if let Ok(mut t) = self.checked_at.lock() {
            *t = Some(Instant::now());
        }
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
        let types = Arc::new(
            store::activity_types(&db.read)
                .await?
                .into_iter()
                .map(|t| (t.code, t.name))
                .collect(),
        );
        let snap = Arc::new(Snapshot {
            version: v,
            points,
            links,
            activities: Mutex::new(HashMap::new()),
            briefs: Mutex::new(HashMap::new()),
            types,
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
    pub async fn load(&self, db: &Db, ids: &[String]) -> Result<Vec<Arc<Activity>>, sqlx::Error> {
        Ok(self.load_with(db, ids).await?.0)
    }

    /// As [`DirectoryCache::load`], also returning the snapshot used.
    pub async fn load_with(
        &self,
        db: &Db,
        ids: &[String],
    ) -> Result<(Vec<Arc<Activity>>, SnapshotRef), sqlx::Error> {
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
        let out = {
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
            let out: Vec<Arc<Activity>> = ids
                .iter()
                .filter_map(|id| map.get(id).cloned().or_else(|| fresh.get(id).cloned()))
                .collect();
            map.extend(fresh);
            out
        };
        Ok((out, SnapshotRef(snap)))
    }

    /// Serialised JSON for a list item (keyed by record id), made once per snapshot.
    pub fn rendered(
        &self,
        snap: &SnapshotRef,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> Arc<str> {
        if let Some(v) = snap.0.briefs.lock().ok().and_then(|m| m.get(key).cloned()) {
            return v;
        }
        let v: Arc<str> = Arc::from(make());
        if let Ok(mut m) = snap.0.briefs.lock() {
            if m.len() > MAX_ACTIVITIES {
                m.clear();
            }
            m.insert(key.to_string(), v.clone());
        }
        v
    }

    /// Activity types (code, name), by name.
    pub async fn types(&self, db: &Db) -> Result<Arc<Vec<(String, String)>>, sqlx::Error> {
        Ok(self.snapshot(db).await?.types.clone())
    }
}
