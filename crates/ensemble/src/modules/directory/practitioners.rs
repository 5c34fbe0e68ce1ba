//! Practitioner profiles: healthcare musicians and artists describe their skills,
//! instruments, settings and languages, and choose whether the profile is public. Public
//! profiles list the activities the practitioner leads (assigned in the activity editor).

use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use crate::audit::{self};
use crate::db::{Tx, now};
use crate::error::{AppError, FieldError};
use crate::rbac::{Actor, Role};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, textarea};
use crate::web::{Page, PageCtx, page};

/// A practitioner's profile.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Account id.
    pub user_id: String,
    /// Name.
    pub display_name: String,
    /// Shown to the public.
    pub public: bool,
    /// About them.
    pub bio: String,
    /// Skills.
    pub skills: String,
    /// Instruments.
    pub instruments: String,
    /// Settings worked in (wards, community, schools…).
    pub settings: String,
    /// Languages.
    pub languages: String,
    /// Activities they lead: (id, name).
    pub activities: Vec<(String, String)>,
}

/// The profile form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    public: String,
    bio: String,
    skills: String,
    instruments: String,
    settings: String,
    languages: String,
}

async fn load(state: &AppState, user_id: &str) -> Result<Option<Profile>, AppError> {
    let row = sqlx::query(
        "SELECT u.id, u.display_name, p.public, p.bio, p.skills, p.instruments, p.settings, p.languages \
         FROM accounts_user_names u LEFT JOIN practitioner_profiles p ON p.user_id = u.id WHERE u.id = $1 AND u.disabled_at IS NULL",
    )
    .bind(user_id.to_string())
    .fetch_optional(&state.db.read)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let activities = sqlx::query(
        "SELECT a.id, a.name FROM activity_practitioners ap JOIN activities a ON a.id = ap.activity_id \
         JOIN accounts_organisation_profiles o ON o.id = a.organisation_id \
         WHERE ap.user_id = $1 AND a.status = 'active' AND o.archived_at IS NULL ORDER BY a.name",
    )
    .bind(user_id.to_string())
    .fetch_all(&state.db.read)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(Profile {
        user_id: r.try_get("id")?,
        display_name: r.try_get("display_name")?,
        public: r.try_get::<Option<i64>, _>("public")?.unwrap_or(0) != 0,
        bio: r.try_get::<Option<String>, _>("bio")?.unwrap_or_default(),
        skills: r
            .try_get::<Option<String>, _>("skills")?
            .unwrap_or_default(),
        instruments: r
            .try_get::<Option<String>, _>("instruments")?
            .unwrap_or_default(),
        settings: r
            .try_get::<Option<String>, _>("settings")?
            .unwrap_or_default(),
        languages: r
            .try_get::<Option<String>, _>("languages")?
            .unwrap_or_default(),
        activities,
    }))
}

