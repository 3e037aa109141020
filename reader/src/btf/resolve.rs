//! Questions answered by walking the type graph: sizes, alignments, bitfield
//! positions, C spellings. Every walk is bounded by [`MAX_DEPTH`] so corrupt
//! BTF (a typedef that names itself, a struct that contains itself) is an
//! error, never a stack overflow.

use std::collections::HashMap;

use super::{Btf, BtfError, Kind, Member, Type, TypeId};

/// Deepest chain of references followed, as in libbpf.
pub const MAX_DEPTH: u32 = 32;

/// Most types one [`Btf::c_type_name`] call visits.
const SPELL_BUDGET: u32 = 4096;

/// Where a member's bits are, with both bitfield encodings normalised.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MemberBits {
    /// Bit offset from the start of the containing struct or union.
    pub bit_offset: u32,
    /// Width of a bitfield; `None` for an ordinary member.
    pub bitfield_size: Option<u32>,
}

impl Btf {
    /// Follows typedefs, const/volatile/restrict and type tags to the type
    /// they name.
    ///
    /// ```no_run
    /// # use bpf2rs_reader::btf::{Btf, Kind};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// let u32_t = vmlinux.find_by_name("u32", Kind::Typedef)?;
    /// let int = vmlinux.skip_mods_and_typedefs(u32_t)?;
    /// assert_eq!(vmlinux.kind_of(int)?, Kind::Int);
    /// # Ok(()) }
    /// ```
    pub fn skip_mods_and_typedefs(&self, id: TypeId) -> Result<TypeId, BtfError> {
        let mut cur = id;
        for _ in 0..=MAX_DEPTH {
            match self.type_by_id(cur)? {
                Type::Typedef(n) | Type::TypeTag(n) => cur = n.target,
                Type::Const(r) | Type::Volatile(r) | Type::Restrict(r) => cur = r.target,
                _ => return Ok(cur),
            }
        }
        Err(BtfError::TooDeep { id, max: MAX_DEPTH })
    }

    /// Follows only const/volatile/restrict and type tags (keeps typedefs).
    pub fn skip_mods(&self, id: TypeId) -> Result<TypeId, BtfError> {
        let mut cur = id;
        for _ in 0..=MAX_DEPTH {
            match self.type_by_id(cur)? {
                Type::TypeTag(n) => cur = n.target,
                Type::Const(r) | Type::Volatile(r) | Type::Restrict(r) => cur = r.target,
                _ => return Ok(cur),
            }
        }
        Err(BtfError::TooDeep { id, max: MAX_DEPTH })
    }

    /// Size in bytes of a value of the type, as the BPF target lays it out.
    ///
    /// ```no_run
    /// # use bpf2rs_reader::btf::{Btf, Kind};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// let id = vmlinux.find_by_name("u64", Kind::Typedef)?;
    /// assert_eq!(vmlinux.size_of(id)?, 8);
    /// # Ok(()) }
    /// ```
    pub fn size_of(&self, id: TypeId) -> Result<u32, BtfError> {
        self.size_at(id, id, 0)
    }

