//! Backup and restore. SQLite: an online, consistent copy with `VACUUM INTO` while the
//! server keeps running; restore copies a backup into a new database file after checking
//! it is an Ensemble database, then brings its schema up to date. PostgreSQL: `pg_dump`
//! (custom format) and `pg_restore`, run as external programs (see docs/OPERATIONS.md).

use std::path::Path;
use std::process::Command;

use sqlx::Row;

use crate::db::{Backend, Db};

/// Errors from backup or restore, each saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target exists already.
    #[error("{0} already exists; choose a new file name (backups never overwrite)")]
    Exists(String),
    /// The file is not a usable backup.
    #[error("{0} is not an Ensemble database backup: {1}")]
    NotABackup(String, String),
    /// The restore target already holds data.
    #[error("the target database already holds data; restore into a new, empty database")]
    TargetNotEmpty,
    /// An external tool failed.
    #[error("{0} failed: {1}")]
    Tool(String, String),
    /// Database error.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// SQL error.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// File error.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Write a consistent backup of the database to `path`.
pub async fn backup(db: &Db, database_url: &str, path: &Path) -> Result<(), BackupError> {
    let shown = path.display().to_string();
    if path.exists() {
        return Err(BackupError::Exists(shown));
    }
    match db.backend {
        Backend::Sqlite => {
            sqlx::query("VACUUM INTO $1")
                .bind(shown.clone())
                .execute(&db.write)
                .await?;
            Ok(())
        }
        Backend::Postgres => run_tool(
            "pg_dump",
            &[
                "--format=custom",
                "--no-owner",
                "--file",
                &shown,
                database_url,
            ],
        ),
    }
}

fn run_tool(tool: &str, args: &[&str]) -> Result<(), BackupError> {
    let out = Command::new(tool).args(args).output().map_err(|e| {
        BackupError::Tool(
            tool.into(),
            format!("could not start it ({e}); install the PostgreSQL client tools"),
        )
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BackupError::Tool(
            tool.into(),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}

/// Restore a backup file into an empty target database.
pub async fn restore(backup_file: &Path, target_url: &str) -> Result<(), BackupError> {
    let shown = backup_file.display().to_string();
    if !backup_file.is_file() {
        return Err(BackupError::NotABackup(shown, "no such file".into()));
    }
    match Backend::from_url(target_url)? {
        Backend::Sqlite => {
            let mut header = [0u8; 16];
            let read = std::fs::File::open(backup_file)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
            if read.is_err() || &header != b"SQLite format 3\0" {
                return Err(BackupError::NotABackup(
                    shown,
                    "it is not a SQLite database file".into(),
                ));
            }
            let target = target_url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:")
                .split('?')
                .next()
                .unwrap_or("")
                .to_string();
            if Path::new(&target).exists() {
                return Err(BackupError::Exists(target));
            }
            std::fs::copy(backup_file, &target).map_err(|e| BackupError::Io(target.clone(), e))?;
            let checked = async {
                let db = Db::connect(target_url).await?;
                let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM _migrations")
                    .fetch_one(&db.read)
                    .await
                    .and_then(|r| r.try_get("n"))
                    .map_err(crate::db::DbError::from)?;
                db.close().await;
                Ok::<i64, crate::db::DbError>(n)
            }
            .await;
            match checked {
                Ok(n) if n > 0 => {}
                Ok(_) | Err(_) => {
                    let _ = std::fs::remove_file(&target);
                    return Err(BackupError::NotABackup(
                        shown,
                        "it has no Ensemble migrations recorded".into(),
                    ));
                }
            }
            let db = Db::connect_and_migrate(target_url).await?;
            db.close().await;
            Ok(())
        }
        Backend::Postgres => {
            let db = Db::connect(target_url).await?;
            let tables: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()",
            )
            .fetch_one(&db.read)
            .await?
            .try_get("n")?;
            db.close().await;
            if tables > 0 {
                return Err(BackupError::TargetNotEmpty);
            }
            run_tool(
                "pg_restore",
                &["--no-owner", "--dbname", target_url, &shown],
            )?;
            let db = Db::connect_and_migrate(target_url).await?;
            db.close().await;
            Ok(())
        }
    }
}

/// Every row of every application table, as text, for comparing two databases.
pub async fn dump_rows(db: &Db) -> Result<Vec<(String, Vec<String>)>, sqlx::Error> {
    let mut out = Vec::new();
    for (table, columns) in db.schema_outline().await? {
        let cols = columns
            .iter()
            .map(|c| format!("COALESCE(CAST({c} AS TEXT), '∅')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let sql = format!("SELECT {cols} AS line FROM {table}");
        let mut lines: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&db.read)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("line"))
            .collect::<Result<_, _>>()?;
        lines.sort();
        out.push((table, lines));
    }
    Ok(out)
}
