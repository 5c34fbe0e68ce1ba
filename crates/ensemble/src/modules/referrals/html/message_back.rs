//! The message back to the referrer and GP: the printable page and sending it.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::db::date_of as date;
use crate::error::AppError;
use crate::modules::referrals::service::{self, MessageBack};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{button, csrf, summary_row, table_wrap};
use crate::web::{Page, PageCtx, page};

/// POST /caseload/{id}/message-back
pub async fn message_back_send(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    service::send_message_back(&state, &actor, &id).await?;
    Ok(Redirect::to(&format!("/referrals/{id}/message-back?sent=1")).into_response())
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
    let care_team = service::access(&actor, &mb.referral).contains(&service::Access::CareTeam);
    Ok(message_back_view(&ctx, &id, &mb, care_team, q.sent == "1"))
}

/// The printable message back; the care team can send it (again).
fn message_back_view(
    ctx: &PageCtx,
    id: &str,
    mb: &MessageBack,
    care_team: bool,
    sent: bool,
) -> Response {
    let r = &mb.referral;
    let body = html! {
        @if sent { div."nhsuk-inset-text ensemble-no-print" { span."nhsuk-u-visually-hidden" { "Information: " } p { "The message back has been sent." } } }
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
        (table_wrap("Codes for the GP record", html! { table."nhsuk-table" {
            caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Codes for the GP record" }
            thead."nhsuk-table__head" { tr { th scope="col" { "Code" } th scope="col" { "Term" } } }
            tbody."nhsuk-table__body" { @for (c, d) in &mb.codes { tr."nhsuk-table__row" { td."nhsuk-table__cell" { (c) } td."nhsuk-table__cell" { (d) } } } }
        } }))
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
                (csrf(ctx))
                (button(if r.message_back_sent_at.is_some() { "Send again" } else { "Send the message back" }))
            }
        }
    };
    let back = if care_team {
        format!("/caseload/{id}")
    } else {
        "/referrals/sent".into()
    };
    page(ctx, Page::new("Message back", body).back(&back, "Back"))
}
