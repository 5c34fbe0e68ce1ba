//! Small-area (LSOA) boundaries of both geographies, imported from ONS GeoJSON (BGC, WGS84)
//! into `places_boundaries` beside the wards (kinds `lsoa2011` and `lsoa2021`), simplified
//! the same way; read back for the LSOA maps and for placing a venue by point-in-polygon.
//!
//! [`import_file`] takes any boundary file: it looks at the features' properties and
//! imports wards (`WD..CD`) or small areas (`LSOA11CD` or `LSOA21CD`).

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;
use sqlx::Row;

use super::Point;
use super::boundaries::{
    Boundary, Kind, features_of, flush, import_ward_features, label_for, read, rings_of, row,
    stored,
};
use super::geometry::BBox;
use super::import::{ImportError, ImportReport, is_lsoa_code};
use crate::db::{Bind, Db};

/// What a boundary file held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundaryFile {
    /// Wards (and so districts and the region, dissolved from them).
    Wards,
    /// Small areas (LSOA 2011 and/or 2021).
    SmallAreas,
}

/// The small-area code property of a feature (`LSOA11CD`, `LSOA21CD`, any case), with the
/// two digits of its year.
fn lsoa_key(props: &Value) -> Option<(&str, &str)> {
    props.as_object()?.keys().find_map(|k| {
        let u = k.to_ascii_uppercase();
        (u.len() == 8
            && u.starts_with("LSOA")
            && u.ends_with("CD")
            && u[4..6].bytes().all(|b| b.is_ascii_digit()))
        .then(|| (k.as_str(), &k[4..6]))
    })
}

fn has_ward_key(props: &Value) -> bool {
    props.as_object().is_some_and(|o| {
        o.keys().any(|k| {
            let u = k.to_ascii_uppercase();
            u.starts_with("WD") && u.ends_with("CD") && u.len() <= 8
        })
    })
}

/// Import a boundary file of wards or of small areas, whichever its features are. A file
/// whose features name neither stops with a message naming the file, the first feature and
/// the properties it has.
pub async fn import_file(
    db: &Db,
    path: &Path,
    progress: impl FnMut(u64),
) -> Result<(BoundaryFile, ImportReport), ImportError> {
    let features = features_of(path)?;
    let props = |f: &Value| f.get("properties").cloned().unwrap_or(Value::Null);
    if features.iter().any(|f| lsoa_key(&props(f)).is_some()) {
        let r = import_lsoa_features(db, &features, progress).await?;
        return Ok((BoundaryFile::SmallAreas, r));
    }
    if features.iter().any(|f| has_ward_key(&props(f))) {
        let r = import_ward_features(db, &features, progress).await?;
        return Ok((BoundaryFile::Wards, r));
    }
    let names = features
        .first()
        .and_then(|f| f.get("properties"))
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    Err(ImportError::Feature {
        file: path.display().to_string(),
        feature: 1,
        reason: format!(
            "no ward code (a property like WD25CD) or small-area code (LSOA21CD or LSOA11CD); its properties are: {}",
            if names.is_empty() { "none" } else { &names }
        ),
    })
}

/// Import small-area boundaries from a GeoJSON FeatureCollection file (properties
/// `LSOA21CD` and `LSOA21NM`, or `LSOA11CD` and `LSOA11NM`; the district from
/// `LADCD_ACTIVE` or a `LAD..CD` property when there is one). A feature that cannot be
/// used is rejected with its number (1 = the first) and the field at fault; the rest are
/// stored. Importing the same file again leaves the table as it was.
pub async fn import_lsoas(
    db: &Db,
    path: &Path,
    progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let features = features_of(path)?;
    import_lsoa_features(db, &features, progress).await
}

