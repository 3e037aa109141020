//! [`AsyncPerfEventArray`]: a [`PerfEventArray`] that waits in tokio
//! (`AsyncFd` on its epoll fd, which is readable when any CPU's buffer is).

use tokio::io::unix::AsyncFd;

use super::{EventError, Flow, PerfEventArray, Received, Record};
use crate::ringbuf::{drain_when_ready, register};

/// Perf buffers consumed from async code. Samples reach the handler as
/// from [`PerfEventArray`]: zero-copy when contiguous and aligned for `E`,
/// else one copy into an aligned per-CPU buffer the handle reuses (no
/// allocation per sample).
///
/// ```no_run
/// # async fn f(p: bpf2rs::perf::PerfEventArray<u64>) -> Result<(), bpf2rs::ringbuf::EventError> {
/// let mut p = bpf2rs::perf::AsyncPerfEventArray::new(p)?;
/// loop {
///     let got = p.poll(|cpu, v: &u64| println!("{cpu}: {v}")).await?;
///     if got.lost > 0 {
///         eprintln!("lost {}", got.lost);
///     }
/// }
/// # }
/// ```
///
/// Needs the `tokio` feature of `bpf2rs`.
#[derive(Debug)]
pub struct AsyncPerfEventArray<E: Record + ?Sized = [u8]> {
    fd: AsyncFd<PerfEventArray<E>>,
}

impl<E: Record + ?Sized> AsyncPerfEventArray<E> {
    /// Registers the buffers with the current tokio runtime.
    pub fn new(perf: PerfEventArray<E>) -> Result<Self, EventError> {
        let fd = register(perf.name().to_owned(), perf)?;
        Ok(AsyncPerfEventArray { fd })
    }

    /// Waits until samples (or lost counts) arrive and drains them.
    pub async fn poll<F, R>(&mut self, mut handler: F) -> Result<Received, EventError>
    where
        F: FnMut(u32, &E) -> R,
        R: Flow,
    {
        drain_when_ready(&mut self.fd, |perf| {
            // Collect (and so reset) the inner epoll's ready list, then drain all.
            let mut got = perf.wait_and_drain(0, &mut handler)?;
            let rest = perf.consume(&mut handler)?;
            got.events += rest.events;
            got.lost += rest.lost;
            Ok((got != Received::default()).then_some(got))
        })
        .await
    }

    /// Drains every buffer without waiting.
    pub fn consume<F, R>(&mut self, handler: F) -> Result<Received, EventError>
    where
        F: FnMut(u32, &E) -> R,
        R: Flow,
    {
        self.fd.get_mut().consume(handler)
    }

    /// The buffers.
    pub fn get_ref(&self) -> &PerfEventArray<E> {
        self.fd.get_ref()
    }

    /// Deregisters and gives the buffers back.
    pub fn into_inner(self) -> PerfEventArray<E> {
        self.fd.into_inner()
    }
}
