//! The query parameters of the Open Referral UK lists: paging, the filters and the response
//! options. Every parameter that `/openreferral/openapi.json` documents is either applied or
//! refused with a 400 naming it; none is silently ignored. The limits here are the ones the
//! OpenAPI document states (`oruk_openapi.rs` reads them from these constants).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::AppError;
use crate::modules::places::Postcode;
use crate::state::AppState;

use super::model::Day;
use super::store::Filters;

/// The highest page number asked for (a page past the last one answers empty).
pub const MAX_PAGE: i64 = 1_000_000;
/// Items per page when `per_page` is not given.
pub const DEFAULT_PER_PAGE: i64 = 50;
/// The most items per page; a larger `per_page` is treated as this.
pub const MAX_PER_PAGE: i64 = 100;
/// The search radius in metres when `postcode` comes without `proximity`.
pub const DEFAULT_PROXIMITY: f64 = 5000.0;
/// The largest search radius in metres; a larger `proximity` is treated as this.
pub const MAX_PROXIMITY: f64 = 200_000.0;
/// Words of `search` used (the rest are ignored).
pub const MAX_WORDS: usize = 8;
/// Taxonomy term ids of `taxonomy_term_id` used.
pub const MAX_TERMS: usize = 20;

/// The query string as (name, value) pairs; a malformed query string is empty.
pub fn pairs(raw: Option<String>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(&q).ok())
        .unwrap_or_default()
}

/// The first non-empty value of a parameter, trimmed.
fn get(q: &[(String, String)], k: &str) -> Option<String> {
    q.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn bad(msg: String) -> AppError {
    AppError::BadRequest(msg)
}

/// `page` and `per_page`: whole numbers, page from 1 to [`MAX_PAGE`], per page at least 1
/// (above [`MAX_PER_PAGE`] it is treated as that). Anything else is a 400 naming it.
pub fn paging(q: &[(String, String)]) -> Result<(i64, i64), AppError> {
    let whole = |k: &str| -> Result<Option<i64>, AppError> {
        match get(q, k) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                bad(format!(
                    "{k}: \"{}\" is not a whole number; give one like 1",
                    shorten(&v)
                ))
            }),
        }
    };
    let page = whole("page")?.unwrap_or(1);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(bad(format!(
            "page: {page} is out of range; pages are numbered from 1 to {MAX_PAGE}"
        )));
    }
    let per = whole("per_page")?.unwrap_or(DEFAULT_PER_PAGE);
    if per < 1 {
        return Err(bad(format!(
            "per_page: {per} is too small; give at least 1 (at most {MAX_PER_PAGE} are returned)"
        )));
    }
    Ok((page, per.min(MAX_PER_PAGE)))
}

fn shorten(v: &str) -> String {
    v.chars().filter(|c| !c.is_control()).take(40).collect()
}

/// A true/false parameter (`true`, `false`, `1`, `0`); absent is false.
fn flag(q: &[(String, String)], k: &str) -> Result<bool, AppError> {
    match get(q, k).map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(bad(format!(
            "{k}: \"{}\" is not true or false",
            shorten(other)
        ))),
    }
}

/// How the items of a list are shaped: `full=true` gives each item as its own endpoint
/// does. `minimal=true` and any `format` other than `json` are refused.
pub fn full(q: &[(String, String)]) -> Result<bool, AppError> {
    if flag(q, "minimal")? {
        return Err(bad(
            "minimal: not supported; leave it out (or use full=true for complete records)".into(),
        ));
    }
    if let Some(f) = get(q, "format")
        && !f.eq_ignore_ascii_case("json")
    {
        return Err(bad(format!(
            "format: \"{}\" is not supported; only json is",
            shorten(&f)
        )));
    }
    flag(q, "full")
}

fn number(q: &[(String, String)], k: &str) -> Result<Option<f64>, AppError> {
    match get(q, k) {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            _ => Err(bad(format!(
                "{k}: \"{}\" is not an age in years; give a number like 18",
                shorten(&v)
            ))),
        },
    }
}

/// "HH:MM" or "HH:MM:SS" (an offset after it is allowed and ignored) to "HH:MM".
fn clock(q: &[(String, String)], k: &str) -> Result<Option<String>, AppError> {
    let Some(v) = get(q, k) else { return Ok(None) };
    let rest = v.get(5..).unwrap_or("");
    let seconds_ok = rest.is_empty()
        || (rest.len() >= 3
            && rest.starts_with(':')
            && rest[1..3].chars().all(|c| c.is_ascii_digit()));
    match v
        .get(..5)
        .filter(|_| seconds_ok)
        .and_then(super::model::parse_time)
    {
        Some(t) => Ok(Some(t)),
        None => Err(bad(format!(
            "{k}: \"{}\" is not a time; give one like 18:30 or 18:30:00",
            shorten(&v)
        ))),
    }
}

