//! Pages for referrers, link workers and providers. Handlers are thin: they read the form,
//! call the service, and re-render with the problems named when input is refused.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

use super::model::{ACTIONS, BARRIERS, ReasonProblem, ReferralReason, SOURCES, Status, label};
use super::service::{self, BarrierInput, CaseRow, CaseloadQuery, NewReferral, PlanInput};
use crate::error::{AppError, FieldError};
use crate::modules::people::html::{person_fields, person_summary};
use crate::modules::people::model::{Decision, Purpose};
use crate::modules::people::service::PersonInput;
use crate::rbac::{Actor, Role};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, checkboxes, csrf, error_summary, radios, select, summary_row,
    textarea, with_repeated,
};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use crate::db::date_of as date;

fn tag(s: Status) -> Markup {
    html! { strong class=(format!("nhsuk-tag {}", s.tag())) { (s.label()) } }
}

fn provider_label(s: Option<&str>) -> &'static str {
    match s {
        Some("pending") => "Waiting for the provider",
        Some("accepted") => "Accepted by the provider",
        Some("declined") => "Declined by the provider",
        Some("returned") => "No answer: returned",
        _ => "",
    }
}

// ----- Staff referral form -----

/// The staff referral form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StaffReferralForm {
    #[serde(flatten)]
    person: PersonInput,
    team: String,
    reason: String,
    consents: Vec<String>,
    consent_method: String,
    witness: String,
}

fn source_for(actor: &Actor) -> &'static str {
    if actor.has_role(Role::Clinician) {
        "clinician"
    } else if actor.has_role(Role::LinkWorker) {
        "link_worker"
    } else {
        "community"
    }
}

async fn new_form_page(
    state: &AppState,
    ctx: &PageCtx,
    f: &StaffReferralForm,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let teams = service::teams(state).await?;
    let consent_opts: Vec<(&str, &str, &str)> = Purpose::ALL
        .iter()
        .map(|p| (p.code(), p.label(), ""))
        .collect();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "Make a social prescribing referral" }
            p."nhsuk-body" { "The link worker team will contact the person, talk about what matters to them, and connect them with creative activities. You will be able to follow the referral and receive a message back." }
            form method="post" action="/referrals/new" novalidate {
                (csrf(ctx))
                (select("team", "Link worker team", &teams, &f.team, errors))
                h2."nhsuk-heading-m" { "The person" }
                (person_fields(&f.person, errors, true))
                h2."nhsuk-heading-m" { "Why you are referring" }
                (textarea("reason", "Reason for referral and what the person hopes for", "Include anything the link worker should know before making contact", &f.reason, errors))
                h2."nhsuk-heading-m" { "Consent" }
                p."nhsuk-body" { "Tick only what the person has agreed to. The link worker will ask about anything else." }
                (checkboxes("consents", "The person agreed to", &consent_opts, &f.consents, errors))
                (radios("consent_method", "How they agreed", &[("verbal", "Verbally, with a witness"), ("paper", "On a signed paper form")], &f.consent_method, errors))
                (Input::new("witness", "Witness (for verbal consent)", &f.witness).render(errors))
                (button("Send referral"))
            }
        } }
    };
    Ok(page(
        ctx,
        Page::new("Make a referral", body).errors(!errors.is_empty()),
    ))
}

/// GET /referrals/new
pub async fn new_form(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let teams = service::teams(&state).await?;
    let f = StaffReferralForm {
        team: teams.first().map(|t| t.0.clone()).unwrap_or_default(),
        ..Default::default()
    };
    new_form_page(&state, &ctx, &f, &[]).await
}

