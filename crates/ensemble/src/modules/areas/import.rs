//! Import of the English Indices of Deprivation and the small-area lookups. Each file's kind
//! is recognised from its header (the official MHCLG and ONS headers, see docs/DATA.md), so
//! `ensemble opendata import --iod FILE` needs no other hint. A file is read and stored in
//! one transaction, about 1,000 values to a multi-row `INSERT … ON CONFLICT DO UPDATE` on both
//! backends, so a second import of the same file replaces its values and changes nothing
//! else; a row with a bad code, rank, decile or number is rejected with its line number and
//! the rest are stored.

use std::path::{Path, PathBuf};

use super::Edition;
use crate::db::{Bind, Db, bind_all};
use crate::modules::places::import::{ImportError, ImportReport};

/// The kinds of file the importer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// IoD2019 File 1: IMD rank and decile.
    Iod2019File1,
    /// IoD2019 File 2: the seven domains' ranks and deciles.
    Iod2019File2,
    /// IoD2019 File 3: IDACI and IDAOPI ranks and deciles.
    Iod2019File3,
    /// IoD2019 File 6: mid-2015 population denominators.
    Iod2019File6,
    /// IoD2019 File 9: exponentially transformed domain scores (the IMD score is derived).
    Iod2019File9,
    /// IoD2019 File 10: district summaries as published.
    Iod2019File10,
    /// IoD2025 File 7: scores, ranks and deciles (and, in the full file, populations).
    Iod2025File7,
    /// IoD2025 File 8: underlying indicators (the income-domain numerator is kept).
    Iod2025File8,
    /// IoD2025 File 10 v2: district summaries as published.
    Iod2025File10,
    /// ONS LSOA 2011 → LSOA 2021 lookup.
    LsoaLinks,
    /// ONS LSOA → ward → district lookup (2011/2019 or 2021/2024).
    Wards(Edition),
    /// ONS LSOA population-weighted centroids (2011 or 2021).
    Centroids(Edition),
}

impl FileKind {
    /// What the file is, in words.
    pub fn label(self) -> &'static str {
        match self {
            FileKind::Iod2019File1 => "IoD2019 File 1 (IMD ranks and deciles)",
            FileKind::Iod2019File2 => "IoD2019 File 2 (domains)",
            FileKind::Iod2019File3 => "IoD2019 File 3 (IDACI and IDAOPI)",
            FileKind::Iod2019File6 => "IoD2019 File 6 (population denominators)",
            FileKind::Iod2019File9 => "IoD2019 File 9 (transformed scores; IMD score derived)",
            FileKind::Iod2019File10 => "IoD2019 File 10 (district summaries, for checking)",
            FileKind::Iod2025File7 => "IoD2025 File 7 (scores, ranks and deciles)",
            FileKind::Iod2025File8 => "IoD2025 File 8 (underlying indicators)",
            FileKind::Iod2025File10 => "IoD2025 File 10 v2 (district summaries, for checking)",
            FileKind::LsoaLinks => "ONS LSOA 2011 to LSOA 2021 lookup",
            FileKind::Wards(Edition::Iod2019) => "ONS LSOA 2011 to ward 2019 lookup",
            FileKind::Wards(Edition::Iod2025) => "ONS LSOA 2021 to ward 2024 lookup",
            FileKind::Centroids(Edition::Iod2019) => "ONS LSOA 2011 population-weighted centroids",
            FileKind::Centroids(Edition::Iod2025) => "ONS LSOA 2021 population-weighted centroids",
        }
    }

    /// The edition whose district summaries depend on the file.
    pub fn edition(self) -> Option<Edition> {
        match self {
            FileKind::Iod2019File1
            | FileKind::Iod2019File2
            | FileKind::Iod2019File3
            | FileKind::Iod2019File6
            | FileKind::Iod2019File9
            | FileKind::Iod2019File10 => Some(Edition::Iod2019),
            FileKind::Iod2025File7 | FileKind::Iod2025File8 | FileKind::Iod2025File10 => {
                Some(Edition::Iod2025)
            }
            _ => None,
        }
    }
}

