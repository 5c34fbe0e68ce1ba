//! Pages for proposals: a programme's proposals (with the decision panel and the news on
//! one's own decided proposals), proposing, one proposal (support, comments, withdrawal,
//! sending to the panel) and the panel's decision form.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::access::Standing;
use super::decisions::{self, DecisionInput, Links, Outcome};
use super::decisions_html::{decision_fields, decision_summary, read_decision_form};
use super::proposals::{self, ProposalInput, ProposalKind, ProposalStatus};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, radios, textarea, with_repeated,
};
use crate::web::layout::{datetime, long_date};
use crate::web::{Page, PageCtx, page};

/// What a page was reached after (`?saved=…`); only known codes are shown.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Saved {
    saved: String,
}

fn banner(code: &str) -> Markup {
    let text = match code {
        "proposed" => "Your proposal is shared with the programme's members",
        "panel" => "Decision panel saved",
        "supported" => "Your support is counted",
        "unsupported" => "Your support is withdrawn",
        "comment" => "Comment added",
        "withdrawn" => "Proposal withdrawn",
        "under_review" => "Proposal sent to the decision panel",
        "decided" => "Decision recorded: it is in the decisions log and the proposer has been told",
        _ => return html! {},
    };
    html! {
        div."nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="saved-title" {
            div."nhsuk-notification-banner__header" { h2."nhsuk-notification-banner__title" id="saved-title" { "Success" } }
            div."nhsuk-notification-banner__content" { p."nhsuk-notification-banner__heading" { (text) } }
        }
    }
}

/// A proposal's status as an NHS.UK tag (words, not colour alone).
pub(super) fn status_tag(s: ProposalStatus) -> Markup {
    let class = match s {
        ProposalStatus::Open => "nhsuk-tag nhsuk-tag--blue",
        ProposalStatus::UnderReview => "nhsuk-tag nhsuk-tag--purple",
        ProposalStatus::Accepted => "nhsuk-tag nhsuk-tag--green",
        ProposalStatus::Declined => "nhsuk-tag nhsuk-tag--orange",
        ProposalStatus::Withdrawn => "nhsuk-tag nhsuk-tag--grey",
    };
    html! { strong class=(class) { (s.label()) } }
}

fn supports(n: i64) -> String {
    if n == 1 {
        "1 supporter".into()
    } else {
        format!("{n} supporters")
    }
}

fn panel_section(ctx: &PageCtx, l: &proposals::ProposalList, errors: &[FieldError]) -> Markup {
    let base = format!("/programmes/{}", l.programme.id);
    let options: Vec<(&str, String)> = l
        .members
        .iter()
        .map(|m| {
            let lived = if proposals::lived(&m.capacity) {
                " (lived experience)"
            } else {
                ""
            };
            (m.user_id.as_str(), format!("{}{lived}", m.name))
        })
        .collect();
    let options: Vec<(&str, &str, &str)> =
        options.iter().map(|(v, l)| (*v, l.as_str(), "")).collect();
    let ticked: Vec<String> = l.panel.iter().map(|m| m.user_id.clone()).collect();
    html! {
        h2."nhsuk-heading-m" id="panel" { "Decision panel" }
        @if l.panel.is_empty() { p."nhsuk-body" { "There is no panel yet." } }
        ul."nhsuk-list" { @for m in &l.panel { li { (m.name) @if m.lived_experience { " (lived experience)" } } } }
        @if !l.panel.is_empty() && !l.panel.iter().any(|m| m.lived_experience) {
            div."nhsuk-warning-callout" { h3."nhsuk-warning-callout__label" { "Important" } p { "The panel has nobody with lived experience, so it cannot decide. Add a participant or co-researcher." } }
        }
        @if l.programme.standing() >= Standing::Team {
            details."nhsuk-details" open[!errors.is_empty() && errors.iter().any(|e| e.field == "panel")] {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Choose the panel" } }
                div."nhsuk-details__text" {
                    form method="post" action=(format!("{base}/panel")) novalidate {
                        (csrf(ctx))
                        (checkboxes("panel", "Who is on the decision panel? Include at least one person with lived experience.", &options, &ticked, errors))
                        (button("Save panel"))
                    }
                }
            }
        }
    }
}

