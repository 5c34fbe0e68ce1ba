//! The measures module's parts of the home page: a programme manager's measurement plans
//! (which listed activities have one), a participant's check-ins to do, and a
//! co-researcher's instruments waiting for their review.

use futures_util::future::BoxFuture;
use maud::{Markup, html};
use sqlx::Row;

use super::schedules::DueState;
use crate::error::AppError;
use crate::manifest::{HomePart, home_order};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// How many activities without a plan the home page names.
pub const WITHOUT_SHOWN: usize = 5;

/// The listed activities of the actor's programme-manager organisations: (id, name, number
/// of measures in the activity's plan), those without a plan first.
pub async fn plans_of_managed(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(String, String, i64)>, AppError> {
    let mut out = Vec::new();
    for (org, _, role) in &actor.memberships {
        if *role != Role::ProgrammeManager {
            continue;
        }
        let rows = sqlx::query(
            "SELECT a.id, a.name, (SELECT COUNT(*) FROM measure_schedules s WHERE s.activity_id = a.id) AS n \
             FROM directory_activity_names a WHERE a.organisation_id = $1 AND a.status = 'active' ORDER BY lower(a.name), a.id",
        )
        .bind(org.clone())
        .fetch_all(&state.db.read)
        .await?;
        for r in rows {
            out.push((r.try_get("id")?, r.try_get("name")?, r.try_get("n")?));
        }
    }
    out.sort_by_key(|(_, _, n)| *n > 0);
    Ok(out)
}

/// The home section (see [`crate::manifest::HomeSection`]).
pub fn home(state: AppState, actor: Actor) -> BoxFuture<'static, Result<Vec<HomePart>, AppError>> {
    Box::pin(async move {
        let mut parts = Vec::new();
        if actor.has_role(Role::ProgrammeManager) {
            let plans = plans_of_managed(&state, &actor).await?;
            parts.push(HomePart {
                order: home_order::NEXT,
                markup: plans_part(&plans),
            });
        }
        if actor.has_role(Role::Participant)
            && let Some(own) = super::service::own_check_ins(&state, &actor).await?
        {
            let to_do = own
                .due
                .iter()
                .filter(|d| matches!(d.state, DueState::Due | DueState::Overdue))
                .count();
            parts.push(HomePart {
                order: home_order::NEXT,
                markup: check_ins_part(to_do, own.pending.len()),
            });
        }
        if actor.has_role(Role::CoResearcher) {
            let waiting = super::design::reviews_for(&state, &actor).await?;
            parts.push(HomePart {
                order: home_order::LEAD,
                markup: reviews_part(&waiting),
            });
        }
        Ok(parts)
    })
}

fn plans_part(plans: &[(String, String, i64)]) -> Markup {
    let with = plans.iter().filter(|(_, _, n)| *n > 0).count();
    let without: Vec<&(String, String, i64)> = plans.iter().filter(|(_, _, n)| *n == 0).collect();
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-plans" { "Measurement plans" }
            @if plans.is_empty() {
                p."nhsuk-body" { "You have no listed activities yet. Each activity's measurement plan says which wellbeing measures people complete, and when." }
            } @else {
                p."nhsuk-body" { (with) " of your " (plans.len()) " listed activities " (if with == 1 { "has" } else { "have" }) " a measurement plan." }
                @if !without.is_empty() {
                    p."nhsuk-body" { "Without a plan:" }
                    ul."nhsuk-list nhsuk-list--bullet" {
                        @for (id, name, _) in without.iter().take(WITHOUT_SHOWN) {
                            li { a href=(format!("/manage/activities/{id}/measures")) { "Plan measures for " (name) } }
                        }
                    }
                }
                @if let Some((id, name, _)) = plans.iter().find(|(_, _, n)| *n > 0) {
                    p."nhsuk-body" { a href=(format!("/manage/activities/{id}/measures")) { "Plan and results so far for " (name) } }
                }
            }
        }
    }
}

fn check_ins_part(to_do: usize, unfinished: usize) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-check-ins" { "Your check-ins" }
            p."nhsuk-body" {
                @if to_do == 0 && unfinished == 0 { "Nothing to do now. You can do a check-in whenever you like." }
                @else {
                    @if to_do > 0 { "You have " (to_do) " " (if to_do == 1 { "check-in" } else { "check-ins" }) " to do. " }
                    @if unfinished > 0 { "You started " (unfinished) " and did not finish " (if unfinished == 1 { "it" } else { "them" }) "." }
                }
            }
            p."nhsuk-body" { a href="/check-ins" { "Go to your check-ins" } }
        }
    }
}

fn reviews_part(waiting: &[super::design::VersionRow]) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-reviews" { "Questionnaires waiting for your review" }
            @if waiting.is_empty() {
                p."nhsuk-body" { "None at the moment. When a team asks you to review a questionnaire they are designing, it appears here." }
            } @else {
                ul."nhsuk-list nhsuk-list--bullet" {
                    @for v in waiting {
                        li { a href=(format!("/instrument-reviews/{}/{}", v.instrument_id, v.version)) { (v.name) } " from " (v.organisation) }
                    }
                }
            }
            p."nhsuk-body" { a href="/instrument-reviews" { "All reviews" } " · " a href="/measures/design" { "Questionnaires you are designing" } }
        }
    }
}
