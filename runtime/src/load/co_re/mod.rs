//! CO-RE ("compile once, run everywhere") relocation: the object's BTF
//! describes what a program accessed (`.BTF.ext` core_relo records); this
//! module finds the same thing in the running kernel's BTF and rewrites the
//! instruction (Documentation/bpf/llvm_reloc.rst "CO-RE Relocations";
//! the algorithm of tools/lib/bpf/relo_core.c, written anew).
//!
//! In: the local (object) BTF, a [`CoreRelo`] and a [`CoreTarget`].
//! Out: a [`Resolution`] (original and new value, or poison), which
//! [`patch`] applies to the instruction.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bpf2rs::load::co_re::{CoreTarget, resolve};
//! let spec = bpf2rs::obj::ObjectSpec::from_file("trace.bpf.o")?;
//! let target = CoreTarget::from_sys_fs()?;
//! let local = spec.btf.as_ref().unwrap();
//! for p in &spec.programs {
//!     for relo in &p.core_relos {
//!         let r = resolve(local, relo, &target)?;
//!         println!("{}: {} -> {}", p.name, r.orig_val, r.new_val);
//!     }
//! }
//! # Ok(()) }
//! ```

mod compat;
mod patch;
mod spec;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::btf::ext::{CoreRelo, CoreReloKind};
use crate::btf::{Btf, BtfError, Kind, Type, TypeId};

pub use patch::{patch, POISON_IMM};

/// Why a relocation could not be applied (an unresolvable one is not an
/// error: it is poisoned, see [`Resolution::poison`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The record or the local BTF is malformed.
    #[error("invalid CO-RE relocation: {0}")]
    Invalid(String),
    /// Several target types match with different results.
    #[error("ambiguous CO-RE relocation: candidates {first} and {other} give {first_val} and {other_val}")]
    Ambiguous {
        first: String,
        other: String,
        first_val: String,
        other_val: String,
    },
    /// The instruction is not the kind the relocation can rewrite.
    #[error("cannot patch instruction {insn}: {message}")]
    Patch { insn: usize, message: String },
}

/// The three families of relocation kinds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Family {
    Field,
    Type,
    Enumval,
}

fn family(kind: CoreReloKind) -> Result<Family, CoreError> {
    match kind.0 {
        0..=5 => Ok(Family::Field),
        6..=9 | 12 => Ok(Family::Type),
        10 | 11 => Ok(Family::Enumval),
        n => Err(CoreError::Invalid(format!("unknown relocation kind {n}"))),
    }
}

/// A name without its `___flavor` suffix: `task_struct___old` ->
/// `task_struct` (libbpf's bpf_core_essential_name_len: the suffix starts
/// at the last `___` preceded and followed by a non-underscore).
pub fn essential_name(name: &str) -> &str {
    let b = name.as_bytes();
    let n = b.len();
    if n < 5 {
        return name;
    }
    for i in (0..=n - 5).rev() {
        if b[i] != b'_' && &b[i + 1..i + 4] == b"___" && b[i + 4] != b'_' {
            return &name[..=i];
        }
    }
    name
}

/// The BTF relocations are resolved against, with its types indexed by
/// essential name, and kernel modules' split BTF searched when vmlinux has
/// no candidate (as libbpf does).
#[derive(Debug)]
pub struct CoreTarget {
    btf: Arc<Btf>,
    by_name: HashMap<String, Vec<TypeId>>,
    /// Module name and its target (split BTF on top of `btf`).
    modules: Vec<(String, CoreTarget)>,
}

impl CoreTarget {
    /// Indexes `btf` (vmlinux, or any BTF describing the target kernel).
    pub fn new(btf: Arc<Btf>) -> CoreTarget {
        let mut by_name: HashMap<String, Vec<TypeId>> = HashMap::new();
        for (id, ty) in btf.iter() {
            let name = btf.name(ty.name());
            if name.is_empty() {
                continue;
            }
            by_name
                .entry(essential_name(name).to_owned())
                .or_default()
                .push(id);
        }
        CoreTarget {
            btf,
            by_name,
            modules: Vec::new(),
        }
    }

