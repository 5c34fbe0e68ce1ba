//! `ensemble evaluate …`: a programme's evaluation package, and the figures' rebuild.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use ensemble::modules::evaluation::{refresh, report::Period, service};

use super::state_for;
use crate::EvaluateCommand;

/// `ensemble evaluate …`.
pub(crate) async fn evaluate(cmd: EvaluateCommand) -> anyhow::Result<i32> {
    match cmd {
        EvaluateCommand::Programme {
            db,
            programme,
            from,
            to,
            out,
        } => {
            let period = match Period::parse(from.as_deref(), to.as_deref()) {
                Ok(p) => p,
                Err(errors) => {
                    for e in errors {
                        eprintln!("error: --{}: {}", e.field, e.message);
                    }
                    return Ok(1);
                }
            };
            package(&db.database, &programme, period, &out).await
        }
        EvaluateCommand::Refresh { db } => {
            let state = state_for(&db.database).await?;
            let r = refresh::refresh_all(&state).await.map_err(super::explain)?;
            state.db.close().await;
            let secs = (r.took_ms as f64 / 1000.0).max(0.001);
            println!(
                "Evaluation figures rebuilt for {} programmes in {:.1} s ({:.1} programmes/s; {} consenting people loaded, {} counted across programmes, {:.0} people/s).",
                r.programmes,
                secs,
                r.programmes as f64 / secs,
                r.people,
                r.counted,
                r.counted as f64 / secs
            );
            println!("refresh_ms: {}", r.took_ms);
            Ok(0)
        }
    }
}

async fn package(
    database: &str,
    programme: &str,
    period: Period,
    out: &Path,
) -> anyhow::Result<i32> {
    let state = state_for(database).await?;
    let started = Instant::now();
    let files = match service::export_as_operator(&state, programme, period).await {
        Ok(f) => f,
        Err(ensemble::error::AppError::BadRequest(m)) => {
            eprintln!("error: --programme: {m}");
            state.db.close().await;
            return Ok(1);
        }
        Err(e) => return Err(super::explain(e)),
    };
    state.db.close().await;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, bytes) in &files {
        let path = out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "Wrote {} files to {} in {:.2} s: {}.",
        files.len(),
        out.display(),
        started.elapsed().as_secs_f64(),
        files
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("export_ms: {}", started.elapsed().as_millis());
    Ok(0)
}
