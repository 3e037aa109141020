//! The BTF wire format (`include/uapi/linux/btf.h`, Documentation/bpf/btf.rst)
//! read into the model, in either byte order.
//!
//! In: raw `.BTF` bytes (and the base for split BTF). Out: where the type and
//! string sections are, and an index over the type records. Every offset,
//! count and id is checked here (with `check`), so the records decode
//! without errors later and the model can be walked without further bounds
//! checks on names.

use std::ops::Range;

use super::check::{self, Checker, Index};
use super::error::BtfError;
use super::types::Kind;
use super::Btf;

pub(crate) const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
/// Type ids are 32-bit but the kernel caps them well below; so do we, which
/// keeps `count` arithmetic in u32.
pub(crate) const MAX_TYPES: u32 = 0x7fff_ffff;

/// Byte order of a BTF blob (taken from the magic).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Endian {
    Little,
    Big,
}

/// Bounds-checked reader over a byte slice in one byte order.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) endian: Endian,
}

impl<'a> Reader<'a> {
    pub(crate) fn u32(&self, offset: usize, what: &'static str) -> Result<u32, BtfError> {
        let bytes = self
            .data
            .get(offset..offset.wrapping_add(4))
            .filter(|_| offset <= usize::MAX - 4)
            .ok_or_else(|| truncated(what, offset, 4, self.data.len()))?;
        let raw = [bytes[0], bytes[1], bytes[2], bytes[3]];
        Ok(match self.endian {
            Endian::Little => u32::from_le_bytes(raw),
            Endian::Big => u32::from_be_bytes(raw),
        })
    }

    /// A sub-range, checked.
    pub(crate) fn slice(
        &self,
        offset: usize,
        len: usize,
        what: &'static str,
    ) -> Result<Reader<'a>, BtfError> {
        let data = offset
            .checked_add(len)
            .and_then(|end| self.data.get(offset..end))
            .ok_or_else(|| truncated(what, offset, len, self.data.len()))?;
        Ok(Reader {
            data,
            endian: self.endian,
        })
    }
}

/// The fixed header at the start of every BTF blob.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) endian: Endian,
    pub(crate) hdr_len: u32,
    pub(crate) type_off: u32,
    pub(crate) type_len: u32,
    pub(crate) str_off: u32,
    pub(crate) str_len: u32,
}

pub(crate) fn endian_of(data: &[u8], magic: u16) -> Option<Endian> {
    let m = data.get(0..2)?;
    if u16::from_le_bytes([m[0], m[1]]) == magic {
        Some(Endian::Little)
    } else if u16::from_be_bytes([m[0], m[1]]) == magic {
        Some(Endian::Big)
    } else {
        None
    }
}

/// Reads `struct btf_header`, which may be longer than the 24 bytes we know.
///
/// Longer headers: newer kernels and pahole may append fields, and every
/// section offset is relative to the end of `hdr_len`, so the sections we
/// know are still found. The kernel, loading BTF, refuses a header whose
/// bytes past the ones it knows are not all zero (`btf_parse_hdr` in
/// kernel/bpf/btf.c: "Unsupported btf_header", -E2BIG, the rule of
/// `bpf_check_uarg_tail_zero`): it must not accept a request it only half
/// understands. A reader is in the other position: the BTF comes from a
/// kernel or a compiler newer than us, and refusing a non-zero tail would
/// make, say, a future vmlinux whose header describes an extra section
/// unreadable. So, like libbpf's `btf_parse_hdr`, we read the fields we know
/// and skip the rest, zero or not. What we hand to the kernel is written
/// again by `Btf::to_bytes` with a 24-byte header, so unknown fields never
/// reach it.
pub(crate) fn read_header(data: &[u8]) -> Result<Header, BtfError> {
    if data.len() < HEADER_LEN {
        return Err(BtfError::Truncated {
            what: "header",
            offset: 0,
            need: HEADER_LEN,
            len: data.len(),
        });
    }
    let endian = endian_of(data, MAGIC).ok_or_else(|| BtfError::BadMagic {
        found: u16::from_le_bytes([data[0], data[1]]),
    })?;
    if data[2] != 1 {
        return Err(BtfError::BadVersion { found: data[2] });
    }
    let r = Reader { data, endian };
    let hdr = Header {
        endian,
        hdr_len: r.u32(4, "header")?,
        type_off: r.u32(8, "header")?,
        type_len: r.u32(12, "header")?,
        str_off: r.u32(16, "header")?,
        str_len: r.u32(20, "header")?,
    };
    if (hdr.hdr_len as usize) < HEADER_LEN || hdr.hdr_len as usize > data.len() {
        return Err(BtfError::BadHeader(format!(
            "header length {} is outside 24..={}",
            hdr.hdr_len,
            data.len()
        )));
    }
    if !hdr.type_off.is_multiple_of(4) {
        return Err(BtfError::BadHeader(format!(
            "type section offset {} is not 4-byte aligned",
            hdr.type_off
        )));
    }
    Ok(hdr)
}

