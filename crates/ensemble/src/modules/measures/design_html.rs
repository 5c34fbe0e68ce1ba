//! Pages for co-designing instruments: the builder, sending a draft to a named panel, the
//! panel's review, and new versions.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::definition::Definition;
use super::design::{self, DraftInput, KINDS, SCORING, VersionView};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, csrf, error_summary, radios, select, table_wrap, textarea,
};
use crate::web::{Page, PageCtx, page};

fn status_label(s: &str) -> &'static str {
    match s {
        "draft" => "Draft",
        "in_review" => "With the panel",
        "approved" => "Approved: in use",
        "retired" => "Retired",
        _ => "Unknown",
    }
}

fn tag(s: &str) -> Markup {
    let class = match s {
        "approved" => "nhsuk-tag nhsuk-tag--green",
        "in_review" => "nhsuk-tag nhsuk-tag--yellow",
        _ => "nhsuk-tag nhsuk-tag--grey",
    };
    html! { strong class=(class) { (status_label(s)) } }
}

/// New-instrument form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewForm {
    organisation_id: String,
    name: String,
    short_name: String,
}

async fn list_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    f: &NewForm,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let versions = design::versions(state, actor).await?;
    let reviews = design::reviews_for(state, actor).await?;
    let orgs = design::design_organisations(actor);
    let options: Vec<(String, String)> = orgs.clone();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Co-design an instrument" }
            p."nhsuk-body" { "Draft a check-in or creative format with participants. A panel of at least two named people approves it before anyone uses it; every version is kept, and each answer records the version it was given with." }
            @if !reviews.is_empty() {
                h2."nhsuk-heading-m" { "Waiting for your review" }
                ul."nhsuk-list" { @for r in &reviews {
                    li { a href=(format!("/instrument-reviews/{}/{}", r.instrument_id, r.version)) { (r.name) " (version " (r.version) ")" } }
                } }
            }
            h2."nhsuk-heading-m" { "Instruments" }
            @if versions.is_empty() { p."nhsuk-body" { "None yet." } } @else {
                (table_wrap("Co-designed instruments", html! { table."nhsuk-table" {
                    caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Co-designed instruments" }
                    thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="col" { "Instrument" }
                        th."nhsuk-table__header" scope="col" { "Version" }
                        th."nhsuk-table__header" scope="col" { "Status" }
                    } }
                    tbody."nhsuk-table__body" { @for v in &versions {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { a href=(format!("/measures/design/{}/{}", v.instrument_id, v.version)) { (v.name) } }
                            td."nhsuk-table__cell" { (v.version) }
                            td."nhsuk-table__cell" { (tag(&v.status)) }
                        }
                    } }
                } }))
            }
            h2."nhsuk-heading-m" { "Start a new instrument" }
            form method="post" action="/measures/design" novalidate {
                (csrf(ctx))
                @if options.len() > 1 {
                    (select("organisation_id", "Organisation", &options, &f.organisation_id, errors))
                } @else if let Some((id, _)) = options.first() {
                    input type="hidden" name="organisation_id" value=(id);
                }
                (Input::new("name", "Name", &f.name).hint("For example: Singing group check-in").render(errors))
                (Input::new("short_name", "Short name", &f.short_name).hint("Up to 40 characters, shown on buttons and in tables").width("nhsuk-input--width-20").render(errors))
                (button("Start drafting"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Co-design an instrument", body).errors(!errors.is_empty()),
    ))
}

/// GET /measures/design
pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    list_page(&state, &ctx, &actor, &NewForm::default(), &[]).await
}

/// POST /measures/design
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<NewForm>,
) -> Result<Response, AppError> {
    match design::create(&state, &actor, &f.organisation_id, &f.name, &f.short_name).await {
        Ok((id, v)) => Ok(Redirect::to(&format!("/measures/design/{id}/{v}")).into_response()),
        Err(AppError::Invalid(e)) => list_page(&state, &ctx, &actor, &f, &e).await,
        Err(e) => Err(e),
    }
}

