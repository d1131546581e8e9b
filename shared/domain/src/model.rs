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
        crate::events::digest_key(&text::name_key_text(&self.0))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::digest_key;

    fn name(raw: &str) -> ProjectName {
        ProjectName::parse(raw).expect("valid name")
    }

    fn refused<T: fmt::Debug>(result: Result<T, String>) -> String {
        result.expect_err("refused")
    }

    #[test]
    fn a_composed_and_a_decomposed_name_are_the_same_name() {
        let decomposed = name("Cafe\u{301}");
        let composed = name("Café");
        assert_eq!(decomposed.as_str(), "Café");
        assert_eq!(decomposed, composed);
        assert_eq!(decomposed.unique_key(), composed.unique_key());
    }

    #[test]
    fn whitespace_in_a_name_collapses_to_one_space() {
        let tabbed = name("Popee\tthe  Performer");
        assert_eq!(tabbed.as_str(), "Popee the Performer");
        assert_eq!(
            tabbed.unique_key(),
            name("popee the performer").unique_key()
        );
        let spaced = name("\u{3000}Popee\u{00A0}the\u{2003}\nPerformer ");
        assert_eq!(spaced.as_str(), "Popee the Performer");
    }

    #[test]
    fn compatibility_forms_are_folded_in_names() {
        let fullwidth = name("Ｐｏｐｅｅ");
        assert_eq!(fullwidth.as_str(), "Popee");
        assert_eq!(fullwidth.unique_key(), name("Popee").unique_key());
        assert_eq!(name("ﬁre²").as_str(), "fire2");
    }

    #[test]
    fn default_ignorable_characters_do_not_make_another_name() {
        let key = name("Cafe").unique_key();
        assert_eq!(name("Cafe\u{200B}").unique_key(), key);
        assert_eq!(
            name("C\u{00AD}a\u{200D}f\u{FEFF}e\u{FE0F}").unique_key(),
            key
        );
        // Removing the zero-width space joins the accent to its letter.
        assert_eq!(
            name("Cafe\u{200B}\u{301}").unique_key(),
            name("café").unique_key()
        );
        // Nor do they make two spaces of one.
        assert_eq!(
            name("Popee \u{200B} Performer").unique_key(),
            name("Popee Performer").unique_key()
        );
    }

    #[test]
    fn a_name_needs_a_visible_character() {
        for raw in ["\u{200B}\u{200D}", "\u{200B}", " \u{FEFF}\t\u{2060} "] {
            assert_eq!(
                refused(ProjectName::parse(raw)),
                "project name must contain a visible character",
                "{raw:?}"
            );
        }
        assert_eq!(
            refused(ProjectName::parse(" \t ")),
            "project name must not be empty"
        );
    }

    #[test]
    fn control_characters_are_refused_everywhere() {
        let bell = "\u{0007}bell";
        for message in [
            refused(ProjectName::parse(bell)),
            refused(Tagline::parse(bell)),
            refused(Tag::parse(bell)),
            refused(Message::parse(bell)),
        ] {
            assert!(
                message.contains("must not contain control characters (found U+0007)"),
                "{message}"
            );
        }
        for raw in ["a\u{007F}b", "a\u{009B}b", "a\u{0000}b", "a\u{000B}b"] {
            assert!(Message::parse(raw).is_err(), "{raw:?}");
        }
        assert!(
            ProjectName::parse("a\u{0085}b").is_ok(),
            "NEL is whitespace"
        );
    }

    #[test]
    fn bidirectional_overrides_and_isolates_are_refused_everywhere() {
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let raw = format!("abc{c}def");
            for message in [
                refused(ProjectName::parse(&raw)),
                refused(Tagline::parse(&raw)),
                refused(Tag::parse(&raw)),
                refused(Message::parse(&raw)),
            ] {
                assert!(message.contains("bidirectional"), "{message}");
            }
        }
        // Marks that only set the direction of neutral characters stay.
        assert!(Message::parse("שלום\u{200F}!").is_ok());
    }

    #[test]
    fn messages_keep_their_lines_tabs_and_spaces() {
        let message = Message::parse("line1\r\nline2\tx").expect("valid");
        assert_eq!(message.as_str(), "line1\nline2\tx");
        assert_eq!(
            Message::parse(" \r\n a\rb  c \n").expect("valid").as_str(),
            "a\nb  c"
        );
        assert_eq!(
            refused(Message::parse("\u{200B}\u{200B}\n\u{200B}")),
            "message must contain a visible character"
        );
        // NFC, not NFKC: the text stays as written.
        assert_eq!(Message::parse("ﬁ e\u{301}").expect("valid").as_str(), "ﬁ é");
    }

    #[test]
    fn taglines_are_nfc_on_one_line() {
        let tagline =
            Tagline::parse(" an  apprentice\tclown\r\nin ﬁne Cafe\u{301} ").expect("valid");
        assert_eq!(tagline.as_str(), "an apprentice clown in ﬁne Café");
        assert_eq!(
            refused(Tagline::parse("\u{200B}")),
            "tagline must contain a visible character"
        );
    }

    #[test]
    fn tags_are_nfkc_collapsed_and_lower_cased() {
        let tag = Tag::parse(" Ｃａｆｅ\u{301}\t\tSOCIETY ").expect("valid");
        assert_eq!(tag.as_str(), "café society");
        assert_eq!(tag, Tag::parse("café society").expect("valid"));
        assert_eq!(
            Tag::parse("cafe\u{200B}").expect("valid"),
            Tag::parse("cafe").expect("valid"),
            "an invisible character does not make another tag"
        );
        assert_eq!(
            refused(Tag::parse("\u{200D}")),
            "tag must contain a visible character"
        );
    }

    #[test]
    fn lengths_are_counted_after_normalisation() {
        // 160 characters as sent, 80 once composed.
        assert!(ProjectName::parse(&"e\u{301}".repeat(80)).is_ok());
        // 41 characters as sent, 82 once the ligatures are folded.
        assert_eq!(
            refused(ProjectName::parse(&"ﬁ".repeat(41))),
            "project name must be at most 80 characters (got 82)"
        );
    }

    #[test]
    fn ascii_names_are_stored_and_keyed_as_before() {
        for raw in [
            "Popee the Performer",
            "  POPEE the performer ",
            "Kedamono & Co. (2nd edition) #1!",
            "a-b_c.d/e:f;g<h>i=j?k@l[m]n^o`p{q}r|s~t'u\"v$w%x*y+z,",
            &"x".repeat(80),
        ] {
            let before = raw.trim();
            let name = name(raw);
            assert_eq!(name.as_str(), before);
            assert_eq!(name.unique_key(), digest_key(&before.to_lowercase()));
        }
        let tag = Tag::parse(" Circus-2 ").expect("valid");
        assert_eq!(tag.as_str(), "circus-2");
    }

    #[test]
    fn stored_tags_decode_under_the_new_rules_and_old_ones_still_decode() {
        let decode = |json: &str| serde_json::from_str::<Tag>(json).expect("decodes");
        assert_eq!(decode(r#""circus""#).as_str(), "circus");
        assert_eq!(decode("\"cafe\u{301}\"").as_str(), "café");
        // Accepted before these rules, refused now: kept as written.
        assert_eq!(decode(r#""a\u0007b""#).as_str(), "a\u{0007}b");
        assert_eq!(decode("\"\u{200B}\"").as_str(), "\u{200B}");
    }
}
