//! The daily reminder job: staff with measures due, and people with a check-in waiting.

use sqlx::Row;

use super::{DueState, due_for_actor, due_for_person_id};
use crate::modules::accounts;
use crate::rbac::{Actor, Role};
use crate::state::AppState;

/// The daily job that sends [`daily_reminders`].
pub struct DueReminders;

impl crate::jobs::JobKind for DueReminders {
    const KIND: &'static str = "measures_due_reminders";
    type Payload = ();

    async fn run(state: &AppState, (): ()) -> anyhow::Result<()> {
        let n = daily_reminders(state).await?;
        tracing::info!(emails = n, "queued wellbeing-measure reminders");
        Ok(())
    }
}

/// The daily reminder: every account that records measures and has some due or overdue gets
/// one email with the count and a link (no names in the email); every person with an
/// account, who agreed to be contacted and has a check-in due, gets a short nudge.
pub async fn daily_reminders(state: &AppState) -> anyhow::Result<usize> {
    let users = {
        let mut conn = state.db.read.acquire().await?;
        accounts::store::enabled_users_with_roles(
            &mut conn,
            &[Role::LinkWorker, Role::Practitioner, Role::ProgrammeManager],
        )
        .await?
    };
    let mut sent = 0;
    for (user_id, email, display_name) in users {
        let memberships = sqlx::query(
            "SELECT m.organisation_id, o.name, m.role FROM accounts_member_roles m \
             JOIN accounts_organisation_profiles o ON o.id = m.organisation_id WHERE m.user_id = $1",
        )
        .bind(user_id.clone())
        .fetch_all(&state.db.read)
        .await?
        .iter()
        .filter_map(|r| {
            Some((
                r.try_get::<String, _>("organisation_id").ok()?,
                r.try_get::<String, _>("name").ok()?,
                Role::from_code(&r.try_get::<String, _>("role").ok()?)?,
            ))
        })
        .collect();
        let actor = Actor {
            user_id,
            display_name,
            email,
            memberships,
            request_id: None,
            channel: "job",
        };
        let due = due_for_actor(state, &actor)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let now_due = due.iter().filter(|d| d.item.state == DueState::Due).count();
        let overdue = due
            .iter()
            .filter(|d| d.item.state == DueState::Overdue)
            .count();
        if now_due + overdue == 0 {
            continue;
        }
        let mut tx = state.db.begin().await?;
        crate::notify::queue_email(
            &mut tx,
            &actor.email,
            "Wellbeing measures are due",
            &format!(
                "{now_due} wellbeing measure(s) are due and {overdue} overdue for people you work with.\n\nSee them at {}/measures",
                state.cfg.base_url.trim_end_matches('/')
            ),
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    // People with an account who agreed to be contacted: a nudge that a check-in is waiting
    // (no instrument names or scores in the email).
    let people = sqlx::query(
        "SELECT p.id, p.user_id FROM people_person_accounts p \
         JOIN people_current_consents c ON c.person_id = p.id AND c.purpose = 'contact' AND c.decision = 'given' \
         WHERE p.user_id IS NOT NULL",
    )
    .fetch_all(&state.db.read)
    .await?;
    let emails = {
        let user_ids = people
            .iter()
            .map(|p| p.try_get::<String, _>("user_id"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut conn = state.db.read.acquire().await?;
        accounts::store::enabled_emails_by_id(&mut conn, &user_ids).await?
    };
    for p in people {
        let person_id: String = p.try_get("id")?;
        let user_id: String = p.try_get("user_id")?;
        let Some(email) = emails.get(&user_id).cloned() else {
            continue;
        };
        let due = due_for_person_id(state, &person_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if due.is_empty() {
            continue;
        }
        let mut tx = state.db.begin().await?;
        crate::notify::queue_email(
            &mut tx,
            &email,
            "A check-in is waiting for you",
            &format!(
                "A short check-in about how you have been is waiting for you. It takes a few minutes, and you can stop and come back.\n\n{}/check-ins",
                state.cfg.base_url.trim_end_matches('/')
            ),
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}
