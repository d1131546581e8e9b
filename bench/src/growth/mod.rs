//! The growth mode (`flow-bench growth`): how the costs grow with the data.
//!
//! Two parts, each on a system of its own started from empty servers:
//! - listings: `GET /projects` by `sort=new`, `sort=top`, a tag and a search
//!   at 1,000, 10,000 and 100,000 projects, with query-api's response cache
//!   off, beside the same find with the driver;
//! - vote subjects: votes through command-api with 10,000 and 1,000,000
//!   distinct vote subjects in the stream.

mod listings;
mod subjects;
mod write;

use crate::{cli::Options, setup::Setup};

/// The projects of the listings part, step by step.
const PROJECTS: [usize; 3] = [1_000, 10_000, 100_000];
/// The distinct vote subjects of the vote part, step by step.
const SUBJECTS: [u64; 2] = [10_000, 1_000_000];

/// Runs both parts and writes `growth.json`, `growth.md` and `growth.svg`.
pub async fn run(options: &Options, setup: &Setup, http: &reqwest::Client) -> anyhow::Result<()> {
    let (projects, subjects) = if options.quick {
        (&PROJECTS[..2], &SUBJECTS[..1])
    } else {
        (&PROJECTS[..], &SUBJECTS[..])
    };
    let listings = listings::run(options, &setup.part("listings")?, http, projects).await?;
    let votes = subjects::run(options, &setup.part("votes")?, http, subjects).await?;
    write::write(options, setup, &listings, &votes)
}
