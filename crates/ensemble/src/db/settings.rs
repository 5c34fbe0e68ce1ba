//! The `settings` table: one text value per key, shared by every process of an
//! installation (the installation secret, the directory's change counter, the intake team).
//! Modules keep their settings under their own prefix (`directory_version`,
//! `referrals.intake_team`) and reach the table only through these functions.

use sqlx::Row;

/// The value of a setting, if set.
pub async fn get(conn: &mut sqlx::AnyConnection, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("value"))
        .transpose()
}

/// Set a setting (inside the caller's transaction, or on its own connection).
pub async fn set(
    conn: &mut sqlx::AnyConnection,
    key: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key.to_string())
    .bind(value.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Add one to a counter setting (1 when unset), inside the caller's transaction.
pub async fn increment(conn: &mut sqlx::AnyConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, '1') ON CONFLICT (key) \
         DO UPDATE SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)",
    )
    .bind(key.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