/// How a cell is checked and stored.
#[derive(Debug, Clone, Copy)]
enum Val {
    /// An English LSOA code (E01 and six digits).
    Lsoa,
    /// A non-empty text.
    Text,
    /// A rank among the edition's LSOAs.
    Rank,
    /// A decile 1..10.
    Decile,
    /// A number.
    Num,
    /// A number or blank.
    OptNum,
    /// A whole number of people (0 or more).
    People,
    /// A district rank, possibly written "6.0".
    DistrictRank,
    /// Latitude or longitude.
    Coord(bool),
}

/// A column of the file and where it goes (a leading `_` is read but not stored).
struct Field {
    col: usize,
    name: &'static str,
    val: Val,
}

/// How one kind of file is stored.
struct Plan {
    kind: FileKind,
    table: &'static str,
    /// Columns stored with a fixed value (the edition).
    fixed: Vec<(&'static str, i64)>,
    key: &'static [&'static str],
    fields: Vec<Field>,
    /// Rows whose code starts with W (Wales) are skipped, not rejected.
    england_only: bool,
}

fn norm(h: &str) -> String {
    h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()
}

/// The position of the first header starting with `prefix` (ignoring case).
fn col(headers: &[String], prefix: &str) -> Option<usize> {
    let p = prefix.to_ascii_lowercase();
    headers.iter().position(|h| h.starts_with(&p))
}

fn need(headers: &[String], prefix: &'static str, file: &str) -> Result<usize, ImportError> {
    col(headers, prefix).ok_or_else(|| ImportError::MissingColumn {
        file: file.to_string(),
        what: "required",
        expected: prefix.to_string(),
    })
}

/// Which kind of file this header belongs to.
pub fn detect(headers: &[String]) -> Option<FileKind> {
    let has = |p: &str| col(headers, p).is_some();
    let first = headers.first().map(String::as_str).unwrap_or("");
    if first.starts_with("lsoa code (2011)") {
        if has("income score - exponentially transformed") {
            return Some(FileKind::Iod2019File9);
        }
        if has("total population: mid 2015") {
            return Some(FileKind::Iod2019File6);
        }
        if has("income rank") {
            return Some(FileKind::Iod2019File2);
        }
        if has("income deprivation affecting children index (idaci) rank") {
            return Some(FileKind::Iod2019File3);
        }
        if has("index of multiple deprivation (imd) rank") {
            return Some(FileKind::Iod2019File1);
        }
        return None;
    }
    if first.starts_with("lsoa code (2021)") && has("index of multiple deprivation (imd) score") {
        return Some(FileKind::Iod2025File7);
    }
    if has("lsoa21_code") && has("income_domain_numerator") {
        return Some(FileKind::Iod2025File8);
    }
    if has("imd - rank of average score") && has("local authority district code (2019)") {
        return Some(FileKind::Iod2019File10);
    }
    if has("ltla24_code") && has("imd_rank_of_average_score") {
        return Some(FileKind::Iod2025File10);
    }
    let exact = |n: &str| headers.iter().any(|h| h == n);
    if exact("lsoa11cd") && exact("lsoa21cd") && exact("chgind") {
        return Some(FileKind::LsoaLinks);
    }
    let ward = headers
        .iter()
        .any(|h| h.starts_with("wd") && h.ends_with("cd"));
    let latlon = exact("latitude") && exact("longitude");
    for (code, edition) in [
        ("lsoa11cd", Edition::Iod2019),
        ("lsoa21cd", Edition::Iod2025),
    ] {
        if exact(code) && ward {
            return Some(FileKind::Wards(edition));
        }
        if exact(code) && latlon {
            return Some(FileKind::Centroids(edition));
        }
    }
    None
}

fn f(col: usize, name: &'static str, val: Val) -> Field {
    Field { col, name, val }
}

