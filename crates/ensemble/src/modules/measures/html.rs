//! Pages: a participant's check-ins on their own phone; completing an instrument (all on one
//! page, or one question per page, with easy-read wording, saving to come back later);
//! staff entry with the person or from paper with double entry; the instrument library; and
//! the administrator's page for licensed wording.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

use super::definition::{Answer, Definition, Item, Scale, num};
use super::service::{self, LatestScore, Mode, NewResponse, ResponseView, Saved};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, button, checkboxes, csrf, error_summary, radios, select};
use crate::web::{Page, PageCtx, page};

use crate::db::date_of as date;

fn field(item: &str) -> String {
    format!("q_{item}")
}

/// The latest scores of a person, as a table (used on the case, provider and plan pages).
pub fn scores_panel(latest: &[LatestScore], heading: &str) -> Markup {
    html! {
        h2."nhsuk-heading-m" { (heading) }
        @if latest.is_empty() {
            p."nhsuk-body" { "No wellbeing measures completed yet." }
        } @else {
            table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { (heading) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Measure" }
                    th."nhsuk-table__header" scope="col" { "Score" }
                    th."nhsuk-table__header" scope="col" { "Before" }
                    th."nhsuk-table__header" scope="col" { "Date" }
                } }
                tbody."nhsuk-table__body" {
                    @for l in latest {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" {
                                (l.score.instrument) ": " (l.score.label)
                                @if let Some(code) = &l.score.snomed_code {
                                    br; span."nhsuk-body-s" { "SNOMED CT " (code) }
                                }
                            }
                            td."nhsuk-table__cell" {
                                strong { (num(l.score.value)) }
                                @if let Some(b) = &l.score.band { " (" (b) ")" }
                            }
                            td."nhsuk-table__cell" { (l.previous.map(num).unwrap_or_else(|| "–".into())) }
                            td."nhsuk-table__cell" { (date(l.score.completed_at)) }
                        }
                    }
                }
            }
        }
    }
}

/// The form staff use to record a measure for a person.
pub fn start_form(
    ctx: &PageCtx,
    instruments: &[service::InstrumentSummary],
    person_id: &str,
    referral_id: Option<&str>,
) -> Markup {
    let options: Vec<(String, String)> =
        std::iter::once((String::new(), "Choose a measure".to_owned()))
            .chain(
                instruments
                    .iter()
                    .filter(|d| !super::definition::OBSERVATION_SCALES.contains(&d.id.as_str()))
                    .map(|d| (d.id.clone(), d.name.clone())),
            )
            .collect();
    html! {
        details."nhsuk-details" {
            summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Record a wellbeing measure" } }
            div."nhsuk-details__text" {
                form method="post" action=(format!("/measures/people/{person_id}/start")) novalidate {
                    (csrf(ctx))
                    @if let Some(r) = referral_id { input type="hidden" name="referral_id" value=(r); }
                    (select("instrument", "Measure", &options, "", &[]))
                    (radios("mode", "How", &[("with_practitioner", "With the person, now"), ("paper", "From a paper form")], "with_practitioner", &[]))
                    (checkboxes("double_entry", "Checking", &[("yes", "Paper: someone else keys it again to catch mistakes", "")], &[], &[]))
                    (button("Start"))
                }
            }
        }
    }
}

/// Query of the completion page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QuestionQuery {
    /// Question number (1-based) when showing one question per page.
    q: usize,
    saved: String,
}

fn option_label(o: &super::definition::ScaleOption, easy: bool) -> String {
    if easy {
        o.easy_read.clone().unwrap_or_else(|| o.label.clone())
    } else {
        o.label.clone()
    }
}

fn question_text(item: &Item, index: usize, easy: bool, worded: bool) -> String {
    let text = if easy {
        item.easy_read.clone().or_else(|| item.text.clone())
    } else {
        item.text.clone()
    };
    match (text, worded) {
        (Some(t), _) => t,
        (None, _) => format!(
            "Question {} on the paper form ({})",
            index + 1,
            item.id.replace('_', " ")
        ),
    }
}

