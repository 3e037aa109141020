//! The BTF wire format (`include/uapi/linux/btf.h`, Documentation/bpf/btf.rst)
//! read into the model, in either byte order.
//!
//! In: raw `.BTF` bytes (and the base for split BTF). Out: `Vec<Type>` plus the
//! string section. Every offset, count and id is checked here, so the model
//! can be walked without further bounds checks on names.

use std::sync::Arc;

use super::error::BtfError;
use super::types::*;
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

/// What the wire reader produced: types, and where their strings are in the
/// input (the caller copies them, or keeps its own buffer).
pub(crate) struct Parsed {
    pub(crate) endian: Endian,
    pub(crate) types: Vec<Type>,
    pub(crate) strings: std::ops::Range<usize>,
}

/// Reads a whole BTF blob. `start_id` is 0 for standalone BTF (id 0, void, is
/// added) and the base's type count for split BTF, whose names below the
/// base's string length resolve in `base`.
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
    let str_start = hdr.hdr_len as usize + hdr.str_off as usize;
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

    let cx = Decoder {
        sec: type_sec.data,
        strings,
        ascii: ascii && base.is_none_or(|b| b.strings_ascii()),
        str_base,
        str_total,
        base,
        id: start_id.max(1),
        max_ref: 0,
        arenas: Arenas::default(),
    };
    let types = match hdr.endian {
        Endian::Little => cx.decode::<Le>(start_id)?,
        Endian::Big => cx.decode::<Be>(start_id)?,
    };
    Ok(Parsed {
        endian: hdr.endian,
        types,
        // Checked by `body.slice` above, so this cannot overflow.
        strings: str_start..str_start + strings.len(),
    })
}

/// Reads a u32 in one byte order. Implemented by two empty types so that the
/// decoder is compiled once per order with no per-word branch.
trait Order {
    fn u32(bytes: [u8; 4]) -> u32;
}

enum Le {}
enum Be {}

impl Order for Le {
    #[inline(always)]
    fn u32(bytes: [u8; 4]) -> u32 {
        u32::from_le_bytes(bytes)
    }
}

impl Order for Be {
    #[inline(always)]
    fn u32(bytes: [u8; 4]) -> u32 {
        u32::from_be_bytes(bytes)
    }
}

/// Word `i` of a fixed-size record; the index is checked at compile time
/// once inlined with a constant `i`.
#[inline(always)]
fn word<O: Order, const N: usize>(rec: &[u8; N], i: usize) -> u32 {
    O::u32([rec[4 * i], rec[4 * i + 1], rec[4 * i + 2], rec[4 * i + 3]])
}

/// Bytes a record of `kind` has after its 12-byte common header: a fixed
/// part, plus one entry of the second size per `vlen`.
fn tail_len(kind: Kind) -> (usize, usize) {
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
fn truncated(what: &'static str, offset: usize, need: usize, len: usize) -> BtfError {
    BtfError::Truncated {
        what,
        offset,
        need,
        len,
    }
}

/// The type section decoder. Each record is bounds-checked once, as a whole,
/// and then read from fixed-size arrays.
struct Decoder<'a> {
    sec: &'a [u8],
    /// This blob's own strings (offsets from `str_base` on).
    strings: &'a [u8],
    /// Whether all strings (the base's too) are ASCII: then no name offset
    /// can land inside a character.
    ascii: bool,
    str_base: u32,
    str_total: u32,
    base: Option<&'a Btf>,
    /// Id of the record being read.
    id: u32,
    /// The largest type id referred to so far. References are checked
    /// against the type count once it is known, at the end.
    max_ref: u32,
    /// Every type's records, one buffer per kind of record (see [`Records`]).
    arenas: Arenas,
}

#[derive(Default)]
struct Arenas {
    members: Vec<Member>,
    enumerators: Vec<Enumerator>,
    params: Vec<Param>,
    vars: Vec<VarSecinfo>,
}

