//! The order C needs: a topological walk over strong links.
//!
//! In: a type id. Out: the named types (and top-level anonymous enums) that
//! must be printed, dependencies first, appended to a queue.
//!
//! A link from X to Y is *strong* when Y must be fully defined before X
//! (Y embedded by value, or reached through an anonymous type that is
//! printed inline in X), *weak* when a forward declaration of Y is enough (a
//! pointer on the way, then a named struct or union). The walk returns
//! whether the type it was asked about forms a strong link; typedefs use
//! that to decide whether they can be printed before their target is
//! complete. The rules are those of libbpf's `btf_dump.c`, whose output
//! bpftool users expect.

use bpf2rs_reader::btf::{Type, TypeId};

use super::{Dumper, HeaderError, Order, MAX_NESTING};

impl Dumper<'_> {
    /// Orders `id` and what it depends on; returns whether the link to it
    /// is strong.
    pub(super) fn order(
        &mut self,
        id: TypeId,
        through_ptr: bool,
        depth: u32,
        queue: &mut Vec<TypeId>,
    ) -> Result<bool, HeaderError> {
        if depth > MAX_NESTING {
            return Err(Self::too_deep(id));
        }
        let state = self.st(id).order;
        // Already placed: whatever refers to it may come after it.
        if state == Order::Ordered {
            return Ok(true);
        }
        let ty = self.ty(id)?;
        if state == Order::Ordering {
            // A loop through a pointer to a named struct is what forward
            // declarations are for; any other loop cannot be written in C.
            let composite = matches!(ty, Type::Struct(_) | Type::Union(_));
            if composite && through_ptr && !ty.name().is_anon() {
                return Ok(false);
            }
            return Err(HeaderError::Cycle { id });
        }
        let next = depth + 1;
        match ty {
            Type::Int(_) | Type::Float(_) => {
                self.st(id).order = Order::Ordered;
                Ok(false)
            }
            Type::Ptr(r) => {
                let strong = self.order(r.target, true, next, queue)?;
                self.st(id).order = Order::Ordered;
                Ok(strong)
            }
            Type::Array(a) => self.order(a.elem, false, next, queue),
            Type::Struct(c) | Type::Union(c) => {
                // Through a pointer a named struct only needs `struct X;`;
                // an anonymous one is printed inline, so it always counts.
                if through_ptr && !c.name.is_anon() {
                    return Ok(false);
                }
                self.st(id).order = Order::Ordering;
                for m in c.members.iter() {
                    self.order(m.ty, false, next, queue)?;
                }
                if !c.name.is_anon() {
                    queue.push(id);
                }
                self.st(id).order = Order::Ordered;
                Ok(true)
            }
            Type::Enum(_) | Type::Fwd(_) => {
                // Named ones are declarations of their own; an anonymous
                // enum nothing refers to declares constants at top level.
                if !ty.name().is_anon() || !self.st(id).referenced {
                    queue.push(id);
                }
                self.st(id).order = Order::Ordered;
                Ok(true)
            }
            Type::Typedef(n) => {
                let strong = self.order(n.target, through_ptr, next, queue)?;
                if through_ptr && !strong {
                    return Ok(false);
                }
                queue.push(id);
                self.st(id).order = Order::Ordered;
                Ok(true)
            }
            Type::Volatile(r) | Type::Const(r) | Type::Restrict(r) => {
                self.order(r.target, through_ptr, next, queue)
            }
            Type::TypeTag(n) => self.order(n.target, through_ptr, next, queue),
            Type::FuncProto(p) => {
                let mut strong = self.order(p.ret, through_ptr, next, queue)?;
                for param in p.params.iter() {
                    strong |= self.order(param.ty, through_ptr, next, queue)?;
                }
                Ok(strong)
            }
            Type::Void | Type::Func(_) | Type::Var(_) | Type::Datasec(_) | Type::DeclTag(_) => {
                self.st(id).order = Order::Ordered;
                Ok(false)
            }
        }
    }
}
