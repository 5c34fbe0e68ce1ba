//! Pages for referrers, link workers and providers. Handlers are thin: they read the form,
//! call the service, and re-render with the problems named when input is refused.
//!
//! One file per page family: `referrer.rs` (the staff referral form and the referrer's
//! list), `caseload.rs` (the caseload, the case page and its actions), `plan.rs` (the "what
//! matters to me" plan), `message_back.rs` (the printable message back and sending it) and
//! `provider.rs` (the provider's inbox and page). Everything public is re-exported here, so
//! callers name `referrals::html::…`.

use crate::modules::referrals::model::ProviderStatus;
use maud::{Markup, html};
use serde::Deserialize;

use super::model::Status;
use super::service::CaseRow;
use crate::db::date_of as date;
use crate::web::forms::table_wrap;

mod caseload;
mod matching;
mod message_back;
mod plan;
mod provider;
mod referrer;

pub use caseload::*;
pub use matching::*;
pub use message_back::*;
pub use plan::*;
pub use provider::*;
pub use referrer::*;

fn tag(s: Status) -> Markup {
    html! { strong class=(format!("nhsuk-tag {}", s.tag())) { (s.label()) } }
}

fn provider_label(s: Option<ProviderStatus>) -> &'static str {
    s.map(ProviderStatus::label).unwrap_or_default()
}

fn rows_table(
    rows: &[CaseRow],
    link: impl Fn(&CaseRow) -> String,
    caption: &str,
    with_tasks: bool,
) -> Markup {
    rows_table_with(rows, link, caption, with_tasks, true)
}

/// [`rows_table`], with its caption only for screen readers when `show_caption` is false
/// (under a heading that says the same).
fn rows_table_with(
    rows: &[CaseRow],
    link: impl Fn(&CaseRow) -> String,
    caption: &str,
    with_tasks: bool,
    show_caption: bool,
) -> Markup {
    html! {
        div."ensemble-table-scroll" {
            (table_wrap(caption, html! { table."nhsuk-table" {
                caption."nhsuk-table__caption"."nhsuk-u-visually-hidden"[!show_caption] { (caption) }
                thead."nhsuk-table__head" { tr {
                    th scope="col" { "Person" } th scope="col" { "Status" } th scope="col" { "Activity" }
                    @if with_tasks { th scope="col" { "Link worker" } th scope="col" { "Next task due" } }
                    th scope="col" { "Received" }
                } }
                tbody."nhsuk-table__body" {
                    @for r in rows {
                        tr."nhsuk-table__row" {
                            td."nhsuk-table__cell" { a href=(link(r)) { (r.name) } }
                            td."nhsuk-table__cell" { (tag(r.status)) @if let Some(p) = r.provider_status.as_deref().and_then(ProviderStatus::from_code) { br; span."nhsuk-body-s" { (provider_label(Some(p))) } } }
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
            } }))
        }
    }
}

/// Attendance form (the case page and the provider page).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AttendanceForm {
    session_date: String,
    attendance: String,
}
