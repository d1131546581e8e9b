//! The project aggregate: proposal (with its first problem and solution
//! threads) and tag changes.

use serde::{Deserialize, Serialize};

use super::{
    Actor, Aggregate, DomainError, Errors, Message, ProjectId, ProjectName, Tag, Tagline, ThreadId,
    ThreadType, UserId, parse_tags,
};
use crate::events::Event;

/// The body of `POST /projects/propose`.
// Every field is optional here so that all missing or bad fields are
// reported together; the schema says which are required.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus", "tags": ["clown", "circus"], "problems": ["short temper"], "solutions": ["play the drums"]})))]
pub struct ProposeProjectRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = ProjectName, required = true))]
    pub project_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Tagline, required = true))]
    pub tagline: Option<String>,
    /// At most 10 once de-duplicated (after normalising).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Tag>>, max_items = 10))]
    pub tags: Option<Vec<String>>,
    /// Each becomes a PROBLEM thread. At least one; at most 50 problems and
    /// solutions together.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Message>, required = true, min_items = 1, max_items = 49))]
    pub problems: Option<Vec<String>>,
    /// Each becomes a SOLUTION thread. At least one; at most 50 problems and
    /// solutions together.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Message>, required = true, min_items = 1, max_items = 49))]
    pub solutions: Option<Vec<String>>,
}

/// A valid proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposeProject {
    pub project_name: ProjectName,
    pub tagline: Tagline,
    pub tags: Vec<Tag>,
    pub problems: Vec<Message>,
    pub solutions: Vec<Message>,
}

/// At most this many problems and solutions together in one proposal.
pub const MAX_INITIAL_THREADS: usize = 50;

fn required<T>(errors: &mut Errors, field: &str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        errors.push(field, format!("{field} is required"));
    }
    value
}

fn parse_messages(errors: &mut Errors, field: &str, raw: Option<Vec<String>>) -> Vec<Message> {
    let Some(raw) = required(errors, field, raw) else {
        return Vec::new();
    };
    if raw.is_empty() {
        errors.push(field, format!("at least one entry in {field} is required"));
    }
    raw.iter()
        .enumerate()
        .filter_map(|(i, m)| errors.take(&format!("{field}[{i}]"), Message::parse(m)))
        .collect()
}

impl ProposeProject {
    pub fn parse(raw: ProposeProjectRequest) -> Result<Self, DomainError> {
        let mut errors = Errors::default();
        let project_name = required(&mut errors, "project_name", raw.project_name)
            .and_then(|n| errors.take("project_name", ProjectName::parse(&n)));
        let tagline = required(&mut errors, "tagline", raw.tagline)
            .and_then(|t| errors.take("tagline", Tagline::parse(&t)));
        let tags = parse_tags("tags", raw.tags.as_deref().unwrap_or_default(), &mut errors);
        if tags.len() > Tag::MAX_PER_PROJECT {
            errors.push(
                "tags",
                format!("at most {} tags per project", Tag::MAX_PER_PROJECT),
            );
        }
        let problems = parse_messages(&mut errors, "problems", raw.problems);
        let solutions = parse_messages(&mut errors, "solutions", raw.solutions);
        if problems.len() + solutions.len() > MAX_INITIAL_THREADS {
            errors.push(
                "problems",
                format!("at most {MAX_INITIAL_THREADS} problems and solutions together"),
            );
        }
        errors.into_result()?;
        match (project_name, tagline) {
            (Some(project_name), Some(tagline)) => Ok(Self {
                project_name,
                tagline,
                tags,
                problems,
                solutions,
            }),
            // Unreachable: a missing value always records an error above.
            _ => Err(DomainError::Validation(Vec::new())),
        }
    }
}

/// The state of a project needed to decide commands on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub proposer: UserId,
    pub tags: Vec<Tag>,
    pub project_name: String,
    pub tagline: String,
    /// The key the project's name is claimed under.
    pub name_key: String,
}

impl Aggregate for Project {
    type State = Option<Self>;

