//! SQL for the directory: loading activities with their venues, times and types, and the
//! search query (filters combine with AND; choices within one filter with OR).

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::modules::places::{Point, bounding_box, distance_m};

use super::model::{
    AccessFeature, Activity, ActivityType, Audience, Cost, Day, Freq, HowToJoin, Location,
    Schedule, TimeOfDay,
};

pub use crate::db::{Bind, bind_all};

/// A WHERE clause under construction.
#[derive(Debug, Default)]
pub struct Where {
    clauses: Vec<String>,
    /// Values in placeholder order.
    pub binds: Vec<Bind>,
}

impl Where {
    /// Add a value and return its placeholder.
    pub fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// Add a clause.
    pub fn and(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// `WHERE …` (or nothing).
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// What to look for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Every word must appear in the name, description or organisation name.
    pub words: Vec<String>,
    /// Within this distance (metres) of this point.
    pub near: Option<(Point, f64)>,
    /// On this day.
    pub day: Option<Day>,
    /// Starting in this part of the day.
    pub time_of_day: Option<TimeOfDay>,
    /// Starting at or after (HH:MM).
    pub start_time: Option<String>,
    /// Ending at or before (HH:MM).
    pub end_time: Option<String>,
    /// Any of these costs (empty: any).
    pub costs: Vec<Cost>,
    /// Or any activity with a bursary.
    pub bursary: bool,
    /// All of these access features.
    pub access: Vec<AccessFeature>,
    /// Any of these activity type codes.
    pub type_codes: Vec<String>,
    /// Any of these taxonomy term ids.
    pub term_ids: Vec<String>,
    /// Terms of this taxonomy.
    pub taxonomy_id: Option<String>,
    /// Online only (true) or in person only (false).
    pub online: Option<bool>,
    /// Suitable for someone at least this old.
    pub minimum_age: Option<f64>,
    /// Suitable for someone at most this old.
    pub maximum_age: Option<f64>,
    /// Of this organisation.
    pub organisation_id: Option<String>,
    /// Changed at or after this instant (Unix seconds).
    pub modified_after: Option<i64>,
}

/// Build the WHERE clause over `activities a JOIN accounts_organisation_profiles o`.
pub fn filter_clause(f: &Filters) -> Where {
    let mut w = Where::default();
    w.and("a.status = 'active'".into());
    // Ward-only and closed groups are never found by search or published.
    w.and("a.audience = 'public'".into());
    w.and("o.archived_at IS NULL".into());
    for word in &f.words {
        let like = format!("%{}%", word.to_lowercase().replace(['%', '_', '\\'], ""));
        let p = w.bind(Bind::T(like));
        w.and(format!(
            "(lower(a.name) LIKE {p} OR lower(a.description) LIKE {p} OR lower(o.name) LIKE {p})"
        ));
    }
    let mut sched = Vec::new();
    if let Some(d) = f.day {
        let p = w.bind(Bind::T(format!("%{}%", d.code())));
        // One-off dates do not match a day-of-week filter.
        sched.push(format!("s.byday LIKE {p}"));
    }
    if let Some(t) = f.time_of_day {
        let (from, to) = match t {
            TimeOfDay::Morning => ("00:00", "12:00"),
            TimeOfDay::Afternoon => ("12:00", "17:00"),
            TimeOfDay::Evening => ("17:00", "24:00"),
        };
        let a = w.bind(Bind::T(from.into()));
        let b = w.bind(Bind::T(to.into()));
        sched.push(format!("s.opens_at >= {a} AND s.opens_at < {b}"));
    }
    if let Some(st) = &f.start_time {
        let p = w.bind(Bind::T(st.clone()));
        sched.push(format!("s.opens_at >= {p}"));
    }
    if let Some(et) = &f.end_time {
        let p = w.bind(Bind::T(et.clone()));
        sched.push(format!("s.closes_at <= {p}"));
    }
    if !sched.is_empty() {
        w.and(format!(
            "EXISTS (SELECT 1 FROM schedules s WHERE s.activity_id = a.id AND {})",
            sched.join(" AND ")
        ));
    }
    if !f.costs.is_empty() || f.bursary {
        let mut ors: Vec<String> = f
            .costs
            .iter()
            .map(|c| {
                let p = w.bind(Bind::T(c.code().into()));
                format!("a.cost = {p}")
            })
            .collect();
        if f.bursary {
            ors.push("a.bursary = 1".into());
        }
        w.and(format!("({})", ors.join(" OR ")));
    }
    for feature in &f.access {
        let p = w.bind(Bind::T(format!("% {} %", feature.code())));
        w.and(format!("(' ' || a.access_features || ' ') LIKE {p}"));
    }
    if !f.type_codes.is_empty() || !f.term_ids.is_empty() || f.taxonomy_id.is_some() {
        let mut conds = Vec::new();
        if !f.type_codes.is_empty() {
            let ps: Vec<String> = f
                .type_codes
                .iter()
                .map(|c| w.bind(Bind::T(c.clone())))
                .collect();
            conds.push(format!("tt.code IN ({})", ps.join(", ")));
        }
        if !f.term_ids.is_empty() {
            let ps: Vec<String> = f
                .term_ids
                .iter()
                .map(|c| w.bind(Bind::T(c.clone())))
                .collect();
            conds.push(format!("tt.id IN ({})", ps.join(", ")));
        }
        if let Some(t) = &f.taxonomy_id {
            let p = w.bind(Bind::T(t.clone()));
            conds.push(format!("tt.taxonomy_id = {p}"));
        }
        w.and(format!(
            "EXISTS (SELECT 1 FROM activity_terms at2 JOIN taxonomy_terms tt ON tt.id = at2.term_id WHERE at2.activity_id = a.id AND {})",
            conds.join(" AND ")
        ));
    }
    if let Some(online) = f.online {
        w.and(format!("a.online = {}", i64::from(online)));
    }
    if let Some(age) = f.minimum_age {
        let p = w.bind(Bind::F(age));
        w.and(format!("(a.maximum_age IS NULL OR a.maximum_age >= {p})"));
    }
    if let Some(age) = f.maximum_age {
        let p = w.bind(Bind::F(age));
        w.and(format!("(a.minimum_age IS NULL OR a.minimum_age <= {p})"));
    }
    if let Some(o) = &f.organisation_id {
        let p = w.bind(Bind::T(o.clone()));
        w.and(format!("a.organisation_id = {p}"));
    }
    if let Some(t) = f.modified_after {
        let p = w.bind(Bind::I(t));
        w.and(format!("a.updated_at >= {p}"));
    }
    w
}

/// A search result: an activity (and, with a postcode, its nearest venue and distance).
#[derive(Debug, Clone)]
pub struct Hit {
    /// Activity id.
    pub activity_id: String,
    /// Link id (activity × venue) of the nearest venue.
    pub link_id: Option<String>,
    /// Metres from the search point.
    pub distance_m: Option<f64>,
}

/// Activities matching `f` within the radius, nearest first (one hit per activity).
/// Keep each activity's nearest hit, nearest first.
pub fn nearest_per_activity(pairs: Vec<Hit>) -> Vec<Hit> {
    let mut best: HashMap<String, Hit> = HashMap::new();
    for h in pairs {
        let keep = best
            .get(&h.activity_id)
            .is_none_or(|b| h.distance_m < b.distance_m);
        if keep {
            best.insert(h.activity_id.clone(), h);
        }
    }
    let mut hits: Vec<Hit> = best.into_values().collect();
    hits.sort_by(|a, b| {
        a.distance_m
            .partial_cmp(&b.distance_m)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.activity_id.cmp(&b.activity_id))
    });
    hits
}

