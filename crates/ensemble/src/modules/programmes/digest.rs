//! The weekly digest: once a week, an email to each member who has it on (see
//! [`super::settings`]) summarising what happened in their programmes the week before —
//! counts of new voices they may read, the titles of new actions and of actions that
//! progressed, replies and their own news — built from the same sources and rules as their
//! feed ([`super::feed::between`]), so nothing they may not read is counted.
//!
//! The job (`programme_weekly_digest`) is scheduled daily; each run covers the last whole
//! week (Monday to Sunday, UTC) and writes a `programme_digest_sends` row (person, week) in
//! the same transaction as the email, so a second run in the same week sends nothing. Each
//! email carries a signed link (`/digest/off/{token}`, valid 60 days) that switches the
//! digest off without signing in. Logs carry counts only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::feed::{self, FeedItem, Source};
use super::link::{LinkError, mac};
use crate::auth::secret::constant_time_eq;
use crate::db::now;
use crate::error::AppError;
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::forms::{button, csrf};
use crate::web::layout::long_date;
use crate::web::{Page, PageCtx, page};

/// How long an unsubscribe link works, in days.
pub const LINK_DAYS: i64 = 60;
/// The most items one digest looks at.
const CAP: usize = 500;
const DAY: i64 = 86_400;

/// The digest job, queued once a day.
pub struct WeeklyDigest;

impl crate::jobs::JobKind for WeeklyDigest {
    const KIND: &'static str = "programme_weekly_digest";
    type Payload = ();

    async fn run(state: &AppState, (): ()) -> anyhow::Result<()> {
        let n = send_weekly(state, now())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tracing::info!(emails = n, "queued weekly programme digests");
        Ok(())
    }
}

/// The unsubscribe token of an account until `expires_at`.
pub fn token(secret: &[u8], user: &str, expires_at: i64) -> String {
    let value = format!("{user}.{expires_at}");
    format!("{value}.{}", mac(secret, "digest-off", &value))
}

/// The account a token names, if genuine and not expired at `now`.
pub fn check(secret: &[u8], token: &str, now: i64) -> Result<String, LinkError> {
    let (value, sig) = token.rsplit_once('.').ok_or(LinkError::Forged)?;
    if !constant_time_eq(&mac(secret, "digest-off", value), sig) {
        return Err(LinkError::Forged);
    }
    let (user, expires) = value.rsplit_once('.').ok_or(LinkError::Forged)?;
    let expires: i64 = expires.parse().map_err(|_| LinkError::Forged)?;
    if now >= expires {
        return Err(LinkError::Expired(crate::web::layout::datetime(expires)));
    }
    Ok(user.to_string())
}

/// The week a run at `now` covers: `[start, end)`, Monday 00:00 UTC to the next.
pub fn last_week(now: i64) -> (i64, i64) {
    let day = now.div_euclid(DAY);
    let monday = day - (day + 3).rem_euclid(7); // 1 January 1970 was a Thursday.
    ((monday - 7) * DAY, monday * DAY)
}

fn iso(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|d| d.date().to_string())
        .unwrap_or_default()
}

/// The text of one person's digest, or `None` when nothing happened.
pub fn compose(items: &[FeedItem], from: i64, base: &str, off_link: &str) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let mut programmes: Vec<(String, String)> = Vec::new();
    for i in items {
        if !programmes.iter().any(|p| p.0 == i.programme_id) {
            programmes.push((i.programme_id.clone(), i.programme.clone()));
        }
    }
    let mut out = format!(
        "What happened in your programmes in the week from {}:\n",
        long_date(from)
    );
    for (id, name) in &programmes {
        let of = |k: Source| -> Vec<&FeedItem> {
            items
                .iter()
                .filter(|i| &i.programme_id == id && i.kind == k)
                .collect()
        };
        out.push_str(&format!("\n{name}\n"));
        let voices = of(Source::Voice).len();
        if voices > 0 {
            out.push_str(&format!("- New voices you can read: {voices}\n"));
        }
        for a in of(Source::Action) {
            out.push_str(&format!("- New action: {}\n", a.title));
        }
        let mut progressed: Vec<String> = of(Source::Update)
            .iter()
            .chain(of(Source::Notification).iter())
            .map(|u| u.title.split(" — ").next().unwrap_or_default().to_string())
            .collect();
        progressed.sort();
        progressed.dedup();
        if !progressed.is_empty() {
            out.push_str(&format!("- Actions with progress: {}\n", progressed.len()));
        }
        let news = of(Source::Notification).len();
        if news > 0 {
            out.push_str(&format!(
                "- News on what you told us: {news} (read it in Ensemble)\n"
            ));
        }
        let replies = of(Source::Reply).len();
        if replies > 0 {
            out.push_str(&format!("- Replies: {replies}\n"));
        }
    }
    out.push_str(&format!(
        "\nRead it all: {base}/feed\nChoose what we send you: {base}/settings/notifications\n\
         Stop the weekly digest (no sign-in needed): {off_link}\n"
    ));
    Some(out)
}

