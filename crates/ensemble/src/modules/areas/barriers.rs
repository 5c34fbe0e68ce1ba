//! Barriers to taking part (issue 16 item 5): the barriers link workers record on a case
//! (at referral or first contact, when the person declined, when they stopped coming, or at
//! review), analysed by when they were raised, by the national deprivation decile of where
//! the person lives, and by activity, with what was done about each and whether the person
//! then attended.
//!
//! The same rules as reach ([`super::reach`]): the same filters (edition, district, activity,
//! organisation, programme); only people who have currently given consent for evaluation and
//! live in the area served are counted, placed by [`super::residents`]; every table is protected as a whole by
//! `ensemble_stats::protect_table` (primary suppression of 1–7, rounding to 5, secondary
//! suppression against the totals), and shares are computed from published counts only.
//!
//! "Then attended" means the referral has a session marked present on or after the day
//! (UK time) the barrier was recorded.

use std::collections::{BTreeMap, HashMap};

use ensemble_stats::proportion::{Proportion, wilson};
use ensemble_stats::{DisclosurePolicy, ProtectedTable, Published, protect_table};
use sqlx::Row;

use super::reach::{self, Filters, ReachQuery};
use super::residents;
use crate::code::code_enum;
use crate::db::{Bind, bind_all};
use crate::error::{AppError, FieldError};
use crate::modules::referrals::model::{ACTIONS, BARRIERS, BarrierStage, label};
use crate::rbac::Granted;
use crate::rbac::perm::ViewAreaAggregates;
use crate::state::AppState;

code_enum!(
    /// What the second table breaks barriers down by.
    By {
        Decile => ("decile", "deprivation decile"),
        Activity => ("activity", "activity"),
    }
);

/// The filters as typed (query string of the page, the CSV and the API).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BarriersQuery {
    /// 2019 or 2025 (default: the installation's edition).
    pub edition: Option<String>,
    /// A district code (default: the whole Liverpool City Region).
    pub district: Option<String>,
    /// Only barriers on referrals to this activity (id).
    pub activity: Option<String>,
    /// Only barriers on referrals to activities of this organisation (id).
    pub organisation: Option<String>,
    /// Only barriers on referrals to activities of this programme (id).
    pub programme: Option<String>,
    /// Break barriers down by `decile` (default) or `activity`.
    pub by: Option<String>,
}

/// What was done about one barrier, and whether people then attended.
#[derive(Debug, Clone)]
pub struct ActionRow {
    pub barrier: &'static str,
    pub action: &'static str,
    /// Barriers recorded with this action (the row total).
    pub recorded: Published,
    /// Of those, how many were followed by a session attended.
    pub attended: Published,
    /// The share that then attended, with its Wilson 95% interval, from published counts.
    pub share: Option<Proportion>,
}

/// The analysis.
#[derive(Debug, Clone)]
pub struct Barriers {
    pub filters: Filters,
    pub by: By,
    /// "Liverpool City Region" or the district's name.
    pub area: String,
    /// Row labels of the first two tables: every barrier on the fixed list.
    pub barriers: Vec<&'static str>,
    /// Barrier × when it was raised ([`BarrierStage::ALL`] order).
    pub stages: ProtectedTable,
    /// Column labels of [`Self::by_table`].
    pub groups: Vec<String>,
    /// Barrier × decile (1..=10) or × activity.
    pub by_table: ProtectedTable,
    /// Barrier and action pairs that were recorded, most recorded first.
    pub actions: Vec<ActionRow>,
    /// Barriers of consenting people with no known small area in the area served.
    pub elsewhere: Published,
}

/// One barrier record as read.
struct Record {
    person: String,
    activity: Option<String>,
    barrier: String,
    action: String,
    stage: BarrierStage,
    attended_after: bool,
}

