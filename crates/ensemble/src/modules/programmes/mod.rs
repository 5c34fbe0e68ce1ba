//! Programmes, voices and "you said, we did" (capability C6, first part): a programme is a
//! partnership of organisations with its activities and its members, each with a stated role
//! (responsible, consulted, kept informed) and capacity (staff, participant, co-researcher).
//! Members share voices — feedback, stories, moments that mattered — with the team only,
//! every member, or the public after a moderator's check, and can edit or withdraw them at
//! any time. The team turns voices into actions; each progress update reaches the people
//! who spoke, who can reply; a public board shows the actions without naming anyone.

pub mod access;
pub mod actions;
pub mod api;
pub mod atom;
pub mod behalf;
pub mod decisions;
pub mod decisions_html;
pub mod demo;
pub mod digest;
pub mod evidence;
pub mod feed;
pub mod feed_html;
pub mod generate;
pub mod html;
pub mod link;
pub mod media;
pub mod media_html;
pub mod model;
pub mod plans;
pub mod plans_html;
pub mod proposals;
pub mod proposals_html;
pub mod service;
pub mod settings;
pub mod share_html;
pub mod themes;
pub mod themes_export;
pub mod themes_html;
pub mod updates;
pub mod updates_html;
pub mod upkeep;
pub mod voices;
pub mod voices_html;

use crate::jobs::{Every, JobHandler, Schedule};
use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;
use decisions_html as dh;
use proposals_html as ph;
use share_html as sh;
use themes_html as th;
use voices_html as vh;
use {plans_html as plh, updates_html as uh};

