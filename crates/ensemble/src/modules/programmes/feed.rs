//! The per-person feed: what happened in every programme the person belongs to, newest
//! first — voices they may read, actions, progress updates, replies and their own
//! notifications — paged by a keyset cursor (never OFFSET).
//!
//! The feed is a list of **sources** ([`Source::ALL`]). Each source is one query over one
//! table (or one join), filtered to the person's programmes and to what their standing
//! there lets them read, ordered by `(time, id)` descending and cut at the cursor; the
//! sources' answers are merged by `(time, kind, id)` and the first page taken. Adding a kind
//! of item (plan revisions, updates, proposals, decisions) is one more variant and one more
//! query; nothing else changes. Which programmes and standings count comes from
//! [`ProgrammeAccess<Member>`] (one proof per programme), and every voice is checked again
//! with [`access::may_read`] after the query, so the SQL filter can only narrow, never widen,
//! what the record-access rules allow.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use super::access::{self, Member, ProgrammeAccess, Standing, VOICE, voice_from};
use super::model::ActionStatus;
use crate::db::{Bind, bind_all, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

/// Items per page when none is asked for, and the most one page may hold.
pub const PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

/// What a feed item is (the code sorts items of the same second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A voice the person may read.
    Voice,
    /// A new action ("you said, we did").
    Action,
    /// A progress update on an action.
    Update,
    /// A reply to an action (every reply for the team; one's own for everyone else).
    Reply,
    /// The person's own notification: progress on an action that began with their voice.
    Notification,
    /// News the team posted on the programme (members-only or public).
    News,
    /// A proposal a member made (a research question, a measure, a change).
    Proposal,
    /// A decision logged, with or without a proposal.
    Decision,
}

impl Source {
    /// Every source the feed merges.
    pub const ALL: [Source; 8] = [
        Source::Voice,
        Source::Action,
        Source::Update,
        Source::Reply,
        Source::Notification,
        Source::News,
        Source::Proposal,
        Source::Decision,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Source::Voice => "voice",
            Source::Action => "action",
            Source::Update => "update",
            Source::Reply => "reply",
            Source::Notification => "notification",
            Source::News => "news",
            Source::Proposal => "proposal",
            Source::Decision => "decision",
        }
    }
    pub fn from_code(c: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == c)
    }
    pub fn label(self) -> &'static str {
        match self {
            Source::Voice => "Voice",
            Source::Action => "New action",
            Source::Update => "Progress",
            Source::Reply => "Reply",
            Source::Notification => "News on what you told us",
            Source::News => "Programme news",
            Source::Proposal => "Proposal",
            Source::Decision => "Decision",
        }
    }
}

/// One item of the feed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedItem {
    /// Unix seconds.
    pub at: i64,
    pub kind: Source,
    /// The id of the voice, action, update, reply or notification.
    pub id: String,
    pub programme_id: String,
    pub programme: String,
    /// What happened, in a line (a voice's first words; an action's title).
    pub title: String,
    /// Where to read it.
    pub link: String,
    /// Only notifications: not read yet.
    pub unread: bool,
}

impl FeedItem {
    fn key(&self) -> (i64, &'static str, &str) {
        (self.at, self.kind.code(), self.id.as_str())
    }
    /// The cursor that continues after this item.
    pub fn cursor(&self) -> String {
        format!("{}.{}.{}", self.at, self.kind.code(), self.id)
    }
}

/// Where a page starts: strictly after (older than) this item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub kind: Source,
    pub id: String,
}

impl Cursor {
    /// Parse `?before=`; blank is the first page.
    pub fn parse(s: &str) -> Result<Option<Cursor>, AppError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let bad = || {
            AppError::Invalid(vec![FieldError::new(
                "before",
                "The page marker is not valid: go back to the first page of the feed",
            )])
        };
        let mut parts = s.splitn(3, '.');
        let at = parts.next().and_then(|a| a.parse().ok()).ok_or_else(bad)?;
        let kind = parts.next().and_then(Source::from_code).ok_or_else(bad)?;
        let id = parts
            .next()
            .filter(|i| !i.is_empty() && i.len() <= 64)
            .ok_or_else(bad)?;
        Ok(Some(Cursor {
            at,
            kind,
            id: id.to_string(),
        }))
    }
}

