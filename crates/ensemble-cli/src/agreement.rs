//! `ensemble analyse agreement`: percentage agreement and Cohen's kappa between two coders'
//! columns of a CSV file. Pure computation on a file — no database, no async runtime.

use ensemble::csvfile::{check_header, describe};
use ensemble_stats::Agreement;
use serde_json::json;

use crate::analyse::{AnalyseError, column_index};

/// Codes from two columns, row by row; rows with a blank in either are dropped and counted.
pub struct Codings {
    pub pairs: Vec<(String, String)>,
    pub dropped: usize,
}

/// Read the two coders' columns. Codes are compared as written, after trimming spaces.
pub fn read_codings(data: &[u8], first: &str, second: &str) -> Result<Codings, AnalyseError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(data);
    let headers = reader
        .byte_headers()
        .map_err(|e| AnalyseError(format!("could not read the header row: {}", describe(&e))))?
        .clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(AnalyseError(
            "the file is empty: expected a header row naming the columns".into(),
        ));
    }
    check_header(&headers).map_err(AnalyseError)?;
    let a = column_index(&headers, first)?;
    let b = column_index(&headers, second)?;
    let mut out = Codings {
        pairs: Vec::new(),
        dropped: 0,
    };
    let mut record = csv::StringRecord::new();
    let mut row = 0_u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(AnalyseError(format!("row {}, {}", row + 1, describe(&e)))),
        }
        row += 1;
        let x = record.get(a).unwrap_or_default().trim();
        let y = record.get(b).unwrap_or_default().trim();
        if x.is_empty() || y.is_empty() {
            out.dropped += 1;
        } else {
            out.pairs.push((x.to_string(), y.to_string()));
        }
    }
    Ok(out)
}

/// Agreement over the codings, explaining empty input.
pub fn analyse(c: &Codings) -> Result<Agreement, AnalyseError> {
    ensemble_stats::agreement(&c.pairs).map_err(|_| {
        AnalyseError(format!(
            "no row has a code in both columns ({} row(s) had a blank), so there is nothing to compare",
            c.dropped
        ))
    })
}

/// The JSON object printed by `--format json` (`kappa` is null when it is undefined).
pub fn to_json(a: &Agreement, dropped: usize) -> serde_json::Value {
    json!({
        "n": a.n,
        "dropped": dropped,
        "observed": a.observed,
        "expected": a.expected,
        "kappa": a.kappa,
    })
}

/// A table for people.
pub fn to_table(a: &Agreement, dropped: usize, first: &str, second: &str) -> String {
    let kappa = a.kappa.map_or_else(
        || "undefined (both coders gave every item the same code)".to_string(),
        |k| format!("{k:.3}"),
    );
    format!(
        "Agreement between \"{first}\" and \"{second}\"\n\
         items coded by both     {}\n\
         rows dropped (blank)    {dropped}\n\
         percentage agreement    {:.1}%\n\
         chance agreement        {:.1}%\n\
         Cohen's kappa           {kappa}\n",
        a.n,
        a.observed * 100.0,
        a.expected * 100.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_drops_blanks_and_names_missing_columns() {
        let data = b"voice,lee,sam\n1,joy, joy\n2,joy,loss\n3,,loss\n4,loss,loss\n";
        let c = read_codings(data, "lee", "sam").expect("reads");
        assert_eq!(c.pairs.len(), 3);
        assert_eq!(c.dropped, 1);
        let a = analyse(&c).expect("analyses");
        assert_eq!(a.n, 3);
        let e = read_codings(data, "lee", "kim")
            .err()
            .expect("kim is missing");
        assert!(e.0.contains("kim"), "{}", e.0);
        let none = read_codings(b"lee,sam\n,x\n", "lee", "sam").expect("reads");
        let e = analyse(&none).expect_err("nothing to compare");
        assert!(e.0.contains("nothing to compare"), "{}", e.0);
    }
}
