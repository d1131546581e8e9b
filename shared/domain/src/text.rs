//! The Unicode rules for text people type: which normal form it is stored in,
//! what becomes of its whitespace, which characters are refused, and what two
//! names must share to be the same name. Why each kind of text gets its form
//! is said on the types that use these rules, in `model.rs`.

use unicode_normalization::UnicodeNormalization;

/// How a kind of text is cleaned before it is checked and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Names and tags: NFKC, every run of whitespace one ASCII space, trimmed.
    Identifier,
    /// Taglines: NFC, every run of whitespace one ASCII space, trimmed.
    Line,
    /// Messages: NFC, `\r\n` and a lone `\r` become `\n`, trimmed at the ends;
    /// spaces, tabs and newlines inside are kept as written.
    Paragraphs,
}

/// `raw` in the normal form and whitespace of `shape`; nothing is refused here.
pub(super) fn normalise(raw: &str, shape: Shape) -> String {
    match shape {
        Shape::Identifier => collapse_whitespace(&raw.nfkc().collect::<String>()),
        Shape::Line => collapse_whitespace(&raw.nfc().collect::<String>()),
        Shape::Paragraphs => unify_newlines(&raw.nfc().collect::<String>())
            .trim()
            .to_owned(),
    }
}

/// Checks normalised text: not empty, no control or bidirectional control
/// characters (tabs and newlines only in paragraphs), at least one visible
/// character, at most `max` characters.
pub(super) fn check(desc: &str, value: &str, shape: Shape, max: usize) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{desc} must not be empty"));
    }
    for c in value.chars() {
        let kept_in_paragraphs = matches!(c, '\n' | '\t') && shape == Shape::Paragraphs;
        if c.is_control() && !kept_in_paragraphs {
            return Err(format!(
                "{desc} must not contain control characters (found {})",
                code_point(c)
            ));
        }
        if is_bidi_control(c) {
            return Err(format!(
                "{desc} must not contain bidirectional override or isolate characters (found {})",
                code_point(c)
            ));
        }
    }
    if !value
        .chars()
        .any(|c| !c.is_whitespace() && !is_default_ignorable(c))
    {
        return Err(format!("{desc} must contain a visible character"));
    }
    let len = value.chars().count();
    if len > max {
        return Err(format!(
            "{desc} must be at most {max} characters (got {len})"
        ));
    }
    Ok(())
}

/// A tag as stored: an identifier without default-ignorable characters (a
/// tag is compared as written, so an invisible character would make another
/// tag that reads the same), lower-cased, normalised again (lower-casing can
/// undo NFKC in rare cases).
pub(super) fn tag_form(raw: &str) -> String {
    name_key_text(&normalise(raw, Shape::Identifier))
}

/// What two names must share to be the same name: without default-ignorable
/// characters, lower-cased, NFKC, whitespace collapsed. For a trimmed,
/// single-spaced ASCII name this is exactly its lower-case form.
pub(super) fn name_key_text(name: &str) -> String {
    let visible: String = name.chars().filter(|c| !is_default_ignorable(*c)).collect();
    normalise(&visible.to_lowercase(), Shape::Identifier)
}

/// Every run of Unicode White_Space (`char::is_whitespace`: tab, newline,
/// NBSP, ideographic space, …) becomes one ASCII space; the ends are trimmed.
fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_whitespace() {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
    out
}

/// `\r\n` and a lone `\r` become `\n`.
fn unify_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The embeddings, overrides (U+202A–U+202E) and isolates (U+2066–U+2069):
/// they make text display in another order than it is stored.
pub(super) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The Unicode property Default_Ignorable_Code_Point (DerivedCoreProperties.txt,
/// Unicode 16): characters that render as nothing when a font has no glyph for
/// them, such as zero-width spaces and joiners, the soft hyphen and variation
/// selectors.
const DEFAULT_IGNORABLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

pub(super) fn is_default_ignorable(c: char) -> bool {
    DEFAULT_IGNORABLE
        .iter()
        .any(|&(first, last)| (first..=last).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_runs_become_one_space_and_the_ends_go() {
        assert_eq!(
            collapse_whitespace("\t a \u{00A0}\u{3000} b\n\u{2028}c \u{0085}"),
            "a b c"
        );
        assert_eq!(collapse_whitespace(" \t "), "");
    }

    #[test]
    fn messages_keep_their_lines_and_tabs() {
        assert_eq!(
            normalise("  line1\r\nline2\r\rline3\tx  \n", Shape::Paragraphs),
            "line1\nline2\n\nline3\tx"
        );
        assert_eq!(normalise("a  b", Shape::Paragraphs), "a  b");
    }

    #[test]
    fn the_ignorable_table_is_sorted_and_its_ranges_are_ordered() {
        for pair in DEFAULT_IGNORABLE.windows(2) {
            assert!(pair[0].1 < pair[1].0, "{pair:?}");
        }
        for &(first, last) in DEFAULT_IGNORABLE {
            assert!(first <= last);
            assert!(!first.is_whitespace() && !last.is_whitespace());
        }
        for c in ['\u{200B}', '\u{200D}', '\u{00AD}', '\u{FE0F}', '\u{E0001}'] {
            assert!(is_default_ignorable(c), "{}", code_point(c));
        }
        for c in ['a', ' ', '\u{00A0}', '\u{0301}', '\u{FFFD}'] {
            assert!(!is_default_ignorable(c), "{}", code_point(c));
        }
    }
}
