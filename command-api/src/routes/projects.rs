use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{post, put},
};
use serde_json::json;
use shared::{
    domain::{
        Actor, ProjectId, ThreadId,
        project::{
            self, ChangeTags, ChangeTagsRequest, Project, ProposeProject, ProposeProjectRequest,
        },
    },
    http::{ApiError, JsonBody, JsonWithBytes},
};

use super::{Attempt, Written, idempotent, path_id, with_retries};
use crate::{
    AppState,
    store::{Pending, StoreError},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/propose", post(propose))
        .route("/projects/{project_id}/tags", put(change_tags))
}

/// Proposes a project with its problem and solution threads, atomically.
#[tracing::instrument(skip_all)]
async fn propose(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: JsonWithBytes<ProposeProjectRequest>,
) -> Result<Response, ApiError> {
    let cmd = ProposeProject::parse(body.value)?;
    idempotent(
        &state.idempotency,
        &actor,
        &headers,
        "POST /projects/propose",
        &body.bytes,
        || async {
            let project_id = ProjectId::new();
            let actor_id = actor.user_id.as_str();
            // Every subject of a proposal is new: the name claim's above all, so a
            // taken name refuses the whole batch.
            let pending: Vec<Pending> = project::propose(cmd, &actor, project_id, ThreadId::new)
                .into_iter()
                .map(|event| Pending::new(event, actor_id, Some(0)))
                .collect();
            match state.store.append(&pending).await {
                Ok(seq) => Ok(Written::new(
                    StatusCode::CREATED,
                    json!({ "project_id": project_id }),
                    seq,
                )?
                .at(format!("/projects/{project_id}"))),
                Err(StoreError::Clash) => Err(ApiError::Conflict(
                    "a project with this name already exists (names are compared ignoring case)"
                        .into(),
                )),
                Err(other) => Err(other.into()),
            }
        },
    )
    .await
}

/// Adds and removes tags; proposer only.
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
async fn change_tags(
    State(state): State<AppState>,
    actor: Actor,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<ChangeTagsRequest>,
) -> Result<Written, ApiError> {
    let project_id = path_id(&project_id, "project", ProjectId::parse)?;
    let cmd = ChangeTags::parse(body)?;
    let subject = state.store.subjects().project(project_id);
    with_retries(|| async {
        let (project, version) = state.store.load(&subject, None, Project::apply).await?;
        let (tags, events) = project::change_tags(project.as_ref(), &actor, &cmd)?;
        let seq = match events.as_slice() {
            [] => version,
            _ => {
                let pending: Vec<Pending> = events
                    .into_iter()
                    .map(|e| Pending::new(e, actor.user_id.as_str(), Some(version)))
                    .collect();
                state.store.append(&pending).await?
            }
        };
        Written::new(
            StatusCode::OK,
            json!({ "project_id": project_id, "tags": tags }),
            seq,
        )
        .map_err(Attempt::Api)
    })
    .await
}
