//! `ensemble area …` and the deprivation part of `ensemble opendata import`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use ensemble::AppState;
use ensemble::modules::areas::{self, Edition, summary};

use super::{bar, state_for};
use crate::{AreaCommand, Format};

/// Import deprivation and lookup files with progress and a summary, then recompute the
/// district summaries of every edition a file belonged to; true when any row was rejected.
pub(crate) async fn import_iod(state: &AppState, files: &[PathBuf]) -> anyhow::Result<bool> {
    if files.is_empty() {
        return Ok(false);
    }
    let started = Instant::now();
    let mut any_rejected = false;
    let mut editions = Vec::new();
    for f in files {
        let pb = bar(&format!("reading {}", f.display()));
        let (kind, report) = areas::import::import_file(&state.db, f, |n| pb.set_position(n))
            .await
            .with_context(|| format!("importing {}", f.display()))?;
        pb.finish_and_clear();
        println!(
            "{} [{}]: {} rows read, {} stored, {} outside England skipped, {} rejected",
            f.display(),
            kind.label(),
            report.rows,
            report.stored,
            report.terminated,
            report.rejected_count
        );
        for (line, why) in &report.rejected {
            println!("  {} line {line}: {why}", f.display());
        }
        if report.rejected_count as usize > report.rejected.len() {
            println!(
                "  … and {} more",
                report.rejected_count as usize - report.rejected.len()
            );
        }
        any_rejected |= report.rejected_count > 0;
        if let Some(e) = kind.edition()
            && !editions.contains(&e)
        {
            editions.push(e);
        }
    }
    for e in editions {
        let n = summary::refresh(&state.db, e).await?;
        println!(
            "{}: district summaries computed for {n} districts.",
            e.label()
        );
    }
    let (a, b) = areas::import::counts(&state.db).await?;
    println!(
        "Deprivation data now holds {a} IoD2019 and {b} IoD2025 small areas ({:.1} s).",
        started.elapsed().as_secs_f64()
    );
    for e in Edition::ALL {
        println!("{}", e.attribution());
    }
    Ok(any_rejected)
}

/// `ensemble area …`.
pub(crate) async fn area(cmd: AreaCommand) -> anyhow::Result<i32> {
    let (db, district, edition, format) = match cmd {
        AreaCommand::Summary {
            db,
            district,
            edition,
            format,
        } => (db, district, edition, format),
        AreaCommand::Refresh { db } => return refresh(&db.database).await,
        AreaCommand::Generate {
            db,
            referrals,
            activities,
            organisations,
            programmes,
            seed,
            with_measures,
        } => {
            let scale = areas::generate::Scale {
                referrals: referrals as usize,
                activities: activities as usize,
                organisations: organisations as usize,
                programmes: programmes as usize,
                seed,
                with_measures,
            };
            return generate(&db.database, scale).await;
        }
    };
    let edition = Edition::parse(&edition).map_err(anyhow::Error::msg)?;
    let state = state_for(&db.database).await?;
    let Some(code) = summary::resolve(&state.db, &district).await? else {
        state.db.close().await;
        bail!(
            "no district {district:?} in the imported deprivation data (give an ONS code such as E08000012 or a name such as Liverpool; load the data with `ensemble opendata import`)"
        );
    };
    let found = summary::district(&state.db, edition, &code).await?;
    state.db.close().await;
    let Some(s) = found else {
        bail!(
            "district {district:?} ({code}) is not in {} (is that edition imported?)",
            edition.label()
        );
    };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&s)?),
        Format::Table => print_table(&s),
    }
    Ok(0)
}

fn print_table(s: &summary::DistrictSummary) {
    let rows = [
        ("district_code", s.district_code.clone()),
        ("district_name", s.district_name.clone()),
        ("edition", s.edition.to_string()),
        ("lsoas", s.lsoas.to_string()),
        ("rank_of_average_score", s.rank_of_average_score.to_string()),
        ("districts", s.districts.to_string()),
        ("average_score", format!("{:.3}", s.average_score)),
        (
            "lsoas_most_deprived_10",
            s.lsoas_most_deprived_10.to_string(),
        ),
        (
            "lsoas_most_deprived_20",
            s.lsoas_most_deprived_20.to_string(),
        ),
        (
            "share_lsoas_most_deprived_10",
            format!("{:.4}", s.share_lsoas_most_deprived_10),
        ),
        (
            "share_lsoas_most_deprived_20",
            format!("{:.4}", s.share_lsoas_most_deprived_20),
        ),
        (
            "share_residents_most_deprived_10",
            format!("{:.4}", s.share_residents_most_deprived_10),
        ),
        (
            "share_residents_most_deprived_20",
            format!("{:.4}", s.share_residents_most_deprived_20),
        ),
        ("population", s.population.to_string()),
        ("population_basis", s.population_basis.clone()),
    ];
    for (k, v) in rows {
        println!("{k:<34} {v}");
    }
    println!("population_source: {}", s.population_source);
}

/// `ensemble area refresh`.
async fn refresh(database: &str) -> anyhow::Result<i32> {
    let state = state_for(database).await?;
    let r = areas::aggregates::refresh(&state)
        .await
        .map_err(super::explain)?;
    let outcomes = areas::outcomes::refresh(&state)
        .await
        .map_err(super::explain)?;
    state.db.close().await;
    println!(
        "Reach figures rebuilt in {:.1} s: {} consenting people, {} referrals, {} rows.",
        r.took_ms as f64 / 1000.0,
        r.people,
        r.referrals,
        r.cells
    );
    println!("refresh_ms: {}", r.took_ms);
    println!("Outcomes by small area rebuilt: {outcomes} rows.");
    Ok(0)
}

/// `ensemble area generate`.
async fn generate(database: &str, scale: areas::generate::Scale) -> anyhow::Result<i32> {
    let state = state_for(database).await?;
    let started = Instant::now();
    let pb = bar("generating referrals");
    let g = areas::generate::generate(&state, scale, |n| pb.set_position(n as u64))
        .await
        .map_err(super::explain)?;
    pb.finish_and_clear();
    state.db.close().await;
    println!(
        "Generated {} referrals of {} people with {} attendance marks in {:.1} s.",
        g.referrals,
        g.people,
        g.marks,
        started.elapsed().as_secs_f64()
    );
    if scale.with_measures {
        println!(
            "Generated {} completed measure responses; {} people with a SWEMWBS baseline and follow-up.",
            g.responses, g.pairs
        );
    }
    println!("commissioner: {}", g.commissioner_email);
    println!("password: {}", g.password);
    println!("token: {}", g.token);
    println!("ward: {}", g.ward);
    Ok(0)
}
