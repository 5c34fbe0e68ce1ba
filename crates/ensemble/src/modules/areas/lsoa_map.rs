//! `/areas/map?of=deprivation&level=lsoa[&district=CODE][&edition=]`: the deprivation
//! choropleth drawn per small area of the edition's own geography (IoD2019 on the LSOA 2011
//! boundaries, IoD2025 on LSOA 2021), one district at a time or the whole city region, so
//! every area has its own official decile (the ward map has to average, and IoD2019's wards
//! do not match the 2025 ward boundaries). Same rules as the ward map: a title and a
//! description, the class number on every area as well as its colour, a legend in words,
//! hatching for no data, and a table with the same numbers; every area is a link to its
//! profile (`/areas/lsoas/{code}`).

use std::collections::HashSet;

use maud::{Markup, html};
use sqlx::Row;

use super::maps::{MapOf, fill, text_fill};
use super::provision_html::edition_links;
use super::{CITY_REGION, Edition};
use crate::db::Db;
use crate::error::AppError;
use crate::modules::places::boundaries::{Boundary, Kind};
use crate::modules::places::geometry::{BBox, Projection, simplify};
use crate::modules::places::{Point, small_areas};
use crate::web::forms::table_wrap;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 640.0;

/// What level a map is drawn at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Wards (May 2025 boundaries).
    Ward,
    /// Small areas (LSOAs) of the edition's geography.
    Lsoa,
}

/// Parse `?level=` (default ward), naming a bad value.
pub fn parse_level(s: Option<&str>) -> Result<Level, String> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("ward") => Ok(Level::Ward),
        Some("lsoa") => Ok(Level::Lsoa),
        Some(other) => Err(format!("level must be ward or lsoa, not \"{other}\"")),
    }
}

/// Parse `?district=` (empty = none given): one of the city region's districts.
pub fn parse_district(s: Option<&str>) -> Result<Option<String>, String> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(d) => {
            let up = d.to_ascii_uppercase();
            if CITY_REGION.contains(&up.as_str()) {
                Ok(Some(up))
            } else {
                Err(format!(
                    "district must be one of the city region's district codes ({}), not \"{d}\"",
                    CITY_REGION.join(", ")
                ))
            }
        }
    }
}

/// The boundary geography of an edition.
pub fn kind_of(e: Edition) -> Kind {
    match e {
        Edition::Iod2019 => Kind::Lsoa2011,
        Edition::Iod2025 => Kind::Lsoa2021,
    }
}

/// One small area's figures.
#[derive(Debug, Clone)]
pub struct AreaRow {
    pub code: String,
    pub name: String,
    pub district_code: String,
    pub district_name: String,
    pub imd_decile: Option<i64>,
    pub imd_rank: Option<i64>,
    pub imd_score: Option<f64>,
    pub population: Option<i64>,
}

/// The city region's small areas of an edition (or one district's), by district and code.
pub async fn area_rows(
    db: &Db,
    e: Edition,
    district: Option<&str>,
) -> Result<Vec<AreaRow>, sqlx::Error> {
    let codes: Vec<&str> = match district {
        Some(d) => vec![d],
        None => CITY_REGION.to_vec(),
    };
    let list = codes
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT code, name, district_code, district_name, imd_decile, imd_rank, imd_score, population \
         FROM area_lsoas WHERE edition = $1 AND district_code IN ({list}) ORDER BY district_name, code"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(e.year())
        .fetch_all(&db.read)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(AreaRow {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                district_code: r.try_get("district_code")?,
                district_name: r.try_get("district_name")?,
                imd_decile: r.try_get("imd_decile")?,
                imd_rank: r.try_get("imd_rank")?,
                imd_score: r.try_get("imd_score")?,
                population: r.try_get("population")?,
            })
        })
        .collect()
}

/// Everything the LSOA map page shows.
pub struct LsoaMap {
    pub edition: Edition,
    pub district: Option<(String, String)>,
    pub rows: Vec<AreaRow>,
    pub shapes: Vec<Boundary>,
}

/// Read the figures and the outlines of a city-region district for an edition (drawn one
/// district at a time: the whole region, 1,003 areas, made a page of about 800 kB).
pub async fn load(db: &Db, e: Edition, district: &str) -> Result<LsoaMap, AppError> {
    let district = Some(district);
    let rows = area_rows(db, e, district).await?;
    let codes: HashSet<String> = rows.iter().map(|r| r.code.clone()).collect();
    let shapes = small_areas::lsoas(db, kind_of(e), Some(&codes)).await?;
    let district = district.map(|d| {
        let name = rows
            .first()
            .map_or_else(|| district_name(d).to_string(), |r| r.district_name.clone());
        (d.to_string(), name)
    });
    Ok(LsoaMap {
        edition: e,
        district,
        rows,
        shapes,
    })
}

impl LsoaMap {
    /// The page title.
    pub fn title(&self) -> String {
        format!(
            "Map: deprivation decile by small area, {} ({}, {})",
            self.place(),
            self.edition.label(),
            self.edition.geography()
        )
    }

