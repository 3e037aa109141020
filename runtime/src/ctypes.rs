//! C types that have no exact Rust twin, used by generated code.

use crate::Pod;

/// C's `_Bool`: one byte. Any non-zero byte reads as `true` (the kernel
/// writes only 0 or 1), so every bit pattern is valid and the type is Pod.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct Bool(pub u8);

impl Bool {
    /// The value as a Rust `bool`.
    pub fn get(self) -> bool {
        self.0 != 0
    }
    /// Stores `v` as 0 or 1.
    pub fn set(&mut self, v: bool) {
        self.0 = u8::from(v);
    }
}

impl From<bool> for Bool {
    fn from(v: bool) -> Bool {
        Bool(u8::from(v))
    }
}

impl core::fmt::Debug for Bool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.get(), f)
    }
}

// SAFETY: one byte, every bit pattern valid.
unsafe impl Pod for Bool {}

/// A C string stored in a fixed `char` array: the bytes up to the first NUL
/// (all of them if there is none).
///
/// ```
/// assert_eq!(bpf2rs::ctypes::c_str(b"bash\0\0\0\0"), b"bash");
/// ```
pub fn c_str(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// [`c_str`] as text, with invalid UTF-8 replaced.
pub fn c_str_lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(c_str(bytes))
}

/// `s` as a NUL-terminated C string in a fixed `char` array (the form
/// generated code gives `char name[N]`), or None if it does not fit with
/// its NUL or contains one.
///
/// ```
/// let name: [u8; 16] = bpf2rs::ctypes::c_str_array("my_cc").unwrap();
/// assert_eq!(bpf2rs::ctypes::c_str(&name), b"my_cc");
/// assert!(bpf2rs::ctypes::c_str_array::<4>("toolong").is_none());
/// ```
pub fn c_str_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = s.as_bytes();
    if bytes.len() >= N || bytes.contains(&0) {
        return None;
    }
    let mut out = [0u8; N];
    out[..bytes.len()].copy_from_slice(bytes);
    Some(out)
}
