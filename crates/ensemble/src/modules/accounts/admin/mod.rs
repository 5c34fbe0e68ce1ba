//! Administration pages: organisations, the audit trail, the email outbox and the job queue
//! here; accounts, invitations and roles in `users`; requests for care roles in `grants`.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::audit::AuditFilter;
use crate::error::{AppError, FieldError};
use crate::notify::OutboxMessage;
use crate::rbac::Granted;
use crate::rbac::perm::{ManageOrganisations, ViewAudit, ViewOperations};
use crate::state::AppState;
use crate::web::forms::{Input, PageForm, button, csrf, error_summary, select, table_wrap};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

use super::model::{OrgKind, Organisation};
use super::service::{self, OrganisationInput};

mod grants;
mod users;

pub use grants::*;
pub use users::*;

fn row(key: &str, value: Markup) -> Markup {
    html! { div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { (key) } dd."nhsuk-summary-list__value" { (value) } } }
}

/// The administration pages, with what each is for.
const ADMIN_PAGES: [(&str, &str, &str); 6] = [
    (
        "/admin/organisations",
        "Organisations",
        "Create and edit the organisations that take part.",
    ),
    (
        "/admin/users",
        "Accounts",
        "Invite people, edit accounts and roles, disable accounts.",
    ),
    (
        "/admin/role-grants",
        "Care roles",
        "Roles that reach person records: asked for by one administrator, approved by another.",
    ),
    (
        "/admin/audit",
        "Audit trail",
        "Every change and every look at personal records, tamper-evident.",
    ),
    (
        "/admin/outbox",
        "Outbox",
        "Every email and text message the platform has sent or is about to send.",
    ),
    (
        "/admin/jobs",
        "Background jobs",
        "Reminders, emails and housekeeping, with failures.",
    ),
];

/// GET /admin
pub async fn index(
    State(state): State<AppState>,
    ctx: PageCtx,
    _g: Granted<ViewOperations>,
) -> Result<Response, AppError> {
    let banner = care_grant_banner(&state).await?;
    let body = html! {
        h1 { "Administration" }
        (banner)
        ul."nhsuk-list" {
            @for (href, title, text) in ADMIN_PAGES {
                li { a."nhsuk-link" href=(href) { (title) } p."nhsuk-body-s" { (text) } }
            }
        }
    };
    Ok(page(&ctx, Page::new("Administration", body)))
}

/// GET /admin/organisations
pub async fn organisations(
    State(state): State<AppState>,
    ctx: PageCtx,
    _g: Granted<ManageOrganisations>,
) -> Result<Response, AppError> {
    let orgs = service::list_organisations(&state, true).await?;
    let body = html! {
        h1 { "Organisations" }
        p { a."nhsuk-button" href="/admin/organisations/new" { "Add an organisation" } }
        (table_wrap("Organisations", html! {
        table."nhsuk-table" {
            caption."nhsuk-table__caption" { (orgs.len()) " organisations" }
            thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                th."nhsuk-table__header" scope="col" { "Name" }
                th."nhsuk-table__header" scope="col" { "Kind" }
                th."nhsuk-table__header" scope="col" { "Borough" }
                th."nhsuk-table__header" scope="col" { "Status" }
            } }
            tbody."nhsuk-table__body" {
                @for o in &orgs {
                    tr."nhsuk-table__row" {
                        td."nhsuk-table__cell" { a href=(format!("/admin/organisations/{}", o.id)) { (o.name) } }
                        td."nhsuk-table__cell" { (o.kind.label()) }
                        td."nhsuk-table__cell" { (o.borough.as_deref().unwrap_or("—")) }
                        td."nhsuk-table__cell" { @if o.archived_at.is_some() { "Archived" } @else { "Active" } }
                    }
                }
            }
        }
        }))
    };
    Ok(page(
        &ctx,
        Page::new("Organisations", body).back("/admin", "Back to administration"),
    ))
}