/// One question as a fieldset.
pub(crate) fn question(
    def: &Definition,
    index: usize,
    item: &Item,
    value: Option<&Answer>,
    easy: bool,
    worded: bool,
    errors: &[FieldError],
) -> Markup {
    let name = field(&item.id);
    let err = errors.iter().find(|e| e.field == name);
    let legend = question_text(item, index, easy, worded);
    let current = match value {
        Some(Answer::Number(v)) => num(*v),
        Some(Answer::Text(t)) => t.clone(),
        None => String::new(),
    };
    let scale = def.scale_of(item);
    html! {
        div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
            @match scale {
                Some(Scale::FreeText { max_length }) => {
                    label."nhsuk-label nhsuk-label--s" for=(name) { (legend) }
                    @if let Some(e) = err { span."nhsuk-error-message" id=(format!("{name}-error")) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                    textarea."nhsuk-textarea" id=(name) name=(name) rows="4" maxlength=(max_length) aria-describedby=[err.map(|_| format!("{name}-error"))] { (current) }
                }
                Some(s) => {
                    @let described = {
                        let mut d = Vec::new();
                        if matches!(s, Scale::Numeric { .. }) { d.push(format!("{name}-hint")); }
                        if err.is_some() { d.push(format!("{name}-error")); }
                        (!d.is_empty()).then(|| d.join(" "))
                    };
                    fieldset."nhsuk-fieldset" aria-describedby=[described] {
                        legend."nhsuk-fieldset__legend nhsuk-fieldset__legend--s" { (legend) }
                        @if let Scale::Numeric { min_label, max_label, min, max, .. } = s {
                            div."nhsuk-hint" id=(format!("{name}-hint")) {
                                (num(*min)) " = " (min_label.clone().unwrap_or_default()) ", "
                                (num(*max)) " = " (max_label.clone().unwrap_or_default())
                            }
                        }
                        @if let Some(e) = err { span."nhsuk-error-message" id=(format!("{name}-error")) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                        @match s {
                            Scale::Numeric { min, max, step, .. } => {
                                div."ensemble-scale" {
                                    @let count = ((max - min) / step).round() as usize;
                                    @for k in 0..=count {
                                        @let v = num(min + step * k as f64);
                                        @let id = if k == 0 { name.clone() } else { format!("{name}-{k}") };
                                        div."ensemble-scale__item" {
                                            input."ensemble-scale__input" type="radio" id=(id) name=(name) value=(v) checked[current == v];
                                            label."ensemble-scale__label" for=(id) { (v) }
                                        }
                                    }
                                }
                            }
                            Scale::Labelled { options } | Scale::Faces { options } => {
                                div."nhsuk-radios" {
                                    @for (k, o) in options.iter().enumerate() {
                                        @let v = num(o.value);
                                        @let id = if k == 0 { name.clone() } else { format!("{name}-{k}") };
                                        div."nhsuk-radios__item" {
                                            input."nhsuk-radios__input" type="radio" id=(id) name=(name) value=(v) checked[current == v];
                                            label."nhsuk-label nhsuk-radios__label" for=(id) {
                                                @if let Some(face) = &o.face { span."ensemble-face" aria-hidden="true" { (face) } " " }
                                                (option_label(o, easy))
                                                @if !worded { " (" (v) ")" }
                                            }
                                        }
                                    }
                                }
                            }
                            Scale::FreeText { .. } => {}
                        }
                    }
                }
                None => {}
            }
        }
    }
}

fn heading(v: &ResponseView) -> &'static str {
    match v.status.as_str() {
        service::AWAITING_SECOND_ENTRY => "Second keying",
        service::MISMATCH => "The two keyings differ",
        _ => match v.mode {
            Mode::SelfReport => "Check-in",
            Mode::WithPractitioner => "With the person",
            Mode::Paper => "From paper",
        },
    }
}

fn completion_page(
    ctx: &PageCtx,
    v: &ResponseView,
    values: &BTreeMap<String, Answer>,
    q: usize,
    saved: bool,
    errors: &[FieldError],
) -> Response {
    let def = &v.definition;
    let total = def.items.len();
    let easy = v.easy_read;
    let one = v.one_per_page && v.status == service::IN_PROGRESS && total > 1;
    let index = q.clamp(1, total.max(1)) - 1;
    let title = def.name.clone();
    let instructions = if easy {
        def.easy_read_instructions
            .clone()
            .or_else(|| def.instructions.clone())
    } else {
        def.instructions.clone()
    };
    let mismatch: Vec<&Item> = if v.status == service::MISMATCH {
        def.items
            .iter()
            .filter(|i| v.answers.get(&i.id) != v.second_answers.get(&i.id))
            .collect()
    } else {
        Vec::new()
    };
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            @if saved {
                div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "Your answers are saved. You can come back to finish at any time." } }
            }
            span."nhsuk-caption-l" { (heading(v)) }
            h1."nhsuk-heading-l" { (title) }
            @if v.stand_in_wording {
                div."nhsuk-warning-callout" {
                    h3."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "Demonstration wording" } }
                    p { "These questions are a made-up stand-in for the demo. They are not the real " (def.short_name) " wording, which is licensed by its owners." }
                }
            }
            @if !v.worded {
                div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " }
                    p { "The wording of " (def.short_name) " is licensed and has not been uploaded for this organisation. Key each answer from the paper form by its number." } }
            }
            @if let Some(t) = &def.timeframe { p."nhsuk-body" { "Think about how things have been " (t) "." } }
            @if let Some(i) = instructions { p."nhsuk-body" { (i) } }
            form method="post" action=(format!("/check-ins/{}", v.id)) novalidate {
                (csrf(ctx))
                input type="hidden" name="q" value=(index + 1);
                @if !mismatch.is_empty() {
                    p."nhsuk-body" { "Check the paper form and choose the right answer for each question below." }
                    @for item in &mismatch {
                        @let (i, _) = def.item(&item.id).unwrap_or((0, item));
                        @let first = v.answers.get(&item.id).map(answer_text).unwrap_or_else(|| "blank".into());
                        @let second = v.second_answers.get(&item.id).map(answer_text).unwrap_or_else(|| "blank".into());
                        p."nhsuk-body" { "Question " (i + 1) ": first keying " strong { (first) } ", second keying " strong { (second) } }
                        (question(def, i, item, None, easy, v.worded, errors))
                    }
                    button."nhsuk-button" type="submit" name="action" value="finish" { "Save the checked answers" }
                } @else if one {
                    p."nhsuk-body" { "Question " (index + 1) " of " (total) }
                    @let item = &def.items[index];
                    (question(def, index, item, values.get(&item.id), easy, v.worded, errors))
                    div."ensemble-button-row" {
                        @if index + 1 < total {
                            button."nhsuk-button" type="submit" name="action" value="next" { "Continue" }
                        } @else {
                            button."nhsuk-button" type="submit" name="action" value="finish" { "Finish" }
                        }
                        @if index > 0 {
                            button."nhsuk-button nhsuk-button--secondary" type="submit" name="action" value="back" { "Previous question" }
                        }
                        button."nhsuk-button nhsuk-button--secondary" type="submit" name="action" value="save" { "Save and come back later" }
                    }
                } @else {
                    @for (i, item) in def.items.iter().enumerate() {
                        (question(def, i, item, values.get(&item.id), easy, v.worded, errors))
                    }
                    div."ensemble-button-row" {
                        button."nhsuk-button" type="submit" name="action" value="finish" { "Finish" }
                        @if v.status == service::IN_PROGRESS {
                            button."nhsuk-button nhsuk-button--secondary" type="submit" name="action" value="save" { "Save and come back later" }
                        }
                    }
                }
            }
        } }
    };
    page(ctx, Page::new(&title, body).errors(!errors.is_empty()))
}

