//! The thread reads: a project's top-level threads, a thread with its
//! replies and a thread's replies; and how threads look to their reader
//! (what is withheld, the reader's own votes), which every listing of
//! threads shares.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, RawQuery, State},
};
use flow_domain::{Actor, Direction, ModerationStatus, ProjectId, ThreadId, ThreadType};
use flow_http::{ApiError, Problem};
use flow_readmodel::{ReadModel, ThreadDoc, VoteDoc, field};
use mongodb::bson::{Bson, Document, doc};
use serde::{Deserialize, Serialize};

use crate::{
    AppState, docs, internal,
    listing::{Query, project_by_id},
    params,
    viewer::Viewer,
    views::{Reader, ThreadPage, ThreadView, ThreadWithReplies},
};

#[derive(Serialize, Deserialize)]
struct ThreadCursor {
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<i64>,
    s: i64,
}

/// A page of a project's top-level threads (`limit + 1`, to know whether more follow).
pub fn threads_query(
    project_id: ProjectId,
    thread_type: Option<ThreadType>,
    top: bool,
    after: Option<(Option<i64>, i64)>,
    limit: i64,
) -> Query {
    // `$eq` rather than a plain value on these scalar fields: the same on
    // MongoDB, and the local server then plans them with an index (a plain
    // value may be an array element there).
    let mut filter = doc! {
        field::PROJECT_ID: {"$eq": project_id.to_string()},
        field::PARENT_THREAD_ID: Bson::Null,
        field::STATUS: not_withdrawn(),
    };
    if let Some(t) = thread_type {
        filter.insert(field::THREAD_TYPE, doc! {"$eq": t.as_str()});
    }
    match after {
        Some((Some(score), s)) if top => {
            filter.insert(
                "$or",
                vec![
                    doc! {field::SCORE: {"$lt": score}},
                    doc! {field::SCORE: score, field::CREATED_SEQ: {"$lt": s}},
                ],
            );
        }
        Some((_, s)) => {
            filter.insert(field::CREATED_SEQ, doc! {"$lt": s});
        }
        None => {}
    }
    let sort = if top {
        doc! {field::SCORE: -1, field::CREATED_SEQ: -1}
    } else {
        doc! {field::CREATED_SEQ: -1}
    };
    Query {
        filter,
        sort: Some(sort),
        projection: None,
        limit: Some(limit + 1),
    }
}