impl Arenas {
    /// Points every type's records at the shared buffers.
    fn attach(self, types: &mut [Type]) {
        let members = Arc::new(self.members);
        let enumerators = Arc::new(self.enumerators);
        let params = Arc::new(self.params);
        let vars = Arc::new(self.vars);
        for t in types {
            match t {
                Type::Struct(c) | Type::Union(c) => c.members.attach(&members),
                Type::Enum(e) => e.values.attach(&enumerators),
                Type::FuncProto(f) => f.params.attach(&params),
                Type::Datasec(d) => d.vars.attach(&vars),
                _ => {}
            }
        }
    }
}

impl Decoder<'_> {
    fn decode<O: Order>(mut self, start_id: u32) -> Result<Vec<Type>, BtfError> {
        let sec = self.sec;
        // Records average 25 bytes in vmlinux and objects alike. A
        // reservation from that rarely grows or wastes much; an exact one
        // would need a first pass over the section, which costs more.
        let mut types = Vec::with_capacity(sec.len() / 24 + 16);
        if start_id == 0 {
            types.push(Type::Void);
        }
        let mut pos = 0;
        while pos < sec.len() {
            if self.id >= MAX_TYPES {
                return Err(BtfError::TooManyTypes {
                    count: self.id as u64,
                    max: MAX_TYPES,
                });
            }
            pos += self.read_type::<O>(pos, &mut types)?;
            self.id += 1;
        }
        std::mem::take(&mut self.arenas).attach(&mut types);
        // `id` is now the number of type ids, base and void included.
        if self.max_ref >= self.id {
            return Err(first_bad_ref(&types, start_id, self.id));
        }
        if types.capacity() > types.len() + types.len() / 4 + 64 {
            types.shrink_to_fit();
        }
        Ok(types)
    }

    /// Reads the record at `pos` onto `types`; returns the record's length.
    #[inline(always)]
    fn read_type<O: Order>(
        &mut self,
        pos: usize,
        types: &mut Vec<Type>,
    ) -> Result<usize, BtfError> {
        let sec = self.sec;
        let rest = &sec[pos..];
        let Some((hdr, tail)) = rest.split_first_chunk::<12>() else {
            return Err(self.cut("type header", pos, rest.len()));
        };
        let name_off = word::<O, 12>(hdr, 0);
        let info = word::<O, 12>(hdr, 1);
        let size_or_type = word::<O, 12>(hdr, 2);
        let vlen = (info & 0xffff) as usize;
        let kind_no = (info >> 24) & 0x1f;
        let kind_flag = info >> 31 == 1;
        let Some(kind) = Kind::from_u32(kind_no) else {
            return Err(BtfError::UnknownKind {
                id: TypeId(self.id),
                kind: kind_no,
            });
        };
        let name = self.name(name_off, "type")?;
        let tail_pos = pos + 12;
        match kind {
            Kind::Void => {
                return Err(self.bad(kind, "kind 0 (void) cannot be declared".into()));
            }
            Kind::Int => {
                let enc = self.fixed::<4>(tail, tail_pos, "int encoding")?;
                let enc = word::<O, 4>(enc, 0);
                let bits = enc & 0xff;
                let bit_offset = (enc >> 16) & 0xff;
                let flags = (enc >> 24) & 0x0f;
                if size_or_type == 0 || size_or_type > 16 {
                    return Err(self.bad(kind, format!("byte size {size_or_type} not in 1..=16")));
                }
                // The kernel's btf_int_check_meta: the value bits, at their
                // offset, lie inside the storage.
                if bits == 0 || bits + bit_offset > size_or_type * 8 {
                    return Err(self.bad(
                        kind,
                        format!("{bits} bits at bit {bit_offset} do not fit {size_or_type} bytes"),
                    ));
                }
                types.push(Type::Int(Int {
                    name,
                    byte_size: size_or_type,
                    encoding: IntEncoding {
                        signed: flags & 1 != 0,
                        char: flags & 2 != 0,
                        bool: flags & 4 != 0,
                    },
                    bit_offset: bit_offset as u8,
                    bits: bits as u8,
                }));
            }
            Kind::Ptr => types.push(Type::Ptr(Ref {
                target: self.type_ref(size_or_type),
            })),
            Kind::Volatile => types.push(Type::Volatile(Ref {
                target: self.type_ref(size_or_type),
            })),
            Kind::Const => types.push(Type::Const(Ref {
                target: self.type_ref(size_or_type),
            })),
            Kind::Restrict => types.push(Type::Restrict(Ref {
                target: self.type_ref(size_or_type),
            })),
            Kind::Typedef => types.push(Type::Typedef(Named {
                name,
                target: self.type_ref(size_or_type),
            })),
            Kind::TypeTag => types.push(Type::TypeTag(Named {
                name,
                target: self.type_ref(size_or_type),
            })),
            Kind::Array => {
                let rec = self.fixed::<12>(tail, tail_pos, "array")?;
                types.push(Type::Array(Array {
                    elem: self.type_ref(word::<O, 12>(rec, 0)),
                    index: self.type_ref(word::<O, 12>(rec, 1)),
                    len: word::<O, 12>(rec, 2),
                }));
            }
            Kind::Struct | Kind::Union => {
                let recs = self.entries::<12>(kind, tail, vlen)?;
                let start = self.arenas.members.len();
                for rec in recs {
                    let offset = word::<O, 12>(rec, 2);
                    let (bit_offset, bitfield_size) = if kind_flag {
                        (offset & 0x00ff_ffff, offset >> 24)
                    } else {
                        (offset, 0)
                    };
                    let name = self.name(word::<O, 12>(rec, 0), "member")?;
                    let ty = self.type_ref(word::<O, 12>(rec, 1));
                    self.arenas.members.push(Member {
                        name,
                        ty,
                        bit_offset,
                        bitfield_size,
                    });
                }
                let c = Composite {
                    name,
                    byte_size: size_or_type,
                    members: Records::pending(start, vlen),
                };
                types.push(if kind == Kind::Struct {
                    Type::Struct(c)
                } else {
                    Type::Union(c)
                });
            }
            Kind::Enum => {
                let recs = self.entries::<8>(kind, tail, vlen)?;
                self.enum_size(kind, size_or_type)?;
                let start = self.arenas.enumerators.len();
                for rec in recs {
                    let v = word::<O, 8>(rec, 1);
                    let name = self.name(word::<O, 8>(rec, 0), "enumerator")?;
                    self.arenas.enumerators.push(Enumerator {
                        name,
                        // 32-bit values are sign-extended when the enum is signed.
                        value: if kind_flag {
                            v as i32 as i64 as u64
                        } else {
                            v as u64
                        },
                    });
                }
                types.push(Type::Enum(Enum {
                    name,
                    byte_size: size_or_type,
                    signed: kind_flag,
                    is_64: false,
                    values: Records::pending(start, vlen),
                }));
            }
            Kind::Enum64 => {
                let recs = self.entries::<12>(kind, tail, vlen)?;
                self.enum_size(kind, size_or_type)?;
                let start = self.arenas.enumerators.len();
                for rec in recs {
                    let lo = word::<O, 12>(rec, 1) as u64;
                    let hi = word::<O, 12>(rec, 2) as u64;
                    let name = self.name(word::<O, 12>(rec, 0), "enumerator")?;
                    self.arenas.enumerators.push(Enumerator {
                        name,
                        value: hi << 32 | lo,
                    });
                }
                types.push(Type::Enum(Enum {
                    name,
                    byte_size: size_or_type,
                    signed: kind_flag,
                    is_64: true,
                    values: Records::pending(start, vlen),
                }));
            }
            Kind::Fwd => types.push(Type::Fwd(Fwd {
                name,
                is_union: kind_flag,
            })),
            Kind::Func => types.push(Type::Func(Func {
                name,
                proto: self.type_ref(size_or_type),
                linkage: match vlen {
                    0 => FuncLinkage::Static,
                    1 => FuncLinkage::Global,
                    2 => FuncLinkage::Extern,
                    n => FuncLinkage::Other(n as u16),
                },
            })),
            Kind::FuncProto => {
                let recs = self.entries::<8>(kind, tail, vlen)?;
                let ret = self.type_ref(size_or_type);
                let start = self.arenas.params.len();
                for rec in recs {
                    let name = self.name(word::<O, 8>(rec, 0), "param")?;
                    let ty = self.type_ref(word::<O, 8>(rec, 1));
                    self.arenas.params.push(Param { name, ty });
                }
                types.push(Type::FuncProto(FuncProto {
                    ret,
                    params: Records::pending(start, vlen),
                }));
            }
            Kind::Var => {
                let rec = self.fixed::<4>(tail, tail_pos, "var")?;
                let linkage = match word::<O, 4>(rec, 0) {
                    0 => VarLinkage::Static,
                    1 => VarLinkage::Global,
                    2 => VarLinkage::Extern,
                    n => VarLinkage::Other(n),
                };
                types.push(Type::Var(Var {
                    name,
                    ty: self.type_ref(size_or_type),
                    linkage,
                }));
            }
            Kind::Datasec => {
                let recs = self.entries::<12>(kind, tail, vlen)?;
                let start = self.arenas.vars.len();
                for rec in recs {
                    let ty = self.type_ref(word::<O, 12>(rec, 0));
                    self.arenas.vars.push(VarSecinfo {
                        ty,
                        offset: word::<O, 12>(rec, 1),
                        byte_size: word::<O, 12>(rec, 2),
                    });
                }
                types.push(Type::Datasec(Datasec {
                    name,
                    byte_size: size_or_type,
                    vars: Records::pending(start, vlen),
                }));
            }
            Kind::Float => {
                if !matches!(size_or_type, 2 | 4 | 8 | 12 | 16) {
                    return Err(self.bad(
                        kind,
                        format!("byte size {size_or_type} not 2, 4, 8, 12 or 16"),
                    ));
                }
                types.push(Type::Float(Float {
                    name,
                    byte_size: size_or_type,
                }));
            }
            Kind::DeclTag => {
                let rec = self.fixed::<4>(tail, tail_pos, "decl tag")?;
                types.push(Type::DeclTag(DeclTag {
                    name,
                    target: self.type_ref(size_or_type),
                    component_idx: word::<O, 4>(rec, 0) as i32,
                }));
            }
        }
        let (fixed, per_entry) = tail_len(kind);
        Ok(12 + fixed + per_entry * vlen)
    }

    /// The fixed part after the common header, or where it is cut short.
    #[inline(always)]
    fn fixed<'t, const N: usize>(
        &self,
        tail: &'t [u8],
        tail_pos: usize,
        what: &'static str,
    ) -> Result<&'t [u8; N], BtfError> {
        match tail.first_chunk::<N>() {
            Some(rec) => Ok(rec),
            None => Err(self.cut(what, tail_pos, tail.len())),
        }
    }

    /// `vlen` entries of `N` bytes each, checked to fit in what is left.
    #[inline(always)]
    fn entries<'t, const N: usize>(
        &self,
        kind: Kind,
        tail: &'t [u8],
        vlen: usize,
    ) -> Result<&'t [[u8; N]], BtfError> {
        let need = vlen * N;
        match tail.get(..need) {
            Some(bytes) => Ok(bytes.as_chunks::<N>().0),
            None => Err(self.bad(
                kind,
                format!(
                    "{vlen} entries need {need} bytes, only {} left in the type section",
                    tail.len()
                ),
            )),
        }
    }

    /// The section ends inside a record: the first word not fully present,
    /// `avail` bytes being left from `pos`.
    #[cold]
    fn cut(&self, what: &'static str, pos: usize, avail: usize) -> BtfError {
        truncated(what, pos + (avail & !3), 4, self.sec.len())
    }

    #[inline(always)]
    fn name(&self, offset: u32, what: &'static str) -> Result<Name, BtfError> {
        if offset == 0 {
            return Ok(Name(0));
        }
        if offset >= self.str_total {
            return Err(BtfError::NameOutOfRange {
                id: TypeId(self.id),
                what,
                offset,
                len: self.str_total,
            });
        }
        if self.ascii {
            return Ok(Name(offset));
        }
        // A name may start inside another (suffix sharing), but not inside
        // a UTF-8 character: `Btf::name` must always find a `str`.
        let starts_char = match offset.checked_sub(self.str_base) {
            Some(own) => self
                .strings
                .get(own as usize)
                .is_none_or(|&b| !is_utf8_continuation(b)),
            None => self.base.is_none_or(|b| b.name_starts_char(Name(offset))),
        };
        if !starts_char {
            return Err(BtfError::NameInsideChar {
                id: TypeId(self.id),
                what,
                offset,
            });
        }
        Ok(Name(offset))
    }

    /// A reference to another type; it must exist, which is known at the end.
    #[inline(always)]
    fn type_ref(&mut self, target: u32) -> TypeId {
        self.max_ref = self.max_ref.max(target);
        TypeId(target)
    }

    fn enum_size(&self, kind: Kind, byte_size: u32) -> Result<(), BtfError> {
        if !matches!(byte_size, 1 | 2 | 4 | 8) {
            return Err(self.bad(kind, format!("byte size {byte_size} not 1, 2, 4 or 8")));
        }
        Ok(())
    }

    #[cold]
    fn bad(&self, kind: Kind, detail: String) -> BtfError {
        BtfError::BadType {
            id: TypeId(self.id),
            kind,
            detail,
        }
    }
}

