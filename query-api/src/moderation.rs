//! The moderation queues: `GET /moderation/threads` (moderators only).

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    routing::get,
};
use flow_domain::ModerationStatus;
use flow_http::{ApiError, Problem};
use flow_readmodel::{THREADS, ThreadDoc, field};
use mongodb::bson::doc;

use crate::{
    AppState, docs, internal, listing::Query, params, threads::thread_views, viewer::Moderator,
    views::ThreadPage,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/moderation/threads", get(queue))
}

/// A page of the threads in `status`, oldest first (by when they entered
/// it, then by id), after `(status_seq, thread_id)` (`limit + 1`).
pub fn queue_query(status: ModerationStatus, after: Option<(i64, String)>, limit: i64) -> Query {
    let mut filter = doc! {field::STATUS: {"$eq": status.as_str()}};
    if let Some((s, id)) = after {
        filter.insert(
            "$or",
            vec![
                doc! {field::STATUS_SEQ: {"$gt": s}},
                doc! {field::STATUS_SEQ: s, field::ID: {"$gt": id}},
            ],
        );
    }
    Query {
        filter,
        sort: Some(doc! {field::STATUS_SEQ: 1, field::ID: 1}),
        projection: None,
        limit: Some(limit + 1),
    }
}

/// The moderation queue: threads waiting for a decision (`pending`) or
/// rejected, oldest first, with their messages and reasons.
///
/// A decision moves a thread out of one queue and into the other (or out of
/// both when approved); an edited thread joins the end of the pending
/// queue. Paging neither repeats nor skips a thread that stays in the queue.
#[utoipa::path(
    get,
    path = "/moderation/threads",
    tag = "moderation",
    params(docs::QueueQuery, docs::ConsistencyTokenHeader),
    security(("bearer" = [])),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "A page of the queue, oldest first.", body = ThreadPage),
        (status = 403, description = "The caller lacks the `moderator` role.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn queue(
    Moderator(actor): Moderator,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ThreadPage>, ApiError> {
    let (pairs, mut errors) = params::parse(query.as_deref(), &["limit", "cursor", "status"])?;
    let limit = params::limit(params::single(&pairs, "limit", &mut errors), &mut errors);
    let status = match params::single(&pairs, "status", &mut errors) {
        None | Some("pending") => ModerationStatus::Pending,
        Some("rejected") => ModerationStatus::Rejected,
        Some(other) => {
            errors.push(
                "status",
                format!("`{other}` is not a queue; expected pending or rejected"),
            );
            ModerationStatus::Pending
        }
    };
    let listing = format!("moderation {}", status.as_str());
    let cursor = params::key_cursor(
        params::single(&pairs, "cursor", &mut errors),
        &listing,
        &mut errors,
    );
    if cursor.as_ref().is_some_and(|c| c.i.is_none()) {
        errors.push("cursor", "the cursor is not one this listing gave out");
    }
    errors.into_result()?;
    let model = state.model();
    let after = cursor.and_then(|c| Some((c.s, c.i?)));
    let docs: Vec<ThreadDoc> = queue_query(status, after, limit)
        .run(&model.threads)
        .await
        .map_err(internal)?;
    let (docs, next_cursor) = params::split_page(docs, limit, &listing, |t| {
        (t.status_seq, Some(t.thread_id.clone()))
    });
    Ok(Json(ThreadPage {
        items: thread_views(&model, Some(&actor), &docs).await?,
        next_cursor,
    }))
}

/// The query shapes of the queues, for the explain test.
pub fn query_shapes() -> Vec<(String, &'static str, Query)> {
    let mut shapes = Vec::new();
    for status in [ModerationStatus::Pending, ModerationStatus::Rejected] {
        shapes.push((
            format!("moderation {}", status.as_str()),
            THREADS,
            queue_query(status, None, 20),
        ));
        shapes.push((
            format!("moderation {} next page", status.as_str()),
            THREADS,
            queue_query(status, Some((1_000, uuid::Uuid::now_v7().to_string())), 20),
        ));
    }
    shapes
}
