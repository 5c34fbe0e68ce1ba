//! Capability modules. Each owns its tables, SQL, pages and tests, and exposes `routes()`.

pub mod accounts;
pub mod areas;
pub mod directory;
pub mod evaluation;
pub mod measures;
pub mod people;
pub mod places;
pub mod practice;
pub mod programmes;
pub mod referrals;
