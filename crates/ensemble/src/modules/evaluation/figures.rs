//! The figures a programme's report is drawn from, gathered from other modules' published
//! views and functions for one programme and one window: reach counts by deprivation decile
//! and recorded characteristics, each consenting person's first and latest result per score
//! (counted by value: the multiset of pairs, so every statistic is exact), and barriers.
//! No person ids leave [`gather`] except in the row-level pairs the package writes
//! (pseudonymised there).
//!
//! Rules (stated again in the report's methods):
//! - only people with evaluation consent given *now* are counted;
//! - a referral counts when it is to one of the programme's activities and was received in
//!   the window; a person is referred when they have such a referral;
//! - attended: at least one session marked present (in the window) on such a referral;
//!   retained: [`RETAINED_SESSIONS`] or more;
//! - results: every completed result of a referred person in the window, per instrument
//!   *version* and score; first = earliest completed, latest = most recent (ties by id);
//!   people with one result of a version are counted but not paired; versions never pooled.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::error::AppError;
use crate::modules::areas::{Edition, aggregates::age_band, residents};
use crate::modules::people::area_facts;
use crate::state::AppState;

/// Sessions attended for a person to count as retained.
pub const RETAINED_SESSIONS: usize = 6;
/// The edition of the Indices of Deprivation reach is broken down by.
pub const EDITION: Edition = Edition::Iod2025;

/// A window of instants `[from, to)`; either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl Window {
    fn lo(&self) -> i64 {
        self.from.unwrap_or(i64::MIN / 2)
    }
    fn hi(&self) -> i64 {
        self.to.unwrap_or(i64::MAX / 2)
    }
}

/// Reach counts of one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub referrals: u64,
    pub people: u64,
    pub attended: u64,
    pub retained: u64,
    pub sessions_attended: u64,
}

/// People with this (first, latest) pair of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairCount {
    pub first: f64,
    pub latest: f64,
    pub first_band: Option<String>,
    pub latest_band: Option<String>,
    pub people: u64,
}

/// One score of one instrument version: its pairs, counted by value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePairs {
    pub instrument: String,
    pub version: i64,
    pub score: String,
    pub pairs: Vec<PairCount>,
    /// People with a single result of this version (counted, not paired).
    pub single: u64,
}

impl ScorePairs {
    /// (first values, latest values), one entry per person.
    pub fn vectors(&self) -> (Vec<f64>, Vec<f64>) {
        let mut b = Vec::new();
        let mut a = Vec::new();
        for p in &self.pairs {
            for _ in 0..p.people {
                b.push(p.first);
                a.push(p.latest);
            }
        }
        (b, a)
    }
    pub fn n(&self) -> u64 {
        self.pairs.iter().map(|p| p.people).sum()
    }
}

/// One barrier count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarrierCount {
    pub barrier: String,
    pub action: String,
    pub stage: String,
    pub count: u64,
}

/// Everything person-derived a report needs, without a person id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub computed_at: i64,
    pub totals: Counts,
    /// Index 0: not known or outside the city region; 1–10 national IMD deciles.
    pub by_decile: Vec<Counts>,
    /// (breakdown, group, counts).
    pub by_group: Vec<(String, String, Counts)>,
    pub scores: Vec<ScorePairs>,
    /// Instrument → versions with results, where more than one.
    pub mixed_versions: Vec<(String, Vec<i64>)>,
    pub barriers: Vec<BarrierCount>,
    /// Change by half-year of the latest result, per score (the programme over time).
    #[serde(default)]
    pub trends: Vec<Trend>,
}

/// People whose latest result fell in one half-year, and the sum of their changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub instrument: String,
    pub version: i64,
    pub score: String,
    /// `2026 H1` (January to June, UK) or `2026 H2`.
    pub period: String,
    pub people: u64,
    pub sum_change: f64,
}

/// The half-year of an instant, UK time.
pub fn half_year(ts: i64) -> String {
    let d = crate::db::uk::local(ts);
    format!(
        "{} H{}",
        d.year(),
        if u8::from(d.month()) <= 6 { 1 } else { 2 }
    )
}