/// The ranked columns of a file (IMD, domains, supplementary indices) that exist in it.
const RANKED: &[(&str, &str)] = &[
    ("index of multiple deprivation (imd)", "imd"),
    ("income", "income"),
    ("employment", "employment"),
    ("education, skills and training", "education"),
    ("health deprivation and disability", "health"),
    ("crime", "crime"),
    ("barriers to housing and services", "barriers"),
    ("living environment", "living"),
    (
        "income deprivation affecting children index (idaci)",
        "idaci",
    ),
    (
        "income deprivation affecting older people (idaopi)",
        "idaopi",
    ),
];

const RANK_NAMES: &[&str] = &[
    "imd_rank",
    "income_rank",
    "employment_rank",
    "education_rank",
    "health_rank",
    "crime_rank",
    "barriers_rank",
    "living_rank",
    "idaci_rank",
    "idaopi_rank",
];
const DECILE_NAMES: &[&str] = &[
    "imd_decile",
    "income_decile",
    "employment_decile",
    "education_decile",
    "health_decile",
    "crime_decile",
    "barriers_decile",
    "living_decile",
    "idaci_decile",
    "idaopi_decile",
];

fn ranked_fields(h: &[String], only: &[&str]) -> Vec<Field> {
    let mut out = Vec::new();
    for (i, (prefix, short)) in RANKED.iter().enumerate() {
        if !only.contains(short) {
            continue;
        }
        if let Some(c) = col(h, &format!("{prefix} rank")) {
            out.push(f(c, RANK_NAMES[i], Val::Rank));
        }
        if let Some(c) = col(h, &format!("{prefix} decile")) {
            out.push(f(c, DECILE_NAMES[i], Val::Decile));
        }
    }
    out
}

const DOMAINS: &[&str] = &[
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "barriers",
    "living",
];

fn lsoa_head(
    h: &[String],
    year: &str,
    district_year: &str,
    file: &str,
) -> Result<Vec<Field>, ImportError> {
    let code = col(h, &format!("lsoa code ({year})"));
    let name = col(h, &format!("lsoa name ({year})"));
    let dc = col(
        h,
        &format!("local authority district code ({district_year})"),
    );
    let dn = col(
        h,
        &format!("local authority district name ({district_year})"),
    );
    match (code, name, dc, dn) {
        (Some(a), Some(b), Some(c), Some(d)) => Ok(vec![
            f(a, "code", Val::Lsoa),
            f(b, "name", Val::Text),
            f(c, "district_code", Val::Text),
            f(d, "district_name", Val::Text),
        ]),
        _ => Err(ImportError::MissingColumn {
            file: file.to_string(),
            what: "small-area",
            expected: format!(
                "LSOA code ({year}), LSOA name ({year}), Local Authority District code ({district_year}), Local Authority District name ({district_year})"
            ),
        }),
    }
}

