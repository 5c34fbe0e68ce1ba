//! Pre-aggregated reach (issue 16 at national scale): the reach table, the area profiles'
//! counts and the reach-ratio map read small tables of counts instead of loading every
//! consenting person and every referral on each request.
//!
//! [`refresh`] rebuilds them from the referrals, the attendance marks and the consenting
//! people's small areas, for both editions at once, in one transaction (readers see the old
//! figures until it commits). It runs as the `areas_refresh_aggregates` job every ten
//! minutes, once at start-up when the figures are missing or older than that, and after
//! demo seeding. What is kept (exact counts, never a person id; disclosure control is
//! applied when reading, never stored):
//! - `area_reach_lsoas`: per (edition, small area) referrals, participants (distinct people
//!   who attended at least once) and sessions attended. Each person lives in one small area,
//!   so ward and district figures are sums of rows;
//! - `area_reach_cells`: per (edition, scope, district, national IMD decile, breakdown
//!   group) referrals and participants, where a scope is all referrals, one activity, one
//!   organisation, one programme, or one organisation within one programme (the page's
//!   filter combinations); participants are distinct people within the scope, so a person
//!   referred to two activities of one organisation is one participant of it. People with no
//!   known small area of the edition are kept under district '' and decile 0 ("elsewhere").
//!
//! Only people with evaluation consent given at the time of the refresh are counted: a
//! withdrawal leaves the figures at the next refresh.

use std::collections::HashMap;
use std::time::Instant;

use futures_util::TryStreamExt;
use sqlx::Row;

use super::Edition;
use crate::db::{Bind, bind_all, now};
use crate::error::AppError;
use crate::state::AppState;

/// How often the job rebuilds the aggregates.
pub const REFRESH_EVERY_MINUTES: i64 = 10;

/// Serialises refreshes within one process (the job, start-up and tests).
static REFRESHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What a refresh did.
#[derive(Debug, Clone, Copy)]
pub struct Refreshed {
    pub refreshed_at: i64,
    pub took_ms: i64,
    /// Consenting people counted.
    pub people: i64,
    /// Referrals of consenting people counted.
    pub referrals: i64,
    /// Rows written (small areas and cells, both editions).
    pub cells: i64,
}

/// A scope of the reach table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    All,
    Activity(String),
    Organisation(String),
    Programme(String),
    OrganisationProgramme(String, String),
}

impl Scope {
    /// The stored kind and id.
    pub fn key(&self) -> (&'static str, String) {
        match self {
            Scope::All => ("all", String::new()),
            Scope::Activity(a) => ("activity", a.clone()),
            Scope::Organisation(o) => ("organisation", o.clone()),
            Scope::Programme(p) => ("programme", p.clone()),
            Scope::OrganisationProgramme(o, p) => ("organisation_programme", format!("{o}:{p}")),
        }
    }
}

/// The breakdowns kept beside "none": index 0 age band, 1 sex, 2 ethnic group.
const BREAKDOWNS: [&str; 4] = ["none", "age", "sex", "ethnicity"];

/// Age band from a birth year, as of this year.
pub fn age_band(birth_year: Option<&str>, this_year: i64) -> String {
    let Some(y) = birth_year.and_then(|y| y.trim().parse::<i64>().ok()) else {
        return "Not recorded".into();
    };
    match this_year - y {
        a if a < 18 => "Under 18",
        18..=24 => "18 to 24",
        25..=34 => "25 to 34",
        35..=49 => "35 to 49",
        50..=64 => "50 to 64",
        65..=79 => "65 to 79",
        _ => "80 and over",
    }
    .into()
}

fn recorded(v: &Option<String>) -> String {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map_or_else(|| "Not recorded".to_string(), str::to_string)
}

/// Interns strings as small numbers.
#[derive(Default)]
struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.ids.get(s) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
}

/// One edition's small areas: code → (index, district name id, decile).
struct Areas {
    index: HashMap<String, u32>,
    codes: Vec<String>,
    place: Vec<(u32, i64)>,
}

async fn areas(state: &AppState, e: Edition, names: &mut Names) -> Result<Areas, AppError> {
    let rows =
        sqlx::query("SELECT code, district_code, imd_decile FROM area_lsoas WHERE edition = $1")
            .bind(e.year())
            .fetch_all(&state.db.read)
            .await?;
    let mut a = Areas {
        index: HashMap::with_capacity(rows.len()),
        codes: Vec::with_capacity(rows.len()),
        place: Vec::with_capacity(rows.len()),
    };
    for r in rows {
        let code: String = r.try_get("code")?;
        let district: String = r.try_get("district_code")?;
        let decile: Option<i64> = r.try_get("imd_decile")?;
        let place = match decile {
            Some(d) if !district.is_empty() => (names.id(&district), d.clamp(1, 10)),
            _ => (names.id(""), 0),
        };
        a.index.insert(code.clone(), a.codes.len() as u32);
        a.codes.push(code);
        a.place.push(place);
    }
    Ok(a)
}