    fn size_at(&self, root: TypeId, id: TypeId, depth: u32) -> Result<u32, BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep {
                id: root,
                max: MAX_DEPTH,
            });
        }
        let ty = self.type_by_id(id)?;
        Ok(match ty {
            Type::Int(t) => t.byte_size,
            Type::Float(t) => t.byte_size,
            Type::Enum(t) => t.byte_size,
            Type::Struct(t) | Type::Union(t) => t.byte_size,
            Type::Datasec(t) => t.byte_size,
            // BPF is a 64-bit target.
            Type::Ptr(_) => 8,
            Type::Array(a) => {
                let elem = self.size_at(root, a.elem, depth + 1)?;
                elem.checked_mul(a.len)
                    .ok_or(BtfError::SizeOverflow { id })?
            }
            Type::Typedef(n) | Type::TypeTag(n) => self.size_at(root, n.target, depth + 1)?,
            Type::Const(r) | Type::Volatile(r) | Type::Restrict(r) => {
                self.size_at(root, r.target, depth + 1)?
            }
            Type::Var(v) => self.size_at(root, v.ty, depth + 1)?,
            Type::Void | Type::Fwd(_) | Type::Func(_) | Type::FuncProto(_) | Type::DeclTag(_) => {
                return Err(BtfError::NoSize {
                    id,
                    kind: ty.kind(),
                })
            }
        })
    }

    /// Natural alignment of the type on the BPF target, from its members.
    /// (`packed` is visible only from offsets; that is codegen's question.)
    ///
    /// ```no_run
    /// # use bpf2rs_reader::btf::{Btf, Kind};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// let id = vmlinux.find_by_name("list_head", Kind::Struct)?;
    /// assert_eq!(vmlinux.align_of(id)?, 8);
    /// # Ok(()) }
    /// ```
    pub fn align_of(&self, id: TypeId) -> Result<u32, BtfError> {
        self.align_at(id, id, 0, &mut HashMap::new())
    }

    /// `seen` remembers composites already measured: a struct reached through
    /// many members is walked once, so shared types (a chain of structs each
    /// holding two of the next) cost linear time, not exponential.
    fn align_at(
        &self,
        root: TypeId,
        id: TypeId,
        depth: u32,
        seen: &mut HashMap<TypeId, u32>,
    ) -> Result<u32, BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep {
                id: root,
                max: MAX_DEPTH,
            });
        }
        let ty = self.type_by_id(id)?;
        Ok(match ty {
            // clang's BPF data layout aligns every integer and float to its
            // size, __int128 included (i128:128).
            Type::Int(t) => scalar_align(t.byte_size),
            Type::Float(t) => scalar_align(t.byte_size),
            Type::Enum(t) => scalar_align(t.byte_size),
            Type::Ptr(_) => 8,
            Type::Array(a) => self.align_at(root, a.elem, depth + 1, seen)?,
            Type::Struct(c) | Type::Union(c) => {
                if let Some(&align) = seen.get(&id) {
                    return Ok(align);
                }
                let mut align = 1;
                for m in c.members.iter() {
                    align = align.max(self.align_at(root, m.ty, depth + 1, seen)?);
                }
                seen.insert(id, align);
                align
            }
            Type::Typedef(n) | Type::TypeTag(n) => {
                self.align_at(root, n.target, depth + 1, seen)?
            }
            Type::Const(r) | Type::Volatile(r) | Type::Restrict(r) => {
                self.align_at(root, r.target, depth + 1, seen)?
            }
            Type::Var(v) => self.align_at(root, v.ty, depth + 1, seen)?,
            Type::Datasec(_) => 1,
            Type::Void | Type::Fwd(_) | Type::Func(_) | Type::FuncProto(_) | Type::DeclTag(_) => {
                return Err(BtfError::NoSize {
                    id,
                    kind: ty.kind(),
                })
            }
        })
    }

    /// A member's position with both bitfield encodings normalised: with
    /// kind_flag the width is in the member; without it, an INT member whose
    /// bits or bit offset differ from its size describes the bitfield.
    ///
    /// ```no_run
    /// # use bpf2rs_reader::btf::{Btf, Kind};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// let id = vmlinux.find_by_name("sk_buff", Kind::Struct)?;
    /// for m in vmlinux.type_by_id(id)?.members().unwrap_or(&[]) {
    ///     let bits = vmlinux.member_bits(m)?;
    ///     println!("{} at bit {} ({:?})", vmlinux.name(m.name), bits.bit_offset, bits.bitfield_size);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn member_bits(&self, member: &Member) -> Result<MemberBits, BtfError> {
        if member.bitfield_size != 0 {
            return Ok(MemberBits {
                bit_offset: member.bit_offset,
                bitfield_size: Some(member.bitfield_size),
            });
        }
        let resolved = self.skip_mods_and_typedefs(member.ty)?;
        if let Type::Int(int) = self.type_by_id(resolved)? {
            if int.bit_offset != 0 || u32::from(int.bits) != int.byte_size * 8 {
                // Both offsets come from the wire; their sum may not fit.
                let bit_offset = member
                    .bit_offset
                    .checked_add(u32::from(int.bit_offset))
                    .ok_or_else(|| BtfError::BadType {
                        id: resolved,
                        kind: Kind::Int,
                        detail: format!(
                            "bitfield at bit {} + {} overflows u32",
                            member.bit_offset, int.bit_offset
                        ),
                    })?;
                return Ok(MemberBits {
                    bit_offset,
                    bitfield_size: Some(u32::from(int.bits)),
                });
            }
        }
        Ok(MemberBits {
            bit_offset: member.bit_offset,
            bitfield_size: None,
        })
    }

    /// The type spelled as C would declare it without a variable name:
    /// `struct flow_key`, `__u32`, `unsigned char[16]`, `const char *`,
    /// `char *const`, `int (*)[4]`, `void (*)(int, ...)`. Type tags and
    /// decl tags are looked through.
    ///
    /// ```no_run
    /// # use bpf2rs_reader::btf::{Btf, Kind};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// let id = vmlinux.find_by_name("list_head", Kind::Struct)?;
    /// assert_eq!(vmlinux.c_type_name(id)?, "struct list_head");
    /// # Ok(()) }
    /// ```
    pub fn c_type_name(&self, id: TypeId) -> Result<String, BtfError> {
        let mut budget = SPELL_BUDGET;
        self.declare(id, id, String::new(), 0, &mut budget)
    }

    /// Spells `id` around `inner`, the part of an abstract declarator
    /// already built (`*`, `[4]`, `(*)(int)`), the C way: pointers go left,
    /// arrays and parameter lists go right, parentheses where they bind.
    fn declare(
        &self,
        root: TypeId,
        id: TypeId,
        inner: String,
        depth: u32,
        budget: &mut u32,
    ) -> Result<String, BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep {
                id: root,
                max: MAX_DEPTH,
            });
        }
        // Function prototypes spell their parameters, so shared types can
        // make a small blob spell exponentially long; stop early instead.
        *budget = budget.checked_sub(1).ok_or(BtfError::TooComplex {
            id: root,
            max: SPELL_BUDGET,
        })?;
        let ty = self.type_by_id(id)?;
        let leaf = |base: String| {
            if inner.is_empty() {
                base
            } else if inner.starts_with('[') {
                format!("{base}{inner}")
            } else {
                format!("{base} {inner}")
            }
        };
        let named = |prefix: &str| {
            let n = self.name(ty.name());
            let n = if n.is_empty() { "(anon)" } else { n };
            leaf(format!("{prefix}{n}"))
        };
        // A qualifier on a pointer goes after its `*`; elsewhere, before.
        let qualify = |q: &str, target: TypeId, budget: &mut u32| {
            if matches!(self.type_by_id(target)?, Type::Ptr(_)) {
                let inner = if inner.is_empty() {
                    q.to_owned()
                } else {
                    format!("{q} {inner}")
                };
                self.declare(root, target, inner, depth + 1, budget)
            } else {
                let rest = self.declare(root, target, inner.clone(), depth + 1, budget)?;
                Ok(format!("{q} {rest}"))
            }
        };
        Ok(match ty {
            Type::Void => leaf("void".to_owned()),
            Type::Struct(_) => named("struct "),
            Type::Union(_) => named("union "),
            Type::Enum(_) => named("enum "),
            Type::Fwd(f) if f.is_union => named("union "),
            Type::Fwd(_) => named("struct "),
            Type::Int(_) | Type::Float(_) | Type::Typedef(_) | Type::Func(_) | Type::Var(_) => {
                named("")
            }
            Type::Datasec(_) => named("section "),
            Type::Ptr(r) => {
                let pointee = self.skip_tags(r.target)?;
                let inner = match self.type_by_id(pointee)? {
                    Type::Array(_) | Type::FuncProto(_) => format!("(*{inner})"),
                    _ => format!("*{inner}"),
                };
                self.declare(root, r.target, inner, depth + 1, budget)?
            }
            Type::Const(r) => qualify("const", r.target, budget)?,
            Type::Volatile(r) => qualify("volatile", r.target, budget)?,
            Type::Restrict(r) => qualify("restrict", r.target, budget)?,
            Type::TypeTag(n) => self.declare(root, n.target, inner, depth + 1, budget)?,
            Type::DeclTag(d) => self.declare(root, d.target, inner, depth + 1, budget)?,
            Type::Array(a) => self.declare(
                root,
                a.elem,
                format!("{inner}[{}]", a.len),
                depth + 1,
                budget,
            )?,
            Type::FuncProto(p) => {
                let mut params = Vec::with_capacity(p.params.len());
                for (i, param) in p.params.iter().enumerate() {
                    let variadic =
                        i + 1 == p.params.len() && param.ty.is_void() && param.name.is_anon();
                    params.push(if variadic {
                        "...".to_owned()
                    } else {
                        self.declare(root, param.ty, String::new(), depth + 1, budget)?
                    });
                }
                let params = if params.is_empty() {
                    "void".to_owned()
                } else {
                    params.join(", ")
                };
                self.declare(root, p.ret, format!("{inner}({params})"), depth + 1, budget)?
            }
        })
    }

    /// Follows type tags only (they do not change how C spells a type).
    fn skip_tags(&self, id: TypeId) -> Result<TypeId, BtfError> {
        let mut cur = id;
        for _ in 0..=MAX_DEPTH {
            match self.type_by_id(cur)? {
                Type::TypeTag(n) => cur = n.target,
                _ => return Ok(cur),
            }
        }
        Err(BtfError::TooDeep { id, max: MAX_DEPTH })
    }

    /// Checks the whole graph for reference cycles that C cannot express: a
    /// type that contains itself by value, or a modifier/typedef loop.
    /// Pointers break cycles, as in C. Linear in the number of types.
    ///
    /// ```no_run
    /// # use bpf2rs_reader::btf::{Btf, Kind};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// vmlinux.check_graph()?;
    /// # Ok(()) }
    /// ```
    pub fn check_graph(&self) -> Result<(), BtfError> {
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let first = self.first_own_id().0;
        let mut state = vec![0u8; (self.len() - first) as usize];
        let mut stack: Vec<(TypeId, usize)> = Vec::new();
        for start in first..self.len() {
            if state[(start - first) as usize] != 0 {
                continue;
            }
            stack.push((TypeId(start), 0));
            state[(start - first) as usize] = 1;
            while let Some(&mut (id, ref mut next)) = stack.last_mut() {
                let child = self.by_value_child(id, *next)?;
                *next += 1;
                match child {
                    None => {
                        state[(id.0 - first) as usize] = 2;
                        stack.pop();
                    }
                    Some(c) if c.0 < first => {} // void or base type: already sound
                    Some(c) => match state[(c.0 - first) as usize] {
                        0 => {
                            state[(c.0 - first) as usize] = 1;
                            stack.push((c, 0));
                        }
                        1 => return Err(BtfError::Cycle { id: c }),
                        _ => {}
                    },
                }
            }
        }
        Ok(())
    }

    /// The `n`th type that `id` contains by value (members, elements, targets
    /// of typedefs and modifiers), or `None` when there are no more.
    fn by_value_child(&self, id: TypeId, n: usize) -> Result<Option<TypeId>, BtfError> {
        let ty = self.type_by_id(id)?;
        Ok(match ty {
            Type::Struct(c) | Type::Union(c) => c.members.get(n).map(|m| m.ty),
            Type::Datasec(d) => d.vars.get(n).map(|v| v.ty),
            Type::Array(a) if n == 0 => Some(a.elem),
            Type::Typedef(t) | Type::TypeTag(t) if n == 0 => Some(t.target),
            Type::Const(r) | Type::Volatile(r) | Type::Restrict(r) if n == 0 => Some(r.target),
            Type::Var(v) if n == 0 => Some(v.ty),
            Type::DeclTag(d) if n == 0 => Some(d.target),
            _ => None,
        })
    }

    /// The kind of a type, or an error if the id does not exist.
    pub fn kind_of(&self, id: TypeId) -> Result<Kind, BtfError> {
        Ok(self.type_by_id(id)?.kind())
    }
}

fn scalar_align(byte_size: u32) -> u32 {
    if byte_size.is_power_of_two() {
        byte_size.min(16)
    } else {
        byte_size.next_power_of_two().min(16)
    }
}
