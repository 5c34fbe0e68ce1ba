//! The completion form: all questions on one page or one per page, easy-read wording,
//! saving to come back later, and the page shown when a response is done.

use crate::modules::measures::service::ResponseStatus;
use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::modules::measures::definition::{Answer, Definition, Item, Scale, num};
use crate::modules::measures::service::{self, Mode, ResponseView, Saved};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, button, checkboxes, csrf, error_summary, radios, select};
use crate::web::{Page, PageCtx, page};

use super::*;

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
                    .filter(|d| {
                        !crate::modules::measures::definition::OBSERVATION_SCALES
                            .contains(&d.id.as_str())
                    })
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

fn option_label(o: &crate::modules::measures::definition::ScaleOption, easy: bool) -> String {
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
                Some(s @ Scale::Numeric { min, max, step, .. }) if ((max - min) / step).round() > 10.0 => {
                    // Too many choices for a row of buttons (a count, say): a number box.
                    label."nhsuk-label nhsuk-label--s" for=(name) { (legend) }
                    div."nhsuk-hint" id=(format!("{name}-hint")) { "Enter " (s.describe_allowed()) "." }
                    @if let Some(e) = err { span."nhsuk-error-message" id=(format!("{name}-error")) { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) } }
                    input."nhsuk-input nhsuk-input--width-3" class=[err.map(|_| "nhsuk-input--error")] id=(name) name=(name) type="text" inputmode="numeric" spellcheck="false" autocomplete="off" value=(current)
                        aria-describedby=(if err.is_some() { format!("{name}-hint {name}-error") } else { format!("{name}-hint") });
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
    match v.status {
        ResponseStatus::AwaitingSecondEntry => "Second keying",
        ResponseStatus::Mismatch => "The two keyings differ",
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
    let one = v.one_per_page && v.status == ResponseStatus::InProgress && total > 1;
    let index = q.clamp(1, total.max(1)) - 1;
    // A participant's own check-in names the measure in plain words (no abbreviation).
    let own = v.mode == Mode::SelfReport;
    let (title, short) = if own {
        (def.plain_name(), def.plain_name())
    } else {
        (def.name.clone(), def.short_name.clone())
    };
    let instructions = if easy {
        def.easy_read_instructions
            .clone()
            .or_else(|| def.instructions.clone())
    } else {
        def.instructions.clone()
    };
    let mismatch: Vec<&Item> = if v.status == ResponseStatus::Mismatch {
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
                    h2."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "Demonstration wording" } }
                    p { "These questions are a made-up stand-in for the demo. They are not the real " (short) " wording, which is licensed by its owners." }
                }
            }
            @if !v.worded {
                div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " }
                    p { "The wording of " (short) " is licensed and has not been uploaded for this organisation. Key each answer from the paper form by its number." } }
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
                        @if v.status == ResponseStatus::InProgress {
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
    let own = v.mode == Mode::SelfReport;
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
                        p { "The answers to " (if own { v.definition.plain_name() } else { v.definition.short_name.clone() }) " are saved." }
                    }
                    @if own {
                        @let def = &v.definition;
                        @let shown: Vec<_> = v.scores.iter().filter(|s| def.scores.iter().any(|r| r.id == s.id && def.shown_to_participant(r))).collect();
                        ul."nhsuk-list" {
                            @for s in &shown {
                                li {
                                    @if shown.len() > 1 { (s.label) ": " }
                                    "your score is " (num(s.value)) @if let Some(b) = &s.band { " (" (b) ")" } "."
                                }
                            }
                        }
                        p."nhsuk-body" { a href="/check-ins" { "See how you are getting on" } ", compared with last time." }
                    } @else if !v.scores.is_empty() {
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
    if v.status == ResponseStatus::Complete {
        return Ok(done_page(&ctx, &v, &Saved::Complete));
    }
    let values = if v.status == ResponseStatus::AwaitingSecondEntry {
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
    if let Some(r) = unanswered_on_continue(&ctx, &v, &answers, action, q) {
        return Ok(r);
    }
    match service::save(&state, &actor, &id, answers.clone(), finish).await {
        Ok(Saved::InProgress) | Ok(Saved::AwaitingSecondEntry) if !finish => {
            Ok(next_question(&id, action, q))
        }
        Ok(outcome) => {
            let v = service::view(&state, &actor, &id).await?;
            Ok(done_page(&ctx, &v, &outcome))
        }
        Err(AppError::Invalid(errors)) => Ok(refused_page(&ctx, &v, answers, q, errors)),
        Err(e) => Err(e),
    }
}

/// In one-question-per-page mode "Continue" needs the current question answered: the page
/// again with the problem, or `None` to go on.
fn unanswered_on_continue(
    ctx: &PageCtx,
    v: &ResponseView,
    answers: &BTreeMap<String, Answer>,
    action: &str,
    q: usize,
) -> Option<Response> {
    if action == "next"
        && let Some(item) = v.definition.items.get(q.saturating_sub(1))
        && !item.optional
        && !answers.contains_key(&item.id)
    {
        let mut values = v.answers.clone();
        values.extend(answers.clone());
        let e = vec![FieldError::new(
            field(&item.id),
            format!("Question {q}: choose an answer, or save and come back later"),
        )];
        return Some(completion_page(ctx, v, &values, q, false, &e));
    }
    None
}

/// After saving without finishing: the next, previous or same question.
fn next_question(id: &str, action: &str, q: usize) -> Response {
    let next = match action {
        "next" => q + 1,
        "back" => q.saturating_sub(1).max(1),
        _ => q,
    };
    let saved = if action == "save" { "&saved=1" } else { "" };
    Redirect::to(&format!("/check-ins/{id}?q={next}{saved}")).into_response()
}

/// The form again with the service's problems, on the question with the first one when
/// paging.
fn refused_page(
    ctx: &PageCtx,
    v: &ResponseView,
    answers: BTreeMap<String, Answer>,
    q: usize,
    errors: Vec<FieldError>,
) -> Response {
    let errors: Vec<FieldError> = errors
        .into_iter()
        .map(|e| FieldError::new(field(&e.field), e.message))
        .collect();
    let mut values = if v.status == ResponseStatus::AwaitingSecondEntry {
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
    completion_page(ctx, v, &values, first, false, &errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::measures::definition::builtin;

    #[test]
    fn a_count_is_a_number_box_and_a_short_scale_a_row_of_choices() {
        let d = builtin("service_use").unwrap_or_else(|| panic!("service_use"));
        let item = &d.items[0];
        let html = question(d, 0, item, Some(&Answer::Number(3.0)), false, true, &[]).into_string();
        assert!(html.contains("inputmode=\"numeric\""), "{html}");
        assert!(html.contains("value=\"3\""), "{html}");
        assert!(
            html.contains("Enter a whole number from 0 to 50."),
            "{html}"
        );
        assert!(!html.contains("type=\"radio\""), "{html}");
        let err = [FieldError::new(
            field(&item.id),
            "Enter a whole number from 0 to 50",
        )];
        let html = question(d, 0, item, None, false, true, &err).into_string();
        assert!(
            html.contains("nhsuk-input--error")
                && html.contains("-hint ")
                && html.contains("-error\""),
            "{html}"
        );
        let ons4 = builtin("ons4").unwrap_or_else(|| panic!("ons4"));
        let html = question(ons4, 0, &ons4.items[0], None, false, true, &[]).into_string();
        assert_eq!(
            html.matches("type=\"radio\"").count(),
            11,
            "0 to 10 stays a row of choices"
        );
    }
}
