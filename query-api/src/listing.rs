//! `GET /projects`: the newest (`sort=new`), top (`sort=top`) and most
//! active (`sort=active`) projects, filtered by tags (all must match) and a
//! search (`q`: every word must start a word of the name or the tagline, in
//! any case), paged with opaque cursors.
//!
//! # Paging neither repeats nor skips
//!
//! The guarantee: paging through a listing while projects are proposed and
//! threads are started, edited and voted on never shows a project twice and
//! never leaves out a project that existed, and matched, when the first page
//! was read.
//!
//! - **`sort=new`** pages by keyset on `created_seq`, the stream sequence of
//!   the proposal: it never changes and is unique, so "older than the last
//!   one shown" is a stable position. New projects sort before the cursor and
//!   never disturb later pages.
//! - **`sort=top` and `sort=active`** rank by keys that change while paging
//!   (`score`, `last_activity_seq`): a keyset cursor alone would repeat a
//!   project whose score fell below the cursor and skip one whose score rose
//!   above it. So the first page **freezes the ranking**: the ordered ids of
//!   the listing (at most [`SnapshotConfig::max_per_snapshot`](crate::snapshots::SnapshotConfig::max_per_snapshot), with their
//!   keys) are kept in a [`Snapshot`](crate::snapshots::Snapshot) in query-api's memory, and the cursor
//!   carries the snapshot's id, the offset of the next project in it, and the
//!   keys (`score` or `last_activity_seq`, and `created_seq`) of the last
//!   project shown. Later pages take the next ids from the snapshot and read
//!   those documents by `_id` (current counts, frozen order; a project that
//!   no longer matches the filter, e.g. lost a tag, is left out). Projects
//!   proposed after the first page are not part of that paging. First pages
//!   of one listing asked for at once freeze in turn and share a ranking
//!   taken after all of them asked ([`Snapshots::in_turn`]).
//! - **Bounded**: the cache holds at most [`SnapshotConfig::budget`](crate::snapshots::SnapshotConfig::budget) ids over
//!   all snapshots, drops the oldest first, and forgets a snapshot after
//!   [`SnapshotConfig::ttl`](crate::snapshots::SnapshotConfig::ttl). The ids are stored as 16-byte UUIDs with two
//!   integer keys (32 bytes a project).
//! - **Fallback**: when the snapshot is gone (expired, dropped, or the next
//!   page is served by another query-api instance), or the listing is longer
//!   than one snapshot, the cursor's keys still name a position: a new
//!   snapshot is frozen from the projects ranked after those keys, now.
//!   Across that one step the guarantee weakens to what a keyset gives: a
//!   project whose key crossed the cursor's keys while paging may be shown
//!   twice or not at all. Within every snapshot it holds.
//!
//! # Hidden projects
//!
//! For a signed-in reader the projects they hid are left out of every
//! listing. The hidden set is never read whole: each run of candidates (in
//! listing order, from the cursor) is checked against the reader's hidden
//! documents by key ([`hidden_among`]: one `_id $in` find of at most a run's
//! size), so a page costs the same whether the reader hid ten projects or
//! ten thousand. Runs double in size while most candidates are hidden, up to
//! [`MAX_ROUNDS`] runs a page; a page that ends there is shorter, and its
//! cursor continues after the last candidate examined.

use std::{collections::HashMap, sync::Arc};

use std::collections::HashSet;

use flow_domain::ProjectId;
use flow_readmodel::{HiddenDoc, ProjectDoc, ReadModel, bson_i64, field};
use futures::TryStreamExt;
use mongodb::{
    Collection,
    bson::{Document, doc},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::snapshots::{Entry, Snapshot, Snapshots};
pub use crate::sort::Sort;

/// What a listing is filtered by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFilter {
    /// Every one of these tags (normalised, de-duplicated).
    pub tags: Vec<String>,
    /// Every one of these search terms ([`flow_readmodel::search_terms`]).
    pub terms: Vec<String>,
    /// At least one of these tags (a feed of followed tags).
    pub any_tags: Vec<String>,
}

