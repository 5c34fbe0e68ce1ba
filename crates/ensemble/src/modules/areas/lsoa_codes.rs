//! A small-area code asked for under the wrong edition: IoD2019 uses the LSOAs of 2011 and
//! IoD2025 those of 2021. Most codes are in both (the area did not change), but a code of an
//! area that was split, merged or redrawn in 2021 exists in one geography only; this finds
//! which, and the matching code(s) of the other through the ONS LSOA 2011 → 2021 lookup.

use super::Edition;
use crate::db::Db;

/// A code of the other edition's geography and its matches in the edition asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongGeography {
    /// The code asked for (trimmed, upper case).
    pub code: String,
    /// The edition asked for.
    pub asked: Edition,
    /// The edition whose geography the code belongs to.
    pub belongs: Edition,
    /// Its matching code(s) in the geography asked for.
    pub matches: Vec<String>,
}

impl WrongGeography {
    /// The message, naming the code, both editions and the matches.
    pub fn message(&self) -> String {
        format!(
            "{} is not an {} code, which {} uses: it is an {} code ({}). Its {} match{} through the ONS lookup: {}.",
            self.code,
            self.asked.geography(),
            self.asked.label(),
            self.belongs.geography(),
            self.belongs.label(),
            self.asked.geography(),
            if self.matches.len() == 1 { "" } else { "es" },
            self.matches.join(", ")
        )
    }
}

/// When `code` is not a small area of `asked` but is one of the other geography, what it
/// matches; `None` when it is of neither (or the lookup is not imported).
pub async fn wrong_geography(
    db: &Db,
    asked: Edition,
    code: &str,
) -> Result<Option<WrongGeography>, sqlx::Error> {
    let code = code.trim().to_ascii_uppercase();
    let (belongs, sql) = match asked {
        Edition::Iod2025 => (
            Edition::Iod2019,
            "SELECT lsoa21_code FROM area_lsoa_links WHERE lsoa11_code = $1 \
             AND NOT EXISTS (SELECT 1 FROM area_lsoa_links k WHERE k.lsoa21_code = $1) ORDER BY lsoa21_code",
        ),
        Edition::Iod2019 => (
            Edition::Iod2025,
            "SELECT lsoa11_code FROM area_lsoa_links WHERE lsoa21_code = $1 \
             AND NOT EXISTS (SELECT 1 FROM area_lsoa_links k WHERE k.lsoa11_code = $1) ORDER BY lsoa11_code",
        ),
    };
    let matches: Vec<String> = sqlx::query_scalar(sql)
        .bind(code.clone())
        .fetch_all(&db.read)
        .await?;
    Ok((!matches.is_empty()).then_some(WrongGeography {
        code,
        asked,
        belongs,
        matches,
    }))
}

/// The small area(s) of the other edition's geography that match `code` (of edition `e`)
/// in the ONS lookup: the same code where the area did not change.
pub async fn counterparts(db: &Db, e: Edition, code: &str) -> Result<Vec<String>, sqlx::Error> {
    let sql = match e {
        Edition::Iod2025 => {
            "SELECT lsoa11_code FROM area_lsoa_links WHERE lsoa21_code = $1 ORDER BY lsoa11_code"
        }
        Edition::Iod2019 => {
            "SELECT lsoa21_code FROM area_lsoa_links WHERE lsoa11_code = $1 ORDER BY lsoa21_code"
        }
    };
    sqlx::query_scalar(sql)
        .bind(code.trim().to_ascii_uppercase())
        .fetch_all(&db.read)
        .await
}

/// The other edition.
pub fn other(e: Edition) -> Edition {
    match e {
        Edition::Iod2019 => Edition::Iod2025,
        Edition::Iod2025 => Edition::Iod2019,
    }
}
