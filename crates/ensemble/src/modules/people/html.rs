//! Pages for the person record, consent, the person's own plan and research datasets.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::evaluation;
use super::model::{Decision, ETHNICITIES, GENDERS, METHODS, Purpose, label_of};
use super::service::{self, ConsentInput, Identity, PersonInput};
use crate::error::{ApiError, AppError, FieldError};
use crate::rbac::Granted;
use crate::rbac::perm::ExportEvaluationData;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{
    Input, PageForm, button, csrf, error_summary, radios, select, summary_row, table_wrap, textarea,
};
use crate::web::layout::datetime;
use crate::web::{Page, PageCtx, page};

fn options(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(c, l)| (c.to_string(), l.to_string()))
        .collect()
}

/// The person-details fields, shared by the person page and the referral forms.
pub fn person_fields(p: &PersonInput, errors: &[FieldError], care_team: bool) -> Markup {
    html! {
        (Input::new("given_name", "First name", &p.given_name).autocomplete("off").render(errors))
        (Input::new("family_name", "Last name", &p.family_name).autocomplete("off").render(errors))
        (Input::new("preferred_name", "Preferred name (optional)", &p.preferred_name).hint("What they like to be called").render(errors))
        (Input::new("pronouns", "Pronouns (optional)", &p.pronouns).width("nhsuk-input--width-10").render(errors))
        (Input::new("nhs_number", "NHS number (optional)", &p.nhs_number).hint("10 digits, like 943 476 5919").width("nhsuk-input--width-10").render(errors))
        (Input::new("date_of_birth", "Date of birth (optional)", &p.date_of_birth).hint("Year-month-day, like 1984-03-27").width("nhsuk-input--width-10").render(errors))
        (Input::new("email", "Email (optional)", &p.email).kind("email").render(errors))
        (Input::new("phone", "Phone (optional)", &p.phone).kind("tel").width("nhsuk-input--width-20").render(errors))
        (Input::new("address", "Address (optional)", &p.address).render(errors))
        (Input::new("postcode", "Postcode (optional)", &p.postcode).width("nhsuk-input--width-10").render(errors))
        (Input::new("communication_needs", "Communication needs (optional)", &p.communication_needs).hint("For example large print, British Sign Language, easy read").render(errors))
        (Input::new("languages", "Languages (optional)", &p.languages).render(errors))
        (select("contact_method", "How they prefer to be contacted (optional)", &options(super::model::CONTACT_METHODS), &p.contact_method, errors))
        (select("ethnicity", "Ethnic group (optional)", &options(ETHNICITIES), &p.ethnicity, errors))
        (select("gender", "Gender (optional)", &options(GENDERS), &p.gender, errors))
        (Input::new("gp_practice", "GP practice (optional)", &p.gp_practice).render(errors))
        @if care_team {
            (textarea("emergency_contact", "Emergency contact (care team only)", "", &p.emergency_contact, errors))
            (textarea("safeguarding_notes", "Safeguarding notes (care team only)", "Never shown to providers, referrers or the person's GP", &p.safeguarding_notes, errors))
        }
    }
}

/// A summary of a person for the care team.
pub fn person_summary(p: &Identity) -> Markup {
    let d = &p.details;
    html! {
        dl."nhsuk-summary-list" {
            (summary_row("Name", &p.full_name()))
            (summary_row("Preferred name", &d.preferred_name))
            (summary_row("Pronouns", &d.pronouns))
            (summary_row("NHS number", &super::model::NhsNumber::parse(&d.nhs_number).map(|n| n.display()).unwrap_or_default()))
            (summary_row("Date of birth", &d.date_of_birth))
            (summary_row("Phone", &d.phone))
            (summary_row("Email", &d.email))
            (summary_row("Address", format!("{} {}", d.address, d.postcode).trim()))
            (summary_row("Communication needs", &d.communication_needs))
            (summary_row("Languages", &d.languages))
            (summary_row("Prefers to be contacted by", label_of(super::model::CONTACT_METHODS, &d.contact_method)))
            (summary_row("Ethnic group", label_of(ETHNICITIES, &d.ethnicity)))
            (summary_row("Gender", label_of(GENDERS, &d.gender)))
            (summary_row("GP practice", &d.gp_practice))
            (summary_row("Emergency contact", &d.emergency_contact))
            (summary_row("Safeguarding notes", &d.safeguarding_notes))
        }
    }
}

