//! The codebook of the evaluation datasets: every variable with its type, meaning and
//! allowed values, and the instruments (with their versions and scores) that the wellbeing
//! dataset can hold. Built from the same vocabularies the pages and datasets use, so it
//! cannot drift from the data; served as a page and as CSV.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::evaluation::{DATASETS, Dataset};
use super::model::{ETHNICITIES, GENDERS};
use crate::error::AppError;
use crate::modules::measures::definition::builtins;
use crate::modules::measures::service::Mode;
use crate::modules::referrals::model::{
    ACTIONS, BARRIERS, BarrierStage, ProviderStatus, SOURCES, Status,
};
use crate::rbac::Granted;
use crate::rbac::perm::ExportEvaluationData;
use crate::web::forms::table_wrap;
use crate::web::{Page, PageCtx, page};

/// One variable of a dataset.
#[derive(Debug, Clone)]
pub struct Variable {
    /// The column name.
    pub name: &'static str,
    /// Its type, in words (`text`, `integer`, `month (YYYY-MM)`…).
    pub kind: &'static str,
    /// What it means.
    pub description: &'static str,
    /// The codes it can hold with their meanings; empty when open.
    pub values: Vec<(String, String)>,
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(c, l)| ((*c).to_string(), (*l).to_string()))
        .collect()
}

const AGE_BANDS: [&str; 9] = [
    "under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+", "unknown",
];

/// The variable behind a column name (every dataset column has one; tested).
fn variable(name: &'static str) -> Option<Variable> {
    let v = |kind, description, values| Variable {
        name,
        kind,
        description,
        values,
    };
    Some(match name {
        "research_id" => v(
            "text (pseudonym)",
            "The person: a keyed hash, the same in every dataset, that cannot be turned back into a name.",
            vec![],
        ),
        "referral_ref" => v(
            "text (pseudonym)",
            "The referral: a keyed hash, the same in every dataset; empty on a wellbeing row not tied to a referral.",
            vec![],
        ),
        "source" => v("code", "Where the referral came from.", pairs(SOURCES)),
        "status" => v(
            "code",
            "The referral's status now (referrals), or the attendance mark (attendance).",
            vec![],
        ),
        "received_month" => v(
            "month (YYYY-MM)",
            "When the referral was received, to the month (UK time).",
            vec![],
        ),
        "days_to_first_contact" => v(
            "integer (days)",
            "Whole days from receipt to the first contact with the person; empty when not yet contacted.",
            vec![],
        ),
        "closed_month" => v(
            "month (YYYY-MM)",
            "When the referral was closed, to the month; empty while open.",
            vec![],
        ),
        "activity_id" => v(
            "text (id)",
            "The activity the person was connected to: its Open Referral UK service id at /openreferral/services/{id}; empty when none.",
            vec![],
        ),
        "provider_status" => v(
            "code",
            "The activity provider's answer; empty when the referral was not sent to a provider.",
            ProviderStatus::ALL
                .iter()
                .map(|s| (s.code().to_string(), s.label().to_string()))
                .collect(),
        ),
        "age_band" => v(
            "code",
            "Age at the time of the export, in bands (never the date of birth).",
            AGE_BANDS
                .iter()
                .map(|b| ((*b).to_string(), (*b).to_string()))
                .collect(),
        ),
        "gender" => v(
            "code",
            "Gender, coded as in the NHS Data Dictionary (person stated gender code); empty when not recorded.",
            pairs(GENDERS),
        ),
        "ethnicity" => v(
            "code",
            "Ethnic category, coded as in the NHS Data Dictionary; empty when not recorded.",
            pairs(ETHNICITIES),
        ),
        "local_authority" => v(
            "text",
            "The local authority district of the person's postcode, from the English Indices of Deprivation lookups; empty when unknown.",
            vec![],
        ),
        "barrier" => v(
            "code",
            "A barrier to taking part that was recorded.",
            pairs(BARRIERS),
        ),
        "action" => v("code", "What was done about it.", pairs(ACTIONS)),
        "stage" => v(
            "code",
            "When the barrier was raised.",
            BarrierStage::ALL
                .iter()
                .map(|s| (s.code().to_string(), s.label().to_string()))
                .collect(),
        ),
        "instrument" => v(
            "code",
            "The measure: see the instruments below for each one's versions and scores.",
            builtins()
                .iter()
                .map(|d| (d.id.clone(), d.name.clone()))
                .collect(),
        ),
        "instrument_version" => v(
            "integer",
            "The version of the measure's definition the answers were scored with.",
            vec![],
        ),
        "mode" => v(
            "code",
            "How the measure was completed.",
            [Mode::SelfReport, Mode::WithPractitioner, Mode::Paper]
                .iter()
                .map(|m| (m.code().to_string(), m.label().to_string()))
                .collect(),
        ),
        "completed_month" => v(
            "month (YYYY-MM)",
            "When the measure was completed, to the month.",
            vec![],
        ),
        "weeks_since_referral" => v(
            "integer (weeks)",
            "Whole weeks from the referral's receipt to completion; empty when not tied to a referral.",
            vec![],
        ),
        "score" => v(
            "code",
            "Which score of the measure this row holds (see the instruments below).",
            vec![],
        ),
        "value" => v(
            "number",
            "The score's value, in the score's own range (see the instruments below).",
            vec![],
        ),
        "band" => v(
            "text",
            "The score's band, when the measure defines bands; empty otherwise.",
            vec![],
        ),
        "session_date" => v("date (YYYY-MM-DD)", "The date of the session.", vec![]),
        _ => return None,
    })
}

