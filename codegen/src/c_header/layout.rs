//! Layout facts C cannot be told directly: alignment, `packed`,
//! `aligned(N)`, and the explicit padding that pins every member where BTF
//! says it is.
//!
//! In: struct and union types. Out: attributes and `long: 64;`-style
//! unnamed bitfields in the header.
//!
//! BTF records offsets and sizes, not attributes, so they are inferred the
//! way libbpf's `btf_dump.c` does: a member off its natural alignment, or a
//! size that is not a multiple of the alignment, means `packed`. Padding is
//! printed as unnamed bitfields, which move the offset without changing the
//! alignment, so every offset matches even where the source had attributes
//! we cannot see. On top of that, `aligned(N)` is added to a struct whose
//! trailing padding only an alignment of N explains (`int a;` in 8 bytes),
//! when every place that embeds it agrees with that alignment; otherwise
//! the padding alone keeps the layout right.

use std::collections::HashMap;

use bpf2rs_reader::btf::{Composite, Type, TypeId};

use super::{Dumper, HeaderError, MAX_NESTING};

/// Unnamed bitfield types used for padding, widest first.
const PADS: [(&str, u32); 4] = [("long", 64), ("int", 32), ("short", 16), ("char", 8)];

/// Largest `aligned(N)` inferred (a cache line and then some).
const MAX_INFERRED_ALIGN: u32 = 128;

/// How a struct or union is declared.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    /// Natural alignment in bytes (1 when packed).
    pub align: u32,
    pub packed: bool,
    pub aligned: Option<u32>,
}

fn round_up(v: u32, to: u32) -> u32 {
    if to == 0 {
        return v;
    }
    v.div_ceil(to).saturating_mul(to)
}

