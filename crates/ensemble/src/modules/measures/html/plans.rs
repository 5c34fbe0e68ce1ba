//! The measurement plan page of an activity: its rules, the due list and programme results.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::error::{AppError, FieldError};
use crate::modules::measures::service::{self};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    PageForm, button, checkboxes, csrf, error_summary, radios, select, table_wrap,
};
use crate::web::{Page, PageCtx, page};

async fn plan_view(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    activity_id: &str,
    f: &crate::modules::measures::schedules::RuleInput,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    use crate::modules::measures::schedules::Timepoint;
    let (name, rules) =
        crate::modules::measures::schedules::plan(state, actor, activity_id).await?;
    let instruments = service::list(state).await?;
    let results =
        crate::modules::measures::results::for_activity(state, actor, activity_id).await?;
    let options: Vec<(String, String)> =
        std::iter::once((String::new(), "Choose an instrument".to_owned()))
            .chain(
                instruments
                    .iter()
                    .filter(|i| {
                        !crate::modules::measures::definition::OBSERVATION_SCALES
                            .contains(&i.id.as_str())
                    })
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
                (table_wrap("Scheduled measures", html! { table."nhsuk-table" {
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
                } }))
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
        &crate::modules::measures::schedules::RuleInput::default(),
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
    PageForm(f): PageForm<crate::modules::measures::schedules::RuleInput>,
) -> Result<Response, AppError> {
    match crate::modules::measures::schedules::add(&state, &actor, &id, &f).await {
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
    crate::modules::measures::schedules::remove(&state, &actor, &id, &schedule_id).await?;
    Ok(Redirect::to(&format!("/manage/activities/{id}/measures")).into_response())
}

/// The due list on the staff hub.
pub(super) fn due_table(due: &[crate::modules::measures::schedules::DueRow]) -> Markup {
    html! {
        h2."nhsuk-heading-m" { "Due and overdue" }
        @if due.is_empty() {
            p."nhsuk-body" { "No measures are due for the people you work with." }
        } @else {
            (table_wrap("Measures due", html! { table."nhsuk-table" {
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
                            strong class=(match d.item.state { crate::modules::measures::schedules::DueState::Overdue => "nhsuk-tag nhsuk-tag--red", crate::modules::measures::schedules::DueState::Due => "nhsuk-tag nhsuk-tag--yellow", _ => "nhsuk-tag nhsuk-tag--grey" }) { (d.item.state.label()) }
                            br; span."nhsuk-body-s" { (d.item.due_on.to_string()) }
                        }
                    }
                } }
            } }))
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
fn results_section(r: &crate::modules::measures::results::ProgrammeResults) -> Markup {
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
                (table_wrap("Change of the scores", html! { table."nhsuk-table" {
                    caption."nhsuk-table__caption" { "Change of at least " (crate::modules::measures::definition::num(t)) " points" }
                    thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                        th."nhsuk-table__header" scope="col" { "Improved" } th."nhsuk-table__header" scope="col" { "About the same" } th."nhsuk-table__header" scope="col" { "Worse" }
                    } }
                    tbody."nhsuk-table__body" { tr."nhsuk-table__row" {
                        @for (count, share) in shares {
                            td."nhsuk-table__cell" { (published(*count)) @if let Some(sh) = share { " (" (format!("{:.0}%", sh * 100.0)) ")" } }
                        }
                    } }
                } }))
            }
            @if let Some((up, down)) = &s.reliable {
                p."nhsuk-body" { "Reliable improvement: " (published(*up)) "; reliable deterioration: " (published(*down)) " (reliable change index beyond ±1.96)." }
            }
        }
        @if !r.months.is_empty() {
            div."ensemble-table-scroll" {
                (table_wrap("Completed measures by month", html! { table."nhsuk-table" {
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
                } }))
            }
        }
    }
}
