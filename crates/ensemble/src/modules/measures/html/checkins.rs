//! A participant's check-ins on their own phone, and starting one.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::{AppError, FieldError};
use crate::modules::measures::definition::{Direction, change_in_words, direction_in_words, num};
use crate::modules::measures::service::{self, LatestScore, Mode, NewResponse};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, csrf, error_summary};
use crate::web::{Page, PageCtx, page};

/// The person record of a signed-in participant.
/// GET /check-ins — the participant's own check-ins.
pub async fn my_check_ins(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let Some(c) = service::own_check_ins(&state, &actor).await? else {
        let body = html! {
            h1 { "Your check-ins" }
            p."nhsuk-body" { "There is no participant record linked to your account yet. Your link worker can link it for you." }
        };
        return Ok(page(&ctx, Page::new("Your check-ins", body)));
    };
    let body = check_ins_view(&ctx, &c);
    Ok(page(&ctx, Page::new("Your check-ins", body)))
}

fn check_ins_view(ctx: &PageCtx, c: &service::OwnCheckIns) -> Markup {
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            h1 { "Your check-ins" }
            p."nhsuk-body" { "Short questions about how you have been. Your answers help you and your link worker see what is changing. You can stop at any point and come back." }
            @let mine: Vec<_> = c.pending.iter().filter(|p| p.person_id == c.person_id).collect();
            @if !mine.is_empty() {
                h2."nhsuk-heading-m" { "Carry on where you left off" }
                ul."nhsuk-list" {
                    @for p in mine { li { a href=(format!("/check-ins/{}", p.id)) { "Continue " (plain_name(c, &p.instrument)) } } }
                }
            }
            @if !c.due.is_empty() {
                div."nhsuk-inset-text" {
                    span."nhsuk-u-visually-hidden" { "Information: " }
                    p { "Due now: " (c.due.iter().map(|d| plain_name(c, &d.instrument_id)).collect::<Vec<_>>().join(", ")) }
                }
            }
            h2."nhsuk-heading-m" { "Start a check-in" }
            @for (d, _) in &c.available {
                div."nhsuk-card" { div."nhsuk-card__content" {
                    h3."nhsuk-card__heading nhsuk-heading-s" { (d.plain_name()) }
                    p."nhsuk-card__description" { (d.plain_purpose()) " " (d.items.len()) " questions." }
                    form method="post" action="/check-ins/start" novalidate {
                        (csrf(ctx))
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
                        button."nhsuk-button" type="submit" { "Start" span."nhsuk-u-visually-hidden" { " " (d.plain_name()) } }
                    }
                } }
            }
            (own_scores_panel(&c.latest, "How you are getting on"))
        } }
    }
}

/// An instrument's plain name for the participant (one they may start), or "a check-in".
fn plain_name(c: &service::OwnCheckIns, instrument_id: &str) -> String {
    c.available
        .iter()
        .find(|(a, _)| a.id == instrument_id)
        .map(|(a, _)| a.plain_name())
        .unwrap_or_else(|| "a check-in".into())
}

/// A participant's latest scores in words: for each measure, what it is for and whether the
/// score is higher, about the same or lower than last time (by the instrument's
/// meaningful-change threshold where it has one). No instrument ids, codes or working scores.
pub fn own_scores_panel(latest: &[LatestScore], heading: &str) -> Markup {
    let shown: Vec<&LatestScore> = latest.iter().filter(|l| l.about.for_participant).collect();
    let mut names: Vec<&str> = Vec::new();
    for l in &shown {
        if !names.contains(&l.about.name.as_str()) {
            names.push(&l.about.name);
        }
    }
    html! {
        h2."nhsuk-heading-m" { (heading) }
        @if shown.is_empty() {
            p."nhsuk-body" { "You have not done a check-in yet." }
        }
        @for name in names {
            @let scores: Vec<&&LatestScore> = shown.iter().filter(|l| l.about.name == name).collect();
            @if let Some(first) = scores.first() {
                h3."nhsuk-heading-s" { (name) }
                @let mixed = scores.iter().any(|l| l.about.higher_is_better) && scores.iter().any(|l| !l.about.higher_is_better);
                p."nhsuk-body" {
                    (first.about.purpose)
                    @if !mixed { " " (direction_in_words(direction(first))) }
                }
                ul."nhsuk-list nhsuk-list--bullet" {
                    @for l in &scores {
                        li {
                            @if !l.about.only_one { (l.score.label) ": " }
                            "on " (crate::web::layout::long_date(l.score.completed_at)) " your score was " (num(l.score.value))
                            @if let Some(b) = &l.score.band { " (" (b) ")" }
                            ", " (change_in_words(l.score.value, l.previous, l.about.meaningful_change)) "."
                            @if mixed { " " (direction_in_words(direction(l))) }
                        }
                    }
                }
            }
        }
    }
}

fn direction(l: &LatestScore) -> Direction {
    if l.about.higher_is_better {
        Direction::HigherIsBetter
    } else {
        Direction::LowerIsBetter
    }
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
    let Some(person_id) = service::own_person(&state, &actor).await? else {
        // No participant record linked: the list page explains what to do.
        return Ok(Redirect::to("/check-ins").into_response());
    };
    let outcome = service::start(&state, &actor, f.new_response(person_id)).await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/check-ins/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => Ok(not_started(&ctx, &errors)),
        Err(e) => Err(e),
    }
}

impl StartSelf {
    /// The self-report response to start for the actor's own record.
    fn new_response(self, person_id: String) -> NewResponse {
        NewResponse {
            person_id,
            instrument_id: self.instrument,
            referral_id: None,
            schedule_id: None,
            mode: Mode::SelfReport,
            double_entry: false,
            easy_read: self.easy_read == "yes",
            one_per_page: self.one_per_page == "yes",
        }
    }
}

fn not_started(ctx: &PageCtx, errors: &[FieldError]) -> Response {
    let body = html! {
        (error_summary(errors))
        h1 { "This check-in cannot be started" }
        p."nhsuk-body" { a href="/check-ins" { "Back to your check-ins" } }
    };
    page(
        ctx,
        Page::new("This check-in cannot be started", body).errors(true),
    )
}