fn answer_text(a: &Answer) -> String {
    match a {
        Answer::Number(v) => num(*v),
        Answer::Text(t) => t.clone(),
    }
}

fn done_page(ctx: &PageCtx, v: &ResponseView, outcome: &Saved) -> Response {
    let back = match v.mode {
        Mode::SelfReport => "/check-ins".to_owned(),
        _ => "/measures".to_owned(),
    };
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            @match outcome {
                Saved::Complete => {
                    div."ensemble-confirmation" {
                        h1 { "Thank you" }
                        p { "The answers to " (v.definition.short_name) " are saved." }
                    }
                    @if !v.scores.is_empty() {
                        h2."nhsuk-heading-m" { "Scores" }
                        dl."nhsuk-summary-list" {
                            @for s in v.scores.iter().filter(|s| v.definition.scores.iter().any(|r| r.id == s.id && r.headline)) {
                                div."nhsuk-summary-list__row" {
                                    dt."nhsuk-summary-list__key" { (s.label) }
                                    dd."nhsuk-summary-list__value" { (num(s.value)) @if let Some(b) = &s.band { " (" (b) ")" } }
                                }
                            }
                        }
                    }
                }
                Saved::AwaitingSecondEntry => {
                    h1 { "First keying saved" }
                    p."nhsuk-body" { "Someone else now keys the same paper form again from " a href="/measures" { "Measures" } ". If the two keyings differ, the differences are shown for checking." }
                }
                Saved::Mismatch(items) => {
                    h1 { "The two keyings differ" }
                    p."nhsuk-body" { (items.len()) " answers differ. " a href=(format!("/check-ins/{}", v.id)) { "Check them against the paper form" } "." }
                }
                Saved::InProgress => { h1 { "Saved" } }
            }
            p."nhsuk-body" { a href=(back) { "Back" } }
        } }
    };
    page(ctx, Page::new("Saved", body))
}

/// GET /check-ins/{id}
pub async fn response_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<QuestionQuery>,
) -> Result<Response, AppError> {
    let v = service::view(&state, &actor, &id).await?;
    if v.status == service::COMPLETE {
        return Ok(done_page(&ctx, &v, &Saved::Complete));
    }
    let values = if v.status == service::AWAITING_SECOND_ENTRY {
        if v.entered_by.as_deref() == Some(actor.user_id.as_str()) {
            return Ok(done_page(&ctx, &v, &Saved::AwaitingSecondEntry));
        }
        v.second_answers.clone()
    } else {
        v.answers.clone()
    };
    let first_unanswered = v
        .definition
        .items
        .iter()
        .position(|i| !values.contains_key(&i.id))
        .map_or(1, |p| p + 1);
    let question = if q.q == 0 { first_unanswered } else { q.q };
    Ok(completion_page(
        &ctx,
        &v,
        &values,
        question,
        q.saved == "1",
        &[],
    ))
}

/// Read `q_<item>` fields into answers (blank fields are left out).
fn answers_from(def: &Definition, form: &[(String, String)]) -> BTreeMap<String, Answer> {
    let mut out = BTreeMap::new();
    for (k, value) in form {
        let Some(item) = k.strip_prefix("q_") else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let is_text = def
            .item(item)
            .and_then(|(_, i)| def.scale_of(i))
            .is_some_and(Scale::is_text);
        let answer = if is_text {
            Answer::Text(value.to_owned())
        } else {
            match value.parse::<f64>() {
                Ok(v) if v.is_finite() => Answer::Number(v),
                _ => Answer::Text(value.to_owned()),
            }
        };
        out.insert(item.to_owned(), answer);
    }
    out
}

