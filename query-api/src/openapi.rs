//! The OpenAPI document of the read API, generated from the handlers'
//! annotations and the response types, served at `GET /openapi.json`.
//!
//! The query parameters are parsed by hand (`crate::params`, every bad one
//! reported at once); [`crate::docs`] describes them, rules included, and
//! the tests check their numbers against the code's. `tests/schemathesis/run`
//! checks the document against the running service.

use std::sync::OnceLock;

use flow_domain::{Direction, Tag, ThreadType};
use flow_http::openapi::{self, BearerAuth};
use flow_http::{FieldErrorSchema, Problem};
use serde_json::json;
use utoipa::OpenApi;

use crate::{
    discovery, docs::ThreadSort, me, moderation, routes, sort::Sort, threads, views::ThreadStatus,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Projects Flow query API",
        description = "Listings and details of projects and their discussion threads, served from the read model. Reads are anonymous by default and accept the bearer token of the command API (HS256 JWT with `sub` and `exp`; `roles` may hold `moderator`), optionally: it decides what a reader sees of a thread (withheld text and moderation reasons for the author and moderators, the reader's own vote), and `/me/...` and `/moderation/...` require it. A token that is present but malformed, badly signed or expired is 401, never read as anonymous. Every answer carries `Projection-Position`, the stream sequence the read model has applied.\n\nA read with a `Consistency-Token` (a write's `consistency_token`) waits, bounded, until the read model has applied that write. Errors are `application/problem+json`. Every read can answer 400 (a bad `Consistency-Token`), 401 (a bad token), 429 (rate limited, with `Retry-After`) and 503 (the read model is unavailable, the request took too long, or too many requests are in flight); listings 422 for bad parameters, each named in `errors`; details 404. A method a path does not serve is answered 405 with `Allow`."
    ),
    paths(
        routes::list_projects,
        routes::get_project,
        threads::list_threads,
        threads::get_thread,
        threads::list_replies,
        routes::list_tags,
        me::my_projects,
        me::my_threads,
        discovery::followed_tags,
        discovery::hidden,
        discovery::feed,
        discovery::recommendations,
        moderation::queue,
        openapi::healthz,
        readyz,
        openapi::metrics,
        openapi::openapi_json,
    ),
    tags(
        (name = "projects", description = "Projects and their tags"),
        (name = "threads", description = "Discussion threads"),
        (name = "me", description = "The caller's own projects and threads (a token is required)"),
        (name = "moderation", description = "The moderation queues (moderators only)"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    ),
    components(schemas(Sort, ThreadSort, ThreadType, ThreadStatus, Direction, Tag, Problem, FieldErrorSchema)),
    modifiers(&BEARER),
    // Optional on most reads: anonymous, or a bearer token.
    security((), ("bearer" = []))
)]
pub struct ApiDoc;

const BEARER: BearerAuth = BearerAuth(Some("The bearer token of the command API."));

/// Every answer carries it.
pub const PROJECTION_POSITION: &str = "Projection-Position";

/// The document, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        document_validators(&mut doc);
        complete_headers(&mut doc);
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    })
}

/// The response cache's part of every read (`crate::cache`), said once for
/// every `GET` but the operational routes: `If-None-Match`, and `ETag`,
/// `Cache-Control` and `Vary` on a `200` and on the `304` that answers a
/// matching `If-None-Match`.
fn document_validators(doc: &mut serde_json::Value) {
    const OPERATIONAL: [&str; 3] = ["/healthz", "/readyz", "/metrics"];
    let text = |description: &str| json!({"schema": {"type": "string"}, "description": description, "required": true});
    let headers = json!({
        "ETag": text("A strong validator of this answer's body."),
        "Cache-Control": text("`public, max-age=<seconds>` for an anonymous read (the staleness bound, `FLOW_READ_CACHE_STALENESS_MS`, in whole seconds); `private, no-cache` for a signed-in reader."),
        "Vary": text("`authorization, consistency-token`: the answer depends on the reader and on the write it waited for."),
    });
    let if_none_match = json!({
        "name": "If-None-Match",
        "in": "header",
        "required": false,
        "schema": {"type": "string"},
        "description": "ETags of answers the caller holds (or `*`): when one is this answer's, the answer is `304` with no body.",
    });
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let reads = paths
        .iter_mut()
        .filter(|(path, _)| !OPERATIONAL.contains(&path.as_str()))
        .filter_map(|(_, item)| item.get_mut("get"))
        .filter_map(|operation| operation.as_object_mut());
    for operation in reads {
        if let Some(parameters) = operation
            .entry("parameters")
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            parameters.push(if_none_match.clone());
        }
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(|r| r.as_object_mut())
        else {
            continue;
        };
        if let Some(ok) = responses.get_mut("200").and_then(|r| r.as_object_mut())
            && let (Some(ok_headers), Some(validators)) = (
                ok.entry("headers")
                    .or_insert_with(|| json!({}))
                    .as_object_mut(),
                headers.as_object(),
            )
        {
            ok_headers.extend(validators.clone());
        }
        responses.insert(
            "304".into(),
            json!({
                "description": "Not modified: `If-None-Match` names this answer's `ETag`. No body.",
                "headers": headers.clone(),
            }),
        );
    }
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
        flow_http::openapi::camel_case_links(response);
        let Some(response) = response.as_object_mut() else {
            continue;
        };
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

