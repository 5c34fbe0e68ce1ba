//! The programme's plan, kept as numbered revisions. The plan is **one title and one body
//! of plain text** (no markdown: line breaks are kept, nothing else is interpreted). Every
//! save makes a new revision recording who saved it, when, and why (a required reason);
//! the highest number is the current plan. Any two revisions can be compared line by line.
//!
//! Who may do what (through the programme's record-access proofs):
//!
//! | what | proof |
//! | --- | --- |
//! | read the plan, its history and comparisons | [`ProgrammeAccess<Member>`]: every member and the managers |
//! | edit the plan | [`ProgrammeAccess<Team>`]: members stated as responsible, and the programme managers of the lead organisation |
//!
//! **No lost edits.** The edit form carries the number of the revision it was based on.
//! A save whose base is no longer the latest is refused with [`Saved::Conflict`], which
//! carries the other person's revision so the page can show their changes beside the
//! editor's own text; the unique `(programme_id, number)` index refuses the second of two
//! saves that race past the check.

use serde::Deserialize;
use serde_json::json;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::access::{Member, ProgrammeAccess, Team};
use super::model::{MAX_TITLE, text};
use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

/// The longest plan body.
pub const MAX_PLAN: usize = 20_000;
/// The longest reason for a change.
pub const MAX_REASON: usize = 1_000;

/// One saved revision of a plan.
#[derive(Debug, Clone)]
pub struct Revision {
    pub number: i64,
    pub title: String,
    pub body: String,
    pub reason: String,
    /// Who saved it (display name).
    pub author: String,
    pub created_at: i64,
}

/// What the editor sends.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct PlanInput {
    pub title: String,
    pub body: String,
    pub reason: String,
    /// The revision number the form was based on (`0` before the first).
    pub base: String,
}

/// The outcome of a save that was allowed and valid in form.
pub enum Saved {
    /// Saved as this revision number.
    Saved(i64),
    /// Someone saved since the form's base: the latest revision, and the form's base
    /// revision (none when the form started from an empty plan).
    Conflict {
        latest: Box<Revision>,
        base: Option<Box<Revision>>,
    },
}

const REVISION: &str = "SELECT r.number, r.title, r.body, r.reason, u.display_name AS author, r.created_at \
    FROM programme_plan_revisions r JOIN accounts_user_names u ON u.id = r.author_id";

fn revision_from(r: &AnyRow) -> Result<Revision, sqlx::Error> {
    Ok(Revision {
        number: r.try_get("number")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        reason: r.try_get("reason")?,
        author: r.try_get("author")?,
        created_at: r.try_get("created_at")?,
    })
}

async fn latest(
    conn: &mut sqlx::AnyConnection,
    programme: &str,
) -> Result<Option<Revision>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{REVISION} WHERE r.programme_id = $1 ORDER BY r.number DESC LIMIT 1"
    )))
    .bind(programme.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(revision_from).transpose()?)
}

async fn numbered(
    conn: &mut sqlx::AnyConnection,
    programme: &str,
    number: i64,
) -> Result<Option<Revision>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{REVISION} WHERE r.programme_id = $1 AND r.number = $2"
    )))
    .bind(programme.to_string())
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(revision_from).transpose()?)
}

/// The current plan (none before the first save), for a member.
pub async fn current(
    state: &AppState,
    actor: &Actor,
    programme: &str,
) -> Result<(ProgrammeAccess<Member>, Option<Revision>), AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Member>::check(&mut conn, Some(actor), programme).await?;
    let plan = latest(&mut conn, &p.id).await?;
    Ok((p, plan))
}

/// The current plan, for someone who may edit it.
pub async fn for_editing(
    state: &AppState,
    actor: &Actor,
    programme: &str,
) -> Result<(ProgrammeAccess<Team>, Option<Revision>), AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Team>::check(&mut conn, Some(actor), programme).await?;
    let plan = latest(&mut conn, &p.id).await?;
    Ok((p, plan))
}

/// Every revision, newest first, for a member.
pub async fn history(
    state: &AppState,
    actor: &Actor,
    programme: &str,
) -> Result<(ProgrammeAccess<Member>, Vec<Revision>), AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Member>::check(&mut conn, Some(actor), programme).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{REVISION} WHERE r.programme_id = $1 ORDER BY r.number DESC"
    )))
    .bind(p.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let revisions = rows
        .iter()
        .map(revision_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((p, revisions))
}

/// Two revisions to compare, for a member: 404 when either number is not a revision of
/// this programme.
pub async fn pair(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    from: i64,
    to: i64,
) -> Result<(ProgrammeAccess<Member>, Revision, Revision), AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Member>::check(&mut conn, Some(actor), programme).await?;
    let a = numbered(&mut conn, &p.id, from)
        .await?
        .ok_or(AppError::NotFound)?;
    let b = numbered(&mut conn, &p.id, to)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((p, a, b))
}

/// Line endings as `\n`, trailing spaces on the whole text trimmed.
pub fn normalise(body: &str) -> String {
    body.replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_string()
}

