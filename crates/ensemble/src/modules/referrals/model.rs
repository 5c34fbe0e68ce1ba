//! The referral pathway's vocabulary: statuses and the moves allowed between them, the
//! fixed barrier list and what can be done about each, referral sources, and the SNOMED CT
//! codes used in the message back.

use serde::Serialize;

use crate::code::code_enum;

/// Where a referral is on the pathway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Arrived, nobody has spoken to the person yet.
    Received,
    /// The link worker has reached the person.
    Contacted,
    /// The "what matters to me" conversation has happened.
    Conversation,
    /// A personalised plan is agreed.
    PlanAgreed,
    /// Referred on to an activity; the provider is asked to accept.
    Connected,
    /// Taking part.
    Attending,
    /// Progress reviewed with the person.
    Reviewed,
    /// Finished.
    Closed,
    /// The person said no.
    Declined,
    /// Could not be reached.
    NotReached,
    /// Did not attend.
    DidNotAttend,
}

impl Status {
    /// Every status in pathway order.
    pub const ALL: [Status; 11] = [
        Status::Received,
        Status::Contacted,
        Status::Conversation,
        Status::PlanAgreed,
        Status::Connected,
        Status::Attending,
        Status::Reviewed,
        Status::Closed,
        Status::Declined,
        Status::NotReached,
        Status::DidNotAttend,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Contacted => "contacted",
            Status::Conversation => "conversation",
            Status::PlanAgreed => "plan_agreed",
            Status::Connected => "connected",
            Status::Attending => "attending",
            Status::Reviewed => "reviewed",
            Status::Closed => "closed",
            Status::Declined => "declined",
            Status::NotReached => "not_reached",
            Status::DidNotAttend => "did_not_attend",
        }
    }

    /// Parse.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Label.
    pub fn label(self) -> &'static str {
        match self {
            Status::Received => "Received",
            Status::Contacted => "Contacted",
            Status::Conversation => "What matters to me conversation",
            Status::PlanAgreed => "Plan agreed",
            Status::Connected => "Connected to an activity",
            Status::Attending => "Attending",
            Status::Reviewed => "Reviewed",
            Status::Closed => "Closed",
            Status::Declined => "Declined",
            Status::NotReached => "Not reached",
            Status::DidNotAttend => "Did not attend",
        }
    }

    /// NHS.UK tag colour.
    pub fn tag(self) -> &'static str {
        match self {
            Status::Received => "nhsuk-tag--blue",
            Status::Contacted | Status::Conversation | Status::PlanAgreed => {
                "nhsuk-tag--aqua-green"
            }
            Status::Connected | Status::Attending | Status::Reviewed => "nhsuk-tag--green",
            Status::Closed => "nhsuk-tag--grey",
            Status::Declined | Status::NotReached | Status::DidNotAttend => "nhsuk-tag--orange",
        }
    }

    /// Finished (closed or an exit)?
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Closed | Status::Declined | Status::NotReached | Status::DidNotAttend
        )
    }

    /// An exit that needs a reason?
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Status::Declined | Status::NotReached | Status::DidNotAttend | Status::Closed
        )
    }

    /// Moves a link worker may make by hand from here. `PlanAgreed` is reached only by
    /// agreeing the plan, `Connected` by choosing an activity, and `Attending` by marking
    /// attendance.
    pub fn next_by_hand(self) -> Vec<Status> {
        use Status::*;
        let forward: &[Status] = match self {
            Received => &[Contacted],
            Contacted => &[Conversation],
            // A plan is agreed only through the plan form, which checks it has goals,
            // next steps and a review date.
            Conversation => &[],
            PlanAgreed => &[],
            Connected => &[],
            Attending => &[Reviewed],
            Reviewed => &[Closed],
            Closed | Declined | NotReached | DidNotAttend => &[],
        };
        let mut v = forward.to_vec();
        if !self.is_final() {
            v.extend([Declined, NotReached]);
            if matches!(self, Connected | Attending) {
                v.push(DidNotAttend);
            }
            if self != Reviewed {
                v.push(Closed);
            }
        }
        v
    }
}

/// The fixed list of barriers to taking part.
pub const BARRIERS: &[(&str, &str)] = &[
    ("cost", "Cost"),
    ("travel", "Travel"),
    ("mobility", "Mobility or physical access"),
    ("timing", "Timing"),
    ("caring", "Caring responsibilities"),
    ("confidence", "Confidence or anxiety"),
    ("stigma", "Stigma"),
    ("language", "Language"),
    ("digital", "Digital access"),
    ("health", "Health"),
    ("other", "Other"),
];

code_enum!(
    /// When a barrier was raised: at referral or first contact, when the person declined,
    /// when they stopped coming, or at review.
    BarrierStage {
        Referral => ("referral", "At referral or first contact"),
        Decline => ("decline", "When they declined"),
        DropOut => ("drop_out", "When they stopped coming"),
        Review => ("review", "At review"),
    }
);

impl BarrierStage {
    /// The stage a barrier recorded now most likely belongs to, from where the case stands.
    pub fn for_status(s: Status) -> Self {
        match s {
            Status::Declined => Self::Decline,
            Status::DidNotAttend => Self::DropOut,
            Status::Reviewed => Self::Review,
            _ => Self::Referral,
        }
    }
}

/// What was done about a barrier.
pub const ACTIONS: &[(&str, &str)] = &[
    ("bursary", "Bursary or free place"),
    ("travel_help", "Travel help"),
    ("buddy", "Buddy or peer support"),
    ("accompanied", "Accompanied to the first session"),
    ("different_time", "Found a different time or place"),
    ("interpreter", "Interpreter or translated information"),
    ("digital_support", "Digital support or equipment"),
    ("adjustment", "Reasonable adjustment by the provider"),
    ("signposted", "Signposted to another service"),
    ("none_yet", "Nothing yet"),
    ("other", "Other"),
];