/// The first successor (or predecessor) of each small-area code in the other geography.
async fn links(state: &AppState, e: Edition) -> Result<HashMap<String, String>, AppError> {
    let sql = if e == Edition::Iod2025 {
        "SELECT lsoa11_code AS from_code, lsoa21_code AS to_code FROM area_lsoa_links ORDER BY lsoa11_code, lsoa21_code"
    } else {
        "SELECT lsoa21_code AS from_code, lsoa11_code AS to_code FROM area_lsoa_links ORDER BY lsoa21_code, lsoa11_code"
    };
    let mut map = HashMap::new();
    for l in sqlx::query(sql).fetch_all(&state.db.read).await? {
        map.entry(l.try_get("from_code")?)
            .or_insert(l.try_get("to_code")?);
    }
    Ok(map)
}

/// A consenting person, resolved: small area per edition (index into that edition's
/// `Areas`) and breakdown group ids (age band, sex, ethnic group).
struct Person {
    lsoa: [Option<u32>; 2],
    groups: [u32; 3],
}

/// An activity's organisation and programmes (name ids).
struct Activity {
    id: u32,
    organisation: Option<u32>,
    programmes: Vec<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum ScopeId {
    All,
    Activity(u32),
    Organisation(u32),
    Programme(u32),
    OrgProg(u32, u32),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct CellKey {
    edition: u8,
    scope: ScopeId,
    breakdown: u8,
    group: u32,
    district: u32,
    decile: i64,
}

/// Counts of one person within one scope.
#[derive(Default, Clone, Copy)]
struct Tally {
    referrals: i64,
    attended: bool,
}

/// Rebuild the aggregates now (both editions). Callable directly, e.g. by tests after they
/// create data.
pub async fn refresh(state: &AppState) -> Result<Refreshed, AppError> {
    let _one = REFRESHING.lock().await;
    let started = Instant::now();
    let this_year = super::reach::chrono_year();
    let mut names = Names::default();
    let blank = names.id("");
    let editions = [Edition::Iod2019, Edition::Iod2025];
    let mut area_sets = Vec::new();
    let mut link_maps = Vec::new();
    for e in editions {
        area_sets.push(areas(state, e, &mut names).await?);
        link_maps.push(links(state, e).await?);
    }
    // Consenting people, resolved to each edition's small area.
    let mut people: HashMap<String, Person> = HashMap::new();
    for p in crate::modules::people::area_facts::consenting(state).await? {
        // The rule of `residents`: a code held that is one of the edition's is used as it
        // is; otherwise each code held goes through the lookup, the edition's own first.
        let norm = |c: &Option<String>| {
            c.as_deref()
                .map(|c| c.trim().to_uppercase())
                .filter(|c| !c.is_empty())
        };
        let (l21, l11) = (norm(&p.lsoa_code), norm(&p.lsoa11_code));
        let mut lsoa = [None, None];
        for (i, a) in area_sets.iter().enumerate() {
            let (own, other) = match editions[i] {
                Edition::Iod2025 => (&l21, &l11),
                Edition::Iod2019 => (&l11, &l21),
            };
            let held = [own, other];
            let direct = held
                .iter()
                .find_map(|c| c.as_ref().and_then(|c| a.index.get(c).copied()));
            lsoa[i] = direct.or_else(|| {
                held.iter().find_map(|c| {
                    c.as_ref()
                        .and_then(|c| link_maps[i].get(c))
                        .and_then(|t| a.index.get(t).copied())
                })
            });
        }
        let groups = [
            names.id(&age_band(p.birth_year.as_deref(), this_year)),
            names.id(&recorded(&p.gender)),
            names.id(&recorded(&p.ethnicity)),
        ];
        people.insert(p.person_id, Person { lsoa, groups });
    }
    drop(link_maps);
    // Activities: organisation and programmes.
    let mut activities: HashMap<String, Activity> = HashMap::new();
    for r in sqlx::query("SELECT id, organisation_id FROM directory_activity_names")
        .fetch_all(&state.db.read)
        .await?
    {
        let id: String = r.try_get("id")?;
        let org: Option<String> = r.try_get("organisation_id")?;
        let a = Activity {
            id: names.id(&id),
            organisation: org.map(|o| names.id(&o)),
            programmes: Vec::new(),
        };
        activities.insert(id, a);
    }
    for r in sqlx::query("SELECT programme_id, activity_id FROM programmes_activity_links")
        .fetch_all(&state.db.read)
        .await?
    {
        let a: String = r.try_get("activity_id")?;
        let p: String = r.try_get("programme_id")?;
        let p = names.id(&p);
        if let Some(act) = activities.get_mut(&a) {
            act.programmes.push(p);
        }
    }
    // (person index, activity, referrals, sessions), sorted by person.
    let mut person_index: HashMap<&str, u32> = HashMap::with_capacity(people.len());
    let mut persons: Vec<&Person> = Vec::with_capacity(people.len());
    for (id, p) in &people {
        person_index.insert(id.as_str(), persons.len() as u32);
        persons.push(p);
    }
    let mut refs: Vec<(u32, Option<&Activity>, i64, i64)> = Vec::new();
    let mut referrals_counted = 0_i64;
    // Referrals by person and activity, with sessions attended, streamed (never all rows
    // in memory at once).
    let mut rows = sqlx::query(
        "SELECT r.person_id, r.activity_id, CAST(COUNT(*) AS BIGINT) AS referrals, \
         CAST(COALESCE(SUM(m.present), 0) AS BIGINT) AS present_marks \
         FROM referrals_case_summaries r \
         LEFT JOIN (SELECT referral_id, COUNT(*) AS present FROM referrals_attendance_marks WHERE status = 'present' GROUP BY referral_id) m \
         ON m.referral_id = r.id \
         GROUP BY r.person_id, r.activity_id",
    )
    .fetch(&state.db.read);
    while let Some(r) = rows.try_next().await? {
        let person: String = r.try_get("person_id")?;
        let Some(pi) = person_index.get(person.as_str()) else {
            continue; // no consent for evaluation, or the record is gone
        };
        let activity: Option<String> = r.try_get("activity_id")?;
        let n: i64 = r.try_get("referrals")?;
        let s: i64 = r.try_get("present_marks")?;
        referrals_counted += n;
        refs.push((*pi, activity.and_then(|a| activities.get(&a)), n, s.max(0)));
    }
    drop(rows);
    refs.sort_unstable_by_key(|r| r.0);
    let mut cells: HashMap<CellKey, (i64, i64)> = HashMap::new();
    let mut lsoa_rows: HashMap<(u8, u32), (i64, i64, i64)> = HashMap::new();
    let mut scopes: Vec<(ScopeId, Tally)> = Vec::new();
    let mut start = 0;
    while start < refs.len() {
        let pi = refs[start].0;
        let mut end = start;
        while end < refs.len() && refs[end].0 == pi {
            end += 1;
        }
        let person = persons[pi as usize];
        scopes.clear();
        let (mut total, mut sessions) = (0_i64, 0_i64);
        let add = |scopes: &mut Vec<(ScopeId, Tally)>, s: ScopeId, n: i64, att: bool| match scopes
            .iter_mut()
            .find(|(k, _)| *k == s)
        {
            Some((_, t)) => {
                t.referrals += n;
                t.attended |= att;
            }
            None => scopes.push((
                s,
                Tally {
                    referrals: n,
                    attended: att,
                },
            )),
        };
        for (_, act, n, s) in &refs[start..end] {
            let att = *s > 0;
            total += n;
            sessions += s;
            add(&mut scopes, ScopeId::All, *n, att);
            if let Some(a) = act {
                add(&mut scopes, ScopeId::Activity(a.id), *n, att);
                if let Some(o) = a.organisation {
                    add(&mut scopes, ScopeId::Organisation(o), *n, att);
                }
                for p in &a.programmes {
                    add(&mut scopes, ScopeId::Programme(*p), *n, att);
                    if let Some(o) = a.organisation {
                        add(&mut scopes, ScopeId::OrgProg(o, *p), *n, att);
                    }
                }
            }
        }
        let attended_any = scopes.first().is_some_and(|s| s.1.attended);
        for (ei, a) in area_sets.iter().enumerate() {
            let (district, decile) = match person.lsoa[ei] {
                Some(l) => {
                    let e = lsoa_rows.entry((ei as u8, l)).or_default();
                    e.0 += total;
                    e.1 += i64::from(attended_any);
                    e.2 += sessions;
                    a.place[l as usize]
                }
                None => (blank, 0),
            };
            for (scope, t) in &scopes {
                for b in 0..4_u8 {
                    let key = CellKey {
                        edition: ei as u8,
                        scope: *scope,
                        breakdown: b,
                        group: if b == 0 {
                            u32::MAX
                        } else {
                            person.groups[b as usize - 1]
                        },
                        district,
                        decile,
                    };
                    let c = cells.entry(key).or_default();
                    c.0 += t.referrals;
                    c.1 += i64::from(t.attended);
                }
            }
        }
        start = end;
    }
    let n_people = people.len() as i64;
    drop(refs);
    drop(person_index);
    drop(persons);
    drop(people);
    let name = |i: u32| names.names[i as usize].clone();
    let scope_key = |s: ScopeId| -> (&'static str, String) {
        match s {
            ScopeId::All => ("all", String::new()),
            ScopeId::Activity(a) => ("activity", name(a)),
            ScopeId::Organisation(o) => ("organisation", name(o)),
            ScopeId::Programme(p) => ("programme", name(p)),
            ScopeId::OrgProg(o, p) => {
                ("organisation_programme", format!("{}:{}", name(o), name(p)))
            }
        }
    };
    let mut tx = state.db.begin().await?;
    for t in ["area_reach_cells", "area_reach_lsoas"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {t}")))
            .execute(&mut *tx)
            .await?;
    }
    let mut batch: Vec<Bind> = Vec::new();
    let cell_cols = "edition, scope_kind, scope_id, district_code, decile, breakdown, group_label, referrals, participants";
    let written = (cells.len() + lsoa_rows.len()) as i64;
    for (k, (r, p)) in cells {
        let (kind, id) = scope_key(k.scope);
        batch.extend([
            Bind::I(editions[k.edition as usize].year()),
            Bind::T(kind.into()),
            Bind::T(id),
            Bind::T(name(k.district)),
            Bind::I(k.decile),
            Bind::T(BREAKDOWNS[k.breakdown as usize].into()),
            Bind::T(if k.breakdown == 0 {
                String::new()
            } else {
                name(k.group)
            }),
            Bind::I(r),
            Bind::I(p),
        ]);
        if batch.len() >= 9 * crate::db::rows_per_insert(state.db.backend, 9) {
            insert(&mut tx, "area_reach_cells", cell_cols, 9, &mut batch).await?;
        }
    }
    insert(&mut tx, "area_reach_cells", cell_cols, 9, &mut batch).await?;
    let lsoa_cols = "edition, lsoa_code, referrals, participants, sessions_attended";
    for ((e, l), (r, p, s)) in lsoa_rows {
        batch.extend([
            Bind::I(editions[e as usize].year()),
            Bind::T(area_sets[e as usize].codes[l as usize].clone()),
            Bind::I(r),
            Bind::I(p),
            Bind::I(s),
        ]);
        if batch.len() >= 5 * crate::db::rows_per_insert(state.db.backend, 5) {
            insert(&mut tx, "area_reach_lsoas", lsoa_cols, 5, &mut batch).await?;
        }
    }
    insert(&mut tx, "area_reach_lsoas", lsoa_cols, 5, &mut batch).await?;
    let done = Refreshed {
        refreshed_at: now(),
        took_ms: started.elapsed().as_millis() as i64,
        people: n_people,
        referrals: referrals_counted,
        cells: written,
    };
    sqlx::query("DELETE FROM area_reach_refreshes WHERE name = 'reach'")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO area_reach_refreshes (name, refreshed_at, took_ms, people, referrals, cells) VALUES ('reach', $1, $2, $3, $4, $5)",
    )
    .bind(done.refreshed_at)
    .bind(done.took_ms)
    .bind(done.people)
    .bind(done.referrals)
    .bind(done.cells)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done)
}

