//! The read documents in MongoDB: written by the projector, read by query-api.
//!
//! Every document keeps `seq`, the stream sequence of the last event that
//! changed it; an update only applies to documents whose `seq` is lower than the
//! event's, so a redelivered event changes nothing.

mod documents;
mod search;

use std::time::Duration;

pub use documents::*;
use flow_runtime::config::MongoConfig;
use flow_runtime::startup::wait_for;
use mongodb::{
    Client, Collection, Database, IndexModel,
    bson::{Document, doc},
    options::{ClientOptions, IndexOptions},
};
pub use search::*;
use secrecy::ExposeSecret;

pub const PROJECTS: &str = "projects";
pub const THREADS: &str = "threads";
/// One document per tag: how many projects carry it (`GET /tags`).
pub const TAGS: &str = "tags";
/// One document per user and thread voted on ([`VoteDoc`]).
pub const VOTES: &str = "votes";
/// One document per user and project the user hid ([`HiddenDoc`]).
pub const HIDDEN: &str = "hidden";
/// One document per user who chose something for themselves ([`UserDoc`]).
pub const USERS: &str = "users";
/// The field of a project document holding its search prefixes (see [`search_prefixes`]).
pub const SEARCH_FIELD: &str = field::SEARCH_PREFIXES;
pub const PROJECTOR_STATE: &str = "projector_state";
/// Events the projector could not apply, by stream sequence.
pub const PARKED: &str = "parked_events";
/// The base names of the collections every read-model generation has.
pub const GENERATION_COLLECTIONS: &[&str] =
    &[PROJECTS, THREADS, TAGS, VOTES, HIDDEN, USERS, PARKED];
/// The `_id` of the projector's position document in [`PROJECTOR_STATE`].
pub const POSITION_ID: &str = "position";

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
    pub tags: Collection<TagDoc>,
    pub votes: Collection<VoteDoc>,
    pub hidden: Collection<HiddenDoc>,
    pub users: Collection<UserDoc>,
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
            tags: db.collection(&collection_name(TAGS, generation)),
            votes: db.collection(&collection_name(VOTES, generation)),
            hidden: db.collection(&collection_name(HIDDEN, generation)),
            users: db.collection(&collection_name(USERS, generation)),
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
            .find_one(doc! {field::ID: ACTIVE_GENERATION_ID})
            .await?;
        Ok(found
            .as_ref()
            .and_then(|d| d.get(field::GENERATION))
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
        // `sort=new|top|active`, alone or after a tag or search filter. Tags and
        // search prefixes are arrays: multikey indexes on MongoDB (at most one
        // array field per index).
        self.projects
            .create_indexes([
                index(doc! {field::CREATED_SEQ: -1}, "by_created", true),
                index(
                    doc! {field::SCORE: -1, field::CREATED_SEQ: -1},
                    "by_top",
                    false,
                ),
                index(
                    doc! {field::LAST_ACTIVITY_SEQ: -1, field::CREATED_SEQ: -1},
                    "by_active",
                    false,
                ),
                index(
                    doc! {field::TAGS: 1, field::CREATED_SEQ: -1},
                    "by_tag_new",
                    false,
                ),
                index(
                    doc! {field::TAGS: 1, field::SCORE: -1, field::CREATED_SEQ: -1},
                    "by_tag_top",
                    false,
                ),
                index(
                    doc! {field::TAGS: 1, field::LAST_ACTIVITY_SEQ: -1, field::CREATED_SEQ: -1},
                    "by_tag_active",
                    false,
                ),
                index(
                    doc! {field::SEARCH_PREFIXES: 1, field::CREATED_SEQ: -1},
                    "by_search_new",
                    false,
                ),
                // `GET /me/projects`: a user's projects, newest first.
                index(
                    doc! {field::PROPOSER: 1, field::CREATED_SEQ: -1},
                    "by_proposer",
                    false,
                ),
            ])
            .await?;
        self.tags
            .create_indexes([index(
                doc! {field::PROJECT_COUNT: -1, field::TAG: 1},
                "by_project_count",
                false,
            )])
            .await?;
        // `GET /me/hidden`: a user's hidden projects, most recently hidden first.
        self.hidden
            .create_indexes([index(
                doc! {field::USER: 1, field::HIDDEN: 1, field::HIDDEN_SEQ: -1},
                "by_user_hidden",
                false,
            )])
            .await?;
        self.threads
            .create_indexes([
                index(
                    doc! {field::PROJECT_ID: 1, field::SCORE: -1, field::CREATED_SEQ: -1},
                    "by_project_top",
                    false,
                ),
                index(
                    doc! {field::PROJECT_ID: 1, field::CREATED_SEQ: -1},
                    "by_project_new",
                    false,
                ),
                index(
                    doc! {field::PARENT_THREAD_ID: 1, field::CREATED_SEQ: 1},
                    "by_parent",
                    false,
                ),
                // The moderation queues, oldest first.
                index(
                    doc! {field::STATUS: 1, field::STATUS_SEQ: 1},
                    "by_status",
                    false,
                ),
                // `GET /me/threads`: a user's threads, newest first.
                index(
                    doc! {field::AUTHOR: 1, field::CREATED_SEQ: -1},
                    "by_author",
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
            .find_one(doc! {field::ID: self.position_id()})
            .await?;
        Ok(found
            .as_ref()
            .and_then(|d| d.get(field::POSITION))
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

/// An integer however the server stored it (the local server may store a
/// 64-bit integer as 32-bit or double); 0 when it is not a number.
pub fn bson_i64(value: Option<&mongodb::bson::Bson>) -> i64 {
    use mongodb::bson::Bson;
    match value {
        Some(Bson::Int64(v)) => *v,
        Some(Bson::Int32(v)) => i64::from(*v),
        Some(Bson::Double(v)) => *v as i64,
        _ => 0,
    }
}

/// A non-negative integer however the server stored it (see [`bson_i64`]);
/// 0 when it is negative.
pub fn bson_u64(value: &mongodb::bson::Bson) -> u64 {
    u64::try_from(bson_i64(Some(value))).unwrap_or(0)
}
