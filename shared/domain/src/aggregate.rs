//! What every aggregate has in common: a state folded from the events of its
//! own subject, on which its commands are decided.
//!
//! The services load the events and append what a decision returns; this
//! module only says how a state follows from events.

use crate::events::Event;

/// An aggregate: the state its commands are decided on, and how each event
/// of its subject changes that state.
pub trait Aggregate {
    /// The state before the first event is `Default` (no project, no
    /// thread, no vote).
    type State: Default + Clone + Send + Sync + 'static;

    /// Folds one event of the aggregate's subject into its state; events of
    /// other kinds leave it as it is.
    fn apply(state: Self::State, event: &Event) -> Self::State;

    /// Folds events, in order, into a state.
    fn fold<'a>(state: Self::State, events: impl IntoIterator<Item = &'a Event>) -> Self::State {
        events.into_iter().fold(state, Self::apply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Direction, ProjectId, ThreadId, UserId, project::Project, vote::Vote};

    #[test]
    fn a_fold_applies_every_event_in_order() {
        let (thread_id, project_id) = (ThreadId::new(), ProjectId::new());
        let voter = UserId::parse("alice").expect("valid");
        let cast = |direction, previous| Event::VoteCast {
            thread_id,
            project_id,
            voter: voter.clone(),
            direction,
            previous,
        };
        let events = [
            cast(Direction::Up, Direction::None),
            cast(Direction::Down, Direction::Up),
        ];
        assert_eq!(Vote::fold(Direction::None, &events), Direction::Down);
        // Events of another aggregate change nothing.
        assert_eq!(Project::fold(None, &events), None);
    }
}
