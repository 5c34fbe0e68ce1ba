//! The command implementations, one file per family; `main.rs` holds the clap definitions
//! and dispatches here. The helpers below are shared by the families that open a database.

pub(crate) mod accounts;
pub(crate) mod area;
pub(crate) mod directory;
pub(crate) mod evaluate;
pub(crate) mod files;
pub(crate) mod operations;
pub(crate) mod pathway;
pub(crate) mod server;

use std::time::Duration;

use anyhow::Context;
use ensemble::AppState;
use ensemble::config::{Config, database_url_from};
use ensemble::db::Db;
use ensemble::error::AppError;

pub(crate) async fn open(database: &str) -> anyhow::Result<Db> {
    let url = database_url_from(database);
    Db::connect_and_migrate(&url)
        .await
        .with_context(|| format!("opening the database {}", redact(&url)))
}

/// Hide the password in a database URL.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub(crate) fn bar(label: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg}: {human_pos} rows ({per_sec}, {elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    pb.set_message(label.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

pub(crate) fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(fields) => anyhow::anyhow!(
            "{}",
            fields
                .iter()
                .map(|f| format!("--{}: {}", f.field.replace('_', "-"), f.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        AppError::NotFound => anyhow::anyhow!("no such account or organisation"),
        other => anyhow::anyhow!("{other}"),
    }
}

pub(crate) async fn state_for(db_arg: &str) -> anyhow::Result<AppState> {
    let db = open(db_arg).await?;
    AppState::new(Config::for_database(database_url_from(db_arg)), db).await
}
