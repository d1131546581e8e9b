//! HTTP plumbing shared by the three services: problem+json errors, a JSON
//! extractor that reports body errors in that shape, the operational routes
//! (`/healthz`, `/readyz`, `/metrics`) and serving with graceful shutdown.

use std::{future::Future, pin::Pin, sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{FromRequest, MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use serde::{Serialize, de::DeserializeOwned};
use tokio::net::TcpListener;

use crate::domain::{DomainError, FieldError};
use crate::metrics::Metrics;

/// The largest request body accepted: 64 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An error answered as `application/problem+json`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::Validation(_) => "validation-error",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal-error",
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }
}

/// Writes a problem+json response.
pub fn problem(
    status: StatusCode,
    slug: &str,
    detail: String,
    errors: Option<&[FieldError]>,
) -> Response {
    let kind = format!("/problems/{slug}");
    let body = Problem {
        kind: &kind,
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail,
        errors,
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        )],
        json,
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let detail = match &self {
            Self::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed");
                "the server could not complete the request".to_owned()
            }
            Self::Unavailable(reason) => {
                tracing::warn!(reason, "dependency unavailable");
                "a dependency is unavailable; retry shortly".to_owned()
            }
            other => other.to_string(),
        };
        let errors = match &self {
            Self::Validation(errors) => Some(errors.as_slice()),
            _ => None,
        };
        let mut response = problem(status, self.slug(), detail, errors);
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Validation(errors) => Self::Validation(errors),
            DomainError::NotFound(what) => Self::not_found(what),
            DomainError::Forbidden(why) => Self::Forbidden(why.to_owned()),
            DomainError::Conflict(why) => Self::Conflict(why.to_owned()),
        }
    }
}

/// A JSON request body whose errors are answered as problem+json: wrong
/// content type 415, too large 413, malformed 400, wrong field types 422
/// naming the field.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Like [`JsonBody`], also keeping the body's bytes (to fingerprint a request).
pub struct JsonWithBytes<T> {
    pub value: T,
    pub bytes: Bytes,
}

impl<T, S> FromRequest<S> for JsonWithBytes<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state).await?;
        let value = parse_json(&bytes)?;
        Ok(Self { value, bytes })
    }
}

async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    if !is_json(req.headers()) {
        return Err(ApiError::UnsupportedMediaType(
            "the request body must be application/json".into(),
        ));
    }
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest("the request body could not be read".into())
        }
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Parses a JSON body: syntax errors are 400, type errors are 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de);
    if value.is_ok() {
        de.end().map_err(|e| {
            ApiError::BadRequest(format!("the request body is not valid JSON: {e}"))
        })?;
    }
    value.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data if path != "." && !path.starts_with('[') => {
                ApiError::Validation(vec![FieldError::new(path, data_error_message(&inner))])
            }
            serde_json::error::Category::Data => {
                ApiError::BadRequest(format!("the request body must be a JSON object: {inner}"))
            }
            _ => ApiError::BadRequest(format!("the request body is not valid JSON: {inner}")),
        }
    })
}

fn data_error_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Checks whether a service's dependencies are reachable; `Err` names what is not.
pub type ReadinessCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

#[derive(Clone)]
struct OpsState {
    metrics: Arc<Metrics>,
    ready: ReadinessCheck,
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn ops_router(metrics: Arc<Metrics>, ready: ReadinessCheck) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(OpsState { metrics, ready })
}

async fn readyz(State(state): State<OpsState>) -> Response {
    match (state.ready)().await {
        Ok(()) => axum::Json(serde_json::json!({"status": "ready"})).into_response(),
        Err(reason) => problem(StatusCode::SERVICE_UNAVAILABLE, "not-ready", reason, None),
    }
}

async fn metrics_text(State(state): State<OpsState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// Adds what every service's router gets: the operational routes, the body
/// limit, request timeouts, CORS, request tracing and metrics, and
/// problem+json for unknown routes and empty error answers.
pub fn finish_router(
    api: Router,
    metrics: Arc<Metrics>,
    ready: ReadinessCheck,
    http: &crate::protect::HttpConfig,
) -> Router {
    let mut router = api
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Beyond this many requests at once, answer 503 at once rather than
        // queue without bound (memory and latency stay bounded under overload).
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(
                    |_: tower::BoxError| async {
                        ApiError::Unavailable("too many requests in flight".into())
                    },
                ))
                .load_shed()
                .concurrency_limit(http.max_in_flight),
        )
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            http.request_timeout,
        ))
        .merge(ops_router(metrics.clone(), ready))
        .layer(middleware::from_fn_with_state(metrics, observe));
    if let Some(cors) = http.cors() {
        router = router.layer(cors);
    }
    router.layer(
        tower_http::trace::TraceLayer::new_for_http()
            .make_span_with(|req: &Request| {
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), user = tracing::field::Empty)
            })
            .on_request(())
            .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG)),
    )
}

async fn observe(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = crate::protect::as_problem(next.run(req).await);
    metrics.observe_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: Option<String>,
        items: Option<Vec<String>>,
    }

    #[test]
    fn json_errors_are_classified() {
        assert!(matches!(
            parse_json::<Body>(b"{\"name\": "),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b"[1,2]"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b"{} {}"),
            Err(ApiError::BadRequest(_))
        ));
        match parse_json::<Body>(br#"{"name": 5, "items": ["a"]}"#) {
            Err(ApiError::Validation(errors)) => {
                assert_eq!(errors[0].field, "name");
                assert!(
                    errors[0].message.contains("expected a string"),
                    "{:?}",
                    errors[0]
                );
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
        match parse_json::<Body>(br#"{"items": ["a", 7]}"#) {
            Err(ApiError::Validation(errors)) => assert_eq!(errors[0].field, "items[1]"),
            other => panic!("expected a validation error, got {other:?}"),
        }
        assert!(parse_json::<Body>(br#"{"name": "x", "unknown": 1}"#).is_ok());
    }

    #[test]
    fn json_content_types() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(is_json(&headers));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/merge-patch+json"),
        );
        assert!(is_json(&headers));
    }
}
