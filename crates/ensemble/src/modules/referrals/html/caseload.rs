//! The link worker's caseload, the case page and the actions taken from it.

use crate::modules::referrals::model::ProviderStatus;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

use super::{AttendanceForm, provider_label, rows_table, rows_table_with, tag};
use crate::db::date_of as date;
use crate::error::{AppError, FieldError};
use crate::modules::measures::service::InstrumentSummary;
use crate::modules::people::html::{contact_summary, other_details_summary};
use crate::modules::people::model::Purpose;
use crate::modules::referrals::model::{ACTIONS, BARRIERS, BarrierStage, SOURCES, Status, label};
use crate::modules::referrals::service::{self, BarrierInput, CaseRow, CaseView, CaseloadQuery};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, radios, select, summary_row,
    table_wrap, textarea,
};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

/// GET /caseload: with no "whose" filter, new unassigned referrals beside the actor's own;
/// with one, that list.
pub async fn caseload(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    q: Result<Query<CaseloadQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = q.map_err(|e| {
        AppError::BadRequest(format!("The filters could not be read: {}", e.body_text()))
    })?;
    if matches!(q.show.as_str(), "" | START)
        && matches!(q.status.as_str(), "" | "open")
        && q.page.is_none()
    {
        let start = service::caseload_start(&state, &actor).await?;
        return Ok(caseload_start_view(&ctx, &start));
    }
    let mut q = q;
    if q.show == START {
        q.show = "mine".into(); // a later page of the first view lists the actor's own
    }
    let (rows, more) = service::caseload(&state, &actor, &q).await?;
    Ok(caseload_view(&ctx, &q, &rows, more))
}

/// The "whose" filter value of the first view (new unassigned and mine).
const START: &str = "new_and_mine";

fn caseload_filters(show: &str, status: &str) -> Markup {
    let mut status_opts = vec![
        ("open".to_string(), "Open".to_string()),
        ("all".into(), "All".into()),
        ("closed".into(), "Closed and exits".into()),
    ];
    status_opts.extend(
        Status::ALL
            .iter()
            .map(|s| (s.code().to_string(), s.label().to_string())),
    );
    let whose = [
        (START.to_string(), "New and mine".to_string()),
        ("mine".into(), "Mine".into()),
        ("team".into(), "My team's".into()),
        ("unassigned".into(), "Unassigned".into()),
    ];
    html! {
        details."nhsuk-details" {
            summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Filter the caseload" } }
            div."nhsuk-details__text" {
                form method="get" action="/caseload" {
                    (select("show", "Whose referrals", &whose, show, &[]))
                    (select("status", "Status", &status_opts, status, &[]))
                    button."nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="submit" { "Show" }
                }
            }
        }
    }
}

/// The caseload's first view: new referrals nobody has taken on, then the actor's own.
fn caseload_start_view(ctx: &PageCtx, v: &service::CaseloadStart) -> Response {
    let body = html! {
        h1 { "Caseload" }
        p { a."nhsuk-button nhsuk-button--secondary" href="/referrals/new" { "Add a referral" } }
        (caseload_filters(START, "open"))
        h2."nhsuk-heading-m" id="new" { "New referrals nobody has taken on" }
        @if v.new.is_empty() { p."nhsuk-body" { "None: every open referral to your team has a link worker." } }
        @else {
            (rows_table_with(&v.new, |r| format!("/caseload/{}", r.id), "New referrals nobody has taken on", true, false))
            @if v.more_new { p."nhsuk-body" { a href="/caseload?show=unassigned&status=open" { "See every referral nobody has taken on" } } }
        }
        h2."nhsuk-heading-m" id="mine" { "Your referrals" }
        @if v.mine.is_empty() { p."nhsuk-body" { "You have no open referrals. Take one on from the list above." } }
        @else {
            (rows_table_with(&v.mine, |r| format!("/caseload/{}", r.id), "Your open referrals, most recently changed first", true, false))
            @if v.more_mine { p."nhsuk-body" { a href="/caseload?show=mine&status=open&page=2" { "More of your referrals" } } }
        }
    };
    page(ctx, Page::new("Caseload", body))
}

