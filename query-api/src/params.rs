//! Query parameters: parsed strictly, every bad one reported at once (422).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use flow_domain::Errors;
use flow_http::ApiError;
use flow_readmodel::search_terms;
use serde::{Serialize, de::DeserializeOwned};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;
/// At most this many tags with `limit` on `GET /tags`.
pub const MAX_TAGS_LIMIT: i64 = 1_000;
/// At most this many characters in `q`.
pub const MAX_SEARCH_CHARS: usize = 200;
/// At most this many words in `q`.
pub const MAX_SEARCH_TERMS: usize = 10;

/// The raw pairs of a query string, repeated keys kept.
pub fn pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|e| ApiError::BadRequest(format!("the query string is malformed: {e}")))
}

/// A listing's parameters as a start: the pairs, and the errors found so
/// far, beginning with every name not in `known`.
pub fn parse(
    query: Option<&str>,
    known: &[&str],
) -> Result<(Vec<(String, String)>, Errors), ApiError> {
    let pairs = pairs(query)?;
    let mut errors = Errors::default();
    only_known(&pairs, known, &mut errors);
    Ok((pairs, errors))
}

/// `limit` of a page: [`DEFAULT_LIMIT`] when absent (or bad, then reported).
/// `limit` of `GET /recommendations`.
pub const DEFAULT_RECOMMENDATIONS: i64 = 12;
pub const MAX_RECOMMENDATIONS: i64 = 50;

pub fn limit(raw: Option<&str>, errors: &mut Errors) -> i64 {
    raw.and_then(|raw| whole_number(raw, MAX_LIMIT, errors))
        .unwrap_or(DEFAULT_LIMIT)
}

/// `limit` of `GET /tags`: every tag when absent.
pub fn tags_limit(raw: Option<&str>, errors: &mut Errors) -> Option<i64> {
    raw.and_then(|raw| whole_number(raw, MAX_TAGS_LIMIT, errors))
}

pub fn whole_number(raw: &str, max: i64, errors: &mut Errors) -> Option<i64> {
    match raw.parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Some(n),
        _ => {
            errors.push(
                "limit",
                format!("limit must be a whole number from 1 to {max}"),
            );
            None
        }
    }
}

/// The search terms of `q`: none when it is absent or blank (blank within
/// the length bound).
pub fn search(raw: Option<&str>, errors: &mut Errors) -> Vec<String> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    // The bound holds for a blank `q` too: no parameter is unbounded.
    if raw.chars().count() > MAX_SEARCH_CHARS {
        errors.push(
            "q",
            format!("q must be at most {MAX_SEARCH_CHARS} characters"),
        );
        return Vec::new();
    }
    if raw.trim().is_empty() {
        return Vec::new();
    }
    let terms = search_terms(raw);
    if terms.is_empty() {
        errors.push("q", "q must contain at least one letter or digit");
    } else if terms.len() > MAX_SEARCH_TERMS {
        errors.push("q", format!("q must have at most {MAX_SEARCH_TERMS} words"));
    }
    terms
}

/// Cursors are opaque to clients: base64url of a small JSON position.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

pub fn decode_cursor<T: DeserializeOwned>(raw: Option<&str>, errors: &mut Errors) -> Option<T> {
    let raw = raw?;
    let decoded = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if decoded.is_none() {
        errors.push("cursor", "the cursor is not one this listing gave out");
    }
    decoded
}

/// Rejects parameters the endpoint does not know.
pub fn only_known(pairs: &[(String, String)], known: &[&str], errors: &mut Errors) {
    for (key, _) in pairs {
        if !known.contains(&key.as_str()) {
            errors.push(
                key.clone(),
                format!("unknown parameter; expected one of {}", known.join(", ")),
            );
        }
    }
}

pub fn single<'a>(
    pairs: &'a [(String, String)],
    key: &str,
    errors: &mut Errors,
) -> Option<&'a str> {
    let mut values = pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        errors.push(key, "give this parameter at most once");
    }
    first
}

/// The position in a keyset listing (`/me/...`, the moderation queues,
/// replies): the listing it belongs to (a short digest of its name and
/// filter), the key of the last item shown and, where keys can tie, its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeyCursor {
    pub l: String,
    pub s: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub i: Option<String>,
}

/// Names a keyset listing in its cursors.
pub fn listing_key(listing: &str) -> String {
    flow_domain::events::digest_key(listing)[..12].to_owned()
}

/// The cursor of a keyset listing named `listing`: a cursor of another
/// listing (or filter) is reported.
pub fn key_cursor(raw: Option<&str>, listing: &str, errors: &mut Errors) -> Option<KeyCursor> {
    let cursor: KeyCursor = decode_cursor(raw, errors)?;
    if cursor.l != listing_key(listing) {
        errors.push(
            "cursor",
            "the cursor belongs to another listing: give the same parameters as for the first page",
        );
        return None;
    }
    Some(cursor)
}

/// `limit` and `cursor`, and nothing else, of the keyset listing `listing`.
pub fn keyset_paging(
    query: Option<&str>,
    listing: &str,
) -> Result<(i64, Option<KeyCursor>), ApiError> {
    let (pairs, mut errors) = parse(query, &["limit", "cursor"])?;
    let limit = limit(single(&pairs, "limit", &mut errors), &mut errors);
    let cursor = key_cursor(single(&pairs, "cursor", &mut errors), listing, &mut errors);
    errors.into_result()?;
    Ok((limit, cursor))
}

/// Cuts a page of `limit + 1` items to `limit`, with the cursor of the last
/// one shown when more follow.
pub fn split_page<T>(
    mut items: Vec<T>,
    limit: i64,
    listing: &str,
    key: impl Fn(&T) -> (i64, Option<String>),
) -> (Vec<T>, Option<String>) {
    if items.len() as i64 <= limit {
        return (items, None);
    }
    items.truncate(usize::try_from(limit).unwrap_or(0));
    let next = items.last().map(|last| {
        let (s, i) = key(last);
        encode_cursor(&KeyCursor {
            l: listing_key(listing),
            s,
            i,
        })
    });
    (items, next)
}