fn builder(
    ctx: &PageCtx,
    v: &VersionView,
    input: &DraftInput,
    candidates: &[(String, String)],
    chosen: &[String],
    errors: &[FieldError],
) -> Markup {
    let kinds: Vec<(String, String)> = KINDS
        .iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect();
    let scoring: Vec<(&str, &str)> = SCORING.to_vec();
    let action = format!("/measures/design/{}/{}", v.instrument_id, v.version);
    html! {
        form method="post" action=(action) novalidate {
            (csrf(ctx))
            (Input::new("name", "Name", &input.name).render(errors))
            (Input::new("short_name", "Short name", &input.short_name).width("nhsuk-input--width-20").render(errors))
            (textarea("description", "What it is for", "Shown to staff in the instrument library", &input.description, errors))
            (textarea("instructions", "Instructions for the person", "", &input.instructions, errors))
            (textarea("easy_read_instructions", "Easy read instructions (optional)", "Short sentences and everyday words", &input.easy_read_instructions, errors))
            @for (i, q) in input.questions.iter().enumerate() {
                fieldset."nhsuk-fieldset ensemble-question" {
                    legend."nhsuk-fieldset__legend nhsuk-fieldset__legend--m" { "Question " (i + 1) }
                    (Input::new(&format!("q_text_{i}"), "Question", &q.text).render(errors))
                    (Input::new(&format!("q_easy_{i}"), "Easy read version (optional)", &q.easy_read).render(errors))
                    (select(&format!("q_kind_{i}"), "How it is answered", &kinds, &q.kind, errors))
                    div."nhsuk-checkboxes" { div."nhsuk-checkboxes__item" {
                        input."nhsuk-checkboxes__input" type="checkbox" id=(format!("q_reverse_{i}")) name=(format!("q_reverse_{i}")) value="yes" checked[q.reverse];
                        label."nhsuk-label nhsuk-checkboxes__label" for=(format!("q_reverse_{i}")) { "Reverse scored (a high answer means less wellbeing)" }
                    } }
                    @if input.questions.len() > 1 {
                        button."nhsuk-button nhsuk-button--secondary ensemble-small-button" type="submit" name="action" value=(format!("remove_{i}")) { "Remove question " (i + 1) }
                    }
                }
            }
            @let add_error = errors.iter().find(|e| e.field == "add");
            div id="add" class=(if add_error.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                @if let Some(e) = add_error { span."nhsuk-error-message" { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                button."nhsuk-button nhsuk-button--secondary" type="submit" name="action" value="add" { "Add a question" }
            }
            (radios("scoring", "Scoring", &scoring, &input.scoring, errors))
            (Input::new("meaningful_change", "Meaningful change (optional)", &input.meaningful_change).hint("The smallest change in the score that matters, agreed with participants").width("nhsuk-input--width-5").render(errors))
            @if v.version > 1 {
                (Input::new("changes", "What changed in this version", &input.changes).render(errors))
            }
            button."nhsuk-button" type="submit" name="action" value="save" { "Save draft" }
            h2."nhsuk-heading-m" { "Send for approval" }
            @let panel_error = errors.iter().find(|e| e.field == "panel");
            div id="panel" class=(if panel_error.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                fieldset."nhsuk-fieldset" {
                    legend."nhsuk-fieldset__legend nhsuk-fieldset__legend--s" { "The panel: at least two people who will approve it" }
                    @if let Some(e) = panel_error { span."nhsuk-error-message" { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                    div."nhsuk-checkboxes" {
                        @for (k, (id, name)) in candidates.iter().enumerate() {
                            div."nhsuk-checkboxes__item" {
                                input."nhsuk-checkboxes__input" type="checkbox" id=(if k == 0 { "panel-member".to_string() } else { format!("panel-member-{k}") }) name="panel" value=(id) checked[chosen.contains(id)];
                                label."nhsuk-label nhsuk-checkboxes__label" for=(if k == 0 { "panel-member".to_string() } else { format!("panel-member-{k}") }) { (name) }
                            }
                        }
                    }
                }
            }
            button."nhsuk-button" type="submit" name="action" value="submit" { "Send to the panel" }
        }
    }
}

async fn version_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    v: &VersionView,
    input: Option<&DraftInput>,
    chosen: &[String],
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let title = v.definition["name"]
        .as_str()
        .unwrap_or("Instrument")
        .to_string();
    let stored = DraftInput::from_definition(&v.definition);
    let input = input.unwrap_or(&stored);
    let candidates = design::panel_candidates(state, actor, &v.organisation_id).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { "Version " (v.version) }
            h1 { (title) }
            p { (tag(&v.status)) }
            @if !v.panel.is_empty() {
                h2."nhsuk-heading-m" { "Panel" }
                ul."nhsuk-list" { @for p in &v.panel {
                    li { (p.name) ": " (match p.decision.as_str() { "approved" => "approved", "changes_requested" => "asked for changes", _ => "not yet decided" })
                        @if !p.comment.is_empty() { " — “" (p.comment) "”" } }
                } }
            }
            @match v.status.as_str() {
                "draft" => { (builder(ctx, v, input, &candidates, chosen, errors)) }
                "approved" => {
                    p."nhsuk-body" { "This version is in use. To change it, start a new version: answers already given keep the version they were given with." }
                    form method="post" action=(format!("/measures/design/{}/{}/new-version", v.instrument_id, v.version)) {
                        (csrf(ctx))
                        (button("Start a new version"))
                    }
                    p { a href=(format!("/measures/instruments/{}", v.instrument_id)) { "See it in the instrument library" } }
                }
                _ => { p."nhsuk-body" { "The panel is reviewing this version." } }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new(&title, body)
            .errors(!errors.is_empty())
            .back("/measures/design", "Co-design"),
    ))
}

fn version_of(v: &str) -> Result<i64, AppError> {
    v.parse::<i64>().map_err(|_| AppError::NotFound)
}

/// GET /measures/design/{id}/{version}
pub async fn version(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let v = design::view(&state, &actor, &id, version_of(&version)?).await?;
    version_page(&state, &ctx, &actor, &v, None, &[], &[]).await
}

/// POST /measures/design/{id}/{version}
pub async fn save(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, version)): Path<(String, String)>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let ver = version_of(&version)?;
    let v = design::view(&state, &actor, &id, ver).await?;
    let mut input = DraftInput::from_form(&form);
    let action = form
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, a)| a.as_str())
        .unwrap_or("save");
    let chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "panel")
        .map(|(_, v)| v.clone())
        .collect();
    if add_or_remove_question(&mut input, action) {
        return version_page(&state, &ctx, &actor, &v, Some(&input), &chosen, &[]).await;
    }
    let panel = (action == "submit").then_some(chosen.as_slice());
    match design::save(&state, &actor, &id, ver, &input, panel).await {
        Ok(()) => Ok(Redirect::to(&format!("/measures/design/{id}/{ver}")).into_response()),
        Err(AppError::Invalid(e)) => {
            version_page(&state, &ctx, &actor, &v, Some(&input), &chosen, &e).await
        }
        Err(e) => Err(e),
    }
}

