//! The pure, synchronous domain: commands are parsed into valid values, decided
//! against the current state of their aggregate, and turned into events. No
//! I/O: the services load and store what this crate decides.

mod aggregate;
pub mod events;
mod model;
pub mod patterns;
pub mod project;
#[cfg(feature = "openapi")]
pub mod schema;
mod text;
pub mod thread;
pub mod user;
pub mod vote;

pub use aggregate::Aggregate;
pub use model::*;

use serde::Serialize;

/// One invalid field of a command, as reported to the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
}

/// Collects field errors while a command is parsed, so that every bad field is
/// reported at once.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.0.push(FieldError::new(field, message));
                None
            }
        }
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self.0))
        }
    }
}

/// Who issues a command: the verified subject of a token and its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub roles: Vec<String>,
    /// The display name the token carries (its `name` claim), if any.
    pub name: Option<String>,
}

impl Actor {
    /// A display name is kept to at most this many characters.
    pub const MAX_NAME_CHARS: usize = 100;

    pub fn new(user_id: UserId) -> Self {
        Self {
            user_id,
            roles: Vec::new(),
            name: None,
        }
    }

    /// With the display name of a token's `name` claim: normalised like a
    /// tagline (NFC, whitespace collapsed, no control characters) and cut
    /// to [`Self::MAX_NAME_CHARS`]; none when nothing visible is left.
    pub fn with_name(mut self, name: Option<&str>) -> Self {
        self.name = name.and_then(|raw| {
            let cut: String = raw.chars().take(4 * Self::MAX_NAME_CHARS).collect();
            let line = Tagline::parse(&cut).ok()?;
            Some(line.as_str().chars().take(Self::MAX_NAME_CHARS).collect())
        });
        self
    }

    pub fn is_moderator(&self) -> bool {
        self.roles.iter().any(|r| r == "moderator")
    }
}
