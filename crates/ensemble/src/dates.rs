//! Dates typed by people, read in one place.
//!
//! Every form and filter that takes a calendar date (a planned session's day, a journal or
//! supervision date, a one-off activity date, the audit filter, a referral's review and
//! task dates) reads it with [`parse_date`], so they all accept the same input. Each caller
//! keeps its own error message and return shape. Pure (no database, no web layer), so
//! models can use it; a platform unit beside `db`, not part of `db::uk`, because a
//! calendar date typed in a form has no time zone.
//!
//! Only the ISO form is read, as every copy this replaced read it: the forms' hints and
//! error messages ask for year-month-day ("like 2026-11-26"), and the directory stores the
//! typed text as it is. UK day/month/year (`5/3/2026`) is not accepted.

use time::Date;

/// A calendar date typed as `YYYY-MM-DD` (the ISO 8601 form, which is also what an HTML
/// date input sends), with surrounding whitespace ignored.
///
/// The year has four digits (a leading `+` or `-` sign is allowed, as the `time` crate
/// reads it), the month and day two each, and the date must exist (`2026-02-29` does
/// not, `2028-02-29` does). Anything else, including an empty string, is `None`.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn iso_dates_are_read() {
        assert_eq!(parse_date("2026-03-05"), Some(date!(2026 - 03 - 05)));
        assert_eq!(parse_date("2026-12-31"), Some(date!(2026 - 12 - 31)));
        assert_eq!(parse_date("1900-01-01"), Some(date!(1900 - 01 - 01)));
        assert_eq!(parse_date("0226-03-05"), Some(date!(0226 - 03 - 05)));
        // A leading sign on the year, as `time` reads it (accepted before this parser).
        assert_eq!(parse_date("+2026-03-05"), Some(date!(2026 - 03 - 05)));
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert_eq!(parse_date(" 2026-03-05 "), Some(date!(2026 - 03 - 05)));
        assert_eq!(parse_date("\t2026-03-05\r\n"), Some(date!(2026 - 03 - 05)));
        assert_eq!(parse_date("2026 -03-05"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("   "), None);
    }

    #[test]
    fn days_and_months_that_do_not_exist_are_refused() {
        for s in [
            "2026-00-10",
            "2026-13-01",
            "2026-01-00",
            "2026-01-32",
            "2026-04-31",
            "2026-06-31",
            "2026-09-31",
            "2026-11-31",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
        assert_eq!(parse_date("2026-04-30"), Some(date!(2026 - 04 - 30)));
    }

    #[test]
    fn the_29th_of_february_only_in_leap_years() {
        assert_eq!(parse_date("2028-02-29"), Some(date!(2028 - 02 - 29)));
        assert_eq!(parse_date("2000-02-29"), Some(date!(2000 - 02 - 29)));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("1900-02-29"), None);
        assert_eq!(parse_date("2100-02-29"), None);
        assert_eq!(parse_date("2026-02-30"), None);
    }

    #[test]
    fn other_shapes_are_refused() {
        for s in [
            "2026-3-5",
            "2026-03-5",
            "26-03-05",
            "02026-03-05",
            "2026/03/05",
            "5/3/2026",
            "05/03/2026",
            "5 March 2026",
            "2026-03-05T10:00",
            "2026-03-05x",
            "20260305",
            "2026\u{2010}03\u{2010}05",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }
}
