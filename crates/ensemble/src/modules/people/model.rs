//! Person-record types with their invariants: the NHS number check digit, the NHS Data
//! Dictionary ethnic category and gender identity codes, consent purposes and methods.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A 10-digit NHS number whose modulus 11 check digit is right. Spaces and dashes are
/// accepted on input ("943 476 5919") and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Parse and check.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let digits: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("Enter an NHS number of 10 digits, like 943 476 5919");
        }
        let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
        let sum: u32 = d[..9]
            .iter()
            .enumerate()
            .map(|(i, v)| v * (10 - i as u32))
            .sum();
        let check = 11 - (sum % 11);
        let check = if check == 11 { 0 } else { check };
        if check == 10 || check != d[9] {
            return Err("This is not a valid NHS number: check the digits and try again");
        }
        Ok(Self(digits))
    }

    /// The 10 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown as 3 3 4 digits.
    pub fn display(&self) -> String {
        format!("{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

/// NHS Data Dictionary ethnic category codes (2001 census groups).
pub const ETHNICITIES: &[(&str, &str)] = &[
    ("A", "White: British"),
    ("B", "White: Irish"),
    ("C", "White: any other White background"),
    ("D", "Mixed: White and Black Caribbean"),
    ("E", "Mixed: White and Black African"),
    ("F", "Mixed: White and Asian"),
    ("G", "Mixed: any other mixed background"),
    ("H", "Asian or Asian British: Indian"),
    ("J", "Asian or Asian British: Pakistani"),
    ("K", "Asian or Asian British: Bangladeshi"),
    ("L", "Asian or Asian British: any other Asian background"),
    ("M", "Black or Black British: Caribbean"),
    ("N", "Black or Black British: African"),
    ("P", "Black or Black British: any other Black background"),
    ("R", "Other ethnic groups: Chinese"),
    ("S", "Other ethnic groups: any other ethnic group"),
    ("Z", "Not stated"),
];

/// NHS Data Dictionary gender identity codes.
pub const GENDERS: &[(&str, &str)] = &[
    ("1", "Male (including trans man)"),
    ("2", "Female (including trans woman)"),
    ("3", "Non-binary"),
    ("4", "Other (not listed)"),
    ("X", "Not known"),
    ("Z", "Not stated (person asked but declined to say)"),
];

/// Label of a code in one of the lists above.
pub fn label_of(list: &[(&str, &'static str)], code: &str) -> &'static str {
    list.iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("")
}

/// What a consent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Being contacted about the referral and activities.
    Contact,
    /// Use of data (pseudonymised) to evaluate the programme.
    Evaluation,
    /// Being approached about research.
    ResearchContact,
    /// Sharing a summary with the GP and referrer.
    ShareGp,
    /// Sharing stories, without a name.
    ShareStories,
}

impl Purpose {
    /// All purposes, in display order.
    pub const ALL: [Purpose; 5] = [
        Purpose::Contact,
        Purpose::Evaluation,
        Purpose::ResearchContact,
        Purpose::ShareGp,
        Purpose::ShareStories,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Purpose::Contact => "contact",
            Purpose::Evaluation => "evaluation",
            Purpose::ResearchContact => "research_contact",
            Purpose::ShareGp => "share_gp",
            Purpose::ShareStories => "share_stories",
        }
    }

    /// Parse a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// Short label.
    pub fn label(self) -> &'static str {
        match self {
            Purpose::Contact => "Being contacted",
            Purpose::Evaluation => "Information used for evaluation",
            Purpose::ResearchContact => "Being asked about research",
            Purpose::ShareGp => "Summary shared with GP and referrer",
            Purpose::ShareStories => "Sharing their story",
        }
    }

    /// The consent in the person's own words, as "My plan" shows it.
    pub fn first_person(self) -> &'static str {
        match self {
            Purpose::Contact => {
                "I agree that the service can contact me about my referral and my activities."
            }
            Purpose::Evaluation => {
                "I agree that my information, without my name, can be used to find out how well the programme works."
            }
            Purpose::ResearchContact => {
                "I agree that someone can ask me whether I would like to take part in research."
            }
            Purpose::ShareGp => {
                "I agree that a summary of how I am getting on can be shared with my GP and the person who referred me."
            }
            Purpose::ShareStories => {
                "I agree that stories about me from my sessions can be shared, without my name."
            }
        }
    }

    /// What happens when the person withdraws this consent, in plain words.
    pub fn if_withdrawn(self) -> &'static str {
        match self {
            Purpose::Contact => {
                "We will stop contacting you about your referral and activities. Your link worker may not be able to arrange activities for you until you agree again."
            }
            Purpose::Evaluation => {
                "Your information is taken out of the data used to find out how well the programme works, straight away. Totals already published cannot be changed."
            }
            Purpose::ResearchContact => "Nobody will ask you about taking part in research.",
            Purpose::ShareGp => {
                "Summaries of how you are getting on will no longer be sent to your GP or the person who referred you. Anything already sent stays with them."
            }
            Purpose::ShareStories => {
                "Moments from your sessions are hidden straight away and no new ones will be linked to you."
            }
        }
    }
}