/// Whether `b` continues a multi-byte UTF-8 character (`0b10xx_xxxx`).
pub(crate) fn is_utf8_continuation(b: u8) -> bool {
    b & 0xc0 == 0x80
}

/// The first reference to a type that does not exist, as an error. Only
/// called once some reference is known to be bad.
#[cold]
fn first_bad_ref(types: &[Type], start_id: u32, count: u32) -> BtfError {
    for (i, ty) in types.iter().enumerate() {
        let id = TypeId(start_id + i as u32);
        let bad = |what: &'static str, t: TypeId| {
            (t.0 >= count).then_some(BtfError::BadTypeRef {
                id,
                kind: ty.kind(),
                what,
                target: t.0,
                count,
            })
        };
        let found = match ty {
            Type::Void | Type::Int(_) | Type::Enum(_) | Type::Fwd(_) | Type::Float(_) => None,
            Type::Ptr(r) | Type::Volatile(r) | Type::Const(r) | Type::Restrict(r) => {
                bad("target", r.target)
            }
            Type::Typedef(n) | Type::TypeTag(n) => bad("target", n.target),
            Type::Array(a) => bad("element type", a.elem).or_else(|| bad("index type", a.index)),
            Type::Struct(c) | Type::Union(c) => c.members.iter().find_map(|m| bad("member", m.ty)),
            Type::Func(f) => bad("prototype", f.proto),
            Type::FuncProto(p) => bad("return type", p.ret)
                .or_else(|| p.params.iter().find_map(|p| bad("parameter", p.ty))),
            Type::Var(v) => bad("type", v.ty),
            Type::Datasec(d) => d.vars.iter().find_map(|v| bad("variable", v.ty)),
            Type::DeclTag(d) => bad("target", d.target),
        };
        if let Some(e) = found {
            return e;
        }
    }
    BtfError::BadHeader(format!("a type refers to a type id past {count}"))
}
