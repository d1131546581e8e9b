//! The operational routes and what every service's router gets.

use std::{future::Future, pin::Pin, sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{ApiError, MAX_BODY_BYTES, metrics::Metrics, problem};

/// Checks whether a service's dependencies are reachable; `Err` names what is not.
/// `Ok(None)`: ready; `Ok(Some(detail))`: ready, and the answer says more
/// (a projector standing by); `Err(reason)`: not ready.
pub type ReadinessCheck = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Option<String>, String>> + Send>> + Send + Sync,
>;

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
        Ok(None) => axum::Json(serde_json::json!({"status": "ready"})).into_response(),
        Ok(Some(detail)) => {
            axum::Json(serde_json::json!({"status": "ready", "detail": detail})).into_response()
        }
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
    trace_requests(finish_untraced(api, metrics, ready, http))
}

/// [`finish_router`] but for request tracing, for a service that wraps the
/// whole of it in a layer of its own that belongs to the request's span
/// (then [`trace_requests`] outside that).
pub fn finish_untraced(
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
    router
}

/// Each request in a span (`http`), continuing the caller's trace when it
/// sends one and traces are on.
pub fn trace_requests(router: Router) -> Router {
    router.layer(
        tower_http::trace::TraceLayer::new_for_http()
            .make_span_with(|req: &Request| {
                let span = tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), user = tracing::field::Empty, otel.kind = "server");
                // The caller's trace, when it sends one and traces are on.
                flow_runtime::telemetry::continue_trace(&span, |name| {
                    req.headers().get(name).and_then(|v| v.to_str().ok())
                });
                span
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