/// Check the filters (the reach rules, plus `by`); every error names the field and value.
pub async fn check(state: &AppState, q: &BarriersQuery) -> Result<(Filters, By), AppError> {
    let rq = ReachQuery {
        edition: q.edition.clone(),
        district: q.district.clone(),
        activity: q.activity.clone(),
        organisation: q.organisation.clone(),
        programme: q.programme.clone(),
        by: None,
    };
    let by = q.by.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let parsed = by.map(|b| {
        By::from_code(b).ok_or_else(|| {
            FieldError::new(
                "by",
                format!("Break barriers down by decile or activity, not \"{b}\"."),
            )
        })
    });
    match (reach::check(state, &rq).await, parsed) {
        (Ok(f), None) => Ok((f, By::Decile)),
        (Ok(f), Some(Ok(b))) => Ok((f, b)),
        (Ok(_), Some(Err(e))) => Err(AppError::Invalid(vec![e])),
        (Err(AppError::Invalid(mut errors)), Some(Err(e))) => {
            errors.push(e);
            Err(AppError::Invalid(errors))
        }
        (Err(e), _) => Err(e),
    }
}

async fn records(state: &AppState, f: &Filters) -> Result<Vec<Record>, AppError> {
    let mut sql = String::from(
        "SELECT r.person_id, r.activity_id, b.barrier, b.action, b.stage, b.created_at, \
         (SELECT MAX(m.session_date) FROM referrals_attendance_marks m WHERE m.referral_id = r.id AND m.status = 'present') AS last_present \
         FROM referrals_barrier_actions b JOIN referrals_case_summaries r ON r.id = b.referral_id WHERE 1 = 1",
    );
    let mut binds = Vec::new();
    let mut add = |clause: &str, v: &Option<String>, binds: &mut Vec<Bind>| {
        if let Some(v) = v {
            binds.push(Bind::T(v.clone()));
            sql.push_str(&clause.replace("$n", &format!("${}", binds.len())));
        }
    };
    add(" AND r.activity_id = $n", &f.activity, &mut binds);
    add(
        " AND r.activity_id IN (SELECT id FROM directory_activity_names WHERE organisation_id = $n)",
        &f.organisation,
        &mut binds,
    );
    add(
        " AND r.activity_id IN (SELECT activity_id FROM programmes_activity_links WHERE programme_id = $n)",
        &f.programme,
        &mut binds,
    );
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
        .fetch_all(&state.db.read)
        .await?;
    rows.iter()
        .map(|r| {
            let at: i64 = r.try_get("created_at")?;
            let day = crate::db::uk::local(at).date().to_string();
            let last: Option<String> = r.try_get("last_present")?;
            Ok(Record {
                person: r.try_get("person_id")?,
                activity: r.try_get("activity_id")?,
                barrier: r.try_get("barrier")?,
                action: r.try_get("action")?,
                stage: BarrierStage::decode(&r.try_get::<String, _>("stage")?)?,
                attended_after: last.is_some_and(|d| d >= day),
            })
        })
        .collect()
}

async fn activity_names(state: &AppState) -> Result<HashMap<String, String>, AppError> {
    sqlx::query("SELECT id, name FROM directory_activity_names")
        .fetch_all(&state.db.read)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
}

