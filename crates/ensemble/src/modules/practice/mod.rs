//! Practitioner toolkit (capability C4), first part: sessions of an activity, their plan and
//! reusable plan templates, a one-tap register that feeds the referral pathway's attendance,
//! and the three-part session log (plan, session, reflective debrief) that co-facilitators
//! add to, with conflicts detected rather than overwritten.

pub mod demo;
pub mod generate;
pub mod html;
pub mod incidents;
pub mod model;
pub mod reflection;
pub mod service;
pub mod summary;

use crate::rbac::Permission as P;
use crate::web::routes::Route;

/// Every route of this module, each with its permission.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/sessions", P::RunSessions, html::list),
        Route::post("/sessions", P::RunSessions, html::create),
        Route::get("/sessions/{id}", P::RunSessions, html::view),
        Route::post("/sessions/{id}/plan", P::RunSessions, html::save_plan),
        Route::post("/sessions/{id}/cancel", P::RunSessions, html::cancel),
        Route::get("/sessions/{id}/register", P::RunSessions, html::register),
        Route::post("/sessions/{id}/register", P::RunSessions, html::mark),
        Route::get("/sessions/{id}/log", P::RunSessions, html::log),
        Route::post("/sessions/{id}/log", P::RunSessions, html::save_log),
        Route::get(
            "/sessions/{id}/incident",
            P::RunSessions,
            html::incident_form,
        ),
        Route::post(
            "/sessions/{id}/incident",
            P::RunSessions,
            html::incident_report,
        ),
        Route::post("/sessions/{id}/observation", P::RunSessions, html::observe),
        Route::get("/practice/summary", P::RunSessions, html::practice_summary),
        Route::get("/practice/journal", P::RunSessions, html::journal),
        Route::post("/practice/journal", P::RunSessions, html::journal_write),
        Route::get(
            "/practice/journal/{id}",
            P::RunSessions,
            html::journal_entry,
        ),
        Route::get("/practice/supervision", P::SignedIn, html::supervision),
        Route::post(
            "/practice/supervision",
            P::RunSessions,
            html::supervision_write,
        ),
        Route::get(
            "/practice/supervision/{id}",
            P::SignedIn,
            html::supervision_record,
        ),
        Route::get("/incidents", P::SignedIn, html::incidents_list),
        Route::get("/incidents/{id}", P::SignedIn, html::incident_view),
        Route::post(
            "/incidents/{id}/follow-up",
            P::SignedIn,
            html::incident_follow_up,
        ),
        Route::get(
            "/manage/activities/{id}/leads",
            P::ManageActivities,
            html::leads,
        ),
        Route::post(
            "/manage/activities/{id}/leads",
            P::ManageActivities,
            html::name_lead,
        ),
    ]
}