/// How to reach the person and how to communicate with them: what a link worker needs
/// first on the case page (with safeguarding notes, when there are any).
pub fn contact_summary(p: &Identity) -> Markup {
    let d = &p.details;
    html! {
        dl."nhsuk-summary-list" {
            (summary_row("Preferred name", &d.preferred_name))
            (summary_row("Pronouns", &d.pronouns))
            (summary_row("Phone", &d.phone))
            (summary_row("Email", &d.email))
            (summary_row("Address", format!("{} {}", d.address, d.postcode).trim()))
            (summary_row("Prefers to be contacted by", label_of(super::model::CONTACT_METHODS, &d.contact_method)))
            (summary_row("Communication needs", if d.communication_needs.trim().is_empty() { "None recorded" } else { &d.communication_needs }))
            (summary_row("Languages", &d.languages))
            @if !d.safeguarding_notes.trim().is_empty() { (summary_row("Safeguarding notes", &d.safeguarding_notes)) }
        }
    }
}

/// The rest of the person's details, apart from [`contact_summary`]'s.
pub fn other_details_summary(p: &Identity) -> Markup {
    let d = &p.details;
    html! {
        dl."nhsuk-summary-list" {
            (summary_row("Name", &p.full_name()))
            (summary_row("NHS number", &super::model::NhsNumber::parse(&d.nhs_number).map(|n| n.display()).unwrap_or_default()))
            (summary_row("Date of birth", &d.date_of_birth))
            (summary_row("GP practice", &d.gp_practice))
            (summary_row("Emergency contact", &d.emergency_contact))
            (summary_row("Ethnic group", label_of(ETHNICITIES, &d.ethnicity)))
            (summary_row("Gender", label_of(GENDERS, &d.gender)))
        }
    }
}

/// The consent table and the form to record a decision.
pub fn consent_section(
    ctx: &PageCtx,
    person_id: &str,
    consents: &[service::CurrentConsent],
    errors: &[FieldError],
    form: &ConsentForm,
) -> Markup {
    html! {
        h2."nhsuk-heading-m" id="consent" { "Consent" }
        (table_wrap("Current consent decisions", html! { table."nhsuk-table" {
            caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Current consent decisions" }
            thead."nhsuk-table__head" { tr { th scope="col" { "Purpose" } th scope="col" { "Decision" } th scope="col" { "Statement" } th scope="col" { "When" } } }
            tbody."nhsuk-table__body" {
                @for p in Purpose::ALL {
                    @let c = consents.iter().find(|c| c.purpose == p);
                    tr."nhsuk-table__row" {
                        td."nhsuk-table__cell" { (p.label()) }
                        td."nhsuk-table__cell" { @match c { Some(c) => { (c.decision.label()) }, None => { "Not asked yet" } } }
                        td."nhsuk-table__cell" { @if let Some(c) = c { "version " (c.version) } }
                        td."nhsuk-table__cell" { @if let Some(c) = c { (datetime(c.decided_at)) } }
                    }
                }
            }
        } }))
        details."nhsuk-details" open[errors.iter().any(|e| CONSENT_FIELDS.contains(&e.field.as_str()))] {
            summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Record a consent decision" } }
            div."nhsuk-details__text" {
                form method="post" action=(format!("/people/{person_id}/consents")) novalidate {
                    (csrf(ctx))
                    (select("purpose", "What it is for", &Purpose::ALL.iter().map(|p| (p.code().to_string(), p.label().to_string())).collect::<Vec<_>>(), &form.purpose, errors))
                    (radios("decision", "Their decision", &[("given", "Agreed"), ("refused", "Declined"), ("withdrawn", "Withdrawn (takes effect now)")], &form.decision, errors))
                    (radios("method", "How it was given", METHODS, &form.method, errors))
                    (Input::new("witness", "Witness (for a verbal decision)", &form.witness).render(errors))
                    (button("Record decision"))
                }
            }
        }
    }
}

/// The consent form's fields (its section opens when one of them is in error).
const CONSENT_FIELDS: [&str; 4] = ["purpose", "decision", "method", "witness"];

/// The consent form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConsentForm {
    purpose: String,
    decision: String,
    method: String,
    witness: String,
}

