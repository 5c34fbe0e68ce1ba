//! The append-only, hash-chained audit trail.
//!
//! Every change, and every read of personal data, calls [`record`] inside the same
//! transaction as the work it records, so either both land or neither does. Each row stores
//! the hash of the row before it and its own hash over its contents; `audit_head` holds the
//! latest sequence number and hash and is updated in the same statement that reserves the
//! next number, which also serialises concurrent writers on PostgreSQL (row lock) and SQLite
//! (single writer). [`verify`] walks the chain and names the first row that does not fit.

pub mod describe;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{Db, Tx, now};

/// Who did something, as the audit trail records it.
#[derive(Debug, Clone)]
pub struct AuditActor {
    /// The signed-in account, if any.
    pub user_id: Option<String>,
    /// How they acted: `web`, `api`, `cli`, `system`, `anonymous`.
    pub label: String,
    /// Correlates with the request's log lines.
    pub request_id: Option<String>,
}

impl AuditActor {
    /// The command line, acting as the operator.
    pub fn cli() -> Self {
        Self {
            user_id: None,
            label: "cli".into(),
            request_id: None,
        }
    }

    /// The platform itself (jobs, start-up).
    pub fn system() -> Self {
        Self {
            user_id: None,
            label: "system".into(),
            request_id: None,
        }
    }
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// Dotted verb, e.g. `account.create`, `account.read`, `session.sign_in`.
    pub action: &'a str,
    /// What kind of record, e.g. `user`, `organisation`.
    pub entity_type: &'a str,
    /// Which record.
    pub entity_id: Option<&'a str>,
    /// Structured detail (field names changed, filters used); never passwords or secrets.
    pub detail: serde_json::Value,
}

/// A stored audit row.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    /// Position in the chain (1, 2, 3…).
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// The account that acted.
    pub actor_user_id: Option<String>,
    /// How they acted.
    pub actor_label: String,
    /// What they did.
    pub action: String,
    /// Record kind.
    pub entity_type: String,
    /// Record id.
    pub entity_id: Option<String>,
    /// JSON detail.
    pub detail: String,
    /// Request id.
    pub request_id: Option<String>,
    /// Hash of the previous row.
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

fn push_field(h: &mut Sha256, value: Option<&str>) {
    match value {
        None => h.update([0u8]),
        Some(v) => {
            h.update([1u8]);
            h.update((v.len() as u64).to_be_bytes());
            h.update(v.as_bytes());
        }
    }
}

/// The hash of a row's contents chained to the previous hash.
#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor_user_id: Option<&str>,
    actor_label: &str,
    action: &str,
    entity_type: &str,
    entity_id: Option<&str>,
    detail: &str,
    request_id: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    push_field(&mut h, Some(prev_hash));
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    push_field(&mut h, actor_user_id);
    push_field(&mut h, Some(actor_label));
    push_field(&mut h, Some(action));
    push_field(&mut h, Some(entity_type));
    push_field(&mut h, entity_id);
    push_field(&mut h, Some(detail));
    push_field(&mut h, request_id);
    hex::encode(h.finalize())
}

impl AuditRow {
    fn expected_hash(&self) -> String {
        row_hash(
            &self.prev_hash,
            self.seq,
            self.at,
            self.actor_user_id.as_deref(),
            &self.actor_label,
            &self.action,
            &self.entity_type,
            self.entity_id.as_deref(),
            &self.detail,
            self.request_id.as_deref(),
        )
    }
}

/// Record that a signed-in actor did `action` to an entity: the short form the module
/// services use (their per-entity helpers call this). `rbac::Actor` converts into an
/// [`AuditActor`].
pub async fn by(
    tx: &mut Tx,
    actor: impl Into<AuditActor>,
    action: &str,
    entity_type: &str,
    entity_id: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    record(
        tx,
        &actor.into(),
        AuditEvent {
            action,
            entity_type,
            entity_id,
            detail,
        },
    )
    .await
    .map(|_| ())
}

/// Record a read that changes nothing, in a transaction of its own: for views such as the
/// audit trail and the outbox, whose reading is itself an event.
pub async fn read(
    db: &crate::db::Db,
    actor: impl Into<AuditActor>,
    action: &str,
    entity_type: &str,
    entity_id: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    by(&mut tx, actor, action, entity_type, entity_id, detail).await?;
    tx.commit().await
}

/// Append one event inside the caller's transaction.
pub async fn record(
    tx: &mut Tx,
    actor: &AuditActor,
    event: AuditEvent<'_>,
) -> Result<i64, sqlx::Error> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    let at = now();
    let detail = event.detail.to_string();
    let hash = row_hash(
        &prev_hash,
        seq,
        at,
        actor.user_id.as_deref(),
        &actor.label,
        event.action,
        event.entity_type,
        event.entity_id,
        &detail,
        actor.request_id.as_deref(),
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_user_id, actor_label, action, entity_type, \
         entity_id, detail, request_id, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(at)
    .bind(actor.user_id.clone())
    .bind(actor.label.clone())
    .bind(event.action.to_string())
    .bind(event.entity_type.to_string())
    .bind(event.entity_id.map(str::to_string))
    .bind(detail)
    .bind(actor.request_id.clone())
    .bind(prev_hash)
    .bind(hash.clone())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(seq)
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Rows read.
    pub rows_checked: i64,
    /// The first row that breaks the chain, and why.
    pub first_broken: Option<(i64, String)>,
}

const ROW_COLUMNS: &str = "seq, at, actor_user_id, actor_label, action, entity_type, entity_id, \
                           detail, request_id, prev_hash, hash";

