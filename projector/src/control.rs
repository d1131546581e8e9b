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

pub use crate::reply::{Difference, Reply};

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
