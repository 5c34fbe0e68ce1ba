//! Area insight (capability C2, first slice): the English Indices of Deprivation for both
//! editions (IoD2019 on LSOA 2011, IoD2025 on LSOA 2021) imported from the official open
//! files, the lookups between small areas, wards and districts, and the district summary
//! that reproduces MHCLG's published figures from the small-area rows (never copied from
//! File 10), shown on `/areas`, under `/api/v1/areas/…` and by `ensemble area summary`.

pub mod aggregates;
pub mod api;
pub mod barriers;
pub mod barriers_html;
pub mod district_html;
pub mod generate;
pub mod html;
pub mod import;
pub mod lsoa_codes;
pub mod lsoa_map;
pub mod maps;
pub mod nearby;
pub mod outcomes;
pub mod profiles;
pub mod profiles_html;
pub mod provision;
pub mod provision_html;
pub mod reach;
pub mod reach_html;
pub mod reach_map;
pub mod residents;
pub mod summary;

use crate::code::code_enum;
use crate::jobs::{Every, JobHandler, Schedule};
use crate::manifest::Manifest;
use crate::rbac::Permission as P;
use crate::web::routes::Route;

code_enum!(
    /// An edition of the English Indices of Deprivation.
    Edition {
        Iod2019 => ("2019", "IoD2019"),
        Iod2025 => ("2025", "IoD2025"),
    }
);

impl Edition {
    /// The year, as stored.
    pub fn year(self) -> i64 {
        match self {
            Edition::Iod2019 => 2019,
            Edition::Iod2025 => 2025,
        }
    }

    /// From a stored year.
    pub fn from_year(y: i64) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.year() == y)
    }

    /// How many LSOAs in England the edition ranks (rank 1 = most deprived).
    pub fn lsoas_in_england(self) -> i64 {
        match self {
            Edition::Iod2019 => 32_844,
            Edition::Iod2025 => 33_755,
        }
    }

    /// The small-area geography of the edition.
    pub fn geography(self) -> &'static str {
        match self {
            Edition::Iod2019 => "LSOA 2011",
            Edition::Iod2025 => "LSOA 2021",
        }
    }

    /// The required attribution line for the edition (Open Government Licence v3.0).
    pub fn attribution(self) -> &'static str {
        match self {
            Edition::Iod2019 => {
                "Contains public sector information licensed under the Open Government Licence v3.0 (English Indices of Deprivation 2019, Ministry of Housing, Communities & Local Government)."
            }
            Edition::Iod2025 => {
                "Contains public sector information licensed under the Open Government Licence v3.0 (English Indices of Deprivation 2025, Ministry of Housing, Communities and Local Government)."
            }
        }
    }

    /// Parse a user-supplied edition (`2019`, `2025`, `IoD2019`, `iod2025`), naming the value
    /// when it is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let t = t
            .strip_prefix("IoD")
            .or_else(|| t.strip_prefix("iod"))
            .or_else(|| t.strip_prefix("IOD"))
            .unwrap_or(t);
        Self::from_code(t)
            .ok_or_else(|| format!("edition must be 2019 or 2025, not \"{}\"", s.trim()))
    }
}

/// The ONS attribution for the lookups and centroids.
pub const ONS_ATTRIBUTION: &str = "Source: Office for National Statistics licensed under the Open Government Licence v3.0. Contains OS data © Crown copyright and database right.";

/// The six districts of the Liverpool City Region (codes unchanged since 2011).
pub const CITY_REGION: &[&str] = &[
    "E06000006",
    "E08000011",
    "E08000012",
    "E08000013",
    "E08000014",
    "E08000015",
];

/// Every route of this module: public open data, and reach for roles allowed aggregates.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/areas", P::Public, html::index),
        Route::get("/areas/districts/{code}", P::Public, html::district),
        Route::get("/api/v1/areas/districts", P::Public, api::list),
        Route::get("/api/v1/areas/districts/{code}", P::Public, api::get),
        Route::get("/api/v1/areas/lsoas/{code}", P::Public, api::get_lsoa),
        // Provision, cold spots and maps (issue 16 items 4 and 6).
        Route::get(
            "/areas/provision",
            P::Public,
            provision_html::provision_page,
        ),
        Route::get(
            "/areas/cold-spots",
            P::Public,
            provision_html::cold_spots_page,
        ),
        Route::get(
            "/areas/cold-spots.csv",
            P::Public,
            provision_html::cold_spots_csv,
        ),
        Route::get("/areas/map", P::Public, maps::map_page),
        Route::get("/api/v1/areas/cold-spots", P::Public, api::cold_spots),
        // Reach and equity, and ward and LSOA profiles.
        Route::get("/areas/reach", P::ViewAreaAggregates, reach_html::page_get),
        Route::get(
            "/areas/reach.csv",
            P::ViewAreaAggregates,
            reach_html::csv_get,
        ),
        Route::get(
            "/api/v1/areas/reach",
            P::ViewAreaAggregates,
            reach_html::api_get,
        )
        .scope("areas:read"),
        // Barriers to taking part (issue 16 item 5).
        Route::get(
            "/areas/barriers",
            P::ViewAreaAggregates,
            barriers_html::page_get,
        ),
        Route::get(
            "/areas/barriers.csv",
            P::ViewAreaAggregates,
            barriers_html::csv_get,
        ),
        Route::get(
            "/api/v1/areas/barriers",
            P::ViewAreaAggregates,
            barriers_html::api_get,
        )
        .scope("areas:read"),
        Route::get("/areas/wards/{code}", P::Public, profiles_html::ward),
        Route::get("/areas/lsoas/{code}", P::Public, profiles_html::lsoa),
    ]
}

/// What this module declares to the application.
pub fn manifest() -> Manifest {
    Manifest::new("areas", routes())
        .tables(&[
            "area_lsoas",
            "area_lsoa_links",
            "area_lsoa_wards",
            "area_district_reference",
            "area_district_summaries",
            "area_outcomes",
            "area_reach_lsoas",
            "area_reach_cells",
            "area_reach_refreshes",
        ])
        .jobs(vec![
            JobHandler::of::<aggregates::RefreshAggregates>(),
            JobHandler::of::<outcomes::OutcomeRefresh>(),
        ])
        .schedules(vec![
            Schedule::every::<aggregates::RefreshAggregates>(Every::TenMinutes),
            Schedule::every::<outcomes::OutcomeRefresh>(Every::Hour),
        ])
}
