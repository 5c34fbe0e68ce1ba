//! The register: who is expected, marking attendance (which feeds the referral pathway's
//! attendance), a member leaving, and recounting an organisation's marks.

use crate::modules::practice::model::SessionStatus;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::practice::model::REGISTER_STATUSES;
use crate::modules::referrals::service as referrals;
use crate::rbac::Actor;
use crate::state::AppState;

use super::*;

/// A line of the register.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterLine {
    /// `r:<referral id>` or `w:<entry id>`.
    pub key: String,
    pub name: String,
    pub referred: bool,
    /// A regular member of the activity (not referred).
    pub member: bool,
    /// A regular member who has stopped coming (shown only where already marked).
    pub left: bool,
    pub status: Option<String>,
}

/// The register: people referred to the activity and accepted (connected or attending), and
/// anyone already on it (walk-ins). Names are first (preferred) names only.
pub async fn register(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(SessionAccess, Vec<RegisterLine>), AppError> {
    let mut tx = state.db.begin().await?;
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, id).await?;
    let lines = load_lines(&mut tx, &s).await?;
    audit_session(
        &mut tx,
        actor,
        "session.register.read",
        id,
        json!({ "lines": lines.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok((s, lines))
}

/// The lines of a session's register, in the caller's transaction.
async fn load_lines(tx: &mut Tx, s: &SessionAccess) -> Result<Vec<RegisterLine>, AppError> {
    let expected = sqlx::query(
        "SELECT r.id, r.person_id, e.status FROM referrals_case_summaries r \
         LEFT JOIN register_entries e ON e.session_id = $2 AND e.referral_id = r.id \
         WHERE r.activity_id = $1 AND r.provider_status = 'accepted' AND (r.status IN ('connected', 'attending', 'reviewed') OR e.id IS NOT NULL)",
    )
    .bind(s.activity_id.clone())
    .bind(s.id.clone())
    .fetch_all(&mut **tx)
    .await?;
    let person_ids = expected
        .iter()
        .map(|r| r.try_get::<String, _>("person_id"))
        .collect::<Result<Vec<_>, _>>()?;
    let names = crate::modules::people::service::display_names(tx, &person_ids).await?;
    let mut lines = Vec::new();
    for r in expected {
        let person_id: String = r.try_get("person_id")?;
        lines.push(RegisterLine {
            key: format!("r:{}", r.try_get::<String, _>("id")?),
            name: names
                .get(&person_id)
                .map(|n| n.short.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "(no name)".into()),
            referred: true,
            member: false,
            left: false,
            status: r.try_get("status")?,
        });
    }
    lines.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.key.cmp(&b.key)));
    // Regular members: current ones, and former ones already marked on this register.
    for r in sqlx::query(
        "SELECT m.id, m.name, m.left_at, e.status FROM activity_members m \
         LEFT JOIN register_entries e ON e.session_id = $2 AND e.member_id = m.id \
         WHERE m.activity_id = $1 AND (e.id IS NOT NULL OR (m.left_at IS NULL AND m.added_at <= $3)) ORDER BY m.name, m.id",
    )
    .bind(s.activity_id.clone())
    .bind(s.id.clone())
    .bind(s.ends_at)
    .fetch_all(&mut **tx)
    .await?
    {
        lines.push(RegisterLine {
            key: format!("m:{}", r.try_get::<String, _>("id")?),
            name: r.try_get("name")?,
            referred: false,
            member: true,
            left: r.try_get::<Option<i64>, _>("left_at")?.is_some(),
            status: r.try_get("status")?,
        });
    }
    for r in sqlx::query("SELECT id, walk_in_name, status FROM register_entries WHERE session_id = $1 AND referral_id IS NULL AND member_id IS NULL ORDER BY walk_in_name")
        .bind(s.id.clone())
        .fetch_all(&mut **tx)
        .await?
    {
        lines.push(RegisterLine {
            key: format!("w:{}", r.try_get::<String, _>("id")?),
            name: r.try_get("walk_in_name")?,
            referred: false,
            member: false,
            left: false,
            status: Some(r.try_get("status")?),
        });
    }
    Ok(lines)
}

/// How many of the register's people are marked as there (present, late or left early),
/// out of how many.
pub fn head_count(lines: &[RegisterLine]) -> (usize, usize) {
    let there = lines
        .iter()
        .filter(|l| matches!(l.status.as_deref(), Some("present" | "late" | "left_early")))
        .count();
    (there, lines.len())
}

/// The day of a session whose register may be taken now: refused (naming `status`) when it
/// was cancelled or is still to come.
fn markable_day(s: &SessionAccess) -> Result<time::Date, AppError> {
    if s.status == SessionStatus::Cancelled {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            "This session was cancelled, so it has no register",
        )]));
    }
    let session_day = crate::db::uk::local(s.starts_at).date();
    if session_day > crate::db::uk::today() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            "The register can be taken on the day of the session",
        )]));
    }
    Ok(session_day)
}

