//! Programme pages: your programmes (with news on what you told us), starting a programme,
//! the members' space, the public page and the public "you said, we did" board.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::access::{Standing, Voice};
use super::actions;
use super::model::{ActionStatus, Capacity, MemberRole, Visibility, VoiceKind};
use super::service::{self, MemberInput, PartnerInput, ProgrammeInput};
use super::voices::{self, VoiceInput};
use crate::error::{AppError, FieldError};
use crate::rbac::perm::ManageActivities;
use crate::rbac::{Actor, Granted};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, radios, select, textarea};
use crate::web::layout::{datetime, long_date};
use crate::web::{Page, PageCtx, page};

/// A status as an NHS.UK tag (words, not colour alone).
pub(super) fn status_tag(status: &str) -> Markup {
    let s = ActionStatus::from_code(status).unwrap_or(ActionStatus::Planned);
    let class = match s {
        ActionStatus::Planned => "nhsuk-tag nhsuk-tag--grey",
        ActionStatus::InProgress => "nhsuk-tag nhsuk-tag--blue",
        ActionStatus::Done => "nhsuk-tag nhsuk-tag--green",
        ActionStatus::NotDoing => "nhsuk-tag nhsuk-tag--orange",
    };
    html! { strong class=(class) { (s.label()) } }
}

/// The title feed readers show for a programme's Atom feed.
const FEED_TITLE: &str = "Updates and you said, we did (Atom feed)";

/// A visible link to the programme's Atom feed.
fn feed_link(href: &str) -> Markup {
    html! { p."nhsuk-body" { a href=(href) type="application/atom+xml" { "Follow the updates and the board in a feed reader (Atom feed)" } } }
}

/// The voice form's fields (share and edit).
pub(super) fn voice_fields(f: &VoiceInput, errors: &[FieldError]) -> Markup {
    let kinds: Vec<(&str, &str)> = VoiceKind::ALL
        .iter()
        .map(|k| (k.code(), k.label()))
        .collect();
    let vis: Vec<(&str, &str)> = Visibility::ALL
        .iter()
        .map(|v| (v.code(), v.label()))
        .collect();
    html! {
        (radios("kind", "What are you sharing?", &kinds, &f.kind, errors))
        (textarea("body", "What you want to say", "In your own words. Leave out other people's names.", &f.body, errors))
        (radios("visibility", "Who may see it?", &vis, &f.visibility, errors))
    }
}

/// GET /programmes
pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    list_page(&state, &ctx, &actor, &ProgrammeInput::default(), &[]).await
}

async fn list_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    f: &ProgrammeInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let mine = service::mine(state, actor).await?;
    let news = actions::notifications(state, actor).await?;
    let leads = service::lead_options(actor);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Programmes" }
            p."nhsuk-body" { "Partnerships you belong to: what they do, who takes part, what people have said and what changed because of it." }
            @if !news.is_empty() {
                h2."nhsuk-heading-m" id="news" { "News on what you told us" }
                ul."nhsuk-list" { @for n in &news {
                    li { a href=(format!("/actions/{}", n.action_id)) { (n.title) } " (" (n.programme) "), " (datetime(n.created_at)) @if n.unread { " " strong."nhsuk-tag" { "New" } } }
                } }
            }
            h2."nhsuk-heading-m" { "Your programmes" }
            @if mine.is_empty() { p."nhsuk-body" { "You are not a member of a programme yet." } }
            ul."nhsuk-list" { @for p in &mine {
                li { a href=(format!("/programmes/{}", p.id)) { (p.name) } " — led by " (p.lead_organisation) }
            } }
            @if !leads.is_empty() {
                h2."nhsuk-heading-m" { "Start a programme" }
                form method="post" action="/programmes" novalidate {
                    (csrf(ctx))
                    (Input::new("name", "Name", &f.name).hint("For example, Music and Mind, Liverpool 2026").render(errors))
                    (textarea("summary", "What the programme does", "Shown on its public page", &f.summary, errors))
                    (select("lead_organisation_id", "Lead organisation", &leads, &f.lead_organisation_id, errors))
                    (button("Start programme"))
                }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Programmes", body).errors(!errors.is_empty()),
    ))
}