/// Every route of this module, each with its permission (the relationship to the record is
/// then proved by `access`).
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/programmes", P::SignedIn, html::list),
        Route::post("/programmes", P::ManageActivities, html::create),
        Route::get("/programmes/{id}", P::SignedIn, html::space),
        Route::get("/programmes/{id}/about", P::Public, html::about),
        Route::get("/programmes/{id}/board", P::Public, html::board),
        Route::post("/programmes/{id}/voices", P::SignedIn, html::share),
        Route::get("/programmes/{id}/voices/for", P::SignedIn, behalf::form),
        Route::post("/programmes/{id}/voices/for", P::SignedIn, behalf::submit),
        Route::post(
            "/programmes/{id}/partners",
            P::ManageActivities,
            html::add_partner,
        ),
        Route::post(
            "/programmes/{id}/activities",
            P::ManageActivities,
            html::add_activity,
        ),
        Route::post(
            "/programmes/{id}/members",
            P::ManageActivities,
            html::add_member,
        ),
        Route::get("/programmes/{id}/actions/new", P::SignedIn, vh::new_action),
        Route::post("/programmes/{id}/actions", P::SignedIn, vh::create_action),
        Route::get("/programmes/{id}/link", P::SignedIn, sh::link_page),
        Route::post("/programmes/{id}/link/end", P::SignedIn, sh::end_links),
        Route::get("/share/{token}", P::Public, sh::share_form),
        Route::post("/share/{token}", P::Public, sh::share),
        Route::get("/share/{token}/qr.svg", P::Public, sh::qr),
        Route::get("/share/withdraw/{key}", P::Public, sh::withdraw_form),
        Route::post("/share/withdraw/{key}", P::Public, sh::withdraw),
        Route::get("/voices/{id}", P::SignedIn, vh::voice),
        Route::post("/voices/{id}", P::SignedIn, vh::edit),
        Route::post("/voices/{id}/withdraw", P::SignedIn, vh::withdraw),
        Route::get("/voices/{id}/photo", P::SignedIn, media_html::photo),
        Route::post("/voices/{id}/photo", P::SignedIn, media_html::add_photo),
        Route::get("/voices/{id}/audio", P::SignedIn, media_html::audio),
        Route::post("/voices/{id}/audio", P::SignedIn, media_html::add_audio),
        Route::post("/voices/{id}/moderate", P::SignedIn, vh::moderate),
        Route::get("/programmes/{id}/themes", P::SignedIn, th::overview),
        Route::post("/programmes/{id}/themes", P::SignedIn, th::add),
        Route::get(
            "/programmes/{id}/themes/codings.csv",
            P::SignedIn,
            themes_export::codings_csv,
        ),
        Route::post("/programmes/{id}/themes/{theme}", P::SignedIn, th::change),
        Route::post("/voices/{id}/themes", P::SignedIn, th::code),
        Route::get("/actions/{id}", P::SignedIn, vh::action),
        Route::post("/actions/{id}/updates", P::SignedIn, vh::post_update),
        Route::post("/actions/{id}/replies", P::SignedIn, vh::reply),
        Route::post("/actions/{id}/owner", P::SignedIn, upkeep::owner),
        Route::post(
            "/programmes/{id}/partners/{organisation}/remove",
            P::ManageActivities,
            upkeep::partner,
        ),
        Route::post(
            "/programmes/{id}/activities/{activity}/remove",
            P::ManageActivities,
            upkeep::activity,
        ),
        Route::post(
            "/programmes/{id}/members/{user}/remove",
            P::SignedIn,
            upkeep::member,
        ),
        // Proposals, the decision panel and the decisions log.
        Route::get("/programmes/{id}/proposals", P::SignedIn, ph::list),
        Route::post("/programmes/{id}/proposals", P::SignedIn, ph::create),
        Route::post("/programmes/{id}/panel", P::SignedIn, ph::set_panel),
        Route::get("/proposals/{id}", P::SignedIn, ph::proposal),
        Route::post("/proposals/{id}/support", P::SignedIn, ph::support),
        Route::post("/proposals/{id}/comments", P::SignedIn, ph::comment),
        Route::post("/proposals/{id}/status", P::SignedIn, ph::set_status),
        Route::post("/proposals/{id}/decision", P::SignedIn, ph::decide),
        Route::get("/programmes/{id}/decisions", P::Public, dh::log),
        Route::get("/programmes/{id}/decisions/new", P::SignedIn, dh::new),
        Route::post("/programmes/{id}/decisions", P::SignedIn, dh::create),
        Route::get("/decisions/{id}/action", P::SignedIn, dh::new_action),
        Route::post("/decisions/{id}/action", P::SignedIn, dh::create_action),
        // Plans, updates and the Atom feed (access rules in plans.rs and updates.rs).
        Route::get("/programmes/{id}/plan", P::SignedIn, plh::plan),
        Route::post("/programmes/{id}/plan", P::SignedIn, plh::save),
        Route::get("/programmes/{id}/plan/edit", P::SignedIn, plh::edit),
        Route::get("/programmes/{id}/plan/history", P::SignedIn, plh::history),
        Route::get("/programmes/{id}/plan/compare", P::SignedIn, plh::compare),
        Route::get("/programmes/{id}/updates", P::SignedIn, uh::list),
        Route::post("/programmes/{id}/updates", P::SignedIn, uh::post),
        Route::get("/programmes/{id}/updates/{update}", P::SignedIn, uh::update),
        Route::post(
            "/programmes/{id}/updates/{update}/comments",
            P::SignedIn,
            uh::comment,
        ),
        Route::post(
            "/programmes/{id}/updates/{update}/edit",
            P::SignedIn,
            uh::edit,
        ),
        Route::post(
            "/programmes/{id}/updates/{update}/remove",
            P::SignedIn,
            uh::remove,
        ),
        Route::post(
            "/programmes/{id}/updates/{update}/comments/{comment}/remove",
            P::SignedIn,
            uh::remove_comment,
        ),
        Route::get("/programmes/{id}/feed.atom", P::Public, atom::feed),
        Route::get("/api/v1/programmes", P::SignedIn, api::list).scope("programmes:read"),
        Route::get("/api/v1/programmes/{id}", P::SignedIn, api::get).scope("programmes:read"),
        Route::get(
            "/api/v1/programmes/{id}/themes",
            P::SignedIn,
            themes_export::api,
        )
        .scope("programmes:read"),
        // Staying connected: the feed, notification settings and the digest's unsubscribe link.
        Route::get("/feed", P::SignedIn, feed_html::feed_page),
        Route::post("/feed/read", P::SignedIn, feed_html::mark_read),
        Route::get("/settings/notifications", P::SignedIn, settings::show),
        Route::post("/settings/notifications", P::SignedIn, settings::update),
        Route::get("/digest/off/{token}", P::Public, digest::off_form),
        Route::post("/digest/off/{token}", P::Public, digest::off),
        Route::get("/api/v1/feed", P::SignedIn, feed_html::api_feed).scope("programmes:read"),
    ]
}

/// What this module declares to the application.
pub fn manifest() -> Manifest {
    Manifest::new("programmes", routes())
        .home(feed_html::home)
        .tables(&[
            "programmes",
            "programme_partners",
            "programme_activities",
            "programme_members",
            "programme_voices",
            "programme_actions",
            "programme_action_voices",
            "programme_action_updates",
            "programme_action_replies",
            "programme_notifications",
            "programme_voice_photos",
            "programme_voice_audio",
            "programme_themes",
            "programme_voice_codings",
            "programme_voice_themes",
            "programme_panel_members",
            "programme_proposals",
            "programme_proposal_supports",
            "programme_proposal_comments",
            "programme_decisions",
            "programme_decision_participants",
            "programme_decision_voices",
            "programme_decision_actions",
            "programme_proposal_notifications",
            "programme_plan_revisions",
            "programme_updates",
            "programme_update_comments",
            "programme_notification_settings",
            "programme_digest_sends",
        ])
        .jobs(vec![
            JobHandler::of::<behalf::ConsentSweep>(),
            JobHandler::of::<digest::WeeklyDigest>(),
        ])
        .schedules(vec![
            Schedule::every::<behalf::ConsentSweep>(Every::Hour),
            Schedule::every::<digest::WeeklyDigest>(Every::Day),
        ])
        .views(&["programmes_activity_links"])
}
