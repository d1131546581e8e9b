//! The OpenAPI document of the write API, generated from the handlers'
//! annotations, served at `GET /openapi.json`.
//!
//! The request bodies are parsed by the domain's request types in `shared`
//! (which do not depend on utoipa); the schemas below describe them, field
//! rules included (lengths, patterns, enums, item counts), and the tests
//! check that the numbers are the domain's and that an example of each body
//! is a valid request. `tests/schemathesis/run` checks the document against
//! the running service.
//!
//! What JSON Schema cannot say is in the descriptions: lengths are counted
//! after the text is normalised (NFC or NFKC, whitespace collapsed and
//! trimmed), tags are compared after lower-casing, and `problems` and
//! `solutions` hold at most 50 entries together.

use std::{collections::BTreeMap, sync::OnceLock};

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use flow_domain as domain;
use serde::Serialize;
use serde_json::json;
use utoipa::{
    IntoParams, IntoResponses, Modify, OpenApi, PartialSchema, ToSchema,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        schema::{
            AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
        },
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use super::{projects, threads};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Projects Flow command API",
        description = "Writes: proposals, tags, threads, votes and moderation. Every write needs `Authorization: Bearer <JWT>` (HS256) and answers once JetStream has stored its events, with a `consistency_token` (also in the `Consistency-Token` header) to give to the query API.\n\nErrors are `application/problem+json`. Every write can answer 400 (malformed JSON), 401 (missing or bad token), 413 (body over 64 KiB), 415 (not JSON), 422 (field rules, each bad field named in `errors`), 429 (rate limited, with `Retry-After`) and 503 (a dependency is unavailable, the request took too long, or too many requests are in flight; with `Retry-After`). A method a path does not serve is answered 405 with `Allow`."
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
    components(schemas(Problem, FieldErrorSchema, ProjectName, Tagline, Tag, Message, ConsistencyToken, ChangeTagsBody)),
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
            camel_case_links(response);
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

/// utoipa 5.5 writes a link's `operationId` as `operation_id` (and so on).
fn camel_case_links(response: &mut serde_json::Value) {
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

use flow_http::FieldErrorSchema;
/// Errors are the shared problem+json body: served and documented as one type.
pub use flow_http::Problem;

// The text rules of the domain (`flow_domain::text`) as patterns. They
// spell every character out (no `\s`, `\w` or `\p{..}`), so that every
// regular-expression engine reads them alike.

/// Unicode White_Space (`char::is_whitespace`): collapsed into one space in
/// names, taglines and tags, trimmed from the ends of messages.
macro_rules! white_space {
    () => {
        r"\t-\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}
/// White_Space kept inside a message (the other three are control characters).
macro_rules! message_space {
    () => {
        r"\t\n\r \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}
/// Control characters that are White_Space, refused inside a message.
macro_rules! space_controls {
    () => {
        r"\x0B\x0C\x85"
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
/// Refused in names, taglines and tags: control characters other than
/// White_Space, and the bidirectional embeddings, overrides and isolates.
macro_rules! refused {
    () => {
        r"\x00-\x08\x0E-\x1F\x7F-\x84\x86-\x9F\u202A-\u202E\u2066-\u2069"
    };
}
/// Refused inside a message: control characters other than tab, newline and
/// carriage return, and the bidirectional controls.
macro_rules! refused_in_message {
    () => {
        r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069"
    };
}
/// A visible character: anything but those above and White_Space.
macro_rules! visible {
    () => {
        concat!("[^", refused!(), white_space!(), ignorable!(), "]")
    };
}

/// A name, tagline or tag: no refused character, at least one visible one.
pub const LINE_PATTERN: &str = concat!(
    "^[",
    white_space!(),
    ignorable!(),
    "]*",
    visible!(),
    "[^",
    refused!(),
    "]*$"
);

/// A message: no refused character inside (the ends are trimmed of
/// White_Space first), at least one visible one.
pub const MESSAGE_PATTERN: &str = concat!(
    "^(?:[",
    white_space!(),
    "]*[",
    space_controls!(),
    "])?[",
    message_space!(),
    ignorable!(),
    "]*",
    visible!(),
    "[^",
    refused_in_message!(),
    "]*(?:[",
    space_controls!(),
    "][",
    white_space!(),
    "]*)?$"
);

/// A consistency token as a write gives it out.
pub const CONSISTENCY_TOKEN_PATTERN: &str = "^s[0-9]+$";

fn text(description: &str, max_chars: usize, pattern: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length(Some(1))
        .max_length(Some(max_chars))
        .pattern(Some(pattern))
        .into()
}

/// Declares a string schema, named after the type.
macro_rules! text_schema {
    ($(#[$meta:meta])* $name:ident, $description:expr, $max:expr, $pattern:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                text(&$description, $max, $pattern)
            }
        }

        impl ToSchema for $name {}
    };
}

text_schema!(
    /// `project_name`.
    ProjectName,
    format!(
        "A project's name: 1–{} characters once normalised (NFKC, every run of whitespace one space, trimmed); no control or bidirectional control characters; at least one visible character. Unique among projects, ignoring case.",
        domain::ProjectName::MAX_CHARS
    ),
    domain::ProjectName::MAX_CHARS,
    LINE_PATTERN
);
text_schema!(
    /// `tagline`.
    Tagline,
    format!(
        "A tagline: 1–{} characters once normalised (NFC, every run of whitespace one space, trimmed); no control or bidirectional control characters; at least one visible character.",
        domain::Tagline::MAX_CHARS
    ),
    domain::Tagline::MAX_CHARS,
    LINE_PATTERN
);
text_schema!(
    /// A tag.
    Tag,
    format!(
        "A tag: 1–{} characters once normalised (NFKC, every run of whitespace one space, trimmed, lower-cased); no control or bidirectional control characters; at least one visible character.",
        domain::Tag::MAX_CHARS
    ),
    domain::Tag::MAX_CHARS,
    LINE_PATTERN
);
text_schema!(
    /// A thread's message.
    Message,
    format!(
        "A message: 1–{} characters once normalised (NFC, `\\r\\n` and `\\r` become `\\n`, the ends trimmed of whitespace); no control characters but tab and newline, no bidirectional controls; at least one visible character.",
        domain::Message::MAX_CHARS
    ),
    domain::Message::MAX_CHARS,
    MESSAGE_PATTERN
);

/// A consistency token: give it to the query API as `Consistency-Token` to
/// read this write.
pub struct ConsistencyToken;

impl PartialSchema for ConsistencyToken {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Opaque: give it to the query API as the `Consistency-Token` header to read this write.",
            ))
            .pattern(Some(CONSISTENCY_TOKEN_PATTERN))
            .into()
    }
}

impl ToSchema for ConsistencyToken {}

/// The kind of a thread.
#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
pub enum ThreadType {
    Problem,
    Solution,
    Comment,
}

/// A vote: `none` withdraws it.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum Direction {
    Up,
    Down,
    None,
}

/// A moderator's decision.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum Decision {
    Approved,
    Rejected,
}

/// The `Idempotency-Key` request header of `POST` writes.
#[derive(IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKey(
    /// 1–255 visible ASCII characters. The same key from the same user within
    /// 24 hours returns the first response again and appends nothing; while
    /// the first request runs, a repeat is answered 409 with `Retry-After`;
    /// the same key for another request is 422.
    #[param(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"^[\x21-\x7E]{1,255}$"
    )]
    Option<String>,
);

