//! Pages for co-analysis themes: the programme's themes page (themes, voices per theme by
//! month, quotes, agreement between coders) and the coding form on a voice's page.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use ensemble_stats::agreement::Agreement;
use maud::{Markup, html};
use serde::Deserialize;

use super::access::{Reader, Standing, VoiceAccess};
use super::themes::{self, Coding, Overview, ThemeInput};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, textarea, with_repeated,
};
use crate::web::layout::long_date;
use crate::web::{Page, PageCtx, page};

/// What the page was reached after (`?saved=…`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Saved {
    saved: String,
}

fn banner(code: &str) -> Markup {
    let text = match code {
        "added" => "Theme added",
        "changed" => "Theme saved",
        _ => return html! {},
    };
    html! {
        div."nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="saved-title" {
            div."nhsuk-notification-banner__header" { h2."nhsuk-notification-banner__title" id="saved-title" { "Success" } }
            div."nhsuk-notification-banner__content" { p."nhsuk-notification-banner__heading" { (text) } }
        }
    }
}

/// Percentage agreement, as people read it.
pub fn percent(a: &Agreement) -> String {
    format!("{:.0}%", a.observed * 100.0)
}

/// Cohen's kappa to two places, or why it is not defined.
pub fn kappa(a: &Agreement) -> String {
    match a.kappa {
        Some(k) => format!("{k:.2}"),
        None => "not defined (both gave every voice the same answer)".into(),
    }
}

fn agreement_table(o: &Overview) -> Markup {
    let theme_name = |id: &str| {
        o.themes
            .iter()
            .find(|t| t.theme.id == id)
            .map(|t| t.theme.name.clone())
            .unwrap_or_default()
    };
    let name = |id: &str| o.names.get(id).cloned().unwrap_or_default();
    html! {
        h2."nhsuk-heading-m" id="agreement" { "How far coders agree" }
        @if o.pairs.is_empty() {
            p."nhsuk-body" { "This appears once two people have coded the same voice." }
        }
        @for p in &o.pairs {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (name(&p.first)) " and " (name(&p.second)) ", over " (p.voices) @if p.voices == 1 { " voice" } @else { " voices" } " both coded" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Theme" }
                    th."nhsuk-table__header" scope="col" { "Agreement" }
                    th."nhsuk-table__header" scope="col" { "Cohen's kappa" }
                } }
                tbody."nhsuk-table__body" {
                    @for (id, a) in &p.per_theme {
                        tr."nhsuk-table__row" { td."nhsuk-table__cell" { (theme_name(id)) } td."nhsuk-table__cell" { (percent(a)) } td."nhsuk-table__cell" { (kappa(a)) } }
                    }
                    tr."nhsuk-table__row" { th."nhsuk-table__header" scope="row" { "All themes" } td."nhsuk-table__cell" { (percent(&p.overall)) } td."nhsuk-table__cell" { (kappa(&p.overall)) } }
                }
            }
        }
        h3."nhsuk-heading-s" { "Check these figures yourself" }
        p."nhsuk-body" {
            a href=(format!("/programmes/{}/themes/codings.csv", o.programme.id)) download { "Download the codings (CSV)" }
            ": one row for each voice someone coded and each theme, one column for each coder (1 ticked, 0 not ticked, blank where they did not code that voice). No voice text is in it."
        }
        p."nhsuk-body" { "The \"All themes\" row of a pair is what " code { "ensemble analyse agreement codings.csv --first \"Name\" --second \"Name\"" } " gives; keep only one theme's rows for that theme's figures." }
    }
}