fn form_value<'a>(form: &'a [(String, String)], key: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// POST /check-ins/{id}
pub async fn response_save(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let v = service::view(&state, &actor, &id).await?;
    let answers = answers_from(&v.definition, &form);
    let action = form_value(&form, "action");
    let q: usize = form_value(&form, "q").parse().unwrap_or(1);
    let finish = action == "finish";
    // In one-question-per-page mode "Continue" needs the current question answered.
    if action == "next"
        && let Some(item) = v.definition.items.get(q.saturating_sub(1))
        && !item.optional
        && !answers.contains_key(&item.id)
    {
        let mut values = v.answers.clone();
        values.extend(answers);
        let e = vec![FieldError::new(
            field(&item.id),
            format!("Question {q}: choose an answer, or save and come back later"),
        )];
        return Ok(completion_page(&ctx, &v, &values, q, false, &e));
    }
    match service::save(&state, &actor, &id, answers.clone(), finish).await {
        Ok(Saved::InProgress) | Ok(Saved::AwaitingSecondEntry) if !finish => {
            let next = match action {
                "next" => q + 1,
                "back" => q.saturating_sub(1).max(1),
                _ => q,
            };
            let saved = if action == "save" { "&saved=1" } else { "" };
            Ok(Redirect::to(&format!("/check-ins/{id}?q={next}{saved}")).into_response())
        }
        Ok(outcome) => {
            let v = service::view(&state, &actor, &id).await?;
            Ok(done_page(&ctx, &v, &outcome))
        }
        Err(AppError::Invalid(errors)) => {
            let errors: Vec<FieldError> = errors
                .into_iter()
                .map(|e| FieldError::new(field(&e.field), e.message))
                .collect();
            let mut values = if v.status == service::AWAITING_SECOND_ENTRY {
                v.second_answers.clone()
            } else {
                v.answers.clone()
            };
            values.extend(answers);
            // Show the question with the first problem when paging.
            let first = errors
                .first()
                .and_then(|e| e.field.strip_prefix("q_"))
                .and_then(|item| v.definition.item(item))
                .map_or(q, |(i, _)| i + 1);
            Ok(completion_page(&ctx, &v, &values, first, false, &errors))
        }
        Err(e) => Err(e),
    }
}

/// The person record of a signed-in participant.
async fn own_person(state: &AppState, actor: &Actor) -> Result<Option<String>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM people WHERE user_id = $1 ORDER BY created_at LIMIT 1")
            .bind(actor.user_id.clone())
            .fetch_optional(&state.db.read)
            .await?,
    )
}

/// GET /check-ins — the participant's own check-ins.
pub async fn my_check_ins(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let person = own_person(&state, &actor).await?;
    let Some(person_id) = person else {
        let body = html! {
            h1 { "Your check-ins" }
            p."nhsuk-body" { "There is no participant record linked to your account yet. Your link worker can link it for you." }
        };
        return Ok(page(&ctx, Page::new("Your check-ins", body)));
    };
    let available = service::available_for(&state, &actor, &person_id).await?;
    let due = super::schedules::due_for_person(&state, &person_id).await?;
    let latest = service::own_latest(&state, &actor, &person_id).await?;
    let pending = service::pending_for(&state, &actor).await?;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            h1 { "Your check-ins" }
            p."nhsuk-body" { "Short questions about how you have been. Your answers help you and your link worker see what is changing. You can stop at any point and come back." }
            @let mine: Vec<_> = pending.iter().filter(|p| p.person_id == person_id).collect();
            @if !mine.is_empty() {
                h2."nhsuk-heading-m" { "Carry on where you left off" }
                ul."nhsuk-list" {
                    @for p in mine { li { a href=(format!("/check-ins/{}", p.id)) { "Continue " (p.instrument) } } }
                }
            }
            @if !due.is_empty() {
                div."nhsuk-inset-text" {
                    span."nhsuk-u-visually-hidden" { "Information: " }
                    p { "Due now: " (due.iter().map(|d| available.iter().find(|(a, _)| a.id == d.instrument_id).map(|(a, _)| a.short_name.clone()).unwrap_or_else(|| d.instrument_id.clone())).collect::<Vec<_>>().join(", ")) }
                }
            }
            h2."nhsuk-heading-m" { "Start a check-in" }
            @for (d, _) in &available {
                div."nhsuk-card" { div."nhsuk-card__content" {
                    h3."nhsuk-card__heading nhsuk-heading-s" { (d.name) }
                    p."nhsuk-card__description" { (d.items.len()) " questions" }
                    form method="post" action="/check-ins/start" novalidate {
                        (csrf(&ctx))
                        input type="hidden" name="instrument" value=(d.id);
                        @let base = format!("{}-", d.id);
                        div."nhsuk-form-group" {
                            fieldset."nhsuk-fieldset" {
                                legend."nhsuk-fieldset__legend nhsuk-fieldset__legend--s" { "How would you like to answer?" }
                                div."nhsuk-checkboxes" {
                                    div."nhsuk-checkboxes__item" {
                                        input."nhsuk-checkboxes__input" type="checkbox" id=(format!("{base}one")) name="one_per_page" value="yes";
                                        label."nhsuk-label nhsuk-checkboxes__label" for=(format!("{base}one")) { "One question at a time" }
                                    }
                                    div."nhsuk-checkboxes__item" {
                                        input."nhsuk-checkboxes__input" type="checkbox" id=(format!("{base}easy")) name="easy_read" value="yes";
                                        label."nhsuk-label nhsuk-checkboxes__label" for=(format!("{base}easy")) { "Easy read wording" }
                                    }
                                }
                            }
                        }
                        button."nhsuk-button" type="submit" { "Start " (d.short_name) }
                    }
                } }
            }
            (scores_panel(&latest, "Your latest scores"))
        } }
    };
    Ok(page(&ctx, Page::new("Your check-ins", body)))
}

