//! The Rust layout IR: every byte of every emitted type decided here, from
//! BTF offsets (never re-simulated C layout rules): explicit padding,
//! bitfield storage, `packed` and `align(N)`, and the Rust name of each type.
//!
//! In: a [`Btf`] and the root types to emit. Out: [`Items`], sorted by Rust
//! name, ready for `emit`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use bpf2rs::btf::{Btf, BtfError, Type, TypeId};

use crate::naming;

/// What can go wrong turning BTF into Rust types.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TypesError {
    #[error("{0}")]
    Btf(#[from] BtfError),
    #[error("type {id} ({what}): {message}")]
    Unsupported {
        id: TypeId,
        what: String,
        message: String,
    },
    #[error("two C types would both be named `{name}` in Rust: {first} and {second} (pass --rename-duplicates to suffix the later one with its BTF id)")]
    Collision {
        name: String,
        first: String,
        second: String,
    },
    #[error("no type named `{0}` in the BTF")]
    NotFound(String),
}

/// A Rust type expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RustTy {
    /// A primitive, spelled as in `::core::primitive`.
    Prim(&'static str),
    /// `_Bool`.
    Bool,
    /// An emitted type, by Rust name.
    Named(String),
    Array(Box<RustTy>, u32),
}

/// One field of a struct or union, including padding and bitfield storage.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: RustTy,
    pub offset: u32,
    pub kind: FieldKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A C member.
    Member,
    /// Bytes C leaves unnamed.
    Padding,
    /// The bytes that hold one or more bitfields.
    BitfieldStorage,
}

/// Accessors for one bitfield.
#[derive(Clone, Debug, PartialEq)]
pub struct Bitfield {
    pub name: String,
    /// The storage field's name.
    pub storage: String,
    /// Bit offset from the start of the storage bytes.
    pub bit_offset: u32,
    pub bits: u32,
    pub signed: bool,
    pub getter: GetterTy,
}

