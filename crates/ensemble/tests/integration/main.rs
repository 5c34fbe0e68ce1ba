//! The integration suite. It runs on SQLite by default and on PostgreSQL when
//! `ENSEMBLE_TEST_DATABASE_URL` names a server (scripts/test does both).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod admin;
mod api;
mod area_outcomes;
mod areas;
mod audit;
mod auth;
mod authz;
mod barriers;
mod coldspots;
mod connected;
mod directory;
mod email;
mod evaluation;
mod geo;
mod map;
mod measures;
mod oruk;
mod outage;
mod people;
mod places;
mod plans;
mod platform;
mod portfolio;
mod practice;
mod practice_today;
mod programmes;
mod proposals;
mod reach;
mod referrals;
mod security;
mod themes;
mod upkeep;
