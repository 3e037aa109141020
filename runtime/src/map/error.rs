//! Errors of map operations: which map, which operation, and why.

use crate::sys::SysError;

/// A map operation that failed. The message reads
/// `map flows: insert: map is full (E2BIG)`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// The kernel refused the operation.
    #[error("map {map}: {op}: {}", describe(.source))]
    Sys {
        map: String,
        op: &'static str,
        #[source]
        source: SysError,
    },
    /// A handle's Rust types do not fit the map the kernel has.
    #[error("map {map}: {what}: Rust type is {rust} bytes, the map's is {kernel} bytes")]
    SizeMismatch {
        map: String,
        what: &'static str,
        rust: usize,
        kernel: usize,
    },
    /// A handle of one family was asked for a map of another.
    #[error("map {map}: is a {actual} map, not {expected}")]
    WrongType {
        map: String,
        expected: String,
        actual: String,
    },
    /// Bad input from the caller (an index past max_entries, a bad path).
    #[error("map {map}: {op}: {message}")]
    Invalid {
        map: String,
        op: &'static str,
        message: String,
    },
}

impl MapError {
    /// The errno of a kernel refusal.
    pub fn errno(&self) -> Option<i32> {
        match self {
            MapError::Sys { source, .. } => source.errno(),
            _ => None,
        }
    }
}

/// The errno with what it usually means for maps.
fn describe(e: &SysError) -> String {
    let hint = match e.errno() {
        Some(libc::E2BIG) => "map is full (E2BIG)",
        Some(libc::ENOENT) => "no such element (ENOENT)",
        Some(libc::EEXIST) => "element exists (EEXIST)",
        Some(libc::EPERM) => "operation not permitted (EPERM): run as root or with CAP_BPF",
        Some(libc::EINVAL) => "invalid argument (EINVAL)",
        Some(libc::ENOMEM) => "out of memory (ENOMEM)",
        Some(libc::EBUSY) => "busy (EBUSY)",
        Some(libc::ENOSPC) => "no space left in the map (ENOSPC)",
        Some(libc::EOPNOTSUPP) => "not supported by this map type or kernel (EOPNOTSUPP)",
        _ => return format!("{}: {}", e.op, e.source),
    };
    format!("{}: {hint}", e.op)
}
