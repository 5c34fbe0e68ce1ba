//! The decisions log: every decision of a programme with its reasons, its date, who took
//! part and links to the voices, proposals and actions behind it. A decision comes from
//! the panel deciding a proposal (accepted or declined; the proposer is told), or is logged
//! directly by the programme team. An accepted decision can start an action on the board
//! through the actions service, linked from the decision.
//!
//! Links are checked when recorded: voices and actions must be of the same programme, and
//! voices ones the recorder may read. When read, each voice link is shown only to people who
//! may read that voice, and a withdrawn voice drops out (its link row is deleted with it).
//! The log is public, as the board is; the names of those who took part and the links to
//! proposals and actions are shown to members only.

use serde::Deserialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::access::{
    Member, ProgrammeAccess, Public, Standing, Team, VOICE, Voice, may_read, voice_from,
};
use super::actions::ActionInput;
use super::model::{MAX_TEXT, MAX_TITLE, choice, text};
use super::proposals::{self, Proposal, ProposalStatus};
use crate::audit;
use crate::code::code_enum;
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

code_enum!(
    /// What was decided.
    Outcome {
        Accepted => ("accepted", "Accepted"),
        Declined => ("declined", "Declined"),
        Decided => ("decided", "Decided"),
    }
);

/// What the recorder types (a panel decision has no title: it is the proposal's).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct DecisionInput {
    pub outcome: String,
    pub title: String,
    pub reasons: String,
    pub decided_on: String,
}

/// The ticked boxes of a decision form.
#[derive(Debug, Default, Clone)]
pub struct Links {
    /// Who took part.
    pub present: Vec<String>,
    pub voices: Vec<String>,
    pub actions: Vec<String>,
}

/// One person who took part.
#[derive(Debug, Clone)]
pub struct Participant {
    pub name: String,
    pub lived_experience: bool,
}

/// A decision as the reader may see it.
#[derive(Debug, Clone)]
pub struct Decision {
    pub id: String,
    pub programme_id: String,
    pub proposal_id: Option<String>,
    pub title: String,
    pub outcome: Outcome,
    pub reasons: String,
    pub decided_on: String,
    /// The action it started, as (id, title).
    pub action: Option<(String, String)>,
    /// Empty unless the reader is a member.
    pub participants: Vec<Participant>,
    /// How many took part.
    pub took_part: i64,
    /// The linked voices this reader may read.
    pub voices: Vec<Voice>,
    /// The linked actions, as (id, title).
    pub actions: Vec<(String, String)>,
}

const DECISION: &str = "SELECT d.id, d.programme_id, d.proposal_id, d.title, d.outcome, d.reasons, d.decided_on, d.action_id, a.title AS action_title \
    FROM programme_decisions d LEFT JOIN programme_actions a ON a.id = d.action_id";

fn decision_from(r: &AnyRow) -> Result<Decision, sqlx::Error> {
    let action_id: Option<String> = r.try_get("action_id")?;
    let action_title: Option<String> = r.try_get("action_title")?;
    Ok(Decision {
        id: r.try_get("id")?,
        programme_id: r.try_get("programme_id")?,
        proposal_id: r.try_get("proposal_id")?,
        title: r.try_get("title")?,
        outcome: Outcome::from_code(&r.try_get::<String, _>("outcome")?)
            .ok_or_else(|| sqlx::Error::Decode("unknown outcome".into()))?,
        reasons: r.try_get("reasons")?,
        decided_on: r.try_get("decided_on")?,
        action: action_id.zip(action_title),
        participants: Vec::new(),
        took_part: 0,
        voices: Vec::new(),
        actions: Vec::new(),
    })
}

