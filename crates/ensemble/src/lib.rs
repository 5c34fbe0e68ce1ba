//! Ensemble: the application library behind the `ensemble` command.
//!
//! The crate is organised by capability (see `docs/ARCHITECTURE.md`): platform pieces
//! (`db`, `dates`, `csvfile`, `code`, `auth`, `rbac`, `audit`, `jobs`, `notify`, `web`, `api`, `ops`)
//! and capability modules under `modules/`. `app::build_router` assembles every module's routes.

#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod arch;
pub mod audit;
pub mod auth;
pub mod backup;
pub(crate) mod code;
pub mod config;
pub mod csvfile;
pub mod dates;
pub mod db;
pub mod demo;
pub mod error;
pub mod jobs;
pub mod manifest;
pub mod modules;
pub mod notify;
pub mod ops;
pub mod rbac;
pub mod state;
pub mod web;

pub use app::build_router;
pub use config::Config;
pub use state::AppState;
