//! CSV files, read and written the same way everywhere Ensemble touches one (the research
//! datasets, `ensemble score`, `ensemble analyse`, the open-data imports):
//!
//! - **Reading**: [`check_header`] refuses a header row that names a column twice (the
//!   `csv` crate would otherwise resolve a name to one of them silently), and [`describe`]
//!   turns a `csv` error into a sentence naming the line, with the expected and found
//!   number of fields for a ragged row.
//! - **Writing**: [`Writer`] passes every cell through [`safe_cell`], so a cell a
//!   spreadsheet would run as a formula (CSV injection, as OWASP describes it) is written
//!   as text with a leading `'`.

use std::borrow::Cow;
use std::io::Write;

/// The characters that make a spreadsheet treat a cell as a formula (or, for tab and
/// carriage return, that some of them strip before doing so).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as it is safe to write: unchanged, unless it starts with `=`, `+`, `-`, `@`, a
/// tab or a carriage return, when it gets a leading `'` so spreadsheets show it as text.
///
/// A plain decimal number (`-3`, `+4`, `-0.25`) is left as it is: a spreadsheet reads it as
/// that number, never as a formula, and score columns stay numeric. Anything else starting
/// with those characters (`-3+1`, `=SUM(A1)`, `@cmd`, `-`) is escaped, whoever typed it.
pub fn safe_cell(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_START) && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// An optional sign, digits, and an optional decimal part (`-3`, `+4.5`, `-.5`); no exponent,
/// no spaces.
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty()) && all_digits(whole) && all_digits(fraction)
}

/// A CSV writer whose every cell goes through [`safe_cell`].
pub struct Writer<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> Writer<W> {
    /// Write CSV to `out` (RFC 4180 quoting, `\n` line ends).
    pub fn new(out: W) -> Self {
        Self {
            inner: csv::Writer::from_writer(out),
        }
    }

    /// Write one row. Every row must have as many cells as the first.
    pub fn write_row<I, S>(&mut self, row: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = row
            .into_iter()
            .map(|c| safe_cell(c.as_ref()).into_owned())
            .collect();
        self.inner.write_record(&cells)
    }

    /// Flush and hand back the output.
    pub fn into_inner(self) -> Result<W, std::io::Error> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

/// Rows to CSV bytes, every cell through [`safe_cell`].
pub fn to_bytes(rows: &[Vec<String>]) -> Result<Vec<u8>, anyhow::Error> {
    let mut w = Writer::new(Vec::new());
    for row in rows {
        w.write_row(row)?;
    }
    Ok(w.into_inner()?)
}

/// Refuse a header row that names a column twice (after trimming spaces, ignoring case):
/// `the column "score" appears twice in the header row (columns 2 and 4); rename or remove
/// one`. Blank names (trailing commas in a spreadsheet export) may repeat.
pub fn check_header<I, T>(header: I) -> Result<(), String>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let names: Vec<String> = header
        .into_iter()
        .map(|h| String::from_utf8_lossy(h.as_ref()).trim().to_lowercase())
        .collect();
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(j) = names[i + 1..].iter().position(|n| n == name) {
            return Err(format!(
                "the column \"{name}\" appears twice in the header row (columns {} and {}); \
                 rename or remove one",
                i + 1,
                i + j + 2
            ));
        }
    }
    Ok(())
}

/// A `csv` error as a sentence naming the line: `line 4: expected 3 fields, as in the header
/// row, but found 5`.
pub fn describe(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => {
            let at = pos
                .as_ref()
                .map(|p| format!("line {}: ", p.line()))
                .unwrap_or_default();
            format!(
                "{at}expected {expected_len} fields, as in the header row, but found {len}{}",
                if len > expected_len {
                    " (a comma in a cell needs the cell in double quotes)"
                } else {
                    ""
                }
            )
        }
        csv::ErrorKind::Utf8 { pos, err } => {
            let at = pos
                .as_ref()
                .map(|p| format!("line {}: ", p.line()))
                .unwrap_or_default();
            format!(
                "{at}field {} is not UTF-8 text (save the file as UTF-8)",
                err.field() + 1
            )
        }
        _ => match e.position() {
            Some(p) => format!("line {}: {e}", p.line()),
            None => e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_get_a_quote_and_plain_numbers_do_not() {
        for (cell, written) in [
            ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
            ("+44 151 000", "'+44 151 000"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("-.", "'-."),
            ("-3e5", "'-3e5"),
            ("-3", "-3"),
            ("+4", "+4"),
            ("-0.25", "-0.25"),
            ("-.5", "-.5"),
            ("12", "12"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(safe_cell(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn a_header_naming_a_column_twice_is_refused_naming_it() {
        assert_eq!(
            check_header(["id", "before", " Before "]),
            Err(
                "the column \"before\" appears twice in the header row (columns 2 and 3); \
                 rename or remove one"
                    .to_owned()
            )
        );
        assert_eq!(check_header(["id", "", "", "x"]), Ok(()));
    }

    #[test]
    fn a_ragged_row_is_described_with_its_line_and_field_counts() {
        let mut r = csv::Reader::from_reader(&b"a,b\n1,2\n3,4,5\n"[..]);
        let e = r
            .records()
            .find_map(Result::err)
            .unwrap_or_else(|| panic!("no error"));
        assert_eq!(
            describe(&e),
            "line 3: expected 2 fields, as in the header row, but found 3 \
             (a comma in a cell needs the cell in double quotes)"
        );
    }
}
