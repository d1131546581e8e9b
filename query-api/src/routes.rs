//! The read API: listings and details, from the read documents only.

use axum::{
    Json, Router,
    extract::{Path, RawQuery, State},
    routing::get,
};
use std::collections::HashMap;

use flow_domain::{
    Actor, Direction, Errors, ModerationStatus, ProjectId, Tag, ThreadId, ThreadType,
};
use flow_http::{ApiError, Problem};
use flow_readmodel::{
    PROJECTS, ProjectDoc, ReadModel, TAGS, THREADS, TagDoc, ThreadDoc, VOTES, VoteDoc, field,
};
use mongodb::bson::{Bson, Document, doc};
use serde::{Deserialize, Serialize};

use crate::{
    AppState, docs,
    listing::{self, Cursor, ProjectFilter, Query, Sort},
    params,
    viewer::Viewer,
    views::{
        ProjectDetail, ProjectPage, ProjectSummary, Reader, TagCount, ThreadPage, ThreadView,
        ThreadWithReplies,
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list_projects))
        .route("/projects/{project_id}", get(get_project))
        .route("/projects/{project_id}/threads", get(list_threads))
        .route("/threads/{thread_id}", get(get_thread))
        .route("/threads/{thread_id}/replies", get(list_replies))
        .route("/tags", get(list_tags))
}

pub(crate) fn internal(err: mongodb::error::Error) -> ApiError {
    ApiError::Unavailable(format!("MongoDB: {}", err.kind))
}