/// POST /referrals/new
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (mut f, consents): (StaffReferralForm, _) = with_repeated(pairs, "consents")?;
    f.consents = consents;
    let mut errors = Vec::new();
    let teams = service::teams(&state).await?;
    if !teams.iter().any(|(id, _)| *id == f.team) {
        errors.push(FieldError::new("team", "Choose the link worker team"));
    }
    let valid = f.person.validate().map_err(|e| errors.extend(e)).ok();
    let reason = ReferralReason::parse(&f.reason)
        .map_err(|p| {
            errors.push(FieldError::new(
                "reason",
                match p {
                    ReasonProblem::Empty => "Give the reason for the referral".to_string(),
                    ReasonProblem::TooLong(n) => format!(
                        "The reason must be {} characters or fewer (this has {n})",
                        ReferralReason::MAX_CHARS
                    ),
                },
            ))
        })
        .ok();
    let mut consents = Vec::new();
    for c in &f.consents {
        match Purpose::from_code(c) {
            Some(p) => consents.push((p, Decision::Given)),
            None => errors.push(FieldError::new("consents", "Choose consents from the list")),
        }
    }
    let method: &'static str = match f.consent_method.as_str() {
        "verbal" => "verbal",
        "paper" => "paper",
        _ => "",
    };
    if !consents.is_empty() {
        if method.is_empty() {
            errors.push(FieldError::new(
                "consent_method",
                "Say how the person agreed",
            ));
        } else if method == "verbal" && f.witness.trim().is_empty() {
            errors.push(FieldError::new(
                "witness",
                "Enter the name of the witness to verbal consent",
            ));
        }
    }
    let (Some(valid), Some(reason), true) = (valid, reason, errors.is_empty()) else {
        return new_form_page(&state, &ctx, &f, &errors).await;
    };
    let created = service::create(
        &state,
        &actor.audit(),
        &NewReferral {
            team_organisation_id: f.team.clone(),
            source: source_for(&actor),
            referrer_user_id: Some(actor.user_id.clone()),
            referrer_organisation_id: actor
                .memberships
                .iter()
                .find(|m| {
                    matches!(
                        m.2,
                        Role::Clinician
                            | Role::LinkWorker
                            | Role::ProgrammeManager
                            | Role::Practitioner
                    )
                })
                .map(|m| m.0.clone()),
            referrer_name: actor.display_name.clone(),
            referrer_email: actor.email.clone(),
            source_system: None,
            source_identifier: None,
            reason,
            person: valid,
            consents,
            consent_method: if method.is_empty() { "paper" } else { method },
            consent_witness: f.witness.trim().to_string(),
            activity_id: None,
            extra_tasks: vec![],
        },
    )
    .await?;
    if actor.has_role_in(&f.team, Role::LinkWorker) {
        return Ok(Redirect::to(&format!("/caseload/{}", created.id)).into_response());
    }
    Ok(Redirect::to("/referrals/sent?sent=1").into_response())
}

fn rows_table(
    rows: &[CaseRow],
    link: impl Fn(&CaseRow) -> String,
    caption: &str,
    with_tasks: bool,
) -> Markup {
    html! {
        div."ensemble-table-scroll" {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr {
                    th scope="col" { "Person" } th scope="col" { "Status" } th scope="col" { "Activity" }
                    @if with_tasks { th scope="col" { "Link worker" } th scope="col" { "Next task due" } }
                    th scope="col" { "Received" }
                } }
                tbody."nhsuk-table__body" {
                    @for r in rows {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { a href=(link(r)) { (r.name) } }
                            td."nhsuk-table__cell" { (tag(r.status)) @if let Some(p) = r.provider_status.as_deref() { br; span."nhsuk-body-s" { (provider_label(Some(p))) } } }
                            td."nhsuk-table__cell" { (r.activity_name.clone().unwrap_or_default()) }
                            @if with_tasks {
                                td."nhsuk-table__cell" { (r.assigned_name.clone().unwrap_or_else(|| "Unassigned".into())) }
                                td."nhsuk-table__cell" {
                                    @if let Some(d) = r.next_due { (date(d)) }
                                    @if r.overdue_tasks > 0 { " " strong."nhsuk-tag nhsuk-tag--red" { (r.overdue_tasks) " overdue" } }
                                }
                            }
                            td."nhsuk-table__cell" { (date(r.created_at)) }
                        }
                    }
                }
            }
        }
    }
}

/// Query for "sent".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SentQuery {
    sent: String,
}

