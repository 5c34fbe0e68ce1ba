//! Area boundaries for drawing maps: wards imported from ONS GeoJSON (BGC, WGS84), the
//! districts dissolved from their wards, and the city-region outline dissolved from the
//! districts. Stored lightly simplified in `places_boundaries`; read by the box in view.
//!
//! The API other modules use: [`districts`], [`region_outline`], [`wards_in_view`] (and
//! [`in_view`] for all three at once), with [`super::geometry::Projection`] to draw them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use sqlx::Row;

use super::Point;
use super::geometry::{BBox, dissolve, ring_area_centroid, simplify_ring};
use super::import::{ImportError, ImportReport};
use crate::db::{Bind, Db, insert_rows};

/// What a boundary outlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An electoral ward.
    Ward,
    /// A local authority district (Liverpool, Wirral, …).
    District,
    /// The whole city region.
    Region,
    /// A small area of the 2011 geography (IoD2019's).
    Lsoa2011,
    /// A small area of the 2021 geography (IoD2025's).
    Lsoa2021,
}

impl Kind {
    /// The stored `kind`.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Ward => "ward",
            Kind::District => "district",
            Kind::Region => "region",
            Kind::Lsoa2011 => "lsoa2011",
            Kind::Lsoa2021 => "lsoa2021",
        }
    }
}

/// One area's outline.
#[derive(Debug, Clone)]
pub struct Boundary {
    /// Ward or district code (`E05…`, `E08…`), or the region's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The district a ward is in.
    pub parent_code: Option<String>,
    /// A point inside the area, for its name.
    pub label: Point,
    /// The box around it.
    pub bbox: BBox,
    /// Its rings (outer edges and holes), each closed.
    pub rings: Vec<Vec<Point>>,
}

/// Simplification at import, in metres: far below what a phone map can show, and it
/// shrinks the stored outlines several times over.
const STORE_TOLERANCE_M: f64 = 8.0;

/// The code and name the region outline is stored under when the features name no
/// combined authority.
const REGION_FALLBACK: (&str, &str) = ("region", "City region");

pub(super) fn prop<'a>(props: &'a Value, prefix: &str, suffix: &str) -> Option<&'a str> {
    props.as_object()?.iter().find_map(|(k, v)| {
        let k = k.to_ascii_uppercase();
        (k.starts_with(prefix) && k.ends_with(suffix) && k.len() <= prefix.len() + suffix.len() + 2)
            .then(|| v.as_str())
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    })
}

fn ring_of(v: &Value) -> Result<Vec<Point>, String> {
    let arr = v.as_array().ok_or("a ring is not a list of positions")?;
    let mut ring = Vec::with_capacity(arr.len());
    for pos in arr {
        let (Some(lon), Some(lat)) = (
            pos.get(0).and_then(Value::as_f64),
            pos.get(1).and_then(Value::as_f64),
        ) else {
            return Err("a position is not [longitude, latitude]".into());
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(format!(
                "position [{lon}, {lat}] is not a longitude and latitude (WGS84 is needed, not easting/northing)"
            ));
        }
        ring.push(Point { lat, lon });
    }
    if ring.len() < 4 || ring.first() != ring.last() {
        return Err("a ring has fewer than four positions or is not closed".into());
    }
    Ok(ring)
}

pub(super) fn rings_of(geometry: &Value) -> Result<Vec<Vec<Point>>, String> {
    let coords = geometry.get("coordinates").ok_or("no coordinates")?;
    let polygons: Vec<&Value> = match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => vec![coords],
        Some("MultiPolygon") => coords
            .as_array()
            .ok_or("MultiPolygon coordinates are not a list")?
            .iter()
            .collect(),
        Some(other) => {
            return Err(format!(
                "geometry is a {other}, not a Polygon or MultiPolygon"
            ));
        }
        None => return Err("no geometry type".into()),
    };
    let mut rings = Vec::new();
    for poly in polygons {
        for r in poly.as_array().ok_or("polygon is not a list of rings")? {
            rings.push(ring_of(r)?);
        }
    }
    if rings.is_empty() {
        return Err("no rings".into());
    }
    Ok(rings)
}

