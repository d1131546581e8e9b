//! The projector's control requests over NATS, used by `projector parked`,
//! `projector retry <seq>`, `projector rebuild` and `projector verify`.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use flow_domain::events::Subjects;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use crate::{
    parking,
    rebuild::{Kind, Rebuilder},
    runner::Control,
};

/// The subject the running projector answers control requests on.
pub fn subject(subjects: &Subjects) -> String {
    format!("{}.projector.control", subjects.prefix())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "lowercase")]
pub enum Request {
    Parked,
    Retry { seq: u64 },
    Rebuild,
    Verify,
}

/// The answer to a control request: one JSON object, printed by the CLI.
/// Which fields are set depends on the request; `error` says why it failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `switched` (rebuild), `equal` or `different` (verify), or what a
    /// retry did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The parked events, oldest first (`parked`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked: Option<Vec<parking::ParkedEvent>>,
    /// The generation now served (rebuild).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// The stream sequence the rebuilt or compared generation reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// The first document that differs (verify, when different).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<Difference>,
}

/// Two versions of one document: the live generation's and the rebuilt one's
/// (either may be missing), as relaxed extended JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub collection: String,
    pub live: Option<serde_json::Value>,
    pub rebuilt: Option<serde_json::Value>,
}

impl Reply {
    pub fn error(why: impl Into<String>) -> Self {
        Self {
            error: Some(why.into()),
            ..Self::default()
        }
    }

    /// Whether the request failed or found a difference (the CLI's exit status).
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.result.as_deref() == Some("different")
    }
}

pub struct ControlPlane {
    pub client: async_nats::Client,
    pub subject: String,
    pub rebuilder: Arc<Rebuilder>,
    pub runner: mpsc::Sender<Control>,
}

impl ControlPlane {
    pub async fn serve(self, mut stop: watch::Receiver<bool>) {
        let mut requests = match self.client.subscribe(self.subject.clone()).await {
            Ok(s) => s,
            Err(err) => {
                tracing::error!(%err, "cannot listen for control requests");
                return;
            }
        };
        let busy = Arc::new(AtomicBool::new(false));
        loop {
            let message = tokio::select! {
                m = requests.next() => m,
                _ = stop.changed() => return,
            };
            let Some(message) = message else { return };
            let Some(reply) = message.reply.clone() else {
                continue;
            };
            let client = self.client.clone();
            let rebuilder = self.rebuilder.clone();
            let runner = self.runner.clone();
            let busy = busy.clone();
            tokio::spawn(async move {
                let answer = match serde_json::from_slice::<Request>(&message.payload) {
                    Ok(request) => handle(request, &rebuilder, &runner, &busy).await,
                    Err(err) => Reply::error(format!("unknown request: {err}")),
                };
                let payload = serde_json::to_vec(&answer).unwrap_or_default();
                if let Err(err) = client.publish(reply, payload.into()).await {
                    tracing::warn!(%err, "cannot answer a control request");
                }
            });
        }
    }
}

async fn handle(
    request: Request,
    rebuilder: &Rebuilder,
    runner: &mpsc::Sender<Control>,
    busy: &AtomicBool,
) -> Reply {
    match request {
        Request::Parked => {
            let model = rebuilder
                .live
                .with_generation(rebuilder.status.generation.load(Ordering::Relaxed));
            match parking::list(&model).await {
                Ok(parked) => Reply {
                    parked: Some(parked),
                    ..Reply::default()
                },
                Err(err) => Reply::error(format!("{err:#}")),
            }
        }
        Request::Retry { seq } => {
            let (reply, answer) = oneshot::channel();
            if runner.send(Control::Retry { seq, reply }).await.is_err() {
                return Reply::error("the live projection is not running");
            }
            match answer.await {
                Ok(Ok(done)) => Reply {
                    result: Some(done),
                    ..Reply::default()
                },
                Ok(Err(err)) => Reply::error(err),
                Err(_) => Reply::error("the live projection stopped"),
            }
        }
        Request::Rebuild | Request::Verify => {
            if busy.swap(true, Ordering::SeqCst) {
                return Reply::error("a rebuild or verification is already running");
            }
            let kind = if matches!(request, Request::Rebuild) {
                Kind::Rebuild
            } else {
                Kind::Verify
            };
            let result = rebuilder.run(kind).await;
            busy.store(false, Ordering::SeqCst);
            match result {
                Ok(report) => report,
                Err(err) => {
                    tracing::error!(error = format!("{err:#}"), "rebuild failed");
                    Reply::error(format!("{err:#}"))
                }
            }
        }
    }
}

/// Sends a control request to the running projector and waits for its answer.
pub async fn request(
    client: &async_nats::Client,
    subjects: &Subjects,
    request: &Request,
    timeout: std::time::Duration,
) -> anyhow::Result<Reply> {
    let payload = serde_json::to_vec(request)?;
    let response = client
        .send_request(
            subject(subjects),
            async_nats::Request::new()
                .payload(payload.into())
                .timeout(Some(timeout)),
        )
        .await
        .map_err(|e| anyhow::anyhow!("no answer from a running projector: {e}"))?;
    Ok(serde_json::from_slice(&response.payload)?)
}