/// Mark everyone not yet marked (the referred people and regular members expected) as
/// present, in one transaction: one revision of the register and one audit row naming how
/// many were marked. Marks already made (late, absent …) stay. Returns how many.
pub async fn mark_everyone_present(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<usize, AppError> {
    let mut tx = state.db.begin().await?;
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, id).await?;
    let session_day = markable_day(&s)?;
    let at = now();
    let mut keys = Vec::new();
    for l in load_lines(&mut tx, &s).await? {
        if l.status.is_some() || l.left {
            continue;
        }
        if let Some(rid) = l.key.strip_prefix("r:") {
            mark_referral(&mut tx, actor, &s, rid, "present", session_day, at).await?;
        } else if let Some(member) = l.key.strip_prefix("m:") {
            mark_member(&mut tx, actor, &s, member, "present", at).await?;
        } else {
            continue;
        }
        keys.push(l.key);
    }
    if keys.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let version: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM session_revisions WHERE session_id = $1 AND part = 'register'",
    )
    .bind(s.id.clone())
    .fetch_one(&mut *tx)
    .await?;
    revision(
        &mut tx,
        actor,
        &s,
        "register",
        version + 1,
        json!({ "keys": keys, "status": "present", "everyone": true }),
    )
    .await?;
    sqlx::query("UPDATE practice_sessions SET status = CASE WHEN status = 'planned' THEN 'held' ELSE status END, updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(s.id.clone())
        .execute(&mut *tx)
        .await?;
    recount_marks(&mut tx, &s).await?;
    audit_session(
        &mut tx,
        actor,
        "session.register.mark_everyone",
        id,
        json!({ "marked": keys.len(), "status": "present" }),
    )
    .await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
    Ok(keys.len())
}

