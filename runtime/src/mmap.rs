//! Shared memory mappings of maps (BPF_F_MMAPABLE arrays: global data).
//!
//! In: a map fd and a length. Out: [`Mmap`], an owned mapping unmapped on
//! drop, with byte and typed views. The bytes are shared with BPF programs,
//! which may write them at any time: a typed view is a snapshot-free window,
//! so read fields you care about (or copy the struct) rather than holding a
//! reference across program runs and expecting it to stay unchanged.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use crate::Pod;

/// An owned `mmap` of a map's value area.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; concurrent access is the same
// as between a program and user space, which the kernel allows.
unsafe impl Send for Mmap {}
// SAFETY: as above; `&Mmap` gives only byte views whose reads cannot fault.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Maps `len` bytes of `fd` (offset 0), writable when `writable`.
    pub fn map(fd: BorrowedFd<'_>, len: usize, writable: bool) -> std::io::Result<Mmap> {
        if len == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "cannot map 0 bytes",
            ));
        }
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a fresh shared mapping of a valid fd; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        NonNull::new(p as *mut u8)
            .map(|ptr| Mmap { ptr, len })
            .ok_or_else(|| std::io::Error::other("mmap returned NULL"))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The mapped bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The mapped bytes, writable (the mapping must have been made writable).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as above, and `&mut self` makes this the only Rust view.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// The start of the mapping as `&T`, if it is large enough. Page
    /// alignment satisfies any `T`'s alignment.
    pub fn get<T: Pod>(&self) -> Option<&T> {
        (std::mem::size_of::<T>() <= self.len).then(|| {
            // SAFETY: in bounds, page-aligned, and every bit pattern is a valid T.
            unsafe { &*(self.ptr.as_ptr() as *const T) }
        })
    }

    /// The start of the mapping as `&mut T`, if it is large enough.
    pub fn get_mut<T: Pod>(&mut self) -> Option<&mut T> {
        (std::mem::size_of::<T>() <= self.len).then(|| {
            // SAFETY: as in `get`, and `&mut self` makes this the only Rust view.
            unsafe { &mut *(self.ptr.as_ptr() as *mut T) }
        })
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the region this value mapped.
        unsafe {
            libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.len);
        }
    }
}
