//! The Rust layout IR: every byte of every emitted type decided here, from
//! BTF offsets (never re-simulated C layout rules): explicit padding,
//! bitfield storage, `packed` and `align(N)`, and the Rust name of each type.
//!
//! In: a [`Btf`] and the root types to emit. Out: [`Items`], sorted by Rust
//! name, ready for `emit`.

use std::collections::BTreeMap;

use bpf2rs_reader::btf::{Btf, TypeId};

mod align;
mod builder;
mod composite;
pub mod skel;

use builder::IrBuilder;

pub use crate::error::TypesError;
pub use crate::select::Root;

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

/// Builds the IR for `roots` and everything they contain by value.
pub fn build(btf: &Btf, roots: &[Root], rename_duplicates: bool) -> Result<Items, TypesError> {
    let mut b = IrBuilder::new(btf, rename_duplicates);
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
