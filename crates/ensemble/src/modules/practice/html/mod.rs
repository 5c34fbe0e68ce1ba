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

fn status_tag(status: &str) -> Markup {
    let (class, text) = match status {
        "held" => ("nhsuk-tag nhsuk-tag--green", "Held"),
        "cancelled" => ("nhsuk-tag nhsuk-tag--grey", "Cancelled"),
        _ => ("nhsuk-tag", "Planned"),
    };
    html! { strong class=(class) { (text) } }
}
