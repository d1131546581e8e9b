//! The projector's configuration: read once from the environment and
//! checked, or built for a test.

use std::{net::SocketAddr, time::Duration};

use flow_http::ConnectionLimits;
use flow_runtime::config::{self, MongoConfig, NatsConfig};

use crate::{lease, settings::Settings};

/// The projector's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `FLOW_PROJECTOR_ADDR`, default `127.0.0.1:8082`.
    pub addr: SocketAddr,
    pub nats: NatsConfig,
    pub mongo: MongoConfig,
    /// `FLOW_PROJECTOR_BATCH` (events per batch, default 1 000),
    /// `FLOW_PROJECTOR_FOLD` (events of successive batches written together
    /// while more wait, default 20 000; 0 writes every batch on its own),
    /// `FLOW_PROJECTOR_MAX_ATTEMPTS` (before a refused event is parked, default 5),
    /// `FLOW_PROJECTOR_MAX_SCHEMA_VERSION` (newest event schema accepted,
    /// default the one this build writes).
    pub settings: Settings,
    /// `FLOW_PROJECTOR_DURABLE`: the durable consumer's name, default `projector`.
    pub durable: String,
    /// `FLOW_MAX_LAG`: `/readyz` fails when more events than this wait, default 10 000.
    pub max_lag: u64,
    /// `FLOW_STARTUP_TIMEOUT_MS`, default 30 000.
    pub startup_timeout: Duration,
    /// `FLOW_HTTP_HEADER_TIMEOUT_MS`, `FLOW_HTTP_IDLE_TIMEOUT_MS`, `FLOW_HTTP_MAX_CONNECTIONS`.
    pub connections: ConnectionLimits,
    /// `FLOW_PROJECTOR_LEASE_MS`: how long the active instance's lease lasts
    /// unrenewed (it renews every third of it); a standby takes over within
    /// about this long after the active one stops. Default 5 000, at least 500.
    pub lease: Duration,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let defaults = Settings::default();
        let settings = Settings {
            batch_size: config::parse_or("FLOW_PROJECTOR_BATCH", defaults.batch_size)?,
            max_attempts: config::parse_or("FLOW_PROJECTOR_MAX_ATTEMPTS", defaults.max_attempts)?,
            max_schema_version: config::parse_or(
                "FLOW_PROJECTOR_MAX_SCHEMA_VERSION",
                defaults.max_schema_version,
            )?,
            fold_events: config::parse_or("FLOW_PROJECTOR_FOLD", defaults.fold_events)?,
        };
        if settings.fold_events > 1_000_000 {
            anyhow::bail!("FLOW_PROJECTOR_FOLD must be at most 1000000");
        }
        if !(1..=10_000).contains(&settings.batch_size) {
            anyhow::bail!("FLOW_PROJECTOR_BATCH must be between 1 and 10000");
        }
        if settings.max_attempts == 0 {
            anyhow::bail!("FLOW_PROJECTOR_MAX_ATTEMPTS must be at least 1");
        }
        Ok(Self {
            addr: config::listen_addr("FLOW_PROJECTOR_ADDR", "127.0.0.1:8082")?,
            nats: NatsConfig::from_env()?,
            mongo: MongoConfig::from_env()?,
            settings,
            durable: config::var("FLOW_PROJECTOR_DURABLE")?.unwrap_or_else(|| "projector".into()),
            max_lag: config::parse_or("FLOW_MAX_LAG", 10_000u64)?,
            startup_timeout: config::startup_timeout()?,
            connections: ConnectionLimits::from_env()?,
            lease: {
                let lease = config::millis_or(
                    "FLOW_PROJECTOR_LEASE_MS",
                    lease::DEFAULT_LEASE.as_millis() as u64,
                )?;
                if lease < Duration::from_millis(500) {
                    anyhow::bail!("FLOW_PROJECTOR_LEASE_MS must be at least 500");
                }
                lease
            },
        })
    }

    pub fn new(nats: NatsConfig, mongo: MongoConfig) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            nats,
            mongo,
            settings: Settings::default(),
            durable: "projector".into(),
            max_lag: 10_000,
            startup_timeout: Duration::from_secs(30),
            connections: ConnectionLimits::default(),
            lease: lease::DEFAULT_LEASE,
        }
    }
}