    /// Adds a module's split BTF (whose base is this target's BTF).
    pub fn add_module(&mut self, name: &str, btf: Arc<Btf>) {
        self.modules.push((name.to_owned(), CoreTarget::new(btf)));
    }

    /// The running kernel's BTF (/sys/kernel/btf/vmlinux) and that of
    /// every loaded module (`/sys/kernel/btf/<module>`); a module whose BTF
    /// does not read is skipped.
    pub fn from_sys_fs() -> Result<CoreTarget, BtfError> {
        let vmlinux = Arc::new(Btf::from_sys_fs()?);
        let mut target = CoreTarget::new(vmlinux.clone());
        if let Ok(dir) = std::fs::read_dir("/sys/kernel/btf") {
            let mut names: Vec<String> = dir
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n != "vmlinux")
                .collect();
            names.sort();
            for name in names {
                if let Ok(m) = Btf::from_sys_fs_module(&name, vmlinux.clone()) {
                    target.add_module(&name, Arc::new(m));
                }
            }
        }
        Ok(target)
    }

    /// Candidates for a local type name: vmlinux's, or when it has none,
    /// every module's, each with the BTF it belongs to and the module name.
    fn candidates(&self, name: &str) -> Vec<(&Btf, TypeId, Option<&str>)> {
        let own: Vec<_> = self
            .named(name)
            .iter()
            .map(|&id| (&*self.btf, id, None))
            .collect();
        if !own.is_empty() {
            return own;
        }
        self.modules
            .iter()
            .flat_map(|(m, t)| {
                t.named(name)
                    .iter()
                    .map(move |&id| (&*t.btf, id, Some(m.as_str())))
            })
            .collect()
    }

    /// A BTF file describing the target kernel (e.g. from BTFHub).
    pub fn from_file(path: impl AsRef<Path>) -> Result<CoreTarget, BtfError> {
        Ok(CoreTarget::new(Arc::new(Btf::from_file(path)?)))
    }

    pub fn btf(&self) -> &Arc<Btf> {
        &self.btf
    }

    /// Types whose essential name is `name`'s (any kind).
    pub fn named(&self, name: &str) -> &[TypeId] {
        self.by_name
            .get(essential_name(name))
            .map_or(&[], Vec::as_slice)
    }

    /// The name of a loaded module whose BTF has a type named exactly
    /// `name` of kind `kind` (vmlinux not searched).
    pub fn module_with(&self, name: &str, kind: Kind) -> Option<&str> {
        self.modules
            .iter()
            .find(|(_, t)| t.find(name, kind).is_some())
            .map(|(m, _)| m.as_str())
    }

    /// The first loaded module whose BTF has a type named exactly `name`
    /// of kind `kind` (vmlinux not searched), with the type's id there.
    pub(crate) fn find_in_modules(&self, name: &str, kind: Kind) -> Option<(&str, TypeId)> {
        self.modules
            .iter()
            .find_map(|(m, t)| Some((m.as_str(), t.find(name, kind)?)))
    }

    /// The first type named exactly `name` of kind `kind`.
    pub fn find(&self, name: &str, kind: Kind) -> Option<TypeId> {
        self.named(name).iter().copied().find(|&id| {
            self.btf
                .type_by_id(id)
                .is_ok_and(|t| t.kind() == kind && self.btf.name(t.name()) == name)
        })
    }
}

/// What one relocation resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub kind: CoreReloKind,
    /// The value the compiler wrote (computed from the local BTF).
    pub orig_val: u64,
    /// The value for the target kernel.
    pub new_val: u64,
    /// Whether the instruction must hold `orig_val` before patching.
    pub validate: bool,
    /// Memory access sizes of the field, locally and in the target (0: n/a).
    pub orig_size: u32,
    pub new_size: u32,
    /// The field changed size in a way a load cannot follow: poison.
    pub fail_memsz_adjust: bool,
    /// Nothing in the target matches: the instruction is poisoned.
    pub poison: bool,
    /// `struct task_struct.pid` style description of the local access.
    pub description: String,
    /// The matched target type and access path, e.g. `[123] 0:57`.
    pub target: Option<String>,
}