/// What the wire reader produced: where the type and string sections are in
/// the input, and the index [`check`] built over the (checked) types.
pub(crate) struct Parsed {
    pub(crate) endian: Endian,
    pub(crate) index: Index,
    pub(crate) types: Range<usize>,
    pub(crate) strings: Range<usize>,
    /// Whether this blob's strings and its base's are all ASCII.
    pub(crate) ascii: bool,
}

/// Where a blob's sections are, found from its header with the checks
/// that need no pass over them.
struct Layout {
    endian: Endian,
    types: Range<usize>,
    strings: Range<usize>,
    /// Length of the base's strings and this blob's together.
    str_total: u32,
}

fn layout(data: &[u8], base: Option<&Btf>) -> Result<Layout, BtfError> {
    let hdr = read_header(data)?;
    let hdr_len = hdr.hdr_len as usize;
    let body = Reader {
        data,
        endian: hdr.endian,
    }
    .slice(hdr_len, data.len() - hdr_len, "body")?;
    let strings = body
        .slice(hdr.str_off as usize, hdr.str_len as usize, "string section")?
        .data;
    body.slice(hdr.type_off as usize, hdr.type_len as usize, "type section")?;
    // Split BTF may carry an empty string section of its own; base BTF must
    // start with the empty name.
    if strings.last().is_some_and(|&b| b != 0) {
        return Err(BtfError::StringsNotTerminated);
    }
    if base.is_none() && strings.first().is_some_and(|&b| b != 0) {
        return Err(BtfError::BadHeader(
            "string section does not start with the empty name".into(),
        ));
    }
    let str_base = base.map_or(0, Btf::strings_len);
    let str_total = u32::try_from(str_base as u64 + strings.len() as u64)
        .map_err(|_| BtfError::BadHeader("string section too large".into()))?;
    // Both ranges were checked by `body.slice` above, so they cannot overflow.
    let at = |off: u32, len: u32| hdr_len + off as usize..hdr_len + off as usize + len as usize;
    Ok(Layout {
        endian: hdr.endian,
        types: at(hdr.type_off, hdr.type_len),
        strings: at(hdr.str_off, hdr.str_len),
        str_total,
    })
}

/// BTF strings are C identifiers and section names: ASCII, which is quick
/// to check and makes every offset a character boundary. Anything else
/// must at least be UTF-8. Returns whether `strings` are ASCII.
fn check_text(strings: &[u8], ascii: bool) -> Result<bool, BtfError> {
    if ascii {
        return Ok(true);
    }
    match std::str::from_utf8(strings) {
        Ok(_) => Ok(false),
        Err(e) => Err(BtfError::StringsNotUtf8 {
            offset: e.valid_up_to(),
        }),
    }
}

