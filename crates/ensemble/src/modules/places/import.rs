//! Import of official open data: postcode → coordinates/LSOA tables (ONS Postcode Directory
//! layout, or the derived Liverpool City Region files in `../shared/data/postcodes`) and LSOA
//! population-weighted centroids (ONS layout). Columns are found by name, files may be
//! gzip-compressed, rows are upserted in batches so a second import changes nothing, and
//! every rejected row is counted with its line number and reason.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::db::{Bind, Db, insert_rows};

use super::postcode::Postcode;

/// What an import did.
#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// Rows stored (inserted or updated).
    pub stored: u64,
    /// Rows skipped as terminated postcodes.
    pub terminated: u64,
    /// Rows rejected, with the first few reasons (line number, reason).
    pub rejected: Vec<(u64, String)>,
    /// Total rejected (the list keeps only the first 20).
    pub rejected_count: u64,
}

impl ImportReport {
    pub(crate) fn reject(&mut self, line: u64, why: String) {
        self.rejected_count += 1;
        if self.rejected.len() < 20 {
            self.rejected.push((line, why));
        }
    }
}

/// Errors that stop an import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The CSV is malformed.
    #[error("{file}: line {line}: {reason}")]
    Csv {
        /// File.
        file: String,
        /// Line.
        line: u64,
        /// Reason.
        reason: String,
    },
    /// A feature of a GeoJSON file cannot be used.
    #[error("{file}: feature {feature}: {reason}")]
    Feature {
        /// File.
        file: String,
        /// Feature number (1 = the first).
        feature: u64,
        /// Reason, naming the field at fault.
        reason: String,
    },
    /// A needed column is missing.
    #[error("{file}: no {what} column; expected one of: {expected}")]
    MissingColumn {
        /// File.
        file: String,
        /// Which column.
        what: &'static str,
        /// Accepted header names.
        expected: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn open(path: &Path) -> Result<Box<dyn Read>, ImportError> {
    let shown = path.display().to_string();
    let f = File::open(path).map_err(|e| ImportError::Io(shown, e))?;
    let reader = BufReader::new(f);
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// A flexible CSV reader over a plain or gzip-compressed file (shared with the area import).
pub fn reader(path: &Path) -> Result<csv::Reader<Box<dyn Read>>, ImportError> {
    Ok(csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(open(path)?))
}

fn column(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| {
        names.iter().any(|n| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(n)
        })
    })
}

fn need(
    headers: &csv::StringRecord,
    names: &[&'static str],
    what: &'static str,
    file: &str,
) -> Result<usize, ImportError> {
    column(headers, names).ok_or_else(|| ImportError::MissingColumn {
        file: file.to_string(),
        what,
        expected: names.join(", "),
    })
}

fn parse_coord(s: &str, lat: bool) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    let ok = if lat {
        (-90.0..=90.0).contains(&v)
    } else {
        (-180.0..=180.0).contains(&v)
    };
    // ONSPD marks postcodes without a grid reference with latitude 99.999999.
    (ok && v.is_finite()).then_some(v)
}

