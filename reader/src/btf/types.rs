//! The BTF model: one `Type` per type id, names kept as offsets into the
//! string section (resolve them with [`Btf::name`](super::Btf::name)).
//!
//! In: nothing (plain data). Out: the types the wire reader fills and every
//! later stage (object reader, codegen, loader) walks.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The members, enumerators, parameters or variables of one type: a run in
/// a buffer that every type of a parsed BTF shares, so that parsing makes
/// one allocation per kind of record instead of one per type. Derefs to a
/// slice; cloning is cheap.
#[derive(Clone)]
pub struct Records<T> {
    all: Option<Arc<Vec<T>>>,
    start: u32,
    len: u32,
}

impl<T> Records<T> {
    /// `len` records from `start` of a buffer the parser attaches later
    /// with [`attach`](Self::attach); empty until then.
    pub(crate) fn pending(start: usize, len: usize) -> Records<T> {
        Records {
            all: None,
            start: start as u32,
            len: len as u32,
        }
    }

    /// Points a pending run at its buffer.
    pub(crate) fn attach(&mut self, all: &Option<Arc<Vec<T>>>) {
        if self.len > 0 {
            self.all.clone_from(all);
        }
    }
}

impl<T> Deref for Records<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match &self.all {
            Some(all) => {
                let start = self.start as usize;
                all.get(start..start + self.len as usize).unwrap_or(&[])
            }
            None => &[],
        }
    }
}

impl<T> From<Vec<T>> for Records<T> {
    fn from(v: Vec<T>) -> Records<T> {
        let len = v.len() as u32;
        Records {
            all: (len > 0).then(|| Arc::new(v)),
            start: 0,
            len,
        }
    }
}

impl<T> Default for Records<T> {
    fn default() -> Records<T> {
        Records {
            all: None,
            start: 0,
            len: 0,
        }
    }
}

impl<'a, T> IntoIterator for &'a Records<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: PartialEq> PartialEq for Records<T> {
    fn eq(&self, other: &Records<T>) -> bool {
        **self == **other
    }
}

impl<T: fmt::Debug> fmt::Debug for Records<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A BTF type id. Id 0 is `void`; in split BTF, ids continue after the base's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TypeId(pub u32);

impl TypeId {
    /// The `void` type.
    pub const VOID: TypeId = TypeId(0);

    /// Whether this is `void`.
    pub fn is_void(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.0)
    }
}

impl fmt::Display for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.0)
    }
}

/// Offset of a NUL-terminated name in the string section (0 is the empty name).
/// Checked against the section when the BTF is read, so resolving it cannot fail.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Name(pub u32);

impl Name {
    /// Whether this is the empty (anonymous) name.
    pub fn is_anon(self) -> bool {
        self.0 == 0
    }
}

/// The BTF kind numbers of the kernel's `include/uapi/linux/btf.h`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum Kind {
    Void = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
}

impl Kind {
    /// The kind for a wire number, if known.
    pub fn from_u32(kind: u32) -> Option<Kind> {
        use Kind::*;
        Some(match kind {
            0 => Void,
            1 => Int,
            2 => Ptr,
            3 => Array,
            4 => Struct,
            5 => Union,
            6 => Enum,
            7 => Fwd,
            8 => Typedef,
            9 => Volatile,
            10 => Const,
            11 => Restrict,
            12 => Func,
            13 => FuncProto,
            14 => Var,
            15 => Datasec,
            16 => Float,
            17 => DeclTag,
            18 => TypeTag,
            19 => Enum64,
            _ => return None,
        })
    }

    /// The kind's name as the kernel and bpftool print it (`STRUCT`, `FUNC_PROTO`).
    pub fn as_str(self) -> &'static str {
        use Kind::*;
        match self {
            Void => "VOID",
            Int => "INT",
            Ptr => "PTR",
            Array => "ARRAY",
            Struct => "STRUCT",
            Union => "UNION",
            Enum => "ENUM",
            Fwd => "FWD",
            Typedef => "TYPEDEF",
            Volatile => "VOLATILE",
            Const => "CONST",
            Restrict => "RESTRICT",
            Func => "FUNC",
            FuncProto => "FUNC_PROTO",
            Var => "VAR",
            Datasec => "DATASEC",
            Float => "FLOAT",
            DeclTag => "DECL_TAG",
            TypeTag => "TYPE_TAG",
            Enum64 => "ENUM64",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One BTF type.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// Type id 0.
    Void,
    Int(Int),
    Ptr(Ref),
    Array(Array),
    Struct(Composite),
    Union(Composite),
    /// ENUM and ENUM64 share one shape; `Enum::is_64` tells them apart.
    Enum(Enum),
    Fwd(Fwd),
    Typedef(Named),
    Volatile(Ref),
    Const(Ref),
    Restrict(Ref),
    Func(Func),
    FuncProto(FuncProto),
    Var(Var),
    Datasec(Datasec),
    Float(Float),
    DeclTag(DeclTag),
    TypeTag(Named),
}

impl Type {
    /// The kind of this type.
    pub fn kind(&self) -> Kind {
        match self {
            Type::Void => Kind::Void,
            Type::Int(_) => Kind::Int,
            Type::Ptr(_) => Kind::Ptr,
            Type::Array(_) => Kind::Array,
            Type::Struct(_) => Kind::Struct,
            Type::Union(_) => Kind::Union,
            Type::Enum(e) if e.is_64 => Kind::Enum64,
            Type::Enum(_) => Kind::Enum,
            Type::Fwd(_) => Kind::Fwd,
            Type::Typedef(_) => Kind::Typedef,
            Type::Volatile(_) => Kind::Volatile,
            Type::Const(_) => Kind::Const,
            Type::Restrict(_) => Kind::Restrict,
            Type::Func(_) => Kind::Func,
            Type::FuncProto(_) => Kind::FuncProto,
            Type::Var(_) => Kind::Var,
            Type::Datasec(_) => Kind::Datasec,
            Type::Float(_) => Kind::Float,
            Type::DeclTag(_) => Kind::DeclTag,
            Type::TypeTag(_) => Kind::TypeTag,
        }
    }