fn btf_err(e: BtfError) -> CoreError {
    CoreError::Invalid(e.to_string())
}

/// Resolves one relocation of the local BTF against `target`.
pub fn resolve(local: &Btf, relo: &CoreRelo, target: &CoreTarget) -> Result<Resolution, CoreError> {
    let fam = family(relo.kind)?;
    let access = local.name(relo.access);
    let raw = spec::parse_access(access)?;
    let local_spec = spec::parse_local(local, relo.type_id, &raw, fam)?;
    let description = describe(local, relo, &local_spec, access);
    let mut res = Resolution {
        kind: relo.kind,
        orig_val: 0,
        new_val: 0,
        validate: true,
        orig_size: 0,
        new_size: 0,
        fail_memsz_adjust: false,
        poison: false,
        description,
        target: None,
    };
    let local_calc = calc(local, Some(&local_spec), relo.kind, fam)?;
    let Some(local_calc) = local_calc else {
        return Err(CoreError::Invalid("local spec resolves to nothing".into()));
    };
    res.orig_val = local_calc.val;
    res.orig_size = local_calc.size;
    res.validate = local_calc.validate;
    if relo.kind == CoreReloKind::TYPE_ID_LOCAL {
        res.new_val = res.orig_val;
        return Ok(res);
    }
    let root = local.type_by_id(relo.type_id).map_err(btf_err)?;
    let local_name = local.name(root.name());
    if local_name.is_empty() {
        return Err(CoreError::Invalid(format!(
            "relocation of the anonymous type [{}]",
            relo.type_id.0
        )));
    }
    let mut chosen: Option<(TypeId, spec::Spec, Calc, Option<&str>)> = None;
    let mut chosen_btf: Option<&Btf> = None;
    for (tbtf, cand, module) in target.candidates(local_name) {
        let ct = tbtf.type_by_id(cand).map_err(btf_err)?;
        if !kinds_core_compat(root.kind(), ct.kind()) {
            continue;
        }
        let targ_spec = match fam {
            Family::Type => {
                let ok = if relo.kind == CoreReloKind::TYPE_MATCHES {
                    compat::types_match(local, relo.type_id, tbtf, cand, false, 0)?
                } else {
                    compat::types_are_compat(local, relo.type_id, tbtf, cand, 0)?
                };
                ok.then(|| spec::Spec {
                    root_type_id: cand,
                    raw: vec![0],
                    ..spec::Spec::default()
                })
            }
            _ => spec::match_target(local, &local_spec, tbtf, cand, fam)?,
        };
        let Some(targ_spec) = targ_spec else { continue };
        let Some(c) = calc(tbtf, Some(&targ_spec), relo.kind, fam)? else {
            continue;
        };
        match &chosen {
            None => {
                chosen = Some((cand, targ_spec, c, module));
                chosen_btf = Some(tbtf);
            }
            Some((first, _, fc, _)) => {
                if fc.val != c.val {
                    return Err(CoreError::Ambiguous {
                        first: format!("[{}]", first.0),
                        other: format!("[{}]", cand.0),
                        first_val: fc.val.to_string(),
                        other_val: c.val.to_string(),
                    });
                }
            }
        }
    }
    match chosen {
        None => {
            // No candidate: existence checks are false, everything else is poison.
            match relo.kind {
                CoreReloKind::FIELD_EXISTS
                | CoreReloKind::TYPE_EXISTS
                | CoreReloKind::TYPE_MATCHES
                | CoreReloKind::ENUMVAL_EXISTS => res.new_val = 0,
                _ => res.poison = true,
            }
        }
        Some((cand, targ_spec, c, module)) => {
            res.new_val = c.val;
            res.new_size = c.size;
            res.target = Some(format!(
                "{}[{}] {}",
                module.map_or(String::new(), |m| format!("{m} ")),
                cand.0,
                targ_spec
                    .raw
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(":")
            ));
            if res.orig_size != res.new_size && res.orig_size != 0 && res.new_size != 0 {
                let tbtf = chosen_btf.unwrap_or(&target.btf);
                res.fail_memsz_adjust =
                    !size_change_ok(local, local_calc.field_type, tbtf, c.field_type)?;
            }
        }
    }
    Ok(res)
}

