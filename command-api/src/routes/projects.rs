use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{post, put},
};
use flow_domain::{
    ProjectId, ThreadId,
    project::{
        self, ChangeTags, ChangeTagsRequest, Project, ProposeProject, ProposeProjectRequest,
    },
};
use flow_http::auth::Authenticated;
use flow_http::{ApiError, JsonBody, JsonWithBytes};

use super::schema;
use crate::{
    AppState,
    idempotency::Keyed,
    write::{Load, OnClash, Request, Write, Written, execute, idempotent, path_id, token},
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
    params(schema::IdempotencyKey),
    request_body = ProposeProjectRequest,
    responses(
        schema::KeyedWriteRefusals,
        (status = 201, description = "Stored: the name claim, the project and its threads, all or nothing. A repeat with the same `Idempotency-Key` gets this answer again.", body = schema::Proposed, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`.")),
            links(
                ("ChangeTags" = (operation_id = "change_tags", parameters(("project_id" = "$response.body#/project_id")), description = "The proposer changes the project's tags.")),
                ("StartThread" = (operation_id = "start_thread", parameters(("project_id" = "$response.body#/project_id")), description = "A thread on the project.")),
            )
        ),
        (status = 409, description = "The name is taken (ignoring case); or a request with this `Idempotency-Key` is still in progress (`/problems/in-progress`, with `Retry-After`).", body = schema::Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before repeating the request (in progress only)."))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn propose(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonWithBytes<ProposeProjectRequest>,
) -> Result<Response, ApiError> {
    let cmd = ProposeProject::parse(body.value)?;
    // Every subject of a proposal is new: the name claim's above all, so a
    // taken name refuses the whole batch.
    let write = Write::<Project> {
        on_clash: OnClash::Refuse(
            "a project with this name already exists (names are compared ignoring case)",
        ),
        ..Write::new(
            state.store.subjects().name(&cmd.project_name.unique_key()),
            Load::New,
            &actor,
        )
    };
    let (state, actor) = (&state, &actor);
    let request = Request::new(actor, &headers, "POST /projects/propose", &body.bytes);
    idempotent(&state.idempotency, request, |keyed| async move {
        let keyed = keyed.as_ref();
        let project_id = keyed.map_or_else(ProjectId::new, Keyed::project_id);
        let decide = |_: &Option<Project>| {
            let mut started = 0;
            let thread_id = || {
                started += 1;
                keyed.map_or_else(ThreadId::new, |k| k.thread_id(started))
            };
            Ok(project::propose(cmd.clone(), actor, project_id, thread_id))
        };
        let (_, seq) = execute(&state.store, &write, keyed, decide).await?;
        let consistency_token = token(seq);
        Written::new(
            StatusCode::CREATED,
            schema::Proposed {
                project_id,
                consistency_token,
            },
        )
    })
    .await
}

/// Adds and removes tags; proposer only.
#[utoipa::path(
    put,
    path = "/projects/{project_id}/tags",
    tag = "projects",
    params(("project_id" = String, Path, format = "uuid", description = "The project; an unknown or malformed id is 404.")),
    request_body = ChangeTagsRequest,
    responses(
        schema::WriteRefusals,
        (status = 200, description = "The project's tags now.", body = schema::TagsChanged, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 403, description = "Only the proposer may change a project's tags.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The project changed concurrently too often; try again.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Field rules broken, each bad field named in `errors`: neither `add` nor `remove`, a bad tag, or more than 10 tags.", body = schema::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
pub(crate) async fn change_tags(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<ChangeTagsRequest>,
) -> Result<Written, ApiError> {
    let project_id = path_id(&project_id, "project", ProjectId::parse)?;
    let cmd = ChangeTags::parse(body)?;
    let subject = state.store.subjects().project(project_id);
    let write = Write::<Project>::new(subject, Load::Fold, &actor);
    let decide =
        |project: &Option<Project>| Ok(project::change_tags(project.as_ref(), &actor, &cmd)?.1);
    let (project, seq) = execute(&state.store, &write, None, decide).await?;
    let tags = project.map(|p| p.tags).unwrap_or_default();
    let consistency_token = token(seq);
    Written::new(
        StatusCode::OK,
        schema::TagsChanged {
            project_id,
            tags,
            consistency_token,
        },
    )
}
