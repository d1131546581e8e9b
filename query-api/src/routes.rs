//! The read API: listings and details, from the read documents only.

use axum::{
    Json, Router,
    extract::{Path, RawQuery, State},
    routing::get,
};
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{
    domain::{Errors, ProjectId, Tag, ThreadId, ThreadType},
    http::ApiError,
    readmodel::{ProjectDoc, ThreadDoc},
};

use crate::{AppState, params};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list_projects))
        .route("/projects/{project_id}", get(get_project))
        .route("/projects/{project_id}/threads", get(list_threads))
        .route("/threads/{thread_id}", get(get_thread))
}

fn internal(err: mongodb::error::Error) -> ApiError {
    ApiError::Unavailable(format!("MongoDB: {}", err.kind))
}

fn project_summary(p: &ProjectDoc) -> Value {
    json!({
        "project_id": p.project_id,
        "project_name": p.project_name,
        "tagline": p.tagline,
        "tags": p.tags,
        "created_at": p.created_at,
        "thread_count": p.thread_count,
        "problem_count": p.problem_count,
        "solution_count": p.solution_count,
    })
}

fn thread_json(t: &ThreadDoc) -> Value {
    let withheld = t.status == "rejected";
    json!({
        "thread_id": t.thread_id,
        "project_id": t.project_id,
        "parent_thread_id": t.parent_thread_id,
        "thread_type": t.thread_type,
        "message": if withheld { Value::Null } else { Value::String(t.message.clone()) },
        "message_withheld": withheld,
        "up_vote": t.up_vote,
        "down_vote": t.down_vote,
        "reply_count": t.reply_count,
        "status": t.status,
        "author": t.author,
        "created_at": t.created_at,
        "edited_at": t.edited_at,
    })
}

#[derive(Serialize, Deserialize)]
struct NewCursor {
    s: i64,
}

/// `GET /projects`: newest first, filtered by tags.
#[tracing::instrument(skip_all)]
async fn list_projects(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = params::pairs(query.as_deref())?;
    let mut errors = Errors::default();
    params::only_known(
        &pairs,
        &["limit", "cursor", "sort", "tag", "q"],
        &mut errors,
    );
    let limit = params::limit(params::single(&pairs, "limit", &mut errors), &mut errors);
    let cursor: Option<NewCursor> =
        params::decode_cursor(params::single(&pairs, "cursor", &mut errors), &mut errors);
    match params::single(&pairs, "sort", &mut errors) {
        None | Some("new") => {}
        Some(other) => errors.push(
            "sort",
            format!("`{other}` is not a sort order; expected new"),
        ),
    }
    let mut filters: Vec<Document> = Vec::new();
    for (i, (_, raw)) in pairs.iter().filter(|(k, _)| k == "tag").enumerate() {
        if let Some(tag) = errors.take(&format!("tag[{i}]"), Tag::parse(raw)) {
            filters.push(doc! {"tags": tag.as_str()});
        }
    }
    errors.into_result()?;
    if let Some(cursor) = cursor {
        filters.push(doc! {"created_seq": {"$lt": cursor.s}});
    }
    let filter = match filters.len() {
        0 => doc! {},
        1 => filters.remove(0),
        _ => doc! {"$and": filters},
    };
    let mut docs: Vec<ProjectDoc> = state
        .model()
        .projects
        .find(filter)
        .sort(doc! {"created_seq": -1})
        .limit(limit + 1)
        .await
        .map_err(internal)?
        .try_collect()
        .await
        .map_err(internal)?;
    let next_cursor = if docs.len() as i64 > limit {
        docs.truncate(limit as usize);
        docs.last().map(|last| {
            params::encode_cursor(&NewCursor {
                s: last.created_seq,
            })
        })
    } else {
        None
    };
    Ok(Json(json!({
        "items": docs.iter().map(project_summary).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

/// `GET /projects/{id}`: the project with its proposer.
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
async fn get_project(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ProjectId::parse(&project_id).map_err(|_| ApiError::not_found("project"))?;
    let project = state
        .model()
        .projects
        .find_one(doc! {"_id": id.to_string()})
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found("project"))?;
    let mut body = project_summary(&project);
    body["proposer"] = Value::String(project.proposer);
    Ok(Json(body))
}

#[derive(Serialize, Deserialize)]
struct ThreadCursor {
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<i64>,
    s: i64,
}

/// `GET /projects/{id}/threads`: the project's top-level threads.
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
async fn list_threads(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
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
    let project_exists = state
        .model()
        .projects
        .clone_with_type::<Document>()
        .find_one(doc! {"_id": id.to_string()})
        .projection(doc! {"_id": 1})
        .await
        .map_err(internal)?
        .is_some();
    if !project_exists {
        return Err(ApiError::not_found("project"));
    }
    let mut filter = doc! {"project_id": id.to_string(), "parent_thread_id": null};
    if let Some(t) = thread_type {
        filter.insert("thread_type", t.as_str());
    }
    if let Some(c) = &cursor {
        match (top, c.score) {
            (true, Some(score)) => {
                filter.insert(
                    "$or",
                    vec![
                        doc! {"score": {"$lt": score}},
                        doc! {"score": score, "created_seq": {"$lt": c.s}},
                    ],
                );
            }
            _ => {
                filter.insert("created_seq", doc! {"$lt": c.s});
            }
        }
    }
    let sort = if top {
        doc! {"score": -1, "created_seq": -1}
    } else {
        doc! {"created_seq": -1}
    };
    let mut docs: Vec<ThreadDoc> = state
        .model()
        .threads
        .find(filter)
        .sort(sort)
        .limit(limit + 1)
        .await
        .map_err(internal)?
        .try_collect()
        .await
        .map_err(internal)?;
    let next_cursor = if docs.len() as i64 > limit {
        docs.truncate(limit as usize);
        docs.last().map(|last| {
            params::encode_cursor(&ThreadCursor {
                score: top.then_some(last.score),
                s: last.created_seq,
            })
        })
    } else {
        None
    };
    Ok(Json(json!({
        "items": docs.iter().map(thread_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

/// At most this many replies come with a thread, oldest first.
pub const MAX_REPLIES: i64 = 100;

/// `GET /threads/{id}`: the thread with its replies.
#[tracing::instrument(skip_all, fields(thread_id = %thread_id))]
async fn get_thread(
    State(state): State<AppState>,
    Path(thread_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ThreadId::parse(&thread_id).map_err(|_| ApiError::not_found("thread"))?;
    let thread = state
        .model()
        .threads
        .find_one(doc! {"_id": id.to_string()})
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found("thread"))?;
    let replies: Vec<ThreadDoc> = state
        .model()
        .threads
        .find(doc! {"parent_thread_id": id.to_string()})
        .sort(doc! {"created_seq": 1})
        .limit(MAX_REPLIES)
        .await
        .map_err(internal)?
        .try_collect()
        .await
        .map_err(internal)?;
    let mut body = thread_json(&thread);
    body["replies"] = Value::Array(replies.iter().map(thread_json).collect());
    Ok(Json(body))
}
