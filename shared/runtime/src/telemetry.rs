//! Logs and traces with `tracing`.
//!
//! Logs are human-readable by default, JSON with `FLOW_LOG_FORMAT=json`; the
//! level comes from `RUST_LOG` (default `info`).
//!
//! Traces are off unless an OTLP endpoint is configured
//! (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` to
//! which `/v1/traces` is added): then spans are exported over OTLP/HTTP
//! (protobuf) in batches, sampled as `OTEL_TRACES_SAMPLER` says (default: a
//! trace is recorded when its parent was, or when it starts here), JSON logs
//! carry the `trace_id` and `span_id` of the span they are written in, and the
//! W3C trace context (`traceparent`, `tracestate`) travels in HTTP requests
//! and NATS headers ([`continue_trace`], [`inject`]). Off, none of that runs:
//! no exporter, no background thread, and [`enabled`] is false, so callers
//! skip their per-event work.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use opentelemetry::{
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{
    EnvFilter, Layer as _,
    fmt::{self, FmtContext, FormatEvent, FormatFields, MakeWriter, format::Writer},
    prelude::*,
    registry::LookupSpan,
};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are traced (an OTLP endpoint is configured, or a test
/// installed a tracer): trace context is read and written only then.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Keeps the tracer provider of the process; [`Telemetry::shutdown`] exports
/// the spans still held.
#[must_use = "dropping it leaves the last spans unexported"]
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports what is held and stops the exporter (bounded by its timeout).
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            // Blocks until the exporter's thread is done: not on a runtime
            // worker, whose tasks the export itself needs.
            let stopped = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(err)) = stopped {
                tracing::warn!(%err, "cannot export the last spans");
            }
        }
    }
}

/// Sets up logging, and traces when an OTLP endpoint is configured, for
/// `service` (its `service.name`, unless `OTEL_SERVICE_NAME` says otherwise).
pub fn init(service: &'static str) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("FLOW_LOG_FORMAT").is_ok_and(|v| v == "json");
    let endpoint = otlp_endpoint()?;
    let provider = endpoint
        .as_deref()
        .map(|endpoint| otlp_provider(service, endpoint))
        .transpose()?;
    // Colours only on a terminal: a log file gets plain text.
    let ansi = !json && std::io::IsTerminal::is_terminal(&std::io::stdout());
    match install(filter, json, ansi, std::io::stdout, provider, service) {
        Ok(telemetry) => {
            tracing::info!(
                service,
                version = env!("CARGO_PKG_VERSION"),
                traces = endpoint.as_deref().unwrap_or("off"),
                "starting"
            );
            Ok(telemetry)
        }
        // A subscriber was installed before (tests): keep it.
        Err(_) => Ok(Telemetry::default()),
    }
}

/// Installs the process's subscriber: `filter`, logs to `writer` (JSON, with
/// the trace and span ids, or text), and with a `provider` the spans traced
/// through it. Fails if a subscriber is installed already.
pub fn install<W>(
    filter: EnvFilter,
    json: bool,
    ansi: bool,
    writer: W,
    provider: Option<SdkTracerProvider>,
    service: &'static str,
) -> Result<Telemetry, tracing_subscriber::util::TryInitError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(service))
            .with_threads(false)
    });
    let logs = if json {
        let format = fmt::format()
            .json()
            .flatten_event(true)
            .with_current_span(true);
        fmt::layer()
            .event_format(WithTraceIds(format))
            .fmt_fields(fmt::format::JsonFields::new())
            .with_writer(writer)
            .boxed()
    } else {
        fmt::layer()
            .with_target(false)
            .with_ansi(ansi)
            .with_writer(writer)
            .boxed()
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(traces)
        .with(logs)
        .try_init()?;
    ENABLED.store(provider.is_some(), Ordering::Relaxed);
    Ok(Telemetry { provider })
}