    fn place(&self) -> String {
        self.district
            .as_ref()
            .map_or_else(|| "Liverpool City Region".to_string(), |(_, n)| n.clone())
    }

    fn query(&self, e: Edition, district: Option<&str>) -> String {
        format!(
            "/areas/map?of=deprivation&level=lsoa&district={}&edition={}",
            district.unwrap_or(DEFAULT_DISTRICT),
            e.code()
        )
    }

    fn decile(&self, code: &str) -> Option<&AreaRow> {
        self.rows.iter().find(|r| r.code == code)
    }
}

fn profile(code: &str, e: Edition) -> String {
    format!("/areas/lsoas/{code}?edition={}", e.code())
}

/// The page body.
pub fn view(m: &LsoaMap) -> Markup {
    let e = m.edition;
    let d = m.district.as_ref().map(|(c, _)| c.as_str());
    let extra = format!(
        "&of=deprivation&level=lsoa{}",
        d.map(|d| format!("&district={d}")).unwrap_or_default()
    );
    let title = m.title();
    html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-full" {
            h1 { (title) }
            p."nhsuk-lede-text" { "Each small area (" (e.geography()) ") of " (m.place()) " shaded by its national IMD decile in " (e.label()) " (1 = most deprived 10% of England), drawn on the " (e.geography()) " boundaries the edition uses." }
            (edition_links("/areas/map", e, &extra))
            nav aria-label="District shown" {
                p."nhsuk-body" { "District (one at a time, to keep the page light): "
                    @for (i, code) in CITY_REGION.iter().enumerate() {
                        @if i > 0 { " · " }
                        @if d == Some(*code) { strong { (m.place()) " (shown)" } }
                        @else { a href=(m.query(e, Some(code))) { (district_name(code)) } }
                    }
                }
            }
            p."nhsuk-body" { a href=(format!("/areas/map?of=deprivation&edition={}", e.code())) { "Show deprivation by ward instead" } }
            @if m.rows.is_empty() {
                (super::html::not_loaded_note())
            } @else if m.shapes.is_empty() {
                div."nhsuk-inset-text" { p { "The small-area boundaries (" (e.geography()) ") have not been imported yet, so the map cannot be drawn. The table below has the same figures." } }
            } @else {
                (svg(m, &title))
            }
            (legend())
            (table(m))
            (super::html::sources())
        } }
    }
}

/// The district drawn when none is asked for.
pub const DEFAULT_DISTRICT: &str = "E08000012";

fn district_name(code: &str) -> &str {
    match code {
        "E06000006" => "Halton",
        "E08000011" => "Knowsley",
        "E08000012" => "Liverpool",
        "E08000013" => "St Helens",
        "E08000014" => "Sefton",
        "E08000015" => "Wirral",
        other => other,
    }
}

fn svg(m: &LsoaMap, title: &str) -> Markup {
    let e = m.edition;
    let view = BBox::around(
        m.shapes
            .iter()
            .flat_map(|s| [corner(&s.bbox, false), corner(&s.bbox, true)]),
    )
    .unwrap_or(BBox {
        min_lat: 0.0,
        min_lon: 0.0,
        max_lat: 0.0,
        max_lon: 0.0,
    });
    let pr = Projection::fit(view, WIDTH, HEIGHT);
    let tol = 0.7;
    let desc = format!(
        "Choropleth map of the {} small areas ({}) of {}: national IMD decile in {}, 1 (most deprived) to 10. Each area shows its decile as a number, links to its profile, and has a row with the same figures in the table below the map.",
        m.shapes.len(),
        e.geography(),
        m.place(),
        e.label()
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
            g fill-rule="evenodd" stroke="#ffffff" stroke-width="0.5" {
                @for s in &m.shapes {
                    @let row = m.decile(&s.code);
                    @let class = row.and_then(|r| r.imd_decile).map(|d| d as usize);
                    @let value = class.map_or_else(|| "no data".to_string(), |c| format!("decile {c}"));
                    a href=(profile(&s.code, e)) aria-label=(format!("{} {}: {value}", s.code, s.name)) {
                        title { (s.code) " " (s.name) ": " (value) }
                        path d=(compact_path(&pr, &s.rings, tol)) fill=(fill(MapOf::Deprivation, class)) {}
                    }
                }
            }
            g aria-hidden="true" font-family="Arial, sans-serif" text-anchor="middle" {
                @for s in &m.shapes {
                    @if let Some(c) = m.decile(&s.code).and_then(|r| r.imd_decile) {
                        @let (x, y) = pr.xy(s.label);
                        @let size = label_size(&pr, s);
                        text x=(format!("{x:.0}")) y=(format!("{:.0}", y + size / 3.0)) font-size=(format!("{size:.0}")) fill=(text_fill(fill(MapOf::Deprivation, Some(c as usize)))) { (c) }
                    }
                }
            }
        }
    }
}

