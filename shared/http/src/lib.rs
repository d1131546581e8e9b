//! The HTTP side of the APIs: problem+json errors, JSON extractors, bearer
//! tokens, protection (CORS, rate limits, timeouts), the operational routes
//! (`/healthz`, `/readyz`, `/metrics`) and serving with bounded connections
//! and graceful shutdown.

pub mod auth;
mod consistency;
mod errors;
mod extract;
pub mod metrics;
pub mod openapi;
mod ops;
pub mod protect;
mod serve;

pub use consistency::{ConsistencyToken, NotAToken};
pub use errors::{ApiError, FieldErrorSchema, MAX_BODY_BYTES, Problem, problem};
pub use extract::{JsonBody, JsonWithBytes, parse_json};
pub use ops::{ReadinessCheck, finish_router, finish_untraced, ops_router, trace_requests};
pub use serve::{
    ConnectionLimits, DRAIN_TIMEOUT, MAX_CONNECTIONS_LIMIT, RESERVED_DESCRIPTORS, Server, serve,
};
