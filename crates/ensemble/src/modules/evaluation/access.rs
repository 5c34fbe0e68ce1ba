//! Who may open a programme's evaluation, and what they see.
//!
//! | who | sees |
//! | --- | --- |
//! | programme managers of the lead organisation and members stated as responsible (the programme's *evaluators*) | exact counts, row-level pseudonymised tables in the package |
//! | other members of the programme, and commissioners of an organisation named as a funder on one of its budget lines | the controlled report: small counts suppressed, the rest rounded, secondary suppression in every table; no row-level tables |
//! | anyone else | refused (403) |
//!
//! Evaluators may ask for the controlled version to see what others see.

use crate::error::AppError;
use crate::modules::programmes::access::Programme;
use crate::modules::programmes::access::{Manager, ProgrammeAccess, Public, Standing};
use crate::rbac::{Actor, Role};

use super::report::Audience;

/// Proof that the actor may open the programme's evaluation, with what they see.
#[derive(Debug, Clone)]
pub struct ReportAccess {
    pub programme: Programme,
    /// What they see.
    pub audience: Audience,
    /// Whether they are one of the programme's evaluators (may ask for either version).
    pub evaluator: bool,
    /// Whether they manage the programme (enter its budget).
    pub manager: bool,
}

/// May the actor open the programme's evaluation? 404 when there is no such programme.
pub async fn report(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    programme: &str,
) -> Result<ReportAccess, AppError> {
    let p = ProgrammeAccess::<Public>::check(conn, Some(actor), programme).await?;
    let evaluator = matches!(p.standing(), Standing::Manager | Standing::Team);
    let allowed =
        evaluator || p.standing() == Standing::Member || funds(conn, actor, programme).await?;
    if !allowed {
        return Err(AppError::Forbidden);
    }
    Ok(ReportAccess {
        programme: (*p).clone(),
        audience: if evaluator {
            Audience::Evaluator
        } else {
            Audience::Controlled
        },
        evaluator,
        manager: p.standing() == Standing::Manager,
    })
}

/// Is the actor a commissioner of an organisation named as a funder of the programme?
async fn funds(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    programme: &str,
) -> Result<bool, AppError> {
    let orgs: Vec<String> = actor
        .memberships
        .iter()
        .filter(|m| m.2 == Role::Commissioner)
        .map(|m| m.0.clone())
        .collect();
    if orgs.is_empty() {
        return Ok(false);
    }
    let funders: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT DISTINCT funder_organisation_id FROM evaluation_budget_lines WHERE programme_id = $1",
    )
    .bind(programme.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(funders.iter().flatten().any(|f| orgs.contains(f)))
}

/// Proof that the actor manages the programme (enters its budget).
pub async fn manage(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    programme: &str,
) -> Result<Programme, AppError> {
    let p = ProgrammeAccess::<Manager>::check(conn, Some(actor), programme).await?;
    Ok((*p).clone())
}

/// Programmes whose evaluation the actor may open: (id, name, what they see).
pub async fn programmes(
    state: &crate::state::AppState,
    actor: &Actor,
) -> Result<Vec<(String, String, Audience)>, AppError> {
    use sqlx::Row;
    let mut conn = state.db.read.acquire().await?;
    let rows = sqlx::query(
        "SELECT DISTINCT programme_id FROM evaluation_budget_lines WHERE funder_organisation_id IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("programme_id"))
        .collect::<Result<_, _>>()?;
    for p in crate::modules::programmes::service::mine(state, actor).await? {
        ids.push(p.id);
    }
    ids.sort();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        match report(&mut conn, actor, &id).await {
            Ok(a) => out.push((a.programme.id, a.programme.name, a.audience)),
            Err(AppError::Forbidden | AppError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}
