//! [`RingBufPoller`]: several ring buffers, each with its own handler,
//! behind one epoll (like libbpf's `ring_buffer__add`).
//!
//! In: [`RingBuf`]s of any record types and their handlers. Out: `poll` and
//! `consume` over all of them; handlers run in place, without allocating.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use super::{timeout_ms, EventError, Flow, Record, RingBuf};
use crate::map::Map;
use crate::sys::events::{Epoll, EpollEvent, EPOLLIN};

/// A ring buffer with its handler, type-erased so rings of different
/// record types share one poller.
trait Drain {
    fn drain(&mut self) -> Result<usize, EventError>;
    fn map(&self) -> &Map;
}

struct Entry<E: Record + ?Sized, F> {
    ring: RingBuf<E>,
    handler: F,
}

impl<E, F, R> Drain for Entry<E, F>
where
    E: Record + ?Sized,
    F: FnMut(&E) -> R,
    R: Flow,
{
    fn drain(&mut self) -> Result<usize, EventError> {
        self.ring.consume(&mut self.handler)
    }

    fn map(&self) -> &Map {
        self.ring.map()
    }
}

/// Several ring buffers polled together.
///
/// ```no_run
/// use std::time::Duration;
/// use bpf2rs::ringbuf::{RawRingBuf, RingBuf, RingBufPoller};
/// # fn f(a: RingBuf<u64>, b: RawRingBuf) -> Result<(), bpf2rs::ringbuf::EventError> {
/// let (mut sum, mut bytes) = (0u64, 0usize);
/// let mut poller = RingBufPoller::new()?;
/// poller.add(a, |v: &u64| sum += *v)?;
/// poller.add(b, |r: &[u8]| bytes += r.len())?;
/// poller.poll(Duration::from_millis(100))?;
/// # Ok(()) }
/// ```
pub struct RingBufPoller<'h> {
    epoll: Epoll,
    rings: Vec<Box<dyn Drain + Send + 'h>>,
    events: Vec<EpollEvent>,
}

impl std::fmt::Debug for RingBufPoller<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingBufPoller")
            .field(
                "rings",
                &self
                    .rings
                    .iter()
                    .map(|r| r.map().name())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<'h> RingBufPoller<'h> {
    /// An empty poller.
    pub fn new() -> Result<Self, EventError> {
        Ok(RingBufPoller {
            epoll: Epoll::new().map_err(EventError::io("poller", "epoll_create"))?,
            rings: Vec::new(),
            events: Vec::new(),
        })
    }

    /// Adds `ring`, whose records go to `handler`; returns its index.
    ///
    /// ```no_run
    /// # fn f(p: &mut bpf2rs::ringbuf::RingBufPoller<'_>, rb: bpf2rs::ringbuf::RingBuf<u32>) -> Result<(), bpf2rs::ringbuf::EventError> {
    /// let index = p.add(rb, |v: &u32| println!("{v}"))?;
    /// # Ok(()) }
    /// ```
    pub fn add<E, F, R>(&mut self, ring: RingBuf<E>, handler: F) -> Result<usize, EventError>
    where
        E: Record + ?Sized + 'h,
        F: FnMut(&E) -> R + Send + 'h,
        R: Flow,
    {
        let index = self.rings.len();
        self.epoll
            .add(ring.as_fd(), EPOLLIN, index as u64)
            .map_err(EventError::io(ring.name(), "epoll_ctl"))?;
        self.rings.push(Box::new(Entry { ring, handler }));
        self.events.push(EpollEvent::EMPTY);
        Ok(index)
    }

    /// How many rings were added.
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// Whether no ring was added.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// The map of ring `index`.
    pub fn map(&self, index: usize) -> Option<&Map> {
        self.rings.get(index).map(|r| r.map())
    }

    /// Drains every ring without waiting; returns how many records were
    /// handled. The first error stops the drain.
    pub fn consume(&mut self) -> Result<usize, EventError> {
        let mut n = 0;
        for ring in &mut self.rings {
            n += ring.drain()?;
        }
        Ok(n)
    }

    /// Drains ring `index` only.
    pub fn consume_ring(&mut self, index: usize) -> Result<usize, EventError> {
        match self.rings.get_mut(index) {
            Some(ring) => ring.drain(),
            None => Ok(0),
        }
    }

    /// Waits up to `timeout` until some ring has records, then drains the
    /// rings epoll reported; returns how many records were handled (0
    /// when the time ran out). Records already waiting are handled first,
    /// without a system call.
    pub fn poll(&mut self, timeout: Duration) -> Result<usize, EventError> {
        let n = self.consume()?;
        if n > 0 || timeout.is_zero() {
            return Ok(n);
        }
        let start = Instant::now();
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            let ready = self
                .epoll
                .wait(&mut self.events, timeout_ms(left))
                .map_err(EventError::io("poller", "epoll_wait"))?;
            let mut n = 0;
            for ev in &self.events[..ready] {
                if let Some(ring) = self.rings.get_mut(ev.data() as usize) {
                    n += ring.drain()?;
                }
            }
            if n > 0 || start.elapsed() >= timeout {
                return Ok(n);
            }
        }
    }
}
