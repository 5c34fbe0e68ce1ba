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
        "serve",
        "demo",
        "migrate",
        "user",
        "audit",
        "backup",
        "restore",
        "worker",
        "analyse",
        "score",
        "instrument",
        "measures",
        "area",
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

#[test]
fn analyse_paired_prints_the_analysis_and_refuses_bad_files_clearly() {
    let dir = temp_dir();
    let file = dir.join("pairs.csv");
    // scipy 1.17.1: ttest_rel(after, before) t = 2.4494897427831783, p = 0.07048399691021992;
    // wilcoxon(after, before) W = 1, p = 0.125 (a tie, so the permutation test).
    std::fs::write(
        &file,
        "id,before,after\n1,21,24\n2,25,24\n3,18,21\n4,30,35\n5,27,29\n6,,30\n",
    )
    .unwrap();
    let o = run(
        &[
            "analyse",
            "paired",
            p(&file),
            "--before",
            "before",
            "--after",
            "after",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["n"], 5);
    assert_eq!(v["dropped"], 1);
    assert_eq!(v["t"], 2.449_489_742_783_178_3);
    assert!((v["p_value"].as_f64().unwrap() - 0.070_483_996_910_219_92).abs() < 1e-15);
    assert_eq!(v["wilcoxon_w"], 1.0);
    assert_eq!(v["wilcoxon_p"], 0.125);
    assert_eq!(v["wilcoxon_method"], "permutation");
    for key in [
        "mean_before",
        "mean_after",
        "mean_change",
        "sd_change",
        "ci95_low",
        "ci95_high",
        "df",
        "cohen_dz",
    ] {
        assert!(v[key].is_number(), "{key}: {v}");
    }
    let o = run(
        &[
            "analyse",
            "paired",
            p(&file),
            "--before",
            "before",
            "--after",
            "after",
        ],
        None,
    );
    assert!(o.status.success());
    assert!(text(&o).contains("95% CI of mean change"), "{}", text(&o));

    let cases: &[(&str, &str)] = &[
        (
            "id,before,after\n1,20,abc\n2,3,4\n",
            "row 1, column \"after\": \"abc\" is not a number",
        ),
        (
            "id,before,after\n1,20,NaN\n2,3,4\n",
            "is not a finite number",
        ),
        (
            "id,before,after\n1,20,22\n",
            "need at least 2 rows with both values",
        ),
        (
            "id,before,after\n1,20,22\n2,21,23\n",
            "standard deviation of change is zero",
        ),
        (
            "id,before,after\n1,20,20\n2,21,21\n",
            "every change is zero",
        ),
        ("id,start,after\n1,20,22\n", "no column \"before\""),
        ("", "the file is empty"),
    ];
    for (content, message) in cases {
        std::fs::write(&file, content).unwrap();
        let o = run(
            &[
                "analyse",
                "paired",
                p(&file),
                "--before",
                "before",
                "--after",
                "after",
                "--format",
                "json",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(1), "{content:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with("error: ") && err.contains(message),
            "{content:?}: {err}"
        );
        assert!(
            !String::from_utf8_lossy(&o.stdout)
                .to_lowercase()
                .contains("nan")
        );
    }
    let o = run(
        &[
            "analyse",
            "paired",
            "/no/such/file.csv",
            "--before",
            "a",
            "--after",
            "b",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("could not read /no/such/file.csv"),
        "{}",
        text(&o)
    );
    let o = run(&["analyse", "paired", p(&file), "--before", "a"], None);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a missing option is a usage error"
    );
}

#[test]
fn score_and_instrument_check_work_on_files() {
    let dir = temp_dir();
    let answers = dir.join("answers.csv");
    std::fs::write(
        &answers,
        "participant,optimistic,useful,relaxed,dealing_with_problems,thinking_clearly,close_to_others,own_mind\n\
         P1,4,4,3,4,3,4,4\nP2,4,4,3,,3,4,4\nP3,4,4,3,9,3,4,4\n",
    )
    .unwrap();
    let o = run(&["score", "swemwbs", p(&answers)], None);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "participant,raw,metric,problems");
    assert_eq!(lines[1], "P1,26,23.21,");
    assert!(lines[2].contains("not answered"), "{out}");
    assert!(lines[3].contains("9 is not an allowed answer"), "{out}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 rows scored, 2 could not be scored"));
    let o = run(&["score", "no-such-instrument", p(&answers)], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("neither a built-in instrument"),
        "{}",
        text(&o)
    );

    let def = dir.join("check-in.json");
    std::fs::write(
        &def,
        r#"{"id":"check_in","version":1,"name":"Check-in","short_name":"Check-in",
            "licence":{"kind":"open","holder":"Us"},
            "scales":{"five":{"kind":"numeric","min":1,"max":5}},
            "items":[{"id":"mood","scale":"agree5","text":"Mood?"}],
            "scores":[{"id":"total","label":"Total","method":"sum"}]}"#,
    )
    .unwrap();
    let o = run(&["instrument", "check", p(&def)], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("items[0].scale: unknown scale \"agree5\""),
        "{}",
        text(&o)
    );
    std::fs::write(
        &def,
        std::fs::read_to_string(&def)
            .unwrap()
            .replace("agree5", "five"),
    )
    .unwrap();
    let o = run(&["instrument", "check", p(&def)], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("valid"));
    let o = run(&["instrument", "show", "swemwbs"], None);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"licensed_wording_not_shipped\""));
}