/// The configured OTLP traces endpoint, if any: refused unless it is plain
/// HTTP with protobuf (`OTEL_EXPORTER_OTLP_PROTOCOL`), the one transport built in.
fn otlp_endpoint() -> anyhow::Result<Option<String>> {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v == "none")
    {
        return Ok(None);
    }
    let endpoint = match (
        var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        var("OTEL_EXPORTER_OTLP_ENDPOINT"),
    ) {
        (Some(traces), _) => traces,
        (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
        (None, None) => return Ok(None),
    };
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(protocol) = var(name)
            && protocol != "http/protobuf"
        {
            anyhow::bail!("{name}={protocol}: traces are exported over http/protobuf only");
        }
    }
    if !endpoint.starts_with("http://") {
        anyhow::bail!(
            "the OTLP endpoint {endpoint} is not http://: traces go to a collector over plain HTTP (on the node or beside the service)"
        );
    }
    Ok(Some(endpoint))
}

/// A tracer provider exporting to `endpoint` in batches, from a thread of its
/// own; its requests run on the current Tokio runtime.
fn otlp_provider(service: &'static str, endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let runtime = tokio::runtime::Handle::try_current()
        .context("traces are exported from within the Tokio runtime")?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .context("cannot build the OTLP HTTP client")?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .with_http_client(OnRuntime { client, runtime })
        .build()
        .with_context(|| format!("cannot export traces to {endpoint}"))?;
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_owned());
    let resource = Resource::builder()
        .with_service_name(name)
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// The workspace's async reqwest client, its requests run on the service's
/// runtime: the batch exporter's thread has none of its own.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OnRuntime {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        let client = self.client.clone();
        self.runtime
            .spawn(async move { client.send_bytes(request).await })
            .await?
    }
}

/// Writes a JSON log line with `trace_id` and `span_id` first when the span
/// it is written in has a valid trace context.
struct WithTraceIds<F>(F);

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let span = event
            .parent()
            .cloned()
            .or_else(|| ctx.lookup_current().map(|span| span.id()));
        let ids = span.and_then(|id| {
            let cx = tracing::dispatcher::get_default(|dispatch| {
                tracing_opentelemetry::get_otel_context(&id, dispatch)
            })?;
            let span = cx.span();
            let context = span.span_context();
            context
                .is_valid()
                .then(|| (context.trace_id(), context.span_id()))
        });
        let Some((trace_id, span_id)) = ids else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) if rest.trim_start().starts_with('"') => write!(
                writer,
                "{{\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\",{rest}"
            ),
            _ => writer.write_str(&line),
        }
    }
}

/// Makes `span` continue the trace whose W3C context `header` gives
/// (`traceparent`, `tracestate`), if any. Does nothing while traces are off.
pub fn continue_trace<'a>(span: &tracing::Span, header: impl Fn(&str) -> Option<&'a str>) {
    if !enabled() {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(header, std::marker::PhantomData));
    if parent.span().span_context().is_valid() {
        // Fails only if the span was entered before: it keeps its own trace.
        let _ = span.set_parent(parent);
    }
}

/// A span continuing the trace of a message whose W3C context `header`
/// gives, if that trace is sampled; `None` otherwise, and while traces are
/// off, at the cost of one atomic load.
pub fn traced_span<'a>(
    header: impl Fn(&str) -> Option<&'a str>,
    span: impl FnOnce() -> tracing::Span,
) -> Option<tracing::Span> {
    if !enabled() {
        return None;
    }
    header(TRACEPARENT)?;
    let parent = TraceContextPropagator::new().extract(&Headers(header, std::marker::PhantomData));
    if !parent.span().span_context().is_sampled() {
        return None;
    }
    let span = span();
    span.set_parent(parent).ok()?;
    Some(span)
}

/// The W3C trace context header naming the trace and the parent span.
pub const TRACEPARENT: &str = "traceparent";

