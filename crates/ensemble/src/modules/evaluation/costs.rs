//! Budgets and unit costs: a programme manager enters what a programme cost (budget lines,
//! each over dates and, where known, with the organisation that paid — whose commissioners
//! may then open the programme's controlled report), and an administrator enters the unit
//! cost of each kind of health-service use with its source and price year. Each change is
//! validated, written and audited in one transaction.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use time::Date;

use super::outcomes::UnitCost;
use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::{Actor, Granted, perm::ManageAccounts};
use crate::state::AppState;

/// Items of health-service use (the `service_use` instrument's scores) that may be costed.
pub const ITEMS: &[(&str, &str)] = &[
    ("gp_appointments", "GP appointment"),
    ("ae_attendances", "A&E attendance"),
    ("crisis_contacts", "Crisis contact"),
    ("hospital_nights", "Night in hospital"),
];

/// The largest amount a line or unit cost may be, in pounds.
pub const MAX_POUNDS: f64 = 1_000_000_000.0;

/// A budget line as read.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BudgetLine {
    pub id: String,
    pub description: String,
    pub pounds: f64,
    pub starts_on: String,
    pub ends_on: String,
    pub funder: Option<String>,
    #[serde(skip)]
    pub funder_id: Option<String>,
}

/// A budget line as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct BudgetInput {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub funder: String,
}

/// Pounds typed by a person ("£12,500.50", "12500"), to pence; a field error otherwise.
pub fn parse_pounds(value: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let t: String = value
        .trim()
        .trim_start_matches('£')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    if t.is_empty() {
        errors.push(FieldError::new(field, "Enter an amount in pounds"));
        return None;
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= MAX_POUNDS => {
            if (v * 100.0 - (v * 100.0).round()).abs() > 1e-6 {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "Enter the amount in pounds and pence, like 1250.50, not \"{}\"",
                        value.trim()
                    ),
                ));
                return None;
            }
            Some((v * 100.0).round() as i64)
        }
        Ok(_) => {
            errors.push(FieldError::new(
                field,
                "The amount must be more than £0 and at most £1,000,000,000",
            ));
            None
        }
        Err(_) => {
            errors.push(FieldError::new(
                field,
                format!(
                    "Enter the amount as a number of pounds, like 1250.50, not \"{}\"",
                    value.trim()
                ),
            ));
            None
        }
    }
}

/// A date typed by a person (YYYY-MM-DD); a field error naming the field and the value
/// otherwise. Empty is an error here; callers for which a date is optional skip empty values.
pub fn date_field(
    value: &str,
    field: &str,
    what: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Date> {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(
            field,
            format!("Enter the {what} as YYYY-MM-DD"),
        ));
        return None;
    }
    let d = crate::dates::parse_date(v);
    if d.is_none() {
        errors.push(FieldError::new(
            field,
            format!("Enter the {what} as a real date, YYYY-MM-DD, not \"{v}\""),
        ));
    }
    d
}

/// The programme's budget lines, oldest first.
pub async fn lines(state: &AppState, programme: &str) -> Result<Vec<BudgetLine>, AppError> {
    let rows = sqlx::query(
        "SELECT b.id, b.description, b.amount_pence, b.starts_on, b.ends_on, b.funder_organisation_id, o.name AS funder \
         FROM evaluation_budget_lines b LEFT JOIN accounts_organisation_profiles o ON o.id = b.funder_organisation_id \
         WHERE b.programme_id = $1 ORDER BY b.starts_on, b.id",
    )
    .bind(programme.to_string())
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(BudgetLine {
                id: r.try_get("id")?,
                description: r.try_get("description")?,
                pounds: r.try_get::<i64, _>("amount_pence")? as f64 / 100.0,
                starts_on: r.try_get("starts_on")?,
                ends_on: r.try_get("ends_on")?,
                funder: r.try_get("funder")?,
                funder_id: r.try_get("funder_organisation_id")?,
            })
        })
        .collect()
}

/// Organisations a budget line may name as the funder (active ones), by name.
pub async fn funder_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    let rows = sqlx::query(
        "SELECT id, name FROM accounts_organisation_profiles WHERE archived_at IS NULL ORDER BY name",
    )
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
}

