//! An object's BTF rewritten for a kernel that predates some BTF kinds.
//!
//! In: an object's [`Btf`] and the kinds the kernel accepts
//! ([`BtfSupport`], from feature probes). Out: a copy in which every type of
//! a missing kind is replaced by an older kind of the same record length,
//! so type ids (those of maps, func_info and CO-RE records) stay valid. The
//! replacements are the ones libbpf makes (`bpf_object__sanitize_btf`),
//! which kernels back to 4.18 load:
//!
//! | missing | kernel | becomes |
//! |---|---|---|
//! | FUNC, FUNC_PROTO | 5.0 | TYPEDEF of the proto; ENUM of 4 bytes, one value per parameter (unnamed ones borrow a type's name: kernels check enumerator names) |
//! | global FUNC linkage | 5.6 | static linkage |
//! | VAR, DATASEC | 5.2 | INT of 1 byte; anonymous STRUCT, one member per variable |
//! | FLOAT | 5.13 | anonymous empty STRUCT of the same size |
//! | DECL_TAG | 5.16 | INT of 1 byte |
//! | TYPE_TAG | 5.17 | CONST of its target |
//! | ENUM64, signed ENUM | 6.0 | UNION with one 1-byte INT member per value; the sign dropped |
//!
//! Without FUNC, the programs' func_info and line_info must not be passed
//! either (they name FUNC ids); the loader drops them.

use super::{
    Btf, Composite, Enum, Enumerator, Int, IntEncoding, Member, Name, Named, Ref, Type, TypeId,
};

/// The BTF kinds (and kind flags) a kernel accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtfSupport {
    /// FUNC and FUNC_PROTO (Linux 5.0).
    pub func: bool,
    /// FUNC with global linkage (Linux 5.6).
    pub global_func: bool,
    /// VAR and DATASEC (Linux 5.2).
    pub datasec: bool,
    /// FLOAT (Linux 5.13).
    pub float: bool,
    /// DECL_TAG (Linux 5.16).
    pub decl_tag: bool,
    /// TYPE_TAG (Linux 5.17).
    pub type_tag: bool,
    /// ENUM64 and the kind flag of signed ENUMs (Linux 6.0).
    pub enum64: bool,
}

impl BtfSupport {
    /// Every kind: a current kernel.
    pub const ALL: BtfSupport = BtfSupport {
        func: true,
        global_func: true,
        datasec: true,
        float: true,
        decl_tag: true,
        type_tag: true,
        enum64: true,
    };

    /// None of the kinds added after BTF itself (Linux 4.18).
    pub const NONE: BtfSupport = BtfSupport {
        func: false,
        global_func: false,
        datasec: false,
        float: false,
        decl_tag: false,
        type_tag: false,
        enum64: false,
    };
}

impl Default for BtfSupport {
    fn default() -> BtfSupport {
        BtfSupport::ALL
    }
}

/// A 1-byte unsigned INT: what VARs and DECL_TAGs become, and the type of
/// the members of a replaced ENUM64.
fn byte_int(name: Name) -> Type {
    Type::Int(Int {
        name,
        byte_size: 1,
        encoding: IntEncoding::default(),
        bit_offset: 0,
        bits: 8,
    })
}

