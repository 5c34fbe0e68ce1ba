//! Programmes: create one, name its partners, link its activities, add members with a
//! stated role, and read the members' space and the public page. Each use case authorises
//! (a route permission and a [`ProgrammeAccess`] proof), validates, changes and audits in
//! one transaction.

use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use super::access::{
    Manager, Member, Programme, ProgrammeAccess, Public, Standing, programme_from, programme_select,
};
use super::model::{Capacity, MAX_TEXT, MAX_TITLE, MemberRole, choice, text};
use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::perm::ManageActivities;
use crate::rbac::{Actor, Granted, Role};
use crate::state::AppState;

/// What a programme manager types to start a programme.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ProgrammeInput {
    pub name: String,
    pub summary: String,
    pub lead_organisation_id: String,
}

/// A programme in a list, with the actor's standing in it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProgrammeSummary {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub lead_organisation: String,
    /// `manager`, `responsible`, `consulted` or `informed`.
    pub your_role: String,
}

/// A partner organisation.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Partner {
    pub organisation_id: String,
    pub name: String,
    /// What it brings, in the manager's words.
    pub part: String,
}

/// A linked directory activity.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LinkedActivity {
    pub id: String,
    pub name: String,
    pub organisation: String,
    pub status: String,
}

/// A member and their stated role.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MemberRow {
    pub user_id: String,
    pub name: String,
    /// `responsible`, `consulted` or `informed`.
    pub role: String,
    /// `staff`, `participant` or `co_researcher`.
    pub capacity: String,
}

/// Organisations that programme managers can start a programme for (theirs).
pub fn lead_options(actor: &Actor) -> Vec<(String, String)> {
    actor
        .memberships
        .iter()
        .filter(|m| m.2 == Role::ProgrammeManager)
        .map(|m| (m.0.clone(), m.1.clone()))
        .collect()
}

/// Start a programme. The actor must be a programme manager of the lead organisation; they
/// become its first member, responsible.
pub async fn create(
    state: &AppState,
    _g: &Granted<ManageActivities>,
    actor: &Actor,
    input: &ProgrammeInput,
) -> Result<String, AppError> {
    let mut e = Vec::new();
    let name = text(&input.name, "name", "a name", MAX_TITLE, &mut e);
    let summary = text(
        &input.summary,
        "summary",
        "what the programme does",
        MAX_TEXT,
        &mut e,
    );
    let lead = input.lead_organisation_id.trim().to_string();
    if !actor.has_role_in(&lead, Role::ProgrammeManager) {
        e.push(FieldError::new(
            "lead_organisation_id",
            "Choose the lead organisation: one where you are a programme manager",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let taken: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM programmes WHERE lower(name) = lower($1)")
            .bind(name.clone())
            .fetch_one(&mut *tx)
            .await?;
    if taken > 0 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "name",
            "There is already a programme with this name: choose another",
        )]));
    }
    let id = new_id();
    let t = now();
    sqlx::query("INSERT INTO programmes (id, name, summary, lead_organisation_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.clone())
        .bind(name)
        .bind(summary)
        .bind(lead.clone())
        .bind(actor.user_id.clone())
        .bind(t)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO programme_partners (programme_id, organisation_id, part, added_at) VALUES ($1, $2, 'Leads the programme', $3)")
        .bind(id.clone())
        .bind(lead)
        .bind(t)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO programme_members (programme_id, user_id, role, capacity, added_at) VALUES ($1, $2, 'responsible', 'staff', $3)")
        .bind(id.clone())
        .bind(actor.user_id.clone())
        .bind(t)
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "programme.create",
        "programme",
        Some(&id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The programmes the actor is a member or manager of, by name.
pub async fn mine(state: &AppState, actor: &Actor) -> Result<Vec<ProgrammeSummary>, AppError> {
    let managed: Vec<String> = actor
        .memberships
        .iter()
        .filter(|m| m.2 == Role::ProgrammeManager)
        .map(|m| m.0.clone())
        .collect();
    let mut conn = state.db.read.acquire().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{} LEFT JOIN programme_members m ON m.programme_id = p.id AND m.user_id = $1 \
         ORDER BY p.name, p.id",
        programme_select().replace("SELECT ", "SELECT m.role AS my_role, ")
    )))
    .bind(actor.user_id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let p = programme_from(r)?;
        let role: Option<String> = r.try_get("my_role")?;
        let your_role = if managed.contains(&p.lead_organisation_id) {
            "manager".to_string()
        } else if let Some(role) = role {
            role
        } else {
            continue;
        };
        out.push(ProgrammeSummary {
            id: p.id,
            name: p.name,
            summary: p.summary,
            lead_organisation: p.lead_organisation,
            your_role,
        });
    }
    Ok(out)
}

