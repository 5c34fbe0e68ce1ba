//! Fixed lists of the practitioner toolkit.

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