impl ProjectFilter {
    /// The MongoDB filter: `$all` on the tag and search-prefix arrays (a
    /// multikey index on MongoDB; kept flat, without `$and`, because the
    /// local server plans a top-level filter in SQL but evaluates `$and` in
    /// Python).
    pub fn document(&self) -> Document {
        let mut filter = Document::new();
        let mut tags = Document::new();
        if !self.tags.is_empty() {
            tags.insert("$all", &self.tags);
        }
        if !self.any_tags.is_empty() {
            tags.insert("$in", &self.any_tags);
        }
        if !tags.is_empty() {
            filter.insert(field::TAGS, tags);
        }
        if !self.terms.is_empty() {
            filter.insert(field::SEARCH_PREFIXES, doc! {"$all": &self.terms});
        }
        filter
    }

    /// Names the filter in a cursor, so that a cursor is only used with the
    /// listing that gave it out.
    pub fn fingerprint(&self) -> String {
        let mut tags = self.tags.clone();
        tags.sort();
        let mut terms = self.terms.clone();
        terms.sort();
        let mut any = self.any_tags.clone();
        any.sort();
        let canonical = format!(
            "{}\u{1e}{}\u{1e}{}",
            tags.join("\u{1f}"),
            terms.join("\u{1f}"),
            any.join("\u{1f}")
        );
        flow_domain::events::digest_key(&canonical)[..12].to_owned()
    }
}

/// A position in a listing, given out base64url-encoded as `next_cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort it belongs to.
    pub o: Sort,
    /// The fingerprint of the filter it belongs to.
    pub f: String,
    /// `created_seq` of the last project shown.
    pub s: i64,
    /// The ranking key of the last project shown, as frozen (top, active).
    #[serde(default)]
    pub k: i64,
    /// The frozen ranking (top, active).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r: Option<u64>,
    /// The offset of the next project in that ranking.
    #[serde(default)]
    pub i: usize,
}

/// One `find`: what the handlers run and what the explain test checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub filter: Document,
    pub sort: Option<Document>,
    pub projection: Option<Document>,
    pub limit: Option<i64>,
}

impl Query {
    pub async fn run<T>(self, collection: &Collection<T>) -> mongodb::error::Result<Vec<T>>
    where
        T: serde::de::DeserializeOwned + Send + Sync,
    {
        let mut find = collection.find(self.filter);
        if let Some(sort) = self.sort {
            find = find.sort(sort);
        }
        if let Some(projection) = self.projection {
            find = find.projection(projection);
        }
        if let Some(limit) = self.limit {
            find = find.limit(limit);
        }
        find.await?.try_collect().await
    }

    /// The `find` command of this query on `collection` (for `explain`).
    pub fn command(&self, collection: &str) -> Document {
        let mut command = doc! {"find": collection, "filter": self.filter.clone()};
        if let Some(sort) = &self.sort {
            command.insert("sort", sort.clone());
        }
        if let Some(projection) = &self.projection {
            command.insert("projection", projection.clone());
        }
        if let Some(limit) = self.limit {
            command.insert("limit", limit);
        }
        command
    }
}

/// One project, as its detail shows it.
pub fn project_by_id(id: ProjectId) -> Query {
    Query {
        filter: doc! {field::ID: id.to_string()},
        sort: None,
        projection: Some(summary_projection()),
        limit: Some(1),
    }
}

/// Summaries leave out the search prefixes (up to a few hundred strings).
pub fn summary_projection() -> Document {
    doc! {field::SEARCH_PREFIXES: 0}
}

