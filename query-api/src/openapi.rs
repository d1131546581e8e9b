//! The OpenAPI document of the read API, generated from the handlers'
//! annotations and the response types, served at `GET /openapi.json`.
//!
//! The query parameters are parsed by hand (`crate::params`, every bad one
//! reported at once); the parameter sets below describe them, rules included,
//! and the tests check their numbers against the code's. `tests/schemathesis/run`
//! checks the document against the running service.

use std::{collections::BTreeMap, sync::OnceLock};

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use flow_domain as domain;
use serde::Serialize;
use serde_json::json;
use utoipa::{
    IntoParams, IntoResponses, OpenApi, PartialSchema, ToSchema,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle},
        schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type},
    },
};

use crate::{listing::Sort, params, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Projects Flow query API",
        description = "Listings and details of projects and their discussion threads, served from the read model. Reads are anonymous; every answer carries `Projection-Position`, the stream sequence the read model has applied.\n\nA read with a `Consistency-Token` (a write's `consistency_token`) waits, bounded, until the read model has applied that write. Errors are `application/problem+json`. Every read can answer 400 (a bad `Consistency-Token`), 429 (rate limited, with `Retry-After`) and 503 (the read model is unavailable, the request took too long, or too many requests are in flight); listings 422 for bad parameters, each named in `errors`; details 404. A method a path does not serve is answered 405 with `Allow`."
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
    components(schemas(Sort, ThreadSort, ThreadType, Tag, Problem, FieldError))
)]
pub struct ApiDoc;

/// Every answer carries it.
pub const PROJECTION_POSITION: &str = "Projection-Position";

/// The document, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        complete_headers(&mut doc);
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    })
}

/// What utoipa cannot say: every answer carries `Projection-Position`, and
/// every 429 and 503 `Retry-After` (both `required`); and the links' fields as
/// OpenAPI spells them.
fn complete_headers(doc: &mut serde_json::Value) {
    let position = json!({
        "schema": {"type": "integer", "format": "int64", "minimum": 0},
        "description": "The stream sequence the read model has applied.",
        "required": true,
    });
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let responses = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.get_mut("responses"))
        .filter_map(|responses| responses.as_object_mut())
        .flat_map(|responses| responses.iter_mut());
    for (status, response) in responses {
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        camel_case_links(response);
        let headers = response
            .entry("headers")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        let Some(headers) = headers else { continue };
        headers.insert(PROJECTION_POSITION.into(), position.clone());
        if (status == "429" || status == "503")
            && let Some(retry) = headers
                .get_mut("Retry-After")
                .and_then(|h| h.as_object_mut())
        {
            retry.insert("required".into(), true.into());
        }
    }
}

/// utoipa 5.5 writes a link's `operationId` as `operation_id` (and so on).
fn camel_case_links(response: &mut serde_json::Map<String, serde_json::Value>) {
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
    #[schema(pattern = "^/problems/[a-z-]+$")]
    pub kind: String,
    pub title: String,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: String,
    /// Every bad field (validation errors only).
    pub errors: Option<Vec<FieldError>>,
}

/// One bad field or parameter.
#[derive(Serialize, ToSchema)]
pub struct FieldError {
    /// The parameter, e.g. `limit` or `tag[1]`.
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
    /// applied it, then answers either way, with the position reached in
    /// `Projection-Position`. Anything but a token a write gave out is 400.
    // `s` and a stream sequence (a number below 2^64: the alternatives
    // spell out the 20-digit ones), spaces around it ignored.
    #[param(
        nullable = false,
        pattern = r"^[\t ]*s\+?0*(?:[0-9]{1,19}|1[0-7][0-9]{18}|18[0-3][0-9]{17}|184[0-3][0-9]{16}|1844[0-5][0-9]{15}|18446[0-6][0-9]{14}|184467[0-3][0-9]{13}|1844674[0-3][0-9]{12}|184467440[0-6][0-9]{10}|1844674407[0-2][0-9]{9}|18446744073[0-6][0-9]{8}|1844674407370[0-8][0-9]{6}|18446744073709[0-4][0-9]{5}|184467440737095[0-4][0-9]{4}|18446744073709550[0-9]{3}|18446744073709551[0-5][0-9]{2}|1844674407370955160[0-9]{1}|1844674407370955161[0-4]|18446744073709551615)[\t ]*$"
    )]
    Option<String>,
);

// A tag's rule (`flow_domain::Tag`) as a pattern: the same as the command
// API's `LINE_PATTERN` (`tests/schemathesis/run` checks that both documents
// say the same). It spells every character out (no `\s`, `\w` or `\p{..}`), so
// that every regular-expression engine reads it alike.