    /// The type's own name (anonymous for kinds without one).
    pub fn name(&self) -> Name {
        match self {
            Type::Int(t) => t.name,
            Type::Struct(t) | Type::Union(t) => t.name,
            Type::Enum(t) => t.name,
            Type::Fwd(t) => t.name,
            Type::Typedef(t) | Type::TypeTag(t) => t.name,
            Type::Func(t) => t.name,
            Type::Var(t) => t.name,
            Type::Datasec(t) => t.name,
            Type::Float(t) => t.name,
            Type::DeclTag(t) => t.name,
            Type::Void
            | Type::Ptr(_)
            | Type::Array(_)
            | Type::Volatile(_)
            | Type::Const(_)
            | Type::Restrict(_)
            | Type::FuncProto(_) => Name(0),
        }
    }

    /// For kinds that only refer to another type (ptr, typedef, modifiers,
    /// type tags, var, func), the type referred to.
    pub fn referenced(&self) -> Option<TypeId> {
        match self {
            Type::Ptr(r) | Type::Volatile(r) | Type::Const(r) | Type::Restrict(r) => Some(r.target),
            Type::Typedef(n) | Type::TypeTag(n) => Some(n.target),
            Type::Var(v) => Some(v.ty),
            Type::Func(f) => Some(f.proto),
            Type::DeclTag(d) => Some(d.target),
            _ => None,
        }
    }

    /// The members of a struct or union.
    pub fn members(&self) -> Option<&[Member]> {
        match self {
            Type::Struct(c) | Type::Union(c) => Some(&c.members),
            _ => None,
        }
    }
}

/// How an INT is encoded (`BTF_INT_SIGNED`, `BTF_INT_CHAR`, `BTF_INT_BOOL`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct IntEncoding {
    pub signed: bool,
    pub char: bool,
    pub bool: bool,
}

/// `BTF_KIND_INT`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Int {
    pub name: Name,
    pub byte_size: u32,
    pub encoding: IntEncoding,
    /// Bit offset of the value inside its storage (legacy bitfield encoding).
    pub bit_offset: u8,
    /// Number of value bits (8 * byte_size unless a legacy bitfield).
    pub bits: u8,
}

/// A kind that only points at another type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ref {
    pub target: TypeId,
}

/// A named reference: typedef or type tag.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Named {
    pub name: Name,
    pub target: TypeId,
}

/// `BTF_KIND_ARRAY`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Array {
    pub elem: TypeId,
    pub index: TypeId,
    pub len: u32,
}

/// A struct or union.
#[derive(Clone, PartialEq, Debug)]
pub struct Composite {
    pub name: Name,
    pub byte_size: u32,
    pub members: Records<Member>,
}

/// One struct or union member, as written in BTF.
///
/// With the kind_flag encoding, `bitfield_size` is the bitfield width (0 for a
/// plain member). Without it, bitfields are described by the member's INT type
/// instead; [`Btf::member_bits`](super::Btf::member_bits) normalises both.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Member {
    pub name: Name,
    pub ty: TypeId,
    pub bit_offset: u32,
    pub bitfield_size: u32,
}

/// An ENUM (32-bit values) or ENUM64.
#[derive(Clone, PartialEq, Debug)]
pub struct Enum {
    pub name: Name,
    pub byte_size: u32,
    pub signed: bool,
    pub is_64: bool,
    pub values: Records<Enumerator>,
}

/// One enumerator. `value` holds the bits; read it as signed or unsigned per
/// the enum's `signed` flag.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Enumerator {
    pub name: Name,
    pub value: u64,
}

/// `BTF_KIND_FWD`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fwd {
    pub name: Name,
    pub is_union: bool,
}

/// Linkage of a FUNC (`btf_func_linkage`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FuncLinkage {
    Static,
    Global,
    Extern,
    Other(u16),
}

/// `BTF_KIND_FUNC`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Func {
    pub name: Name,
    pub proto: TypeId,
    pub linkage: FuncLinkage,
}

/// `BTF_KIND_FUNC_PROTO`.
#[derive(Clone, PartialEq, Debug)]
pub struct FuncProto {
    pub ret: TypeId,
    pub params: Records<Param>,
}

/// One parameter of a FUNC_PROTO. A last parameter with void type and no name
/// means `...`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Param {
    pub name: Name,
    pub ty: TypeId,
}

/// Linkage of a VAR (`btf_var_linkage`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VarLinkage {
    Static,
    Global,
    Extern,
    Other(u32),
}

/// `BTF_KIND_VAR`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Var {
    pub name: Name,
    pub ty: TypeId,
    pub linkage: VarLinkage,
}

/// `BTF_KIND_DATASEC`.
#[derive(Clone, PartialEq, Debug)]
pub struct Datasec {
    pub name: Name,
    pub byte_size: u32,
    pub vars: Records<VarSecinfo>,
}

/// One variable of a DATASEC.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VarSecinfo {
    pub ty: TypeId,
    pub offset: u32,
    pub byte_size: u32,
}

/// `BTF_KIND_FLOAT`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Float {
    pub name: Name,
    pub byte_size: u32,
}

/// `BTF_KIND_DECL_TAG`: a tag on a type, or (component_idx >= 0) on one of
/// its members or parameters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DeclTag {
    pub name: Name,
    pub target: TypeId,
    pub component_idx: i32,
}
