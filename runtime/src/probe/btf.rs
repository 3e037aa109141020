//! BTF the probes load: a few types written by hand into the wire format
//! (include/uapi/linux/btf.h), one kind per probe, as libbpf's
//! features.c does. The kernel refuses a kind it does not know with
//! EINVAL, so loading one tells whether the kernel has it.
//!
//! In: type records as `u32` words and a string section. Out: the BTF's
//! fd, or the kernel's errno.

use std::os::fd::OwnedFd;

use crate::sys::{self, SysError};

pub(super) const KIND_INT: u32 = 1;
pub(super) const KIND_PTR: u32 = 2;
pub(super) const KIND_STRUCT: u32 = 4;
pub(super) const KIND_FUNC: u32 = 12;
pub(super) const KIND_FUNC_PROTO: u32 = 13;
pub(super) const KIND_VAR: u32 = 14;
pub(super) const KIND_DATASEC: u32 = 15;
pub(super) const KIND_FLOAT: u32 = 16;
pub(super) const KIND_DECL_TAG: u32 = 17;
pub(super) const KIND_TYPE_TAG: u32 = 18;
pub(super) const KIND_ENUM64: u32 = 19;

/// `BTF_FUNC_GLOBAL`: a FUNC's linkage in its vlen bits.
pub(super) const FUNC_GLOBAL: u32 = 1;

/// A type's first three words: name offset, info (kind, vlen), and size or
/// referenced type.
pub(super) fn type_head(name_off: u32, kind: u32, vlen: u32, size_or_type: u32) -> [u32; 3] {
    [name_off, (kind << 24) | (vlen & 0xffff), size_or_type]
}

/// A signed 32-bit `int` named by `name_off`: its head and encoding word.
pub(super) fn int32(name_off: u32) -> [u32; 4] {
    const BTF_INT_SIGNED: u32 = 1;
    let [a, b, c] = type_head(name_off, KIND_INT, 0, 4);
    [a, b, c, (BTF_INT_SIGNED << 24) | 32]
}

/// Loads the BTF made of `types` (concatenated records) and `strings`
/// (starting with the empty string).
pub(super) fn load(types: &[u32], strings: &[u8]) -> Result<OwnedFd, SysError> {
    const HEADER_LEN: u32 = 24;
    let type_len = (types.len() * 4) as u32;
    let mut raw = Vec::with_capacity(HEADER_LEN as usize + types.len() * 4 + strings.len());
    raw.extend_from_slice(&0xeb9f_u16.to_ne_bytes()); // magic
    raw.push(1); // version
    raw.push(0); // flags
    for word in [HEADER_LEN, 0, type_len, type_len, strings.len() as u32] {
        // hdr_len, type_off, type_len, str_off, str_len
        raw.extend_from_slice(&word.to_ne_bytes());
    }
    for word in types {
        raw.extend_from_slice(&word.to_ne_bytes());
    }
    raw.extend_from_slice(strings);
    sys::btf_load(&raw, &mut [])
}

/// The BTF of a local storage map's value as libbpf's probe has it:
/// `struct val { int cnt; struct bpf_spin_lock l; }` (type 3), with `int`
/// as type 1, so the map can be created with key type 1 and value type 3.
pub(super) fn load_local_storage_btf() -> Result<OwnedFd, SysError> {
    // Offsets:  1 "bpf_spin_lock", 15 "val", 19 "cnt", 23 "l".
    let strings = b"\0bpf_spin_lock\0val\0cnt\0l\0";
    let mut types = Vec::new();
    types.extend(int32(0)); // [1] int
    types.extend(type_head(1, KIND_STRUCT, 1, 4)); // [2] struct bpf_spin_lock
    types.extend([15, 1, 0]); // int val; (name, type, bit offset)
    types.extend(type_head(15, KIND_STRUCT, 2, 8)); // [3] struct val
    types.extend([19, 1, 0]); // int cnt;
    types.extend([23, 2, 32]); // struct bpf_spin_lock l;
    load(&types, strings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_head_packs_kind_and_vlen() {
        assert_eq!(type_head(5, KIND_STRUCT, 2, 8), [5, 0x0400_0002, 8]);
        assert_eq!(int32(1), [1, 0x0100_0000, 4, 0x0100_0020]);
    }
}