/// "Add a question" and "Remove" change the draft on the page without saving it: true when
/// `action` was one of them.
fn add_or_remove_question(input: &mut DraftInput, action: &str) -> bool {
    if action == "add" {
        input.questions.push(design::QuestionInput {
            kind: "faces5".into(),
            ..Default::default()
        });
        return true;
    }
    if let Some(i) = action
        .strip_prefix("remove_")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if i < input.questions.len() && input.questions.len() > 1 {
            input.questions.remove(i);
        }
        return true;
    }
    false
}

/// POST /measures/design/{id}/{version}/new-version
pub async fn new_version(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let next = design::new_version(&state, &actor, &id, version_of(&version)?).await?;
    Ok(Redirect::to(&format!("/measures/design/{id}/{next}")).into_response())
}

/// GET /instrument-reviews
pub async fn reviews(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let reviews = design::reviews_for(&state, &actor).await?;
    let body = html! {
        h1 { "Instruments to review" }
        @if reviews.is_empty() { p."nhsuk-body" { "Nothing is waiting for your review." } } @else {
            ul."nhsuk-list" { @for r in &reviews {
                li { a href=(format!("/instrument-reviews/{}/{}", r.instrument_id, r.version)) { (r.name) " (version " (r.version) ", " (r.organisation) ")" } }
            } }
        }
    };
    Ok(page(&ctx, Page::new("Instruments to review", body)))
}