pub(super) fn stored(b: &Boundary) -> Boundary {
    Boundary {
        rings: b
            .rings
            .iter()
            .map(|r| simplify_ring(r, STORE_TOLERANCE_M))
            .filter(|r| r.len() >= 4)
            .collect(),
        ..b.clone()
    }
}

/// A point inside an outline for its name: of the candidates (points known to be inside,
/// such as its wards' label points), the one nearest the area's centroid.
pub(super) fn label_for(rings: &[Vec<Point>], candidates: &[Point]) -> Point {
    let (mut area, mut lat, mut lon) = (0.0, 0.0, 0.0);
    for r in rings {
        let (a, c) = ring_area_centroid(r);
        area += a;
        lat += a * c.lat;
        lon += a * c.lon;
    }
    let centre = if area.abs() > 1e-15 {
        Point {
            lat: lat / area,
            lon: lon / area,
        }
    } else {
        candidates.first().copied().unwrap_or(Point { lat, lon })
    };
    candidates
        .iter()
        .copied()
        .min_by(|a, b| super::distance_m(*a, centre).total_cmp(&super::distance_m(*b, centre)))
        .unwrap_or(centre)
}

/// Import ward boundaries from a GeoJSON FeatureCollection (properties such as `WD25CD`,
/// `WD25NM`, `LAD25CD`, `LAD25NM`), then store each district dissolved from its wards and
/// the region outline dissolved from them all. A feature that cannot be used is rejected
/// with its number (1 = the first feature) and the reason; the rest are stored. Importing
/// the same file again leaves the table as it was.
pub async fn import_wards(
    db: &Db,
    path: &Path,
    progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let features = features_of(path)?;
    import_ward_features(db, &features, progress).await
}

/// The features of a GeoJSON FeatureCollection file.
pub(super) fn features_of(path: &Path) -> Result<Vec<Value>, ImportError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::Io(file.clone(), e))?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| ImportError::Csv {
        file: file.clone(),
        line: e.line() as u64,
        reason: format!("not JSON: {e}"),
    })?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(ImportError::Csv {
            file,
            line: 1,
            reason: "not a GeoJSON FeatureCollection".into(),
        });
    }
    match doc.get_mut("features").map(Value::take) {
        Some(Value::Array(f)) => Ok(f),
        _ => Err(ImportError::Csv {
            file,
            line: 1,
            reason: "not a GeoJSON FeatureCollection (no list of features)".into(),
        }),
    }
}

