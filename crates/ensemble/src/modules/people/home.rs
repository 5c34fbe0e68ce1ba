//! The people module's part of the home page: a researcher's evaluation datasets, with how
//! many people agree to their information being used (through disclosure control).

use ensemble_stats::disclosure::{DisclosurePolicy, disclose};
use futures_util::future::BoxFuture;
use maud::{Markup, html};

use super::evaluation::DATASETS;
use crate::error::AppError;
use crate::manifest::{HomePart, home_order};
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// How many people currently agree to evaluation, as it may be published (small numbers
/// hidden, others rounded).
pub async fn evaluation_agreed(state: &AppState) -> Result<String, AppError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM person_consents WHERE purpose = 'evaluation' AND decision = 'given'",
    )
    .fetch_one(&state.db.read)
    .await?;
    Ok(disclose(u64::try_from(n).unwrap_or(0), DisclosurePolicy::default()).to_string())
}

/// The home section (see [`crate::manifest::HomeSection`]).
pub fn home(state: AppState, actor: Actor) -> BoxFuture<'static, Result<Vec<HomePart>, AppError>> {
    Box::pin(async move {
        if !actor.has_role(Role::Researcher) {
            return Ok(vec![]);
        }
        let agreed = evaluation_agreed(&state).await?;
        Ok(vec![HomePart {
            order: home_order::LEAD,
            markup: datasets_part(&agreed),
        }])
    })
}

fn datasets_part(agreed: &str) -> Markup {
    html! {
        div."ensemble-home-part" {
            h2."nhsuk-heading-m" id="home-datasets" { "Evaluation datasets" }
            p."nhsuk-body" { "People who agree to their information being used for evaluation: " strong { (agreed) } ". Their pseudonymised records are in these datasets:" }
            ul."nhsuk-list nhsuk-list--bullet" {
                @for d in DATASETS {
                    li { (d.title) }
                }
            }
            p."nhsuk-body" { a href="/research/datasets" { "Download the datasets" } " · " a href="/research/codebook" { "The codebook: every variable and its allowed values" } }
        }
    }
}