/// POST /programmes
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageActivities>,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<ProgrammeInput>,
) -> Result<Response, AppError> {
    match service::create(&state, &g, &actor, &f).await {
        Ok(id) => Ok(Redirect::to(&format!("/programmes/{id}")).into_response()),
        Err(AppError::Invalid(e)) => list_page(&state, &ctx, &actor, &f, &e).await,
        Err(e) => Err(e),
    }
}

/// Forms of the space that came back with errors, to show again.
#[derive(Default)]
struct Sent {
    voice: VoiceInput,
    partner: PartnerInput,
    member: MemberInput,
    /// `?removed=` after a partner, activity or member was removed.
    removed: String,
}

/// `?removed=` on the members' space.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RemovedQuery {
    removed: String,
}

/// Removing something (managers) takes two steps: "Remove …" opens a confirmation that says
/// what goes with it, and only its button sends the form (no script needed).
fn remove_button(ctx: &PageCtx, action: &str, what: &str) -> Markup {
    html! {
        details."nhsuk-details ensemble-remove" {
            summary."nhsuk-details__summary" {
                span."nhsuk-details__summary-text" { "Remove" span."nhsuk-u-visually-hidden" { " " (what) } }
            }
            div."nhsuk-details__text" {
                form method="post" action=(action) novalidate {
                    (csrf(ctx))
                    p."nhsuk-body-s" { "Remove " (what) " from this programme? This cannot be undone." }
                    button."nhsuk-button nhsuk-button--warning nhsuk-button--small" type="submit" {
                        "Yes, remove" span."nhsuk-u-visually-hidden" { " " (what) }
                    }
                }
            }
        }
    }
}

fn voice_line(
    v: &Voice,
    mine: bool,
    names: &std::collections::HashMap<String, String>,
    team: bool,
) -> Markup {
    let who = if mine {
        "You".to_string()
    } else if !team {
        "A member".to_string()
    } else {
        v.author_id
            .as_ref()
            .and_then(|a| names.get(a))
            .cloned()
            .unwrap_or_else(|| "Anonymous".into())
    };
    html! {
        li {
            a href=(format!("/voices/{}", v.id)) { (v.kind.label()) ", " (datetime(v.created_at)) }
            " — " (who) ". Visible to: " (v.visibility.label().split(',').next().unwrap_or_default())
            @if v.visibility == Visibility::Public { " (" (v.moderation.label()) ")" }
        }
    }
}

