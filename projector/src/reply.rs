//! The answer to a control request, as the running projector sends it and
//! the CLI reads it: one typed JSON object.

use serde::{Deserialize, Serialize};

use crate::parking;

/// The answer to a control request: one JSON object, printed by the CLI.
/// Which fields are set depends on the request; `error` says why it failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `switched` (rebuild), `equal` or `different` (verify), or what a
    /// retry did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The parked events, oldest first (`parked`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked: Option<Vec<parking::ParkedEvent>>,
    /// The generation now served (rebuild).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// The stream sequence the rebuilt or compared generation reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// The first document that differs (verify, when different).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<Difference>,
}

/// Two versions of one document: the live generation's and the rebuilt one's
/// (either may be missing), as relaxed extended JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub collection: String,
    pub live: Option<serde_json::Value>,
    pub rebuilt: Option<serde_json::Value>,
}

impl Reply {
    pub fn error(why: impl Into<String>) -> Self {
        Self {
            error: Some(why.into()),
            ..Self::default()
        }
    }

    /// Whether the request failed or found a difference (the CLI's exit status).
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.result.as_deref() == Some("different")
    }
}