async fn insert(
    tx: &mut crate::db::Tx,
    table: &str,
    cols: &str,
    width: usize,
    batch: &mut Vec<Bind>,
) -> Result<(), AppError> {
    if batch.is_empty() {
        return Ok(());
    }
    let rows = batch.len() / width;
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let sql = format!("INSERT INTO {table} ({cols}) VALUES {}", values.join(", "));
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), batch)
        .execute(&mut **tx)
        .await?;
    batch.clear();
    Ok(())
}

/// When the figures were last rebuilt, if ever.
pub async fn status(state: &AppState) -> Result<Option<Refreshed>, AppError> {
    let r = sqlx::query(
        "SELECT refreshed_at, took_ms, people, referrals, cells FROM area_reach_refreshes WHERE name = 'reach'",
    )
    .fetch_optional(&state.db.read)
    .await?;
    Ok(match r {
        None => None,
        Some(r) => Some(Refreshed {
            refreshed_at: r.try_get("refreshed_at")?,
            took_ms: r.try_get("took_ms")?,
            people: r.try_get("people")?,
            referrals: r.try_get("referrals")?,
            cells: r.try_get("cells")?,
        }),
    })
}

/// Rebuild when the figures are missing or older than the refresh interval (at start-up).
pub async fn refresh_if_stale(state: &AppState) -> Result<Option<Refreshed>, AppError> {
    match status(state).await? {
        Some(s) if now() - s.refreshed_at < REFRESH_EVERY_MINUTES * 60 => Ok(None),
        _ => refresh(state).await.map(Some),
    }
}

