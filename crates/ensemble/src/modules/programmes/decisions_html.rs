//! Pages for the decisions log: the log itself (public; names and links to proposals and
//! actions for members only), logging a decision directly, and starting an action on the
//! board from a decision. The shared decision fields are used by the panel's form too.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::access::{Member, ProgrammeAccess, Public, Standing};
use super::actions::ActionInput;
use super::decisions::{self, Decision, DecisionInput, Links, Outcome};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, select, textarea,
};
use crate::web::layout::long_date;
use crate::web::{Page, PageCtx, page};

/// What a page was reached after (`?saved=…`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Saved {
    saved: String,
}

/// The choices of a decision form, as (value, label).
pub struct Options {
    pub present: Vec<(String, String)>,
    pub voices: Vec<(String, String)>,
    pub actions: Vec<(String, String)>,
}

/// Who may be ticked (the panel, or every member), the voices the actor may read and the
/// programme's actions.
pub async fn options(
    state: &AppState,
    actor: &Actor,
    p: &ProgrammeAccess<Member>,
    panel_only: bool,
) -> Result<Options, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let lived = |l: bool| if l { " (lived experience)" } else { "" };
    let present = if panel_only {
        super::proposals::panel(&mut conn, &p.id)
            .await?
            .into_iter()
            .map(|m| {
                (
                    m.user_id,
                    format!("{}{}", m.name, lived(m.lived_experience)),
                )
            })
            .collect()
    } else {
        super::service::member_rows(&mut conn, &p.id)
            .await?
            .into_iter()
            .map(|m| {
                let l = lived(super::proposals::lived(&m.capacity));
                (m.user_id, format!("{}{l}", m.name))
            })
            .collect()
    };
    let voices = super::voices::visible(&mut conn, actor, p, 200)
        .await?
        .into_iter()
        .map(|(v, _)| {
            let excerpt: String = v.body.chars().take(80).collect();
            (
                v.id,
                format!("{}, {}: {excerpt}", v.kind.label(), long_date(v.created_at)),
            )
        })
        .collect();
    let actions = super::actions::for_programme(&mut conn, &p.id)
        .await?
        .0
        .into_iter()
        .map(|a| (a.id, a.title))
        .collect();
    Ok(Options {
        present,
        voices,
        actions,
    })
}

fn ticks(o: &[(String, String)]) -> Vec<(&str, &str, &str)> {
    o.iter()
        .map(|(v, l)| (v.as_str(), l.as_str(), ""))
        .collect()
}

/// Reasons, date, who took part and the links.
pub fn decision_fields(
    f: &DecisionInput,
    links: &Links,
    o: &Options,
    errors: &[FieldError],
) -> Markup {
    html! {
        (textarea("reasons", "Reasons for the decision", "Why the decision was made, in words the members will understand.", &f.reasons, errors))
        (Input::new("decided_on", "Date of the decision", &f.decided_on).hint("Year-month-day, for example 2026-03-31").width("nhsuk-input--width-10").render(errors))
        (checkboxes("present", "Who took part?", &ticks(&o.present), &links.present, errors))
        @if o.voices.is_empty() { p."nhsuk-body" { "There are no voices you can link." } }
        @else { (checkboxes("voices", "Voices behind the decision (optional)", &ticks(&o.voices), &links.voices, errors)) }
        @if !o.actions.is_empty() { (checkboxes("actions", "Actions behind the decision (optional)", &ticks(&o.actions), &links.actions, errors)) }
    }
}

/// Split a decision form into its fields and its ticked boxes.
pub fn read_decision_form(
    pairs: Vec<(String, String)>,
) -> Result<(DecisionInput, Links), AppError> {
    let mut links = Links::default();
    let mut rest = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "present" => links.present.push(v),
            "voices" => links.voices.push(v),
            "actions" => links.actions.push(v),
            _ => rest.push((k, v)),
        }
    }
    let encoded = serde_urlencoded::to_string(&rest).unwrap_or_default();
    let f = serde_urlencoded::from_str(&encoded)
        .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))?;
    Ok((f, links))
}

