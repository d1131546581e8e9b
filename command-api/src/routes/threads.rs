use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{patch, post, put},
};
use flow_domain::{
    Actor, Direction, ModerationStatus, ProjectId, ThreadId,
    project::Project,
    thread::{self, EditThreadRequest, ModerateRequest, StartThread, StartThreadRequest, Thread},
    vote::{self, VoteRequest},
};
use flow_http::auth::Authenticated;
use flow_http::{ApiError, JsonBody, JsonWithBytes};
use serde_json::json;

use super::{Attempt, Written, idempotent, openapi, path_id, with_retries};
use crate::{
    AppState, cache,
    store::{Pending, StoreError},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/threads", post(start_thread))
        .route("/threads/{thread_id}", patch(edit_thread))
        .route("/threads/{thread_id}/vote", put(vote))
        .route("/threads/{thread_id}/moderation", post(moderate))
}

impl AppState {
    /// A thread's creation: enough to know it exists and where it belongs
    /// (kept in memory once known: it never changes).
    async fn thread_origin(&self, thread_id: ThreadId) -> Result<Option<Thread>, Attempt> {
        let origin = |project_id, author| Thread {
            id: thread_id,
            project_id,
            author,
            message: String::new(),
            status: ModerationStatus::Pending,
        };
        if let Some((project_id, author)) = self.thread_origins.get(&thread_id) {
            return Ok(Some(origin(project_id, author)));
        }
        let first = self
            .store
            .first(&self.store.subjects().thread(thread_id))
            .await?;
        let thread = first.and_then(|(envelope, _)| Thread::apply(None, &envelope.event));
        if let Some(thread) = &thread {
            self.thread_origins
                .insert(thread_id, (thread.project_id, thread.author.clone()));
        }
        Ok(thread.map(|t| origin(t.project_id, t.author)))
    }

    /// A user's current vote on a thread, with its subject's last sequence.
    async fn load_vote(&self, subject: &str) -> Result<(Direction, u64), Attempt> {
        let loaded = match self.store.last(subject).await? {
            Some((envelope, seq)) => (vote::apply(Direction::None, &envelope.event), seq),
            None => (Direction::None, 0),
        };
        self.votes.insert(cache::key_of(subject), loaded);
        Ok(loaded)
    }

    /// Decides a vote on `known` (a direction and its subject's sequence)
    /// and appends it. Unless `known` was just loaded, `None` means that
    /// memory cannot decide: it was stale (the append clashed) or it says
    /// nothing changes, which must not rest on memory alone (another
    /// instance may have recorded a vote since).
    async fn cast_vote(
        &self,
        ballot: &Ballot<'_>,
        known: (Direction, u64),
        loaded: bool,
    ) -> Result<Option<u64>, Attempt> {
        let (current, version) = known;
        let events = vote::cast(ballot.thread, current, ballot.actor, ballot.direction)?;
        if events.is_empty() {
            return Ok(loaded.then_some(version));
        }
        let key = cache::key_of(ballot.subject);
        match self
            .store
            .append(&pending(events, ballot.actor, Some(version)))
            .await
        {
            Ok(seq) => {
                self.votes.insert(key, (ballot.direction, seq));
                Ok(Some(seq))
            }
            Err(StoreError::Clash) if !loaded => {
                self.votes.remove(&key);
                Ok(None)
            }
            Err(err) => {
                self.votes.remove(&key);
                Err(err.into())
            }
        }
    }

    async fn thread(&self, thread_id: ThreadId) -> Result<(Option<Thread>, u64), Attempt> {
        let subject = self.store.subjects().thread(thread_id);
        Ok(self.store.load(&subject, None, Thread::apply).await?)
    }
}

fn pending(
    events: Vec<flow_domain::events::Event>,
    actor: &Actor,
    expect: Option<u64>,
) -> Vec<Pending> {
    Pending::all(events, actor.user_id.as_str(), expect, None)
}

