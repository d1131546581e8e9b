//! The schemas of the write API's bodies and answers, for the handlers'
//! annotations and the OpenAPI document ([`super::openapi`]).
//!
//! The request bodies are the domain's request types, which describe
//! themselves (`flow_domain::schema`); the values' schemas are re-exported
//! here for the answers.

use std::collections::BTreeMap;

use flow_domain as domain;
use serde::Serialize;
use utoipa::{
    IntoParams, IntoResponses, PartialSchema, ToSchema,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        schema::{ObjectBuilder, Schema, Type},
    },
};

pub use flow_domain::{Message, ProjectName, Tag, Tagline, schema::Decision};
/// Errors are the shared problem+json body: served and documented as one type.
pub use flow_http::Problem;

/// A consistency token as a write gives it out.
pub const CONSISTENCY_TOKEN_PATTERN: &str = "^s[0-9]+$";

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

/// The project's name or tagline was changed.
#[derive(Serialize, ToSchema)]
pub struct ProjectChanged {
    #[schema(value_type = String, format = "uuid")]
    pub project_id: domain::ProjectId,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// The thread was withdrawn (or already was).
#[derive(Serialize, ToSchema)]
pub struct Withdrawn {
    #[schema(value_type = String, format = "uuid")]
    pub thread_id: domain::ThreadId,
    /// Always `withdrawn`.
    #[schema(value_type = String, pattern = "^withdrawn$")]
    pub status: domain::ModerationStatus,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// Whether the caller hides the project now.
#[derive(Serialize, ToSchema)]
pub struct HiddenNow {
    #[schema(value_type = String, format = "uuid")]
    pub project_id: domain::ProjectId,
    pub hidden: bool,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// The tags the caller follows now.
#[derive(Serialize, ToSchema)]
pub struct TagsFollowed {
    #[schema(max_items = 50)]
    pub tags: Vec<domain::Tag>,
    #[schema(value_type = ConsistencyToken)]
    pub consistency_token: String,
}

/// The project's tags after the change.
#[derive(Serialize, ToSchema)]
pub struct TagsChanged {
    #[schema(value_type = String, format = "uuid")]
    pub project_id: domain::ProjectId,
    #[schema(max_items = 10)]
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