/// The caseload page: the filters, one page of referrals and the pagination.
fn caseload_view(ctx: &PageCtx, q: &CaseloadQuery, rows: &[CaseRow], more: bool) -> Response {
    let page_no = q.page.unwrap_or(1);
    let show = if q.show.is_empty() {
        "mine"
    } else {
        q.show.as_str()
    };
    let status = if q.status.is_empty() {
        "open"
    } else {
        q.status.as_str()
    };
    let link = |p: i64| format!("/caseload?show={show}&status={status}&page={p}");
    let body = html! {
        h1 { "Caseload" }
        p { a."nhsuk-button nhsuk-button--secondary" href="/referrals/new" { "Add a referral" } }
        (caseload_filters(show, status))
        @if rows.is_empty() { p."nhsuk-body" { "Nothing to show with these filters." } }
        @else { (rows_table(rows, |r| format!("/caseload/{}", r.id), "Referrals, most recently changed first", true)) }
        @if page_no > 1 || more {
            nav."nhsuk-pagination" role="navigation" aria-label="Pagination" {
                ul."nhsuk-list nhsuk-pagination__list" {
                    @if page_no > 1 { li."nhsuk-pagination-item--previous" { a."nhsuk-pagination__link nhsuk-pagination__link--prev" href=(link(page_no - 1)) { span."nhsuk-pagination__title" { "Previous" } span."nhsuk-u-visually-hidden" { ":" } span."nhsuk-pagination__page" { "Page " (page_no - 1) } } } }
                    @if more { li."nhsuk-pagination-item--next" { a."nhsuk-pagination__link nhsuk-pagination__link--next" href=(link(page_no + 1)) { span."nhsuk-pagination__title" { "Next" } span."nhsuk-u-visually-hidden" { ":" } span."nhsuk-pagination__page" { "Page " (page_no + 1) } } } }
                }
            }
        }
    };
    page(ctx, Page::new("Caseload", body))
}

async fn activity_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    Ok(sqlx::query(
        "SELECT a.id, a.name, o.name AS org FROM directory_activity_names a JOIN accounts_organisation_profiles o ON o.id = a.organisation_id \
         WHERE a.status = 'active' AND o.archived_at IS NULL ORDER BY a.name, o.name LIMIT 500",
    )
    .fetch_all(&state.db.read)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, format!("{} – {}", r.try_get::<String, _>("name")?, r.try_get::<String, _>("org")?))))
    .collect::<Result<Vec<_>, sqlx::Error>>()?)
}

async fn case_page_with(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let v = service::case_view(state, actor, id).await?;
    let instruments = crate::modules::measures::service::list(state).await?;
    let activities = if matches!(v.referral.status, Status::PlanAgreed | Status::Connected) {
        activity_options(state).await?
    } else {
        vec![]
    };
    Ok(case_page_view(
        ctx,
        actor,
        id,
        &v,
        &instruments,
        &activities,
        errors,
    ))
}