fn row_from(r: &sqlx::any::AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor_user_id: r.try_get("actor_user_id")?,
        actor_label: r.try_get("actor_label")?,
        action: r.try_get("action")?,
        entity_type: r.try_get("entity_type")?,
        entity_id: r.try_get("entity_id")?,
        detail: r.try_get("detail")?,
        request_id: r.try_get("request_id")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Walk the whole chain in batches and report the first row that was edited, deleted or
/// inserted out of turn.
pub async fn verify(db: &Db) -> Result<VerifyReport, sqlx::Error> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&db.read)
        .await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: String = head.try_get("hash")?;
    let mut expected_prev = "0".repeat(64);
    let mut expected_seq = 1_i64;
    let mut checked = 0_i64;
    loop {
        let sql =
            format!("SELECT {ROW_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 1000");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(expected_seq)
            .fetch_all(&db.read)
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let row = row_from(r)?;
            checked += 1;
            if row.seq != expected_seq {
                return Ok(VerifyReport {
                    rows_checked: checked,
                    first_broken: Some((
                        expected_seq,
                        format!(
                            "row {expected_seq} is missing (deleted); the next row is {}",
                            row.seq
                        ),
                    )),
                });
            }
            if row.prev_hash != expected_prev {
                return Ok(VerifyReport {
                    rows_checked: checked,
                    first_broken: Some((
                        row.seq,
                        "its previous-hash does not match the row before it".into(),
                    )),
                });
            }
            if row.expected_hash() != row.hash {
                return Ok(VerifyReport {
                    rows_checked: checked,
                    first_broken: Some((
                        row.seq,
                        "its contents do not match its hash (edited)".into(),
                    )),
                });
            }
            expected_prev = row.hash;
            expected_seq += 1;
        }
    }
    let last = expected_seq - 1;
    if last != head_seq || (head_seq > 0 && expected_prev != head_hash) {
        return Ok(VerifyReport {
            rows_checked: checked,
            first_broken: Some((
                last + 1,
                format!(
                    "the chain ends at row {last} but the head records row {head_seq} (rows deleted \
                     from the end)"
                ),
            )),
        });
    }
    Ok(VerifyReport {
        rows_checked: checked,
        first_broken: None,
    })
}

/// Filters for browsing the trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Action starts with this (e.g. `account.`).
    pub action: Option<String>,
    /// Acting account id.
    pub actor_user_id: Option<String>,
    /// Record kind.
    pub entity_type: Option<String>,
    /// Record id.
    pub entity_id: Option<String>,
    /// From this time (Unix seconds, inclusive).
    pub from: Option<i64>,
    /// Before this time (Unix seconds, exclusive).
    pub to: Option<i64>,
}

/// One page of rows, newest first, and whether there are more.
pub async fn list(
    db: &Db,
    filter: &AuditFilter,
    page: i64,
    per_page: i64,
) -> Result<(Vec<AuditRow>, bool), sqlx::Error> {
    let mut clauses: Vec<String> = Vec::new();
    let mut binds: Vec<BindValue> = Vec::new();
    let mut n = 0;
    let mut add = |clause: &str, v: BindValue, clauses: &mut Vec<String>| {
        n += 1;
        clauses.push(clause.replace("{}", &format!("${n}")));
        binds.push(v);
    };
    if let Some(a) = &filter.action {
        add(
            "action LIKE {}",
            BindValue::Text(format!("{a}%")),
            &mut clauses,
        );
    }
    if let Some(a) = &filter.actor_user_id {
        add(
            "actor_user_id = {}",
            BindValue::Text(a.clone()),
            &mut clauses,
        );
    }
    if let Some(a) = &filter.entity_type {
        add("entity_type = {}", BindValue::Text(a.clone()), &mut clauses);
    }
    if let Some(a) = &filter.entity_id {
        add("entity_id = {}", BindValue::Text(a.clone()), &mut clauses);
    }
    if let Some(a) = filter.from {
        add("at >= {}", BindValue::Int(a), &mut clauses);
    }
    if let Some(a) = filter.to {
        add("at < {}", BindValue::Int(a), &mut clauses);
    }
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM audit_log {where_sql} ORDER BY seq DESC LIMIT {} OFFSET {}",
        per_page + 1,
        (page.max(1) - 1).saturating_mul(per_page)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = match b {
            BindValue::Text(t) => q.bind(t),
            BindValue::Int(i) => q.bind(i),
        };
    }
    let rows = q.fetch_all(&db.read).await?;
    let more = rows.len() as i64 > per_page;
    let rows = rows
        .iter()
        .take(per_page as usize)
        .map(row_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, more))
}

enum BindValue {
    Text(String),
    Int(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_changes_with_every_field() {
        let base = row_hash("p", 1, 2, Some("u"), "web", "a", "t", Some("e"), "{}", None);
        assert_ne!(
            base,
            row_hash("q", 1, 2, Some("u"), "web", "a", "t", Some("e"), "{}", None)
        );
        assert_ne!(
            base,
            row_hash("p", 2, 2, Some("u"), "web", "a", "t", Some("e"), "{}", None)
        );
        assert_ne!(
            base,
            row_hash("p", 1, 2, None, "web", "a", "t", Some("e"), "{}", None)
        );
        assert_ne!(
            base,
            row_hash(
                "p",
                1,
                2,
                Some("u"),
                "web",
                "a",
                "t",
                Some("e"),
                "{ }",
                None
            )
        );
        // Field boundaries are unambiguous.
        assert_ne!(
            row_hash("p", 1, 2, Some("ab"), "c", "a", "t", None, "{}", None),
            row_hash("p", 1, 2, Some("a"), "bc", "a", "t", None, "{}", None)
        );
    }
}
