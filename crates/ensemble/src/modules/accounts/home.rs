//! The accounts module's part of the home page: what waits for an administrator (care roles
//! to approve, messages and jobs that failed this week).

use futures_util::future::BoxFuture;
use maud::{Markup, html};

use crate::error::AppError;
use crate::manifest::{HomePart, home_order};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// What waits for an administrator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminWaiting {
    /// Care-role requests waiting for a second administrator.
    pub care_roles: i64,
    /// Emails and text messages that could not be delivered in the last 7 days.
    pub failed_messages: i64,
    /// Background jobs that gave up in the last 7 days.
    pub failed_jobs: i64,
}

/// Count what waits for an administrator.
pub async fn admin_waiting(state: &AppState) -> Result<AdminWaiting, AppError> {
    Ok(AdminWaiting {
        care_roles: super::service::pending_care_grant_count(state).await?,
        failed_messages: crate::notify::failed_since(&state.db, 7).await?,
        failed_jobs: crate::jobs::failed_since(state, 7).await?,
    })
}

/// The home section (see [`crate::manifest::HomeSection`]).
pub fn home(state: AppState, actor: Actor) -> BoxFuture<'static, Result<Vec<HomePart>, AppError>> {
    Box::pin(async move {
        if !actor.has_role(Role::Administrator) {
            return Ok(vec![]);
        }
        let w = admin_waiting(&state).await?;
        Ok(vec![HomePart {
            order: home_order::LEAD,
            markup: admin_part(&w),
        }])
    })
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn admin_part(w: &AdminWaiting) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-admin" { "Waiting for an administrator" }
            ul."nhsuk-list nhsuk-list--border" {
                li {
                    @if w.care_roles == 0 { "No care roles are waiting for approval." }
                    @else { a href="/admin/role-grants" { (plural(w.care_roles, "care role is", "care roles are")) " waiting for a second administrator to approve" } }
                }
                li {
                    @if w.failed_messages == 0 { "Every email and text message this week was delivered or kept." }
                    @else { a href="/admin/outbox" { (plural(w.failed_messages, "message", "messages")) " could not be delivered this week" } }
                }
                li {
                    @if w.failed_jobs == 0 { "No background jobs failed this week." }
                    @else { a href="/admin/jobs" { (plural(w.failed_jobs, "background job", "background jobs")) " failed this week" } }
                }
            }
            p."nhsuk-body" { a href="/admin" { "Administration" } " · " a href="/admin/users/invite" { "Invite someone" } }
        }
    }
}