async fn list_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    saved: &str,
    new: &ProposalInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let l = proposals::list(state, actor, id).await?;
    let kinds: Vec<(&str, &str)> = ProposalKind::ALL
        .iter()
        .map(|k| (k.code(), k.label()))
        .collect();
    let base = format!("/programmes/{}", l.programme.id);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            (banner(saved))
            span."nhsuk-caption-l" { (l.programme.name) }
            h1 { "Proposals" }
            p."nhsuk-body" { "Any member can propose a research question, a new measure or a change to an activity. Members comment and support; the decision panel, which includes people with lived experience, decides. Every decision goes to the " a href=(format!("{base}/decisions")) { "decisions log" } "." }
            @if !l.news.is_empty() {
                h2."nhsuk-heading-m" { "Your proposals that have been decided" }
                ul."nhsuk-list" { @for n in &l.news {
                    li { a href=(format!("/proposals/{}", n.proposal_id)) { (n.title) } ": " (Outcome::from_code(&n.outcome).map(|o| o.label()).unwrap_or_default().to_lowercase()) @if n.unread { " (new)" } }
                } }
            }
            h2."nhsuk-heading-m" { "All proposals" }
            @if l.proposals.is_empty() { p."nhsuk-body" { "No proposals yet." } }
            ul."nhsuk-list" { @for pr in &l.proposals {
                li { a href=(format!("/proposals/{}", pr.id)) { (pr.title) } " " (status_tag(pr.status)) br; span."nhsuk-body-s" { (pr.kind.label()) ", by " (pr.proposer) ", " (long_date(pr.created_at)) ". " (supports(pr.supports)) "." } }
            } }
            h2."nhsuk-heading-m" id="propose" { "Make a proposal" }
            form method="post" action=(format!("{base}/proposals")) novalidate {
                (csrf(ctx))
                (radios("kind", "What are you proposing?", &kinds, &new.kind, errors))
                (Input::new("title", "Title", &new.title).hint("A short name for your proposal").render(errors))
                (textarea("body", "What you propose and why", "Say what would change and why it matters.", &new.body, errors))
                (button("Propose"))
            }
            (panel_section(ctx, &l, errors))
        } }
    };
    Ok(page(
        ctx,
        Page::new(&format!("Proposals, {}", l.programme.name), body)
            .back(&base, "Programme")
            .errors(!errors.is_empty()),
    ))
}

/// GET /programmes/{id}/proposals
pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    list_page(
        &state,
        &ctx,
        &actor,
        &id,
        &q.saved,
        &ProposalInput::default(),
        &[],
    )
    .await
}

/// POST /programmes/{id}/proposals
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ProposalInput>,
) -> Result<Response, AppError> {
    match proposals::create(&state, &actor, &id, &f).await {
        Ok(p) => Ok(Redirect::to(&format!("/proposals/{p}?saved=proposed")).into_response()),
        Err(AppError::Invalid(e)) => list_page(&state, &ctx, &actor, &id, "", &f, &e).await,
        Err(e) => Err(e),
    }
}

/// The panel form has only its ticks.
#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

/// POST /programmes/{id}/panel
pub async fn set_panel(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (_, chosen): (NoFields, Vec<String>) = with_repeated(pairs, "panel")?;
    match proposals::set_panel(&state, &actor, &id, &chosen).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/programmes/{id}/proposals?saved=panel#panel")).into_response(),
        ),
        Err(AppError::Invalid(e)) => {
            list_page(&state, &ctx, &actor, &id, "", &ProposalInput::default(), &e).await
        }
        Err(e) => Err(e),
    }
}

fn decision_form(
    ctx: &PageCtx,
    v: &proposals::ProposalView,
    f: &DecisionInput,
    links: &Links,
    options: &super::decisions_html::Options,
    errors: &[FieldError],
) -> Markup {
    let outcomes: Vec<(&str, &str)> = [Outcome::Accepted, Outcome::Declined]
        .iter()
        .map(|o| (o.code(), o.label()))
        .collect();
    html! {
        h2."nhsuk-heading-m" id="decide" { "Record the panel's decision" }
        p."nhsuk-body" { "Panel members record the decision; the programme team can record it on the panel's behalf. At least one panel member with lived experience must have taken part." }
        form method="post" action=(format!("/proposals/{}/decision", v.proposal.id)) novalidate {
            (csrf(ctx))
            (radios("outcome", "What did the panel decide?", &outcomes, &f.outcome, errors))
            (decision_fields(f, links, options, errors))
            (button("Record decision"))
        }
    }
}

