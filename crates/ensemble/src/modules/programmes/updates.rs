//! Updates: news a member posts to the programme (a title, plain text and a visibility —
//! members only, or public), and members' comments on them. Public updates are shown on
//! the programme's public page and in its Atom feed, without naming who posted them;
//! comments stay with the members.
//!
//! Who may do what (the record-access rules for updates live here, on top of the
//! programme's proofs in `access`):
//!
//! | what | who |
//! | --- | --- |
//! | read the updates list, an update and its comments; comment | every member and the managers ([`UpdateAccess`], built on [`ProgrammeAccess<Member>`]); an update of another programme is a 404 |
//! | post a members-only update | every member |
//! | post a public update | the programme team (responsible members and managers): what the public reads is said by the team |
//! | change or remove an update; remove a comment | its author, while a member (404 for anyone else); removing an update removes its comments |
//! | read public updates | anyone, on the public page and the feed |

use serde::Deserialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::access::{Member, Programme, ProgrammeAccess, Standing};
use super::model::{MAX_TEXT, MAX_TITLE, choice, text};
use crate::audit;
use crate::code::code_enum;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

code_enum!(
    /// Who may read an update.
    UpdateVisibility {
        Members => ("members", "Members of the programme only"),
        Public => ("public", "Anyone: on the public page and in the programme's feed"),
    }
);

/// An update as read.
#[derive(Debug, Clone)]
pub struct Update {
    pub id: String,
    pub programme_id: String,
    pub author_id: String,
    /// Who posted it (display name); never shown publicly.
    pub author: String,
    pub title: String,
    pub body: String,
    pub visibility: UpdateVisibility,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A comment on an update.
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: String,
    /// Written by the reader (who may remove it).
    pub mine: bool,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

const UPDATE: &str = "SELECT n.id, n.programme_id, n.author_id, u.display_name AS author, n.title, n.body, n.visibility, n.created_at, n.updated_at \
    FROM programme_updates n JOIN accounts_user_names u ON u.id = n.author_id";

fn update_from(r: &AnyRow) -> Result<Update, sqlx::Error> {
    let vis: String = r.try_get("visibility")?;
    Ok(Update {
        id: r.try_get("id")?,
        programme_id: r.try_get("programme_id")?,
        author_id: r.try_get("author_id")?,
        author: r.try_get("author")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        visibility: UpdateVisibility::from_code(&vis)
            .ok_or_else(|| sqlx::Error::Decode("unknown update visibility".into()))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn updates_from(rows: &[AnyRow]) -> Result<Vec<Update>, AppError> {
    Ok(rows
        .iter()
        .map(update_from)
        .collect::<Result<Vec<_>, _>>()?)
}

/// Proof that the actor is a member of the programme an update belongs to (read it,
/// comment on it). Made only by [`UpdateAccess::check`].
pub struct UpdateAccess {
    update: Update,
    programme: Programme,
    standing: Standing,
}

impl std::ops::Deref for UpdateAccess {
    type Target = Update;
    fn deref(&self) -> &Update {
        &self.update
    }
}

impl UpdateAccess {
    pub fn programme(&self) -> &Programme {
        &self.programme
    }
    /// The actor's standing in the programme.
    pub fn standing(&self) -> Standing {
        self.standing
    }
    /// Whether the actor posted it.
    pub fn is_author(&self, actor: &Actor) -> bool {
        self.update.author_id == actor.user_id
    }

    /// Load an update of `programme` and prove membership: 404 when there is none there,
    /// or the actor is not a member (its existence is not revealed).
    pub async fn check(
        conn: &mut sqlx::AnyConnection,
        actor: &Actor,
        programme: &str,
        id: &str,
    ) -> Result<Self, AppError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{UPDATE} WHERE n.id = $1 AND n.programme_id = $2"
        )))
        .bind(id.to_string())
        .bind(programme.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
        let update = update_from(&row)?;
        let p = match ProgrammeAccess::<Member>::check(conn, Some(actor), programme).await {
            Ok(p) => p,
            Err(AppError::Forbidden) => return Err(AppError::NotFound),
            Err(e) => return Err(e),
        };
        Ok(Self {
            update,
            standing: p.standing(),
            programme: (*p).clone(),
        })
    }
}

/// What a member types to post an update.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct UpdateInput {
    pub title: String,
    pub body: String,
    pub visibility: String,
}

/// Every update of a programme, newest first, for a member.
pub async fn for_members(
    state: &AppState,
    actor: &Actor,
    programme: &str,
) -> Result<(ProgrammeAccess<Member>, Vec<Update>), AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Member>::check(&mut conn, Some(actor), programme).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{UPDATE} WHERE n.programme_id = $1 ORDER BY n.created_at DESC, n.id DESC"
    )))
    .bind(p.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    Ok((p, updates_from(&rows)?))
}

/// The public updates of a programme, newest first (for the public page and the feed).
pub async fn public(
    conn: &mut sqlx::AnyConnection,
    p: &Programme,
) -> Result<Vec<Update>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{UPDATE} WHERE n.programme_id = $1 AND n.visibility = 'public' ORDER BY n.created_at DESC, n.id DESC"
    )))
    .bind(p.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    updates_from(&rows)
}

