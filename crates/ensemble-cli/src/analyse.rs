//! `ensemble analyse paired`: the paired before/after analysis of a CSV file, for evaluators.
//! Pure computation on a file — no database, no async runtime.

use std::path::Path;

use ensemble::csvfile::{check_header, describe};
use ensemble_stats::{Paired, StatsError};
use serde_json::json;

/// Why a file could not be analysed; printed as one line after `error:`.
#[derive(Debug)]
pub struct AnalyseError(pub String);

impl std::fmt::Display for AnalyseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail<T>(message: impl Into<String>) -> Result<T, AnalyseError> {
    Err(AnalyseError(message.into()))
}

/// Complete pairs read from a file, and how many rows had a blank in either column.
pub struct Pairs {
    pub before: Vec<f64>,
    pub after: Vec<f64>,
    pub dropped: usize,
}

/// Read the whole input (a path, or `-` for standard input).
pub fn read_input(file: &Path) -> Result<Vec<u8>, AnalyseError> {
    if file == Path::new("-") {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buffer)
            .map_err(|e| AnalyseError(format!("could not read standard input: {e}")))?;
        return Ok(buffer);
    }
    std::fs::read(file).map_err(|e| AnalyseError(format!("could not read {}: {e}", file.display())))
}

/// Find a column by its header (exact match first, then ignoring case and surrounding
/// spaces), naming the columns there are when it is missing.
pub fn column_index(headers: &csv::ByteRecord, name: &str) -> Result<usize, AnalyseError> {
    let names: Vec<String> = headers
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    if let Some(i) = names.iter().position(|h| h == name) {
        return Ok(i);
    }
    if let Some(i) = names
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
    {
        return Ok(i);
    }
    let listed = names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    fail(format!(
        "no column \"{name}\" in the header row (columns: {})",
        if listed.is_empty() {
            "none".to_owned()
        } else {
            listed
        }
    ))
}

/// Parse one cell: `None` when blank; an error naming the row and column otherwise.
fn cell(raw: &[u8], row: u64, column: &str) -> Result<Option<f64>, AnalyseError> {
    let text = raw.trim_ascii();
    if text.is_empty() {
        return Ok(None);
    }
    if let Some(v) = fast_decimal(text) {
        return Ok(Some(v));
    }
    let shown = String::from_utf8_lossy(text);
    match shown.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) => fail(format!(
            "row {row}, column \"{column}\": \"{shown}\" is not a finite number \
             (leave the cell empty for a missing answer)"
        )),
        Err(_) => fail(format!(
            "row {row}, column \"{column}\": \"{shown}\" is not a number"
        )),
    }
}

/// Exact fast path for plain decimals such as `23`, `-4` or `21.54`: when the digits fit in
/// 2^53 and there are at most 15 decimal places, `digits / 10^places` is correctly rounded
/// (one IEEE division of two exact values), so the result equals the standard parser's.
fn fast_decimal(text: &[u8]) -> Option<f64> {
    const POWERS: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 17 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut places: Option<usize> = None;
    let mut seen_digit = false;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                seen_digit = true;
            }
            b'.' if places.is_none() => places = Some(digits.len() - i - 1),
            _ => return None,
        }
    }
    if !seen_digit || mantissa >= 1 << 53 {
        return None;
    }
    let value = mantissa as f64 / POWERS[places.unwrap_or(0)];
    Some(if negative { -value } else { value })
}

/// Read the two columns of every row; rows with a blank in either are dropped and counted.
/// A header naming a column twice, or a row with more or fewer fields than the header, is
/// refused naming it.
pub fn read_pairs(data: &[u8], before: &str, after: &str) -> Result<Pairs, AnalyseError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(data);
    let headers = reader
        .byte_headers()
        .map_err(|e| AnalyseError(format!("could not read the header row: {}", describe(&e))))?
        .clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return fail("the file is empty: expected a header row naming the columns");
    }
    check_header(&headers).map_err(AnalyseError)?;
    let b = column_index(&headers, before)?;
    let a = column_index(&headers, after)?;
    let estimate = data.len() / 16;
    let mut pairs = Pairs {
        before: Vec::with_capacity(estimate),
        after: Vec::with_capacity(estimate),
        dropped: 0,
    };
    let mut record = csv::ByteRecord::new();
    let mut row = 0_u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return fail(format!("row {}, {}", row + 1, describe(&e))),
        }
        row += 1;
        let x = cell(record.get(b).unwrap_or_default(), row, before)?;
        let y = cell(record.get(a).unwrap_or_default(), row, after)?;
        match (x, y) {
            (Some(x), Some(y)) => {
                pairs.before.push(x);
                pairs.after.push(y);
            }
            _ => pairs.dropped += 1,
        }
    }
    Ok(pairs)
}

