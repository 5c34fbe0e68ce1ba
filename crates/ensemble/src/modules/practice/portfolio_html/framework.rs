//! The competency framework, co-edited by an organisation's practitioners.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::modules::practice::competencies::{self, CompetencyInput};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, select, textarea};
use crate::web::{Page, PageCtx, page};

/// Which framework form a set of errors belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FormAt {
    None,
    Add,
    Edit(String),
    Publish,
}

/// `?organisation=`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrgQuery {
    pub organisation: String,
}

fn pick_org(actor: &Actor, requested: &str) -> Result<(String, String), AppError> {
    let orgs = competencies::organisations(actor);
    if requested.is_empty() {
        return orgs.into_iter().next().ok_or(AppError::Forbidden);
    }
    orgs.into_iter()
        .find(|(o, _)| o == requested)
        .ok_or(AppError::Forbidden)
}

async fn framework_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    org: &str,
    at: FormAt,
    input: &CompetencyInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let (org, org_name) = pick_org(actor, org)?;
    let current = competencies::current(state, &org).await?;
    let draft = competencies::draft(state, &org).await?;
    let history = competencies::history(state, actor, &org).await?;
    let manager = actor.has_role_in(&org, crate::rbac::Role::ProgrammeManager);
    let mut domains: Vec<String> = competencies::STARTER_DOMAINS
        .iter()
        .map(|d| d.to_string())
        .collect();
    for f in current.iter().chain(draft.iter()) {
        for d in f.domains() {
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
    }
    let domain_options: Vec<(String, String)> =
        std::iter::once((String::new(), "Choose a domain".to_string()))
            .chain(domains.iter().map(|d| (d.clone(), d.clone())))
            .collect();
    let none: &[FieldError] = &[];
    let errs_for = |which: &FormAt| if *which == at { errors } else { none };
    let others: Vec<(String, String)> = competencies::organisations(actor)
        .into_iter()
        .filter(|(o, _)| *o != org)
        .collect();
    let body = html! {
        (error_summary(errors))
        span."nhsuk-caption-l" { (org_name) }
        h1 { "Competency framework" }
        @if !others.is_empty() {
            p."nhsuk-body" { "Also: " @for (o, n) in &others { a href=(format!("/practice/framework?organisation={o}")) { (n) } " " } }
        }
        p."nhsuk-body" { "The framework is shaped together: any practitioner or programme manager of " (org_name) " can edit the draft, and everyone who does is named. A programme manager publishes it, and each published version is kept." }
        @match &current {
            Some(f) => {
                h2."nhsuk-heading-m" { "In use: version " (f.version) }
                @if !f.change_note.is_empty() { p."nhsuk-body" { (f.change_note) } }
                @if !f.contributors.is_empty() { p."nhsuk-body-s" { "Shaped by " (f.contributors.join(", ")) "." } }
                @for d in f.domains() {
                    h3."nhsuk-heading-s" { (d) }
                    ul."nhsuk-list nhsuk-list--bullet" { @for c in f.competencies.iter().filter(|c| c.domain == d) { li { strong { (c.title) } " (" (c.code) ")" @if !c.description.is_empty() { ": " (c.description) } } } }
                }
            }
            None => { p."nhsuk-body" { "No version has been published yet." } }
        }
        @match &draft {
            None => {
                form method="post" action="/practice/framework" {
                    (csrf(ctx))
                    input type="hidden" name="organisation" value=(org);
                    button."nhsuk-button" type="submit" { (if current.is_some() { "Start a new draft from this version" } else { "Start a draft from the starter framework" }) }
                }
            }
            Some(d) => {
                h2."nhsuk-heading-m" { "Draft: version " (d.version) }
                @if !d.contributors.is_empty() { p."nhsuk-body-s" { "Edited by " (d.contributors.join(", ")) "." } }
                @for c in &d.competencies {
                    @let which = FormAt::Edit(c.id.clone());
                    @let open = at == which;
                    div."nhsuk-card" { div."nhsuk-card__content" {
                        h3."nhsuk-card__heading nhsuk-heading-s" { (c.title) " (" (c.code) ")" }
                        p."nhsuk-body-s" { (c.domain) @if !c.description.is_empty() { ". " (c.description) } }
                        details."nhsuk-details" open[open] {
                            summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Change " span."nhsuk-u-visually-hidden" { (c.title) } } }
                            div."nhsuk-details__text" {
                                form method="post" action=(format!("/practice/framework/{}/competencies/{}", d.id, c.id)) novalidate {
                                    (csrf(ctx))
                                    @let e = errs_for(&which);
                                    @let (dom, ti, de) = if open { (input.domain.as_str(), input.title.as_str(), input.description.as_str()) } else { (c.domain.as_str(), c.title.as_str(), c.description.as_str()) };
                                    (select(&format!("domain-{}", c.code), "Domain", &domain_options, dom, e))
                                    (Input::new(&format!("title-{}", c.code), "Title", ti).render(e))
                                    (textarea(&format!("description-{}", c.code), "Description", "", de, e))
                                    div."ensemble-button-row" {
                                        button."nhsuk-button" type="submit" name="action" value="save" { "Save" }
                                        button."nhsuk-button nhsuk-button--warning" type="submit" name="action" value="remove" { "Remove" }
                                    }
                                }
                            }
                        }
                    }}
                }
                h3."nhsuk-heading-s" { "Add a competency" }
                form method="post" action=(format!("/practice/framework/{}/competencies", d.id)) novalidate {
                    (csrf(ctx))
                    @let e = errs_for(&FormAt::Add);
                    @let blank = CompetencyInput::default();
                    @let v = if at == FormAt::Add { input } else { &blank };
                    (select("domain", "Domain", &domain_options, &v.domain, e))
                    (Input::new("new_domain", "Or a new domain", &v.new_domain).hint("Leave empty to use the domain chosen above").render(e))
                    (Input::new("title", "Title", &v.title).hint("What a practitioner does, like \"Adapts musical activities to the group\"").render(e))
                    (textarea("description", "Description (optional)", "", &v.description, e))
                    (button("Add competency"))
                }
                @if manager {
                    h3."nhsuk-heading-s" { "Publish version " (d.version) }
                    form method="post" action=(format!("/practice/framework/{}/publish", d.id)) novalidate {
                        (csrf(ctx))
                        (textarea("change_note", "What changed, and who shaped it", "Shown with the version", "", errs_for(&FormAt::Publish)))
                        (button("Publish"))
                    }
                } @else {
                    p."nhsuk-body" { "A programme manager publishes the draft when the group agrees." }
                }
            }
        }
        @if !history.is_empty() {
            h2."nhsuk-heading-m" { "Versions" }
            ul."nhsuk-list" { @for (v, status, note, at) in &history {
                li { "Version " (v) ", " (status) @if let Some(t) = at { ", published " (crate::db::date_of(*t)) } @if !note.is_empty() { ": " (note) } }
            } }
        }
    };
    Ok(page(
        ctx,
        Page::new("Competency framework", body).errors(!errors.is_empty()),
    ))
}

