//! Directory (capability C1): creative health activities with venues, times, costs and
//! access features; public search with list, map and print views; activity pages; the
//! programme managers' editor; and the Open Referral UK 3.0 API under `/openreferral/`.

pub mod activity_page;
pub mod cache;
pub mod demo;
pub mod generate;
pub mod home;
pub mod html;
pub mod import_oruk;
pub mod map;
pub mod model;
pub mod oruk;
pub mod oruk_openapi;
pub mod oruk_query;
pub mod practitioners;
pub mod search;
pub mod search_page;
pub mod service;
pub mod store;
pub mod venue_areas;

use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;

/// Every route of this module, each with its permission.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/activities", P::Public, search_page::search_page),
        Route::get("/activities/{id}", P::Public, activity_page::activity_page),
        Route::get("/practitioners", P::Public, practitioners::list),
        Route::get("/practitioners/{id}", P::Public, practitioners::show),
        Route::get("/account/profile", P::SignedIn, practitioners::edit_page),
        Route::post("/account/profile", P::SignedIn, practitioners::save),
        Route::get("/manage/activities", P::ManageActivities, html::manage_list),
        Route::get(
            "/manage/activities/new",
            P::ManageActivities,
            html::manage_new,
        ),
        Route::post(
            "/manage/activities/new",
            P::ManageActivities,
            html::manage_create,
        ),
        Route::get(
            "/manage/activities/{id}",
            P::ManageActivities,
            html::manage_edit,
        ),
        Route::post(
            "/manage/activities/{id}",
            P::ManageActivities,
            html::manage_update,
        ),
        Route::post(
            "/manage/activities/{id}/review",
            P::ManageActivities,
            html::manage_review,
        ),
        Route::post(
            "/manage/activities/{id}/archive",
            P::ManageActivities,
            html::manage_archive,
        ),
        Route::post(
            "/manage/activities/{id}/restore",
            P::ManageActivities,
            html::manage_restore,
        ),
    ]
    .into_iter()
    .chain(oruk_routes())
    .collect()
}

/// The Open Referral UK API: public, GET only; any other method is a 405 naming `GET`.
fn oruk_routes() -> Vec<Route> {
    [
        Route::get("/openreferral/", P::Public, oruk::root),
        Route::get("/openreferral/openapi.json", P::Public, oruk::openapi),
        Route::get("/openreferral/services", P::Public, oruk::services),
        Route::get("/openreferral/services/{id}", P::Public, oruk::service),
        Route::get(
            "/openreferral/service_at_locations",
            P::Public,
            oruk::service_at_locations,
        ),
        Route::get(
            "/openreferral/service_at_locations/{id}",
            P::Public,
            oruk::service_at_location,
        ),
        Route::get("/openreferral/taxonomies", P::Public, oruk::taxonomies),
        Route::get("/openreferral/taxonomies/{id}", P::Public, oruk::taxonomy),
        Route::get(
            "/openreferral/taxonomy_terms",
            P::Public,
            oruk::taxonomy_terms,
        ),
        Route::get(
            "/openreferral/taxonomy_terms/{id}",
            P::Public,
            oruk::taxonomy_term,
        ),
        Route::get(
            "/openreferral/organizations",
            P::Public,
            oruk::organizations,
        ),
        Route::get(
            "/openreferral/organizations/{id}",
            P::Public,
            oruk::organization_one,
        ),
    ]
    .into_iter()
    .map(|r| r.other_methods(oruk::method_not_allowed))
    .collect()
}

/// What this module declares to the application: routes, jobs and the tables it owns.
pub fn manifest() -> Manifest {
    Manifest::new("directory", routes())
        .home(home::home)
        .views(&["directory_activity_names"])
        .tables(&[
            "taxonomies",
            "taxonomy_terms",
            "activities",
            "activity_terms",
            "locations",
            "activity_locations",
            "schedules",
            "practitioner_profiles",
            "activity_practitioners",
        ])
}

/// Forget this process's cached directory snapshot at once (after a change elsewhere,
/// such as an organisation archived, that the directory's searches depend on).
pub fn forget_cached(state: &crate::state::AppState) {
    cache::of(state).invalidate();
}