/// Form to start a self check-in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartSelf {
    instrument: String,
    one_per_page: String,
    easy_read: String,
}

/// POST /check-ins/start
pub async fn start_self(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<StartSelf>,
) -> Result<Response, AppError> {
    let Some(person_id) = own_person(&state, &actor).await? else {
        // No participant record linked: the list page explains what to do.
        return Ok(Redirect::to("/check-ins").into_response());
    };
    let outcome = service::start(
        &state,
        &actor,
        NewResponse {
            person_id,
            instrument_id: f.instrument,
            referral_id: None,
            schedule_id: None,
            mode: Mode::SelfReport,
            double_entry: false,
            easy_read: f.easy_read == "yes",
            one_per_page: f.one_per_page == "yes",
        },
    )
    .await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/check-ins/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let body = html! {
                (error_summary(&errors))
                h1 { "This check-in cannot be started" }
                p."nhsuk-body" { a href="/check-ins" { "Back to your check-ins" } }
            };
            Ok(page(
                &ctx,
                Page::new("This check-in cannot be started", body).errors(true),
            ))
        }
        Err(e) => Err(e),
    }
}

/// Form to start entry by staff.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartStaff {
    instrument: String,
    mode: String,
    double_entry: String,
    referral_id: String,
}

/// POST /measures/people/{id}/start
pub async fn start_staff(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(person_id): Path<String>,
    PageForm(f): PageForm<StartStaff>,
) -> Result<Response, AppError> {
    let mode = match Mode::from_code(&f.mode) {
        Some(Mode::SelfReport) | None => Mode::WithPractitioner,
        Some(m) => m,
    };
    let outcome = service::start(
        &state,
        &actor,
        NewResponse {
            person_id: person_id.clone(),
            instrument_id: f.instrument.clone(),
            referral_id: (!f.referral_id.is_empty()).then(|| f.referral_id.clone()),
            schedule_id: None,
            mode,
            double_entry: f.double_entry == "yes",
            easy_read: false,
            one_per_page: false,
        },
    )
    .await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/check-ins/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let body = html! {
                (error_summary(&errors))
                h1 { "The measure could not be started" }
                p."nhsuk-body" { a href=(if f.referral_id.is_empty() { "/measures".to_owned() } else { format!("/caseload/{}", f.referral_id) }) { "Go back" } }
            };
            Ok(page(
                &ctx,
                Page::new("The measure could not be started", body).errors(true),
            ))
        }
        Err(e) => Err(e),
    }
}

/// GET /measures — staff hub: entries waiting for a second keying or a check, and the
/// instrument library.
pub async fn hub(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let pending = service::pending_for(&state, &actor).await?;
    let instruments = service::list(&state).await?;
    let due = super::schedules::due_for_actor(&state, &actor).await?;
    // The list names people: record who saw which.
    let mut tx = state.db.begin().await?;
    crate::audit::record(
        &mut tx,
        &actor.audit(),
        crate::audit::AuditEvent {
            action: "measure.due.view",
            entity_type: "person",
            entity_id: None,
            detail: serde_json::json!({ "people": due.iter().map(|d| d.person_id.as_str()).collect::<Vec<_>>() }),
        },
    )
    .await?;
    tx.commit().await?;
    let body = html! {
        h1 { "Measures" }
        (due_table(&due))
        h2."nhsuk-heading-m" { "Waiting for you" }
        @if pending.is_empty() {
            p."nhsuk-body" { "Nothing is waiting: no unfinished entries, second keyings or differences to check." }
        } @else {
            table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Entries waiting" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Measure" }
                    th."nhsuk-table__header" scope="col" { "What is needed" }
                    th."nhsuk-table__header" scope="col" { "Started" }
                } }
                tbody."nhsuk-table__body" {
                    @for p in &pending {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { a href=(format!("/check-ins/{}", p.id)) { (p.instrument) } }
                            td."nhsuk-table__cell" { (match p.status.as_str() {
                                service::AWAITING_SECOND_ENTRY => "Second keying of a paper form",
                                service::MISMATCH => "Check differences against the paper form",
                                _ => "Finish entering",
                            }) }
                            td."nhsuk-table__cell" { (date(p.started_at)) }
                        }
                    }
                }
            }
        }
        p."nhsuk-body" { a href="/instrument-reviews" { "Co-designed instruments waiting for your review" } }
        h2."nhsuk-heading-m" { "Instrument library" }
        table."nhsuk-table" {
            caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Instruments" }
            thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                th."nhsuk-table__header" scope="col" { "Instrument" }
                th."nhsuk-table__header" scope="col" { "Questions" }
                th."nhsuk-table__header" scope="col" { "Wording" }
            } }
            tbody."nhsuk-table__body" {
                @for i in &instruments {
                    tr."nhsuk-table__row" {
                        td."nhsuk-table__cell" { a href=(format!("/measures/instruments/{}", i.id)) { (i.name) } " (version " (i.version) ")" }
                        td."nhsuk-table__cell" { (i.items) }
                        td."nhsuk-table__cell" { (if i.licence == "open" { "Included" } else { "Licensed: uploaded by licence holders" }) }
                    }
                }
            }
        }
    };
    Ok(page(&ctx, Page::new("Measures", body)))
}