fn text<'a>(props: &'a Value, key: &str) -> Option<&'a str> {
    let o = props.as_object()?;
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// One feature as a small area, or why not.
fn lsoa_feature(f: &Value) -> Result<(Kind, Boundary), String> {
    let props = f.get("properties").unwrap_or(&Value::Null);
    let Some((key, year)) = lsoa_key(props) else {
        return Err("no small-area code (a property LSOA21CD or LSOA11CD)".into());
    };
    let kind = match year {
        "11" => Kind::Lsoa2011,
        "21" => Kind::Lsoa2021,
        _ => {
            return Err(format!(
                "{key}: only the 2011 and 2021 small areas (LSOA11CD, LSOA21CD) are used"
            ));
        }
    };
    let code = match props.get(key) {
        Some(Value::String(c)) if is_lsoa_code(c.trim()) => c.trim().to_string(),
        Some(v) => {
            return Err(format!(
                "{key} {v} is not an LSOA code (E01 or W01 and six digits)"
            ));
        }
        None => unreachable!("the key was found in the properties"),
    };
    let name_key = format!("LSOA{year}NM");
    let name = text(props, &name_key)
        .ok_or_else(|| format!("{code}: no {name_key} (the small area's name)"))?;
    let parent = text(props, "LADCD_ACTIVE")
        .or_else(|| super::boundaries::prop(props, "LAD", "CD"))
        .map(str::to_string);
    let rings = match f.get("geometry").filter(|g| !g.is_null()) {
        None => Err("no geometry".to_string()),
        Some(g) => rings_of(g),
    }
    .map_err(|why| format!("{code} {name}: {why}"))?;
    let bbox = BBox::around(rings.iter().flatten().copied())
        .ok_or_else(|| format!("{code} {name}: no positions"))?;
    let given = match (
        props.get("LAT").and_then(Value::as_f64),
        props.get("LONG").and_then(Value::as_f64),
    ) {
        (Some(lat), Some(lon)) if contains(&rings, Point { lat, lon }) => Some(Point { lat, lon }),
        _ => None,
    };
    let label = given.unwrap_or_else(|| interior_point(&rings, bbox));
    Ok((
        kind,
        Boundary {
            code,
            name: name.to_string(),
            parent_code: parent,
            label,
            bbox,
            rings,
        },
    ))
}

async fn import_lsoa_features(
    db: &Db,
    features: &[Value],
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    let mut seen: HashSet<(&'static str, String)> = HashSet::new();
    let mut batch: Vec<Vec<Bind>> = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let n = i as u64 + 1;
        report.rows += 1;
        let (kind, b) = match lsoa_feature(f) {
            Ok(x) => x,
            Err(why) => {
                report.reject(n, why);
                continue;
            }
        };
        if !seen.insert((kind.code(), b.code.clone())) {
            report.reject(n, format!("{}: appears more than once in the file", b.code));
            continue;
        }
        batch.push(row(kind, &stored(&b)));
        if batch.len() == 50 {
            report.stored += flush(db, &mut batch).await?;
        }
        if n.is_multiple_of(50) {
            progress(n);
        }
    }
    report.stored += flush(db, &mut batch).await?;
    progress(report.rows);
    Ok(report)
}

/// Is the point inside the rings (even-odd rule, so holes are holes)?
pub fn contains(rings: &[Vec<Point>], p: Point) -> bool {
    let mut inside = false;
    for ring in rings {
        for w in ring.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a.lat > p.lat) != (b.lat > p.lat) {
                let x = a.lon + (p.lat - a.lat) / (b.lat - a.lat) * (b.lon - a.lon);
                if p.lon < x {
                    inside = !inside;
                }
            }
        }
    }
    inside
}

/// A point inside the rings for a label: the area centroid when it is inside, otherwise
/// the middle of the widest inside stretch of the line of latitude through the box's middle.
fn interior_point(rings: &[Vec<Point>], bbox: BBox) -> Point {
    let centre = label_for(rings, &[]);
    if contains(rings, centre) {
        return centre;
    }
    for frac in [0.5, 0.3, 0.7, 0.2, 0.8] {
        let lat = bbox.min_lat + (bbox.max_lat - bbox.min_lat) * frac;
        let mut xs: Vec<f64> = rings
            .iter()
            .flat_map(|r| r.windows(2))
            .filter(|w| (w[0].lat > lat) != (w[1].lat > lat))
            .map(|w| w[0].lon + (lat - w[0].lat) / (w[1].lat - w[0].lat) * (w[1].lon - w[0].lon))
            .collect();
        xs.sort_by(f64::total_cmp);
        if let Some(best) = xs
            .chunks_exact(2)
            .max_by(|a, b| (a[1] - a[0]).total_cmp(&(b[1] - b[0])))
        {
            return Point {
                lat,
                lon: (best[0] + best[1]) / 2.0,
            };
        }
    }
    centre
}

