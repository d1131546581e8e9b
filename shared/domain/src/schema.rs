//! The OpenAPI schemas of the domain's values and of the request bodies its
//! commands are parsed from (feature `openapi`), so that each wire shape is
//! defined once: the type that is deserialised is the type that is
//! documented, with its field rules (lengths, patterns, enums, item counts).
//!
//! What JSON Schema cannot say is in the descriptions: lengths are counted
//! after the text is normalised (NFC or NFKC, whitespace collapsed and
//! trimmed), and tags are compared after lower-casing.

use serde_json::json;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        Ref, RefOr,
        schema::{
            AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
        },
    },
};

use crate::{
    Message, ProjectName, Tag, Tagline,
    patterns::{LINE_PATTERN, MESSAGE_PATTERN},
    project::{ChangeProjectRequest, ChangeTagsRequest},
};

fn text(description: String, max_chars: usize, pattern: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length(Some(1))
        .max_length(Some(max_chars))
        .pattern(Some(pattern))
        .into()
}

impl PartialSchema for ProjectName {
    fn schema() -> RefOr<Schema> {
        text(
            format!(
                "A project's name: 1–{} characters once normalised (NFKC, every run of whitespace one space, trimmed); no control or bidirectional control characters; at least one visible character. Unique among projects, ignoring case.",
                Self::MAX_CHARS
            ),
            Self::MAX_CHARS,
            LINE_PATTERN,
        )
    }
}

impl ToSchema for ProjectName {}

impl PartialSchema for Tagline {
    fn schema() -> RefOr<Schema> {
        text(
            format!(
                "A tagline: 1–{} characters once normalised (NFC, every run of whitespace one space, trimmed); no control or bidirectional control characters; at least one visible character.",
                Self::MAX_CHARS
            ),
            Self::MAX_CHARS,
            LINE_PATTERN,
        )
    }
}

impl ToSchema for Tagline {}

impl PartialSchema for Tag {
    fn schema() -> RefOr<Schema> {
        text(
            format!(
                "A tag: 1–{} characters once normalised (NFKC, every run of whitespace one space, trimmed, lower-cased); no control or bidirectional control characters; at least one visible character.",
                Self::MAX_CHARS
            ),
            Self::MAX_CHARS,
            LINE_PATTERN,
        )
    }
}

impl ToSchema for Tag {}

impl PartialSchema for Message {
    fn schema() -> RefOr<Schema> {
        text(
            format!(
                "A message: 1–{} characters once normalised (NFC, `\\r\\n` and `\\r` become `\\n`, the ends trimmed of whitespace); no control characters but tab and newline, no bidirectional controls; at least one visible character.",
                Self::MAX_CHARS
            ),
            Self::MAX_CHARS,
            MESSAGE_PATTERN,
        )
    }
}

impl ToSchema for Message {}

/// A moderator's decision.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum Decision {
    Approved,
    Rejected,
}

// By hand: "at least one of" is an `anyOf`, and utoipa 5.5 writes
// `#[schema(min_properties = 1)]` as `maxProperties`.
impl PartialSchema for ChangeTagsRequest {
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
            .description(Some(format!(
                "At least one of `add` and `remove` (not `null`); the project then has at most {} tags.",
                Tag::MAX_PER_PROJECT
            )))
            .examples([json!({"add": ["juggling"], "remove": ["circus"]})])
            .item(
                ObjectBuilder::new()
                    .property("add", tags("Tags to add; one also in `remove` is not added."))
                    .property("remove", tags("Tags to remove.")),
            )
            .item(AnyOfBuilder::new().item(given("add")).item(given("remove")))
            .into()
    }
}

impl ToSchema for ChangeTagsRequest {}

// By hand, as for tags: "at least one of" is an `anyOf`.
impl PartialSchema for ChangeProjectRequest {
    fn schema() -> RefOr<Schema> {
        let given = |field: &str| {
            ObjectBuilder::new()
                .required(field)
                .property(field, ObjectBuilder::new().schema_type(Type::String))
        };
        AllOfBuilder::new()
            .description(Some(
                "At least one of `project_name` (a new name: free, ignoring case, with the rules of a proposal) and `tagline` (not `null`).",
            ))
            .examples([json!({"project_name": "Popee the Clown", "tagline": "an apprentice clown, still"})])
            .item(
                ObjectBuilder::new()
                    .property("project_name", Ref::from_schema_name(ProjectName::name()))
                    .property("tagline", Ref::from_schema_name(Tagline::name())),
            )
            .item(
                AnyOfBuilder::new()
                    .item(given("project_name"))
                    .item(given("tagline")),
            )
            .into()
    }
}

impl ToSchema for ChangeProjectRequest {}
