//! `ensemble opendata` and `ensemble directory`: loading postcodes and centroids, generating
//! a national-sized directory, and importing Open Referral UK feeds.

use std::path::PathBuf;

use anyhow::{Context, bail};
use ensemble::AppState;

use super::{bar, explain, state_for};
use crate::{DbArgs, DirectoryCommand, OpendataCommand};

/// `ensemble opendata import`.
pub(crate) async fn opendata(cmd: OpendataCommand) -> anyhow::Result<i32> {
    let OpendataCommand::Import {
        db,
        postcodes,
        centroids,
        boundaries,
        iod,
        shared_dir,
    } = cmd;
    let state = state_for(&db.database).await?;
    let none = postcodes.is_empty() && centroids.is_empty() && boundaries.is_empty();
    let (p, c, b, i) = if none && iod.is_empty() {
        let (p, c) = ensemble::modules::places::import::shared_files(&shared_dir);
        let b = ensemble::modules::places::import::shared_boundary_files(&shared_dir);
        let i = ensemble::modules::areas::import::shared_files(&shared_dir);
        if p.is_empty() && c.is_empty() && b.is_empty() && i.is_empty() {
            bail!(
                "no open data files given, and none found under {} (set --shared-dir or ENSEMBLE_SHARED_DIR, or pass --postcodes/--centroids/--boundaries/--iod)",
                shared_dir.display()
            );
        }
        (p, c, b, i)
    } else {
        (postcodes, centroids, boundaries, iod)
    };
    let mut failed = false;
    if !p.is_empty() || !c.is_empty() {
        failed |= import_files(&state, &p, &c).await?;
    }
    failed |= import_boundaries(&state, &b).await?;
    failed |= super::area::import_iod(&state, &i).await?;
    if !p.is_empty() || !b.is_empty() {
        refresh_small_areas(&state).await?;
    }
    state.db.close().await;
    Ok(i32::from(failed))
}

/// Import files with progress bars and a summary; true when any row was rejected.
pub(crate) async fn import_files(
    state: &AppState,
    postcodes: &[PathBuf],
    centroids: &[PathBuf],
) -> anyhow::Result<bool> {
    use ensemble::modules::places::import;
    let mut any_rejected = false;
    for (kind, files) in [("postcodes", postcodes), ("centroids", centroids)] {
        for f in files {
            let pb = bar(&format!("{kind} from {}", f.display()));
            let report = if kind == "postcodes" {
                import::import_postcodes(&state.db, f, |n| pb.set_position(n)).await
            } else {
                import::import_centroids(&state.db, f, |n| pb.set_position(n)).await
            }
            .with_context(|| format!("importing {}", f.display()))?;
            pb.finish_and_clear();
            println!(
                "{}: {} rows read, {} stored, {} terminated skipped, {} rejected",
                f.display(),
                report.rows,
                report.stored,
                report.terminated,
                report.rejected_count
            );
            for (line, why) in &report.rejected {
                println!("  line {line}: {why}");
            }
            if report.rejected_count as usize > report.rejected.len() {
                println!(
                    "  … and {} more",
                    report.rejected_count as usize - report.rejected.len()
                );
            }
            any_rejected |= report.rejected_count > 0;
        }
    }
    let (p, l) = ensemble::modules::places::counts(&state.db).await?;
    println!("Open data now holds {p} postcodes and {l} small-area centroids.");
    println!(
        "Contains OS data © Crown copyright and database right. Contains Royal Mail data © Royal Mail copyright and database right. Source: Office for National Statistics licensed under the Open Government Licence v3.0."
    );
    Ok(any_rejected)
}

/// Bring the small areas (LSOA 2021 and 2011) stored on people and venues up to date with
/// the postcodes and boundaries now imported, and say how many changed.
pub(crate) async fn refresh_small_areas(state: &AppState) -> anyhow::Result<()> {
    let people = ensemble::modules::people::area_facts::refresh_small_areas(state)
        .await
        .map_err(explain)?;
    let venues = ensemble::modules::directory::venue_areas::refresh(state)
        .await
        .map_err(explain)?;
    println!(
        "Small areas (LSOA 2021 and 2011) brought up to date for {people} people and {venues} venues."
    );
    Ok(())
}

