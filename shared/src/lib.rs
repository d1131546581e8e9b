//! Domain, events and the infrastructure the three services share.

pub mod auth;
pub mod config;
pub mod domain;
pub mod events;
pub mod http;
pub mod memory;
pub mod metrics;
pub mod nats;
pub mod protect;
pub mod readmodel;
pub mod startup;
pub mod telemetry;
#[cfg(feature = "testkit")]
pub mod testkit;
