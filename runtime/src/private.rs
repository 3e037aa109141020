//! What generated code calls. Not a public API: paths and signatures may
//! change with any release (generated code is regenerated with the crate).

/// Reads `bits` bits starting `bit_offset` bits into `storage` (the kernel's
/// little-endian bitfield layout), sign-extending when `signed`.
#[inline]
pub fn bitfield_get(storage: &[u8], bit_offset: u32, bits: u32, signed: bool) -> u64 {
    let mut raw: u128 = 0;
    for (i, b) in storage.iter().take(16).enumerate() {
        raw |= u128::from(*b) << (8 * i);
    }
    let v = (raw >> bit_offset) as u64;
    if bits >= 64 {
        return v;
    }
    let v = v & ((1u64 << bits) - 1);
    if signed && bits > 0 && v >> (bits - 1) & 1 == 1 {
        v | !((1u64 << bits) - 1)
    } else {
        v
    }
}

/// Writes the low `bits` bits of `value` at `bit_offset` into `storage`,
/// leaving the other bits as they are.
#[inline]
pub fn bitfield_set(storage: &mut [u8], bit_offset: u32, bits: u32, value: u64) {
    let mask: u128 = if bits >= 64 {
        u64::MAX as u128
    } else {
        (1u128 << bits) - 1
    };
    let mut raw: u128 = 0;
    for (i, b) in storage.iter().take(16).enumerate() {
        raw |= u128::from(*b) << (8 * i);
    }
    raw = (raw & !(mask << bit_offset)) | ((u128::from(value) & mask) << bit_offset);
    for (i, b) in storage.iter_mut().take(16).enumerate() {
        *b = (raw >> (8 * i)) as u8;
    }
}

/// Formats a union as its bytes (reading a member would need `unsafe`).
pub fn fmt_union(name: &str, bytes: &[u8], f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    write!(f, "{name} {{ bytes: {bytes:02x?} }}")
}

/// Formats an enum newtype: the enumerator's name when the value has one.
pub fn fmt_enum(
    name: &str,
    known: Option<&str>,
    value: &dyn core::fmt::Debug,
    f: &mut core::fmt::Formatter<'_>,
) -> core::fmt::Result {
    match known {
        Some(k) => f.write_str(k),
        None => write!(f, "{name}({value:?})"),
    }
}

/// Compile-time layout check used by generated code: each row is (what
/// Rust computed, what BTF says, which size/alignment/offset). A mismatch
/// fails the build naming the row.
pub const fn check_layout(rows: &[(usize, usize, &'static str)]) {
    let mut i = 0;
    while i < rows.len() {
        if rows[i].0 != rows[i].1 {
            panic!("{}", rows[i].2);
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_bitfield_round_trips_across_bytes() {
        let mut s = [0u8; 3];
        bitfield_set(&mut s, 6, 5, (-3i64) as u64);
        assert_eq!(bitfield_get(&s, 6, 5, true) as i64, -3);
        assert_eq!(bitfield_get(&s, 6, 5, false), 0b11101);
        assert_eq!(s, [0b0100_0000, 0b0000_0111, 0]);
    }
}
