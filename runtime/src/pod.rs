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

/// Bytes aligned to 16, so that any Pod type can be viewed in them
/// (global data before load is edited through typed views).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlignedBytes {
    words: Vec<u128>,
    len: usize,
}

impl AlignedBytes {
    /// A copy of `bytes`.
    pub fn new(bytes: &[u8]) -> AlignedBytes {
        let mut a = AlignedBytes {
            words: vec![0; bytes.len().div_ceil(16)],
            len: bytes.len(),
        };
        a.as_mut_slice().copy_from_slice(bytes);
        a
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `words` holds at least `len` initialised bytes; u8 has no alignment needs.
        unsafe { core::slice::from_raw_parts(self.words.as_ptr() as *const u8, self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as above, uniquely borrowed; any byte value is a valid u128 bit.
        unsafe { core::slice::from_raw_parts_mut(self.words.as_mut_ptr() as *mut u8, self.len) }
    }

    /// The bytes and the zeroed padding up to the next multiple of 16.
    pub fn as_mut_padded(&mut self) -> &mut [u8] {
        let len = self.words.len() * 16;
        // SAFETY: `words` holds `len` initialised bytes; uniquely borrowed;
        // any byte value is a valid u128 bit.
        unsafe { core::slice::from_raw_parts_mut(self.words.as_mut_ptr() as *mut u8, len) }
    }
}