/// An outcome as an NHS.UK tag.
fn outcome_tag(o: Outcome) -> Markup {
    let class = match o {
        Outcome::Accepted => "nhsuk-tag nhsuk-tag--green",
        Outcome::Declined => "nhsuk-tag nhsuk-tag--orange",
        Outcome::Decided => "nhsuk-tag nhsuk-tag--blue",
    };
    html! { strong class=(class) { (o.label()) } }
}

/// One decision: outcome, date, reasons, who took part (members) and its links.
pub fn decision_summary(d: &Decision, member: bool) -> Markup {
    html! {
        p."nhsuk-body" { (outcome_tag(d.outcome)) " on " (d.decided_on) }
        p."nhsuk-body ensemble-pre-line" { (d.reasons) }
        @if member {
            p."nhsuk-body-s" { "Took part: "
                @for (i, p) in d.participants.iter().enumerate() { @if i > 0 { ", " } (p.name) @if p.lived_experience { " (lived experience)" } }
            }
        } @else {
            p."nhsuk-body-s" { (d.took_part) @if d.took_part == 1 { " person" } @else { " people" } " took part. Their names are shown to the programme's members." }
        }
        @if member {
            @if let Some(pr) = &d.proposal_id { p."nhsuk-body-s" { a href=(format!("/proposals/{pr}")) { "The proposal" } } }
        }
        @if let Some((id, title)) = &d.action {
            p."nhsuk-body-s" { "Led to the action " @if member { a href=(format!("/actions/{id}")) { (title) } } @else { a href=(format!("/programmes/{}/board", d.programme_id)) { (title) } } }
        }
        @if !d.voices.is_empty() {
            p."nhsuk-body-s" { "Voices behind it: "
                @for (i, v) in d.voices.iter().enumerate() {
                    @if i > 0 { ", " }
                    @if member { a href=(format!("/voices/{}", v.id)) { (v.kind.label()) ", " (long_date(v.created_at)) } }
                    @else { (v.kind.label()) ", " (long_date(v.created_at)) }
                }
            }
        }
        @if !d.actions.is_empty() {
            p."nhsuk-body-s" { "Actions behind it: "
                @for (i, (id, title)) in d.actions.iter().enumerate() { @if i > 0 { ", " } a href=(format!("/actions/{id}")) { (title) } }
            }
        }
    }
}

fn log_body(p: &ProgrammeAccess<Public>, list: &[Decision], saved: &str) -> Markup {
    let member = p.standing() >= Standing::Member;
    let team = p.standing() >= Standing::Team;
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            @if saved == "logged" {
                div."nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="saved-title" {
                    div."nhsuk-notification-banner__header" { h2."nhsuk-notification-banner__title" id="saved-title" { "Success" } }
                    div."nhsuk-notification-banner__content" { p."nhsuk-notification-banner__heading" { "Decision logged" } }
                }
            }
            span."nhsuk-caption-l" { (p.name) }
            h1 { "Decisions log" }
            p."nhsuk-body" { "Every decision the programme has made, with its reasons and what lay behind it." }
            @if team { p."nhsuk-body" { a href=(format!("/programmes/{}/decisions/new", p.id)) { "Log a decision made outside a proposal" } } }
            @if list.is_empty() { p."nhsuk-body" { "No decisions yet." } }
            @for d in list {
                div."nhsuk-card" id=(format!("decision-{}", d.id)) { div."nhsuk-card__content" {
                    h2."nhsuk-card__heading nhsuk-heading-m" { (d.title) }
                    (decision_summary(d, member))
                    @if team && d.outcome != Outcome::Declined && d.action.is_none() {
                        p."nhsuk-body-s" { a href=(format!("/decisions/{}/action", d.id)) { "Start an action on the board from this decision" } }
                    }
                } }
            }
            p."nhsuk-body" { a href=(format!("/programmes/{}/board", p.id)) { "You said, we did: the public board" } }
        } }
    }
}

