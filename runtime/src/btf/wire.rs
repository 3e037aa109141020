//! The BTF wire format (`include/uapi/linux/btf.h`, Documentation/bpf/btf.rst)
//! read into the model, in either byte order.
//!
//! In: raw `.BTF` bytes (and the base for split BTF). Out: `Vec<Type>` plus the
//! string section. Every offset, count and id is checked here, so the model
//! can be walked without further bounds checks on names.

use super::error::BtfError;
use super::types::*;

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
            .ok_or(BtfError::Truncated {
                what,
                offset,
                need: 4,
                len: self.data.len(),
            })?;
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
        let end = offset.checked_add(len).ok_or(BtfError::Truncated {
            what,
            offset,
            need: len,
            len: self.data.len(),
        })?;
        let data = self.data.get(offset..end).ok_or(BtfError::Truncated {
            what,
            offset,
            need: len,
            len: self.data.len(),
        })?;
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
    let endian = endian_of(data, MAGIC).ok_or(BtfError::BadMagic {
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
    if hdr.type_off % 4 != 0 {
        return Err(BtfError::BadHeader(format!(
            "type section offset {} is not 4-byte aligned",
            hdr.type_off
        )));
    }
    Ok(hdr)
}

/// What the wire reader produced: types and their strings.
pub(crate) struct Parsed {
    pub(crate) endian: Endian,
    pub(crate) types: Vec<Type>,
    pub(crate) strings: Vec<u8>,
}

/// Reads a whole BTF blob. `start_id` is 0 for standalone BTF (id 0, void, is
/// added) and the base's type count for split BTF; `str_base` is the base's
/// string length (names below it resolve in the base).
pub(crate) fn parse(data: &[u8], start_id: u32, str_base: u32) -> Result<Parsed, BtfError> {
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
    let type_sec = body.slice(
        hdr.type_off as usize,
        hdr.type_len as usize,
        "type section",
    )?;
    let strings = strs.data;
    // Split BTF may carry an empty string section of its own; base BTF must
    // start with the empty name.
    if !strings.is_empty() && strings[strings.len() - 1] != 0 {
        return Err(BtfError::StringsNotTerminated);
    }
    if str_base == 0 && strings.first().is_some_and(|&b| b != 0) {
        return Err(BtfError::BadHeader(
            "string section does not start with the empty name".into(),
        ));
    }
    if let Err(e) = std::str::from_utf8(strings) {
        return Err(BtfError::StringsNotUtf8 {
            offset: e.valid_up_to(),
        });
    }
    let str_total = str_base as u64 + strings.len() as u64;
    if str_total > u32::MAX as u64 {
        return Err(BtfError::BadHeader("string section too large".into()));
    }
    let str_total = str_total as u32;

    let mut types = Vec::with_capacity(hdr.type_len as usize / 24);
    if start_id == 0 {
        types.push(Type::Void);
    }
    let mut cx = Ctx {
        r: type_sec,
        off: 0,
        str_total,
        id: TypeId(start_id.max(1)),
    };
    while cx.off < type_sec.data.len() {
        if cx.id.0 >= MAX_TYPES {
            return Err(BtfError::TooManyTypes {
                count: cx.id.0 as u64,
                max: MAX_TYPES,
            });
        }
        types.push(cx.read_type()?);
        cx.id.0 += 1;
    }

    // Every reference must name an existing type. Checked once, after all
    // types are known, so later walks only need depth bounds.
    let count = cx.id.0;
    for (i, ty) in types.iter().enumerate() {
        check_refs(TypeId(start_id + i as u32), ty, count)?;
    }
    Ok(Parsed {
        endian: hdr.endian,
        types,
        strings: strings.to_vec(),
    })
}

struct Ctx<'a> {
    r: Reader<'a>,
    off: usize,
    str_total: u32,
    id: TypeId,
}

