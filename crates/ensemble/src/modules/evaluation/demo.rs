//! Demo evaluation settings: the demo programme's budget (one line paid by the demo combined
//! authority, so its commissioner may open the controlled report) and unit costs of
//! health-service use, clearly marked as demo figures.

use crate::error::AppError;
use crate::modules::programmes::demo::NAME;
use crate::modules::referrals::demo::actor;
use crate::rbac::Granted;
use crate::state::AppState;

use super::costs::{self, BudgetInput, UnitCostInput};

/// Load the demo budget and unit costs.
pub async fn load(state: &AppState) -> Result<(), AppError> {
    let (Some(pat), Some(admin), Some(programme)) = (
        actor(state, "pat.programmes@ensemble-demo.example").await?,
        actor(state, "ash.admin@ensemble-demo.example").await?,
        crate::modules::programmes::service::find_by_name(state, NAME).await?,
    ) else {
        return Ok(());
    };
    let funders = costs::funder_options(state).await?;
    let org = |name: &str| {
        funders
            .iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    };
    let year = crate::db::uk::today().year();
    for (description, amount, funder) in [
        (
            "Healthcare musicians, instruments and room hire (demo figure)",
            "42000",
            "City Region Combined Authority (demo)",
        ),
        (
            "Evaluation partnership with the university (demo figure)",
            "6500",
            "Mersey Minds NHS Foundation Trust (demo)",
        ),
    ] {
        costs::add_line(
            state,
            &pat,
            &programme,
            &BudgetInput {
                description: description.into(),
                amount: amount.into(),
                starts_on: format!("{year}-01-01"),
                ends_on: format!("{year}-12-31"),
                funder: org(funder),
            },
        )
        .await?;
    }
    let g = Granted::check(&admin)?;
    for (item, cost) in [
        ("gp_appointments", "42"),
        ("ae_attendances", "300"),
        ("crisis_contacts", "250"),
        ("hospital_nights", "500"),
    ] {
        costs::set_unit_cost(
            state,
            &g,
            &UnitCostInput {
                item: item.into(),
                cost: cost.into(),
                source: "Demo figure only: enter the current PSSRU Unit Costs of Health and Social Care value with its table".into(),
                price_year: year.to_string(),
            },
        )
        .await?;
    }
    Ok(())
}
