use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

fn trimmed_len(field_desc: &str, raw: &str, min: usize, max: usize) -> Result<String, String> {
    let value = raw.trim();
    let len = value.chars().count();
    if len < min {
        return Err(format!("{field_desc} must not be empty"));
    }
    if len > max {
        return Err(format!(
            "{field_desc} must be at most {max} characters (got {len})"
        ));
    }
    Ok(value.to_owned())
}

macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident, $desc:literal, $max:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, String> {
                trimmed_len($desc, raw, 1, $max).map(Self)
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
    /// A project's name: 1–80 characters after trimming.
    ProjectName,
    "project name",
    80
);
text_newtype!(
    /// A project's tagline: 1–255 characters after trimming.
    Tagline,
    "tagline",
    255
);
text_newtype!(
    /// A thread's message: 1–10,000 characters after trimming.
    Message,
    "message",
    10_000
);

impl ProjectName {
    /// The key under which names are unique: case-insensitive.
    pub fn unique_key(&self) -> String {
        crate::events::digest_key(&self.0.to_lowercase())
    }
}

/// A tag: 1–50 characters, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    pub const MAX_CHARS: usize = 50;
    pub const MAX_PER_PROJECT: usize = 10;

    pub fn parse(raw: &str) -> Result<Self, String> {
        trimmed_len("tag", raw, 1, Self::MAX_CHARS).map(|t| Self(t.to_lowercase()))
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

/// A user's vote on a thread; `None` means no vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
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

/// Where a thread stands in moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModerationStatus {
    #[default]
    Pending,
    Approved,
    Rejected,
}

impl ModerationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
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
