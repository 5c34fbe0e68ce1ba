//! The participant's own pages: "My plan" (their plans, scores in words, the next session,
//! moments shared from sessions and their consents in the first person) and the page that
//! asks them to confirm withdrawing, or giving again, a consent.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::model::{Decision, Purpose};
use super::own;
use super::service::CurrentConsent;
use crate::error::AppError;
use crate::modules::practice::moments::Moment;
use crate::modules::referrals::service::OwnPlan;
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, csrf, summary_row};
use crate::web::layout::long_date as date_of;
use crate::web::{Page, PageCtx, page};

/// What "My plan" confirms after a change (`?consent=withdrawn` or `given`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PlanQuery {
    consent: String,
}

/// GET /my/plan — the person's own plan(s) and consents.
pub async fn my_plan(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    q: Result<Query<PlanQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let (plans, consents) = crate::modules::referrals::service::own_plans(&state, &actor).await?;
    let moments = own_moments(&state, &actor).await?;
    let mut next = Vec::new();
    for p in &plans {
        next.push(match &p.activity_id {
            Some(a) => crate::modules::practice::service::next_session_starts(&state, a).await?,
            None => None,
        });
    }
    let done = q.map(|Query(q)| q.consent).unwrap_or_default(); // bad input: no banner
    let v = PlanView {
        plans: &plans,
        next: &next,
        consents: &consents,
        moments: &moments,
    };
    Ok(my_plan_view(&ctx, &v, Decision::from_code(&done)))
}

/// Moments from sessions about the signed-in person, for every record linked to them.
async fn own_moments(state: &AppState, actor: &Actor) -> Result<Vec<Moment>, AppError> {
    let mut moments = Vec::new();
    let people: Vec<String> = sqlx::query_scalar("SELECT id FROM people WHERE user_id = $1")
        .bind(actor.user_id.clone())
        .fetch_all(&state.db.read)
        .await?;
    for person in &people {
        moments.extend(crate::modules::practice::moments::for_person(state, person).await?);
    }
    Ok(moments)
}

struct PlanView<'a> {
    plans: &'a [OwnPlan],
    /// The next planned session of each plan's activity.
    next: &'a [Option<i64>],
    consents: &'a [CurrentConsent],
    moments: &'a [Moment],
}

/// The person's decision in their own words.
fn decision_words(c: Option<&CurrentConsent>) -> String {
    match c {
        Some(c) => match c.decision {
            Decision::Given => format!("You agreed on {}", date_of(c.decided_at)),
            Decision::Refused => format!("You said no on {}", date_of(c.decided_at)),
            Decision::Withdrawn => format!("You withdrew this on {}", date_of(c.decided_at)),
        },
        None => "Not asked yet".into(),
    }
}

fn plan_card(p: &OwnPlan, next: Option<i64>) -> Markup {
    html! {
        div."nhsuk-card" { div."nhsuk-card__content" {
            h2."nhsuk-card__heading" { "Your plan with " (p.team_name) }
            p { strong."nhsuk-tag" class=(p.status.tag()) { (p.status.label()) } }
            @if let Some(lw) = &p.link_worker { p { "Your link worker is " (lw) "." } }
            @match &p.plan {
                Some(plan) => {
                    dl."nhsuk-summary-list" {
                        (summary_row("What matters to me", &plan.input.what_matters))
                        (summary_row("Needs and concerns", &plan.input.needs))
                        (summary_row("My goals", &plan.input.goals))
                        (summary_row("Support offered", &plan.input.support_offered))
                        (summary_row("Next steps", &plan.input.next_steps))
                        (summary_row("Review date", &plan.input.review_on))
                    }
                    @if plan.agreed_at.is_none() { p."nhsuk-body" { "This plan is still being worked out with you." } }
                }
                None => { p."nhsuk-body" { "Your link worker will talk with you about what matters to you, and you will make a plan together." } }
            }
            @if let (Some(name), Some(id)) = (&p.activity_name, &p.activity_id) {
                p { "Activity: " a href=(format!("/activities/{id}")) { (name) } }
                @match next {
                    Some(t) => { p { "Your next session: " strong { (crate::web::layout::datetime(t)) } } }
                    None => { p { "Your next session: the group will tell you the date." } }
                }
            }
            @if !p.scores.is_empty() {
                (crate::modules::measures::html::own_scores_panel(&p.scores, "My wellbeing"))
            }
            p { a href="/check-ins" { "Do a check-in" } }
        } }
    }
}