fn org_form(
    ctx: &PageCtx,
    action: &str,
    title: &str,
    input: &OrganisationInput,
    archived: Option<bool>,
    errors: &[FieldError],
) -> Response {
    let kinds: Vec<(String, String)> = OrgKind::ALL
        .iter()
        .map(|k| (k.code().to_string(), k.label().to_string()))
        .collect();
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { (title) }
            form method="post" action=(action) novalidate {
                (csrf(ctx))
                (Input::new("name", "Name", &input.name).render(errors))
                (select("kind", "Kind of organisation", &kinds, &input.kind, errors))
                (Input::new("borough", "Borough (optional)", &input.borough).hint("For example Liverpool, Sefton, Wirral, Knowsley, St Helens or Halton").render(errors))
                (Input::new("ods_code", "NHS ODS code (optional)", &input.ods_code).width("nhsuk-input--width-10").render(errors))
                (Input::new("website", "Website (optional)", &input.website).kind("url").render(errors))
                div."nhsuk-form-group" {
                    label."nhsuk-label" for="description" { "What it does (optional)" }
                    textarea."nhsuk-textarea" id="description" name="description" rows="4" { (input.description) }
                }
                @if let Some(a) = archived {
                    div."nhsuk-form-group" { div."nhsuk-checkboxes" { div."nhsuk-checkboxes__item" {
                        input."nhsuk-checkboxes__input" id="archived" name="archived" type="checkbox" value="yes" checked[a];
                        label."nhsuk-label"."nhsuk-checkboxes__label" for="archived" { "Archived (hidden from lists; members cannot act for it)" }
                    } } }
                }
                (button("Save"))
            }
        } }
    };

    page(
        ctx,
        Page::new(title, body)
            .errors(!errors.is_empty())
            .back("/admin/organisations", "Back to organisations"),
    )
}

/// GET /admin/organisations/new
pub async fn organisation_new(ctx: PageCtx, _g: Granted<ManageOrganisations>) -> Response {
    org_form(
        &ctx,
        "/admin/organisations/new",
        "Add an organisation",
        &OrganisationInput::default(),
        None,
        &[],
    )
}

/// The organisation form with the archive box.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrgForm {
    name: String,
    kind: String,
    borough: String,
    ods_code: String,
    website: String,
    description: String,
    archived: String,
}

impl OrgForm {
    fn input(&self) -> OrganisationInput {
        OrganisationInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            borough: self.borough.clone(),
            ods_code: self.ods_code.clone(),
            website: self.website.clone(),
            description: self.description.clone(),
        }
    }
}

/// POST /admin/organisations/new
pub async fn organisation_create(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageOrganisations>,
    PageForm(f): PageForm<OrgForm>,
) -> Response {
    let input = f.input();
    match service::create_organisation(&state, &g, &input).await {
        Ok(o) => Redirect::to(&format!("/admin/organisations/{}", o.id)).into_response(),
        Err(AppError::Invalid(errors)) => org_form(
            &ctx,
            "/admin/organisations/new",
            "Add an organisation",
            &input,
            None,
            &errors,
        ),
        Err(e) => e.into_response(),
    }
}

fn input_of(o: &Organisation) -> OrganisationInput {
    OrganisationInput {
        name: o.name.clone(),
        kind: o.kind.code().into(),
        borough: o.borough.clone().unwrap_or_default(),
        ods_code: o.ods_code.clone().unwrap_or_default(),
        website: o.website.clone().unwrap_or_default(),
        description: o.description.clone(),
    }
}

/// GET /admin/organisations/{id}
pub async fn organisation_edit(
    State(state): State<AppState>,
    ctx: PageCtx,
    _g: Granted<ManageOrganisations>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let o = service::get_organisation(&state, &id).await?;
    Ok(org_form(
        &ctx,
        &format!("/admin/organisations/{id}"),
        &format!("Edit {}", o.name),
        &input_of(&o),
        Some(o.archived_at.is_some()),
        &[],
    ))
}

