//! The response cache: reads answered from memory while what they show is
//! still as fresh as their reader may ask, with strong `ETag`s and `304 Not
//! Modified` for `If-None-Match`.
//!
//! An answer is kept with the position the read model had announced before
//! it was read (its documents are at least that far). It serves a later read
//! of the same path, query and reader while
//! - the read model is the same generation,
//! - it is at or past the position of the read's `Consistency-Token`, if
//!   any (reads of one's own writes), and
//! - it is younger than the staleness bound (`FLOW_READ_CACHE_STALENESS_MS`,
//!   default 250 ms). The position alone cannot tell that nothing changed:
//!   a parked event applied on retry changes documents behind it.
//!
//! Keys hold the reader (user and roles): a reader is never served another
//! reader's answer. Memory is bounded by entries and bytes, both in
//! `/metrics`.

use std::{
    hash::{Hash, Hasher},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use flow_http::{ApiError, ConsistencyToken, auth::Authentication, metrics::Metrics};
use flow_runtime::config;
use prometheus_client::metrics::{counter::Counter, family::Family, gauge::Gauge};
use quick_cache::{Weighter, sync::Cache};

use crate::{AppState, PROJECTION_POSITION};

/// The cache's bounds (`FLOW_READ_CACHE_*`).
#[derive(Debug, Clone, Copy)]
pub struct CacheConfig {
    /// `FLOW_READ_CACHE_STALENESS_MS`: the oldest answer an anonymous read
    /// (or one without a consistency token) may get while writes are
    /// applied, default 250; 0 turns the cache off (answers keep their `ETag`).
    pub staleness: Duration,
    /// `FLOW_READ_CACHE_MAX_ENTRIES`, default 4 096.
    pub max_entries: u64,
    /// `FLOW_READ_CACHE_MAX_BYTES`: bodies and keys, default 16 MiB.
    pub max_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            staleness: Duration::from_millis(250),
            max_entries: 4_096,
            max_bytes: 16 << 20,
        }
    }
}

impl CacheConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let default = Self::default();
        let config = Self {
            staleness: config::millis_or(
                "FLOW_READ_CACHE_STALENESS_MS",
                default.staleness.as_millis() as u64,
            )?,
            max_entries: config::parse_or("FLOW_READ_CACHE_MAX_ENTRIES", default.max_entries)?,
            max_bytes: config::parse_or("FLOW_READ_CACHE_MAX_BYTES", default.max_bytes)?,
        };
        anyhow::ensure!(
            config.max_entries > 0 && config.max_bytes > 0,
            "FLOW_READ_CACHE_MAX_ENTRIES and FLOW_READ_CACHE_MAX_BYTES must be above 0"
        );
        Ok(config)
    }
}

/// Who reads: answers differ by user and by role, never by anything else of
/// a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Reader {
    Anonymous,
    User { id: String, roles: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    generation: u64,
    reader: Reader,
    /// Path and query, as sent.
    uri: String,
}

/// One kept answer.
#[derive(Debug)]
struct Entry {
    /// The position announced before the answer was read.
    position: u64,
    made: Instant,
    headers: HeaderMap,
    body: Bytes,
    etag: HeaderValue,
}

/// Weighs an entry by its bytes, and at least by an equal share of the byte
/// bound, so that the entries stay within their bound too.
#[derive(Clone)]
struct ByBytes {
    least: u64,
}

impl Weighter<Key, Arc<Entry>> for ByBytes {
    fn weight(&self, key: &Key, entry: &Arc<Entry>) -> u64 {
        let bytes = (key.uri.len() + entry.body.len() + 256) as u64;
        bytes.max(self.least)
    }
}

/// The cache and its metrics.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Option<Arc<Cache<Key, Arc<Entry>, ByBytes>>>,
    staleness: Duration,
    lookups: Family<Vec<(&'static str, &'static str)>, Counter>,
    held_entries: Gauge,
    held_bytes: Gauge,
}

impl ResponseCache {
    pub fn new(config: CacheConfig, metrics: &Metrics) -> Self {
        let entries = (!config.staleness.is_zero()).then(|| {
            let least = (config.max_bytes / config.max_entries).max(1);
            Arc::new(Cache::with_weighter(
                config.max_entries as usize,
                config.max_bytes,
                ByBytes { least },
            ))
        });
        let cache = Self {
            entries,
            staleness: config.staleness,
            lookups: Family::default(),
            held_entries: Gauge::default(),
            held_bytes: Gauge::default(),
        };
        metrics.register(
            "read_cache_lookups",
            "Reads looked up in the response cache, by outcome (hit, miss, bypass)",
            cache.lookups.clone(),
        );
        metrics.register(
            "read_cache_entries",
            "Answers held by the response cache",
            cache.held_entries.clone(),
        );
        metrics.register(
            "read_cache_bytes",
            "Weight of the answers held by the response cache (bodies and keys, bytes)",
            cache.held_bytes.clone(),
        );
        cache
    }

    fn counted(&self, outcome: &'static str) {
        self.lookups
            .get_or_create(&vec![("outcome", outcome)])
            .inc();
    }

    fn fresh(&self, entry: &Entry, required: u64) -> bool {
        entry.position >= required && entry.made.elapsed() <= self.staleness
    }
}