impl Btf {
    /// This BTF with the kinds `support` lacks replaced (see the module
    /// docs); a clone when nothing is missing. Type ids do not change; one
    /// INT may be appended (the member type of replaced ENUM64s).
    ///
    /// ```
    /// use bpf2rs_reader::btf::{testing::BtfBuilder, Btf, BtfSupport, Kind};
    /// let mut b = BtfBuilder::new();
    /// let f = b.float("double", 8);
    /// let btf = Btf::parse(&b.bytes()).unwrap();
    /// let old = btf.downgraded(BtfSupport { float: false, ..BtfSupport::ALL });
    /// assert_eq!(old.type_by_id(f).unwrap().kind(), Kind::Struct);
    /// ```
    pub fn downgraded(&self, support: BtfSupport) -> Btf {
        let mut btf = self.clone();
        if support == BtfSupport::ALL {
            return btf;
        }
        let ids: Vec<TypeId> = btf.iter().map(|(id, _)| id).collect();
        let mut enum64_member: Option<TypeId> = None;
        // Kernels check enumerator names (5.0 on): an unnamed parameter
        // borrows a name another type has.
        let stand_in = self.some_identifier().unwrap_or(Name(0));
        for id in ids {
            let Ok(ty) = btf.type_by_id(id) else {
                continue;
            };
            let replaced = match ty {
                Type::Var(v) if !support.datasec => Some(byte_int(v.name)),
                Type::DeclTag(t) if !support.decl_tag => Some(byte_int(t.name)),
                Type::Datasec(d) if !support.datasec => Some(Type::Struct(Composite {
                    name: Name(0),
                    byte_size: d.byte_size,
                    members: d
                        .vars
                        .iter()
                        .map(|v| Member {
                            // The VAR as it was: it may be an INT by now.
                            name: match self.type_by_id(v.ty) {
                                Ok(Type::Var(var)) => var.name,
                                _ => Name(0),
                            },
                            ty: v.ty,
                            bit_offset: v.offset.saturating_mul(8),
                            bitfield_size: 0,
                        })
                        .collect::<Vec<_>>()
                        .into(),
                })),
                Type::FuncProto(p) if !support.func => Some(Type::Enum(Enum {
                    name: Name(0),
                    byte_size: 4,
                    signed: false,
                    is_64: false,
                    values: p
                        .params
                        .iter()
                        .map(|a| Enumerator {
                            name: if a.name.is_anon() { stand_in } else { a.name },
                            value: u64::from(a.ty.0),
                        })
                        .collect::<Vec<_>>()
                        .into(),
                })),
                Type::Func(f) if !support.func => Some(Type::Typedef(Named {
                    name: f.name,
                    target: f.proto,
                })),
                Type::Func(f) if !support.global_func => {
                    let mut f = *f;
                    f.linkage = super::FuncLinkage::Static;
                    Some(Type::Func(f))
                }
                Type::Float(f) if !support.float => Some(Type::Struct(Composite {
                    name: Name(0),
                    byte_size: f.byte_size,
                    members: Vec::new().into(),
                })),
                Type::TypeTag(t) if !support.type_tag => {
                    Some(Type::Const(Ref { target: t.target }))
                }
                Type::Enum(e) if !support.enum64 && !e.is_64 && e.signed => {
                    let mut e = e.clone();
                    e.signed = false;
                    Some(Type::Enum(e))
                }
                Type::Enum(e) if !support.enum64 && e.is_64 => {
                    let e = e.clone();
                    let member =
                        *enum64_member.get_or_insert_with(|| btf.push_type(byte_int(Name(0))));
                    Some(Type::Union(Composite {
                        name: e.name,
                        byte_size: e.byte_size,
                        members: e
                            .values
                            .iter()
                            .map(|v| Member {
                                name: v.name,
                                ty: member,
                                bit_offset: 0,
                                bitfield_size: 0,
                            })
                            .collect::<Vec<_>>()
                            .into(),
                    }))
                }
                _ => None,
            };
            if let Some(t) = replaced {
                btf.set_type(id, t);
            }
        }
        btf
    }

