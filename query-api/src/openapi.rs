//! The OpenAPI document of the read API, generated from the handlers'
//! annotations and the response types, served at `GET /openapi.json`.

use std::sync::OnceLock;

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Projects Flow query API",
        description = "Listings and details of projects and their discussion threads, served from the read model. Reads are anonymous; every answer carries `Projection-Position`."
    ),
    paths(
        routes::list_projects,
        routes::get_project,
        routes::list_threads,
        routes::get_thread,
        routes::list_tags,
        healthz,
        readyz,
        metrics,
        openapi_json,
    ),
    tags(
        (name = "projects", description = "Projects and their tags"),
        (name = "threads", description = "Discussion threads"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    ),
    components(schemas(crate::listing::Sort))
)]
pub struct ApiDoc;

/// The document, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}

pub async fn serve() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document(),
    )
        .into_response()
}

/// An error, as `application/problem+json`.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation-error`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Every bad field (validation errors only).
    pub errors: Option<Vec<FieldError>>,
}

/// One bad field or parameter.
#[derive(Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The `Consistency-Token` request header.
#[derive(IntoParams)]
#[into_params(names("Consistency-Token"), parameter_in = Header)]
#[allow(dead_code)]
pub struct ConsistencyToken(
    /// The `consistency_token` of a write: the read waits (at most
    /// `FLOW_CONSISTENCY_WAIT_MS`, 2 s by default) until the read model has
    /// applied it, then answers either way, with the position reached.
    Option<String>,
);

// The operational routes are served by `shared::http::ops_router`; these
// functions only document them.

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The service is alive.")))]
#[allow(dead_code)]
fn healthz() {}

/// Readiness.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "NATS and MongoDB are reachable and the projection lag is below `FLOW_MAX_LAG`."),
        (status = 503, description = "Not ready; `detail` says why.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code)]
fn readyz() {}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus metrics (OpenMetrics text).", content_type = "application/openmetrics-text")))]
#[allow(dead_code)]
fn metrics() {}

/// This OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "This document.", content_type = "application/json")))]
#[allow(dead_code)]
fn openapi_json() {}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("$ref", serde_json::Value::String(r)) => found.push(r.clone()),
                        _ => refs(v, found),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| refs(i, found)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(doc["components"]["schemas"][name].is_object(), "{r}");
        }
        let sort = &doc["components"]["schemas"]["Sort"]["enum"];
        assert_eq!(sort, &serde_json::json!(["new", "top", "active"]));
    }
}