/// What the person page shows besides the record: the forms' values when re-shown, the
/// problems with any of its three forms (one error summary at the top), and a saved notice.
#[derive(Default)]
struct View<'a> {
    form: Option<&'a PersonInput>,
    errors: Vec<FieldError>,
    consent_form: ConsentForm,
    saved: bool,
}

async fn render_person(
    state: &AppState,
    ctx: &PageCtx,
    actor: &crate::rbac::Actor,
    id: &str,
    v: View<'_>,
) -> Result<Response, AppError> {
    let (p, consents) = service::read(state, actor, id).await?;
    let views = super::viewers::record_views(state, actor, id).await?;
    let errors = &v.errors;
    let body = html! {
        (error_summary(errors))
        @if v.saved { div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "Saved." } } }
        span."nhsuk-caption-l" { "Person record" }
        h1 { (p.full_name()) }
        (person_summary(&p))
        (consent_section(ctx, &p.person_id, &consents, errors, &v.consent_form))
        h2."nhsuk-heading-m" id="account" { "Their own view of the plan" }
        @if p.user_id.is_some() {
            p."nhsuk-body" { "Linked to their participant account: they can see their plan and change their consent at “My plan”." }
        } @else {
            p."nhsuk-body" { "Link this record to the person's participant account so that they can see their plan and change their consent." }
        }
        form method="post" action=(format!("/people/{}/account", p.person_id)) novalidate {
            (csrf(ctx))
            (Input::new("account_email", "Email address of their participant account", "").kind("email").render(errors))
            (button(if p.user_id.is_some() { "Link a different account" } else { "Link account" }))
        }
        (views_section(&views))
        h2."nhsuk-heading-m" { "Change their details" }
        form method="post" action=(format!("/people/{}", p.person_id)) novalidate {
            (csrf(ctx))
            (person_fields(v.form.unwrap_or(&p.details), errors, true))
            (button("Save details"))
        }
    };
    Ok(page(
        ctx,
        Page::new(&p.full_name(), body)
            .errors(!errors.is_empty())
            .back("/caseload", "Back to caseload"),
    ))
}

/// "Who viewed this record": the audit trail's entries about the record, in words, with
/// the latest first (folded, so the page leads with the person).
fn views_section(views: &[super::viewers::RecordView]) -> Markup {
    html! {
        h2."nhsuk-heading-m" id="views" { "Who viewed this record" }
        details."nhsuk-details" {
            summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Show who opened or changed this record (" (views.len()) " most recent)" } }
            div."nhsuk-details__text" {
                p."nhsuk-body-s" { "From the audit trail, newest first. Looking at this list is recorded too." }
                ul."nhsuk-list nhsuk-list--border" {
                    @for v in views { li { (v.sentence) br; span."nhsuk-body-s" { (datetime(v.at)) } } }
                }
            }
        }
    }
}

/// GET /people/{id}
pub async fn person_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    render_person(&state, &ctx, &actor, &id, View { ..View::default() }).await
}