/// The variables of a dataset, in column order; `status` takes the dataset's own codes.
pub fn variables(ds: &Dataset) -> Vec<Variable> {
    ds.columns
        .iter()
        .filter_map(|c| variable(c))
        .map(|mut v| {
            if v.name == "status" {
                v.values = if ds.name == "attendance" {
                    vec![
                        ("present".into(), "Present".into()),
                        ("absent".into(), "Absent".into()),
                    ]
                } else {
                    Status::ALL
                        .iter()
                        .map(|s| (s.code().to_string(), s.label().to_string()))
                        .collect()
                };
            }
            v
        })
        .collect()
}

/// Scores of each built-in instrument: (instrument, version, score id, label, range, bands).
fn instrument_rows() -> Vec<[String; 6]> {
    let mut out = Vec::new();
    for d in builtins() {
        for s in &d.scores {
            let range = s
                .range
                .map(|[lo, hi]| format!("{} to {}", num(lo), num(hi)))
                .unwrap_or_default();
            let bands = s
                .bands
                .iter()
                .map(|b| format!("{} ({} to {})", b.label, num(b.min), num(b.max)))
                .collect::<Vec<_>>()
                .join("; ");
            out.push([
                d.id.clone(),
                d.version.to_string(),
                s.id.clone(),
                s.label.clone(),
                range,
                bands,
            ]);
        }
    }
    out
}

fn num(x: f64) -> String {
    crate::modules::measures::definition::num(x)
}

