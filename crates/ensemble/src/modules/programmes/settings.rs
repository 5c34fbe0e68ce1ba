//! One page of notification settings per person (`/settings/notifications`).
//!
//! - **In the app**: always on (the feed and "News on what you told us").
//! - **Email on progress** of an action that began with a voice they shared: on unless
//!   switched off, and sent only where they agreed to be contacted (a participant account
//!   linked to a person record whose `contact` consent is given), as before.
//! - **Weekly digest**: when never set, on for people who agreed to be contacted and off for
//!   everyone else (staff accounts included: they switch it on here). Sent only where email
//!   is allowed: agreed to contact, or an account not linked to any person record (staff).
//!
//! Saving is audited (`notification_settings.change`, with the two switches).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use crate::audit;
use crate::db::now;
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, button, csrf, error_summary, radios};
use crate::web::{Page, PageCtx, page};

/// Whether someone agreed to be contacted by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact {
    /// A participant account whose person record has `contact` consent given.
    Agreed,
    /// A participant account whose person record has not (or not yet) got it.
    NotAgreed,
    /// An account not linked to a person record (staff): its address is for work.
    NoRecord,
}

/// Someone's settings, as stored or by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub progress_email: bool,
    pub digest: bool,
    /// Whether they were ever saved (false: the defaults apply).
    pub saved: bool,
    pub contact: Contact,
}

impl Settings {
    /// Whether a progress email may go to them.
    pub fn emails_progress(&self) -> bool {
        self.progress_email && self.contact == Contact::Agreed
    }
    /// Whether the weekly digest may go to them.
    pub fn emails_digest(&self) -> bool {
        self.digest && self.contact != Contact::NotAgreed
    }
}

/// Whether this account agreed to be contacted (through `people`' published views).
pub async fn contact(conn: &mut sqlx::AnyConnection, user: &str) -> Result<Contact, AppError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS linked, SUM(CASE WHEN EXISTS (SELECT 1 FROM people_current_consents c \
         WHERE c.person_id = pa.id AND c.purpose = 'contact' AND c.decision = 'given') THEN 1 ELSE 0 END) AS agreed \
         FROM people_person_accounts pa WHERE pa.user_id = $1",
    )
    .bind(user.to_string())
    .fetch_one(&mut *conn)
    .await?;
    let linked: i64 = row.try_get("linked")?;
    let agreed: Option<i64> = row.try_get("agreed")?;
    Ok(if linked == 0 {
        Contact::NoRecord
    } else if agreed.unwrap_or(0) > 0 {
        Contact::Agreed
    } else {
        Contact::NotAgreed
    })
}

/// Someone's settings (the defaults when never saved).
pub async fn of(conn: &mut sqlx::AnyConnection, user: &str) -> Result<Settings, AppError> {
    let contact = contact(conn, user).await?;
    let row = sqlx::query(
        "SELECT progress_email, digest FROM programme_notification_settings WHERE user_id = $1",
    )
    .bind(user.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Settings {
            progress_email: r.try_get::<i64, _>("progress_email")? == 1,
            digest: r.try_get::<i64, _>("digest")? == 1,
            saved: true,
            contact,
        },
        None => Settings {
            progress_email: true,
            digest: contact == Contact::Agreed,
            saved: false,
            contact,
        },
    })
}