/// Projects ranked after `(key, created_seq)` in `sort`.
pub fn after(sort: Sort, key: i64, created_seq: i64) -> Document {
    match sort {
        Sort::New => doc! {field::CREATED_SEQ: {"$lt": created_seq}},
        ranked => doc! {"$or": [
            {ranked.key(): {"$lt": key}},
            {ranked.key(): key, field::CREATED_SEQ: {"$lt": created_seq}},
        ]},
    }
}

fn with(mut filter: Document, extra: Document) -> Document {
    filter.extend(extra);
    filter
}

/// A page of `sort=new`: `limit + 1` summaries, to know whether more follow.
pub fn newest(filter: &ProjectFilter, before: Option<i64>, limit: i64) -> Query {
    let mut query = filter.document();
    if let Some(created_seq) = before {
        query = with(query, after(Sort::New, 0, created_seq));
    }
    Query {
        filter: query,
        sort: Some(Sort::New.order()),
        projection: Some(summary_projection()),
        limit: Some(limit + 1),
    }
}

/// A ranking to freeze: the ids and keys of up to `max + 1` projects (one
/// more, to know whether the listing goes on).
pub fn ranking(sort: Sort, filter: &ProjectFilter, from: Option<(i64, i64)>, max: usize) -> Query {
    let mut query = filter.document();
    if let Some((key, created_seq)) = from {
        query = with(query, after(sort, key, created_seq));
    }
    Query {
        filter: query,
        sort: Some(sort.order()),
        projection: Some(doc! {field::ID: 1, sort.key(): 1, field::CREATED_SEQ: 1}),
        limit: Some(i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1)),
    }
}

/// The summaries of the given projects that still match the filter.
pub fn by_ids(filter: &ProjectFilter, ids: &[Uuid]) -> Query {
    let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    Query {
        // `_id` first and at the top level: the local server then plans it
        // with its `_id` index.
        filter: with(doc! {field::ID: {"$in": ids}}, filter.document()),
        sort: None,
        projection: Some(summary_projection()),
        limit: None,
    }
}

/// One page of a listing.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<ProjectDoc>,
    pub next: Option<Cursor>,
}

/// At most this many runs of candidates are checked against a reader's
/// hidden projects for one page.
pub const MAX_ROUNDS: usize = 8;
/// A run of candidates is at most this long.
const MAX_RUN: i64 = 1_000;

/// The hidden-project documents of `user` among `project_ids`, by key.
pub fn hidden_query(user: &str, project_ids: &[&str]) -> Query {
    let keys: Vec<String> = project_ids
        .iter()
        .map(|id| HiddenDoc::id(user, id))
        .collect();
    Query {
        filter: doc! {field::ID: {"$in": keys}, field::HIDDEN: true},
        sort: None,
        projection: Some(doc! {field::PROJECT_ID: 1}),
        limit: None,
    }
}

/// Which of `project_ids` `user` hides.
pub async fn hidden_among(
    model: &ReadModel,
    user: &str,
    project_ids: &[&str],
) -> mongodb::error::Result<HashSet<String>> {
    if project_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found = hidden_query(user, project_ids)
        .run(&model.hidden.clone_with_type::<Document>())
        .await?;
    Ok(found
        .iter()
        .filter_map(|d| d.get_str(field::PROJECT_ID).ok().map(str::to_owned))
        .collect())
}

/// Leaves out of `docs` the projects `reader` hides (none when anonymous).
pub async fn visible(
    model: &ReadModel,
    reader: Option<&str>,
    docs: Vec<ProjectDoc>,
) -> mongodb::error::Result<Vec<ProjectDoc>> {
    let Some(user) = reader else {
        return Ok(docs);
    };
    let ids: Vec<&str> = docs.iter().map(|d| d.project_id.as_str()).collect();
    let hidden = hidden_among(model, user, &ids).await?;
    Ok(docs
        .into_iter()
        .filter(|d| !hidden.contains(&d.project_id))
        .collect())
}