/// Starts a thread (or a reply) on a project.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/threads",
    tag = "threads",
    params(("project_id" = String, Path, format = "uuid", description = "The project; an unknown or malformed id is 404."), openapi::IdempotencyKey),
    request_body = openapi::StartThreadBody,
    responses(
        openapi::KeyedWriteRefusals,
        (status = 201, description = "Stored; the thread starts `pending` moderation. A repeat with the same `Idempotency-Key` gets this answer again.", body = openapi::ThreadWritten, headers(("Consistency-Token" = openapi::ConsistencyToken, description = "The body's `consistency_token`.")),
            links(
                ("EditThread" = (operation_id = "edit_thread", parameters(("thread_id" = "$response.body#/thread_id")), description = "The author edits the thread.")),
                ("Vote" = (operation_id = "vote", parameters(("thread_id" = "$response.body#/thread_id")), description = "A vote on the thread.")),
                ("Moderate" = (operation_id = "moderate", parameters(("thread_id" = "$response.body#/thread_id")), description = "A moderator's decision on the thread.")),
            )
        ),
        (status = 404, description = "No such project.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this `Idempotency-Key` is still in progress (`/problems/in-progress`, with `Retry-After`); or the thread's subject changed concurrently too often.", body = openapi::Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before repeating the request (in progress only)."))),
        (status = 422, description = "Field rules broken, each bad field named in `errors` (a reply's parent must be a thread of the same project); or the `Idempotency-Key` was used for another request.", body = openapi::Problem, content_type = "application/problem+json"),
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
    idempotent(
        &state.idempotency,
        actor,
        &headers,
        &route,
        &body.bytes,
        |keyed| async move {
            let keyed = keyed.as_ref();
            with_retries(|| async {
                let project_subject = state.store.subjects().project(project_id);
                let project = state
                    .store
                    .first(&project_subject)
                    .await?
                    .and_then(|(envelope, _)| Project::apply(None, &envelope.event));
                let parent = match cmd.parent_thread_id {
                    Some(parent_id) => state.thread_origin(parent_id).await?,
                    None => None,
                };
                let thread_id = keyed.map_or_else(ThreadId::new, |k| k.thread_id(0));
                let events = thread::start(
                    project.as_ref(),
                    parent.as_ref(),
                    actor,
                    cmd.clone(),
                    thread_id,
                )?;
                let pending = Pending::all(events, actor.user_id.as_str(), Some(0), keyed);
                let seq = state.store.append_keyed(&pending, keyed).await?;
                Ok(Written::new(
                    StatusCode::CREATED,
                    json!({ "thread_id": thread_id }),
                    seq,
                )?)
            })
            .await
        },
    )
    .await
}

/// Edits a thread's message; author only. The thread goes back to moderation.
#[utoipa::path(
    patch,
    path = "/threads/{thread_id}",
    tag = "threads",
    params(("thread_id" = String, Path, format = "uuid", description = "The thread; an unknown or malformed id is 404.")),
    request_body = openapi::EditThreadBody,
    responses(
        openapi::WriteRefusals,
        (status = 200, description = "Stored; the thread goes back to `pending` moderation.", body = openapi::ThreadWritten, headers(("Consistency-Token" = openapi::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 403, description = "Only the author may edit a thread.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such thread.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The thread changed concurrently too often; try again.", body = openapi::Problem, content_type = "application/problem+json"),
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
    with_retries(|| async {
        let (thread, version) = state.thread(thread_id).await?;
        let events = thread::edit(thread.as_ref(), &actor, message.clone())?;
        let seq = state
            .store
            .append(&pending(events, &actor, Some(version)))
            .await?;
        Ok(Written::new(
            StatusCode::OK,
            json!({ "thread_id": thread_id }),
            seq,
        )?)
    })
    .await
}

/// Sets or withdraws the caller's vote.
// The vote's own subject, written with its expected last sequence, makes one
// vote per user and thread.
#[utoipa::path(
    put,
    path = "/threads/{thread_id}/vote",
    tag = "threads",
    params(("thread_id" = String, Path, format = "uuid", description = "The thread; an unknown or malformed id is 404.")),
    request_body = openapi::VoteBody,
    responses(
        openapi::WriteRefusals,
        (status = 200, description = "The caller's vote now; repeating a vote changes nothing.", body = openapi::Voted, headers(("Consistency-Token" = openapi::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 404, description = "No such thread.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's vote on this thread changed concurrently too often; try again.", body = openapi::Problem, content_type = "application/problem+json"),
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
    let thread = state.thread_origin(thread_id).await.map_err(|e| match e {
        Attempt::Api(e) => e,
        Attempt::Store(e) => e.into(),
    })?;
    let subject = state.store.subjects().vote(thread_id, &actor.user_id);
    let ballot = Ballot {
        thread: thread.as_ref(),
        actor: &actor,
        subject: &subject,
        direction,
    };
    with_retries(|| async {
        // What this instance remembers, or else no vote: most votes are a
        // user's first on a thread, and the append's expected sequence
        // refuses a wrong guess, so the common case costs one round trip.
        let remembered = state
            .votes
            .get(&cache::key_of(&subject))
            .unwrap_or((Direction::None, 0));
        let seq = match state.cast_vote(&ballot, remembered, false).await? {
            Some(seq) => seq,
            None => {
                let loaded = state.load_vote(&subject).await?;
                match state.cast_vote(&ballot, loaded, true).await? {
                    Some(seq) => seq,
                    None => loaded.1,
                }
            }
        };
        Ok(Written::new(
            StatusCode::OK,
            json!({ "thread_id": thread_id, "direction": direction }),
            seq,
        )?)
    })
    .await
}

/// One vote to decide: on which thread, by whom, on which subject, which way.
struct Ballot<'a> {
    thread: Option<&'a Thread>,
    actor: &'a Actor,
    subject: &'a str,
    direction: Direction,
}

/// A moderator's decision, overriding the automatic one.
#[utoipa::path(
    post,
    path = "/threads/{thread_id}/moderation",
    tag = "threads",
    params(("thread_id" = String, Path, format = "uuid", description = "The thread; an unknown or malformed id is 404."), openapi::IdempotencyKey),
    request_body = openapi::ModerateBody,
    responses(
        openapi::KeyedWriteRefusals,
        (status = 200, description = "The decision was stored. A repeat with the same `Idempotency-Key` gets this answer again.", body = openapi::Moderated, headers(("Consistency-Token" = openapi::ConsistencyToken, description = "The body's `consistency_token`."))),
        (status = 403, description = "Only moderators may moderate.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such thread.", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this `Idempotency-Key` is still in progress (`/problems/in-progress`, with `Retry-After`); or the thread changed concurrently too often.", body = openapi::Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before repeating the request (in progress only)."))),
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
    let (state, actor) = (&state, &actor);
    idempotent(
        &state.idempotency,
        actor,
        &headers,
        &route,
        &body.bytes,
        |keyed| async move {
            let keyed = keyed.as_ref();
            with_retries(|| async {
                let (thread, version) = state.thread(thread_id).await?;
                let events = thread::moderate(thread.as_ref(), actor, decision.clone())?;
                let pending = Pending::all(events, actor.user_id.as_str(), Some(version), keyed);
                let seq = state.store.append_keyed(&pending, keyed).await?;
                Ok(Written::new(
                    StatusCode::OK,
                    json!({ "thread_id": thread_id, "status": decision.status }),
                    seq,
                )?)
            })
            .await
        },
    )
    .await
}
