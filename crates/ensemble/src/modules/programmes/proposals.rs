//! Proposals and the decision panel. Any member proposes a research question, a new
//! measure, a change to an activity or something else; members comment and support (one
//! support each, which they can withdraw); the proposer can withdraw it while it is open.
//! The programme team (responsible members and managers) picks the decision panel from the
//! programme's members; the panel must include at least one person with lived experience (a
//! member taking part as a participant or co-researcher) before it can decide. Deciding is
//! in [`super::decisions`].
//!
//! Who may do what (proved here, on top of [`ProgrammeAccess`]):
//!
//! | what | who |
//! | --- | --- |
//! | read proposals, propose, comment, support | every member of the programme |
//! | withdraw a proposal | its proposer, while it is open or under panel review |
//! | send a proposal to the panel, choose the panel | the programme team |
//! | record a panel decision | panel members, and the team on the panel's behalf |
//!
//! A proposal of a programme the actor is not a member of is a **404**.

use serde::Deserialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::access::{Member, ProgrammeAccess, Standing, Team};
use super::model::{Capacity, MAX_TEXT, MAX_TITLE, choice, text};
use crate::audit;
use crate::code::code_enum;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

code_enum!(
    /// What a proposal is about.
    ProposalKind {
        ResearchQuestion => ("research_question", "A research question"),
        NewMeasure => ("new_measure", "A new measure"),
        ActivityChange => ("activity_change", "A change to an activity"),
        Other => ("other", "Something else"),
    }
);

code_enum!(
    /// Where a proposal stands.
    ProposalStatus {
        Open => ("open", "Open"),
        UnderReview => ("under_review", "Under panel review"),
        Accepted => ("accepted", "Accepted"),
        Declined => ("declined", "Declined"),
        Withdrawn => ("withdrawn", "Withdrawn by the proposer"),
    }
);

impl ProposalStatus {
    /// Still waiting for a decision (open or under panel review).
    pub fn undecided(self) -> bool {
        matches!(self, Self::Open | Self::UnderReview)
    }
}

/// A proposal as read.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub id: String,
    pub programme_id: String,
    pub proposer_id: String,
    pub proposer: String,
    pub kind: ProposalKind,
    pub title: String,
    pub body: String,
    pub status: ProposalStatus,
    pub supports: i64,
    pub created_at: i64,
}

const PROPOSAL: &str = "SELECT pr.id, pr.programme_id, pr.proposer_id, u.display_name AS proposer, pr.kind, pr.title, pr.body, pr.status, pr.created_at, \
    (SELECT COUNT(*) FROM programme_proposal_supports s WHERE s.proposal_id = pr.id) AS supports \
    FROM programme_proposals pr JOIN accounts_user_names u ON u.id = pr.proposer_id";

