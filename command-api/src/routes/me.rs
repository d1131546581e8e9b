use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::put,
};
use flow_domain::{
    ProjectId,
    project::Project,
    user::{self, FollowTagsRequest, Following, Hidden, HideRequest},
};
use flow_http::auth::Authenticated;
use flow_http::{ApiError, JsonBody};

use super::schema;
use crate::{
    AppState,
    write::{self, Load, Write, Written, execute, path_id, token},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/hidden", put(hide))
        .route("/me/followed-tags", put(follow_tags))
}

/// Hides a project from the caller's own listings, or shows it again.
#[utoipa::path(
    put,
    path = "/projects/{project_id}/hidden",
    tag = "me",
    params(("project_id" = String, Path, format = "uuid", description = "The project; an unknown or malformed id is 404.")),
    request_body = HideRequest,
    responses(
        schema::WriteRefusals,
        (status = 200, description = "The caller's choice now; repeating it changes nothing.", body = schema::HiddenNow, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 404, description = "No such project.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's choice on this project changed concurrently too often; try again.", body = schema::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
pub(crate) async fn hide(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<HideRequest>,
) -> Result<Written, ApiError> {
    let project_id = path_id(&project_id, "project", ProjectId::parse)?;
    let hidden = body.parse()?;
    let project_subject = state.store.subjects().project(project_id);
    let project = write::first::<Project>(&state.store, &project_subject).await?;
    let subject = state.store.subjects().hidden(&actor.user_id, project_id);
    let write = Write::<Hidden>::new(subject, Load::Fold, &actor);
    let decide = |current: &bool| user::hide(project.as_ref(), *current, &actor, hidden);
    let (_, seq) = execute(&state.store, &write, None, decide).await?;
    Written::new(
        StatusCode::OK,
        schema::HiddenNow {
            project_id,
            hidden,
            consistency_token: token(seq),
        },
    )
}

/// Replaces the set of tags the caller follows.
#[utoipa::path(
    put,
    path = "/me/followed-tags",
    tag = "me",
    request_body = FollowTagsRequest,
    responses(
        schema::WriteRefusals,
        (status = 200, description = "The tags the caller follows now.", body = schema::TagsFollowed, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 409, description = "The caller's tags changed concurrently too often; try again.", body = schema::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn follow_tags(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    JsonBody(body): JsonBody<FollowTagsRequest>,
) -> Result<Written, ApiError> {
    let tags = body.parse()?;
    let subject = state.store.subjects().followed_tags(&actor.user_id);
    let write = Write::<Following>::new(subject, Load::Fold, &actor);
    let decide = |current: &Vec<_>| Ok(user::follow(current, &actor, tags.clone()));
    let (_, seq) = execute(&state.store, &write, None, decide).await?;
    Written::new(
        StatusCode::OK,
        schema::TagsFollowed {
            tags,
            consistency_token: token(seq),
        },
    )
}
