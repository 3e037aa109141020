//! C declarators: a name and the chain of pointers, arrays, prototypes and
//! qualifiers around it, printed inside out the way C reads them
//! (`char *(*argv)[4]`, `void (*cb)(int)`, `int * const p`).
//!
//! In: a type id and the declared name. Out: the declaration text, with
//! anonymous structs, unions and enums defined inline.

use bpf2rs_reader::btf::{Type, TypeId};

use super::names::Space;
use super::{Dumper, HeaderError, MAX_NESTING};

/// Deepest inline nesting of anonymous types (vmlinux: about 6).
const MAX_INLINE: usize = 64;

impl Dumper<'_> {
    /// Appends the declaration of `fname` with type `id`.
    pub(super) fn decl(&mut self, id: TypeId, fname: &str, lvl: usize) -> Result<(), HeaderError> {
        if lvl > MAX_INLINE {
            return Err(Self::too_deep(id));
        }
        // The chain from the outermost type to its base, base last.
        let mut stack: Vec<TypeId> = Vec::with_capacity(8);
        let mut cur = id;
        for _ in 0..=MAX_NESTING {
            if cur.is_void() {
                stack.push(cur);
                return self.chain(&mut stack, fname, lvl);
            }
            let ty = self.ty(cur)?;
            let next = match ty {
                // The kernel's `__builtin_va_list` (24 bytes on x86) is not
                // the BPF target's (a pointer): spell out what BTF says it
                // is, so structs holding a `va_list` keep their layout.
                Type::Typedef(n) if self.is_builtin(ty) => {
                    cur = n.target;
                    continue;
                }
                Type::Ptr(r) | Type::Volatile(r) | Type::Const(r) | Type::Restrict(r) => r.target,
                Type::TypeTag(n) => n.target,
                Type::FuncProto(p) => p.ret,
                Type::Array(a) => a.elem,
                _ => {
                    stack.push(cur);
                    return self.chain(&mut stack, fname, lvl);
                }
            };
            stack.push(cur);
            cur = next;
        }
        Err(Self::too_deep(id))
    }

    /// Prints the chain from its base outwards (popping the stack).
    fn chain(
        &mut self,
        decls: &mut Vec<TypeId>,
        fname: &str,
        lvl: usize,
    ) -> Result<(), HeaderError> {
        // Whether the last thing printed was `*`: `int **p`, not `int * * p`.
        let mut last_was_ptr = true;
        while let Some(id) = decls.pop() {
            if id.is_void() {
                self.qualifiers(decls)?;
                self.out.push_str("void");
                last_was_ptr = false;
                continue;
            }
            let ty = self.ty(id)?;
            match ty {
                Type::Int(_) | Type::Float(_) => {
                    self.qualifiers(decls)?;
                    self.out.push_str(self.name_of(ty));
                }
                Type::Struct(c) | Type::Union(c) => {
                    self.qualifiers(decls)?;
                    if c.name.is_anon() {
                        self.struct_def(id, ty, c, lvl)?;
                    } else {
                        self.struct_fwd(id, ty);
                    }
                }
                Type::Enum(e) => {
                    self.qualifiers(decls)?;
                    if e.name.is_anon() {
                        self.enum_def(id, e, lvl);
                    } else {
                        self.out.push_str("enum ");
                        self.push_name(id, Space::Tags);
                    }
                }
                Type::Fwd(f) => {
                    self.qualifiers(decls)?;
                    self.out
                        .push_str(if f.is_union { "union " } else { "struct " });
                    self.push_name(id, Space::Tags);
                }
                Type::Typedef(_) => {
                    self.qualifiers(decls)?;
                    self.push_name(id, Space::Idents);
                }
                Type::Ptr(_) => self.out.push_str(if last_was_ptr { "*" } else { " *" }),
                Type::Volatile(_) => self.out.push_str(" volatile"),
                Type::Const(_) => self.out.push_str(" const"),
                Type::Restrict(_) => self.out.push_str(" restrict"),
                Type::TypeTag(_) => {
                    self.qualifiers(decls)?;
                    self.has_type_tags = true;
                    self.out.push_str(" __bpf2rs_type_tag(\"");
                    self.out.push_str(self.name_of(ty));
                    self.out.push_str("\")");
                }
                Type::Array(a) => return self.array(decls, a.len, fname, last_was_ptr, lvl),
                Type::FuncProto(_) => return self.proto(decls, id, fname, last_was_ptr, lvl),
                _ => return Ok(()),
            }
            last_was_ptr = matches!(ty, Type::Ptr(_));
        }
        self.name(fname, last_was_ptr);
        Ok(())
    }

    /// `name[len]`, or `(*name)[len]` when a pointer is on the outside.
    fn array(
        &mut self,
        decls: &mut Vec<TypeId>,
        len: u32,
        fname: &str,
        last_was_ptr: bool,
        lvl: usize,
    ) -> Result<(), HeaderError> {
        // Qualifiers on an array are GCC noise (gcc bug 8354); clang puts
        // them on the element, so they are dropped here.
        self.drop_qualifiers(decls)?;
        let Some(&next) = decls.last() else {
            self.name(fname, last_was_ptr);
            self.push_len(len);
            return Ok(());
        };
        let multidim = matches!(self.ty(next)?, Type::Array(_));
        if !fname.is_empty() && !last_was_ptr {
            self.out.push(' ');
        }
        if !multidim {
            self.out.push('(');
        }
        self.chain(decls, fname, lvl)?;
        if !multidim {
            self.out.push(')');
        }
        self.push_len(len);
        Ok(())
    }

    fn push_len(&mut self, len: u32) {
        self.out.push('[');
        self.push_u64(u64::from(len));
        self.out.push(']');
    }

    /// `name(params)`, or `(*name)(params)` for a function pointer.
    fn proto(
        &mut self,
        decls: &mut Vec<TypeId>,
        id: TypeId,
        fname: &str,
        last_was_ptr: bool,
        lvl: usize,
    ) -> Result<(), HeaderError> {
        let Type::FuncProto(p) = self.ty(id)? else {
            return Ok(());
        };
        // GCC marks noreturn function pointers volatile; drop that too.
        self.drop_qualifiers(decls)?;
        if decls.is_empty() {
            self.name(fname, last_was_ptr);
        } else {
            self.out.push_str(" (");
            self.chain(decls, fname, lvl)?;
            self.out.push(')');
        }
        self.out.push('(');
        // Clang writes `f(void)` as one void parameter.
        let params = &p.params;
        if params.is_empty() || (params.len() == 1 && params[0].ty.is_void()) {
            self.out.push_str("void)");
            return Ok(());
        }
        for (i, param) in params.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            // A last void parameter is `...`.
            if i == params.len() - 1 && param.ty.is_void() {
                self.out.push_str("...");
                break;
            }
            self.decl(param.ty, self.btf.name(param.name), lvl)?;
        }
        self.out.push(')');
        Ok(())
    }

    fn name(&mut self, fname: &str, last_was_ptr: bool) {
        if !fname.is_empty() && !last_was_ptr {
            self.out.push(' ');
        }
        self.out.push_str(fname);
    }

    /// Prints the const/volatile/restrict right above a base type as a
    /// prefix (`const int`), popping them.
    fn qualifiers(&mut self, decls: &mut Vec<TypeId>) -> Result<(), HeaderError> {
        while let Some(&id) = decls.last() {
            let word = match self.ty(id)? {
                Type::Volatile(_) => "volatile ",
                Type::Const(_) => "const ",
                Type::Restrict(_) => "restrict ",
                _ => return Ok(()),
            };
            self.out.push_str(word);
            decls.pop();
        }
        Ok(())
    }

    fn drop_qualifiers(&mut self, decls: &mut Vec<TypeId>) -> Result<(), HeaderError> {
        while let Some(&id) = decls.last() {
            match self.ty(id)? {
                Type::Volatile(_) | Type::Const(_) | Type::Restrict(_) | Type::TypeTag(_) => {
                    decls.pop();
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}