/// Writes the W3C context of the current span (`traceparent`, `tracestate`)
/// with `set`. Does nothing while traces are off.
pub fn inject(mut set: impl FnMut(&'static str, String)) {
    if !enabled() {
        return;
    }
    let cx = tracing::Span::current().context();
    let mut fields = Fields(Vec::new());
    TraceContextPropagator::new().inject_context(&cx, &mut fields);
    for (name, value) in fields.0 {
        set(name, value);
    }
}

/// The W3C context of the current span, written into NATS headers.
pub fn inject_nats(headers: &mut async_nats::HeaderMap) {
    inject(|name, value| headers.insert(name, value.as_str()));
}

/// The W3C context header `name` of a NATS message.
pub fn nats_header<'a>(headers: Option<&'a async_nats::HeaderMap>, name: &str) -> Option<&'a str> {
    headers?.get(name).map(|value| value.as_str())
}

/// Header values that live as long as `'a`.
struct Headers<'a, F>(F, std::marker::PhantomData<&'a str>);

impl<'a, F: Fn(&str) -> Option<&'a str>> Extractor for Headers<'a, F> {
    fn get(&self, key: &str) -> Option<&str> {
        (self.0)(key)
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, "tracestate"]
    }
}

struct Fields(Vec<(&'static str, String)>);

impl Injector for Fields {
    fn set(&mut self, key: &str, value: String) {
        // The trace context propagator writes only these two.
        let name = match key {
            TRACEPARENT => TRACEPARENT,
            "tracestate" => "tracestate",
            _ => return,
        };
        self.0.push((name, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_read_or_written_while_traces_are_off() {
        assert!(!enabled());
        let header = |_: &str| Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert!(traced_span(header, tracing::Span::none).is_none());
        let mut written = Vec::new();
        inject(|name, value| written.push((name, value)));
        assert!(written.is_empty());
    }

    /// The exporter's own path: spans of the batch exporter's thread reach
    /// an OTLP/HTTP receiver through the runtime's reqwest client, and a
    /// shutdown on the runtime exports what is held.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spans_are_exported_over_otlp_http() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let endpoint = format!(
            "http://{}/v1/traces",
            listener.local_addr().expect("an address")
        );
        // One request: its head and as many body bytes as it announces.
        let received = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("a connection");
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let read = socket.read(&mut buf).await.expect("reads");
                assert!(read > 0, "the request ended early");
                request.extend_from_slice(&buf[..read]);
                let text = String::from_utf8_lossy(&request).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .expect("a content length");
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await
                .expect("answers");
            request
        });
        let provider = otlp_provider("otlp-test", &endpoint).expect("an exporter");
        {
            use opentelemetry::trace::{Span as _, Tracer as _};
            let mut span = provider.tracer("test").start("exported span");
            span.end();
        }
        Telemetry {
            provider: Some(provider),
        }
        .shutdown()
        .await;
        let request = tokio::time::timeout(std::time::Duration::from_secs(10), received)
            .await
            .expect("exported within 10 s")
            .expect("received");
        let text = String::from_utf8_lossy(&request);
        assert!(text.starts_with("POST /v1/traces HTTP/1.1"), "{text}");
        assert!(
            text.to_lowercase()
                .contains("content-type: application/x-protobuf"),
            "{text}"
        );
        assert!(text.contains("exported span") && text.contains("otlp-test"));
    }

    #[test]
    fn a_trace_context_is_read_from_headers() {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let headers = Headers(
            |name: &str| (name == TRACEPARENT).then_some(traceparent),
            std::marker::PhantomData,
        );
        let cx = TraceContextPropagator::new().extract(&headers);
        let span = cx.span();
        let context = span.span_context();
        assert!(context.is_sampled());
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let cx = TraceContextPropagator::new().extract(&Headers(
            |name: &str| (name == TRACEPARENT).then_some(unsampled),
            std::marker::PhantomData,
        ));
        assert!(!cx.span().span_context().is_sampled());
    }
}
