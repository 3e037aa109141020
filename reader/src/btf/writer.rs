//! The model back to wire format, in this machine's byte order, for
//! BPF_BTF_LOAD.
//!
//! In: a standalone [`Btf`] (an object's, with DATASECs already fixed by the
//! object reader). Out: bytes the kernel accepts. Strings are written as
//! they were read, so every [`Name`] offset stays valid.

use super::{Btf, BtfError, FuncLinkage, Type, VarLinkage};

const HEADER_LEN: u32 = 24;

impl Btf {
    /// Serialises the types and strings. Split BTF is refused (the kernel
    /// loads split BTF only for modules).
    pub fn to_bytes(&self) -> Result<Vec<u8>, BtfError> {
        if self.base().is_some() {
            return Err(BtfError::BadHeader("cannot write split BTF".into()));
        }
        let mut types: Vec<u8> = Vec::with_capacity(self.len() as usize * 16);
        let mut w = |v: u32| types.extend_from_slice(&v.to_ne_bytes());
        for (_, ty) in self.iter() {
            write_type(ty, &mut w);
        }
        let strings = self.own_strings();
        let type_len = types.len() as u32;
        let mut out = Vec::with_capacity(HEADER_LEN as usize + types.len() + strings.len());
        out.extend_from_slice(&0xeb9fu16.to_ne_bytes());
        out.push(1); // version
        out.push(0); // flags
        for v in [HEADER_LEN, 0, type_len, type_len, strings.len() as u32] {
            out.extend_from_slice(&v.to_ne_bytes());
        }
        out.extend_from_slice(&types);
        out.extend_from_slice(strings);
        Ok(out)
    }
}

fn info(kind: u32, vlen: usize, kind_flag: bool) -> u32 {
    (u32::from(kind_flag) << 31) | (kind << 24) | (vlen as u32 & 0xffff)
}

fn write_type(ty: &Type, w: &mut impl FnMut(u32)) {
    let kind = ty.kind() as u32;
    let name = ty.name().0;
    match ty {
        Type::Void => {}
        Type::Int(i) => {
            w(name);
            w(info(kind, 0, false));
            w(i.byte_size);
            let enc = u32::from(i.encoding.signed)
                | u32::from(i.encoding.char) << 1
                | u32::from(i.encoding.bool) << 2;
            w(enc << 24 | u32::from(i.bit_offset) << 16 | u32::from(i.bits));
        }
        Type::Ptr(r) | Type::Volatile(r) | Type::Const(r) | Type::Restrict(r) => {
            w(0);
            w(info(kind, 0, false));
            w(r.target.0);
        }
        Type::Typedef(n) | Type::TypeTag(n) => {
            w(name);
            w(info(kind, 0, false));
            w(n.target.0);
        }
        Type::Array(a) => {
            w(0);
            w(info(kind, 0, false));
            w(0);
            w(a.elem.0);
            w(a.index.0);
            w(a.len);
        }
        Type::Struct(c) | Type::Union(c) => {
            let kind_flag = c.members.iter().any(|m| m.bitfield_size != 0);
            w(name);
            w(info(kind, c.members.len(), kind_flag));
            w(c.byte_size);
            for m in c.members.iter() {
                w(m.name.0);
                w(m.ty.0);
                w(if kind_flag {
                    m.bitfield_size << 24 | m.bit_offset
                } else {
                    m.bit_offset
                });
            }
        }
        Type::Enum(e) => {
            w(name);
            w(info(kind, e.values.len(), e.signed));
            w(e.byte_size);
            for v in e.values.iter() {
                w(v.name.0);
                w(v.value as u32);
                if e.is_64 {
                    w((v.value >> 32) as u32);
                }
            }
        }
        Type::Fwd(f) => {
            w(name);
            w(info(kind, 0, f.is_union));
            w(0);
        }
        Type::Func(f) => {
            let linkage = match f.linkage {
                FuncLinkage::Static => 0,
                FuncLinkage::Global => 1,
                FuncLinkage::Extern => 2,
                FuncLinkage::Other(n) => usize::from(n),
            };
            w(name);
            w(info(kind, linkage, false));
            w(f.proto.0);
        }
        Type::FuncProto(p) => {
            w(0);
            w(info(kind, p.params.len(), false));
            w(p.ret.0);
            for prm in p.params.iter() {
                w(prm.name.0);
                w(prm.ty.0);
            }
        }
        Type::Var(v) => {
            w(name);
            w(info(kind, 0, false));
            w(v.ty.0);
            w(match v.linkage {
                VarLinkage::Static => 0,
                VarLinkage::Global => 1,
                VarLinkage::Extern => 2,
                VarLinkage::Other(n) => n,
            });
        }
        Type::Datasec(d) => {
            w(name);
            w(info(kind, d.vars.len(), false));
            w(d.byte_size);
            for v in d.vars.iter() {
                w(v.ty.0);
                w(v.offset);
                w(v.byte_size);
            }
        }
        Type::Float(f) => {
            w(name);
            w(info(kind, 0, false));
            w(f.byte_size);
        }
        Type::DeclTag(d) => {
            w(name);
            w(info(kind, 0, false));
            w(d.target.0);
            w(d.component_idx as u32);
        }
    }
}
