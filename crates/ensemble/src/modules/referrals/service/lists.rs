//! Lists of referrals: the caseload, referrals sent, and the person's own plans.

#[allow(unused_imports)]
use super::*;
use crate::audit::{self};
use crate::db::{Tx, now};
use crate::error::{AppError, FieldError};
use crate::modules::people::service::{self as people};
use crate::modules::referrals::model::ProviderStatus;
use crate::modules::referrals::model::Status;
use crate::rbac::{Actor, Role};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

/// A row in a list of referrals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseRow {
    /// Referral id.
    pub id: String,
    /// Name to show (preferred name and family name).
    pub name: String,
    /// The person (for looking up the name; not shown).
    #[serde(skip)]
    pub person_id: String,
    /// Status.
    pub status: Status,
    /// Assigned link worker.
    pub assigned_name: Option<String>,
    /// Activity.
    pub activity_name: Option<String>,
    /// Provider answer.
    pub provider_status: Option<String>,
    /// Received.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Open tasks past their due time.
    pub overdue_tasks: i64,
    /// Earliest open task due.
    pub next_due: Option<i64>,
}

/// Caseload filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CaseloadQuery {
    /// `mine` (default), `team`, `unassigned`.
    pub show: String,
    /// `open` (default), `all`, `closed`, or a status code.
    pub status: String,
    /// Page from 1.
    pub page: Option<i64>,
}

/// Rows per caseload page.
pub const PAGE: i64 = 50;

/// Run a [`LIST_SELECT`] query (with `$1` = now and `binds` from `$2`) and return its rows
/// as one JSON document: the page travels from the database in a single row instead of one
/// message per row, which matters while the single SQLite writer holds the audit
/// transaction. The order is not kept; callers sort.
/// Fill in the names of a list's people (preferred or given name and family name) from
/// `people`, on a read connection, after the audited transaction has committed, so the
/// single SQLite writer is not held while they are read.
pub(super) async fn fill_names(state: &AppState, rows: &mut [CaseRow]) -> Result<(), AppError> {
    let ids: Vec<String> = rows.iter().map(|r| r.person_id.clone()).collect();
    let mut conn = state.db.read.acquire().await?;
    let names = crate::modules::people::service::display_names(&mut conn, &ids).await?;
    for r in rows {
        r.name = names
            .get(&r.person_id)
            .map(|n| n.full.clone())
            .unwrap_or_default();
    }
    Ok(())
}

pub(super) async fn fetch_case_rows(
    tx: &mut Tx,
    backend: crate::db::Backend,
    inner: &str,
    binds: &[String],
) -> Result<Vec<CaseRow>, AppError> {
    const COLS: &str = "x.id, x.status, x.provider_status, x.created_at, x.updated_at, x.person_id, \
        x.assigned_name, x.activity_name, x.overdue, x.next_due";
    let sql = match backend {
        crate::db::Backend::Sqlite => {
            format!("SELECT json_group_array(json_array({COLS})) AS j FROM ({inner}) x")
        }
        crate::db::Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({COLS}))::text, '[]') AS j FROM ({inner}) x"
        ),
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now());
    for b in binds {
        q = q.bind(b.clone());
    }
    let text: String = q.fetch_one(&mut **tx).await?.try_get("j")?;
    let rows: Vec<Vec<serde_json::Value>> =
        serde_json::from_str(&text).map_err(|e| AppError::Internal(e.into()))?;
    let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let i = |v: &serde_json::Value| v.as_i64();
    if let Some(r) = rows.iter().find(|r| r.len() != 10) {
        return Err(AppError::Internal(anyhow::anyhow!(
            "caseload row has {} columns",
            r.len()
        )));
    }
    Ok(rows
        .iter()
        .map(|r| CaseRow {
            id: s(&r[0]).unwrap_or_default(),
            person_id: s(&r[5]).unwrap_or_default(),
            name: String::new(),
            status: s(&r[1])
                .as_deref()
                .and_then(Status::from_code)
                .unwrap_or(Status::Received),
            provider_status: s(&r[2]),
            created_at: i(&r[3]).unwrap_or_default(),
            updated_at: i(&r[4]).unwrap_or_default(),
            assigned_name: s(&r[6]),
            activity_name: s(&r[7]),
            overdue_tasks: i(&r[8]).unwrap_or_default(),
            next_due: i(&r[9]),
        })
        .collect())
}