/// Save one's own profile (practitioners only); audited.
pub async fn save_own(state: &AppState, actor: &Actor, f: &ProfileForm) -> Result<(), AppError> {
    if !actor.has_role(Role::Practitioner) {
        return Err(AppError::Forbidden);
    }
    let mut e = Vec::new();
    for (field, value, max) in [
        ("bio", &f.bio, 2000),
        ("skills", &f.skills, 500),
        ("instruments", &f.instruments, 500),
        ("settings", &f.settings, 500),
        ("languages", &f.languages, 200),
    ] {
        if value.chars().count() > max {
            e.push(FieldError::new(
                field,
                format!("This must be {max} characters or fewer"),
            ));
        }
    }
    let public = f.public == "yes";
    if public && f.bio.trim().is_empty() {
        e.push(FieldError::new(
            "bio",
            "Write a few words about yourself before making your profile public",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO practitioner_profiles (user_id, public, bio, skills, instruments, settings, languages, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id) DO UPDATE SET public = excluded.public, bio = excluded.bio, \
         skills = excluded.skills, instruments = excluded.instruments, settings = excluded.settings, languages = excluded.languages, \
         updated_at = excluded.updated_at",
    )
    .bind(actor.user_id.clone())
    .bind(i64::from(public))
    .bind(f.bio.trim().to_string())
    .bind(f.skills.trim().to_string())
    .bind(f.instruments.trim().to_string())
    .bind(f.settings.trim().to_string())
    .bind(f.languages.trim().to_string())
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::by(
        &mut tx,
        actor,
        "practitioner_profile.update",
        "user",
        Some(&actor.user_id),
        json!({"public": public}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Practitioners (id, name) with the practitioner role in an organisation.
pub async fn practitioners_of(
    state: &AppState,
    organisation_id: &str,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(sqlx::query(
        "SELECT u.id, u.display_name FROM accounts_member_roles m JOIN accounts_user_names u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 AND m.role = 'practitioner' AND u.disabled_at IS NULL ORDER BY u.display_name",
    )
    .bind(organisation_id.to_string())
    .fetch_all(&state.db.read)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("display_name")?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?)
}

/// Set who leads an activity; every id must be a practitioner of the owning organisation.
pub async fn set_leads(
    tx: &mut Tx,
    state: &AppState,
    activity_id: &str,
    organisation_id: &str,
    user_ids: &[String],
) -> Result<(), AppError> {
    let allowed = practitioners_of(state, organisation_id).await?;
    if let Some(bad) = user_ids
        .iter()
        .find(|u| !allowed.iter().any(|(id, _)| id == *u))
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "practitioners",
            format!("{bad} is not a practitioner of this organisation"),
        )]));
    }
    let mut user_ids: Vec<&String> = user_ids.iter().collect();
    user_ids.sort();
    user_ids.dedup();
    sqlx::query("DELETE FROM activity_practitioners WHERE activity_id = $1")
        .bind(activity_id.to_string())
        .execute(&mut **tx)
        .await?;
    for u in user_ids {
        sqlx::query("INSERT INTO activity_practitioners (activity_id, user_id) VALUES ($1, $2)")
            .bind(activity_id.to_string())
            .bind(u.clone())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Who leads an activity: (user id, name, profile is public).
pub async fn leads(
    state: &AppState,
    activity_id: &str,
) -> Result<Vec<(String, String, bool)>, AppError> {
    Ok(sqlx::query(
        "SELECT u.id, u.display_name, COALESCE(p.public, 0) AS public FROM activity_practitioners ap JOIN accounts_user_names u ON u.id = ap.user_id \
         LEFT JOIN practitioner_profiles p ON p.user_id = u.id WHERE ap.activity_id = $1 AND u.disabled_at IS NULL ORDER BY u.display_name",
    )
    .bind(activity_id.to_string())
    .fetch_all(&state.db.read)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("display_name")?, r.try_get::<i64, _>("public")? != 0)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?)
}

fn form_page(ctx: &PageCtx, p: &Profile, errors: &[FieldError], saved: bool) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            @if saved { div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "Your profile has been saved." } } }
            h1 { "Your practitioner profile" }
            p."nhsuk-body" { "Tell people about your practice. Nothing here is public unless you choose to make it so." }
            form method="post" action="/account/profile" novalidate {
                (csrf(ctx))
                (textarea("bio", "About you", "A few sentences in plain English", &p.bio, errors))
                (Input::new("skills", "Skills", &p.skills).hint("For example songwriting, group singing, improvisation").render(errors))
                (Input::new("instruments", "Instruments", &p.instruments).hint("For example guitar, ukulele, percussion").render(errors))
                (Input::new("settings", "Settings you work in", &p.settings).hint("For example inpatient wards, community groups, schools").render(errors))
                (Input::new("languages", "Languages", &p.languages).render(errors))
                div."nhsuk-form-group" { div."nhsuk-checkboxes" { div."nhsuk-checkboxes__item" {
                    input."nhsuk-checkboxes__input" id="public" name="public" type="checkbox" value="yes" checked[p.public];
                    label."nhsuk-label"."nhsuk-checkboxes__label" for="public" { "Show my profile to the public, with the activities I lead" }
                } } }
                (button("Save profile"))
            }
            @if p.public { p { a href=(format!("/practitioners/{}", p.user_id)) { "See your public profile" } } }
        } }
    };

    page(
        ctx,
        Page::new("Your practitioner profile", body)
            .errors(!errors.is_empty())
            .back("/account", "Back to my account"),
    )
}

