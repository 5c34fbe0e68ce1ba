//! `/areas/map?of=deprivation|provision`: a server-rendered SVG choropleth of the city
//! region's wards (the ward boundaries `places::boundaries` imports), with the listed
//! activities as points, a legend whose classes carry numbers as well as colours, a title
//! and description, every ward a link to its row of the table beside the map.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};

use super::provision::{self, Provision, ProvisionRow};
use super::provision_html::{AreaQuery, edition_links};
use super::{Edition, lsoa_map};
use crate::code::code_enum;
use crate::error::AppError;
use crate::modules::places::boundaries::{self, Boundary};
use crate::modules::places::geometry::{BBox, Projection};
use crate::state::AppState;
use crate::web::forms::table_wrap;
use crate::web::{Page, PageCtx, page};

code_enum!(
    /// What a map shows.
    MapOf {
        Deprivation => ("deprivation", "Deprivation decile"),
        Provision => ("provision", "Activities per 10,000 residents"),
    }
);

/// Viridis, ten steps (dark = low class number).
const VIRIDIS_10: [&str; 10] = [
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58",
    "#b5de2b", "#fde725",
];
/// Viridis, five steps.
const VIRIDIS_5: [&str; 5] = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];
/// Provision classes: activities per 10,000 residents (lower bound, label).
const PROVISION_CLASSES: [(f64, &str); 5] = [
    (0.0, "none"),
    (f64::MIN_POSITIVE, "under 2"),
    (2.0, "2 to under 5"),
    (5.0, "5 to under 10"),
    (10.0, "10 or more"),
];

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 640.0;

/// A ward's population-weighted mean national IMD decile, rounded (1 = most deprived).
pub fn ward_deciles(lsoas: &[provision::Lsoa]) -> HashMap<String, i64> {
    let mut acc: HashMap<String, (f64, f64, usize)> = HashMap::new();
    for l in lsoas {
        let e = acc.entry(l.ward_code.clone()).or_default();
        e.0 += l.imd_decile as f64 * l.population.max(1) as f64;
        e.1 += l.population.max(1) as f64;
        e.2 += 1;
    }
    acc.into_iter()
        .map(|(k, (s, w, _))| (k, (s / w).round().clamp(1.0, 10.0) as i64))
        .collect()
}

/// The class (1-based) of an activities-per-10,000 figure.
pub fn provision_class(x: f64) -> usize {
    PROVISION_CLASSES
        .iter()
        .rposition(|(lo, _)| x >= *lo)
        .unwrap_or(0)
        + 1
}

pub(super) fn text_fill(fill: &str) -> &'static str {
    // The first half of viridis is dark: white text there, dark text on the light half.
    if VIRIDIS_10[..5].contains(&fill) || VIRIDIS_5[..2].contains(&fill) {
        "#ffffff"
    } else {
        "#212b32"
    }
}

struct Ward<'a> {
    b: &'a Boundary,
    row: Option<&'a ProvisionRow>,
    class: Option<usize>,
    value: String,
}

/// GET /areas/map (public)
pub async fn map_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<AreaQuery>,
) -> Result<Response, AppError> {
    let e = q.edition(&state)?;
    let of = match q.of.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => MapOf::Deprivation,
        // The reach-ratio map: its own page, for roles allowed aggregates (reach_map.rs).
        Some("reach") => return super::reach_map::page_for(&state, &ctx, e).await,
        Some(s) => MapOf::from_code(s).ok_or_else(|| {
            AppError::BadRequest(format!(
                "of must be deprivation, provision or reach, not \"{s}\""
            ))
        })?,
    };
    if let Some((title, body)) = lsoa_level(&state, &q, e, of).await? {
        return Ok(page(&ctx, Page::new(&title, body)));
    }
    let lsoas = provision::region_lsoas(&state.db, e).await?;
    let deciles = ward_deciles(&lsoas);
    let p = provision::provision(e, &lsoas, provision::listed_venues(&state).await?);
    let (region, wards) = match boundaries::region_outline(&state.db).await? {
        Some(r) => {
            let w = boundaries::wards_in_view(&state.db, r.bbox).await?;
            (Some(r), w)
        }
        None => (None, Vec::new()),
    };
    let title = format!("Map: {} by ward ({})", of.label().to_lowercase(), e.label());
    let body = view(e, of, &title, region.as_ref(), &wards, &p, &deciles);
    Ok(page(&ctx, Page::new(&title, body)))
}