/// Checks a whole BTF blob. `start_id` is 0 for standalone BTF (id 0, void, is
/// added) and the base's type count for split BTF, whose names below the
/// base's string length resolve in `base`. Nothing is decoded: a `Btf` decodes
/// the checked records when they are first asked for (see `table`).
pub(crate) fn parse(data: &[u8], start_id: u32, base: Option<&Btf>) -> Result<Parsed, BtfError> {
    let at = layout(data, base)?;
    let strings = &data[at.strings.clone()];
    let own_ascii = check_text(strings, strings.is_ascii())?;
    let ascii = own_ascii && base.is_none_or(Btf::strings_ascii);
    let sec = &data[at.types.clone()];
    let quick = match at.endian {
        Endian::Little => check::quick::<Le>(sec, ascii, at.str_total, start_id),
        Endian::Big => check::quick::<Be>(sec, ascii, at.str_total, start_id),
    };
    let index = match quick {
        Some(index) => index,
        None => precise(sec, strings, ascii, at.str_total, base, start_id, at.endian)?,
    };
    Ok(Parsed {
        endian: at.endian,
        index,
        types: at.types,
        strings: at.strings,
        ascii,
    })
}

/// [`parse`] for borrowed bytes: checks them while it copies the type and
/// string sections (in that order) into one buffer, a block at a time, so
/// that each block is read again while it is still in the cache. Returns the
/// buffer, with `Parsed` ranges into it.
pub(crate) fn parse_copy(
    data: &[u8],
    start_id: u32,
    base: Option<&Btf>,
) -> Result<(Parsed, Vec<u8>), BtfError> {
    let at = layout(data, base)?;
    let (types, strings) = (&data[at.types.clone()], &data[at.strings.clone()]);
    let mut copy = Vec::with_capacity(types.len() + strings.len());
    let mut pass = check::Quick::new(types.len(), start_id);
    for block in types.chunks(COPY_BLOCK) {
        copy.extend_from_slice(block);
        match at.endian {
            Endian::Little => pass.advance::<Le>(&copy),
            Endian::Big => pass.advance::<Be>(&copy),
        }
    }
    let mut own_ascii = true;
    for block in strings.chunks(COPY_BLOCK) {
        let from = copy.len();
        copy.extend_from_slice(block);
        own_ascii = own_ascii && copy[from..].is_ascii();
    }
    let (types, strings) = (0..types.len(), types.len()..copy.len());
    let own_ascii = check_text(&copy[strings.clone()], own_ascii)?;
    let ascii = own_ascii && base.is_none_or(Btf::strings_ascii);
    let index = match pass.finish(types.len(), at.str_total, start_id) {
        Some(index) if ascii => index,
        _ => precise(
            &copy[types.clone()],
            &copy[strings.clone()],
            ascii,
            at.str_total,
            base,
            start_id,
            at.endian,
        )?,
    };
    let parsed = Parsed {
        endian: at.endian,
        index,
        types,
        strings,
        ascii,
    };
    Ok((parsed, copy))
}

/// Bytes [`parse_copy`] copies before it reads them: small enough to stay
/// in the first-level cache.
const COPY_BLOCK: usize = 8 * 1024;

/// The first error in type order, or the index if there is none: what
/// `check::quick` gives up to.
fn precise(
    sec: &[u8],
    strings: &[u8],
    ascii: bool,
    str_total: u32,
    base: Option<&Btf>,
    start_id: u32,
    endian: Endian,
) -> Result<Index, BtfError> {
    let checker = Checker::new(sec, strings, ascii, str_total, base, start_id);
    match endian {
        Endian::Little => checker.run::<Le>(),
        Endian::Big => checker.run::<Be>(),
    }
}

/// Reads a u32 in one byte order. Implemented by two empty types so that the
/// decoder is compiled once per order with no per-word branch.
pub(crate) trait Order {
    const ENDIAN: Endian;
    fn u32(bytes: [u8; 4]) -> u32;
}

pub(crate) enum Le {}
pub(crate) enum Be {}

impl Order for Le {
    const ENDIAN: Endian = Endian::Little;
    #[inline(always)]
    fn u32(bytes: [u8; 4]) -> u32 {
        u32::from_le_bytes(bytes)
    }
}

impl Order for Be {
    const ENDIAN: Endian = Endian::Big;
    #[inline(always)]
    fn u32(bytes: [u8; 4]) -> u32 {
        u32::from_be_bytes(bytes)
    }
}