/// Store both switches (an upsert).
async fn store(
    tx: &mut crate::db::Tx,
    user: &str,
    progress_email: bool,
    digest: bool,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO programme_notification_settings (user_id, progress_email, digest, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET progress_email = excluded.progress_email, digest = excluded.digest, updated_at = excluded.updated_at",
    )
    .bind(user.to_string())
    .bind(i64::from(progress_email))
    .bind(i64::from(digest))
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The form.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct SettingsInput {
    pub progress_email: String,
    pub digest: String,
}

fn switch(v: &str, field: &str, what: &str, e: &mut Vec<FieldError>) -> bool {
    match v {
        "on" => true,
        "off" => false,
        _ => {
            e.push(FieldError::new(
                field,
                format!("Choose whether to get {what}: yes or no"),
            ));
            false
        }
    }
}

/// Save the actor's own settings, audited.
pub async fn save(state: &AppState, actor: &Actor, input: &SettingsInput) -> Result<(), AppError> {
    let mut e = Vec::new();
    let progress = switch(
        &input.progress_email,
        "progress_email",
        "emails about progress",
        &mut e,
    );
    let digest = switch(&input.digest, "digest", "the weekly digest", &mut e);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    store(&mut tx, &actor.user_id, progress, digest).await?;
    audit::by(
        &mut tx,
        actor,
        "notification_settings.change",
        "user",
        Some(&actor.user_id),
        json!({ "progress_email": progress, "digest": digest }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Switch the digest off from the emailed link (no sign-in: the signed token names the
/// account), audited as the anonymous holder of the link.
pub async fn digest_off_by_link(
    state: &AppState,
    user: &str,
    request_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let current = of(&mut tx, user).await?;
    store(&mut tx, user, current.progress_email, false).await?;
    let who = crate::audit::AuditActor {
        user_id: None,
        label: "anonymous".into(),
        request_id: Some(request_id.to_string()),
    };
    audit::by(
        &mut tx,
        who,
        "notification_settings.digest_off_by_link",
        "user",
        Some(user),
        json!({ "digest": false }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn settings_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    sent: Option<&SettingsInput>,
    errors: &[FieldError],
    saved: bool,
) -> Result<Response, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let s = of(&mut conn, &actor.user_id).await?;
    drop(conn);
    let yn = |b: bool| if b { "on" } else { "off" };
    let (progress, digest) = match sent {
        Some(f) => (f.progress_email.clone(), f.digest.clone()),
        None => (yn(s.progress_email).into(), yn(s.digest).into()),
    };
    let progress_opts = [
        ("on", "Yes, email me when there is progress"),
        ("off", "No, only show it in Ensemble"),
    ];
    let digest_opts = [
        ("on", "Yes, send me the weekly digest"),
        ("off", "No weekly digest"),
    ];
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            @if saved { div."nhsuk-inset-text" role="status" { p { "Your notification settings are saved." } } }
            h1 { "Notification settings" }
            h2."nhsuk-heading-m" { "In Ensemble" }
            p."nhsuk-body" { "News on what you told us and what happens in your programmes always shows in "
                a href="/feed" { "your feed" } ". You cannot switch this off." }
            @if s.contact == super::settings::Contact::NotAgreed {
                div."nhsuk-inset-text" {
                    p { "You have not agreed to be contacted, so Ensemble sends you no emails, whatever you choose below. Your choices are kept for when you do." }
                    p { a href="/my/plan#consents" { "Choose whether you agree to be contacted" } }
                }
            }
            form method="post" action="/settings/notifications" novalidate {
                (csrf(ctx))
                (radios("progress_email", "Email me when there is progress on something that began with what I shared", &progress_opts, &progress, errors))
                (radios("digest", "Weekly digest: one email a week about what happened in my programmes", &digest_opts, &digest, errors))
                @if !s.saved { p."nhsuk-body-s" { "You have not changed these yet. The digest starts on for people who agreed to be contacted and off for everyone else." } }
                (button("Save settings"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Notification settings", body).errors(!errors.is_empty()),
    ))
}

/// `?saved=` after saving.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Saved {
    saved: String,
}

/// GET /settings/notifications
pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    axum::extract::Query(q): axum::extract::Query<Saved>,
) -> Result<Response, AppError> {
    settings_page(&state, &ctx, &actor, None, &[], q.saved == "1").await
}

/// POST /settings/notifications
pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<SettingsInput>,
) -> Result<Response, AppError> {
    match save(&state, &actor, &f).await {
        Ok(()) => Ok(Redirect::to("/settings/notifications?saved=1").into_response()),
        Err(AppError::Invalid(e)) => settings_page(&state, &ctx, &actor, Some(&f), &e, false).await,
        Err(e) => Err(e),
    }
}
