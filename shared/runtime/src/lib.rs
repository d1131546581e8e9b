//! What every service runs on: configuration read once from the environment,
//! logging, bounded waits for dependencies at start-up, and the connection to
//! NATS with the declaration of the event stream.

pub mod config;
pub mod nats;
pub mod startup;
pub mod telemetry;