/// "Figures as at 6 Jul 2026, 14:05 BST; rebuilt every 10 minutes." for pages and files.
pub fn as_at(s: Option<Refreshed>) -> String {
    match s {
        Some(s) => format!(
            "Figures as at {}; rebuilt every {REFRESH_EVERY_MINUTES} minutes.",
            crate::web::layout::datetime(s.refreshed_at)
        ),
        None => format!(
            "Figures not yet computed: they are rebuilt every {REFRESH_EVERY_MINUTES} minutes and at start-up."
        ),
    }
}

/// One stored cell.
#[derive(Debug, Clone)]
pub struct Cell {
    pub district: String,
    pub decile: i64,
    pub breakdown: String,
    pub group: String,
    pub referrals: u64,
    pub participants: u64,
}

/// The cells of one scope: the "none" breakdown and, if asked, one other.
pub async fn cells(
    state: &AppState,
    e: Edition,
    scope: &Scope,
    by: Option<&str>,
) -> Result<Vec<Cell>, AppError> {
    let (kind, id) = scope.key();
    let rows = sqlx::query(
        "SELECT district_code, decile, breakdown, group_label, referrals, participants FROM area_reach_cells \
         WHERE edition = $1 AND scope_kind = $2 AND scope_id = $3 AND breakdown IN ('none', $4)",
    )
    .bind(e.year())
    .bind(kind)
    .bind(id)
    .bind(by.unwrap_or("none").to_string())
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let n: i64 = r.try_get("referrals")?;
            let p: i64 = r.try_get("participants")?;
            Ok(Cell {
                district: r.try_get("district_code")?,
                decile: r.try_get("decile")?,
                breakdown: r.try_get("breakdown")?,
                group: r.try_get("group_label")?,
                referrals: n.max(0) as u64,
                participants: p.max(0) as u64,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Referrals, participants and sessions attended of people living in these small areas
/// (codes of the edition), exact.
pub async fn lsoa_totals(
    state: &AppState,
    e: Edition,
    codes: &[String],
) -> Result<(u64, u64, u64), AppError> {
    let mut out = (0_u64, 0_u64, 0_u64);
    for chunk in codes.chunks(500) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(referrals), 0) AS BIGINT) AS r, CAST(COALESCE(SUM(participants), 0) AS BIGINT) AS p, \
             CAST(COALESCE(SUM(sessions_attended), 0) AS BIGINT) AS s FROM area_reach_lsoas WHERE edition = $1 AND lsoa_code IN ({})",
            marks.join(", ")
        );
        let mut binds = vec![Bind::I(e.year())];
        binds.extend(chunk.iter().cloned().map(Bind::T));
        let r = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .fetch_one(&state.db.read)
            .await?;
        let get =
            |c: &str| -> Result<u64, sqlx::Error> { Ok(r.try_get::<i64, _>(c)?.max(0) as u64) };
        out.0 += get("r")?;
        out.1 += get("p")?;
        out.2 += get("s")?;
    }
    Ok(out)
}

/// Referrals of people living in each small area of the edition (code → referrals), exact;
/// areas with none are absent.
pub async fn lsoa_referrals(
    state: &AppState,
    e: Edition,
) -> Result<HashMap<String, u64>, AppError> {
    let rows = sqlx::query("SELECT lsoa_code, referrals FROM area_reach_lsoas WHERE edition = $1")
        .bind(e.year())
        .fetch_all(&state.db.read)
        .await?;
    rows.iter()
        .map(|r| {
            let n: i64 = r.try_get("referrals")?;
            Ok((r.try_get("lsoa_code")?, n.max(0) as u64))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// The job that rebuilds the aggregates.
pub struct RefreshAggregates;

impl crate::jobs::JobKind for RefreshAggregates {
    const KIND: &'static str = "areas_refresh_aggregates";
    type Payload = ();

    async fn run(state: &AppState, (): ()) -> anyhow::Result<()> {
        let r = refresh(state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        tracing::info!(
            took_ms = r.took_ms,
            people = r.people,
            referrals = r.referrals,
            rows = r.cells,
            "reach aggregates rebuilt"
        );
        Ok(())
    }
}