fn plan(kind: FileKind, h: &[String], file: &str) -> Result<Plan, ImportError> {
    let lsoas = |edition: Edition, fields: Vec<Field>| Plan {
        kind,
        table: "area_lsoas",
        fixed: vec![("edition", edition.year())],
        key: &["edition", "code"],
        fields,
        england_only: true,
    };
    Ok(match kind {
        FileKind::Iod2019File1 | FileKind::Iod2019File2 | FileKind::Iod2019File3 => {
            let only: &[&str] = match kind {
                FileKind::Iod2019File1 => &["imd"],
                FileKind::Iod2019File2 => &[
                    "imd",
                    "income",
                    "employment",
                    "education",
                    "health",
                    "crime",
                    "barriers",
                    "living",
                ],
                _ => &["idaci", "idaopi"],
            };
            let mut fields = lsoa_head(h, "2011", "2019", file)?;
            fields.extend(ranked_fields(h, only));
            lsoas(Edition::Iod2019, fields)
        }
        FileKind::Iod2019File6 => {
            let mut fields = lsoa_head(h, "2011", "2019", file)?;
            fields.push(f(
                need(h, "total population: mid 2015", file)?,
                "population",
                Val::People,
            ));
            lsoas(Edition::Iod2019, fields)
        }
        FileKind::Iod2019File9 => {
            let mut fields = lsoa_head(h, "2011", "2019", file)?;
            for (prefix, name) in [
                ("income score", "_income"),
                ("employment score", "_employment"),
                ("education score", "_education"),
                ("health score", "_health"),
                ("crime score", "_crime"),
                ("barriers score", "_barriers"),
                ("living environment score", "_living"),
            ] {
                let c = col(h, prefix).ok_or_else(|| ImportError::MissingColumn {
                    file: file.to_string(),
                    what: "transformed score",
                    expected: format!("{prefix} - exponentially transformed"),
                })?;
                fields.push(f(c, name, Val::Num));
            }
            lsoas(Edition::Iod2019, fields)
        }
        FileKind::Iod2025File7 => {
            let mut fields = lsoa_head(h, "2021", "2024", file)?;
            fields.push(f(
                need(h, "index of multiple deprivation (imd) score", file)?,
                "imd_score",
                Val::Num,
            ));
            fields.push(f(need(h, "income score", file)?, "income_score", Val::Num));
            let mut all = vec!["imd", "idaci", "idaopi"];
            all.extend(DOMAINS);
            fields.extend(ranked_fields(h, &all));
            if let Some(c) = col(h, "total population: mid 2022") {
                fields.push(f(c, "population", Val::People));
            }
            lsoas(Edition::Iod2025, fields)
        }
        FileKind::Iod2025File8 => lsoas(
            Edition::Iod2025,
            vec![
                f(need(h, "lsoa21_code", file)?, "code", Val::Lsoa),
                f(
                    need(h, "income_domain_numerator", file)?,
                    "income_numerator",
                    Val::OptNum,
                ),
            ],
        ),
        FileKind::Iod2019File10 | FileKind::Iod2025File10 => {
            let (code, name, avg, rank, prop, edition) = if kind == FileKind::Iod2019File10 {
                (
                    "local authority district code (2019)",
                    "local authority district name (2019)",
                    "imd - average score",
                    "imd - rank of average score",
                    "imd - proportion of lsoas in most deprived 10% nationally",
                    Edition::Iod2019,
                )
            } else {
                (
                    "ltla24_code",
                    "ltla24_name",
                    "imd_average_score",
                    "imd_rank_of_average_score",
                    "imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally",
                    Edition::Iod2025,
                )
            };
            Plan {
                kind,
                table: "area_district_reference",
                fixed: vec![("edition", edition.year())],
                key: &["edition", "district_code"],
                fields: vec![
                    f(need(h, code, file)?, "district_code", Val::Text),
                    f(need(h, name, file)?, "district_name", Val::Text),
                    f(need(h, avg, file)?, "average_score", Val::Num),
                    f(
                        need(h, rank, file)?,
                        "rank_of_average_score",
                        Val::DistrictRank,
                    ),
                    f(
                        need(h, prop, file)?,
                        "proportion_most_deprived_10",
                        Val::Num,
                    ),
                ],
                england_only: false,
            }
        }
        FileKind::LsoaLinks => Plan {
            kind,
            table: "area_lsoa_links",
            fixed: vec![],
            key: &["lsoa11_code", "lsoa21_code"],
            fields: vec![
                f(need(h, "lsoa11cd", file)?, "lsoa11_code", Val::Lsoa),
                f(need(h, "lsoa21cd", file)?, "lsoa21_code", Val::Lsoa),
                f(need(h, "chgind", file)?, "change_indicator", Val::Text),
            ],
            england_only: true,
        },
        FileKind::Wards(edition) => {
            let code = if edition == Edition::Iod2019 {
                "lsoa11cd"
            } else {
                "lsoa21cd"
            };
            let find = |pre: &str, suf: &str| {
                h.iter()
                    .position(|x| x.starts_with(pre) && x.ends_with(suf) && x.len() <= 7)
            };
            let (Some(wc), Some(wn), Some(lc), Some(ln)) = (
                find("wd", "cd"),
                find("wd", "nm"),
                find("lad", "cd"),
                find("lad", "nm"),
            ) else {
                return Err(ImportError::MissingColumn {
                    file: file.to_string(),
                    what: "ward",
                    expected: "WDyyCD, WDyyNM, LADyyCD, LADyyNM".into(),
                });
            };
            Plan {
                kind,
                table: "area_lsoa_wards",
                fixed: vec![("edition", edition.year())],
                key: &["edition", "lsoa_code"],
                fields: vec![
                    f(need(h, code, file)?, "lsoa_code", Val::Lsoa),
                    f(wc, "ward_code", Val::Text),
                    f(wn, "ward_name", Val::Text),
                    f(lc, "district_code", Val::Text),
                    f(ln, "district_name", Val::Text),
                ],
                england_only: true,
            }
        }
        FileKind::Centroids(edition) => {
            let code = if edition == Edition::Iod2019 {
                "lsoa11cd"
            } else {
                "lsoa21cd"
            };
            lsoas(
                edition,
                vec![
                    f(need(h, code, file)?, "code", Val::Lsoa),
                    f(need(h, "latitude", file)?, "latitude", Val::Coord(true)),
                    f(need(h, "longitude", file)?, "longitude", Val::Coord(false)),
                ],
            )
        }
    })
}

