//! Forward-only migrations embedded in the binary, one folder per backend with identical
//! file names (`migrations/sqlite`, `migrations/postgres`).

use sha2::{Digest, Sha256};
use sqlx::{Executor, Row};

use super::{Backend, Db, DbError, now};

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Sequence number (the file name's numeric prefix).
    pub version: i64,
    /// File name, identical in both folders.
    pub file_name: &'static str,
    /// SQLite script.
    pub sqlite: &'static str,
    /// PostgreSQL script.
    pub postgres: &'static str,
}

macro_rules! migration {
    ($version:expr, $file:literal) => {
        Migration {
            version: $version,
            file_name: $file,
            sqlite: include_str!(concat!("../../../../migrations/sqlite/", $file)),
            postgres: include_str!(concat!("../../../../migrations/postgres/", $file)),
        }
    };
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_foundation.sql"),
    migration!(2, "0002_directory.sql"),
    migration!(3, "0003_people_referrals.sql"),
    migration!(4, "0004_measures.sql"),
    migration!(5, "0005_practice.sql"),
    migration!(6, "0006_incidents.sql"),
    migration!(7, "0007_observations.sql"),
    migration!(8, "0008_reflection.sql"),
    migration!(9, "0009_portfolio.sql"),
    migration!(10, "0010_security.sql"),
    migration!(11, "0011_fhir_resubmission.sql"),
    migration!(12, "0012_published_views.sql"),
    migration!(13, "0013_matching.sql"),
    migration!(14, "0014_plain.sql"),
    migration!(15, "0015_map.sql"),
    migration!(16, "0016_programmes.sql"),
    migration!(17, "0017_themes.sql"),
    migration!(18, "0018_plans.sql"),
    migration!(19, "0019_proposals.sql"),
    migration!(20, "0020_connected.sql"),
    migration!(21, "0021_area.sql"),
    migration!(22, "0022_programme_upkeep.sql"),
    migration!(23, "0023_barrier_stages.sql"),
    migration!(24, "0024_reach.sql"),
    migration!(25, "0025_reach_aggregates.sql"),
    migration!(26, "0026_lsoa_editions.sql"),
    migration!(27, "0027_area_outcomes.sql"),
    migration!(28, "0028_evaluation.sql"),
];

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Apply every migration that has not run yet; refuse if an applied one has changed.
pub async fn migrate(db: &Db) -> Result<(), DbError> {
    let mut conn = db.write.acquire().await?;
    if db.backend == Backend::Postgres {
        // Serialise concurrent starts of several processes.
        conn.execute("SELECT pg_advisory_lock(72707369)").await?;
    }
    let result = apply_pending(db.backend, &mut conn).await;
    if db.backend == Backend::Postgres {
        conn.execute("SELECT pg_advisory_unlock(72707369)").await?;
    }
    result
}

async fn apply_pending(
    backend: Backend,
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
) -> Result<(), DbError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (version BIGINT PRIMARY KEY, \
         file_name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied = sqlx::query("SELECT version, file_name, checksum FROM _migrations")
        .fetch_all(&mut **conn)
        .await?;
    for m in MIGRATIONS {
        let sql = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let sum = checksum(sql);
        if let Some(row) = applied
            .iter()
            .find(|r| r.try_get::<i64, _>("version").ok() == Some(m.version))
        {
            let recorded: String = row.try_get("checksum")?;
            if recorded != sum {
                return Err(DbError::Migration {
                    version: m.version,
                    name: m.file_name.into(),
                    reason: "it was changed after it was applied; migrations are forward only, \
                             so add a new one instead"
                        .into(),
                });
            }
            continue;
        }
        let fail = |e: sqlx::Error| DbError::Migration {
            version: m.version,
            name: m.file_name.into(),
            reason: e.to_string(),
        };
        let mut tx = sqlx::Connection::begin(&mut **conn).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        sqlx::query(
            "INSERT INTO _migrations (version, file_name, checksum, applied_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.file_name)
        .bind(&sum)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(
            migration.version = m.version,
            migration.name = m.file_name,
            "applied migration"
        );
    }
    Ok(())
}
