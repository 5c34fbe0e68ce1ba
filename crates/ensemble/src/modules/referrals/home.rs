//! The referral pathway's parts of the home page: a link worker's new referrals nobody has
//! taken on beside their own (counts; the names are on the caseload, whose reads are
//! audited), the referrals a clinician made, and a participant's plan.

use futures_util::future::BoxFuture;
use maud::{Markup, html};
use sqlx::Row;

use crate::error::AppError;
use crate::manifest::{HomePart, home_order};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// The statuses that close a referral.
const CLOSED: &str = "('closed', 'declined', 'not_reached', 'did_not_attend')";

/// What a link worker's home page counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkWorkerCounts {
    /// Open referrals to the actor's teams that nobody has taken on.
    pub new_unassigned: i64,
    /// Open referrals assigned to the actor.
    pub mine: i64,
    /// Open tasks past their due time on the actor's open referrals.
    pub overdue_tasks: i64,
}

/// Count a link worker's new, own and overdue work (no names, so no audit row).
pub async fn link_worker_counts(
    state: &AppState,
    actor: &Actor,
) -> Result<LinkWorkerCounts, AppError> {
    let mut out = LinkWorkerCounts::default();
    for (org, _, role) in &actor.memberships {
        if *role != Role::LinkWorker {
            continue;
        }
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM referrals WHERE team_organisation_id = $1 AND assigned_to IS NULL AND status NOT IN {CLOSED}"
        )))
        .bind(org.clone())
        .fetch_one(&state.db.read)
        .await?;
        out.new_unassigned += n;
    }
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS mine, (SELECT COUNT(*) FROM referral_tasks t JOIN referrals q ON q.id = t.referral_id \
         WHERE q.assigned_to = $1 AND q.status NOT IN {CLOSED} AND t.done_at IS NULL AND t.due_at < $2) AS overdue \
         FROM referrals WHERE assigned_to = $1 AND status NOT IN {CLOSED}"
    )))
    .bind(actor.user_id.clone())
    .bind(crate::db::now())
    .fetch_one(&state.db.read)
    .await?;
    out.mine = r.try_get("mine")?;
    out.overdue_tasks = r.try_get("overdue")?;
    Ok(out)
}

/// (open, all) referrals the actor made.
pub async fn sent_counts(state: &AppState, actor: &Actor) -> Result<(i64, i64), AppError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COALESCE(SUM(CASE WHEN status NOT IN {CLOSED} THEN 1 ELSE 0 END), 0) AS open, COUNT(*) AS n \
         FROM referrals WHERE referrer_user_id = $1"
    )))
    .bind(actor.user_id.clone())
    .fetch_one(&state.db.read)
    .await?;
    Ok((r.try_get("open")?, r.try_get("n")?))
}

/// The home section (see [`crate::manifest::HomeSection`]).
pub fn home(state: AppState, actor: Actor) -> BoxFuture<'static, Result<Vec<HomePart>, AppError>> {
    Box::pin(async move {
        let mut parts = Vec::new();
        if actor.has_role(Role::LinkWorker) {
            let c = link_worker_counts(&state, &actor).await?;
            parts.push(HomePart {
                order: home_order::LEAD,
                markup: link_worker_part(&c),
            });
        }
        if actor.has_role(Role::Clinician) && !actor.has_role(Role::LinkWorker) {
            let (open, all) = sent_counts(&state, &actor).await?;
            parts.push(HomePart {
                order: home_order::NEXT,
                markup: sent_part(open, all),
            });
        }
        if actor.has_role(Role::Participant) {
            let (plans, _) = super::service::own_plans(&state, &actor).await?;
            let mut next = Vec::new();
            for p in &plans {
                next.push(match &p.activity_id {
                    Some(a) => {
                        crate::modules::practice::service::next_session_starts(&state, a).await?
                    }
                    None => None,
                });
            }
            parts.push(HomePart {
                order: home_order::LEAD,
                markup: own_plan_part(&plans, &next),
            });
        }
        Ok(parts)
    })
}

fn link_worker_part(c: &LinkWorkerCounts) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-referrals" { "Referrals" }
            ul."nhsuk-list nhsuk-list--border" {
                li {
                    @if c.new_unassigned == 0 { "No new referrals are waiting: every open referral to your team has a link worker." }
                    @else {
                        a href="/caseload#new" { strong { (c.new_unassigned) } " new " (if c.new_unassigned == 1 { "referral" } else { "referrals" }) " nobody has taken on yet" }
                    }
                }
                li {
                    a href="/caseload#mine" { "You have " strong { (c.mine) } " open " (if c.mine == 1 { "referral" } else { "referrals" }) }
                    @if c.overdue_tasks > 0 { " " strong."nhsuk-tag nhsuk-tag--red" { (c.overdue_tasks) " overdue " (if c.overdue_tasks == 1 { "task" } else { "tasks" }) } }
                }
            }
            p."nhsuk-body" { a href="/caseload" { "Go to your caseload" } " · " a href="/referrals/new" { "Add a referral" } }
        }
    }
}

fn sent_part(open: i64, all: i64) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-sent" { "Referrals you made" }
            p."nhsuk-body" {
                @if all == 0 { "You have not made any referrals in Ensemble yet." }
                @else { (open) " of the " (all) " referrals you made " (if open == 1 { "is" } else { "are" }) " still open." }
            }
            p."nhsuk-body" { a href="/referrals/sent" { "Follow your referrals" } " · " a href="/referrals/new" { "Make a referral" } }
        }
    }
}

fn own_plan_part(plans: &[super::service::OwnPlan], next: &[Option<i64>]) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-plan" { "Your plan" }
            @if plans.is_empty() {
                p."nhsuk-body" { "You do not have a social prescribing plan in Ensemble. If you would like one, you can " a href="/refer-yourself" { "refer yourself" } " and a link worker will be in touch." }
            }
            @for (i, p) in plans.iter().enumerate() {
                ul."nhsuk-list" {
                    @if let Some(name) = &p.activity_name {
                        li {
                            "Your activity: " strong { (name) }
                            br;
                            @match next.get(i).copied().flatten() {
                                Some(t) => { "Your next session: " strong { (crate::web::layout::datetime(t)) } }
                                None => { "Your next session: the group will tell you the date." }
                            }
                        }
                    }
                    @if let Some(plan) = &p.plan && !plan.input.next_steps.trim().is_empty() {
                        li { "Your next steps: " (plan.input.next_steps) }
                    }
                    @if let Some(lw) = &p.link_worker { li { "Your link worker is " (lw) "." } }
                }
            }
            p."nhsuk-body" { a href="/my/plan" { "See your whole plan and how your information is used" } }
        }
    }
}
