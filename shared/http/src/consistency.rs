//! The consistency token: what a write gives out (`consistency_token`, and
//! the `Consistency-Token` header) and a read may send back to wait for it.

use std::{fmt, str::FromStr};

/// The stream sequence of a write, written `s<sequence>` (e.g. `s42`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsistencyToken(pub u64);

impl ConsistencyToken {
    /// The header carrying it, on a write's answer and on a read.
    pub const HEADER: &'static str = "consistency-token";

    /// The stream sequence the read model must have applied.
    pub fn sequence(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConsistencyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// A string that is not a token a write gave out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a consistency token (`s` and a stream sequence)")]
pub struct NotAToken;

impl FromStr for ConsistencyToken {
    type Err = NotAToken;

    /// `s` and a sequence below 2^64, spaces around it ignored.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        raw.trim()
            .strip_prefix('s')
            .and_then(|seq| seq.parse().ok())
            .map(Self)
            .ok_or(NotAToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_as_written() {
        for seq in [0, 1, 42, u64::MAX] {
            let token = ConsistencyToken(seq);
            assert_eq!(token.to_string(), format!("s{seq}"));
            assert_eq!(token.to_string().parse(), Ok(token));
        }
        assert_eq!(" s7\t".parse(), Ok(ConsistencyToken(7)));
        assert_eq!("s+7".parse(), Ok(ConsistencyToken(7)));
        for bad in [
            "",
            "s",
            "7",
            "S7",
            "s-1",
            "s18446744073709551616",
            "s 7",
            "x7",
        ] {
            assert_eq!(bad.parse::<ConsistencyToken>(), Err(NotAToken), "{bad}");
        }
    }
}
