//! The programme's Atom 1.0 feed (RFC 4287) at `/programmes/{id}/feed.atom`: its public
//! updates and its public board, and nothing else. The board part is built from
//! [`actions::board`] — the very list the public board page shows — so the feed can never
//! show more than the board does: no owner, no voices, no names. Public updates are shown
//! without who posted them. Voices are not in the feed at all, so a withdrawn (deleted)
//! voice cannot appear.
//!
//! Every entry's id is `urn:uuid:` of the record (an update or an action), stable for its
//! life; an action's entry carries its progress in its content and its `updated` moves with
//! each progress update. Text is escaped for XML and characters XML 1.0 forbids are dropped.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use super::actions::{self, BoardItem};
use super::model::ActionStatus;
use super::updates::{self, Update};
use crate::error::AppError;
use crate::state::AppState;

/// The feed's media type.
pub const ATOM: &str = "application/atom+xml; charset=utf-8";

/// Escape text for XML content and attributes, dropping characters XML 1.0 does not allow.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Unix seconds as an RFC 3339 date-time (UTC).
pub fn rfc3339(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// One entry, written out.
struct Entry {
    id: String,
    title: String,
    updated: i64,
    published: i64,
    link: String,
    content: String,
}

fn entry(e: &Entry) -> String {
    format!(
        "  <entry>\n    <id>urn:uuid:{}</id>\n    <title type=\"text\">{}</title>\n    <published>{}</published>\n    <updated>{}</updated>\n    \
         <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n    <content type=\"text\">{}</content>\n  </entry>\n",
        escape(&e.id),
        escape(&e.title),
        rfc3339(e.published),
        rfc3339(e.updated),
        escape(&e.link),
        escape(&e.content),
    )
}

fn update_entry(base: &str, u: &Update) -> Entry {
    Entry {
        id: u.id.clone(),
        title: u.title.clone(),
        updated: u.updated_at,
        published: u.created_at,
        link: format!("{base}/programmes/{}/about#update-{}", u.programme_id, u.id),
        content: u.body.clone(),
    }
}

fn action_entry(base: &str, programme: &str, a: &BoardItem, times: (i64, i64)) -> Entry {
    let status = ActionStatus::from_code(&a.status).map_or("", |s| s.label());
    let mut content = format!(
        "You said, we did. Status: {status}. Due {}.\n\n{}",
        a.due_on, a.description
    );
    if !a.updates.is_empty() {
        content.push_str("\n\nProgress:");
        for u in &a.updates {
            content.push_str(&format!(
                "\n{}: {}",
                crate::db::date_of(u.created_at),
                u.body
            ));
        }
    }
    let latest = a.updates.iter().map(|u| u.created_at).max().unwrap_or(0);
    Entry {
        id: a.id.clone(),
        title: a.title.clone(),
        updated: times.1.max(latest),
        published: times.0,
        link: format!("{base}/programmes/{programme}/board#action-{}", a.id),
        content,
    }
}

/// Write the feed of a programme: its public updates and its public board.
pub fn render(
    base: &str,
    p: &super::access::Programme,
    public_updates: &[Update],
    board: &[BoardItem],
    times: &std::collections::HashMap<String, (i64, i64)>,
) -> String {
    let mut entries: Vec<Entry> = public_updates
        .iter()
        .map(|u| update_entry(base, u))
        .collect();
    for a in board {
        let t = times
            .get(&a.id)
            .copied()
            .unwrap_or((p.created_at, p.created_at));
        entries.push(action_entry(base, &p.id, a, t));
    }
    entries.sort_by(|a, b| b.updated.cmp(&a.updated).then_with(|| a.id.cmp(&b.id)));
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(p.created_at);
    let about = format!("{base}/programmes/{}/about", p.id);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en-GB\">\n  \
         <id>urn:uuid:{}</id>\n  <title type=\"text\">{}: updates and you said, we did</title>\n  \
         <subtitle type=\"text\">Public updates from the programme, and what it is doing about what participants told it. Nobody is named.</subtitle>\n  \
         <updated>{}</updated>\n  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n  \
         <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n  <author>\n    <name>{}</name>\n    <uri>{}</uri>\n  </author>\n  \
         <generator>Ensemble</generator>\n",
        escape(&p.id),
        escape(&p.name),
        rfc3339(updated),
        escape(&format!("{base}/programmes/{}/feed.atom", p.id)),
        escape(&about),
        escape(&p.name),
        escape(&about),
    );
    for e in &entries {
        out.push_str(&entry(e));
    }
    out.push_str("</feed>\n");
    out
}

/// GET /programmes/{id}/feed.atom (public)
pub async fn feed(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    // The board's first page: the same actions, in the same order, as `/board` opens on.
    let (p, board, _) = actions::board(&state, None, &id, "").await?;
    let mut conn = state.db.read.acquire().await?;
    let news = updates::public(&mut conn, &p).await?;
    let rows = sqlx::query(
        "SELECT id, created_at, updated_at FROM programme_actions WHERE programme_id = $1",
    )
    .bind(p.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let mut times = std::collections::HashMap::new();
    for r in &rows {
        times.insert(
            r.try_get::<String, _>("id")?,
            (r.try_get("created_at")?, r.try_get("updated_at")?),
        );
    }
    drop(conn);
    let base = state.cfg.base_url.trim_end_matches('/');
    let xml = render(base, &p, &news, &board, &times);
    Ok(([(header::CONTENT_TYPE, ATOM)], xml).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_text_safe_for_xml() {
        assert_eq!(
            escape("<script>a & 'b' \"c\"</script>\u{1}"),
            "&lt;script&gt;a &amp; &apos;b&apos; &quot;c&quot;&lt;/script&gt;"
        );
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
