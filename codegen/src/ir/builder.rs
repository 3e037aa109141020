//! The IR builder: the Rust name and type of each BTF type reached from
//! the roots (naming anonymous types after their use, collisions checked),
//! and the item of each named type.
//!
//! In: BTF ids, through [`IrBuilder`]. Out: [`RustTy`]s and [`Item`]s;
//! struct and union layout is in `composite`, alignment in `align`.

use std::collections::{HashMap, HashSet, VecDeque};

use bpf2rs_reader::btf::{Btf, BtfError, Type, TypeId};

use super::{EnumItem, Field, FieldKind, GetterTy, Item, Items, Root, RustTy, TypesError};
use crate::naming;

pub(super) struct IrBuilder<'a> {
    pub(super) btf: &'a Btf,
    pub(super) rename_duplicates: bool,
    /// Rust name given to each named or reached type.
    pub(super) names: HashMap<TypeId, String>,
    /// Which type owns each Rust name (collision check).
    pub(super) owners: HashMap<String, TypeId>,
    pub(super) queue: VecDeque<(TypeId, String)>,
    pub(super) align_memo: HashMap<TypeId, u32>,
    pub(super) align_attr_memo: HashMap<TypeId, bool>,
    /// Structs and unions C packs although their members are naturally
    /// placed: a global variable of the type sits at an offset its natural
    /// alignment does not divide.
    pub(super) forced_packed: HashSet<TypeId>,
    pub(super) out: Items,
}

pub(super) const MAX_NESTING: u32 = 64;

