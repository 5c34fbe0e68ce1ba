//! `ensemble score INSTRUMENT FILE.csv`: score item-level answers with an instrument
//! definition, and `ensemble instrument check FILE.json`: validate a definition.

use std::collections::BTreeMap;
use std::path::Path;

use ensemble::csvfile::{self, check_header, describe};
use ensemble::modules::measures::definition::{Answer, Definition, builtin, builtins, num};

use crate::analyse::{AnalyseError, read_input};

/// A built-in id (`swemwbs`) or a definition file.
pub fn load_instrument(instrument: &str) -> Result<Definition, AnalyseError> {
    if let Some(d) = builtin(instrument) {
        return Ok(d.clone());
    }
    let path = Path::new(instrument);
    if !path.exists() {
        let known: Vec<&str> = builtins().iter().map(|d| d.id.as_str()).collect();
        return Err(AnalyseError(format!(
            "\"{instrument}\" is neither a built-in instrument ({}) nor a definition file",
            known.join(", ")
        )));
    }
    let text = String::from_utf8(read_input(path)?)
        .map_err(|_| AnalyseError(format!("{instrument} is not UTF-8 text")))?;
    Definition::parse(&text).map_err(|e| {
        AnalyseError(format!(
            "{instrument} is not a valid instrument definition:\n  {}",
            e.0.join("\n  ")
        ))
    })
}

/// Score every row. Columns named after items are answers (blank = unanswered); other
/// columns are copied through (cells a spreadsheet would run as formulas get a leading `'`,
/// `csvfile::safe_cell`). A header naming a column twice, or a row with more or fewer
/// fields than the header, is refused naming it. Adds one column per score (and `<score>_band` where the score
/// has bands) and `problems`. Returns the CSV and how many rows could not be scored.
pub fn score_file(
    definition: &Definition,
    data: &[u8],
) -> Result<(Vec<u8>, usize, usize), AnalyseError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| AnalyseError(format!("could not read the header row: {}", describe(&e))))?
        .clone();
    check_header(&headers).map_err(AnalyseError)?;
    let item_columns: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| definition.item(h.trim()).is_some())
        .map(|(i, h)| (i, h.trim().to_owned()))
        .collect();
    if item_columns.is_empty() {
        let ids: Vec<&str> = definition.items.iter().map(|i| i.id.as_str()).collect();
        return Err(AnalyseError(format!(
            "no column is named after a question of {} (expected some of: {})",
            definition.short_name,
            ids.join(", ")
        )));
    }
    let mut out = csvfile::Writer::new(Vec::new());
    let mut header_row: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| !item_columns.iter().any(|(c, _)| c == i))
        .map(|(_, h)| h.to_owned())
        .collect();
    for rule in &definition.scores {
        header_row.push(rule.id.clone());
        if !rule.bands.is_empty() {
            header_row.push(format!("{}_band", rule.id));
        }
    }
    header_row.push("problems".into());
    out.write_row(&header_row).map_err(io)?;
    let (mut scored, mut refused) = (0, 0);
    for (n, record) in reader.records().enumerate() {
        let row = n + 1;
        let record = record.map_err(|e| AnalyseError(format!("row {row}, {}", describe(&e))))?;
        let mut answers = BTreeMap::new();
        let mut problems = Vec::new();
        for (column, id) in &item_columns {
            let cell = record.get(*column).unwrap_or_default().trim();
            if cell.is_empty() {
                continue;
            }
            let is_text = definition
                .item(id)
                .and_then(|(_, item)| definition.scale_of(item))
                .is_some_and(|s| s.is_text());
            if is_text {
                answers.insert(id.clone(), Answer::Text(cell.to_owned()));
            } else {
                match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => {
                        answers.insert(id.clone(), Answer::Number(v));
                    }
                    _ => problems.push(format!("column \"{id}\": \"{cell}\" is not a number")),
                }
            }
        }
        let mut fields: Vec<String> = record
            .iter()
            .enumerate()
            .filter(|(i, _)| !item_columns.iter().any(|(c, _)| c == i))
            .map(|(_, v)| v.to_owned())
            .collect();
        let outcome = if problems.is_empty() {
            definition.score(&answers).map_err(|e| e.to_string())
        } else {
            Err(problems.join("; "))
        };
        match outcome {
            Ok(scores) => {
                scored += 1;
                for rule in &definition.scores {
                    let s = scores.iter().find(|s| s.id == rule.id);
                    fields.push(s.map(|s| num(s.value)).unwrap_or_default());
                    if !rule.bands.is_empty() {
                        fields.push(s.and_then(|s| s.band.clone()).unwrap_or_default());
                    }
                }
                fields.push(String::new());
            }
            Err(message) => {
                refused += 1;
                eprintln!("row {row}: {message}");
                for rule in &definition.scores {
                    fields.push(String::new());
                    if !rule.bands.is_empty() {
                        fields.push(String::new());
                    }
                }
                fields.push(message);
            }
        }
        out.write_row(&fields).map_err(io)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AnalyseError(format!("could not write: {e}")))?;
    Ok((bytes, scored, refused))
}

fn io(e: csv::Error) -> AnalyseError {
    AnalyseError(format!("could not write: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_rows_and_explains_the_ones_it_cannot() {
        let d = load_instrument("ons4").unwrap_or_else(|e| panic!("{e}"));
        let data = b"participant,life_satisfaction,worthwhile,happiness,anxiety\nA,6,9,7,2\nB,11,9,7,2\nC,5,,7,x\n";
        let (csv, scored, refused) = score_file(&d, data).unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8(csv).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "participant,life_satisfaction,life_satisfaction_band,worthwhile,worthwhile_band,happiness,happiness_band,anxiety,anxiety_band,problems"
        );
        assert_eq!(lines[1], "A,6,medium,9,very high,7,high,2,low,");
        assert!(
            lines[2]
                .contains("question 1 (\"\"life_satisfaction\"\"): 11 is not an allowed answer"),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].contains("column \"\"anxiety\"\": \"\"x\"\" is not a number"),
            "{}",
            lines[3]
        );
        assert_eq!((scored, refused), (1, 2));
        assert!(load_instrument("nope").is_err());
    }
}
