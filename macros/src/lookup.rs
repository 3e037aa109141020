//! Look-up (expansion time): one struct or union of an object's `.BTF`, by
//! name, read with the shared `bpf2rs-reader` (the parser the runtime and the
//! code generator use, bounds-checked and fuzzed).
//!
//! In: the bytes of a BPF ELF object and a type name. Out: a [`Composite`]
//! (kind, byte size, members with names, bit offsets and byte sizes), or an
//! error message naming the section or type.

use bpf2rs_reader::btf::{Btf, Kind, Type, TypeId};
use object::{Object, ObjectSection};

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
pub fn from_object(elf: &[u8]) -> Result<Btf, String> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF object: {e}"))?;
    let section = file
        .section_by_name(".BTF")
        .ok_or_else(|| "no .BTF section (compile with clang -g)".to_string())?;
    let data = section.data().map_err(|e| format!("section .BTF: {e}"))?;
    Btf::parse(data).map_err(|e| format!("section .BTF: {e}"))
}

/// Finds the struct or union `name` in `btf`; a typedef of that name is
/// followed to the struct or union it names. When both a struct and a union
/// carry the name, `prefer` picks one.
pub fn find_composite(btf: &Btf, name: &str, prefer: CompositeKind) -> Result<Composite, String> {
    let mut direct = Vec::new();
    let mut via_typedef = Vec::new();
    for (id, ty) in btf.iter() {
        let kind = ty.kind();
        if !matches!(kind, Kind::Struct | Kind::Union | Kind::Typedef)
            || btf.name(ty.name()) != name
        {
            continue;
        }
        if kind != Kind::Typedef {
            direct.push(id);
        } else if let Ok(target) = btf.skip_mods_and_typedefs(id) {
            if matches!(btf.kind_of(target), Ok(Kind::Struct | Kind::Union)) {
                via_typedef.push(target);
            }
        }
    }
    let kind_of = |id: TypeId| match btf.kind_of(id) {
        Ok(Kind::Union) => CompositeKind::Union,
        _ => CompositeKind::Struct,
    };
    let id = direct
        .iter()
        .chain(&via_typedef)
        .copied()
        .find(|&id| kind_of(id) == prefer)
        .or_else(|| direct.iter().chain(&via_typedef).copied().next())
        .ok_or_else(|| format!("no struct or union named `{name}`"))?;
    composite(btf, id, kind_of(id)).map_err(|e| format!("{} {name}: {e}", kind_of(id).keyword()))
}

fn composite(btf: &Btf, id: TypeId, kind: CompositeKind) -> Result<Composite, String> {
    let ty = btf.type_by_id(id).map_err(|e| e.to_string())?;
    let (Type::Struct(c) | Type::Union(c)) = ty else {
        return Err(format!("type {} is a {}", id.0, ty.kind().as_str()));
    };
    let mut members = Vec::with_capacity(c.members.len());
    for m in c.members.iter() {
        let bits = btf.member_bits(m).map_err(|e| e.to_string())?;
        members.push(Member {
            name: btf.name(m.name).to_string(),
            bit_offset: bits.bit_offset,
            bitfield_bits: bits.bitfield_size.unwrap_or(0),
            byte_size: btf.size_of(m.ty).ok().map(u64::from),
        });
    }
    Ok(Composite {
        kind,
        byte_size: u64::from(c.byte_size),
        members,
    })
}
