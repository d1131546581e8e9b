use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{patch, post, put},
};
use flow_domain::{
    Aggregate, ModerationStatus, ProjectId, ThreadId,
    project::Project,
    thread::{self, EditThreadRequest, ModerateRequest, StartThread, StartThreadRequest, Thread},
    vote::{self, Vote, VoteRequest},
};
use flow_http::auth::Authenticated;
use flow_http::{ApiError, JsonBody, JsonWithBytes};

use super::schema;
use crate::{
    AppState,
    store::StoreError,
    write::{self, Load, Request, Write, Written, execute, idempotent, path_id},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/threads", post(start_thread))
        .route("/threads/{thread_id}", patch(edit_thread).delete(withdraw))
        .route("/threads/{thread_id}/vote", put(vote))
        .route("/threads/{thread_id}/moderation", post(moderate))
}

impl AppState {
    /// A thread as it stands now, for deciding replies and votes on it: its
    /// creation (where it belongs never changes, so it is kept in memory once
    /// known) and its status, which its last event says, kept in memory until
    /// a change is heard ([`crate::threads_now`]). Not its message.
    async fn thread_now(&self, thread_id: ThreadId) -> Result<Option<Thread>, StoreError> {
        if let Some(thread) = self.threads_now.get(&thread_id) {
            return Ok(Some(thread));
        }
        let stamp = self.threads_now.stamp();
        let now = self.read_thread_now(thread_id).await?;
        if let Some(thread) = &now {
            self.threads_now.keep(thread_id, thread.clone(), stamp);
        }
        Ok(now)
    }

    async fn read_thread_now(&self, thread_id: ThreadId) -> Result<Option<Thread>, StoreError> {
        let subject = self.store.subjects().thread(thread_id);
        let origin = match self.thread_origins.get(&thread_id) {
            Some(origin) => origin,
            None => {
                let Some(mut origin) = write::first::<Thread>(&self.store, &subject).await? else {
                    return Ok(None);
                };
                origin.message = String::new();
                self.thread_origins.insert(thread_id, origin.clone());
                origin
            }
        };
        Ok(match self.store.last(&subject).await? {
            Some((last, _)) => Thread::apply(Some(origin), &last.event).map(|mut thread| {
                thread.message = String::new();
                thread
            }),
            None => Some(origin),
        })
    }
}

