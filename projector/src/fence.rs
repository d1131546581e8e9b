//! The store guard: whatever the lease says, a batch takes effect only if
//! the instance that wrote it still holds the newest epoch and the position
//! it started from is still the recorded one.
//!
//! The lease (see [`crate::lease`]) makes one instance active, but no lease
//! is strictly exclusive: an instance paused past its lease (SIGSTOP, a long
//! GC-like stall, a partition) may wake up still believing it is active. So
//! the position document carries a fencing token, `epoch`: the lease's
//! revision when this instance took it over, which only grows from one
//! takeover to the next. The active instance
//! 1. claims the epoch before writing a batch's documents: a conditional
//!    update `{_id, epoch <= mine} -> {epoch: mine}`; once a newer instance
//!    has claimed, a deposed one matches nothing and stops;
//! 2. writes the documents (each guarded by the `seq` of the event that
//!    last changed it), then the parked events;
//! 3. moves the position with a compare-and-set
//!    `{_id, epoch: mine, position: started_from} -> {position: new}`.
//!
//! Why that is safe without isolated transactions: a deposed writer can
//! write at most the one batch whose claim it passed before the newer
//! instance claimed. Those statements are events the newer instance applies
//! too, in the same order, and each is guarded by its sequence: a document
//! already changed by a later event refuses it, and one not yet changed gets
//! exactly the change the newer instance would make (which then refuses its
//! own copy). So the stale batch at most re-applies idempotent statements
//! early; it can never move the position (step 3 matches nothing), never
//! acknowledges (acks follow the position), and then stands by.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use flow_readmodel::{ReadModel, field};
use mongodb::bson::{Document, doc};

/// The fencing token's field in the position document.
pub const EPOCH: &str = "epoch";

/// This instance's right to write: its epoch (0 while standing by) and until
/// when its lease is valid by its own clock.
#[derive(Debug, Default)]
pub struct Fence {
    epoch: AtomicU64,
    valid_until: Mutex<Option<Instant>>,
}

impl Fence {
    /// A fence that holds `epoch` for good (tests, tools).
    pub fn fixed(epoch: u64) -> Self {
        let fence = Self::default();
        fence.epoch.store(epoch, Ordering::SeqCst);
        fence
    }

    /// Holding the lease taken over at revision `epoch`, valid until `until`.
    pub fn hold(&self, epoch: u64, until: Instant) {
        self.epoch.store(epoch, Ordering::SeqCst);
        self.extend(until);
    }

    /// A renewal: valid until `until`.
    pub fn extend(&self, until: Instant) {
        if let Ok(mut valid) = self.valid_until.lock() {
            *valid = Some(until);
        }
    }

    /// Standing by: nothing may be written.
    pub fn release(&self) {
        if let Ok(mut valid) = self.valid_until.lock() {
            *valid = Some(Instant::now());
        }
        self.epoch.store(0, Ordering::SeqCst);
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// The epoch, if the lease is still valid by this instance's clock (a
    /// fixed fence is always valid).
    pub fn valid_epoch(&self) -> Result<u64, Deposed> {
        let epoch = self.epoch();
        if epoch == 0 {
            return Err(Deposed("not the active instance".into()));
        }
        let valid = self
            .valid_until
            .lock()
            .map(|v| v.is_none_or(|until| Instant::now() < until))
            .unwrap_or(false);
        if valid {
            Ok(epoch)
        } else {
            Err(Deposed(format!("the lease of epoch {epoch} expired")))
        }
    }
}

/// This instance may no longer write: another one took over.
#[derive(Debug, Clone, thiserror::Error)]
#[error("deposed: {0}")]
pub struct Deposed(pub String);

/// What the guard could not do.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(transparent)]
    Deposed(#[from] Deposed),
    #[error("the position document: {0}")]
    Store(#[from] mongodb::error::Error),
}

fn claim_filter(id: &str, epoch: u64) -> Document {
    doc! {field::ID: id, EPOCH: {"$lte": epoch as i64}}
}

/// Claims the model's position document for `epoch` (step 1); returns the
/// recorded position. Creates the document if it is missing.
pub async fn claim(model: &ReadModel, epoch: u64) -> Result<u64, GuardError> {
    let id = model.position_id();
    // The document every claim and compare-and-set acts on, with an epoch:
    // a generation just started, or one a rebuild wrote unguarded (no one
    // writes a generation being built), has none yet. `$max` with 0 never
    // lowers one that is there.
    model
        .state
        .update_one(
            doc! {field::ID: &id},
            doc! {"$max": {field::POSITION: 0i64, EPOCH: 0i64}},
        )
        .upsert(true)
        .await?;
    let claimed = model
        .state
        .update_one(
            claim_filter(&id, epoch),
            doc! {"$set": {EPOCH: epoch as i64}, "$max": {field::POSITION: 0i64}},
        )
        .await?;
    let found = model.state.find_one(doc! {field::ID: &id}).await?;
    let recorded = |name: &str| recorded(found.as_ref(), name);
    if claimed.matched_count == 0 || recorded(EPOCH) != epoch {
        return Err(Deposed(format!("epoch {} holds {id}, not {epoch}", recorded(EPOCH))).into());
    }
    Ok(recorded(field::POSITION))
}

/// A number of the position document as found (0 where it has none).
pub(crate) fn recorded(found: Option<&Document>, name: &str) -> u64 {
    found
        .and_then(|d| d.get(name))
        .map(flow_readmodel::bson_u64)
        .unwrap_or(0)
}

/// Moves the position from `from` to `to` if `epoch` still holds it and
/// nothing else moved it (step 3). A reply lost after the server applied it
/// is recognised on retry.
pub async fn advance(model: &ReadModel, epoch: u64, from: u64, to: u64) -> Result<(), GuardError> {
    let id = model.position_id();
    let moved = model
        .state
        .update_one(
            doc! {field::ID: &id, EPOCH: epoch as i64, field::POSITION: from as i64},
            doc! {"$set": {field::POSITION: to as i64}},
        )
        .await?;
    if moved.matched_count == 1 {
        return Ok(());
    }
    let found = model.state.find_one(doc! {field::ID: &id}).await?;
    let recorded = |name: &str| recorded(found.as_ref(), name);
    if recorded(EPOCH) == epoch && recorded(field::POSITION) == to {
        return Ok(());
    }
    Err(Deposed(format!(
        "{id} is at position {} of epoch {}, not {from} of epoch {epoch}",
        recorded(field::POSITION),
        recorded(EPOCH)
    ))
    .into())
}
