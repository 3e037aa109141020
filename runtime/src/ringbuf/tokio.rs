//! [`AsyncRingBuf`]: a [`RingBuf`] that waits in tokio (`AsyncFd` on the
//! map fd) instead of blocking in epoll.

use tokio::io::unix::AsyncFd;

use super::readiness::{drain_when_ready, register};
use super::{EventError, Flow, Record, RingBuf};

/// A ring buffer consumed from async code. Records reach the handler as
/// from [`RingBuf`]: zero-copy when their place is aligned for `E`, else
/// one copy into an aligned buffer the handle reuses (no allocation per
/// record).
///
/// ```no_run
/// # async fn f(rb: bpf2rs::ringbuf::RingBuf<u64>) -> Result<(), bpf2rs::ringbuf::EventError> {
/// let mut rb = bpf2rs::ringbuf::AsyncRingBuf::new(rb)?;
/// loop {
///     rb.poll(|v: &u64| println!("{v}")).await?;
/// }
/// # }
/// ```
///
/// Needs the `tokio` feature of `bpf2rs`.
#[derive(Debug)]
pub struct AsyncRingBuf<E: Record + ?Sized = [u8]> {
    fd: AsyncFd<RingBuf<E>>,
}

impl<E: Record + ?Sized> AsyncRingBuf<E> {
    /// Registers `ring` with the current tokio runtime (needs its IO driver).
    pub fn new(ring: RingBuf<E>) -> Result<Self, EventError> {
        let fd = register(ring.name().to_owned(), ring)?;
        Ok(AsyncRingBuf { fd })
    }

    /// Waits until records arrive and hands them to `handler`; returns how
    /// many (at least one).
    pub async fn poll<F, R>(&mut self, mut handler: F) -> Result<usize, EventError>
    where
        F: FnMut(&E) -> R,
        R: Flow,
    {
        // An empty drain has left the kernel seeing our consumer position
        // (see `RingReader::commit_and_recheck`): its next record wakes us.
        drain_when_ready(&mut self.fd, |ring| {
            let n = ring.consume(&mut handler)?;
            Ok((n > 0).then_some(n))
        })
        .await
    }

    /// Hands the records available now to `handler`, without waiting.
    pub fn consume<F, R>(&mut self, handler: F) -> Result<usize, EventError>
    where
        F: FnMut(&E) -> R,
        R: Flow,
    {
        self.fd.get_mut().consume(handler)
    }

    /// The ring buffer.
    pub fn get_ref(&self) -> &RingBuf<E> {
        self.fd.get_ref()
    }

    /// Deregisters and gives the ring buffer back.
    pub fn into_inner(self) -> RingBuf<E> {
        self.fd.into_inner()
    }
}
