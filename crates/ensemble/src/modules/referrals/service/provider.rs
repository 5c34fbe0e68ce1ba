//! The provider side: accepting or declining, messages to the link worker, attendance, and the provider pages.

#[allow(unused_imports)]
use super::*;
use crate::audit::{self};
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::modules::people::model::Purpose;
use crate::modules::people::service::{self as people};
use crate::modules::referrals::model::ProviderStatus;
use crate::modules::referrals::model::{Status, add_working_days};
use crate::rbac::{Actor, Role};
use crate::state::AppState;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

/// The provider accepts or declines (with a reason).
pub async fn respond(
    state: &AppState,
    actor: &Actor,
    id: &str,
    accept: &str,
    reason: &str,
) -> Result<(), AppError> {
    let accept = match accept {
        "accept" => true,
        "decline" => false,
        _ => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "decision",
                "Choose whether you can accept this referral",
            )]));
        }
    };
    let reason = text(
        "reason",
        reason,
        2000,
        (!accept)
            .then_some("Give a reason for declining, so the link worker can find something better"),
    )
    .map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let r = check::<Provider>(&mut tx, actor, id).await?;
    if r.provider_status != Some(ProviderStatus::Pending) || r.status.is_final() {
        return Err(AppError::Conflict(
            "This referral has already been answered or closed.".into(),
        ));
    }
    let t = now();
    sqlx::query("UPDATE referrals SET provider_status = $1, provider_reason = $2, provider_responded_at = $3, updated_at = $3 WHERE id = $4")
        .bind(if accept { "accepted" } else { "declined" })
        .bind(reason.clone())
        .bind(t)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let body = if accept {
        "The provider accepted the referral".to_string()
    } else {
        format!("The provider declined the referral: {reason}")
    };
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        "provider",
        None,
        None,
        &body,
        true,
    )
    .await?;
    if !accept {
        let who = r.assigned_to.as_deref();
        add_task_tx(
            &mut tx,
            id,
            "reconnect",
            "The provider declined: agree another activity with the person",
            day_end(add_working_days(today(), 2)),
            who,
        )
        .await?;
    }
    let to =
        assignee_or_team_emails(&mut tx, r.assigned_to.as_deref(), &r.team_organisation_id).await?;
    email_all(
        &mut tx,
        &to,
        if accept {
            "A provider accepted a referral"
        } else {
            "A provider declined a referral"
        },
        &format!(
            "Open the referral in Ensemble:\n\n{}/caseload/{id}\n",
            state.cfg.base_url
        ),
    )
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.provider_response",
        id,
        json!({ "accepted": accept }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The provider messages the link worker.
pub async fn provider_message(
    state: &AppState,
    actor: &Actor,
    id: &str,
    body: &str,
) -> Result<(), AppError> {
    let body = text("message", body, 5000, Some("Write your message"))
        .map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = state.db.begin().await?;
    let r = check::<Provider>(&mut tx, actor, id).await?;
    event(
        &mut tx,
        id,
        Some(&actor.user_id),
        "message",
        None,
        None,
        &body,
        true,
    )
    .await?;
    let to = team_emails(&mut tx, &r.team_organisation_id).await?;
    email_all(
        &mut tx,
        &to,
        "A provider sent a message about a referral",
        &format!(
            "Read it in Ensemble:\n\n{}/caseload/{id}\n",
            state.cfg.base_url
        ),
    )
    .await?;
    audit_ref(
        &mut tx,
        &actor.audit(),
        "referral.provider_message",
        id,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Mark attendance for a session date (care team, or the provider once it has accepted).
/// Being present moves a connected referral to "attending"; two missed sessions in a row
/// create a gentle follow-up task.
pub async fn mark_attendance(
    state: &AppState,
    actor: &Actor,
    id: &str,
    date: &str,
    status: &str,
) -> Result<(), AppError> {
    let mut e = Vec::new();
    let d = match parse_date(date) {
        Some(d) if d > today() => {
            e.push(FieldError::new(
                "session_date",
                "The session date cannot be in the future",
            ));
            None
        }
        Some(d) if d < today() - time::Duration::days(366) => {
            e.push(FieldError::new(
                "session_date",
                "The session date must be within the last year",
            ));
            None
        }
        Some(d) => Some(d),
        None => {
            e.push(FieldError::new(
                "session_date",
                "Enter the session date as year-month-day, like 2026-11-20",
            ));
            None
        }
    };
    if !matches!(status, "present" | "absent") {
        e.push(FieldError::new("attendance", "Choose present or absent"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let d = d.unwrap_or_else(today);
    let mut tx = state.db.begin().await?;
    let r = check::<AttendanceKeeper>(&mut tx, actor, id).await?;
    if !matches!(
        r.status,
        Status::Connected | Status::Attending | Status::Reviewed
    ) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "attendance",
            format!(
                "Attendance can be marked once the person is connected to an activity; this referral is “{}”",
                r.status.label()
            ),
        )]));
    }
    record_attendance_tx(&mut tx, actor, &r, d, status).await?;
    tx.commit().await?;
    Ok(())
}

/// Record one session's attendance for a referral in the caller's transaction, for a
/// caller holding a proof that it may ([`AttendanceKeeper`] or [`Register`]): moves a connected referral to attending on the first
/// presence, counts missed sessions in a row and adds a gentle follow-up task after two.
pub async fn record_attendance_tx<R: KeepsAttendance>(
    tx: &mut Tx,
    actor: &Actor,
    r: &CaseAccess<R>,
    d: time::Date,
    status: &str,
) -> Result<(), AppError> {
    let id = r.id.as_str();
    sqlx::query(
        "INSERT INTO referral_attendance (id, referral_id, session_date, status, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (referral_id, session_date) DO UPDATE SET status = excluded.status, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(new_id())
    .bind(id.to_string())
    .bind(d.to_string())
    .bind(status.to_string())
    .bind(actor.user_id.clone())
    .bind(now())
    .execute(&mut **tx)
    .await?;
    if status == "present" && r.status == Status::Connected {
        set_status(tx, actor, r, Status::Attending, "").await?;
    }
    let recent: Vec<String> = sqlx::query("SELECT status FROM referral_attendance WHERE referral_id = $1 ORDER BY session_date DESC LIMIT 20")
        .bind(id.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|x| x.try_get("status"))
        .collect::<Result<_, _>>()?;
    let missed = recent.iter().take_while(|s| *s == "absent").count() as i64;
    sqlx::query("UPDATE referrals SET missed_in_row = $1, updated_at = $2 WHERE id = $3")
        .bind(missed)
        .bind(now())
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    if missed >= 2 {
        let open: i64 = sqlx::query("SELECT COUNT(*) AS n FROM referral_tasks WHERE referral_id = $1 AND kind = 'missed_sessions' AND done_at IS NULL")
            .bind(id.to_string())
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        if open == 0 {
            add_task_tx(
                tx,
                id,
                "missed_sessions",
                "Missed two sessions in a row: check in gently",
                day_end(add_working_days(today(), 2)),
                r.assigned_to.as_deref(),
            )
            .await?;
        }
    }
    audit_ref(
        tx,
        &actor.audit(),
        "referral.attendance",
        id,
        json!({ "date": d.to_string(), "status": status }),
    )
    .await?;
    Ok(())
}

/// What the provider sees: only what it needs to welcome the person.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderView {
    /// Referral id.
    pub id: String,
    /// Activity.
    pub activity_name: String,
    /// pending / accepted / declined / returned.
    pub provider_status: Option<ProviderStatus>,
    /// Status on the pathway.
    pub status: Status,
    /// Preferred name.
    pub name: String,
    /// Pronouns.
    pub pronouns: String,
    /// Communication needs.
    pub communication_needs: String,
    /// Languages.
    pub languages: String,
    /// Barriers and the support arranged.
    pub barriers: Vec<Barrier>,
    /// The link worker's note to the provider.
    pub note: String,
    /// Contact details: only once accepted and when the person agreed to be contacted.
    pub contact: Option<(String, String)>,
    /// Link worker and team.
    pub link_worker: String,
    /// Shared messages, newest first.
    pub messages: Vec<Event>,
    /// Attendance.
    pub attendance: Vec<(String, String)>,
    /// When asked.
    pub requested_at: Option<i64>,
    /// Pseudonymous person id (to record measures).
    pub person_id: String,
    /// The person's latest wellbeing scores.
    pub scores: Vec<crate::modules::measures::service::LatestScore>,
}

/// The provider's view of one referral; audited.
pub async fn provider_view(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<ProviderView, AppError> {
    let mut tx = state.db.begin().await?;
    let r = check::<Provider>(&mut tx, actor, id).await?;
    let p = people::identity(&mut tx, actor, &r).await?;
    let may_contact = r.provider_status == Some(ProviderStatus::Accepted)
        && people::has_consent(&mut *tx, &r.person_id, Purpose::Contact).await?;
    let view = ProviderView {
        id: r.id.clone(),
        activity_name: r.activity_name.clone().unwrap_or_default(),
        provider_status: r.provider_status,
        status: r.status,
        name: p.call_name().to_string(),
        pronouns: p.details.pronouns.clone(),
        communication_needs: p.details.communication_needs.clone(),
        languages: p.details.languages.clone(),
        // What was arranged, without the link worker's free-text detail of the barrier.
        barriers: barriers(&mut tx, id)
            .await?
            .into_iter()
            .map(|b| Barrier {
                detail: String::new(),
                ..b
            })
            .collect(),
        note: r.provider_note.clone(),
        contact: may_contact.then(|| (p.details.phone.clone(), p.details.email.clone())),
        link_worker: format!(
            "{} ({})",
            r.assigned_name
                .clone()
                .unwrap_or_else(|| "Not yet assigned".into()),
            r.team_name
        ),
        messages: events(&mut tx, id, true).await?,
        attendance: attendance(&mut tx, id).await?,
        requested_at: r.provider_requested_at,
        person_id: r.person_id.clone(),
        scores: crate::modules::measures::service::latest_scores(&mut tx, &r).await?,
    };
    tx.commit().await?;
    Ok(view)
}

/// Referrals to the actor's activities (providers); audited.
pub async fn provider_inbox(state: &AppState, actor: &Actor) -> Result<Vec<CaseRow>, AppError> {
    let orgs: Vec<String> = actor
        .memberships
        .iter()
        .filter(|m| matches!(m.2, Role::ProgrammeManager | Role::Practitioner))
        .map(|m| m.0.clone())
        .collect();
    if orgs.is_empty() {
        return Err(AppError::Forbidden);
    }
    let mut sql = format!(
        "{LIST_SELECT} WHERE r.provider_status IN ('pending', 'accepted') \
         AND r.status NOT IN ('closed', 'declined', 'not_reached', 'did_not_attend') AND a.organisation_id IN ("
    );
    for i in 0..orgs.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("${}", i + 2));
    }
    sql.push_str(") ORDER BY r.updated_at DESC LIMIT 200");
    let mut tx = state.db.begin().await?;
    let mut rows = fetch_case_rows(&mut tx, state.db.backend, &sql, &orgs).await?;
    let pending =
        |c: &CaseRow| c.provider_status.as_deref() == Some(ProviderStatus::Pending.code());
    rows.sort_by(|a, b| {
        pending(b)
            .cmp(&pending(a))
            .then_with(|| b.updated_at.cmp(&a.updated_at))
    });
    let mut list: Vec<CaseRow> = rows
        .into_iter()
        .map(|mut c| {
            c.overdue_tasks = 0;
            c.next_due = None;
            c
        })
        .collect();
    audit::by(
        &mut tx,
        actor,
        "referrals.provider.view",
        "referral",
        None,
        json!({ "rows": list.len() }),
    )
    .await?;
    tx.commit().await?;
    fill_names(state, &mut list).await?;
    // Providers see only the preferred or first name.
    for c in &mut list {
        c.name = c
            .name
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
    }
    Ok(list)
}