impl Ctx<'_> {
    fn next(&mut self, what: &'static str) -> Result<u32, BtfError> {
        let v = self.r.u32(self.off, what)?;
        self.off += 4;
        Ok(v)
    }

    fn name(&self, offset: u32, what: &'static str) -> Result<Name, BtfError> {
        if offset >= self.str_total && offset != 0 {
            return Err(BtfError::NameOutOfRange {
                id: self.id,
                what,
                offset,
                len: self.str_total,
            });
        }
        Ok(Name(offset))
    }

    fn bad(&self, kind: Kind, detail: String) -> BtfError {
        BtfError::BadType {
            id: self.id,
            kind,
            detail,
        }
    }

    /// Checks that `vlen` records of `rec_len` bytes fit in what is left.
    fn check_vlen(&self, kind: Kind, vlen: usize, rec_len: usize) -> Result<(), BtfError> {
        let need = vlen * rec_len;
        let left = self.r.data.len() - self.off;
        if need > left {
            return Err(self.bad(
                kind,
                format!("{vlen} entries need {need} bytes, only {left} left in the type section"),
            ));
        }
        Ok(())
    }

    fn read_type(&mut self) -> Result<Type, BtfError> {
        let name_off = self.next("type header")?;
        let info = self.next("type header")?;
        let size_or_type = self.next("type header")?;
        let vlen = (info & 0xffff) as usize;
        let kind_no = (info >> 24) & 0x1f;
        let kind_flag = info >> 31 == 1;
        let kind = Kind::from_u32(kind_no).ok_or(BtfError::UnknownKind {
            id: self.id,
            kind: kind_no,
        })?;
        let name = self.name(name_off, "type")?;
        let target = TypeId(size_or_type);
        Ok(match kind {
            Kind::Void => {
                return Err(self.bad(kind, "kind 0 (void) cannot be declared".into()));
            }
            Kind::Int => {
                let enc = self.next("int encoding")?;
                let bits = enc & 0xff;
                let bit_offset = (enc >> 16) & 0xff;
                let flags = (enc >> 24) & 0x0f;
                if size_or_type == 0 || size_or_type > 16 {
                    return Err(self.bad(kind, format!("byte size {size_or_type} not in 1..=16")));
                }
                if bits == 0 || bits + bit_offset > 128 || bits > size_or_type * 8 {
                    return Err(self.bad(
                        kind,
                        format!("{bits} bits at bit {bit_offset} do not fit {size_or_type} bytes"),
                    ));
                }
                Type::Int(Int {
                    name,
                    byte_size: size_or_type,
                    encoding: IntEncoding {
                        signed: flags & 1 != 0,
                        char: flags & 2 != 0,
                        bool: flags & 4 != 0,
                    },
                    bit_offset: bit_offset as u8,
                    bits: bits as u8,
                })
            }
            Kind::Ptr => Type::Ptr(Ref { target }),
            Kind::Volatile => Type::Volatile(Ref { target }),
            Kind::Const => Type::Const(Ref { target }),
            Kind::Restrict => Type::Restrict(Ref { target }),
            Kind::Typedef => Type::Typedef(Named { name, target }),
            Kind::TypeTag => Type::TypeTag(Named { name, target }),
            Kind::Array => {
                let elem = TypeId(self.next("array")?);
                let index = TypeId(self.next("array")?);
                let len = self.next("array")?;
                Type::Array(Array { elem, index, len })
            }
            Kind::Struct | Kind::Union => {
                self.check_vlen(kind, vlen, 12)?;
                let mut members = Vec::with_capacity(vlen);
                for _ in 0..vlen {
                    let m_name = self.name(self.r.u32(self.off, "member")?, "member")?;
                    let ty = TypeId(self.r.u32(self.off + 4, "member")?);
                    let offset = self.r.u32(self.off + 8, "member")?;
                    self.off += 12;
                    let (bit_offset, bitfield_size) = if kind_flag {
                        (offset & 0x00ff_ffff, offset >> 24)
                    } else {
                        (offset, 0)
                    };
                    members.push(Member {
                        name: m_name,
                        ty,
                        bit_offset,
                        bitfield_size,
                    });
                }
                let c = Composite {
                    name,
                    byte_size: size_or_type,
                    members: members.into_boxed_slice(),
                };
                if kind == Kind::Struct {
                    Type::Struct(c)
                } else {
                    Type::Union(c)
                }
            }
            Kind::Enum | Kind::Enum64 => {
                let is_64 = kind == Kind::Enum64;
                self.check_vlen(kind, vlen, if is_64 { 12 } else { 8 })?;
                if !matches!(size_or_type, 1 | 2 | 4 | 8) {
                    return Err(self.bad(kind, format!("byte size {size_or_type} not 1, 2, 4 or 8")));
                }
                let mut values = Vec::with_capacity(vlen);
                for _ in 0..vlen {
                    let e_off = self.next("enumerator")?;
                    let e_name = self.name(e_off, "enumerator")?;
                    let value = if is_64 {
                        let lo = self.next("enumerator")? as u64;
                        let hi = self.next("enumerator")? as u64;
                        hi << 32 | lo
                    } else {
                        let v = self.next("enumerator")?;
                        // 32-bit values are sign-extended when the enum is signed.
                        if kind_flag {
                            v as i32 as i64 as u64
                        } else {
                            v as u64
                        }
                    };
                    values.push(Enumerator {
                        name: e_name,
                        value,
                    });
                }
                Type::Enum(Enum {
                    name,
                    byte_size: size_or_type,
                    signed: kind_flag,
                    is_64,
                    values: values.into_boxed_slice(),
                })
            }
            Kind::Fwd => Type::Fwd(Fwd {
                name,
                is_union: kind_flag,
            }),
            Kind::Func => Type::Func(Func {
                name,
                proto: target,
                linkage: match vlen {
                    0 => FuncLinkage::Static,
                    1 => FuncLinkage::Global,
                    2 => FuncLinkage::Extern,
                    n => FuncLinkage::Other(n as u16),
                },
            }),
            Kind::FuncProto => {
                self.check_vlen(kind, vlen, 8)?;
                let mut params = Vec::with_capacity(vlen);
                for _ in 0..vlen {
                    let p_off = self.next("param")?;
                    let p_name = self.name(p_off, "param")?;
                    let ty = TypeId(self.next("param")?);
                    params.push(Param { name: p_name, ty });
                }
                Type::FuncProto(FuncProto {
                    ret: target,
                    params: params.into_boxed_slice(),
                })
            }
            Kind::Var => {
                let linkage = match self.next("var")? {
                    0 => VarLinkage::Static,
                    1 => VarLinkage::Global,
                    2 => VarLinkage::Extern,
                    n => VarLinkage::Other(n),
                };
                Type::Var(Var {
                    name,
                    ty: target,
                    linkage,
                })
            }
            Kind::Datasec => {
                self.check_vlen(kind, vlen, 12)?;
                let mut vars = Vec::with_capacity(vlen);
                for _ in 0..vlen {
                    let ty = TypeId(self.next("datasec var")?);
                    let offset = self.next("datasec var")?;
                    let byte_size = self.next("datasec var")?;
                    vars.push(VarSecinfo {
                        ty,
                        offset,
                        byte_size,
                    });
                }
                Type::Datasec(Datasec {
                    name,
                    byte_size: size_or_type,
                    vars: vars.into_boxed_slice(),
                })
            }
            Kind::Float => {
                if !matches!(size_or_type, 2 | 4 | 8 | 12 | 16) {
                    return Err(self.bad(kind, format!("byte size {size_or_type} not 2, 4, 8, 12 or 16")));
                }
                Type::Float(Float {
                    name,
                    byte_size: size_or_type,
                })
            }
            Kind::DeclTag => {
                let component_idx = self.next("decl tag")? as i32;
                Type::DeclTag(DeclTag {
                    name,
                    target,
                    component_idx,
                })
            }
        })
    }
}

