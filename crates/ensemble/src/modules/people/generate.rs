//! Synthetic people for benchmark databases (`ensemble referrals generate`): their records,
//! identities and evaluation consent, bulk-written here because only `people` writes its
//! tables. Never used on a real installation's data.

use crate::db::{Bind, Db, insert_rows};

/// Synthetic people waiting to be written.
#[derive(Debug, Default)]
pub struct Batch {
    people: Vec<Vec<Bind>>,
    identities: Vec<Vec<Bind>>,
    consents: Vec<Vec<Bind>>,
}

/// One synthetic person.
pub struct Synthetic<'a> {
    /// The pseudonymous id.
    pub id: &'a str,
    /// The care team.
    pub team_organisation_id: &'a str,
    /// Given name.
    pub given_name: &'a str,
    /// Family name.
    pub family_name: &'a str,
    /// Email address.
    pub email: String,
    /// The consent statement their evaluation consent is recorded against.
    pub evaluation_statement: &'a str,
    /// When the record was made and last changed (Unix seconds).
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Where a synthetic person lives and what is recorded of them (for the area benchmark).
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// Postcode shown on the record.
    pub postcode: String,
    /// Small-area code, as resolved from the postcode.
    pub lsoa_code: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// Their evaluation consent decision: `given`, `withdrawn` or `refused`.
    pub evaluation: &'static str,
}

impl Batch {
    /// Add a person, with consent to evaluation given.
    pub fn push(&mut self, p: Synthetic<'_>) {
        self.push_recorded(
            p,
            Recorded {
                postcode: "L36 9UU".into(),
                evaluation: "given",
                ..Recorded::default()
            },
        );
    }

    /// Add a person with where they live, recorded characteristics and evaluation decision.
    pub fn push_recorded(&mut self, p: Synthetic<'_>, r: Recorded) {
        self.people.push(vec![
            Bind::T(p.id.into()),
            Bind::T(p.team_organisation_id.into()),
            Bind::I(p.created_at),
            Bind::I(p.updated_at),
        ]);
        self.identities.push(vec![
            Bind::T(p.id.into()),
            Bind::T(p.given_name.into()),
            Bind::T(p.family_name.into()),
            Bind::T(p.email),
            Bind::T("0151 000 0000".into()),
            Bind::T(r.postcode),
            Bind::OptT(r.lsoa_code),
            Bind::OptT(r.gender),
            Bind::OptT(r.ethnicity),
            Bind::OptT(r.date_of_birth),
            Bind::I(p.updated_at),
        ]);
        self.consents.push(vec![
            Bind::T(p.id.into()),
            Bind::T("evaluation".into()),
            Bind::T(r.evaluation.into()),
            Bind::T(p.evaluation_statement.into()),
            Bind::I(p.created_at),
        ]);
    }

    /// Write what has been added, in foreign-key order, and empty the batch.
    pub async fn flush(&mut self, db: &Db) -> Result<(), sqlx::Error> {
        insert_rows(
            db,
            "people",
            &["id", "team_organisation_id", "created_at", "updated_at"],
            &mut self.people,
            "",
        )
        .await?;
        insert_rows(
            db,
            "person_identities",
            &[
                "person_id",
                "given_name",
                "family_name",
                "email",
                "phone",
                "postcode",
                "lsoa_code",
                "gender",
                "ethnicity",
                "date_of_birth",
                "updated_at",
            ],
            &mut self.identities,
            "",
        )
        .await?;
        insert_rows(
            db,
            "person_consents",
            &[
                "person_id",
                "purpose",
                "decision",
                "statement_id",
                "decided_at",
            ],
            &mut self.consents,
            "",
        )
        .await?;
        Ok(())
    }
}