/// "My plan": each plan with its activity, next session and wellbeing in words, moments
/// shared from sessions, and the person's consents in the first person.
fn my_plan_view(ctx: &PageCtx, v: &PlanView<'_>, done: Option<Decision>) -> Response {
    let body = html! {
        @match done {
            Some(Decision::Withdrawn) => { div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "You have withdrawn your consent. You can give it again at any time below." } } }
            Some(Decision::Given) => { div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { "Thank you. You have given your consent." } } }
            _ => {}
        }
        h1 { "My plan" }
        @if v.plans.is_empty() {
            p."nhsuk-body" { "You do not have a social prescribing plan in Ensemble. If you would like one, you can " a href="/refer-yourself" { "refer yourself" } " and a link worker will be in touch." }
        }
        @for (i, p) in v.plans.iter().enumerate() {
            (plan_card(p, v.next.get(i).copied().flatten()))
        }
        @if !v.moments.is_empty() {
            h2."nhsuk-heading-m" { "Moments from your sessions" }
            p."nhsuk-body" { "Shared because you agreed to share stories. If you withdraw that, they are hidden straight away." }
            ul."nhsuk-list nhsuk-list--border" {
                @for m in v.moments {
                    li { (m.moment) br; span."nhsuk-body-s" { (m.activity) ", " (date_of(m.session_starts_at)) ", noted by " (m.recorded_by) } }
                }
            }
        }
        @if !v.plans.is_empty() {
            h2."nhsuk-heading-m" id="consents" { "How your information is used" }
            p."nhsuk-body" { "You can change your mind at any time. Withdrawing takes effect straight away, and you can give your consent again later." }
            dl."nhsuk-summary-list" {
                @for purpose in Purpose::ALL {
                    @let c = v.consents.iter().find(|c| c.purpose == purpose);
                    @let agreed = c.is_some_and(|c| c.decision == Decision::Given);
                    div."nhsuk-summary-list__row" {
                        dt."nhsuk-summary-list__key" { (purpose.first_person()) }
                        dd."nhsuk-summary-list__value" { (decision_words(c)) }
                        dd."nhsuk-summary-list__actions" {
                            a href=(format!("/my/consents/{}", purpose.code())) {
                                @if agreed { "Withdraw" } @else { "Give consent" }
                                span."nhsuk-u-visually-hidden" { ": " (purpose.first_person()) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(ctx, Page::new("My plan", body))
}

/// GET /my/consents/{purpose} — confirm withdrawing a consent (saying what happens), or
/// giving it (again).
pub async fn my_consent_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let purpose = Purpose::from_code(&code).ok_or(AppError::NotFound)?;
    let current = own::own_consent(&state, &actor, purpose).await?;
    Ok(consent_confirm_page(&ctx, purpose, current.as_ref()))
}

/// "Are you sure?" for withdrawing a consent, or "Do you want to give it?", with what happens.
fn consent_confirm_page(
    ctx: &PageCtx,
    purpose: Purpose,
    current: Option<&CurrentConsent>,
) -> Response {
    let agreed = current.is_some_and(|c| c.decision == Decision::Given);
    let title = if agreed {
        "Are you sure you want to withdraw your consent?"
    } else {
        "Do you want to give your consent?"
    };
    let body = html! {
        h1 { (title) }
        div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { (purpose.first_person()) } }
        p."nhsuk-body" { "At the moment: " (decision_words(current)) "." }
        @if agreed {
            h2."nhsuk-heading-s" { "What happens if you withdraw" }
            p."nhsuk-body" { (purpose.if_withdrawn()) }
            p."nhsuk-body" { "You can give your consent again at any time from My plan." }
        } @else {
            p."nhsuk-body" { "You can withdraw your consent at any time from My plan." }
        }
        form method="post" action="/my/consents" novalidate {
            (csrf(ctx))
            input type="hidden" name="purpose" value=(purpose.code());
            input type="hidden" name="decision" value=(if agreed { "withdrawn" } else { "given" });
            button class=(if agreed { "nhsuk-button nhsuk-button--warning" } else { "nhsuk-button" }) type="submit" {
                @if agreed { "Yes, withdraw my consent" } @else { "Yes, I agree" }
            }
        }
        p."nhsuk-body" { a href="/my/plan#consents" { "No, go back to My plan" } }
    };
    page(
        ctx,
        Page::new(title, body).back("/my/plan#consents", "Back to My plan"),
    )
}

/// The confirmed change: a purpose and `withdrawn` or `given`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConsentChange {
    purpose: String,
    decision: String,
}

/// POST /my/consents — withdraw or give one's own consent, after confirming.
pub async fn my_consent_change(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    PageForm(f): PageForm<ConsentChange>,
) -> Result<Response, AppError> {
    let purpose = Purpose::from_code(&f.purpose)
        .ok_or_else(|| AppError::BadRequest("Unknown consent purpose".into()))?;
    let decision = Decision::from_code(&f.decision)
        .ok_or_else(|| AppError::BadRequest("Choose to withdraw or to give consent".into()))?;
    own::decide_own(&state, &actor, purpose, decision).await?;
    Ok(Redirect::to(&format!("/my/plan?consent={}#consents", decision.code())).into_response())
}
