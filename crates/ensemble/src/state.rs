//! Shared application state handed to every handler.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;

use crate::auth::ratelimit::RateLimiter;
use crate::config::Config;
use crate::db::Db;
use crate::ops::metrics::Metrics;

/// Cheap to clone; everything lives behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
impl AppState {
    /// A number unique to this running state (for process-local caches keyed per state).
    pub fn instance_id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

pub struct Inner {
    /// Configuration.
    pub cfg: Config,
    /// Database pools.
    pub db: Db,
    /// The installation's secret key (CSRF tokens), kept in the `settings` table so that
    /// every process of one installation shares it.
    pub secret: Vec<u8>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Sign-in attempts per client address.
    pub sign_in_limiter: RateLimiter,
    /// Snapshot of listed venue positions and recently shown activities.
    pub directory: crate::modules::directory::cache::DirectoryCache,
    /// The FHIR R4 JSON Schema, compiled per resource type on first use.
    pub fhir_schema: crate::modules::referrals::fhir::SchemaValidator,
    /// Self-referrals per client address.
    pub self_referral_limiter: RateLimiter,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Build the state for a migrated database.
    pub async fn new(cfg: Config, db: Db) -> anyhow::Result<Self> {
        let secret = installation_secret(&db).await?;
        let limiter = RateLimiter::new(cfg.sign_in_rate_per_ip, Duration::from_secs(5 * 60));
        let directory =
            crate::modules::directory::cache::DirectoryCache::new(cfg.directory_cache_ttl);
        let fhir_schema =
            crate::modules::referrals::fhir::SchemaValidator::new(cfg.fhir_schema_path());
        Ok(Self(Arc::new(Inner {
            cfg,
            db,
            secret,
            metrics: Metrics::new(),
            sign_in_limiter: limiter,
            directory,
            fhir_schema,
            self_referral_limiter: RateLimiter::new(10, Duration::from_secs(60 * 60)),
        })))
    }
}

async fn installation_secret(db: &Db) -> anyhow::Result<Vec<u8>> {
    let candidate = crate::auth::secret::random_token(48);
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('secret_key', $1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(candidate)
    .execute(&db.write)
    .await?;
    let row = sqlx::query("SELECT value FROM settings WHERE key = 'secret_key'")
        .fetch_one(&db.read)
        .await?;
    let value: String = row.try_get("value")?;
    Ok(value.into_bytes())
}