/// Partners, linked activities (of any status, for members) and members of a programme.
pub async fn partners(
    conn: &mut sqlx::AnyConnection,
    programme: &Programme,
) -> Result<Vec<Partner>, AppError> {
    let rows = sqlx::query(
        "SELECT pp.organisation_id, o.name, pp.part FROM programme_partners pp \
         JOIN accounts_organisation_profiles o ON o.id = pp.organisation_id \
         WHERE pp.programme_id = $1 ORDER BY pp.added_at, o.name",
    )
    .bind(programme.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Partner {
                organisation_id: r.try_get("organisation_id")?,
                name: r.try_get("name")?,
                part: r.try_get("part")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// The activities linked to a programme (only active ones when `public`).
pub async fn activities(
    conn: &mut sqlx::AnyConnection,
    programme: &Programme,
    public: bool,
) -> Result<Vec<LinkedActivity>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT a.id, a.name, a.status, o.name AS organisation FROM programme_activities pa \
         JOIN directory_activity_names a ON a.id = pa.activity_id \
         JOIN accounts_organisation_profiles o ON o.id = a.organisation_id \
         WHERE pa.programme_id = $1 {} ORDER BY a.name, a.id",
        if public {
            "AND a.status = 'active'"
        } else {
            ""
        }
    )))
    .bind(programme.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LinkedActivity {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                organisation: r.try_get("organisation")?,
                status: r.try_get("status")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// The members of a programme with their names (for members only).
pub async fn members(
    conn: &mut sqlx::AnyConnection,
    programme: &ProgrammeAccess<Member>,
) -> Result<Vec<MemberRow>, AppError> {
    member_rows(conn, &programme.id).await
}

pub(super) async fn member_rows(
    conn: &mut sqlx::AnyConnection,
    programme_id: &str,
) -> Result<Vec<MemberRow>, AppError> {
    member_rows_where(conn, programme_id, "", None).await
}

/// The members with a stated role of responsible (owners of actions).
pub(super) async fn team_rows(
    conn: &mut sqlx::AnyConnection,
    programme_id: &str,
) -> Result<Vec<MemberRow>, AppError> {
    member_rows_where(conn, programme_id, "AND m.role = 'responsible'", None).await
}

/// How many members the space lists (the rest are counted).
pub const MEMBERS_SHOWN: i64 = 100;

async fn member_rows_where(
    conn: &mut sqlx::AnyConnection,
    programme_id: &str,
    and: &'static str,
    limit: Option<i64>,
) -> Result<Vec<MemberRow>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT m.user_id, u.display_name, m.role, m.capacity FROM programme_members m \
         JOIN accounts_user_names u ON u.id = m.user_id \
         WHERE m.programme_id = $1 {and} ORDER BY m.role DESC, u.display_name, m.user_id{}",
        limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default()
    )))
    .bind(programme_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MemberRow {
                user_id: r.try_get("user_id")?,
                name: r.try_get("display_name")?,
                role: r.try_get("role")?,
                capacity: r.try_get("capacity")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Organisations that could join as partners (every organisation not archived and not
/// already a partner), and activities of the partners not yet linked.
pub async fn manager_options(
    conn: &mut sqlx::AnyConnection,
    programme: &ProgrammeAccess<Manager>,
) -> Result<(Choices, Choices), AppError> {
    let orgs = sqlx::query(
        "SELECT o.id, o.name FROM accounts_organisation_profiles o WHERE o.archived_at IS NULL \
         AND o.id NOT IN (SELECT organisation_id FROM programme_partners WHERE programme_id = $1) ORDER BY o.name",
    )
    .bind(programme.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let acts = sqlx::query(
        "SELECT a.id, a.name, o.name AS organisation FROM directory_activity_names a \
         JOIN programme_partners pp ON pp.organisation_id = a.organisation_id AND pp.programme_id = $1 \
         JOIN accounts_organisation_profiles o ON o.id = a.organisation_id \
         WHERE a.status = 'active' AND a.id NOT IN (SELECT activity_id FROM programme_activities WHERE programme_id = $1) \
         ORDER BY a.name, a.id",
    )
    .bind(programme.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let orgs = orgs
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let acts = acts
        .iter()
        .map(|r| {
            let name: String = r.try_get("name")?;
            let org: String = r.try_get("organisation")?;
            Ok((r.try_get("id")?, format!("{name} ({org})")))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((orgs, acts))
}

/// A partner to add.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct PartnerInput {
    pub organisation_id: String,
    pub part: String,
}

/// Name a partner organisation (managers).
pub async fn add_partner(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &PartnerInput,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Manager>::check(&mut tx, Some(actor), programme).await?;
    let mut e = Vec::new();
    let part = text(
        &input.part,
        "part",
        "what the partner brings",
        MAX_TITLE,
        &mut e,
    );
    let known: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM accounts_organisation_profiles WHERE id = $1 AND archived_at IS NULL \
         AND id NOT IN (SELECT organisation_id FROM programme_partners WHERE programme_id = $2)",
    )
    .bind(input.organisation_id.trim().to_string())
    .bind(p.id.clone())
    .fetch_one(&mut *tx)
    .await?;
    if known == 0 {
        e.push(FieldError::new(
            "organisation_id",
            "Choose an organisation that is not a partner yet",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    sqlx::query("INSERT INTO programme_partners (programme_id, organisation_id, part, added_at) VALUES ($1, $2, $3, $4)")
        .bind(p.id.clone())
        .bind(input.organisation_id.trim().to_string())
        .bind(part)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "programme.partner",
        "programme",
        Some(&p.id),
        json!({ "organisation": input.organisation_id.trim() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Link an active activity of a partner (managers).
pub async fn add_activity(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    activity_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Manager>::check(&mut tx, Some(actor), programme).await?;
    let ok: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM directory_activity_names a \
         JOIN programme_partners pp ON pp.organisation_id = a.organisation_id AND pp.programme_id = $1 \
         WHERE a.id = $2 AND a.status = 'active' \
         AND a.id NOT IN (SELECT activity_id FROM programme_activities WHERE programme_id = $1)",
    )
    .bind(p.id.clone())
    .bind(activity_id.trim().to_string())
    .fetch_one(&mut *tx)
    .await?;
    if ok == 0 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "activity_id",
            "Choose an active activity of a partner that is not linked yet",
        )]));
    }
    sqlx::query("INSERT INTO programme_activities (programme_id, activity_id, added_at) VALUES ($1, $2, $3)")
        .bind(p.id.clone())
        .bind(activity_id.trim().to_string())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "programme.activity",
        "programme",
        Some(&p.id),
        json!({ "activity": activity_id.trim() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A member to add.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct MemberInput {
    pub email: String,
    pub role: String,
    pub capacity: String,
}

/// Add someone with an account as a member with a stated role (managers). Adding someone
/// already a member changes their role.
pub async fn add_member(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &MemberInput,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Manager>::check(&mut tx, Some(actor), programme).await?;
    let mut e = Vec::new();
    let role = choice(
        &input.role,
        MemberRole::from_code,
        "role",
        "Choose their role: responsible, consulted or kept informed",
        &mut e,
    );
    let capacity = choice(
        &input.capacity,
        Capacity::from_code,
        "capacity",
        "Choose whether they take part as staff, a participant or a co-researcher",
        &mut e,
    );
    let user = if input.email.trim().is_empty() {
        e.push(FieldError::new(
            "email",
            "Enter the email address of their Ensemble account",
        ));
        None
    } else {
        let u =
            crate::modules::accounts::store::active_user_by_email(&mut *tx, &input.email).await?;
        if u.is_none() {
            e.push(FieldError::new("email", "There is no active Ensemble account with this email address: invite them to Ensemble first"));
        }
        u
    };
    let (Some(user), Some(role), Some(capacity)) = (user, role, capacity) else {
        return Err(AppError::Invalid(e));
    };
    sqlx::query("INSERT INTO programme_members (programme_id, user_id, role, capacity, added_at) VALUES ($1, $2, $3, $4, $5) \
        ON CONFLICT (programme_id, user_id) DO UPDATE SET role = excluded.role, capacity = excluded.capacity")
        .bind(p.id.clone())
        .bind(user.id.clone())
        .bind(role.code())
        .bind(capacity.code())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "programme.member",
        "programme",
        Some(&p.id),
        json!({ "user": user.id, "role": role.code(), "capacity": capacity.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// (value, label) pairs for a select box.
pub type Choices = Vec<(String, String)>;

/// Everything the members' space shows apart from voices and actions.
pub struct Space {
    pub programme: ProgrammeAccess<Member>,
    pub partners: Vec<Partner>,
    pub activities: Vec<LinkedActivity>,
    /// The first [`MEMBERS_SHOWN`] members (the team first).
    pub members: Vec<MemberRow>,
    /// How many members there are in all.
    pub member_count: i64,
    /// The actor's own capacity, if a member.
    pub my_capacity: Option<String>,
    /// For managers: organisations and activities they could add.
    pub options: Option<(Choices, Choices)>,
}

/// The members' space of a programme.
pub async fn space(state: &AppState, actor: &Actor, id: &str) -> Result<Space, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let programme = ProgrammeAccess::<Member>::check(&mut conn, Some(actor), id).await?;
    let options = if programme.standing() == Standing::Manager {
        let m = ProgrammeAccess::<Manager>::check(&mut conn, Some(actor), id).await?;
        Some(manager_options(&mut conn, &m).await?)
    } else {
        None
    };
    let member_count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM programme_members WHERE programme_id = $1")
            .bind(programme.id.clone())
            .fetch_one(&mut *conn)
            .await?;
    let my_capacity: Option<String> = sqlx::query_scalar(
        "SELECT capacity FROM programme_members WHERE programme_id = $1 AND user_id = $2",
    )
    .bind(programme.id.clone())
    .bind(actor.user_id.clone())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Space {
        partners: partners(&mut conn, &programme).await?,
        activities: activities(&mut conn, &programme, false).await?,
        members: member_rows_where(&mut conn, &programme.id, "", Some(MEMBERS_SHOWN)).await?,
        member_count,
        my_capacity,
        programme,
        options,
    })
}

/// What the public page shows: the programme, its partners and active activities.
pub struct PublicPage {
    pub programme: ProgrammeAccess<Public>,
    pub partners: Vec<Partner>,
    pub activities: Vec<LinkedActivity>,
}

/// The public page of a programme (anyone).
pub async fn public_page(
    state: &AppState,
    actor: Option<&Actor>,
    id: &str,
) -> Result<PublicPage, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let programme = ProgrammeAccess::<Public>::check(&mut conn, actor, id).await?;
    Ok(PublicPage {
        partners: partners(&mut conn, &programme).await?,
        activities: activities(&mut conn, &programme, true).await?,
        programme,
    })
}

/// Find a programme by name (demo loader and tests).
pub async fn find_by_name(state: &AppState, name: &str) -> Result<Option<String>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM programmes WHERE lower(name) = lower($1)")
            .bind(name.to_string())
            .fetch_optional(&state.db.read)
            .await?,
    )
}

/// A programme by id, for the operator's command line (no actor: the operator holds the
/// database itself).
pub async fn load_as_operator(
    state: &AppState,
    id: &str,
) -> Result<Option<super::access::Programme>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{} WHERE p.id = $1",
        super::access::programme_select()
    )))
    .bind(id.to_string())
    .fetch_optional(&state.db.read)
    .await?;
    Ok(row
        .as_ref()
        .map(super::access::programme_from)
        .transpose()?)
}
