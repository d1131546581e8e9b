//! The schemas of the write API's bodies and answers, for the handlers'
//! annotations and the OpenAPI document ([`super::openapi`]).
//!
//! The request bodies are parsed by the domain's request types in `flow-domain`
//! (which do not depend on utoipa); the schemas below describe them, field
//! rules included (lengths, patterns, enums, item counts).

use std::collections::BTreeMap;

use flow_domain as domain;
use serde::Serialize;
use serde_json::json;
use utoipa::{
    IntoParams, IntoResponses, PartialSchema, ToSchema,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        schema::{
            AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
        },
    },
};

/// Errors are the shared problem+json body: served and documented as one type.
pub use flow_http::Problem;

use flow_http::patterns::{LINE_PATTERN, MESSAGE_PATTERN};

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

// The answers of the writes: what the handlers serialise and the document
// shows, one type each.

/// A proposal was stored.
#[derive(Serialize, ToSchema)]
pub struct Proposed {
    #[schema(value_type = String, format = "uuid")]
    pub project_id: domain::ProjectId,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// The project's tags after the change.
#[derive(Serialize, ToSchema)]
pub struct TagsChanged {
    #[schema(value_type = String, format = "uuid")]
    pub project_id: domain::ProjectId,
    #[schema(value_type = Vec<Tag>, max_items = 10)]
    pub tags: Vec<domain::Tag>,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// A thread was started or edited.
#[derive(Serialize, ToSchema)]
pub struct ThreadWritten {
    #[schema(value_type = String, format = "uuid")]
    pub thread_id: domain::ThreadId,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// The caller's vote now.
#[derive(Serialize, ToSchema)]
pub struct Voted {
    #[schema(value_type = String, format = "uuid")]
    pub thread_id: domain::ThreadId,
    #[schema(value_type = Direction)]
    pub direction: domain::Direction,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// The moderation decision was stored.
#[derive(Serialize, ToSchema)]
pub struct Moderated {
    #[schema(value_type = String, format = "uuid")]
    pub thread_id: domain::ThreadId,
    #[schema(value_type = Decision)]
    pub status: domain::ModerationStatus,
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
    flow_http::openapi::retry_after("")
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
