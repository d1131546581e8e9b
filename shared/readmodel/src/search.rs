//! Search over project names and taglines: the prefixes a project stores
//! and the terms a query asks for.

/// A prefix longer than this many characters is not stored; a longer search
/// word is matched on its first this-many characters.
pub const SEARCH_PREFIX_MAX_CHARS: usize = 24;

/// The words of a text for search: maximal runs of letters and digits, lower-cased.
pub fn search_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Every prefix (up to [`SEARCH_PREFIX_MAX_CHARS`]) of every word of the
/// texts, sorted and de-duplicated: stored in [`SEARCH_FIELD`](crate::SEARCH_FIELD), so that a
/// search word matches by equality on an array element (a multikey index on
/// MongoDB). A name of 80 and a tagline of 255 characters give at most 335.
pub fn search_prefixes(texts: &[&str]) -> Vec<String> {
    let mut prefixes = std::collections::BTreeSet::new();
    for text in texts {
        for word in search_words(text) {
            let mut prefix = String::new();
            for c in word.chars().take(SEARCH_PREFIX_MAX_CHARS) {
                prefix.push(c);
                prefixes.insert(prefix.clone());
            }
        }
    }
    prefixes.into_iter().collect()
}

/// The terms a search query asks for: its words, cut to
/// [`SEARCH_PREFIX_MAX_CHARS`], de-duplicated, in order. A project matches
/// when every term is one of its [`search_prefixes`].
pub fn search_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in search_words(query) {
        let term: String = word.chars().take(SEARCH_PREFIX_MAX_CHARS).collect();
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_prefix_of_name_and_tagline_is_searchable_in_any_case() {
        let prefixes =
            search_prefixes(&["Popee the Performer", "an apprentice clown, in Wolf-Circus"]);
        for wanted in [
            "p",
            "po",
            "popee",
            "perf",
            "performer",
            "wolf",
            "circ",
            "circus",
            "clown",
        ] {
            assert!(
                prefixes.contains(&wanted.to_owned()),
                "{wanted}: {prefixes:?}"
            );
        }
        assert!(!prefixes.iter().any(|p| p.contains(' ') || p.contains(',')));
        assert!(!prefixes.contains(&"erformer".to_owned()), "only prefixes");
        let mut sorted = prefixes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(prefixes, sorted);
    }

    #[test]
    fn long_words_are_cut_on_both_sides() {
        let word = "x".repeat(40);
        let prefixes = search_prefixes(&[&word]);
        assert_eq!(prefixes.len(), SEARCH_PREFIX_MAX_CHARS);
        assert_eq!(search_terms(&word), ["x".repeat(SEARCH_PREFIX_MAX_CHARS)]);
        assert!(prefixes.contains(&search_terms(&word)[0]));
    }

    #[test]
    fn search_terms_are_the_lower_cased_words_once() {
        assert_eq!(
            search_terms("  PERF  wolf-perf Ünï "),
            ["perf", "wolf", "ünï"]
        );
        assert!(search_terms(" -- ").is_empty());
    }
}
