//! Typed configuration from environment variables, read once at start-up.
//!
//! Every variable has a documented default (see the README). A secret can be
//! given directly (`FLOW_JWT_SECRET`) or as a path to a file holding it
//! (`FLOW_JWT_SECRET_FILE`), and is held in a [`SecretString`] that never prints.

use std::{net::SocketAddr, str::FromStr, time::Duration};

use anyhow::{Context, bail};
pub use secrecy::{ExposeSecret, SecretString};

use flow_domain::events::Subjects;

/// Reads `name`, or the contents of the file named by `name_FILE`.
pub fn var(name: &str) -> anyhow::Result<Option<String>> {
    if let Ok(value) = std::env::var(name) {
        return Ok(Some(value));
    }
    let file_var = format!("{name}_FILE");
    match std::env::var(&file_var) {
        Ok(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {file_var}={path}"))?;
            Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
        }
        Err(_) => Ok(None),
    }
}

/// Parses `name` if set, else returns `default`.
pub fn parse_or<T>(name: &str, default: T) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match var(name)? {
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={raw:?} is invalid: {e}")),
        None => Ok(default),
    }
}

/// A duration given in milliseconds.
pub fn millis_or(name: &str, default_ms: u64) -> anyhow::Result<Duration> {
    parse_or(name, default_ms).map(Duration::from_millis)
}

/// Whether the service runs on a developer machine (`FLOW_ENV=local`) or in
/// production (the default), where missing secrets are fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Local,
    Production,
}

impl Environment {
    pub fn from_env() -> anyhow::Result<Self> {
        match var("FLOW_ENV")?.as_deref() {
            None | Some("production") => Ok(Self::Production),
            Some("local") => Ok(Self::Local),
            Some(other) => bail!("FLOW_ENV={other:?} is invalid: expected local or production"),
        }
    }
}

/// The secret a development run uses when `FLOW_JWT_SECRET` is not set.
pub const LOCAL_JWT_SECRET: &str = "projects-flow-local-development-secret";

/// The HS256 secret for tokens: required outside local mode.
pub fn jwt_secret(env: Environment) -> anyhow::Result<SecretString> {
    match var("FLOW_JWT_SECRET")? {
        Some(secret) if secret.len() >= 16 => Ok(SecretString::from(secret)),
        Some(_) => bail!("FLOW_JWT_SECRET must be at least 16 bytes long"),
        None if env == Environment::Local => {
            tracing::warn!("FLOW_JWT_SECRET is not set; using the local development secret");
            Ok(SecretString::from(LOCAL_JWT_SECRET))
        }
        None => bail!(
            "FLOW_JWT_SECRET (or FLOW_JWT_SECRET_FILE) is required outside local mode; \
             set FLOW_ENV=local for a development run"
        ),
    }
}

/// How the APIs verify bearer tokens: HS256 with a shared secret, tokens of
/// an OpenID Connect provider, or both.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `FLOW_JWT_SECRET` (or `_FILE`): HS256 tokens. Without OIDC it is
    /// required outside local mode; with OIDC, HS256 is accepted only when
    /// the secret is set explicitly (never the local development secret).
    pub hs256: Option<SecretString>,
    /// `FLOW_OIDC_*`: RS256 and ES256 tokens of a provider.
    pub oidc: Option<OidcConfig>,
}

impl AuthConfig {
    /// HS256 tokens signed with `secret` only.
    pub fn hs256(secret: SecretString) -> Self {
        Self {
            hs256: Some(secret),
            oidc: None,
        }
    }

    pub fn from_env(env: Environment) -> anyhow::Result<Self> {
        let oidc = OidcConfig::from_env()?;
        let hs256 = match oidc {
            None => Some(jwt_secret(env)?),
            Some(_) => match var("FLOW_JWT_SECRET")? {
                Some(_) => Some(jwt_secret(env)?),
                None => None,
            },
        };
        Ok(Self { hs256, oidc })
    }
}