/// Fill in who took part and the links, as this reader may see them.
async fn fill(
    conn: &mut sqlx::AnyConnection,
    actor: Option<&Actor>,
    standing: Standing,
    d: &mut Decision,
) -> Result<(), AppError> {
    let rows = sqlx::query(
        "SELECT u.display_name, m.capacity FROM programme_decision_participants dp \
         JOIN accounts_user_names u ON u.id = dp.user_id \
         LEFT JOIN programme_members m ON m.programme_id = $2 AND m.user_id = dp.user_id \
         WHERE dp.decision_id = $1 ORDER BY u.display_name, dp.user_id",
    )
    .bind(d.id.clone())
    .bind(d.programme_id.clone())
    .fetch_all(&mut *conn)
    .await?;
    d.took_part = rows.len() as i64;
    if standing >= Standing::Member {
        for r in &rows {
            let capacity: Option<String> = r.try_get("capacity")?;
            d.participants.push(Participant {
                name: r.try_get("display_name")?,
                lived_experience: capacity.as_deref().is_some_and(proposals::lived),
            });
        }
        let rows = sqlx::query(
            "SELECT a.id, a.title FROM programme_decision_actions da JOIN programme_actions a ON a.id = da.action_id \
             WHERE da.decision_id = $1 ORDER BY a.title, a.id",
        )
        .bind(d.id.clone())
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            d.actions.push((r.try_get("id")?, r.try_get("title")?));
        }
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{VOICE} WHERE id IN (SELECT voice_id FROM programme_decision_voices WHERE decision_id = $1) ORDER BY created_at, id"
    )))
    .bind(d.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let v = voice_from(r)?;
        let author = matches!((actor, &v.author_id), (Some(a), Some(u)) if &a.user_id == u);
        if may_read(&v, standing, author) {
            d.voices.push(v);
        }
    }
    Ok(())
}

/// The decision on a proposal, if it has been decided.
pub(super) async fn for_proposal(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    p: &ProgrammeAccess<Member>,
    proposal: &str,
) -> Result<Option<Decision>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{DECISION} WHERE d.proposal_id = $1"
    )))
    .bind(proposal.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut d = decision_from(&row)?;
    fill(conn, Some(actor), p.standing(), &mut d).await?;
    Ok(Some(d))
}

/// A programme's decisions log, newest decision first (anyone; see the module notes for
/// what non-members see).
pub async fn log(
    state: &AppState,
    actor: Option<&Actor>,
    programme: &str,
) -> Result<(ProgrammeAccess<Public>, Vec<Decision>), AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Public>::check(&mut conn, actor, programme).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{DECISION} WHERE d.programme_id = $1 ORDER BY d.decided_on DESC, d.created_at DESC, d.id"
    )))
    .bind(p.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let mut d = decision_from(r)?;
        fill(&mut conn, actor, p.standing(), &mut d).await?;
        out.push(d);
    }
    Ok((p, out))
}

/// Check a decision's fields and links; `people` are who may be ticked as taking part,
/// as (user id, lived experience).
#[allow(clippy::too_many_arguments)]
async fn check(
    tx: &mut Tx,
    actor: &Actor,
    programme: &str,
    standing: Standing,
    input: &DecisionInput,
    links: &Links,
    people: &[(String, bool)],
    e: &mut Vec<FieldError>,
) -> Result<(String, String), AppError> {
    let reasons = text(
        &input.reasons,
        "reasons",
        "the reasons for the decision",
        MAX_TEXT,
        e,
    );
    match crate::dates::parse_date(&input.decided_on) {
        None => e.push(FieldError::new(
            "decided_on",
            "Enter the date of the decision as year-month-day, for example 2026-03-31",
        )),
        Some(d) if d > crate::db::uk::today() => e.push(FieldError::new(
            "decided_on",
            "The date of the decision cannot be in the future",
        )),
        Some(_) => {}
    }
    if links.present.is_empty()
        || !links
            .present
            .iter()
            .all(|u| people.iter().any(|(p, _)| p == u))
    {
        e.push(FieldError::new(
            "present",
            "Tick who took part in the decision",
        ));
    }
    for v in &links.voices {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{VOICE} WHERE id = $1")))
            .bind(v.clone())
            .fetch_optional(&mut **tx)
            .await?;
        let ok = match row.as_ref().map(voice_from).transpose()? {
            Some(voice) => {
                let author = voice.author_id.as_deref() == Some(actor.user_id.as_str());
                voice.programme_id == programme && may_read(&voice, standing, author)
            }
            None => false,
        };
        if !ok {
            e.push(FieldError::new(
                "voices",
                "Link only voices of this programme that you can read",
            ));
            break;
        }
    }
    for a in &links.actions {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM programme_actions WHERE id = $1 AND programme_id = $2",
        )
        .bind(a.clone())
        .bind(programme.to_string())
        .fetch_one(&mut **tx)
        .await?;
        if n == 0 {
            e.push(FieldError::new(
                "actions",
                "Link only actions of this programme",
            ));
            break;
        }
    }
    Ok((reasons, input.decided_on.trim().to_string()))
}

