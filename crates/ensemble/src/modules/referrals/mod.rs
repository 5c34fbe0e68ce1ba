//! Referrals (capability C3): staff and self-referral forms and FHIR R4 intake; the link
//! worker's caseload with statuses, tasks, case notes, barriers and the "what matters to
//! me" plan; providers accepting or declining; attendance; and the message back to the
//! referrer and GP with SNOMED CT codes. Follows the three parts of the PRSB Social
//! Prescribing Information Standard: the record, the referral and the message back.

pub mod demo;
pub mod demo_cohort;
pub mod fhir;
pub mod generate;
pub mod home;
pub mod html;
pub mod jobs;
pub mod model;
pub mod selfrefer;
pub mod service;

use crate::jobs::JobHandler;
use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;

/// Every route of this module, each with its permission.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/refer-yourself", P::Public, selfrefer::form),
        Route::post("/refer-yourself", P::Public, selfrefer::submit),
        Route::get("/refer-yourself/done", P::Public, selfrefer::done),
        Route::get("/referrals/new", P::MakeReferrals, html::new_form),
        Route::post("/referrals/new", P::MakeReferrals, html::create),
        Route::get("/referrals/sent", P::MakeReferrals, html::sent),
        Route::get(
            "/referrals/{id}/message-back",
            P::MakeReferrals,
            html::message_back,
        ),
        Route::get("/caseload", P::WorkCaseload, html::caseload),
        Route::get("/caseload/{id}", P::WorkCaseload, html::case_page),
        Route::post("/caseload/{id}/take", P::WorkCaseload, html::take_on),
        Route::post("/caseload/{id}/status", P::WorkCaseload, html::status),
        Route::post("/caseload/{id}/notes", P::WorkCaseload, html::note),
        Route::post("/caseload/{id}/tasks", P::WorkCaseload, html::task_add),
        Route::post(
            "/caseload/{id}/tasks/{task_id}/done",
            P::WorkCaseload,
            html::task_done,
        ),
        Route::post(
            "/caseload/{id}/barriers",
            P::WorkCaseload,
            html::barrier_add,
        ),
        Route::get("/caseload/{id}/plan", P::WorkCaseload, html::plan_form),
        Route::post("/caseload/{id}/plan", P::WorkCaseload, html::plan_save),
        Route::post("/caseload/{id}/connect", P::WorkCaseload, html::connect),
        Route::get("/caseload/{id}/match", P::WorkCaseload, html::match_page),
        Route::post(
            "/caseload/{id}/match/send",
            P::WorkCaseload,
            html::match_send,
        ),
        Route::post(
            "/caseload/{id}/match/choice",
            P::WorkCaseload,
            html::match_choice,
        ),
        Route::post(
            "/caseload/{id}/attendance",
            P::WorkCaseload,
            html::attendance,
        ),
        Route::post(
            "/caseload/{id}/message-back",
            P::WorkCaseload,
            html::message_back_send,
        ),
        Route::get(
            "/provider/referrals",
            P::RespondToReferrals,
            html::provider_inbox,
        ),
        Route::get(
            "/provider/referrals/{id}",
            P::RespondToReferrals,
            html::provider_page,
        ),
        Route::post(
            "/provider/referrals/{id}/respond",
            P::RespondToReferrals,
            html::provider_respond,
        ),
        Route::post(
            "/provider/referrals/{id}/message",
            P::RespondToReferrals,
            html::provider_message,
        ),
        Route::post(
            "/provider/referrals/{id}/attendance",
            P::RespondToReferrals,
            html::provider_attendance,
        ),
        Route::post(
            "/api/v1/fhir/ServiceRequest",
            P::MakeReferrals,
            fhir::post_service_request,
        )
        .scope("referrals:write")
        .errors_as(fhir::app_error_outcome),
        Route::post(
            "/api/v1/fhir/$process-message",
            P::MakeReferrals,
            fhir::process_message,
        )
        .scope("referrals:write")
        .errors_as(fhir::app_error_outcome),
        Route::get(
            "/api/v1/fhir/ServiceRequest/{id}",
            P::MakeReferrals,
            fhir::get_service_request,
        )
        .scope("referrals:read")
        .errors_as(fhir::app_error_outcome),
        Route::get(
            "/api/v1/referrals/{id}/message-back",
            P::MakeReferrals,
            fhir::get_message_back,
        )
        .scope("referrals:read")
        .errors_as(fhir::app_error_outcome),
    ]
}

/// What this module declares to the application: routes, jobs and the tables it owns.
pub fn manifest() -> Manifest {
    Manifest::new("referrals", routes())
        .home(home::home)
        .jobs(vec![
            JobHandler::of::<jobs::ProviderChase>(),
            JobHandler::of::<jobs::Digest>(),
            JobHandler::of::<jobs::TaskDue>(),
        ])
        .tables(&[
            "referrals",
            "referral_events",
            "referral_tasks",
            "referral_barriers",
            "referral_plans",
            "referral_attendance",
            "referral_options",
        ])
        .views(&[
            "referrals_case_summaries",
            "referrals_attendance_marks",
            "referrals_barrier_actions",
        ])
}