/// GET /programmes/{id}/decisions (public)
pub async fn log(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    let actor = ctx.actor();
    let (p, list) = decisions::log(&state, actor.as_ref(), &id).await?;
    let back = if p.standing() >= Standing::Member {
        format!("/programmes/{}", p.id)
    } else {
        format!("/programmes/{}/about", p.id)
    };
    let body = log_body(&p, &list, &q.saved);
    Ok(page(
        &ctx,
        Page::new(&format!("Decisions log, {}", p.name), body).back(&back, "Programme"),
    ))
}

async fn new_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    f: &DecisionInput,
    links: &Links,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let s = super::service::space(state, actor, id).await?;
    if s.programme.standing() < Standing::Team {
        return Err(AppError::Forbidden);
    }
    let o = options(state, actor, &s.programme, false).await?;
    let base = format!("/programmes/{}", s.programme.id);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (s.programme.name) }
            h1 { "Log a decision" }
            p."nhsuk-body" { "For a decision made outside a proposal, for example at a partners' meeting. It goes to the decisions log." }
            form method="post" action=(format!("{base}/decisions")) novalidate {
                (csrf(ctx))
                (Input::new("title", "What was decided", &f.title).render(errors))
                (decision_fields(f, links, &o, errors))
                (button("Log decision"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new(&format!("Log a decision, {}", s.programme.name), body)
            .back(&format!("{base}/decisions"), "Decisions log")
            .errors(!errors.is_empty()),
    ))
}

/// GET /programmes/{id}/decisions/new
pub async fn new(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let f = DecisionInput::default();
    new_page(&state, &ctx, &actor, &id, &f, &Links::default(), &[]).await
}

/// POST /programmes/{id}/decisions
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (f, links) = read_decision_form(pairs)?;
    match decisions::log_direct(&state, &actor, &id, &f, &links).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/programmes/{id}/decisions?saved=logged")).into_response())
        }
        Err(AppError::Invalid(e)) => new_page(&state, &ctx, &actor, &id, &f, &links, &e).await,
        Err(e) => Err(e),
    }
}

async fn action_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    f: &ActionInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (d, members) = decisions::for_action(state, actor, id).await?;
    let owners: Vec<(String, String)> = members
        .into_iter()
        .filter(|m| m.role == "responsible")
        .map(|m| (m.user_id, m.name))
        .collect();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { "Decision: " (d.title) }
            h1 { "Start an action on the board" }
            p."nhsuk-body" { "The action appears on the public board without anyone's name, and the decision links to it. The people whose voices lie behind the decision are told of each progress update." }
            form method="post" action=(format!("/decisions/{}/action", d.id)) novalidate {
                (csrf(ctx))
                (Input::new("title", "What will change", &f.title).render(errors))
                (textarea("description", "What you heard and what you will do", "", &f.description, errors))
                (select("owner_id", "Owner, from the programme team", &owners, &f.owner_id, errors))
                (Input::new("due_on", "Due date", &f.due_on).hint("Year-month-day, for example 2026-03-31").width("nhsuk-input--width-10").render(errors))
                (button("Start action"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Start an action from a decision", body)
            .back(
                &format!("/programmes/{}/decisions", d.programme_id),
                "Decisions log",
            )
            .errors(!errors.is_empty()),
    ))
}

/// GET /decisions/{id}/action
pub async fn new_action(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    action_page(&state, &ctx, &actor, &id, &ActionInput::default(), &[]).await
}

/// POST /decisions/{id}/action
pub async fn create_action(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ActionInput>,
) -> Result<Response, AppError> {
    match decisions::create_action(&state, &actor, &id, &f).await {
        Ok(a) => Ok(Redirect::to(&format!("/actions/{a}?saved=action")).into_response()),
        Err(AppError::Invalid(e)) => action_page(&state, &ctx, &actor, &id, &f, &e).await,
        Err(e) => Err(e),
    }
}
