//! The public search form: parsing the query string into filters with messages that name
//! the field, and running the search with pagination.

use crate::error::FieldError;
use crate::modules::places::{Point, Postcode};
use crate::state::AppState;

use super::model::{AccessFeature, Activity, Cost, Day, TimeOfDay};
use super::store::{self, Filters};

/// Results per page.
pub const PER_PAGE: i64 = 20;

/// The search form's values, as typed.
#[derive(Debug, Clone, Default)]
pub struct SearchForm {
    /// Words.
    pub q: String,
    /// Postcode.
    pub postcode: String,
    /// Distance number.
    pub distance: String,
    /// `miles` or `km`.
    pub unit: String,
    /// Day code.
    pub day: String,
    /// Time of day code.
    pub time: String,
    /// Cost codes (and `bursary`).
    pub cost: Vec<String>,
    /// Access feature codes.
    pub access: Vec<String>,
    /// Activity type codes.
    pub types: Vec<String>,
    /// `any`, `online` or `in_person`.
    pub online: String,
    /// `list`, `map` or `print`.
    pub view: String,
    /// Page number.
    pub page: i64,
}

impl SearchForm {
    /// Read from query-string pairs.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let many = |k: &str| {
            pairs
                .iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
                .collect()
        };
        Self {
            q: one("q"),
            postcode: one("postcode"),
            distance: one("distance"),
            unit: one("unit"),
            day: one("day"),
            time: one("time"),
            cost: many("cost"),
            access: many("access"),
            types: many("type"),
            online: one("online"),
            view: one("view"),
            page: one("page").trim().parse().unwrap_or(1).clamp(1, 10_000),
        }
    }

    /// The query string for this search with another page or view.
    pub fn query_string(&self, page: i64, view: &str) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("postcode", &self.postcode),
            ("distance", &self.distance),
            ("unit", &self.unit),
            ("day", &self.day),
            ("time", &self.time),
            ("online", &self.online),
        ] {
            if !v.is_empty() {
                pairs.push((k, v.clone()));
            }
        }
        for c in &self.cost {
            pairs.push(("cost", c.clone()));
        }
        for a in &self.access {
            pairs.push(("access", a.clone()));
        }
        for t in &self.types {
            pairs.push(("type", t.clone()));
        }
        if view != "list" {
            pairs.push(("view", view.to_string()));
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    /// Has the person searched for anything yet?
    pub fn is_blank(&self) -> bool {
        self.q.trim().is_empty()
            && self.postcode.trim().is_empty()
            && self.day.is_empty()
            && self.time.is_empty()
            && self.cost.is_empty()
            && self.access.is_empty()
            && self.types.is_empty()
            && (self.online.is_empty() || self.online == "any")
    }
}

/// One thing a search asks for, in words, and the same search without it.
#[derive(Debug, Clone)]
pub struct Applied {
    /// What it is, like "Tuesday" or "within 5 miles of L1 8JQ".
    pub label: String,
    /// The search without it (back to the first page).
    pub without: SearchForm,
}