async fn space_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    sent: &Sent,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let s = service::space(state, actor, id).await?;
    let p = &s.programme;
    let mut conn = state.db.read.acquire().await?;
    // The newest 50 (the feed pages through the rest).
    let voices = voices::visible(&mut conn, actor, p, 50).await?;
    let count = voices::counts(&mut conn, p).await?;
    let (acts, act_count) = actions::for_programme(&mut conn, &p.id).await?;
    let decided = super::proposals::unread(&mut conn, actor, &p.id).await?;
    let team = p.standing() >= Standing::Team;
    let coder = team || s.my_capacity.as_deref() == Some(Capacity::CoResearcher.code());
    let refs: Vec<&Voice> = voices.iter().map(|v| &v.0).collect();
    let names = if team {
        voices::author_names(&mut conn, &refs).await?
    } else {
        Default::default()
    };
    drop(conn);
    let roles: Vec<(&str, &str)> = MemberRole::ALL
        .iter()
        .map(|r| (r.code(), r.label()))
        .collect();
    let caps: Vec<(&str, &str)> = Capacity::ALL
        .iter()
        .map(|c| (c.code(), c.label()))
        .collect();
    let base = format!("/programmes/{}", p.id);
    let manager = s.options.is_some();
    let body = html! {
        (error_summary(errors))
        @if let Some(m) = super::upkeep::Removed::message(&sent.removed) {
            div."nhsuk-inset-text" role="status" { p { (m) } }
        }
        span."nhsuk-caption-l" { "Programme led by " (p.lead_organisation) }
        h1 { (p.name) }
        p."nhsuk-body ensemble-pre-line" { (p.summary) }
        p."nhsuk-body" { a href=(format!("{base}/about")) { "Public page" } " · " a href=(format!("{base}/board")) { "You said, we did: the public board" } }
        p."nhsuk-body" { a href=(format!("{base}/plan")) { "The plan" } " · " a href=(format!("{base}/updates")) { "Updates" } }
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            h2."nhsuk-heading-m" id="share" { "Share your voice" }
            form method="post" action=(format!("{base}/voices")) novalidate {
                (csrf(ctx))
                (voice_fields(&sent.voice, errors))
                (button("Share"))
            }
            @if team { p."nhsuk-body" { a href=(format!("{base}/voices/for")) { "Record a voice for someone" } " who has agreed to share their stories and prefers you to write it down." } }
            h2."nhsuk-heading-m" { "Voices" }
            p."nhsuk-body" {
                @if count > voices::COUNT_CAP { "More than " (voices::COUNT_CAP) } @else { (count) }
                " shared in this programme. The newest you can see are below; " a href="/feed" { "your feed" } " has the rest."
            }
            ul."nhsuk-list" { @for (v, mine) in &voices { (voice_line(v, *mine, &names, team)) } }
            @if coder { p."nhsuk-body" { a href=(format!("{base}/themes")) { "Themes, and how far coders agree" } } }
            h2."nhsuk-heading-m" { "Evaluation" }
            p."nhsuk-body" { a href=(format!("{base}/evaluation")) { "Evaluation report" } ": who the programme reached, how people's wellbeing changed, what it cost and what it was worth, with the methods and the open data." }
            h2."nhsuk-heading-m" { "Proposals and decisions" }
            p."nhsuk-body" { a href=(format!("{base}/proposals")) { "Proposals" @if decided > 0 { " (news on " (decided) " of yours)" } } " · " a href=(format!("{base}/decisions")) { "Decisions log" } }
            h2."nhsuk-heading-m" { "You said, we did" }
            @if team { p."nhsuk-body" { a href=(format!("{base}/actions/new")) { "Turn voices into an action" } " · " a href=(format!("{base}/link")) { "Link and QR code for sharing without an account" } } }
            @if acts.is_empty() { p."nhsuk-body" { "No actions yet." } }
            @if act_count > acts.len() as i64 { p."nhsuk-body" { "The " (acts.len()) " due soonest of " (act_count) " actions. " a href=(format!("{base}/board")) { "Every action is on the board" } "." } }
            ul."nhsuk-list" { @for a in &acts {
                li { a href=(format!("/actions/{}", a.id)) { (a.title) } " " (status_tag(a.status.code())) " due " (a.due_on) }
            } }
            h2."nhsuk-heading-m" id="make-up" { "Partners" }
            ul."nhsuk-list" { @for o in &s.partners { li {
                (o.name) ": " (o.part)
                @if manager && o.organisation_id != p.lead_organisation_id {
                    " " (remove_button(ctx, &format!("{base}/partners/{}/remove", o.organisation_id), &format!("{} and its linked activities", o.name)))
                }
            } } }
            h2."nhsuk-heading-m" { "Activities" }
            @if s.activities.is_empty() { p."nhsuk-body" { "No activities linked yet." } }
            ul."nhsuk-list" { @for a in &s.activities { li {
                a href=(format!("/activities/{}", a.id)) { (a.name) } " (" (a.organisation) ")"
                @if manager { " " (remove_button(ctx, &format!("{base}/activities/{}/remove", a.id), &a.name)) }
            } } }
            h2."nhsuk-heading-m" { "Members" }
            @if s.member_count > s.members.len() as i64 { p."nhsuk-body" { (s.member_count) " members; the team and the first others by name are listed." } }
            ul."nhsuk-list" { @for m in &s.members {
                li {
                    (m.name) ": " (MemberRole::from_code(&m.role).map(|r| r.label()).unwrap_or_default()) ", " (Capacity::from_code(&m.capacity).map(|c| c.label().to_lowercase()).unwrap_or_default())
                    @if manager && m.user_id != actor.user_id { " " (remove_button(ctx, &format!("{base}/members/{}/remove", m.user_id), &m.name)) }
                }
            } }
            @if s.members.iter().any(|m| m.user_id == actor.user_id) {
                details."nhsuk-details" {
                    summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Leave this programme" } }
                    div."nhsuk-details__text" {
                        p { "You stop seeing the programme's space. What you shared stays yours: you can still edit or withdraw it from its own page." }
                        form method="post" action=(format!("{base}/members/{}/remove", actor.user_id)) novalidate {
                            (csrf(ctx))
                            button."nhsuk-button nhsuk-button--warning" type="submit" { "Leave this programme" }
                        }
                    }
                }
            }
            @if let Some((orgs, activities)) = &s.options {
                h2."nhsuk-heading-m" { "Add a partner" }
                form method="post" action=(format!("{base}/partners")) novalidate {
                    (csrf(ctx))
                    (select("organisation_id", "Organisation", orgs, &sent.partner.organisation_id, errors))
                    (Input::new("part", "What it brings", &sent.partner.part).hint("For example, runs the music groups").render(errors))
                    (button("Add partner"))
                }
                h2."nhsuk-heading-m" { "Link an activity" }
                form method="post" action=(format!("{base}/activities")) novalidate {
                    (csrf(ctx))
                    (select("activity_id", "Activity of a partner", activities, "", errors))
                    (button("Link activity"))
                }
                h2."nhsuk-heading-m" { "Add a member" }
                form method="post" action=(format!("{base}/members")) novalidate {
                    (csrf(ctx))
                    (Input::new("email", "Email address of their Ensemble account", &sent.member.email).kind("email").render(errors))
                    (radios("role", "Their role", &roles, &sent.member.role, errors))
                    (radios("capacity", "They take part as", &caps, &sent.member.capacity, errors))
                    (button("Add member"))
                }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new(&p.name, body)
            .back("/programmes", "Programmes")
            .errors(!errors.is_empty()),
    ))
}