/// The answer to a read: from the cache when fresh enough, else from the
/// handlers (then kept); `304` when `If-None-Match` names its `ETag`.
pub async fn respond(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let reader = match req.extensions().get::<Authentication>() {
        Some(Authentication::User(actor)) => {
            let mut roles = actor.roles.clone();
            roles.sort();
            Reader::User {
                id: actor.user_id.as_str().to_owned(),
                roles,
            }
        }
        Some(Authentication::Refused(_)) => return next.run(req).await,
        Some(Authentication::Anonymous) | None => Reader::Anonymous,
    };
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let cache = &state.cache;
    let announced = state.position.current();
    let required = req
        .headers()
        .get(ConsistencyToken::HEADER)
        .and_then(|t| t.to_str().ok())
        .and_then(|t| t.parse::<ConsistencyToken>().ok())
        .map_or(0, ConsistencyToken::sequence);
    let validators = req.headers().get(header::IF_NONE_MATCH).cloned();
    let key = Key {
        generation: announced.generation,
        reader: reader.clone(),
        uri: req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned()),
    };
    if let Some(entries) = &cache.entries
        && let Some(entry) = entries.get(&key)
        && cache.fresh(&entry, required)
    {
        cache.counted("hit");
        return answer(&entry, &reader, cache.staleness, validators.as_ref());
    }
    let response = next.run(req).await;
    if response.status() != StatusCode::OK {
        cache.counted("bypass");
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(%err, "an answer could not be read for the cache");
            return ApiError::Internal(anyhow::anyhow!("an answer could not be read"))
                .into_response();
        }
    };
    let mut headers = parts.headers;
    headers.remove(PROJECTION_POSITION);
    let entry = Arc::new(Entry {
        position: announced.position,
        made: Instant::now(),
        headers,
        etag: etag(&body),
        body,
    });
    if let Some(entries) = &cache.entries {
        cache.counted("miss");
        entries.insert(key, entry.clone());
        cache.held_entries.set(entries.len() as i64);
        cache.held_bytes.set(entries.weight() as i64);
    }
    answer(&entry, &reader, cache.staleness, validators.as_ref())
}

/// A strong validator: a digest of the body's bytes.
fn etag(body: &[u8]) -> HeaderValue {
    let mut hasher = std::hash::DefaultHasher::new();
    body.hash(&mut hasher);
    HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
        .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks
/// of `If-None-Match`).
fn matches(validators: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(validators) = validators.to_str() else {
        return false;
    };
    let etag = etag.to_str().unwrap_or_default();
    validators
        .split(',')
        .map(|v| v.trim())
        .any(|v| v == "*" || v.strip_prefix("W/").unwrap_or(v) == etag)
}

fn answer(
    entry: &Entry,
    reader: &Reader,
    staleness: Duration,
    validators: Option<&HeaderValue>,
) -> Response {
    let not_modified = validators.is_some_and(|v| matches(v, &entry.etag));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(entry.body.clone()));
        *response.headers_mut() = entry.headers.clone();
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, entry.etag.clone());
    // A shared cache may keep an anonymous answer for the staleness bound
    // (whole seconds); one for a signed-in reader is theirs alone.
    let control = match reader {
        Reader::Anonymous => format!("public, max-age={}", staleness.as_secs()),
        Reader::User { .. } => "private, no-cache".to_owned(),
    };
    if let Ok(control) = HeaderValue::from_str(&control) {
        headers.insert(header::CACHE_CONTROL, control);
    }
    headers.insert(
        header::VARY,
        HeaderValue::from_static("authorization, consistency-token"),
    );
    headers.insert(PROJECTION_POSITION, HeaderValue::from(entry.position));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_etag_weakly_or_by_star() {
        let etag = etag(b"{\"items\":[]}");
        let quoted = etag.to_str().expect("ascii").to_owned();
        for header in [
            quoted.clone(),
            format!("W/{quoted}"),
            format!("\"other\", {quoted}"),
            "*".to_owned(),
        ] {
            assert!(
                matches(&HeaderValue::from_str(&header).expect("valid"), &etag),
                "{header}"
            );
        }
        for header in ["\"other\"", "", "W/\"x\""] {
            assert!(
                !matches(&HeaderValue::from_static(header), &etag),
                "{header}"
            );
        }
        assert_ne!(etag, super::etag(b"{\"items\":[1]}"));
    }

    #[test]
    fn an_entry_is_fresh_within_the_bound_and_at_the_readers_write() {
        let metrics = Metrics::new("test");
        let cache = ResponseCache::new(
            CacheConfig {
                staleness: Duration::from_millis(250),
                ..CacheConfig::default()
            },
            &metrics,
        );
        let entry = |position, age| Entry {
            position,
            made: Instant::now()
                .checked_sub(age)
                .expect("the machine is up for longer"),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            etag: HeaderValue::from_static("\"x\""),
        };
        let old = Duration::from_secs(5);
        assert!(!cache.fresh(&entry(10, old), 0), "too old");
        assert!(cache.fresh(&entry(10, Duration::ZERO), 0), "young");
        assert!(
            !cache.fresh(&entry(10, Duration::ZERO), 11),
            "older than the reader's own write"
        );
        assert!(cache.fresh(&entry(11, Duration::ZERO), 11));
    }
}
