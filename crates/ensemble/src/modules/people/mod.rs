//! People and consent (capability C3 with the consent half of C9): the person record kept
//! apart from the pseudonymous id used everywhere else, versioned consent statements and
//! decisions, and the evaluation datasets that honour consent withdrawal at once.

pub mod area_facts;
pub mod codebook;
pub mod evaluation;
pub mod generate;
pub mod home;
pub mod html;
pub mod model;
pub mod own;
pub mod plan_html;
pub mod service;
pub mod viewers;

use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;

/// Every route of this module, each with its permission.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/people/{id}", P::WorkCaseload, html::person_page),
        Route::post("/people/{id}", P::WorkCaseload, html::person_save),
        Route::post("/people/{id}/consents", P::WorkCaseload, html::consent_save),
        Route::post("/people/{id}/account", P::WorkCaseload, html::account_link),
        Route::get("/my/plan", P::SignedIn, plan_html::my_plan),
        Route::get(
            "/my/consents/{purpose}",
            P::SignedIn,
            plan_html::my_consent_page,
        ),
        Route::post("/my/consents", P::SignedIn, plan_html::my_consent_change),
        Route::get(
            "/research/datasets",
            P::ExportEvaluationData,
            html::datasets_page,
        ),
        Route::get(
            "/research/codebook",
            P::ExportEvaluationData,
            codebook::page_view,
        ),
        Route::get(
            "/research/codebook.csv",
            P::ExportEvaluationData,
            codebook::csv,
        ),
        Route::get(
            "/research/datasets/{name}",
            P::ExportEvaluationData,
            html::dataset_csv,
        ),
        Route::get(
            "/api/v1/evaluation/{name}",
            P::ExportEvaluationData,
            html::dataset_api,
        )
        .scope("evaluation:read"),
    ]
}

/// What this module declares to the application: routes, jobs and the tables it owns.
pub fn manifest() -> Manifest {
    Manifest::new("people", routes())
        .home(home::home)
        .private(&["person_identities"])
        .tables(&[
            "people",
            "person_identities",
            "consent_statements",
            "consent_decisions",
            "person_consents",
        ])
        .views(&["people_person_accounts", "people_current_consents"])
}
