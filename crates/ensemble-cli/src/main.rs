//! The `ensemble` command: the clap definitions and the dispatch. Each command family is
//! implemented in `commands/`.

#![forbid(unsafe_code)]

mod agreement;
mod analyse;
mod commands;
mod score;

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Parser, Subcommand};

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
    /// Programme tools.
    #[command(subcommand)]
    Programmes(ProgrammesCommand),
    /// Load official open data (postcodes, small-area centroids, boundaries, the English
    /// Indices of Deprivation and small-area lookups).
    #[command(subcommand)]
    Opendata(OpendataCommand),
    /// Area insight: the English Indices of Deprivation by district, and the reach figures.
    #[command(subcommand, alias = "areas")]
    Area(AreaCommand),
    /// Programme evaluation: write a programme's open data package and report, or rebuild
    /// the pre-aggregated figures reports are drawn from.
    #[command(subcommand, alias = "evaluation")]
    Evaluate(EvaluateCommand),
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
    /// Agreement between two coders: percentage agreement and Cohen's kappa of two columns
    /// of codes (one row per item). Rows with a blank in either column are dropped and
    /// counted.
    Agreement {
        /// CSV file with a header row (`-` reads standard input).
        file: PathBuf,
        /// Column holding the first coder's codes.
        #[arg(long)]
        first: String,
        /// Column holding the second coder's codes.
        #[arg(long)]
        second: String,
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
enum ProgrammesCommand {
    /// Generate a programme with members, voices, actions and progress updates for
    /// benchmarks (marked as generated; never run on a live database).
    Generate {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(2..=100_000))]
        members: u32,
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        voices: u32,
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(0..=100_000))]
        actions: u32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
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
enum AreaCommand {
    /// A district's summary for one edition, computed from the imported small-area files:
    /// rank of average score, average score, LSOAs and residents in the most deprived 10% and
    /// 20% nationally. Unknown district or edition: a message and exit status 1.
    Summary {
        #[command(flatten)]
        db: DbArgs,
        /// District name (e.g. Liverpool, "St Helens") or ONS code (e.g. E08000012).
        #[arg(long)]
        district: String,
        /// 2019 or 2025 (default: the installation's edition).
        #[arg(long, env = "ENSEMBLE_IOD_EDITION", default_value = "2025")]
        edition: String,
        /// Output: a table for people, or one JSON object.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Rebuild the pre-aggregated reach figures now (the job does it every ten minutes) and
    /// print how long it took.
    Refresh {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Generate referrals spread over the Liverpool City Region's small areas, activities,
    /// organisations and programmes, with attendance, for benchmarks (marked as generated;
    /// never run on a live database). Import the deprivation data first.
    Generate {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value_t = 1_500_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
        referrals: u32,
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        activities: u32,
        #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        organisations: u32,
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(0..=1_000))]
        programmes: u32,
        #[arg(long, default_value_t = 16)]
        seed: u64,
        /// Also write completed SWEMWBS, ONS4 and service-use responses (a baseline for
        /// most people who attended, a follow-up 10 to 14 weeks later for many), for the
        /// evaluation benchmark.
        #[arg(long)]
        with_measures: bool,
    },
}