/// Word `i` of a fixed-size record; the index is checked at compile time
/// once inlined with a constant `i`.
#[inline(always)]
pub(crate) fn word<O: Order, const N: usize>(rec: &[u8; N], i: usize) -> u32 {
    O::u32([rec[4 * i], rec[4 * i + 1], rec[4 * i + 2], rec[4 * i + 3]])
}

/// Bytes a record of `kind` has after its 12-byte common header: a fixed
/// part, plus one entry of the second size per `vlen`.
pub(crate) fn tail_len(kind: Kind) -> (usize, usize) {
    match kind {
        Kind::Int | Kind::Var | Kind::DeclTag => (4, 0),
        Kind::Array => (12, 0),
        Kind::Struct | Kind::Union | Kind::Enum64 | Kind::Datasec => (0, 12),
        Kind::Enum | Kind::FuncProto => (0, 8),
        Kind::Void
        | Kind::Ptr
        | Kind::Fwd
        | Kind::Typedef
        | Kind::Volatile
        | Kind::Const
        | Kind::Restrict
        | Kind::Func
        | Kind::Float
        | Kind::TypeTag => (0, 0),
    }
}

#[cold]
pub(crate) fn truncated(what: &'static str, offset: usize, need: usize, len: usize) -> BtfError {
    BtfError::Truncated {
        what,
        offset,
        need,
        len,
    }
}

/// Whether `b` continues a multi-byte UTF-8 character (`0b10xx_xxxx`).
pub(crate) fn is_utf8_continuation(b: u8) -> bool {
    b & 0xc0 == 0x80
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;
    use crate::btf::testing::{set_u32, BtfBuilder};
    use crate::btf::TypeId;

    /// More records than a chunk and a struct longer than a copy block:
    /// records cut by block ends are read whole in the end.
    fn long_blob() -> (BtfBuilder, TypeId) {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 1);
        for _ in 0..700 {
            b.ptr(int);
        }
        let names: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let members: Vec<(&str, TypeId, u32)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), int, 32 * i as u32))
            .collect();
        let big = b.struct_("big", 4000, &members);
        for _ in 0..300 {
            b.ptr(big);
        }
        (b, big)
    }

    #[test]
    fn copying_parse_agrees_with_parse_in_place() {
        let (b, big) = long_blob();
        assert!(
            b.type_pos(big) + 12 * 1000 > COPY_BLOCK,
            "the struct spans blocks"
        );
        for blob in [b.bytes(), b.bytes_be()] {
            let (copied, bytes) = parse_copy(&blob, 0, None).unwrap();
            let in_place = parse(&blob, 0, None).unwrap();
            assert_eq!(copied.index.count, in_place.index.count);
            assert_eq!(copied.index.chunk_starts, in_place.index.chunk_starts);
            assert_eq!(copied.index.chunk_starts.len(), 4, "1003 ids, 256 a chunk");
            assert_eq!(&bytes[copied.types], &blob[in_place.types]);
            assert_eq!(&bytes[copied.strings], &blob[in_place.strings]);
            assert!(copied.ascii && in_place.ascii);
        }
    }

    #[test]
    fn copying_parse_reports_the_first_error_like_parse_in_place() {
        let (b, big) = long_blob();
        let mut blob = b.bytes();
        // The last member of the long struct refers to a type that is not
        // there: found only once the whole struct has been copied.
        let last_member = b.type_pos(big) + 12 + 12 * 999;
        set_u32(&mut blob, last_member + 4, 50_000);
        let copied = parse_copy(&blob, 0, None).map(|_| ()).unwrap_err();
        let in_place = parse(&blob, 0, None).map(|_| ()).unwrap_err();
        assert_eq!(copied.to_string(), in_place.to_string());
        assert!(copied.to_string().contains("50000"), "{copied}");
        // A string that is not UTF-8, in the last copy block of strings.
        let mut blob = b.bytes();
        let end = blob.len();
        blob[end - 2] = 0xff;
        let copied = parse_copy(&blob, 0, None).map(|_| ()).unwrap_err();
        let in_place = parse(&blob, 0, None).map(|_| ()).unwrap_err();
        assert_eq!(copied.to_string(), in_place.to_string());
    }
}
