//! Keeping a programme's make-up true: managers remove a partner (its linked activities go
//! with it; the lead organisation stays), unlink an activity, or remove a member; a member
//! can leave. A member who owns an open action hands it on first, so no action is left
//! without an owner. Voices stay with their authors: a removed member can still read, edit
//! and withdraw what they shared from its own page. Each change is audited.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::access::{ActionAccess, Manager, Member, Owner, ProgrammeAccess, Standing};
use crate::audit;
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::PageCtx;
use crate::web::ctx::CurrentUser;
use crate::web::forms::PageForm;

/// What was removed, for the message on the programme page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    Partner,
    Activity,
    Member,
    Left,
}

impl Removed {
    /// The `?removed=` code.
    pub fn code(self) -> &'static str {
        match self {
            Removed::Partner => "partner",
            Removed::Activity => "activity",
            Removed::Member => "member",
            Removed::Left => "left",
        }
    }

    /// The confirmation shown after the change.
    pub fn message(code: &str) -> Option<&'static str> {
        Some(match code {
            "partner" => "Partner removed, with the activities of theirs that were linked",
            "activity" => "Activity unlinked",
            "member" => "Member removed. What they shared stays theirs to edit or withdraw",
            _ => return None,
        })
    }
}

/// Remove a partner organisation and unlink its activities (managers). The lead
/// organisation cannot be removed.
pub async fn remove_partner(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    organisation: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Manager>::check(&mut tx, Some(actor), programme).await?;
    if organisation == p.lead_organisation_id {
        return Err(AppError::Conflict(
            "The lead organisation cannot be removed from its own programme.".into(),
        ));
    }
    let unlinked = sqlx::query(
        "DELETE FROM programme_activities WHERE programme_id = $1 AND activity_id IN \
         (SELECT id FROM directory_activity_names WHERE organisation_id = $2)",
    )
    .bind(p.id.clone())
    .bind(organisation.to_string())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let gone = sqlx::query(
        "DELETE FROM programme_partners WHERE programme_id = $1 AND organisation_id = $2",
    )
    .bind(p.id.clone())
    .bind(organisation.to_string())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound);
    }
    audit::by(
        &mut tx,
        actor,
        "programme.partner_removed",
        "programme",
        Some(&p.id),
        json!({ "organisation": organisation, "activities_unlinked": unlinked }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Unlink an activity (managers).
pub async fn remove_activity(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    activity: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Manager>::check(&mut tx, Some(actor), programme).await?;
    let gone = sqlx::query(
        "DELETE FROM programme_activities WHERE programme_id = $1 AND activity_id = $2",
    )
    .bind(p.id.clone())
    .bind(activity.to_string())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound);
    }
    audit::by(
        &mut tx,
        actor,
        "programme.activity_removed",
        "programme",
        Some(&p.id),
        json!({ "activity": activity }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remove a member (managers), or leave (the member themself). Refused while they own an
/// action that is not finished.
pub async fn remove_member(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    user: &str,
) -> Result<Removed, AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Member>::check(&mut tx, Some(actor), programme).await?;
    let leaving = user == actor.user_id;
    if !leaving && p.standing() < Standing::Manager {
        return Err(AppError::Forbidden);
    }
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM programme_actions WHERE programme_id = $1 AND owner_id = $2 \
         AND status IN ('planned', 'in_progress')",
    )
    .bind(p.id.clone())
    .bind(user.to_string())
    .fetch_one(&mut *tx)
    .await?;
    if open > 0 {
        let who = if leaving { "You own" } else { "They own" };
        return Err(AppError::Conflict(format!(
            "{who} {open} action{} on the board that {} not finished. Hand {} to another member on the action's page first.",
            if open == 1 { "" } else { "s" },
            if open == 1 { "is" } else { "are" },
            if open == 1 { "it" } else { "them" },
        )));
    }
    let gone =
        sqlx::query("DELETE FROM programme_members WHERE programme_id = $1 AND user_id = $2")
            .bind(p.id.clone())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound);
    }
    audit::by(
        &mut tx,
        actor,
        if leaving {
            "programme.member_left"
        } else {
            "programme.member_removed"
        },
        "programme",
        Some(&p.id),
        json!({ "user": user }),
    )
    .await?;
    tx.commit().await?;
    Ok(if leaving {
        Removed::Left
    } else {
        Removed::Member
    })
}

/// The responsible members an action could be handed to (not its owner now), as choices.
pub async fn owner_choices(
    state: &AppState,
    programme: &str,
    owner: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let mut conn = state.db.read.acquire().await?;
    Ok(super::service::member_rows(&mut conn, programme)
        .await?
        .into_iter()
        .filter(|m| m.role == "responsible" && m.user_id != owner)
        .map(|m| (m.user_id, m.name))
        .collect())
}

/// Hand an action to another responsible member (its owner, or a manager). Audited.
pub async fn hand_over(
    state: &AppState,
    actor: &Actor,
    action: &str,
    to: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let a = ActionAccess::<Owner>::check(&mut tx, actor, action).await?;
    let ok = super::service::member_rows(&mut tx, &a.programme_id)
        .await?
        .iter()
        .any(|m| m.user_id == to && m.role == "responsible" && m.user_id != a.owner_id);
    if !ok {
        return Err(AppError::Invalid(vec![FieldError::new(
            "owner_id",
            "Choose another member of the programme team",
        )]));
    }
    sqlx::query("UPDATE programme_actions SET owner_id = $1, updated_at = $2 WHERE id = $3")
        .bind(to.to_string())
        .bind(crate::db::now())
        .bind(a.id.clone())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "action.handed_over",
        "programme_action",
        Some(&a.id),
        json!({ "from": a.owner_id, "to": to }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The hand-over form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct HandOver {
    owner_id: String,
}

/// POST /actions/{id}/owner
pub async fn owner(
    State(state): State<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<HandOver>,
) -> Result<Response, AppError> {
    match hand_over(&state, &actor, &id, &f.owner_id).await {
        Ok(()) => Ok(Redirect::to(&format!("/actions/{id}?saved=owner")).into_response()),
        Err(AppError::Invalid(e)) => {
            let none = super::actions::UpdateInput::default();
            super::voices_html::action_page(&state, &ctx, &actor, &id, "", (&none, ""), &e).await
        }
        Err(e) => Err(e),
    }
}

/// POST /programmes/{id}/partners/{organisation}/remove
pub async fn partner(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, organisation)): Path<(String, String)>,
) -> Result<Response, AppError> {
    remove_partner(&state, &actor, &id, &organisation).await?;
    Ok(back(&id, Removed::Partner))
}

/// POST /programmes/{id}/activities/{activity}/remove
pub async fn activity(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, activity)): Path<(String, String)>,
) -> Result<Response, AppError> {
    remove_activity(&state, &actor, &id, &activity).await?;
    Ok(back(&id, Removed::Activity))
}

/// POST /programmes/{id}/members/{user}/remove
pub async fn member(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, user)): Path<(String, String)>,
) -> Result<Response, AppError> {
    match remove_member(&state, &actor, &id, &user).await? {
        Removed::Left => Ok(Redirect::to("/programmes").into_response()),
        r => Ok(back(&id, r)),
    }
}

fn back(id: &str, r: Removed) -> Response {
    Redirect::to(&format!("/programmes/{id}?removed={}#make-up", r.code())).into_response()
}
