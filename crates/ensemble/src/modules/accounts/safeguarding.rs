//! The organisation's safeguarding settings page: the out-of-hours route shown to whoever
//! records a concern (its administrator or programme manager may change it).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::service::{self, OutOfHours};
use super::store::DEFAULT_OUT_OF_HOURS;
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::forms::{PageForm, button, csrf, error_summary, textarea};
use crate::web::{Page, PageCtx, page};

/// The settings form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RouteForm {
    route: String,
}

fn settings_page(ctx: &PageCtx, o: &OutOfHours, value: &str, errors: &[FieldError]) -> Response {
    let body = html! {
        div."nhsuk-grid-row" { div."nhsuk-grid-column-two-thirds" {
            (error_summary(errors))
            span."nhsuk-caption-l" { (o.organisation_name) }
            h1 { "Out-of-hours safeguarding route" }
            p."nhsuk-body" { "Shown to everyone who records an incident or safeguarding concern at one of your sessions, straight after they record it. Say who to call outside working hours." }
            p."nhsuk-body" { "Leave it blank to show the standard wording:" }
            div."nhsuk-inset-text" { span."nhsuk-u-visually-hidden" { "Information: " } p { (DEFAULT_OUT_OF_HOURS) } }
            form method="post" action=(format!("/organisations/{}/out-of-hours", o.organisation_id)) novalidate {
                (csrf(ctx))
                (textarea("route", "Out-of-hours safeguarding route", "For example: call 999 in an emergency; otherwise the council's emergency duty team on 0151 000 0000 (evenings, weekends and bank holidays)", value, errors))
                (button("Save route"))
            }
        } }
    };
    page(
        ctx,
        Page::new("Out-of-hours safeguarding route", body)
            .errors(!errors.is_empty())
            .back("/", "Home"),
    )
}

/// GET /organisations/{id}/out-of-hours
pub async fn out_of_hours_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let o = service::out_of_hours(&state, &actor, &id).await?;
    Ok(settings_page(&ctx, &o, &o.route.clone(), &[]))
}

/// POST /organisations/{id}/out-of-hours
pub async fn out_of_hours_save(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<RouteForm>,
) -> Result<Response, AppError> {
    match service::set_out_of_hours(&state, &actor, &id, &f.route).await {
        Ok(()) => Ok(Redirect::to(&format!("/organisations/{id}/out-of-hours")).into_response()),
        Err(AppError::Invalid(e)) => {
            let o = service::out_of_hours(&state, &actor, &id).await?;
            Ok(settings_page(&ctx, &o, &f.route, &e))
        }
        Err(e) => Err(e),
    }
}
