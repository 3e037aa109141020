//! C headers from BTF: `vmlinux.h` for CO-RE programs, like `bpftool btf
//! dump file X format c`.
//!
//! In: a [`Btf`] (vmlinux, module BTF on its base, or an object's `.BTF`).
//! Out: one C header text defining every type, in an order a C compiler
//! accepts, wrapped in a guard and in the `preserve_access_index` pragma that
//! makes every field access of a BPF program a CO-RE relocation.
//!
//! The stages, each in its own file:
//! - `order`: which definitions must come before which (a struct embedded
//!   by value needs its full definition first; through a pointer a forward
//!   declaration is enough), as a depth-first walk from each type.
//! - `emit`: the walk over that order that prints forward declarations on
//!   demand and the definitions of structs, unions, enums and typedefs.
//! - `decl`: C declarators (`int (*handlers[4])(struct sk_buff *)`).
//! - `layout`: alignment, `packed` and `aligned(N)` inferred from offsets
//!   and sizes, and the explicit padding that pins every member's offset.
//! - `names`: `___N` suffixes for names that several types share.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let vmlinux = bpf2rs_reader::btf::Btf::from_sys_fs()?;
//! let header = bpf2rs_codegen::c_header::generate(&vmlinux)?;
//! std::fs::write("vmlinux.h", header)?;
//! # Ok(()) }
//! ```

mod decl;
mod emit;
mod layout;
mod names;
mod order;
mod source;

use std::collections::HashMap;

use bpf2rs_reader::btf::{Btf, BtfError, Type, TypeId};

pub(crate) use source::parse_raw;
pub use source::read_btf_source;

/// Deepest chain of types one walk follows (members embedded by value,
/// modifiers, arrays, prototypes). vmlinux needs well under 100; the bound
/// only turns corrupt BTF (a typedef naming itself) into an error instead of
/// a stack overflow.
pub const MAX_NESTING: u32 = 512;

/// Why a header could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    #[error(transparent)]
    Btf(#[from] BtfError),
    #[error("type {id}: it contains itself by value, which C cannot declare")]
    Cycle { id: TypeId },
    #[error("type {id}: more than {max} nested types")]
    TooDeep { id: TypeId, max: u32 },
    #[error("{path}: {message}")]
    Source { path: String, message: String },
}

/// What to wrap the types in.
#[derive(Debug, Clone)]
pub struct HeaderOptions {
    /// The include guard macro (default `__VMLINUX_H__`, as bpftool writes).
    pub guard: String,
}

impl Default for HeaderOptions {
    fn default() -> Self {
        HeaderOptions {
            guard: "__VMLINUX_H__".to_owned(),
        }
    }
}

/// The C header of every type of `btf` (for split BTF, the base's too, so
/// the header stands alone), with the default guard.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let btf = bpf2rs_reader::btf::Btf::from_file("/sys/kernel/btf/vmlinux")?;
/// let text = bpf2rs_codegen::c_header::generate(&btf)?;
/// assert!(text.contains("struct task_struct {"));
/// # Ok(()) }
/// ```
pub fn generate(btf: &Btf) -> Result<String, HeaderError> {
    generate_with(btf, &HeaderOptions::default())
}

/// [`generate`] with options.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use bpf2rs_codegen::c_header::{generate_with, HeaderOptions};
/// let btf = bpf2rs_reader::btf::Btf::from_sys_fs()?;
/// let opts = HeaderOptions { guard: "__MY_VMLINUX_H__".into() };
/// let text = generate_with(&btf, &opts)?;
/// # Ok(()) }
/// ```
pub fn generate_with(btf: &Btf, opts: &HeaderOptions) -> Result<String, HeaderError> {
    let mut d = Dumper::new(btf);
    d.mark_referenced()?;
    d.out.push_str(&prologue(&opts.guard));
    let types_start = d.out.len();
    let mut queue = Vec::new();
    for id in 1..btf.len() {
        queue.clear();
        d.order(TypeId(id), false, 0, &mut queue)?;
        for &q in &queue {
            d.emit_type(q, TypeId::VOID, 0)?;
        }
    }
    if d.has_type_tags {
        d.out.insert_str(types_start, TYPE_TAG_MACRO);
    }
    d.out.push_str(&epilogue(&opts.guard));
    Ok(d.out)
}

fn prologue(guard: &str) -> String {
    format!(
        "#ifndef {guard}\n#define {guard}\n\n\
         #ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
         #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
         #endif\n\n"
    )
}