pub(super) async fn import_ward_features(
    db: &Db,
    features: &[Value],
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    let mut wards: Vec<Boundary> = Vec::new();
    let mut lad_names: BTreeMap<String, String> = BTreeMap::new();
    let mut region: Option<String> = None;
    for (i, f) in features.iter().enumerate() {
        let n = i as u64 + 1;
        report.rows += 1;
        let props = f.get("properties").unwrap_or(&Value::Null);
        let (Some(code), Some(name)) = (prop(props, "WD", "CD"), prop(props, "WD", "NM")) else {
            report.reject(
                n,
                "no ward code and name (properties like WD25CD and WD25NM)".into(),
            );
            continue;
        };
        let Some(lad) = prop(props, "LAD", "CD") else {
            report.reject(
                n,
                format!("{code}: no district code (a property like LAD25CD)"),
            );
            continue;
        };
        let rings = match f.get("geometry").filter(|g| !g.is_null()) {
            None => Err("no geometry".to_string()),
            Some(g) => rings_of(g),
        };
        let rings = match rings {
            Ok(r) => r,
            Err(why) => {
                report.reject(n, format!("{code} {name}: {why}"));
                continue;
            }
        };
        if let Some(nm) = prop(props, "LAD", "NM") {
            lad_names.insert(lad.to_string(), nm.to_string());
        }
        if region.is_none() {
            region = prop(props, "CAUTH", "CD").map(str::to_string);
        }
        let bbox = BBox::around(rings.iter().flatten().copied()).unwrap_or(BBox {
            min_lat: 0.0,
            min_lon: 0.0,
            max_lat: 0.0,
            max_lon: 0.0,
        });
        let given = match (
            props.get("LAT").and_then(Value::as_f64),
            props.get("LONG").and_then(Value::as_f64),
        ) {
            (Some(lat), Some(lon)) if bbox.contains(Point { lat, lon }) => {
                vec![Point { lat, lon }]
            }
            _ => Vec::new(),
        };
        let label = label_for(&rings, &given);
        wards.push(Boundary {
            code: code.to_string(),
            name: name.to_string(),
            parent_code: Some(lad.to_string()),
            label,
            bbox,
            rings,
        });
        if n.is_multiple_of(50) {
            progress(n);
        }
    }
    let mut districts = Vec::new();
    for (lad, name) in &lad_names {
        let mine: Vec<&Boundary> = wards
            .iter()
            .filter(|w| w.parent_code.as_deref() == Some(lad))
            .collect();
        let rings = dissolve(
            &mine
                .iter()
                .flat_map(|w| w.rings.clone())
                .collect::<Vec<_>>(),
        );
        let labels: Vec<Point> = mine.iter().map(|w| w.label).collect();
        if let Some(bbox) = BBox::around(rings.iter().flatten().copied()) {
            districts.push(Boundary {
                code: lad.clone(),
                name: name.clone(),
                parent_code: region.clone(),
                label: label_for(&rings, &labels),
                bbox,
                rings,
            });
        }
    }
    let all: Vec<Vec<Point>> = wards.iter().flat_map(|w| w.rings.clone()).collect();
    let outline = dissolve(&all);
    let mut regions = Vec::new();
    if let Some(bbox) = BBox::around(outline.iter().flatten().copied()) {
        let (code, name) = match &region {
            Some(c) if c == "E47000004" => (c.clone(), "Liverpool City Region".to_string()),
            Some(c) => (c.clone(), REGION_FALLBACK.1.to_string()),
            None => (REGION_FALLBACK.0.to_string(), REGION_FALLBACK.1.to_string()),
        };
        let labels: Vec<Point> = districts.iter().map(|d| d.label).collect();
        regions.push(Boundary {
            code,
            name,
            parent_code: None,
            label: label_for(&outline, &labels),
            bbox,
            rings: outline,
        });
    }
    for (kind, list) in [
        (Kind::Ward, &wards),
        (Kind::District, &districts),
        (Kind::Region, &regions),
    ] {
        let mut batch: Vec<Vec<Bind>> = Vec::new();
        for b in list.iter().map(stored) {
            batch.push(row(kind, &b));
            if batch.len() == 50 {
                report.stored += flush(db, &mut batch).await?;
            }
        }
        report.stored += flush(db, &mut batch).await?;
    }
    progress(report.rows);
    Ok(report)
}

pub(super) fn row(kind: Kind, b: &Boundary) -> Vec<Bind> {
    let rings: Vec<Vec<[f64; 2]>> = b
        .rings
        .iter()
        .map(|r| {
            r.iter()
                .map(|p| [(p.lon * 1e6).round() / 1e6, (p.lat * 1e6).round() / 1e6])
                .collect()
        })
        .collect();
    vec![
        Bind::T(kind.code().into()),
        Bind::T(b.code.clone()),
        Bind::T(b.name.clone()),
        Bind::OptT(b.parent_code.clone()),
        Bind::F(b.label.lat),
        Bind::F(b.label.lon),
        Bind::F(b.bbox.min_lat),
        Bind::F(b.bbox.min_lon),
        Bind::F(b.bbox.max_lat),
        Bind::F(b.bbox.max_lon),
        Bind::T(serde_json::to_string(&rings).unwrap_or_else(|_| "[]".into())),
    ]
}

pub(super) async fn flush(db: &Db, batch: &mut Vec<Vec<Bind>>) -> Result<u64, sqlx::Error> {
    insert_rows(
        db,
        "places_boundaries",
        &[
            "kind",
            "code",
            "name",
            "parent_code",
            "label_latitude",
            "label_longitude",
            "min_latitude",
            "min_longitude",
            "max_latitude",
            "max_longitude",
            "rings",
        ],
        batch,
        "ON CONFLICT (kind, code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, \
         label_latitude = excluded.label_latitude, label_longitude = excluded.label_longitude, \
         min_latitude = excluded.min_latitude, min_longitude = excluded.min_longitude, \
         max_latitude = excluded.max_latitude, max_longitude = excluded.max_longitude, rings = excluded.rings",
    )
    .await
}

