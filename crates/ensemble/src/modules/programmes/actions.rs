//! "You said, we did": the programme team turns one or more voices into an action with an
//! owner, a due date and a status; each progress update reaches the people whose voices
//! started it (an in-app notification, and an email where they agreed to be contacted), and
//! they can reply. The public board shows actions and progress without naming anyone.

use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use super::access::{
    ACTION, Action, ActionAccess, Follower, Owner, ProgrammeAccess, Public, Team, Voiced,
    action_from,
};
use super::model::{ActionStatus, MAX_TEXT, MAX_TITLE, choice, text};
use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

/// What the team types to start an action.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ActionInput {
    pub title: String,
    pub description: String,
    pub owner_id: String,
    pub due_on: String,
}

/// Turn voices of a programme into an action (the programme team).
pub async fn create(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &ActionInput,
    voice_ids: &[String],
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Team>::check(&mut tx, Some(actor), programme).await?;
    let id = create_in(&mut tx, actor, &p, input, voice_ids, true).await?;
    tx.commit().await?;
    Ok(id)
}

/// Start an action inside the caller's transaction (the team's proof in hand); a decision
/// that leads to change starts one this way, with the voices behind the decision, if any
/// (`voices_required` false).
pub(super) async fn create_in(
    tx: &mut crate::db::Tx,
    actor: &Actor,
    p: &ProgrammeAccess<Team>,
    input: &ActionInput,
    voice_ids: &[String],
    voices_required: bool,
) -> Result<String, AppError> {
    let mut e = Vec::new();
    let title = text(&input.title, "title", "what will change", MAX_TITLE, &mut e);
    let description = text(
        &input.description,
        "description",
        "what you heard and what you will do",
        MAX_TEXT,
        &mut e,
    );
    let owners = super::service::member_rows(tx, &p.id).await?;
    if !owners
        .iter()
        .any(|m| m.user_id == input.owner_id && m.role == "responsible")
    {
        e.push(FieldError::new(
            "owner_id",
            "Choose an owner from the programme team",
        ));
    }
    if crate::dates::parse_date(&input.due_on).is_none() {
        e.push(FieldError::new(
            "due_on",
            "Enter the due date as year-month-day, for example 2026-03-31",
        ));
    }
    let mut voices = voice_ids.to_vec();
    voices.sort();
    voices.dedup();
    let mut known = 0;
    for v in &voices {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM programme_voices WHERE id = $1 AND programme_id = $2",
        )
        .bind(v.clone())
        .bind(p.id.clone())
        .fetch_one(&mut **tx)
        .await?;
        known += n;
    }
    if (voices_required && voices.is_empty()) || known != voices.len() as i64 {
        e.push(FieldError::new(
            "voices",
            "Choose at least one voice of this programme that the action answers",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = new_id();
    let t = now();
    sqlx::query("INSERT INTO programme_actions (id, programme_id, title, description, owner_id, due_on, status, created_by, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, 'planned', $7, $8, $8)")
        .bind(id.clone())
        .bind(p.id.clone())
        .bind(title)
        .bind(description)
        .bind(input.owner_id.clone())
        .bind(input.due_on.trim().to_string())
        .bind(actor.user_id.clone())
        .bind(t)
        .execute(&mut **tx)
        .await?;
    for v in &voices {
        sqlx::query("INSERT INTO programme_action_voices (action_id, voice_id) VALUES ($1, $2)")
            .bind(id.clone())
            .bind(v.clone())
            .execute(&mut **tx)
            .await?;
    }
    audit::by(
        tx,
        actor,
        "action.create",
        "programme_action",
        Some(&id),
        json!({ "programme": p.id, "voices": voices.len() }),
    )
    .await?;
    Ok(id)
}

/// One progress update.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Update {
    pub body: String,
    pub status: String,
    pub created_at: i64,
}

/// A reply from someone whose voice started the action.
#[derive(Debug, Clone)]
pub struct Reply {
    pub body: String,
    pub mine: bool,
    pub created_at: i64,
}

/// An action as its followers see it.
pub struct ActionView {
    pub action: ActionAccess<Follower>,
    pub updates: Vec<Update>,
    /// Replies: every one for the team, only their own for someone who spoke.
    pub replies: Vec<Reply>,
    /// The voices behind it, as (id, kind label) — for the team and their authors.
    pub voices: Vec<(String, String)>,
}

async fn updates(conn: &mut sqlx::AnyConnection, action: &str) -> Result<Vec<Update>, AppError> {
    let rows = sqlx::query("SELECT body, status, created_at FROM programme_action_updates WHERE action_id = $1 ORDER BY created_at DESC, id DESC")
        .bind(action.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Update {
                body: r.try_get("body")?,
                status: r.try_get("status")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// An action, its updates and replies, for the team and the people whose voices started
/// it; reading marks the reader's notifications about it as read.
pub async fn view(state: &AppState, actor: &Actor, id: &str) -> Result<ActionView, AppError> {
    let mut tx = state.db.begin().await?;
    let a = ActionAccess::<Follower>::check(&mut tx, actor, id).await?;
    let updates = updates(&mut tx, &a.id).await?;
    let team = a.standing() >= super::access::Standing::Team;
    let rows = sqlx::query("SELECT body, author_id, created_at FROM programme_action_replies WHERE action_id = $1 ORDER BY created_at, id")
        .bind(a.id.clone())
        .fetch_all(&mut *tx)
        .await?;
    let mut replies = Vec::new();
    for r in &rows {
        let author: String = r.try_get("author_id")?;
        let mine = author == actor.user_id;
        if team || mine {
            replies.push(Reply {
                body: r.try_get("body")?,
                mine,
                created_at: r.try_get("created_at")?,
            });
        }
    }
    let rows = sqlx::query("SELECT v.id, v.kind, v.author_id FROM programme_action_voices av JOIN programme_voices v ON v.id = av.voice_id WHERE av.action_id = $1 ORDER BY v.created_at, v.id")
        .bind(a.id.clone())
        .fetch_all(&mut *tx)
        .await?;
    let mut voices = Vec::new();
    for r in &rows {
        let author: Option<String> = r.try_get("author_id")?;
        if team || author.as_deref() == Some(actor.user_id.as_str()) {
            let kind: String = r.try_get("kind")?;
            let label = super::model::VoiceKind::from_code(&kind)
                .map(|k| k.label())
                .unwrap_or("Voice");
            voices.push((r.try_get("id")?, label.to_string()));
        }
    }
    sqlx::query("UPDATE programme_notifications SET read_at = $1 WHERE user_id = $2 AND action_id = $3 AND read_at IS NULL")
        .bind(now())
        .bind(actor.user_id.clone())
        .bind(a.id.clone())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ActionView {
        action: a,
        updates,
        replies,
        voices,
    })
}

/// A progress update.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct UpdateInput {
    pub body: String,
    pub status: String,
}

/// Post progress (the owner or a manager): sets the status, and notifies each person
/// whose voice started the action — in the app, and by email where they agreed to contact.
pub async fn post_update(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &UpdateInput,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let a = ActionAccess::<Owner>::check(&mut tx, actor, id).await?;
    let mut e = Vec::new();
    let body = text(&input.body, "body", "what has happened", MAX_TEXT, &mut e);
    let status = choice(
        &input.status,
        ActionStatus::from_code,
        "status",
        "Choose where the action stands",
        &mut e,
    );
    let Some(status) = status.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let update = new_id();
    let t = now();
    sqlx::query("INSERT INTO programme_action_updates (id, action_id, author_id, body, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(update.clone())
        .bind(a.id.clone())
        .bind(actor.user_id.clone())
        .bind(body)
        .bind(status.code())
        .bind(t)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE programme_actions SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.code())
        .bind(t)
        .bind(a.id.clone())
        .execute(&mut *tx)
        .await?;
    // One notification per person who spoke (through their first voice behind it).
    let rows = sqlx::query("SELECT v.author_id, MIN(v.id) AS voice_id FROM programme_action_voices av JOIN programme_voices v ON v.id = av.voice_id \
        WHERE av.action_id = $1 AND v.author_id IS NOT NULL AND v.author_id <> $2 GROUP BY v.author_id")
        .bind(a.id.clone())
        .bind(actor.user_id.clone())
        .fetch_all(&mut *tx)
        .await?;
    let mut told = Vec::new();
    for r in &rows {
        let user: String = r.try_get("author_id")?;
        let voice: String = r.try_get("voice_id")?;
        sqlx::query("INSERT INTO programme_notifications (id, user_id, voice_id, action_id, update_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(new_id())
            .bind(user.clone())
            .bind(voice)
            .bind(a.id.clone())
            .bind(update.clone())
            .bind(t)
            .execute(&mut *tx)
            .await?;
        told.push(user);
    }
    let emailed = email_those_who_agreed(&mut tx, state, &told, &a.id).await?;
    audit::by(
        &mut tx,
        actor,
        "action.update",
        "programme_action",
        Some(&a.id),
        json!({ "status": status.code(), "notified": told.len(), "emailed": emailed }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Email the people who agreed to be contacted (a participant account linked to a person
/// record whose `contact` consent is given) and did not switch progress emails off in their
/// notification settings: a link only, no words of the update.
async fn email_those_who_agreed(
    tx: &mut crate::db::Tx,
    state: &AppState,
    users: &[String],
    action: &str,
) -> Result<usize, AppError> {
    let mut agreed = Vec::new();
    for u in users {
        // The same rule as before (agreed to contact), and their own switch in the settings.
        if super::settings::of(tx, u).await?.emails_progress() {
            agreed.push(u.clone());
        }
    }
    let emails = crate::modules::accounts::store::enabled_emails_by_id(tx, &agreed).await?;
    let link = format!(
        "{}/actions/{action}",
        state.cfg.base_url.trim_end_matches('/')
    );
    for u in &agreed {
        if let Some(to) = emails.get(u) {
            crate::notify::queue_email(
                tx,
                to,
                "There is news on something you told us",
                &format!("There is a progress update on an action that started with what you shared.\n\nRead it and reply: {link}\n"),
            )
            .await?;
        }
    }
    Ok(agreed.len())
}

/// Reply to an update (someone whose voice started the action).
pub async fn reply(state: &AppState, actor: &Actor, id: &str, body: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let a = ActionAccess::<Voiced>::check(&mut tx, actor, id).await?;
    let mut e = Vec::new();
    let body = text(body, "reply", "your reply", MAX_TEXT, &mut e);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let voice = a.own_voices().first().cloned().ok_or(AppError::NotFound)?;
    sqlx::query("INSERT INTO programme_action_replies (id, action_id, voice_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(new_id())
        .bind(a.id.clone())
        .bind(voice)
        .bind(actor.user_id.clone())
        .bind(body)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "action.reply",
        "programme_action",
        Some(&a.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An action on the public board: no owner, no voices, no names.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BoardItem {
    pub id: String,
    pub title: String,
    pub description: String,
    pub due_on: String,
    /// `planned`, `in_progress`, `done` or `not_doing`.
    pub status: String,
    pub updates: Vec<Update>,
}

/// Actions per page of the public board.
pub const BOARD_PAGE: i64 = 50;
/// Actions the members' space lists (the rest are on the board).
pub const SPACE_ACTIONS: i64 = 50;

/// One page of the public board: actions by due date, `BOARD_PAGE` at a time, after the
/// `after` marker (`due_on.id` of the last action of the page before; blank for the
/// first), with the marker of the next page. A marker that is not one is a 422 naming it.
pub async fn board(
    state: &AppState,
    actor: Option<&Actor>,
    programme: &str,
    after: &str,
) -> Result<(ProgrammeAccess<Public>, Vec<BoardItem>, Option<String>), AppError> {
    let after = after.trim();
    let cursor = if after.is_empty() {
        None
    } else {
        let ok = after.split_once('.').filter(|(d, i)| {
            crate::dates::parse_date(d).is_some() && !i.is_empty() && i.len() <= 64
        });
        Some(ok.ok_or_else(|| {
            AppError::Invalid(vec![crate::error::FieldError::new(
                "after",
                "The page marker is not valid: go back to the first page of the board",
            )])
        })?)
    };
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Public>::check(&mut conn, actor, programme).await?;
    let rows = match cursor {
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{ACTION} WHERE a.programme_id = $1 ORDER BY a.due_on, a.id LIMIT {}",
                BOARD_PAGE + 1
            )))
            .bind(p.id.clone())
            .fetch_all(&mut *conn)
            .await?
        }
        Some((due, id)) => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{ACTION} WHERE a.programme_id = $1 AND (a.due_on > $2 OR (a.due_on = $2 AND a.id > $3)) \
                 ORDER BY a.due_on, a.id LIMIT {}",
                BOARD_PAGE + 1
            )))
            .bind(p.id.clone())
            .bind(due.to_string())
            .bind(id.to_string())
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut actions: Vec<Action> = rows.iter().map(action_from).collect::<Result<_, _>>()?;
    let next = if actions.len() as i64 > BOARD_PAGE {
        actions.truncate(BOARD_PAGE as usize);
        actions.last().map(|a| format!("{}.{}", a.due_on, a.id))
    } else {
        None
    };
    let mut updates = updates_of(&mut conn, &actions).await?;
    let out = actions
        .into_iter()
        .map(|a| BoardItem {
            updates: updates.remove(&a.id).unwrap_or_default(),
            id: a.id,
            title: a.title,
            description: a.description,
            due_on: a.due_on,
            status: a.status.code().to_string(),
        })
        .collect();
    Ok((p, out, next))
}

/// The updates of several actions in one query, newest first for each.
async fn updates_of(
    conn: &mut sqlx::AnyConnection,
    actions: &[Action],
) -> Result<std::collections::HashMap<String, Vec<Update>>, AppError> {
    let mut out: std::collections::HashMap<String, Vec<Update>> = Default::default();
    if actions.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (1..=actions.len()).map(|i| format!("${i}")).collect();
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT action_id, body, status, created_at FROM programme_action_updates WHERE action_id IN ({}) \
         ORDER BY created_at DESC, id DESC",
        marks.join(", ")
    )));
    for a in actions {
        q = q.bind(a.id.clone());
    }
    for r in q.fetch_all(&mut *conn).await? {
        out.entry(r.try_get("action_id")?)
            .or_default()
            .push(Update {
                body: r.try_get("body")?,
                status: r.try_get("status")?,
                created_at: r.try_get("created_at")?,
            });
    }
    Ok(out)
}

/// Actions of a programme for its members' space (title, owner, status): the
/// [`SPACE_ACTIONS`] due soonest, and how many there are.
pub async fn for_programme(
    conn: &mut sqlx::AnyConnection,
    programme: &str,
) -> Result<(Vec<Action>, i64), AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ACTION} WHERE a.programme_id = $1 ORDER BY a.due_on, a.id LIMIT {SPACE_ACTIONS}"
    )))
    .bind(programme.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM programme_actions WHERE programme_id = $1")
            .bind(programme.to_string())
            .fetch_one(&mut *conn)
            .await?;
    let actions = rows
        .iter()
        .map(action_from)
        .collect::<Result<_, _>>()
        .map_err(AppError::from)?;
    Ok((actions, count))
}

/// A notification of progress on an action that started with the person's voice.
#[derive(Debug, Clone)]
pub struct Notification {
    pub action_id: String,
    pub title: String,
    pub programme: String,
    pub created_at: i64,
    pub unread: bool,
}

/// The actor's notifications, newest first.
pub async fn notifications(state: &AppState, actor: &Actor) -> Result<Vec<Notification>, AppError> {
    let rows = sqlx::query("SELECT n.action_id, a.title, p.name, n.created_at, n.read_at FROM programme_notifications n \
        JOIN programme_actions a ON a.id = n.action_id JOIN programmes p ON p.id = a.programme_id \
        WHERE n.user_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT 50")
        .bind(actor.user_id.clone())
        .fetch_all(&state.db.read)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Notification {
                action_id: r.try_get("action_id")?,
                title: r.try_get("title")?,
                programme: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                unread: r.try_get::<Option<i64>, _>("read_at")?.is_none(),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}
