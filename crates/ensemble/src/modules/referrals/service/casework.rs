//! The link worker's casework: taking a case on, statuses, notes, tasks, barriers, the plan, connecting to an activity, and the case page.

#[allow(unused_imports)]
use super::*;
use crate::modules::referrals::model::ProviderStatus;

use crate::db::{Tx, now};
use crate::error::{AppError, FieldError};
use crate::modules::people::service::{self as people, Identity};
use crate::modules::referrals::model::{BARRIERS, BarrierStage, Status};
use crate::rbac::Actor;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

/// Take a referral onto one's own caseload.
pub async fn take_on(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let r = check::<CareTeam>(&mut tx, actor, id).await?;
    sqlx::query("UPDATE referrals SET assigned_to = $1, updated_at = $2 WHERE id = $3")
        .bind(actor.user_id.clone())
        .bind(now())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE referral_tasks SET assigned_to = $1 WHERE referral_id = $2 AND done_at IS NULL AND assigned_to IS NULL")
        .bind(actor.user_id.clone())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        "assigned",
        None,
        None,
        &format!("Taken on by {}", actor.display_name),
        false,
    )
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.assign",
        id,
        json!({ "from": r.assigned_to }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Move a referral along the pathway by hand.
///
/// `barrier` (optional, a code from [`BARRIERS`]) records what got in the way, with the
/// status, when the person declined or did not attend: a barrier at that stage with
/// "Nothing yet" done about it, in the same transaction.
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    id: &str,
    to: &str,
    reason: &str,
    barrier: &str,
) -> Result<(), AppError> {
    let barrier = barrier.trim();
    let reason = reason.trim();
    let mut tx = state.db.begin().await?;
    let r = check::<CareTeam>(&mut tx, actor, id).await?;
    let Some(to) = Status::from_code(to) else {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            "Choose what has happened",
        )]));
    };
    if !r.status.next_by_hand().contains(&to) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "status",
            format!(
                "A referral that is “{}” cannot move to “{}”",
                r.status.label(),
                to.label()
            ),
        )]));
    }
    if to.needs_reason() && reason.is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "reason",
            format!("Give a reason for “{}”", to.label()),
        )]));
    }
    if reason.chars().count() > 2000 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "reason",
            "The reason must be 2000 characters or fewer",
        )]));
    }
    if !barrier.is_empty() {
        if !BARRIERS.iter().any(|(c, _)| *c == barrier) {
            return Err(AppError::Invalid(vec![FieldError::new(
                "barrier",
                format!("Choose what got in the way from the list, not \"{barrier}\""),
            )]));
        }
        if !matches!(to, Status::Declined | Status::DidNotAttend) {
            return Err(AppError::Invalid(vec![FieldError::new(
                "barrier",
                "What got in the way is recorded here only when they declined or did not attend; record other barriers under Barriers",
            )]));
        }
    }
    set_status(&mut tx, actor, &r, to, reason).await?;
    if !barrier.is_empty() {
        let stage = BarrierStage::for_status(to);
        insert_barrier(&mut tx, actor, id, [barrier, "", "none_yet", ""], stage).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_status(
    tx: &mut Tx,
    actor: &Actor,
    r: &Referral,
    to: Status,
    reason: &str,
) -> Result<(), AppError> {
    let t = now();
    sqlx::query(
        "UPDATE referrals SET status = $1, status_reason = $2, updated_at = $3, \
         first_contact_at = CASE WHEN $4 = 1 AND first_contact_at IS NULL THEN $3 ELSE first_contact_at END, \
         closed_at = CASE WHEN $5 = 1 THEN $3 ELSE NULL END WHERE id = $6",
    )
    .bind(to.code())
    .bind(reason.to_string())
    .bind(t)
    .bind(i64::from(to == Status::Contacted))
    .bind(i64::from(to.is_final()))
    .bind(r.id.clone())
    .execute(&mut **tx)
    .await?;
    if to == Status::Contacted {
        sqlx::query("UPDATE referral_tasks SET done_at = $1, done_by = $2 WHERE referral_id = $3 AND kind = 'first_contact' AND done_at IS NULL")
            .bind(t)
            .bind(actor.user_id.clone())
            .bind(r.id.clone())
            .execute(&mut **tx)
            .await?;
    }
    if to.is_final() {
        sqlx::query("UPDATE referral_tasks SET done_at = $1, done_by = $2 WHERE referral_id = $3 AND done_at IS NULL")
            .bind(t)
            .bind(actor.user_id.clone())
            .bind(r.id.clone())
            .execute(&mut **tx)
            .await?;
    }
    event(
        tx,
        &r.id,
        Some(&actor.user_id),
        "status",
        Some(r.status),
        Some(to),
        reason,
        false,
    )
    .await?;
    audit_ref(
        tx,
        &actor.audit(),
        "referral.status",
        &r.id,
        json!({ "from": r.status.code(), "to": to.code() }),
    )
    .await?;
    Ok(())
}

/// Add a case note; `share` also shows it to the provider (a message to them).
pub async fn add_note(
    state: &AppState,
    actor: &Actor,
    id: &str,
    body: &str,
    share: bool,
) -> Result<(), AppError> {
    let body =
        text("note", body, 5000, Some("Write the note")).map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let r = check::<CareTeam>(&mut tx, actor, id).await?;
    let share = share && r.provider_status.is_some();
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        if share { "message" } else { "note" },
        None,
        None,
        &body,
        share,
    )
    .await?;
    if share && let (Some(org), Some(act)) = (&r.activity_organisation_id, &r.activity_id) {
        let to = provider_emails(&mut tx, org, act).await?;
        email_all(&mut tx, &to, "A message about a referral", &format!(
            "The link worker has sent you a message about a referral. Read it in Ensemble:\n\n{}/provider/referrals/{id}\n", state.cfg.base_url)).await?;
    }
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.note",
        id,
        json!({ "shared_with_provider": share }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Add a task with a due date (`YYYY-MM-DD`).
pub async fn add_task(
    state: &AppState,
    actor: &Actor,
    id: &str,
    title: &str,
    due: &str,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let title = text("title", title, 200, Some("Say what needs doing"))
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let due = match parse_date(due) {
        Some(d) if d >= today() => Some(d),
        Some(_) => {
            errors.push(FieldError::new(
                "due",
                "The due date must be today or later",
            ));
            None
        }
        None => {
            errors.push(FieldError::new(
                "due",
                "Enter the due date as year-month-day, like 2026-12-01",
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    let r = check::<CareTeam>(&mut tx, actor, id).await?;
    let assignee = r
        .assigned_to
        .clone()
        .unwrap_or_else(|| actor.user_id.clone());
    add_task_tx(
        &mut tx,
        id,
        "custom",
        &title,
        day_end(due.unwrap_or_else(today)),
        Some(&assignee),
    )
    .await?;
    audit_ref(&mut tx, &actor.audit(), "referral.task.add", id, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Mark a task done.
pub async fn complete_task(
    state: &AppState,
    actor: &Actor,
    id: &str,
    task_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    check::<CareTeam>(&mut tx, actor, id).await?;
    let n = sqlx::query("UPDATE referral_tasks SET done_at = $1, done_by = $2 WHERE id = $3 AND referral_id = $4 AND done_at IS NULL")
        .bind(now())
        .bind(actor.user_id.clone())
        .bind(task_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.task.done",
        id,
        json!({ "task_id": task_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// "What matters to me" and the personalised plan.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PlanInput {
    /// What matters to the person, in their words.
    pub what_matters: String,
    /// Needs and concerns.
    pub needs: String,
    /// Goals, in their own words.
    pub goals: String,
    /// Support offered (activities, other services).
    pub support_offered: String,
    /// Agreed next steps.
    pub next_steps: String,
    /// Review date `YYYY-MM-DD`.
    pub review_on: String,
    /// "yes" when the person agrees the plan now.
    pub agreed: String,
}

/// A saved plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// The fields.
    pub input: PlanInput,
    /// When agreed.
    pub agreed_at: Option<i64>,
    /// Last change.
    pub updated_at: i64,
}

/// Load a referral's plan.
pub async fn plan<'e, E>(exec: E, id: &str) -> Result<Option<Plan>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query("SELECT what_matters, needs, goals, support_offered, next_steps, review_on, agreed_at, updated_at FROM referral_plans WHERE referral_id = $1")
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(Plan {
        input: PlanInput {
            what_matters: r.try_get("what_matters")?,
            needs: r.try_get("needs")?,
            goals: r.try_get("goals")?,
            support_offered: r.try_get("support_offered")?,
            next_steps: r.try_get("next_steps")?,
            review_on: r
                .try_get::<Option<String>, _>("review_on")?
                .unwrap_or_default(),
            agreed: String::new(),
        },
        agreed_at: r.try_get("agreed_at")?,
        updated_at: r.try_get("updated_at")?,
    }))
}

/// A referral's plan, for the plan form (care team only; audited).
pub async fn plan_for_care_team(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Option<Plan>, AppError> {
    let mut tx = state.db.begin().await?;
    check::<CareTeam>(&mut tx, actor, id).await?;
    let p = plan(&mut *tx, id).await?;
    audit_ref(&mut tx, &actor.audit(), "referral.plan.read", id, json!({})).await?;
    tx.commit().await?;
    Ok(p)
}

/// Save the plan; agreeing it moves the referral to "plan agreed" and sets a review task.
pub async fn save_plan(
    state: &AppState,
    actor: &Actor,
    id: &str,
    p: &PlanInput,
) -> Result<(), AppError> {
    let mut e = Vec::new();
    let mut f = |field: &str, v: &str| {
        text(field, v, 4000, None)
            .map_err(|x| e.push(x))
            .unwrap_or_default()
    };
    let what_matters = f("what_matters", &p.what_matters);
    let needs = f("needs", &p.needs);
    let goals = f("goals", &p.goals);
    let support = f("support_offered", &p.support_offered);
    let next_steps = f("next_steps", &p.next_steps);
    let agree = p.agreed == "yes";
    let review = if p.review_on.trim().is_empty() {
        None
    } else {
        match parse_date(&p.review_on) {
            Some(d) if d > today() => Some(d),
            Some(_) => {
                e.push(FieldError::new(
                    "review_on",
                    "The review date must be in the future",
                ));
                None
            }
            None => {
                e.push(FieldError::new(
                    "review_on",
                    "Enter the review date as year-month-day, like 2027-02-01",
                ));
                None
            }
        }
    };
    if agree {
        if what_matters.is_empty() {
            e.push(FieldError::new(
                "what_matters",
                "Write what matters to the person before agreeing the plan",
            ));
        }
        if goals.is_empty() {
            e.push(FieldError::new(
                "goals",
                "Write at least one goal, in the person's own words, before agreeing the plan",
            ));
        }
        if next_steps.is_empty() {
            e.push(FieldError::new("next_steps", "Write the agreed next steps"));
        }
        if review.is_none() && !e.iter().any(|x| x.field == "review_on") {
            e.push(FieldError::new(
                "review_on",
                "Choose a review date to agree the plan",
            ));
        }
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let r = check::<CareTeam>(&mut tx, actor, id).await?;
    if r.status.is_final() {
        return Err(AppError::Conflict(
            "This referral is closed; its plan can no longer change.".into(),
        ));
    }
    if agree
        && !matches!(
            r.status,
            Status::Contacted | Status::Conversation | Status::PlanAgreed
        )
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "agreed",
            format!(
                "A plan can be agreed after first contact; this referral is “{}”",
                r.status.label()
            ),
        )]));
    }
    let t = now();
    let prior = plan(&mut *tx, id).await?;
    let agreed_at = if agree {
        Some(prior.as_ref().and_then(|p| p.agreed_at).unwrap_or(t))
    } else {
        prior.as_ref().and_then(|p| p.agreed_at)
    };
    sqlx::query(
        "INSERT INTO referral_plans (referral_id, what_matters, needs, goals, support_offered, next_steps, review_on, agreed_at, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (referral_id) DO UPDATE SET what_matters = excluded.what_matters, \
         needs = excluded.needs, goals = excluded.goals, support_offered = excluded.support_offered, next_steps = excluded.next_steps, \
         review_on = excluded.review_on, agreed_at = excluded.agreed_at, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(id.to_string())
    .bind(what_matters)
    .bind(needs)
    .bind(goals)
    .bind(support)
    .bind(next_steps)
    .bind(review.map(|d| d.to_string()))
    .bind(agreed_at)
    .bind(actor.user_id.clone())
    .bind(t)
    .execute(&mut *tx)
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.plan.save",
        id,
        json!({ "agreed": agree }),
    )
    .await?;
    let mut current = r.clone();
    if current.status == Status::Contacted {
        set_status(&mut tx, actor, &current, Status::Conversation, "").await?;
        current.status = Status::Conversation;
    }
    if agree && current.status == Status::Conversation {
        set_status(&mut tx, actor, &current, Status::PlanAgreed, "").await?;
    }
    if let Some(d) = review
        && prior.as_ref().and_then(|p| parse_date(&p.input.review_on)) != Some(d)
    {
        sqlx::query("UPDATE referral_tasks SET done_at = $1, done_by = $2 WHERE referral_id = $3 AND kind = 'review' AND done_at IS NULL")
            .bind(t)
            .bind(actor.user_id.clone())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let who = r
            .assigned_to
            .clone()
            .unwrap_or_else(|| actor.user_id.clone());
        add_task_tx(
            &mut tx,
            id,
            "review",
            "Review the plan with the person",
            day_end(d),
            Some(&who),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Connect the person to an activity: the provider is asked to accept, reminded if it does
/// not answer, and the referral returns to the link worker if it still does not.
pub async fn connect(
    state: &AppState,
    actor: &Actor,
    id: &str,
    activity_id: &str,
    note: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    connect_in(state, &mut tx, actor, id, activity_id, note).await?;
    tx.commit().await?;
    Ok(())
}

/// [`connect`] inside the caller's transaction (recording a person's choice of the options
/// they were sent connects through it).
pub(super) async fn connect_in(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
    activity_id: &str,
    note: &str,
) -> Result<(), AppError> {
    let note = text("provider_note", note, 2000, None).map_err(|e| AppError::Invalid(vec![e]))?;
    if activity_id.trim().is_empty() || !active_activity(state, activity_id.trim()).await? {
        return Err(AppError::Invalid(vec![FieldError::new(
            "activity_id",
            "Choose an activity from the directory",
        )]));
    }
    let activity_id = activity_id.trim();
    let r = check::<CareTeam>(tx, actor, id).await?;
    let reconnect = r.status == Status::Connected
        && matches!(
            r.provider_status,
            Some(ProviderStatus::Declined | ProviderStatus::Returned)
        );
    if r.status != Status::PlanAgreed && !reconnect {
        return Err(AppError::Invalid(vec![FieldError::new(
            "activity_id",
            format!(
                "Agree a plan before connecting the person to an activity; this referral is “{}”",
                r.status.label()
            ),
        )]));
    }
    let t = now();
    sqlx::query(
        "UPDATE referrals SET activity_id = $1, provider_status = 'pending', provider_note = $2, provider_reason = '', provider_requested_at = $3, \
         provider_responded_at = NULL, provider_reminders = 0, updated_at = $3 WHERE id = $4",
    )
    .bind(activity_id.to_string())
    .bind(note)
    .bind(t)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    if r.status != Status::Connected {
        set_status(tx, actor, &r, Status::Connected, "").await?;
    }
    let org: String =
        sqlx::query("SELECT organisation_id FROM directory_activity_names WHERE id = $1")
            .bind(activity_id.to_string())
            .fetch_one(&mut **tx)
            .await?
            .try_get("organisation_id")?;
    let to = provider_emails(tx, &org, activity_id).await?;
    email_all(tx, &to, "A new referral to your activity", &format!(
        "A link worker has referred someone to one of your activities. Please accept or decline in Ensemble:\n\n{}/provider/referrals/{id}\n",
        state.cfg.base_url)).await?;
    crate::jobs::enqueue::<crate::modules::referrals::jobs::ProviderChase>(
        tx,
        &crate::modules::referrals::jobs::ProviderChasePayload {
            referral_id: id.to_string(),
            requested_at: t,
        },
        Some(&format!("referral_provider_chase:{id}:{t}:0")),
        state.cfg.provider_response_time.as_secs() as i64,
    )
    .await?;
    event(
        tx,
        id,
        Some(&actor.user_id),
        "provider",
        None,
        None,
        "Referred to the activity; waiting for the provider to accept",
        false,
    )
    .await?;
    audit_ref(
        tx,
        &actor.audit(),
        "referral.connect",
        id,
        json!({ "activity_id": activity_id }),
    )
    .await?;
    Ok(())
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// When.
    pub at: i64,
    /// Who.
    pub actor: Option<String>,
    /// status, note, message, provider, assigned, message_back.
    pub kind: String,
    /// From.
    pub from_status: Option<String>,
    /// To.
    pub to_status: Option<String>,
    /// Text.
    pub body: String,
}

/// One task.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Due.
    pub due_at: i64,
    /// Done.
    pub done_at: Option<i64>,
    /// Assignee name.
    pub assigned_name: Option<String>,
}

/// Everything the care team sees about one referral.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    /// The referral.
    pub referral: Referral,
    /// The person.
    pub person: Identity,
    /// Current consents.
    pub consents: Vec<people::CurrentConsent>,
    /// Timeline (newest first).
    pub events: Vec<Event>,
    /// Tasks.
    pub tasks: Vec<Task>,
    /// Barriers.
    pub barriers: Vec<Barrier>,
    /// Plan.
    pub plan: Option<Plan>,
    /// Attendance (date, status), newest first.
    pub attendance: Vec<(String, String)>,
    /// The person's latest wellbeing scores.
    pub scores: Vec<crate::modules::measures::service::LatestScore>,
}

pub(super) async fn events(
    tx: &mut Tx,
    id: &str,
    provider_only: bool,
) -> Result<Vec<Event>, AppError> {
    let sql = format!(
        "SELECT e.at, u.display_name, e.kind, e.from_status, e.to_status, e.body FROM referral_events e LEFT JOIN accounts_user_names u ON u.id = e.actor_user_id \
         WHERE e.referral_id = $1 {} ORDER BY e.at DESC, e.id DESC",
        if provider_only {
            "AND e.shared_with_provider = 1"
        } else {
            ""
        }
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Event {
                at: r.try_get("at")?,
                actor: r.try_get("display_name")?,
                kind: r.try_get("kind")?,
                from_status: r.try_get("from_status")?,
                to_status: r.try_get("to_status")?,
                body: r.try_get("body")?,
            })
        })
        .collect()
}

pub(super) async fn attendance(tx: &mut Tx, id: &str) -> Result<Vec<(String, String)>, AppError> {
    sqlx::query("SELECT session_date, status FROM referral_attendance WHERE referral_id = $1 ORDER BY session_date DESC")
        .bind(id.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("session_date")?, r.try_get("status")?)))
        .collect()
}

/// The care team's view of a referral; audited as a read of the person record.
pub async fn case_view(state: &AppState, actor: &Actor, id: &str) -> Result<CaseView, AppError> {
    let mut tx = state.db.begin().await?;
    let referral = check::<CareTeam>(&mut tx, actor, id).await?;
    let person = people::identity(&mut tx, actor, &referral).await?;
    let consents = people::consents(&mut *tx, &referral.person_id).await?;
    let events = events(&mut tx, id, false).await?;
    let tasks = sqlx::query(
        "SELECT t.id, t.kind, t.title, t.due_at, t.done_at, u.display_name FROM referral_tasks t LEFT JOIN accounts_user_names u ON u.id = t.assigned_to \
         WHERE t.referral_id = $1 ORDER BY (t.done_at IS NULL) DESC, t.due_at",
    )
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        Ok(Task {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            title: r.try_get("title")?,
            due_at: r.try_get("due_at")?,
            done_at: r.try_get("done_at")?,
            assigned_name: r.try_get("display_name")?,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let barriers = barriers(&mut tx, id).await?;
    let plan = plan(&mut *tx, id).await?;
    let attendance = attendance(&mut tx, id).await?;
    let scores = crate::modules::measures::service::latest_scores(&mut tx, &referral).await?;
    tx.commit().await?;
    Ok(CaseView {
        referral: referral.into_referral(),
        person,
        consents,
        events,
        tasks,
        barriers,
        plan,
        attendance,
        scores,
    })
}
