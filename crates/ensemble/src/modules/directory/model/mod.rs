//! Directory types: activities with their locations, schedules and types, and the fixed
//! vocabularies (how to join, cost, access features, days) parsed once at the edge.

mod activity;
mod input;
mod vocab;

pub use activity::*;
pub use input::*;
pub use vocab::*;

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ActivityInput {
        ActivityInput {
            organisation_id: "org".into(),
            name: "Tuesday Singers".into(),
            description: "We sing.".into(),
            how_to_join: "drop_in".into(),
            cost: "free".into(),
            types: vec!["choir".into()],
            location_name: "Hall".into(),
            address_1: "1 Street".into(),
            city: "Liverpool".into(),
            postcode: "l1 8jq".into(),
            freq: "WEEKLY".into(),
            byday: "tu".into(),
            opens_at: "10:30".into(),
            closes_at: "12:00".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_activity_validates_and_normalises() {
        let v = good().validate(&["choir".into()]).unwrap();
        assert_eq!(v.location.unwrap().postcode.as_str(), "L1 8JQ");
        assert_eq!(v.schedule.unwrap().byday, "TU");
    }

    #[test]
    fn every_problem_names_its_field() {
        let mut i = good();
        i.name = " ".into();
        i.cost = "fixed".into();
        i.postcode = "nope".into();
        i.closes_at = "09:00".into();
        i.types = vec!["karaoke".into()];
        i.minimum_age = "30".into();
        i.maximum_age = "20".into();
        let errs = i.validate(&["choir".into()]).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "name",
            "cost_amount",
            "postcode",
            "closes_at",
            "types",
            "maximum_age",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn schedules_summarise_in_plain_english() {
        let s = Schedule {
            id: "x".into(),
            freq: Freq::Monthly,
            byday: "1SA".into(),
            dtstart: None,
            valid_from: None,
            valid_to: None,
            opens_at: "10:00".into(),
            closes_at: "12:00".into(),
            description: String::new(),
        };
        assert_eq!(
            s.summary(),
            "The first Saturday of every month, 10:00 to 12:00"
        );
        assert!(TimeOfDay::Evening.contains("18:30") && !TimeOfDay::Evening.contains("10:00"));
    }
}