/// GET /programmes/{id}
pub async fn space(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<RemovedQuery>,
) -> Result<Response, AppError> {
    let sent = Sent {
        removed: q.removed,
        ..Default::default()
    };
    space_page(&state, &ctx, &actor, &id, &sent, &[]).await
}

/// POST /programmes/{id}/voices
pub async fn share(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<VoiceInput>,
) -> Result<Response, AppError> {
    let done = voices::share(&state, &actor, &id, &f)
        .await
        .map(|v| format!("/voices/{v}?saved=shared"));
    let sent = Sent {
        voice: f,
        ..Default::default()
    };
    saved_or_space(&state, &ctx, &actor, &id, done, &sent).await
}

/// After a form on the programme space: go to `done` when it was saved, or draw the space
/// again holding what was typed (`sent`) with the errors; any other refusal is returned.
async fn saved_or_space(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    done: Result<String, AppError>,
    sent: &Sent,
) -> Result<Response, AppError> {
    match done {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(AppError::Invalid(e)) => space_page(state, ctx, actor, id, sent, &e).await,
        Err(e) => Err(e),
    }
}

/// POST /programmes/{id}/partners
pub async fn add_partner(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<PartnerInput>,
) -> Result<Response, AppError> {
    let done = service::add_partner(&state, &actor, &id, &f)
        .await
        .map(|()| format!("/programmes/{id}"));
    let sent = Sent {
        partner: f,
        ..Default::default()
    };
    saved_or_space(&state, &ctx, &actor, &id, done, &sent).await
}

/// The activity form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActivityForm {
    activity_id: String,
}

/// POST /programmes/{id}/activities
pub async fn add_activity(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ActivityForm>,
) -> Result<Response, AppError> {
    let done = service::add_activity(&state, &actor, &id, &f.activity_id)
        .await
        .map(|()| format!("/programmes/{id}"));
    saved_or_space(&state, &ctx, &actor, &id, done, &Sent::default()).await
}