/// The case page: status, plan, connecting, wellbeing, attendance, tasks, barriers, the
/// person, the message back and the case notes, with the problems named.
fn case_page_view(
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    v: &CaseView,
    instruments: &[InstrumentSummary],
    activities: &[(String, String)],
    errors: &[FieldError],
) -> Response {
    let r = &v.referral;
    let next = r.status.next_by_hand();
    let can_connect = r.status == Status::PlanAgreed
        || (r.status == Status::Connected
            && matches!(
                r.provider_status,
                Some(ProviderStatus::Declined | ProviderStatus::Returned)
            ));
    let can_attend = matches!(
        r.status,
        Status::Connected | Status::Attending | Status::Reviewed
    );
    let today = crate::db::uk::today().to_string();
    let barrier_opts: Vec<(String, String)> = BARRIERS
        .iter()
        .map(|(c, l)| (c.to_string(), l.to_string()))
        .collect();
    let action_opts: Vec<(String, String)> = ACTIONS
        .iter()
        .map(|(c, l)| (c.to_string(), l.to_string()))
        .collect();
    let stage_opts: Vec<(String, String)> = BarrierStage::ALL
        .iter()
        .map(|s| (s.code().to_string(), s.label().to_string()))
        .collect();
    let name = v.person.full_name();
    let has = |fields: &[&str]| errors.iter().any(|e| fields.contains(&e.field.as_str()));
    let open_tasks = v.tasks.iter().filter(|t| t.done_at.is_none()).count();
    let overdue = v
        .tasks
        .iter()
        .filter(|t| t.done_at.is_none() && t.due_at < crate::db::now())
        .count();
    let section = |summary: Markup, id: &str, open: bool, content: Markup| {
        html! {
            details."nhsuk-details ensemble-case-section" open[open] {
                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { (summary) } }
                div."nhsuk-details__text" id=(id) { (content) }
            }
        }
    };
    let body = html! {
        (error_summary(errors))
        span."nhsuk-caption-l" { "Referral" }
        h1 { (name) }
        p { (tag(r.status)) @if !r.status_reason.is_empty() { " " (r.status_reason) } }
        @if r.provider_status.is_some() { p."nhsuk-body" { (provider_label(r.provider_status)) @if let Some(a) = &r.activity_name { ": " (a) } @if !r.provider_reason.is_empty() { " – " (r.provider_reason) } } }
        h2."nhsuk-heading-m" id="contact" { "Contact details and communication needs" }
        (contact_summary(&v.person))
        p { a href=(format!("/people/{}", v.person.person_id)) { "Open the full person record and consent" } }
        h2."nhsuk-heading-m" id="next-step" { "Next step" }
        dl."nhsuk-summary-list" {
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Link worker" } dd."nhsuk-summary-list__value" {
                (r.assigned_name.clone().unwrap_or_else(|| "Not yet assigned".into()))
                @if r.assigned_to.as_deref() != Some(actor.user_id.as_str()) && !r.status.is_final() {
                    form method="post" action=(format!("/caseload/{id}/take")) { (csrf(ctx)) button."nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="submit" { "Take on this referral" } }
                }
            } }
        }
        @if !next.is_empty() {
            form method="post" action=(format!("/caseload/{id}/status")) novalidate id="update-status" {
                (csrf(ctx))
                (select("status", "What has happened", &next.iter().map(|s| (s.code().to_string(), s.label().to_string())).collect::<Vec<_>>(), "", errors))
                (Input::new("reason", "Reason (needed for closing, declined, not reached or did not attend)", "").render(errors))
                (select("barrier", "If they declined or did not attend: what got in the way? (optional, recorded as a barrier)", &barrier_opts, "", errors))
                (button("Update status"))
            }
        }
        @if !r.status.is_final() && r.status != Status::Received { p { a href=(format!("/caseload/{id}/plan")) { "Record the conversation and plan" } } }
        @if can_connect {
            div id="connect" {
                p."nhsuk-body" { "Connect " (v.person.call_name()) " to an activity: search from their postcode with the barriers recorded, send them two or three options and record their choice." }
                p { a."nhsuk-button" href=(format!("/caseload/{id}/match")) { "Find activities for " (v.person.call_name()) } }
                details."nhsuk-details" open[has(&["activity_id", "provider_note"])] {
                    summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Or choose any activity from the directory" } }
                    div."nhsuk-details__text" {
                        form method="post" action=(format!("/caseload/{id}/connect")) novalidate {
                            (csrf(ctx))
                            (select("activity_id", "Activity", activities, r.activity_id.as_deref().unwrap_or(""), errors))
                            (textarea("provider_note", "Note to the provider (optional)", "What will help them welcome the person. Do not include medical details they do not need.", "", errors))
                            (button("Send to the provider"))
                        }
                    }
                }
            }
        }
        h2."nhsuk-heading-m" { "The case" }
        (section(html! { "About the referral" }, "about", false, html! {
            dl."nhsuk-summary-list" {
                (summary_row("Reason", &r.reason))
                (summary_row("Source", label(SOURCES, &r.source)))
                (summary_row("Referrer", &r.referrer_name))
                (summary_row("Received", &datetime(r.created_at)))
                (summary_row("Team", &r.team_name))
            }
        }))
        (section(html! { "What matters to them and the plan" @if v.plan.as_ref().is_some_and(|p| p.agreed_at.is_some()) { " (agreed)" } }, "plan", false, html! {
            @match &v.plan {
                Some(p) => {
                    dl."nhsuk-summary-list" {
                        (summary_row("What matters", &p.input.what_matters))
                        (summary_row("Needs and concerns", &p.input.needs))
                        (summary_row("Goals", &p.input.goals))
                        (summary_row("Support offered", &p.input.support_offered))
                        (summary_row("Next steps", &p.input.next_steps))
                        (summary_row("Review date", &p.input.review_on))
                        (summary_row("Agreed", &p.agreed_at.map(datetime).unwrap_or_else(|| "Not yet".into())))
                    }
                }
                None => { p."nhsuk-body" { "No conversation recorded yet." } }
            }
        }))
        (section(html! { "Wellbeing" }, "wellbeing", false, html! {
            (crate::modules::measures::html::scores_panel(&v.scores, "Latest wellbeing scores"))
            (crate::modules::measures::html::start_form(ctx, instruments, &r.person_id, Some(id)))
        }))
        @if can_attend {
            (section(html! { "Attendance" }, "attendance", has(&["session_date", "attendance"]), html! {
                @if !v.attendance.is_empty() {
                    ul."nhsuk-list" { @for (d, s) in &v.attendance { li { (d) ": " (if s == "present" { "present" } else { "absent" }) } } }
                }
                form method="post" action=(format!("/caseload/{id}/attendance")) novalidate {
                    (csrf(ctx))
                    (Input::new("session_date", "Session date", &today).hint("Year-month-day").width("nhsuk-input--width-10").render(errors))
                    (radios("attendance", "Attendance", &[("present", "Present"), ("absent", "Absent")], "present", errors))
                    (button("Mark attendance"))
                }
            }))
        }
        (section(html! { "Tasks (" (open_tasks) " to do" @if overdue > 0 { ", " (overdue) " overdue" } ")" }, "tasks", overdue > 0 || has(&["title", "due"]), html! {
            @if v.tasks.is_empty() { p."nhsuk-body" { "No tasks." } }
            ul."nhsuk-list" {
                @for t in &v.tasks {
                    li {
                        @if t.done_at.is_some() { s { (t.title) } " – done" }
                        @else {
                            (t.title) " – due " (date(t.due_at))
                            @if t.due_at < crate::db::now() { " " strong."nhsuk-tag nhsuk-tag--red" { "Overdue" } }
                            form method="post" action=(format!("/caseload/{id}/tasks/{}/done", t.id)) {
                                (csrf(ctx))
                                button."nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-2" type="submit" { "Mark done" span."nhsuk-u-visually-hidden" { ": " (t.title) } }
                            }
                        }
                    }
                }
            }
            form method="post" action=(format!("/caseload/{id}/tasks")) novalidate {
                (csrf(ctx))
                (Input::new("title", "Add a task: what needs doing", "").render(errors))
                (Input::new("due", "Due date", "").hint("Year-month-day, like 2026-12-01").width("nhsuk-input--width-10").render(errors))
                (button("Add task"))
            }
        }))
        (section(html! { "Barriers (" (v.barriers.len()) ")" }, "barriers", has(&["barrier", "detail", "action", "action_detail", "stage"]), html! {
            @if v.barriers.is_empty() { p."nhsuk-body" { "None recorded." } }
            @else {
                (table_wrap("Barriers and what was done", html! { table."nhsuk-table" {
                    caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Barriers and what was done" }
                    thead."nhsuk-table__head" { tr { th scope="col" { "Barrier" } th scope="col" { "Raised" } th scope="col" { "What was done" } } }
                    tbody."nhsuk-table__body" { @for b in &v.barriers { tr."nhsuk-table__row" {
                        td."nhsuk-table__cell" { (label(BARRIERS, &b.barrier)) @if !b.detail.is_empty() { ": " (b.detail) } }
                        td."nhsuk-table__cell" { (b.stage.label()) }
                        td."nhsuk-table__cell" { (label(ACTIONS, &b.action)) @if !b.action_detail.is_empty() { ": " (b.action_detail) } }
                    } } }
                } }))
            }
            form method="post" action=(format!("/caseload/{id}/barriers")) novalidate {
                (csrf(ctx))
                (select("barrier", "Record a barrier", &barrier_opts, "", errors))
                (Input::new("detail", "Detail (optional)", "").render(errors))
                (select("stage", "When was it raised?", &stage_opts, BarrierStage::for_status(r.status).code(), errors))
                (select("action", "What was done about it", &action_opts, "", errors))
                (Input::new("action_detail", "Detail of what was done (optional)", "").render(errors))
                (button("Record barrier"))
            }
        }))
        (section(html! { "More about " (v.person.call_name()) " and their consent" }, "person", false, html! {
            (other_details_summary(&v.person))
            dl."nhsuk-summary-list" {
                @for p in Purpose::ALL {
                    @let c = v.consents.iter().find(|c| c.purpose == p);
                    (summary_row(p.label(), c.map(|c| c.decision.label()).unwrap_or("Not asked yet")))
                }
            }
        }))
        (section(html! { "Message back" @if r.message_back_sent_at.is_some() { " (sent)" } }, "message-back", false, html! {
            p { a href=(format!("/referrals/{id}/message-back")) { "See the message back to the referrer and GP" } }
            @if let Some(t) = r.message_back_sent_at { p."nhsuk-body" { "Sent " (datetime(t)) "." } }
        }))
        (section(html! { "Case notes and messages (" (v.events.len()) ")" }, "notes", has(&["note", "share"]), html! {
            form method="post" action=(format!("/caseload/{id}/notes")) novalidate {
                (csrf(ctx))
                (textarea("note", "Add a note", "", "", errors))
                @if r.provider_status.is_some() {
                    (checkboxes("share", "Who sees it", &[("yes", "Also send to the provider as a message", "")], &[], errors))
                }
                (button("Add note"))
            }
            ul."nhsuk-list" {
                @for e in &v.events {
                    li."nhsuk-u-margin-bottom-3" {
                        span."nhsuk-body-s" { (datetime(e.at)) " · " (e.actor.clone().unwrap_or_else(|| "Ensemble".into())) " · " (e.kind.replace('_', " ")) }
                        br;
                        @if let (Some(from), Some(to)) = (&e.from_status, &e.to_status) {
                            (Status::from_code(from).map(|s| s.label()).unwrap_or("")) " → " (Status::from_code(to).map(|s| s.label()).unwrap_or(""))
                            @if !e.body.is_empty() { ": " (e.body) }
                        } @else if let Some(to) = &e.to_status {
                            (Status::from_code(to).map(|s| s.label()).unwrap_or(""))
                        } @else { (e.body) }
                    }
                }
            }
        }))
    };
    page(
        ctx,
        Page::new(&name, body)
            .errors(!errors.is_empty())
            .back("/caseload", "Back to caseload"),
    )
}