/// A consent decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Agreed.
    Given,
    /// Said no.
    Refused,
    /// Agreed earlier, then withdrew.
    Withdrawn,
}

impl Decision {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Decision::Given => "given",
            Decision::Refused => "refused",
            Decision::Withdrawn => "withdrawn",
        }
    }
    /// Parse.
    pub fn from_code(code: &str) -> Option<Self> {
        [Decision::Given, Decision::Refused, Decision::Withdrawn]
            .into_iter()
            .find(|d| d.code() == code)
    }
    /// Label.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Given => "Agreed",
            Decision::Refused => "Declined",
            Decision::Withdrawn => "Withdrawn",
        }
    }
}

/// How a consent decision was taken.
pub const METHODS: &[(&str, &str)] = &[
    ("online", "Online, by the person themselves"),
    ("verbal", "Verbally, with a witness"),
    ("paper", "On a signed paper form"),
];

/// Parse a method; verbal needs a witness.
pub fn check_method(method: &str, witness: &str) -> Result<(), FieldError> {
    if !METHODS.iter().any(|(m, _)| *m == method) {
        return Err(FieldError::new(
            "method",
            "Choose how the decision was given: online, verbally with a witness, or on paper",
        ));
    }
    if method == "verbal" && witness.trim().is_empty() {
        return Err(FieldError::new(
            "witness",
            "Enter the name of the witness to a verbal decision",
        ));
    }
    Ok(())
}

/// A date of birth `YYYY-MM-DD` in the past and after 1900.
pub fn parse_date_of_birth(input: &str, today: time::Date) -> Result<time::Date, &'static str> {
    let d = crate::dates::parse_date(input)
        .ok_or("Enter the date of birth as year-month-day, like 1984-03-27")?;
    if d > today {
        return Err("Date of birth must be in the past");
    }
    if d.year() < 1900 {
        return Err("Date of birth must be after 1900");
    }
    Ok(d)
}

/// Age band used in evaluation data (never the date of birth).
pub fn age_band(dob: &str, today: time::Date) -> &'static str {
    let Ok(d) = parse_date_of_birth(dob, today) else {
        return "unknown";
    };
    let mut age = today.year() - d.year();
    if (today.month() as u8, today.day()) < (d.month() as u8, d.day()) {
        age -= 1;
    }
    match age {
        ..18 => "under 18",
        18..=24 => "18-24",
        25..=34 => "25-34",
        35..=44 => "35-44",
        45..=54 => "45-54",
        55..=64 => "55-64",
        65..=74 => "65-74",
        _ => "75+",
    }
}

/// How a person prefers to be contacted (`person_identities.contact_method`).
pub const CONTACT_METHODS: &[(&str, &str)] = &[
    ("email", "Email"),
    ("text", "Text message"),
    ("phone", "Phone call"),
    ("letter", "Letter"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_are_checked_with_modulus_11() {
        assert_eq!(
            NhsNumber::parse("943 476 5919").unwrap().as_str(),
            "9434765919"
        );
        assert_eq!(
            NhsNumber::parse("9434765919").unwrap().display(),
            "943 476 5919"
        );
        assert!(NhsNumber::parse("9434765918").is_err());
        assert!(NhsNumber::parse("943476591").is_err());
        assert!(NhsNumber::parse("94347659190").is_err());
        assert!(NhsNumber::parse("94347A5919").is_err());
        // Check digit of 10 is never valid.
        assert!(NhsNumber::parse("0000000060").is_err());
        // The BaRS example patient's number fails its check digit.
        assert!(NhsNumber::parse("3478526985").is_err());
    }

    #[test]
    fn dates_of_birth_and_age_bands() {
        let today = time::macros::date!(2026 - 11 - 26);
        assert!(parse_date_of_birth("2030-01-01", today).is_err());
        assert!(parse_date_of_birth("27/03/1984", today).is_err());
        assert_eq!(age_band("1984-03-27", today), "35-44");
        assert_eq!(age_band("2008-11-27", today), "under 18");
        assert_eq!(age_band("2008-11-26", today), "18-24");
        assert_eq!(age_band("", today), "unknown");
    }

    #[test]
    fn purposes_round_trip_and_verbal_needs_a_witness() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::from_code(p.code()), Some(p));
        }
        assert!(check_method("verbal", "").is_err());
        assert!(check_method("verbal", "Sam").is_ok());
        assert!(check_method("telepathy", "").is_err());
    }
}