/// (activity, venue) pairs matching `f` within the radius, nearest first.
pub async fn pairs_near(pool: &AnyPool, f: &Filters) -> Result<Vec<Hit>, sqlx::Error> {
    let Some((centre, radius)) = f.near else {
        return Ok(Vec::new());
    };
    let (lat0, lat1, lon0, lon1) = bounding_box(centre, radius);
    let only_distance = *f
        == Filters {
            near: f.near,
            ..Filters::default()
        };
    let mut w = if only_distance {
        Where::default()
    } else {
        filter_clause(f)
    };
    let a = w.bind(Bind::F(lat0));
    let b = w.bind(Bind::F(lat1));
    let c = w.bind(Bind::F(lon0));
    let d = w.bind(Bind::F(lon1));
    w.and(format!(
        "al.listed = 1 AND al.latitude BETWEEN {a} AND {b} AND al.longitude BETWEEN {c} AND {d}"
    ));
    let sql = if only_distance {
        // A distance-only search reads just the covering index on the venue links.
        format!(
            "SELECT al.id AS link_id, al.activity_id, al.latitude, al.longitude FROM activity_locations al {}",
            w.sql()
        )
    } else {
        // Start from the links in the box; CROSS JOIN fixes that order on SQLite, whose
        // planner would otherwise start from every active activity; PostgreSQL plans
        // CROSS JOIN + WHERE like an inner join.
        format!(
            "SELECT al.id AS link_id, al.activity_id, al.latitude, al.longitude FROM activity_locations al \
             CROSS JOIN activities a CROSS JOIN accounts_organisation_profiles o {} AND a.id = al.activity_id AND o.id = a.organisation_id",
            w.sql()
        )
    };
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &w.binds)
        .fetch_all(pool)
        .await?;
    let mut hits = Vec::new();
    for r in rows {
        let p = Point {
            lat: r.try_get("latitude")?,
            lon: r.try_get("longitude")?,
        };
        let dist = distance_m(centre, p);
        if dist <= radius {
            hits.push(Hit {
                activity_id: r.try_get("activity_id")?,
                link_id: Some(r.try_get("link_id")?),
                distance_m: Some(dist),
            });
        }
    }
    hits.sort_by(|a, b| {
        a.distance_m
            .partial_cmp(&b.distance_m)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.link_id.cmp(&b.link_id))
    });
    Ok(hits)
}

