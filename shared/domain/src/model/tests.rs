use super::*;

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
    let tagline = Tagline::parse(" an  apprentice\tclown\r\nin ﬁne Cafe\u{301} ").expect("valid");
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