fn change_form(ctx: &PageCtx, programme: &str, t: &themes::Theme, errors: &[FieldError]) -> Markup {
    let field = |f: &str| format!("{f}-{}", t.id);
    let err = |f: &str| errors.iter().find(|e| e.field == field(f));
    html! {
        details."nhsuk-details" open[errors.iter().any(|e| e.field.ends_with(&t.id))] {
            summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Change " (t.name) } }
            div."nhsuk-details__text" {
                form method="post" action=(format!("/programmes/{programme}/themes/{}", t.id)) novalidate {
                    (csrf(ctx))
                    @for (f, label) in [("name", "Name"), ("description", "Short description")] {
                        div class=(if err(f).is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                            label."nhsuk-label" for=(field(f)) { (label) }
                            @if let Some(e) = err(f) { span."nhsuk-error-message" id=(format!("{}-error", field(f))) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                            @let value = if f == "name" { &t.name } else { &t.description };
                            input."nhsuk-input" id=(field(f)) name=(f) type="text" value=(value) aria-describedby=[err(f).map(|_| format!("{}-error", field(f)))];
                        }
                    }
                    div."nhsuk-checkboxes" { div."nhsuk-checkboxes__item" {
                        input."nhsuk-checkboxes__input" id=(field("retired")) name="retired" type="checkbox" value="yes" checked[t.retired];
                        label."nhsuk-label nhsuk-checkboxes__label" for=(field("retired")) { "Retired: no longer offered for coding (its codings are kept)" }
                    } }
                    button."nhsuk-button nhsuk-button--secondary nhsuk-u-margin-top-4" type="submit" { "Save theme" }
                }
            }
        }
    }
}

async fn themes_page(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    saved: &str,
    new: &ThemeInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let o = themes::overview(state, actor, id).await?;
    let team = o.programme.standing() >= Standing::Team;
    let pid = o.programme.id.clone();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            (banner(saved))
            span."nhsuk-caption-l" { (o.programme.name) }
            h1 { "Themes" }
            p."nhsuk-body" { "The programme team and co-researchers tick the themes that apply to each voice they may read. Only they see this page. Counts from 1 to 7 are not shown, so nobody can be picked out." }
            @if o.themes.is_empty() { p."nhsuk-body" { "There are no themes yet." } }
            @for s in &o.themes {
                h2."nhsuk-heading-m" { (s.theme.name) @if s.theme.retired { " (retired)" } }
                p."nhsuk-body" { (s.theme.description) }
                @if s.months.is_empty() {
                    p."nhsuk-body" { "No voices have this theme yet." }
                } @else {
                    table."nhsuk-table" {
                        caption."nhsuk-table__caption nhsuk-table__caption--s" { "Voices with this theme, by month" }
                        thead."nhsuk-table__head" { tr."nhsuk-table__row" { th."nhsuk-table__header" scope="col" { "Month" } th."nhsuk-table__header" scope="col" { "Voices" } } }
                        tbody."nhsuk-table__body" {
                            @for (m, n) in &s.months { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (m) } td."nhsuk-table__cell" { (n) } } }
                        }
                    }
                }
                @for q in &s.quotes {
                    div."nhsuk-inset-text" {
                        p."nhsuk-body ensemble-pre-line" { (q.body.chars().take(300).collect::<String>()) }
                        p."nhsuk-body-s" { a href=(format!("/voices/{}", q.id)) { (q.kind.label()) ", " (long_date(q.created_at)) } }
                    }
                }
                @if team { (change_form(ctx, &pid, &s.theme, errors)) }
            }
            (agreement_table(&o))
            @if team {
                h2."nhsuk-heading-m" { "Add a theme" }
                form method="post" action=(format!("/programmes/{pid}/themes")) novalidate {
                    (csrf(ctx))
                    (Input::new("name", "Name", &new.name).render(errors))
                    (textarea("description", "Short description", "What a voice says when this theme applies.", &new.description, errors))
                    (button("Add theme"))
                }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new(&format!("Themes, {}", o.programme.name), body)
            .back(&format!("/programmes/{pid}"), "Programme")
            .errors(!errors.is_empty()),
    ))
}

/// GET /programmes/{id}/themes
pub async fn overview(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    themes_page(
        &state,
        &ctx,
        &actor,
        &id,
        &q.saved,
        &ThemeInput::default(),
        &[],
    )
    .await
}

/// POST /programmes/{id}/themes
pub async fn add(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ThemeInput>,
) -> Result<Response, AppError> {
    match themes::add(&state, &actor, &id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/programmes/{id}/themes?saved=added")).into_response()),
        Err(AppError::Invalid(e)) => themes_page(&state, &ctx, &actor, &id, "", &f, &e).await,
        Err(e) => Err(e),
    }
}

/// POST /programmes/{id}/themes/{theme}
pub async fn change(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, theme)): Path<(String, String)>,
    PageForm(f): PageForm<ThemeInput>,
) -> Result<Response, AppError> {
    match themes::change(&state, &actor, &id, &theme, &f).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/programmes/{id}/themes?saved=changed")).into_response())
        }
        Err(AppError::Invalid(e)) => {
            let e: Vec<FieldError> = e
                .into_iter()
                .map(|x| FieldError::new(format!("{}-{theme}", x.field), x.message))
                .collect();
            themes_page(&state, &ctx, &actor, &id, "", &ThemeInput::default(), &e).await
        }
        Err(e) => Err(e),
    }
}

/// The coding form has only its ticks (and the CSRF token, checked before this).
#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

/// POST /voices/{id}/themes
pub async fn code(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (_, chosen): (NoFields, Vec<String>) = with_repeated(pairs, "themes")?;
    let voice = themes::code(&state, &actor, &id, &chosen).await?;
    Ok(Redirect::to(&format!("/voices/{voice}?saved=coded#coding")).into_response())
}

/// The coding form on a voice's page, for the team and co-researchers.
pub fn coding_section(ctx: &PageCtx, v: &VoiceAccess<Reader>, c: &Coding) -> Markup {
    let options: Vec<(&str, &str, &str)> = c
        .themes
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str(), t.description.as_str()))
        .collect();
    html! {
        h2."nhsuk-heading-m" id="coding" { "Themes" }
        @if options.is_empty() {
            p."nhsuk-body" { "There are no themes yet. " a href=(format!("/programmes/{}/themes", v.programme_id)) { "See the programme's themes" } }
        } @else {
            p."nhsuk-body" { @if c.coded { "You have coded this voice. You can change your coding." } @else { "You have not coded this voice yet. Ticking nothing and saving records that no theme applies." } }
            form method="post" action=(format!("/voices/{}/themes", v.id)) novalidate {
                (csrf(ctx))
                (checkboxes("themes", "Which themes apply?", &options, &c.ticked, &[]))
                (button("Save themes"))
            }
            p."nhsuk-body" { a href=(format!("/programmes/{}/themes", v.programme_id)) { "See every theme and how far coders agree" } }
        }
    }
}