/// Check one cell; the error names the column and the value.
fn cell(raw: &str, val: Val, header: &str, edition: Option<Edition>) -> Result<Bind, String> {
    let v = raw.trim();
    let bad = |what: &str| format!("{header}: {v:?} is not {what}");
    match val {
        Val::Lsoa => {
            let ok =
                v.len() == 9 && v.starts_with("E01") && v[3..].bytes().all(|b| b.is_ascii_digit());
            if ok {
                Ok(Bind::T(v.to_string()))
            } else {
                Err(bad("an English LSOA code (E01 and six digits)"))
            }
        }
        Val::Text => {
            if v.is_empty() {
                Err(format!("{header}: empty"))
            } else {
                Ok(Bind::T(v.to_string()))
            }
        }
        Val::Rank => {
            let n = edition.map_or(i64::MAX, Edition::lsoas_in_england);
            match v.parse::<i64>() {
                Ok(r) if (1..=n).contains(&r) => Ok(Bind::I(r)),
                _ => Err(bad(&format!("a rank from 1 to {n}"))),
            }
        }
        Val::Decile => match v.parse::<i64>() {
            Ok(d) if (1..=10).contains(&d) => Ok(Bind::I(d)),
            _ => Err(bad("a decile from 1 to 10")),
        },
        Val::Num => match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Bind::F(x)),
            _ => Err(bad("a number")),
        },
        Val::OptNum => {
            if v.is_empty() {
                return Ok(Bind::OptF(None));
            }
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(Bind::OptF(Some(x))),
                _ => Err(bad("a number or blank")),
            }
        }
        Val::People => match v.parse::<i64>() {
            Ok(p) if p >= 0 => Ok(Bind::I(p)),
            _ => Err(bad("a whole number of people")),
        },
        Val::DistrictRank => match v.parse::<f64>() {
            Ok(x) if x >= 1.0 && x.fract() == 0.0 && x < 10_000.0 => Ok(Bind::I(x as i64)),
            _ => Err(bad("a district rank")),
        },
        Val::Coord(lat) => {
            let range = if lat { -90.0..=90.0 } else { -180.0..=180.0 };
            match v.parse::<f64>() {
                Ok(x) if range.contains(&x) => Ok(Bind::F(x)),
                _ => Err(bad(if lat { "a latitude" } else { "a longitude" })),
            }
        }
    }
}

/// The published IMD 2019 weights applied to File 9's transformed domain scores, in the
/// order income, employment, education, health, crime, barriers, living environment.
pub const IMD2019_WEIGHTS: [f64; 7] = [0.225, 0.225, 0.135, 0.135, 0.093, 0.093, 0.093];

