//! The `ensemble` command.

#![forbid(unsafe_code)]

mod analyse;
mod score;

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use ensemble::config::{Config, database_url_from};
use ensemble::db::Db;
use ensemble::error::AppError;
use ensemble::modules::accounts::service;
use ensemble::rbac::Role;
use ensemble::{AppState, build_router};

/// Ensemble: co-produced community creative health — referral, activities, sessions,
/// wellbeing, evaluation and commissioning in one open platform.
#[derive(Parser)]
#[command(name = "ensemble", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (and the background job worker).
    Serve(ServeArgs),
    /// Load the fictional Liverpool City Region demo data and serve it.
    Demo(DemoArgs),
    /// Create or update the database schema.
    Migrate(DbArgs),
    /// Manage accounts from the command line.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent backup while the server runs (SQLite: a database file; PostgreSQL: pg_dump custom format).
    Backup(BackupArgs),
    /// Restore a backup into a new, empty database.
    Restore(RestoreArgs),
    /// Run only the background job worker (for scaling out beside `serve --no-worker`); takes
    /// the same settings as `serve` (mail, sessions), ignoring the listening address.
    Worker(ServeArgs),
    /// Manage organisations from the command line (for example, the first one, to hold the
    /// first administrator).
    #[command(subcommand)]
    Organisation(OrganisationCommand),
    /// Directory tools.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Referral tools.
    #[command(subcommand)]
    Referrals(ReferralsCommand),
    /// Practitioner toolkit tools.
    #[command(subcommand)]
    Practice(PracticeCommand),
    /// Load official open data (postcodes, small-area centroids).
    #[command(subcommand)]
    Opendata(OpendataCommand),
    /// Statistics for evaluators, on CSV files (no database needed).
    #[command(subcommand)]
    Analyse(AnalyseCommand),
    /// Score item-level answers with an instrument: INSTRUMENT is a built-in id (ons4,
    /// ons_loneliness, swemwbs, wemwbs) or a definition file; FILE.csv has one column per
    /// question id (blank = unanswered) and any other columns, which are copied through.
    /// Writes the rows with their scores, bands and problems as CSV.
    Score {
        instrument: String,
        /// CSV file (`-` reads standard input).
        file: PathBuf,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Instrument definitions.
    #[command(subcommand)]
    Instrument(InstrumentCommand),
    /// Stored measures.
    #[command(subcommand)]
    Measures(MeasuresCommand),
}