/// Reads one page, leaving out what `reader` hides. `cursor` must already be
/// checked to belong to this sort and filter.
pub async fn page(
    model: &ReadModel,
    snapshots: &Snapshots,
    sort: Sort,
    filter: &ProjectFilter,
    cursor: Option<Cursor>,
    limit: i64,
    reader: Option<&str>,
) -> mongodb::error::Result<Page> {
    match sort {
        Sort::New => newest_page(model, filter, cursor, limit, reader).await,
        ranked => ranked_page(model, snapshots, ranked, filter, cursor, limit, reader).await,
    }
}

/// A page of `sort=new` (or of any listing by `created_seq`): runs of
/// candidates after the cursor until the page and one more are found.
pub async fn newest_page(
    model: &ReadModel,
    filter: &ProjectFilter,
    cursor: Option<Cursor>,
    limit: i64,
    reader: Option<&str>,
) -> mongodb::error::Result<Page> {
    let wanted = usize::try_from(limit).unwrap_or(0);
    let cursor_at = |created_seq| Cursor {
        o: Sort::New,
        f: filter.fingerprint(),
        s: created_seq,
        k: 0,
        r: None,
        i: 0,
    };
    let mut items = Vec::with_capacity(wanted + 1);
    let mut before = cursor.map(|c| c.s);
    let mut run = limit;
    for _ in 0..MAX_ROUNDS {
        let candidates = newest(filter, before, run).run(&model.projects).await?;
        let exhausted = candidates.len() as i64 <= run;
        before = candidates.last().map(|p| p.created_seq).or(before);
        items.extend(visible(model, reader, candidates).await?);
        if items.len() > wanted {
            items.truncate(wanted);
            let next = items.last().map(|last| cursor_at(last.created_seq));
            return Ok(Page { items, next });
        }
        if exhausted {
            return Ok(Page { items, next: None });
        }
        run = (run * 2).min(MAX_RUN);
    }
    // Mostly hidden so far: a shorter page, continued after what was examined.
    Ok(Page {
        items,
        next: before.map(cursor_at),
    })
}

/// The ranking of `sort` after `from` (from the top when `None`), frozen in
/// turn with the first pages of the same listing asked for at the same time.
async fn frozen(
    model: &ReadModel,
    snapshots: &Snapshots,
    sort: Sort,
    filter: &ProjectFilter,
    from: Option<(i64, i64)>,
) -> mongodb::error::Result<Arc<Snapshot>> {
    let key = format!(
        "{}\u{1e}{}\u{1e}{}\u{1e}{from:?}",
        model.generation,
        sort.key(),
        filter.fingerprint()
    );
    snapshots
        .in_turn(key, || freeze(model, snapshots, sort, filter, from))
        .await
}

/// Freezes the ranking of `sort` after `from` (from the top when `None`).
async fn freeze(
    model: &ReadModel,
    snapshots: &Snapshots,
    sort: Sort,
    filter: &ProjectFilter,
    from: Option<(i64, i64)>,
) -> mongodb::error::Result<Arc<Snapshot>> {
    let max = snapshots.config().max_per_snapshot.max(1);
    let docs = ranking(sort, filter, from, max)
        .run(&model.projects.clone_with_type::<Document>())
        .await?;
    let complete = docs.len() <= max;
    let entries: Vec<Entry> = docs
        .iter()
        .take(max)
        .filter_map(|d| {
            Some(Entry {
                id: Uuid::try_parse(d.get_str(field::ID).ok()?).ok()?,
                key: bson_i64(d.get(sort.key())),
                created_seq: bson_i64(d.get(field::CREATED_SEQ)),
            })
        })
        .collect();
    Ok(Arc::new(Snapshot::new(
        sort,
        filter.fingerprint(),
        entries,
        complete,
    )))
}

