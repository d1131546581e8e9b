//! The read documents in MongoDB: written by the projector, read by query-api.
//!
//! Every document keeps `seq`, the stream sequence of the last event that
//! changed it; an update only applies to documents whose `seq` is lower than the
//! event's, so a redelivered event changes nothing.

use std::time::Duration;

use mongodb::{
    Client, Collection, Database, IndexModel,
    bson::{Document, doc},
    options::{ClientOptions, IndexOptions},
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::MongoConfig;
use crate::startup::wait_for;

pub const PROJECTS: &str = "projects";
pub const THREADS: &str = "threads";
pub const PROJECTOR_STATE: &str = "projector_state";
/// Events the projector could not apply, by stream sequence.
pub const PARKED: &str = "parked_events";
/// The `_id` of the projector's position document in [`PROJECTOR_STATE`].
pub const POSITION_ID: &str = "position";

/// A project as listed and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectDoc {
    #[serde(rename = "_id")]
    pub project_id: String,
    pub project_name: String,
    pub tagline: String,
    pub tags: Vec<String>,
    pub proposer: String,
    pub created_at: String,
    /// The stream sequence of the proposal: the stable key of `sort=new`.
    pub created_seq: i64,
    pub thread_count: i64,
    pub problem_count: i64,
    pub solution_count: i64,
    pub seq: i64,
}

/// A thread as listed and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadDoc {
    #[serde(rename = "_id")]
    pub thread_id: String,
    pub project_id: String,
    pub parent_thread_id: Option<String>,
    pub thread_type: String,
    pub message: String,
    pub up_vote: i64,
    pub down_vote: i64,
    /// `up_vote - down_vote`: the key of `sort=top`.
    pub score: i64,
    pub reply_count: i64,
    pub status: String,
    pub author: String,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub created_seq: i64,
    pub seq: i64,
}

/// The projector's durable position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionDoc {
    pub position: i64,
}

/// The read model's collections in one database.
#[derive(Debug, Clone)]
pub struct ReadModel {
    pub db: Database,
    pub projects: Collection<ProjectDoc>,
    pub threads: Collection<ThreadDoc>,
    pub state: Collection<Document>,
}

impl ReadModel {
    pub fn new(db: Database) -> Self {
        Self {
            projects: db.collection(PROJECTS),
            threads: db.collection(THREADS),
            state: db.collection(PROJECTOR_STATE),
            db,
        }
    }

    /// Connects, retrying with backoff for at most `timeout`.
    pub async fn connect(
        config: &MongoConfig,
        app_name: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(config.uri.expose_secret())
            .await
            .map_err(|e| anyhow::anyhow!("FLOW_MONGODB_URI is invalid: {}", e.kind))?;
        options.app_name = Some(app_name.to_owned());
        options.server_selection_timeout = Some(Duration::from_secs(2));
        options.connect_timeout = Some(Duration::from_secs(2));
        let client = Client::with_options(options)?;
        let db = client.database(&config.database);
        wait_for("MongoDB", timeout, || {
            let db = db.clone();
            async move {
                db.run_command(doc! {"ping": 1})
                    .await
                    .map_err(|e| e.kind.to_string())
            }
        })
        .await?;
        Ok(Self::new(db))
    }

    /// Whether MongoDB answers.
    pub async fn ping(&self) -> Result<(), String> {
        self.db
            .run_command(doc! {"ping": 1})
            .await
            .map(|_| ())
            .map_err(|e| format!("MongoDB: {}", e.kind))
    }

    /// Creates every index the listings need; creating an existing index is a no-op.
    pub async fn ensure_indexes(&self) -> anyhow::Result<()> {
        let index = |keys: Document, name: &str, unique: bool| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(name.to_owned())
                        .unique(unique)
                        .build(),
                )
                .build()
        };
        self.projects
            .create_indexes([index(doc! {"created_seq": -1}, "by_created", true)])
            .await?;
        self.threads
            .create_indexes([
                index(
                    doc! {"project_id": 1, "score": -1, "created_seq": -1},
                    "by_project_top",
                    false,
                ),
                index(
                    doc! {"project_id": 1, "created_seq": -1},
                    "by_project_new",
                    false,
                ),
                index(
                    doc! {"parent_thread_id": 1, "created_seq": 1},
                    "by_parent",
                    false,
                ),
            ])
            .await?;
        Ok(())
    }

    /// Every event up to this stream sequence is applied (0 for a new read model).
    pub async fn position(&self) -> anyhow::Result<u64> {
        let found = self.state.find_one(doc! {"_id": POSITION_ID}).await?;
        let position = match found.as_ref().and_then(|d| d.get("position")) {
            Some(mongodb::bson::Bson::Int64(p)) => *p,
            Some(mongodb::bson::Bson::Int32(p)) => i64::from(*p),
            Some(mongodb::bson::Bson::Double(p)) => *p as i64,
            _ => 0,
        };
        Ok(u64::try_from(position).unwrap_or(0))
    }
}
