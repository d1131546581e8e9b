//! What protects the APIs: a CORS allow-list for the app's origins, rate
//! limits (writes per user, anonymous reads per client address; 429 with
//! `Retry-After`), and request timeouts.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use flow_runtime::config;

use crate::auth::Authentication;

/// HTTP protection settings, from the environment.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `FLOW_CORS_ORIGINS`: comma-separated origins allowed to call from a
    /// browser (default none: no CORS headers).
    pub cors_origins: Vec<String>,
    /// `FLOW_REQUEST_TIMEOUT_MS`: a request taking longer is answered 503 (default 10 000).
    pub request_timeout: Duration,
    /// `FLOW_RATE_LIMIT_PER_SECOND` and `FLOW_RATE_LIMIT_BURST`: per user for
    /// writes, per client address for anonymous reads (default 50/s, burst
    /// 100; 0 turns limiting off).
    pub rate_per_second: f64,
    pub rate_burst: f64,
    /// `FLOW_MAX_IN_FLIGHT`: requests served at once; more are answered 503
    /// with `Retry-After` (default 512).
    pub max_in_flight: usize,
    /// `FLOW_HTTP_HEADER_TIMEOUT_MS`, `FLOW_HTTP_IDLE_TIMEOUT_MS`,
    /// `FLOW_HTTP_MAX_CONNECTIONS`: what connections may hold (see
    /// [`crate::ConnectionLimits`]).
    pub connections: crate::ConnectionLimits,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(10),
            rate_per_second: 0.0,
            rate_burst: 0.0,
            max_in_flight: 512,
            connections: crate::ConnectionLimits::default(),
        }
    }
}

impl HttpConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let cors_origins = config::var("FLOW_CORS_ORIGINS")?
            .map(|list| {
                list.split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let rate_per_second: f64 = config::parse_or("FLOW_RATE_LIMIT_PER_SECOND", 50.0)?;
        let rate_burst: f64 = config::parse_or("FLOW_RATE_LIMIT_BURST", rate_per_second * 2.0)?;
        if rate_per_second < 0.0 || rate_burst < 0.0 {
            anyhow::bail!("rate limits must not be negative");
        }
        Ok(Self {
            cors_origins,
            request_timeout: config::millis_or("FLOW_REQUEST_TIMEOUT_MS", 10_000)?,
            rate_per_second,
            rate_burst: rate_burst.max(1.0),
            max_in_flight: config::parse_or("FLOW_MAX_IN_FLIGHT", 512usize)?.max(1),
            connections: crate::ConnectionLimits::from_env()?,
        })
    }

    pub fn limiter(&self) -> Option<Arc<RateLimiter>> {
        (self.rate_per_second > 0.0)
            .then(|| Arc::new(RateLimiter::new(self.rate_per_second, self.rate_burst)))
    }

    /// The CORS layer for the allow-list (none when the list is empty).
    pub fn cors(&self) -> Option<tower_http::cors::CorsLayer> {
        if self.cors_origins.is_empty() {
            return None;
        }
        let origins: Vec<HeaderValue> = self
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        Some(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::HeaderName::from_static("idempotency-key"),
                    header::HeaderName::from_static("consistency-token"),
                ])
                .expose_headers([
                    header::HeaderName::from_static("consistency-token"),
                    header::HeaderName::from_static("projection-position"),
                    header::LOCATION,
                    header::RETRY_AFTER,
                    header::ETAG,
                ])
                .max_age(Duration::from_secs(600)),
        )
    }
}

/// Token buckets by key.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Above this many keys, idle buckets (full again) are forgotten.
const MAX_KEYS: usize = 100_000;

impl RateLimiter {
    pub fn new(per_second: f64, burst: f64) -> Self {
        Self {
            per_second,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or says how long until one is available.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > MAX_KEYS {
            let refill = Duration::from_secs_f64(self.burst / self.per_second);
            buckets.retain(|_, (_, last)| now.duration_since(*last) < refill);
        }
        let (tokens, last) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}

fn too_many(retry_after: Duration) -> Response {
    let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = crate::problem(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        format!("too many requests; retry in {seconds} s"),
        None,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn client_address(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Limits anonymous reads per client address.
pub async fn limit_reads(
    State(limiter): State<Arc<RateLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    if is_ops(&req) {
        return next.run(req).await;
    }
    match limiter.check(&format!("ip:{}", client_address(&req))) {
        Ok(()) => next.run(req).await,
        Err(retry) => too_many(retry),
    }
}

/// Limits writes per user (per client address for requests without a valid
/// token). Runs after [`crate::auth::authenticate`], whose reading of the
/// credentials it uses.
pub async fn limit_writes(
    State(limiter): State<Arc<RateLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    if is_ops(&req) || req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let user = req
        .extensions()
        .get::<Authentication>()
        .and_then(Authentication::user);
    let key = match user {
        Some(actor) => format!("user:{}", actor.user_id),
        None => format!("ip:{}", client_address(&req)),
    };
    match limiter.check(&key) {
        Ok(()) => next.run(req).await,
        Err(retry) => too_many(retry),
    }
}

fn is_ops(req: &Request) -> bool {
    matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics")
}

/// Answers an empty error response (a timeout, a refused CORS preflight) as problem+json.
pub fn as_problem(response: Response) -> Response {
    let status = response.status();
    if (status.is_client_error() || status.is_server_error())
        && response.headers().get(header::CONTENT_TYPE).is_none()
    {
        let detail = match status {
            StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => {
                "the request took too long".to_owned()
            }
            StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed on this route".to_owned(),
            other => other.canonical_reason().unwrap_or("error").to_lowercase(),
        };
        let mut problem = crate::problem(status, "error", detail, None);
        for name in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(value) = response.headers().get(&name) {
                problem.headers_mut().insert(name, value.clone());
            }
        }
        // Every 503 says when to retry, a timed-out request's too.
        if status == StatusCode::SERVICE_UNAVAILABLE {
            problem
                .headers_mut()
                .entry(header::RETRY_AFTER)
                .or_insert(HeaderValue::from_static("1"));
        }
        return problem;
    }
    response.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_allow_a_burst_then_refuse_with_a_delay() {
        let limiter = RateLimiter::new(1.0, 3.0);
        for _ in 0..3 {
            assert!(limiter.check("alice").is_ok());
        }
        let wait = limiter.check("alice").expect_err("the burst is spent");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(limiter.check("bob").is_ok(), "keys are independent");
    }
}
