//! Personal discovery: a reader's followed tags, hidden projects, feed and
//! recommendations. Hidden projects are left out of each by key, run by
//! run, as in every listing ([`crate::listing`]): the hidden set is never
//! read whole.

use std::collections::HashSet;

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    routing::get,
};
use flow_http::{ApiError, Problem, auth::Authenticated};
use flow_readmodel::{ProjectDoc, ReadModel, field};
use mongodb::bson::{Document, doc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    AppState, docs, internal,
    listing::{self, MAX_ROUNDS, ProjectFilter, Query, summary_projection},
    params,
    sort::Sort,
    viewer::Viewer,
    views::{ProjectPage, ProjectSummary},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/followed-tags", get(followed_tags))
        .route("/me/hidden", get(hidden))
        .route("/me/feed", get(feed))
        .route("/recommendations", get(recommendations))
}

/// The tags a reader follows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowedTags {
    pub tags: Vec<String>,
}

/// A page of recommendations (no cursor: the best `limit`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recommendations {
    pub items: Vec<ProjectSummary>,
}

async fn followed(model: &ReadModel, user: &str) -> mongodb::error::Result<Vec<String>> {
    Ok(model
        .users
        .find_one(doc! {field::ID: user})
        .await?
        .map(|u| u.followed_tags)
        .unwrap_or_default())
}

/// The tags the caller follows.
#[utoipa::path(
    get,
    path = "/me/followed-tags",
    tag = "me",
    params(docs::ConsistencyTokenHeader),
    security(("bearer" = [])),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "The tags the caller follows (none at first).", body = FollowedTags),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn followed_tags(
    Authenticated(actor): Authenticated,
    State(state): State<AppState>,
) -> Result<Json<FollowedTags>, ApiError> {
    let tags = followed(&state.model(), actor.user_id.as_str())
        .await
        .map_err(internal)?;
    Ok(Json(FollowedTags { tags }))
}

/// A page of `user`'s hidden projects, most recently hidden first, before
/// the one hidden at `before` (`limit + 1`). `hidden_seq` is the unique
/// stream sequence of the hiding.
pub fn hidden_query(user: &str, before: Option<i64>, limit: i64) -> Query {
    let mut filter = doc! {field::USER: {"$eq": user}, field::HIDDEN: true};
    if let Some(s) = before {
        filter.insert(field::HIDDEN_SEQ, doc! {"$lt": s});
    }
    Query {
        filter,
        sort: Some(doc! {field::HIDDEN_SEQ: -1}),
        projection: Some(doc! {field::PROJECT_ID: 1, field::HIDDEN_SEQ: 1}),
        limit: Some(limit + 1),
    }
}

/// The projects the caller hid, most recently hidden first.
#[utoipa::path(
    get,
    path = "/me/hidden",
    tag = "me",
    params(docs::PagingQuery, docs::ConsistencyTokenHeader),
    security(("bearer" = [])),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "A page of the caller's hidden projects.", body = ProjectPage),
        (status = 422, description = "Bad parameters, each named in `errors`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn hidden(
    Authenticated(actor): Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ProjectPage>, ApiError> {
    let user = actor.user_id.as_str();
    let listing = format!("me/hidden {user}");
    let (limit, cursor) = params::keyset_paging(query.as_deref(), &listing)?;
    let model = state.model();
    let found = hidden_query(user, cursor.map(|c| c.s), limit)
        .run(&model.hidden.clone_with_type::<Document>())
        .await
        .map_err(internal)?;
    let (found, next_cursor) = params::split_page(found, limit, &listing, |d| {
        (flow_readmodel::bson_i64(d.get(field::HIDDEN_SEQ)), None)
    });
    let ids: Vec<String> = found
        .iter()
        .filter_map(|d| d.get_str(field::PROJECT_ID).ok().map(str::to_owned))
        .collect();
    let docs = by_ids(&model, &ids).await?;
    // In the order hidden.
    let items = ids
        .iter()
        .filter_map(|id| docs.iter().find(|d| &d.project_id == id))
        .map(ProjectSummary::from)
        .collect();
    Ok(Json(ProjectPage { items, next_cursor }))
}

async fn by_ids(model: &ReadModel, ids: &[String]) -> Result<Vec<ProjectDoc>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Query {
        filter: doc! {field::ID: {"$in": ids}},
        sort: None,
        projection: Some(summary_projection()),
        limit: None,
    }
    .run(&model.projects)
    .await
    .map_err(internal)
}