/// Lists a project's top-level threads.
#[utoipa::path(
    get,
    path = "/projects/{project_id}/threads",
    tag = "threads",
    params(("project_id" = String, Path, format = "uuid", description = "The project; an unknown or malformed id is 404."), docs::ThreadsQuery, docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "A page of top-level threads.", body = ThreadPage,
            links(
                ("GetThread" = (operation_id = "get_thread", parameters(("thread_id" = "$response.body#/items/0/thread_id")), description = "The first thread listed, with its replies.")),
            )
        ),
        (status = 404, description = "No such project.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
pub(crate) async fn list_threads(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ThreadPage>, ApiError> {
    let id = ProjectId::parse(&project_id).map_err(|_| ApiError::not_found("project"))?;
    let (pairs, mut errors) =
        params::parse(query.as_deref(), &["limit", "cursor", "sort", "type"])?;
    let limit = params::limit(params::single(&pairs, "limit", &mut errors), &mut errors);
    let cursor: Option<ThreadCursor> =
        params::decode_cursor(params::single(&pairs, "cursor", &mut errors), &mut errors);
    let top = match params::single(&pairs, "sort", &mut errors) {
        None | Some("top") => true,
        Some("new") => false,
        Some(other) => {
            errors.push(
                "sort",
                format!("`{other}` is not a sort order; expected top or new"),
            );
            true
        }
    };
    let thread_type = params::single(&pairs, "type", &mut errors)
        .and_then(|t| errors.take("type", ThreadType::parse(t)));
    if top && cursor.as_ref().is_some_and(|c| c.score.is_none()) {
        errors.push("cursor", "the cursor is not one this listing gave out");
    }
    errors.into_result()?;
    let model = state.model();
    let project_exists = !project_by_id(id)
        .run(&model.projects.clone_with_type::<Document>())
        .await
        .map_err(internal)?
        .is_empty();
    if !project_exists {
        return Err(ApiError::not_found("project"));
    }
    let after = cursor.as_ref().map(|c| (c.score, c.s));
    let mut docs: Vec<ThreadDoc> = threads_query(id, thread_type, top, after, limit)
        .run(&model.threads)
        .await
        .map_err(internal)?;
    let next_cursor = if docs.len() as i64 > limit {
        docs.truncate(usize::try_from(limit).unwrap_or(0));
        docs.last().map(|last| {
            params::encode_cursor(&ThreadCursor {
                score: top.then_some(last.score),
                s: last.created_seq,
            })
        })
    } else {
        None
    };
    Ok(Json(ThreadPage {
        items: thread_views(&model, viewer.actor(), &docs).await?,
        next_cursor,
    }))
}

/// The filter on `status` of every listing: withdrawn threads leave them.
pub fn not_withdrawn() -> Document {
    doc! {"$ne": ModerationStatus::Withdrawn.as_str()}
}

/// The votes of `user` on the given threads: one `find` by key for a page.
pub fn votes_query(user: &str, thread_ids: &[&str]) -> Query {
    let ids: Vec<String> = thread_ids.iter().map(|t| VoteDoc::id(t, user)).collect();
    Query {
        filter: doc! {field::ID: {"$in": ids}},
        sort: None,
        projection: None,
        limit: None,
    }
}

/// The threads as `actor` may see them, with their votes on them.
pub(crate) async fn thread_views(
    model: &ReadModel,
    actor: Option<&Actor>,
    docs: &[ThreadDoc],
) -> Result<Vec<ThreadView>, ApiError> {
    let votes: HashMap<String, Direction> = match actor {
        Some(actor) if !docs.is_empty() => {
            let ids: Vec<&str> = docs.iter().map(|d| d.thread_id.as_str()).collect();
            votes_query(actor.user_id.as_str(), &ids)
                .run(&model.votes)
                .await
                .map_err(internal)?
                .into_iter()
                // The key names the voter; the field is checked all the same.
                .filter(|v| v.voter == actor.user_id.as_str())
                .map(|v| (v.thread_id, v.direction))
                .collect()
        }
        _ => HashMap::new(),
    };
    let reader = Reader { actor };
    Ok(docs
        .iter()
        .map(|d| reader.view(d, votes.get(&d.thread_id).copied()))
        .collect())
}

/// At most this many replies come with a thread, oldest first.
pub const MAX_REPLIES: i64 = 100;

pub fn replies_query(thread_id: ThreadId) -> Query {
    replies_page_query(thread_id, None, MAX_REPLIES - 1)
}

/// A page of a thread's replies, oldest first, after the reply created at
/// `after` (`limit + 1`, to know whether more follow). A reply's
/// `created_seq` is the stream sequence of its own event: unique.
pub fn replies_page_query(thread_id: ThreadId, after: Option<i64>, limit: i64) -> Query {
    let mut filter = doc! {
        field::PARENT_THREAD_ID: {"$eq": thread_id.to_string()},
        field::STATUS: not_withdrawn(),
    };
    if let Some(s) = after {
        filter.insert(field::CREATED_SEQ, doc! {"$gt": s});
    }
    Query {
        filter,
        sort: Some(doc! {field::CREATED_SEQ: 1}),
        projection: None,
        limit: Some(limit + 1),
    }
}

/// A thread, with its replies.
#[utoipa::path(
    get,
    path = "/threads/{thread_id}",
    tag = "threads",
    params(("thread_id" = String, Path, format = "uuid", description = "The thread; an unknown or malformed id is 404."), docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "The thread and its replies, oldest first (at most 100).", body = ThreadWithReplies),
        (status = 404, description = "No such thread.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(thread_id = %thread_id))]
pub(crate) async fn get_thread(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(thread_id): Path<String>,
) -> Result<Json<ThreadWithReplies>, ApiError> {
    let id = ThreadId::parse(&thread_id).map_err(|_| ApiError::not_found("thread"))?;
    let model = state.model();
    // Both at once: one round trip to the store, not two.
    let (thread, replies) = tokio::join!(
        model.threads.find_one(doc! {field::ID: id.to_string()}),
        replies_query(id).run(&model.threads)
    );
    let thread = thread
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found("thread"))?;
    let mut docs: Vec<ThreadDoc> = replies.map_err(internal)?;
    docs.insert(0, thread);
    let mut views = thread_views(&model, viewer.actor(), &docs)
        .await?
        .into_iter();
    let thread = views.next().ok_or_else(|| ApiError::not_found("thread"))?;
    Ok(Json(ThreadWithReplies {
        thread,
        replies: views.collect(),
    }))
}

/// Lists a thread's replies, oldest first: paging reaches every one.
///
/// Withdrawn replies are left out. Replies that arrive while paging come
/// after the ones already shown: paging neither repeats nor skips one.
#[utoipa::path(
    get,
    path = "/threads/{thread_id}/replies",
    tag = "threads",
    params(("thread_id" = String, Path, format = "uuid", description = "The thread; an unknown or malformed id is 404."), docs::PagingQuery, docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "A page of replies, oldest first.", body = ThreadPage),
        (status = 404, description = "No such thread.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(thread_id = %thread_id))]
pub(crate) async fn list_replies(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(thread_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ThreadPage>, ApiError> {
    let id = ThreadId::parse(&thread_id).map_err(|_| ApiError::not_found("thread"))?;
    let listing = format!("replies {id}");
    let (limit, cursor) = params::keyset_paging(query.as_deref(), &listing)?;
    let model = state.model();
    let threads = model.threads.clone_with_type::<Document>();
    let (thread, replies) = tokio::join!(
        threads
            .find_one(doc! {field::ID: id.to_string()})
            .projection(doc! {field::ID: 1}),
        replies_page_query(id, cursor.map(|c| c.s), limit).run(&model.threads)
    );
    if thread.map_err(internal)?.is_none() {
        return Err(ApiError::not_found("thread"));
    }
    let (docs, next_cursor) =
        params::split_page(replies.map_err(internal)?, limit, &listing, |t| {
            (t.created_seq, None)
        });
    Ok(Json(ThreadPage {
        items: thread_views(&model, viewer.actor(), &docs).await?,
        next_cursor,
    }))
}