/// Import a postcode file. `progress` is called with the number of rows read so far.
pub async fn import_postcodes(
    db: &Db,
    path: &Path,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let file = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(open(path)?);
    let headers = rdr
        .headers()
        .map_err(|e| ImportError::Csv {
            file: file.clone(),
            line: 1,
            reason: e.to_string(),
        })?
        .clone();
    crate::csvfile::check_header(&headers).map_err(|reason| ImportError::Csv {
        file: file.clone(),
        line: 1,
        reason,
    })?;
    let pc = need(
        &headers,
        &["pcds", "pcd", "pcd7", "pcd8", "postcode"],
        "postcode",
        &file,
    )?;
    let lat = need(&headers, &["latitude", "lat"], "latitude", &file)?;
    let lon = need(
        &headers,
        &["longitude", "long", "lon", "lng"],
        "longitude",
        &file,
    )?;
    // Each geography from its own column: LSOA 2021 into `lsoa_code`, LSOA 2011 into
    // `lsoa11_code`. The city-region LSOA 2021 file carries the official ONS May 2022 LSOA
    // 2011 (`lsoa11cd_ons_may22`, blank for postcodes newer than that lookup) and a
    // point-in-polygon one (`lsoa11cd_pip_bgc`) used only where the official one is blank.
    // A column the file lacks leaves the stored value as it was.
    let lsoa21 = column(&headers, &["lsoa21cd", "lsoa21"]);
    let lsoa11 = column(&headers, &["lsoa11cd_ons_may22", "lsoa11cd", "lsoa11"]);
    let lsoa11_fallback = column(&headers, &["lsoa11cd_pip_bgc"]);
    let lad = column(
        &headers,
        &["lad25cd", "lad24cd", "lad23cd", "oslaua", "laua", "lad_cd"],
    );
    let lad_nm = column(&headers, &["lad_nm", "lad25nm", "lad24nm", "ladnm"]);
    let doterm = column(&headers, &["doterm"]);
    let mut cols = vec!["postcode", "latitude", "longitude", "lad_code", "lad_name"];
    if lsoa21.is_some() {
        cols.push("lsoa_code");
    }
    if lsoa11.is_some() || lsoa11_fallback.is_some() {
        cols.push("lsoa11_code");
    }
    let mut report = ImportReport::default();
    let mut batch: Vec<Vec<Bind>> = Vec::with_capacity(500);
    let mut record = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(ImportError::Csv {
                    file,
                    line,
                    reason: e.to_string(),
                });
            }
        }
        report.rows += 1;
        if report.rows % 5000 == 0 {
            progress(report.rows);
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if doterm
            .and_then(|i| record.get(i))
            .is_some_and(|s| !s.trim().is_empty())
        {
            report.terminated += 1;
            continue;
        }
        let raw = record.get(pc).unwrap_or("");
        let postcode = match Postcode::parse(raw) {
            Ok(p) => p,
            Err(e) => {
                report.reject(line, format!("postcode {raw:?}: {e}"));
                continue;
            }
        };
        let (Some(la), Some(lo)) = (
            parse_coord(record.get(lat).unwrap_or(""), true),
            parse_coord(record.get(lon).unwrap_or(""), false),
        ) else {
            report.reject(line, format!("{postcode}: no usable latitude/longitude"));
            continue;
        };
        let mut row = vec![
            Bind::T(postcode.as_str().to_string()),
            Bind::F(la),
            Bind::F(lo),
            Bind::OptT(get(lad)),
            Bind::OptT(get(lad_nm)),
        ];
        let l21 = get(lsoa21);
        let (l11, col11) = match get(lsoa11) {
            Some(c) => (Some(c), lsoa11),
            None => (get(lsoa11_fallback), lsoa11_fallback),
        };
        let bad = [(&l21, lsoa21), (&l11, col11)]
            .into_iter()
            .find_map(|(c, i)| Some((c.as_deref().filter(|c| !is_lsoa_code(c))?, i?)));
        if let Some((c, i)) = bad {
            let shown = headers.get(i).unwrap_or("LSOA").trim();
            report.reject(
                line,
                format!(
                    "{postcode}: {shown} {c:?} is not an LSOA code (E01 or W01 and six digits)"
                ),
            );
            continue;
        }
        if lsoa21.is_some() {
            row.push(Bind::OptT(l21));
        }
        if lsoa11.is_some() || lsoa11_fallback.is_some() {
            row.push(Bind::OptT(l11));
        }
        batch.push(row);
        if batch.len() == 500 {
            report.stored += flush_postcodes(db, &mut batch, &cols).await?;
        }
    }
    report.stored += flush_postcodes(db, &mut batch, &cols).await?;
    progress(report.rows);
    Ok(report)
}

/// Keep only the last row for each key (the first value): PostgreSQL refuses to upsert one
/// key twice in one statement.
fn last_per_key(batch: &mut Vec<Vec<Bind>>) {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<Vec<Bind>> = batch
        .drain(..)
        .rev()
        .filter(|r| seen.insert(format!("{:?}", r.first())))
        .collect();
    kept.reverse();
    *batch = kept;
}

/// Is this an LSOA code (England `E01` or Wales `W01`, then six digits)?
pub fn is_lsoa_code(c: &str) -> bool {
    c.len() == 9
        && (c.starts_with("E01") || c.starts_with("W01"))
        && c[3..].bytes().all(|b| b.is_ascii_digit())
}

