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

/// Checks a whole BTF blob. `start_id` is 0 for standalone BTF (id 0, void, is
/// added) and the base's type count for split BTF, whose names below the
/// base's string length resolve in `base`. Nothing is decoded: a `Btf` decodes
/// the checked records when they are first asked for (see `table`).
pub(crate) fn parse(data: &[u8], start_id: u32, base: Option<&Btf>) -> Result<Parsed, BtfError> {
    let hdr = read_header(data)?;
    let body = Reader {
        data,
        endian: hdr.endian,
    }
    .slice(
        hdr.hdr_len as usize,
        data.len() - hdr.hdr_len as usize,
        "body",
    )?;
    let strs = body.slice(hdr.str_off as usize, hdr.str_len as usize, "string section")?;
    let type_sec = body.slice(hdr.type_off as usize, hdr.type_len as usize, "type section")?;
    let strings = strs.data;
    let str_base = base.map_or(0, Btf::strings_len);
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
    // BTF strings are C identifiers and section names: ASCII, which is
    // quick to check and makes every offset a character boundary.
    let ascii = strings.is_ascii();
    if !ascii {
        if let Err(e) = std::str::from_utf8(strings) {
            return Err(BtfError::StringsNotUtf8 {
                offset: e.valid_up_to(),
            });
        }
    }
    let str_total = u32::try_from(str_base as u64 + strings.len() as u64)
        .map_err(|_| BtfError::BadHeader("string section too large".into()))?;
    let ascii = ascii && base.is_none_or(Btf::strings_ascii);
    let sec = type_sec.data;
    let quick = match hdr.endian {
        Endian::Little => check::quick::<Le>(sec, ascii, str_total, start_id),
        Endian::Big => check::quick::<Be>(sec, ascii, str_total, start_id),
    };
    let index = match quick {
        Some(index) => index,
        None => {
            let checker = Checker::new(sec, strings, ascii, str_total, base, start_id);
            match hdr.endian {
                Endian::Little => checker.run::<Le>()?,
                Endian::Big => checker.run::<Be>()?,
            }
        }
    };
    // Both ranges were checked by `body.slice` above, so they cannot overflow.
    let hdr_len = hdr.hdr_len as usize;
    let at = |off: u32, len: usize| hdr_len + off as usize..hdr_len + off as usize + len;
    Ok(Parsed {
        endian: hdr.endian,
        index,
        types: at(hdr.type_off, type_sec.data.len()),
        strings: at(hdr.str_off, strings.len()),
        ascii,
    })
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
