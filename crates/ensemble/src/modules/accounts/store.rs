//! SQL for organisations, accounts, memberships and invitations. The module's service
//! calls most of these; the functions under "Named reads for other modules" are how other
//! modules learn about accounts (addresses to email, a participant by address, the teams),
//! instead of querying `users`, `memberships` or `organisations` themselves.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rbac::Role;

use super::model::{Membership, OrgKind, Organisation, UserSummary};

const ORG_COLUMNS: &str =
    "id, name, kind, borough, ods_code, website, description, created_at, archived_at";
const USER_COLUMNS: &str =
    "id, email, display_name, disabled_at, totp_enabled_at, created_at, locked_until";

pub(super) fn org_from(r: &AnyRow) -> Result<Organisation, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(Organisation {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: OrgKind::from_code(&kind).unwrap_or(OrgKind::CommunityGroup),
        borough: r.try_get("borough")?,
        ods_code: r.try_get("ods_code")?,
        website: r.try_get("website")?,
        description: r.try_get("description")?,
        created_at: r.try_get("created_at")?,
        archived_at: r.try_get("archived_at")?,
    })
}

pub(super) fn user_from(r: &AnyRow) -> Result<UserSummary, sqlx::Error> {
    let totp: Option<i64> = r.try_get("totp_enabled_at")?;
    Ok(UserSummary {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        display_name: r.try_get("display_name")?,
        disabled_at: r.try_get("disabled_at")?,
        mfa_enabled: totp.is_some(),
        created_at: r.try_get("created_at")?,
        locked_until: r.try_get("locked_until")?,
    })
}

/// Organisations, optionally including archived ones, by name.
pub async fn organisations<'e, E>(
    exec: E,
    include_archived: bool,
) -> Result<Vec<Organisation>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {ORG_COLUMNS} FROM organisations {} ORDER BY lower(name)",
        if include_archived {
            ""
        } else {
            "WHERE archived_at IS NULL"
        }
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(exec)
        .await?
        .iter()
        .map(org_from)
        .collect()
}

/// One organisation.
pub async fn organisation<'e, E>(exec: E, id: &str) -> Result<Option<Organisation>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(org_from)
        .transpose()
}

/// Accounts whose name or email contains `q` (all when empty), by name.
pub async fn users<'e, E>(
    exec: E,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<UserSummary>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE ($1 = '' OR lower(email) LIKE $2 OR lower(display_name) LIKE $2) \
         ORDER BY lower(display_name), email LIMIT $3 OFFSET $4"
    );
    let q = q.trim().to_lowercase();
    let like = format!("%{}%", q.replace('%', "\\%").replace('_', "\\_"));
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(q)
        .bind(like)
        .bind(limit)
        .bind(offset)
        .fetch_all(exec)
        .await?
        .iter()
        .map(user_from)
        .collect()
}

/// One account.
pub async fn user<'e, E>(exec: E, id: &str) -> Result<Option<UserSummary>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// An account by email.
pub async fn user_by_email<'e, E>(exec: E, email: &str) -> Result<Option<UserSummary>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email.to_string())
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// An enabled account by email, ignoring case and surrounding spaces (for naming a lead, a
/// supervisor or an assessor).
pub async fn active_user_by_email<'e, E>(
    exec: E,
    email: &str,
) -> Result<Option<UserSummary>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1) AND disabled_at IS NULL"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email.trim().to_string())
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// Memberships of an account or of an organisation.
pub async fn memberships<'e, E>(
    exec: E,
    user_id: Option<&str>,
    organisation_id: Option<&str>,
) -> Result<Vec<Membership>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT m.id, m.user_id, u.display_name, m.organisation_id, o.name, m.role \
         FROM memberships m JOIN users u ON u.id = m.user_id JOIN organisations o ON o.id = m.organisation_id \
         WHERE ($1 = '' OR m.user_id = $1) AND ($2 = '' OR m.organisation_id = $2) \
         ORDER BY o.name, u.display_name, m.role",
    )
    .bind(user_id.unwrap_or("").to_string())
    .bind(organisation_id.unwrap_or("").to_string())
    .fetch_all(exec)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let role: String = r.try_get("role")?;
        let Some(role) = Role::from_code(&role) else {
            continue;
        };
        out.push(Membership {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            user_name: r.try_get("display_name")?,
            organisation_id: r.try_get("organisation_id")?,
            organisation_name: r.try_get("name")?,
            role,
        });
    }
    Ok(out)
}

pub use crate::api::tokens::{TokenRow, list as tokens};

// ---- Named reads for other modules ----

fn strings(rows: Vec<AnyRow>, col: &str) -> Result<Vec<String>, sqlx::Error> {
    rows.iter().map(|r| r.try_get(col)).collect()
}

