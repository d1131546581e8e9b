//! The orders of a project listing (`sort`), shared by the listing and its
//! frozen rankings.

use flow_readmodel::field;
use mongodb::bson::{Document, doc};
use serde::{Deserialize, Serialize};

/// The order of a project listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Newest first (by `created_seq`).
    New,
    /// Most voted first: the sum over the project's threads of
    /// `up_vote - down_vote`; ties newest first.
    Top,
    /// Latest thread activity first (a thread started, edited or voted on);
    /// ties newest first.
    Active,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::New, Sort::Top, Sort::Active];

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "new" => Ok(Self::New),
            "top" => Ok(Self::Top),
            "active" => Ok(Self::Active),
            other => Err(format!(
                "`{other}` is not a sort order; expected new, top or active"
            )),
        }
    }

    /// The field a ranked listing orders by before `created_seq`.
    pub fn key(self) -> &'static str {
        match self {
            Self::New => field::CREATED_SEQ,
            Self::Top => field::SCORE,
            Self::Active => field::LAST_ACTIVITY_SEQ,
        }
    }

    pub fn order(self) -> Document {
        match self {
            Self::New => doc! {field::CREATED_SEQ: -1},
            other => doc! {other.key(): -1, field::CREATED_SEQ: -1},
        }
    }
}