fn trends(rows: &[PairRow]) -> Vec<Trend> {
    let mut map: BTreeMap<(String, i64, String, String), (u64, f64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| !r.latest.is_nan()) {
        let e = map
            .entry((
                r.instrument.clone(),
                r.version,
                r.score.clone(),
                half_year(r.latest_at),
            ))
            .or_default();
        e.0 += 1;
        e.1 += r.latest - r.first;
    }
    map.into_iter()
        .map(
            |((instrument, version, score, period), (people, sum_change))| Trend {
                instrument,
                version,
                score,
                period,
                people,
                sum_change,
            },
        )
        .collect()
}

/// One person's first and latest result of one score (row-level, for the package).
#[derive(Debug, Clone, PartialEq)]
pub struct PairRow {
    pub person_id: String,
    pub instrument: String,
    pub version: i64,
    pub score: String,
    pub first: f64,
    pub latest: f64,
    pub first_at: i64,
    pub latest_at: i64,
    pub first_band: Option<String>,
    pub latest_band: Option<String>,
}

/// Where each consenting person lives (decile) and their recorded characteristics.
#[derive(Debug, Clone, Default)]
pub struct Person {
    pub decile: i64,
    pub age: String,
    pub sex: String,
    pub ethnicity: String,
}

/// Consenting people by id.
pub type People = HashMap<String, Person>;

fn recorded(v: Option<String>) -> String {
    v.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "Not recorded".into())
}

/// Place these consenting people (all consenting people when `ids` is `None`).
pub async fn people(state: &AppState, ids: Option<&[String]>) -> Result<People, AppError> {
    let facts = match ids {
        Some(ids) => area_facts::consenting_among(state, ids).await?,
        None => area_facts::consenting(state).await?,
    };
    let served = residents::served(state, EDITION, None).await?;
    let year = i64::from(crate::db::uk::today().year());
    let placed = residents::place(state, EDITION, &served, facts).await?;
    Ok(placed
        .into_iter()
        .map(|(id, r)| {
            let decile = r
                .lsoa
                .as_ref()
                .and_then(|l| served.get(l))
                .map_or(0, |d| d.0);
            let person = Person {
                decile,
                age: age_band(r.birth_year.as_deref(), year),
                sex: recorded(r.gender),
                ethnicity: recorded(r.ethnicity),
            };
            (id, person)
        })
        .collect())
}

/// The programme's activities.
pub async fn activities(state: &AppState, programme: &str) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT activity_id FROM programmes_activity_links WHERE programme_id = $1 ORDER BY activity_id",
    )
    .bind(programme.to_string())
    .fetch_all(&state.db.read)
    .await?)
}

const IN_PROGRAMME: &str = "JOIN referrals_case_summaries c ON c.id = x.referral_id \
    JOIN programmes_activity_links l ON l.activity_id = c.activity_id WHERE l.programme_id = $1";

/// Gather the figures of one programme. `known` holds every consenting person when the
/// caller already loaded them (the refresh of every programme); otherwise they are looked
/// up. Returns the figures and the row-level pairs.
pub async fn gather(
    state: &AppState,
    programme: &str,
    window: Window,
    known: Option<&People>,
) -> Result<(Figures, Vec<PairRow>), AppError> {
    let referrals = sqlx::query(
        "SELECT c.id, c.person_id, c.created_at FROM referrals_case_summaries c \
         JOIN programmes_activity_links l ON l.activity_id = c.activity_id \
         WHERE l.programme_id = $1 AND c.created_at >= $2 AND c.created_at < $3",
    )
    .bind(programme.to_string())
    .bind(window.lo())
    .bind(window.hi())
    .fetch_all(&state.db.read)
    .await?;
    let mut person_of: HashMap<String, String> = HashMap::with_capacity(referrals.len());
    for r in &referrals {
        person_of.insert(r.try_get("id")?, r.try_get("person_id")?);
    }
    let fetched;
    let people: &People = match known {
        Some(p) => p,
        None => {
            let ids: BTreeSet<String> = person_of.values().cloned().collect();
            let ids: Vec<String> = ids.into_iter().collect();
            fetched = self::people(state, Some(&ids)).await?;
            &fetched
        }
    };
    person_of.retain(|_, p| people.contains_key(p));
    let mut figures = Figures {
        computed_at: crate::db::now(),
        by_decile: vec![Counts::default(); 11],
        ..Figures::default()
    };
    reach(state, programme, window, &person_of, people, &mut figures).await?;
    let rows = results(state, programme, window, people).await?;
    figures.scores = pair_counts(&rows);
    figures.mixed_versions = mixed(&rows);
    figures.trends = trends(&rows);
    figures.barriers = barriers(state, programme, &person_of).await?;
    Ok((figures, rows))
}

