//! What the event consumers share: [`Record`] (how a record's bytes become
//! the handler's `&E`), [`Flow`] (a handler asking to stop) and
//! [`EventError`].

use std::io;
use std::ops::ControlFlow;

use crate::map::MapError;
use crate::Pod;

mod sealed {
    pub trait Sealed {}
    impl<T: crate::Pod> Sealed for T {}
    impl Sealed for [u8] {}
}

/// A type records are read as: any [`Pod`] type (records must be at least
/// its size; a longer record is read through its first `size_of::<E>()`
/// bytes), or `[u8]` for the raw bytes of every record.
pub trait Record: sealed::Sealed {
    /// The fewest bytes a record needs.
    const MIN_LEN: usize;
    /// The alignment the record's first byte needs.
    const ALIGN: usize;

    /// The record's bytes as `&Self`; `None` if too short or misaligned.
    fn from_record(bytes: &[u8]) -> Option<&Self>;

    /// The record's bytes as `&mut Self`; `None` if too short or misaligned.
    fn from_record_mut(bytes: &mut [u8]) -> Option<&mut Self>;

    /// The bytes a value of `Self` is written as.
    fn record_bytes(&self) -> &[u8];
}

impl<T: Pod> Record for T {
    const MIN_LEN: usize = size_of::<T>();
    const ALIGN: usize = align_of::<T>();

    #[inline]
    fn from_record(bytes: &[u8]) -> Option<&T> {
        T::ref_from_bytes(bytes.get(..size_of::<T>())?)
    }

    #[inline]
    fn from_record_mut(bytes: &mut [u8]) -> Option<&mut T> {
        T::mut_from_bytes(bytes.get_mut(..size_of::<T>())?)
    }

    fn record_bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Record for [u8] {
    const MIN_LEN: usize = 0;
    const ALIGN: usize = 1;

    #[inline]
    fn from_record(bytes: &[u8]) -> Option<&[u8]> {
        Some(bytes)
    }

    #[inline]
    fn from_record_mut(bytes: &mut [u8]) -> Option<&mut [u8]> {
        Some(bytes)
    }

    fn record_bytes(&self) -> &[u8] {
        self
    }
}

/// What a handler returns: `()` to go on, or a [`ControlFlow`] whose
/// `Break` stops the drain after this record (the rest stay in the buffer).
pub trait Flow {
    /// Whether to stop after this record.
    fn is_break(&self) -> bool;
}

impl Flow for () {
    #[inline]
    fn is_break(&self) -> bool {
        false
    }
}

impl Flow for ControlFlow<()> {
    #[inline]
    fn is_break(&self) -> bool {
        self.is_break()
    }
}

/// A failed event operation. Messages read as a path:
/// `map events: record of 4 bytes is shorter than the event type (64 bytes)`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// A record shorter than the handler's type. The record is consumed
    /// (the next call goes on after it); the handler did not see it.
    #[error("map {map}: record of {len} bytes is shorter than the event type ({expected} bytes)")]
    ShortRecord {
        map: String,
        len: usize,
        expected: usize,
    },
    /// A record header the kernel could not have written.
    #[error("map {map}: corrupt record at position {position}: {message}")]
    Corrupt {
        map: String,
        position: u64,
        message: String,
    },
    /// A user ring buffer has no room for the record now.
    #[error("map {map}: reserve: no room for a {len}-byte record ({available} bytes free)")]
    Full {
        map: String,
        len: usize,
        available: usize,
    },
    /// A record that can never fit the ring (or the header's 30-bit length).
    #[error("map {map}: reserve: a {len}-byte record does not fit a {capacity}-byte ring")]
    TooLarge {
        map: String,
        len: usize,
        capacity: usize,
    },
    /// A system call (mmap, epoll, perf_event_open) failed.
    #[error("map {map}: {op}: {source}")]
    Io {
        map: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    /// A map operation failed.
    #[error(transparent)]
    Map(#[from] MapError),
}

impl EventError {
    pub(crate) fn io<'a>(
        map: &'a str,
        op: &'static str,
    ) -> impl FnOnce(io::Error) -> EventError + 'a {
        move |source| EventError::Io {
            map: map.to_owned(),
            op,
            source,
        }
    }
}

/// A setup failure (mmap, perf_event_open) as the [`MapError`] that map
/// handles' constructors return.
pub(crate) fn setup_error<'a>(
    map: &'a str,
    op: &'static str,
) -> impl FnOnce(io::Error) -> MapError + 'a {
    move |source| MapError::Sys {
        map: map.to_owned(),
        op,
        source: crate::sys::SysError { op, source },
    }
}

/// Bytes starting at an address aligned for an event type, made once per
/// handle and reused: where a record whose place in the ring is not aligned
/// for `E` is copied before the handler sees it (no allocation per record).
///
/// Safe code only: the vector is over-allocated by `align - 1` bytes and
/// the view starts at the first aligned address in it. The heap block
/// never moves (the vector is never grown), so neither does the view.
#[derive(Debug, Default)]
pub(crate) struct AlignedScratch {
    buf: Vec<u8>,
    /// Where the aligned view starts in `buf`.
    start: usize,
    len: usize,
}

impl AlignedScratch {
    /// `len` zeroed bytes starting at a multiple of `align` (a power of two).
    pub(crate) fn new(len: usize, align: usize) -> AlignedScratch {
        let align = align.max(1);
        let buf = vec![0u8; len + (align - 1)];
        let addr = buf.as_ptr() as usize;
        AlignedScratch {
            start: addr.next_multiple_of(align) - addr,
            buf,
            len,
        }
    }