/// Add a budget line; `manager` is proof the actor manages the programme.
pub async fn add_line(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &BudgetInput,
) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let description = input.description.trim().to_string();
    if description.is_empty() {
        errors.push(FieldError::new(
            "description",
            "Enter what the money paid for",
        ));
    } else if description.chars().count() > 200 {
        errors.push(FieldError::new(
            "description",
            "What the money paid for must be 200 characters or fewer",
        ));
    }
    let pence = parse_pounds(&input.amount, "amount", &mut errors);
    let starts = date_field(&input.starts_on, "starts_on", "first day", &mut errors);
    let ends = date_field(&input.ends_on, "ends_on", "last day", &mut errors);
    if let (Some(s), Some(e)) = (starts, ends)
        && e < s
    {
        errors.push(FieldError::new(
            "ends_on",
            format!("The last day ({e}) must be on or after the first day ({s})"),
        ));
    }
    let funder = input.funder.trim().to_string();
    let known: Option<String> = if funder.is_empty() {
        None
    } else {
        sqlx::query_scalar(
            "SELECT id FROM accounts_organisation_profiles WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(funder.clone())
        .fetch_optional(&state.db.read)
        .await?
    };
    if !funder.is_empty() && known.is_none() {
        errors.push(FieldError::new(
            "funder",
            format!("Choose a funder from the list; \"{funder}\" is not an organisation here"),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (Some(pence), Some(starts), Some(ends)) = (pence, starts, ends) else {
        return Err(AppError::BadRequest("invalid budget line".into()));
    };
    let mut tx = state.db.begin().await?;
    let access = super::access::manage(&mut tx, actor, programme).await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO evaluation_budget_lines (id, programme_id, funder_organisation_id, description, amount_pence, starts_on, ends_on, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.clone())
    .bind(access.id.clone())
    .bind((!funder.is_empty()).then_some(funder.clone()))
    .bind(description)
    .bind(pence)
    .bind(starts.to_string())
    .bind(ends.to_string())
    .bind(actor.user_id.clone())
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::by(
        &mut tx,
        actor,
        "evaluation.budget.add",
        "programme",
        Some(&access.id),
        json!({ "line": id, "pence": pence, "funded": !funder.is_empty() }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Remove a budget line of a programme the actor manages.
pub async fn remove_line(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    line: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let access = super::access::manage(&mut tx, actor, programme).await?;
    let n = sqlx::query("DELETE FROM evaluation_budget_lines WHERE id = $1 AND programme_id = $2")
        .bind(line.to_string())
        .bind(access.id.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::by(
        &mut tx,
        actor,
        "evaluation.budget.remove",
        "programme",
        Some(&access.id),
        json!({ "line": line }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every unit cost entered.
pub async fn unit_costs(state: &AppState) -> Result<Vec<UnitCost>, AppError> {
    let rows = sqlx::query(
        "SELECT item, cost_pence, source, price_year FROM evaluation_unit_costs ORDER BY item",
    )
    .fetch_all(&state.db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UnitCost {
                item: r.try_get("item")?,
                pounds: r.try_get::<i64, _>("cost_pence")? as f64 / 100.0,
                source: r.try_get("source")?,
                price_year: r.try_get("price_year")?,
            })
        })
        .collect()
}

/// A unit cost as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UnitCostInput {
    #[serde(default)]
    pub item: String,
    #[serde(default)]
    pub cost: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub price_year: String,
}

/// Set (or replace) the unit cost of one item; administrators only.
pub async fn set_unit_cost(
    state: &AppState,
    g: &Granted<ManageAccounts>,
    input: &UnitCostInput,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let item = input.item.trim();
    if !ITEMS.iter().any(|(c, _)| *c == item) {
        errors.push(FieldError::new(
            "item",
            format!("Choose what is being costed from the list, not \"{item}\""),
        ));
    }
    let pence = parse_pounds(&input.cost, "cost", &mut errors);
    let source = input.source.trim().to_string();
    if source.is_empty() {
        errors.push(FieldError::new(
            "source",
            "Enter where the cost comes from (for example the PSSRU Unit Costs of Health and Social Care, with its table)",
        ));
    } else if source.chars().count() > 300 {
        errors.push(FieldError::new(
            "source",
            "The source must be 300 characters or fewer",
        ));
    }
    let year = match input.price_year.trim().parse::<i64>() {
        Ok(y) if (2000..=2100).contains(&y) => Some(y),
        _ => {
            errors.push(FieldError::new(
                "price_year",
                format!(
                    "Enter the price year as four digits between 2000 and 2100, not \"{}\"",
                    input.price_year.trim()
                ),
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (Some(pence), Some(year)) = (pence, year) else {
        return Err(AppError::BadRequest("invalid unit cost".into()));
    };
    let actor = g.actor();
    let mut tx = state.db.begin().await?;
    sqlx::query("DELETE FROM evaluation_unit_costs WHERE item = $1")
        .bind(item.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO evaluation_unit_costs (item, cost_pence, source, price_year, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(item.to_string())
    .bind(pence)
    .bind(source.clone())
    .bind(year)
    .bind(actor.user_id.clone())
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::by(
        &mut tx,
        actor,
        "evaluation.unit_cost.set",
        "unit_cost",
        Some(item),
        json!({ "pence": pence, "price_year": year }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