/// Same kind, with ENUM and ENUM64 interchangeable.
fn kinds_core_compat(a: Kind, b: Kind) -> bool {
    let enumish = |k| matches!(k, Kind::Enum | Kind::Enum64);
    a == b || (enumish(a) && enumish(b))
}

/// A load may change width when the field is a pointer on both sides or an
/// unsigned integer on both sides (libbpf's bpf_core_calc_relo).
fn size_change_ok(
    local: &Btf,
    l: Option<TypeId>,
    target: &Btf,
    t: Option<TypeId>,
) -> Result<bool, CoreError> {
    let (Some(l), Some(t)) = (l, t) else {
        return Ok(false);
    };
    let lt = local.type_by_id(l).map_err(btf_err)?;
    let tt = target.type_by_id(t).map_err(btf_err)?;
    Ok(match (lt, tt) {
        (Type::Ptr(_), Type::Ptr(_)) => true,
        (Type::Int(a), Type::Int(b)) => !a.encoding.signed && !b.encoding.signed,
        _ => false,
    })
}

/// A value computed from one spec.
#[derive(Clone, Copy, Debug)]
struct Calc {
    val: u64,
    /// Memory size of the accessed field (byte_off of a non-bitfield), else 0.
    size: u32,
    field_type: Option<TypeId>,
    validate: bool,
}

fn calc(
    btf: &Btf,
    spec: Option<&spec::Spec>,
    kind: CoreReloKind,
    fam: Family,
) -> Result<Option<Calc>, CoreError> {
    let Some(spec) = spec else { return Ok(None) };
    let plain = |val: u64| Calc {
        val,
        size: 0,
        field_type: None,
        validate: true,
    };
    match fam {
        Family::Type => {
            let val = match kind {
                CoreReloKind::TYPE_ID_LOCAL | CoreReloKind::TYPE_ID_TARGET => {
                    u64::from(spec.root_type_id.0)
                }
                CoreReloKind::TYPE_SIZE => {
                    u64::from(btf.size_of(spec.root_type_id).map_err(btf_err)?)
                }
                _ => 1,
            };
            Ok(Some(plain(val)))
        }
        Family::Enumval => {
            let acc = &spec.accessors[0];
            let val = match kind {
                CoreReloKind::ENUMVAL_EXISTS => 1,
                _ => match btf.type_by_id(acc.type_id).map_err(btf_err)? {
                    Type::Enum(e) => e
                        .values
                        .get(acc.idx as usize)
                        .map(|v| v.value)
                        .ok_or_else(|| CoreError::Invalid("enumerator out of range".into()))?,
                    _ => return Err(CoreError::Invalid("enumerator of a non-enum".into())),
                },
            };
            Ok(Some(plain(val)))
        }
        Family::Field => calc_field(btf, spec, kind).map(Some),
    }
}