/// POST /admin/organisations/{id}
pub async fn organisation_update(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ManageOrganisations>,
    Path(id): Path<String>,
    PageForm(f): PageForm<OrgForm>,
) -> Response {
    let input = f.input();
    let archived = f.archived == "yes";
    match service::update_organisation(&state, &g, &id, &input, archived).await {
        Ok(_) => Redirect::to("/admin/organisations").into_response(),
        Err(AppError::Invalid(errors)) => org_form(
            &ctx,
            &format!("/admin/organisations/{id}"),
            "Edit organisation",
            &input,
            Some(archived),
            &errors,
        ),
        Err(e) => e.into_response(),
    }
}

/// Audit filters from the query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    action: String,
    actor: String,
    entity_type: String,
    entity_id: String,
    from: String,
    to: String,
    page: Option<i64>,
}

fn parse_date(s: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match crate::dates::parse_date(s) {
        Some(d) => Some(d.midnight().assume_utc().unix_timestamp()),
        None => {
            errors.push(FieldError::new(field, "Enter a date like 2026-11-26"));
            None
        }
    }
}

/// GET /admin/audit
pub async fn audit(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ViewAudit>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let (filter, errors) = q.filter();
    let pg = q.page.unwrap_or(1).max(1);
    let (rows, more) = if errors.is_empty() {
        service::browse_audit(&state, &g, &filter, pg).await?
    } else {
        (vec![], false)
    };
    let body = audit_view(&q, &errors, &rows, pg, more);
    let r = page(
        &ctx,
        Page::new("Audit trail", body)
            .errors(!errors.is_empty())
            .back("/admin", "Back to administration"),
    );
    Ok(r)
}

impl AuditQuery {
    /// The filter the query asks for, and the problems with its dates.
    fn filter(&self) -> (AuditFilter, Vec<FieldError>) {
        let mut errors = Vec::new();
        let from = parse_date(&self.from, "from", &mut errors);
        let to = parse_date(&self.to, "to", &mut errors).map(|t| t + 86_400);
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let filter = AuditFilter {
            action: opt(&self.action),
            actor_user_id: opt(&self.actor),
            entity_type: opt(&self.entity_type),
            entity_id: opt(&self.entity_id),
            from,
            to,
        };
        (filter, errors)
    }
}

