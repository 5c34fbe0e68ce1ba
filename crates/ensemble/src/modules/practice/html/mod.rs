//! Pages of the practitioner toolkit, built for a phone or tablet in a community room or on
//! a ward: sessions, the plan, a one-tap register and the three-part log.

mod incidents;
mod log;
mod reflection;
mod register;
mod sessions;
mod summary;

pub use incidents::*;
pub use log::*;
pub use reflection::*;
pub use register::*;
pub use sessions::*;
pub use summary::*;

use crate::modules::practice::model::SessionStatus;
use maud::{Markup, html};

use super::service::Session;

fn when(s: &Session) -> String {
    // Shown in UK time, as typed.
    let f = |t: i64| {
        let t = crate::db::uk::local(t);
        (
            t.date().to_string(),
            format!("{:02}:{:02}", t.hour(), t.minute()),
        )
    };
    let (d, a) = f(s.starts_at);
    let (_, b) = f(s.ends_at);
    format!("{d}, {a} to {b}")
}

fn status_tag(status: SessionStatus) -> Markup {
    let class = match status {
        SessionStatus::Held => "nhsuk-tag nhsuk-tag--green",
        SessionStatus::Cancelled => "nhsuk-tag nhsuk-tag--grey",
        SessionStatus::Planned => "nhsuk-tag",
    };
    html! { strong class=(class) { (status.label()) } }
}

/// What a page was reached after (`?saved=…`, `?warn=…`): a confirmation banner and a
/// warning to show. Only known codes are shown; anything else is ignored.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Notice {
    saved: String,
    warn: String,
    count: String,
}

impl Notice {
    /// The NHS.UK success notification banner for what was saved, if anything.
    fn banner(&self) -> Markup {
        let n: usize = self.count.parse().unwrap_or(0);
        let text = match self.saved.as_str() {
            "log" => "Session log saved".to_string(),
            "observation" => "Observation saved".to_string(),
            "moment" => "Moment saved".to_string(),
            "register" => "Register saved".to_string(),
            "everyone" if n == 1 => "1 person marked present".to_string(),
            "everyone" => format!("{n} people marked present"),
            "session" => "Session planned".to_string(),
            "plan" => "Plan saved".to_string(),
            "planned" if n == 0 => {
                "No new sessions planned: every date in those weeks already has one".to_string()
            }
            "planned" if n == 1 => "1 session planned from the schedule".to_string(),
            "planned" => format!("{n} sessions planned from the schedule"),
            _ => return html! {},
        };
        success_banner(&text)
    }

    /// A warning callout when the session does not match the activity's schedule.
    fn warning(&self) -> Markup {
        if self.warn != "schedule" {
            return html! {};
        }
        html! {
            div."nhsuk-warning-callout" {
                h2."nhsuk-warning-callout__label" { span role="text" { span."nhsuk-u-visually-hidden" { "Important: " } "Not on the activity's schedule" } }
                p { "The date or times of this session do not match the activity's schedule. That is fine for a one-off; otherwise check them, or cancel the session." }
            }
        }
    }
}

/// The NHS.UK success notification banner (`role="alert"`, a "Success" title and the
/// heading saying what happened).
pub(super) fn success_banner(heading: &str) -> Markup {
    html! {
        div."nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="nhsuk-notification-banner-title" data-module="nhsuk-notification-banner" {
            div."nhsuk-notification-banner__header" {
                h2."nhsuk-notification-banner__title" id="nhsuk-notification-banner-title" { "Success" }
            }
            div."nhsuk-notification-banner__content" {
                p."nhsuk-notification-banner__heading" { (heading) }
            }
        }
    }
}