    fn apply(state: Option<Self>, event: &Event) -> Option<Self> {
        match event {
            Event::ProjectProposed {
                project_id,
                tags,
                proposer,
                project_name,
                tagline,
                ..
            } => Some(Self {
                id: *project_id,
                proposer: proposer.clone(),
                tags: tags.clone(),
                // The proposal claimed the key of its (normalised) name.
                name_key: ProjectName::key_of_stored(project_name),
                project_name: project_name.clone(),
                tagline: tagline.clone(),
            }),
            Event::ProjectChanged {
                project_name,
                tagline,
                name_key,
                ..
            } => state.map(|mut s| {
                s.project_name = project_name.clone();
                s.tagline = tagline.clone();
                s.name_key = name_key.clone();
                s
            }),
            Event::ProjectTagsChanged { tags, .. } => state.map(|mut s| {
                s.tags = tags.clone();
                s
            }),
            _ => state,
        }
    }
}

/// The claim on one name: which project holds it, if any. A name is free
/// until claimed, and again once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameClaim;

impl Aggregate for NameClaim {
    type State = Option<ProjectId>;

    fn apply(state: Option<ProjectId>, event: &Event) -> Option<ProjectId> {
        match event {
            Event::ProjectNameClaimed { project_id, .. } => Some(*project_id),
            Event::ProjectNameReleased { .. } => None,
            _ => state,
        }
    }
}

/// What a change of a project is decided on: the project, and the claim on
/// the name it would take (folded from both subjects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renaming;

impl Aggregate for Renaming {
    type State = (Option<Project>, Option<ProjectId>);

    fn apply(state: Self::State, event: &Event) -> Self::State {
        let (project, claim) = state;
        (
            Project::apply(project, event),
            NameClaim::apply(claim, event),
        )
    }
}

const NAME_TAKEN: &str =
    "a project with this name already exists (names are compared ignoring case)";

/// Decides a proposal on the claim of its name: the claim, the project and
/// one thread per problem and solution, to be stored atomically. A name
/// claimed by another project is refused.
pub fn propose(
    claim: &Option<ProjectId>,
    cmd: ProposeProject,
    actor: &Actor,
    project_id: ProjectId,
    mut thread_id: impl FnMut() -> ThreadId,
) -> Result<Vec<Event>, DomainError> {
    // Held by this very project: the same keyed proposal again, whose
    // events the store recognises as already appended.
    if claim.is_some_and(|holder| holder != project_id) {
        return Err(DomainError::Conflict(NAME_TAKEN));
    }
    let mut events = Vec::with_capacity(2 + cmd.problems.len() + cmd.solutions.len());
    events.push(Event::ProjectNameClaimed {
        name_key: cmd.project_name.unique_key(),
        project_id,
    });
    events.push(Event::ProjectProposed {
        project_id,
        project_name: cmd.project_name.to_string(),
        tagline: cmd.tagline.to_string(),
        tags: cmd.tags,
        proposer: actor.user_id.clone(),
        proposer_name: actor.name.clone(),
    });
    let threads = cmd
        .problems
        .into_iter()
        .map(|m| (ThreadType::Problem, m))
        .chain(cmd.solutions.into_iter().map(|m| (ThreadType::Solution, m)));
    for (thread_type, message) in threads {
        events.push(Event::ThreadStarted {
            thread_id: thread_id(),
            project_id,
            parent_thread_id: None,
            thread_type,
            message: message.to_string(),
            author: actor.user_id.clone(),
            author_name: actor.name.clone(),
        });
    }
    Ok(events)
}

/// The body of `PATCH /projects/{project_id}`: at least one field (its
/// schema is written by hand, in [`crate::schema`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ChangeProjectRequest {
    pub project_name: Option<String>,
    pub tagline: Option<String>,
}

/// A valid change of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeProject {
    pub project_name: Option<ProjectName>,
    pub tagline: Option<Tagline>,
}

impl ChangeProject {
    pub fn parse(raw: ChangeProjectRequest) -> Result<Self, DomainError> {
        let mut errors = Errors::default();
        let project_name = raw
            .project_name
            .and_then(|n| errors.take("project_name", ProjectName::parse(&n)));
        let tagline = raw
            .tagline
            .and_then(|t| errors.take("tagline", Tagline::parse(&t)));
        if errors.is_empty() && project_name.is_none() && tagline.is_none() {
            errors.push(
                "project_name",
                "give at least one of project_name or tagline",
            );
        }
        errors.into_result()?;
        Ok(Self {
            project_name,
            tagline,
        })
    }
}