async fn reach(
    state: &AppState,
    programme: &str,
    window: Window,
    person_of: &HashMap<String, String>,
    people: &People,
    figures: &mut Figures,
) -> Result<(), AppError> {
    let (from_day, to_day) = (
        window.from.map(crate::db::uk::local),
        window.to.map(crate::db::uk::local),
    );
    let from_day = from_day.map(|d| d.date().to_string());
    let to_day = to_day.map(|d| d.date().to_string());
    let marks = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT x.referral_id, x.session_date FROM referrals_attendance_marks x {IN_PROGRAMME} AND x.status = 'present'"
    )))
    .bind(programme.to_string())
    .fetch_all(&state.db.read)
    .await?;
    // Sessions attended per person (over their referrals to the programme in the window).
    let mut attended: HashMap<&str, u64> = HashMap::new();
    for m in &marks {
        let referral: String = m.try_get("referral_id")?;
        let day: String = m.try_get("session_date")?;
        if from_day.as_ref().is_some_and(|f| &day < f) || to_day.as_ref().is_some_and(|t| &day >= t)
        {
            continue;
        }
        if let Some(p) = person_of.get(&referral) {
            *attended.entry(p.as_str()).or_default() += 1;
        }
    }
    let mut referrals_of: HashMap<&str, u64> = HashMap::new();
    for p in person_of.values() {
        *referrals_of.entry(p.as_str()).or_default() += 1;
    }
    let mut groups: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for (p, referrals) in referrals_of {
        let Some(person) = people.get(p) else {
            continue;
        };
        let sessions = attended.get(p).copied().unwrap_or(0);
        let add = |c: &mut Counts| {
            c.referrals += referrals;
            c.people += 1;
            c.attended += u64::from(sessions > 0);
            c.retained += u64::from(sessions as usize >= RETAINED_SESSIONS);
            c.sessions_attended += sessions;
        };
        add(&mut figures.totals);
        add(&mut figures.by_decile[person.decile.clamp(0, 10) as usize]);
        for (b, g) in [
            ("age", &person.age),
            ("sex", &person.sex),
            ("ethnicity", &person.ethnicity),
        ] {
            add(groups.entry((b.to_string(), g.clone())).or_default());
        }
    }
    figures.by_group = groups.into_iter().map(|((b, g), c)| (b, g, c)).collect();
    Ok(())
}