/// The programmes the person belongs to, each with their standing (proved by
/// [`ProgrammeAccess<Member>`]).
pub struct Reach {
    pub programmes: Vec<ProgrammeAccess<Member>>,
}

impl Reach {
    fn name(&self, id: &str) -> String {
        self.programmes
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    }
    fn standing(&self, id: &str) -> Standing {
        self.programmes
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.standing())
            .unwrap_or(Standing::Outside)
    }
    fn ids(&self, at_least: Standing) -> Vec<String> {
        self.programmes
            .iter()
            .filter(|p| p.standing() >= at_least)
            .map(|p| p.id.clone())
            .collect()
    }
}

/// Work out the person's programmes and standings, each through the access proof.
pub async fn reach(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
) -> Result<Reach, AppError> {
    let mut programmes = Vec::new();
    for p in super::service::mine(state, actor).await? {
        match ProgrammeAccess::<Member>::check(conn, Some(actor), &p.id).await {
            Ok(a) => programmes.push(a),
            Err(AppError::Forbidden | AppError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Reach { programmes })
}

/// A query being built: SQL and its binds, numbered in order.
struct Q {
    sql: String,
    binds: Vec<Bind>,
}

impl Q {
    fn new(sql: &str) -> Self {
        Q {
            sql: sql.to_string(),
            binds: Vec::new(),
        }
    }
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }
    fn list(&mut self, ids: &[String]) -> String {
        if ids.is_empty() {
            return "(NULL)".into();
        }
        let p: Vec<String> = ids.iter().map(|i| self.bind(Bind::T(i.clone()))).collect();
        format!("({})", p.join(", "))
    }
    /// Items of `kind` strictly older than the cursor in `(time, kind, id)` order.
    fn before(&mut self, kind: Source, at: &str, id: &str, c: Option<&Cursor>) -> String {
        let Some(c) = c else {
            return "1 = 1".into();
        };
        let t = self.bind(Bind::I(c.at));
        match kind.code().cmp(c.kind.code()) {
            std::cmp::Ordering::Less => format!("{at} <= {t}"),
            std::cmp::Ordering::Greater => format!("{at} < {t}"),
            std::cmp::Ordering::Equal => {
                let i = self.bind(Bind::T(c.id.clone()));
                format!("({at} < {t} OR ({at} = {t} AND {id} < {i}))")
            }
        }
    }
    fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }
    async fn rows(
        self,
        conn: &mut sqlx::AnyConnection,
    ) -> Result<Vec<sqlx::any::AnyRow>, AppError> {
        Ok(
            bind_all(sqlx::query(sqlx::AssertSqlSafe(self.sql)), &self.binds)
                .fetch_all(&mut *conn)
                .await?,
        )
    }
}

/// The programmes of `all` not in `team`.
fn others_of(all: &[String], team: &[String]) -> Vec<String> {
    all.iter().filter(|p| !team.contains(p)).cloned().collect()
}

/// `(a) OR (b)`, leaving out a side that does not apply (neither: nothing matches), so the
/// planner sees one simple condition whenever it can.
fn either(use_a: bool, a: String, b: Option<String>) -> String {
    match (use_a, b) {
        (true, Some(b)) => format!("(({a}) OR ({b}))"),
        (true, None) => format!("({a})"),
        (false, Some(b)) => format!("({b})"),
        (false, None) => "1 = 0".into(),
    }
}

fn excerpt(s: &str, n: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= n {
        one
    } else {
        format!("{}…", one.chars().take(n).collect::<String>())
    }
}

fn status_label(code: &str) -> &'static str {
    ActionStatus::from_code(code)
        .map(|s| s.label())
        .unwrap_or("Updated")
}