/// GET /measures/instruments/{id}
pub async fn instrument_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let d = service::definition(&state.db.read, &id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let body = html! {
        span."nhsuk-caption-l" { "Instrument " (d.key()) }
        h1 { (d.name) }
        p."nhsuk-body" { (d.description) }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Licence" } dd."nhsuk-summary-list__value" { (d.licence.holder) ". " (d.licence.notes) } }
            @if let Some(s) = &d.snomed {
                div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "SNOMED CT" } dd."nhsuk-summary-list__value" { (s.code) " " (s.display) } }
            }
        }
        h2."nhsuk-heading-m" { "Questions" }
        ol."nhsuk-list nhsuk-list--number" {
            @for item in &d.items {
                li { (item.text.clone().unwrap_or_else(|| format!("({}: licensed wording not included)", item.id))) }
            }
        }
        h2."nhsuk-heading-m" { "Scores" }
        ul."nhsuk-list nhsuk-list--bullet" {
            @for s in &d.scores {
                li {
                    strong { (s.label) } ": " (format!("{:?}", s.method).to_lowercase())
                    @if let Some([lo, hi]) = s.range { ", " (num(lo)) " to " (num(hi)) }
                    @if let Some(m) = s.meaningful_change { "; meaningful change " (num(m)) }
                    @if !s.bands.is_empty() {
                        "; bands: " (s.bands.iter().map(|b| format!("{} {}–{}", b.label, num(b.min), num(b.max))).collect::<Vec<_>>().join(", "))
                    }
                }
            }
        }
        @if !d.changelog.is_empty() {
            h2."nhsuk-heading-m" { "Changes" }
            ul."nhsuk-list" { @for c in &d.changelog { li { "Version " (c.version) ": " (c.changes) } } }
        }
    };
    Ok(page(
        &ctx,
        Page::new(&d.name, body).back("/measures", "Measures"),
    ))
}

/// Form for licensed wording.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OverlayForm {
    organisation_id: String,
    overlay: String,
}

async fn overlay_page(
    state: &AppState,
    ctx: &PageCtx,
    f: &OverlayForm,
    errors: &[FieldError],
    done: bool,
) -> Result<Response, AppError> {
    let rows = service::overlays(state).await?;
    let orgs = sqlx::query("SELECT id, name FROM organisations ORDER BY name")
        .fetch_all(&state.db.read)
        .await?;
    let mut options: Vec<(String, String)> = vec![(String::new(), "Choose an organisation".into())];
    for r in orgs {
        options.push((r.try_get("id")?, r.try_get("name")?));
    }
    let example = r#"{ "instrument": "swemwbs", "version": 1, "source": "Licence ref. …", "items": { "optimistic": { "text": "…" }, … } }"#;
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            @if done { div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "The wording is uploaded. Participants of that organisation can now complete the measure themselves." } } }
            h1 { "Licensed instrument wording" }
            p."nhsuk-body" { "Ensemble ships the scoring of licensed instruments (SWEMWBS, WEMWBS) but not their wording. If your organisation holds a licence, upload the wording here as JSON; it is used only for that organisation's participants." }
            form method="post" action="/admin/instrument-wording" novalidate {
                (csrf(ctx))
                (select("organisation_id", "Organisation that holds the licence", &options, &f.organisation_id, errors))
                @let err = errors.iter().find(|e| e.field == "overlay");
                div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                    label."nhsuk-label" for="overlay" { "Wording (JSON)" }
                    div."nhsuk-hint" id="overlay-hint" { "Format: " code { (example) } " — see docs/INSTRUMENTS.md." }
                    @for e in errors.iter().filter(|e| e.field == "overlay") {
                        span."nhsuk-error-message" { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) }
                    }
                    textarea."nhsuk-textarea" id="overlay" name="overlay" rows="12" aria-describedby="overlay-hint" { (f.overlay) }
                }
                (button("Upload wording"))
            }
            h2."nhsuk-heading-m" { "Uploaded" }
            @if rows.is_empty() { p."nhsuk-body" { "None yet." } } @else {
                ul."nhsuk-list" {
                    @for r in &rows {
                        li { (r.organisation) ": " (r.instrument) " version " (r.version)
                            @if r.stand_in { " — " strong { "demonstration stand-in wording" } }
                            " (" (r.uploaded_by) ", " (date(r.uploaded_at)) ")" }
                    }
                }
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Licensed instrument wording", body).errors(!errors.is_empty()),
    ))
}

/// GET /admin/instrument-wording
pub async fn overlay_form(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    overlay_page(&state, &ctx, &OverlayForm::default(), &[], false).await
}

