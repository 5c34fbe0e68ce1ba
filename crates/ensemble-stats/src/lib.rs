//! Pure statistics for Ensemble: no I/O, no database, fast and property-tested.
//!
//! - [`describe`] — descriptive statistics of one variable;
//! - [`paired`] — the paired before/after analysis (t-test, 95% CI, Cohen's d_z, Wilcoxon
//!   signed-rank), agreeing with scipy (`tests/stats/agreement.py`);
//! - [`proportion`] and [`change`] — Wilson intervals, improved / unchanged / worse by a
//!   meaningful-change threshold, and the reliable change index;
//! - [`agreement`] — percentage agreement and Cohen's kappa between two coders, agreeing with
//!   scikit-learn (`tests/stats/kappa.py`);
//! - [`representation`] — representation ratios (share reached ÷ population share) with
//!   the Wilson interval of the share over the fixed population share;
//! - [`wellby`] — wellbeing-adjusted life years from a change in life satisfaction, valued
//!   with the Green Book's supplementary guidance as ranges with the arithmetic written out;
//! - [`disclosure`] — small-number suppression, rounding and secondary suppression, through
//!   which every count shown to a non-privileged viewer passes.

#![forbid(unsafe_code)]

pub mod agreement;
pub mod change;
pub mod describe;
pub mod disclosure;
pub mod dist;
mod error;
pub mod paired;
pub mod proportion;
pub mod representation;
mod sum;
pub mod wellby;
pub mod wilcoxon;

pub use agreement::{Agreement, agreement};
pub use describe::{Summary, describe};
pub use disclosure::{DisclosurePolicy, ProtectedTable, Published, disclose, protect_table};
pub use error::StatsError;
pub use paired::{Paired, paired};
pub use representation::{Representation, representation};