/// Mark one person on the register (one tap), or add a walk-in (`key` empty, `walk_in`
/// the name). Referred people's marks feed the referral's attendance: present, late and
/// left early count as present.
pub async fn mark(
    state: &AppState,
    actor: &Actor,
    id: &str,
    key: &str,
    status: &str,
    walk_in: &str,
    regular: bool,
) -> Result<(), AppError> {
    if !REGISTER_STATUSES.iter().any(|(k, _)| *k == status) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            "Choose present, late, left early or absent",
        )]));
    }
    let mut tx = state.db.begin().await?;
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, id).await?;
    let session_day = markable_day(&s)?;
    let at = now();
    if let Some(rid) = key.strip_prefix("r:") {
        mark_referral(&mut tx, actor, &s, rid, status, session_day, at).await?;
    } else if let Some(member) = key.strip_prefix("m:") {
        mark_member(&mut tx, actor, &s, member, status, at).await?;
    } else if let Some(entry) = key.strip_prefix("w:") {
        let n = sqlx::query("UPDATE register_entries SET status = $1, recorded_by = $2, recorded_at = $3 WHERE id = $4 AND session_id = $5")
            .bind(status.to_string())
            .bind(actor.user_id.clone())
            .bind(at)
            .bind(entry.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::NotFound);
        }
    } else {
        let name = walk_in.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "walk_in",
                "Enter the walk-in's first name (up to 100 characters)",
            )]));
        }
        // A regular member is expected at every later session of the activity.
        let member = if regular {
            let m = new_id();
            sqlx::query("INSERT INTO activity_members (id, activity_id, name, added_by, added_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(m.clone())
                .bind(s.activity_id.clone())
                .bind(name.to_string())
                .bind(actor.user_id.clone())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            Some(m)
        } else {
            None
        };
        sqlx::query(
            "INSERT INTO register_entries (id, session_id, walk_in_name, member_id, status, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(id.to_string())
        .bind(name.to_string())
        .bind(member)
        .bind(status.to_string())
        .bind(actor.user_id.clone())
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    let version: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM session_revisions WHERE session_id = $1 AND part = 'register'",
    )
    .bind(id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    revision(
        &mut tx,
        actor,
        &s,
        "register",
        version + 1,
        json!({ "key": key, "status": status, "walk_in": !walk_in.trim().is_empty(), "regular": regular }),
    )
    .await?;
    sqlx::query("UPDATE practice_sessions SET status = CASE WHEN status = 'planned' THEN 'held' ELSE status END, updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    recount_marks(&mut tx, &s).await?;
    audit_session(
        &mut tx,
        actor,
        "session.register.mark",
        id,
        json!({ "key": key.split(':').next(), "status": status }),
    )
    .await?;
    tx.commit().await?;
    crate::modules::practice::summary::invalidate();
    Ok(())
}

/// Mark a referred person (the session's access check says the actor keeps this register);
/// the mark feeds the referral's attendance.
async fn mark_referral(
    tx: &mut Tx,
    actor: &Actor,
    s: &SessionAccess,
    rid: &str,
    status: &str,
    session_day: time::Date,
    at: i64,
) -> Result<(), AppError> {
    let id = s.id.clone();
    // The session's own access check above says the actor keeps this register.
    let r = referrals::for_register(tx, actor, rid, &s.activity_id).await?;
    sqlx::query(
        "INSERT INTO register_entries (id, session_id, referral_id, status, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (session_id, referral_id) DO UPDATE SET status = excluded.status, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(new_id())
    .bind(id.to_string())
    .bind(rid.to_string())
    .bind(status.to_string())
    .bind(actor.user_id.clone())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    let attended = if status == "absent" {
        "absent"
    } else {
        "present"
    };
    referrals::record_attendance_tx(tx, actor, &r, session_day, attended).await?;
    Ok(())
}

/// Mark a regular member (not one who has left, unless already marked).
async fn mark_member(
    tx: &mut Tx,
    actor: &Actor,
    s: &SessionAccess,
    member: &str,
    status: &str,
    at: i64,
) -> Result<(), AppError> {
    let id = s.id.clone();
    let (name, left): (String, Option<i64>) = {
        let r = sqlx::query(
            "SELECT name, left_at FROM activity_members WHERE id = $1 AND activity_id = $2",
        )
        .bind(member.to_string())
        .bind(s.activity_id.clone())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(AppError::NotFound)?;
        (r.try_get("name")?, r.try_get("left_at")?)
    };
    let already: Option<String> = sqlx::query_scalar(
        "SELECT id FROM register_entries WHERE session_id = $1 AND member_id = $2",
    )
    .bind(id.to_string())
    .bind(member.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    match already {
        Some(entry) => {
            sqlx::query("UPDATE register_entries SET status = $1, recorded_by = $2, recorded_at = $3 WHERE id = $4")
                .bind(status.to_string())
                .bind(actor.user_id.clone())
                .bind(at)
                .bind(entry)
                .execute(&mut **tx)
                .await?;
        }
        None if left.is_some() => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "status",
                format!("{name} is no longer a regular member: add them as a walk-in"),
            )]));
        }
        None => {
            sqlx::query(
                "INSERT INTO register_entries (id, session_id, walk_in_name, member_id, status, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (session_id, member_id) DO UPDATE SET status = excluded.status, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
            )
            .bind(new_id())
            .bind(id.to_string())
            .bind(name)
            .bind(member.to_string())
            .bind(status.to_string())
            .bind(actor.user_id.clone())
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// A regular member stops being expected (from the register of one of the activity's
/// sessions). Their past marks stay.
pub async fn member_leaves(
    state: &AppState,
    actor: &Actor,
    session: &str,
    member: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let s = SessionAccess::<SessionTeam>::check(&mut tx, actor, session).await?;
    let n = sqlx::query("UPDATE activity_members SET left_at = $1 WHERE id = $2 AND activity_id = $3 AND left_at IS NULL")
        .bind(now())
        .bind(member.to_string())
        .bind(s.activity_id.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit_session(
        &mut tx,
        actor,
        "session.member.left",
        session,
        json!({ "member": member }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The session's register marks, counted by status (`practice_sessions.marks_*`), recounted
/// from its register (a dozen rows) so the stored counts cannot drift.
const RECOUNT: &str = "UPDATE practice_sessions SET \
    marks_present = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'present'), \
    marks_late = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'late'), \
    marks_left_early = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'left_early'), \
    marks_absent = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'absent')";

async fn recount_marks(tx: &mut Tx, session: &SessionAccess) -> Result<(), AppError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{RECOUNT} WHERE id = $1")))
        .bind(session.id.clone())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Recount the marks of every session of an organisation (after a bulk load).
pub async fn recount_organisation_marks(state: &AppState, org: &str) -> Result<(), AppError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{RECOUNT} WHERE organisation_id = $1"
    )))
    .bind(org.to_string())
    .execute(&state.db.write)
    .await?;
    Ok(())
}
