//! Measures (capability C5): instrument definitions as data (not code), the built-in library
//! (ONS4, ONS loneliness, SWEMWBS and WEMWBS scoring), licensed wording overlays, completion
//! by the person, with a practitioner or from paper (with double entry), scores per item
//! and per scale, and the API. Statistics live in the pure `ensemble-stats` crate.

pub mod api;
pub mod definition;
pub mod demo;
pub mod design;
pub mod design_html;
pub mod generate;
pub mod home;
pub mod html;
pub mod results;
pub mod schedules;
pub mod service;

use crate::jobs::{Every, JobHandler, Schedule};
use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;

/// Every route of this module, each with its permission.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/check-ins", P::SignedIn, html::my_check_ins),
        Route::post("/check-ins/start", P::SignedIn, html::start_self),
        Route::get("/check-ins/{id}", P::SignedIn, html::response_page),
        Route::post("/check-ins/{id}", P::SignedIn, html::response_save),
        Route::get("/measures", P::RecordMeasures, html::hub),
        Route::get(
            "/measures/instruments/{id}",
            P::RecordMeasures,
            html::instrument_page,
        ),
        Route::post(
            "/measures/people/{id}/start",
            P::RecordMeasures,
            html::start_staff,
        ),
        Route::get(
            "/manage/activities/{id}/measures",
            P::ManageActivities,
            html::plan_page,
        ),
        Route::post(
            "/manage/activities/{id}/measures",
            P::ManageActivities,
            html::plan_add,
        ),
        Route::post(
            "/manage/activities/{id}/measures/{schedule_id}/remove",
            P::ManageActivities,
            html::plan_remove,
        ),
        Route::get("/measures/design", P::DesignInstruments, design_html::list),
        Route::post(
            "/measures/design",
            P::DesignInstruments,
            design_html::create,
        ),
        Route::get(
            "/measures/design/{id}/{version}",
            P::DesignInstruments,
            design_html::version,
        ),
        Route::post(
            "/measures/design/{id}/{version}",
            P::DesignInstruments,
            design_html::save,
        ),
        Route::post(
            "/measures/design/{id}/{version}/new-version",
            P::DesignInstruments,
            design_html::new_version,
        ),
        Route::get("/instrument-reviews", P::SignedIn, design_html::reviews),
        Route::get(
            "/instrument-reviews/{id}/{version}",
            P::SignedIn,
            design_html::review,
        ),
        Route::post(
            "/instrument-reviews/{id}/{version}",
            P::SignedIn,
            design_html::decide,
        ),
        Route::get(
            "/admin/instrument-wording",
            P::ManageOrganisations,
            html::overlay_form,
        ),
        Route::post(
            "/admin/instrument-wording",
            P::ManageOrganisations,
            html::overlay_upload,
        ),
        Route::get("/api/v1/instruments", P::SignedIn, api::list_instruments)
            .scope("measures:read"),
        Route::post(
            "/api/v1/measures/responses",
            P::RecordMeasures,
            api::submit_response,
        )
        .scope("measures:write"),
        Route::get(
            "/api/v1/people/{id}/scores",
            P::SignedIn,
            api::person_scores,
        )
        .scope("measures:read"),
    ]
}

/// What this module declares to the application: routes, jobs and the tables it owns.
pub fn manifest() -> Manifest {
    Manifest::new("measures", routes())
        .home(home::home)
        .jobs(vec![JobHandler::of::<schedules::DueReminders>()])
        .schedules(vec![Schedule::every::<schedules::DueReminders>(Every::Day)])
        .tables(&[
            "instrument_versions",
            "instrument_panel",
            "instrument_overlays",
            "measure_schedules",
            "measure_responses",
            "measure_answers",
            "measure_scores",
        ])
        .views(&["measures_response_summaries", "measures_score_values"])
}