/// Send last week's digest to each member who has it on and has not had it yet; returns
/// how many were queued.
pub async fn send_weekly(state: &AppState, at: i64) -> Result<usize, AppError> {
    let (from, to) = last_week(at);
    let week = iso(from);
    let base = state.cfg.base_url.trim_end_matches('/').to_string();
    let users: Vec<String> = {
        let mut conn = state.db.read.acquire().await?;
        sqlx::query_scalar(
            "SELECT DISTINCT m.user_id FROM programme_members m WHERE NOT EXISTS \
             (SELECT 1 FROM programme_digest_sends d WHERE d.user_id = m.user_id AND d.week_of = $1) \
             ORDER BY m.user_id",
        )
        .bind(week.clone())
        .fetch_all(&mut *conn)
        .await?
    };
    let mut sent = 0;
    for user in users {
        let (allowed, email) = {
            let mut conn = state.db.read.acquire().await?;
            let s = super::settings::of(&mut conn, &user).await?;
            let emails = crate::modules::accounts::store::enabled_emails_by_id(
                &mut conn,
                std::slice::from_ref(&user),
            )
            .await?;
            (s.emails_digest(), emails.get(&user).cloned())
        };
        let (true, Some(email)) = (allowed, email) else {
            continue;
        };
        let actor = Actor {
            memberships: crate::auth::session::memberships_of(&state.db, &user).await?,
            user_id: user.clone(),
            display_name: String::new(),
            email: email.clone(),
            request_id: None,
            channel: "job",
        };
        let (_, items) = feed::between(state, &actor, from, to, CAP).await?;
        let off = format!(
            "{base}/digest/off/{}",
            token(&state.secret, &user, at + LINK_DAYS * DAY)
        );
        let Some(body) = compose(&items, from, &base, &off) else {
            continue;
        };
        let mut tx = state.db.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO programme_digest_sends (user_id, week_of, items, sent_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, week_of) DO NOTHING",
        )
        .bind(user.clone())
        .bind(week.clone())
        .bind(items.len() as i64)
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fresh == 0 {
            continue;
        }
        crate::notify::queue_email(&mut tx, &email, "This week in your programmes", &body).await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

fn refused(ctx: &PageCtx, e: &LinkError) -> Response {
    let (status, title) = match e {
        // `Ended` is for share links; an unsubscribe link is never ended, so it reads as forged.
        LinkError::Forged | LinkError::Ended => (StatusCode::BAD_REQUEST, "This link is not valid"),
        LinkError::Expired(_) => (StatusCode::GONE, "This link has expired"),
    };
    let msg = match e {
        LinkError::Forged | LinkError::Ended => "This link is not valid. Check it was copied in full, or sign in and change your notification settings.".to_string(),
        LinkError::Expired(when) => format!("This link expired on {when}. Sign in and change your notification settings instead."),
    };
    let body = html! { h1 { (title) } p."nhsuk-body" { (msg) } p."nhsuk-body" { a href="/settings/notifications" { "Notification settings" } } };
    (status, page(ctx, Page::new(title, body))).into_response()
}

/// GET /digest/off/{token} — asks to confirm (a link opened by a mail scanner changes
/// nothing).
pub async fn off_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(t): Path<String>,
) -> Result<Response, AppError> {
    if let Err(e) = check(&state.secret, &t, now()) {
        return Ok(refused(&ctx, &e));
    }
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            h1 { "Stop the weekly digest" }
            p."nhsuk-body" { "You will no longer get the weekly email about your programmes. News still shows in Ensemble, and you can switch the digest back on in your notification settings." }
            form method="post" action=(format!("/digest/off/{t}")) { (csrf(&ctx)) (button("Stop the weekly digest")) }
        } }
    };
    Ok(page(&ctx, Page::new("Stop the weekly digest", body)))
}

/// POST /digest/off/{token} — switches the digest off and confirms.
pub async fn off(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(t): Path<String>,
) -> Result<Response, AppError> {
    let user = match check(&state.secret, &t, now()) {
        Ok(u) => u,
        Err(e) => return Ok(refused(&ctx, &e)),
    };
    super::settings::digest_off_by_link(&state, &user, &ctx.req.request_id).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            div."nhsuk-panel" { h1."nhsuk-panel__title" { "The weekly digest is off" } }
            p."nhsuk-body" { "We will not send you the weekly digest any more. To switch it back on, sign in and open your "
                a href="/settings/notifications" { "notification settings" } "." }
        } }
    };
    Ok(page(&ctx, Page::new("The weekly digest is off", body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_tokens_are_signed_and_expire() {
        let s = b"secret";
        let t = token(s, "u1", 1_000);
        assert_eq!(check(s, &t, 999), Ok("u1".into()));
        assert!(matches!(check(s, &t, 1_000), Err(LinkError::Expired(_))));
        assert_eq!(check(b"other", &t, 0), Err(LinkError::Forged));
        assert_eq!(check(s, &t.replace("u1", "u2"), 0), Err(LinkError::Forged));
        assert_eq!(check(s, "nonsense", 0), Err(LinkError::Forged));
    }

    #[test]
    fn the_digest_covers_the_last_whole_week_from_monday() {
        // Monday 7 December 2026, 08:00 UTC.
        let now = 1_796_601_600 + 8 * 3600;
        let (from, to) = last_week(now);
        assert_eq!(iso(from), "2026-11-30");
        assert_eq!(iso(to), "2026-12-07");
        assert_eq!(last_week(to), (from, to));
        assert_eq!(last_week(to - 1).1, from);
    }
}