/// Field errors for a competency's edit form, whose field names carry the code.
fn rename(errors: &[FieldError], code: &str) -> Vec<FieldError> {
    errors
        .iter()
        .map(|e| FieldError::new(format!("{}-{code}", e.field), e.message.clone()))
        .collect()
}

/// GET /practice/framework
pub async fn framework(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Query(q): Query<OrgQuery>,
) -> Result<Response, AppError> {
    framework_page(
        &state,
        &ctx,
        &actor,
        &q.organisation,
        FormAt::None,
        &CompetencyInput::default(),
        &[],
    )
    .await
}

/// POST /practice/framework — start a draft.
pub async fn start_draft(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    PageForm(q): PageForm<OrgQuery>,
) -> Result<Response, AppError> {
    let (org, _) = pick_org(&actor, &q.organisation)?;
    competencies::start_draft(&state, &actor, &org).await?;
    Ok(Redirect::to(&format!("/practice/framework?organisation={org}")).into_response())
}

async fn org_of(state: &AppState, framework: &str) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT organisation_id FROM competency_frameworks WHERE id = $1")
        .bind(framework.to_string())
        .fetch_optional(&state.db.read)
        .await?
        .ok_or(AppError::NotFound)
}

/// POST /practice/framework/{id}/competencies
pub async fn add_competency(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<CompetencyInput>,
) -> Result<Response, AppError> {
    let org = org_of(&state, &id).await?;
    match competencies::add(&state, &actor, &id, &f).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/practice/framework?organisation={org}")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            framework_page(&state, &ctx, &actor, &org, FormAt::Add, &f, &e).await
        }
        Err(e) => Err(e),
    }
}

/// POST /practice/framework/{id}/competencies/{competency} — save or remove.
pub async fn edit_competency(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, competency)): Path<(String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let org = org_of(&state, &id).await?;
    let (input, remove) = edited_competency(&pairs);
    match competencies::edit(
        &state,
        &actor,
        &id,
        &competency,
        (!remove).then_some(&input),
    )
    .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/practice/framework?organisation={org}")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            // Error links point at the renamed fields of this competency's form.
            let code = competencies::code_of(&state, &competency).await?;
            let summary = rename(&e, &code);
            framework_page(
                &state,
                &ctx,
                &actor,
                &org,
                FormAt::Edit(competency),
                &input,
                &summary,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The edited competency from its form (whose fields carry the competency's suffix), and
/// whether it is to be removed.
fn edited_competency(pairs: &[(String, String)]) -> (CompetencyInput, bool) {
    let get = |prefix: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let input = CompetencyInput {
        domain: get("domain-"),
        new_domain: String::new(),
        title: get("title-"),
        description: get("description-"),
    };
    (input, get("action") == "remove")
}

/// The publish form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PublishForm {
    pub change_note: String,
}

/// POST /practice/framework/{id}/publish
pub async fn publish(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<PublishForm>,
) -> Result<Response, AppError> {
    let org = org_of(&state, &id).await?;
    match competencies::publish(&state, &actor, &id, &f.change_note).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/practice/framework?organisation={org}")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            framework_page(
                &state,
                &ctx,
                &actor,
                &org,
                FormAt::Publish,
                &CompetencyInput::default(),
                &e,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