fn dedup(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

/// Store a checked decision and its links.
#[allow(clippy::too_many_arguments)]
async fn store(
    tx: &mut Tx,
    actor: &Actor,
    programme: &str,
    proposal: Option<&str>,
    title: &str,
    outcome: Outcome,
    reasons: &str,
    decided_on: &str,
    links: &Links,
) -> Result<String, AppError> {
    let id = new_id();
    sqlx::query("INSERT INTO programme_decisions (id, programme_id, proposal_id, title, outcome, reasons, decided_on, recorded_by, action_id, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)")
        .bind(id.clone())
        .bind(programme.to_string())
        .bind(proposal.map(str::to_string))
        .bind(title.to_string())
        .bind(outcome.code())
        .bind(reasons.to_string())
        .bind(decided_on.to_string())
        .bind(actor.user_id.clone())
        .bind(now())
        .execute(&mut **tx)
        .await?;
    for (table, column, values) in [
        ("programme_decision_participants", "user_id", &links.present),
        ("programme_decision_voices", "voice_id", &links.voices),
        ("programme_decision_actions", "action_id", &links.actions),
    ] {
        for v in dedup(values) {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {table} (decision_id, {column}) VALUES ($1, $2)"
            )))
            .bind(id.clone())
            .bind(v)
            .execute(&mut **tx)
            .await?;
        }
    }
    audit::by(
        tx,
        actor,
        "decision.record",
        "programme_decision",
        Some(&id),
        json!({ "programme": programme, "proposal": proposal, "outcome": outcome.code(),
                "took_part": dedup(&links.present).len(), "voices": dedup(&links.voices).len(),
                "actions": dedup(&links.actions).len() }),
    )
    .await?;
    Ok(id)
}

/// The panel decides a proposal (a panel member, or the team on its behalf): accepted or
/// declined, with reasons, date and who took part — panel members, at least one of them
/// with lived experience. The proposer is told. Returns the decision's programme.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    proposal: &str,
    input: &DecisionInput,
    links: &Links,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let (pr, p) = proposals::load(&mut tx, actor, proposal).await?;
    let panel = proposals::panel(&mut tx, &p.id).await?;
    if !proposals::may_decide(&p, &panel, actor) {
        return Err(AppError::Forbidden);
    }
    if !pr.status.undecided() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "outcome",
            format!(
                "This proposal is already {}: it cannot be decided again",
                pr.status.label().to_lowercase()
            ),
        )]));
    }
    let mut e = Vec::new();
    if !panel.iter().any(|m| m.lived_experience) {
        e.push(FieldError::new("present", "The panel cannot decide: it has nobody with lived experience. Ask the programme team to add a participant or co-researcher to the panel"));
    }
    let outcome = choice(
        &input.outcome,
        |c| Outcome::from_code(c).filter(|o| *o != Outcome::Decided),
        "outcome",
        "Choose whether the panel accepts or declines the proposal",
        &mut e,
    );
    let people: Vec<(String, bool)> = panel
        .iter()
        .map(|m| (m.user_id.clone(), m.lived_experience))
        .collect();
    let (reasons, on) = check(
        &mut tx,
        actor,
        &p.id,
        p.standing(),
        input,
        links,
        &people,
        &mut e,
    )
    .await?;
    let lived_present = people
        .iter()
        .any(|(u, lived)| *lived && links.present.contains(u));
    if e.iter().all(|x| x.field != "present") && !lived_present {
        e.push(FieldError::new("present", "Tick at least one panel member with lived experience (a participant or co-researcher) who took part: the panel cannot decide without them"));
    }
    let Some(outcome) = outcome.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let id = store(
        &mut tx,
        actor,
        &p.id,
        Some(&pr.id),
        &pr.title,
        outcome,
        &reasons,
        &on,
        links,
    )
    .await?;
    let status = if outcome == Outcome::Accepted {
        ProposalStatus::Accepted
    } else {
        ProposalStatus::Declined
    };
    let t = now();
    sqlx::query("UPDATE programme_proposals SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.code())
        .bind(t)
        .bind(pr.id.clone())
        .execute(&mut *tx)
        .await?;
    tell_proposer(&mut tx, actor, &pr, &id, t).await?;
    tx.commit().await?;
    Ok(p.id.clone())
}

