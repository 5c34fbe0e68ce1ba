//! Staff pages: the measures hub, an instrument's page, starting a response with a person or
//! from paper, a person's scores panel, and the administrator's licensed wording upload.

use crate::modules::measures::service::ResponseStatus;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

use crate::error::{AppError, FieldError};
use crate::modules::measures::definition::{Definition, num};
use crate::modules::measures::service::{self, LatestScore, Mode, NewResponse};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, button, csrf, error_summary, select, table_wrap};
use crate::web::{Page, PageCtx, page};

use crate::db::date_of as date;

use super::*;

/// The latest scores of a person, as a table (used on the case, provider and plan pages).
pub fn scores_panel(latest: &[LatestScore], heading: &str) -> Markup {
    html! {
        h2."nhsuk-heading-m" { (heading) }
        @if latest.is_empty() {
            p."nhsuk-body" { "No wellbeing measures completed yet." }
        } @else {
            (table_wrap(heading, html! { table."nhsuk-table" {
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
            } }))
        }
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
    let outcome = service::start(&state, &actor, f.new_response(person_id)).await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/check-ins/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => Ok(not_started(&ctx, &errors, &f.referral_id)),
        Err(e) => Err(e),
    }
}

impl StartStaff {
    /// The response to start for `person_id`: with a practitioner unless from paper.
    fn new_response(&self, person_id: String) -> NewResponse {
        let mode = match Mode::from_code(&self.mode) {
            Some(Mode::SelfReport) | None => Mode::WithPractitioner,
            Some(m) => m,
        };
        NewResponse {
            person_id,
            instrument_id: self.instrument.clone(),
            referral_id: (!self.referral_id.is_empty()).then(|| self.referral_id.clone()),
            schedule_id: None,
            mode,
            double_entry: self.double_entry == "yes",
            easy_read: false,
            one_per_page: false,
        }
    }
}

fn not_started(ctx: &PageCtx, errors: &[FieldError], referral_id: &str) -> Response {
    let body = html! {
        (error_summary(errors))
        h1 { "The measure could not be started" }
        p."nhsuk-body" { a href=(if referral_id.is_empty() { "/measures".to_owned() } else { format!("/caseload/{}", referral_id) }) { "Go back" } }
    };
    page(
        ctx,
        Page::new("The measure could not be started", body).errors(true),
    )
}

/// GET /measures — staff hub: entries waiting for a second keying or a check, and the
/// instrument library.
pub async fn hub(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<Response, AppError> {
    let hub = service::hub(&state, &actor).await?;
    let body = hub_view(&hub);
    Ok(page(&ctx, Page::new("Measures", body)))
}

fn hub_view(hub: &service::Hub) -> Markup {
    html! {
        h1 { "Measures" }
        (due_table(&hub.due))
        h2."nhsuk-heading-m" { "Waiting for you" }
        @if hub.pending.is_empty() {
            p."nhsuk-body" { "Nothing is waiting: no unfinished entries, second keyings or differences to check." }
        } @else {
            (table_wrap("Entries waiting", html! { table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Entries waiting" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Measure" }
                    th."nhsuk-table__header" scope="col" { "What is needed" }
                    th."nhsuk-table__header" scope="col" { "Started" }
                } }
                tbody."nhsuk-table__body" {
                    @for p in &hub.pending {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { a href=(format!("/check-ins/{}", p.id)) { (p.instrument) } }
                            td."nhsuk-table__cell" { (match p.status {
                                ResponseStatus::AwaitingSecondEntry => "Second keying of a paper form",
                                ResponseStatus::Mismatch => "Check differences against the paper form",
                                _ => "Finish entering",
                            }) }
                            td."nhsuk-table__cell" { (date(p.started_at)) }
                        }
                    }
                }
            } }))
        }
        p."nhsuk-body" { a href="/instrument-reviews" { "Co-designed instruments waiting for your review" } }
        h2."nhsuk-heading-m" { "Instrument library" }
        (table_wrap("Instruments", html! { table."nhsuk-table" {
            caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Instruments" }
            thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                th."nhsuk-table__header" scope="col" { "Instrument" }
                th."nhsuk-table__header" scope="col" { "Questions" }
                th."nhsuk-table__header" scope="col" { "Wording" }
            } }
            tbody."nhsuk-table__body" {
                @for i in &hub.instruments {
                    tr."nhsuk-table__row" {
                        td."nhsuk-table__cell" { a href=(format!("/measures/instruments/{}", i.id)) { (i.name) } " (version " (i.version) ")" }
                        td."nhsuk-table__cell" { (i.items) }
                        td."nhsuk-table__cell" { (if i.licence == "open" { "Included" } else { "Licensed: uploaded by licence holders" }) }
                    }
                }
            }
        } }))
    }
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
    let body = instrument_view(&d);
    Ok(page(
        &ctx,
        Page::new(&d.name, body).back("/measures", "Measures"),
    ))
}

fn instrument_view(d: &Definition) -> Markup {
    html! {
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
    }
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
    let orgs = sqlx::query("SELECT id, name FROM accounts_organisation_profiles ORDER BY name")
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
