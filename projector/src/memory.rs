//! Giving freed heap memory back to the system.
//!
//! glibc's allocator keeps what a process frees inside its arenas, for reuse.
//! A service that allocates and frees many small objects at a high rate (the
//! projector decodes, plans and merges every event) ends up holding several
//! times its live heap: measured on a rebuild, a peak heap of 18.5 MB in 50 MB
//! of RSS. `malloc_trim` returns the free pages.

use std::time::Duration;

/// Returns freed heap pages to the system (glibc; elsewhere nothing to do).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `malloc_trim` takes the allocator's own locks and changes no
    // memory in use; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Calls [`release_free_memory`] every `every`, off the async workers, for
/// as long as the task runs.
pub async fn release_periodically(every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if tokio::task::spawn_blocking(release_free_memory)
            .await
            .is_err()
        {
            return;
        }
    }
}
