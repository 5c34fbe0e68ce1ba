//! Evaluation and evidence (capability C8): a programme's report — reach by deprivation and
//! recorded characteristics, outcomes with paired statistics, practice, voices, barriers,
//! costs and the WELLBY value, with a methods section — as a page that prints cleanly, as
//! JSON, and as an open data package (CSV with a Frictionless descriptor, XLSX, report.json)
//! from the page, the API and `ensemble evaluate programme`; budgets and unit costs; and
//! comparison across programmes. Figures come from per-programme snapshots rebuilt by a job.

pub mod access;
pub mod charts;
pub mod compare;
pub mod costs;
pub mod demo;
pub mod figures;
pub mod html;
pub mod methods;
pub mod outcomes;
pub mod package;
pub mod refresh;
pub mod report;
pub mod sections;
pub mod service;
pub mod tables;

use crate::jobs::{Every, JobHandler, Schedule};
use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;

/// Every route of this module. Who may open a programme's evaluation is a relation checked
/// by `access` (the programme's team, its members and its funders' commissioners).
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/evaluation", P::SignedIn, html::index),
        Route::get("/evaluation/compare", P::SignedIn, html::compare_page),
        Route::get(
            "/evaluation/unit-costs",
            P::ManageAccounts,
            html::unit_costs_get,
        ),
        Route::post(
            "/evaluation/unit-costs",
            P::ManageAccounts,
            html::unit_costs_post,
        ),
        Route::get(
            "/programmes/{id}/evaluation",
            P::SignedIn,
            html::report_page,
        ),
        Route::get(
            "/programmes/{id}/evaluation/package.zip",
            P::SignedIn,
            html::package_zip,
        ),
        Route::get(
            "/programmes/{id}/evaluation/budget",
            P::SignedIn,
            html::budget_get,
        ),
        Route::post(
            "/programmes/{id}/evaluation/budget",
            P::SignedIn,
            html::budget_post,
        ),
        Route::post(
            "/programmes/{id}/evaluation/budget/{line}/remove",
            P::SignedIn,
            html::budget_remove,
        ),
        Route::get(
            "/api/v1/programmes/{id}/evaluation",
            P::SignedIn,
            html::api_report,
        )
        .scope("evaluation:read"),
        Route::get(
            "/api/v1/programmes/{id}/evaluation/package",
            P::SignedIn,
            html::api_package,
        )
        .scope("evaluation:read"),
    ]
}

/// What this module declares to the application.
pub fn manifest() -> Manifest {
    Manifest::new("evaluation", routes())
        .tables(&[
            "evaluation_budget_lines",
            "evaluation_unit_costs",
            "evaluation_snapshots",
            "evaluation_score_changes",
        ])
        .jobs(vec![JobHandler::of::<refresh::Refresh>()])
        .schedules(vec![Schedule::every::<refresh::Refresh>(Every::TenMinutes)])
}