/// The projects carrying a tag the caller follows, newest first, hidden
/// ones left out.
///
/// Paging neither repeats nor skips a project while projects are proposed:
/// it pages by the proposal's stream sequence, like `sort=new`.
#[utoipa::path(
    get,
    path = "/me/feed",
    tag = "me",
    params(docs::PagingQuery, docs::ConsistencyTokenHeader),
    security(("bearer" = [])),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "A page of the caller's feed (empty while they follow no tag).", body = ProjectPage),
        (status = 422, description = "Bad parameters, each named in `errors`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn feed(
    Authenticated(actor): Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ProjectPage>, ApiError> {
    let user = actor.user_id.as_str();
    let listing = format!("me/feed {user}");
    let (limit, cursor) = params::keyset_paging(query.as_deref(), &listing)?;
    let model = state.model();
    let any_tags = followed(&model, user).await.map_err(internal)?;
    if any_tags.is_empty() {
        return Ok(Json(ProjectPage {
            items: Vec::new(),
            next_cursor: None,
        }));
    }
    let filter = ProjectFilter {
        any_tags,
        ..ProjectFilter::default()
    };
    let from = cursor.map(|c| listing::Cursor {
        o: Sort::New,
        f: filter.fingerprint(),
        s: c.s,
        k: 0,
        r: None,
        i: 0,
    });
    let page = listing::newest_page(&model, &filter, from, limit, Some(user))
        .await
        .map_err(internal)?;
    let next_cursor = page.next.map(|c| {
        params::encode_cursor(&params::KeyCursor {
            l: params::listing_key(&listing),
            s: c.s,
            i: None,
        })
    });
    Ok(Json(ProjectPage {
        items: page.items.iter().map(ProjectSummary::from).collect(),
        next_cursor,
    }))
}

/// The best-scored projects matching `filter` (ties: newest first), not
/// already `chosen`, after `from`, in runs checked against what the reader
/// hides.
async fn best(
    model: &ReadModel,
    filter: Document,
    reader: Option<&str>,
    chosen: &mut Vec<ProjectDoc>,
    wanted: usize,
) -> mongodb::error::Result<()> {
    let mut after: Option<(i64, i64)> = None;
    let mut run = i64::try_from(wanted).unwrap_or(1).max(1) * 2;
    for _ in 0..MAX_ROUNDS {
        let candidates = top_query(filter.clone(), after, run)
            .run(&model.projects)
            .await?;
        let exhausted = (candidates.len() as i64) < run;
        after = candidates
            .last()
            .map(|p| (p.score, p.created_seq))
            .or(after);
        let seen: HashSet<String> = chosen.iter().map(|p| p.project_id.clone()).collect();
        let fresh = candidates
            .into_iter()
            .filter(|p| !seen.contains(&p.project_id))
            .collect();
        for project in listing::visible(model, reader, fresh).await? {
            if chosen.len() < wanted {
                chosen.push(project);
            }
        }
        if chosen.len() >= wanted || exhausted {
            return Ok(());
        }
        run = (run * 2).min(1_000);
    }
    Ok(())
}

/// Up to `limit` projects matching `filter` by `sort=top`, after `from`.
pub fn top_query(filter: Document, from: Option<(i64, i64)>, limit: i64) -> Query {
    let mut filter = filter;
    if let Some((score, created_seq)) = from {
        filter.extend(listing::after(Sort::Top, score, created_seq));
    }
    Query {
        filter,
        sort: Some(Sort::Top.order()),
        projection: Some(summary_projection()),
        limit: Some(limit),
    }
}

/// Recommended projects ("recommended posts based on topics").
///
/// Signed in: projects carrying a tag the caller follows, neither their own
/// nor hidden by them, highest `score` first (ties: newest first); when
/// fewer than `limit` match, filled with the highest-scored other projects
/// under the same exclusions. Anonymous: the highest-scored projects.
#[utoipa::path(
    get,
    path = "/recommendations",
    tag = "projects",
    params(docs::RecommendationsQuery, docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "The recommended projects, best first.", body = Recommendations),
        (status = 422, description = "Bad parameters, each named in `errors`: `limit` out of 1–50, or an unknown parameter.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn recommendations(
    viewer: Viewer,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Recommendations>, ApiError> {
    let (pairs, mut errors) = params::parse(query.as_deref(), &["limit"])?;
    let limit = params::single(&pairs, "limit", &mut errors)
        .and_then(|raw| params::whole_number(raw, params::MAX_RECOMMENDATIONS, &mut errors))
        .unwrap_or(params::DEFAULT_RECOMMENDATIONS);
    errors.into_result()?;
    let wanted = usize::try_from(limit).unwrap_or(0);
    let model = state.model();
    let mut chosen = Vec::with_capacity(wanted);
    match viewer.actor() {
        None => best(&model, Document::new(), None, &mut chosen, wanted)
            .await
            .map_err(internal)?,
        Some(actor) => {
            let user = actor.user_id.as_str();
            let not_own = doc! {field::PROPOSER: {"$ne": user}};
            let tags = followed(&model, user).await.map_err(internal)?;
            if !tags.is_empty() {
                let mut matching = not_own.clone();
                matching.insert(field::TAGS, doc! {"$in": tags});
                best(&model, matching, Some(user), &mut chosen, wanted)
                    .await
                    .map_err(internal)?;
            }
            best(&model, not_own, Some(user), &mut chosen, wanted)
                .await
                .map_err(internal)?;
        }
    }
    Ok(Json(Recommendations {
        items: chosen.iter().map(ProjectSummary::from).collect(),
    }))
}

/// The query shapes of personal discovery, for the explain test.
pub fn query_shapes() -> Vec<(String, &'static str, Query)> {
    use flow_readmodel::{HIDDEN, PROJECTS};
    let followed = ProjectFilter {
        any_tags: vec!["circus".into(), "clown".into()],
        ..ProjectFilter::default()
    };
    let project = flow_domain::ProjectId::new().to_string();
    let not_own = doc! {field::PROPOSER: {"$ne": "alice"}};
    let mut matching = not_own.clone();
    matching.insert(field::TAGS, doc! {"$in": ["circus", "clown"]});
    vec![
        (
            "hidden among a page".into(),
            HIDDEN,
            listing::hidden_query("alice", &[project.as_str(), project.as_str()]),
        ),
        ("me hidden".into(), HIDDEN, hidden_query("alice", None, 20)),
        (
            "me hidden next page".into(),
            HIDDEN,
            hidden_query("alice", Some(1_000), 20),
        ),
        (
            "me feed".into(),
            PROJECTS,
            listing::newest(&followed, None, 20),
        ),
        (
            "me feed next page".into(),
            PROJECTS,
            listing::newest(&followed, Some(1_000), 20),
        ),
        (
            "recommendations anonymous".into(),
            PROJECTS,
            top_query(Document::new(), None, 24),
        ),
        (
            "recommendations by followed tags".into(),
            PROJECTS,
            top_query(matching, None, 24),
        ),
        (
            "recommendations filled".into(),
            PROJECTS,
            top_query(not_own, Some((3, 1_000)), 48),
        ),
    ]
}