/// Checks that every type a type refers to exists.
fn check_refs(id: TypeId, ty: &Type, count: u32) -> Result<(), BtfError> {
    let check = |what: &'static str, t: TypeId| {
        if t.0 >= count {
            Err(BtfError::BadTypeRef {
                id,
                kind: ty.kind(),
                what,
                target: t.0,
                count,
            })
        } else {
            Ok(())
        }
    };
    match ty {
        Type::Void | Type::Int(_) | Type::Enum(_) | Type::Fwd(_) | Type::Float(_) => Ok(()),
        Type::Ptr(r) | Type::Volatile(r) | Type::Const(r) | Type::Restrict(r) => {
            check("target", r.target)
        }
        Type::Typedef(n) | Type::TypeTag(n) => check("target", n.target),
        Type::Array(a) => {
            check("element type", a.elem)?;
            check("index type", a.index)
        }
        Type::Struct(c) | Type::Union(c) => c.members.iter().try_for_each(|m| check("member", m.ty)),
        Type::Func(f) => check("prototype", f.proto),
        Type::FuncProto(p) => {
            check("return type", p.ret)?;
            p.params.iter().try_for_each(|p| check("parameter", p.ty))
        }
        Type::Var(v) => check("type", v.ty),
        Type::Datasec(d) => d.vars.iter().try_for_each(|v| check("variable", v.ty)),
        Type::DeclTag(d) => check("target", d.target),
    }
}
