//! The programme module's vocabularies and records, parsed at the edge.

use crate::code::code_enum;
use crate::error::FieldError;

code_enum!(
    /// A member's stated role in a programme.
    MemberRole {
        Responsible => ("responsible", "Responsible"),
        Consulted => ("consulted", "Consulted"),
        Informed => ("informed", "Kept informed"),
    }
);

code_enum!(
    /// In what capacity someone is a member.
    Capacity {
        Staff => ("staff", "Staff"),
        Participant => ("participant", "Participant"),
        CoResearcher => ("co_researcher", "Co-researcher"),
    }
);

code_enum!(
    /// What kind of voice someone shares.
    VoiceKind {
        Feedback => ("feedback", "Feedback"),
        Story => ("story", "A story"),
        Moment => ("moment", "A moment that mattered"),
    }
);

code_enum!(
    /// Who may read a voice.
    Visibility {
        Team => ("team", "The programme team only"),
        Members => ("members", "Every member of the programme"),
        Public => ("public", "Anyone, after a moderator checks it for details that could identify someone"),
    }
);

code_enum!(
    /// Where a public voice is in moderation (`not_needed` for the other visibilities).
    Moderation {
        NotNeeded => ("not_needed", "Not needed"),
        Waiting => ("waiting", "Waiting for a moderator"),
        Approved => ("approved", "Checked and public"),
        Declined => ("declined", "Not made public"),
    }
);

code_enum!(
    /// Where an action stands.
    ActionStatus {
        Planned => ("planned", "Planned"),
        InProgress => ("in_progress", "In progress"),
        Done => ("done", "Done"),
        NotDoing => ("not_doing", "Not doing, with reasons"),
    }
);

/// The longest name of a programme or title of an action.
pub const MAX_TITLE: usize = 150;
/// The longest summary, story, update or reply.
pub const MAX_TEXT: usize = 4_000;

/// A required text of at most `max` characters, trimmed; a field error naming the field
/// otherwise.
pub fn text(
    value: &str,
    field: &str,
    what: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let v = value.trim().to_string();
    if v.is_empty() {
        errors.push(FieldError::new(field, format!("Enter {what}")));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!(
                "{} must be {max} characters or fewer (it has {})",
                capitalise(what),
                v.chars().count()
            ),
        ));
    }
    v
}

/// A choice from a closed vocabulary, or a field error.
pub fn choice<T: Copy>(
    value: &str,
    parse: fn(&str) -> Option<T>,
    field: &str,
    message: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let v = parse(value);
    if v.is_none() {
        errors.push(FieldError::new(field, message));
    }
    v
}

fn capitalise(s: &str) -> String {
    let s = s
        .strip_prefix("a ")
        .or_else(|| s.strip_prefix("an "))
        .unwrap_or(s);
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_required_and_limited() {
        let mut e = Vec::new();
        assert_eq!(text("  hi ", "body", "your story", 10, &mut e), "hi");
        assert!(e.is_empty());
        text("   ", "body", "your story", 10, &mut e);
        assert_eq!(e[0].message, "Enter your story");
        text(&"x".repeat(11), "body", "a title", 10, &mut e);
        assert_eq!(
            e[1].message,
            "Title must be 10 characters or fewer (it has 11)"
        );
    }
}