/// GET /referrals/sent
pub async fn sent(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Query(q): Query<SentQuery>,
) -> Result<Response, AppError> {
    let rows = service::sent(&state, &actor).await?;
    let body = html! {
        @if q.sent == "1" { div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "Your referral has been sent to the link worker team." } } }
        h1 { "Referrals you made" }
        p { a."nhsuk-button" href="/referrals/new" { "Make a referral" } }
        @if rows.is_empty() { p."nhsuk-body" { "You have not made any referrals yet." } }
        @else { (rows_table(&rows, |r| format!("/referrals/{}/message-back", r.id), "Your referrals, newest first", false)) }
    };
    Ok(page(&ctx, Page::new("Referrals you made", body)))
}

// ----- Caseload -----

/// GET /caseload
pub async fn caseload(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    q: Result<Query<CaseloadQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = q.map_err(|e| {
        AppError::BadRequest(format!("The filters could not be read: {}", e.body_text()))
    })?;
    let (rows, more) = service::caseload(&state, &actor, &q).await?;
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
    let link = |p: i64| format!("/caseload?show={show}&status={status}&page={p}");
    let body = html! {
        h1 { "Caseload" }
        p { a."nhsuk-button nhsuk-button--secondary" href="/referrals/new" { "Add a referral" } }
        form method="get" action="/caseload" class="nhsuk-u-margin-bottom-4" {
            (select("show", "Whose referrals", &[("mine".into(), "Mine".into()), ("team".into(), "My team's".into()), ("unassigned".into(), "Unassigned".into())], show, &[]))
            (select("status", "Status", &status_opts, status, &[]))
            button."nhsuk-button nhsuk-button--secondary" type="submit" { "Show" }
        }
        @if rows.is_empty() { p."nhsuk-body" { "Nothing to show with these filters." } }
        @else { (rows_table(&rows, |r| format!("/caseload/{}", r.id), "Referrals, most recently changed first", true)) }
        @if page_no > 1 || more {
            nav."nhsuk-pagination" role="navigation" aria-label="Pagination" {
                ul."nhsuk-list nhsuk-pagination__list" {
                    @if page_no > 1 { li."nhsuk-pagination-item--previous" { a."nhsuk-pagination__link nhsuk-pagination__link--prev" href=(link(page_no - 1)) { span."nhsuk-pagination__title" { "Previous" } span."nhsuk-u-visually-hidden" { ":" } span."nhsuk-pagination__page" { "Page " (page_no - 1) } } } }
                    @if more { li."nhsuk-pagination-item--next" { a."nhsuk-pagination__link nhsuk-pagination__link--next" href=(link(page_no + 1)) { span."nhsuk-pagination__title" { "Next" } span."nhsuk-u-visually-hidden" { ":" } span."nhsuk-pagination__page" { "Page " (page_no + 1) } } } }
                }
            }
        }
    };
    Ok(page(&ctx, Page::new("Caseload", body)))
}