#[derive(Subcommand)]
enum EvaluateCommand {
    /// Write a programme's evaluation package into a folder: every table as CSV with a
    /// Frictionless descriptor (datapackage.json), tables.xlsx and report.json. The
    /// evaluators' version: exact counts and row-level results under per-study pseudonyms,
    /// only people who agreed to evaluation; never a name or contact detail.
    Programme {
        #[command(flatten)]
        db: DbArgs,
        /// The programme's name (any case) or id.
        #[arg(long)]
        programme: String,
        /// First day of the period (YYYY-MM-DD; default: since the programme began).
        #[arg(long)]
        from: Option<String>,
        /// Last day of the period (YYYY-MM-DD; default: today).
        #[arg(long)]
        to: Option<String>,
        /// Folder to write (created if missing; files of the same names are replaced).
        #[arg(long)]
        out: PathBuf,
    },
    /// Rebuild every programme's pre-aggregated evaluation figures now (the job does it every
    /// ten minutes) and print how long it took.
    Refresh {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum OpendataCommand {
    /// Import postcode coordinates/LSOAs (2021 and 2011), LSOA population-weighted centroids,
    /// ward and LSOA boundaries (for the maps and for placing venues). With no files given,
    /// loads the Liverpool City Region files from the shared data folder. Afterwards the
    /// small areas stored on people and venues are brought up to date. A second import of
    /// the same files changes nothing.
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// Postcode file (CSV or .csv.gz; ONS Postcode Directory columns pcds, lat, long, lsoa21 and/or lsoa11, or the shared LCR layout).
        #[arg(long)]
        postcodes: Vec<PathBuf>,
        /// LSOA centroid file (CSV or .csv.gz with LSOA code, latitude and longitude columns).
        #[arg(long)]
        centroids: Vec<PathBuf>,
        /// Boundary file (GeoJSON FeatureCollection in WGS84): wards with district codes (WD25CD/LAD25CD; districts and the region outline are dissolved from them), or small areas (LSOA21CD/LSOA21NM or LSOA11CD/LSOA11NM), recognised from the features' properties.
        #[arg(long)]
        boundaries: Vec<PathBuf>,
        /// English Indices of Deprivation or ONS small-area lookup file (recognised from its
        /// header: IoD2019 Files 1, 2, 3, 6, 9, 10; IoD2025 Files 7, 8, 10 v2; LSOA 2011→2021,
        /// LSOA→ward→district, LSOA centroids). District summaries are recomputed afterwards.
        #[arg(long)]
        iod: Vec<PathBuf>,
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
    /// Who sends text messages: `outbox` (keep them in the outbox; the default) or `notify`
    /// (GOV.UK Notify, with ENSEMBLE_NOTIFY_API_KEY and ENSEMBLE_NOTIFY_SMS_TEMPLATE_ID).
    #[arg(long, env = "ENSEMBLE_SMS", default_value = "outbox")]
    sms: String,
    /// GOV.UK Notify API key (with `--sms notify`).
    #[arg(long, env = "ENSEMBLE_NOTIFY_API_KEY", hide_env_values = true)]
    notify_api_key: Option<String>,
    /// GOV.UK Notify template id for text messages: a template whose text is `((body))`.
    #[arg(long, env = "ENSEMBLE_NOTIFY_SMS_TEMPLATE_ID")]
    notify_sms_template_id: Option<String>,
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
    /// Seconds a request waits for a database connection before it is answered 503
    /// ("try again"), so that an outage is reported quickly instead of requests piling up.
    #[arg(long, env = "ENSEMBLE_DB_ACQUIRE_TIMEOUT_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    db_acquire_timeout_seconds: u64,
    /// The edition of the English Indices of Deprivation in use: 2019 or 2025 (area pages
    /// and the API show it first or by default).
    #[arg(long, env = "ENSEMBLE_IOD_EDITION", default_value_t = 2025, value_parser = parse_edition)]
    iod_edition: i64,
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
    /// Personal API tokens of an account.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for an account and print it (only the token, on standard output;
    /// it is shown once). Audited; it can do no more than its scopes and the account's roles allow.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// A name to recognise the token by on the account page.
        #[arg(long)]
        name: String,
        /// What the token may do (repeat for more): account:read, organisations:read, organisations:write, users:read, referrals:write, referrals:read, evaluation:read, measures:read, measures:write, practice:read, programmes:read.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Days until it expires, 1 to 366, or `never`.
        #[arg(long, default_value = "30")]
        expires_in_days: String,
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

/// Run a command that needs the async runtime; the exit code on success.
async fn run(cli: Cli) -> anyhow::Result<i32> {
    use commands::{accounts, directory, operations, pathway, server};
    match cli.command {
        Command::Analyse(_) | Command::Score { .. } | Command::Instrument(_) => {
            bail!("file commands run without the runtime")
        }
        Command::Serve(args) => server::serve_command(args).await,
        Command::Worker(args) => server::worker(args).await,
        Command::Demo(args) => server::demo(args).await,
        Command::Migrate(db) => server::migrate(db).await,
        Command::User(cmd) => accounts::user(cmd).await,
        Command::Organisation(cmd) => accounts::organisation(cmd).await,
        Command::Opendata(cmd) => directory::opendata(cmd).await,
        Command::Area(cmd) => commands::area::area(cmd).await,
        Command::Evaluate(cmd) => commands::evaluate::evaluate(cmd).await,
        Command::Directory(cmd) => directory::directory(cmd).await,
        Command::Referrals(cmd) => pathway::referrals(cmd).await,
        Command::Practice(cmd) => pathway::practice(cmd).await,
        Command::Programmes(cmd) => pathway::programmes(cmd).await,
        Command::Measures(cmd) => pathway::measures(cmd).await,
        Command::Audit(cmd) => operations::audit(cmd).await,
        Command::Backup(args) => operations::backup(args).await,
        Command::Restore(args) => operations::restore(args).await,
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let cli = match cli.command {
        Command::Analyse(cmd) => return commands::files::run_analyse(cmd),
        Command::Score {
            instrument,
            file,
            output,
        } => return commands::files::run_score(&instrument, &file, output.as_deref()),
        Command::Instrument(cmd) => return commands::files::run_instrument(cmd),
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

/// `ENSEMBLE_IOD_EDITION` / `--iod-edition`: 2019 or 2025.
fn parse_edition(s: &str) -> Result<i64, String> {
    ensemble::modules::areas::Edition::parse(s).map(ensemble::modules::areas::Edition::year)
}
