//! `Pod`: types that are plain bytes, safe to copy to and from the kernel.
//!
//! In: nothing. Out: the [`Pod`] marker with byte views, implemented for
//! integers, floats, arrays of Pod and (by generated code or
//! `#[derive(Pod)]`) for `#[repr(C)]` types without implicit padding.

/// A type for which every bit pattern is a valid value and which has no
/// padding bytes, so it can be viewed as bytes and built from bytes.
///
/// # Safety
/// Implement only for types that are `#[repr(C)]`, `#[repr(transparent)]` or
/// primitive, with no padding anywhere and only Pod fields. Generated code and
/// `#[derive(Pod)]` check this at compile time.
pub unsafe trait Pod: Copy + Send + Sync + 'static {
    /// The all-zero value.
    fn zeroed() -> Self {
        // SAFETY: every bit pattern, zero included, is a valid `Self`.
        unsafe { core::mem::zeroed() }
    }

    /// The value's bytes.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Self` has no padding, so all `size_of` bytes are initialised.
        unsafe {
            core::slice::from_raw_parts(
                self as *const Self as *const u8,
                core::mem::size_of::<Self>(),
            )
        }
    }

    /// The value's bytes, writable.
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: no padding, and every bit pattern is valid, so any write keeps `Self` valid.
        unsafe {
            core::slice::from_raw_parts_mut(
                self as *mut Self as *mut u8,
                core::mem::size_of::<Self>(),
            )
        }
    }

    /// `bytes` viewed as `&Self`, if it is exactly the size and suitably aligned.
    fn ref_from_bytes(bytes: &[u8]) -> Option<&Self> {
        let ok = bytes.len() == core::mem::size_of::<Self>()
            && (bytes.as_ptr() as usize).is_multiple_of(core::mem::align_of::<Self>());
        // SAFETY: size and alignment checked; any bits are a valid `Self`.
        ok.then(|| unsafe { &*(bytes.as_ptr() as *const Self) })
    }

    /// `bytes` viewed as `&mut Self`, if it is exactly the size and suitably aligned.
    fn mut_from_bytes(bytes: &mut [u8]) -> Option<&mut Self> {
        let ok = bytes.len() == core::mem::size_of::<Self>()
            && (bytes.as_ptr() as usize).is_multiple_of(core::mem::align_of::<Self>());
        // SAFETY: size and alignment checked; any write keeps `Self` valid (no padding, all bits valid).
        ok.then(|| unsafe { &mut *(bytes.as_mut_ptr() as *mut Self) })
    }

    /// A value read from the start of `bytes`, or `None` if there are fewer
    /// than `size_of::<Self>()` bytes. Any alignment is fine.
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < core::mem::size_of::<Self>() {
            return None;
        }
        // SAFETY: length checked; `read_unaligned` has no alignment need; any bits are valid.
        Some(unsafe { core::ptr::read_unaligned(bytes.as_ptr() as *const Self) })
    }
}

macro_rules! pod {
    ($($t:ty),*) => { $(
        // SAFETY: primitive with no padding; every bit pattern is valid.
        unsafe impl Pod for $t {}
    )* };
}
pod!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

// SAFETY: an array of Pod has no padding between elements and any bits are valid.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

pub use bpf2rs_reader::AlignedBytes;
