//! The read API's routes, merged here, with the project and tag reads
//! (the thread reads: [`crate::threads`]); from the read documents only.

use axum::{
    Json, Router,
    extract::{Path, RawQuery, State},
    routing::get,
};

use flow_domain::{ProjectId, Tag, ThreadId, ThreadType};
use flow_http::{ApiError, Problem};
use flow_readmodel::{PROJECTS, ProjectDoc, TAGS, THREADS, TagDoc, VOTES, field};
use mongodb::bson::doc;

use crate::{
    AppState, docs, internal,
    listing::{self, Cursor, ProjectFilter, Query, Sort},
    params,
    snapshots::SnapshotConfig,
    threads,
    viewer::Viewer,
    views::{ProjectDetail, ProjectPage, ProjectSummary, TagCount},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list_projects))
        .route("/projects/{project_id}", get(get_project))
        .route("/projects/{project_id}/threads", get(threads::list_threads))
        .route("/threads/{thread_id}", get(threads::get_thread))
        .route("/threads/{thread_id}/replies", get(threads::list_replies))
        .route("/tags", get(list_tags))
}

/// Lists projects: newest, most voted or most active first.
///
/// Filtered by tags (all must match) and a search over names and taglines.
/// Paging with `next_cursor` never repeats a project and never leaves out one
/// that existed when the first page was read, while projects and votes arrive.
// How: see `crate::listing`.
#[utoipa::path(
    get,
    path = "/projects",
    tag = "projects",
    params(docs::ProjectsQuery, docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "A page of projects.", body = ProjectPage,
            links(
                ("GetProject" = (operation_id = "get_project", parameters(("project_id" = "$response.body#/items/0/project_id")), description = "The first project listed.")),
                ("ListThreads" = (operation_id = "list_threads", parameters(("project_id" = "$response.body#/items/0/project_id")), description = "The threads of the first project listed.")),
            )
        ),
        (status = 422, description = "Bad parameters, each named in `errors`: a value out of its range, a parameter given twice or unknown, or a cursor of another listing.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_projects(
    viewer: Viewer,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ProjectPage>, ApiError> {
    let (pairs, mut errors) =
        params::parse(query.as_deref(), &["limit", "cursor", "sort", "tag", "q"])?;
    let limit = params::limit(params::single(&pairs, "limit", &mut errors), &mut errors);
    let cursor: Option<Cursor> =
        params::decode_cursor(params::single(&pairs, "cursor", &mut errors), &mut errors);
    let sort = params::single(&pairs, "sort", &mut errors)
        .map_or(Some(Sort::New), |raw| errors.take("sort", Sort::parse(raw)))
        .unwrap_or(Sort::New);
    let mut filter = ProjectFilter::default();
    for (i, (_, raw)) in pairs.iter().filter(|(k, _)| k == "tag").enumerate() {
        if let Some(tag) = errors.take(&format!("tag[{i}]"), Tag::parse(raw))
            && !filter.tags.iter().any(|t| t == tag.as_str())
        {
            filter.tags.push(tag.as_str().to_owned());
        }
    }
    if filter.tags.len() > Tag::MAX_PER_PROJECT {
        errors.push(
            "tag",
            format!(
                "at most {} tags (no project has more)",
                Tag::MAX_PER_PROJECT
            ),
        );
    }
    filter.terms = params::search(params::single(&pairs, "q", &mut errors), &mut errors);
    if let Some(c) = &cursor
        && errors.is_empty()
        && (c.o != sort || c.f != filter.fingerprint())
    {
        errors.push(
            "cursor",
            "the cursor belongs to another listing: give the same sort, tag and q as for the first page",
        );
    }
    errors.into_result()?;
    let page = listing::page(
        &state.model(),
        &state.snapshots,
        sort,
        &filter,
        cursor,
        limit,
        viewer.actor().map(|a| a.user_id.as_str()),
    )
    .await
    .map_err(internal)?;
    Ok(Json(ProjectPage {
        items: page.items.iter().map(ProjectSummary::from).collect(),
        next_cursor: page.next.as_ref().map(params::encode_cursor),
    }))
}

/// A project, with its proposer.
#[utoipa::path(
    get,
    path = "/projects/{project_id}",
    tag = "projects",
    params(("project_id" = String, Path, format = "uuid", description = "The project; an unknown or malformed id is 404."), docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "The project.", body = ProjectDetail),
        (status = 404, description = "No such project.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(project_id = %project_id))]
pub(crate) async fn get_project(
    _viewer: Viewer,
    State(state): State<AppState>,
    Path(project_id): Path<String>,
) -> Result<Json<ProjectDetail>, ApiError> {
    let id = ProjectId::parse(&project_id).map_err(|_| ApiError::not_found("project"))?;
    let project: ProjectDoc = listing::project_by_id(id)
        .run(&state.model().projects)
        .await
        .map_err(internal)?
        .pop()
        .ok_or_else(|| ApiError::not_found("project"))?;
    Ok(Json(ProjectDetail::from(&project)))
}

/// Every tag in use, most used first (ties by name).
pub fn tags_query(limit: Option<i64>) -> Query {
    Query {
        filter: doc! {field::PROJECT_COUNT: {"$gt": 0}},
        sort: Some(doc! {field::PROJECT_COUNT: -1, field::TAG: 1}),
        projection: None,
        limit,
    }
}

/// Every tag with the number of projects carrying it, most used first.
#[utoipa::path(
    get,
    path = "/tags",
    tag = "projects",
    params(docs::TagsQuery, docs::ConsistencyTokenHeader),
    responses(
        docs::ReadRefusals,
        (status = 200, description = "Every tag carried by at least one project, most used first; ties by name.", body = Vec<TagCount>),
        (status = 422, description = "Bad parameters, each named in `errors`: `limit` out of its range, given twice, or an unknown parameter.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_tags(
    _viewer: Viewer,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<TagCount>>, ApiError> {
    let (pairs, mut errors) = params::parse(query.as_deref(), &["limit"])?;
    let limit = params::tags_limit(params::single(&pairs, "limit", &mut errors), &mut errors);
    errors.into_result()?;
    let tags: Vec<TagDoc> = tags_query(limit)
        .run(&state.model().tags)
        .await
        .map_err(internal)?;
    Ok(Json(tags.iter().map(TagCount::from).collect()))
}

/// The query shapes of these routes, with the base name of each one's
/// collection (see [`crate::shapes`]).
pub fn query_shapes() -> Vec<(String, &'static str, Query)> {
    let project = ProjectId::new();
    let tag = ProjectFilter {
        tags: vec!["circus".into()],
        terms: Vec::new(),
        any_tags: Vec::new(),
    };
    let tags_and_search = ProjectFilter {
        tags: vec!["circus".into(), "clown".into()],
        terms: vec!["perf".into()],
        any_tags: Vec::new(),
    };
    let search = ProjectFilter {
        tags: Vec::new(),
        terms: vec!["perf".into(), "wolf".into()],
        any_tags: Vec::new(),
    };
    let none = ProjectFilter::default();
    let mut shapes = Vec::new();
    for (name, filter) in [
        ("", &none),
        (" tag", &tag),
        (" q", &search),
        (" tags+q", &tags_and_search),
    ] {
        shapes.push((
            format!("projects new{name}"),
            PROJECTS,
            listing::newest(filter, None, 20),
        ));
        shapes.push((
            format!("projects new{name} next page"),
            PROJECTS,
            listing::newest(filter, Some(1_000), 20),
        ));
        for sort in [Sort::Top, Sort::Active] {
            shapes.push((
                format!("projects {sort:?}{name} ranking"),
                PROJECTS,
                listing::ranking(
                    sort,
                    filter,
                    None,
                    SnapshotConfig::default().max_per_snapshot,
                ),
            ));
            shapes.push((
                format!("projects {sort:?}{name} ranking after a key"),
                PROJECTS,
                listing::ranking(
                    sort,
                    filter,
                    Some((3, 1_000)),
                    SnapshotConfig::default().max_per_snapshot,
                ),
            ));
        }
        shapes.push((
            format!("projects{name} page of a frozen ranking"),
            PROJECTS,
            listing::by_ids(filter, &[uuid::Uuid::now_v7(), uuid::Uuid::now_v7()]),
        ));
    }
    shapes.push((
        "project detail".into(),
        PROJECTS,
        listing::project_by_id(project),
    ));
    for (name, top, after) in [
        ("threads top", true, None),
        ("threads top next page", true, Some((Some(2), 1_000))),
        ("threads new", false, None),
        ("threads new next page", false, Some((None, 1_000))),
    ] {
        shapes.push((
            name.to_owned(),
            THREADS,
            threads::threads_query(project, None, top, after, 20),
        ));
    }
    shapes.push((
        "threads of a type".into(),
        THREADS,
        threads::threads_query(project, Some(ThreadType::Problem), true, None, 20),
    ));
    shapes.push((
        "replies".into(),
        THREADS,
        threads::replies_query(ThreadId::new()),
    ));
    shapes.push((
        "replies next page".into(),
        THREADS,
        threads::replies_page_query(ThreadId::new(), Some(1_000), 20),
    ));
    shapes.push((
        "votes of a page".into(),
        VOTES,
        threads::votes_query(
            "alice",
            &[&ThreadId::new().to_string(), &ThreadId::new().to_string()],
        ),
    ));
    shapes.push(("tags".into(), TAGS, tags_query(None)));
    shapes
}
