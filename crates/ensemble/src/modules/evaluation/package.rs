//! The open data package (issue 17 item 4): every table of the report as CSV, a Frictionless
//! Data Package descriptor (`datapackage.json`, with a table schema per file), the report
//! itself as `report.json`, and `tables.xlsx` with one sheet per table; served as a zip or
//! written to a folder by `ensemble evaluate programme`. Never a name or contact detail;
//! row-level tables only for the programme's evaluators, with per-study pseudonyms.

use std::io::Write;

use serde_json::json;

use super::figures::PairRow;
use super::report::{Audience, Report};
use super::tables::{Cell, Table, tables};
use crate::error::AppError;

/// The files of the package: (file name, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn csv(t: &Table) -> Result<Vec<u8>, AppError> {
    let mut rows = vec![t.fields.iter().map(|f| f.name.to_string()).collect()];
    rows.extend(t.rows.iter().map(|r| r.iter().map(Cell::csv).collect()));
    crate::csvfile::to_bytes(&rows).map_err(AppError::Internal)
}

/// The Frictionless descriptor.
pub fn descriptor(r: &Report, tables: &[Table]) -> serde_json::Value {
    let resources: Vec<serde_json::Value> = tables
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "path": format!("{}.csv", t.name),
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "title": t.title,
                "description": t.description,
                "schema": {
                    "fields": t.fields.iter().map(|f| json!({
                        "name": f.name,
                        "type": f.kind.name(),
                        "description": f.description,
                    })).collect::<Vec<_>>(),
                    "missingValues": [""],
                },
            })
        })
        .collect();
    json!({
        "profile": "tabular-data-package",
        "name": format!("ensemble-evaluation-{}", slug(&r.programme.name)),
        "title": format!("Evaluation of {}", r.programme.name),
        "description": format!(
            "The tables of the evaluation report of {} ({}), {}. {} See report.json for the figures as reported and the methods used.",
            r.programme.name,
            r.programme.lead_organisation,
            r.period.describe(),
            match r.audience {
                Audience::Evaluator => "Exact counts, with row-level results under per-study pseudonyms; only people who agreed to their information being used for evaluation.",
                Audience::Controlled => "Disclosure-controlled: small counts suppressed (empty), the rest rounded; no row-level tables.",
            }
        ),
        "created": r.generated_at,
        "contributors": [{ "title": r.programme.lead_organisation, "role": "author" }],
        "resources": resources,
    })
}

fn xlsx(tables: &[Table]) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let err =
        |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("spreadsheet: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for t in tables {
        let sheet = book.add_worksheet();
        let name: String = t.name.chars().take(31).collect();
        sheet.set_name(&name).map_err(err)?;
        for (c, f) in t.fields.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, f.name, &bold)
                .map_err(err)?;
        }
        for (i, row) in t.rows.iter().enumerate() {
            let r = (i + 1) as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s).map_err(err)?;
                    }
                    Cell::Int(v) => {
                        sheet.write_number(r, c, *v as f64).map_err(err)?;
                    }
                    Cell::Num(v) if v.is_finite() => {
                        sheet.write_number(r, c, *v).map_err(err)?;
                    }
                    Cell::Num(_) | Cell::Empty => {}
                }
            }
        }
    }
    book.save_to_buffer().map_err(err)
}

/// Every file of the package.
pub fn files(
    r: &Report,
    pairs: Option<&[PairRow]>,
    pseudonym: &dyn Fn(&str) -> String,
) -> Result<Files, AppError> {
    let tables = tables(r, pairs, pseudonym);
    let mut out = Vec::new();
    for t in &tables {
        out.push((format!("{}.csv", t.name), csv(t)?));
    }
    let json = |v: &serde_json::Value| {
        serde_json::to_vec_pretty(v).map_err(|e| AppError::Internal(e.into()))
    };
    out.push(("datapackage.json".into(), json(&descriptor(r, &tables))?));
    out.push((
        "report.json".into(),
        serde_json::to_vec_pretty(r).map_err(|e| AppError::Internal(e.into()))?,
    ));
    out.push(("tables.xlsx".into(), xlsx(&tables)?));
    Ok(out)
}

/// The files as one zip archive.
pub fn zip(files: &Files) -> Result<Vec<u8>, AppError> {
    let err = |e: zip::result::ZipError| AppError::Internal(anyhow::anyhow!("zip: {e}"));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        w.start_file(name.as_str(), options).map_err(err)?;
        w.write_all(bytes)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(w.finish().map_err(err)?.into_inner())
}

/// The file name of a programme's package.
pub fn file_name(r: &Report) -> String {
    format!("evaluation-{}.zip", slug(&r.programme.name))
}
