//! [`UserRingBuf<E>`]: a `BPF_MAP_TYPE_USER_RINGBUF` that user space fills
//! and BPF programs drain with `bpf_user_ringbuf_drain`.
//!
//! In: the map. Out: reserve a record in place, write it, submit (or
//! discard) it; waiting for room uses epoll (EPOLLOUT). One producer: the
//! handle is the only writer (`&mut self`), and no other process may
//! produce into the same map.
//!
//! Records start 8-aligned. A reservation of a type aligned to more than
//! that whose place is not aligned for it is written in an aligned buffer
//! of the handle (made once) and copied into the ring on submit: the ring
//! holds exactly what it would for any other type, with no filler.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use super::record::RECORD_ALIGN;
use super::view::{Reserved, RingWriter};
use super::{setup_error, timeout_ms, AlignedScratch, EventError, Record};
use crate::map::{map_handle, Map, MapError};
use crate::obj::MapType;
use crate::sys::events::{Epoll, EpollEvent, EPOLLOUT};
use crate::Pod;

/// A ring buffer that user space writes records of `E` into.
///
/// Any alignment of `E` works. [`reserve`](Self::reserve) hands out the
/// record in place (zero-copy) whenever its place in the ring is aligned
/// for `E`, which is always the case for types aligned to 8 or less;
/// otherwise the record is written in a buffer aligned for `E`, made with
/// the handle and reused, and [`UserRecord::submit`] copies it into the
/// ring (one copy, no allocation). [`submit`](Self::submit) always copies.
///
/// ```no_run
/// use bpf2rs::ringbuf::UserRingBuf;
/// # fn f(map: bpf2rs::map::Map) -> Result<(), Box<dyn std::error::Error>> {
/// let mut rb = UserRingBuf::<u64>::from_map(map)?;
/// let mut slot = rb.reserve()?;
/// *slot = 42;
/// slot.submit();
/// rb.submit(&43)?; // reserve, copy, submit
/// # Ok(()) }
/// ```
pub struct UserRingBuf<E: ?Sized = [u8]> {
    map: Map,
    writer: RingWriter,
    epoll: Option<Epoll>,
    /// Where a reservation of `E` is written when its place in the ring is
    /// not aligned for `E` (empty unless `E` is aligned to more than 8).
    bounce: AlignedScratch,
    _event: PhantomData<fn(&E)>,
}

map_handle!(impl[E: Record + ?Sized] UserRingBuf<E>);

impl<E: Record + ?Sized> AsRawFd for UserRingBuf<E> {
    fn as_raw_fd(&self) -> RawFd {
        self.map.as_fd().as_raw_fd()
    }
}

/// A record reserved in a [`UserRingBuf`]: write it through `Deref`, then
/// [`submit`](Self::submit) it. Dropped without submitting, it is
/// discarded (the kernel skips it).
pub struct UserRecord<'a, R: ?Sized> {
    slot: Reserved<'a>,
    /// The handle's aligned buffer, when the slot is not aligned for `R`:
    /// the record is written here and copied into the slot on submit.
    bounce: Option<&'a mut [u8]>,
    done: bool,
    _record: PhantomData<&'a mut R>,
}

