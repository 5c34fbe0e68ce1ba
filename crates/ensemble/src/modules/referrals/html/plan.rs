//! The "what matters to me" conversation and plan.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::error::{AppError, FieldError};
use crate::modules::referrals::service::{self, PlanInput};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{Input, PageForm, button, checkboxes, csrf, error_summary, textarea};
use crate::web::{Page, PageCtx, page};

fn plan_page(ctx: &PageCtx, id: &str, p: &PlanInput, errors: &[FieldError]) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            h1 { "What matters to me" }
            p."nhsuk-body" { "Write in the person's own words where you can. They will be able to see their plan." }
            form method="post" action=(format!("/caseload/{id}/plan")) novalidate {
                (csrf(ctx))
                (textarea("what_matters", "What matters to them", "", &p.what_matters, errors))
                (textarea("needs", "Needs and concerns", "", &p.needs, errors))
                (textarea("goals", "Goals, in their own words", "", &p.goals, errors))
                (textarea("support_offered", "Support offered", "Activities from the directory and other services", &p.support_offered, errors))
                (textarea("next_steps", "Agreed next steps", "", &p.next_steps, errors))
                (Input::new("review_on", "Review date", &p.review_on).hint("Year-month-day, like 2027-02-01. Needed to agree the plan.").width("nhsuk-input--width-10").render(errors))
                (checkboxes("agreed", "Agreement", &[("yes", "The person agrees this plan", "")], std::slice::from_ref(&p.agreed), errors))
                (button("Save plan"))
            }
        } }
    };
    page(
        ctx,
        Page::new("What matters to me", body)
            .errors(!errors.is_empty())
            .back(&format!("/caseload/{id}"), "Back to the referral"),
    )
}

/// GET /caseload/{id}/plan
pub async fn plan_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let mut input = service::plan_for_care_team(&state, &actor, &id)
        .await?
        .map(|p| {
            let agreed = p.agreed_at.is_some();
            let mut i = p.input;
            if agreed {
                i.agreed = "yes".into();
            }
            i
        })
        .unwrap_or_default();
    if input.review_on.is_empty() {
        input.review_on = (crate::db::uk::today() + time::Duration::weeks(8)).to_string();
    }
    Ok(plan_page(&ctx, &id, &input, &[]))
}

/// POST /caseload/{id}/plan
pub async fn plan_save(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<PlanInput>,
) -> Result<Response, AppError> {
    match service::save_plan(&state, &actor, &id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/caseload/{id}")).into_response()),
        Err(AppError::Invalid(e)) => Ok(plan_page(&ctx, &id, &f, &e)),
        Err(e) => Err(e),
    }
}