/// Import one file of a known kind (recognised from its header). `progress` is called with
/// the number of rows read so far.
pub async fn import_file(
    db: &Db,
    path: &Path,
    mut progress: impl FnMut(u64),
) -> Result<(FileKind, ImportReport), ImportError> {
    let file = path.display().to_string();
    let mut rdr = crate::modules::places::import::reader(path)?;
    let raw_headers = rdr
        .headers()
        .map_err(|e| ImportError::Csv {
            file: file.clone(),
            line: 1,
            reason: e.to_string(),
        })?
        .clone();
    let headers: Vec<String> = raw_headers.iter().map(norm).collect();
    let kind = detect(&headers).ok_or_else(|| ImportError::Csv {
        file: file.clone(),
        line: 1,
        reason: format!(
            "this header is not one Ensemble knows (it starts {:?}); expected an IoD2019 File 1, 2, 3, 6, 9 or 10, an IoD2025 File 7, 8 or 10, or an ONS LSOA lookup or centroid file (see docs/DATA.md)",
            raw_headers.iter().take(3).collect::<Vec<_>>().join(",")
        ),
    })?;
    let plan = plan(kind, &headers, &file)?;
    let edition = kind.edition().or(match kind {
        FileKind::Centroids(e) | FileKind::Wards(e) => Some(e),
        _ => None,
    });
    let derive = kind == FileKind::Iod2019File9;
    // Once the LSOA 2011 -> 2021 lookup is loaded, a small-area code must belong to the
    // edition's geography (a 2011 code in a 2025 file is refused by name).
    let known = match (plan.table, edition) {
        ("area_lsoas", Some(e)) => known_codes(db, e).await?,
        _ => None,
    };
    let mut cols: Vec<&str> = plan.fixed.iter().map(|(c, _)| *c).collect();
    cols.extend(
        plan.fields
            .iter()
            .map(|x| x.name)
            .filter(|n| !n.starts_with('_')),
    );
    if derive {
        cols.push("imd_score");
    }
    let updates: Vec<String> = cols
        .iter()
        .filter(|c| !plan.key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let tail = format!(
        "ON CONFLICT ({}) DO UPDATE SET {}",
        plan.key.join(", "),
        updates.join(", ")
    );
    let mut report = ImportReport::default();
    let mut tx = db.begin().await?;
    // About 1,000 values a statement: sqlx binds SQLite parameters by name, which costs time
    // in proportion to the statement's parameter count for every value (quadratic in the
    // batch), so 500 rows of 20 columns spent 87% of the import there.
    let per_batch = (1000 / cols.len()).max(1);
    let mut batch: Vec<Vec<Bind>> = Vec::with_capacity(per_batch);
    let mut seen = std::collections::HashSet::new();
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
        if plan.england_only
            && plan
                .fields
                .first()
                .and_then(|x| record.get(x.col))
                .is_some_and(|c| c.trim().starts_with('W'))
        {
            report.terminated += 1;
            continue;
        }
        let mut row: Vec<Bind> = plan.fixed.iter().map(|(_, v)| Bind::I(*v)).collect();
        let mut transformed = Vec::with_capacity(7);
        let mut problem = None;
        for x in &plan.fields {
            let header = raw_headers.get(x.col).unwrap_or("").trim();
            match cell(record.get(x.col).unwrap_or(""), x.val, header, edition) {
                Ok(Bind::F(v)) if x.name.starts_with('_') => transformed.push(v),
                Ok(b) => row.push(b),
                Err(e) => {
                    problem = Some(e);
                    break;
                }
            }
        }
        if let (None, Some(k), Some(e)) = (&problem, &known, edition) {
            let code = plan
                .fields
                .first()
                .and_then(|x| record.get(x.col))
                .unwrap_or("")
                .trim();
            if !k.contains(code) {
                problem = Some(format!(
                    "{code} is not an {} code, which {} uses (is it a code of the other edition?)",
                    e.geography(),
                    e.label()
                ));
            }
        }
        if let Some(e) = problem {
            report.reject(line, e);
            continue;
        }
        if derive {
            let score: f64 = transformed
                .iter()
                .zip(IMD2019_WEIGHTS)
                .map(|(s, w)| s * w)
                .sum();
            row.push(Bind::F(score));
        }
        // A key seen twice in one file keeps its first row (PostgreSQL refuses to upsert
        // one key twice in one statement).
        let key = format!("{:?}", &row[..plan.key.len()]);
        if !seen.insert(key) {
            report.reject(line, "the same code appears earlier in the file".into());
            continue;
        }
        batch.push(row);
        if batch.len() == per_batch {
            report.stored += flush(&mut tx, plan.table, &cols, &mut batch, &tail).await?;
        }
    }
    report.stored += flush(&mut tx, plan.table, &cols, &mut batch, &tail).await?;
    tx.commit().await?;
    progress(report.rows);
    Ok((plan.kind, report))
}

