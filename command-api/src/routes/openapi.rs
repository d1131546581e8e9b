//! The OpenAPI document of the write API, generated from the handlers'
//! annotations, served at `GET /openapi.json`.
//!
//! The request bodies are the domain's request types, documented by their
//! own schemas (`flow_domain::schema`) with their field rules (lengths,
//! patterns, enums, item counts); the tests check that the numbers are the
//! domain's and that an example of each body is a valid request. `tests/schemathesis/run` checks the document against
//! the running service.
//!
//! What JSON Schema cannot say is in the descriptions: lengths are counted
//! after the text is normalised (NFC or NFKC, whitespace collapsed and
//! trimmed), tags are compared after lower-casing, and `problems` and
//! `solutions` hold at most 50 entries together.

use std::sync::OnceLock;

use axum::response::Response;
use flow_http::openapi::{self, BearerAuth};
use utoipa::OpenApi;

use flow_domain::project::{ChangeProjectRequest, ChangeTagsRequest};
use flow_http::FieldErrorSchema;

use super::{me, projects, schema::*, threads};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Projects Flow command API",
        description = "Writes: proposals, changes of a project, tags, threads (started, edited, withdrawn), votes and moderation. Every write needs `Authorization: Bearer <JWT>` (HS256) and answers once JetStream has stored its events, with a `consistency_token` (also in the `Consistency-Token` header) to give to the query API.\n\nErrors are `application/problem+json`. Every write can answer 400 (malformed JSON), 401 (missing or bad token), 413 (body over 64 KiB), 415 (not JSON), 422 (field rules, each bad field named in `errors`), 429 (rate limited, with `Retry-After`) and 503 (a dependency is unavailable, the request took too long, or too many requests are in flight; with `Retry-After`). A method a path does not serve is answered 405 with `Allow`."
    ),
    paths(
        projects::propose,
        projects::change,
        projects::change_tags,
        threads::start_thread,
        threads::edit_thread,
        threads::withdraw,
        me::hide,
        me::follow_tags,
        threads::vote,
        threads::moderate,
        openapi::healthz,
        readyz,
        openapi::metrics,
        openapi::openapi_json,
    ),
    components(schemas(Problem, FieldErrorSchema, ProjectName, Tagline, Tag, Message, ConsistencyToken, ChangeTagsRequest, ChangeProjectRequest)),
    modifiers(&BEARER),
    security(("bearer" = [])),
    tags(
        (name = "projects", description = "Proposals and tags"),
        (name = "threads", description = "Discussion threads, votes and moderation"),
        (name = "me", description = "The caller's own choices: hidden projects, followed tags"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

const BEARER: BearerAuth = BearerAuth(None);

/// Whether every answer with `status` carries `header`: marked `required`
/// in the document (utoipa has no attribute for it). A 409 has `Retry-After`
/// only when it is a repeat still in progress.
fn always_sent(status: &str, header: &str) -> bool {
    match header {
        "Consistency-Token" => status.starts_with('2'),
        "Retry-After" => status == "429" || status == "503",
        "WWW-Authenticate" => status == "401",
        _ => false,
    }
}

/// The document, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        complete(&mut doc);
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    })
}

/// What utoipa does not write: `required` on the response headers that are
/// [`always_sent`], and the links' fields as OpenAPI spells them.
fn complete(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(|r| r.as_object_mut())
        else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            flow_http::openapi::camel_case_links(response);
            let Some(headers) = response.get_mut("headers").and_then(|h| h.as_object_mut()) else {
                continue;
            };
            for (name, header) in headers.iter_mut() {
                if always_sent(status, name)
                    && let Some(header) = header.as_object_mut()
                {
                    header.insert("required".into(), true.into());
                }
            }
        }
    }
}

