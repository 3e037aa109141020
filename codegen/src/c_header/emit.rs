//! Printing definitions in the order [`order`](super::order) chose, with
//! forward declarations wherever a type is used before its definition.
//!
//! In: queued type ids. Out: `struct X;`, `struct X { ... };`,
//! `enum E { ... };` and `typedef ...;` text.

use bpf2rs_reader::btf::{Composite, Enum, Type, TypeId};

use super::names::Space;
use super::{Dumper, Emit, HeaderError, MAX_NESTING};

/// Most tabs of indentation, as in bpftool (deeper nesting stays at 13).
const MAX_INDENT: usize = 13;

impl Dumper<'_> {
    /// Prints `id` if it is a definition of its own, first declaring what it
    /// uses. `cont` is the named struct being printed (VOID at top level):
    /// a struct referring to itself needs no forward declaration.
    pub(super) fn emit_type(
        &mut self,
        id: TypeId,
        cont: TypeId,
        depth: u32,
    ) -> Result<(), HeaderError> {
        if depth > MAX_NESTING {
            return Err(Self::too_deep(id));
        }
        let state = *self.st(id);
        if state.emit == Emit::Emitted {
            return Ok(());
        }
        let ty = self.ty(id)?;
        if state.emit == Emit::Emitting {
            return self.emit_in_cycle(id, ty, cont, state.fwd_emitted);
        }
        let top = cont.is_void();
        let next = depth + 1;
        match ty {
            Type::Int(_) => {
                self.emit_missing_alias(id, ty);
                self.st(id).emit = Emit::Emitted;
            }
            Type::Enum(e) => {
                if top {
                    self.enum_def(id, e, 0);
                    self.out.push_str(";\n\n");
                }
                self.st(id).emit = Emit::Emitted;
            }
            Type::Ptr(r) | Type::Volatile(r) | Type::Const(r) | Type::Restrict(r) => {
                self.emit_type(r.target, cont, next)?;
            }
            Type::TypeTag(n) => self.emit_type(n.target, cont, next)?,
            Type::Array(a) => self.emit_type(a.elem, cont, next)?,
            Type::Fwd(f) => {
                self.out
                    .push_str(if f.is_union { "union " } else { "struct " });
                self.push_name(id, Space::Tags);
                self.out.push_str(";\n\n");
                self.st(id).emit = Emit::Emitted;
            }
            Type::Typedef(n) => {
                self.st(id).emit = Emit::Emitting;
                self.emit_type(n.target, id, next)?;
                // The typedef may already be out as a "forward declaration"
                // of something that needed it through a pointer.
                if !self.st(id).fwd_emitted && !self.is_builtin(ty) {
                    self.typedef_def(id, n.target, 0)?;
                    self.out.push_str(";\n\n");
                }
                self.st(id).emit = Emit::Emitted;
            }
            Type::Struct(c) | Type::Union(c) => self.emit_composite(id, ty, c, cont, next)?,
            Type::FuncProto(p) => {
                self.emit_type(p.ret, cont, next)?;
                for param in p.params.iter() {
                    self.emit_type(param.ty, cont, next)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A type met again while it is being printed: a forward declaration
    /// breaks the loop.
    fn emit_in_cycle(
        &mut self,
        id: TypeId,
        ty: &Type,
        cont: TypeId,
        fwd_emitted: bool,
    ) -> Result<(), HeaderError> {
        if fwd_emitted {
            return Ok(());
        }
        match ty {
            Type::Struct(_) | Type::Union(_) => {
                // Inside its own definition a struct is already declared;
                // an anonymous one cannot loop in valid BTF.
                if id == cont || ty.name().is_anon() {
                    return Ok(());
                }
                self.struct_fwd(id, ty);
                self.out.push_str(";\n\n");
            }
            Type::Typedef(n) => {
                // Printed now so that pointers to it work; the definition
                // it names follows later.
                if !self.is_builtin(ty) {
                    self.typedef_def(id, n.target, 0)?;
                    self.out.push_str(";\n\n");
                }
            }
            _ => return Ok(()),
        }
        self.st(id).fwd_emitted = true;
        Ok(())
    }

    fn emit_composite(
        &mut self,
        id: TypeId,
        ty: &Type,
        c: &Composite,
        cont: TypeId,
        depth: u32,
    ) -> Result<(), HeaderError> {
        let top = cont.is_void();
        self.st(id).emit = Emit::Emitting;
        // A definition (top level, or an anonymous type printed inline)
        // spells out its members, so everything they use must be declared.
        if top || c.name.is_anon() {
            let inner = if c.name.is_anon() { cont } else { id };
            for m in c.members.iter() {
                self.emit_type(m.ty, inner, depth)?;
            }
        } else if !self.st(id).fwd_emitted && id != cont {
            self.struct_fwd(id, ty);
            self.out.push_str(";\n\n");
            self.st(id).fwd_emitted = true;
        }
        if top {
            self.struct_def(id, ty, c, 0)?;
            self.out.push_str(";\n\n");
            self.st(id).emit = Emit::Emitted;
        } else {
            self.st(id).emit = Emit::None;
        }
        Ok(())
    }

    /// `__builtin_va_list` is the compiler's own: redefining it breaks.
    pub(super) fn is_builtin(&self, ty: &Type) -> bool {
        self.name_of(ty) == "__builtin_va_list"
    }

    /// GCC's Arm SIMD `__PolyN_t` ints, which clang does not know.
    fn emit_missing_alias(&mut self, id: TypeId, ty: &Type) {
        let alias = match self.name_of(ty) {
            "__Poly8_t" => "unsigned char",
            "__Poly16_t" => "unsigned short",
            "__Poly64_t" => "unsigned long long",
            "__Poly128_t" => "unsigned __int128",
            _ => return,
        };
        self.out.push_str("typedef ");
        self.out.push_str(alias);
        self.out.push(' ');
        self.push_name(id, Space::Tags);
        self.out.push_str(";\n\n");
    }

    pub(super) fn indent(&mut self, lvl: usize) {
        for _ in 0..lvl.min(MAX_INDENT) {
            self.out.push('\t');
        }
    }

    /// `struct X` / `union X`.
    pub(super) fn struct_fwd(&mut self, id: TypeId, ty: &Type) {
        let is_struct = matches!(ty, Type::Struct(_));
        self.out
            .push_str(if is_struct { "struct" } else { "union" });
        if !ty.name().is_anon() {
            self.out.push(' ');
        }
        self.push_name(id, Space::Tags);
    }

    /// `typedef <decl of target named after the typedef>` (no `;`).
    fn typedef_def(&mut self, id: TypeId, target: TypeId, lvl: usize) -> Result<(), HeaderError> {
        // Old GCC wrote `__gnuc_va_list` as a typedef of void.
        let ty = self.ty(id)?;
        if target.is_void() && self.name_of(ty) == "__gnuc_va_list" {
            self.out
                .push_str("typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        self.out.push_str("typedef ");
        let mut name = std::mem::take(&mut self.scratch);
        name.clear();
        let mark = self.out.len();
        self.push_name(id, Space::Idents);
        name.push_str(&self.out[mark..]);
        self.out.truncate(mark);
        let result = self.decl(target, &name, lvl);
        self.scratch = name;
        result
    }

    /// `struct X { members } attributes` (no `;`).
    pub(super) fn struct_def(
        &mut self,
        id: TypeId,
        ty: &Type,
        c: &Composite,
        lvl: usize,
    ) -> Result<(), HeaderError> {
        let is_struct = matches!(ty, Type::Struct(_));
        let layout = self.layout_of(id, c, is_struct)?;
        self.struct_fwd(id, ty);
        self.out.push_str(" {");
        let mut off = 0u32;
        let mut prev_bitfield = false;
        for m in c.members.iter() {
            let bits = self.btf.member_bits(m)?;
            let m_align = if layout.packed {
                1
            } else {
                self.align_of(m.ty, 0)
            };
            let in_bitfield = prev_bitfield && bits.bitfield_size.is_some();
            self.bit_padding(off, bits.bit_offset, m_align, in_bitfield, lvl + 1);
            self.out.push('\n');
            self.indent(lvl + 1);
            self.decl(m.ty, self.btf.name(m.name), lvl + 1)?;
            match bits.bitfield_size {
                Some(width) => {
                    self.out.push_str(": ");
                    self.push_u64(u64::from(width));
                    off = bits.bit_offset + width;
                    prev_bitfield = true;
                }
                None => {
                    let size = self.btf.size_of(m.ty).unwrap_or(0);
                    off = bits.bit_offset + size * 8;
                    prev_bitfield = false;
                }
            }
            self.out.push(';');
        }
        if is_struct {
            self.bit_padding(off, c.byte_size * 8, layout.align, false, lvl + 1);
        }
        // `struct empty {}` stays on one line.
        if !c.members.is_empty() || c.byte_size != 0 {
            self.out.push('\n');
            self.indent(lvl);
        }
        self.out.push('}');
        if layout.packed {
            self.out.push_str(" __attribute__((packed))");
        }
        if let Some(n) = layout.aligned {
            self.out.push_str(" __attribute__((aligned(");
            self.push_u64(u64::from(n));
            self.out.push_str(")))");
        }
        Ok(())
    }

    /// `enum E { A = 1, ... } attributes` (no `;`), or `enum E` for an
    /// enum without values.
    pub(super) fn enum_def(&mut self, id: TypeId, e: &Enum, lvl: usize) {
        self.out.push_str("enum");
        if !e.name.is_anon() {
            self.out.push(' ');
        }
        self.push_name(id, Space::Tags);
        if e.values.is_empty() {
            return;
        }
        self.out.push_str(" {");
        for v in e.values.iter() {
            let name = self.btf.name(v.name);
            // Enumerators share C's identifier namespace with typedefs.
            let dup = self.count(name, Space::Idents);
            self.out.push('\n');
            self.indent(lvl + 1);
            self.out.push_str(name);
            self.push_suffix(dup);
            self.out.push_str(" = ");
            match (e.is_64, e.signed) {
                (false, true) => self.push_i64(i64::from(v.value as u32 as i32)),
                (false, false) => self.push_u64(u64::from(v.value as u32)),
                (true, true) => {
                    self.push_i64(v.value as i64);
                    self.out.push_str("LL");
                }
                (true, false) => {
                    self.push_u64(v.value);
                    self.out.push_str("ULL");
                }
            }
            self.out.push(',');
        }
        self.out.push('\n');
        self.indent(lvl);
        self.out.push('}');
        self.enum_size_attr(e);
    }

    /// C sizes an enum from its values; BTF says the size. One-byte enums
    /// and 8-byte enums whose values fit 32 bits need a `mode` attribute.
    fn enum_size_attr(&mut self, e: &Enum) {
        if e.byte_size == 1 {
            self.out.push_str(" __attribute__((mode(byte)))");
        } else if e.byte_size == 8 {
            let fits_32 = !e.is_64 || e.values.iter().all(|v| v.value >> 32 == 0);
            if fits_32 {
                self.out.push_str(" __attribute__((mode(word)))");
            }
        }
    }
}