/// Where a referral came from.
pub const SOURCES: &[(&str, &str)] = &[
    ("clinician", "Clinician or GP"),
    ("link_worker", "Link worker"),
    ("community", "Community organisation"),
    ("self", "Self-referral"),
    ("fhir", "Electronic referral (FHIR)"),
];

/// Label of a code in a list.
pub fn label(list: &[(&str, &'static str)], code: &str) -> &'static str {
    list.iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("Unknown")
}

/// SNOMED CT: referral to social prescribing service.
pub const SNOMED_REFERRAL: (&str, &str) =
    ("871731000000106", "Referral to social prescribing service");
/// SNOMED CT: social prescribing declined.
pub const SNOMED_DECLINED: (&str, &str) = ("871711000000103", "Social prescribing declined");
/// SNOMED CT system URI.
pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";

code_enum!(
    /// The provider's answer to a referral to its activity (`referrals.provider_status`).
    ProviderStatus {
        Pending => ("pending", "Waiting for the provider"),
        Accepted => ("accepted", "Accepted by the provider"),
        Declined => ("declined", "Declined by the provider"),
        Returned => ("returned", "No answer: returned"),
    }
);

/// Why a referral reason was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonProblem {
    /// Nothing was given.
    Empty,
    /// Longer than [`ReferralReason::MAX_CHARS`]; holds the length given.
    TooLong(usize),
}

/// The reason for a referral: trimmed, not empty, and at most
/// [`ReferralReason::MAX_CHARS`] characters, on every route (staff form, self-referral,
/// FHIR). Over the limit it is refused, never cut short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralReason(String);

impl ReferralReason {
    /// The longest reason kept, in characters.
    pub const MAX_CHARS: usize = 4000;

    /// Check a reason as typed or sent.
    pub fn parse(s: &str) -> Result<Self, ReasonProblem> {
        let s = s.trim();
        let n = s.chars().count();
        if n == 0 {
            Err(ReasonProblem::Empty)
        } else if n > Self::MAX_CHARS {
            Err(ReasonProblem::TooLong(n))
        } else {
            Ok(Self(s.to_string()))
        }
    }

    /// The reason.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Add `days` working days (Monday–Friday) to a date.
pub fn add_working_days(mut d: time::Date, days: u32) -> time::Date {
    let mut left = days;
    while left > 0 {
        d = d.next_day().unwrap_or(d);
        if !matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_exits_need_reasons() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert!(Status::Declined.needs_reason());
        assert!(!Status::Contacted.needs_reason());
        assert_eq!(
            Status::Received.next_by_hand(),
            vec![
                Status::Contacted,
                Status::Declined,
                Status::NotReached,
                Status::Closed
            ]
        );
        assert!(Status::Closed.next_by_hand().is_empty());
        assert!(
            !Status::PlanAgreed
                .next_by_hand()
                .contains(&Status::Connected)
        );
        assert!(
            Status::Attending
                .next_by_hand()
                .contains(&Status::DidNotAttend)
        );
    }

    #[test]
    fn a_reason_is_trimmed_and_refused_when_empty_or_over_the_limit() {
        assert_eq!(
            ReferralReason::parse("  Low mood \n").map(|r| r.as_str().to_string()),
            Ok("Low mood".into())
        );
        assert_eq!(ReferralReason::parse(" \n "), Err(ReasonProblem::Empty));
        let max = "é".repeat(ReferralReason::MAX_CHARS);
        assert!(ReferralReason::parse(&max).is_ok());
        assert_eq!(
            ReferralReason::parse(&format!("{max}x")),
            Err(ReasonProblem::TooLong(ReferralReason::MAX_CHARS + 1))
        );
    }

    #[test]
    fn working_days_skip_weekends() {
        let fri = time::macros::date!(2026 - 11 - 27);
        assert_eq!(
            add_working_days(fri, 1),
            time::macros::date!(2026 - 11 - 30)
        );
        assert_eq!(
            add_working_days(fri, 5),
            time::macros::date!(2026 - 12 - 04)
        );
        let sat = time::macros::date!(2026 - 11 - 28);
        assert_eq!(
            add_working_days(sat, 1),
            time::macros::date!(2026 - 11 - 30)
        );
    }
}

/// A short reference a person can read out on the phone, derived from the referral's id
/// (the last eight hexadecimal digits, random in a UUID v7): `ENS-1A2B-3C4D`.
pub fn human_reference(referral_id: &str) -> String {
    let hex: String = referral_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_uppercase();
    let tail = &hex[hex.len().saturating_sub(8)..];
    let (a, b) = tail.split_at(tail.len() / 2);
    format!("ENS-{a}-{b}")
}

/// Whether text has the shape of a [`human_reference`] (for a reference carried in a URL).
pub fn is_human_reference(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 13
        && text.starts_with("ENS-")
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .filter(|(i, _)| !matches!(i, 0..=3 | 8))
            .all(|(_, c)| c.is_ascii_digit() || (b'A'..=b'F').contains(c))
}

#[cfg(test)]
mod reference_tests {
    use super::*;

    #[test]
    fn a_human_reference_is_short_and_recognised() {
        let r = human_reference("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
        assert_eq!(r, "ENS-2E3F-4A5B");
        assert!(is_human_reference(&r));
        for bad in [
            "",
            "ENS-2E3F4A5B",
            "ENS-2E3F-4A5G",
            "<b>-2E3F-4A5B",
            "ENS-2e3f-4a5b",
        ] {
            assert!(!is_human_reference(bad), "{bad}");
        }
    }
}