/// One page of activities matching `f` (no distance), by name; and the total.
pub async fn search_page(
    pool: &AnyPool,
    f: &Filters,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Hit>, i64), sqlx::Error> {
    let w = filter_clause(f);
    let from = format!(
        "FROM activities a JOIN accounts_organisation_profiles o ON o.id = a.organisation_id {}",
        w.sql()
    );
    let total: i64 = bind_all(
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n {from}"))),
        &w.binds,
    )
    .fetch_one(pool)
    .await?
    .try_get("n")?;
    let sql =
        format!("SELECT a.id {from} ORDER BY lower(a.name), a.id LIMIT {limit} OFFSET {offset}");
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &w.binds)
        .fetch_all(pool)
        .await?;
    let hits = rows
        .iter()
        .map(|r| {
            Ok(Hit {
                activity_id: r.try_get("id")?,
                link_id: None,
                distance_m: None,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((hits, total))
}

/// One page of (activity, venue) links matching `f` (no distance), by name; and the total.
pub async fn links_page(
    pool: &AnyPool,
    f: &Filters,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Hit>, i64), sqlx::Error> {
    let w = filter_clause(f);
    let from = format!(
        "FROM activity_locations al JOIN activities a ON a.id = al.activity_id JOIN accounts_organisation_profiles o ON o.id = a.organisation_id {}",
        w.sql()
    );
    let total: i64 = bind_all(
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n {from}"))),
        &w.binds,
    )
    .fetch_one(pool)
    .await?
    .try_get("n")?;
    let sql = format!(
        "SELECT al.id AS link_id, al.activity_id {from} ORDER BY lower(a.name), al.id LIMIT {limit} OFFSET {offset}"
    );
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &w.binds)
        .fetch_all(pool)
        .await?;
    let hits = rows
        .iter()
        .map(|r| {
            Ok(Hit {
                activity_id: r.try_get("activity_id")?,
                link_id: Some(r.try_get("link_id")?),
                distance_m: None,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((hits, total))
}

fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn split(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn activity_from(r: &AnyRow) -> Result<Activity, sqlx::Error> {
    let how: String = r.try_get("how_to_join")?;
    let cost: String = r.try_get("cost")?;
    let access: String = r.try_get("access_features")?;
    let languages: String = r.try_get("languages")?;
    Ok(Activity {
        id: r.try_get("id")?,
        organisation_id: r.try_get("organisation_id")?,
        organisation_name: r.try_get("org_name")?,
        organisation_description: r.try_get("org_description")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        first_visit: r.try_get("first_visit")?,
        eligibility: r.try_get("eligibility")?,
        minimum_age: r.try_get("minimum_age")?,
        maximum_age: r.try_get("maximum_age")?,
        how_to_join: HowToJoin::from_code(&how).unwrap_or(HowToJoin::SelfRefer),
        audience: Audience::from_code(&r.try_get::<String, _>("audience")?)
            .unwrap_or(Audience::Closed),
        capacity: r.try_get("capacity")?,
        waiting_list: r.try_get::<i64, _>("waiting_list")? != 0,
        cost: Cost::from_code(&cost).unwrap_or(Cost::Free),
        cost_amount: r.try_get("cost_amount")?,
        bursary: r.try_get::<i64, _>("bursary")? != 0,
        access_features: split(&access)
            .iter()
            .filter_map(|c| AccessFeature::from_code(c))
            .collect(),
        languages: languages
            .split('|')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        online: r.try_get::<i64, _>("online")? != 0,
        online_url: r.try_get("online_url")?,
        url: r.try_get("url")?,
        contact_name: r.try_get("contact_name")?,
        contact_email: r.try_get("contact_email")?,
        contact_phone: r.try_get("contact_phone")?,
        status: r.try_get("status")?,
        organisation_archived: r.try_get::<Option<i64>, _>("org_archived_at")?.is_some(),
        last_reviewed_at: r.try_get("last_reviewed_at")?,
        reviewed_by_name: r.try_get("reviewer")?,
        updated_at: r.try_get("updated_at")?,
        locations: Vec::new(),
        schedules: Vec::new(),
        types: Vec::new(),
    })
}

/// Load activities (with venues, times and types) by id, in the order given.
pub async fn load<'e, E>(exec: E, ids: &[String]) -> Result<Vec<Activity>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any> + Copy,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ph = placeholders(ids.len());
    let sql = format!(
        "SELECT a.*, o.name AS org_name, o.description AS org_description, o.archived_at AS org_archived_at, u.display_name AS reviewer \
         FROM activities a JOIN accounts_organisation_profiles o ON o.id = a.organisation_id LEFT JOIN accounts_user_names u ON u.id = a.reviewed_by \
         WHERE a.id IN ({ph})"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.clone());
    }
    let mut by_id: HashMap<String, Activity> = HashMap::new();
    for r in q.fetch_all(exec).await? {
        let a = activity_from(&r)?;
        by_id.insert(a.id.clone(), a);
    }
    let sql = format!(
        "SELECT al.activity_id, al.id AS link_id, l.id, l.name, l.address_1, l.city, l.postcode, l.latitude, l.longitude, l.lsoa_code, l.lsoa11_code \
         FROM activity_locations al JOIN locations l ON l.id = al.location_id WHERE al.activity_id IN ({ph}) ORDER BY l.name, l.id"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.clone());
    }
    for r in q.fetch_all(exec).await? {
        let aid: String = r.try_get("activity_id")?;
        let lat: Option<f64> = r.try_get("latitude")?;
        let lon: Option<f64> = r.try_get("longitude")?;
        if let Some(a) = by_id.get_mut(&aid) {
            a.locations.push(Location {
                id: r.try_get("id")?,
                link_id: r.try_get("link_id")?,
                name: r.try_get("name")?,
                address_1: r.try_get("address_1")?,
                city: r.try_get("city")?,
                postcode: r.try_get("postcode")?,
                point: lat.zip(lon).map(|(lat, lon)| Point { lat, lon }),
                lsoa_code: r.try_get("lsoa_code")?,
                lsoa11_code: r.try_get("lsoa11_code")?,
            });
        }
    }
    let sql = format!("SELECT * FROM schedules WHERE activity_id IN ({ph}) ORDER BY opens_at, id");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.clone());
    }
    for r in q.fetch_all(exec).await? {
        let aid: String = r.try_get("activity_id")?;
        let freq: String = r.try_get("freq")?;
        if let Some(a) = by_id.get_mut(&aid) {
            a.schedules.push(Schedule {
                id: r.try_get("id")?,
                freq: Freq::from_code(&freq).unwrap_or(Freq::Weekly),
                byday: r.try_get("byday")?,
                dtstart: r.try_get("dtstart")?,
                valid_from: r.try_get("valid_from")?,
                valid_to: r.try_get("valid_to")?,
                opens_at: r.try_get("opens_at")?,
                closes_at: r.try_get("closes_at")?,
                description: r.try_get("description")?,
            });
        }
    }
    let sql = format!(
        "SELECT at.activity_id, tt.id, tt.code, tt.name, tt.description, tt.taxonomy_id FROM activity_terms at \
         JOIN taxonomy_terms tt ON tt.id = at.term_id WHERE at.activity_id IN ({ph}) ORDER BY tt.name"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.clone());
    }
    for r in q.fetch_all(exec).await? {
        let aid: String = r.try_get("activity_id")?;
        if let Some(a) = by_id.get_mut(&aid) {
            a.types.push(ActivityType {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                description: r.try_get("description")?,
                taxonomy_id: r.try_get("taxonomy_id")?,
            });
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Every activity type (taxonomy term), by name.
pub async fn activity_types(pool: &AnyPool) -> Result<Vec<ActivityType>, sqlx::Error> {
    sqlx::query("SELECT id, code, name, description, taxonomy_id FROM taxonomy_terms ORDER BY name")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ActivityType {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                description: r.try_get("description")?,
                taxonomy_id: r.try_get("taxonomy_id")?,
            })
        })
        .collect()
}
