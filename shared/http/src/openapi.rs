//! What every API's OpenAPI document is built with: the problem answers,
//! `Retry-After`, the bearer scheme, the operational routes both serve, the
//! fix-up of utoipa's links, and serving the document.

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use utoipa::{
    Modify, ToSchema,
    openapi::{
        ContentBuilder, Ref, ResponseBuilder,
        header::{Header, HeaderBuilder},
        schema::{ObjectBuilder, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::Problem;

/// An answer with a [`Problem`] body.
pub fn problem_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(Problem::name())))
            .build(),
    )
}

/// The `Retry-After` header (whole seconds), with `when` said after.
pub fn retry_after(when: &str) -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        )
        .description(Some(
            format!("Seconds to wait before trying again. {when}")
                .trim_end()
                .to_owned(),
        ))
        .build()
}

/// The `bearer` security scheme (a JWT), with a description where the API
/// says whose token it takes.
pub struct BearerAuth(pub Option<&'static str>);

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(self.0)
                    .build(),
            ),
        );
    }
}

// The operational routes are served by `crate::ops_router` (and `serve`
// below); these functions only document them. `/readyz` is documented by
// each API: what it checks differs.

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, description = "The service is alive.")))]
pub fn healthz() {}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()), responses((status = 200, description = "Prometheus metrics (OpenMetrics text).", content_type = "application/openmetrics-text")))]
pub fn metrics() {}

/// This OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "This document.", content_type = "application/json"),
        (status = 429, description = "Too many requests from this address: rate limited.", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
        (status = 503, description = "The request took too long, or too many requests are in flight.", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
    )
)]
pub fn openapi_json() {}

/// utoipa 5.5 writes a link's `operationId` as `operation_id` (and so on):
/// renames them in a response of the document.
pub fn camel_case_links(response: &mut serde_json::Value) {
    let links = response
        .get_mut("links")
        .and_then(|l| l.as_object_mut())
        .into_iter()
        .flat_map(|links| links.values_mut())
        .filter_map(|link| link.as_object_mut());
    for link in links {
        for (snake, camel) in [
            ("operation_id", "operationId"),
            ("operation_ref", "operationRef"),
            ("request_body", "requestBody"),
        ] {
            if let Some(value) = link.remove(snake) {
                link.insert(camel.into(), value);
            }
        }
    }
}

/// Every `$ref` in a document (for a test that each one resolves).
pub fn references(value: &serde_json::Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_references(value, &mut found);
    found
}

fn collect_references(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", serde_json::Value::String(r)) => found.push(r.clone()),
                    _ => collect_references(v, found),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_references(i, found)),
        _ => {}
    }
}

/// Answers `GET /openapi.json` with `document`.
pub fn serve(document: &'static str) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document,
    )
        .into_response()
}