fn calc_field(btf: &Btf, spec: &spec::Spec, kind: CoreReloKind) -> Result<Calc, CoreError> {
    if kind == CoreReloKind::FIELD_EXISTS {
        return Ok(Calc {
            val: 1,
            size: 0,
            field_type: None,
            validate: true,
        });
    }
    let acc = spec
        .accessors
        .last()
        .ok_or_else(|| CoreError::Invalid("empty field spec".into()))?;
    if acc.name.is_none() {
        // The path ends on an array element (or the root): no bitfields.
        let size = btf.size_of(acc.type_id).map_err(btf_err)?;
        return match kind {
            CoreReloKind::FIELD_BYTE_OFFSET => Ok(Calc {
                val: spec.bit_offset / 8,
                size,
                field_type: Some(acc.type_id),
                validate: true,
            }),
            CoreReloKind::FIELD_BYTE_SIZE => Ok(Calc {
                val: u64::from(size),
                size: 0,
                field_type: None,
                validate: true,
            }),
            k => Err(CoreError::Invalid(format!(
                "{} after an array access is not supported",
                k.as_str()
            ))),
        };
    }
    let member = match btf.type_by_id(acc.type_id).map_err(btf_err)? {
        Type::Struct(c) | Type::Union(c) => c.members.get(acc.idx as usize).cloned(),
        _ => None,
    }
    .ok_or_else(|| CoreError::Invalid("field accessor is not a member".into()))?;
    let field_type = btf.skip_mods_and_typedefs(member.ty).map_err(btf_err)?;
    let bits = btf.member_bits(&member).map_err(btf_err)?;
    // The member's own offset is already in spec.bit_offset.
    let bit_off = spec.bit_offset;
    let (byte_off, byte_sz, bit_sz, bitfield) = match bits.bitfield_size {
        Some(bit_sz) => {
            let mut byte_sz = u64::from(btf.size_of(field_type).map_err(btf_err)?).max(1);
            let mut byte_off = bit_off / 8 / byte_sz * byte_sz;
            while bit_off + u64::from(bit_sz) - byte_off * 8 > byte_sz * 8 {
                if byte_sz >= 8 {
                    return Err(CoreError::Invalid("bitfield wider than 64 bits".into()));
                }
                byte_sz *= 2;
                byte_off = bit_off / 8 / byte_sz * byte_sz;
            }
            (byte_off, byte_sz, u64::from(bit_sz), true)
        }
        None => {
            let sz = u64::from(btf.size_of(field_type).map_err(btf_err)?);
            (bit_off / 8, sz, sz * 8, false)
        }
    };
    let val = match kind {
        CoreReloKind::FIELD_BYTE_OFFSET => byte_off,
        CoreReloKind::FIELD_BYTE_SIZE => byte_sz,
        CoreReloKind::FIELD_SIGNED => {
            let signed = match btf.type_by_id(field_type).map_err(btf_err)? {
                Type::Enum(e) => e.signed,
                Type::Int(i) => i.encoding.signed,
                _ => false,
            };
            u64::from(signed)
        }
        // Little-endian layout (the BPF target of this machine).
        CoreReloKind::FIELD_LSHIFT_U64 => 64u64.wrapping_sub(bit_off + bit_sz - byte_off * 8),
        CoreReloKind::FIELD_RSHIFT_U64 => 64 - bit_sz,
        k => {
            return Err(CoreError::Invalid(format!(
                "{} is not a field relocation",
                k.as_str()
            )))
        }
    };
    let sized = kind == CoreReloKind::FIELD_BYTE_OFFSET && !bitfield;
    Ok(Calc {
        val,
        size: if sized { byte_sz as u32 } else { 0 },
        field_type: sized.then_some(field_type),
        validate: !bitfield,
    })
}

/// `byte_off struct task_struct.pid (0:57)`-style text for messages.
fn describe(local: &Btf, relo: &CoreRelo, spec: &spec::Spec, access: &str) -> String {
    let ty = local
        .c_type_name(relo.type_id)
        .unwrap_or_else(|_| format!("[{}]", relo.type_id.0));
    let names: Vec<String> = spec
        .accessors
        .iter()
        .skip(usize::from(family(relo.kind).ok() == Some(Family::Field)))
        .map(|a| match &a.name {
            Some(n) => n.clone(),
            None => format!("[{}]", a.idx),
        })
        .collect();
    let path = if names.is_empty() {
        String::new()
    } else if family(relo.kind).ok() == Some(Family::Enumval) {
        format!("::{}", names.join("."))
    } else {
        format!(".{}", names.join(".")).replace(".[", "[")
    };
    format!("{} {ty}{path} ({access})", relo.kind.as_str())
}