async fn tell_proposer(
    tx: &mut Tx,
    actor: &Actor,
    pr: &Proposal,
    decision: &str,
    t: i64,
) -> Result<(), AppError> {
    if pr.proposer_id == actor.user_id {
        return Ok(());
    }
    sqlx::query("INSERT INTO programme_proposal_notifications (id, user_id, proposal_id, decision_id, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(pr.proposer_id.clone())
        .bind(pr.id.clone())
        .bind(decision.to_string())
        .bind(t)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Log a decision directly, not from a proposal (the team): a title, reasons, date, the
/// members who took part and the voices and actions behind it.
pub async fn log_direct(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &DecisionInput,
    links: &Links,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Team>::check(&mut tx, Some(actor), programme).await?;
    let mut e = Vec::new();
    let title = text(&input.title, "title", "what was decided", MAX_TITLE, &mut e);
    let people: Vec<(String, bool)> = super::service::member_rows(&mut tx, &p.id)
        .await?
        .into_iter()
        .map(|m| (m.user_id, proposals::lived(&m.capacity)))
        .collect();
    let (reasons, on) = check(
        &mut tx,
        actor,
        &p.id,
        p.standing(),
        input,
        links,
        &people,
        &mut e,
    )
    .await?;
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = store(
        &mut tx,
        actor,
        &p.id,
        None,
        &title,
        Outcome::Decided,
        &reasons,
        &on,
        links,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A decision that could start an action, for the action form (the team).
pub async fn for_action(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Decision, Vec<super::service::MemberRow>), AppError> {
    let mut conn = state.db.read.acquire().await?;
    let (d, p) = load_for_action(&mut conn, actor, id).await?;
    let members = super::service::member_rows(&mut conn, &p.id).await?;
    Ok((d, members))
}

async fn load_for_action(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: &str,
) -> Result<(Decision, ProgrammeAccess<Team>), AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{DECISION} WHERE d.id = $1")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut d = decision_from(&row)?;
    let p = ProgrammeAccess::<Member>::check(conn, Some(actor), &d.programme_id)
        .await
        .map_err(|_| AppError::NotFound)?;
    let p = ProgrammeAccess::<Team>::check(conn, Some(actor), &p.id).await?;
    if d.outcome == Outcome::Declined {
        return Err(AppError::Conflict(
            "A declined proposal does not start an action".into(),
        ));
    }
    if d.action.is_some() {
        return Err(AppError::Conflict(
            "This decision has already started an action".into(),
        ));
    }
    fill(conn, Some(actor), p.standing(), &mut d).await?;
    Ok((d, p))
}

/// Start an action on the board from a decision (the team), through the actions service,
/// with the decision's voices behind it; the decision links to it. Returns the action.
pub async fn create_action(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &ActionInput,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let (d, p) = load_for_action(&mut tx, actor, id).await?;
    let voices: Vec<String> =
        sqlx::query_scalar("SELECT voice_id FROM programme_decision_voices WHERE decision_id = $1")
            .bind(d.id.clone())
            .fetch_all(&mut *tx)
            .await?;
    let action = super::actions::create_in(&mut tx, actor, &p, input, &voices, false).await?;
    sqlx::query("UPDATE programme_decisions SET action_id = $1 WHERE id = $2")
        .bind(action.clone())
        .bind(d.id.clone())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "decision.action",
        "programme_decision",
        Some(&d.id),
        json!({ "action": action }),
    )
    .await?;
    tx.commit().await?;
    Ok(action)
}
