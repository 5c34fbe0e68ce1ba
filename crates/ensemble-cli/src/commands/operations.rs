//! `ensemble audit verify`, `backup` and `restore`.

use ensemble::config::database_url_from;

use super::{open, redact};
use crate::{AuditCommand, BackupArgs, RestoreArgs};

/// `ensemble audit verify`: exit 1 naming the first broken row.
pub(crate) async fn audit(cmd: AuditCommand) -> anyhow::Result<i32> {
    let AuditCommand::Verify(db) = cmd;
    let d = open(&db.database).await?;
    let report = ensemble::audit::verify(&d).await?;
    d.close().await;
    match report.first_broken {
        None => println!("Audit trail intact: {} rows checked.", report.rows_checked),
        Some((seq, why)) => {
            eprintln!("Audit trail BROKEN at row {seq}: {why}.");
            eprintln!(
                "Rows before {seq} are intact. Restore from a backup and investigate who changed the database."
            );
            return Ok(1);
        }
    }
    Ok(0)
}

/// `ensemble backup`.
pub(crate) async fn backup(args: BackupArgs) -> anyhow::Result<i32> {
    let d = open(&args.db.database).await?;
    ensemble::backup::backup(&d, &database_url_from(&args.db.database), &args.file).await?;
    d.close().await;
    println!("Backup written to {}.", args.file.display());
    Ok(0)
}

/// `ensemble restore`.
pub(crate) async fn restore(args: RestoreArgs) -> anyhow::Result<i32> {
    ensemble::backup::restore(&args.file, &database_url_from(&args.database)).await?;
    println!(
        "Restored {} into {}.",
        args.file.display(),
        redact(&database_url_from(&args.database))
    );
    Ok(0)
}
