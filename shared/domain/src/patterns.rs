//! The text rules of [`crate::text`] as regular
//! expressions, for the OpenAPI documents of both APIs
//! (`tests/schemathesis/run` checks that both documents say the same).
//!
//! They spell every character out (no `\s`, `\w` or `\p{..}`), so that
//! every regular-expression engine reads them alike.

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

/// Blank: nothing but White_Space (e.g. a `q` that searches nothing).
pub const BLANK_PATTERN: &str = concat!("^[", white_space!(), "]*$");
