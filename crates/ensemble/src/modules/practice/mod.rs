//! Practitioner toolkit (capability C4): sessions of an activity, their plan and reusable
//! plan templates, a one-tap register that feeds the referral pathway's attendance, the
//! three-part session log (plan, session, reflective debrief) that co-facilitators add to
//! (conflicts detected rather than overwritten), observation scales, incidents and
//! safeguarding, the reflective journal and supervision, the practice summary, and the
//! competency framework with the CPD portfolio.

pub mod access;
pub mod competencies;
pub mod delivery;
pub mod demo;
pub mod generate;
pub mod home;
pub mod html;
pub mod incidents;
pub mod model;
pub mod moments;
pub mod portfolio;
pub mod portfolio_html;
pub mod reflection;
pub mod service;
pub mod summary;
pub mod today;

use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;
use portfolio_html as ph;

/// Every route of this module, each with its permission.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/sessions", P::RunSessions, html::list),
        Route::post("/sessions", P::RunSessions, html::create),
        Route::post("/sessions/plan", P::RunSessions, html::plan_from_schedule),
        Route::get("/sessions/{id}", P::RunSessions, html::view),
        Route::post("/sessions/{id}/plan", P::RunSessions, html::save_plan),
        Route::post("/sessions/{id}/cancel", P::RunSessions, html::cancel),
        Route::get("/sessions/{id}/register", P::RunSessions, html::register),
        Route::post("/sessions/{id}/register", P::RunSessions, html::mark),
        Route::post(
            "/sessions/{id}/register/everyone",
            P::RunSessions,
            html::mark_everyone,
        ),
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
        Route::post("/sessions/{id}/moments", P::RunSessions, html::add_moment),
        Route::post(
            "/sessions/{id}/members",
            P::RunSessions,
            html::member_leaves,
        ),
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
        Route::get("/practice/portfolio", P::RunSessions, ph::overview),
        Route::get("/practice/portfolio/print", P::RunSessions, ph::print),
        Route::get(
            "/practice/portfolio/export.json",
            P::RunSessions,
            ph::export_json,
        ),
        Route::get(
            "/practice/portfolio/evidence/new",
            P::RunSessions,
            ph::new_evidence,
        ),
        Route::post(
            "/practice/portfolio/evidence",
            P::RunSessions,
            ph::add_evidence,
        ),
        Route::get(
            "/practice/portfolio/evidence/{id}",
            P::RunSessions,
            ph::evidence,
        ),
        Route::post(
            "/practice/portfolio/evidence/{id}/remove",
            P::RunSessions,
            ph::remove_evidence,
        ),
        Route::get(
            "/practice/portfolio/certificates/{id}",
            P::SignedIn,
            ph::certificate,
        ),
        Route::get(
            "/practice/portfolio/assess",
            P::RunSessions,
            ph::assess_form,
        ),
        Route::post("/practice/portfolio/assess", P::RunSessions, ph::assess),
        Route::get(
            "/practice/portfolio/request",
            P::RunSessions,
            ph::request_form,
        ),
        Route::post("/practice/portfolio/request", P::RunSessions, ph::request),
        Route::get("/practice/assessments", P::SignedIn, ph::asked),
        Route::get("/practice/assessments/{id}", P::SignedIn, ph::request_view),
        Route::post("/practice/assessments/{id}", P::SignedIn, ph::answer),
        Route::get("/practice/framework", P::RunSessions, ph::framework),
        Route::post("/practice/framework", P::RunSessions, ph::start_draft),
        Route::post(
            "/practice/framework/{id}/competencies",
            P::RunSessions,
            ph::add_competency,
        ),
        Route::post(
            "/practice/framework/{id}/competencies/{competency}",
            P::RunSessions,
            ph::edit_competency,
        ),
        Route::post(
            "/practice/framework/{id}/publish",
            P::RunSessions,
            ph::publish,
        ),
        Route::get(
            "/api/v1/practice/portfolio",
            P::RunSessions,
            ph::api_portfolio,
        )
        .scope("practice:read"),
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

/// What this module declares to the application: routes, jobs and the tables it owns.
pub fn manifest() -> Manifest {
    Manifest::new("practice", routes())
        .home(home::home)
        .private(&["journal_entries", "supervision_records", "certificates"])
        .tables(&[
            "practice_sessions",
            "session_facilitators",
            "session_revisions",
            "plan_templates",
            "register_entries",
            "programme_leads",
            "incidents",
            "incident_updates",
            "session_observations",
            "journal_entries",
            "supervision_records",
            "competency_frameworks",
            "competencies",
            "competency_framework_contributors",
            "certificates",
            "portfolio_evidence",
            "portfolio_evidence_competencies",
            "competency_assessments",
            "session_moments",
            "activity_members",
        ])
}