/// POST /admin/instrument-wording
pub async fn overlay_upload(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<OverlayForm>,
) -> Result<Response, AppError> {
    match service::upload_overlay(&state, &actor, &f.organisation_id, &f.overlay).await {
        Ok(()) => overlay_page(&state, &ctx, &OverlayForm::default(), &[], true).await,
        Err(AppError::Invalid(e)) => overlay_page(&state, &ctx, &f, &e, false).await,
        Err(e) => Err(e),
    }
}

async fn plan_view(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    activity_id: &str,
    f: &super::schedules::RuleInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    use super::schedules::Timepoint;
    let (name, rules) = super::schedules::plan(state, actor, activity_id).await?;
    let instruments = service::list(state).await?;
    let results = super::results::for_activity(state, actor, activity_id).await?;
    let options: Vec<(String, String)> =
        std::iter::once((String::new(), "Choose an instrument".to_owned()))
            .chain(
                instruments
                    .iter()
                    .filter(|i| !super::definition::OBSERVATION_SCALES.contains(&i.id.as_str()))
                    .map(|i| (i.id.clone(), format!("{} (version {})", i.name, i.version))),
            )
            .collect();
    let timepoints: Vec<(&str, &str)> = Timepoint::ALL.iter().map(|t| (t.1, t.2)).collect();
    let label = |id: &str| {
        instruments
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.short_name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (name) }
            h1 { "Measurement plan" }
            p."nhsuk-body" { "Choose what this programme collects and when. Instruments in the core set are collected at every site, so results stay comparable. Link workers and practitioners see what is due; participants see their check-ins; reminders go out daily." }
            @if rules.is_empty() { p."nhsuk-body" { "Nothing is scheduled yet." } } @else {
                table."nhsuk-table" {
                    caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Scheduled measures" }
                    thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="col" { "Instrument" }
                        th."nhsuk-table__header" scope="col" { "When" }
                        th."nhsuk-table__header" scope="col" { "Window" }
                        th."nhsuk-table__header" scope="col" { span."nhsuk-u-visually-hidden" { "Action" } }
                    } }
                    tbody."nhsuk-table__body" { @for r in &rules {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { (label(&r.instrument_id)) " v" (r.instrument_version) @if r.core { br; strong."nhsuk-tag nhsuk-tag--blue" { "Core set" } } }
                            td."nhsuk-table__cell" { (r.describe()) }
                            td."nhsuk-table__cell" { "± " (r.window_days) " days" }
                            td."nhsuk-table__cell" {
                                form method="post" action=(format!("/manage/activities/{activity_id}/measures/{}/remove", r.id)) {
                                    (csrf(ctx))
                                    button."nhsuk-button nhsuk-button--secondary ensemble-small-button" type="submit" { "Remove" span."nhsuk-u-visually-hidden" { " " (label(&r.instrument_id)) " " (r.describe()) } }
                                }
                            }
                        }
                    } }
                }
            }
            h2."nhsuk-heading-m" { "Add to the plan" }
            form method="post" action=(format!("/manage/activities/{activity_id}/measures")) novalidate {
                (csrf(ctx))
                (select("instrument", "Instrument", &options, &f.instrument, errors))
                (radios("timepoint", "When", &timepoints, &f.timepoint, errors))
                (radios("anchor", "Counting from", &[("first_contact", "First contact with the link worker"), ("first_session", "The first session attended")], if f.anchor.is_empty() { "first_contact" } else { &f.anchor }, errors))
                (crate::web::forms::Input::new("weeks", "Weeks (for repeats and follow-ups)", &f.weeks).width("nhsuk-input--width-4").render(errors))
                (crate::web::forms::Input::new("window_days", "Window in days either side", if f.window_days.is_empty() { "14" } else { &f.window_days }).width("nhsuk-input--width-4").render(errors))
                (checkboxes("core", "Core set", &[("yes", "Every site collects this (core set)", "")], std::slice::from_ref(&f.core), errors))
                (button("Add"))
            }
            (results_section(&results))
        } }
    };
    Ok(page(
        ctx,
        Page::new("Measurement plan", body)
            .errors(!errors.is_empty())
            .back(
                &format!("/manage/activities/{activity_id}"),
                "Back to the activity",
            ),
    ))
}

/// GET /manage/activities/{id}/measures
pub async fn plan_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    plan_view(
        &state,
        &ctx,
        &actor,
        &id,
        &super::schedules::RuleInput::default(),
        &[],
    )
    .await
}

/// POST /manage/activities/{id}/measures
pub async fn plan_add(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<super::schedules::RuleInput>,
) -> Result<Response, AppError> {
    match super::schedules::add(&state, &actor, &id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/manage/activities/{id}/measures")).into_response()),
        Err(AppError::Invalid(e)) => plan_view(&state, &ctx, &actor, &id, &f, &e).await,
        Err(e) => Err(e),
    }
}

/// POST /manage/activities/{id}/measures/{schedule_id}/remove
pub async fn plan_remove(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, schedule_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    super::schedules::remove(&state, &actor, &id, &schedule_id).await?;
    Ok(Redirect::to(&format!("/manage/activities/{id}/measures")).into_response())
}