impl SearchForm {
    /// What this search asks for, each with the search that drops it (the summary shown
    /// above the results, and the ways to widen a search that finds nothing). `types` are
    /// the activity types' (code, name).
    pub fn applied(&self, types: &[(String, String)]) -> Vec<Applied> {
        let mut out = Vec::new();
        let base = SearchForm {
            page: 1,
            ..self.clone()
        };
        let mut push = |label: String, change: &dyn Fn(&mut SearchForm)| {
            let mut without = base.clone();
            change(&mut without);
            out.push(Applied { label, without });
        };
        if !self.q.trim().is_empty() {
            push(format!("words: \u{201c}{}\u{201d}", self.q.trim()), &|f| {
                f.q.clear()
            });
        }
        if !self.postcode.trim().is_empty() {
            let d = if self.distance.trim().is_empty() {
                "5"
            } else {
                self.distance.trim()
            };
            let unit = match (self.unit.as_str(), d) {
                ("km", _) => "km",
                (_, "1") => "mile",
                _ => "miles",
            };
            push(
                format!(
                    "within {d} {unit} of {}",
                    self.postcode.trim().to_uppercase()
                ),
                &|f| {
                    f.postcode.clear();
                    f.distance.clear();
                },
            );
        }
        if let Some(d) = Day::from_code(&self.day) {
            push(format!("on {}s", d.label()), &|f| f.day.clear());
        }
        if let Some(t) = TimeOfDay::from_code(&self.time) {
            push(t.label().to_lowercase(), &|f| f.time.clear());
        }
        for c in &self.cost {
            let label = if c == "bursary" {
                "bursary available".to_string()
            } else {
                Cost::from_code(c).map_or_else(|| c.clone(), |c| c.label().to_lowercase())
            };
            push(label, &|f| f.cost.retain(|x| x != c));
        }
        for a in &self.access {
            let label =
                AccessFeature::from_code(a).map_or_else(|| a.clone(), |a| a.label().to_lowercase());
            push(label, &|f| f.access.retain(|x| x != a));
        }
        for t in &self.types {
            let label = types
                .iter()
                .find(|(c, _)| c == t)
                .map_or_else(|| t.clone(), |(_, n)| n.to_lowercase());
            push(label, &|f| f.types.retain(|x| x != t));
        }
        match self.online.as_str() {
            "online" => push("online only".into(), &|f| f.online.clear()),
            "in_person" => push("in person only".into(), &|f| f.online.clear()),
            _ => {}
        }
        out
    }

    /// Wider distances to offer when a postcode search finds nothing: (label, search).
    pub fn wider(&self) -> Vec<(String, SearchForm)> {
        if self.postcode.trim().is_empty() {
            return Vec::new();
        }
        let now: f64 = self.distance.trim().parse().unwrap_or(5.0);
        let unit = if self.unit == "km" { "km" } else { "miles" };
        [10.0, 20.0, 50.0]
            .into_iter()
            .filter(|d| *d > now)
            .take(2)
            .map(|d| {
                let f = SearchForm {
                    distance: format!("{d}"),
                    page: 1,
                    ..self.clone()
                };
                (
                    format!(
                        "Search within {d} {unit} of {}",
                        self.postcode.trim().to_uppercase()
                    ),
                    f,
                )
            })
            .collect()
    }
}

/// A finished search.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Activities on this page, with the distance to each when a postcode was given.
    pub results: Vec<(std::sync::Arc<Activity>, Option<f64>)>,
    /// Total matches.
    pub total: i64,
    /// Where the search was centred.
    pub centre: Option<(Postcode, Point, f64)>,
    /// Problems with the form.
    pub errors: Vec<FieldError>,
    /// Unit shown for distances.
    pub miles: bool,
}

const METRES_PER_MILE: f64 = 1609.344;

/// What a search form asks for: the filters, the centre and radius when a postcode was
/// given, and whether distances are in miles; or what is wrong with the form.
pub type Parsed = Result<(Filters, Option<(Postcode, Point, f64)>, bool), Vec<FieldError>>;

