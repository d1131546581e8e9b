//! A user's own things: `GET /me/projects` and `GET /me/threads` (a token is
//! required: 401 without).

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    routing::get,
};
use flow_domain::ModerationStatus;
use flow_http::{ApiError, Problem, auth::Authenticated};
use flow_readmodel::{PROJECTS, THREADS, ThreadDoc, field};
use mongodb::bson::doc;

use crate::{
    AppState, docs, internal,
    listing::{Query, summary_projection},
    params,
    threads::{not_withdrawn, thread_views},
    views::{ProjectPage, ProjectSummary, ThreadPage},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/projects", get(my_projects))
        .route("/me/threads", get(my_threads))
}

/// A page of `user`'s projects, newest first, before the one created at
/// `before` (`limit + 1`). A project's `created_seq` is unique.
pub fn my_projects_query(user: &str, before: Option<i64>, limit: i64) -> Query {
    let mut filter = doc! {field::PROPOSER: {"$eq": user}};
    if let Some(s) = before {
        filter.insert(field::CREATED_SEQ, doc! {"$lt": s});
    }
    Query {
        filter,
        sort: Some(doc! {field::CREATED_SEQ: -1}),
        projection: Some(summary_projection()),
        limit: Some(limit + 1),
    }
}

/// A page of the threads and replies `user` wrote, newest first, in
/// `status` or any but withdrawn (`limit + 1`). A thread's `created_seq` is
/// the stream sequence of its own event: unique.
pub fn my_threads_query(
    user: &str,
    status: Option<ModerationStatus>,
    before: Option<i64>,
    limit: i64,
) -> Query {
    let mut filter = doc! {
        field::AUTHOR: {"$eq": user},
        field::STATUS: match status {
            Some(status) => doc! {"$eq": status.as_str()},
            None => not_withdrawn(),
        },
    };
    if let Some(s) = before {
        filter.insert(field::CREATED_SEQ, doc! {"$lt": s});
    }
    Query {
        filter,
        sort: Some(doc! {field::CREATED_SEQ: -1}),
        projection: None,
        limit: Some(limit + 1),
    }
}

/// The projects the caller proposed, newest first.
///
/// Paging with `next_cursor` neither repeats nor skips a project while
/// projects are proposed: new ones come before the first page.
#[utoipa::path(
    get,
    path = "/me/projects",
    tag = "me",
    params(docs::PagingQuery, docs::ConsistencyTokenHeader),
    security(("bearer" = [])),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "A page of the caller's projects, newest first.", body = ProjectPage),
        (status = 422, description = "Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn my_projects(
    Authenticated(actor): Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ProjectPage>, ApiError> {
    let user = actor.user_id.as_str();
    let listing = format!("me/projects {user}");
    let (limit, cursor) = params::keyset_paging(query.as_deref(), &listing)?;
    let docs = my_projects_query(user, cursor.map(|c| c.s), limit)
        .run(&state.model().projects)
        .await
        .map_err(internal)?;
    let (docs, next_cursor) = params::split_page(docs, limit, &listing, |p| (p.created_seq, None));
    Ok(Json(ProjectPage {
        items: docs.iter().map(ProjectSummary::from).collect(),
        next_cursor,
    }))
}

/// The threads and replies the caller wrote, newest first, with their
/// messages and moderation reasons.
///
/// In any status (or the one given); withdrawn ones are left out. Paging
/// neither repeats nor skips a thread while threads are started.
#[utoipa::path(
    get,
    path = "/me/threads",
    tag = "me",
    params(docs::MyThreadsQuery, docs::ConsistencyTokenHeader),
    security(("bearer" = [])),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "A page of the caller's threads and replies, newest first.", body = ThreadPage),
        (status = 422, description = "Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn my_threads(
    Authenticated(actor): Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ThreadPage>, ApiError> {
    let user = actor.user_id.as_str();
    let (pairs, mut errors) = params::parse(query.as_deref(), &["limit", "cursor", "status"])?;
    let limit = params::limit(params::single(&pairs, "limit", &mut errors), &mut errors);
    let status = params::single(&pairs, "status", &mut errors).and_then(|raw| {
        let parsed = match raw {
            "pending" => Ok(ModerationStatus::Pending),
            "approved" => Ok(ModerationStatus::Approved),
            "rejected" => Ok(ModerationStatus::Rejected),
            other => Err(format!(
                "`{other}` is not a status to list; expected pending, approved or rejected"
            )),
        };
        errors.take("status", parsed)
    });
    let listing = format!(
        "me/threads {user} {}",
        status.map_or("any", ModerationStatus::as_str)
    );
    let cursor = params::key_cursor(
        params::single(&pairs, "cursor", &mut errors),
        &listing,
        &mut errors,
    );
    errors.into_result()?;
    let model = state.model();
    let docs: Vec<ThreadDoc> = my_threads_query(user, status, cursor.map(|c| c.s), limit)
        .run(&model.threads)
        .await
        .map_err(internal)?;
    let (docs, next_cursor) = params::split_page(docs, limit, &listing, |t| (t.created_seq, None));
    Ok(Json(ThreadPage {
        items: thread_views(&model, Some(&actor), &docs).await?,
        next_cursor,
    }))
}

/// The query shapes of these listings, for the explain test.
pub fn query_shapes() -> Vec<(String, &'static str, Query)> {
    vec![
        (
            "my projects".into(),
            PROJECTS,
            my_projects_query("alice", None, 20),
        ),
        (
            "my projects next page".into(),
            PROJECTS,
            my_projects_query("alice", Some(1_000), 20),
        ),
        (
            "my threads".into(),
            THREADS,
            my_threads_query("alice", None, None, 20),
        ),
        (
            "my threads next page".into(),
            THREADS,
            my_threads_query("alice", None, Some(1_000), 20),
        ),
        (
            "my threads of a status".into(),
            THREADS,
            my_threads_query("alice", Some(ModerationStatus::Rejected), Some(1_000), 20),
        ),
    ]
}