/// An OpenID Connect provider whose RS256 and ES256 tokens are accepted.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `FLOW_OIDC_ISSUER`: the `iss` every token must carry; setting it enables OIDC.
    pub issuer: String,
    /// `FLOW_OIDC_AUDIENCE` (required with the issuer): the `aud` every token must carry.
    pub audience: String,
    /// `FLOW_OIDC_JWKS_URL`: where the provider publishes its keys; else found
    /// by discovery (`{issuer}/.well-known/openid-configuration`).
    pub jwks_url: Option<String>,
    /// `FLOW_OIDC_REFRESH_INTERVAL_MS`: at most one fetch of the keys in this
    /// time, default 30 000.
    pub refresh_interval: Duration,
    /// `FLOW_OIDC_HTTP_TIMEOUT_MS`: the bound on one fetch (discovery and
    /// keys), default 5 000.
    pub http_timeout: Duration,
}

impl OidcConfig {
    /// A provider at `issuer` for `audience`, with the default intervals.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: None,
            refresh_interval: Duration::from_secs(30),
            http_timeout: Duration::from_secs(5),
        }
    }

    /// `None` unless `FLOW_OIDC_ISSUER` is set.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let Some(issuer) = var("FLOW_OIDC_ISSUER")?.filter(|s| !s.trim().is_empty()) else {
            if var("FLOW_OIDC_AUDIENCE")?.is_some() || var("FLOW_OIDC_JWKS_URL")?.is_some() {
                bail!("FLOW_OIDC_AUDIENCE and FLOW_OIDC_JWKS_URL need FLOW_OIDC_ISSUER");
            }
            return Ok(None);
        };
        let Some(audience) = var("FLOW_OIDC_AUDIENCE")?.filter(|s| !s.trim().is_empty()) else {
            bail!("FLOW_OIDC_AUDIENCE is required with FLOW_OIDC_ISSUER");
        };
        let config = Self {
            issuer: issuer.trim().to_owned(),
            audience: audience.trim().to_owned(),
            jwks_url: var("FLOW_OIDC_JWKS_URL")?.map(|u| u.trim().to_owned()),
            refresh_interval: millis_or("FLOW_OIDC_REFRESH_INTERVAL_MS", 30_000)?,
            http_timeout: millis_or("FLOW_OIDC_HTTP_TIMEOUT_MS", 5_000)?,
        };
        config.validate()?;
        Ok(Some(config))
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let is_url = |s: &str| s.starts_with("https://") || s.starts_with("http://");
        if !is_url(&self.issuer) {
            bail!("FLOW_OIDC_ISSUER={:?} must be an http(s) URL", self.issuer);
        }
        if let Some(url) = &self.jwks_url
            && !is_url(url)
        {
            bail!("FLOW_OIDC_JWKS_URL={url:?} must be an http(s) URL");
        }
        if self.http_timeout.is_zero() {
            bail!("FLOW_OIDC_HTTP_TIMEOUT_MS must be positive");
        }
        Ok(())
    }
}

/// How to reach NATS and which stream and subjects to use.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// `FLOW_NATS_URL`, default `nats://127.0.0.1:4222`.
    pub url: String,
    /// `FLOW_STREAM`, default `FLOW`.
    pub stream: String,
    /// `FLOW_SUBJECT_PREFIX`, default `flow`.
    pub subject_prefix: String,
    /// `FLOW_STREAM_REPLICAS`, default 1.
    pub replicas: usize,
    /// How this service proves who it is and protects the connection.
    pub security: NatsSecurity,
}

/// Credentials and TLS for the NATS connection.
#[derive(Debug, Clone, Default)]
pub struct NatsSecurity {
    /// `FLOW_NATS_USER` with `FLOW_NATS_PASSWORD` (or `_FILE`).
    pub user: Option<(String, SecretString)>,
    /// `FLOW_NATS_CREDS_FILE`: a NATS credentials file (JWT and NKey seed).
    pub creds_file: Option<std::path::PathBuf>,
    /// `FLOW_NATS_TLS_CA`: the CA that signed the server's certificate.
    pub tls_ca: Option<std::path::PathBuf>,
    /// `FLOW_NATS_TLS_CERT` and `FLOW_NATS_TLS_KEY`: a client certificate, for
    /// servers that verify clients.
    pub tls_client: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// `FLOW_NATS_TLS_REQUIRED`: refuse a connection without TLS (default:
    /// true when a CA is given).
    pub tls_required: bool,
}

