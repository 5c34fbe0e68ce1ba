//! Shared application state handed to every handler.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
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
    /// Self-referrals per client address.
    pub self_referral_limiter: RateLimiter,
    /// What modules keep for the life of the process (caches, compiled schemas, the job
    /// registry), by type, so that this layer names no module.
    extensions: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

/// A value a module keeps in the [`AppState`] for the life of the process, made from the
/// configuration the first time it is asked for ([`AppState::ext`]).
pub trait StateExt: Any + Send + Sync {
    /// Make it from the configuration.
    fn init(cfg: &Config) -> Self;
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Build the state for a migrated database, holding the given values from the start
    /// (`app` passes the job registry). `AppState::new` in `app` is what callers use.
    pub async fn assemble(
        cfg: Config,
        db: Db,
        values: Vec<Arc<dyn Any + Send + Sync>>,
    ) -> anyhow::Result<Self> {
        let secret = installation_secret(&db).await?;
        let limiter = RateLimiter::new(cfg.sign_in_rate_per_ip, Duration::from_secs(5 * 60));
        let extensions = values
            .into_iter()
            .map(|v| ((*v).type_id(), v))
            .collect::<HashMap<_, _>>();
        Ok(Self(Arc::new(Inner {
            cfg,
            db,
            secret,
            metrics: Metrics::new(),
            sign_in_limiter: limiter,
            self_referral_limiter: RateLimiter::new(10, Duration::from_secs(60 * 60)),
            extensions: RwLock::new(extensions),
        })))
    }

    /// A value given to [`AppState::assemble`], if there is one of type `T`.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let map = self.extensions.read().unwrap_or_else(|p| p.into_inner());
        map.get(&TypeId::of::<T>())
            .cloned()
            .and_then(|v| v.downcast::<T>().ok())
    }

    /// The process-wide `T`, made from the configuration on first use.
    pub fn ext<T: StateExt>(&self) -> Arc<T> {
        if let Some(v) = self.get::<T>() {
            return v;
        }
        let mut map = self.extensions.write().unwrap_or_else(|p| p.into_inner());
        let entry = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::init(&self.cfg)) as Arc<dyn Any + Send + Sync>)
            .clone();
        drop(map);
        match entry.downcast::<T>() {
            Ok(v) => v,
            // The map is keyed by the value's own type, so this cannot happen; make a fresh
            // one rather than panic.
            Err(_) => Arc::new(T::init(&self.cfg)),
        }
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