/// GET /caseload/{id}
pub async fn case_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    case_page_with(&state, &ctx, &actor, &id, &[]).await
}

async fn after(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    result: Result<(), AppError>,
    anchor: &str,
) -> Result<Response, AppError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/caseload/{id}{anchor}")).into_response()),
        Err(AppError::Invalid(e)) => case_page_with(state, ctx, actor, id, &e).await,
        Err(e) => Err(e),
    }
}

/// POST /caseload/{id}/take
pub async fn take_on(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::take_on(&state, &actor, &id).await?;
    Ok(Redirect::to(&format!("/caseload/{id}")).into_response())
}

/// Status form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusForm {
    status: String,
    reason: String,
    barrier: String,
}

/// POST /caseload/{id}/status
pub async fn status(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<StatusForm>,
) -> Result<Response, AppError> {
    let r = service::change_status(&state, &actor, &id, &f.status, &f.reason, &f.barrier).await;
    after(&state, &ctx, &actor, &id, r, "").await
}

/// Note form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    note: String,
    share: String,
}

/// POST /caseload/{id}/notes
pub async fn note(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<NoteForm>,
) -> Result<Response, AppError> {
    let r = service::add_note(&state, &actor, &id, &f.note, f.share == "yes").await;
    after(&state, &ctx, &actor, &id, r, "#notes").await
}

