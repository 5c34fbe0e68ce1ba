//! Places: official open data (postcode coordinates and small-area centroids) imported by
//! `ensemble opendata import`, postcode parsing, and distances; area boundaries and the
//! projection every map draws with.

pub mod boundaries;
pub mod geometry;
pub mod import;
pub mod postcode;
pub mod small_areas;

pub use postcode::Postcode;

use sqlx::Row;

use crate::db::Db;
use crate::manifest::Manifest;

/// A point on the map.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Point {
    /// Latitude (WGS84).
    pub lat: f64,
    /// Longitude (WGS84).
    pub lon: f64,
}

/// Where a postcode is.
#[derive(Debug, Clone)]
pub struct PostcodePlace {
    /// The postcode.
    pub postcode: String,
    /// Its position.
    pub point: Point,
    /// Its small area of the 2021 geography (LSOA 2021), when known.
    pub lsoa_code: Option<String>,
    /// Its small area of the 2011 geography (LSOA 2011), when known.
    pub lsoa11_code: Option<String>,
    /// Its local authority district name, when known.
    pub lad_name: Option<String>,
}

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_m(a: Point, b: Point) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = (b.lat - a.lat).to_radians();
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().asin()
}

/// A latitude/longitude box that contains every point within `radius_m` of `centre`.
pub fn bounding_box(centre: Point, radius_m: f64) -> (f64, f64, f64, f64) {
    // Metres per degree on the mean sphere, with a margin so the box always holds the circle.
    let dlat = (radius_m / 111_195.0) * 1.01;
    let cos = centre.lat.to_radians().cos().max(0.01);
    let dlon = (radius_m / (111_195.0 * cos)) * 1.01;
    (
        centre.lat - dlat,
        centre.lat + dlat,
        centre.lon - dlon,
        centre.lon + dlon,
    )
}

/// Look up a postcode in the imported open data.
pub async fn find_postcode(
    db: &Db,
    postcode: &Postcode,
) -> Result<Option<PostcodePlace>, sqlx::Error> {
    let row = sqlx::query("SELECT postcode, latitude, longitude, lsoa_code, lsoa11_code, lad_name FROM places_postcodes WHERE postcode = $1")
        .bind(postcode.as_str().to_string())
        .fetch_optional(&db.read)
        .await?;
    row.map(|r| {
        Ok(PostcodePlace {
            postcode: r.try_get("postcode")?,
            point: Point {
                lat: r.try_get("latitude")?,
                lon: r.try_get("longitude")?,
            },
            lsoa_code: r.try_get("lsoa_code")?,
            lsoa11_code: r.try_get("lsoa11_code")?,
            lad_name: r.try_get("lad_name")?,
        })
    })
    .transpose()
}

/// How many postcodes and small areas are loaded.
pub async fn counts(db: &Db) -> Result<(i64, i64), sqlx::Error> {
    let p: i64 = sqlx::query("SELECT COUNT(*) AS n FROM places_postcodes")
        .fetch_one(&db.read)
        .await?
        .try_get("n")?;
    let l: i64 = sqlx::query("SELECT COUNT(*) AS n FROM places_lsoas")
        .fetch_one(&db.read)
        .await?
        .try_get("n")?;
    Ok((p, l))
}

/// What this module declares to the application: routes, jobs and the tables it owns.
pub fn manifest() -> Manifest {
    Manifest::new("places", Vec::new())
        .tables(&["places_postcodes", "places_lsoas", "places_boundaries"])
        .views(&["places_lsoa_areas", "places_postcode_lsoas"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_a_known_distance() {
        // Liverpool Lime Street to Manchester Piccadilly, about 50.0 km as the crow flies.
        let lime = Point {
            lat: 53.4076,
            lon: -2.9774,
        };
        let picc = Point {
            lat: 53.4774,
            lon: -2.2309,
        };
        let d = distance_m(lime, picc);
        assert!((d - 50_040.0).abs() < 500.0, "{d}");
        assert_eq!(distance_m(lime, lime), 0.0);
    }

    #[test]
    fn the_bounding_box_contains_the_circle() {
        let c = Point {
            lat: 53.4,
            lon: -2.98,
        };
        let (a, b, l, r) = bounding_box(c, 5000.0);
        for (lat, lon) in [(a, c.lon), (b, c.lon), (c.lat, l), (c.lat, r)] {
            assert!(distance_m(c, Point { lat, lon }) >= 5000.0);
        }
    }
}
