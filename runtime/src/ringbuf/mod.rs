//! Typed, zero-copy BPF ring buffers.
//!
//! In: a `BPF_MAP_TYPE_RINGBUF` (or `USER_RINGBUF`) map. Out: [`RingBuf<E>`],
//! which hands each record to a handler as `&E` straight from the shared
//! mapping (no copy, no allocation), [`RingBufPoller`] for several rings
//! behind one epoll, and [`UserRingBuf<E>`] for rings user space fills.
//! `E` is any [`Pod`](crate::Pod) type of any alignment, or `[u8]` for raw
//! records ([`RawRingBuf`]). Records start 8-aligned: a record of a more
//! aligned type that lands at a place not aligned for it is copied once
//! into a buffer of the handle, aligned for `E` and reused (still no
//! allocation per record).
//!
//! ```no_run
//! use std::time::Duration;
//! use bpf2rs::ringbuf::RingBuf;
//!
//! #[derive(Clone, Copy, bpf2rs::Pod)]
//! #[repr(C)]
//! struct Event { pid: u32, len: u32, seq: u64 }
//!
//! # fn f(map: bpf2rs::map::Map) -> Result<(), Box<dyn std::error::Error>> {
//! let mut events = RingBuf::<Event>::from_map(map)?;
//! loop {
//!     events.poll(Duration::from_millis(100), |e: &Event| {
//!         println!("{} {}", e.pid, e.seq);
//!     })?;
//! }
//! # }
//! ```
//!
//! With the `tokio` feature, `AsyncRingBuf` waits with `AsyncFd` (see the
//! feature-gated items below; docs.rs shows them all).

mod poller;
#[cfg(feature = "tokio")]
mod readiness;
mod record;
#[cfg(feature = "tokio")]
mod tokio;
mod user;
mod view;

use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

pub use poller::RingBufPoller;
pub use record::{EventError, Flow, Record};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use tokio::AsyncRingBuf;
pub use user::{UserRecord, UserRingBuf};

#[cfg(feature = "tokio")]
pub(crate) use readiness::{drain_when_ready, register};
pub(crate) use record::{setup_error, timeout_ms, AlignedScratch};

use crate::map::{map_handle, Map, MapError};
use crate::obj::MapType;
use crate::sys::events::{Epoll, EpollEvent, EPOLLIN};
use record::event_from;
use view::{Next, RingReader};

/// A ring buffer of records read as `E` (`BPF_MAP_TYPE_RINGBUF`).
///
/// Records are handed out in place: the handler's `&E` points into the
/// ring, which the kernel does not reuse until the drain publishes the
/// consumer position (once per batch, never while a record is borrowed).
/// A record shorter than `E` is an [`EventError::ShortRecord`]; a longer
/// one is read through its first `size_of::<E>()` bytes (use
/// [`RawRingBuf`] for every byte). Discarded records are skipped.
///
/// Any alignment of `E` works. Zero-copy whenever the record's place is
/// aligned for `E`, which is always the case for types aligned to 8 or
/// less (records start 8-aligned); a record of a more aligned type (a C
/// `__attribute__((aligned(16)))` struct, a `#[repr(align(16))]` type)
/// that lands elsewhere is copied once into a buffer aligned for `E`,
/// made with the handle and reused for every record: no allocation per
/// record either way.
pub struct RingBuf<E: ?Sized = [u8]> {
    map: Map,
    reader: RingReader,
    /// Made on the first `poll`.
    epoll: Option<Epoll>,
    /// Publish the consumer position at least every this many bytes, so a
    /// long drain keeps giving the producer room.
    commit_every: usize,
    /// Where records misaligned for `E` are copied (empty unless `E` is
    /// aligned to more than 8).
    scratch: AlignedScratch,
    _event: PhantomData<fn(&E)>,
}

/// A ring buffer of raw records: the handler gets each record's bytes.
pub type RawRingBuf = RingBuf<[u8]>;

map_handle!(impl[E: Record + ?Sized] RingBuf<E>);

impl<E: Record + ?Sized> AsRawFd for RingBuf<E> {
    fn as_raw_fd(&self) -> RawFd {
        self.map.as_fd().as_raw_fd()
    }
}