/// Run the analysis, explaining degenerate input.
pub fn analyse(pairs: &Pairs) -> Result<Paired, AnalyseError> {
    ensemble_stats::paired(&pairs.before, &pairs.after).map_err(|e| {
        AnalyseError(match e {
            StatsError::TooFew { needed, found } => format!(
                "need at least {needed} rows with both values to analyse, found {found}{}",
                if pairs.dropped > 0 {
                    format!(" ({} rows dropped for a missing value)", pairs.dropped)
                } else {
                    String::new()
                }
            ),
            other => other.to_string(),
        })
    })
}

/// The JSON object printed by `--format json`.
pub fn to_json(result: &Paired, dropped: usize) -> serde_json::Value {
    json!({
        "n": result.n,
        "dropped": dropped,
        "mean_before": result.mean_before,
        "mean_after": result.mean_after,
        "mean_change": result.mean_change,
        "sd_change": result.sd_change,
        "ci95_low": result.ci95_low,
        "ci95_high": result.ci95_high,
        "t": result.t,
        "df": result.df,
        "p_value": result.p_value,
        "cohen_dz": result.cohen_dz,
        "wilcoxon_w": result.wilcoxon.w,
        "wilcoxon_p": result.wilcoxon.p_value,
        "wilcoxon_method": result.wilcoxon.method.as_str(),
        "wilcoxon_zeros": result.wilcoxon.zeros,
    })
}

/// A table for people: labels, values to sensible precision and a line on method.
pub fn to_table(result: &Paired, dropped: usize, before: &str, after: &str) -> String {
    let p = |v: f64| {
        if v < 0.0001 {
            "< 0.0001".to_owned()
        } else {
            format!("{v:.4}")
        }
    };
    let rows = [
        ("pairs analysed (n)", result.n.to_string()),
        ("rows dropped (a value missing)", dropped.to_string()),
        (
            &format!("mean before ({before})") as &str,
            format!("{:.3}", result.mean_before),
        ),
        (
            &format!("mean after ({after})"),
            format!("{:.3}", result.mean_after),
        ),
        (
            "mean change (after - before)",
            format!("{:.3}", result.mean_change),
        ),
        ("SD of change", format!("{:.3}", result.sd_change)),
        (
            "95% CI of mean change",
            format!("{:.3} to {:.3}", result.ci95_low, result.ci95_high),
        ),
        ("paired t", format!("{:.3} (df {})", result.t, result.df)),
        ("p (two-sided)", p(result.p_value)),
        ("Cohen's d_z", format!("{:.3}", result.cohen_dz)),
        (
            "Wilcoxon signed-rank W",
            format!(
                "{} ({}; {} zero changes dropped)",
                result.wilcoxon.w,
                result.wilcoxon.method.as_str(),
                result.wilcoxon.zeros
            ),
        ),
        ("Wilcoxon p (two-sided)", p(result.wilcoxon.p_value)),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        out.push_str(&format!("{k:<width$}  {v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_the_standard_parser() {
        for s in [
            "0",
            "7",
            "-3",
            "+4",
            "35",
            "21.54",
            "0.1",
            "-0.30",
            "123456.789",
            "1e5",
            ".5",
            "5.",
            "9007199254740993",
            "1.000000000000001",
        ] {
            let expected: f64 = s.parse().unwrap_or(f64::NAN);
            match fast_decimal(s.as_bytes()) {
                Some(v) => assert_eq!(v.to_bits(), expected.to_bits(), "{s}"),
                None => assert!(s.contains('e') || s.len() > 15, "{s} fell back"),
            }
        }
        assert_eq!(fast_decimal(b"."), None);
        assert_eq!(fast_decimal(b"-"), None);
        assert_eq!(fast_decimal(b"1.2.3"), None);
    }

    #[test]
    fn names_the_row_and_column_of_a_bad_cell() {
        let data = b"id,before,after\n1,20,22\n2,21,abc\n";
        let e = read_pairs(data, "before", "after").err().map(|e| e.0);
        assert_eq!(
            e.as_deref(),
            Some("row 2, column \"after\": \"abc\" is not a number")
        );
        let data = b"id,before,after\n1,20,NaN\n";
        let e = read_pairs(data, "before", "after")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("not a finite number"), "{e}");
        let e = read_pairs(b"id,b\n", "before", "b")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("no column \"before\""), "{e}");
    }

    #[test]
    fn blank_cells_drop_the_row_and_are_counted() {
        let data = b"before,after\n20,22\n,23\n21,\n19,25\n 18 , 18 \n";
        let pairs = read_pairs(data, "before", "after").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pairs.before, vec![20.0, 19.0, 18.0]);
        assert_eq!(pairs.dropped, 2);
    }
}