/// Save a new revision (the team): refused as a conflict when the form's base is no longer
/// the latest; otherwise validated, stored and audited in one transaction.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &PlanInput,
) -> Result<Saved, AppError> {
    let base: i64 =
        input.base.trim().parse().map_err(|_| {
            AppError::BadRequest("The form was damaged: open the plan again".into())
        })?;
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Team>::check(&mut tx, Some(actor), programme).await?;
    let now_latest = latest(&mut tx, &p.id).await?;
    let number = now_latest.as_ref().map_or(0, |r| r.number);
    if base > number || base < 0 {
        // A base ahead of what is stored: the form did not come from this plan.
        return Err(AppError::BadRequest(
            "The form was damaged: open the plan again".into(),
        ));
    }
    if let Some(l) = now_latest.as_ref().filter(|_| number != base) {
        let base = numbered(&mut tx, &p.id, base).await?.map(Box::new);
        return Ok(Saved::Conflict {
            latest: Box::new(l.clone()),
            base,
        });
    }
    let mut e = Vec::new();
    let title = text(
        &input.title,
        "title",
        "a title for the plan",
        MAX_TITLE,
        &mut e,
    );
    let body = text(
        &normalise(&input.body),
        "body",
        "the text of the plan",
        MAX_PLAN,
        &mut e,
    );
    let reason = text(
        &input.reason,
        "reason",
        "why you made this change",
        MAX_REASON,
        &mut e,
    );
    if let Some(l) = &now_latest
        && e.is_empty()
        && l.title == title
        && l.body == body
    {
        e.push(FieldError::new(
            "body",
            "The plan is the same as the current revision: change the title or text before saving",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = new_id();
    let next = number + 1;
    let inserted = sqlx::query("INSERT INTO programme_plan_revisions (id, programme_id, number, title, body, reason, author_id, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id.clone())
        .bind(p.id.clone())
        .bind(next)
        .bind(title)
        .bind(body)
        .bind(reason)
        .bind(actor.user_id.clone())
        .bind(now())
        .execute(&mut *tx)
        .await;
    match inserted {
        Ok(_) => {}
        // Another save took this number between the check and the insert.
        Err(err) if crate::db::is_unique_violation(&err) => {
            drop(tx);
            return raced(state, actor, programme, base).await;
        }
        Err(err) => return Err(err.into()),
    }
    audit::by(
        &mut tx,
        actor,
        "plan.revise",
        "programme_plan_revision",
        Some(&id),
        json!({ "programme": p.id, "number": next }),
    )
    .await?;
    tx.commit().await?;
    Ok(Saved::Saved(next))
}

/// The conflict answer after losing a race to the insert.
async fn raced(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    base: i64,
) -> Result<Saved, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Team>::check(&mut conn, Some(actor), programme).await?;
    let l = latest(&mut conn, &p.id).await?.ok_or(AppError::NotFound)?;
    let base = numbered(&mut conn, &p.id, base).await?.map(Box::new);
    Ok(Saved::Conflict {
        latest: Box::new(l),
        base,
    })
}

/// One side of a compared line: its number in its text, the line, and whether it differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    pub number: usize,
    pub text: String,
    pub changed: bool,
}

/// One row of a side-by-side comparison: the line before (if any) and after (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub old: Option<Side>,
    pub new: Option<Side>,
}

/// Compare two texts line by line (the `similar` crate's Myers diff), as rows to show side
/// by side: unchanged lines face each other; removed lines stand on the left only, added
/// lines on the right only, and a changed block pairs its lines row by row.
pub fn side_by_side(old: &str, new: &str) -> Vec<Row> {
    use similar::{DiffOp, TextDiff};
    // Every line ends in a newline, so the last line compares equal to itself.
    let old = normalise(old) + "\n";
    let new = normalise(new) + "\n";
    let diff = TextDiff::from_lines(&old, &new);
    let line = |s: &&str| s.trim_end_matches('\n').to_string();
    let o: Vec<String> = diff.old_slices().iter().map(line).collect();
    let n: Vec<String> = diff.new_slices().iter().map(line).collect();
    let side = |lines: &[String], i: usize, changed: bool| Side {
        number: i + 1,
        text: lines[i].clone(),
        changed,
    };
    let mut rows = Vec::new();
    for op in diff.ops() {
        let (oi, ol, ni, nl, changed) = match *op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => (old_index, len, new_index, len, false),
            DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            } => (old_index, old_len, new_index, 0, true),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index, 0, new_index, new_len, true),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (old_index, old_len, new_index, new_len, true),
        };
        for k in 0..ol.max(nl) {
            rows.push(Row {
                old: (k < ol).then(|| side(&o, oi + k, changed)),
                new: (k < nl).then(|| side(&n, ni + k, changed)),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_marks_removed_added_and_changed_lines() {
        let rows = side_by_side("a\nb\nc\n", "a\nB\nc\nd");
        assert_eq!(rows.len(), 4);
        assert!(!rows[0].old.as_ref().unwrap().changed);
        assert_eq!(rows[1].old.as_ref().unwrap().text, "b");
        assert_eq!(rows[1].new.as_ref().unwrap().text, "B");
        assert!(rows[1].new.as_ref().unwrap().changed);
        assert!(rows[3].old.is_none());
        assert_eq!(rows[3].new.as_ref().unwrap().text, "d");
        assert_eq!(rows[3].new.as_ref().unwrap().number, 4);
        let rows = side_by_side("x\ny", "y");
        assert_eq!(rows[0].old.as_ref().unwrap().text, "x");
        assert!(rows[0].new.is_none());
        assert!(
            side_by_side("same", "same")
                .iter()
                .all(|r| !r.old.as_ref().unwrap().changed)
        );
    }
}