/// The small-area map when `?level=lsoa` (deprivation only), after checking `level` and
/// `district` (a 400 naming a bad value).
async fn lsoa_level(
    state: &AppState,
    q: &AreaQuery,
    e: Edition,
    of: MapOf,
) -> Result<Option<(String, Markup)>, AppError> {
    let level = lsoa_map::parse_level(q.level.as_deref()).map_err(AppError::BadRequest)?;
    let district = lsoa_map::parse_district(q.district.as_deref()).map_err(AppError::BadRequest)?;
    if level == lsoa_map::Level::Ward {
        return match district {
            None => Ok(None),
            Some(_) => Err(AppError::BadRequest(
                "district is only used with level=lsoa (the ward map shows the whole city region)"
                    .into(),
            )),
        };
    }
    if of != MapOf::Deprivation {
        return Err(AppError::BadRequest(format!(
            "level lsoa draws deprivation only, not \"{}\"",
            of.code()
        )));
    }
    let district = district.as_deref().unwrap_or(lsoa_map::DEFAULT_DISTRICT);
    let m = lsoa_map::load(&state.db, e, district).await?;
    Ok(Some((m.title(), lsoa_map::view(&m))))
}

fn classify<'a>(
    of: MapOf,
    wards: &'a [Boundary],
    p: &'a Provision,
    deciles: &HashMap<String, i64>,
) -> Vec<Ward<'a>> {
    wards
        .iter()
        .map(|b| {
            let row = p.by_ward.iter().find(|r| r.key == b.code);
            let (class, value) = match (of, row) {
                (MapOf::Deprivation, _) => match deciles.get(&b.code) {
                    Some(d) => (Some(*d as usize), format!("decile {d}")),
                    None => (None, "no data".into()),
                },
                (MapOf::Provision, Some(r)) => (
                    Some(provision_class(r.activities_per_10k)),
                    format!(
                        "{:.2} activities per 10,000 residents",
                        r.activities_per_10k
                    ),
                ),
                (MapOf::Provision, None) => (None, "no data".into()),
            };
            Ward {
                b,
                row,
                class,
                value,
            }
        })
        .collect()
}

pub(super) fn fill(of: MapOf, class: Option<usize>) -> &'static str {
    match (of, class) {
        (MapOf::Deprivation, Some(c)) => VIRIDIS_10[(c - 1).min(9)],
        (MapOf::Provision, Some(c)) => VIRIDIS_5[(c - 1).min(4)],
        _ => "url(#no-data)",
    }
}

fn legend(of: MapOf) -> Markup {
    let classes: Vec<(usize, String)> = match of {
        MapOf::Deprivation => (1..=10)
            .map(|d| {
                let note = match d {
                    1 => " (most deprived 10% of England)",
                    10 => " (least deprived 10%)",
                    _ => "",
                };
                (d, format!("Decile {d}{note}"))
            })
            .collect(),
        MapOf::Provision => PROVISION_CLASSES
            .iter()
            .enumerate()
            .map(|(i, (_, l))| {
                (
                    i + 1,
                    format!("Class {}: {l} activities per 10,000 residents", i + 1),
                )
            })
            .collect(),
    };
    html! {
        h2."nhsuk-heading-s" { "Legend" }
        p."nhsuk-body-s" { "Each ward shows its class number as well as its colour. Hatched wards have no data. Dots are venues of listed activities." }
        ul."nhsuk-list nhsuk-body-s" {
            @for (c, label) in &classes {
                li {
                    svg width="28" height="20" viewBox="0 0 28 20" aria-hidden="true" focusable="false" {
                        rect x="0" y="0" width="28" height="20" fill=(fill(of, Some(*c))) stroke="#425563" {}
                        text x="14" y="15" font-size="13" font-family="Arial, sans-serif" text-anchor="middle" fill=(text_fill(fill(of, Some(*c)))) { (c) }
                    }
                    " " (label)
                }
            }
        }
    }
}

fn view(
    e: Edition,
    of: MapOf,
    title: &str,
    region: Option<&Boundary>,
    wards: &[Boundary],
    p: &Provision,
    deciles: &HashMap<String, i64>,
) -> Markup {
    let other = match of {
        MapOf::Deprivation => MapOf::Provision,
        MapOf::Provision => MapOf::Deprivation,
    };
    let classified = classify(of, wards, p, deciles);
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            h1 { (title) }
            p."nhsuk-lede-text" { @match of {
                MapOf::Deprivation => "Each ward of the Liverpool City Region shaded by the population-weighted mean of its small areas' national IMD deciles, rounded (1 = most deprived).",
                MapOf::Provision => "Each ward of the Liverpool City Region shaded by listed activities per 10,000 residents (counted as on the provision page).",
            } }
            (edition_links("/areas/map", e, &format!("&of={}", of.code())))
            p."nhsuk-body" {
                a href=(format!("/areas/map?of={}&edition={}", other.code(), e.code())) { "Show " (other.label().to_lowercase()) " instead" }
                " · "
                a href=(format!("/areas/map?of=reach&edition={}", e.code())) { "Referral reach ratio (for commissioners, programme managers and researchers)" }
            }
            p."nhsuk-body" { a href=(format!("/areas/map?of=deprivation&level=lsoa&district={}&edition={}", lsoa_map::DEFAULT_DISTRICT, e.code())) { "Deprivation by small area (" (e.geography()) "), each area's own decile" } }
            @if classified.iter().filter(|w| w.class.is_none()).count() * 2 > classified.len() {
                div."nhsuk-inset-text" { p { "Most wards have no data on this map: the ward boundaries drawn are those of May 2025, and this edition's small areas are matched to the wards of its own lookup, whose codes differ. The provision page has this edition's figures by its own wards, and the "
                    a href=(format!("/areas/map?of=deprivation&level=lsoa&district={}&edition={}", lsoa_map::DEFAULT_DISTRICT, e.code())) { "small-area maps" }
                    " draw every small area of " (e.label()) " on its own " (e.geography()) " boundary, one district at a time." } }
            }
            @match region {
                None => div."nhsuk-inset-text" { p { "Ward boundaries have not been imported yet, so the map cannot be drawn. The table below has the same figures." } },
                Some(r) => (svg(of, title, r, &classified, p)),
            }
            (legend(of))
            (table(of, &classified))
            (super::html::sources())
        } }
    }
}

