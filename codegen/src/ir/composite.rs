//! One struct, union or data section -> its Rust fields: members in offset
//! order, runs of bitfields grouped into storage fields with accessors,
//! explicit padding for every byte C leaves unnamed.
//!
//! In: BTF members and the layout facts from `align`. Out: a
//! [`StructItem`]; names come from `naming`.

use bpf2rs_reader::btf::{Member, MemberBits, TypeId};

use super::builder::{bytes_ty, pad, IrBuilder};
use super::{Bitfield, Field, FieldKind, GetterTy, StructItem, TypesError};
use crate::naming;

/// The fields of one struct or union as they are laid out, in offset order.
struct Fields {
    is_union: bool,
    fields: Vec<Field>,
    bitfields: Vec<Bitfield>,
    /// First byte not yet covered (structs).
    cursor: u32,
    /// Length of the one storage field all bitfields of a union share.
    union_storage: Option<u32>,
    /// Anonymous members named so far (a union names them by position).
    anon_pos: usize,
}

/// A member placed in a [`Fields`]: its Rust name and, for an anonymous
/// one, its position among the anonymous members.
struct Placed<'m> {
    member: &'m Member,
    bits: MemberBits,
    name: String,
    anon_position: Option<usize>,
}

impl IrBuilder<'_> {
    /// The struct (or union, `is_union`) `id` named `name`, `size` bytes,
    /// with `members`.
    pub(super) fn composite(
        &mut self,
        id: TypeId,
        name: &str,
        c_name: String,
        is_union: bool,
        size: u32,
        members: &[Member],
    ) -> Result<StructItem, TypesError> {
        let btf = self.btf;
        let layout = self.composite_align(id, members, size, 0)?;
        let mut ordered: Vec<(usize, &Member)> = members.iter().enumerate().collect();
        ordered.sort_by_key(|(i, m)| (m.bit_offset, *i));
        let mut out = Fields {
            is_union,
            fields: Vec::new(),
            bitfields: Vec::new(),
            cursor: 0,
            union_storage: None,
            anon_pos: 0,
        };
        let mut i = 0;
        while i < ordered.len() {
            let member = ordered[i].1;
            let bits = btf.member_bits(member)?;
            let (name_of, anon_position) = if member.name.is_anon() {
                let position = out.anon_pos;
                out.anon_pos += 1;
                let n = naming::anon_member(is_union, bits.bit_offset / 8, position);
                (n, Some(position))
            } else {
                (naming::escape(btf.name(member.name)), None)
            };
            let placed = Placed {
                member,
                bits,
                name: name_of,
                anon_position,
            };
            let unaligned = if bits.bit_offset % 8 != 0 {
                Some(btf.size_of(member.ty)? * 8)
            } else {
                None
            };
            match bits.bitfield_size.or(unaligned) {
                Some(width) => {
                    let run = self.bitfield_run(&ordered[i + 1..], &placed, width, is_union)?;
                    i += run.len();
                    self.place_bitfields(id, name, run, &mut out)?;
                }
                None => {
                    self.place_member(id, name, placed, layout.packed, &mut out)?;
                    i += 1;
                }
            }
        }
        let fields = self.close(out.fields, out.union_storage, is_union, out.cursor, size);
        Ok(StructItem {
            name: name.to_owned(),
            c_name,
            btf_id: id,
            is_union,
            size,
            c_size: size,
            align: layout.align,
            packed: layout.packed,
            align_attr: layout.align_attr(),
            fields,
            bitfields: out.bitfields,
        })
    }

    /// The bitfields that share storage with `first` (`width` bits): those
    /// of `rest` whose bytes overlap the run so far. In a union each
    /// bitfield is its own run.
    fn bitfield_run<'m>(
        &self,
        rest: &[(usize, &'m Member)],
        first: &Placed<'m>,
        width: u32,
        is_union: bool,
    ) -> Result<Vec<(String, &'m Member, u32, u32)>, TypesError> {
        let btf = self.btf;
        let mut end = (first.bits.bit_offset + width).div_ceil(8);
        let mut run = vec![(
            first.name.clone(),
            first.member,
            first.bits.bit_offset,
            width,
        )];
        if is_union {
            return Ok(run);
        }
        for &(_, n) in rest {
            let nb = btf.member_bits(n)?;
            let Some(nw) = nb.bitfield_size else { break };
            if nb.bit_offset / 8 >= end {
                break;
            }
            let name = if n.name.is_anon() {
                naming::anon_member(false, nb.bit_offset / 8, 0)
            } else {
                naming::escape(btf.name(n.name))
            };
            end = end.max((nb.bit_offset + nw).div_ceil(8));
            run.push((name, n, nb.bit_offset, nw));
        }
        Ok(run)
    }

    /// One storage field for a run of bitfields (name, member, bit offset,
    /// width) and an accessor for each.
    fn place_bitfields(
        &mut self,
        id: TypeId,
        parent: &str,
        run: Vec<(String, &Member, u32, u32)>,
        out: &mut Fields,
    ) -> Result<(), TypesError> {
        let mut start = run[0].2 / 8;
        let end = run
            .iter()
            .map(|(_, _, bit_offset, width)| (bit_offset + width).div_ceil(8))
            .max()
            .unwrap_or(start);
        if out.is_union {
            // Every union bitfield starts at byte 0: one shared storage.
            start = 0;
            out.union_storage = Some(end.max(out.union_storage.unwrap_or(0)));
        } else {
            if start < out.cursor {
                return Err(self.unsupported(
                    id,
                    &format!(
                        "bitfield `{}` overlaps the previous member",
                        naming::plain(&run[0].0)
                    ),
                ));
            }
            if start > out.cursor {
                out.fields.push(pad(out.cursor, start - out.cursor));
            }
            out.fields.push(Field {
                name: naming::bitfield_storage(start),
                ty: bytes_ty(end - start),
                offset: start,
                kind: FieldKind::BitfieldStorage,
            });
            out.cursor = end;
        }
        for (name, member, bit_offset, bits) in run {
            let getter = self.getter_ty(member.ty, &naming::nested(parent, &name))?;
            let signed = match &getter {
                GetterTy::Prim(p) => p.starts_with('i'),
                GetterTy::Enum(_, r) => r.starts_with('i'),
                GetterTy::Bool => false,
            };
            out.bitfields.push(Bitfield {
                name,
                storage: naming::bitfield_storage(start),
                bit_offset: bit_offset - start * 8,
                bits,
                signed,
                getter,
            });
        }
        Ok(())
    }

    /// A member that is not a bitfield, after padding up to it.
    fn place_member(
        &mut self,
        id: TypeId,
        parent: &str,
        placed: Placed<'_>,
        packed: bool,
        out: &mut Fields,
    ) -> Result<(), TypesError> {
        let btf = self.btf;
        let m = placed.member;
        let off = placed.bits.bit_offset / 8;
        let msize = btf.size_of(m.ty)?;
        let context = match placed.anon_position {
            Some(position) => naming::anon_member_type(parent, out.is_union, off, position),
            None => naming::nested(parent, btf.name(m.name)),
        };
        let mut ty = self.rust_ty(m.ty, &context, 1)?;
        // A packed Rust struct cannot hold an over-aligned type: keep the bytes.
        if packed && self.contains_align_attr(m.ty)? {
            ty = bytes_ty(msize);
        }
        if out.is_union {
            out.fields.push(Field {
                name: placed.name,
                ty,
                offset: 0,
                kind: FieldKind::Member,
            });
            return Ok(());
        }
        if off < out.cursor {
            return Err(self.unsupported(
                id,
                &format!(
                    "member `{}` at byte {off} overlaps the previous member",
                    naming::plain(&placed.name)
                ),
            ));
        }
        if off > out.cursor {
            out.fields.push(pad(out.cursor, off - out.cursor));
        }
        out.fields.push(Field {
            name: placed.name,
            ty,
            offset: off,
            kind: FieldKind::Member,
        });
        out.cursor = off + msize;
        Ok(())
    }

    /// `fields` with the tail: a struct's padding after its last member; a
    /// union's shared bitfield storage and, when no member spans it all, a
    /// padding field that does.
    fn close(
        &self,
        mut fields: Vec<Field>,
        union_storage: Option<u32>,
        is_union: bool,
        cursor: u32,
        size: u32,
    ) -> Vec<Field> {
        if is_union {
            if let Some(len) = union_storage {
                fields.push(Field {
                    name: naming::bitfield_storage(0),
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
        fields
    }
}
