//! The vote aggregate: one user's vote on one thread.

use serde::{Deserialize, Serialize};

use super::{Actor, Aggregate, Direction, DomainError, Errors};
use crate::events::Event;
use crate::thread::Thread;

/// The body of `PUT /threads/{thread_id}/vote`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"direction": "up"})))]
pub struct VoteRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = Direction, required = true))]
    pub direction: Option<String>,
}

impl VoteRequest {
    pub fn parse(self) -> Result<Direction, DomainError> {
        let mut errors = Errors::default();
        let direction = match self.direction {
            Some(d) => errors.take("direction", Direction::parse(&d)),
            None => {
                errors.push("direction", "direction is required");
                None
            }
        };
        errors.into_result()?;
        direction.ok_or(DomainError::Validation(Vec::new()))
    }
}

/// The vote aggregate: one user's vote on one thread, its direction
/// (`Direction::None` before the first vote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote;

impl Aggregate for Vote {
    type State = Direction;

    fn apply(state: Direction, event: &Event) -> Direction {
        match event {
            Event::VoteCast { direction, .. } => *direction,
            _ => state,
        }
    }
}

/// Decides a vote: repeating the current vote changes nothing.
pub fn cast(
    thread: Option<&Thread>,
    current: Direction,
    actor: &Actor,
    direction: Direction,
) -> Result<Vec<Event>, DomainError> {
    let thread = thread.ok_or(DomainError::NotFound("thread"))?;
    if !thread.is_open() {
        return Err(DomainError::Conflict(
            "a rejected or withdrawn thread takes no votes",
        ));
    }
    if direction == current {
        return Ok(Vec::new());
    }
    Ok(vec![Event::VoteCast {
        thread_id: thread.id,
        project_id: thread.project_id,
        voter: actor.user_id.clone(),
        direction,
        previous: current,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ModerationStatus, ProjectId, ThreadId, UserId};

    fn thread() -> Thread {
        Thread {
            id: ThreadId::new(),
            project_id: ProjectId::new(),
            parent_thread_id: None,
            thread_type: crate::ThreadType::Comment,
            author: UserId::parse("author").expect("valid"),
            message: "m".into(),
            status: ModerationStatus::Approved,
        }
    }

    /// Replays a sequence of votes by one user and sums the counts the events
    /// contribute, as the read model does.
    fn run(directions: &[Direction]) -> ((i64, i64), usize) {
        let t = thread();
        let actor = Actor::new(UserId::parse("alice").expect("valid"));
        let mut state = Direction::None;
        let (mut up, mut down, mut events) = (0, 0, 0);
        for d in directions {
            for e in cast(Some(&t), state, &actor, *d).expect("votes") {
                if let Event::VoteCast {
                    direction,
                    previous,
                    ..
                } = &e
                {
                    let (nu, nd) = direction.counts();
                    let (pu, pd) = previous.counts();
                    up += nu - pu;
                    down += nd - pd;
                }
                state = Vote::apply(state, &e);
                events += 1;
            }
        }
        ((up, down), events)
    }

    #[test]
    fn repeating_a_vote_changes_nothing() {
        use Direction::*;
        assert_eq!(run(&[Up, Up]), ((1, 0), 1));
        assert_eq!(run(&[None]), ((0, 0), 0));
    }

    #[test]
    fn switching_moves_the_count_and_none_withdraws() {
        use Direction::*;
        assert_eq!(run(&[Up, Down]), ((0, 1), 2));
        assert_eq!(run(&[Up, Up, Down, None]), ((0, 0), 3));
    }

    #[test]
    fn a_vote_needs_an_existing_thread_and_a_valid_direction() {
        let actor = Actor::new(UserId::parse("alice").expect("valid"));
        assert_eq!(
            cast(None, Direction::None, &actor, Direction::Up),
            Err(DomainError::NotFound("thread"))
        );
        assert!(
            VoteRequest {
                direction: Some("sideways".into())
            }
            .parse()
            .is_err()
        );
        assert!(VoteRequest::default().parse().is_err());
        assert_eq!(
            VoteRequest {
                direction: Some("none".into())
            }
            .parse(),
            Ok(Direction::None)
        );
    }
}