/// Starts a thread (or a reply) on a project.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/threads",
    tag = "threads",
    params(("project_id" = String, Path, format = "uuid", description = "The project; an unknown or malformed id is 404."), schema::IdempotencyKey),
    request_body = StartThreadRequest,
    responses(
        schema::KeyedWriteRefusals,
        (status = 201, description = "Stored; the thread starts `pending` moderation. A repeat with the same `Idempotency-Key` gets this answer again.", body = schema::ThreadWritten, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`.")),
            links(
                ("EditThread" = (operation_id = "edit_thread", parameters(("thread_id" = "$response.body#/thread_id")), description = "The author edits the thread.")),
                ("Vote" = (operation_id = "vote", parameters(("thread_id" = "$response.body#/thread_id")), description = "A vote on the thread.")),
                ("Moderate" = (operation_id = "moderate", parameters(("thread_id" = "$response.body#/thread_id")), description = "A moderator's decision on the thread.")),
            )
        ),
        (status = 404, description = "No such project.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this `Idempotency-Key` is still in progress (`/problems/in-progress`, with `Retry-After`); or the thread's subject changed concurrently too often.", body = schema::Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before repeating the request (in progress only)."))),
        (status = 422, description = "Field rules broken, each bad field named in `errors` (a reply's parent must be a thread of the same project); or the `Idempotency-Key` was used for another request.", body = schema::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
pub(crate) async fn start_thread(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    Path(project_id): Path<String>,
    body: JsonWithBytes<StartThreadRequest>,
) -> Result<Response, ApiError> {
    let project_id = path_id(&project_id, "project", ProjectId::parse)?;
    let cmd = StartThread::parse(body.value)?;
    let route = format!("POST /projects/{project_id}/threads");
    let (state, actor) = (&state, &actor);
    let request = Request::new(actor, &headers, &route, &body.bytes);
    idempotent(&state.idempotency, request, |keyed| async move {
        // Where the thread goes: what the project and the parent were
        // created with never changes, so a clash need not load them again.
        let project_subject = state.store.subjects().project(project_id);
        let project = write::first::<Project>(&state.store, &project_subject).await?;
        let parent = match cmd.parent_thread_id {
            Some(parent_id) => state.thread_now(parent_id).await?,
            None => None,
        };
        let keyed = keyed.as_ref();
        let thread_id = keyed.map_or_else(ThreadId::new, |k| k.thread_id(0));
        let subject = state.store.subjects().thread(thread_id);
        let write = Write::<Thread>::new(subject, Load::New, actor);
        let decide = |_: &Option<Thread>| {
            let (project, parent) = (project.as_ref(), parent.as_ref());
            thread::start(project, parent, actor, cmd.clone(), thread_id)
        };
        let (_, seq) = execute(&state.store, &write, keyed, decide).await?;
        let consistency_token = write::token(seq);
        Written::new(
            StatusCode::CREATED,
            schema::ThreadWritten {
                thread_id,
                consistency_token,
            },
        )
    })
    .await
}

/// Edits a thread's message; author only. The thread goes back to moderation.
#[utoipa::path(
    patch,
    path = "/threads/{thread_id}",
    tag = "threads",
    params(("thread_id" = String, Path, format = "uuid", description = "The thread; an unknown or malformed id is 404.")),
    request_body = EditThreadRequest,
    responses(
        schema::WriteRefusals,
        (status = 200, description = "Stored; the thread goes back to `pending` moderation.", body = schema::ThreadWritten, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 403, description = "Only the author may edit a thread.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such thread.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The thread is withdrawn; or it changed concurrently too often.", body = schema::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(thread_id = %thread_id))]
pub(crate) async fn edit_thread(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(thread_id): Path<String>,
    JsonBody(body): JsonBody<EditThreadRequest>,
) -> Result<Written, ApiError> {
    let thread_id = path_id(&thread_id, "thread", ThreadId::parse)?;
    let message = body.parse()?;
    let subject = state.store.subjects().thread(thread_id);
    let write = Write::<Thread>::new(subject, Load::Fold, &actor);
    let decide = |thread: &Option<Thread>| thread::edit(thread.as_ref(), &actor, message.clone());
    let (_, seq) = execute(&state.store, &write, None, decide).await?;
    state.threads_now.forget(&thread_id);
    let consistency_token = write::token(seq);
    Written::new(
        StatusCode::OK,
        schema::ThreadWritten {
            thread_id,
            consistency_token,
        },
    )
}

/// Sets or withdraws the caller's vote.
// The vote's own subject, written with its expected last sequence, makes one
// vote per user and thread.
#[utoipa::path(
    put,
    path = "/threads/{thread_id}/vote",
    tag = "threads",
    params(("thread_id" = String, Path, format = "uuid", description = "The thread; an unknown or malformed id is 404.")),
    request_body = VoteRequest,
    responses(
        schema::WriteRefusals,
        (status = 200, description = "The caller's vote now; repeating a vote changes nothing.", body = schema::Voted, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 404, description = "No such thread.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's vote on this thread changed concurrently too often; try again.", body = schema::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(thread_id = %thread_id))]
pub(crate) async fn vote(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(thread_id): Path<String>,
    JsonBody(body): JsonBody<VoteRequest>,
) -> Result<Written, ApiError> {
    let thread_id = path_id(&thread_id, "thread", ThreadId::parse)?;
    let direction = body.parse()?;
    // A vote racing a withdrawal may still be appended after it: the read
    // model counts no vote on a withdrawn thread.
    let thread = state.thread_now(thread_id).await?;
    let subject = state.store.subjects().vote(thread_id, &actor.user_id);
    // What this instance remembers, or else no vote: see `Load::Remembered`.
    let write = Write::<Vote>::new(subject, Load::Remembered(&state.votes), &actor);
    let decide = |current: &_| vote::cast(thread.as_ref(), *current, &actor, direction);
    let (_, seq) = execute(&state.store, &write, None, decide).await?;
    let consistency_token = write::token(seq);
    Written::new(
        StatusCode::OK,
        schema::Voted {
            thread_id,
            direction,
            consistency_token,
        },
    )
}

/// A moderator's decision, overriding the automatic one.
#[utoipa::path(
    post,
    path = "/threads/{thread_id}/moderation",
    tag = "threads",
    params(("thread_id" = String, Path, format = "uuid", description = "The thread; an unknown or malformed id is 404."), schema::IdempotencyKey),
    request_body = ModerateRequest,
    responses(
        schema::KeyedWriteRefusals,
        (status = 200, description = "The decision was stored. A repeat with the same `Idempotency-Key` gets this answer again.", body = schema::Moderated, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 403, description = "Only moderators may moderate.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such thread.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this `Idempotency-Key` is still in progress (`/problems/in-progress`, with `Retry-After`); or the thread changed concurrently too often.", body = schema::Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before repeating the request (in progress only)."))),
    )
)]
#[tracing::instrument(skip_all, fields(thread_id = %thread_id))]
pub(crate) async fn moderate(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    Path(thread_id): Path<String>,
    body: JsonWithBytes<ModerateRequest>,
) -> Result<Response, ApiError> {
    let thread_id = path_id(&thread_id, "thread", ThreadId::parse)?;
    let decision = body.value.parse()?;
    let route = format!("POST /threads/{thread_id}/moderation");
    let subject = state.store.subjects().thread(thread_id);
    let write = Write::<Thread>::new(subject, Load::Fold, &actor);
    let (state, actor) = (&state, &actor);
    let request = Request::new(actor, &headers, &route, &body.bytes);
    idempotent(&state.idempotency, request, |keyed| async move {
        let decide =
            |thread: &Option<Thread>| thread::moderate(thread.as_ref(), actor, decision.clone());
        let (_, seq) = execute(&state.store, &write, keyed.as_ref(), decide).await?;
        state.threads_now.forget(&thread_id);
        let consistency_token = write::token(seq);
        Written::new(
            StatusCode::OK,
            schema::Moderated {
                thread_id,
                status: decision.status,
                consistency_token,
            },
        )
    })
    .await
}

/// Withdraws a thread; its author or a moderator. It leaves every listing and
/// count, and its votes leave its project's score.
#[utoipa::path(
    delete,
    path = "/threads/{thread_id}",
    tag = "threads",
    params(("thread_id" = String, Path, format = "uuid", description = "The thread; an unknown or malformed id is 404.")),
    responses(
        (status = 200, description = "Withdrawn (withdrawing again changes nothing).", body = schema::Withdrawn, headers(("Consistency-Token" = schema::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 401, description = "Missing or bad token.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the author or a moderator may withdraw a thread.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such thread.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The thread changed concurrently too often; try again.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes from this user: rate limited.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is unavailable, the request took too long, or too many requests are in flight.", body = schema::Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(thread_id = %thread_id))]
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(thread_id): Path<String>,
) -> Result<Written, ApiError> {
    let thread_id = path_id(&thread_id, "thread", ThreadId::parse)?;
    let subject = state.store.subjects().thread(thread_id);
    let write = Write::<Thread>::new(subject, Load::Fold, &actor);
    let decide = |thread: &Option<Thread>| thread::withdraw(thread.as_ref(), &actor);
    let (_, seq) = execute(&state.store, &write, None, decide).await?;
    // Heard on the subscription too; forgotten here at once for this
    // instance's next vote.
    state.threads_now.forget(&thread_id);
    Written::new(
        StatusCode::OK,
        schema::Withdrawn {
            thread_id,
            status: ModerationStatus::Withdrawn,
            consistency_token: write::token(seq),
        },
    )
}