    /// What a ring buffer handle of `E` needs: room for one `E` when it is
    /// more aligned than ring records (which start 8-aligned), else nothing.
    pub(crate) fn for_event<E: Record + ?Sized>() -> AlignedScratch {
        if E::ALIGN > RECORD_ALIGN {
            AlignedScratch::new(E::MIN_LEN, E::ALIGN)
        } else {
            AlignedScratch::default()
        }
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.buf
            .get(self.start..self.start + self.len)
            .unwrap_or(&[])
    }

    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        self.buf
            .get_mut(self.start..self.start + self.len)
            .unwrap_or(&mut [])
    }
}

/// The alignment every ring buffer record (and user ring reservation)
/// starts at: 8 (`BPF_RINGBUF_HDR_SZ`, and lengths rounded up to 8).
pub(crate) const RECORD_ALIGN: usize = 8;

/// A record's bytes as `&E`: in place when the record's place is aligned
/// for `E`, otherwise its first `size_of::<E>()` bytes copied into
/// `scratch` (aligned for `E`, see [`AlignedScratch::for_event`]). `None`
/// if the record is shorter than `E`.
#[inline]
pub(crate) fn event_from<'a, E: Record + ?Sized>(
    bytes: &'a [u8],
    scratch: &'a mut AlignedScratch,
) -> Option<&'a E> {
    match E::from_record(bytes) {
        Some(event) => Some(event),
        None => copied(bytes, scratch),
    }
}

/// The slow path of [`event_from`]: a record too short, or misaligned.
#[cold]
#[inline(never)]
fn copied<'a, E: Record + ?Sized>(bytes: &[u8], scratch: &'a mut AlignedScratch) -> Option<&'a E> {
    let src = bytes.get(..E::MIN_LEN)?;
    let dst = scratch.as_mut_slice().get_mut(..E::MIN_LEN)?;
    dst.copy_from_slice(src);
    E::from_record(dst)
}

/// A `Duration` as epoll's timeout in milliseconds: sub-millisecond waits
/// round up, and anything past `i32::MAX` ms (e.g. `Duration::MAX`) is forever.
pub(crate) fn timeout_ms(d: std::time::Duration) -> i32 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    i32::try_from(ms).unwrap_or(-1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn records_from_bytes() {
        let words = [1u64, 2, 3];
        let bytes = words.as_bytes();
        assert_eq!(u64::from_record(bytes), Some(&1));
        assert_eq!(<[u64; 2]>::from_record(bytes), Some(&[1, 2]));
        assert_eq!(<[u64; 4]>::from_record(bytes), None, "short record");
        assert_eq!(u64::from_record(&bytes[4..]), None, "misaligned");
        assert_eq!(<[u8]>::from_record(&bytes[..3]).map(<[u8]>::len), Some(3));
    }

    #[test]
    fn scratch_is_aligned_and_sized() {
        for align in [1, 8, 16, 64, 4096] {
            let mut s = AlignedScratch::new(40, align);
            assert_eq!(s.as_slice().len(), 40);
            assert!((s.as_mut_slice().as_ptr() as usize).is_multiple_of(align));
        }
        assert!(AlignedScratch::for_event::<u64>().as_slice().is_empty());
        assert!(AlignedScratch::for_event::<[u8]>().as_slice().is_empty());
        let s = AlignedScratch::for_event::<[u128; 2]>();
        assert_eq!(s.as_slice().len(), 32);
        assert!((s.as_slice().as_ptr() as usize).is_multiple_of(16));
    }

    #[test]
    fn events_are_read_in_place_when_aligned_else_copied_once() {
        assert_eq!(
            align_of::<u128>(),
            16,
            "the test needs a 16-aligned Pod type"
        );
        let words: [u128; 3] = [1, 2 | (3 << 64), 4];
        let bytes = words.as_bytes();
        let mut scratch = AlignedScratch::for_event::<u128>();
        let scratch_at = scratch.as_slice().as_ptr();

        // 8-aligned types are always read in place (ring records start 8-aligned).
        let v = event_from::<u64>(&bytes[8..], &mut scratch).unwrap();
        assert_eq!(std::ptr::from_ref(v).cast(), bytes[8..].as_ptr());

        // A 16-aligned place: in place.
        let v = event_from::<u128>(&bytes[16..], &mut scratch).unwrap();
        assert_eq!(*v, 2 | (3 << 64));
        assert_eq!(std::ptr::from_ref(v).cast(), bytes[16..].as_ptr());

        // An 8-aligned place: one copy into the scratch buffer, every time the same one.
        for _ in 0..2 {
            let v = event_from::<u128>(&bytes[8..], &mut scratch).unwrap();
            assert_eq!(*v, u128::from_ne_bytes(bytes[8..24].try_into().unwrap()));
            assert_eq!(std::ptr::from_ref(v).cast(), scratch_at);
        }
        // Longer records are read through their prefix, copied or not.
        let v = event_from::<u128>(&bytes[8..40], &mut scratch).unwrap();
        assert_eq!(*v, u128::from_ne_bytes(bytes[8..24].try_into().unwrap()));

        // Short records are still short.
        assert!(event_from::<u128>(&bytes[8..16], &mut scratch).is_none());
        assert!(event_from::<u128>(&bytes[16..24], &mut scratch).is_none());
        assert_eq!(
            event_from::<[u8]>(&bytes[3..5], &mut scratch).map(<[u8]>::len),
            Some(2)
        );
    }

    #[test]
    fn timeouts() {
        assert_eq!(timeout_ms(Duration::ZERO), 0);
        assert_eq!(timeout_ms(Duration::from_micros(1)), 1);
        assert_eq!(timeout_ms(Duration::from_millis(100)), 100);
        assert_eq!(timeout_ms(Duration::MAX), -1);
    }
}
