//! The `ensemble` command end to end: help, accounts, audit verification, backup and
//! restore, and clear errors for bad arguments.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ensemble"))
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = bin();
    cmd.args(args)
        .env_remove("ENSEMBLE_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start ensemble");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("wait")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ens-cli-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn help_covers_every_subcommand() {
    let top = run(&["--help"], None);
    assert!(top.status.success());
    let t = text(&top);
    for sub in [
        "serve", "demo", "migrate", "user", "audit", "backup", "restore", "worker",
    ] {
        assert!(t.contains(sub), "--help lacks {sub}");
        assert!(run(&[sub, "--help"], None).status.success(), "{sub} --help");
    }
    for sub in ["create", "list", "disable", "enable", "reset-password"] {
        assert!(
            run(&["user", sub, "--help"], None).status.success(),
            "user {sub} --help"
        );
    }
    let serve = text(&run(&["serve", "--help"], None));
    for var in [
        "ENSEMBLE_DATABASE_URL",
        "ENSEMBLE_BASE_URL",
        "ENSEMBLE_SMTP_URL",
        "ENSEMBLE_REQUIRE_STAFF_MFA",
        "ENSEMBLE_SESSION_IDLE_MINUTES",
    ] {
        assert!(serve.contains(var), "serve --help does not document {var}");
    }
}

#[test]
fn accounts_audit_backup_and_restore_work_from_the_command_line() {
    let dir = temp_dir();
    let db = dir.join("cli.db");
    let o = run(&["migrate", "--database", p(&db)], None);
    assert!(o.status.success(), "{}", text(&o));
    // Bad input is refused with the field named.
    let o = run(
        &[
            "user",
            "create",
            "--database",
            p(&db),
            "--email",
            "nope",
            "--name",
            "X",
            "--password-stdin",
        ],
        Some("orange-kettle-meadow\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("--email: Enter an email address in the correct format"),
        "{}",
        text(&o)
    );
    let o = run(
        &[
            "user",
            "create",
            "--database",
            p(&db),
            "--email",
            "a@example.org",
            "--name",
            "Ada",
            "--password-stdin",
        ],
        Some("password123\n"),
    );
    assert!(
        text(&o).contains("--password: This password is too common"),
        "{}",
        text(&o)
    );
    let o = run(
        &[
            "user",
            "create",
            "--database",
            p(&db),
            "--email",
            "a@example.org",
            "--name",
            "Ada",
            "--organisation",
            "Nowhere",
            "--role",
            "wizard",
        ],
        None,
    );
    assert!(
        text(&o).contains("--role: unknown role \"wizard\""),
        "{}",
        text(&o)
    );
    // A good account, generated password printed once.
    let o = run(
        &[
            "user",
            "create",
            "--database",
            p(&db),
            "--email",
            "Ada@Example.org",
            "--name",
            "Ada Lovelace",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Password: "));
    let o = run(&["user", "list", "--database", p(&db)], None);
    assert!(text(&o).contains("ada@example.org"));
    let o = run(
        &[
            "user",
            "reset-password",
            "--database",
            p(&db),
            "--email",
            "ada@example.org",
            "--password-stdin",
        ],
        Some("violet-canal-biscuit\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        &[
            "user",
            "disable",
            "--database",
            p(&db),
            "--email",
            "ada@example.org",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));

    let o = run(&["audit", "verify", "--database", p(&db)], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Audit trail intact"));

    // Backup and restore give identical data.
    let backup = dir.join("backup.db");
    let o = run(&["backup", "--database", p(&db), p(&backup)], None);
    assert!(o.status.success(), "{}", text(&o));
    let restored = dir.join("restored.db");
    let o = run(&["restore", p(&backup), "--database", p(&restored)], None);
    assert!(o.status.success(), "{}", text(&o));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let a = ensemble::db::Db::connect(&format!("sqlite://{}", p(&db)))
            .await
            .unwrap();
        let b = ensemble::db::Db::connect(&format!("sqlite://{}", p(&restored)))
            .await
            .unwrap();
        assert_eq!(
            ensemble::backup::dump_rows(&a).await.unwrap(),
            ensemble::backup::dump_rows(&b).await.unwrap()
        );
        // Tamper with an audit row.
        sqlx::query("UPDATE audit_log SET action = 'nothing.to.see' WHERE seq = 2")
            .execute(&a.write)
            .await
            .unwrap();
        a.close().await;
        b.close().await;
    });
    let o = run(&["audit", "verify", "--database", p(&db)], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("BROKEN at row 2"), "{}", text(&o));

    // Deleting a row is caught too (in the restored copy).
    rt.block_on(async {
        let b = ensemble::db::Db::connect(&format!("sqlite://{}", p(&restored)))
            .await
            .unwrap();
        sqlx::query("DELETE FROM audit_log WHERE seq = 3")
            .execute(&b.write)
            .await
            .unwrap();
        b.close().await;
    });
    let o = run(&["audit", "verify", "--database", p(&restored)], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("BROKEN at row 3"), "{}", text(&o));

    // Restore refuses to overwrite, and refuses a file that is not a backup.
    let o = run(&["restore", p(&backup), "--database", p(&restored)], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("already exists"));
    let junk = dir.join("junk.txt");
    std::fs::write(&junk, "not a database").unwrap();
    let o = run(
        &["restore", p(&junk), "--database", p(&dir.join("x.db"))],
        None,
    );
    assert!(
        text(&o).contains("is not an Ensemble database backup"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_arguments_get_a_clear_message() {
    let o = run(&["serve", "--port", "eighty"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("invalid value 'eighty' for '--port"),
        "{}",
        text(&o)
    );
    let o = run(&["migrate", "--database", "mysql://x/y"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("sqlite:// or postgres://"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_intake_team_is_chosen_from_organisations_with_link_workers() {
    let dir = temp_dir();
    let db = dir.join("intake.db");
    assert!(
        run(&["migrate", "--database", p(&db)], None)
            .status
            .success()
    );
    for (name, kind) in [
        ("Knowsley Team", "gp_practice_or_pcn"),
        ("City Orchestra", "cultural_organisation"),
    ] {
        let o = run(
            &[
                "organisation",
                "create",
                "--database",
                p(&db),
                "--name",
                name,
                "--kind",
                kind,
            ],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = run(&["referrals", "intake-team", "--database", p(&db)], None);
    assert!(
        o.status.success() && text(&o).contains("self-referral is closed"),
        "{}",
        text(&o)
    );
    let o = run(
        &[
            "user",
            "create",
            "--database",
            p(&db),
            "--email",
            "lw@example.org",
            "--name",
            "Lee",
            "--organisation",
            "Knowsley Team",
            "--role",
            "link_worker",
            "--password-stdin",
        ],
        Some("lantern-harbour-tangerine\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    // An organisation without link workers is refused, naming the flag.
    let o = run(
        &[
            "referrals",
            "intake-team",
            "--database",
            p(&db),
            "--organisation",
            "City Orchestra",
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--organisation: That organisation has no link workers"),
        "{}",
        text(&o)
    );
    let o = run(
        &[
            "referrals",
            "intake-team",
            "--database",
            p(&db),
            "--organisation",
            "Nowhere",
        ],
        None,
    );
    assert!(
        !o.status.success() && text(&o).contains("no organisation called \"Nowhere\""),
        "{}",
        text(&o)
    );
    let o = run(
        &[
            "referrals",
            "intake-team",
            "--database",
            p(&db),
            "--organisation",
            "knowsley team",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("go to: Knowsley Team"), "{}", text(&o));
    let o = run(&["audit", "verify", "--database", p(&db)], None);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_dir_all(&dir).ok();
}