impl Dumper<'_> {
    /// Natural alignment in bytes as libbpf computes it (integers and
    /// floats aligned to their size up to 8; a struct whose members or size
    /// betray packing aligns to 1). 0 for kinds without one.
    pub(super) fn align_of(&mut self, id: TypeId, depth: u32) -> u32 {
        if depth > MAX_NESTING {
            return 0;
        }
        let Ok(ty) = self.ty(id) else {
            return 0;
        };
        match ty {
            Type::Int(t) => t.byte_size.min(8),
            Type::Enum(t) => t.byte_size.min(8),
            Type::Float(t) => t.byte_size.min(8),
            Type::Ptr(_) => 8,
            Type::Typedef(n) | Type::TypeTag(n) => self.align_of(n.target, depth + 1),
            Type::Const(r) | Type::Volatile(r) | Type::Restrict(r) => {
                self.align_of(r.target, depth + 1)
            }
            Type::Array(a) => self.align_of(a.elem, depth + 1),
            Type::Struct(c) | Type::Union(c) => {
                let cached = self.st(id).align;
                if cached != 0 {
                    return u32::from(cached);
                }
                let (max_align, packed) = self.natural(c, depth);
                let align = if packed { 1 } else { max_align };
                self.st(id).align = align.min(255) as u8;
                align
            }
            _ => 0,
        }
    }

    /// The widest member alignment, and whether offsets or size show that
    /// the type is packed.
    fn natural(&mut self, c: &Composite, depth: u32) -> (u32, bool) {
        let mut max_align = 1;
        let mut packed = false;
        for m in c.members.iter() {
            let align = self.align_of(m.ty, depth + 1);
            let bitfield = self
                .btf
                .member_bits(m)
                .map_or(true, |b| b.bitfield_size.is_some());
            if align != 0 && !bitfield && m.bit_offset % (8 * align) != 0 {
                packed = true;
            }
            max_align = max_align.max(align);
        }
        if !c.byte_size.is_multiple_of(max_align) {
            packed = true;
        }
        (max_align, packed)
    }

    /// Alignment, packing and inferred over-alignment of a definition.
    pub(super) fn layout_of(
        &mut self,
        id: TypeId,
        c: &Composite,
        is_struct: bool,
    ) -> Result<Layout, HeaderError> {
        let align = self.align_of(id, 0);
        let (_, packed) = self.natural(c, 0);
        let aligned = if is_struct && !packed {
            self.over_aligned(id, c, align)?
        } else {
            None
        };
        Ok(Layout {
            align,
            packed,
            aligned,
        })
    }

    /// The N of `aligned(N)` if trailing padding needs it and every
    /// embedding of the struct agrees.
    fn over_aligned(
        &mut self,
        id: TypeId,
        c: &Composite,
        natural: u32,
    ) -> Result<Option<u32>, HeaderError> {
        let size_bits = c.byte_size.saturating_mul(8);
        let mut end = 0;
        for m in c.members.iter() {
            let bits = self.btf.member_bits(m)?;
            let width = match bits.bitfield_size {
                Some(w) => w,
                None => self.btf.size_of(m.ty).unwrap_or(0).saturating_mul(8),
            };
            end = end.max(bits.bit_offset.saturating_add(width));
        }
        if c.byte_size == 0 || natural == 0 || round_up(end, natural * 8) >= size_bits {
            return Ok(None);
        }
        let mut n = natural * 2;
        while n <= MAX_INFERRED_ALIGN {
            if c.byte_size.is_multiple_of(n) && round_up(end, n * 8) == size_bits {
                return Ok(self.alignment_holds(id, n)?.then_some(n));
            }
            n *= 2;
        }
        Ok(None)
    }

    /// Whether every struct that embeds `id` by value (directly, in arrays
    /// or through anonymous members) places it at a multiple of `n` bytes
    /// and can itself take alignment `n` without changing its layout.
    fn alignment_holds(&mut self, id: TypeId, n: u32) -> Result<bool, HeaderError> {
        let embedders = match self.embedders.take() {
            Some(e) => e,
            None => self.embedders_index()?,
        };
        let mut work = vec![(id, 0u32)];
        let mut ok = true;
        'walk: while let Some((child, depth)) = work.pop() {
            if depth > 32 {
                ok = false;
                break;
            }
            for &(parent, bit_offset) in embedders.get(&child).map_or(&[][..], Vec::as_slice) {
                let (Type::Struct(pc) | Type::Union(pc)) = self.ty(parent)? else {
                    continue;
                };
                let (_, packed) = self.natural(pc, 0);
                if packed || bit_offset % (n * 8) != 0 || pc.byte_size % n != 0 {
                    ok = false;
                    break 'walk;
                }
                if self.align_of(parent, 0) < n {
                    work.push((parent, depth + 1));
                }
            }
        }
        self.embedders = Some(embedders);
        Ok(ok)
    }

    /// For every struct or union, the composites that contain it by value
    /// and at which bit offset.
    fn embedders_index(&self) -> Result<HashMap<TypeId, Vec<(TypeId, u32)>>, HeaderError> {
        let mut index: HashMap<TypeId, Vec<(TypeId, u32)>> = HashMap::new();
        for raw in 1..self.btf.len() {
            let parent = TypeId(raw);
            let (Type::Struct(c) | Type::Union(c)) = self.ty(parent)? else {
                continue;
            };
            for m in c.members.iter() {
                if m.bitfield_size != 0 {
                    continue;
                }
                if let Some(child) = self.by_value_composite(m.ty)? {
                    index.entry(child).or_default().push((parent, m.bit_offset));
                }
            }
        }
        Ok(index)
    }

    /// The struct or union a member holds by value (through typedefs,
    /// qualifiers and arrays), if any.
    fn by_value_composite(&self, id: TypeId) -> Result<Option<TypeId>, HeaderError> {
        let mut cur = id;
        for _ in 0..=MAX_NESTING {
            cur = match self.ty(cur)? {
                Type::Struct(_) | Type::Union(_) => return Ok(Some(cur)),
                Type::Typedef(n) | Type::TypeTag(n) => n.target,
                Type::Const(r) | Type::Volatile(r) | Type::Restrict(r) => r.target,
                Type::Array(a) => a.elem,
                _ => return Ok(None),
            };
        }
        Ok(None)
    }

    /// Unnamed bitfields from bit `cur` to bit `next`, using the natural
    /// alignment of the wider types where that saves lines, and a `: 0`
    /// marker where the compiler would otherwise not align as BTF says.
    pub(super) fn bit_padding(
        &mut self,
        cur: u32,
        next: u32,
        next_align: u32,
        in_bitfield: bool,
        lvl: usize,
    ) {
        if cur >= next {
            return;
        }
        let mut cur = cur;
        // The widest type whose next boundary is not past `next`.
        let mut pad = PADS[PADS.len() - 1];
        let mut boundary = round_up(cur, pad.1);
        for p in PADS {
            pad = p;
            boundary = round_up(cur, p.1);
            if boundary <= next {
                break;
            }
        }
        if boundary > cur && boundary <= next {
            // Jumping to the boundary takes an explicit `type: 0` when the
            // next member would not land there by its own alignment, when
            // a full `type: bits` would fit in the hole and be ignored, or
            // inside a run of bitfields (which pack across the boundary).
            let lands = round_up(cur, next_align.max(1) * 8) == boundary;
            if in_bitfield
                || (boundary == next && !lands)
                || (boundary != next && next - boundary <= boundary - cur)
            {
                let width = if in_bitfield { boundary - cur } else { 0 };
                self.pad_line(pad.0, width, lvl);
            }
            cur = boundary;
        }
        while cur < next {
            let bits = (next - cur).min(pad.1);
            if bits == pad.1 {
                self.pad_line(pad.0, bits, lvl);
                cur += bits;
                continue;
            }
            // The remainder in the narrowest type that holds it.
            let narrow = PADS.iter().rev().find(|p| p.1 >= bits).unwrap_or(&PADS[0]);
            self.pad_line(narrow.0, bits, lvl);
            cur += bits;
        }
    }

    fn pad_line(&mut self, ty: &str, bits: u32, lvl: usize) {
        self.out.push('\n');
        self.indent(lvl);
        self.out.push_str(ty);
        self.out.push_str(": ");
        self.push_u64(u64::from(bits));
        self.out.push(';');
    }
}
