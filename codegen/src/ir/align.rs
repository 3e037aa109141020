//! Alignment as this generator lays types out: C's natural alignment from
//! member offsets, `packed` when the offsets or a global's placement show
//! it, `align(N)` when C aligns more than the Rust fields do.
//!
//! In: BTF structs, unions and arrays. Out: [`CompositeAlign`] and
//! alignments, memoised in the [`IrBuilder`].

use bpf2rs_reader::btf::{BtfError, Type, TypeId};

use super::builder::{IrBuilder, MAX_NESTING};
use super::TypesError;

/// Alignment facts of one struct or union.
#[derive(Clone, Copy, Debug)]
pub(super) struct CompositeAlign {
    /// The C alignment.
    pub(super) align: u32,
    pub(super) packed: bool,
    /// What the Rust fields give (bitfield storage is bytes, alignment 1).
    pub(super) fields_align: u32,
}

impl CompositeAlign {
    /// `align(N)` is needed when C aligns more than the Rust fields do.
    pub(super) fn align_attr(self) -> Option<u32> {
        (!self.packed && self.align > self.fields_align).then_some(self.align)
    }
}

impl IrBuilder<'_> {
    /// A data section places each variable at its C alignment, so a variable
    /// whose offset the natural alignment of its struct type does not divide
    /// proves that C packs that struct (`__attribute__((packed))` on members
    /// that happen to be aligned). Such types are emitted packed, so that
    /// the section itself keeps its natural layout and its other fields can
    /// be borrowed.
    pub(super) fn find_packed_globals(&mut self, id: TypeId) -> Result<(), TypesError> {
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

    /// C alignment of a type as this generator lays it out (natural, or
    /// larger when the layout shows `aligned(N)`, or 1 when packed).
    pub(super) fn c_align(&mut self, id: TypeId, depth: u32) -> Result<u32, TypesError> {
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
    pub(super) fn composite_align(
        &mut self,
        id: TypeId,
        members: &[bpf2rs_reader::btf::Member],
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

    /// Whether a type is, or holds by value, a type emitted with `align(N)`
    /// (which Rust forbids inside a packed type).
    pub(super) fn contains_align_attr(&mut self, id: TypeId) -> Result<bool, TypesError> {
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
}