/// GET /account/profile (practitioners)
pub async fn edit_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    if !actor.has_role(Role::Practitioner) {
        return Err(AppError::Forbidden);
    }
    let p = load(&state, &actor.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(form_page(&ctx, &p, &[], false))
}

/// POST /account/profile
pub async fn save(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<ProfileForm>,
) -> Result<Response, AppError> {
    match save_own(&state, &actor, &f).await {
        Ok(()) => {
            let p = load(&state, &actor.user_id)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(form_page(&ctx, &p, &[], true))
        }
        Err(AppError::Invalid(errors)) => {
            let p = Profile {
                user_id: actor.user_id.clone(),
                display_name: actor.display_name.clone(),
                public: f.public == "yes",
                bio: f.bio.clone(),
                skills: f.skills.clone(),
                instruments: f.instruments.clone(),
                settings: f.settings.clone(),
                languages: f.languages.clone(),
                activities: vec![],
            };
            Ok(form_page(&ctx, &p, &errors, false))
        }
        Err(e) => Err(e),
    }
}

/// GET /practitioners — public profiles.
pub async fn list(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let rows = sqlx::query(
        "SELECT u.id, u.display_name, p.instruments, p.skills FROM practitioner_profiles p JOIN accounts_user_names u ON u.id = p.user_id \
         WHERE p.public = 1 AND u.disabled_at IS NULL ORDER BY u.display_name",
    )
    .fetch_all(&state.db.read)
    .await?;
    let body = html! {
        h1 { "Practitioners" }
        p."nhsuk-lede-text" { "Healthcare musicians and artists who lead activities in the directory and have chosen to share their profile." }
        @if rows.is_empty() { p."nhsuk-body" { "No practitioner has made a profile public yet." } }
        ul."nhsuk-list" {
            @for r in &rows {
                @let id: String = r.try_get("id").unwrap_or_default();
                @let name: String = r.try_get("display_name").unwrap_or_default();
                @let inst: String = r.try_get("instruments").unwrap_or_default();
                li { a href=(format!("/practitioners/{id}")) { (name) } @if !inst.is_empty() { " – " (inst) } }
            }
        }
    };
    Ok(page(&ctx, Page::new("Practitioners", body)))
}

/// GET /practitioners/{id} — a public profile (404 unless the practitioner opted in).
pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let p = load(&state, &id)
        .await?
        .filter(|p| p.public)
        .ok_or(AppError::NotFound)?;
    let row = |k: &str, v: &str| html! { @if !v.is_empty() { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { (k) } dd."nhsuk-summary-list__value" { (v) } } } };
    let body = html! {
        span."nhsuk-caption-l" { "Practitioner" }
        h1 { (p.display_name) }
        p."nhsuk-body" { (p.bio) }
        dl."nhsuk-summary-list" {
            (row("Skills", &p.skills))
            (row("Instruments", &p.instruments))
            (row("Settings", &p.settings))
            (row("Languages", &p.languages))
        }
        h2."nhsuk-heading-m" { "Activities they lead" }
        @if p.activities.is_empty() { p."nhsuk-body" { "None listed at the moment." } }
        ul."nhsuk-list" { @for (aid, name) in &p.activities { li { a href=(format!("/activities/{aid}")) { (name) } } } }
    };
    Ok(page(
        &ctx,
        Page::new(&p.display_name, body).back("/practitioners", "Back to practitioners"),
    ))
}

/// The accounts named as leads of an activity (for other modules, which learn their
/// addresses from `accounts`).
pub async fn lead_ids(
    conn: &mut sqlx::AnyConnection,
    activity_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "SELECT user_id FROM activity_practitioners WHERE activity_id = $1 ORDER BY user_id",
    )
    .bind(activity_id.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("user_id"))
    .collect()
}
