//! A small standalone reader of an object's `.BTF` section: just enough to
//! look one struct or union up by name (`include/uapi/linux/btf.h`,
//! Documentation/bpf/btf.rst).
//!
//! In: the bytes of a BPF ELF object and a type name. Out: a [`Composite`]
//! (kind, byte size, members with names, bit offsets and byte sizes).
//!
//! Why not `bpf2rs::btf`: `bpf2rs` re-exports this crate's derive, so this
//! crate depending on it would be a cycle. Everything here is bounds-checked
//! and returns an error message instead of panicking; type chains are followed
//! at most [`MAX_DEPTH`] deep, like libbpf.

use object::{Object, ObjectSection};

const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
/// How deep typedef/modifier/array chains are followed (libbpf's limit too).
const MAX_DEPTH: u32 = 32;

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// Struct or union.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CompositeKind {
    Struct,
    Union,
}

impl CompositeKind {
    pub fn keyword(self) -> &'static str {
        match self {
            CompositeKind::Struct => "struct",
            CompositeKind::Union => "union",
        }
    }
}

/// A struct or union found by name.
#[derive(Debug)]
pub struct Composite {
    pub kind: CompositeKind,
    pub byte_size: u64,
    pub members: Vec<Member>,
}

/// One member of a [`Composite`], in declaration order.
#[derive(Debug)]
pub struct Member {
    /// Empty for an anonymous member (an embedded anonymous struct or union).
    pub name: String,
    pub bit_offset: u32,
    /// Non-zero for a bitfield.
    pub bitfield_bits: u32,
    /// `None` when the member's type has no size (void, function).
    pub byte_size: Option<u64>,
}

/// The `.BTF` section of the ELF object `elf`, parsed.
pub fn from_object(elf: &[u8]) -> Result<Btf<'_>, String> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF object: {e}"))?;
    let section = file
        .section_by_name(".BTF")
        .ok_or_else(|| "no .BTF section (compile with clang -g)".to_string())?;
    let data = section.data().map_err(|e| format!("section .BTF: {e}"))?;
    Btf::parse(data).map_err(|e| format!("section .BTF: {e}"))
}

#[derive(Clone, Copy)]
enum Endian {
    Little,
    Big,
}

/// One type record: the common header plus where its kind-specific data starts.
#[derive(Clone, Copy)]
struct TypeRec {
    name_off: u32,
    kind: u32,
    vlen: u32,
    kind_flag: bool,
    size_or_type: u32,
    /// Offset of the kind-specific data in the type section.
    extra: usize,
}

/// Parsed BTF: the type records indexed, nothing else decoded up front.
pub struct Btf<'a> {
    endian: Endian,
    types: &'a [u8],
    strings: &'a [u8],
    /// Index 0 is type id 1 (id 0 is void).
    recs: Vec<TypeRec>,
}

impl<'a> Btf<'a> {
    fn parse(data: &'a [u8]) -> Result<Btf<'a>, String> {
        let endian = match data.get(0..2) {
            Some([0x9f, 0xeb]) => Endian::Little,
            Some([0xeb, 0x9f]) => Endian::Big,
            _ => return Err(format!("bad magic (want {MAGIC:#x})")),
        };
        let hdr = Bytes { data, endian };
        let hdr_len = hdr.u32(4, "header")? as usize;
        if hdr_len < HEADER_LEN {
            return Err(format!("header length {hdr_len} is below {HEADER_LEN}"));
        }
        let body = data
            .get(hdr_len..)
            .ok_or_else(|| format!("header length {hdr_len} past the end"))?;
        let type_off = hdr.u32(8, "header")? as usize;
        let type_len = hdr.u32(12, "header")? as usize;
        let str_off = hdr.u32(16, "header")? as usize;
        let str_len = hdr.u32(20, "header")? as usize;
        let types = range(body, type_off, type_len, "type section")?;
        let strings = range(body, str_off, str_len, "string section")?;
        let mut btf = Btf {
            endian,
            types,
            strings,
            recs: Vec::new(),
        };
        btf.index_types()?;
        Ok(btf)
    }

    fn index_types(&mut self) -> Result<(), String> {
        let bytes = Bytes {
            data: self.types,
            endian: self.endian,
        };
        let mut at = 0usize;
        while at < self.types.len() {
            let id = self.recs.len() + 1;
            let what = "type header";
            let name_off = bytes.u32(at, what).map_err(|e| format!("type {id}: {e}"))?;
            let info = bytes
                .u32(at + 4, what)
                .map_err(|e| format!("type {id}: {e}"))?;
            let size_or_type = bytes
                .u32(at + 8, what)
                .map_err(|e| format!("type {id}: {e}"))?;
            let kind = (info >> 24) & 0x1f;
            let vlen = info & 0xffff;
            let extra_len = match kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_ARRAY => 12,
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * vlen as usize,
                KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen as usize,
                KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
                other => return Err(format!("type {id}: unknown kind {other}")),
            };
            let extra = at + 12;
            if extra + extra_len > self.types.len() {
                return Err(format!("type {id}: truncated"));
            }
            self.recs.push(TypeRec {
                name_off,
                kind,
                vlen,
                kind_flag: info >> 31 == 1,
                size_or_type,
                extra,
            });
            at = extra + extra_len;
        }
        Ok(())
    }

