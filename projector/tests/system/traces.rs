//! One write followed by its trace id: from the caller's `traceparent`
//! through command-api's request, the event's NATS headers and the
//! projector's span for applying it, to a read that waited for it.

use std::time::Duration;

use flow_testkit::eventually;
use opentelemetry::{Value, trace::SpanKind};
use opentelemetry_sdk::trace::SpanData;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{System, secrets};

/// A fresh trace and parent span id, as a caller would send them.
fn new_trace() -> (String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    (trace_id, parent)
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn in_trace(trace_id: &str) -> Vec<SpanData> {
    secrets::spans()
        .into_iter()
        .filter(|span| span.span_context.trace_id().to_string() == trace_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_is_followed_by_its_trace_into_the_projector_and_a_waiting_read() {
    let system = System::start().await;
    let (trace_id, caller_span) = new_trace();
    secrets::watch_trace(&trace_id);
    let request = system
        .http
        .post(format!("{}/projects/propose", system.command))
        .bearer_auth(system.token("tracy"))
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&json!({
            "project_name": "Traced all the way",
            "tagline": "one trace id from the request to the read model",
            "problems": ["lost requests"],
            "solutions": ["follow them"],
        }));
    let created = system.send(request).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let project_id = created.body["project_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let written: u64 = created.token()[1..].parse().expect("s<sequence>");

    // The projector applies the proposal's events (name, project, two
    // threads) each in a span of the caller's trace.
    let bound = Duration::from_secs(30);
    eventually(
        "the projector's spans join the write's trace",
        bound,
        || {
            let trace_id = trace_id.clone();
            async move {
                in_trace(&trace_id)
                    .iter()
                    .filter(|s| s.name == "apply" && attribute(s, "applied").is_some())
                    .count()
                    >= 4
            }
        },
    )
    .await;
    let spans = in_trace(&trace_id);
    let request_span = spans
        .iter()
        .find(|s| s.name == "http" && s.parent_span_id.to_string() == caller_span)
        .unwrap_or_else(|| panic!("command-api's request span continues the caller's: {spans:#?}"));
    assert!(request_span.parent_span_is_remote);
    assert_eq!(request_span.span_kind, SpanKind::Server);
    let applied: Vec<&SpanData> = spans.iter().filter(|s| s.name == "apply").collect();
    assert_eq!(applied.len(), 4, "one span per event: {applied:#?}");
    let request_id = request_span.span_context.span_id();
    let mut sequences = Vec::new();
    for apply in &applied {
        // The request's span, or its handler's within it.
        let parent = spans
            .iter()
            .find(|s| s.span_context.span_id() == apply.parent_span_id)
            .unwrap_or_else(|| panic!("the parent of {apply:#?} is recorded"));
        assert!(
            parent.span_context.span_id() == request_id || parent.parent_span_id == request_id,
            "applying an event continues the request that stored it: {parent:#?}"
        );
        assert!(apply.parent_span_is_remote, "its parent came over NATS");
        assert_eq!(apply.span_kind, SpanKind::Consumer);
        assert_eq!(attribute(apply, "applied"), Some(&Value::Bool(true)));
        let subject = attribute(apply, "subject").expect("a subject").to_string();
        assert!(
            subject.starts_with(&system.env.nats.subject_prefix),
            "{subject}"
        );
        // A u64 is recorded as text or as an i64.
        let seq = attribute(apply, "seq").expect("a sequence").to_string();
        sequences.push(seq.parse::<u64>().expect("a sequence"));
    }
    sequences.sort_unstable();
    assert_eq!(sequences.last(), Some(&written), "the write's last event");
    assert_eq!(sequences, (written - 3..=written).collect::<Vec<_>>());

    // Its JSON log lines carry the trace id, the projector's included.
    let lines = secrets::trace_lines(&trace_id);
    let applied_line = lines
        .iter()
        .find(|line| line.contains("event applied"))
        .unwrap_or_else(|| panic!("the projector logs in the trace: {lines:#?}"));
    let logged: serde_json::Value = serde_json::from_str(applied_line).expect("a JSON line");
    assert_eq!(logged["trace_id"], trace_id.as_str());
    let span_id = logged["span_id"].as_str().expect("a span id");
    assert!(
        applied
            .iter()
            .any(|s| s.span_context.span_id().to_string() == span_id),
        "the line names the span it was written in"
    );

    // A read in the same trace waits for the write: its wait is a span of
    // query-api's request.
    let (_, read_parent) = new_trace();
    let read = system
        .send(
            system
                .http
                .get(format!("{}/projects/{project_id}", system.query))
                .header("Consistency-Token", created.token())
                .header("traceparent", format!("00-{trace_id}-{read_parent}-01")),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    eventually("the read's wait is traced", bound, || {
        let trace_id = trace_id.clone();
        async move {
            in_trace(&trace_id)
                .iter()
                .any(|s| s.name == "consistency_wait")
        }
    })
    .await;
    let spans = in_trace(&trace_id);
    let wait = spans
        .iter()
        .find(|s| s.name == "consistency_wait")
        .expect("a wait span");
    let read_span = spans
        .iter()
        .find(|s| s.span_context.span_id() == wait.parent_span_id)
        .expect("the wait's parent is recorded");
    assert_eq!(read_span.name, "http");
    assert_eq!(read_span.parent_span_id.to_string(), read_parent);
    assert_eq!(
        attribute(wait, "sequence").map(Value::to_string),
        Some(written.to_string())
    );
    assert_eq!(attribute(wait, "reached"), Some(&Value::Bool(true)));
    assert!(
        matches!(attribute(wait, "waited_ms"), Some(Value::F64(ms)) if *ms >= 0.0),
        "{wait:#?}"
    );

    // A write without a trace of its own is not traced into the projector.
    let untraced = system.propose("tracy", "Not traced").await;
    let untraced_id = untraced.body["project_id"].as_str().expect("an id");
    system.settle().await;
    assert!(
        !secrets::spans().iter().any(|s| s.name == "apply"
            && attribute(s, "subject").is_some_and(|v| v.to_string().contains(untraced_id))),
        "no span for events of unsampled traces"
    );
    system.stop().await;
}