/// Lists projects: newest, most voted or most active first.
///
/// Filtered by tags (all must match) and a search over names and taglines.
/// Paging with `next_cursor` never repeats a project and never leaves out one
/// that existed when the first page was read, while projects and votes arrive.
// How: see `crate::listing`.
#[utoipa::path(
    get,
    path = "/projects",
    tag = "projects",
    params(docs::ProjectsQuery, docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "A page of projects.", body = ProjectPage,
            links(
                ("GetProject" = (operation_id = "get_project", parameters(("project_id" = "$response.body#/items/0/project_id")), description = "The first project listed.")),
                ("ListThreads" = (operation_id = "list_threads", parameters(("project_id" = "$response.body#/items/0/project_id")), description = "The threads of the first project listed.")),
            )
        ),
        (status = 422, description = "Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_projects(
    viewer: Viewer,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ProjectPage>, ApiError> {
    let pairs = params::pairs(query.as_deref())?;
    let mut errors = Errors::default();
    params::only_known(
        &pairs,
        &["limit", "cursor", "sort", "tag", "q"],
        &mut errors,
    );
    let limit = params::limit(params::single(&pairs, "limit", &mut errors), &mut errors);
    let cursor: Option<Cursor> =
        params::decode_cursor(params::single(&pairs, "cursor", &mut errors), &mut errors);
    let sort = params::single(&pairs, "sort", &mut errors)
        .map_or(Some(Sort::New), |raw| errors.take("sort", Sort::parse(raw)))
        .unwrap_or(Sort::New);
    let mut filter = ProjectFilter::default();
    for (i, (_, raw)) in pairs.iter().filter(|(k, _)| k == "tag").enumerate() {
        if let Some(tag) = errors.take(&format!("tag[{i}]"), Tag::parse(raw))
            && !filter.tags.iter().any(|t| t == tag.as_str())
        {
            filter.tags.push(tag.as_str().to_owned());
        }
    }
    if filter.tags.len() > Tag::MAX_PER_PROJECT {
        errors.push(
            "tag",
            format!(
                "at most {} tags (no project has more)",
                Tag::MAX_PER_PROJECT
            ),
        );
    }
    filter.terms = params::search(params::single(&pairs, "q", &mut errors), &mut errors);
    if let Some(c) = &cursor
        && errors.is_empty()
        && (c.o != sort || c.f != filter.fingerprint())
    {
        errors.push(
            "cursor",
            "the cursor belongs to another listing: give the same sort, tag and q as for the first page",
        );
    }
    errors.into_result()?;
    let page = listing::page(
        &state.model(),
        &state.snapshots,
        sort,
        &filter,
        cursor,
        limit,
        viewer.actor().map(|a| a.user_id.as_str()),
    )
    .await
    .map_err(internal)?;
    Ok(Json(ProjectPage {
        items: page.items.iter().map(ProjectSummary::from).collect(),
        next_cursor: page.next.as_ref().map(params::encode_cursor),
    }))
}

/// A project, with its proposer.
#[utoipa::path(
    get,
    path = "/projects/{project_id}",
    tag = "projects",
    params(("project_id" = String, Path, format = "uuid", description = "The project; an unknown or malformed id is 404."), docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "The project.", body = ProjectDetail),
        (status = 404, description = "No such project.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
pub(crate) async fn get_project(
    _viewer: Viewer,
    State(state): State<AppState>,
    Path(project_id): Path<String>,
) -> Result<Json<ProjectDetail>, ApiError> {
    let id = ProjectId::parse(&project_id).map_err(|_| ApiError::not_found("project"))?;
    let project: ProjectDoc = project_by_id(id)
        .run(&state.model().projects)
        .await
        .map_err(internal)?
        .pop()
        .ok_or_else(|| ApiError::not_found("project"))?;
    Ok(Json(ProjectDetail::from(&project)))
}

pub fn project_by_id(id: ProjectId) -> Query {
    Query {
        filter: doc! {field::ID: id.to_string()},
        sort: None,
        projection: Some(listing::summary_projection()),
        limit: Some(1),
    }
}

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
    let pairs = params::pairs(query.as_deref())?;
    let mut errors = Errors::default();
    params::only_known(&pairs, &["limit", "cursor", "sort", "type"], &mut errors);
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
    let pairs = params::pairs(query.as_deref())?;
    let mut errors = Errors::default();
    params::only_known(&pairs, &["limit", "cursor"], &mut errors);
    let limit = params::limit(params::single(&pairs, "limit", &mut errors), &mut errors);
    let cursor = params::key_cursor(
        params::single(&pairs, "cursor", &mut errors),
        &listing,
        &mut errors,
    );
    errors.into_result()?;
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

/// Every tag in use, most used first (ties by name).
pub fn tags_query(limit: Option<i64>) -> Query {
    Query {
        filter: doc! {field::PROJECT_COUNT: {"$gt": 0}},
        sort: Some(doc! {field::PROJECT_COUNT: -1, field::TAG: 1}),
        projection: None,
        limit,
    }
}

/// Every tag with the number of projects carrying it, most used first.
#[utoipa::path(
    get,
    path = "/tags",
    tag = "projects",
    params(docs::TagsQuery, docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "Every tag carried by at least one project, most used first; ties by name.", body = Vec<TagCount>),
        (status = 422, description = "Bad parameters, each named in `errors`: `limit` out of its range, given twice, or an unknown parameter.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_tags(
    _viewer: Viewer,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<TagCount>>, ApiError> {
    let pairs = params::pairs(query.as_deref())?;
    let mut errors = Errors::default();
    params::only_known(&pairs, &["limit"], &mut errors);
    let limit = params::tags_limit(params::single(&pairs, "limit", &mut errors), &mut errors);
    errors.into_result()?;
    let tags: Vec<TagDoc> = tags_query(limit)
        .run(&state.model().tags)
        .await
        .map_err(internal)?;
    Ok(Json(tags.iter().map(TagCount::from).collect()))
}

/// The query shapes of these routes, with the base name of each one's
/// collection (see [`crate::shapes`]).
pub fn query_shapes() -> Vec<(String, &'static str, Query)> {
    let project = ProjectId::new();
    let tag = ProjectFilter {
        tags: vec!["circus".into()],
        terms: Vec::new(),
        any_tags: Vec::new(),
    };
    let tags_and_search = ProjectFilter {
        tags: vec!["circus".into(), "clown".into()],
        terms: vec!["perf".into()],
        any_tags: Vec::new(),
    };
    let search = ProjectFilter {
        tags: Vec::new(),
        terms: vec!["perf".into(), "wolf".into()],
        any_tags: Vec::new(),
    };
    let none = ProjectFilter::default();
    let mut shapes = Vec::new();
    for (name, filter) in [
        ("", &none),
        (" tag", &tag),
        (" q", &search),
        (" tags+q", &tags_and_search),
    ] {
        shapes.push((
            format!("projects new{name}"),
            PROJECTS,
            listing::newest(filter, None, 20),
        ));
        shapes.push((
            format!("projects new{name} next page"),
            PROJECTS,
            listing::newest(filter, Some(1_000), 20),
        ));
        for sort in [Sort::Top, Sort::Active] {
            shapes.push((
                format!("projects {sort:?}{name} ranking"),
                PROJECTS,
                listing::ranking(sort, filter, None, 5_000),
            ));
            shapes.push((
                format!("projects {sort:?}{name} ranking after a key"),
                PROJECTS,
                listing::ranking(sort, filter, Some((3, 1_000)), 5_000),
            ));
        }
        shapes.push((
            format!("projects{name} page of a frozen ranking"),
            PROJECTS,
            listing::by_ids(filter, &[uuid::Uuid::now_v7(), uuid::Uuid::now_v7()]),
        ));
    }
    shapes.push(("project detail".into(), PROJECTS, project_by_id(project)));
    for (name, top, after) in [
        ("threads top", true, None),
        ("threads top next page", true, Some((Some(2), 1_000))),
        ("threads new", false, None),
        ("threads new next page", false, Some((None, 1_000))),
    ] {
        shapes.push((
            name.to_owned(),
            THREADS,
            threads_query(project, None, top, after, 20),
        ));
    }
    shapes.push((
        "threads of a type".into(),
        THREADS,
        threads_query(project, Some(ThreadType::Problem), true, None, 20),
    ));
    shapes.push(("replies".into(), THREADS, replies_query(ThreadId::new())));
    shapes.push((
        "replies next page".into(),
        THREADS,
        replies_page_query(ThreadId::new(), Some(1_000), 20),
    ));
    shapes.push((
        "votes of a page".into(),
        VOTES,
        votes_query(
            "alice",
            &[&ThreadId::new().to_string(), &ThreadId::new().to_string()],
        ),
    ));
    shapes.push(("tags".into(), TAGS, tags_query(None)));
    shapes
}