pub(super) const LIST_SELECT: &str = "SELECT r.id, r.status, r.provider_status, r.created_at, r.updated_at, r.person_id, \
    au.display_name AS assigned_name, a.name AS activity_name, \
    (SELECT COUNT(*) FROM referral_tasks k WHERE k.referral_id = r.id AND k.done_at IS NULL AND k.due_at < $1) AS overdue, \
    (SELECT MIN(k.due_at) FROM referral_tasks k WHERE k.referral_id = r.id AND k.done_at IS NULL) AS next_due \
    FROM referrals r LEFT JOIN accounts_user_names au ON au.id = r.assigned_to \
    LEFT JOIN directory_activity_names a ON a.id = r.activity_id";

/// A link worker's caseload (their own, their team's, or unassigned), one page at a time;
/// the read of names is audited.
pub async fn caseload(
    state: &AppState,
    actor: &Actor,
    q: &CaseloadQuery,
) -> Result<(Vec<CaseRow>, bool), AppError> {
    let teams: Vec<String> = actor
        .memberships
        .iter()
        .filter(|m| m.2 == Role::LinkWorker)
        .map(|m| m.0.clone())
        .collect();
    if teams.is_empty() {
        return Err(AppError::Forbidden);
    }
    let page = q.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "page",
            "The page must be between 1 and 100000",
        )]));
    }
    let mut binds: Vec<String> = vec![];
    // The page of ids is chosen first (walking an index in update order), so the per-row
    // task counts are computed for one page only.
    let mut sql =
        "WITH page AS (SELECT r.id FROM referrals r WHERE r.team_organisation_id IN (".to_string();
    for (i, t) in teams.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("${}", i + 2));
        binds.push(t.clone());
    }
    sql.push(')');
    let mut next = binds.len() + 2;
    match q.show.as_str() {
        "" | "mine" => {
            sql.push_str(&format!(" AND r.assigned_to = ${next}"));
            binds.push(actor.user_id.clone());
            next += 1;
        }
        "team" => {}
        "unassigned" => sql.push_str(" AND r.assigned_to IS NULL"),
        _ => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "show",
                "Show must be mine, team or unassigned",
            )]));
        }
    }
    match q.status.as_str() {
        "" | "open" => sql.push_str(
            " AND r.status NOT IN ('closed', 'declined', 'not_reached', 'did_not_attend')",
        ),
        "all" => {}
        "closed" => {
            sql.push_str(" AND r.status IN ('closed', 'declined', 'not_reached', 'did_not_attend')")
        }
        s => {
            let Some(st) = Status::from_code(s) else {
                return Err(AppError::Invalid(vec![FieldError::new(
                    "status",
                    "Choose a status from the list",
                )]));
            };
            sql.push_str(&format!(" AND r.status = ${next}"));
            binds.push(st.code().to_string());
        }
    }
    sql.push_str(&format!(
        " ORDER BY r.updated_at DESC, r.id DESC LIMIT {} OFFSET {}) {LIST_SELECT} JOIN page ON page.id = r.id \
         ORDER BY r.updated_at DESC, r.id DESC",
        PAGE + 1,
        (page - 1) * PAGE
    ));
    let mut tx = state.db.begin().await?;
    let mut list = fetch_case_rows(&mut tx, state.db.backend, &sql, &binds).await?;
    list.sort_by(|a, b| {
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    let more = list.len() as i64 > PAGE;
    list.truncate(PAGE as usize);
    audit::by(
        &mut tx,
        actor,
        "caseload.view",
        "referral",
        None,
        json!({ "show": q.show, "status": q.status, "page": page, "rows": list.len() }),
    )
    .await?;
    tx.commit().await?;
    fill_names(state, &mut list).await?;
    Ok((list, more))
}

/// How many new referrals the caseload's first view lists before "see all".
pub const NEW_SHOWN: usize = 10;

/// The caseload's first view: the open referrals to the actor's teams that nobody has taken
/// on yet (newest change first, up to [`NEW_SHOWN`], and whether there are more), beside
/// the first page of the actor's own open referrals (and whether there is another page).
#[derive(Debug, Clone, Default)]
pub struct CaseloadStart {
    pub new: Vec<CaseRow>,
    pub more_new: bool,
    pub mine: Vec<CaseRow>,
    pub more_mine: bool,
}

/// The caseload as a link worker first sees it: new unassigned referrals beside their own.
/// Each list is read (and audited) as the filtered caseload would be.
pub async fn caseload_start(state: &AppState, actor: &Actor) -> Result<CaseloadStart, AppError> {
    let unassigned = CaseloadQuery {
        show: "unassigned".into(),
        status: "open".into(),
        page: None,
    };
    let (mut new, more) = caseload(state, actor, &unassigned).await?;
    let more_new = more || new.len() > NEW_SHOWN;
    new.truncate(NEW_SHOWN);
    let mine = CaseloadQuery {
        show: "mine".into(),
        status: "open".into(),
        page: None,
    };
    let (mine, more_mine) = caseload(state, actor, &mine).await?;
    Ok(CaseloadStart {
        new,
        more_new,
        mine,
        more_mine,
    })
}

/// Referrals the actor made (any staff role); audited.
pub async fn sent(state: &AppState, actor: &Actor) -> Result<Vec<CaseRow>, AppError> {
    let mut tx = state.db.begin().await?;
    let inner = format!(
        "WITH page AS (SELECT id FROM referrals WHERE referrer_user_id = $2 ORDER BY created_at DESC, id DESC LIMIT 200) \
         {LIST_SELECT} JOIN page ON page.id = r.id"
    );
    let mut list = fetch_case_rows(
        &mut tx,
        state.db.backend,
        &inner,
        std::slice::from_ref(&actor.user_id),
    )
    .await?;
    list.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    // Without the person's agreement to share with their GP and referrer, the referrer
    // sees the status only: not the activity or the provider's answer.
    let shared: std::collections::HashSet<String> = sqlx::query(
        "SELECT r.id FROM referrals r JOIN people_current_consents c ON c.person_id = r.person_id \
         WHERE r.referrer_user_id = $1 AND c.purpose = 'share_gp' AND c.decision = 'given'",
    )
    .bind(actor.user_id.clone())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    for c in list.iter_mut().filter(|c| !shared.contains(&c.id)) {
        c.activity_name = None;
        c.provider_status = None;
    }
    audit::by(
        &mut tx,
        actor,
        "referrals.sent.view",
        "referral",
        None,
        json!({ "rows": list.len() }),
    )
    .await?;
    tx.commit().await?;
    fill_names(state, &mut list).await?;
    Ok(list)
}

/// The person's own plans (participants signed in with an account linked to a record).
#[derive(Debug, Clone, Serialize)]
pub struct OwnPlan {
    /// Referral id.
    pub referral_id: String,
    /// Person id.
    pub person_id: String,
    /// Status.
    pub status: Status,
    /// Plan.
    pub plan: Option<Plan>,
    /// Activity.
    pub activity_name: Option<String>,
    /// Activity id.
    pub activity_id: Option<String>,
    /// Link worker.
    pub link_worker: Option<String>,
    /// Team.
    pub team_name: String,
    /// The person's latest wellbeing scores.
    pub scores: Vec<crate::modules::measures::service::LatestScore>,
}

/// Plans for the signed-in person; audited.
pub async fn own_plans(
    state: &AppState,
    actor: &Actor,
) -> Result<(Vec<OwnPlan>, Vec<people::CurrentConsent>), AppError> {
    let mut tx = state.db.begin().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE p.user_id = $1 ORDER BY r.created_at DESC"
    )))
    .bind(actor.user_id.clone())
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::new();
    let mut consents = Vec::new();
    for row in &rows {
        let r = themselves(actor, from_row(row)?)?;
        if consents.is_empty() {
            consents = people::consents(&mut *tx, &r.person_id).await?;
        }
        let scores = crate::modules::measures::service::latest_scores(&mut tx, &r).await?;
        let r = r.into_referral();
        out.push(OwnPlan {
            plan: plan(&mut *tx, &r.id).await?,
            scores,
            referral_id: r.id,
            person_id: r.person_id,
            status: r.status,
            activity_name: r
                .activity_name
                .filter(|_| r.provider_status != Some(ProviderStatus::Declined)),
            activity_id: r.activity_id,
            link_worker: r.assigned_name,
            team_name: r.team_name,
        });
    }
    audit::by(
        &mut tx,
        actor,
        "plan.own.view",
        "person",
        None,
        json!({ "plans": out.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok((out, consents))
}