async fn activity_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    Ok(sqlx::query(
        "SELECT a.id, a.name, o.name AS org FROM activities a JOIN organisations o ON o.id = a.organisation_id \
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
    let r = &v.referral;
    let next = r.status.next_by_hand();
    let activities = if matches!(r.status, Status::PlanAgreed | Status::Connected) {
        activity_options(state).await?
    } else {
        vec![]
    };
    let can_connect = r.status == Status::PlanAgreed
        || (r.status == Status::Connected
            && matches!(r.provider_status.as_deref(), Some("declined" | "returned")));
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
    let name = v.person.full_name();
    let body = html! {
        (error_summary(errors))
        span."nhsuk-caption-l" { "Referral" }
        h1 { (name) }
        p { (tag(r.status)) @if !r.status_reason.is_empty() { " " (r.status_reason) } }
        @if r.provider_status.is_some() { p."nhsuk-body" { (provider_label(r.provider_status.as_deref())) @if let Some(a) = &r.activity_name { ": " (a) } @if !r.provider_reason.is_empty() { " – " (r.provider_reason) } } }
        dl."nhsuk-summary-list" {
            (summary_row("Reason", &r.reason))
            (summary_row("Source", label(SOURCES, &r.source)))
            (summary_row("Referrer", &r.referrer_name))
            (summary_row("Received", &datetime(r.created_at)))
            (summary_row("Team", &r.team_name))
            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Link worker" } dd."nhsuk-summary-list__value" {
                (r.assigned_name.clone().unwrap_or_else(|| "Not yet assigned".into()))
                @if r.assigned_to.as_deref() != Some(actor.user_id.as_str()) && !r.status.is_final() {
                    form method="post" action=(format!("/caseload/{id}/take")) { (csrf(ctx)) button."nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="submit" { "Take on this referral" } }
                }
            } }
        }
        @if !next.is_empty() {
            h2."nhsuk-heading-m" id="update-status" { "Update status" }
            form method="post" action=(format!("/caseload/{id}/status")) novalidate {
                (csrf(ctx))
                (select("status", "What has happened", &next.iter().map(|s| (s.code().to_string(), s.label().to_string())).collect::<Vec<_>>(), "", errors))
                (Input::new("reason", "Reason (needed for closing, declined, not reached or did not attend)", "").render(errors))
                (button("Update status"))
            }
        }
        h2."nhsuk-heading-m" { "What matters to me and the plan" }
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
        @if !r.status.is_final() && r.status != Status::Received { p { a href=(format!("/caseload/{id}/plan")) { "Record the conversation and plan" } } }
        @if can_connect {
            h2."nhsuk-heading-m" id="connect" { "Connect to an activity" }
            form method="post" action=(format!("/caseload/{id}/connect")) novalidate {
                (csrf(ctx))
                (select("activity_id", "Activity", &activities, r.activity_id.as_deref().unwrap_or(""), errors))
                (textarea("provider_note", "Note to the provider (optional)", "What will help them welcome the person. Do not include medical details they do not need.", "", errors))
                (button("Send to the provider"))
            }
        }
        div id="wellbeing" {
            (crate::modules::measures::html::scores_panel(&v.scores, "Wellbeing"))
            (crate::modules::measures::html::start_form(ctx, &instruments, &r.person_id, Some(id)))
        }
        @if can_attend {
            h2."nhsuk-heading-m" id="attendance" { "Attendance" }
            @if !v.attendance.is_empty() {
                ul."nhsuk-list" { @for (d, s) in &v.attendance { li { (d) ": " (if s == "present" { "present" } else { "absent" }) } } }
            }
            form method="post" action=(format!("/caseload/{id}/attendance")) novalidate {
                (csrf(ctx))
                (Input::new("session_date", "Session date", &today).hint("Year-month-day").width("nhsuk-input--width-10").render(errors))
                (radios("attendance", "Attendance", &[("present", "Present"), ("absent", "Absent")], "present", errors))
                (button("Mark attendance"))
            }
        }
        h2."nhsuk-heading-m" id="tasks" { "Tasks" }
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
        details."nhsuk-details" { summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Add a task" } }
            div."nhsuk-details__text" {
                form method="post" action=(format!("/caseload/{id}/tasks")) novalidate {
                    (csrf(ctx))
                    (Input::new("title", "What needs doing", "").render(errors))
                    (Input::new("due", "Due date", "").hint("Year-month-day, like 2026-12-01").width("nhsuk-input--width-10").render(errors))
                    (button("Add task"))
                }
            }
        }
        h2."nhsuk-heading-m" id="barriers" { "Barriers" }
        @if v.barriers.is_empty() { p."nhsuk-body" { "None recorded." } }
        @else {
            table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Barriers and what was done" }
                thead."nhsuk-table__head" { tr { th scope="col" { "Barrier" } th scope="col" { "What was done" } } }
                tbody."nhsuk-table__body" { @for b in &v.barriers { tr."nhsuk-table__row" {
                    td."nhsuk-table__cell" { (label(BARRIERS, &b.barrier)) @if !b.detail.is_empty() { ": " (b.detail) } }
                    td."nhsuk-table__cell" { (label(ACTIONS, &b.action)) @if !b.action_detail.is_empty() { ": " (b.action_detail) } }
                } } }
            }
        }
        details."nhsuk-details" { summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Record a barrier" } }
            div."nhsuk-details__text" {
                form method="post" action=(format!("/caseload/{id}/barriers")) novalidate {
                    (csrf(ctx))
                    (select("barrier", "Barrier", &barrier_opts, "", errors))
                    (Input::new("detail", "Detail (optional)", "").render(errors))
                    (select("action", "What was done about it", &action_opts, "", errors))
                    (Input::new("action_detail", "Detail of what was done (optional)", "").render(errors))
                    (button("Record barrier"))
                }
            }
        }
        h2."nhsuk-heading-m" { "The person" }
        (person_summary(&v.person))
        p { a href=(format!("/people/{}", v.person.person_id)) { "Open the full person record and consent" } }
        dl."nhsuk-summary-list" {
            @for p in Purpose::ALL {
                @let c = v.consents.iter().find(|c| c.purpose == p);
                (summary_row(p.label(), c.map(|c| c.decision.label()).unwrap_or("Not asked yet")))
            }
        }
        h2."nhsuk-heading-m" { "Message back" }
        p { a href=(format!("/referrals/{id}/message-back")) { "See the message back to the referrer and GP" } }
        @if let Some(t) = r.message_back_sent_at { p."nhsuk-body" { "Sent " (datetime(t)) "." } }
        h2."nhsuk-heading-m" id="notes" { "Case notes and messages" }
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
    };
    Ok(page(
        ctx,
        Page::new(&name, body)
            .errors(!errors.is_empty())
            .back("/caseload", "Back to caseload"),
    ))
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
}

