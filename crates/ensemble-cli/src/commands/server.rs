//! `ensemble serve`, `worker`, `demo` and `migrate`: running the server and the job worker,
//! loading the demo, and bringing the schema up to date.

use std::time::Duration;

use anyhow::Context;
use ensemble::config::{Config, database_url_from};
use ensemble::db::Db;
use ensemble::{AppState, build_router};

use super::directory::{import_boundaries, import_files, refresh_small_areas};
use super::{explain, open, redact};
use crate::{DbArgs, DemoArgs, ServeArgs};

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

fn config_from(args: &ServeArgs) -> anyhow::Result<Config> {
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
    cfg.sms = ensemble::config::SmsProvider::from_settings(
        &args.sms,
        args.notify_api_key.as_deref(),
        args.notify_sms_template_id.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    ensemble::notify::sms::sender_for(&cfg)?;
    cfg.metrics_token = args.metrics_token.clone();
    cfg.iod_edition = args.iod_edition;
    cfg.run_worker = !args.no_worker;
    cfg.trust_proxy = args.trust_proxy;
    cfg.shared_dir = args.shared_dir.clone();
    cfg.fhir_schema = args.fhir_schema.clone();
    cfg.first_contact_working_days = args.first_contact_working_days;
    cfg.provider_response_time = Duration::from_secs(args.provider_response_hours * 3600);
    cfg.db_acquire_timeout = Duration::from_secs(args.db_acquire_timeout_seconds);
    Ok(cfg)
}

/// `ensemble serve`.
pub(crate) async fn serve_command(args: ServeArgs) -> anyhow::Result<i32> {
    init_logging(args.log_format == "json");
    let cfg = config_from(&args)?;
    serve(cfg, &args.bind, args.port).await?;
    Ok(0)
}

/// `ensemble worker`: only the background job worker.
pub(crate) async fn worker(args: ServeArgs) -> anyhow::Result<i32> {
    init_logging(args.log_format == "json");
    let cfg = config_from(&args)?;
    let db = open_with(&cfg).await?;
    let state = AppState::new(cfg, db).await?;
    tracing::info!("job worker running");
    ensemble::jobs::worker(state).await;
    Ok(0)
}

/// `ensemble demo`: load the fictional demo data (and open data when it is there), print the
/// demo accounts, and serve.
pub(crate) async fn demo(args: DemoArgs) -> anyhow::Result<i32> {
    init_logging(false);
    let url = database_url_from(&args.database);
    let mut cfg = Config::for_database(url.clone());
    cfg.base_url = format!("http://{}:{}", args.bind, args.port);
    cfg.require_staff_mfa = false;
    cfg.shared_dir = args.shared_dir.clone();
    let db = open(&args.database).await?;
    let state = AppState::new(cfg.clone(), db).await?;
    let (postcodes, _) = ensemble::modules::places::counts(&state.db).await?;
    let mut placed = false;
    if postcodes == 0 {
        let (p, c) = ensemble::modules::places::import::shared_files(&args.shared_dir);
        if p.is_empty() {
            println!(
                "Open data not found under {}: postcode search will say so; words and filters still work.",
                args.shared_dir.display()
            );
        } else {
            import_files(&state, &p, &c).await?;
            placed = true;
        }
    }
    // Wards and both small-area geographies: loaded when any of them is missing (so a demo
    // database from before small-area boundaries gets them), and every file again then,
    // which changes nothing that is already there.
    let (wards, _, _) = ensemble::modules::places::boundaries::counts(&state.db).await?;
    let (l11, l21) = ensemble::modules::places::small_areas::counts(&state.db).await?;
    if wards == 0 || l11 == 0 || l21 == 0 {
        let b = ensemble::modules::places::import::shared_boundary_files(&args.shared_dir);
        import_boundaries(&state, &b).await?;
        placed |= !b.is_empty();
    }
    if placed {
        refresh_small_areas(&state).await?;
    }
    if ensemble::modules::areas::import::counts(&state.db).await? == (0, 0) {
        let files = ensemble::modules::areas::import::shared_files(&args.shared_dir);
        super::area::import_iod(&state, &files).await?;
    }
    let loaded = ensemble::demo::seed(&state).await.map_err(explain)?;
    ensemble::modules::areas::aggregates::refresh(&state)
        .await
        .map_err(explain)?;
    ensemble::modules::areas::outcomes::refresh(&state)
        .await
        .map_err(explain)?;
    ensemble::modules::evaluation::refresh::refresh_all(&state)
        .await
        .map_err(explain)?;
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
    Ok(0)
}

/// `ensemble migrate`.
pub(crate) async fn migrate(db: DbArgs) -> anyhow::Result<i32> {
    let d = open(&db.database).await?;
    d.close().await;
    println!(
        "The database is up to date ({} migrations).",
        ensemble::db::MIGRATIONS.len()
    );
    Ok(0)
}

/// Open and migrate the configured database with the configured acquire timeout.
async fn open_with(cfg: &Config) -> anyhow::Result<Db> {
    Db::connect_and_migrate_with(&cfg.database_url, cfg.db_acquire_timeout)
        .await
        .with_context(|| format!("opening the database {}", redact(&cfg.database_url)))
}

async fn serve(cfg: Config, bind: &str, port: u16) -> anyhow::Result<()> {
    let db = open_with(&cfg).await?;
    let state = AppState::new(cfg, db).await?;
    if state.cfg.run_worker {
        tokio::spawn(ensemble::jobs::worker(state.clone()));
    }
    // The pre-aggregated reach figures: rebuilt in the background at start-up when missing
    // or older than their refresh interval (the job keeps them fresh afterwards).
    let agg = state.clone();
    tokio::spawn(async move {
        match ensemble::modules::areas::aggregates::refresh_if_stale(&agg).await {
            Ok(Some(r)) => tracing::info!(
                took_ms = r.took_ms,
                referrals = r.referrals,
                "reach aggregates rebuilt at start-up"
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not rebuild the reach aggregates at start-up")
            }
        }
    });
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
