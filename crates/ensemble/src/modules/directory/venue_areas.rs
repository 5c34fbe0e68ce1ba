//! Which small areas a venue is in, for both geographies (LSOA 2021 for IoD2025, LSOA 2011
//! for IoD2019): point-in-polygon against the imported LSOA boundaries where the venue's
//! position is known, else (no position, no boundaries, or a point in none of them, such
//! as on the water) its postcode's codes. Stored on `locations` when a venue is saved, and
//! for every venue by [`refresh`] after postcodes or boundaries are imported.

use std::collections::HashMap;

use sqlx::Row;

use super::model::ValidLocation;
use crate::error::AppError;
use crate::modules::places::boundaries::Kind;
use crate::modules::places::small_areas::{self, Locator};
use crate::modules::places::{self, Point};
use crate::state::AppState;

/// Fill in a venue's position from its postcode when none was given, and its small areas.
pub async fn place(state: &AppState, loc: &mut ValidLocation) -> Result<(), AppError> {
    let pc = places::find_postcode(&state.db, &loc.postcode).await?;
    if loc.point.is_none() {
        loc.point = pc.as_ref().map(|p| p.point);
    }
    let (mut l21, mut l11) = (None, None);
    if let Some(p) = loc.point {
        l21 = small_areas::lsoa_at(&state.db, Kind::Lsoa2021, p).await?;
        l11 = small_areas::lsoa_at(&state.db, Kind::Lsoa2011, p).await?;
    }
    let (p21, p11) = pc.map_or((None, None), |p| (p.lsoa_code, p.lsoa11_code));
    loc.lsoas = (l21.or(p21), l11.or(p11));
    Ok(())
}

/// The rule for one venue: the boundary containing its position, else its postcode's code.
fn choose(located: Option<&str>, postcode: Option<String>) -> Option<String> {
    located.map(str::to_string).or(postcode)
}

/// Bring every venue's small areas up to date with the imported boundaries and postcodes
/// (after `ensemble opendata import`); only venues whose codes change are written. Returns
/// how many changed.
pub async fn refresh(state: &AppState) -> Result<u64, AppError> {
    let l21 = Locator::load(&state.db, Kind::Lsoa2021).await?;
    let l11 = Locator::load(&state.db, Kind::Lsoa2011).await?;
    let rows = sqlx::query(
        "SELECT l.id, l.latitude, l.longitude, l.lsoa_code, l.lsoa11_code, v.lsoa_code AS pc21, v.lsoa11_code AS pc11 \
         FROM locations l LEFT JOIN places_postcode_lsoas v ON v.postcode = l.postcode ORDER BY l.id",
    )
    .fetch_all(&state.db.read)
    .await?;
    let mut changes: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for r in &rows {
        let lat: Option<f64> = r.try_get("latitude")?;
        let lon: Option<f64> = r.try_get("longitude")?;
        let point = lat.zip(lon).map(|(lat, lon)| Point { lat, lon });
        let want = (
            choose(point.and_then(|p| l21.locate(p)), r.try_get("pc21")?),
            choose(point.and_then(|p| l11.locate(p)), r.try_get("pc11")?),
        );
        let have: (Option<String>, Option<String>) =
            (r.try_get("lsoa_code")?, r.try_get("lsoa11_code")?);
        // A venue with neither a position in a boundary nor a known postcode keeps what it has.
        if want != have && (want.0.is_some() || want.1.is_some()) {
            changes.insert(r.try_get("id")?, want);
        }
    }
    if changes.is_empty() {
        return Ok(0);
    }
    let mut tx = state.db.begin().await?;
    for (id, (a, b)) in &changes {
        sqlx::query("UPDATE locations SET lsoa_code = $1, lsoa11_code = $2 WHERE id = $3")
            .bind(a.clone())
            .bind(b.clone())
            .bind(id.clone())
            .execute(&mut *tx)
            .await?;
    }
    super::cache::bump(&mut tx).await?;
    tx.commit().await?;
    super::forget_cached(state);
    Ok(changes.len() as u64)
}