async fn ranked_page(
    model: &ReadModel,
    snapshots: &Snapshots,
    sort: Sort,
    filter: &ProjectFilter,
    cursor: Option<Cursor>,
    limit: i64,
    reader: Option<&str>,
) -> mongodb::error::Result<Page> {
    let fingerprint = filter.fingerprint();
    let (snapshot, start, fresh) = match cursor {
        None => (frozen(model, snapshots, sort, filter, None).await?, 0, true),
        Some(cursor) => {
            let kept = cursor.r.and_then(|id| snapshots.get(id)).filter(|s| {
                s.sort == sort
                    && s.filter == fingerprint
                    && (cursor.i < s.entries.len() || s.complete)
            });
            match kept {
                Some(snapshot) => {
                    let start = cursor.i.min(snapshot.entries.len());
                    (snapshot, start, false)
                }
                // Gone, or used up while the listing goes on: freeze what
                // follows the last project shown.
                None => {
                    let from = Some((cursor.k, cursor.s));
                    (frozen(model, snapshots, sort, filter, from).await?, 0, true)
                }
            }
        }
    };
    let wanted = usize::try_from(limit).unwrap_or(0);
    let entries = &snapshot.entries;
    let mut items = Vec::with_capacity(wanted);
    let mut next = start;
    let mut rounds = 0;
    while items.len() < wanted && next < entries.len() && rounds < MAX_ROUNDS {
        rounds += 1;
        let end = entries.len().min(next + (wanted - items.len()));
        let ids: Vec<Uuid> = entries[next..end].iter().map(|e| e.id).collect();
        let docs = by_ids(filter, &ids).run(&model.projects).await?;
        let mut found: HashMap<String, ProjectDoc> = visible(model, reader, docs)
            .await?
            .into_iter()
            .map(|d| (d.project_id.clone(), d))
            .collect();
        for id in &ids {
            if let Some(doc) = found.remove(&id.to_string()) {
                items.push(doc);
            }
        }
        next = end;
    }
    // Kept only when a later page will read it: a listing that fits on one
    // page (or a polled first page of one) does not churn the cache.
    if fresh && next < entries.len() {
        snapshots.keep(snapshot.clone());
    }
    let more = next < entries.len() || !snapshot.complete;
    let next = match (more, next.checked_sub(1).and_then(|i| entries.get(i))) {
        (true, Some(last)) => Some(Cursor {
            o: sort,
            f: fingerprint,
            s: last.created_seq,
            k: last.key,
            r: Some(snapshot.id),
            i: next,
        }),
        _ => None,
    };
    Ok(Page { items, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_is_flat_and_its_fingerprint_ignores_order() {
        let a = ProjectFilter {
            tags: vec!["clown".into(), "circus".into()],
            terms: vec!["perf".into()],
            any_tags: Vec::new(),
        };
        assert_eq!(
            a.document(),
            doc! {"tags": {"$all": ["clown", "circus"]}, "search_prefixes": {"$all": ["perf"]}}
        );
        let b = ProjectFilter {
            tags: vec!["circus".into(), "clown".into()],
            terms: vec!["perf".into()],
            any_tags: Vec::new(),
        };
        assert_eq!(a.fingerprint(), b.fingerprint());
        let c = ProjectFilter {
            tags: vec!["circus".into()],
            terms: vec!["clown".into(), "perf".into()],
            any_tags: Vec::new(),
        };
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(ProjectFilter::default().document(), doc! {});
    }

    #[test]
    fn ranked_pages_continue_after_both_keys() {
        assert_eq!(
            after(Sort::Top, 3, 40),
            doc! {"$or": [{"score": {"$lt": 3_i64}}, {"score": 3_i64, "created_seq": {"$lt": 40_i64}}]}
        );
        assert_eq!(
            after(Sort::New, 0, 40),
            doc! {"created_seq": {"$lt": 40_i64}}
        );
        let q = ranking(Sort::Active, &ProjectFilter::default(), None, 10);
        assert_eq!(q.limit, Some(11));
        assert_eq!(
            q.sort,
            Some(doc! {"last_activity_seq": -1, "created_seq": -1})
        );
    }
}
