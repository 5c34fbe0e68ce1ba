//! The web shell: assets, page layout, form helpers, request context, middleware (security
//! headers, sessions, CSRF, metrics) and the route registry that makes every route declare
//! its permission.

pub mod assets;
pub mod ctx;
pub mod forms;
pub mod layout;
pub mod middleware;
pub mod pages;
pub mod resubmit;
pub mod routes;
pub mod upload;

pub use ctx::PageCtx;
pub use layout::{Page, page};