/// `POST /projects/propose`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus", "tags": ["clown", "circus"], "problems": ["short temper"], "solutions": ["play the drums"]}))]
pub struct ProposeBody {
    #[schema(value_type = ProjectName)]
    pub project_name: String,
    #[schema(value_type = Tagline)]
    pub tagline: String,
    /// At most 10 once de-duplicated (after normalising).
    #[schema(value_type = Option<Vec<Tag>>, max_items = 10)]
    pub tags: Option<Vec<String>>,
    /// Each becomes a PROBLEM thread. At least one; at most 50 problems and
    /// solutions together.
    #[schema(value_type = Vec<Message>, min_items = 1, max_items = 49)]
    pub problems: Vec<String>,
    /// Each becomes a SOLUTION thread. At least one; at most 50 problems and
    /// solutions together.
    #[schema(value_type = Vec<Message>, min_items = 1, max_items = 49)]
    pub solutions: Vec<String>,
}

/// `PUT /projects/{project_id}/tags`: at least one of `add` and `remove`.
#[derive(Serialize)]
pub struct ChangeTagsBody {
    pub add: Option<Vec<String>>,
    pub remove: Option<Vec<String>>,
}

// By hand: "at least one of" is an `anyOf`, and utoipa 5.5 writes
// `#[schema(min_properties = 1)]` as `maxProperties`.
impl PartialSchema for ChangeTagsBody {
    fn schema() -> RefOr<Schema> {
        let tags = |description: &str| {
            ArrayBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
                .items(Ref::from_schema_name(Tag::name()))
                .description(Some(description))
        };
        let given = |field: &str| {
            ObjectBuilder::new()
                .required(field)
                .property(field, ObjectBuilder::new().schema_type(Type::Array))
        };
        AllOfBuilder::new()
            .description(Some(
                "At least one of `add` and `remove` (not `null`); the project then has at most 10 tags.",
            ))
            .examples([json!({"add": ["juggling"], "remove": ["circus"]})])
            .item(
                ObjectBuilder::new()
                    .property(
                        "add",
                        tags("Tags to add; one also in `remove` is not added."),
                    )
                    .property(
                        "remove",
                        tags("Tags to remove."),
                    ),
            )
            .item(AnyOfBuilder::new().item(given("add")).item(given("remove")))
            .into()
    }
}

impl ToSchema for ChangeTagsBody {}