fn audit_view(
    q: &AuditQuery,
    errors: &[FieldError],
    rows: &[service::AuditEntry],
    pg: i64,
    more: bool,
) -> Markup {
    let qs = |p: i64| {
        serde_urlencoded::to_string([
            ("action", q.action.as_str()),
            ("actor", q.actor.as_str()),
            ("entity_type", q.entity_type.as_str()),
            ("entity_id", q.entity_id.as_str()),
            ("from", q.from.as_str()),
            ("to", q.to.as_str()),
            ("page", &p.to_string()),
        ])
        .unwrap_or_default()
    };
    html! {
        (error_summary(errors))
        h1 { "Audit trail" }
        p."nhsuk-body" { "Every change and every read of personal records, newest first. Each entry is chained to the one before by a hash; run " code { "ensemble audit verify" } " to check nothing has been altered." }
        form method="get" action="/admin/audit" novalidate {
            div."nhsuk-grid-row" {
                div."nhsuk-grid-column-one-third" { (Input::new("action", "Action starts with", &q.action).hint("For example account. or session.sign_in").render(errors)) }
                div."nhsuk-grid-column-one-third" { (Input::new("entity_type", "Record type", &q.entity_type).hint("For example user or organisation").render(errors)) }
                div."nhsuk-grid-column-one-third" { (Input::new("entity_id", "Record id", &q.entity_id).render(errors)) }
            }
            div."nhsuk-grid-row" {
                div."nhsuk-grid-column-one-third" { (Input::new("actor", "Done by (account id)", &q.actor).render(errors)) }
                div."nhsuk-grid-column-one-third" { (Input::new("from", "From date", &q.from).hint("YYYY-MM-DD").render(errors)) }
                div."nhsuk-grid-column-one-third" { (Input::new("to", "To date", &q.to).hint("YYYY-MM-DD").render(errors)) }
            }
            button."nhsuk-button"."nhsuk-button--secondary" type="submit" { "Filter" }
        }
        @if rows.is_empty() { p."nhsuk-body" { "No entries match." } } @else {
            (table_wrap("Audit entries", html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption"."nhsuk-u-visually-hidden" { "Audit entries" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "When" }
                    th."nhsuk-table__header" scope="col" { "What happened" }
                } }
                tbody."nhsuk-table__body" {
                    @for e in rows {
                        @let r = &e.row;
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell"."ensemble-nowrap" { (datetime(r.at)) }
                            td."nhsuk-table__cell" {
                                (e.sentence)
                                details."nhsuk-details nhsuk-u-margin-bottom-0" {
                                    summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Details" span."nhsuk-u-visually-hidden" { " of entry " (r.seq) } } }
                                    div."nhsuk-details__text" {
                                        dl."nhsuk-summary-list nhsuk-u-margin-bottom-0" {
                                            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Entry" } dd."nhsuk-summary-list__value" { (r.seq) } }
                                            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Action" } dd."nhsuk-summary-list__value" { code { (r.action) } } }
                                            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Record" } dd."nhsuk-summary-list__value" { (r.entity_type) @if let Some(id) = &r.entity_id { " " a href=(format!("/admin/audit?entity_type={}&entity_id={id}", r.entity_type)) { (id) } } } }
                                            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "By" } dd."nhsuk-summary-list__value" { (r.actor_label) @if let Some(u) = &r.actor_user_id { " " a href=(format!("/admin/audit?actor={u}")) { (u) } } } }
                                            div."nhsuk-summary-list__row" { dt."nhsuk-summary-list__key" { "Detail" } dd."nhsuk-summary-list__value ensemble-detail" { code { (r.detail) } } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            }))
        }
        @if pg > 1 || more {
            nav."nhsuk-pagination" role="navigation" aria-label="Pagination" {
                ul."nhsuk-list"."nhsuk-pagination__list" {
                    @if pg > 1 { li."nhsuk-pagination-item--previous" { a."nhsuk-pagination__link"."nhsuk-pagination__link--prev" href=(format!("/admin/audit?{}", qs(pg - 1))) { span."nhsuk-pagination__title" { "Newer" } } } }
                    @if more { li."nhsuk-pagination-item--next" { a."nhsuk-pagination__link"."nhsuk-pagination__link--next" href=(format!("/admin/audit?{}", qs(pg + 1))) { span."nhsuk-pagination__title" { "Older" } } } }
                }
            }
        }
    }
}

/// The outbox filter.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OutboxQuery {
    channel: String,
}

/// GET /admin/outbox
pub async fn outbox(
    State(state): State<AppState>,
    ctx: PageCtx,
    g: Granted<ViewOperations>,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, AppError> {
    let (messages, errors) = match service::browse_outbox(&state, &g, &q.channel).await {
        Ok(m) => (m, vec![]),
        Err(AppError::Invalid(e)) => (vec![], e),
        Err(e) => return Err(e),
    };
    let smtp = state.cfg.smtp_url.is_some();
    let body = outbox_view(smtp, &q.channel, &messages, &errors);
    Ok(page(
        &ctx,
        Page::new("Outbox: emails and text messages", body)
            .errors(!errors.is_empty())
            .back("/admin", "Back to administration"),
    ))
}

fn outbox_view(
    smtp: bool,
    channel: &str,
    messages: &[OutboxMessage],
    errors: &[FieldError],
) -> Markup {
    let channel_label = |c: &str| {
        service::OUTBOX_CHANNELS
            .iter()
            .find(|(code, _)| *code == c)
            .map_or(c.to_string(), |(_, l)| (*l).to_string())
    };
    let err = errors.iter().find(|e| e.field == "channel");
    html! {
        (error_summary(errors))
        h1 { "Outbox: emails and text messages" }
        p."nhsuk-body" {
            @if smtp { "Emails are delivered over SMTP by the background worker. " }
            @else { "No SMTP server is configured (ENSEMBLE_SMTP_URL), so emails are kept here and not sent. " }
            "Text messages go to the configured text message provider, or are kept here when there is none (ENSEMBLE_SMS)."
        }
        form method="get" action="/admin/outbox" class="nhsuk-u-margin-bottom-4" {
            div class=(if err.is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }) {
                label."nhsuk-label" for="channel" { "Show" }
                @if let Some(e) = err {
                    span."nhsuk-error-message" id="channel-error" { span."nhsuk-u-visually-hidden" { "Error: " } (e.message) }
                }
                select."nhsuk-select" id="channel" name="channel" aria-describedby=[err.map(|_| "channel-error")] {
                    option value="all" selected[!matches!(channel, "email" | "sms")] { "Emails and text messages" }
                    option value="email" selected[channel == "email"] { "Emails only" }
                    option value="sms" selected[channel == "sms"] { "Text messages only" }
                }
            }
            button."nhsuk-button nhsuk-button--secondary" type="submit" { "Show" }
        }
        @if messages.is_empty() && errors.is_empty() { p."nhsuk-body" { "No messages yet." } }
        @if !messages.is_empty() {
            (table_wrap("Newest messages", html! { table."nhsuk-table" {
                caption."nhsuk-table__caption"."nhsuk-u-visually-hidden" { "Newest messages" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Channel" }
                    th."nhsuk-table__header" scope="col" { "To" }
                    th."nhsuk-table__header" scope="col" { "Created" }
                    th."nhsuk-table__header" scope="col" { "Status" }
                    th."nhsuk-table__header" scope="col" { "Message" }
                } }
                tbody."nhsuk-table__body" {
                    @for m in messages {
                        tr."nhsuk-table__row" data-channel=(m.channel) {
                            td."nhsuk-table__cell" { (channel_label(&m.channel)) }
                            td."nhsuk-table__cell ensemble-detail" { (m.to_address) }
                            td."nhsuk-table__cell" { (datetime(m.created_at)) }
                            td."nhsuk-table__cell" { (m.status) @if m.attempts > 0 { " (" (m.attempts) " attempts)" } @if let Some(e) = &m.last_error { br; (e) } }
                            td."nhsuk-table__cell" {
                                details."nhsuk-details nhsuk-u-margin-bottom-0" {
                                    summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { (m.subject) span."nhsuk-u-visually-hidden" { " " (m.id) } } }
                                    div."nhsuk-details__text" { pre."ensemble-code" { (m.body_text) } }
                                }
                            }
                        }
                    }
                }
            } }))
        }
    }
}