/// The small area of a geography whose boundary contains the point, if any (boxes are
/// matched in SQL, the outline in Rust; boundaries are simplified to about 8 m, so a point
/// within a few metres of an edge may fall in either neighbour or in neither).
pub async fn lsoa_at(db: &Db, kind: Kind, p: Point) -> Result<Option<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT code, rings FROM places_boundaries WHERE kind = $1 AND min_latitude <= $2 \
         AND max_latitude >= $2 AND min_longitude <= $3 AND max_longitude >= $3 ORDER BY code",
    )
    .bind(kind.code().to_string())
    .bind(p.lat)
    .bind(p.lon)
    .fetch_all(&db.read)
    .await?;
    for r in rows {
        let text: String = r.try_get("rings")?;
        if contains(&parse_rings(&text), p) {
            return Ok(Some(r.try_get("code")?));
        }
    }
    Ok(None)
}

fn parse_rings(text: &str) -> Vec<Vec<Point>> {
    let raw: Vec<Vec<[f64; 2]>> = serde_json::from_str(text).unwrap_or_default();
    raw.into_iter()
        .map(|ring| {
            ring.into_iter()
                .map(|[lon, lat]| Point { lat, lon })
                .collect()
        })
        .collect()
}

/// Every small area of a geography, loaded once to place many points.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    areas: Vec<Boundary>,
}

impl Locator {
    /// Load every boundary of a geography (empty before they are imported).
    pub async fn load(db: &Db, kind: Kind) -> Result<Locator, sqlx::Error> {
        Ok(Locator {
            areas: read(db, kind, None).await?,
        })
    }

    /// Are there no boundaries?
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The code of the area containing the point (the first by code when edges overlap).
    pub fn locate(&self, p: Point) -> Option<&str> {
        self.areas
            .iter()
            .find(|a| a.bbox.contains(p) && contains(&a.rings, p))
            .map(|a| a.code.as_str())
    }
}

/// The small areas of a geography with these codes (all of them when `codes` is `None`),
/// by code.
pub async fn lsoas(
    db: &Db,
    kind: Kind,
    codes: Option<&HashSet<String>>,
) -> Result<Vec<Boundary>, sqlx::Error> {
    let all = read(db, kind, None).await?;
    Ok(match codes {
        None => all,
        Some(c) => all.into_iter().filter(|b| c.contains(&b.code)).collect(),
    })
}

/// How many small-area boundaries are stored: (2011, 2021).
pub async fn counts(db: &Db) -> Result<(i64, i64), sqlx::Error> {
    let n = |k: Kind| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM places_boundaries WHERE kind = $1")
            .bind(k.code().to_string())
            .fetch_one(&db.read)
    };
    Ok((n(Kind::Lsoa2011).await?, n(Kind::Lsoa2021).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lon: f64, lat: f64) -> Point {
        Point { lat, lon }
    }

    #[test]
    fn point_in_polygon_honours_holes_and_concave_shapes() {
        // An L shape with a square hole in its long arm.
        let outer = vec![
            p(0., 0.),
            p(4., 0.),
            p(4., 1.),
            p(1., 1.),
            p(1., 4.),
            p(0., 4.),
            p(0., 0.),
        ];
        let hole = vec![
            p(2., 0.25),
            p(3., 0.25),
            p(3., 0.75),
            p(2., 0.75),
            p(2., 0.25),
        ];
        let rings = vec![outer, hole];
        assert!(contains(&rings, p(0.5, 3.0)));
        assert!(contains(&rings, p(1.5, 0.5)));
        assert!(!contains(&rings, p(2.5, 0.5)), "in the hole");
        assert!(!contains(&rings, p(2.0, 2.0)), "in the notch of the L");
        let bbox = BBox::around(rings.iter().flatten().copied()).unwrap();
        let label = interior_point(&rings, bbox);
        assert!(contains(&rings, label), "{label:?}");
    }

    #[test]
    fn the_code_property_names_its_year() {
        let v: Value = serde_json::json!({"FID": 1, "lsoa21cd": "E01000001"});
        assert_eq!(lsoa_key(&v), Some(("lsoa21cd", "21")));
        let v: Value = serde_json::json!({"WD25CD": "E05000001"});
        assert_eq!(lsoa_key(&v), None);
        assert!(has_ward_key(&v));
        let f = serde_json::json!({"type": "Feature", "properties": {"LSOA21CD": "E0100001", "LSOA21NM": "x"}, "geometry": null});
        let why = lsoa_feature(&f).unwrap_err();
        assert!(why.contains("LSOA21CD \"E0100001\""), "{why}");
        let f = serde_json::json!({"type": "Feature", "properties": {"LSOA01CD": "E01000001"}, "geometry": null});
        assert!(lsoa_feature(&f).unwrap_err().contains("LSOA01CD"));
    }
}