impl NatsSecurity {
    pub fn from_env() -> anyhow::Result<Self> {
        let user = match (var("FLOW_NATS_USER")?, var("FLOW_NATS_PASSWORD")?) {
            (Some(user), Some(password)) => Some((user, SecretString::from(password))),
            (None, None) => None,
            _ => bail!(
                "FLOW_NATS_USER and FLOW_NATS_PASSWORD (or FLOW_NATS_PASSWORD_FILE) go together"
            ),
        };
        let tls_ca = var("FLOW_NATS_TLS_CA")?.map(Into::into);
        let tls_client = match (var("FLOW_NATS_TLS_CERT")?, var("FLOW_NATS_TLS_KEY")?) {
            (Some(cert), Some(key)) => Some((cert.into(), key.into())),
            (None, None) => None,
            _ => bail!("FLOW_NATS_TLS_CERT and FLOW_NATS_TLS_KEY go together"),
        };
        let tls_required = parse_or(
            "FLOW_NATS_TLS_REQUIRED",
            tls_ca.is_some() || tls_client.is_some(),
        )?;
        Ok(Self {
            user,
            creds_file: var("FLOW_NATS_CREDS_FILE")?.map(Into::into),
            tls_ca,
            tls_client,
            tls_required,
        })
    }
}

impl NatsConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let config = Self {
            url: var("FLOW_NATS_URL")?.unwrap_or_else(|| "nats://127.0.0.1:4222".into()),
            stream: var("FLOW_STREAM")?.unwrap_or_else(|| "FLOW".into()),
            subject_prefix: var("FLOW_SUBJECT_PREFIX")?.unwrap_or_else(|| "flow".into()),
            replicas: parse_or("FLOW_STREAM_REPLICAS", 1)?,
            security: NatsSecurity::from_env()?,
        };
        config.validate()?;
        Ok(config)
    }

    pub fn local(
        url: impl Into<String>,
        stream: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        Self {
            url: url.into(),
            stream: stream.into(),
            subject_prefix: prefix.into(),
            replicas: 1,
            security: NatsSecurity::default(),
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let token_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !token_ok(&self.stream) {
            bail!(
                "FLOW_STREAM={:?} must be letters, digits, - or _",
                self.stream
            );
        }
        if !self.subject_prefix.split('.').all(token_ok) {
            bail!(
                "FLOW_SUBJECT_PREFIX={:?} must be dot-separated tokens of letters, digits, - or _",
                self.subject_prefix
            );
        }
        if self.replicas == 0 || self.replicas > 5 {
            bail!("FLOW_STREAM_REPLICAS must be between 1 and 5");
        }
        Ok(())
    }

    pub fn subjects(&self) -> Subjects {
        Subjects::new(self.subject_prefix.clone())
    }
}

/// How to reach MongoDB.
#[derive(Debug, Clone)]
pub struct MongoConfig {
    /// `FLOW_MONGODB_URI` (or `_FILE`), default `mongodb://127.0.0.1:27017`.
    pub uri: SecretString,
    /// `FLOW_MONGODB_DATABASE`, default `flow`.
    pub database: String,
}

impl MongoConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            uri: SecretString::from(
                var("FLOW_MONGODB_URI")?.unwrap_or_else(|| "mongodb://127.0.0.1:27017".into()),
            ),
            database: var("FLOW_MONGODB_DATABASE")?.unwrap_or_else(|| "flow".into()),
        })
    }
}

/// An HTTP listen address from `name`, else `default`.
pub fn listen_addr(name: &str, default: &str) -> anyhow::Result<SocketAddr> {
    let raw = var(name)?.unwrap_or_else(|| default.to_owned());
    raw.parse()
        .map_err(|e| anyhow::anyhow!("{name}={raw:?} is not a socket address: {e}"))
}

/// `FLOW_STARTUP_TIMEOUT_MS`: how long to wait for NATS and MongoDB at
/// start-up before giving up (default 30 s).
pub fn startup_timeout() -> anyhow::Result<Duration> {
    millis_or("FLOW_STARTUP_TIMEOUT_MS", 30_000)
}