/// Every consenting referred person's first and latest result per (instrument, version,
/// score), in the window.
async fn results(
    state: &AppState,
    programme: &str,
    window: Window,
    people: &People,
) -> Result<Vec<PairRow>, AppError> {
    let rows = sqlx::query(
        "SELECT r.id, r.person_id, r.instrument_id, r.instrument_version, r.completed_at, s.score_id, s.value, s.band \
         FROM measures_response_summaries r JOIN measures_score_values s ON s.response_id = r.id \
         WHERE r.status = 'complete' AND r.completed_at >= $2 AND r.completed_at < $3 AND r.person_id IN \
         (SELECT c.person_id FROM referrals_case_summaries c JOIN programmes_activity_links l ON l.activity_id = c.activity_id WHERE l.programme_id = $1) \
         ORDER BY r.completed_at, r.id",
    )
    .bind(programme.to_string())
    .bind(window.lo())
    .bind(window.hi())
    .fetch_all(&state.db.read)
    .await?;
    // (person, instrument, version, score) -> (first, latest) as (value, at, band).
    type Obs = (f64, i64, Option<String>);
    type Key = (String, String, i64, String);
    let mut series: BTreeMap<Key, (Obs, Option<Obs>)> = BTreeMap::new();
    for r in &rows {
        let person: String = r.try_get("person_id")?;
        if !people.contains_key(&person) {
            continue;
        }
        let at: Option<i64> = r.try_get("completed_at")?;
        let obs: Obs = (r.try_get("value")?, at.unwrap_or(0), r.try_get("band")?);
        let key = (
            person,
            r.try_get("instrument_id")?,
            r.try_get("instrument_version")?,
            r.try_get("score_id")?,
        );
        match series.get_mut(&key) {
            Some(e) => e.1 = Some(obs),
            None => {
                series.insert(key, (obs, None));
            }
        }
    }
    Ok(series
        .into_iter()
        .map(|((person_id, instrument, version, score), (f, l))| {
            let (latest, latest_at, latest_band) = match l {
                Some(l) => (l.0, l.1, l.2),
                None => (f64::NAN, 0, None),
            };
            PairRow {
                person_id,
                instrument,
                version,
                score,
                first: f.0,
                latest,
                first_at: f.1,
                latest_at,
                first_band: f.2,
                latest_band,
            }
        })
        .collect())
}

/// Count the pairs by value; single results are kept only as a count.
fn pair_counts(rows: &[PairRow]) -> Vec<ScorePairs> {
    let mut out: BTreeMap<(String, i64, String), ScorePairs> = BTreeMap::new();
    let mut counts: BTreeMap<(String, i64, String), BTreeMap<PairKey, u64>> = BTreeMap::new();
    for r in rows {
        let key = (r.instrument.clone(), r.version, r.score.clone());
        let e = out.entry(key.clone()).or_insert_with(|| ScorePairs {
            instrument: r.instrument.clone(),
            version: r.version,
            score: r.score.clone(),
            pairs: Vec::new(),
            single: 0,
        });
        if r.latest.is_nan() {
            e.single += 1;
            continue;
        }
        *counts
            .entry(key)
            .or_default()
            .entry(PairKey(
                r.first.to_bits(),
                r.latest.to_bits(),
                r.first_band.clone(),
                r.latest_band.clone(),
            ))
            .or_default() += 1;
    }
    for (key, c) in counts {
        if let Some(e) = out.get_mut(&key) {
            e.pairs = c
                .into_iter()
                .map(|(k, people)| PairCount {
                    first: f64::from_bits(k.0),
                    latest: f64::from_bits(k.1),
                    first_band: k.2,
                    latest_band: k.3,
                    people,
                })
                .collect();
        }
    }
    out.into_values().collect()
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PairKey(u64, u64, Option<String>, Option<String>);

fn mixed(rows: &[PairRow]) -> Vec<(String, Vec<i64>)> {
    let mut versions: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    for r in rows {
        versions.entry(&r.instrument).or_default().insert(r.version);
    }
    versions
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(i, v)| (i.to_string(), v.into_iter().collect()))
        .collect()
}

async fn barriers(
    state: &AppState,
    programme: &str,
    person_of: &HashMap<String, String>,
) -> Result<Vec<BarrierCount>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT x.referral_id, x.barrier, x.action, x.stage FROM referrals_barrier_actions x {IN_PROGRAMME}"
    )))
    .bind(programme.to_string())
    .fetch_all(&state.db.read)
    .await?;
    let mut counts: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for r in &rows {
        let referral: String = r.try_get("referral_id")?;
        if !person_of.contains_key(&referral) {
            continue;
        }
        *counts
            .entry((
                r.try_get("barrier")?,
                r.try_get("action")?,
                r.try_get("stage")?,
            ))
            .or_default() += 1;
    }
    Ok(counts
        .into_iter()
        .map(|((barrier, action, stage), count)| BarrierCount {
            barrier,
            action,
            stage,
            count,
        })
        .collect())
}