/// Unicode White_Space (`char::is_whitespace`): collapsed into one space.
macro_rules! white_space {
    () => {
        r"\t-\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}
/// Default_Ignorable_Code_Point apart from the bidirectional controls: kept,
/// but not visible.
macro_rules! ignorable {
    () => {
        concat!(
            r"\xAD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2060-\u2065\u206A-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8",
            // Outside the Basic Multilingual Plane: the characters themselves,
            // as `\u{..}` escapes are not read alike by every engine.
            "\u{1BCA0}-\u{1BCA3}\u{1D173}-\u{1D17A}\u{E0000}-\u{E0FFF}"
        )
    };
}
/// Refused: control characters other than White_Space, and the
/// bidirectional embeddings, overrides and isolates.
macro_rules! refused {
    () => {
        r"\x00-\x08\x0E-\x1F\x7F-\x84\x86-\x9F\u202A-\u202E\u2066-\u2069"
    };
}

/// A tag: no refused character, at least one visible one.
pub const TAG_PATTERN: &str = concat!(
    "^[",
    white_space!(),
    ignorable!(),
    "]*[^",
    refused!(),
    white_space!(),
    ignorable!(),
    "][^",
    refused!(),
    "]*$"
);

/// A tag, as `tag` names it.
pub struct Tag;

impl PartialSchema for Tag {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "A tag: 1–{} characters once normalised (NFKC, every run of whitespace one space, trimmed, lower-cased); no control or bidirectional control characters; at least one visible character.",
                domain::Tag::MAX_CHARS
            )))
            .min_length(Some(1))
            .max_length(Some(domain::Tag::MAX_CHARS))
            .pattern(Some(TAG_PATTERN))
            .into()
    }
}

impl ToSchema for Tag {}

/// The order of a project's threads.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ThreadSort {
    /// By `up_vote - down_vote`, then newest first (the default).
    Top,
    /// Newest first.
    New,
}

/// The kind of a thread.
#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
pub enum ThreadType {
    Problem,
    Solution,
    Comment,
}

/// Letters and digits: what a search word is made of (`char::is_alphanumeric`
/// also counts the few marks that are Other_Alphabetic). Too many to spell
/// out; Schemathesis draws `\p{L}` as Latin letters only (see its hooks.py).
macro_rules! alphanumeric {
    () => {
        r"\p{L}\p{N}"
    };
}

/// `q` when it searches: 1 to 10 words (runs of letters and digits).
pub const SEARCH_PATTERN: &str = concat!(
    "^[^",
    alphanumeric!(),
    "]*(?:[",
    alphanumeric!(),
    "]+[^",
    alphanumeric!(),
    "]+){0,9}[",
    alphanumeric!(),
    "]+[^",
    alphanumeric!(),
    "]*$"
);

/// `q` when it is blank: no search.
pub const BLANK_PATTERN: &str = concat!("^[", white_space!(), "]*$");

fn query(name: &str, description: &str, schema: impl Into<RefOr<Schema>>) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .description(Some(description))
        .schema(Some(schema))
}

fn limit(default: i64, max: i64, description: &str) -> Parameter {
    query(
        "limit",
        description,
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(1))
            .maximum(Some(max))
            .default(Some(json!(default)).filter(|_| default > 0)),
    )
    .build()
}

fn cursor() -> Parameter {
    query(
        "cursor",
        "The `next_cursor` of the previous page, as given out (opaque); it only continues the listing that gave it out (anything else is 422).",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .pattern(Some("^[A-Za-z0-9_-]+$")),
    )
    .build()
}

/// The query parameters of `GET /projects`.
pub struct ProjectsQuery;

impl IntoParams for ProjectsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            limit(
                params::DEFAULT_LIMIT,
                params::MAX_LIMIT,
                "Items per page (default 20).",
            ),
            cursor(),
            query(
                "sort",
                "`new` (default): newest first. `top`: by the sum of the votes (`up_vote - down_vote`) on the project's threads. `active`: by the latest thread started, edited or voted on.",
                Ref::from_schema_name(Sort::name()),
            )
            .build(),
            query(
                "tag",
                "Repeatable: only projects with every one of these tags (at most 10 once normalised and de-duplicated: no project has more).",
                ArrayBuilder::new()
                    .items(Ref::from_schema_name(Tag::name()))
                    .max_items(Some(domain::Tag::MAX_PER_PROJECT)),
            )
            .style(Some(ParameterStyle::Form))
            .explode(Some(true))
            .build(),
            query(
                "q",
                "Search: every word (a run of letters and digits) must start a word of the project's name or tagline, in any case; at most 200 characters and 10 different words (each matched on its first 24 characters). Blank: no search.",
                AnyOfBuilder::new()
                    .item(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some(BLANK_PATTERN)),
                    )
                    .item(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .max_length(Some(routes::MAX_SEARCH_CHARS))
                            .pattern(Some(SEARCH_PATTERN)),
                    ),
            )
            .build(),
        ]
    }
}

/// The query parameters of `GET /projects/{project_id}/threads`.
pub struct ThreadsQuery;

