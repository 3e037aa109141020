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

/// Checks at handle creation that records of `E` can be read in place
/// (records start 8-byte aligned).
pub(crate) fn check_align<E: Record + ?Sized>(map: &str) -> Result<(), MapError> {
    if E::ALIGN > 8 {
        return Err(MapError::Invalid {
            map: map.to_owned(),
            op: "from_map",
            message: format!(
                "the event type needs {}-byte alignment; records are only 8-byte aligned",
                E::ALIGN
            ),
        });
    }
    Ok(())
}

/// A `Duration` as epoll's timeout in milliseconds: sub-millisecond waits
/// round up, and anything past `i32::MAX` ms (e.g. `Duration::MAX`) is forever.
pub(crate) fn timeout_ms(d: std::time::Duration) -> i32 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    i32::try_from(ms).unwrap_or(-1)
}

#[cfg(test)]
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
    fn timeouts() {
        assert_eq!(timeout_ms(Duration::ZERO), 0);
        assert_eq!(timeout_ms(Duration::from_micros(1)), 1);
        assert_eq!(timeout_ms(Duration::from_millis(100)), 100);
        assert_eq!(timeout_ms(Duration::MAX), -1);
    }
}