    /// The name of some type that is a C identifier.
    fn some_identifier(&self) -> Option<Name> {
        self.iter().find_map(|(_, t)| {
            let name = match t {
                Type::Int(i) => i.name,
                Type::Struct(c) | Type::Union(c) => c.name,
                Type::Typedef(n) => n.name,
                _ => return None,
            };
            let text = self.name(name);
            let mut chars = text.chars();
            let first = chars.next()?;
            let ok = (first.is_ascii_alphabetic() || first == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            ok.then_some(name)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;
    use crate::btf::testing::BtfBuilder;
    use crate::btf::Kind;

    fn kinds(btf: &Btf) -> Vec<Kind> {
        btf.iter().map(|(_, t)| t.kind()).collect()
    }

    #[test]
    fn nothing_missing_is_the_same_btf() {
        let btf = Btf::parse(&BtfBuilder::every_kind().bytes()).unwrap();
        let same = btf.downgraded(BtfSupport::ALL);
        assert_eq!(same.to_bytes().unwrap(), btf.to_bytes().unwrap());
    }

    #[test]
    fn each_missing_kind_is_replaced_by_an_older_one_with_ids_kept() {
        let btf = Btf::parse(&BtfBuilder::every_kind().bytes()).unwrap();
        let before = kinds(&btf);
        let old = btf.downgraded(BtfSupport::NONE);
        let after = kinds(&old);
        // One INT appended for the ENUM64s' members.
        assert_eq!(after.len(), before.len() + 1);
        assert_eq!(after.last(), Some(&Kind::Int));
        for (id, (b, a)) in before.iter().zip(&after).enumerate() {
            let want = match b {
                Kind::Func => Kind::Typedef,
                Kind::FuncProto => Kind::Enum,
                Kind::Var | Kind::DeclTag => Kind::Int,
                Kind::Datasec | Kind::Float => Kind::Struct,
                Kind::TypeTag => Kind::Const,
                Kind::Enum64 => Kind::Union,
                k => *k,
            };
            assert_eq!(*a, want, "type {id} was {b:?}");
        }
        // The result is BTF that reads back the same.
        let again = Btf::parse(&old.to_bytes().unwrap()).unwrap();
        assert_eq!(kinds(&again), after);
    }

    #[test]
    fn a_datasec_becomes_a_struct_of_its_variables() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 1);
        let x = b.var("x", int, 1);
        let y = b.var("y", int, 1);
        let sec = b.datasec(".data", 8, &[(x, 0, 4), (y, 4, 4)]);
        let btf = Btf::parse(&b.bytes()).unwrap();
        let old = btf.downgraded(BtfSupport {
            datasec: false,
            ..BtfSupport::ALL
        });
        let Type::Struct(s) = old.type_by_id(sec).unwrap() else {
            panic!("{:?}", old.type_by_id(sec));
        };
        assert!(s.name.is_anon(), "`.data` is no C identifier");
        assert_eq!(s.byte_size, 8);
        let members: Vec<(&str, TypeId, u32)> = s
            .members
            .iter()
            .map(|m| (old.name(m.name), m.ty, m.bit_offset))
            .collect();
        assert_eq!(members, [("x", x, 0), ("y", y, 32)]);
        assert!(
            matches!(old.type_by_id(x).unwrap(), Type::Int(i) if i.byte_size == 1 && old.name(i.name) == "x")
        );
    }

    #[test]
    fn funcs_become_typedefs_of_enums_or_lose_global_linkage() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 1);
        let proto = b.func_proto(int, &[("a", int), ("b", int)]);
        let f = b.func("f", proto, 1);
        let btf = Btf::parse(&b.bytes()).unwrap();
        let no_func = btf.downgraded(BtfSupport {
            func: false,
            ..BtfSupport::ALL
        });
        assert!(matches!(no_func.type_by_id(f).unwrap(), Type::Typedef(t) if t.target == proto));
        let Type::Enum(e) = no_func.type_by_id(proto).unwrap() else {
            panic!()
        };
        let values: Vec<(&str, u64)> = e
            .values
            .iter()
            .map(|v| (no_func.name(v.name), v.value))
            .collect();
        assert_eq!(values, [("a", u64::from(int.0)), ("b", u64::from(int.0))]);
        assert_eq!(e.byte_size, 4);
        let static_only = btf.downgraded(BtfSupport {
            global_func: false,
            ..BtfSupport::ALL
        });
        assert!(matches!(
            static_only.type_by_id(f).unwrap(),
            Type::Func(f) if f.linkage == super::super::FuncLinkage::Static
        ));
    }
}