/// The barrier analysis for the filters; only for roles allowed aggregates (the proof).
pub async fn barriers(
    state: &AppState,
    _g: &Granted<ViewAreaAggregates>,
    f: Filters,
    by: By,
) -> Result<Barriers, AppError> {
    let policy = DisclosurePolicy::default();
    let served = residents::served(state, f.edition, f.district.as_deref()).await?;
    let facts = residents::resolve(state, f.edition, &served).await?;
    let names = activity_names(state).await?;
    let row_of = |code: &str| BARRIERS.iter().position(|(c, _)| *c == code);
    let mut stages = vec![vec![0_u64; BarrierStage::ALL.len()]; BARRIERS.len()];
    let mut by_counts: BTreeMap<(usize, String), u64> = BTreeMap::new();
    let mut deciles = vec![vec![0_u64; 10]; BARRIERS.len()];
    let mut pairs: BTreeMap<(usize, String), [u64; 2]> = BTreeMap::new();
    let mut elsewhere = 0_u64;
    for r in records(state, &f).await? {
        let Some(fact) = facts.get(&r.person) else {
            continue; // no consent for evaluation, or the record is gone
        };
        let Some((decile, _)) = fact.lsoa.as_ref().and_then(|l| served.get(l)) else {
            elsewhere += 1;
            continue;
        };
        let Some(i) = row_of(&r.barrier) else {
            continue;
        };
        let s = BarrierStage::ALL
            .iter()
            .position(|x| *x == r.stage)
            .unwrap_or(0);
        stages[i][s] += 1;
        deciles[i][(*decile).clamp(1, 10) as usize - 1] += 1;
        let activity = r
            .activity
            .as_ref()
            .and_then(|a| names.get(a).cloned())
            .unwrap_or_else(|| "No activity yet".to_string());
        *by_counts.entry((i, activity)).or_default() += 1;
        pairs.entry((i, r.action)).or_default()[usize::from(!r.attended_after)] += 1;
    }
    let (groups, by_cells) = match by {
        By::Decile => ((1..=10).map(|d| d.to_string()).collect(), deciles),
        By::Activity => {
            let mut labels: Vec<String> = by_counts.keys().map(|k| k.1.clone()).collect();
            labels.sort();
            labels.dedup();
            let cells = (0..BARRIERS.len())
                .map(|i| {
                    labels
                        .iter()
                        .map(|l| by_counts.get(&(i, l.clone())).copied().unwrap_or(0))
                        .collect()
                })
                .collect();
            (labels, cells)
        }
    };
    let mut pair_rows: Vec<((usize, String), [u64; 2])> = pairs.into_iter().collect();
    pair_rows.sort_by(|a, b| {
        let (ta, tb) = (a.1[0] + a.1[1], b.1[0] + b.1[1]);
        tb.cmp(&ta).then(a.0.cmp(&b.0))
    });
    let pair_table = protect_table(
        &pair_rows
            .iter()
            .map(|(_, c)| c.to_vec())
            .collect::<Vec<_>>(),
        policy,
    );
    let actions = pair_rows
        .iter()
        .enumerate()
        .map(|(k, ((i, action), _))| {
            let recorded = pair_table.row_totals[k];
            let attended = pair_table.cells[k][0];
            let share = match (attended, recorded) {
                (Published::Value(a), Published::Value(n)) if n > 0 => {
                    wilson(a.min(n) as usize, n as usize).ok()
                }
                _ => None,
            };
            ActionRow {
                barrier: BARRIERS[*i].1,
                action: label(ACTIONS, action),
                recorded,
                attended,
                share,
            }
        })
        .collect();
    let area = match &f.district {
        None => "Liverpool City Region".to_string(),
        Some(d) => reach::district_name(state, f.edition, d).await?,
    };
    Ok(Barriers {
        filters: f,
        by,
        area,
        barriers: BARRIERS.iter().map(|(_, l)| *l).collect(),
        stages: protect_table(&stages, policy),
        groups,
        by_table: protect_table(&by_cells, policy),
        actions,
        elsewhere: ensemble_stats::disclose(elsewhere, policy),
    })
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn out(p: Published) -> String {
    match p {
        Published::Value(v) => v.to_string(),
        Published::Suppressed => "suppressed".into(),
    }
}

/// Every table in one long CSV: `table,barrier,column,value` (published figures only).
pub fn csv(b: &Barriers) -> String {
    let mut s = String::from("edition,area,table,barrier,column,value\n");
    let head = format!("{},{}", b.filters.edition.year(), field(&b.area));
    let mut line = |table: &str, barrier: &str, column: &str, value: String| {
        s.push_str(&format!(
            "{head},{table},{},{},{value}\n",
            field(barrier),
            field(column)
        ));
    };
    for (i, name) in b.barriers.iter().enumerate() {
        for (j, st) in BarrierStage::ALL.iter().enumerate() {
            line("stage", name, st.code(), out(b.stages.cells[i][j]));
        }
        line("stage", name, "all", out(b.stages.row_totals[i]));
    }
    let table = format!("by_{}", b.by.code());
    for (i, name) in b.barriers.iter().enumerate() {
        for (j, g) in b.groups.iter().enumerate() {
            line(&table, name, g, out(b.by_table.cells[i][j]));
        }
    }
    for a in &b.actions {
        let key = format!("{}: {}", a.barrier, a.action);
        line("action", &key, "recorded", out(a.recorded));
        line("action", &key, "then_attended", out(a.attended));
    }
    line("elsewhere", "all", "recorded", out(b.elsewhere));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(field("Cost"), "Cost");
        assert_eq!(field("Timing, place"), "\"Timing, place\"");
        assert_eq!(field("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(out(Published::Suppressed), "suppressed");
        assert_eq!(out(Published::Value(10)), "10");
    }
}