/// Task form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TaskForm {
    title: String,
    due: String,
}

/// POST /caseload/{id}/tasks
pub async fn task_add(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<TaskForm>,
) -> Result<Response, AppError> {
    let r = service::add_task(&state, &actor, &id, &f.title, &f.due).await;
    after(&state, &ctx, &actor, &id, r, "#tasks").await
}

/// POST /caseload/{id}/tasks/{task_id}/done
pub async fn task_done(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path((id, task_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let r = service::complete_task(&state, &actor, &id, &task_id).await;
    after(&state, &ctx, &actor, &id, r, "#tasks").await
}

/// POST /caseload/{id}/barriers
pub async fn barrier_add(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<BarrierInput>,
) -> Result<Response, AppError> {
    let r = service::add_barrier(&state, &actor, &id, &f).await;
    after(&state, &ctx, &actor, &id, r, "#barriers").await
}

/// Connect form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConnectForm {
    activity_id: String,
    provider_note: String,
}

/// POST /caseload/{id}/connect
pub async fn connect(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ConnectForm>,
) -> Result<Response, AppError> {
    let r = service::connect(&state, &actor, &id, &f.activity_id, &f.provider_note).await;
    after(&state, &ctx, &actor, &id, r, "").await
}

/// POST /caseload/{id}/attendance
pub async fn attendance(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<AttendanceForm>,
) -> Result<Response, AppError> {
    let r = service::mark_attendance(&state, &actor, &id, &f.session_date, &f.attendance).await;
    after(&state, &ctx, &actor, &id, r, "#attendance").await
}