// The map fd is owned by `map` and never replaced.
#[cfg(feature = "tokio")]
impl<E: Record + ?Sized> crate::sys::events::StableFd for RingBuf<E> {}

impl<E: Record + ?Sized> RingBuf<E> {
    /// Creates a ring buffer of `size` bytes (a power of two, a multiple
    /// of the page size) and maps it.
    ///
    /// ```no_run
    /// let rb = bpf2rs::ringbuf::RawRingBuf::create("events", 1 << 20)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, size: u32) -> Result<Self, MapError> {
        let map = Map::create_simple(name, MapType::RINGBUF, 0, 0, size, Default::default())?;
        Self::from_map(map)
    }

    /// Wraps `map` after checking that it is a ring buffer, and maps its
    /// consumer and producer pages.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let rb = bpf2rs::ringbuf::RingBuf::<u64>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        map.check(&[MapType::RINGBUF], 0, 0)?;
        let size = map.info().max_entries as usize;
        let reader = RingReader::new(map.as_fd(), size).map_err(setup_error(map.name(), "mmap"))?;
        Ok(RingBuf {
            commit_every: (reader.size() / 8).clamp(256, 64 << 10),
            map,
            reader,
            epoll: None,
            scratch: AlignedScratch::for_event::<E>(),
            _event: PhantomData,
        })
    }

    /// A second handle on the same ring (the map fd duplicated and mapped
    /// again), e.g. to move into an async task
    /// (`AsyncRingBuf::new`, feature `tokio`) while a
    /// skeleton keeps its own. Both handles share the one consumer
    /// position: consume from one of them at a time.
    ///
    /// ```no_run
    /// # fn f(rb: &bpf2rs::ringbuf::RingBuf<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let mine = rb.try_clone()?;
    /// # Ok(()) }
    /// ```
    pub fn try_clone(&self) -> Result<Self, MapError> {
        Self::from_map(self.map.try_clone()?)
    }

    /// The data area size in bytes.
    pub fn size(&self) -> usize {
        self.reader.size()
    }

    /// Bytes the kernel has produced that were not consumed yet.
    pub fn available(&self) -> usize {
        self.reader.available()
    }

    /// Hands every record available now to `handler`, without waiting;
    /// returns how many it got. Stops early when the handler returns
    /// `ControlFlow::Break(())`.
    ///
    /// ```no_run
    /// # fn f(rb: &mut bpf2rs::ringbuf::RingBuf<u64>) -> Result<(), bpf2rs::ringbuf::EventError> {
    /// let mut sum = 0;
    /// let n = rb.consume(|v: &u64| sum += *v)?;
    /// # Ok(()) }
    /// ```
    pub fn consume<F, R>(&mut self, mut handler: F) -> Result<usize, EventError>
    where
        F: FnMut(&E) -> R,
        R: Flow,
    {
        let mut n = 0;
        self.reader.begin();
        loop {
            self.reader.refresh();
            loop {
                match self.reader.next() {
                    Next::Empty | Next::Busy => break,
                    Next::Discarded => {}
                    Next::Record(r) => {
                        let bytes = self.reader.bytes(r);
                        let Some(event) = event_from::<E>(bytes, &mut self.scratch) else {
                            let len = bytes.len();
                            self.reader.commit();
                            return Err(self.short(len));
                        };
                        n += 1;
                        if handler(event).is_break() {
                            self.reader.commit();
                            return Ok(n);
                        }
                    }
                    Next::Corrupt { position, len } => return Err(self.corrupt(position, len)),
                }
                if self.reader.pending() >= self.commit_every {
                    self.reader.commit();
                }
            }
            if !self.reader.commit_and_recheck() {
                return Ok(n);
            }
        }
    }

    /// Waits up to `timeout` for records (with epoll on the map fd) and
    /// hands them to `handler`; returns how many (0 when the time ran out).
    /// Records already waiting are handled without a system call.
    /// `Duration::MAX` waits without limit.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # fn f(rb: &mut bpf2rs::ringbuf::RawRingBuf) -> Result<(), bpf2rs::ringbuf::EventError> {
    /// rb.poll(Duration::from_millis(100), |bytes: &[u8]| println!("{} bytes", bytes.len()))?;
    /// # Ok(()) }
    /// ```
    pub fn poll<F, R>(&mut self, timeout: Duration, mut handler: F) -> Result<usize, EventError>
    where
        F: FnMut(&E) -> R,
        R: Flow,
    {
        let n = self.consume(&mut handler)?;
        if n > 0 || timeout.is_zero() {
            return Ok(n);
        }
        let start = Instant::now();
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            self.wait(left)?;
            let n = self.consume(&mut handler)?;
            if n > 0 || start.elapsed() >= timeout {
                return Ok(n);
            }
        }
    }

    /// Reads records one at a time: `while let Some(e) = it.next() { .. }`.
    /// The consumer position is published as batches end and when the
    /// iterator is dropped.
    ///
    /// ```no_run
    /// # fn f(rb: &mut bpf2rs::ringbuf::RingBuf<u64>) -> Result<(), bpf2rs::ringbuf::EventError> {
    /// let mut it = rb.iter();
    /// while let Some(v) = it.next() {
    ///     println!("{}", v?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter(&mut self) -> RingBufIter<'_, E> {
        self.reader.begin();
        self.reader.refresh();
        RingBufIter { ring: self }
    }

    /// Blocks until the ring is readable or `timeout` passes.
    fn wait(&mut self, timeout: Duration) -> Result<(), EventError> {
        if self.epoll.is_none() {
            let epoll = Epoll::new().map_err(EventError::io(self.map.name(), "epoll_create"))?;
            epoll
                .add(self.map.as_fd(), EPOLLIN, 0)
                .map_err(EventError::io(self.map.name(), "epoll_ctl"))?;
            self.epoll = Some(epoll);
        }
        if let Some(epoll) = &self.epoll {
            let mut ev = [EpollEvent::EMPTY];
            epoll
                .wait(&mut ev, timeout_ms(timeout))
                .map_err(EventError::io(self.map.name(), "epoll_wait"))?;
        }
        Ok(())
    }

    #[cold]
    fn short(&self, len: usize) -> EventError {
        short_record::<E>(&self.map, len)
    }

    #[cold]
    fn corrupt(&self, position: u64, len: u32) -> EventError {
        EventError::Corrupt {
            map: self.map.name().to_owned(),
            position,
            message: format!(
                "length {len} does not fit the {}-byte ring",
                self.reader.size()
            ),
        }
    }
}

