//! Pages: a participant's check-ins on their own phone; completing an instrument (all on one
//! page, or one question per page, with easy-read wording, saving to come back later);
//! staff entry with the person or from paper with double entry; the instrument library; and
//! the administrator's page for licensed wording.

mod checkins;
mod completion;
mod plans;
mod staff;

pub use checkins::*;
pub use completion::*;
pub use plans::*;
pub use staff::*;

fn field(item: &str) -> String {
    format!("q_{item}")
}