impl<E: Record + ?Sized> UserRingBuf<E> {
    /// Creates a user ring buffer of `size` bytes (a power of two, a
    /// multiple of the page size) and maps it.
    ///
    /// ```no_run
    /// let rb = bpf2rs::ringbuf::UserRingBuf::<u64>::create("commands", 1 << 16)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, size: u32) -> Result<Self, MapError> {
        let map = Map::create_simple(name, MapType::USER_RINGBUF, 0, 0, size, Default::default())?;
        Self::from_map(map)
    }

    /// Wraps `map` after checking that it is a user ring buffer, and maps
    /// its producer pages.
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        map.check(&[MapType::USER_RINGBUF], 0, 0)?;
        let size = map.info().max_entries as usize;
        let writer = RingWriter::new(map.as_fd(), size).map_err(setup_error(map.name(), "mmap"))?;
        Ok(UserRingBuf {
            map,
            writer,
            epoll: None,
            bounce: AlignedScratch::for_event::<E>(),
            _event: PhantomData,
        })
    }

    /// Free bytes now (a record takes its length plus 8, rounded up to 8).
    pub fn free(&self) -> usize {
        self.writer.free()
    }

    /// Reserves a record of `len` bytes, viewed as bytes.
    ///
    /// ```no_run
    /// # fn f(rb: &mut bpf2rs::ringbuf::UserRingBuf) -> Result<(), bpf2rs::ringbuf::EventError> {
    /// let mut r = rb.reserve_bytes(5)?;
    /// r.copy_from_slice(b"hello");
    /// r.submit();
    /// # Ok(()) }
    /// ```
    pub fn reserve_bytes(&mut self, len: usize) -> Result<UserRecord<'_, [u8]>, EventError> {
        self.check_room(len)?;
        self.reserve_checked(len)
    }

    /// Waits up to `timeout` for room for `len` bytes (epoll, woken when a
    /// program drains the ring), then reserves them.
    pub fn reserve_bytes_wait(
        &mut self,
        len: usize,
        timeout: Duration,
    ) -> Result<UserRecord<'_, [u8]>, EventError> {
        self.wait_room(len, timeout)?;
        self.reserve_checked(len)
    }

    /// Copies `value` into a new record and submits it.
    ///
    /// ```no_run
    /// # fn f(rb: &mut bpf2rs::ringbuf::UserRingBuf<u32>) -> Result<(), bpf2rs::ringbuf::EventError> {
    /// rb.submit(&7)?;
    /// # Ok(()) }
    /// ```
    pub fn submit(&mut self, value: &E) -> Result<(), EventError> {
        let bytes = value.record_bytes();
        let mut r = self.reserve_bytes(bytes.len())?;
        r.copy_from_slice(bytes);
        r.submit();
        Ok(())
    }

    fn check_room(&self, len: usize) -> Result<usize, EventError> {
        let needed = self
            .writer
            .needed(len)
            .ok_or_else(|| EventError::TooLarge {
                map: self.map.name().to_owned(),
                len,
                capacity: self.writer.size(),
            })?;
        let available = self.writer.free();
        if available < needed {
            return Err(EventError::Full {
                map: self.map.name().to_owned(),
                len,
                available,
            });
        }
        Ok(needed)
    }

    fn wait_room(&mut self, len: usize, timeout: Duration) -> Result<(), EventError> {
        let start = Instant::now();
        loop {
            match self.check_room(len) {
                Err(EventError::Full { .. }) if start.elapsed() < timeout => {}
                other => return other.map(|_| ()),
            }
            if self.epoll.is_none() {
                let e = Epoll::new().map_err(EventError::io(self.map.name(), "epoll_create"))?;
                e.add(self.map.as_fd(), EPOLLOUT, 0)
                    .map_err(EventError::io(self.map.name(), "epoll_ctl"))?;
                self.epoll = Some(e);
            }
            if let Some(epoll) = &self.epoll {
                let left = timeout.saturating_sub(start.elapsed());
                epoll
                    .wait(&mut [EpollEvent::EMPTY], timeout_ms(left))
                    .map_err(EventError::io(self.map.name(), "epoll_wait"))?;
            }
        }
    }

    /// Reserves after `check_room` said there is room.
    fn reserve_checked<R: Record + ?Sized>(
        &mut self,
        len: usize,
    ) -> Result<UserRecord<'_, R>, EventError> {
        let name = self.map.name();
        let Some(slot) = self.writer.reserve(len) else {
            return Err(EventError::Full {
                map: name.to_owned(),
                len,
                available: 0,
            });
        };
        let mut record: UserRecord<'_, R> = UserRecord {
            slot,
            bounce: None,
            done: false,
            _record: PhantomData,
        };
        if R::from_record_mut(&mut *record.slot.data).is_none() {
            // The length is R's, so the slot is misaligned: R is aligned to
            // more than the ring's 8, and `bounce` was made for it.
            match self.bounce.as_mut_slice().get_mut(..len) {
                Some(b) if R::ALIGN > RECORD_ALIGN && R::from_record(b).is_some() => {
                    record.bounce = Some(b);
                }
                _ => {
                    // Unreachable: `bounce` has room for one aligned E.
                    record.finish(true);
                    return Err(EventError::ShortRecord {
                        map: name.to_owned(),
                        len,
                        expected: R::MIN_LEN,
                    });
                }
            }
        }
        Ok(record)
    }
}

