//! A byte buffer aligned for any Pod view: the section contents the object
//! reader hands out, and global data edited before load.

/// Bytes aligned to 16, so that any plain-bytes type can be viewed in them
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