/// Email addresses of the enabled accounts holding `role` in an organisation, sorted.
pub async fn emails_with_role(
    conn: &mut sqlx::AnyConnection,
    organisation_id: &str,
    role: Role,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 AND m.role = $2 AND u.disabled_at IS NULL ORDER BY u.email",
    )
    .bind(organisation_id.to_string())
    .bind(role.code())
    .fetch_all(&mut *conn)
    .await?;
    strings(rows, "email")
}

/// Email addresses of those of these accounts that are enabled, sorted.
pub async fn enabled_emails(
    conn: &mut sqlx::AnyConnection,
    user_ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = (1..=user_ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT email FROM users WHERE id IN ({marks}) AND disabled_at IS NULL"
    )));
    for id in user_ids {
        q = q.bind(id.clone());
    }
    let mut out = strings(q.fetch_all(&mut *conn).await?, "email")?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// The enabled account with the participant role that has this email address.
pub async fn participant_by_email(
    conn: &mut sqlx::AnyConnection,
    email: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query(
        "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE u.email = $1 AND u.disabled_at IS NULL AND m.role = 'participant' LIMIT 1",
    )
    .bind(email.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()
}

/// Organisations that are not archived and have at least one member with `role`, by name:
/// (id, name).
pub async fn organisations_with_role(
    conn: &mut sqlx::AnyConnection,
    role: Role,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT DISTINCT o.id, o.name FROM organisations o JOIN memberships m ON m.organisation_id = o.id \
         WHERE m.role = $1 AND o.archived_at IS NULL ORDER BY o.name",
    )
    .bind(role.code())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
    .collect()
}

/// Organisations with this role whose borough is `borough` (compared without regard to
/// case or surrounding spaces), by name: the teams that cover a local authority district.
pub async fn organisations_with_role_in(
    conn: &mut sqlx::AnyConnection,
    role: Role,
    borough: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "SELECT DISTINCT o.id, o.name FROM organisations o JOIN memberships m ON m.organisation_id = o.id \
         WHERE m.role = $1 AND o.archived_at IS NULL AND LOWER(TRIM(o.borough)) = LOWER($2) ORDER BY o.name",
    )
    .bind(role.code())
    .bind(borough.trim().to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect()
}

/// The enabled accounts holding any of these roles somewhere: (id, email, display name), each
/// once.
pub async fn enabled_users_with_roles(
    conn: &mut sqlx::AnyConnection,
    roles: &[Role],
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let marks = (1..=roles.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT u.id, u.email, u.display_name FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE u.disabled_at IS NULL AND m.role IN ({marks})"
    )));
    for r in roles {
        q = q.bind(r.code());
    }
    q.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("email")?,
                r.try_get("display_name")?,
            ))
        })
        .collect()
}

/// The email address of each of these accounts that is enabled, by account id.
pub async fn enabled_emails_by_id(
    conn: &mut sqlx::AnyConnection,
    user_ids: &[String],
) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    let mut out = std::collections::HashMap::new();
    for chunk in user_ids.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, email FROM users WHERE id IN ({marks}) AND disabled_at IS NULL"
        )));
        for id in chunk {
            q = q.bind(id.clone());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.insert(r.try_get("id")?, r.try_get("email")?);
        }
    }
    Ok(out)
}

/// What the out-of-hours safeguarding route says when an organisation has not set its own.
pub const DEFAULT_OUT_OF_HOURS: &str = "If someone is in immediate danger, call 999. Out of hours, call the local authority's out-of-hours social care (emergency duty) team: the number is on the council's website. For urgent medical help that is not an emergency, call NHS 111.";

/// An organisation's out-of-hours safeguarding route as set, blank when never set (the
/// named read behind the incident confirmation; `None` for an unknown organisation).
pub async fn out_of_hours_route<'e, E>(
    exec: E,
    organisation_id: &str,
) -> Result<Option<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar("SELECT out_of_hours_route FROM organisations WHERE id = $1")
        .bind(organisation_id.to_string())
        .fetch_optional(exec)
        .await
}

/// The route to show: as set, or the default wording.
pub async fn out_of_hours_or_default<'e, E>(
    exec: E,
    organisation_id: &str,
) -> Result<String, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(out_of_hours_route(exec, organisation_id)
        .await?
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_OUT_OF_HOURS.to_string()))
}

/// Accounts' display names by id (for the audit trail's sentences and "who viewed this
/// record"). Unknown ids are left out.
pub async fn user_display_names<'e, E>(
    exec: E,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut ids: Vec<&String> = ids.iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let marks = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("SELECT id, display_name FROM users WHERE id IN ({marks})");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.clone());
    }
    q.fetch_all(exec)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("display_name")?)))
        .collect()
}
