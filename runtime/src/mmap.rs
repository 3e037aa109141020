//! Shared memory mappings of maps (BPF_F_MMAPABLE arrays: global data).
//!
//! In: a map fd and a length. Out: [`Mmap`], an owned mapping unmapped on
//! drop, with byte and typed views. The bytes are shared with BPF programs,
//! which may write them at any time: a typed view is a snapshot-free window,
//! so read fields you care about (or copy the struct) rather than holding a
//! reference across program runs and expecting it to stay unchanged.

use std::os::fd::BorrowedFd;

use crate::sys::events::Mapping;
use crate::Pod;

/// An owned `mmap` of a map's value area.
#[derive(Debug)]
pub struct Mmap {
    // The shared mapping primitive of `sys::events` (also behind the ring
    // and perf buffers); unmapped when dropped.
    mapping: Mapping,
}

impl Mmap {
    /// Maps `len` bytes of `fd` (offset 0), writable when `writable`.
    pub fn map(fd: BorrowedFd<'_>, len: usize, writable: bool) -> std::io::Result<Mmap> {
        Mapping::map(fd, 0, len, writable).map(|mapping| Mmap { mapping })
    }

    pub fn len(&self) -> usize {
        self.mapping.len()
    }

    /// Bytes actually mapped: whole pages.
    fn mapped_len(&self) -> usize {
        self.len().next_multiple_of(4096)
    }

    pub fn is_empty(&self) -> bool {
        self.mapping.is_empty()
    }

    /// The mapped bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `mapping` covers `len()` readable bytes for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.mapping.as_ptr(), self.len()) }
    }

    /// The mapped bytes, writable (the mapping must have been made writable).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as above, and `&mut self` makes this the only Rust view.
        unsafe { std::slice::from_raw_parts_mut(self.mapping.as_ptr(), self.len()) }
    }

    /// The start of the mapping as `&T`, if it fits in the mapped pages
    /// (`len()` rounded up to a page; Linux pages are multiples of 4 KiB).
    /// A generated global-data type may be a few bytes longer than its
    /// section: its tail padding. Page alignment satisfies any `T`'s
    /// alignment.
    pub fn get<T: Pod>(&self) -> Option<&T> {
        (std::mem::size_of::<T>() <= self.mapped_len()).then(|| {
            // SAFETY: in bounds, page-aligned, and every bit pattern is a valid T.
            unsafe { &*(self.mapping.as_ptr() as *const T) }
        })
    }

    /// The start of the mapping as `&mut T`, if it is large enough.
    pub fn get_mut<T: Pod>(&mut self) -> Option<&mut T> {
        (std::mem::size_of::<T>() <= self.mapped_len()).then(|| {
            // SAFETY: as in `get`, and `&mut self` makes this the only Rust view.
            unsafe { &mut *(self.mapping.as_ptr() as *mut T) }
        })
    }
}