#[test]
fn directory_import_oruk_names_the_file_and_what_is_wrong_with_it() {
    let dir = temp_dir();
    let db = dir.join("import.db");
    assert!(
        run(&["migrate", "--database", p(&db)], None)
            .status
            .success()
    );
    let import = |source: &Path| {
        run(
            &["directory", "import-oruk", "--database", p(&db), p(source)],
            None,
        )
    };
    // Not JSON: exit 2, the file, the reason, the line and column.
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\n  \"id\": oops\n}").unwrap();
    let o = import(&broken);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(p(&broken)) && out.contains("not valid JSON") && out.contains("line 2"),
        "{out}"
    );
    // A folder without JSON files is not an empty success.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = import(&empty);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no .json files"), "{}", text(&o));
    // A service that breaks the profile's rules: exit 1, the file, the item and the field.
    let feed = dir.join("feed.json");
    let good = "01a24e4a-b608-75a9-99b8-f16783d8df3b";
    std::fs::write(
        &feed,
        format!(
            r#"[{{"id": "abc", "name": "Bad", "status": "active"}},
                {{"id": "{good}", "name": "Good Singers", "status": "active",
                  "cost_options": [{{"id": "01a24e4a-b608-75a9-99b8-f16783d8df3c", "option": "Pay what you can", "amount_description": "Pay what you can (bursary available)"}}]}}]"#
        ),
    )
    .unwrap();
    let o = import(&feed);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("1 created") && out.contains("1 rejected"),
        "{out}"
    );
    assert!(
        out.contains(&format!("rejected {} item 1 (abc)", p(&feed)))
            && out.contains("id: \"abc\" is not a UUID"),
        "{out}"
    );
}

#[test]
fn score_ons4_scores_each_answered_question_when_one_is_blank() {
    let dir = temp_dir();
    let answers = dir.join("ons4.csv");
    std::fs::write(
        &answers,
        "participant,life_satisfaction,worthwhile,happiness,anxiety\nA,6,,7,2\nB,,,,\n",
    )
    .unwrap();
    let o = run(&["score", "ons4", p(&answers)], None);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[1], "A,6,medium,,,7,high,2,low,", "{out}");
    assert!(
        lines[2].contains("ONS4 cannot be scored: no question was answered"),
        "{out}"
    );
}

