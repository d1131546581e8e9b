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

/// The `_id` of the document in [`PROJECTOR_STATE`] naming the generation query-api serves.
pub const ACTIVE_GENERATION_ID: &str = "active_generation";

/// The read model's collections of one generation in one database.
///
/// Generation 0 uses the plain collection names (`projects`, `threads`); a
/// rebuild writes generation `n` into `projects_g<n>`, `threads_g<n>` and
/// switches query-api to it when it has caught up.
#[derive(Debug, Clone)]
pub struct ReadModel {
    pub db: Database,
    pub generation: u64,
    pub projects: Collection<ProjectDoc>,
    pub threads: Collection<ThreadDoc>,
    pub state: Collection<Document>,
}

impl ReadModel {
    pub fn new(db: Database) -> Self {
        Self::at_generation(db, 0)
    }

    pub fn at_generation(db: Database, generation: u64) -> Self {
        Self {
            projects: db.collection(&collection_name(PROJECTS, generation)),
            threads: db.collection(&collection_name(THREADS, generation)),
            state: db.collection(PROJECTOR_STATE),
            generation,
            db,
        }
    }

    pub fn with_generation(&self, generation: u64) -> Self {
        Self::at_generation(self.db.clone(), generation)
    }

    /// The name of a base collection (`projects`, `threads`) in this generation.
    pub fn collection(&self, base: &str) -> String {
        collection_name(base, self.generation)
    }

    /// The `_id` of this generation's position document.
    pub fn position_id(&self) -> String {
        match self.generation {
            0 => POSITION_ID.to_owned(),
            n => format!("{POSITION_ID}_g{n}"),
        }
    }

    /// The generation query-api should serve (0 until a rebuild switched).
    pub async fn active_generation(&self) -> anyhow::Result<u64> {
        let found = self
            .state
            .find_one(doc! {"_id": ACTIVE_GENERATION_ID})
            .await?;
        Ok(found
            .as_ref()
            .and_then(|d| d.get("generation"))
            .map(bson_u64)
            .unwrap_or(0))
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
        let found = self
            .state
            .find_one(doc! {"_id": self.position_id()})
            .await?;
        Ok(found
            .as_ref()
            .and_then(|d| d.get("position"))
            .map(bson_u64)
            .unwrap_or(0))
    }
}

/// The name of a base collection in a generation.
pub fn collection_name(base: &str, generation: u64) -> String {
    match generation {
        0 => base.to_owned(),
        n => format!("{base}_g{n}"),
    }
}

/// A non-negative integer however the server stored it (the local server may
/// store a 64-bit integer as 32-bit or double).
pub fn bson_u64(value: &mongodb::bson::Bson) -> u64 {
    use mongodb::bson::Bson;
    match value {
        Bson::Int64(v) => u64::try_from(*v).unwrap_or(0),
        Bson::Int32(v) => u64::try_from(*v).unwrap_or(0),
        Bson::Double(v) if *v >= 0.0 => *v as u64,
        _ => 0,
    }
}
