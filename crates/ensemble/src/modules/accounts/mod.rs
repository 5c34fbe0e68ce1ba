//! Accounts: organisations, people, roles, sign-in with a second factor, invitations,
//! personal access tokens and the administration pages (including the audit trail, outbox
//! and job queue views).

pub mod admin;
pub mod home;
pub mod model;
pub mod pages;
pub mod safeguarding;
pub mod service;
pub mod signin;
pub mod store;

use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;

/// Every route of this module, each with its permission.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/sign-in", P::Public, signin::sign_in_page),
        Route::post("/sign-in", P::Public, signin::sign_in_submit),
        Route::get("/sign-in/verify", P::SignedIn, signin::verify_page).mfa_pending_ok(),
        Route::post("/sign-in/verify", P::SignedIn, signin::verify_submit).mfa_pending_ok(),
        Route::post("/sign-out", P::Public, signin::sign_out),
        Route::get("/invitations/{token}", P::Public, signin::invitation_page),
        Route::post("/invitations/{token}", P::Public, signin::invitation_submit),
        Route::get("/account", P::SignedIn, pages::account),
        Route::post("/account/password", P::SignedIn, pages::change_password),
        Route::get("/account/security/totp", P::SignedIn, pages::totp_page).mfa_pending_ok(),
        Route::post("/account/security/totp", P::SignedIn, pages::totp_submit).mfa_pending_ok(),
        Route::get("/account/tokens", P::SignedIn, pages::tokens_page),
        Route::post("/account/tokens", P::SignedIn, pages::tokens_create),
        Route::post(
            "/account/tokens/{id}/revoke",
            P::SignedIn,
            pages::tokens_revoke,
        ),
        Route::get("/organisations", P::ViewOrganisations, pages::organisations),
        Route::get(
            "/organisations/{id}",
            P::ViewOrganisations,
            pages::organisation,
        ),
        Route::get(
            "/organisations/{id}/members",
            P::ViewOrganisationMembers,
            pages::organisation_members,
        ),
        Route::get(
            "/organisations/{id}/out-of-hours",
            P::SignedIn,
            safeguarding::out_of_hours_page,
        ),
        Route::post(
            "/organisations/{id}/out-of-hours",
            P::SignedIn,
            safeguarding::out_of_hours_save,
        ),
        Route::get("/admin", P::ViewOperations, admin::index),
        Route::get(
            "/admin/organisations",
            P::ManageOrganisations,
            admin::organisations,
        ),
        Route::get(
            "/admin/organisations/new",
            P::ManageOrganisations,
            admin::organisation_new,
        ),
        Route::post(
            "/admin/organisations/new",
            P::ManageOrganisations,
            admin::organisation_create,
        ),
        Route::get(
            "/admin/organisations/{id}",
            P::ManageOrganisations,
            admin::organisation_edit,
        ),
        Route::post(
            "/admin/organisations/{id}",
            P::ManageOrganisations,
            admin::organisation_update,
        ),
        Route::get("/admin/users", P::ManageAccounts, admin::users),
        Route::get("/admin/users/invite", P::ManageAccounts, admin::invite_page),
        Route::post(
            "/admin/users/invite",
            P::ManageAccounts,
            admin::invite_submit,
        ),
        Route::get("/admin/users/{id}", P::ManageAccounts, admin::user),
        Route::post("/admin/users/{id}", P::ManageAccounts, admin::user_update),
        Route::post(
            "/admin/users/{id}/disable",
            P::ManageAccounts,
            admin::user_disable,
        ),
        Route::post(
            "/admin/users/{id}/enable",
            P::ManageAccounts,
            admin::user_enable,
        ),
        Route::post(
            "/admin/users/{id}/reset-mfa",
            P::ManageAccounts,
            admin::user_reset_mfa,
        ),
        Route::post(
            "/admin/users/{id}/memberships",
            P::ManageAccounts,
            admin::membership_add,
        ),
        Route::post(
            "/admin/users/{id}/memberships/{membership_id}/delete",
            P::ManageAccounts,
            admin::membership_remove,
        ),
        Route::get("/admin/role-grants", P::ManageAccounts, admin::role_grants),
        Route::post(
            "/admin/role-grants/{id}/approve",
            P::ManageAccounts,
            admin::role_grant_approve,
        ),
        Route::post(
            "/admin/role-grants/{id}/refuse",
            P::ManageAccounts,
            admin::role_grant_refuse,
        ),
        Route::get("/admin/audit", P::ViewAudit, admin::audit),
        Route::get("/admin/outbox", P::ViewOperations, admin::outbox),
        Route::get("/admin/jobs", P::ViewOperations, admin::jobs),
    ]
}

/// What this module declares to the application: routes, jobs and the tables it owns.
pub fn manifest() -> Manifest {
    Manifest::new("accounts", routes())
        .home(home::home)
        .private(&["recovery_codes"])
        .tables(&[
            "organisations",
            "users",
            "memberships",
            "recovery_codes",
            "invitations",
            "role_grants",
        ])
        .views(&[
            "accounts_user_names",
            "accounts_organisation_profiles",
            "accounts_member_roles",
        ])
}