    fn bytes(&self) -> Bytes<'a> {
        Bytes {
            data: self.types,
            endian: self.endian,
        }
    }

    fn rec(&self, id: u32) -> Option<TypeRec> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        self.recs.get(index).copied()
    }

    fn name(&self, name_off: u32) -> Result<&'a str, String> {
        let tail = self
            .strings
            .get(name_off as usize..)
            .ok_or_else(|| format!("name offset {name_off} past the string section"))?;
        let end = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| format!("name at offset {name_off} is not NUL-terminated"))?;
        std::str::from_utf8(&tail[..end])
            .map_err(|_| format!("name at offset {name_off} is not UTF-8"))
    }

    /// Follows typedefs and modifiers from `id`, returning the first other type.
    fn skip_aliases(&self, mut id: u32) -> Option<(u32, TypeRec)> {
        for _ in 0..MAX_DEPTH {
            let rec = self.rec(id)?;
            match rec.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = rec.size_or_type;
                }
                _ => return Some((id, rec)),
            }
        }
        None
    }

    /// The byte size of type `id`, or `None` for void, functions, forward
    /// declarations, chains deeper than [`MAX_DEPTH`] and overflow.
    fn byte_size(&self, id: u32, depth: u32) -> Option<u64> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let (_, rec) = self.skip_aliases(id)?;
        match rec.kind {
            KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_FLOAT => {
                Some(u64::from(rec.size_or_type))
            }
            // BPF pointers are 64-bit whatever the host.
            KIND_PTR => Some(8),
            KIND_ARRAY => {
                let elem = self.bytes().u32(rec.extra, "array").ok()?;
                let nelems = self.bytes().u32(rec.extra + 8, "array").ok()?;
                self.byte_size(elem, depth + 1)?
                    .checked_mul(u64::from(nelems))
            }
            _ => None,
        }
    }

    /// Finds the struct or union `name`; a typedef of that name is followed
    /// to the struct or union it names. When both a struct and a union carry
    /// the name, `prefer` picks one.
    pub fn find_composite(&self, name: &str, prefer: CompositeKind) -> Result<Composite, String> {
        let mut direct = Vec::new();
        let mut via_typedef = Vec::new();
        for (index, rec) in self.recs.iter().enumerate() {
            if !matches!(rec.kind, KIND_STRUCT | KIND_UNION | KIND_TYPEDEF) || rec.name_off == 0 {
                continue;
            }
            if self.name(rec.name_off)? != name {
                continue;
            }
            let id = index as u32 + 1;
            if rec.kind == KIND_TYPEDEF {
                if let Some((target, target_rec)) = self.skip_aliases(id) {
                    if matches!(target_rec.kind, KIND_STRUCT | KIND_UNION) {
                        via_typedef.push(target);
                    }
                }
            } else {
                direct.push(id);
            }
        }
        let candidates: Vec<u32> = direct.into_iter().chain(via_typedef).collect();
        let kind_of = |id: u32| match self.rec(id).map(|r| r.kind) {
            Some(KIND_UNION) => CompositeKind::Union,
            _ => CompositeKind::Struct,
        };
        let id = candidates
            .iter()
            .copied()
            .find(|&id| kind_of(id) == prefer)
            .or_else(|| candidates.first().copied())
            .ok_or_else(|| format!("no struct or union named `{name}`"))?;
        self.composite(id, kind_of(id))
            .map_err(|e| format!("{} {name}: {e}", kind_of(id).keyword()))
    }

    fn composite(&self, id: u32, kind: CompositeKind) -> Result<Composite, String> {
        let rec = self.rec(id).ok_or_else(|| format!("type {id} missing"))?;
        let bytes = self.bytes();
        let mut members = Vec::with_capacity(rec.vlen as usize);
        for i in 0..rec.vlen as usize {
            let at = rec.extra + 12 * i;
            let name_off = bytes.u32(at, "member")?;
            let type_id = bytes.u32(at + 4, "member")?;
            let offset = bytes.u32(at + 8, "member")?;
            let (bit_offset, mut bitfield_bits) = if rec.kind_flag {
                (offset & 0x00ff_ffff, offset >> 24)
            } else {
                (offset, 0)
            };
            // Without kind_flag, a bitfield is an INT member whose encoding
            // says fewer bits than its size (btf.rst, "BTF_KIND_INT").
            if !rec.kind_flag {
                if let Some((_, int)) = self
                    .skip_aliases(type_id)
                    .filter(|(_, r)| r.kind == KIND_INT)
                {
                    let encoding = bytes.u32(int.extra, "int")?;
                    let bits = encoding & 0xff;
                    let int_offset = (encoding >> 16) & 0xff;
                    if int_offset != 0 || u64::from(bits) != u64::from(int.size_or_type) * 8 {
                        bitfield_bits = bits;
                    }
                }
            }
            members.push(Member {
                name: self.name(name_off)?.to_string(),
                bit_offset,
                bitfield_bits,
                byte_size: self.byte_size(type_id, 0),
            });
        }
        Ok(Composite {
            kind,
            byte_size: u64::from(rec.size_or_type),
            members,
        })
    }
}

