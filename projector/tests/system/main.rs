//! The whole system over HTTP, on real NATS and MongoDB-compatible servers.

mod caching;
mod cluster;
mod compatibility;
mod connections;
mod contract_errors;
mod crash;
mod discovery;
mod discussions;
mod failover;
mod harness;
mod idempotency;
mod journeys_reads;
mod journeys_writes;
mod listings;
mod oidc;
mod pipeline;
mod replay;
mod security;
mod traces;