pub async fn serve() -> Response {
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
        (status = 200, description = "NATS is reachable."),
        (status = 503, description = "Not ready; `detail` says why.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code)]
fn readyz() {}

#[cfg(test)]
mod tests {
    use super::*;
    use flow_domain as domain;
    use flow_domain::{
        project::{ChangeTags, ChangeTagsRequest, ProposeProject, ProposeProjectRequest},
        thread::{EditThreadRequest, ModerateRequest, StartThread, StartThreadRequest},
        vote::VoteRequest,
    };
    use flow_http::parse_json;
    use serde::Serialize;

    fn json<T: Serialize>(body: &T) -> Vec<u8> {
        serde_json::to_vec(body).expect("serialises")
    }

    #[test]
    fn every_documented_body_is_a_valid_request() {
        let propose = ProposeProjectRequest {
            project_name: Some("Popee".into()),
            tagline: Some("a clown".into()),
            tags: Some(vec!["clown".into()]),
            problems: Some(vec!["temper".into()]),
            solutions: Some(vec!["drums".into()]),
        };
        let parsed = ProposeProject::parse(
            parse_json::<ProposeProjectRequest>(&json(&propose)).expect("json"),
        )
        .expect("valid");
        assert_eq!(parsed.tags.len(), 1);

        let tags = ChangeTagsRequest {
            add: Some(vec!["a".into()]),
            remove: Some(vec!["b".into()]),
        };
        let parsed =
            ChangeTags::parse(parse_json::<ChangeTagsRequest>(&json(&tags)).expect("json"))
                .expect("valid");
        assert_eq!((parsed.add.len(), parsed.remove.len()), (1, 1));

        let start = StartThreadRequest {
            thread_type: Some("COMMENT".into()),
            message: Some("hi".into()),
            parent_thread_id: Some(flow_domain::ThreadId::new().to_string()),
        };
        let parsed =
            StartThread::parse(parse_json::<StartThreadRequest>(&json(&start)).expect("json"))
                .expect("valid");
        assert!(parsed.parent_thread_id.is_some());

        let edit = EditThreadRequest {
            message: Some("edited".into()),
        };
        parse_json::<EditThreadRequest>(&json(&edit))
            .expect("json")
            .parse()
            .expect("valid");

        let vote = VoteRequest {
            direction: Some("up".into()),
        };
        parse_json::<VoteRequest>(&json(&vote))
            .expect("json")
            .parse()
            .expect("valid");

        let moderate = ModerateRequest {
            status: Some("approved".into()),
            reason: Some("fine".into()),
        };
        let parsed = parse_json::<ModerateRequest>(&json(&moderate))
            .expect("json")
            .parse()
            .expect("valid");
        assert_eq!(parsed.reason.as_deref(), Some("fine"));
    }

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
    }

    #[test]
    fn the_document_names_every_write() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        for (path, method) in [
            ("/projects/propose", "post"),
            ("/projects/{project_id}/tags", "put"),
            ("/projects/{project_id}/threads", "post"),
            ("/threads/{thread_id}", "patch"),
            ("/threads/{thread_id}", "delete"),
            ("/projects/{project_id}", "patch"),
            ("/projects/{project_id}/hidden", "put"),
            ("/me/followed-tags", "put"),
            ("/threads/{thread_id}/vote", "put"),
            ("/threads/{thread_id}/moderation", "post"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
    }

    fn schema<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
        &doc["components"]["schemas"][name]
    }

    #[test]
    fn the_field_rules_are_the_domains() {
        use flow_domain::{
            Direction, ModerationStatus, ThreadType, project::MAX_INITIAL_THREADS,
            thread::MAX_REASON_CHARS,
        };
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        let propose = &schema(&doc, "ProposeProjectRequest")["properties"];
        assert_eq!(propose["tags"]["maxItems"], domain::Tag::MAX_PER_PROJECT);
        for field in ["problems", "solutions"] {
            // Each at least one, so each at most the total less one.
            assert_eq!(propose[field]["minItems"], 1);
            assert_eq!(propose[field]["maxItems"], MAX_INITIAL_THREADS - 1);
        }
        let tags = &schema(&doc, "TagsChanged")["properties"]["tags"];
        assert_eq!(tags["maxItems"], domain::Tag::MAX_PER_PROJECT);
        let reason = &schema(&doc, "ModerateRequest")["properties"]["reason"];
        assert_eq!(reason["maxLength"], MAX_REASON_CHARS);
        let key = &doc["paths"]["/projects/propose"]["post"]["parameters"][0];
        assert_eq!(key["name"], "Idempotency-Key");
        assert_eq!(
            key["schema"]["maxLength"],
            crate::idempotency::MAX_KEY_CHARS
        );
        for (name, max) in [
            ("ProjectName", domain::ProjectName::MAX_CHARS),
            ("Tagline", domain::Tagline::MAX_CHARS),
            ("Tag", domain::Tag::MAX_CHARS),
            ("Message", domain::Message::MAX_CHARS),
        ] {
            assert_eq!(schema(&doc, name)["minLength"], 1, "{name}");
            assert_eq!(schema(&doc, name)["maxLength"], max, "{name}");
        }
        let values = |name: &str| -> Vec<String> {
            serde_json::from_value(schema(&doc, name)["enum"].clone()).expect("an enum")
        };
        for value in values("ThreadType") {
            assert!(ThreadType::parse(&value).is_ok(), "{value}");
        }
        for value in values("Direction") {
            assert!(Direction::parse(&value).is_ok(), "{value}");
        }
        for value in values("Decision") {
            assert!(ModerationStatus::parse_decision(&value).is_ok(), "{value}");
        }
        assert_eq!(values("ThreadType").len(), 3);
        assert_eq!(values("Direction").len(), 3);
        assert_eq!(values("Decision").len(), 2);
    }

    #[test]
    fn every_write_documents_every_answer_it_can_give() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("JSON");
        // What the writes have in common (the `POST`s with `Idempotency-Key`
        // answer 409 for a repeat still in progress, the others when the
        // aggregate changed concurrently too often; every write but a
        // proposal names an aggregate by id: 404).
        let common = ["400", "401", "409", "413", "415", "422", "429", "503"];
        for (path, method, own) in [
            ("/projects/propose", "post", &["201"][..]),
            ("/projects/{project_id}/tags", "put", &["200", "403", "404"]),
            ("/projects/{project_id}/threads", "post", &["201", "404"]),
            ("/threads/{thread_id}", "patch", &["200", "403", "404"]),
            ("/threads/{thread_id}/vote", "put", &["200", "404"]),
            (
                "/threads/{thread_id}/moderation",
                "post",
                &["200", "403", "404"],
            ),
        ] {
            let responses = doc["paths"][path][method]["responses"]
                .as_object()
                .expect("responses");
            let mut documented: Vec<&str> = responses.keys().map(String::as_str).collect();
            documented.sort_unstable();
            let mut expected: Vec<&str> = common.iter().chain(own).copied().collect();
            expected.sort_unstable();
            assert_eq!(documented, expected, "{method} {path}");
            let keyed = doc["paths"][path][method]["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "Idempotency-Key"));
            assert_eq!(keyed, method == "post", "{method} {path}");
        }
        assert!(
            !document().contains("Location"),
            "a write's answer has no Location header"
        );
    }
}