fn values_text(v: &Variable) -> String {
    v.values
        .iter()
        .map(|(c, l)| {
            if c == l {
                c.clone()
            } else {
                format!("{c} = {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One dataset's variables, each with its type, meaning and the values it can hold.
fn dataset_section(ds: &Dataset) -> Markup {
    html! {
        h2."nhsuk-heading-m" id=(ds.name) { (ds.title) }
        p."nhsuk-body" { (ds.description) }
        dl."nhsuk-summary-list" {
            @for v in variables(ds) {
                div."nhsuk-summary-list__row" {
                    dt."nhsuk-summary-list__key" { code { (v.name) } br; span."nhsuk-body-s" { (v.kind) } }
                    dd."nhsuk-summary-list__value" {
                        (v.description)
                        @if !v.values.is_empty() {
                            details."nhsuk-details" {
                                summary."nhsuk-details__summary" { span."nhsuk-details__summary-text" { "Values of " (v.name) } }
                                div."nhsuk-details__text" {
                                    ul."nhsuk-list" { @for (c, l) in &v.values { li { code { (c) } @if c != l { " — " (l) } } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// GET /research/codebook
pub async fn page_view(ctx: PageCtx, _g: Granted<ExportEvaluationData>) -> Response {
    let body = html! {
        h1 { "Codebook for the evaluation datasets" }
        p."nhsuk-lede-text" { "Every variable in the datasets, with its type, what it means and the values it can hold." }
        p { a href="/research/codebook.csv" download { "Download the codebook (CSV)" } }
        @for ds in DATASETS { (dataset_section(ds)) }
        h2."nhsuk-heading-m" id="instruments" { "Instruments, versions and scores" }
        p."nhsuk-body" { "The built-in measures. Instruments co-designed in this installation appear in the wellbeing dataset under their own ids; their definitions are on the Measures pages." }
        (table_wrap("Instruments, versions and scores", html! {
            table."nhsuk-table" {
                caption."nhsuk-table__caption nhsuk-u-visually-hidden" { "Instruments, versions and scores" }
                thead."nhsuk-table__head" { tr."nhsuk-table__row" {
                    @for h in ["Instrument", "Version", "Score", "Meaning", "Range", "Bands"] { th."nhsuk-table__header" scope="col" { (h) } }
                } }
                tbody."nhsuk-table__body" {
                    @for row in instrument_rows() {
                        tr."nhsuk-table__row" { @for cell in &row { td."nhsuk-table__cell" { (cell) } } }
                    }
                }
            }
        }))
    };
    page(
        &ctx,
        Page::new("Codebook for the evaluation datasets", body),
    )
}

/// The codebook as CSV rows, header first: one row per dataset variable, then one per
/// instrument score.
pub fn csv_rows() -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "dataset",
            "variable",
            "type",
            "description",
            "allowed_values",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for ds in DATASETS {
        for v in variables(ds) {
            rows.push(vec![
                ds.name.to_string(),
                v.name.to_string(),
                v.kind.to_string(),
                v.description.to_string(),
                values_text(&v),
            ]);
        }
    }
    for [instrument, version, score, label, range, bands] in instrument_rows() {
        rows.push(vec![
            "wellbeing".into(),
            format!("score={score} (instrument={instrument}, version={version})"),
            "number".into(),
            format!("{label}; range {range}"),
            bands,
        ]);
    }
    rows
}

/// GET /research/codebook.csv
pub async fn csv(_g: Granted<ExportEvaluationData>) -> Result<Response, AppError> {
    let bytes = crate::csvfile::to_bytes(&csv_rows()).map_err(AppError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ensemble-codebook.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dataset_column_has_a_variable_in_the_codebook() {
        for ds in DATASETS {
            let vars = variables(ds);
            let names: Vec<&str> = vars.iter().map(|v| v.name).collect();
            assert_eq!(names, ds.columns.to_vec(), "{}", ds.name);
        }
    }

    #[test]
    fn coded_variables_list_their_values() {
        let referrals = variables(&DATASETS[0]);
        let status = referrals.iter().find(|v| v.name == "status").unwrap();
        assert!(status.values.iter().any(|(c, _)| c == "received"));
        let gender = referrals.iter().find(|v| v.name == "gender").unwrap();
        assert!(
            gender
                .values
                .iter()
                .any(|(c, l)| c == "Z" && l.contains("declined"))
        );
        let rows = csv_rows();
        assert!(
            rows.iter().any(|r| r[1].contains("instrument=swemwbs")),
            "instrument versions are listed"
        );
    }
}