/// POST /people/{id}
pub async fn person_save(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<PersonInput>,
) -> Result<Response, AppError> {
    match service::update(&state, &actor, &id, &f).await {
        Ok(()) => {
            render_person(
                &state,
                &ctx,
                &actor,
                &id,
                View {
                    saved: true,
                    ..View::default()
                },
            )
            .await
        }
        Err(AppError::Invalid(e)) => {
            render_person(
                &state,
                &ctx,
                &actor,
                &id,
                View {
                    form: Some(&f),
                    errors: e,
                    ..View::default()
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// POST /people/{id}/consents
pub async fn consent_save(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<ConsentForm>,
) -> Result<Response, AppError> {
    let result = match consent_input(&f) {
        Ok(c) => service::record_consent_as_staff(&state, &actor, &id, &c).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/people/{id}#consent")).into_response()),
        Err(AppError::Invalid(e)) => {
            render_person(
                &state,
                &ctx,
                &actor,
                &id,
                View {
                    errors: e,
                    consent_form: f,
                    ..View::default()
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The decision recorded on the consent form, or the problems with its purpose and decision.
fn consent_input(f: &ConsentForm) -> Result<ConsentInput<'_>, Vec<FieldError>> {
    let mut e = Vec::new();
    let purpose = Purpose::from_code(&f.purpose);
    if purpose.is_none() {
        e.push(FieldError::new("purpose", "Choose what the consent is for"));
    }
    let decision = Decision::from_code(&f.decision);
    if decision.is_none() {
        e.push(FieldError::new("decision", "Choose their decision"));
    }
    match (purpose, decision) {
        (Some(purpose), Some(decision)) if e.is_empty() => Ok(ConsentInput {
            purpose,
            decision,
            method: &f.method,
            witness: &f.witness,
        }),
        _ => Err(e),
    }
}

/// GET /research/datasets
pub async fn datasets_page(ctx: PageCtx, _g: Granted<ExportEvaluationData>) -> Response {
    let body = html! {
        h1 { "Evaluation datasets" }
        p."nhsuk-lede-text" { "Pseudonymised data for evaluating the programme. Only people who currently agree to their information being used for evaluation are included: a withdrawal takes effect at once." }
        p."nhsuk-body" { "Research ids are keyed hashes: the same person has the same id in every dataset, and ids cannot be turned back into names. Every download is recorded in the audit trail." }
        p."nhsuk-body" { a href="/research/codebook" { "Codebook" } ": every variable, its type and allowed values, and the instruments' versions and scores (also as " a href="/research/codebook.csv" download { "CSV" } ")." }
        ul."nhsuk-list" {
            @for d in evaluation::DATASETS {
                li {
                    h2."nhsuk-heading-s" { (d.title) }
                    p."nhsuk-body" { (d.description) }
                    p { a href=(format!("/research/datasets/{}.csv", d.name)) download { "Download " (d.title.to_lowercase()) " (CSV)" } }
                }
            }
        }
    };
    page(&ctx, Page::new("Evaluation datasets", body))
}

/// GET /research/datasets/{name}.csv — CSV (cells a spreadsheet would run as formulas get a
/// leading `'`: `csvfile::safe_cell`).
pub async fn dataset_csv(
    State(state): State<AppState>,
    g: Granted<ExportEvaluationData>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let name = file.strip_suffix(".csv").ok_or(AppError::NotFound)?;
    let rows = evaluation::export(&state, &g, name).await?;
    let bytes = crate::csvfile::to_bytes(&rows).map_err(AppError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"ensemble-{name}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A pseudonymised evaluation dataset (`referrals`, `barriers` or `attendance`) as JSON
/// objects: consented people only; every call is audited.
#[utoipa::path(get, path = "/api/v1/evaluation/{name}", tag = "evaluation", security(("token" = [])),
    params(("name" = DatasetName, Path, description = "The dataset")),
    responses((status = 200, description = "The dataset's rows, consented people only", body = DatasetOut),
              crate::api::docs::TokenErrors,
              (status = 404, description = "No dataset of that name", body = crate::error::ErrorEnvelope)))]
pub async fn dataset_api(
    State(state): State<AppState>,
    g: Granted<ExportEvaluationData>,
    Path(name): Path<String>,
) -> Result<Json<DatasetOut>, ApiError> {
    let rows = evaluation::export(&state, &g, &name).await?;
    let header = rows.first().cloned().unwrap_or_default();
    let rows = rows
        .iter()
        .skip(1)
        .map(|r| header.iter().cloned().zip(r.iter().cloned()).collect())
        .collect();
    Ok(Json(DatasetOut {
        dataset: name,
        rows,
    }))
}

/// The evaluation datasets (`evaluation::DATASETS`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatasetName {
    /// One row per referral.
    Referrals,
    /// Barriers and actions.
    Barriers,
    /// One row per score of each completed measure.
    Wellbeing,
    /// Sessions attended or missed.
    Attendance,
}

/// An evaluation dataset as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatasetOut {
    /// The dataset's name.
    #[schema(value_type = DatasetName)]
    pub dataset: String,
    /// One object per row, by column name; every value is text (blank when unknown).
    pub rows: Vec<std::collections::BTreeMap<String, String>>,
}

/// The account-link form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    account_email: String,
}

/// POST /people/{id}/account
pub async fn account_link(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<AccountForm>,
) -> Result<Response, AppError> {
    match service::link_account(&state, &actor, &id, &f.account_email).await {
        Ok(()) => Ok(Redirect::to(&format!("/people/{id}#account")).into_response()),
        Err(AppError::Invalid(e)) => {
            render_person(
                &state,
                &ctx,
                &actor,
                &id,
                View {
                    errors: e,
                    ..View::default()
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}
