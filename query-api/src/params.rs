//! Query parameters: parsed strictly, every bad one reported at once (422).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use flow_domain::Errors;
use flow_http::ApiError;
use serde::{Serialize, de::DeserializeOwned};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// The raw pairs of a query string, repeated keys kept.
pub fn pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|e| ApiError::BadRequest(format!("the query string is malformed: {e}")))
}

pub fn limit(raw: Option<&str>, errors: &mut Errors) -> i64 {
    match raw {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(
                    "limit",
                    format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                );
                DEFAULT_LIMIT
            }
        },
    }
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
