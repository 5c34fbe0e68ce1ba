//! The evaluation's entry points: open a report, download its package (audited), and the
//! operator's export for `ensemble evaluate programme`.

use serde_json::json;

use super::access::{self, ReportAccess};
use super::package::{self, Files};
use super::report::{self, Audience, Period, Report};
use crate::audit;
use crate::error::AppError;
use crate::rbac::Actor;
use crate::state::AppState;

/// The actor's access to the programme's evaluation, in the controlled version when asked.
async fn access_as(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    controlled: bool,
) -> Result<ReportAccess, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let mut access = access::report(&mut conn, actor, programme).await?;
    if controlled {
        access.audience = Audience::Controlled;
    }
    Ok(access)
}

/// Open a programme's report. An evaluator may ask for the controlled version.
pub async fn open(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    period: Period,
    controlled: bool,
) -> Result<(Report, ReportAccess), AppError> {
    let access = access_as(state, actor, programme, controlled).await?;
    Ok((report::build(state, &access, period).await?, access))
}

fn pseudonymiser<'a>(state: &'a AppState, programme: &'a str) -> impl Fn(&str) -> String + 'a {
    let study = format!("evaluation:{programme}");
    move |id: &str| crate::modules::people::evaluation::pseudonym(&state.secret, &study, id)
}

/// The package of a programme's report (zip), with the file name. Row-level tables only
/// in the evaluators' version; every download is audited.
pub async fn download(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    period: Period,
    controlled: bool,
) -> Result<(String, Vec<u8>), AppError> {
    let access = access_as(state, actor, programme, controlled).await?;
    let (r, pairs) = report::build_live(state, &access, period).await?;
    let row_level = r.audience == Audience::Evaluator;
    let p = pseudonymiser(state, &access.programme.id);
    let files = package::files(&r, row_level.then_some(pairs.as_slice()), &p)?;
    let bytes = package::zip(&files)?;
    let mut tx = state.db.begin().await?;
    audit::by(
        &mut tx,
        actor,
        "evaluation.package.download",
        "programme",
        Some(&access.programme.id),
        json!({ "row_level": row_level, "from": r.period.from.map(|d| d.to_string()), "to": r.period.to.map(|d| d.to_string()) }),
    )
    .await?;
    tx.commit().await?;
    Ok((package::file_name(&r), bytes))
}

/// The evaluators' package of a programme named or identified on the command line (the
/// operator has the database itself). Audited as the system.
pub async fn export_as_operator(
    state: &AppState,
    programme: &str,
    period: Period,
) -> Result<Files, AppError> {
    let id = match crate::modules::programmes::service::find_by_name(state, programme).await? {
        Some(id) => id,
        None => programme.to_string(),
    };
    let p = crate::modules::programmes::service::load_as_operator(state, &id)
        .await?
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "no programme is named or has the id \"{programme}\""
            ))
        })?;
    let access = ReportAccess {
        programme: p,
        audience: Audience::Evaluator,
        evaluator: true,
        manager: false,
    };
    let (r, pairs) = report::build_live(state, &access, period).await?;
    let pz = pseudonymiser(state, &access.programme.id);
    let files = package::files(&r, Some(&pairs), &pz)?;
    let mut tx = state.db.begin().await?;
    audit::by(
        &mut tx,
        audit::AuditActor::system(),
        "evaluation.package.export",
        "programme",
        Some(&access.programme.id),
        json!({ "row_level": true, "channel": "command line" }),
    )
    .await?;
    tx.commit().await?;
    Ok(files)
}