#[derive(Subcommand)]
enum PracticeCommand {
    /// Generate an organisation with practitioners, a year of sessions, register marks and
    /// observations for benchmarks (marked as generated; never run on a live database).
    Generate {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        practitioners: u32,
        #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        sessions: u32,
        #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
        marks: u32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum MeasuresCommand {
    /// Recompute every completed measure's scores from its stored answers and the definition
    /// of the version it was collected with (after a scoring fix, for example).
    Recompute(DbArgs),
}

#[derive(Subcommand)]
enum InstrumentCommand {
    /// Check a definition file against the format (docs/INSTRUMENTS.md), listing every problem
    /// with its path.
    Check { file: PathBuf },
    /// Print a built-in definition as JSON (licensed instruments carry no wording).
    Show { id: String },
}

#[derive(Subcommand)]
enum AnalyseCommand {
    /// Paired before/after analysis of two columns: means, mean change with its 95% CI,
    /// paired t-test, Cohen's d_z and the Wilcoxon signed-rank test. Rows with a blank in
    /// either column are dropped and counted.
    Paired {
        /// CSV file with a header row (`-` reads standard input).
        file: PathBuf,
        /// Column holding the first (baseline) score.
        #[arg(long)]
        before: String,
        /// Column holding the second (follow-up) score.
        #[arg(long)]
        after: String,
        /// Output: a table for people, or one JSON object.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
enum OrganisationCommand {
    /// Create an organisation.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// Its name (unique).
        #[arg(long)]
        name: String,
        /// nhs_trust, cultural_organisation, community_group, university, combined_authority_or_council or gp_practice_or_pcn.
        #[arg(long)]
        kind: String,
        /// Borough or local authority area.
        #[arg(long, default_value = "")]
        borough: String,
    },
}

#[derive(Subcommand)]
enum ReferralsCommand {
    /// Show, or with --organisation set, the team that receives self-referrals and FHIR
    /// referrals from accounts that are not link workers (default: the first organisation
    /// with link workers, by name).
    IntakeTeam {
        #[command(flatten)]
        db: DbArgs,
        /// Organisation name or id; it must have at least one link worker.
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Generate a link-worker team with many referrals, for benchmarks. Prints the
    /// benchmark link worker's sign-in and an API token for FHIR intake: use a throwaway
    /// database, never a live one.
    Generate {
        #[command(flatten)]
        db: DbArgs,
        /// Referrals in the team.
        #[arg(long, default_value_t = 10_000)]
        referrals: usize,
        /// Open referrals on the benchmark link worker's own caseload.
        #[arg(long, default_value_t = 250)]
        caseload: usize,
        /// Link workers in the team.
        #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=1000))]
        link_workers: u32,
        /// Random seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Generate a national-scale directory for benchmarks (marked as generated; never use on a
    /// live installation).
    Generate {
        #[command(flatten)]
        db: DbArgs,
        /// Activities to create.
        #[arg(long, default_value_t = 100_000)]
        activities: usize,
        /// Venue links to create (one per activity, the rest second venues).
        #[arg(long, default_value_t = 150_000)]
        locations: usize,
        /// Organisations owning them.
        #[arg(long, default_value_t = 2_000)]
        organisations: usize,
        /// Random seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Import services from an Open Referral UK 3.0 feed: an API base URL (its /services pages
    /// are followed), a /services JSON export, a single service file, or a folder of JSON files.
    /// Services are matched on their source id, so importing again changes nothing. Exits 1
    /// when any service was rejected.
    ImportOruk {
        #[command(flatten)]
        db: DbArgs,
        /// URL, file or folder.
        source: String,
    },
}

#[derive(Subcommand)]
enum OpendataCommand {
    /// Import postcode coordinates/LSOAs and LSOA population-weighted centroids. With no files
    /// given, loads the Liverpool City Region files from the shared data folder. A second import
    /// of the same files changes nothing.
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// Postcode file (CSV or .csv.gz; ONS Postcode Directory columns pcds, lat, long, lsoa21/lsoa11, or the shared LCR layout).
        #[arg(long)]
        postcodes: Vec<PathBuf>,
        /// LSOA centroid file (CSV or .csv.gz with LSOA code, latitude and longitude columns).
        #[arg(long)]
        centroids: Vec<PathBuf>,
        /// Folder with the shared reference data.
        #[arg(long, env = "ENSEMBLE_SHARED_DIR", default_value = "../shared")]
        shared_dir: PathBuf,
    },
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Database: a SQLite file path, `sqlite://path`, or a `postgres://` URL.
    #[arg(long, env = "ENSEMBLE_DATABASE_URL", default_value = "ensemble.db")]
    database: String,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "ENSEMBLE_BIND", default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on.
    #[arg(long, env = "ENSEMBLE_PORT", default_value_t = 8080)]
    port: u16,
    /// Public base URL, used in emails; `https://` turns on Secure cookies and HSTS.
    #[arg(long, env = "ENSEMBLE_BASE_URL")]
    base_url: Option<String>,
    /// Force the Secure cookie attribute (e.g. behind a TLS-terminating proxy).
    #[arg(long, env = "ENSEMBLE_COOKIE_SECURE")]
    cookie_secure: Option<bool>,
    /// Minutes without activity before a session ends.
    #[arg(long, env = "ENSEMBLE_SESSION_IDLE_MINUTES", default_value_t = 30)]
    session_idle_minutes: u64,
    /// Hours after sign-in when a session ends regardless.
    #[arg(long, env = "ENSEMBLE_SESSION_ABSOLUTE_HOURS", default_value_t = 12)]
    session_absolute_hours: u64,
    /// Require staff roles to use TOTP two-step sign-in.
    #[arg(long, env = "ENSEMBLE_REQUIRE_STAFF_MFA", default_value_t = true, action = clap::ArgAction::Set)]
    require_staff_mfa: bool,
    /// SMTP server for email, e.g. `smtps://user:pass@smtp.example.org` or `smtp://localhost:25`; unset keeps email in the outbox.
    #[arg(long, env = "ENSEMBLE_SMTP_URL")]
    smtp_url: Option<String>,
    /// From address for email.
    #[arg(
        long,
        env = "ENSEMBLE_MAIL_FROM",
        default_value = "Ensemble <no-reply@ensemble.invalid>"
    )]
    mail_from: String,
    /// Bearer token required to read /metrics (unset: open; bind to a private network).
    #[arg(long, env = "ENSEMBLE_METRICS_TOKEN")]
    metrics_token: Option<String>,
    /// Behind a reverse proxy: take the client address (for sign-in rate limits) from the
    /// last X-Forwarded-For entry (the address the proxy saw). Only set this behind a proxy.
    #[arg(long, env = "ENSEMBLE_TRUST_PROXY")]
    trust_proxy: bool,
    /// Do not run the job worker in this process.
    #[arg(long, env = "ENSEMBLE_NO_WORKER")]
    no_worker: bool,
    /// Folder with the shared reference data (open data, standards).
    #[arg(long, env = "ENSEMBLE_SHARED_DIR", default_value = "../shared")]
    shared_dir: PathBuf,
    /// The HL7 FHIR R4 JSON Schema used to check FHIR referrals (default: the copy in the
    /// shared folder, standards/fhir/r4-json-schema/fhir.schema.json).
    #[arg(long, env = "ENSEMBLE_FHIR_SCHEMA")]
    fhir_schema: Option<PathBuf>,
    /// A new referral's first contact is due within this many working days.
    #[arg(long, env = "ENSEMBLE_FIRST_CONTACT_WORKING_DAYS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=30))]
    first_contact_working_days: u32,
    /// Hours a provider has to answer a referral before a reminder; after as many hours
    /// again the referral returns to the link worker.
    #[arg(long, env = "ENSEMBLE_PROVIDER_RESPONSE_HOURS", default_value_t = 72, value_parser = clap::value_parser!(u64).range(1..=2160))]
    provider_response_hours: u64,
    /// Log format: `text` or `json`.
    #[arg(long, env = "ENSEMBLE_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

#[derive(Args)]
struct DemoArgs {
    /// Port to listen on.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Demo database file (created, or reused if it exists).
    #[arg(long, default_value = "ensemble-demo.db")]
    database: String,
    /// Also write the demo accounts as JSON to this file (for browser tests).
    #[arg(long)]
    accounts_file: Option<PathBuf>,
    /// Folder with the shared open data; the demo loads postcodes from it when present.
    #[arg(long, env = "ENSEMBLE_SHARED_DIR", default_value = "../shared")]
    shared_dir: PathBuf,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input, or generated and printed.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// Email address (used to sign in).
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Organisation (name or id) for the first role.
        #[arg(long, requires = "role")]
        organisation: Option<String>,
        /// Role in that organisation: participant, practitioner, link_worker, clinician, programme_manager, researcher, commissioner or administrator.
        #[arg(long, requires = "organisation")]
        role: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts with their roles.
    List(DbArgs),
    /// Disable an account and end its sessions.
    Disable {
        #[command(flatten)]
        db: DbArgs,
        /// Email address.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account.
    Enable {
        #[command(flatten)]
        db: DbArgs,
        /// Email address.
        #[arg(long)]
        email: String,
    },
    /// Set a new password (read from standard input, or generated and printed), unlock the account and end its sessions.
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        /// Email address.
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit 1 naming the first row that was edited, deleted or inserted out of turn.
    Verify(DbArgs),
}

#[derive(Args)]
struct BackupArgs {
    #[command(flatten)]
    db: DbArgs,
    /// File to write (must not exist).
    file: PathBuf,
}

#[derive(Args)]
struct RestoreArgs {
    /// Backup file to read.
    file: PathBuf,
    /// Target database (a new SQLite file path, or an empty PostgreSQL database URL).
    #[arg(long, env = "ENSEMBLE_DATABASE_URL")]
    database: String,
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ENSEMBLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn config_from(args: &ServeArgs) -> Config {
    let mut cfg = Config::for_database(database_url_from(&args.db.database));
    cfg.base_url = args
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}:{}", args.bind, args.port));
    cfg.cookie_secure = args.cookie_secure.unwrap_or_else(|| cfg.is_https());
    cfg.session_idle = Duration::from_secs(args.session_idle_minutes.max(1) * 60);
    cfg.session_absolute = Duration::from_secs(args.session_absolute_hours.max(1) * 3600);
    cfg.require_staff_mfa = args.require_staff_mfa;
    cfg.smtp_url = args.smtp_url.clone();
    cfg.mail_from = args.mail_from.clone();
    cfg.metrics_token = args.metrics_token.clone();
    cfg.run_worker = !args.no_worker;
    cfg.trust_proxy = args.trust_proxy;
    cfg.shared_dir = args.shared_dir.clone();
    cfg.fhir_schema = args.fhir_schema.clone();
    cfg.first_contact_working_days = args.first_contact_working_days;
    cfg.provider_response_time = Duration::from_secs(args.provider_response_hours * 3600);
    cfg
}

async fn open(database: &str) -> anyhow::Result<Db> {
    let url = database_url_from(database);
    Db::connect_and_migrate(&url)
        .await
        .with_context(|| format!("opening the database {}", redact(&url)))
}

/// Hide the password in a database URL.
fn redact(url: &str) -> String {
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

async fn serve(cfg: Config, bind: &str, port: u16) -> anyhow::Result<()> {
    let db = Db::connect_and_migrate(&cfg.database_url)
        .await
        .with_context(|| format!("opening the database {}", redact(&cfg.database_url)))?;
    let state = AppState::new(cfg, db).await?;
    if state.cfg.run_worker {
        tokio::spawn(ensemble::jobs::worker(state.clone()));
    }
    // Read and compile the FHIR R4 schema in the background, not on the first referral.
    let warm = state.clone();
    tokio::task::spawn_blocking(move || {
        if ensemble::modules::referrals::fhir::schema(&warm).preload() {
            tracing::info!(path = %ensemble::modules::referrals::fhir::schema(&warm).path().display(), "FHIR R4 JSON Schema loaded");
        } else {
            tracing::warn!(path = %ensemble::modules::referrals::fhir::schema(&warm).path().display(), "FHIR R4 JSON Schema not available: FHIR referrals are checked with Ensemble's own rules only (set ENSEMBLE_FHIR_SCHEMA)");
        }
    });
    let app = build_router(state.clone());
    let listener = tokio::net::TcpListener::bind((bind, port))
        .await
        .with_context(|| {
            format!("listening on {bind}:{port} (is another program using the port? try --port)")
        })?;
    tracing::info!(address = %format!("http://{bind}:{port}"), "serving");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    state.db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn bar(label: &str) -> indicatif::ProgressBar {
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

/// Import files with progress bars and a summary; true when any row was rejected.
async fn import_files(
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

fn read_or_generate_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from standard input")?;
        let p = s.trim_end_matches(['\n', '\r']).to_string();
        if p.is_empty() {
            bail!(
                "no password on standard input; pipe one in, or leave out --password-stdin to generate one"
            );
        }
        Ok((p, false))
    } else {
        Ok((ensemble::auth::secret::random_token(15), true))
    }
}

fn explain(e: AppError) -> anyhow::Error {
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

async fn state_for(db_arg: &str) -> anyhow::Result<AppState> {
    let db = open(db_arg).await?;
    AppState::new(Config::for_database(database_url_from(db_arg)), db).await
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Analyse(_) | Command::Score { .. } | Command::Instrument(_) => {
            bail!("file commands run without the runtime")
        }
        Command::Practice(PracticeCommand::Generate {
            db,
            practitioners,
            sessions,
            marks,
            seed,
        }) => {
            let state = state_for(&db.database).await?;
            let g = ensemble::modules::practice::generate::generate(
                &state,
                ensemble::modules::practice::generate::Scale {
                    practitioners: practitioners as usize,
                    sessions: sessions as usize,
                    marks: marks as usize,
                    seed,
                },
            )
            .await
            .map_err(explain)?;
            state.db.close().await;
            println!(
                "Generated {practitioners} practitioners, {sessions} sessions and {marks} register marks."
            );
            println!("practitioner: {}", g.practitioner_email);
            println!("manager: {}", g.manager_email);
            println!("password: {}", g.password);
            println!("organisation: {}", g.organisation_id);
            println!("session: {}", g.session_id);
        }
        Command::Measures(MeasuresCommand::Recompute(db)) => {
            let state = state_for(&db.database).await?;
            let (done, changed) = ensemble::modules::measures::service::recompute_all(&state)
                .await
                .map_err(explain)?;
            println!(
                "{done} completed measures recomputed; {changed} had different scores and were updated."
            );
        }
        Command::Serve(args) => {
            init_logging(args.log_format == "json");
            let cfg = config_from(&args);
            serve(cfg, &args.bind, args.port).await?;
        }
        Command::Demo(args) => {
            init_logging(false);
            let url = database_url_from(&args.database);
            let mut cfg = Config::for_database(url.clone());
            cfg.base_url = format!("http://{}:{}", args.bind, args.port);
            cfg.require_staff_mfa = false;
            cfg.shared_dir = args.shared_dir.clone();
            let db = open(&args.database).await?;
            let state = AppState::new(cfg.clone(), db).await?;
            let (postcodes, _) = ensemble::modules::places::counts(&state.db).await?;
            if postcodes == 0 {
                let (p, c) = ensemble::modules::places::import::shared_files(&args.shared_dir);
                if p.is_empty() {
                    println!(
                        "Open data not found under {}: postcode search will say so; words and filters still work.",
                        args.shared_dir.display()
                    );
                } else {
                    import_files(&state, &p, &c).await?;
                }
            }
            let loaded = ensemble::demo::seed(&state).await.map_err(explain)?;
            state.db.close().await;
            if let Some(path) = &args.accounts_file {
                std::fs::write(
                    path,
                    serde_json::to_string_pretty(ensemble::demo::ACCOUNTS)?,
                )
                .with_context(|| format!("writing {}", path.display()))?;
            }
            println!();
            println!(
                "Ensemble demo ({}): {}",
                if loaded {
                    "demo data loaded"
                } else {
                    "reusing existing demo data"
                },
                args.database
            );
            println!(
                "Every organisation and person in it is fictional. Two-step sign-in is not forced for demo accounts."
            );
            println!();
            println!("  {:<18} {:<44} password", "role", "email");
            for a in ensemble::demo::ACCOUNTS {
                println!("  {:<18} {:<44} {}", a.role, a.email, a.password);
            }
            println!();
            println!(
                "Open http://{}:{}/ and sign in with one of the accounts above. Press Ctrl+C to stop.",
                args.bind, args.port
            );
            println!();
            serve(cfg, &args.bind, args.port).await?;
        }
        Command::Migrate(db) => {
            let d = open(&db.database).await?;
            d.close().await;
            println!(
                "The database is up to date ({} migrations).",
                ensemble::db::MIGRATIONS.len()
            );
        }
        Command::User(cmd) => return user(cmd).await,
        Command::Audit(AuditCommand::Verify(db)) => {
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
        }
        Command::Backup(args) => {
            let d = open(&args.db.database).await?;
            ensemble::backup::backup(&d, &database_url_from(&args.db.database), &args.file).await?;
            d.close().await;
            println!("Backup written to {}.", args.file.display());
        }
        Command::Restore(args) => {
            ensemble::backup::restore(&args.file, &database_url_from(&args.database)).await?;
            println!(
                "Restored {} into {}.",
                args.file.display(),
                redact(&database_url_from(&args.database))
            );
        }
        Command::Directory(DirectoryCommand::Generate {
            db,
            activities,
            locations,
            organisations,
            seed,
        }) => {
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
        }
        Command::Referrals(ReferralsCommand::IntakeTeam { db, organisation }) => {
            let state = state_for(&db.database).await?;
            if let Some(org) = organisation {
                let o = service::find_organisation(&state, &org)
                    .await
                    .map_err(explain)?
                    .with_context(|| format!("--organisation: no organisation called \"{org}\""))?;
                ensemble::modules::referrals::service::set_intake_team_as_operator(&state, &o.id)
                    .await
                    .map_err(explain)?;
            }
            let current = ensemble::modules::referrals::service::intake_team(&state)
                .await
                .map_err(explain)?;
            let name = match &current {
                Some(id) => service::find_organisation(&state, id)
                    .await
                    .map_err(explain)?
                    .map(|o| o.name)
                    .unwrap_or_default(),
                None => String::new(),
            };
            state.db.close().await;
            match current {
                Some(_) => println!("Self-referrals and FHIR referrals go to: {name}"),
                None => println!(
                    "No organisation has link workers yet: self-referral is closed until one does."
                ),
            }
        }
        Command::Referrals(ReferralsCommand::Generate {
            db,
            referrals,
            caseload,
            link_workers,
            seed,
        }) => {
            if caseload > referrals {
                bail!("--caseload ({caseload}) must not exceed --referrals ({referrals})");
            }
            let state = state_for(&db.database).await?;
            let pb = bar("generating referrals");
            let scale = ensemble::modules::referrals::generate::Scale {
                referrals,
                caseload,
                link_workers: link_workers as usize,
                seed,
            };
            let g = ensemble::modules::referrals::generate::generate(&state, scale, |n| {
                pb.set_position(n as u64)
            })
            .await
            .map_err(explain)?;
            pb.finish_and_clear();
            state.db.close().await;
            println!(
                "Generated {referrals} referrals ({caseload} on the benchmark caseload) for {link_workers} link workers."
            );
            println!("link worker: {}", g.email);
            println!("password: {}", g.password);
            println!("fhir token: {}", g.token);
        }
        Command::Directory(DirectoryCommand::ImportOruk { db, source }) => {
            use ensemble::modules::directory::import_oruk;
            let state = state_for(&db.database).await?;
            let src = source.clone();
            let docs =
                tokio::task::spawn_blocking(move || import_oruk::read_source(&src)).await??;
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
            return Ok(i32::from(!report.rejected.is_empty()));
        }
        Command::Opendata(OpendataCommand::Import {
            db,
            postcodes,
            centroids,
            shared_dir,
        }) => {
            let state = state_for(&db.database).await?;
            let (p, c) = if postcodes.is_empty() && centroids.is_empty() {
                let (p, c) = ensemble::modules::places::import::shared_files(&shared_dir);
                if p.is_empty() && c.is_empty() {
                    bail!(
                        "no open data files given, and none found under {} (set --shared-dir or ENSEMBLE_SHARED_DIR, or pass --postcodes/--centroids)",
                        shared_dir.display()
                    );
                }
                (p, c)
            } else {
                (postcodes, centroids)
            };
            let failed = import_files(&state, &p, &c).await?;
            state.db.close().await;
            return Ok(i32::from(failed));
        }
        Command::Worker(args) => {
            init_logging(args.log_format == "json");
            let cfg = config_from(&args);
            let db = open(&args.db.database).await?;
            let state = AppState::new(cfg, db).await?;
            tracing::info!("job worker running");
            ensemble::jobs::worker(state).await;
        }
        Command::Organisation(OrganisationCommand::Create {
            db,
            name,
            kind,
            borough,
        }) => {
            let state = state_for(&db.database).await?;
            let org = service::create_organisation_as_operator(
                &state,
                &ensemble::modules::accounts::service::OrganisationInput {
                    name,
                    kind,
                    borough,
                    ..Default::default()
                },
            )
            .await
            .map_err(explain)?;
            println!("Created organisation {} ({}).", org.name, org.id);
        }
    }
    Ok(0)
}

async fn user(cmd: UserCommand) -> anyhow::Result<i32> {
    match cmd {
        UserCommand::Create {
            db,
            email,
            name,
            organisation,
            role,
            password_stdin,
        } => {
            let state = state_for(&db.database).await?;
            let membership = match (organisation, role) {
                (Some(org), Some(role)) => {
                    let r = Role::from_code(&role).with_context(|| format!("--role: unknown role \"{role}\"; use one of participant, practitioner, link_worker, clinician, programme_manager, researcher, commissioner, administrator"))?;
                    let o = service::find_organisation(&state, &org)
                        .await
                        .map_err(explain)?
                        .with_context(|| {
                            format!("--organisation: no organisation called \"{org}\"")
                        })?;
                    Some((o.id, r))
                }
                _ => None,
            };
            let (password, generated) = read_or_generate_password(password_stdin)?;
            let id = service::create_user_as_operator(
                &state,
                &email,
                &name,
                &password,
                membership.as_ref().map(|(o, r)| (o.as_str(), *r)),
            )
            .await
            .map_err(explain)?;
            println!("Created account {id} for {}.", email.trim().to_lowercase());
            if generated {
                println!("Password: {password}");
                println!("Give it to them securely; they can change it under My account.");
            }
        }
        UserCommand::List(db) => {
            let state = state_for(&db.database).await?;
            let users = service::list_users_as_operator(&state)
                .await
                .map_err(explain)?;
            println!("{:<38} {:<40} {:<9} roles", "id", "email", "status");
            for (u, ms) in users {
                let roles = ms
                    .iter()
                    .map(|m| format!("{} @ {}", m.role.code(), m.organisation_name))
                    .collect::<Vec<_>>()
                    .join("; ");
                let status = if u.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!("{:<38} {:<40} {:<9} {}", u.id, u.email, status, roles);
            }
        }
        UserCommand::Disable { db, email } => {
            let state = state_for(&db.database).await?;
            service::set_disabled_as_operator(&state, &email, true)
                .await
                .map_err(explain)?;
            println!("Disabled {email} and ended its sessions.");
        }
        UserCommand::Enable { db, email } => {
            let state = state_for(&db.database).await?;
            service::set_disabled_as_operator(&state, &email, false)
                .await
                .map_err(explain)?;
            println!("Enabled {email}.");
        }
        UserCommand::ResetPassword {
            db,
            email,
            password_stdin,
        } => {
            let state = state_for(&db.database).await?;
            let (password, generated) = read_or_generate_password(password_stdin)?;
            service::reset_password_as_operator(&state, &email, &password)
                .await
                .map_err(explain)?;
            println!("Password reset for {email}; the account is unlocked and its sessions ended.");
            if generated {
                println!("Password: {password}");
            }
        }
    }
    Ok(0)
}

/// File analyses run without the async runtime: they are pure computation.
fn run_analyse(cmd: AnalyseCommand) -> std::process::ExitCode {
    let AnalyseCommand::Paired {
        file,
        before,
        after,
        format,
    } = cmd;
    let outcome = analyse::read_input(&file)
        .and_then(|data| analyse::read_pairs(&data, &before, &after))
        .and_then(|pairs| analyse::analyse(&pairs).map(|r| (r, pairs.dropped)));
    match outcome {
        Ok((result, dropped)) => {
            let text = match format {
                Format::Json => format!("{}\n", analyse::to_json(&result, dropped)),
                Format::Table => analyse::to_table(&result, dropped, &before, &after),
            };
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::Write::write_all(&mut stdout, text.as_bytes());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run_score(
    instrument: &str,
    file: &std::path::Path,
    output: Option<&std::path::Path>,
) -> std::process::ExitCode {
    let outcome = score::load_instrument(instrument).and_then(|d| {
        let data = analyse::read_input(file)?;
        score::score_file(&d, &data)
    });
    match outcome {
        Ok((csv, scored, refused)) => {
            let written = match output {
                Some(path) => std::fs::write(path, &csv)
                    .map_err(|e| format!("could not write {}: {e}", path.display())),
                None => {
                    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &csv);
                    Ok(())
                }
            };
            if let Err(e) = written {
                eprintln!("error: {e}");
                return std::process::ExitCode::from(1);
            }
            eprintln!("{scored} rows scored, {refused} could not be scored");
            if refused > 0 && scored == 0 {
                std::process::ExitCode::from(1)
            } else {
                std::process::ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run_instrument(cmd: InstrumentCommand) -> std::process::ExitCode {
    match cmd {
        InstrumentCommand::Check { file } => {
            match score::load_instrument(&file.to_string_lossy()) {
                Ok(d) => {
                    println!(
                        "{}: {} ({}), {} questions, {} scores — valid",
                        file.display(),
                        d.name,
                        d.key(),
                        d.items.len(),
                        d.scores.len()
                    );
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::ExitCode::from(1)
                }
            }
        }
        InstrumentCommand::Show { id } => {
            match ensemble::modules::measures::definition::builtin(&id) {
                Some(d) => {
                    let text = serde_json::to_string_pretty(d).unwrap_or_default();
                    let _ = std::io::Write::write_all(
                        &mut std::io::stdout().lock(),
                        format!("{text}\n").as_bytes(),
                    );
                    std::process::ExitCode::SUCCESS
                }
                None => {
                    eprintln!("error: no built-in instrument \"{id}\"");
                    std::process::ExitCode::from(1)
                }
            }
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let cli = match cli.command {
        Command::Analyse(cmd) => return run_analyse(cmd),
        Command::Score {
            instrument,
            file,
            output,
        } => return run_score(&instrument, &file, output.as_deref()),
        Command::Instrument(cmd) => return run_instrument(cmd),
        command => Cli { command },
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(0) => std::process::ExitCode::SUCCESS,
        Ok(code) => std::process::ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