/// A compact SVG path of some rings: simplified to `tolerance` drawing units, positions
/// rounded to whole units, the first absolute and the rest relative (`l dx dy`). Rounding
/// the absolute positions first keeps neighbouring areas' shared corners together.
fn compact_path(pr: &Projection, rings: &[Vec<Point>], tolerance: f64) -> String {
    let mut d = String::new();
    for ring in rings {
        let pts: Vec<(f64, f64)> = ring.iter().map(|p| pr.xy(*p)).collect();
        let kept: Vec<(i64, i64)> = simplify(&pts, tolerance)
            .iter()
            .map(|(x, y)| (x.round() as i64, y.round() as i64))
            .collect();
        let mut out: Vec<(i64, i64)> = Vec::with_capacity(kept.len());
        for p in kept {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        if out.len() < 4 {
            continue;
        }
        let (mut px, mut py) = out[0];
        d.push_str(&format!("M{px} {py}"));
        for &(x, y) in &out[1..out.len() - 1] {
            d.push_str(&format!("l{} {}", x - px, y - py));
            (px, py) = (x, y);
        }
        d.push('z');
    }
    d
}

/// The south-west (or north-east) corner of a box.
fn corner(b: &BBox, north_east: bool) -> Point {
    if north_east {
        Point {
            lat: b.max_lat,
            lon: b.max_lon,
        }
    } else {
        Point {
            lat: b.min_lat,
            lon: b.min_lon,
        }
    }
}

/// A font size that fits the area's box on the drawing (6 to 10 units).
fn label_size(pr: &Projection, s: &Boundary) -> f64 {
    let (x0, y0) = pr.xy(corner(&s.bbox, false));
    let (x1, y1) = pr.xy(corner(&s.bbox, true));
    ((x1 - x0).abs().min((y1 - y0).abs()) * 0.5).clamp(6.0, 10.0)
}

fn legend() -> Markup {
    html! {
        h2."nhsuk-heading-s" { "Legend" }
        p."nhsuk-body-s" { "Each small area shows its national IMD decile as a number as well as a colour. Hatched areas have no data." }
        ul."nhsuk-list nhsuk-body-s" {
            @for d in 1..=10usize {
                li {
                    svg width="28" height="20" viewBox="0 0 28 20" aria-hidden="true" focusable="false" {
                        rect x="0" y="0" width="28" height="20" fill=(fill(MapOf::Deprivation, Some(d))) stroke="#425563" {}
                        text x="14" y="15" font-size="13" font-family="Arial, sans-serif" text-anchor="middle" fill=(text_fill(fill(MapOf::Deprivation, Some(d)))) { (d) }
                    }
                    " Decile " (d)
                    @if d == 1 { " (most deprived 10% of England)" }
                    @if d == 10 { " (least deprived 10%)" }
                }
            }
        }
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "No data".into(), |v| v.to_string())
}

fn table(m: &LsoaMap) -> Markup {
    let e = m.edition;
    let caption = format!(
        "Deprivation by small area, {} ({}; the figures on the map)",
        m.place(),
        e.label()
    );
    table_wrap(
        &caption,
        html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption" { (caption) }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    th."nhsuk-table__header" scope="col" { "Small area" }
                    th."nhsuk-table__header" scope="col" { "District" }
                    th."nhsuk-table__header" scope="col" { "IMD decile (class on the map)" }
                    th."nhsuk-table__header" scope="col" { "IMD rank (1 = most deprived of " (e.lsoas_in_england()) ")" }
                    th."nhsuk-table__header" scope="col" { "IMD score" }
                    th."nhsuk-table__header" scope="col" { "Residents" }
                } }
                tbody."nhsuk-table__body" {
                    @for r in &m.rows {
                        tr."nhsuk-table__row" id=(format!("lsoa-{}", r.code)) {
                            th."nhsuk-table__header" scope="row" { a href=(profile(&r.code, e)) { (r.code) " " (r.name) } }
                            td."nhsuk-table__cell" { (r.district_name) }
                            td."nhsuk-table__cell" { (opt(r.imd_decile)) }
                            td."nhsuk-table__cell" { (opt(r.imd_rank)) }
                            td."nhsuk-table__cell" { (r.imd_score.map_or_else(|| "No data".into(), |s| format!("{s:.3}"))) }
                            td."nhsuk-table__cell" { (opt(r.population)) }
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_levels_and_districts_are_named() {
        assert_eq!(parse_level(None), Ok(Level::Ward));
        assert_eq!(parse_level(Some("lsoa")), Ok(Level::Lsoa));
        assert!(parse_level(Some("msoa")).unwrap_err().contains("\"msoa\""));
        assert_eq!(
            parse_district(Some("e08000012")),
            Ok(Some("E08000012".into()))
        );
        assert_eq!(parse_district(Some(" ")), Ok(None));
        assert!(
            parse_district(Some("E09000001"))
                .unwrap_err()
                .contains("\"E09000001\"")
        );
    }
}
