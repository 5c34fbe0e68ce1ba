//! UK postcodes: normalised ("l1  8jq" → "L1 8JQ") and checked against the national format
//! (outward code: area letters, district digit(s) or digit+letter; inward code: digit and
//! two letters).

use std::fmt;

/// A well-formed UK postcode in its standard form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode(String);

/// Why text is not a postcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PostcodeError {
    /// Nothing given.
    #[error("Enter a postcode")]
    Empty,
    /// Not in the UK format.
    #[error("Enter a full UK postcode, like L1 8JQ")]
    Format,
}

impl Postcode {
    /// Parse and normalise.
    pub fn parse(raw: &str) -> Result<Self, PostcodeError> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        if compact.is_empty() {
            return Err(PostcodeError::Empty);
        }
        if compact == "GIR0AA" {
            return Ok(Self("GIR 0AA".into()));
        }
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(PostcodeError::Format);
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        let inward_ok = {
            let b = inward.as_bytes();
            b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic()
        };
        if !inward_ok || !outward_ok(outward) {
            return Err(PostcodeError::Format);
        }
        Ok(Self(format!("{outward} {inward}")))
    }

    /// The standard form, e.g. "L1 8JQ".
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outward code, e.g. "L1".
    pub fn outward(&self) -> &str {
        self.0.split(' ').next().unwrap_or("")
    }
}

fn outward_ok(o: &str) -> bool {
    let b = o.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if !(1..=2).contains(&letters) {
        return false;
    }
    let rest = &b[letters..];
    match rest {
        [d] => d.is_ascii_digit(),
        [d, x] => d.is_ascii_digit() && (x.is_ascii_digit() || x.is_ascii_alphabetic()),
        _ => false,
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcodes_are_normalised() {
        assert_eq!(Postcode::parse("l1  8jq").unwrap().as_str(), "L1 8JQ");
        assert_eq!(Postcode::parse("CH41 5LH").unwrap().as_str(), "CH41 5LH");
        assert_eq!(Postcode::parse("wa104rx").unwrap().as_str(), "WA10 4RX");
        assert_eq!(Postcode::parse("EC1A 1BB").unwrap().as_str(), "EC1A 1BB");
        assert_eq!(Postcode::parse("W1A0AX").unwrap().as_str(), "W1A 0AX");
        assert_eq!(Postcode::parse("L1 8JQ").unwrap().outward(), "L1");
    }

    #[test]
    fn malformed_postcodes_are_refused() {
        assert_eq!(Postcode::parse("   "), Err(PostcodeError::Empty));
        for bad in [
            "NOTAPOSTCODE",
            "L1",
            "12345",
            "L1 8J",
            "LL1A1 8JQ",
            "L1 88Q",
            "1L 8JQ",
            "L£1 8JQ",
        ] {
            assert_eq!(Postcode::parse(bad), Err(PostcodeError::Format), "{bad}");
        }
    }
}