/// GET /admin/jobs
pub async fn jobs(
    State(state): State<AppState>,
    ctx: PageCtx,
    _g: Granted<ViewOperations>,
) -> Result<Response, AppError> {
    let jobs = crate::jobs::overview(&state).await?;
    let body = html! {
        h1 { "Background jobs" }
        @if jobs.is_empty() { p."nhsuk-body" { "No jobs yet." } } @else {
            (table_wrap("Newest jobs", html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption"."nhsuk-u-visually-hidden" { "Newest jobs" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Kind" }
                    th."nhsuk-table__header" scope="col" { "Status" }
                    th."nhsuk-table__header" scope="col" { "Attempts" }
                    th."nhsuk-table__header" scope="col" { "Updated" }
                    th."nhsuk-table__header" scope="col" { "Last error" }
                } }
                tbody."nhsuk-table__body" {
                    @for (_, kind, status, attempts, err, updated) in &jobs {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { (kind) }
                            td."nhsuk-table__cell" { (status) }
                            td."nhsuk-table__cell" { (attempts) }
                            td."nhsuk-table__cell" { (datetime(*updated)) }
                            td."nhsuk-table__cell" { (err.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
            }))
        }
    };
    Ok(page(
        &ctx,
        Page::new("Background jobs", body).back("/admin", "Back to administration"),
    ))
}