async fn flush(
    tx: &mut crate::db::Tx,
    table: &str,
    cols: &[&str],
    rows: &mut Vec<Vec<Bind>>,
    tail: &str,
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let n = cols.len();
    let values: Vec<String> = (0..rows.len())
        .map(|r| {
            format!(
                "({})",
                (1..=n)
                    .map(|c| format!("${}", r * n + c))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {} {tail}",
        cols.join(", "),
        values.join(", ")
    );
    let binds: Vec<Bind> = rows.drain(..).flatten().collect();
    Ok(bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// The LSOA codes of an edition's geography, from the loaded LSOA 2011 -> 2021 lookup
/// (`None` when it is not loaded).
async fn known_codes(
    db: &Db,
    edition: Edition,
) -> Result<Option<std::collections::HashSet<String>>, sqlx::Error> {
    let column = if edition == Edition::Iod2019 {
        "lsoa11_code"
    } else {
        "lsoa21_code"
    };
    let codes: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT {column} FROM area_lsoa_links"
    )))
    .fetch_all(&db.read)
    .await?;
    Ok((!codes.is_empty()).then(|| codes.into_iter().collect()))
}

/// The shared files this installation knows, in the order they are loaded: the LSOA
/// 2011 -> 2021 lookup first (so every later small-area code is checked against its
/// edition's geography), both editions for all of England, then the other lookups and
/// centroids.
pub fn shared_files(shared_dir: &Path) -> Vec<PathBuf> {
    let d = shared_dir.join("data");
    [
        "geo/lsoa11_to_lsoa21_lad22_ew.csv.gz",
        "iod2019/File_1_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
        "iod2019/File_2_IoD2019_Domains_of_Deprivation.csv.gz",
        "iod2019/File_3_IoD2019_Supplementary_Indices_IDACI_and_IDAOPI.csv.gz",
        "iod2019/File_6_IoD2019_Population_Denominators.csv.gz",
        "iod2019/File_9_IoD2019_Transformed_Scores.csv.gz",
        "iod2019/File_10_IoD2019_Local_Authority_District_Summaries_lower_tier.csv",
        "iod2025/IoD2025_File7_core_lsoa21_england.csv.gz",
        "iod2025/IoD2025_File7_all_columns_lsoa21_LCR.csv",
        "iod2025/IoD2025_File8_underlying_indicators_lsoa21_england.csv.gz",
        "iod2025/IoD2025_File10v2_LAD_summaries_ltla24.csv",
        "geo/lsoa11_to_ward19_lad19_ew.csv.gz",
        "geo/lsoa21_to_ward24_lad24_ew.csv.gz",
        "geo/lsoa11_population_weighted_centroids_ew.csv.gz",
        "geo/lsoa21_population_weighted_centroids_lcr.csv",
    ]
    .iter()
    .map(|p| d.join(p))
    .filter(|p| p.is_file())
    .collect()
}

/// How many small areas of each edition are held (2019, 2025).
pub async fn counts(db: &Db) -> Result<(i64, i64), sqlx::Error> {
    let n = |e: i64| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM area_lsoas WHERE edition = $1 AND imd_decile IS NOT NULL",
        )
        .bind(e)
        .fetch_one(&db.read)
    };
    Ok((n(2019).await?, n(2025).await?))
}
