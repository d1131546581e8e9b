//! The values commands are made of. Each newtype can only hold a valid value.
//!
//! # Text people type
//!
//! Text is normalised before it is checked, compared and stored, so that what
//! people read as the same is stored the same (the rules are in `text.rs`):
//!
//! - **Names and tags are identifiers people compare by eye: NFKC.** Besides
//!   composing accents (`Cafe\u{301}` is stored as `Café`), NFKC folds
//!   compatibility forms that read as the same name: fullwidth letters
//!   (`Ｐｏｐｅｅ` is `Popee`), ligatures (`ﬁ` is `fi`), superscripts.
//! - **Taglines and messages are prose: NFC.** It composes what is written in
//!   two ways but keeps the text as written (a ligature or a superscript in a
//!   message stays one).
//! - **Whitespace.** In names, taglines and tags every run of Unicode
//!   White_Space (tab, newline, no-break space, ideographic space, …) becomes
//!   one ASCII space and the ends are trimmed. Messages keep their lines:
//!   `\r\n` and a lone `\r` become `\n`, tabs and runs of spaces stay, only the
//!   ends are trimmed.
//! - **Refused everywhere:** control characters (general category Cc; only
//!   `\n` and `\t` inside a message) and the bidirectional embeddings,
//!   overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make text
//!   display as something other than what it is. Every value needs a visible
//!   character: something other than whitespace and default-ignorable
//!   characters (zero-width spaces and joiners, soft hyphens, variation
//!   selectors, …).
//! - **Lengths** are counted in characters after normalisation.
//!
//! A name is unique by [`ProjectName::unique_key`], which also ignores case and
//! default-ignorable characters. A trimmed, single-spaced name of printable
//! ASCII is stored, and keyed, exactly as before these rules.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::text::{self, Shape};

/// A subject-safe key for arbitrary text: the first 128 bits of its SHA-256, in hex.
pub fn digest_key(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident, $desc:literal, $shape:expr, $max:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, String> {
                let value = text::normalise(raw, $shape);
                text::check($desc, &value, $shape, $max)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(
    /// A project's name: NFKC, whitespace collapsed, 1–80 characters.
    ProjectName,
    "project name",
    Shape::Identifier,
    80
);
text_newtype!(
    /// A project's tagline: NFC, whitespace collapsed, 1–255 characters.
    Tagline,
    "tagline",
    Shape::Line,
    255
);
text_newtype!(
    /// A thread's message: NFC, newlines unified, trimmed, 1–10,000 characters.
    Message,
    "message",
    Shape::Paragraphs,
    10_000
);

impl ProjectName {
    /// The key under which names are unique (the digest in the name claim's
    /// subject): what people read as the same name has the same key. It
    /// ignores case and default-ignorable characters (`Cafe\u{200B}` is
    /// `Cafe`); the name is already NFKC with its whitespace collapsed. For a
    /// name of printable ASCII it is the digest of the lower-cased name, as
    /// it always was, so names claimed before keep their claims.
    pub fn unique_key(&self) -> String {
        digest_key(&text::name_key_text(&self.0))
    }

    /// The key of a name as an event stored it (already normalised when it
    /// was written): that of [`Self::unique_key`].
    pub fn key_of_stored(stored: &str) -> String {
        digest_key(&text::name_key_text(stored))
    }
}

/// A tag: NFKC, whitespace collapsed, lower-cased, 1–50 characters.
///
/// Tags read from stored events go through the same normalisation, so a tag
/// written before these rules (say, decomposed) is the same tag as one written
/// now, and can be removed. A stored tag that the rules now refuse (a control
/// character, only zero-width characters) is kept as it was written, so that
/// the stream still decodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Tag(String);

impl Tag {
    pub const MAX_CHARS: usize = 50;
    pub const MAX_PER_PROJECT: usize = 10;

    pub fn parse(raw: &str) -> Result<Self, String> {
        // Refused characters are refused, not dropped with the invisible ones.
        let as_written = text::normalise(raw, Shape::Identifier);
        text::check("tag", &as_written, Shape::Identifier, usize::MAX)?;
        let value = text::tag_form(raw);
        text::check("tag", &value, Shape::Identifier, Self::MAX_CHARS)?;
        Ok(Self(value))
    }

    /// A tag as an event stored it: see the type's documentation.
    fn from_stored(stored: String) -> Self {
        Self::parse(&stored).unwrap_or(Self(stored))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<Tag> for String {
    fn from(value: Tag) -> String {
        value.0
    }
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from_stored)
    }
}

/// Parses a list of raw tags into normalised, de-duplicated tags, keeping the
/// first occurrence's position. Reports each bad entry under `field[i]`.
pub fn parse_tags(field: &str, raw: &[String], errors: &mut super::Errors) -> Vec<Tag> {
    let mut tags: Vec<Tag> = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        if let Some(tag) = errors.take(&format!("{field}[{i}]"), Tag::parse(item))
            && !tags.contains(&tag)
        {
            tags.push(tag);
        }
    }
    tags
}

/// The verified id of a user (the `sub` claim of their token).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub const MAX_CHARS: usize = 256;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("user id must not be empty".into());
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "user id must be at most {} characters",
                Self::MAX_CHARS
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                Uuid::try_parse(raw)
                    .map(Self)
                    .map_err(|_| format!("`{raw}` is not a valid id"))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// Identifies a project.
    ProjectId
);
uuid_id!(
    /// Identifies a thread.
    ThreadId
);

/// The kind of a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ThreadType {
    Problem,
    Solution,
    Comment,
}

impl ThreadType {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "PROBLEM" => Ok(Self::Problem),
            "SOLUTION" => Ok(Self::Solution),
            "COMMENT" => Ok(Self::Comment),
            other => Err(format!(
                "`{other}` is not a thread type; expected PROBLEM, SOLUTION or COMMENT"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Problem => "PROBLEM",
            Self::Solution => "SOLUTION",
            Self::Comment => "COMMENT",
        }
    }
}

/// A vote: `none` withdraws it (no vote).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
    #[default]
    None,
}

impl Direction {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "up" => Ok(Self::Up),
            "down" => Ok(Self::Down),
            "none" => Ok(Self::None),
            other => Err(format!(
                "`{other}` is not a vote direction; expected up, down or none"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::None => "none",
        }
    }

    /// The change this vote contributes to (up_vote, down_vote).
    pub fn counts(self) -> (i64, i64) {
        match self {
            Self::Up => (1, 0),
            Self::Down => (0, 1),
            Self::None => (0, 0),
        }
    }
}

/// Where a thread stands: in moderation, or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModerationStatus {
    #[default]
    Pending,
    Approved,
    Rejected,
    /// Withdrawn by its author or a moderator: out of every listing and count.
    Withdrawn,
}

impl ModerationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// Parses a moderator's decision: only `approved` or `rejected`.
    pub fn parse_decision(raw: &str) -> Result<Self, String> {
        match raw {
            "approved" => Ok(Self::Approved),
            "rejected" => Ok(Self::Rejected),
            other => Err(format!(
                "`{other}` is not a moderation decision; expected approved or rejected"
            )),
        }
    }
}

#[cfg(test)]
mod tests;