/// What a bitfield getter returns.
#[derive(Clone, Debug, PartialEq)]
pub enum GetterTy {
    Prim(&'static str),
    Bool,
    /// An enum newtype and its repr primitive.
    Enum(String, &'static str),
}

#[derive(Clone, Debug, PartialEq)]
pub struct StructItem {
    pub name: String,
    /// `struct flow_key`, for docs.
    pub c_name: String,
    pub btf_id: TypeId,
    pub is_union: bool,
    pub size: u32,
    /// The size BTF gives; smaller than `size` only for a data section,
    /// whose Rust type adds the tail padding clang leaves out.
    pub c_size: u32,
    pub align: u32,
    pub packed: bool,
    /// `align(N)` when the C alignment exceeds what the fields give.
    pub align_attr: Option<u32>,
    pub fields: Vec<Field>,
    pub bitfields: Vec<Bitfield>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumItem {
    pub name: String,
    pub c_name: String,
    pub repr: &'static str,
    pub size: u32,
    /// (Rust const name, value bits, C name)
    pub values: Vec<(String, u64)>,
    pub signed: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Struct(StructItem),
    Enum(EnumItem),
    Alias {
        name: String,
        c_name: String,
        target: RustTy,
    },
}

impl Item {
    pub fn name(&self) -> &str {
        match self {
            Item::Struct(s) => &s.name,
            Item::Enum(e) => &e.name,
            Item::Alias { name, .. } => name,
        }
    }
}

/// The emitted types, sorted by name, and the renames made for duplicates.
#[derive(Debug, Default)]
pub struct Items {
    pub items: BTreeMap<String, Item>,
    /// (C description, Rust name) of types renamed because of a duplicate.
    pub renamed: Vec<(String, String)>,
    /// The Rust type of each root, in the order given (`None` for roots
    /// that have no value, such as functions).
    pub root_tys: Vec<Option<RustTy>>,
}

/// A type to emit, with the name an anonymous one should get.
#[derive(Clone, Debug)]
pub struct Root {
    pub id: TypeId,
    /// Used only when the type has no name of its own.
    pub context: String,
}

/// Builds the IR for `roots` and everything they contain by value.
pub fn build(btf: &Btf, roots: &[Root], rename_duplicates: bool) -> Result<Items, TypesError> {
    let mut b = IrBuilder {
        btf,
        rename_duplicates,
        names: HashMap::new(),
        owners: HashMap::new(),
        queue: VecDeque::new(),
        align_memo: HashMap::new(),
        align_attr_memo: HashMap::new(),
        forced_packed: HashSet::new(),
        out: Items::default(),
    };
    for r in roots {
        b.find_packed_globals(r.id)?;
    }
    // Each root's contents are named before the next root is looked at, so
    // an anonymous type gets the name of the first parent that holds it.
    for r in roots {
        let ty = b.root(r)?;
        b.out.root_tys.push(ty);
        while let Some((id, name)) = b.queue.pop_front() {
            let item = b.item(id, &name)?;
            if let Some(item) = item {
                b.out.items.insert(name, item);
            }
        }
    }
    Ok(b.out)
}

struct IrBuilder<'a> {
    btf: &'a Btf,
    rename_duplicates: bool,
    /// Rust name given to each named or reached type.
    names: HashMap<TypeId, String>,
    /// Which type owns each Rust name (collision check).
    owners: HashMap<String, TypeId>,
    queue: VecDeque<(TypeId, String)>,
    align_memo: HashMap<TypeId, u32>,
    align_attr_memo: HashMap<TypeId, bool>,
    /// Structs and unions C packs although their members are naturally
    /// placed: a global variable of the type sits at an offset its natural
    /// alignment does not divide.
    forced_packed: HashSet<TypeId>,
    out: Items,
}

/// Alignment facts of one struct or union.
#[derive(Clone, Copy, Debug)]
struct CompositeAlign {
    /// The C alignment.
    align: u32,
    packed: bool,
    /// What the Rust fields give (bitfield storage is bytes, alignment 1).
    fields_align: u32,
}

impl CompositeAlign {
    /// `align(N)` is needed when C aligns more than the Rust fields do.
    fn align_attr(self) -> Option<u32> {
        (!self.packed && self.align > self.fields_align).then_some(self.align)
    }
}

const MAX_NESTING: u32 = 64;

impl IrBuilder<'_> {
    /// A data section places each variable at its C alignment, so a variable
    /// whose offset the natural alignment of its struct type does not divide
    /// proves that C packs that struct (`__attribute__((packed))` on members
    /// that happen to be aligned). Such types are emitted packed, so that
    /// the section itself keeps its natural layout and its other fields can
    /// be borrowed.
    fn find_packed_globals(&mut self, id: TypeId) -> Result<(), TypesError> {
        let btf = self.btf;
        let Type::Datasec(d) = btf.type_by_id(id)? else {
            return Ok(());
        };
        for v in d.vars.iter() {
            let Type::Var(var) = btf.type_by_id(v.ty)? else {
                continue;
            };
            let mut t = btf.skip_mods_and_typedefs(var.ty)?;
            for _ in 0..MAX_NESTING {
                match btf.type_by_id(t)? {
                    Type::Array(a) => t = btf.skip_mods_and_typedefs(a.elem)?,
                    _ => break,
                }
            }
            if !matches!(btf.type_by_id(t)?, Type::Struct(_) | Type::Union(_)) {
                continue;
            }
            if v.offset % self.c_align(t, 0)? != 0 {
                self.forced_packed.insert(t);
                self.align_memo.clear();
                self.align_attr_memo.clear();
            }
        }
        Ok(())
    }

    fn root(&mut self, r: &Root) -> Result<Option<RustTy>, TypesError> {
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
    fn claim(&mut self, id: TypeId, wanted: &str) -> Result<String, TypesError> {
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
                let renamed = naming::escape(&format!("{}__{}", naming::plain(&name), id.0));
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
    fn rust_ty(&mut self, id: TypeId, context: &str, depth: u32) -> Result<RustTy, TypesError> {
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

    fn unsupported(&self, id: TypeId, message: &str) -> TypesError {
        TypesError::Unsupported {
            id,
            what: self.btf.c_type_name(id).unwrap_or_else(|_| "?".into()),
            message: message.into(),
        }
    }

    /// The item for a type that claimed a name.
    fn item(&mut self, id: TypeId, name: &str) -> Result<Option<Item>, TypesError> {
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
                    members.push(bpf2rs::btf::Member {
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

    /// C alignment of a type as this generator lays it out (natural, or
    /// larger when the layout shows `aligned(N)`, or 1 when packed).
    fn c_align(&mut self, id: TypeId, depth: u32) -> Result<u32, TypesError> {
        if depth > MAX_NESTING {
            return Err(BtfError::TooDeep {
                id,
                max: MAX_NESTING,
            }
            .into());
        }
        let resolved = self.btf.skip_mods_and_typedefs(id)?;
        if let Some(&a) = self.align_memo.get(&resolved) {
            return Ok(a);
        }
        let btf = self.btf;
        let a = match btf.type_by_id(resolved)? {
            Type::Array(arr) => self.c_align(arr.elem, depth + 1)?,
            Type::Struct(c) | Type::Union(c) => {
                let members = c.members.clone();
                self.composite_align(resolved, &members, c.byte_size, depth)?
                    .align
            }
            _ => btf.align_of(resolved)?,
        };
        self.align_memo.insert(resolved, a);
        Ok(a)
    }

    /// The alignment of the Rust field for C type `id` (whose C alignment is
    /// `c_align`): a scalar Rust has no type for (a 16-byte `long double`)
    /// is kept as bytes, alignment 1.
    fn rust_align(&self, id: TypeId, c_align: u32) -> Result<u32, TypesError> {
        let mut r = self.btf.skip_mods_and_typedefs(id)?;
        for _ in 0..MAX_NESTING {
            match self.btf.type_by_id(r)? {
                Type::Array(a) => r = self.btf.skip_mods_and_typedefs(a.elem)?,
                Type::Float(f) if !matches!(f.byte_size, 4 | 8) => return Ok(1),
                _ => return Ok(c_align),
            }
        }
        Ok(c_align)
    }

    /// Alignment facts of a struct or union, from its members' offsets.
    ///
    /// BTF records no alignment, so the alignment given is the natural one:
    /// the largest of the members' (1 when the offsets show the type is
    /// packed). An `aligned(N)` attribute shows in BTF only as a gap or tail
    /// padding, which every struct already spells out as explicit `__pad_*`
    /// fields, so offsets and size are exact without guessing N. A guess
    /// could exceed C's alignment (a zero-width `int :0` or a trailing
    /// unnamed bitfield leaves the same gaps), and an over-aligned Rust type
    /// cannot be borrowed out of a data section or stored in a packed
    /// parent, and a ring-buffer record of it must be copied out of the
    /// ring (records are 8-aligned) instead of read in place.
    fn composite_align(
        &mut self,
        id: TypeId,
        members: &[bpf2rs::btf::Member],
        size: u32,
        depth: u32,
    ) -> Result<CompositeAlign, TypesError> {
        let mut natural = 1;
        let mut fields_align = 1;
        let mut packed = self.forced_packed.contains(&id);
        for m in members {
            let bits = self.btf.member_bits(m)?;
            let align = self.c_align(m.ty, depth + 1)?;
            natural = natural.max(align);
            if bits.bitfield_size.is_none() {
                fields_align = fields_align.max(self.rust_align(m.ty, align)?);
                if bits.bit_offset % 8 != 0 || (bits.bit_offset / 8) % align != 0 {
                    packed = true;
                }
            }
        }
        if packed || !size.is_multiple_of(natural) {
            return Ok(CompositeAlign {
                align: 1,
                packed: true,
                fields_align: 1,
            });
        }
        Ok(CompositeAlign {
            align: natural,
            packed: false,
            fields_align,
        })
    }

    fn composite(
        &mut self,
        id: TypeId,
        name: &str,
        c_name: String,
        is_union: bool,
        size: u32,
        members: &[bpf2rs::btf::Member],
    ) -> Result<StructItem, TypesError> {
        let btf = self.btf;
        let layout = self.composite_align(id, members, size, 0)?;
        let (align, packed) = (layout.align, layout.packed);
        let mut ordered: Vec<(usize, &bpf2rs::btf::Member)> = members.iter().enumerate().collect();
        ordered.sort_by_key(|(i, m)| (m.bit_offset, *i));
        let mut fields: Vec<Field> = Vec::new();
        let mut bitfields = Vec::new();
        let mut cursor = 0u32; // first byte not yet covered (structs)
        let mut union_storage: Option<(String, u32)> = None;
        let mut anon_pos = 0usize;
        let mut i = 0;
        while i < ordered.len() {
            let (_, m) = ordered[i];
            let mb = btf.member_bits(m)?;
            let member_name = if m.name.is_anon() {
                let n = naming::anon_member(is_union, mb.bit_offset / 8, anon_pos);
                anon_pos += 1;
                n
            } else {
                naming::escape(btf.name(m.name))
            };
            if let Some(width) = mb.bitfield_size.or(if mb.bit_offset % 8 != 0 {
                Some(btf.size_of(m.ty)? * 8)
            } else {
                None
            }) {
                // A run of bitfields whose bytes overlap shares one storage field.
                let mut start = mb.bit_offset / 8;
                let mut end = (mb.bit_offset + width).div_ceil(8);
                let mut group = vec![(member_name, m, mb.bit_offset, width)];
                let mut j = i + 1;
                while !is_union && j < ordered.len() {
                    let (_, n) = ordered[j];
                    let nb = btf.member_bits(n)?;
                    let Some(nw) = nb.bitfield_size else { break };
                    if nb.bit_offset / 8 >= end {
                        break;
                    }
                    let nname = if n.name.is_anon() {
                        naming::anon_member(false, nb.bit_offset / 8, 0)
                    } else {
                        naming::escape(btf.name(n.name))
                    };
                    end = end.max((nb.bit_offset + nw).div_ceil(8));
                    group.push((nname, n, nb.bit_offset, nw));
                    j += 1;
                }
                if is_union {
                    // Every union bitfield starts at byte 0: one shared storage.
                    start = 0;
                    let storage = naming::bitfield_storage(0);
                    let len = end.max(union_storage.as_ref().map(|s| s.1).unwrap_or(0));
                    union_storage = Some((storage.clone(), len));
                } else {
                    if start < cursor {
                        return Err(self.unsupported(
                            id,
                            &format!(
                                "bitfield `{}` overlaps the previous member",
                                naming::plain(&group[0].0)
                            ),
                        ));
                    }
                    if start > cursor {
                        fields.push(pad(cursor, start - cursor));
                    }
                    fields.push(Field {
                        name: naming::bitfield_storage(start),
                        ty: bytes_ty(end - start),
                        offset: start,
                        kind: FieldKind::BitfieldStorage,
                    });
                    cursor = end;
                }
                for (bname, bm, bit_off, w) in group {
                    let getter = self.getter_ty(bm.ty, &naming::nested(name, &bname))?;
                    let signed = match &getter {
                        GetterTy::Prim(p) => p.starts_with('i'),
                        GetterTy::Enum(_, r) => r.starts_with('i'),
                        GetterTy::Bool => false,
                    };
                    bitfields.push(Bitfield {
                        name: bname,
                        storage: naming::bitfield_storage(start),
                        bit_offset: bit_off - start * 8,
                        bits: w,
                        signed,
                        getter,
                    });
                }
                i = j;
                continue;
            }
            let off = mb.bit_offset / 8;
            let msize = btf.size_of(m.ty)?;
            let context = if m.name.is_anon() {
                format!(
                    "{}__anon{}",
                    naming::plain(name),
                    if is_union { anon_pos - 1 } else { off as usize }
                )
            } else {
                naming::nested(name, btf.name(m.name))
            };
            let mut ty = self.rust_ty(m.ty, &context, 1)?;
            // A packed Rust struct cannot hold an over-aligned type: keep the bytes.
            if packed && self.contains_align_attr(m.ty)? {
                ty = bytes_ty(msize);
            }
            if is_union {
                fields.push(Field {
                    name: member_name,
                    ty,
                    offset: 0,
                    kind: FieldKind::Member,
                });
            } else {
                if off < cursor {
                    return Err(self.unsupported(
                        id,
                        &format!(
                            "member `{}` at byte {off} overlaps the previous member",
                            naming::plain(&member_name)
                        ),
                    ));
                }
                if off > cursor {
                    fields.push(pad(cursor, off - cursor));
                }
                fields.push(Field {
                    name: member_name,
                    ty,
                    offset: off,
                    kind: FieldKind::Member,
                });
                cursor = off + msize;
            }
            i += 1;
        }
        if is_union {
            if let Some((storage, len)) = union_storage {
                fields.push(Field {
                    name: storage,
                    ty: bytes_ty(len),
                    offset: 0,
                    kind: FieldKind::BitfieldStorage,
                });
            }
            // Bytes no member covers would be padding: one field spanning the
            // whole union makes every byte initialised.
            let covered = fields
                .iter()
                .map(|f| self.ty_size(&f.ty))
                .max()
                .unwrap_or(0);
            if covered < size {
                fields.push(pad(0, size));
            }
        } else if cursor < size {
            fields.push(pad(cursor, size - cursor));
        }
        let align_attr = layout.align_attr();
        Ok(StructItem {
            name: name.to_owned(),
            c_name,
            btf_id: id,
            is_union,
            size,
            c_size: size,
            align,
            packed,
            align_attr,
            fields,
            bitfields,
        })
    }

    /// Whether a type is, or holds by value, a type emitted with `align(N)`
    /// (which Rust forbids inside a packed type).
    fn contains_align_attr(&mut self, id: TypeId) -> Result<bool, TypesError> {
        let r = self.btf.skip_mods_and_typedefs(id)?;
        if let Some(&v) = self.align_attr_memo.get(&r) {
            return Ok(v);
        }
        let v = match self.btf.type_by_id(r)? {
            Type::Array(a) => self.contains_align_attr(a.elem)?,
            Type::Struct(c) | Type::Union(c) => {
                let members = c.members.clone();
                let l = self.composite_align(r, &members, c.byte_size, 0)?;
                let mut v = l.align_attr().is_some();
                for m in members.iter() {
                    v = v || self.contains_align_attr(m.ty)?;
                }
                v
            }
            _ => false,
        };
        self.align_attr_memo.insert(r, v);
        Ok(v)
    }

    fn ty_size(&self, ty: &RustTy) -> u32 {
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
    fn getter_ty(&mut self, id: TypeId, context: &str) -> Result<GetterTy, TypesError> {
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

fn pad(offset: u32, len: u32) -> Field {
    Field {
        name: naming::padding(offset),
        ty: bytes_ty(len),
        offset,
        kind: FieldKind::Padding,
    }
}

fn bytes_ty(len: u32) -> RustTy {
    RustTy::Array(Box::new(RustTy::Prim("u8")), len)
}

fn int_ty(size: u32, signed: bool) -> RustTy {
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

fn prim_size(p: &str) -> u32 {
    match p {
        "u8" | "i8" => 1,
        "u16" | "i16" => 2,
        "u32" | "i32" | "f32" => 4,
        "u64" | "i64" | "f64" => 8,
        "u128" | "i128" => 16,
        _ => 0,
    }
}