/// Turn the form into filters, or name what is wrong. A postcode that could not be looked
/// up because the database is unavailable is an error of the request, not of the form.
pub async fn filters_from(
    state: &AppState,
    form: &SearchForm,
) -> Result<Parsed, crate::error::AppError> {
    let mut errors = Vec::new();
    // Control characters (including NUL, which PostgreSQL refuses in text) are dropped.
    let clean: String = form.q.chars().filter(|c| !c.is_control()).collect();
    let mut f = Filters {
        words: clean
            .split_whitespace()
            .take(8)
            .map(str::to_string)
            .collect(),
        ..Default::default()
    };
    let miles = form.unit != "km";
    let mut centre = None;
    if !form.postcode.trim().is_empty() {
        match Postcode::parse(&form.postcode) {
            Err(e) => errors.push(FieldError::new("postcode", e.to_string())),
            Ok(pc) => {
                let distance = if form.distance.trim().is_empty() {
                    5.0
                } else {
                    match form.distance.trim().parse::<f64>() {
                        Ok(d) if d > 0.0 && d <= 100.0 => d,
                        _ => {
                            errors.push(FieldError::new(
                                "distance",
                                "Distance must be a number from 1 to 100",
                            ));
                            5.0
                        }
                    }
                };
                let radius = if miles {
                    distance * METRES_PER_MILE
                } else {
                    distance * 1000.0
                };
                match super::cache::of(state).postcode(&state.db, &pc).await {
                    Ok(Some(place)) => {
                        f.near = Some((place.point, radius));
                        centre = Some((pc, place.point, radius));
                    }
                    Ok(None) => errors.push(FieldError::new(
                        "postcode",
                        format!("We could not find {pc}. Check it is a current postcode in our area, or search by words instead"),
                    )),
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    if !form.day.is_empty() {
        match Day::from_code(&form.day) {
            Some(d) => f.day = Some(d),
            None => errors.push(FieldError::new("day", "Choose a day from the list")),
        }
    }
    if !form.time.is_empty() {
        match TimeOfDay::from_code(&form.time) {
            Some(t) => f.time_of_day = Some(t),
            None => errors.push(FieldError::new(
                "time",
                "Choose a time of day from the list",
            )),
        }
    }
    for c in &form.cost {
        if c == "bursary" {
            f.bursary = true;
        } else {
            match Cost::from_code(c) {
                Some(c) => f.costs.push(c),
                None => errors.push(FieldError::new(
                    "cost",
                    format!("Unknown cost option \"{c}\""),
                )),
            }
        }
    }
    for a in &form.access {
        match AccessFeature::from_code(a) {
            Some(a) => f.access.push(a),
            None => errors.push(FieldError::new(
                "access",
                format!("Unknown access need \"{a}\""),
            )),
        }
    }
    f.type_codes = form.types.iter().take(20).cloned().collect();
    match form.online.as_str() {
        "" | "any" => {}
        "online" => f.online = Some(true),
        "in_person" => f.online = Some(false),
        _ => errors.push(FieldError::new(
            "online",
            "Choose online, in person or either",
        )),
    }
    if errors.is_empty() {
        Ok(Ok((f, centre, miles)))
    } else {
        Ok(Err(errors))
    }
}

/// Run the search for one page.
pub async fn run(
    state: &AppState,
    form: &SearchForm,
    all: bool,
) -> Result<Outcome, crate::error::AppError> {
    let (f, centre, miles) = match filters_from(state, form).await? {
        Ok(x) => x,
        Err(errors) => {
            return Ok(Outcome {
                results: vec![],
                total: 0,
                centre: None,
                errors,
                miles: form.unit != "km",
            });
        }
    };
    let per = if all { 500 } else { PER_PAGE };
    let offset = (form.page - 1) * per;
    let (hits, total) = if f.near.is_some() {
        let hits = super::service::activities_near(state, &f).await?;
        let total = hits.len() as i64;
        (
            hits.into_iter()
                .skip(offset as usize)
                .take(per as usize)
                .collect::<Vec<_>>(),
            total,
        )
    } else {
        store::search_page(&state.db.read, &f, per, offset).await?
    };
    let ids: Vec<String> = hits.iter().map(|h| h.activity_id.clone()).collect();
    let activities = super::cache::of(state).load(&state.db, &ids).await?;
    let results = activities
        .into_iter()
        .zip(hits.iter().map(|h| h.distance_m))
        .collect();
    Ok(Outcome {
        results,
        total,
        centre,
        errors: vec![],
        miles,
    })
}

/// A distance in the chosen unit, e.g. "1.4 miles".
pub fn distance_text(metres: f64, miles: bool) -> String {
    if miles {
        let m = metres / METRES_PER_MILE;
        if m < 0.1 {
            "less than 0.1 miles".into()
        } else {
            format!("{m:.1} miles")
        }
    } else {
        let k = metres / 1000.0;
        if k < 0.1 {
            "less than 0.1 km".into()
        } else {
            format!("{k:.1} km")
        }
    }
}