/// POST /caseload/{id}/status
pub async fn status(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<StatusForm>,
) -> Result<Response, AppError> {
    let r = service::change_status(&state, &actor, &id, &f.status, &f.reason).await;
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

/// Attendance form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AttendanceForm {
    session_date: String,
    attendance: String,
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

/// POST /caseload/{id}/message-back
pub async fn message_back_send(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::send_message_back(&state, &actor, &id).await?;
    Ok(Redirect::to(&format!("/referrals/{id}/message-back?sent=1")).into_response())
}

fn plan_page(ctx: &PageCtx, id: &str, p: &PlanInput, errors: &[FieldError]) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "What matters to me" }
            p."nhsuk-body" { "Write in the person's own words where you can. They will be able to see their plan." }
            form method="post" action=(format!("/caseload/{id}/plan")) novalidate {
                (csrf(ctx))
                (textarea("what_matters", "What matters to them", "", &p.what_matters, errors))
                (textarea("needs", "Needs and concerns", "", &p.needs, errors))
                (textarea("goals", "Goals, in their own words", "", &p.goals, errors))
                (textarea("support_offered", "Support offered", "Activities from the directory and other services", &p.support_offered, errors))
                (textarea("next_steps", "Agreed next steps", "", &p.next_steps, errors))
                (Input::new("review_on", "Review date", &p.review_on).hint("Year-month-day, like 2027-02-01. Needed to agree the plan.").width("nhsuk-input--width-10").render(errors))
                (checkboxes("agreed", "Agreement", &[("yes", "The person agrees this plan", "")], std::slice::from_ref(&p.agreed), errors))
                (button("Save plan"))
            }
        } }
    };
    page(
        ctx,
        Page::new("What matters to me", body)
            .errors(!errors.is_empty())
            .back(&format!("/caseload/{id}"), "Back to the referral"),
    )
}

/// GET /caseload/{id}/plan
pub async fn plan_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let mut input = service::plan_for_care_team(&state, &actor, &id)
        .await?
        .map(|p| {
            let agreed = p.agreed_at.is_some();
            let mut i = p.input;
            if agreed {
                i.agreed = "yes".into();
            }
            i
        })
        .unwrap_or_default();
    if input.review_on.is_empty() {
        input.review_on = (crate::db::uk::today() + time::Duration::weeks(8)).to_string();
    }
    Ok(plan_page(&ctx, &id, &input, &[]))
}

/// POST /caseload/{id}/plan
pub async fn plan_save(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<PlanInput>,
) -> Result<Response, AppError> {
    match service::save_plan(&state, &actor, &id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/caseload/{id}")).into_response()),
        Err(AppError::Invalid(e)) => Ok(plan_page(&ctx, &id, &f, &e)),
        Err(e) => Err(e),
    }
}

/// Query for the message back page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MbQuery {
    sent: String,
}