fn range<'a>(data: &'a [u8], offset: usize, len: usize, what: &str) -> Result<&'a [u8], String> {
    offset
        .checked_add(len)
        .and_then(|end| data.get(offset..end))
        .ok_or_else(|| format!("{what} ({len} bytes at {offset}) past the end"))
}

#[derive(Clone, Copy)]
struct Bytes<'a> {
    data: &'a [u8],
    endian: Endian,
}

impl Bytes<'_> {
    fn u32(&self, offset: usize, what: &str) -> Result<u32, String> {
        let raw: [u8; 4] = offset
            .checked_add(4)
            .and_then(|end| self.data.get(offset..end))
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("{what} truncated at offset {offset}"))?;
        Ok(match self.endian {
            Endian::Little => u32::from_le_bytes(raw),
            Endian::Big => u32::from_be_bytes(raw),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;

    /// A little-endian BTF blob from type records and a string table.
    fn blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let type_len = (types.len() * 4) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.extend_from_slice(&[1, 0]);
        for word in [
            HEADER_LEN as u32,
            0,
            type_len,
            type_len,
            strings.len() as u32,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for word in types {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(strings);
        out
    }

    fn info(kind: u32, vlen: u32, kind_flag: bool) -> u32 {
        (u32::from(kind_flag) << 31) | (kind << 24) | vlen
    }

    // Strings: 1 "int", 5 "pair", 10 "a", 12 "b", 14 "pair_t", 21 "bits".
    const STRINGS: &[u8] = b"\0int\0pair\0a\0b\0pair_t\0bits\0";

    #[test]
    fn struct_members_typedef_and_array_sizes() {
        #[rustfmt::skip]
        let types = [
            // 1: int, 4 bytes, 32 bits
            1, info(KIND_INT, 0, false), 4, 32,
            // 2: int[3]
            0, info(KIND_ARRAY, 0, false), 0, 1, 1, 3,
            // 3: struct pair { int a; int b[3]; } size 16
            5, info(KIND_STRUCT, 2, false), 16, 10, 1, 0, 12, 2, 32,
            // 4: typedef struct pair pair_t
            14, info(KIND_TYPEDEF, 0, false), 3,
        ];
        let data = blob(&types, STRINGS);
        let btf = Btf::parse(&data).unwrap();
        for name in ["pair", "pair_t"] {
            let c = btf.find_composite(name, CompositeKind::Struct).unwrap();
            assert_eq!(c.kind, CompositeKind::Struct);
            assert_eq!(c.byte_size, 16);
            let got: Vec<_> = c
                .members
                .iter()
                .map(|m| (m.name.as_str(), m.bit_offset, m.byte_size))
                .collect();
            assert_eq!(got, [("a", 0, Some(4)), ("b", 32, Some(12))]);
        }
        let err = btf
            .find_composite("nope", CompositeKind::Struct)
            .unwrap_err();
        assert_eq!(err, "no struct or union named `nope`");
    }

    #[test]
    fn bitfields_with_and_without_kind_flag() {
        #[rustfmt::skip]
        let types = [
            // 1: int
            1, info(KIND_INT, 0, false), 4, 32,
            // 2: struct bits { int a:3 } with kind_flag
            21, info(KIND_STRUCT, 1, true), 4, 10, 1, (3 << 24) | 5,
            // 3: int with 3 bits (old-style bitfield encoding)
            1, info(KIND_INT, 0, false), 4, 3,
            // 4: struct pair { int b:3 } without kind_flag
            5, info(KIND_STRUCT, 1, false), 4, 12, 3, 0,
        ];
        let data = blob(&types, STRINGS);
        let btf = Btf::parse(&data).unwrap();
        let bits = btf.find_composite("bits", CompositeKind::Struct).unwrap();
        assert_eq!(
            (bits.members[0].bit_offset, bits.members[0].bitfield_bits),
            (5, 3)
        );
        let pair = btf.find_composite("pair", CompositeKind::Struct).unwrap();
        assert_eq!(pair.members[0].bitfield_bits, 3);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let good = blob(&[1, info(KIND_INT, 0, false), 4, 32], STRINGS);
        for cut in 0..good.len() {
            let _ = Btf::parse(&good[..cut]);
        }
        // A typedef cycle ends at the depth limit.
        let looped = blob(&[14, info(KIND_TYPEDEF, 0, false), 1], STRINGS);
        let btf = Btf::parse(&looped).unwrap();
        assert!(btf.find_composite("pair_t", CompositeKind::Struct).is_err());
        assert_eq!(btf.byte_size(1, 0), None);
        // A name offset past the strings.
        let bad_name = blob(&[999, info(KIND_STRUCT, 0, false), 0], STRINGS);
        let err = Btf::parse(&bad_name)
            .unwrap()
            .find_composite("pair", CompositeKind::Struct)
            .unwrap_err();
        assert!(err.contains("past the string section"), "{err}");
    }
}