/// The due list on the staff hub.
fn due_table(due: &[super::schedules::DueRow]) -> Markup {
    html! {
        h2."nhsuk-heading-m" { "Due and overdue" }
        @if due.is_empty() {
            p."nhsuk-body" { "No measures are due for the people you work with." }
        } @else {
            table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Measures due" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Person" }
                    th."nhsuk-table__header" scope="col" { "Measure" }
                    th."nhsuk-table__header" scope="col" { "Due" }
                } }
                tbody."nhsuk-table__body" { @for d in due {
                    tr."nhsuk-table__row" {
                        td."nhsuk-table__cell" { a href=(format!("{}#wellbeing", d.link)) { (d.name) } br; span."nhsuk-body-s" { (d.activity) } }
                        td."nhsuk-table__cell" { (d.instrument) br; span."nhsuk-body-s" { (d.item.timepoint.label()) } }
                        td."nhsuk-table__cell" {
                            strong class=(match d.item.state { super::schedules::DueState::Overdue => "nhsuk-tag nhsuk-tag--red", super::schedules::DueState::Due => "nhsuk-tag nhsuk-tag--yellow", _ => "nhsuk-tag nhsuk-tag--grey" }) { (d.item.state.label()) }
                            br; span."nhsuk-body-s" { (d.item.due_on.to_string()) }
                        }
                    }
                } }
            }
        }
    }
}

fn published(p: ensemble_stats::Published) -> String {
    p.to_string()
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// "Results so far" for a programme: paired analysis of first and latest results, with
/// small numbers suppressed.
fn results_section(r: &super::results::ProgrammeResults) -> Markup {
    html! {
        h2."nhsuk-heading-m" id="results" { "Results so far" }
        p."nhsuk-body" { "Each person's first and latest results are compared. Counts from 1 to 7 are shown as “fewer than 8” and other counts are rounded to the nearest 5, so that nobody can be recognised." }
        @for s in &r.scores {
            h3."nhsuk-heading-s" { (s.instrument) ": " (s.label) }
            p."nhsuk-body" { "People with a first and a later result: " strong { (published(s.people)) } }
            @if let Some(why) = &s.why_not { p."nhsuk-body" { (why) } }
            @if let Some(a) = &s.analysis {
                dl."nhsuk-summary-list" {
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Average first / latest" } dd."nhsuk-summary-list__value" { (format!("{:.2}", a.mean_before)) " / " (format!("{:.2}", a.mean_after)) } }
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Average change (95% CI)" } dd."nhsuk-summary-list__value" { (format!("{:+.2} ({:.2} to {:.2})", a.mean_change, a.ci95_low, a.ci95_high)) } }
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Paired t-test" } dd."nhsuk-summary-list__value" { "t = " (format!("{:.2}", a.t)) ", p " (p_text(a.p_value)) "; effect size d" sub { "z" } " = " (format!("{:.2}", a.cohen_dz)) } }
                    div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Wilcoxon signed-rank" } dd."nhsuk-summary-list__value" { "p " (p_text(a.wilcoxon.p_value)) } }
                }
            }
            @if let (Some(shares), Some(t)) = (&s.shares, s.threshold) {
                table."nhsuk-table" {
                    caption."nhsuk-table__caption" { "Change of at least " (super::definition::num(t)) " points" }
                    thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="col" { "Improved" } th."nhsuk-table__header" scope="col" { "About the same" } th."nhsuk-table__header" scope="col" { "Worse" }
                    } }
                    tbody."nhsuk-table__body" { tr."nhsuk-table__row" {
                        @for (count, share) in shares {
                            td."nhsuk-table__cell" { (published(*count)) @if let Some(sh) = share { " (" (format!("{:.0}%", sh * 100.0)) ")" } }
                        }
                    } }
                }
            }
            @if let Some((up, down)) = &s.reliable {
                p."nhsuk-body" { "Reliable improvement: " (published(*up)) "; reliable deterioration: " (published(*down)) " (reliable change index beyond ±1.96)." }
            }
        }
        @if !r.months.is_empty() {
            div."ensemble-table-scroll" {
                table."nhsuk-table" {
                    caption."nhsuk-table__caption" { "Completed measures by month" }
                    thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="col" { "Instrument" }
                        @for m in &r.months { th."nhsuk-table__header" scope="col" { (m) } }
                        th."nhsuk-table__header" scope="col" { "Total" }
                    } }
                    tbody."nhsuk-table__body" {
                        @for (i, name) in r.rows.iter().enumerate() {
                            tr."nhsuk-table__row" {
                                th."nhsuk-table__header" scope="row" { (name) }
                                @for c in &r.table.cells[i] { td."nhsuk-table__cell" { (published(*c)) } }
                                td."nhsuk-table__cell" { (published(r.table.row_totals[i])) }
                            }
                        }
                        tr."nhsuk-table__row" {
                            th."nhsuk-table__header" scope="row" { "Total" }
                            @for c in &r.table.column_totals { td."nhsuk-table__cell" { (published(*c)) } }
                            td."nhsuk-table__cell" { (published(r.table.total)) }
                        }
                    }
                }
            }
        }
    }
}
