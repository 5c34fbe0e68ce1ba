//! Fixed lists of the practitioner toolkit.

use crate::code::code_enum;

code_enum!(
    /// Where a session stands (`practice_sessions.status`): planned until its register or log
    /// is first saved, then held; a planned session can be cancelled.
    SessionStatus {
        Planned => ("planned", "Planned"),
        Held => ("held", "Held"),
        Cancelled => ("cancelled", "Cancelled"),
    }
);

code_enum!(
    /// Where a safeguarding incident stands (`incidents.status`).
    IncidentStatus {
        Open => ("open", "Open"),
        Escalated => ("escalated", "Escalated"),
        Closed => ("closed", "Closed"),
    }
);

/// Musical activities a session plan can include.
pub const ACTIVITIES: &[(&str, &str)] = &[
    ("singing", "Singing"),
    ("songwriting", "Songwriting"),
    ("percussion", "Percussion"),
    ("improvisation", "Improvisation"),
    ("instrument_learning", "Learning an instrument"),
    ("listening", "Listening"),
    ("performance", "Performance"),
];

/// Register marks.
pub const REGISTER_STATUSES: &[(&str, &str)] = &[
    ("present", "Present"),
    ("late", "Late"),
    ("left_early", "Left early"),
    ("absent", "Absent"),
];

/// The label of a code in one of the lists.
pub fn label_of(list: &[(&'static str, &'static str)], code: &str) -> &'static str {
    list.iter()
        .find(|(k, _)| *k == code)
        .map_or("", |(_, l)| *l)
}