fn actions_for_proposal(ctx: &PageCtx, v: &proposals::ProposalView, actor: &Actor) -> Markup {
    let pr = &v.proposal;
    let team = v.programme.standing() >= Standing::Team;
    let open = pr.status.undecided();
    html! {
        @if open {
            form method="post" action=(format!("/proposals/{}/support", pr.id)) novalidate {
                (csrf(ctx))
                @if v.supported {
                    input type="hidden" name="support" value="no";
                    button."nhsuk-button nhsuk-button--secondary" type="submit" { "Withdraw my support" }
                } @else {
                    input type="hidden" name="support" value="yes";
                    button."nhsuk-button" type="submit" { "Support this proposal" }
                }
            }
            h2."nhsuk-heading-m" { "Comment" }
            form method="post" action=(format!("/proposals/{}/comments", pr.id)) novalidate {
                (csrf(ctx))
                (textarea("comment", "Your comment", "Members of the programme see it with your name.", "", &[]))
                (button("Add comment"))
            }
            @if pr.proposer_id == actor.user_id || (team && pr.status == ProposalStatus::Open) {
                h2."nhsuk-heading-m" { "Where it goes next" }
            }
            @if team && pr.status == ProposalStatus::Open {
                form method="post" action=(format!("/proposals/{}/status", pr.id)) novalidate {
                    (csrf(ctx))
                    input type="hidden" name="status" value="under_review";
                    button."nhsuk-button nhsuk-button--secondary" type="submit" { "Send to the decision panel" }
                }
            }
            @if pr.proposer_id == actor.user_id {
                form method="post" action=(format!("/proposals/{}/status", pr.id)) novalidate {
                    (csrf(ctx))
                    input type="hidden" name="status" value="withdrawn";
                    button."nhsuk-button nhsuk-button--warning" type="submit" { "Withdraw my proposal" }
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn proposal_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    saved: &str,
    f: &DecisionInput,
    links: &Links,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let v = proposals::view(state, actor, id).await?;
    let pr = &v.proposal;
    let decides = pr.status.undecided() && proposals::may_decide(&v.programme, &v.panel, actor);
    let options = if decides {
        Some(super::decisions_html::options(state, actor, &v.programme, true).await?)
    } else {
        None
    };
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            (banner(saved))
            span."nhsuk-caption-l" { (pr.kind.label()) ", " (v.programme.name) }
            h1 { (pr.title) }
            p."nhsuk-body" { (status_tag(pr.status)) " " (supports(pr.supports)) }
            p."nhsuk-body-s" { "Proposed by " (pr.proposer) ", " (long_date(pr.created_at)) }
            p."nhsuk-body ensemble-pre-line" { (pr.body) }
            @if let Some(d) = &v.decision {
                h2."nhsuk-heading-m" { "Decision" }
                (decision_summary(d, true))
            }
            (actions_for_proposal(ctx, &v, actor))
            h2."nhsuk-heading-m" id="comments" { "Comments" }
            @if v.comments.is_empty() { p."nhsuk-body" { "No comments yet." } }
            @for c in &v.comments {
                div."nhsuk-inset-text" { p."nhsuk-body ensemble-pre-line" { (c.body) } p."nhsuk-body-s" { (c.author) ", " (datetime(c.created_at)) } }
            }
            @if let Some(o) = &options { (decision_form(ctx, &v, f, links, o, errors)) }
        } }
    };
    Ok(page(
        ctx,
        Page::new(&pr.title, body)
            .back(
                &format!("/programmes/{}/proposals", pr.programme_id),
                "Proposals",
            )
            .errors(!errors.is_empty()),
    ))
}

/// GET /proposals/{id}
pub async fn proposal(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    let f = DecisionInput::default();
    proposal_page(
        &state,
        &ctx,
        &actor,
        &id,
        &q.saved,
        &f,
        &Links::default(),
        &[],
    )
    .await
}

/// The support form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SupportInput {
    support: String,
}

/// POST /proposals/{id}/support
pub async fn support(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<SupportInput>,
) -> Result<Response, AppError> {
    let yes = match f.support.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Say whether you support the proposal".into(),
            ));
        }
    };
    proposals::support(&state, &actor, &id, yes).await?;
    let saved = if yes { "supported" } else { "unsupported" };
    Ok(Redirect::to(&format!("/proposals/{id}?saved={saved}")).into_response())
}

/// The comment form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommentInput {
    comment: String,
}

/// POST /proposals/{id}/comments
pub async fn comment(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<CommentInput>,
) -> Result<Response, AppError> {
    match proposals::comment(&state, &actor, &id, &f.comment).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/proposals/{id}?saved=comment#comments")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            let f = DecisionInput::default();
            proposal_page(&state, &ctx, &actor, &id, "", &f, &Links::default(), &e).await
        }
        Err(e) => Err(e),
    }
}

/// The status form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusInput {
    status: String,
}

/// POST /proposals/{id}/status (withdraw, or send to the panel)
pub async fn set_status(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<StatusInput>,
) -> Result<Response, AppError> {
    let to = match ProposalStatus::from_code(&f.status) {
        Some(s @ (ProposalStatus::Withdrawn | ProposalStatus::UnderReview)) => s,
        _ => {
            return Err(AppError::BadRequest(
                "Choose withdraw or send to the panel".into(),
            ));
        }
    };
    match proposals::set_status(&state, &actor, &id, to).await {
        Ok(()) => Ok(Redirect::to(&format!("/proposals/{id}?saved={}", to.code())).into_response()),
        Err(AppError::Invalid(e)) => {
            let f = DecisionInput::default();
            proposal_page(&state, &ctx, &actor, &id, "", &f, &Links::default(), &e).await
        }
        Err(e) => Err(e),
    }
}

/// POST /proposals/{id}/decision
pub async fn decide(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (f, links) = read_decision_form(pairs)?;
    match decisions::decide(&state, &actor, &id, &f, &links).await {
        Ok(_) => Ok(Redirect::to(&format!("/proposals/{id}?saved=decided")).into_response()),
        Err(AppError::Invalid(e)) => {
            proposal_page(&state, &ctx, &actor, &id, "", &f, &links, &e).await
        }
        Err(e) => Err(e),
    }
}