impl<E: Pod> UserRingBuf<E> {
    /// Reserves one `E`, to be written in place (or, if its place is not
    /// aligned for `E`, in the handle's aligned buffer: see
    /// [`UserRingBuf`]). What it holds before you write it is unspecified
    /// (old bytes): overwrite all of it.
    ///
    /// ```no_run
    /// # fn f(rb: &mut bpf2rs::ringbuf::UserRingBuf<[u64; 2]>) -> Result<(), bpf2rs::ringbuf::EventError> {
    /// let mut r = rb.reserve()?;
    /// *r = [1, 2];
    /// r.submit();
    /// # Ok(()) }
    /// ```
    pub fn reserve(&mut self) -> Result<UserRecord<'_, E>, EventError> {
        self.check_room(size_of::<E>())?;
        self.reserve_checked(size_of::<E>())
    }

    /// Waits up to `timeout` for room, then reserves one `E`.
    pub fn reserve_wait(&mut self, timeout: Duration) -> Result<UserRecord<'_, E>, EventError> {
        self.wait_room(size_of::<E>(), timeout)?;
        self.reserve_checked(size_of::<E>())
    }
}

impl<R: ?Sized> UserRecord<'_, R> {
    /// Hands the record to the kernel (after copying it into the ring if
    /// it was written in the handle's aligned buffer).
    pub fn submit(mut self) {
        self.finish(false);
    }

    /// Gives the space back unused (the kernel skips the record).
    pub fn discard(mut self) {
        self.finish(true);
    }

    /// The record's bytes (those that [`submit`](Self::submit) hands over).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.bounce {
            Some(b) => b,
            None => self.slot.data,
        }
    }

    /// The record's bytes, read-only.
    fn bytes(&self) -> &[u8] {
        match &self.bounce {
            Some(b) => b,
            None => self.slot.data,
        }
    }

    fn finish(&mut self, discard: bool) {
        if !self.done {
            self.done = true;
            if let (false, Some(b)) = (discard, &self.bounce) {
                self.slot.data.copy_from_slice(b);
            }
            self.slot.finish(discard);
        }
    }
}

impl<R: Record + ?Sized> Deref for UserRecord<'_, R> {
    type Target = R;
    fn deref(&self) -> &R {
        // Checked when reserved (length and alignment), so never the fallback.
        R::from_record(self.bytes()).unwrap_or_else(|| unreachable_record())
    }
}

impl<R: Record + ?Sized> DerefMut for UserRecord<'_, R> {
    fn deref_mut(&mut self) -> &mut R {
        match R::from_record_mut(self.bytes_mut()) {
            Some(r) => r,
            None => unreachable_record(),
        }
    }
}

#[cold]
fn unreachable_record() -> ! {
    unreachable!("user ring record checked at reserve")
}

impl<R: ?Sized> Drop for UserRecord<'_, R> {
    fn drop(&mut self) {
        self.finish(true);
    }
}

impl<R: ?Sized> std::fmt::Debug for UserRecord<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("len", &self.slot.len)
            .field("done", &self.done)
            .finish()
    }
}