async fn flush_postcodes(
    db: &Db,
    batch: &mut Vec<Vec<Bind>>,
    cols: &[&str],
) -> Result<u64, sqlx::Error> {
    last_per_key(batch);
    let set = cols[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    insert_rows(
        db,
        "places_postcodes",
        cols,
        batch,
        &format!("ON CONFLICT (postcode) DO UPDATE SET {set}"),
    )
    .await
}

/// Import LSOA population-weighted centroids (2011 or 2021 codes).
pub async fn import_centroids(
    db: &Db,
    path: &Path,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let file = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(open(path)?);
    let headers = rdr
        .headers()
        .map_err(|e| ImportError::Csv {
            file: file.clone(),
            line: 1,
            reason: e.to_string(),
        })?
        .clone();
    crate::csvfile::check_header(&headers).map_err(|reason| ImportError::Csv {
        file: file.clone(),
        line: 1,
        reason,
    })?;
    let code = need(
        &headers,
        &["lsoa21cd", "lsoa11cd", "lsoa_code", "code"],
        "LSOA code",
        &file,
    )?;
    let name = column(&headers, &["lsoa21nm", "lsoa11nm", "lsoa_name", "name"]);
    let lat = need(&headers, &["latitude", "lat", "y"], "latitude", &file)?;
    let lon = need(
        &headers,
        &["longitude", "long", "lon", "x"],
        "longitude",
        &file,
    )?;
    let lad = column(&headers, &["lad24cd", "lad22cd", "lad19cd", "lad_cd"]);
    let lad_nm = column(&headers, &["lad24nm", "lad22nm", "lad19nm", "lad_nm"]);
    let mut report = ImportReport::default();
    let mut record = csv::StringRecord::new();
    let mut batch: Vec<Vec<Bind>> = Vec::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(ImportError::Csv {
                    file,
                    line,
                    reason: e.to_string(),
                });
            }
        }
        report.rows += 1;
        if report.rows % 5000 == 0 {
            progress(report.rows);
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let Some(c) = get(Some(code))
            .filter(|c| c.len() == 9 && (c.starts_with("E0") || c.starts_with("W0")))
        else {
            report.reject(
                line,
                format!("{:?} is not an LSOA code", record.get(code).unwrap_or("")),
            );
            continue;
        };
        let (Some(la), Some(lo)) = (
            parse_coord(record.get(lat).unwrap_or(""), true),
            parse_coord(record.get(lon).unwrap_or(""), false),
        ) else {
            report.reject(line, format!("{c}: latitude/longitude missing or out of range (easting/northing are not accepted; use the WGS84 columns)"));
            continue;
        };
        batch.push(vec![
            Bind::T(c.clone()),
            Bind::T(get(name).unwrap_or(c)),
            Bind::OptT(get(lad)),
            Bind::OptT(get(lad_nm)),
            Bind::F(la),
            Bind::F(lo),
        ]);
        if batch.len() == 500 {
            report.stored += flush_centroids(db, &mut batch).await?;
        }
    }
    report.stored += flush_centroids(db, &mut batch).await?;
    progress(report.rows);
    Ok(report)
}

async fn flush_centroids(db: &Db, batch: &mut Vec<Vec<Bind>>) -> Result<u64, sqlx::Error> {
    last_per_key(batch);
    insert_rows(
        db,
        "places_lsoas",
        &["code", "name", "lad_code", "lad_name", "latitude", "longitude"],
        batch,
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, lad_code = excluded.lad_code, \
         lad_name = excluded.lad_name, latitude = excluded.latitude, longitude = excluded.longitude",
    )
    .await
}

/// The shared open-data files this installation knows how to load, in order.
pub fn shared_files(shared_dir: &Path) -> (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>) {
    let data = shared_dir.join("data");
    let postcodes = vec![data.join("postcodes/lcr_postcodes_lsoa21.csv.gz")];
    let centroids = vec![data.join("geo/lsoa21_population_weighted_centroids_lcr.csv")];
    (
        postcodes.into_iter().filter(|p| p.is_file()).collect(),
        centroids.into_iter().filter(|p| p.is_file()).collect(),
    )
}

/// The shared boundary files (GeoJSON) this installation knows how to load: the wards, then
/// the small areas of 2021 (IoD2025) and of 2011 (IoD2019).
pub fn shared_boundary_files(shared_dir: &Path) -> Vec<std::path::PathBuf> {
    [
        "data/geo/lcr_wards_may2025_boundaries_bgc.geojson",
        "data/geo/lcr_lsoa21_boundaries_bgc.geojson",
        "data/geo/lcr_lsoa11_boundaries_bgc.geojson",
    ]
    .iter()
    .map(|f| shared_dir.join(f))
    .filter(|p| p.is_file())
    .collect()
}