/// A record of `len` bytes, shorter than `E`, in `map`.
#[cold]
fn short_record<E: Record + ?Sized>(map: &Map, len: usize) -> EventError {
    EventError::ShortRecord {
        map: map.name().to_owned(),
        len,
        expected: E::MIN_LEN,
    }
}

/// One record at a time out of a [`RingBuf`]; see [`RingBuf::iter`].
///
/// Not a `std` iterator: each record borrows the iterator, because its
/// bytes are only valid until the consumer position moves past them.
pub struct RingBufIter<'a, E: Record + ?Sized> {
    ring: &'a mut RingBuf<E>,
}

impl<E: Record + ?Sized> RingBufIter<'_, E> {
    /// The next record, `None` when none is available now.
    #[allow(clippy::should_implement_trait)] // reason: a lending iterator cannot be `Iterator`
    pub fn next(&mut self) -> Option<Result<&E, EventError>> {
        let r = loop {
            match self.ring.reader.next() {
                Next::Record(r) => break r,
                Next::Discarded => {}
                Next::Empty | Next::Busy => {
                    if !self.ring.reader.commit_and_recheck() {
                        return None;
                    }
                }
                Next::Corrupt { position, len } => {
                    return Some(Err(self.ring.corrupt(position, len)))
                }
            }
            if self.ring.reader.pending() >= self.ring.commit_every {
                self.ring.reader.commit();
            }
        };
        let ring = &mut *self.ring;
        let bytes = ring.reader.bytes(r);
        let len = bytes.len();
        match event_from::<E>(bytes, &mut ring.scratch) {
            Some(event) => Some(Ok(event)),
            None => Some(Err(short_record::<E>(&ring.map, len))),
        }
    }
}

impl<E: Record + ?Sized> Drop for RingBufIter<'_, E> {
    fn drop(&mut self) {
        self.ring.reader.commit();
    }
}

impl<E: Record + ?Sized> std::fmt::Debug for RingBufIter<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingBufIter")
            .field("map", &self.ring.name())
            .finish()
    }
}