pub(super) async fn read(
    db: &Db,
    kind: Kind,
    view: Option<BBox>,
) -> Result<Vec<Boundary>, sqlx::Error> {
    let mut q = String::from(
        "SELECT code, name, parent_code, label_latitude, label_longitude, min_latitude, min_longitude, \
         max_latitude, max_longitude, rings FROM places_boundaries WHERE kind = $1",
    );
    if view.is_some() {
        q.push_str(
            " AND max_latitude >= $2 AND min_latitude <= $3 AND max_longitude >= $4 AND min_longitude <= $5",
        );
    }
    q.push_str(" ORDER BY code");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(q)).bind(kind.code().to_string());
    if let Some(v) = view {
        query = query
            .bind(v.min_lat)
            .bind(v.max_lat)
            .bind(v.min_lon)
            .bind(v.max_lon);
    }
    let rows = query.fetch_all(&db.read).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let text: String = r.try_get("rings")?;
        let raw: Vec<Vec<[f64; 2]>> = serde_json::from_str(&text).unwrap_or_default();
        out.push(Boundary {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            parent_code: r.try_get("parent_code")?,
            label: Point {
                lat: r.try_get("label_latitude")?,
                lon: r.try_get("label_longitude")?,
            },
            bbox: BBox {
                min_lat: r.try_get("min_latitude")?,
                min_lon: r.try_get("min_longitude")?,
                max_lat: r.try_get("max_latitude")?,
                max_lon: r.try_get("max_longitude")?,
            },
            rings: raw
                .into_iter()
                .map(|ring| {
                    ring.into_iter()
                        .map(|[lon, lat]| Point { lat, lon })
                        .collect()
                })
                .collect(),
        });
    }
    Ok(out)
}

/// Every district's outline, by code.
pub async fn districts(db: &Db) -> Result<Vec<Boundary>, sqlx::Error> {
    read(db, Kind::District, None).await
}

/// The city region's outline (none until boundaries are imported).
pub async fn region_outline(db: &Db) -> Result<Option<Boundary>, sqlx::Error> {
    Ok(read(db, Kind::Region, None).await?.into_iter().next())
}

/// The wards whose box meets `view`.
pub async fn wards_in_view(db: &Db, view: BBox) -> Result<Vec<Boundary>, sqlx::Error> {
    read(db, Kind::Ward, Some(view)).await
}

/// What a map of `view` draws: the region outline, the districts in view and the wards in
/// view (empty lists before boundaries are imported).
#[derive(Debug, Clone, Default)]
pub struct MapBase {
    /// The city-region outline.
    pub region: Option<Boundary>,
    /// Districts meeting the view.
    pub districts: Vec<Boundary>,
    /// Wards meeting the view.
    pub wards: Vec<Boundary>,
}

/// The region, districts and wards that meet `view`.
pub async fn in_view(db: &Db, view: BBox) -> Result<MapBase, sqlx::Error> {
    Ok(MapBase {
        region: region_outline(db).await?,
        districts: read(db, Kind::District, Some(view)).await?,
        wards: wards_in_view(db, view).await?,
    })
}

/// How many boundaries of each kind are stored: (wards, districts, regions).
pub async fn counts(db: &Db) -> Result<(i64, i64, i64), sqlx::Error> {
    let mut out = [0i64; 3];
    for (i, k) in [Kind::Ward, Kind::District, Kind::Region]
        .iter()
        .enumerate()
    {
        out[i] = sqlx::query("SELECT COUNT(*) AS n FROM places_boundaries WHERE kind = $1")
            .bind(k.code().to_string())
            .fetch_one(&db.read)
            .await?
            .try_get("n")?;
    }
    Ok((out[0], out[1], out[2]))
}