impl Source {
    /// This source's items in the reach, older than the cursor, newest first, at most `n`.
    async fn fetch(
        self,
        conn: &mut sqlx::AnyConnection,
        reach: &Reach,
        actor: &Actor,
        c: Option<&Cursor>,
        n: usize,
    ) -> Result<Vec<FeedItem>, AppError> {
        let all = reach.ids(Standing::Member);
        let team = reach.ids(Standing::Team);
        let limit = format!(" LIMIT {}", n);
        let item = |at, id: String, p: String, title, link, unread| FeedItem {
            at,
            kind: self,
            id,
            programme: reach.name(&p),
            programme_id: p,
            title,
            link,
            unread,
        };
        let mut out = Vec::new();
        match self {
            Source::Voice => {
                // Narrowed in SQL by standing; each row is checked again by `may_read`.
                let mut q = Q::new(VOICE);
                let others = others_of(&all, &team);
                let t = q.list(&team);
                let b = (!others.is_empty()).then(|| {
                    let m = q.list(&others);
                    let me = q.bind(Bind::T(actor.user_id.clone()));
                    format!(
                        "programme_id IN {m} AND (visibility = 'members' \
                         OR (visibility = 'public' AND moderation = 'approved') OR author_id = {me})"
                    )
                });
                let who = either(!team.is_empty(), format!("programme_id IN {t}"), b);
                let before = q.before(self, "created_at", "id", c);
                q.push(&format!(
                    " WHERE {who} AND {before} ORDER BY created_at DESC, id DESC{limit}"
                ));
                for r in q.rows(conn).await? {
                    let v = voice_from(&r)?;
                    let mine = v.author_id.as_deref() == Some(actor.user_id.as_str());
                    if !access::may_read(&v, reach.standing(&v.programme_id), mine) {
                        continue;
                    }
                    let title = format!(
                        "{}{}: “{}”",
                        v.kind.label(),
                        if mine { " (yours)" } else { "" },
                        excerpt(&v.body, 120)
                    );
                    out.push(item(
                        v.created_at,
                        v.id.clone(),
                        v.programme_id.clone(),
                        title,
                        format!("/voices/{}", v.id),
                        false,
                    ));
                }
            }
            Source::Action => {
                let mut q = Q::new(
                    "SELECT a.id, a.programme_id, a.title, a.created_at FROM programme_actions a",
                );
                let m = q.list(&all);
                let before = q.before(self, "a.created_at", "a.id", c);
                q.push(&format!(
                    " WHERE a.programme_id IN {m} AND {before} ORDER BY a.created_at DESC, a.id DESC{limit}"
                ));
                for r in q.rows(conn).await? {
                    let id: String = r.try_get("id")?;
                    let title: String = r.try_get("title")?;
                    out.push(item(
                        r.try_get("created_at")?,
                        id.clone(),
                        r.try_get("programme_id")?,
                        title,
                        format!("/actions/{id}"),
                        false,
                    ));
                }
            }
            Source::Update => {
                // An update that reached the person as a notification shows once, as that.
                // CROSS JOIN makes SQLite walk the updates newest first (its index on
                // (created_at, id)) and stop at the limit; PostgreSQL plans it as any join.
                let mut q = Q::new(
                    "SELECT u.id, u.action_id, u.status, u.created_at, a.title, a.programme_id \
                     FROM programme_action_updates u CROSS JOIN programme_actions a",
                );
                let m = q.list(&all);
                let me = q.bind(Bind::T(actor.user_id.clone()));
                let before = q.before(self, "u.created_at", "u.id", c);
                q.push(&format!(
                    " WHERE a.id = u.action_id AND a.programme_id IN {m} AND NOT EXISTS (SELECT 1 FROM programme_notifications n \
                     WHERE n.update_id = u.id AND n.user_id = {me}) AND {before} \
                     ORDER BY u.created_at DESC, u.id DESC{limit}"
                ));
                for r in q.rows(conn).await? {
                    let action: String = r.try_get("action_id")?;
                    let status: String = r.try_get("status")?;
                    let title: String = r.try_get("title")?;
                    out.push(item(
                        r.try_get("created_at")?,
                        r.try_get("id")?,
                        r.try_get("programme_id")?,
                        format!("{title} — {}", status_label(&status)),
                        format!("/actions/{action}"),
                        false,
                    ));
                }
            }
            Source::Reply => {
                let mut q = Q::new(
                    "SELECT r.id, r.action_id, r.author_id, r.created_at, a.title, a.programme_id \
                     FROM programme_action_replies r CROSS JOIN programme_actions a",
                );
                let others = others_of(&all, &team);
                let t = q.list(&team);
                let b = (!others.is_empty()).then(|| {
                    let m = q.list(&others);
                    let me = q.bind(Bind::T(actor.user_id.clone()));
                    format!("a.programme_id IN {m} AND r.author_id = {me}")
                });
                let who = either(!team.is_empty(), format!("a.programme_id IN {t}"), b);
                let before = q.before(self, "r.created_at", "r.id", c);
                q.push(&format!(
                    " WHERE a.id = r.action_id AND {who} AND {before} ORDER BY r.created_at DESC, r.id DESC{limit}"
                ));
                for r in q.rows(conn).await? {
                    let action: String = r.try_get("action_id")?;
                    let author: String = r.try_get("author_id")?;
                    let title: String = r.try_get("title")?;
                    let who = if author == actor.user_id {
                        "Your reply"
                    } else {
                        "A reply from someone who spoke"
                    };
                    out.push(item(
                        r.try_get("created_at")?,
                        r.try_get("id")?,
                        r.try_get("programme_id")?,
                        format!("{who} on “{title}”"),
                        format!("/actions/{action}"),
                        false,
                    ));
                }
            }
            Source::Notification => {
                let mut q = Q::new(
                    "SELECT n.id, n.action_id, n.read_at, n.created_at, a.title, a.programme_id \
                     FROM programme_notifications n JOIN programme_actions a ON a.id = n.action_id",
                );
                let me = q.bind(Bind::T(actor.user_id.clone()));
                let m = q.list(&all);
                let before = q.before(self, "n.created_at", "n.id", c);
                q.push(&format!(
                    " WHERE n.user_id = {me} AND a.programme_id IN {m} AND {before} \
                     ORDER BY n.created_at DESC, n.id DESC{limit}"
                ));
                for r in q.rows(conn).await? {
                    let action: String = r.try_get("action_id")?;
                    let title: String = r.try_get("title")?;
                    let read: Option<i64> = r.try_get("read_at")?;
                    out.push(item(
                        r.try_get("created_at")?,
                        r.try_get("id")?,
                        r.try_get("programme_id")?,
                        format!("Progress on “{title}”, which began with what you shared"),
                        format!("/actions/{action}"),
                        read.is_none(),
                    ));
                }
            }
            Source::News | Source::Proposal | Source::Decision => {
                // Every member may read these three: one query each over the programmes.
                let (sql, at, link): (&str, &str, fn(&str, &str) -> String) = match self {
                    Source::News => (
                        "SELECT t.id, t.programme_id, t.title, t.created_at FROM programme_updates t",
                        "t.created_at",
                        |p, id| format!("/programmes/{p}/updates/{id}"),
                    ),
                    Source::Proposal => (
                        "SELECT t.id, t.programme_id, t.title, t.created_at FROM programme_proposals t",
                        "t.created_at",
                        |_, id| format!("/proposals/{id}"),
                    ),
                    _ => (
                        "SELECT t.id, t.programme_id, t.title, t.created_at FROM programme_decisions t",
                        "t.created_at",
                        |p, id| format!("/programmes/{p}/decisions#decision-{id}"),
                    ),
                };
                let mut q = Q::new(sql);
                let m = q.list(&all);
                let before = q.before(self, at, "t.id", c);
                q.push(&format!(
                    " WHERE t.programme_id IN {m} AND {before} ORDER BY {at} DESC, t.id DESC{limit}"
                ));
                for r in q.rows(conn).await? {
                    let id: String = r.try_get("id")?;
                    let p: String = r.try_get("programme_id")?;
                    let title: String = r.try_get("title")?;
                    out.push(item(
                        r.try_get("created_at")?,
                        id.clone(),
                        p.clone(),
                        format!("{}: {title}", self.label()),
                        link(&p, &id),
                        false,
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// One page of the feed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<String>,
    /// The person's notifications not read yet.
    pub unread: i64,
}

/// Merge every source's items older than the cursor and take the first `n`.
pub async fn items_in(
    conn: &mut sqlx::AnyConnection,
    reach: &Reach,
    actor: &Actor,
    c: Option<&Cursor>,
    n: usize,
) -> Result<(Vec<FeedItem>, bool), AppError> {
    let mut all = Vec::new();
    if reach.programmes.is_empty() {
        return Ok((all, false));
    }
    for s in Source::ALL {
        all.extend(s.fetch(conn, reach, actor, c, n + 1).await?);
    }
    all.sort_by(|a, b| b.key().cmp(&a.key()));
    let more = all.len() > n;
    all.truncate(n);
    Ok((all, more))
}

/// The actor's feed, one page.
pub async fn page(
    state: &AppState,
    actor: &Actor,
    before: &str,
    limit: Option<usize>,
) -> Result<FeedPage, AppError> {
    let c = Cursor::parse(before)?;
    let n = limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&n) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "limit",
            format!("Ask for 1 to {MAX_PAGE} items"),
        )]));
    }
    let mut conn = state.db.read.acquire().await?;
    let reach = reach(state, &mut conn, actor).await?;
    let (items, more) = items_in(&mut conn, &reach, actor, c.as_ref(), n).await?;
    let unread = unread(&mut conn, actor).await?;
    Ok(FeedPage {
        next: more.then(|| items.last().map(FeedItem::cursor)).flatten(),
        items,
        unread,
    })
}

