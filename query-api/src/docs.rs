//! How the read API's parameters and common answers are documented: the
//! parameter sets and refusals the handlers' annotations name, with the
//! rules of `crate::params` (the document's tests check their
//! numbers against the code's).

use std::collections::BTreeMap;

use flow_domain as domain;
use flow_domain::{Tag, ThreadType};
use flow_http::openapi::{problem_response, retry_after};
use serde_json::json;
use utoipa::{
    IntoParams, IntoResponses, ToSchema,
    openapi::{
        Ref, RefOr,
        path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle},
        schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type},
    },
};

use crate::{params, sort::Sort};

/// The `Consistency-Token` request header.
#[derive(IntoParams)]
#[into_params(names("Consistency-Token"), parameter_in = Header)]
#[allow(dead_code)]
pub struct ConsistencyTokenHeader(
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

/// `limit` and `cursor`: how a listing pages.
fn paging() -> Vec<Parameter> {
    vec![
        limit(
            params::DEFAULT_LIMIT,
            params::MAX_LIMIT,
            "Items per page (default 20).",
        ),
        cursor(),
    ]
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
        let mut params = paging();
        params.extend([
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
                            .max_length(Some(params::MAX_SEARCH_CHARS))
                            .pattern(Some(flow_domain::patterns::BLANK_PATTERN)),
                    )
                    .item(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .max_length(Some(params::MAX_SEARCH_CHARS))
                            .pattern(Some(SEARCH_PATTERN)),
                    ),
            )
            .build(),
        ]);
        params
    }
}

/// The query parameters of `GET /projects/{project_id}/threads`.
pub struct ThreadsQuery;

impl IntoParams for ThreadsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = paging();
        params.extend([
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
        ]);
        params
    }
}

/// `limit` and `cursor` only: `GET /me/projects`, `GET /threads/{thread_id}/replies`.
pub struct PagingQuery;

impl IntoParams for PagingQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        paging()
    }
}

fn statuses(values: &[&str]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
}

/// `limit` of `GET /recommendations`.
pub struct RecommendationsQuery;

impl IntoParams for RecommendationsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![limit(
            params::DEFAULT_RECOMMENDATIONS,
            params::MAX_RECOMMENDATIONS,
            "How many (default 12).",
        )]
    }
}

/// The query parameters of `GET /me/threads`.
pub struct MyThreadsQuery;

impl IntoParams for MyThreadsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = paging();
        params.push(
            query(
                "status",
                "Only threads in this status (default: any; withdrawn threads are never listed).",
                statuses(&["pending", "approved", "rejected"]),
            )
            .build(),
        );
        params
    }
}

/// The query parameters of `GET /moderation/threads`.
pub struct QueueQuery;

impl IntoParams for QueueQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = paging();
        params.push(
            query(
                "status",
                "The queue: `pending` (default), threads waiting for a decision, or `rejected`.",
                statuses(&["pending", "rejected"]).default(Some(json!("pending"))),
            )
            .build(),
        );
        params
    }
}

/// The query parameters of `GET /tags`.
pub struct TagsQuery;

impl IntoParams for TagsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![limit(
            0,
            params::MAX_TAGS_LIMIT,
            "Only the most used tags (default: every tag).",
        )]
    }
}

// The answers every read can give besides its own, for the `responses(..)`
// of the handlers' annotations.

/// What every read can answer besides its own.
pub struct ReadRefusals;

impl IntoResponses for ReadRefusals {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        [
            (
                "400",
                problem_response("The `Consistency-Token` header is not a token a write gave out."),
            ),
            (
                "401",
                problem_response("The `Authorization` header is present but not a valid bearer token (malformed, badly signed or expired): never read as anonymous. On `/me/...` and `/moderation/...` also when it is missing.")
                    .header("WWW-Authenticate", www_authenticate()),
            ),
            (
                "429",
                problem_response("Too many requests from this address: rate limited.")
                    .header("Retry-After", retry_after("")),
            ),
            (
                "503",
                problem_response("The read model is unavailable, the request took too long, or too many requests are in flight.")
                    .header("Retry-After", retry_after("")),
            ),
        ]
        .into_iter()
        .map(|(status, response)| (status.to_owned(), response.build().into()))
        .collect()
    }
}

fn www_authenticate() -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some("`Bearer`: the scheme the API accepts."))
        .build()
}
