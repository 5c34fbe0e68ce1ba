//! What a capability module declares to the application: its routes, its background job
//! kinds and their schedules, the tables it owns and the read views it publishes. `app` collects one [`Manifest`] from
//! each module (and one for the platform's own pages and jobs); nothing else lists them.

use futures_util::future::BoxFuture;
use maud::Markup;

use crate::error::AppError;
use crate::jobs::{JobHandler, Schedule};
use crate::rbac::Actor;
use crate::state::AppState;
use crate::web::routes::Route;

/// One part of a signed-in account's home page: a job of one of the account's roles (today's
/// sessions, new referrals, incidents…), drawn by the module that owns the data, with its
/// place: parts are shown by `order`, lowest first (then in manifest order). Use
/// [`home_order`] so that each role's main job leads.
pub struct HomePart {
    /// Where it goes: see [`home_order`].
    pub order: u8,
    /// The part: an `h2` and what follows it.
    pub markup: Markup,
}

/// Where a home part goes.
pub mod home_order {
    /// The role's main job (a practitioner's sessions, a link worker's new referrals, a
    /// clinician's incidents, a programme manager's activities).
    pub const LEAD: u8 = 10;
    /// The role's next job.
    pub const NEXT: u8 = 20;
    /// Then.
    pub const THEN: u8 = 30;
    /// Everything else.
    pub const LATER: u8 = 40;
}

/// A module's parts of a signed-in account's home page for the account's roles (empty when
/// the module has nothing for this account). The module reads only its own data (and other
/// modules' named functions or views), as for any page.
pub type HomeSection = fn(AppState, Actor) -> BoxFuture<'static, Result<Vec<HomePart>, AppError>>;

/// Every module's home section, in manifest order (given to the state at start; the home
/// page draws their parts by order).
#[derive(Default)]
pub struct HomeSections(pub Vec<HomeSection>);

/// One module's declaration.
pub struct Manifest {
    /// Short name (`referrals`), as in `modules/<name>/`.
    pub name: &'static str,
    /// Every route, each with its permission.
    pub routes: Vec<Route>,
    /// Every job kind the module handles.
    pub jobs: Vec<JobHandler>,
    /// Jobs the worker queues on a fixed rhythm.
    pub schedules: Vec<Schedule>,
    /// The tables this module owns: only its store reads or writes them; other modules call
    /// its functions.
    pub tables: &'static [&'static str],
    /// Those of its tables no other part may query at all (identity, journals, credentials),
    /// even through a join: others call its functions that take a proof (checked by `arch`).
    pub private: &'static [&'static str],
    /// The read views it publishes for other modules (`accounts_user_names`…): created by a
    /// migration over its own tables only, named `<module>_…`, exposing only the columns
    /// others need. Other modules may name these in SQL, never its tables (checked by
    /// `arch`).
    pub views: &'static [&'static str],
    /// Its part of the home page, if any.
    pub home: Option<HomeSection>,
}

impl Manifest {
    /// A manifest with routes only.
    pub fn new(name: &'static str, routes: Vec<Route>) -> Self {
        Self {
            name,
            routes,
            jobs: Vec::new(),
            schedules: Vec::new(),
            tables: &[],
            private: &[],
            views: &[],
            home: None,
        }
    }

    /// Add job kinds.
    pub fn jobs(mut self, jobs: Vec<JobHandler>) -> Self {
        self.jobs = jobs;
        self
    }

    /// Add schedules.
    pub fn schedules(mut self, schedules: Vec<Schedule>) -> Self {
        self.schedules = schedules;
        self
    }

    /// Name the owned tables that nobody else may query.
    pub fn private(mut self, tables: &'static [&'static str]) -> Self {
        self.private = tables;
        self
    }

    /// Name the tables owned.
    pub fn tables(mut self, tables: &'static [&'static str]) -> Self {
        self.tables = tables;
        self
    }

    /// Lead the home page with this section.
    pub fn home(mut self, section: HomeSection) -> Self {
        self.home = Some(section);
        self
    }

    /// Name the read views published for other modules.
    pub fn views(mut self, views: &'static [&'static str]) -> Self {
        self.views = views;
        self
    }
}