/// GET /referrals/{id}/message-back — printable (care team and referrer).
pub async fn message_back(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<MbQuery>,
) -> Result<Response, AppError> {
    let mb = service::message_back(&state, &actor, &id).await?;
    let r = &mb.referral;
    let care_team = service::access(&actor, r).contains(&service::Access::CareTeam);
    let body = html! {
        @if q.sent == "1" { div."nhsuk-inset-text ensemble-no-print" { span."nhsuk-u-visually-hidden" { "Information: " } p { "The message back has been sent." } } }
        span."nhsuk-caption-l" { "Social prescribing" }
        h1 { "Message back to the referrer and GP" }
        dl."nhsuk-summary-list" {
            (summary_row("Referral received", &date(r.created_at)))
            (summary_row("Referred by", &r.referrer_name))
            (summary_row("Link worker team", &r.team_name))
            (summary_row("Current status", r.status.label()))
            (summary_row("Outcome", mb.outcome))
        }
        h2."nhsuk-heading-m" { "SNOMED CT codes" }
        table."nhsuk-table" {
            caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Codes for the GP record" }
            thead."nhsuk-table__head" { tr { th scope="col" { "Code" } th scope="col" { "Term" } } }
            tbody."nhsuk-table__body" { @for (c, d) in &mb.codes { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (c) } td."nhsuk-table__cell" { (d) } } } }
        }
        @if mb.consent_to_share {
            h2."nhsuk-heading-m" { "Summary (shared with the person's agreement)" }
            dl."nhsuk-summary-list" {
                @if let Some((name, nhs, dob)) = &mb.person {
                    (summary_row("Name", name))
                    (summary_row("NHS number", nhs))
                    (summary_row("Date of birth", dob))
                }
                (summary_row("Activity", mb.activity.as_deref().unwrap_or("")))
                (summary_row("Sessions attended", &mb.sessions_attended.map(|n| n.to_string()).unwrap_or_default()))
                (summary_row("Their goals", mb.goals.as_deref().unwrap_or("")))
            }
            @if !mb.scores.is_empty() {
                (crate::modules::measures::html::scores_panel(&mb.scores, "Latest wellbeing scores"))
            }
        } @else {
            div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "The person has not agreed to share details with their GP or referrer, so only the codes are sent." } }
        }
        p."ensemble-no-print" { a href=(format!("/api/v1/referrals/{id}/message-back")) { "The same message as FHIR JSON (API token needed)" } }
        @if care_team {
            form."ensemble-no-print" method="post" action=(format!("/caseload/{id}/message-back")) {
                (csrf(&ctx))
                (button(if r.message_back_sent_at.is_some() { "Send again" } else { "Send the message back" }))
            }
        }
    };
    let back = if care_team {
        format!("/caseload/{id}")
    } else {
        "/referrals/sent".into()
    };
    Ok(page(
        &ctx,
        Page::new("Message back", body).back(&back, "Back"),
    ))
}

// ----- Providers -----

/// GET /provider/referrals
pub async fn provider_inbox(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let rows = service::provider_inbox(&state, &actor).await?;
    let body = html! {
        h1 { "Referrals to your activities" }
        @if rows.is_empty() { p."nhsuk-body" { "No referrals yet." } }
        @else { (rows_table(&rows, |r| format!("/provider/referrals/{}", r.id), "Waiting for an answer first", false)) }
    };
    Ok(page(&ctx, Page::new("Referrals to your activities", body)))
}