impl IntoParams for ThreadsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            limit(
                params::DEFAULT_LIMIT,
                params::MAX_LIMIT,
                "Items per page (default 20).",
            ),
            cursor(),
            query(
                "type",
                "Only threads of this type.",
                Ref::from_schema_name(ThreadType::name()),
            )
            .build(),
            query(
                "sort",
                "`top` (default): by `up_vote - down_vote`; `new`: newest first.",
                Ref::from_schema_name(ThreadSort::name()),
            )
            .build(),
        ]
    }
}

/// The query parameters of `GET /tags`.
pub struct TagsQuery;

impl IntoParams for TagsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![limit(
            0,
            routes::MAX_TAGS_LIMIT,
            "Only the most used tags (default: every tag).",
        )]
    }
}

// The answers every read can give besides its own, for the `responses(..)`
// of the handlers' annotations.

fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(Problem::name())))
            .build(),
    )
}

fn retry_after(when: &str) -> utoipa::openapi::header::Header {
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

/// What every read can answer besides its own.
pub struct ReadRefusals;

impl IntoResponses for ReadRefusals {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        [
            (
                "400",
                problem("The `Consistency-Token` header is not a token a write gave out."),
            ),
            (
                "429",
                problem("Too many requests from this address: rate limited.")
                    .header("Retry-After", retry_after("")),
            ),
            (
                "503",
                problem("The read model is unavailable, the request took too long, or too many requests are in flight.")
                    .header("Retry-After", retry_after("")),
            ),
        ]
        .into_iter()
        .map(|(status, response)| (status.to_owned(), response.build().into()))
        .collect()
    }
}

// The operational routes are served by `flow_http::ops_router`; these
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
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses(
        (status = 200, description = "This document.", content_type = "application/json"),
        (status = 429, description = "Too many requests from this address: rate limited.", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
        (status = 503, description = "The request took too long, or too many requests are in flight.", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
    )
)]
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

    #[test]
    fn the_parameter_rules_are_the_codes() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        let param = |path: &str, name: &str| -> serde_json::Value {
            doc["paths"][path]["get"]["parameters"]
                .as_array()
                .and_then(|p| p.iter().find(|p| p["name"] == name))
                .cloned()
                .unwrap_or_else(|| panic!("{path} documents {name}"))
        };
        for path in ["/projects", "/projects/{project_id}/threads"] {
            let limit = param(path, "limit");
            assert_eq!(limit["schema"]["maximum"], params::MAX_LIMIT, "{path}");
            assert_eq!(limit["schema"]["default"], params::DEFAULT_LIMIT, "{path}");
        }
        let limit = param("/tags", "limit");
        assert_eq!(limit["schema"]["maximum"], routes::MAX_TAGS_LIMIT);
        let tag = param("/projects", "tag");
        assert_eq!(tag["schema"]["maxItems"], domain::Tag::MAX_PER_PROJECT);
        assert_eq!(
            doc["components"]["schemas"]["Tag"]["maxLength"],
            domain::Tag::MAX_CHARS
        );
        let q = param("/projects", "q");
        assert_eq!(
            q["schema"]["anyOf"][1]["maxLength"],
            routes::MAX_SEARCH_CHARS
        );
        assert!(
            SEARCH_PATTERN.contains(&format!("{{0,{}}}", routes::MAX_SEARCH_TERMS - 1)),
            "{SEARCH_PATTERN}"
        );
        let types: Vec<String> =
            serde_json::from_value(doc["components"]["schemas"]["ThreadType"]["enum"].clone())
                .expect("an enum");
        assert_eq!(types.len(), 3);
        for t in types {
            assert!(domain::ThreadType::parse(&t).is_ok(), "{t}");
        }
        for sort in Sort::ALL {
            let value = serde_json::to_value(sort).expect("a sort");
            assert!(
                doc["components"]["schemas"]["Sort"]["enum"]
                    .as_array()
                    .is_some_and(|values| values.contains(&value)),
                "{value}"
            );
        }
        assert_eq!(
            doc["components"]["schemas"]["ThreadSort"]["enum"],
            serde_json::json!(["top", "new"])
        );
    }

    #[test]
    fn every_read_documents_every_answer_it_can_give() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        for (path, own) in [
            ("/projects", &["200", "422"][..]),
            ("/projects/{project_id}", &["200", "404"]),
            ("/projects/{project_id}/threads", &["200", "404", "422"]),
            ("/threads/{thread_id}", &["200", "404"]),
            ("/tags", &["200", "422"]),
        ] {
            let responses = doc["paths"][path]["get"]["responses"]
                .as_object()
                .expect("responses");
            let mut documented: Vec<&str> = responses.keys().map(String::as_str).collect();
            documented.sort_unstable();
            let mut expected: Vec<&str> =
                ["400", "429", "503"].iter().chain(own).copied().collect();
            expected.sort_unstable();
            assert_eq!(documented, expected, "{path}");
            for (status, response) in responses {
                assert_eq!(
                    response["headers"][PROJECTION_POSITION]["required"], true,
                    "{path} {status}"
                );
            }
            assert!(
                doc["paths"][path]["get"]["parameters"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["name"] == "Consistency-Token")),
                "{path}"
            );
        }
    }
}