/// Decides a change of a project's name or tagline: proposer only. A new
/// name (another key) must be free: it is claimed, and the old one released,
/// with the change. Nothing when nothing changes.
pub fn change(
    state: &(Option<Project>, Option<ProjectId>),
    actor: &Actor,
    cmd: &ChangeProject,
) -> Result<Vec<Event>, DomainError> {
    let (project, claim) = state;
    let project = project.as_ref().ok_or(DomainError::NotFound("project"))?;
    if project.proposer != actor.user_id {
        return Err(DomainError::Forbidden(
            "only the proposer may change a project",
        ));
    }
    let project_name = cmd
        .project_name
        .as_ref()
        .map_or_else(|| project.project_name.clone(), ToString::to_string);
    let tagline = cmd
        .tagline
        .as_ref()
        .map_or_else(|| project.tagline.clone(), ToString::to_string);
    if project_name == project.project_name && tagline == project.tagline {
        return Ok(Vec::new());
    }
    let name_key = cmd
        .project_name
        .as_ref()
        .map_or_else(|| project.name_key.clone(), ProjectName::unique_key);
    let mut events = Vec::with_capacity(3);
    if name_key != project.name_key {
        if claim.is_some_and(|holder| holder != project.id) {
            return Err(DomainError::Conflict(NAME_TAKEN));
        }
        events.push(Event::ProjectNameClaimed {
            name_key: name_key.clone(),
            project_id: project.id,
        });
        events.push(Event::ProjectNameReleased {
            name_key: project.name_key.clone(),
            project_id: project.id,
        });
    }
    events.push(Event::ProjectChanged {
        project_id: project.id,
        project_name,
        tagline,
        name_key,
    });
    Ok(events)
}

/// The body of `PUT /projects/{id}/tags`: at least one of `add` and `remove`
/// (its schema is written by hand, in [`crate::schema`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ChangeTagsRequest {
    pub add: Option<Vec<String>>,
    pub remove: Option<Vec<String>>,
}

/// A valid tag change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeTags {
    pub add: Vec<Tag>,
    pub remove: Vec<Tag>,
}

impl ChangeTags {
    pub fn parse(raw: ChangeTagsRequest) -> Result<Self, DomainError> {
        let mut errors = Errors::default();
        let add = parse_tags("add", raw.add.as_deref().unwrap_or_default(), &mut errors);
        let remove = parse_tags(
            "remove",
            raw.remove.as_deref().unwrap_or_default(),
            &mut errors,
        );
        if raw.add.is_none() && raw.remove.is_none() {
            errors.push("add", "give at least one of add or remove");
        }
        errors.into_result()?;
        Ok(Self { add, remove })
    }
}

/// Decides a tag change: proposer only, at most ten tags afterwards. Returns the
/// resulting tags and the event (none when nothing changes).
pub fn change_tags(
    state: Option<&Project>,
    actor: &Actor,
    cmd: &ChangeTags,
) -> Result<(Vec<Tag>, Vec<Event>), DomainError> {
    let project = state.ok_or(DomainError::NotFound("project"))?;
    if project.proposer != actor.user_id {
        return Err(DomainError::Forbidden(
            "only the proposer may change a project's tags",
        ));
    }
    let mut tags: Vec<Tag> = project
        .tags
        .iter()
        .filter(|t| !cmd.remove.contains(t))
        .cloned()
        .collect();
    for tag in &cmd.add {
        if !tags.contains(tag) && !cmd.remove.contains(tag) {
            tags.push(tag.clone());
        }
    }
    if tags.len() > Tag::MAX_PER_PROJECT {
        return Err(DomainError::Validation(vec![super::FieldError::new(
            "add",
            format!(
                "a project has at most {} tags; this change would give it {}",
                Tag::MAX_PER_PROJECT,
                tags.len()
            ),
        )]));
    }
    if tags == project.tags {
        return Ok((tags, Vec::new()));
    }
    let added: Vec<Tag> = tags
        .iter()
        .filter(|t| !project.tags.contains(t))
        .cloned()
        .collect();
    let removed: Vec<Tag> = project
        .tags
        .iter()
        .filter(|t| !tags.contains(t))
        .cloned()
        .collect();
    let event = Event::ProjectTagsChanged {
        project_id: project.id,
        tags: tags.clone(),
        added,
        removed,
    };
    Ok((tags, vec![event]))
}

#[cfg(test)]
mod tests;