impl<'a> IrBuilder<'a> {
    pub(super) fn new(btf: &'a Btf, rename_duplicates: bool) -> IrBuilder<'a> {
        IrBuilder {
            btf,
            rename_duplicates,
            names: HashMap::new(),
            owners: HashMap::new(),
            queue: VecDeque::new(),
            align_memo: HashMap::new(),
            align_attr_memo: HashMap::new(),
            forced_packed: HashSet::new(),
            out: Items::default(),
        }
    }

    pub(super) fn root(&mut self, r: &Root) -> Result<Option<RustTy>, TypesError> {
        let ty = self.btf.type_by_id(r.id)?;
        Ok(match ty {
            Type::Fwd(_) | Type::Func(_) | Type::FuncProto(_) | Type::Void => None,
            // A global data section becomes a struct of its variables, named
            // by the caller (`context`).
            Type::Datasec(_) => Some(RustTy::Named(self.claim(r.id, &r.context)?)),
            _ => Some(self.rust_ty(r.id, &r.context, 0)?),
        })
    }

    fn describe(&self, id: TypeId) -> String {
        let c = self.btf.c_type_name(id).unwrap_or_else(|_| "?".into());
        format!("{c} (BTF id {})", id.0)
    }

    /// Claims a Rust name for `id`, or returns the one it already has.
    pub(super) fn claim(&mut self, id: TypeId, wanted: &str) -> Result<String, TypesError> {
        if let Some(n) = self.names.get(&id) {
            return Ok(n.clone());
        }
        let mut name = naming::escape(wanted);
        if let Some(&owner) = self.owners.get(&name) {
            if owner != id {
                if !self.rename_duplicates {
                    return Err(TypesError::Collision {
                        name,
                        first: self.describe(owner),
                        second: self.describe(id),
                    });
                }
                let renamed = naming::renamed(&name, id.0);
                self.out.renamed.push((self.describe(id), renamed.clone()));
                name = renamed;
            }
        }
        self.owners.insert(name.clone(), id);
        self.names.insert(id, name.clone());
        self.queue.push_back((id, name.clone()));
        Ok(name)
    }

    /// The Rust type for a BTF type used by value. `context` names an
    /// anonymous struct, union or enum met here.
    pub(super) fn rust_ty(
        &mut self,
        id: TypeId,
        context: &str,
        depth: u32,
    ) -> Result<RustTy, TypesError> {
        if depth > MAX_NESTING {
            return Err(BtfError::TooDeep {
                id,
                max: MAX_NESTING,
            }
            .into());
        }
        let btf = self.btf;
        let ty = btf.type_by_id(id)?;
        Ok(match ty {
            Type::Int(i) => {
                if i.encoding.bool && i.byte_size == 1 {
                    RustTy::Bool
                } else {
                    int_ty(i.byte_size, i.encoding.signed && btf.name(i.name) != "char")
                }
            }
            Type::Float(f) => match f.byte_size {
                4 => RustTy::Prim("f32"),
                8 => RustTy::Prim("f64"),
                n => RustTy::Array(Box::new(RustTy::Prim("u8")), n),
            },
            // Pointers are kernel addresses: plain 64-bit numbers in user space.
            Type::Ptr(_) => RustTy::Prim("u64"),
            Type::Array(a) => {
                RustTy::Array(Box::new(self.rust_ty(a.elem, context, depth + 1)?), a.len)
            }
            Type::Const(r) | Type::Volatile(r) | Type::Restrict(r) => {
                self.rust_ty(r.target, context, depth + 1)?
            }
            Type::TypeTag(n) => self.rust_ty(n.target, context, depth + 1)?,
            Type::Typedef(t) => {
                let name = btf.name(t.name).to_owned();
                let target = btf.skip_mods(t.target)?;
                let target_ty = btf.type_by_id(target)?;
                let anon_composite =
                    matches!(target_ty, Type::Struct(_) | Type::Union(_) | Type::Enum(_))
                        && target_ty.name().is_anon();
                if anon_composite {
                    // `typedef struct { ... } foo_t;`: the struct takes the typedef's name.
                    if !self.names.contains_key(&target) {
                        self.claim(target, &name)?;
                    }
                    return Ok(RustTy::Named(self.names[&target].clone()));
                }
                if matches!(target_ty, Type::FuncProto(_) | Type::Void | Type::Fwd(_)) {
                    return Err(self.unsupported(
                        id,
                        "a typedef of a function, void or an opaque type has no value",
                    ));
                }
                let inner = self.rust_ty(target, &name, depth + 1)?;
                // `typedef struct foo foo;` needs no alias.
                if inner == RustTy::Named(naming::escape(&name)) {
                    return Ok(inner);
                }
                RustTy::Named(self.claim(id, &name)?)
            }
            Type::Struct(_) | Type::Union(_) | Type::Enum(_) => {
                let own = btf.name(ty.name());
                let wanted = if own.is_empty() {
                    context.to_owned()
                } else {
                    own.to_owned()
                };
                RustTy::Named(self.claim(id, &wanted)?)
            }
            Type::Fwd(_) => {
                return Err(self.unsupported(
                    id,
                    "an opaque (forward-declared) type cannot be used by value",
                ))
            }
            Type::Void
            | Type::Func(_)
            | Type::FuncProto(_)
            | Type::Var(_)
            | Type::Datasec(_)
            | Type::DeclTag(_) => return Err(self.unsupported(id, "has no value representation")),
        })
    }

    pub(super) fn unsupported(&self, id: TypeId, message: &str) -> TypesError {
        TypesError::Unsupported {
            id,
            what: self.btf.c_type_name(id).unwrap_or_else(|_| "?".into()),
            message: message.into(),
        }
    }

    /// The item for a type that claimed a name.
    pub(super) fn item(&mut self, id: TypeId, name: &str) -> Result<Option<Item>, TypesError> {
        let btf = self.btf;
        let c_name = btf.c_type_name(id)?;
        match btf.type_by_id(id)? {
            Type::Typedef(t) => {
                let target = self.rust_ty(t.target, name, 0)?;
                Ok(Some(Item::Alias {
                    name: name.to_owned(),
                    c_name,
                    target,
                }))
            }
            Type::Enum(e) => {
                let repr = match int_ty(e.byte_size, e.signed) {
                    RustTy::Prim(p) => p,
                    _ => return Err(self.unsupported(id, "enum size is not 1, 2, 4 or 8")),
                };
                let mut values = Vec::with_capacity(e.values.len());
                for v in e.values.iter() {
                    values.push((naming::escape(btf.name(v.name)), v.value));
                }
                Ok(Some(Item::Enum(EnumItem {
                    name: name.to_owned(),
                    c_name,
                    repr,
                    size: e.byte_size,
                    values,
                    signed: e.signed,
                })))
            }
            Type::Struct(c) | Type::Union(c) => {
                let is_union = matches!(btf.type_by_id(id)?, Type::Union(_));
                let members = c.members.clone();
                Ok(Some(Item::Struct(self.composite(
                    id,
                    name,
                    c_name,
                    is_union,
                    c.byte_size,
                    &members,
                )?)))
            }
            Type::Datasec(d) => {
                let mut members = Vec::with_capacity(d.vars.len());
                for v in d.vars.iter() {
                    let Type::Var(var) = btf.type_by_id(v.ty)? else {
                        return Err(
                            self.unsupported(v.ty, "a DATASEC entry that is not a variable")
                        );
                    };
                    members.push(bpf2rs_reader::btf::Member {
                        name: var.name,
                        ty: var.ty,
                        bit_offset: v.offset * 8,
                        bitfield_size: 0,
                    });
                }
                // clang leaves a section's size unrounded (a `u64` then a
                // `u32` make 12 bytes). The Rust type gets the tail padding
                // a C struct of the same variables would have, so that it
                // need not be packed; the runtime's views have room for it.
                let mut natural = 1;
                for m in &members {
                    natural = natural.max(self.c_align(m.ty, 1)?);
                }
                let size = d.byte_size.next_multiple_of(natural);
                let mut item = self.composite(id, name, c_name, false, size, &members)?;
                item.c_size = d.byte_size;
                Ok(Some(Item::Struct(item)))
            }
            _ => Ok(None),
        }
    }

    pub(super) fn ty_size(&self, ty: &RustTy) -> u32 {
        match ty {
            RustTy::Prim(p) => prim_size(p),
            RustTy::Bool => 1,
            RustTy::Array(t, n) => self.ty_size(t).saturating_mul(*n),
            RustTy::Named(n) => self
                .owners
                .get(n)
                .and_then(|id| self.btf.size_of(*id).ok())
                .unwrap_or(0),
        }
    }

    /// `context` names an anonymous enum used as the bitfield's type.
    pub(super) fn getter_ty(&mut self, id: TypeId, context: &str) -> Result<GetterTy, TypesError> {
        let r = self.btf.skip_mods_and_typedefs(id)?;
        Ok(match self.btf.type_by_id(r)? {
            Type::Int(i) if i.encoding.bool => GetterTy::Bool,
            // Plain `char` reads as u8, as `char` members do.
            Type::Int(i) => match int_ty(
                i.byte_size.min(8),
                i.encoding.signed && self.btf.name(i.name) != "char",
            ) {
                RustTy::Prim(p) => GetterTy::Prim(p),
                _ => GetterTy::Prim("u64"),
            },
            Type::Enum(e) => {
                let repr = match int_ty(e.byte_size, e.signed) {
                    RustTy::Prim(p) => p,
                    _ => "u64",
                };
                match self.rust_ty(r, context, 1)? {
                    RustTy::Named(n) => GetterTy::Enum(n, repr),
                    _ => GetterTy::Prim(repr),
                }
            }
            _ => GetterTy::Prim("u64"),
        })
    }
}

pub(super) fn pad(offset: u32, len: u32) -> Field {
    Field {
        name: naming::padding(offset),
        ty: bytes_ty(len),
        offset,
        kind: FieldKind::Padding,
    }
}

pub(super) fn bytes_ty(len: u32) -> RustTy {
    RustTy::Array(Box::new(RustTy::Prim("u8")), len)
}

pub(super) fn int_ty(size: u32, signed: bool) -> RustTy {
    RustTy::Prim(match (size, signed) {
        (1, false) => "u8",
        (1, true) => "i8",
        (2, false) => "u16",
        (2, true) => "i16",
        (4, false) => "u32",
        (4, true) => "i32",
        (8, false) => "u64",
        (8, true) => "i64",
        (16, false) => "u128",
        (16, true) => "i128",
        (n, _) => return bytes_ty(n),
    })
}

pub(super) fn prim_size(p: &str) -> u32 {
    match p {
        "u8" | "i8" => 1,
        "u16" | "i16" => 2,
        "u32" | "i32" | "f32" => 4,
        "u64" | "i64" | "f64" => 8,
        "u128" | "i128" => 16,
        _ => 0,
    }
}