/// Decision form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewForm {
    decision: String,
    comment: String,
}

async fn review_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    version: i64,
    f: &ReviewForm,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let v = design::view(state, actor, id, version).await?;
    let def = Definition::from_value(v.definition.clone()).ok();
    let title = v.definition["name"]
        .as_str()
        .unwrap_or("Instrument")
        .to_string();
    let mine = v.panel.iter().find(|p| p.user_id == actor.user_id);
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { "Review: version " (v.version) }
            h1 { (title) }
            p { (tag(&v.status)) }
            @if let Some(d) = &def {
                @if let Some(i) = &d.instructions { p."nhsuk-body" { (i) } }
                h2."nhsuk-heading-m" { "The questions, as people will see them" }
                ol."nhsuk-list nhsuk-list--number" {
                    @for item in &d.items {
                        li {
                            (item.text.clone().unwrap_or_default())
                            @if let Some(e) = &item.easy_read { br; span."nhsuk-body-s" { "Easy read: " (e) } }
                            br; span."nhsuk-body-s" { "Answered: " (d.scale_of(item).map(|s| s.describe_allowed()).unwrap_or_default()) @if item.reverse { " (reverse scored)" } }
                        }
                    }
                }
                h2."nhsuk-heading-m" { "Scoring" }
                @if d.scores.is_empty() { p."nhsuk-body" { "No score: a conversation prompt." } } @else {
                    ul."nhsuk-list nhsuk-list--bullet" { @for s in &d.scores { li { (s.label) } } }
                }
            }
            @if v.status == "in_review" && mine.is_some_and(|m| m.decision == "pending") {
                form method="post" action=(format!("/instrument-reviews/{id}/{version}")) novalidate {
                    (csrf(ctx))
                    (radios("decision", "Your decision", &[("approve", "Approve it for use"), ("changes", "Ask for changes")], &f.decision, errors))
                    (textarea("comment", "Comment", "Needed when you ask for changes", &f.comment, errors))
                    (button("Send decision"))
                }
            } @else {
                p."nhsuk-body" { "There is no decision for you to make on this version now." }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new(&title, body)
            .errors(!errors.is_empty())
            .back("/instrument-reviews", "Reviews"),
    ))
}

/// GET /instrument-reviews/{id}/{version}
pub async fn review(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, AppError> {
    review_page(
        &state,
        &ctx,
        &actor,
        &id,
        version_of(&version)?,
        &ReviewForm::default(),
        &[],
    )
    .await
}

/// POST /instrument-reviews/{id}/{version}
pub async fn decide(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, version)): Path<(String, String)>,
    PageForm(f): PageForm<ReviewForm>,
) -> Result<Response, AppError> {
    let ver = version_of(&version)?;
    if f.decision != "approve" && f.decision != "changes" {
        let e = vec![FieldError::new(
            "decision",
            "Choose approve or ask for changes",
        )];
        return review_page(&state, &ctx, &actor, &id, ver, &f, &e).await;
    }
    match design::review(
        &state,
        &actor,
        &id,
        ver,
        f.decision == "approve",
        &f.comment,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/instrument-reviews/{id}/{ver}")).into_response()),
        Err(AppError::Invalid(e)) => review_page(&state, &ctx, &actor, &id, ver, &f, &e).await,
        Err(e) => Err(e),
    }
}