/// Put before the types when one of them prints a type tag. Compilers
/// without btf_type_tag (gcc before 14, old clang) would warn on every
/// use; the macro lets them, or anyone defining `BPF_NO_TYPE_TAGS`, drop
/// the tags.
const TYPE_TAG_MACRO: &str = "#ifndef __bpf2rs_type_tag\n\
     #if __has_attribute(btf_type_tag) && !defined(BPF_NO_TYPE_TAGS)\n\
     #define __bpf2rs_type_tag(x) __attribute__((btf_type_tag(x)))\n\
     #else\n\
     #define __bpf2rs_type_tag(x)\n\
     #endif\n\
     #endif\n\n";

fn epilogue(guard: &str) -> String {
    format!(
        "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
         #pragma clang attribute pop\n\
         #endif\n\n\
         #endif /* {guard} */\n"
    )
}

/// Where a type is in the ordering walk.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
enum Order {
    #[default]
    None,
    Ordering,
    Ordered,
}

/// Where a type is in the printing walk.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
enum Emit {
    #[default]
    None,
    Emitting,
    Emitted,
}

/// Per type id: the walks' progress and the resolved name.
#[derive(Clone, Copy, Default, Debug)]
struct TypeState {
    order: Order,
    emit: Emit,
    /// A forward declaration (or, for a typedef, the typedef) is out.
    fwd_emitted: bool,
    /// Some other type refers to this one (top-level anonymous enums are not).
    referenced: bool,
    /// 0: name not resolved yet; 1: the BTF name; n > 1: `name___n`.
    dup: u32,
    /// Cached natural alignment (0: not computed).
    align: u8,
}

/// One header being written.
#[derive(Debug)]
struct Dumper<'a> {
    btf: &'a Btf,
    out: String,
    state: Vec<TypeState>,
    /// How many types so far carry each struct/union/enum name.
    type_names: HashMap<&'a str, u32>,
    /// The same for typedefs and enumerators (C's ordinary identifiers).
    ident_names: HashMap<&'a str, u32>,
    /// For `aligned(N)`: which composites embed each composite by value.
    embedders: Option<HashMap<TypeId, Vec<(TypeId, u32)>>>,
    /// A type tag was printed: the header needs [`TYPE_TAG_MACRO`].
    has_type_tags: bool,
    /// A reusable buffer for names printed twice.
    scratch: String,
}

impl<'a> Dumper<'a> {
    fn new(btf: &'a Btf) -> Dumper<'a> {
        let mut state = vec![TypeState::default(); btf.len() as usize];
        if let Some(void) = state.first_mut() {
            void.order = Order::Ordered;
            void.emit = Emit::Emitted;
        }
        Dumper {
            btf,
            out: String::with_capacity(btf.len() as usize * 48),
            state,
            type_names: HashMap::new(),
            ident_names: HashMap::new(),
            embedders: None,
            has_type_tags: false,
            scratch: String::new(),
        }
    }

    fn ty(&self, id: TypeId) -> Result<&'a Type, HeaderError> {
        Ok(self.btf.type_by_id(id)?)
    }

    fn st(&mut self, id: TypeId) -> &mut TypeState {
        // Ids come from a parsed Btf whose references were checked, so
        // every id is below `len()`; the fallback keeps bad input harmless.
        let i = id.0 as usize;
        if i >= self.state.len() {
            self.state.resize(i + 1, TypeState::default());
        }
        &mut self.state[i]
    }

    fn name_of(&self, ty: &Type) -> &'a str {
        self.btf.name(ty.name())
    }

    fn too_deep(id: TypeId) -> HeaderError {
        HeaderError::TooDeep {
            id,
            max: MAX_NESTING,
        }
    }

    /// Marks every type another type refers to.
    fn mark_referenced(&mut self) -> Result<(), HeaderError> {
        let btf = self.btf;
        for id in 1..btf.len() {
            let ty = btf.type_by_id(TypeId(id))?;
            match ty {
                Type::Array(a) => {
                    self.st(a.index).referenced = true;
                    self.st(a.elem).referenced = true;
                }
                Type::Struct(c) | Type::Union(c) => {
                    for m in c.members.iter() {
                        self.st(m.ty).referenced = true;
                    }
                }
                Type::FuncProto(p) => {
                    self.st(p.ret).referenced = true;
                    for p in p.params.iter() {
                        self.st(p.ty).referenced = true;
                    }
                }
                Type::Datasec(d) => {
                    for v in d.vars.iter() {
                        self.st(v.ty).referenced = true;
                    }
                }
                other => {
                    if let Some(target) = other.referenced() {
                        self.st(target).referenced = true;
                    }
                }
            }
        }
        Ok(())
    }
}
