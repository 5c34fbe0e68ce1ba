//! The fixed vocabularies, each a closed enum with a stored code and a human label: how to
//! join, cost, access features, days, times of day and frequency.

use crate::code::code_enum;

code_enum!(
    /// How someone joins an activity.
    HowToJoin {
        DropIn => ("drop_in", "Just turn up"),
        SelfRefer => ("self_refer", "Contact them to book a place"),
        Referral => ("referral", "Referral needed (from a link worker, GP or clinician)"),
    }
);

code_enum!(
    /// Who an activity is open to. Only public activities are found by search, drawn on
    /// the map and published in the Open Referral UK feed.
    Audience {
        Public => ("public", "Open to the public: listed in search and the open data feed"),
        Ward => ("ward", "Ward only: for people staying on a ward, not listed publicly"),
        Closed => ("closed", "Closed group: by referral only, not listed publicly"),
    }
);

code_enum!(
    /// What it costs.
    Cost {
        Free => ("free", "Free"),
        PayWhatYouCan => ("pay_what_you_can", "Pay what you can"),
        Fixed => ("fixed", "Fixed price"),
    }
);

code_enum!(
    /// Access features of an activity or its venue.
    AccessFeature {
        StepFree => ("step_free", "Step-free access"),
        AccessibleToilet => ("accessible_toilet", "Accessible toilet"),
        HearingLoop => ("hearing_loop", "Hearing loop"),
        Bsl => ("bsl", "British Sign Language"),
        QuietSpace => ("quiet_space", "Quiet space"),
        Childcare => ("childcare", "Childcare"),
        TravelHelp => ("travel_help", "Help with travel"),
    }
);

code_enum!(
    /// Days of the week (iCalendar codes).
    Day {
        Mo => ("MO", "Monday"),
        Tu => ("TU", "Tuesday"),
        We => ("WE", "Wednesday"),
        Th => ("TH", "Thursday"),
        Fr => ("FR", "Friday"),
        Sa => ("SA", "Saturday"),
        Su => ("SU", "Sunday"),
    }
);

code_enum!(
    /// Parts of the day.
    TimeOfDay {
        Morning => ("morning", "Morning (before 12pm)"),
        Afternoon => ("afternoon", "Afternoon (12pm to 5pm)"),
        Evening => ("evening", "Evening (after 5pm)"),
    }
);

code_enum!(
    /// How often a schedule repeats.
    Freq {
        Weekly => ("WEEKLY", "Every week"),
        Monthly => ("MONTHLY", "Every month"),
        Once => ("ONCE", "One-off"),
    }
);

impl TimeOfDay {
    /// Does a session starting at `opens_at` ("HH:MM") fall in this part of the day?
    pub fn contains(self, opens_at: &str) -> bool {
        let h: u32 = opens_at.get(..2).and_then(|h| h.parse().ok()).unwrap_or(0);
        match self {
            TimeOfDay::Morning => h < 12,
            TimeOfDay::Afternoon => (12..17).contains(&h),
            TimeOfDay::Evening => h >= 17,
        }
    }
}