/// How many of the actor's notifications are unread.
pub async fn unread(conn: &mut sqlx::AnyConnection, actor: &Actor) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM programme_notifications WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(actor.user_id.clone())
    .fetch_one(&mut *conn)
    .await?)
}

/// Mark every notification of the actor read (their own rows only; nothing to audit: it
/// changes nobody else's record).
pub async fn mark_all_read(state: &AppState, actor: &Actor) -> Result<u64, AppError> {
    let mut tx = state.db.begin().await?;
    let n = sqlx::query(
        "UPDATE programme_notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
    )
    .bind(now())
    .bind(actor.user_id.clone())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// Items of the feed within `[from, to)`, at most `cap`, for the digest (same sources and
/// rules as the page).
pub async fn between(
    state: &AppState,
    actor: &Actor,
    from: i64,
    to: i64,
    cap: usize,
) -> Result<(Reach, Vec<FeedItem>), AppError> {
    let mut conn = state.db.read.acquire().await?;
    let reach = reach(state, &mut conn, actor).await?;
    // Every item older than `to`: "action" is the smallest kind code, so with an empty id
    // the cursor keeps exactly the items at `to - 1` and before.
    let start = Cursor {
        at: to,
        kind: Source::Action,
        id: String::new(),
    };
    let (items, _) = items_in(&mut conn, &reach, actor, Some(&start), cap).await?;
    let items = items.into_iter().filter(|i| i.at >= from).collect();
    Ok((reach, items))
}

/// Count items by programme and kind (for the digest).
pub fn tally(items: &[FeedItem]) -> HashMap<(String, &'static str), usize> {
    let mut out = HashMap::new();
    for i in items {
        *out.entry((i.programme_id.clone(), i.kind.code()))
            .or_insert(0) += 1;
    }
    out
}
