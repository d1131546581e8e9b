//! The OpenAPI document of the write API, generated from the handlers'
//! annotations, served at `GET /openapi.json`.
//!
//! The request bodies are parsed by the domain's request types in `shared`
//! (which do not depend on utoipa); the schemas below describe them, and a
//! test checks that an example of each schema is a valid request.

use std::sync::OnceLock;

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::{
    IntoParams, Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::{projects, threads};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Projects Flow command API",
        description = "Writes: proposals, tags, threads, votes and moderation. Every write needs `Authorization: Bearer <JWT>` (HS256) and answers once JetStream has stored its events, with a `consistency_token` (also in the `Consistency-Token` header) to give to the query API."
    ),
    paths(
        projects::propose,
        projects::change_tags,
        threads::start_thread,
        threads::edit_thread,
        threads::vote,
        threads::moderate,
        healthz,
        readyz,
        metrics,
        openapi_json,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "projects", description = "Proposals and tags"),
        (name = "threads", description = "Discussion threads, votes and moderation"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

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

/// One bad field.
#[derive(Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The `Idempotency-Key` request header of `POST` writes.
#[derive(IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKey(
    /// The same key from the same user within 24 hours returns the first
    /// response again and appends nothing.
    Option<String>,
);

/// `POST /projects/propose`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus", "tags": ["clown", "circus"], "problems": ["short temper"], "solutions": ["play the drums"]}))]
pub struct ProposeBody {
    /// 1–80 characters after trimming; unique among projects, ignoring case.
    pub project_name: String,
    /// 1–255 characters after trimming.
    pub tagline: String,
    /// At most 10, each 1–50 characters; trimmed, lower-cased, de-duplicated.
    pub tags: Option<Vec<String>>,
    /// At least one; each becomes a PROBLEM thread (1–10,000 characters).
    pub problems: Vec<String>,
    /// At least one; each becomes a SOLUTION thread (1–10,000 characters).
    pub solutions: Vec<String>,
}

/// `PUT /projects/{project_id}/tags`: at least one of `add` and `remove`.
#[derive(Serialize, ToSchema)]
pub struct ChangeTagsBody {
    pub add: Option<Vec<String>>,
    pub remove: Option<Vec<String>>,
}

/// `POST /projects/{project_id}/threads`.
#[derive(Serialize, ToSchema)]
pub struct StartThreadBody {
    /// `COMMENT`, `PROBLEM` or `SOLUTION`.
    pub thread_type: String,
    /// 1–10,000 characters.
    pub message: String,
    /// A thread of the same project, for a reply.
    #[schema(format = "uuid")]
    pub parent_thread_id: Option<String>,
}

/// `PATCH /threads/{thread_id}`.
#[derive(Serialize, ToSchema)]
pub struct EditThreadBody {
    /// 1–10,000 characters.
    pub message: String,
}

/// `PUT /threads/{thread_id}/vote`.
#[derive(Serialize, ToSchema)]
pub struct VoteBody {
    /// `up`, `down`, or `none` to withdraw the vote.
    pub direction: String,
}

/// `POST /threads/{thread_id}/moderation` (moderators only).
#[derive(Serialize, ToSchema)]
pub struct ModerateBody {
    /// `approved` or `rejected`.
    pub status: String,
    /// At most 1,000 characters.
    pub reason: Option<String>,
}

/// A proposal was stored.
#[derive(Serialize, ToSchema)]
pub struct Proposed {
    #[schema(format = "uuid")]
    pub project_id: String,
    pub consistency_token: String,
}

/// The project's tags after the change.
#[derive(Serialize, ToSchema)]
pub struct TagsChanged {
    #[schema(format = "uuid")]
    pub project_id: String,
    pub tags: Vec<String>,
    pub consistency_token: String,
}

/// A thread was started or edited.
#[derive(Serialize, ToSchema)]
pub struct ThreadWritten {
    #[schema(format = "uuid")]
    pub thread_id: String,
    pub consistency_token: String,
}

/// The caller's vote now.
#[derive(Serialize, ToSchema)]
pub struct Voted {
    #[schema(format = "uuid")]
    pub thread_id: String,
    /// `up`, `down` or `none`.
    pub direction: String,
    pub consistency_token: String,
}

/// The moderation decision was stored.
#[derive(Serialize, ToSchema)]
pub struct Moderated {
    #[schema(format = "uuid")]
    pub thread_id: String,
    /// `approved` or `rejected`.
    pub status: String,
    pub consistency_token: String,
}

// The operational routes are served by `shared::http::ops_router`; these
// functions only document them.

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, description = "The service is alive.")))]
#[allow(dead_code)]
fn healthz() {}

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

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()), responses((status = 200, description = "Prometheus metrics (OpenMetrics text).", content_type = "application/openmetrics-text")))]
#[allow(dead_code)]
fn metrics() {}

/// This OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", security(()), responses((status = 200, description = "This document.", content_type = "application/json")))]
#[allow(dead_code)]
fn openapi_json() {}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{
        domain::{
            project::{ChangeTags, ChangeTagsRequest, ProposeProject, ProposeProjectRequest},
            thread::{EditThreadRequest, ModerateRequest, StartThread, StartThreadRequest},
            vote::VoteRequest,
        },
        http::parse_json,
    };

    fn json<T: Serialize>(body: &T) -> Vec<u8> {
        serde_json::to_vec(body).expect("serialises")
    }

    #[test]
    fn every_documented_body_is_a_valid_request() {
        let propose = ProposeBody {
            project_name: "Popee".into(),
            tagline: "a clown".into(),
            tags: Some(vec!["clown".into()]),
            problems: vec!["temper".into()],
            solutions: vec!["drums".into()],
        };
        let parsed = ProposeProject::parse(
            parse_json::<ProposeProjectRequest>(&json(&propose)).expect("json"),
        )
        .expect("valid");
        assert_eq!(parsed.tags.len(), 1);

        let tags = ChangeTagsBody {
            add: Some(vec!["a".into()]),
            remove: Some(vec!["b".into()]),
        };
        let parsed =
            ChangeTags::parse(parse_json::<ChangeTagsRequest>(&json(&tags)).expect("json"))
                .expect("valid");
        assert_eq!((parsed.add.len(), parsed.remove.len()), (1, 1));

        let start = StartThreadBody {
            thread_type: "COMMENT".into(),
            message: "hi".into(),
            parent_thread_id: Some(shared::domain::ThreadId::new().to_string()),
        };
        let parsed =
            StartThread::parse(parse_json::<StartThreadRequest>(&json(&start)).expect("json"))
                .expect("valid");
        assert!(parsed.parent_thread_id.is_some());

        let edit = EditThreadBody {
            message: "edited".into(),
        };
        parse_json::<EditThreadRequest>(&json(&edit))
            .expect("json")
            .parse()
            .expect("valid");

        let vote = VoteBody {
            direction: "up".into(),
        };
        parse_json::<VoteRequest>(&json(&vote))
            .expect("json")
            .parse()
            .expect("valid");

        let moderate = ModerateBody {
            status: "approved".into(),
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
            ("/threads/{thread_id}/vote", "put"),
            ("/threads/{thread_id}/moderation", "post"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
    }
}
