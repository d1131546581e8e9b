use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{patch, post, put},
};
use flow_domain::{
    ProjectId, ThreadId,
    project::{
        self, ChangeProject, ChangeProjectRequest, ChangeTags, ChangeTagsRequest, NameClaim,
        Project, ProposeProject, ProposeProjectRequest, Renaming,
    },
};
use flow_http::auth::Authenticated;
use flow_http::{ApiError, JsonBody, JsonWithBytes};

use super::schema;
use crate::{
    AppState,
    idempotency::Keyed,
    write::{Load, Request, Write, Written, execute, idempotent, path_id, token},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/propose", post(propose))
        .route("/projects/{project_id}", patch(change))
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
    // Decided on the claim of the name (free, or released by a rename); the
    // project's and threads' subjects are new.
    let subject = state.store.subjects().name(&cmd.project_name.unique_key());
    let write = Write::<NameClaim>::new(subject, Load::Fold, &actor);
    let (state, actor) = (&state, &actor);
    let request = Request::new(actor, &headers, "POST /projects/propose", &body.bytes);
    idempotent(&state.idempotency, request, |keyed| async move {
        let keyed = keyed.as_ref();
        let project_id = keyed.map_or_else(ProjectId::new, Keyed::project_id);
        let decide = |claim: &Option<ProjectId>| {
            let mut started = 0;
            let thread_id = || {
                started += 1;
                keyed.map_or_else(ThreadId::new, |k| k.thread_id(started))
            };
            project::propose(claim, cmd.clone(), actor, project_id, thread_id)
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

/// Changes a project's name or tagline; proposer only.
#[utoipa::path(
    patch,
    path = "/projects/{project_id}",
    tag = "projects",
    params(("project_id" = String, Path, format = "uuid", description = "The project; an unknown or malformed id is 404.")),
    request_body = ChangeProjectRequest,
    responses(
        schema::WriteRefusals,
        (status = 200, description = "Stored (or nothing changed): a new name is claimed and the old one is free for others at once.", body = schema::ProjectChanged, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 403, description = "Only the proposer may change a project.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new name is taken (ignoring case); or the project changed concurrently too often.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Field rules broken, each bad field named in `errors`: neither field given, or a field breaks the rules of a proposal.", body = schema::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
pub(crate) async fn change(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<ChangeProjectRequest>,
) -> Result<Written, ApiError> {
    let project_id = path_id(&project_id, "project", ProjectId::parse)?;
    let cmd = ChangeProject::parse(body)?;
    // Decided on the project and the claim of the new name, both checked at
    // the append: a name claimed meanwhile, or a concurrent change, is
    // decided again.
    let subjects = state.store.subjects();
    let mut write = Write::<Renaming>::new(subjects.project(project_id), Load::Fold, &actor);
    if let Some(name) = &cmd.project_name {
        write = write.also(subjects.name(&name.unique_key()));
    }
    let decide = |current: &_| project::change(current, &actor, &cmd);
    let (_, seq) = execute(&state.store, &write, None, decide).await?;
    Written::new(
        StatusCode::OK,
        schema::ProjectChanged {
            project_id,
            consistency_token: token(seq),
        },
    )
}