async fn provider_page_with(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let v = service::provider_view(state, actor, id).await?;
    let instruments = crate::modules::measures::service::list(state).await?;
    let today = crate::db::uk::today().to_string();
    let body = html! {
        (error_summary(errors))
        span."nhsuk-caption-l" { "Referral to " (v.activity_name) }
        h1 { (v.name) }
        p { strong."nhsuk-tag" { (provider_label(Some(&v.provider_status))) } }
        dl."nhsuk-summary-list" {
            (summary_row("Pronouns", &v.pronouns))
            (summary_row("Communication needs", &v.communication_needs))
            (summary_row("Languages", &v.languages))
            (summary_row("Link worker", &v.link_worker))
            (summary_row("Note from the link worker", &v.note))
            (summary_row("Asked", &v.requested_at.map(datetime).unwrap_or_default()))
            @if let Some((phone, email)) = &v.contact {
                (summary_row("Phone", phone))
                (summary_row("Email", email))
            }
        }
        @if v.contact.is_none() && v.provider_status == "accepted" {
            p."nhsuk-body" { "The person has not agreed to be contacted directly: arrange the first visit through the link worker." }
        }
        @if !v.barriers.is_empty() {
            h2."nhsuk-heading-m" { "Support arranged" }
            ul."nhsuk-list nhsuk-list--bullet" { @for b in &v.barriers { li { (label(BARRIERS, &b.barrier)) ": " (label(ACTIONS, &b.action)) @if !b.action_detail.is_empty() { " – " (b.action_detail) } } } }
        }
        @if v.provider_status == "pending" {
            h2."nhsuk-heading-m" id="respond" { "Can you accept this referral?" }
            form method="post" action=(format!("/provider/referrals/{id}/respond")) novalidate {
                (csrf(ctx))
                (radios("decision", "Your answer", &[("accept", "Accept – we will welcome them"), ("decline", "Decline")], "", errors))
                (Input::new("reason", "Reason (needed if you decline)", "").render(errors))
                (button("Send answer"))
            }
        }
        @if v.provider_status == "accepted" {
            div id="wellbeing" {
                (crate::modules::measures::html::scores_panel(&v.scores, "Wellbeing"))
                (crate::modules::measures::html::start_form(ctx, &instruments, &v.person_id, Some(id)))
            }
        }
        @if v.provider_status == "accepted" && matches!(v.status, Status::Connected | Status::Attending | Status::Reviewed) {
            h2."nhsuk-heading-m" id="attendance" { "Attendance" }
            @if !v.attendance.is_empty() { ul."nhsuk-list" { @for (d, s) in &v.attendance { li { (d) ": " (s) } } } }
            form method="post" action=(format!("/provider/referrals/{id}/attendance")) novalidate {
                (csrf(ctx))
                (Input::new("session_date", "Session date", &today).hint("Year-month-day").width("nhsuk-input--width-10").render(errors))
                (radios("attendance", "Attendance", &[("present", "Present"), ("absent", "Absent")], "present", errors))
                (button("Mark attendance"))
            }
        }
        h2."nhsuk-heading-m" id="messages" { "Messages with the link worker" }
        form method="post" action=(format!("/provider/referrals/{id}/message")) novalidate {
            (csrf(ctx))
            (textarea("message", "Send a message", "", "", errors))
            (button("Send message"))
        }
        ul."nhsuk-list" { @for e in &v.messages { li { span."nhsuk-body-s" { (datetime(e.at)) " · " (e.actor.clone().unwrap_or_default()) } br; (e.body) } } }
    };
    Ok(page(
        ctx,
        Page::new(&v.name, body)
            .errors(!errors.is_empty())
            .back("/provider/referrals", "Back to referrals"),
    ))
}

/// GET /provider/referrals/{id}
pub async fn provider_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    provider_page_with(&state, &ctx, &actor, &id, &[]).await
}

async fn provider_after(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: &str,
    result: Result<(), AppError>,
) -> Result<Response, AppError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/provider/referrals/{id}")).into_response()),
        Err(AppError::Invalid(e)) => provider_page_with(state, ctx, actor, id, &e).await,
        Err(e) => Err(e),
    }
}

/// Provider answer form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RespondForm {
    decision: String,
    reason: String,
}

/// POST /provider/referrals/{id}/respond
pub async fn provider_respond(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<RespondForm>,
) -> Result<Response, AppError> {
    let r = service::respond(&state, &actor, &id, &f.decision, &f.reason).await;
    provider_after(&state, &ctx, &actor, &id, r).await
}

/// Message form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageForm {
    message: String,
}

/// POST /provider/referrals/{id}/message
pub async fn provider_message(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MessageForm>,
) -> Result<Response, AppError> {
    let r = service::provider_message(&state, &actor, &id, &f.message).await;
    provider_after(&state, &ctx, &actor, &id, r).await
}

/// POST /provider/referrals/{id}/attendance
pub async fn provider_attendance(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<AttendanceForm>,
) -> Result<Response, AppError> {
    let r = service::mark_attendance(&state, &actor, &id, &f.session_date, &f.attendance).await;
    provider_after(&state, &ctx, &actor, &id, r).await
}