#[test]
fn a_csv_naming_a_column_twice_is_refused_naming_the_column() {
    let dir = temp_dir();
    let file = dir.join("twice.csv");
    std::fs::write(
        &file,
        "id,before,after,before\n1,20,22,30\n2,21,25,31\n3,18,20,32\n",
    )
    .unwrap();
    let o = run(
        &[
            "analyse",
            "paired",
            p(&file),
            "--before",
            "before",
            "--after",
            "after",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o)
            .contains("the column \"before\" appears twice in the header row (columns 2 and 4)"),
        "{}",
        text(&o)
    );
    std::fs::write(
        &file,
        "participant,life_satisfaction,worthwhile,happiness,anxiety,anxiety\nA,6,9,7,2,3\n",
    )
    .unwrap();
    let o = run(&["score", "ons4", p(&file)], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("the column \"anxiety\" appears twice"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_csv_row_with_extra_fields_is_refused_naming_its_line_and_field_counts() {
    let dir = temp_dir();
    let file = dir.join("ragged.csv");
    std::fs::write(
        &file,
        "participant,life_satisfaction,worthwhile,happiness,anxiety\nA,6,9,7,2\nB,5,5,5,5,oops\n",
    )
    .unwrap();
    let o = run(&["score", "ons4", p(&file)], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("line 3: expected 5 fields, as in the header row, but found 6"),
        "{t}"
    );
    assert!(!t.contains("could not write"), "{t}");
    std::fs::write(&file, "id,before,after\n1,20,22\n2,21,25,9\n3,18,20\n").unwrap();
    let o = run(
        &[
            "analyse",
            "paired",
            p(&file),
            "--before",
            "before",
            "--after",
            "after",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("line 3: expected 3 fields, as in the header row, but found 4"),
        "{}",
        text(&o)
    );
}

#[test]
fn score_output_writes_cells_a_spreadsheet_would_run_as_text_and_keeps_numbers_numeric() {
    let dir = temp_dir();
    let file = dir.join("formula.csv");
    std::fs::write(
        &file,
        "participant,note,life_satisfaction,worthwhile,happiness,anxiety\n\
         =HYPERLINK(\"http://example.org\"),@SUM(1),6,9,7,2\n\
         -3,+44 151,5,5,5,5\n",
    )
    .unwrap();
    let o = run(&["score", "ons4", p(&file)], None);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[1].starts_with("\"'=HYPERLINK(\"\"http://example.org\"\")\",'@SUM(1),6,"),
        "{out}"
    );
    assert!(lines[2].starts_with("-3,'+44 151,5,medium"), "{out}");
}

#[test]
fn user_token_create_prints_only_a_token_with_the_scopes_asked_for_and_names_bad_input() {
    let dir = temp_dir();
    let db = dir.join("tokens.db");
    assert!(
        run(&["migrate", "--database", p(&db)], None)
            .status
            .success()
    );
    let o = run(
        &[
            "user",
            "create",
            "--database",
            p(&db),
            "--email",
            "t@example.org",
            "--name",
            "Tess",
            "--password-stdin",
        ],
        Some("orange-kettle-meadow\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let create = |email: &str, scope: &str| {
        run(
            &[
                "user",
                "token",
                "create",
                "--database",
                p(&db),
                "--email",
                email,
                "--name",
                "schemathesis",
                "--scope",
                scope,
                "--expires-in-days",
                "1",
            ],
            None,
        )
    };
    let o = create("t@example.org", "everything:write");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--scope: Unknown scope \"everything:write\""),
        "{}",
        text(&o)
    );
    let o = create("nobody@example.org", "account:read");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--email: No account has the email address \"nobody@example.org\""),
        "{}",
        text(&o)
    );
    let o = create("T@example.org", "account:read");
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("ens_") && out.trim().len() > 30, "{out}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("shown only this once"));
    let o = run(&["audit", "verify", "--database", p(&db)], None);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn area_summary_prints_a_district_from_imported_files_and_names_what_is_unknown() {
    let dir = temp_dir();
    let db = dir.join("area.db");
    let file7 = dir.join("file7.csv");
    std::fs::write(
        &file7,
        "LSOA code (2021),LSOA name (2021),Local Authority District code (2024),Local Authority District name (2024),Index of Multiple Deprivation (IMD) Score,Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs),Income Score (rate),Total population: mid 2022\n\
         E01000001,Northtown 001A,E06000901,Northtown,60,10,1,0.4,1000\n\
         E01000002,Northtown 001B,E06000901,Northtown,20,9000,3,0.1,3000\n\
         E01000003,St. Southby 001A,E06000902,St. Southby,29,4000,2,0.2,2000\n",
    )
    .unwrap();
    let o = run(
        &[
            "opendata",
            "import",
            "--database",
            p(&db),
            "--iod",
            p(&file7),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("IoD2025: district summaries computed for 2 districts"),
        "{}",
        text(&o)
    );
    let o = run(
        &[
            "area",
            "summary",
            "--database",
            p(&db),
            "--district",
            "st southby",
            "--edition",
            "2025",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["district_code"], "E06000902");
    assert_eq!(j["rank_of_average_score"], 2);
    assert_eq!(j["districts"], 2);
    assert_eq!(j["lsoas_most_deprived_20"], 1);
    // Northtown: (60 x 1000 + 20 x 3000) / 4000 = 30; a quarter of its residents in decile 1.
    let o = run(
        &[
            "area",
            "summary",
            "--database",
            p(&db),
            "--district",
            "E06000901",
            "--edition",
            "2025",
        ],
        None,
    );
    let t = text(&o);
    assert!(
        o.status.success() && t.contains("30.000") && t.contains("0.2500"),
        "{t}"
    );
    let o = run(
        &[
            "area",
            "summary",
            "--database",
            p(&db),
            "--district",
            "Nowhere",
        ],
        None,
    );
    assert!(
        !o.status.success() && text(&o).contains("no district \"Nowhere\""),
        "{}",
        text(&o)
    );
    let o = run(
        &[
            "area",
            "summary",
            "--database",
            p(&db),
            "--district",
            "Northtown",
            "--edition",
            "2019",
        ],
        None,
    );
    assert!(
        !o.status.success() && text(&o).contains("is not in IoD2019"),
        "{}",
        text(&o)
    );
    let o = run(
        &[
            "area",
            "summary",
            "--database",
            p(&db),
            "--district",
            "Northtown",
            "--edition",
            "2020",
        ],
        None,
    );
    assert!(
        !o.status.success() && text(&o).contains("not \"2020\""),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}
