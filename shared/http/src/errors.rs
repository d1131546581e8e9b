//! Errors answered as `application/problem+json`.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use flow_domain::{DomainError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// The largest request body accepted: 64 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An error answered as `application/problem+json`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A conflict that resolves by itself: answered 409 with `Retry-After`.
    #[error("{0}")]
    InProgress(String),
    #[error("the request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

// Every API answers errors with this type and documents them with its schema.
/// An error, as `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation-error`.
    #[serde(rename = "type")]
    #[schema(pattern = "^/problems/[a-z-]+$")]
    pub kind: String,
    pub title: String,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: String,
    /// Every bad field (validation errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<FieldErrorSchema>>)]
    pub errors: Option<Vec<FieldError>>,
}

// The schema of `flow_domain::FieldError` as a `Problem` writes it: the
// domain has no OpenAPI dependency, so a test checks that the two agree.
/// One bad field, query parameter or header.
#[derive(ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
pub struct FieldErrorSchema {
    /// The field (e.g. `tags[2]`), query parameter (e.g. `tag[1]`) or header (`Idempotency-Key`).
    field: String,
    message: String,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        slug: &str,
        detail: String,
        errors: Option<Vec<FieldError>>,
    ) -> Self {
        Self {
            kind: format!("/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let json = serde_json::to_vec(&self).unwrap_or_default();
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            )],
            json,
        )
            .into_response()
    }
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::InProgress(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Conflict(_) => "conflict",
            Self::InProgress(_) => "in-progress",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::Validation(_) => "validation-error",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal-error",
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }
}

/// Writes a problem+json response.
pub fn problem(
    status: StatusCode,
    slug: &str,
    detail: String,
    errors: Option<&[FieldError]>,
) -> Response {
    Problem::new(status, slug, detail, errors.map(<[FieldError]>::to_vec)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let detail = match &self {
            Self::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed");
                "the server could not complete the request".to_owned()
            }
            Self::Unavailable(reason) => {
                tracing::warn!(reason, "dependency unavailable");
                "a dependency is unavailable; retry shortly".to_owned()
            }
            other => other.to_string(),
        };
        let errors = match &self {
            Self::Validation(errors) => Some(errors.as_slice()),
            _ => None,
        };
        let mut response = problem(status, self.slug(), detail, errors);
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE || matches!(self, Self::InProgress(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Validation(errors) => Self::Validation(errors),
            DomainError::NotFound(what) => Self::not_found(what),
            DomainError::Forbidden(why) => Self::Forbidden(why.to_owned()),
            DomainError::Conflict(why) => Self::Conflict(why.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;

    #[test]
    fn the_field_error_schema_names_what_the_domain_writes() {
        let written = serde_json::to_value(FieldError::new("limit", "too large")).expect("JSON");
        let mut written: Vec<&String> = written.as_object().expect("an object").keys().collect();
        written.sort();
        let schema = serde_json::to_value(FieldErrorSchema::schema()).expect("JSON");
        let mut documented: Vec<&String> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .collect();
        documented.sort();
        assert_eq!(written, documented);
        assert_eq!(schema["required"], serde_json::json!(["field", "message"]));
    }

    #[test]
    fn a_problem_is_written_as_before() {
        let problem = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            "bad".into(),
            Some(vec![FieldError::new("limit", "too large")]),
        );
        assert_eq!(
            serde_json::to_string(&problem).expect("JSON"),
            r#"{"type":"/problems/validation-error","title":"Unprocessable Entity","status":422,"detail":"bad","errors":[{"field":"limit","message":"too large"}]}"#
        );
        let plain = Problem::new(StatusCode::NOT_FOUND, "not-found", "x".into(), None);
        assert_eq!(
            serde_json::to_string(&plain).expect("JSON"),
            r#"{"type":"/problems/not-found","title":"Not Found","status":404,"detail":"x"}"#
        );
    }
}