fn proposal_from(r: &AnyRow) -> Result<Proposal, sqlx::Error> {
    let bad = |c: &str| sqlx::Error::Decode(format!("unknown {c} code").into());
    Ok(Proposal {
        id: r.try_get("id")?,
        programme_id: r.try_get("programme_id")?,
        proposer_id: r.try_get("proposer_id")?,
        proposer: r.try_get("proposer")?,
        kind: ProposalKind::from_code(&r.try_get::<String, _>("kind")?)
            .ok_or_else(|| bad("kind"))?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        status: ProposalStatus::from_code(&r.try_get::<String, _>("status")?)
            .ok_or_else(|| bad("status"))?,
        supports: r.try_get("supports")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A proposal with the actor's membership of its programme proved: 404 when there is none
/// or the actor is not a member.
pub(super) async fn load(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: &str,
) -> Result<(Proposal, ProgrammeAccess<Member>), AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{PROPOSAL} WHERE pr.id = $1")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let proposal = proposal_from(&row)?;
    let p = ProgrammeAccess::<Member>::check(conn, Some(actor), &proposal.programme_id)
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok((proposal, p))
}

/// One panel member.
#[derive(Debug, Clone)]
pub struct PanelMember {
    pub user_id: String,
    pub name: String,
    /// Takes part as a participant or co-researcher.
    pub lived_experience: bool,
}

/// Whether a capacity code means lived experience.
pub fn lived(capacity: &str) -> bool {
    capacity == Capacity::Participant.code() || capacity == Capacity::CoResearcher.code()
}

/// The programme's decision panel, by name (only people still members).
pub async fn panel(
    conn: &mut sqlx::AnyConnection,
    programme: &str,
) -> Result<Vec<PanelMember>, AppError> {
    let rows = sqlx::query(
        "SELECT pm.user_id, u.display_name, m.capacity FROM programme_panel_members pm \
         JOIN programme_members m ON m.programme_id = pm.programme_id AND m.user_id = pm.user_id \
         JOIN accounts_user_names u ON u.id = pm.user_id \
         WHERE pm.programme_id = $1 ORDER BY u.display_name, pm.user_id",
    )
    .bind(programme.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PanelMember {
                user_id: r.try_get("user_id")?,
                name: r.try_get("display_name")?,
                lived_experience: lived(&r.try_get::<String, _>("capacity")?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Whether the actor may record a panel decision: a panel member, or the team on the
/// panel's behalf.
pub fn may_decide(p: &ProgrammeAccess<Member>, panel: &[PanelMember], actor: &Actor) -> bool {
    p.standing() >= Standing::Team || panel.iter().any(|m| m.user_id == actor.user_id)
}

/// What a member types to propose.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ProposalInput {
    pub kind: String,
    pub title: String,
    pub body: String,
}

/// Propose (any member).
pub async fn create(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &ProposalInput,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Member>::check(&mut tx, Some(actor), programme).await?;
    let mut e = Vec::new();
    let kind = choice(
        &input.kind,
        ProposalKind::from_code,
        "kind",
        "Choose what you are proposing",
        &mut e,
    );
    let title = text(&input.title, "title", "a title", MAX_TITLE, &mut e);
    let body = text(
        &input.body,
        "body",
        "what you propose and why",
        MAX_TEXT,
        &mut e,
    );
    let Some(kind) = kind.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let id = new_id();
    let t = now();
    sqlx::query("INSERT INTO programme_proposals (id, programme_id, proposer_id, kind, title, body, status, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $7)")
        .bind(id.clone())
        .bind(p.id.clone())
        .bind(actor.user_id.clone())
        .bind(kind.code())
        .bind(title)
        .bind(body)
        .bind(t)
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "proposal.create",
        "programme_proposal",
        Some(&id),
        json!({ "programme": p.id, "kind": kind.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A comment on a proposal.
#[derive(Debug, Clone)]
pub struct Comment {
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

/// The news for a proposer: their proposal was decided.
#[derive(Debug, Clone)]
pub struct Decided {
    pub proposal_id: String,
    pub title: String,
    pub outcome: String,
    pub unread: bool,
}

/// A programme's proposals page.
pub struct ProposalList {
    pub programme: ProgrammeAccess<Member>,
    pub proposals: Vec<Proposal>,
    pub panel: Vec<PanelMember>,
    pub members: Vec<super::service::MemberRow>,
    /// The actor's own proposals that were decided, newest first.
    pub news: Vec<Decided>,
}

/// Every proposal of a programme, newest first, with its panel (members).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    programme: &str,
) -> Result<ProposalList, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let p = ProgrammeAccess::<Member>::check(&mut conn, Some(actor), programme).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{PROPOSAL} WHERE pr.programme_id = $1 ORDER BY pr.created_at DESC, pr.id DESC"
    )))
    .bind(p.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let proposals = rows.iter().map(proposal_from).collect::<Result<_, _>>()?;
    let rows = sqlx::query(
        "SELECT n.proposal_id, pr.title, d.outcome, n.read_at FROM programme_proposal_notifications n \
         JOIN programme_proposals pr ON pr.id = n.proposal_id JOIN programme_decisions d ON d.id = n.decision_id \
         WHERE n.user_id = $1 AND pr.programme_id = $2 ORDER BY n.created_at DESC, n.id DESC LIMIT 20",
    )
    .bind(actor.user_id.clone())
    .bind(p.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let news = rows
        .iter()
        .map(|r| {
            Ok(Decided {
                proposal_id: r.try_get("proposal_id")?,
                title: r.try_get("title")?,
                outcome: r.try_get("outcome")?,
                unread: r.try_get::<Option<i64>, _>("read_at")?.is_none(),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let panel = panel(&mut conn, &p.id).await?;
    let members = super::service::member_rows(&mut conn, &p.id).await?;
    Ok(ProposalList {
        programme: p,
        proposals,
        panel,
        members,
        news,
    })
}

/// How many of the actor's decided proposals they have not yet opened (the space page).
pub async fn unread(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    programme: &str,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM programme_proposal_notifications n JOIN programme_proposals pr ON pr.id = n.proposal_id \
         WHERE n.user_id = $1 AND pr.programme_id = $2 AND n.read_at IS NULL",
    )
    .bind(actor.user_id.clone())
    .bind(programme.to_string())
    .fetch_one(&mut *conn)
    .await?)
}

/// One proposal as a member sees it.
pub struct ProposalView {
    pub proposal: Proposal,
    pub programme: ProgrammeAccess<Member>,
    pub comments: Vec<Comment>,
    pub supported: bool,
    pub panel: Vec<PanelMember>,
    pub decision: Option<super::decisions::Decision>,
}

/// A proposal with its comments, panel and decision; opening it marks the proposer's news
/// about it as read.
pub async fn view(state: &AppState, actor: &Actor, id: &str) -> Result<ProposalView, AppError> {
    let mut tx = state.db.begin().await?;
    let (proposal, p) = load(&mut tx, actor, id).await?;
    let rows = sqlx::query(
        "SELECT u.display_name, c.body, c.created_at FROM programme_proposal_comments c \
         JOIN accounts_user_names u ON u.id = c.author_id WHERE c.proposal_id = $1 ORDER BY c.created_at, c.id",
    )
    .bind(proposal.id.clone())
    .fetch_all(&mut *tx)
    .await?;
    let comments = rows
        .iter()
        .map(|r| {
            Ok(Comment {
                author: r.try_get("display_name")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let supported: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM programme_proposal_supports WHERE proposal_id = $1 AND user_id = $2",
    )
    .bind(proposal.id.clone())
    .bind(actor.user_id.clone())
    .fetch_one(&mut *tx)
    .await?;
    let panel = panel(&mut tx, &p.id).await?;
    let decision = super::decisions::for_proposal(&mut tx, actor, &p, &proposal.id).await?;
    sqlx::query("UPDATE programme_proposal_notifications SET read_at = $1 WHERE user_id = $2 AND proposal_id = $3 AND read_at IS NULL")
        .bind(now())
        .bind(actor.user_id.clone())
        .bind(proposal.id.clone())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ProposalView {
        proposal,
        programme: p,
        comments,
        supported: supported > 0,
        panel,
        decision,
    })
}

fn still_open(proposal: &Proposal, field: &str) -> Result<(), AppError> {
    if proposal.status.undecided() {
        Ok(())
    } else {
        Err(AppError::Invalid(vec![FieldError::new(
            field,
            format!(
                "This proposal is {}, so it cannot be changed",
                proposal.status.label().to_lowercase()
            ),
        )]))
    }
}

/// Support a proposal, or withdraw one's support (`support` false). Supporting twice
/// keeps one support. Returns the proposal's programme.
pub async fn support(
    state: &AppState,
    actor: &Actor,
    id: &str,
    support: bool,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let (proposal, _) = load(&mut tx, actor, id).await?;
    still_open(&proposal, "support")?;
    sqlx::query("DELETE FROM programme_proposal_supports WHERE proposal_id = $1 AND user_id = $2")
        .bind(proposal.id.clone())
        .bind(actor.user_id.clone())
        .execute(&mut *tx)
        .await?;
    if support {
        sqlx::query("INSERT INTO programme_proposal_supports (proposal_id, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(proposal.id.clone())
            .bind(actor.user_id.clone())
            .bind(now())
            .execute(&mut *tx)
            .await?;
    }
    let what = if support {
        "proposal.support"
    } else {
        "proposal.unsupport"
    };
    audit::by(
        &mut tx,
        actor,
        what,
        "programme_proposal",
        Some(&proposal.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Comment on a proposal (any member, while it is undecided).
pub async fn comment(
    state: &AppState,
    actor: &Actor,
    id: &str,
    body: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let (proposal, _) = load(&mut tx, actor, id).await?;
    let mut e = Vec::new();
    let body = text(body, "comment", "your comment", MAX_TEXT, &mut e);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    still_open(&proposal, "comment")?;
    sqlx::query("INSERT INTO programme_proposal_comments (id, proposal_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(proposal.id.clone())
        .bind(actor.user_id.clone())
        .bind(body)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "proposal.comment",
        "programme_proposal",
        Some(&proposal.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Change an undecided proposal's status: the proposer withdraws it, or the team sends it
/// to the panel. Anyone else is refused (403).
pub async fn set_status(
    state: &AppState,
    actor: &Actor,
    id: &str,
    to: ProposalStatus,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let (proposal, p) = load(&mut tx, actor, id).await?;
    let allowed = match to {
        ProposalStatus::Withdrawn => proposal.proposer_id == actor.user_id,
        ProposalStatus::UnderReview => p.standing() >= Standing::Team,
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    still_open(&proposal, "status")?;
    sqlx::query("UPDATE programme_proposals SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.code())
        .bind(now())
        .bind(proposal.id.clone())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "proposal.status",
        "programme_proposal",
        Some(&proposal.id),
        json!({ "status": to.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Choose the decision panel from the programme's members (the team). The panel may be
/// saved without anyone with lived experience, but it cannot decide until it has one.
pub async fn set_panel(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    chosen: &[String],
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Team>::check(&mut tx, Some(actor), programme).await?;
    let members = super::service::member_rows(&mut tx, &p.id).await?;
    let mut chosen = chosen.to_vec();
    chosen.sort();
    chosen.dedup();
    if chosen.is_empty()
        || !chosen
            .iter()
            .all(|c| members.iter().any(|m| &m.user_id == c))
    {
        return Err(AppError::Invalid(vec![FieldError::new(
            "panel",
            "Choose at least one panel member from the programme's members",
        )]));
    }
    sqlx::query("DELETE FROM programme_panel_members WHERE programme_id = $1")
        .bind(p.id.clone())
        .execute(&mut *tx)
        .await?;
    let t = now();
    for u in &chosen {
        sqlx::query("INSERT INTO programme_panel_members (programme_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4)")
            .bind(p.id.clone())
            .bind(u.clone())
            .bind(actor.user_id.clone())
            .bind(t)
            .execute(&mut *tx)
            .await?;
    }
    let lived_n = members
        .iter()
        .filter(|m| chosen.contains(&m.user_id) && lived(&m.capacity))
        .count();
    audit::by(
        &mut tx,
        actor,
        "panel.set",
        "programme",
        Some(&p.id),
        json!({ "members": chosen.len(), "lived_experience": lived_n }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