/// POST /programmes/{id}/members
pub async fn add_member(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MemberInput>,
) -> Result<Response, AppError> {
    let done = service::add_member(&state, &actor, &id, &f)
        .await
        .map(|()| format!("/programmes/{id}"));
    let sent = Sent {
        member: f,
        ..Default::default()
    };
    saved_or_space(&state, &ctx, &actor, &id, done, &sent).await
}

/// GET /programmes/{id}/about (public)
pub async fn about(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = ctx.actor();
    let pp = service::public_page(&state, actor.as_ref(), &id).await?;
    let mut conn = state.db.read.acquire().await?;
    let said = voices::public(&mut conn, &pp.programme).await?;
    let news = super::updates::public(&mut conn, &pp.programme).await?;
    drop(conn);
    let p = &pp.programme;
    let feed = format!("/programmes/{}/feed.atom", p.id);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            span."nhsuk-caption-l" { "Programme" }
            h1 { (p.name) }
            p."nhsuk-body ensemble-pre-line" { (p.summary) }
            h2."nhsuk-heading-m" { "Who runs it" }
            ul."nhsuk-list" { @for o in &pp.partners { li { (o.name) ": " (o.part) } } }
            h2."nhsuk-heading-m" { "Activities" }
            @if pp.activities.is_empty() { p."nhsuk-body" { "No activities listed yet." } }
            ul."nhsuk-list" { @for a in &pp.activities { li { a href=(format!("/activities/{}", a.id)) { (a.name) } " (" (a.organisation) ")" } } }
            (super::updates_html::public_list(&news))
            h2."nhsuk-heading-m" { "In participants' words" }
            @if said.is_empty() { p."nhsuk-body" { "Nothing shared publicly yet." } }
            @for v in &said {
                blockquote."nhsuk-inset-text" { p."ensemble-pre-line" { (v.body) } p."nhsuk-body-s" { (v.kind.label()) ", " (long_date(v.created_at)) } }
            }
            p."nhsuk-body" { a href=(format!("/programmes/{}/board", p.id)) { "What changed because of what people said" } }
            (feed_link(&feed))
        } }
    };
    Ok(page(&ctx, Page::new(&p.name, body).feed(&feed, FEED_TITLE)))
}

/// `?after=` on the board.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct BoardQuery {
    after: String,
}

/// GET /programmes/{id}/board (public), 50 actions a page
pub async fn board(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<BoardQuery>,
) -> Result<Response, AppError> {
    let actor = ctx.actor();
    let (p, items, next) = actions::board(&state, actor.as_ref(), &id, &q.after).await?;
    let title = format!("You said, we did: {}", p.name);
    let feed = format!("/programmes/{}/feed.atom", p.id);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            span."nhsuk-caption-l" { (p.name) }
            h1 { "You said, we did" }
            p."nhsuk-body" { "What the programme is doing about what participants told it, and how far it has got. Nobody is named." }
            @if items.is_empty() { p."nhsuk-body" { "No actions yet." } }
            @for a in &items {
                div."nhsuk-card" id=(format!("action-{}", a.id)) { div."nhsuk-card__content" {
                    h2."nhsuk-card__heading nhsuk-heading-m" { (a.title) }
                    p."nhsuk-body" { (status_tag(&a.status)) " Due " (a.due_on) }
                    p."nhsuk-body ensemble-pre-line" { (a.description) }
                    @if !a.updates.is_empty() {
                        h3."nhsuk-heading-s" { "Progress" }
                        ul."nhsuk-list" { @for u in &a.updates { li { (long_date(u.created_at)) ": " (u.body) } } }
                    }
                } }
            }
            @if let Some(n) = &next { p."nhsuk-body" { a href=(format!("/programmes/{}/board?after={n}", p.id)) { "More actions, due later" } } }
            p."nhsuk-body" { a href=(format!("/programmes/{}/about", p.id)) { "About the programme" } }
            (feed_link(&feed))
        } }
    };
    Ok(page(&ctx, Page::new(&title, body).feed(&feed, FEED_TITLE)))
}