/// Import boundary files (wards, or small areas of 2011 or 2021: each file's features say
/// which) with a progress bar and a summary; true when any feature was rejected.
pub(crate) async fn import_boundaries(state: &AppState, files: &[PathBuf]) -> anyhow::Result<bool> {
    use ensemble::modules::places::{boundaries, small_areas};
    let mut any_rejected = false;
    for f in files {
        let pb = bar(&format!("boundaries from {}", f.display()));
        let (kind, report) = small_areas::import_file(&state.db, f, |n| pb.set_position(n))
            .await
            .with_context(|| format!("importing {}", f.display()))?;
        pb.finish_and_clear();
        println!(
            "{}: {} features read, {} outlines stored ({}), {} rejected",
            f.display(),
            report.rows,
            report.stored,
            match kind {
                small_areas::BoundaryFile::Wards => "wards, districts and the region",
                small_areas::BoundaryFile::SmallAreas => "small areas",
            },
            report.rejected_count
        );
        for (n, why) in &report.rejected {
            println!("  feature {n}: {why}");
        }
        if report.rejected_count as usize > report.rejected.len() {
            println!(
                "  … and {} more",
                report.rejected_count as usize - report.rejected.len()
            );
        }
        any_rejected |= report.rejected_count > 0;
    }
    if !files.is_empty() {
        let (w, d, r) = boundaries::counts(&state.db).await?;
        let (l11, l21) = small_areas::counts(&state.db).await?;
        println!(
            "Boundaries now hold {w} wards, {d} districts, {r} region outline(s), {l21} small areas of 2021 and {l11} of 2011."
        );
    }
    Ok(any_rejected)
}

/// `ensemble directory …`.
pub(crate) async fn directory(cmd: DirectoryCommand) -> anyhow::Result<i32> {
    match cmd {
        DirectoryCommand::Generate {
            db,
            activities,
            locations,
            organisations,
            seed,
        } => generate(db, activities, locations, organisations, seed).await,
        DirectoryCommand::ImportOruk { db, source } => import_oruk(db, source).await,
    }
}

/// `ensemble directory generate`.
async fn generate(
    db: DbArgs,
    activities: usize,
    locations: usize,
    organisations: usize,
    seed: u64,
) -> anyhow::Result<i32> {
    if activities == 0 || organisations == 0 || locations < activities {
        bail!(
            "--activities and --organisations must be at least 1, and --locations at least --activities"
        );
    }
    let state = state_for(&db.database).await?;
    let pb = bar("generating");
    let scale = ensemble::modules::directory::generate::Scale {
        activities,
        locations,
        organisations,
        seed,
    };
    ensemble::modules::directory::generate::generate(&state.db, scale, |stage, n| {
        pb.set_message(format!("generating {stage}"));
        pb.set_position(n as u64);
    })
    .await?;
    pb.finish_and_clear();
    state.db.close().await;
    println!(
        "Generated {organisations} organisations, {activities} activities and {locations} venue links."
    );
    Ok(0)
}

/// `ensemble directory import-oruk`.
async fn import_oruk(db: DbArgs, source: String) -> anyhow::Result<i32> {
    use ensemble::modules::directory::import_oruk;
    let state = state_for(&db.database).await?;
    let src = source.clone();
    let docs = tokio::task::spawn_blocking(move || import_oruk::read_source(&src)).await??;
    // ORUK ids are UUIDs: one service keeps one record whichever URL or path it came from.
    let report = import_oruk::import_documents(&state, import_oruk::SOURCE, docs)
        .await
        .map_err(explain)?;
    state.db.close().await;
    println!(
        "Imported from {source}: {} created, {} updated, {} unchanged, {} rejected, {} skipped.",
        report.created.len(),
        report.updated.len(),
        report.unchanged.len(),
        report.rejected.len(),
        report.skipped.len()
    );
    for (what, reasons) in &report.rejected {
        println!("  rejected {what}:");
        for r in reasons {
            println!("    - {r}");
        }
    }
    for (what, why) in &report.skipped {
        println!("  skipped {what}: {why}");
    }
    for (id, note) in &report.warnings {
        println!("  note for {id}: {note}");
    }
    Ok(i32::from(!report.rejected.is_empty()))
}
