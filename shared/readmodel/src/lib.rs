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

use flow_runtime::config::MongoConfig;
use flow_runtime::startup::wait_for;

pub const PROJECTS: &str = "projects";
pub const THREADS: &str = "threads";
/// One document per tag: how many projects carry it (`GET /tags`).
pub const TAGS: &str = "tags";
/// The field of a project document holding its search prefixes (see [`search_prefixes`]).
pub const SEARCH_FIELD: &str = "search_prefixes";
pub const PROJECTOR_STATE: &str = "projector_state";
/// Events the projector could not apply, by stream sequence.
pub const PARKED: &str = "parked_events";
/// The base names of the collections every read-model generation has.
pub const GENERATION_COLLECTIONS: &[&str] = &[PROJECTS, THREADS, TAGS, PARKED];
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
    /// The sum over the project's threads (replies included) of
    /// `up_vote - down_vote`: the key of `sort=top`. Absent (0) in documents
    /// projected before it existed.
    #[serde(default)]
    pub score: i64,
    /// The stream sequence of the latest activity: the proposal, or a thread
    /// of the project started, edited or voted on. The key of `sort=active`.
    #[serde(default)]
    pub last_activity_seq: i64,
    /// When that activity happened (RFC 3339).
    #[serde(default)]
    pub last_activity_at: Option<String>,
    pub seq: i64,
}

/// How many projects carry a tag. Kept at zero when the last project drops
/// it, so that every later change still finds the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagDoc {
    /// The tag.
    #[serde(rename = "_id")]
    pub id: String,
    /// The tag again, as a plain field: the local server cannot index `_id`
    /// in a compound index, and `GET /tags` sorts ties by name.
    pub tag: String,
    pub project_count: i64,
    pub seq: i64,
}

/// A prefix longer than this many characters is not stored; a longer search
/// word is matched on its first this-many characters.
pub const SEARCH_PREFIX_MAX_CHARS: usize = 24;

/// The words of a text for search: maximal runs of letters and digits, lower-cased.
pub fn search_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Every prefix (up to [`SEARCH_PREFIX_MAX_CHARS`]) of every word of the
/// texts, sorted and de-duplicated: stored in [`SEARCH_FIELD`], so that a
/// search word matches by equality on an array element (a multikey index on
/// MongoDB). A name of 80 and a tagline of 255 characters give at most 335.
pub fn search_prefixes(texts: &[&str]) -> Vec<String> {
    let mut prefixes = std::collections::BTreeSet::new();
    for text in texts {
        for word in search_words(text) {
            let mut prefix = String::new();
            for c in word.chars().take(SEARCH_PREFIX_MAX_CHARS) {
                prefix.push(c);
                prefixes.insert(prefix.clone());
            }
        }
    }
    prefixes.into_iter().collect()
}

/// The terms a search query asks for: its words, cut to
/// [`SEARCH_PREFIX_MAX_CHARS`], de-duplicated, in order. A project matches
/// when every term is one of its [`search_prefixes`].
pub fn search_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in search_words(query) {
        let term: String = word.chars().take(SEARCH_PREFIX_MAX_CHARS).collect();
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    terms
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
    pub tags: Collection<TagDoc>,
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
        // `sort=new|top|active`, alone or after a tag or search filter. Tags and
        // search prefixes are arrays: multikey indexes on MongoDB (at most one
        // array field per index).
        self.projects
            .create_indexes([
                index(doc! {"created_seq": -1}, "by_created", true),
                index(doc! {"score": -1, "created_seq": -1}, "by_top", false),
                index(
                    doc! {"last_activity_seq": -1, "created_seq": -1},
                    "by_active",
                    false,
                ),
                index(doc! {"tags": 1, "created_seq": -1}, "by_tag_new", false),
                index(
                    doc! {"tags": 1, "score": -1, "created_seq": -1},
                    "by_tag_top",
                    false,
                ),
                index(
                    doc! {"tags": 1, "last_activity_seq": -1, "created_seq": -1},
                    "by_tag_active",
                    false,
                ),
                index(
                    doc! {SEARCH_FIELD: 1, "created_seq": -1},
                    "by_search_new",
                    false,
                ),
            ])
            .await?;
        self.tags
            .create_indexes([index(
                doc! {"project_count": -1, "tag": 1},
                "by_project_count",
                false,
            )])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_prefix_of_name_and_tagline_is_searchable_in_any_case() {
        let prefixes =
            search_prefixes(&["Popee the Performer", "an apprentice clown, in Wolf-Circus"]);
        for wanted in [
            "p",
            "po",
            "popee",
            "perf",
            "performer",
            "wolf",
            "circ",
            "circus",
            "clown",
        ] {
            assert!(
                prefixes.contains(&wanted.to_owned()),
                "{wanted}: {prefixes:?}"
            );
        }
        assert!(!prefixes.iter().any(|p| p.contains(' ') || p.contains(',')));
        assert!(!prefixes.contains(&"erformer".to_owned()), "only prefixes");
        let mut sorted = prefixes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(prefixes, sorted);
    }

    #[test]
    fn long_words_are_cut_on_both_sides() {
        let word = "x".repeat(40);
        let prefixes = search_prefixes(&[&word]);
        assert_eq!(prefixes.len(), SEARCH_PREFIX_MAX_CHARS);
        assert_eq!(search_terms(&word), ["x".repeat(SEARCH_PREFIX_MAX_CHARS)]);
        assert!(prefixes.contains(&search_terms(&word)[0]));
    }

    #[test]
    fn search_terms_are_the_lower_cased_words_once() {
        assert_eq!(
            search_terms("  PERF  wolf-perf Ünï "),
            ["perf", "wolf", "ünï"]
        );
        assert!(search_terms(" -- ").is_empty());
    }
}
