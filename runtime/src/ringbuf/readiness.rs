//! The tokio waiting that both async consumers
//! ([`AsyncRingBuf`](super::AsyncRingBuf) and
//! [`AsyncPerfEventArray`](crate::perf::AsyncPerfEventArray)) share:
//! registering with the runtime, and the wait, drain, re-arm loop.
//!
//! In: a consumer whose fd is readable when records are waiting. Out: the
//! `AsyncFd` around it, and one drain that found something.

use tokio::io::unix::AsyncFd;

use super::EventError;
use crate::sys::events::{async_fd, StableFd};

/// Registers `inner` with the current tokio runtime (needs its IO driver);
/// `name` is the map's, for the error.
pub(crate) fn register<T: StableFd>(name: String, inner: T) -> Result<AsyncFd<T>, EventError> {
    async_fd(inner).map_err(|source| EventError::Io {
        map: name,
        op: "AsyncFd::register",
        source,
    })
}

/// Waits until `fd` is readable, then runs `drain` on the consumer until
/// it returns something. A drain that finds nothing clears the readiness
/// first: tokio only wakes us again on a new edge, and the drain has made
/// sure the kernel will send one.
pub(crate) async fn drain_when_ready<T: StableFd, N>(
    fd: &mut AsyncFd<T>,
    mut drain: impl FnMut(&mut T) -> Result<Option<N>, EventError>,
) -> Result<N, EventError> {
    loop {
        let mut guard = fd.readable_mut().await.map_err(|source| EventError::Io {
            map: String::new(),
            op: "AsyncFd::readable",
            source,
        })?;
        if let Some(got) = drain(guard.get_inner_mut())? {
            return Ok(got);
        }
        guard.clear_ready();
    }
}
