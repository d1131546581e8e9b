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

use super::{Attempt, Written, idempotent, openapi, path_id, with_retries};
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
#[utoipa::path(
    post,
    path = "/projects/propose",
    tag = "projects",
    params(openapi::IdempotencyKey),
    request_body = openapi::ProposeBody,
    responses(
        (status = 201, description = "Stored: the name claim, the project and its threads, all or nothing.", body = openapi::Proposed, headers(("Consistency-Token" = String), ("Location" = String))),
        (status = 401, description = "Missing or bad token.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken (ignoring case).", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Field rules broken, each bad field named.", body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn propose(
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
#[utoipa::path(
    put,
    path = "/projects/{project_id}/tags",
    tag = "projects",
    params(("project_id" = String, Path, format = "uuid")),
    request_body = openapi::ChangeTagsBody,
    responses(
        (status = 200, description = "The project's tags now.", body = openapi::TagsChanged, headers(("Consistency-Token" = String))),
        (status = 401, description = "Missing or bad token.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the proposer may change a project's tags.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Field rules broken (at most 10 tags).", body = openapi::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
pub(crate) async fn change_tags(
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
