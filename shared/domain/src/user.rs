//! A user's own choices, each on a subject of that user's own: the projects
//! they hide from their listings (one subject per project), and the tags
//! they follow (the whole set at once).

use serde::{Deserialize, Serialize};

use super::{Actor, Aggregate, DomainError, Errors, FieldError, Tag, parse_tags};
use crate::events::Event;
use crate::project::Project;

/// At most this many followed tags.
pub const MAX_FOLLOWED_TAGS: usize = 50;

/// The body of `PUT /projects/{project_id}/hidden`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"hidden": true})))]
pub struct HideRequest {
    /// `true` hides the project from the caller's listings; `false` shows it again.
    #[cfg_attr(feature = "openapi", schema(value_type = bool, required = true))]
    pub hidden: Option<bool>,
}

impl HideRequest {
    pub fn parse(self) -> Result<bool, DomainError> {
        let mut errors = Errors::default();
        if self.hidden.is_none() {
            errors.push("hidden", "hidden is required (true or false)");
        }
        errors.into_result()?;
        self.hidden.ok_or(DomainError::Validation(Vec::new()))
    }
}

/// Whether one user hides one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hidden;

impl Aggregate for Hidden {
    type State = bool;

    fn apply(state: bool, event: &Event) -> bool {
        match event {
            Event::ProjectHidden { .. } => true,
            Event::ProjectUnhidden { .. } => false,
            _ => state,
        }
    }
}

/// Decides hiding (or showing again) a project for the actor: the project
/// must exist; asking for what already holds changes nothing.
pub fn hide(
    project: Option<&Project>,
    current: bool,
    actor: &Actor,
    hidden: bool,
) -> Result<Vec<Event>, DomainError> {
    let project = project.ok_or(DomainError::NotFound("project"))?;
    if current == hidden {
        return Ok(Vec::new());
    }
    let (user, project_id) = (actor.user_id.clone(), project.id);
    Ok(vec![if hidden {
        Event::ProjectHidden { user, project_id }
    } else {
        Event::ProjectUnhidden { user, project_id }
    }])
}

/// The body of `PUT /me/followed-tags`: the whole set.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"tags": ["clown", "circus"]})))]
pub struct FollowTagsRequest {
    /// At most 50 once de-duplicated (after normalising); `[]` follows nothing.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Tag>, required = true, max_items = 50))]
    pub tags: Option<Vec<String>>,
}

impl FollowTagsRequest {
    /// The tags, normalised and de-duplicated in the order given.
    pub fn parse(self) -> Result<Vec<Tag>, DomainError> {
        let Some(raw) = self.tags else {
            return Err(DomainError::Validation(vec![FieldError::new(
                "tags",
                "tags is required (an empty list follows nothing)",
            )]));
        };
        let mut errors = Errors::default();
        let tags = parse_tags("tags", &raw, &mut errors);
        if tags.len() > MAX_FOLLOWED_TAGS {
            errors.push("tags", format!("at most {MAX_FOLLOWED_TAGS} followed tags"));
        }
        errors.into_result()?;
        Ok(tags)
    }
}

/// The tags one user follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Following;

impl Aggregate for Following {
    type State = Vec<Tag>;

    fn apply(state: Vec<Tag>, event: &Event) -> Vec<Tag> {
        match event {
            Event::TagsFollowed { tags, .. } => tags.clone(),
            _ => state,
        }
    }
}

/// Decides the set of followed tags: nothing when it is the same set.
pub fn follow(current: &[Tag], actor: &Actor, tags: Vec<Tag>) -> Vec<Event> {
    let mut before: Vec<&Tag> = current.iter().collect();
    let mut after: Vec<&Tag> = tags.iter().collect();
    before.sort();
    after.sort();
    if before == after {
        return Vec::new();
    }
    vec![Event::TagsFollowed {
        user: actor.user_id.clone(),
        tags,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProjectId, UserId};

    fn alice() -> Actor {
        Actor::new(UserId::parse("alice").expect("valid"))
    }

    fn project() -> Project {
        Project {
            id: ProjectId::new(),
            proposer: UserId::parse("bob").expect("valid"),
            tags: Vec::new(),
            project_name: "p".into(),
            tagline: "t".into(),
            name_key: "k".into(),
        }
    }

    #[test]
    fn hiding_needs_a_project_and_repeating_changes_nothing() {
        let p = project();
        assert_eq!(
            hide(None, false, &alice(), true),
            Err(DomainError::NotFound("project"))
        );
        let events = hide(Some(&p), false, &alice(), true).expect("hides");
        assert!(matches!(events.as_slice(), [Event::ProjectHidden { .. }]));
        let state = Hidden::fold(false, &events);
        assert!(state);
        assert_eq!(hide(Some(&p), state, &alice(), true), Ok(Vec::new()));
        let shown = hide(Some(&p), state, &alice(), false).expect("shows");
        assert!(!Hidden::fold(state, &shown));
        assert!(HideRequest::default().parse().is_err());
    }

    #[test]
    fn followed_tags_are_normalised_bounded_and_replace_the_set() {
        let parsed = FollowTagsRequest {
            tags: Some(vec!["Clown".into(), " clown ".into(), "circus".into()]),
        }
        .parse()
        .expect("valid");
        assert_eq!(parsed.len(), 2);
        let too_many = FollowTagsRequest {
            tags: Some((0..51).map(|i| format!("t{i}")).collect()),
        };
        assert!(too_many.parse().is_err());
        assert!(FollowTagsRequest::default().parse().is_err());
        assert_eq!(
            FollowTagsRequest {
                tags: Some(Vec::new())
            }
            .parse(),
            Ok(Vec::new())
        );
        let events = follow(&[], &alice(), parsed.clone());
        let state = Following::fold(Vec::new(), &events);
        assert_eq!(state, parsed);
        let mut reversed = parsed.clone();
        reversed.reverse();
        assert!(
            follow(&state, &alice(), reversed).is_empty(),
            "the same set"
        );
        assert_eq!(follow(&state, &alice(), Vec::new()).len(), 1);
    }
}