/// `POST /projects/{project_id}/threads`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"thread_type": "COMMENT", "message": "Try juggling."}))]
pub struct StartThreadBody {
    #[schema(value_type = ThreadType)]
    pub thread_type: String,
    #[schema(value_type = Message)]
    pub message: String,
    /// A thread of the same project, for a reply.
    #[schema(format = "uuid")]
    pub parent_thread_id: Option<String>,
}

/// `PATCH /threads/{thread_id}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "Try juggling, with three balls."}))]
pub struct EditThreadBody {
    #[schema(value_type = Message)]
    pub message: String,
}

/// `PUT /threads/{thread_id}/vote`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"direction": "up"}))]
pub struct VoteBody {
    #[schema(value_type = Direction)]
    pub direction: String,
}

/// `POST /threads/{thread_id}/moderation` (moderators only).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "rejected", "reason": "off topic"}))]
pub struct ModerateBody {
    #[schema(value_type = Decision)]
    pub status: String,
    /// At most 1,000 characters once trimmed; blank means none.
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// A proposal was stored.
#[derive(Serialize, ToSchema)]
pub struct Proposed {
    #[schema(format = "uuid")]
    pub project_id: String,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// The project's tags after the change.
#[derive(Serialize, ToSchema)]
pub struct TagsChanged {
    #[schema(format = "uuid")]
    pub project_id: String,
    #[schema(value_type = Vec<Tag>, max_items = 10)]
    pub tags: Vec<String>,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// A thread was started or edited.
#[derive(Serialize, ToSchema)]
pub struct ThreadWritten {
    #[schema(format = "uuid")]
    pub thread_id: String,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// The caller's vote now.
#[derive(Serialize, ToSchema)]
pub struct Voted {
    #[schema(format = "uuid")]
    pub thread_id: String,
    #[schema(value_type = Direction)]
    pub direction: String,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// The moderation decision was stored.
#[derive(Serialize, ToSchema)]
pub struct Moderated {
    #[schema(format = "uuid")]
    pub thread_id: String,
    #[schema(value_type = Decision)]
    pub status: String,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

// The answers every write can give besides its own, for the `responses(..)`
// of the handlers' annotations.

fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(Problem::name())))
            .build(),
    )
}

fn retry_after() -> utoipa::openapi::header::Header {
    retry_after_when("")
}

fn retry_after_when(when: &str) -> utoipa::openapi::header::Header {
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

fn write_refusals(
    bad_request: &str,
    unprocessable: &str,
) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
    let www_authenticate = HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some("`Bearer`."))
        .build();
    [
        ("400", problem(bad_request)),
        (
            "401",
            problem("Missing or bad token.").header("WWW-Authenticate", www_authenticate),
        ),
        ("413", problem("The request body is over 64 KiB.")),
        ("415", problem("The request body is not `application/json`.")),
        ("422", problem(unprocessable)),
        (
            "429",
            problem("Too many writes from this user: rate limited.")
                .header("Retry-After", retry_after()),
        ),
        (
            "503",
            problem("A dependency is unavailable, the request took too long, or too many requests are in flight.")
                .header("Retry-After", retry_after()),
        ),
    ]
    .into_iter()
    .map(|(status, response)| (status.to_owned(), response.build().into()))
    .collect()
}

/// What every write without an `Idempotency-Key` can answer besides its own.
pub struct WriteRefusals;

impl IntoResponses for WriteRefusals {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        write_refusals(
            "The request body is not a JSON object.",
            "Field rules broken, each bad field named in `errors`.",
        )
    }
}

/// What every `POST` (which honours `Idempotency-Key`) can answer besides its own.
pub struct KeyedWriteRefusals;

impl IntoResponses for KeyedWriteRefusals {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        write_refusals(
            "The request body is not a JSON object, or the `Idempotency-Key` header is not 1–255 visible ASCII characters.",
            "Field rules broken, each bad field named in `errors`; or the `Idempotency-Key` was used for another request.",
        )
    }
}

// The operational routes are served by `flow_http::ops_router`; these
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
#[allow(dead_code)]
fn openapi_json() {}

#[cfg(test)]
mod tests {
    use super::*;
    use flow_domain::{
        project::{ChangeTags, ChangeTagsRequest, ProposeProject, ProposeProjectRequest},
        thread::{EditThreadRequest, ModerateRequest, StartThread, StartThreadRequest},
        vote::VoteRequest,
    };
    use flow_http::parse_json;

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
            parent_thread_id: Some(flow_domain::ThreadId::new().to_string()),
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
        let propose = &schema(&doc, "ProposeBody")["properties"];
        assert_eq!(propose["tags"]["maxItems"], domain::Tag::MAX_PER_PROJECT);
        for field in ["problems", "solutions"] {
            // Each at least one, so each at most the total less one.
            assert_eq!(propose[field]["minItems"], 1);
            assert_eq!(propose[field]["maxItems"], MAX_INITIAL_THREADS - 1);
        }
        let tags = &schema(&doc, "TagsChanged")["properties"]["tags"];
        assert_eq!(tags["maxItems"], domain::Tag::MAX_PER_PROJECT);
        let reason = &schema(&doc, "ModerateBody")["properties"]["reason"];
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