/// A valid update's title, body and visibility (public ones from the team only), or the
/// field errors.
fn valid(
    input: &UpdateInput,
    standing: Standing,
) -> Result<(String, String, UpdateVisibility), AppError> {
    let mut e = Vec::new();
    let title = text(&input.title, "title", "a title", MAX_TITLE, &mut e);
    let body = text(
        &super::plans::normalise(&input.body),
        "body",
        "the update",
        MAX_TEXT,
        &mut e,
    );
    let vis = choice(
        &input.visibility,
        UpdateVisibility::from_code,
        "visibility",
        "Choose who may read the update",
        &mut e,
    );
    if vis == Some(UpdateVisibility::Public) && standing < Standing::Team {
        e.push(FieldError::new(
            "visibility",
            "Only the programme team can post a public update: choose members of the programme only",
        ));
    }
    match vis.filter(|_| e.is_empty()) {
        Some(vis) => Ok((title, body, vis)),
        None => Err(AppError::Invalid(e)),
    }
}

/// Post an update (a member; public ones the team only).
pub async fn post(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &UpdateInput,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Member>::check(&mut tx, Some(actor), programme).await?;
    let (title, body, vis) = valid(input, p.standing())?;
    let id = new_id();
    let t = now();
    sqlx::query("INSERT INTO programme_updates (id, programme_id, author_id, title, body, visibility, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7)")
        .bind(id.clone())
        .bind(p.id.clone())
        .bind(actor.user_id.clone())
        .bind(title)
        .bind(body)
        .bind(vis.code())
        .bind(t)
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "update.post",
        "programme_update",
        Some(&id),
        json!({ "programme": p.id, "visibility": vis.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// An update and its comments, oldest comment first, for a member.
pub async fn view(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    id: &str,
) -> Result<(UpdateAccess, Vec<Comment>), AppError> {
    let mut conn = state.db.read.acquire().await?;
    let u = UpdateAccess::check(&mut conn, actor, programme, id).await?;
    let rows = sqlx::query("SELECT c.id, c.author_id, u.display_name AS author, c.body, c.created_at FROM programme_update_comments c \
        JOIN accounts_user_names u ON u.id = c.author_id WHERE c.update_id = $1 ORDER BY c.created_at, c.id")
        .bind(u.id.clone())
        .fetch_all(&mut *conn)
        .await?;
    let comments = rows
        .iter()
        .map(|r| {
            Ok(Comment {
                id: r.try_get("id")?,
                mine: r.try_get::<String, _>("author_id")? == actor.user_id,
                author: r.try_get("author")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((u, comments))
}

/// Comment on an update (a member).
pub async fn comment(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    id: &str,
    body: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let u = UpdateAccess::check(&mut tx, actor, programme, id).await?;
    let mut e = Vec::new();
    let body = text(
        &super::plans::normalise(body),
        "comment",
        "your comment",
        MAX_TEXT,
        &mut e,
    );
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let cid = new_id();
    sqlx::query("INSERT INTO programme_update_comments (id, update_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(cid.clone())
        .bind(u.id.clone())
        .bind(actor.user_id.clone())
        .bind(body)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "update.comment",
        "programme_update",
        Some(&u.id),
        json!({ "comment": cid }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Change one's own update (its author, still a member): 404 for anyone else.
pub async fn edit(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    id: &str,
    input: &UpdateInput,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let u = UpdateAccess::check(&mut tx, actor, programme, id).await?;
    if !u.is_author(actor) {
        return Err(AppError::NotFound);
    }
    let (title, body, vis) = valid(input, u.standing())?;
    sqlx::query("UPDATE programme_updates SET title = $1, body = $2, visibility = $3, updated_at = $4 WHERE id = $5")
        .bind(title)
        .bind(body)
        .bind(vis.code())
        .bind(now())
        .bind(u.id.clone())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "update.edit",
        "programme_update",
        Some(&u.id),
        json!({ "visibility": vis.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remove one's own update with its comments (its author): 404 for anyone else.
pub async fn remove(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let u = UpdateAccess::check(&mut tx, actor, programme, id).await?;
    if !u.is_author(actor) {
        return Err(AppError::NotFound);
    }
    sqlx::query("DELETE FROM programme_update_comments WHERE update_id = $1")
        .bind(u.id.clone())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM programme_updates WHERE id = $1")
        .bind(u.id.clone())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "update.remove",
        "programme_update",
        Some(&u.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remove one's own comment (its author, still a member): 404 for anyone else.
pub async fn remove_comment(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    id: &str,
    comment: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let u = UpdateAccess::check(&mut tx, actor, programme, id).await?;
    let done = sqlx::query(
        "DELETE FROM programme_update_comments WHERE id = $1 AND update_id = $2 AND author_id = $3",
    )
    .bind(comment.to_string())
    .bind(u.id.clone())
    .bind(actor.user_id.clone())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit::by(
        &mut tx,
        actor,
        "update.comment_remove",
        "programme_update",
        Some(&u.id),
        json!({ "comment": comment }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
