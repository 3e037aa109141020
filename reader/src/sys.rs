//! The reader's one system call: a read-only memory map of a BTF file, to
//! parse kernel BTF without copying it through 4 KiB sysfs reads.
//!
//! In: a path under `/sys/kernel/btf/`. Out: the file's bytes, mapped, or an
//! error when the file cannot be mapped (module BTF never can; vmlinux BTF can
//! since Linux 6.16, "btf: Allow mmap of vmlinux btf"), after which the
//! caller reads the file instead.
//!
//! Only kernel BTF is mapped: it never changes while mapped, so the mapping
//! cannot shrink under the slice (which for an ordinary file would turn
//! reads into SIGBUS).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A `PROT_READ`, `MAP_PRIVATE` mapping of a whole file.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapping {
    /// Maps `path`, which must be kernel BTF (see the module docs).
    pub(crate) fn kernel_btf(path: &Path) -> io::Result<Mapping> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
        if len == 0 {
            return Err(io::Error::other("empty file"));
        }
        // SAFETY: a fresh read-only private mapping of an open descriptor;
        // no existing memory is touched. The result is checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { ptr, len })
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a readable mapping of `len` bytes that lives until
        // `self` is dropped, and kernel BTF is never written or truncated.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `kernel_btf`; no slice
        // from `bytes` outlives `self`.
        unsafe {
            libc::munmap(self.ptr, self.len);
        }
    }
}
