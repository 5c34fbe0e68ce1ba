//! Runtime configuration: `ENSEMBLE_*` environment variables (read by the CLI) folded into
//! one [`Config`] value that the rest of the application receives.

use std::path::PathBuf;
use std::time::Duration;

/// How expensive password hashing is. Production uses the OWASP argon2id baseline;
/// tests use the minimum so that suites stay fast (never use `Fast` in production).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCost {
    /// argon2id, m = 19 MiB, t = 2, p = 1 (OWASP recommendation).
    Standard,
    /// argon2id with minimal memory and one pass: for automated tests only.
    Fast,
}

/// Who delivers text messages.
#[derive(Clone, PartialEq, Eq)]
pub enum SmsProvider {
    /// Keep them in the outbox (the default; `ENSEMBLE_SMS=outbox`).
    Outbox,
    /// GOV.UK Notify (`ENSEMBLE_SMS=notify`).
    Notify {
        /// `ENSEMBLE_NOTIFY_API_KEY`.
        api_key: String,
        /// `ENSEMBLE_NOTIFY_SMS_TEMPLATE_ID`: a template whose text is `((body))`.
        template_id: String,
    },
}

impl std::fmt::Debug for SmsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the API key.
        match self {
            SmsProvider::Outbox => f.write_str("Outbox"),
            SmsProvider::Notify { template_id, .. } => {
                write!(
                    f,
                    "Notify {{ template_id: {template_id}, api_key: <hidden> }}"
                )
            }
        }
    }
}

impl SmsProvider {
    /// From `ENSEMBLE_SMS`, `ENSEMBLE_NOTIFY_API_KEY` and `ENSEMBLE_NOTIFY_SMS_TEMPLATE_ID`.
    pub fn from_settings(
        provider: &str,
        api_key: Option<&str>,
        template_id: Option<&str>,
    ) -> Result<Self, String> {
        match provider.trim() {
            "" | "outbox" | "file" => Ok(SmsProvider::Outbox),
            "notify" => {
                let key = api_key.filter(|k| !k.trim().is_empty()).ok_or(
                    "ENSEMBLE_SMS=notify needs ENSEMBLE_NOTIFY_API_KEY (a GOV.UK Notify API key)",
                )?;
                let template = template_id.filter(|t| !t.trim().is_empty()).ok_or(
                    "ENSEMBLE_SMS=notify needs ENSEMBLE_NOTIFY_SMS_TEMPLATE_ID (a template whose text is ((body)))",
                )?;
                Ok(SmsProvider::Notify {
                    api_key: key.trim().to_string(),
                    template_id: template.trim().to_string(),
                })
            }
            other => Err(format!(
                "ENSEMBLE_SMS must be outbox or notify, not \"{other}\""
            )),
        }
    }
}

/// Everything the application needs to know about its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path` or `postgres://…`.
    pub database_url: String,
    /// How long a request waits for a database connection before it is answered 503.
    pub db_acquire_timeout: Duration,
    /// Public base URL used in emails and to decide on `Secure` cookies and HSTS.
    pub base_url: String,
    /// Send `Secure` on cookies and HSTS on responses.
    pub cookie_secure: bool,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after sign-in whatever happens.
    pub session_absolute: Duration,
    /// Staff roles must set up and use a TOTP second factor.
    pub require_staff_mfa: bool,
    /// Failed password attempts before an account is locked.
    pub lockout_threshold: i64,
    /// How long a locked account stays locked.
    pub lockout_duration: Duration,
    /// Sign-in attempts allowed per client address per window.
    pub sign_in_rate_per_ip: u32,
    /// SMTP URL for lettre (`smtp://host:25`, `smtps://user:pass@host`); none keeps mail in
    /// the outbox only.
    pub smtp_url: Option<String>,
    /// From address for outgoing mail.
    pub mail_from: String,
    /// Who delivers text messages (`ENSEMBLE_SMS`).
    pub sms: SmsProvider,
    /// Bearer token required by `/metrics`; none leaves it open (bind to a private network).
    pub metrics_token: Option<String>,
    /// Run the background job worker inside this process.
    pub run_worker: bool,
    /// Where the read-only reference material (`../shared`) lives.
    pub shared_dir: PathBuf,
    /// Password hashing cost.
    pub hash_cost: HashCost,
    /// Invitation links stay valid this long.
    pub invitation_ttl: Duration,
    /// Take the client address from X-Forwarded-For (behind a trusted reverse proxy).
    pub trust_proxy: bool,
    /// How long a process trusts its directory snapshot before re-checking the database for
    /// changes made by other processes.
    pub directory_cache_ttl: Duration,
    /// The HL7 FHIR R4 JSON Schema used to check FHIR input; none means
    /// `<shared_dir>/standards/fhir/r4-json-schema/fhir.schema.json`.
    pub fhir_schema: Option<PathBuf>,
    /// A new referral's first contact is due within this many working days.
    pub first_contact_working_days: u32,
    /// A provider that has not answered a referral after this long is reminded; after the
    /// same time again the referral returns to the link worker.
    pub provider_response_time: Duration,
    /// The edition of the English Indices of Deprivation in use (`ENSEMBLE_IOD_EDITION`:
    /// 2019 or 2025, default 2025): the one pages and the API show first or by default.
    pub iod_edition: i64,
}

impl Config {
    /// A configuration suitable for a local SQLite database file.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            db_acquire_timeout: crate::db::DEFAULT_ACQUIRE_TIMEOUT,
            base_url: "http://127.0.0.1:8080".into(),
            cookie_secure: false,
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 60 * 60),
            require_staff_mfa: true,
            lockout_threshold: 5,
            lockout_duration: Duration::from_secs(15 * 60),
            sign_in_rate_per_ip: 30,
            smtp_url: None,
            mail_from: "Ensemble <no-reply@ensemble.invalid>".into(),
            sms: SmsProvider::Outbox,
            metrics_token: None,
            run_worker: true,
            shared_dir: PathBuf::from("../shared"),
            hash_cost: HashCost::Standard,
            invitation_ttl: Duration::from_secs(7 * 24 * 60 * 60),
            trust_proxy: false,
            directory_cache_ttl: Duration::from_millis(250),
            fhir_schema: None,
            first_contact_working_days: 5,
            provider_response_time: Duration::from_secs(3 * 24 * 60 * 60),
            iod_edition: 2025,
        }
    }

    /// Where the FHIR R4 JSON Schema is read from.
    pub fn fhir_schema_path(&self) -> PathBuf {
        self.fhir_schema.clone().unwrap_or_else(|| {
            self.shared_dir
                .join("standards/fhir/r4-json-schema/fhir.schema.json")
        })
    }

    /// Is the public base URL HTTPS?
    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// Turn a plain file path into a SQLite URL; leave URLs alone (an unsupported scheme is
/// then refused with a clear message when the database is opened).
pub fn database_url_from(path_or_url: &str) -> String {
    if path_or_url.starts_with("sqlite:")
        || path_or_url.starts_with("postgres://")
        || path_or_url.starts_with("postgresql://")
        || path_or_url.contains("://")
    {
        path_or_url.to_string()
    } else {
        format!("sqlite://{path_or_url}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_become_sqlite_urls_and_urls_are_kept() {
        assert_eq!(database_url_from("demo.db"), "sqlite://demo.db");
        assert_eq!(database_url_from("postgres://x/y"), "postgres://x/y");
        assert_eq!(database_url_from("sqlite://a.db"), "sqlite://a.db");
    }
}
