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
pub mod demo;
pub mod digest;
pub mod feed;
pub mod feed_html;
pub mod generate;
pub mod html;
pub mod link;
pub mod model;
pub mod photos;
pub mod service;
pub mod settings;
pub mod share_html;
pub mod themes;
pub mod themes_html;
pub mod voices;
pub mod voices_html;

use crate::jobs::{Every, JobHandler, Schedule};
use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;
use share_html as sh;
use themes_html as th;
use voices_html as vh;

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
        Route::get("/share/{token}", P::Public, sh::share_form),
        Route::post("/share/{token}", P::Public, sh::share),
        Route::get("/share/{token}/qr.svg", P::Public, sh::qr),
        Route::get("/share/withdraw/{key}", P::Public, sh::withdraw_form),
        Route::post("/share/withdraw/{key}", P::Public, sh::withdraw),
        Route::get("/voices/{id}", P::SignedIn, vh::voice),
        Route::post("/voices/{id}", P::SignedIn, vh::edit),
        Route::post("/voices/{id}/withdraw", P::SignedIn, vh::withdraw),
        Route::get("/voices/{id}/photo", P::SignedIn, vh::photo),
        Route::post("/voices/{id}/photo", P::SignedIn, vh::add_photo),
        Route::post("/voices/{id}/moderate", P::SignedIn, vh::moderate),
        Route::get("/programmes/{id}/themes", P::SignedIn, th::overview),
        Route::post("/programmes/{id}/themes", P::SignedIn, th::add),
        Route::post("/programmes/{id}/themes/{theme}", P::SignedIn, th::change),
        Route::post("/voices/{id}/themes", P::SignedIn, th::code),
        Route::get("/actions/{id}", P::SignedIn, vh::action),
        Route::post("/actions/{id}/updates", P::SignedIn, vh::post_update),
        Route::post("/actions/{id}/replies", P::SignedIn, vh::reply),
        Route::get("/api/v1/programmes", P::SignedIn, api::list).scope("programmes:read"),
        Route::get("/api/v1/programmes/{id}", P::SignedIn, api::get).scope("programmes:read"),
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
        .jobs(vec![JobHandler::of::<digest::WeeklyDigest>()])
        .schedules(vec![Schedule::every::<digest::WeeklyDigest>(Every::Day)])
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
            "programme_themes",
            "programme_voice_codings",
            "programme_voice_themes",
            "programme_notification_settings",
            "programme_digest_sends",
        ])
}