pub async fn serve() -> axum::response::Response {
    openapi::serve(document())
}

// `/readyz` is served by `flow_http::ops_router`; this function only
// documents it (the other operational routes: `flow_http::openapi`).

/// Readiness.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "NATS and MongoDB are reachable and the projection lag is below `FLOW_MAX_LAG`."),
        (status = 503, description = "Not ready; `detail` says why.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code)]
fn readyz() {}

#[cfg(test)]
mod tests {
    use flow_domain as domain;

    use super::*;
    use crate::{docs::SEARCH_PATTERN, params};

    #[test]
    fn every_reference_resolves() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        let found = flow_http::openapi::references(&doc);
        assert!(!found.is_empty());
        for r in found {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(doc["components"]["schemas"][name].is_object(), "{r}");
        }
        let sort = &doc["components"]["schemas"]["Sort"]["enum"];
        assert_eq!(sort, &serde_json::json!(["new", "top", "active"]));
    }

    #[test]
    fn every_read_documents_its_validators_and_not_modified() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let read = &item["get"];
            let cached = !["/healthz", "/readyz", "/metrics"].contains(&path.as_str());
            assert_eq!(read["responses"]["304"].is_object(), cached, "{path}");
            if cached {
                let ok = &read["responses"]["200"]["headers"];
                for header in ["ETag", "Cache-Control", "Vary", PROJECTION_POSITION] {
                    assert_eq!(ok[header]["required"], true, "{path} {header}");
                }
                let named = |p: &serde_json::Value| p["name"] == "If-None-Match";
                let parameters = read["parameters"].as_array().expect("parameters");
                assert_eq!(parameters.iter().filter(|p| named(p)).count(), 1, "{path}");
            }
        }
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
        for path in [
            "/projects",
            "/projects/{project_id}/threads",
            "/threads/{thread_id}/replies",
            "/me/projects",
            "/me/threads",
            "/moderation/threads",
        ] {
            let limit = param(path, "limit");
            assert_eq!(limit["schema"]["maximum"], params::MAX_LIMIT, "{path}");
            assert_eq!(limit["schema"]["default"], params::DEFAULT_LIMIT, "{path}");
        }
        let limit = param("/tags", "limit");
        assert_eq!(limit["schema"]["maximum"], params::MAX_TAGS_LIMIT);
        let tag = param("/projects", "tag");
        assert_eq!(tag["schema"]["maxItems"], domain::Tag::MAX_PER_PROJECT);
        assert_eq!(
            doc["components"]["schemas"]["Tag"]["maxLength"],
            domain::Tag::MAX_CHARS
        );
        let q = param("/projects", "q");
        assert_eq!(
            q["schema"]["anyOf"][1]["maxLength"],
            params::MAX_SEARCH_CHARS
        );
        assert!(
            SEARCH_PATTERN.contains(&format!("{{0,{}}}", params::MAX_SEARCH_TERMS - 1)),
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
            ("/threads/{thread_id}/replies", &["200", "404", "422"]),
            ("/tags", &["200", "422"]),
            ("/me/projects", &["200", "422"]),
            ("/me/threads", &["200", "422"]),
            ("/moderation/threads", &["200", "403", "422"]),
        ] {
            let responses = doc["paths"][path]["get"]["responses"]
                .as_object()
                .expect("responses");
            let mut documented: Vec<&str> = responses.keys().map(String::as_str).collect();
            documented.sort_unstable();
            let mut expected: Vec<&str> = ["304", "400", "401", "429", "503"]
                .iter()
                .chain(own)
                .copied()
                .collect();
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

    #[test]
    fn identity_is_optional_except_on_the_callers_own_reads() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert_eq!(doc["security"], serde_json::json!([{}, {"bearer": []}]));
        for path in ["/me/projects", "/me/threads", "/moderation/threads"] {
            assert_eq!(
                doc["paths"][path]["get"]["security"],
                serde_json::json!([{"bearer": []}]),
                "{path}"
            );
        }
        assert_eq!(
            doc["components"]["schemas"]["ThreadStatus"]["enum"],
            serde_json::json!(["pending", "approved", "rejected", "withdrawn"])
        );
    }
}