fn svg(of: MapOf, title: &str, region: &Boundary, wards: &[Ward], p: &Provision) -> Markup {
    let pr = Projection::fit(region.bbox, WIDTH, HEIGHT);
    let view: BBox = region.bbox;
    let tol = 0.6;
    let desc = format!(
        "Choropleth map of {} wards: {}. {} activity venues shown as dots. The same figures are in the table below the map; each ward links to its row.",
        wards.len(),
        of.label().to_lowercase(),
        p.venues.iter().filter(|v| view.contains(v.point)).count()
    );
    html! {
        svg."ensemble-map" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="group" aria-labelledby="area-map-title" aria-describedby="area-map-desc" {
            title id="area-map-title" { (title) }
            desc id="area-map-desc" { (desc) }
            defs {
                pattern id="no-data" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                    rect width="8" height="8" fill="#f0f4f5" {}
                    line x1="0" y1="0" x2="0" y2="8" stroke="#768692" stroke-width="2" {}
                }
            }
            rect x="0" y="0" width=(WIDTH) height=(HEIGHT) fill="#ffffff" {}
            @for w in wards {
                @let name = match w.row { Some(r) if !r.name.is_empty() => r.name.clone(), _ => w.b.name.clone() };
                a href=(format!("#ward-{}", w.b.code)) aria-label=(format!("{name}: {}", w.value)) {
                    title { (name) ": " (w.value) }
                    path d=(pr.path(&w.b.rings, tol)) fill=(fill(of, w.class)) fill-rule="evenodd" stroke="#ffffff" stroke-width="0.8" {}
                }
            }
            path d=(pr.path(&region.rings, tol)) fill="none" stroke="#212b32" stroke-width="1.5" {}
            g aria-hidden="true" {
                @for w in wards {
                    @if let Some(c) = w.class {
                        @let (x, y) = pr.xy(w.b.label);
                        text x=(format!("{x:.1}")) y=(format!("{:.1}", y + 3.0)) font-size="9" font-family="Arial, sans-serif" text-anchor="middle" fill=(text_fill(fill(of, Some(c)))) { (c) }
                    }
                }
                @for v in p.venues.iter().filter(|v| view.contains(v.point)) {
                    @let (x, y) = pr.xy(v.point);
                    circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="2.5" fill="#ffffff" stroke="#d5281b" stroke-width="1.5" {}
                }
            }
        }
    }
}

fn table(of: MapOf, wards: &[Ward]) -> Markup {
    let caption = format!("{} by ward (the figures on the map)", of.label());
    let mut sorted: Vec<&Ward> = wards.iter().collect();
    sorted.sort_by(|a, b| (&a.b.parent_code, &a.b.name).cmp(&(&b.b.parent_code, &b.b.name)));
    table_wrap(
        &caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Ward" }
                    th."nhsuk-table__header" scope="col" { "Class on the map" }
                    th."nhsuk-table__header" scope="col" { "Figure" }
                    th."nhsuk-table__header" scope="col" { "Residents" }
                    th."nhsuk-table__header" scope="col" { "Activities" }
                } }
                tbody."nhsuk-table__body" {
                    @for w in sorted {
                        tr."nhsuk-table__row" id=(format!("ward-{}", w.b.code)) {
                            th."nhsuk-table__header" scope="row" { (w.b.name) }
                            td."nhsuk-table__cell" { @match w.class { Some(c) => (c), None => "No data" } }
                            td."nhsuk-table__cell" { (w.value) }
                            td."nhsuk-table__cell" { @match w.row { Some(r) => (r.population), None => "—" } }
                            td."nhsuk-table__cell" { @match w.row { Some(r) => (r.activities), None => "—" } }
                        }
                    }
                }
            }
        },
    )
}