fn day(q: &[(String, String)]) -> Result<Option<Day>, AppError> {
    let Some(d) = get(q, "day") else {
        return Ok(None);
    };
    Day::from_code(&d.to_uppercase())
        .or_else(|| {
            Day::ALL
                .iter()
                .copied()
                .find(|x| x.label().eq_ignore_ascii_case(&d))
        })
        .map(Some)
        .ok_or_else(|| {
            bad(format!(
                "day: \"{}\" is not a day; give a code (MO, TU, WE, TH, FR, SA, SU) or a name such as Tuesday",
                shorten(&d)
            ))
        })
}

fn modified_after(q: &[(String, String)]) -> Result<Option<i64>, AppError> {
    let Some(v) = get(q, "modified_after") else {
        return Ok(None);
    };
    if let Ok(t) = OffsetDateTime::parse(&v, &Rfc3339) {
        return Ok(Some(t.unix_timestamp()));
    }
    match crate::dates::parse_date(&v) {
        Some(d) => Ok(Some(d.midnight().assume_utc().unix_timestamp())),
        None => Err(bad(format!(
            "modified_after: \"{}\" is not a date-time; give one like 2026-01-31T09:00:00Z or a date like 2026-01-31",
            shorten(&v)
        ))),
    }
}

/// Read the ORUK filters; a malformed value is a 400 naming the parameter.
pub async fn filters(state: &AppState, q: &[(String, String)]) -> Result<Filters, AppError> {
    let mut f = Filters::default();
    if let Some(s) = get(q, "search") {
        let clean: String = s.chars().filter(|c| !c.is_control()).collect();
        f.words = clean
            .split_whitespace()
            .take(MAX_WORDS)
            .map(str::to_string)
            .collect();
    }
    if let Some(t) = get(q, "taxonomy_term_id") {
        f.term_ids = t
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .take(MAX_TERMS)
            .map(str::to_string)
            .collect();
    }
    f.taxonomy_id = get(q, "taxonomy_id");
    f.organisation_id = get(q, "organization_id");
    f.modified_after = modified_after(q)?;
    f.minimum_age = number(q, "minimum_age")?;
    f.maximum_age = number(q, "maximum_age")?;
    f.day = day(q)?;
    f.start_time = clock(q, "start_time")?;
    f.end_time = clock(q, "end_time")?;
    if let Some(pc) = get(q, "postcode") {
        let postcode = Postcode::parse(&pc).map_err(|e| bad(format!("postcode: {e}")))?;
        let radius = match get(q, "proximity") {
            None => DEFAULT_PROXIMITY,
            Some(p) => match p.parse::<f64>() {
                Ok(m) if m > 0.0 && m.is_finite() => m.min(MAX_PROXIMITY),
                _ => {
                    return Err(bad("proximity: give a distance in metres, like 5000".into()));
                }
            },
        };
        let place = super::cache::of(state)
            .postcode(&state.db, &postcode)
            .await?
            .ok_or_else(|| {
                bad(format!(
                    "postcode: {postcode} is not in this directory's postcode data"
                ))
            })?;
        f.near = Some((place.point, radius));
    } else if get(q, "proximity").is_some() {
        return Err(bad(
            "proximity: needs a postcode to measure from; add postcode, like postcode=L1 8JQ"
                .into(),
        ));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<(String, String)> {
        pairs(Some(s.to_string()))
    }

    #[test]
    fn paging_refuses_what_is_not_a_page_and_caps_the_page_size() {
        assert_eq!(paging(&q("")).unwrap(), (1, DEFAULT_PER_PAGE));
        assert_eq!(
            paging(&q("page=3&per_page=1000")).unwrap(),
            (3, MAX_PER_PAGE)
        );
        for bad in [
            "page=0",
            "page=-1",
            "page=abc",
            "per_page=0",
            "per_page=-2",
            "page=1.5",
        ] {
            let e = paging(&q(bad)).unwrap_err().to_string();
            assert!(e.starts_with(bad.split('=').next().unwrap()), "{bad}: {e}");
        }
    }

    #[test]
    fn times_and_flags_are_read_strictly() {
        assert_eq!(
            clock(&q("start_time=18:30:00"), "start_time")
                .unwrap()
                .as_deref(),
            Some("18:30")
        );
        assert!(clock(&q("start_time=6pm"), "start_time").is_err());
        assert!(full(&q("full=yes")).is_err() && full(&q("minimal=true")).is_err());
        assert!(full(&q("full=true&format=json")).unwrap());
    }
}
