//! `.kconfig` and `.ksyms` externs: values for what a program declared
//! `extern ... __kconfig` / `__ksym`, and how each reference to them is
//! rewritten (libbpf's bpf_object__resolve_externs and RELO_EXTERN_*).
//! Externs that are neither (a function declared but not defined, a plain
//! `extern` variable) are refused here, before anything is created.
//!
//! In: the object's externs and BTF, the kernel's BTF, the kernel config
//! and /proc/kallsyms. Out: [`Externs`]: the bytes of the `.kconfig` map
//! and per-name ksym values, applied to instructions by [`Externs::apply`].

use std::collections::HashMap;

use crate::btf::{Btf, Kind, Type, TypeId};
use crate::obj::{ExternKind, Insn, ObjectSpec};

use super::co_re::CoreTarget;
use super::kconfig;

/// `src_reg` of ld_imm64 and call (include/uapi/linux/bpf.h).
const BPF_PSEUDO_MAP_VALUE: u8 = 2;
const BPF_PSEUDO_BTF_ID: u8 = 3;
const BPF_PSEUDO_KFUNC_CALL: u8 = 2;
/// Helper id of the call that replaces a missing `__weak` kfunc; it is only
/// an error if reachable (libbpf's POISON_CALL_KFUNC_BASE).
pub(crate) const POISON_KFUNC_BASE: i32 = 2_002_000_000;

/// What a `__ksym` resolved to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ksym {
    /// A VAR or FUNC of vmlinux BTF.
    BtfId(u32),
    /// A typeless symbol's address from /proc/kallsyms.
    Addr(u64),
    /// A missing `__weak` symbol: zero, or a poisoned kfunc call.
    Missing,
}

/// Resolved externs of one object.
#[derive(Debug, Default)]
pub(crate) struct Externs {
    /// Contents of the `.kconfig` map and each extern's offset in it.
    pub(crate) kconfig: Vec<u8>,
    kconfig_offsets: HashMap<String, u32>,
    ksyms: HashMap<String, (Ksym, usize)>,
    /// fd of the created `.kconfig` map.
    pub(crate) kconfig_fd: Option<i32>,
}

fn kernel_version() -> Result<u32, String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_err(|e| format!("reading the kernel release: {e}"))?;
    parse_kernel_version(release.trim())
        .ok_or_else(|| format!("kernel release `{}` is not a.b.c", release.trim()))
}

/// `6.18.44-foo` -> KERNEL_VERSION(6, 18, 44); the patch level saturates at
/// 255 like the kernel's own macro.
pub(crate) fn parse_kernel_version(release: &str) -> Option<u32> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let a: u32 = parts.next()?.parse().ok()?;
    let b: u32 = parts.next()?.parse().ok()?;
    let c: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some(a << 16 | b << 8 | c.min(255))
}

impl Externs {
    /// Resolves every extern of `spec`; a missing strong extern is an error
    /// naming it, and so is an extern that is neither `__kconfig` nor
    /// `__ksym` (the reader keeps those so `inspect` can show them; loading
    /// is where they are refused, each named with the reason).
    /// `bpf_cookie`: whether the programs may use BPF cookies where the
    /// kernel has them (`LINUX_HAS_BPF_COOKIE`).
    pub(crate) fn resolve(
        spec: &ObjectSpec,
        target: Option<&CoreTarget>,
        bpf_cookie: bool,
    ) -> Result<Externs, String> {
        let mut out = Externs::default();
        if spec.externs.is_empty() {
            return Ok(out);
        }
        let unresolved = spec.unresolved_externs();
        if !unresolved.is_empty() {
            return Err(unresolved.join("; "));
        }
        let local = spec.btf.as_deref().ok_or("externs without BTF")?;
        out.layout_kconfig(spec, local, bpf_cookie)?;
        let mut kallsyms: Option<HashMap<String, u64>> = None;
        for (idx, e) in spec.externs.iter().enumerate() {
            if e.kind != ExternKind::Ksym {
                continue;
            }
            let target = target
                .ok_or_else(|| format!("extern `{}`: no kernel BTF to resolve __ksym", e.name))?;
            let typeless = !e.is_func && is_void(local, e.btf_type)?;
            let found = if e.is_func {
                target.find(&e.name, Kind::Func).map(|id| Ksym::BtfId(id.0))
            } else if typeless {
                if kallsyms.is_none() {
                    kallsyms = Some(read_kallsyms()?);
                }
                kallsyms
                    .as_ref()
                    .and_then(|k| k.get(&e.name))
                    .map(|a| Ksym::Addr(*a))
            } else {
                target.find(&e.name, Kind::Var).map(|id| Ksym::BtfId(id.0))
            };
            let value = match found {
                Some(v) => v,
                None if e.weak => Ksym::Missing,
                None => {
                    return Err(format!(
                        "extern `{}`: no {} of that name in the kernel",
                        e.name,
                        if e.is_func {
                            "kfunc"
                        } else if typeless {
                            "symbol in /proc/kallsyms"
                        } else {
                            "variable in the kernel BTF"
                        }
                    ))
                }
            };
            out.ksyms.insert(e.name.clone(), (value, idx));
        }
        Ok(out)
    }

    fn layout_kconfig(
        &mut self,
        spec: &ObjectSpec,
        local: &Btf,
        bpf_cookie: bool,
    ) -> Result<(), String> {
        let mut kcfg: Vec<(&str, TypeId, u32, u32, bool)> = Vec::new();
        for e in spec
            .externs
            .iter()
            .filter(|e| e.kind == ExternKind::Kconfig)
        {
            let ty = e
                .btf_type
                .ok_or_else(|| format!("extern `{}` has no BTF type", e.name))?;
            let size = local
                .size_of(ty)
                .map_err(|err| format!("extern `{}`: {err}", e.name))?;
            let align = local
                .align_of(ty)
                .map_err(|err| format!("extern `{}`: {err}", e.name))?
                .max(1);
            kcfg.push((&e.name, ty, size, align, e.weak));
        }
        if kcfg.is_empty() {
            return Ok(());
        }
        // Largest alignment first, so no padding is needed between most values.
        kcfg.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(b.0)));
        let config = kconfig::KernelConfig::read();
        let mut bytes: Vec<u8> = Vec::new();
        for (name, ty, size, align, weak) in kcfg {
            let off = bytes.len().div_ceil(align as usize) * align as usize;
            bytes.resize(off + size as usize, 0);
            let slot = &mut bytes[off..];
            let slot = &mut slot[..size as usize];
            let value = match name {
                "LINUX_KERNEL_VERSION" => Some(kernel_version()?.to_string()),
                // Virtual values libbpf provides. "y" reads as 1 in a
                // `_Bool` (usdt.bpf.h's type) and in an int, "n" as 0.
                "LINUX_HAS_BPF_COOKIE" => {
                    let has = bpf_cookie && crate::probe::has_bpf_cookie();
                    Some(if has { "y" } else { "n" }.to_owned())
                }
                "LINUX_HAS_SYSCALL_WRAPPER" => Some("y".to_owned()),
                _ => config
                    .as_ref()
                    .ok()
                    .and_then(|c| c.get(name).map(str::to_owned)),
            };
            match value {
                Some(v) => kconfig::encode(local, ty, &v, slot)
                    .map_err(|m| format!("extern `{name}`: {m}"))?,
                None if weak => {}
                None => {
                    let why = match &config {
                        Err(e) => format!(" (no kernel config: {e})"),
                        Ok(_) => String::new(),
                    };
                    return Err(format!(
                        "extern `{name}`: the kernel config has no such value{why}"
                    ));
                }
            }
            self.kconfig_offsets.insert(name.to_owned(), off as u32);
        }
        // An array map needs a value of at least one byte.
        if bytes.is_empty() {
            bytes.push(0);
        }
        self.kconfig = bytes;
        Ok(())
    }

    /// Rewrites the reference to extern `name` at `insns[at]`.
    pub(crate) fn apply(&self, insns: &mut [Insn], at: usize, name: &str) -> Result<(), String> {
        let insn = *insns
            .get(at)
            .ok_or("relocation past the end of the program")?;
        if let Some(off) = self.kconfig_offsets.get(name) {
            let fd = self.kconfig_fd.ok_or(".kconfig map was not created")?;
            if !insn.is_ld_imm64() {
                return Err(format!(
                    "extern `{name}` used by an instruction that is not ld_imm64"
                ));
            }
            let next = insns
                .get_mut(at + 1)
                .ok_or("ld_imm64 without its second half")?;
            next.imm = (insn.imm as i64 + i64::from(*off)) as i32;
            insns[at].src_reg = BPF_PSEUDO_MAP_VALUE;
            insns[at].imm = fd;
            return Ok(());
        }
        let (value, idx) = *self
            .ksyms
            .get(name)
            .ok_or_else(|| format!("extern `{name}` was not resolved"))?;
        if insn.is_call() {
            match value {
                Ksym::BtfId(id) => {
                    insns[at].src_reg = BPF_PSEUDO_KFUNC_CALL;
                    insns[at].imm = id as i32;
                    insns[at].off = 0; // vmlinux, not a module's BTF
                }
                Ksym::Missing => {
                    insns[at].src_reg = 0;
                    insns[at].imm = POISON_KFUNC_BASE.saturating_add(idx as i32);
                    insns[at].off = 0;
                }
                Ksym::Addr(_) => {
                    return Err(format!("extern `{name}` is called but is not a kfunc"))
                }
            }
            return Ok(());
        }
        if !insn.is_ld_imm64() || insns.get(at + 1).is_none() {
            return Err(format!(
                "extern `{name}` used by an instruction that is not ld_imm64"
            ));
        }
        let (src, lo, hi) = match value {
            Ksym::BtfId(id) => (BPF_PSEUDO_BTF_ID, id as i32, 0),
            Ksym::Addr(a) => (0, a as u32 as i32, (a >> 32) as u32 as i32),
            Ksym::Missing => (0, 0, 0),
        };
        insns[at].src_reg = src;
        insns[at].imm = lo;
        insns[at + 1].imm = hi;
        Ok(())
    }

    /// The extern whose missing kfunc poisoned a call with this helper id.
    pub(crate) fn poisoned_kfunc(&self, helper: i64) -> Option<&str> {
        let idx = usize::try_from(helper - i64::from(POISON_KFUNC_BASE)).ok()?;
        self.ksyms
            .iter()
            .find(|(_, (v, i))| *i == idx && *v == Ksym::Missing)
            .map(|(n, _)| n.as_str())
    }
}

fn is_void(btf: &Btf, ty: Option<TypeId>) -> Result<bool, String> {
    let Some(ty) = ty else { return Ok(true) };
    let id = btf.skip_mods_and_typedefs(ty).map_err(|e| e.to_string())?;
    Ok(matches!(
        btf.type_by_id(id).map_err(|e| e.to_string())?,
        Type::Void
    ))
}

fn read_kallsyms() -> Result<HashMap<String, u64>, String> {
    let text = std::fs::read_to_string("/proc/kallsyms")
        .map_err(|e| format!("reading /proc/kallsyms: {e}"))?;
    let mut out = HashMap::new();
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        let (Some(addr), Some(_), Some(name)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        // Module symbols carry a `[module]` fourth column; vmlinux first wins.
        let Ok(addr) = u64::from_str_radix(addr, 16) else {
            continue;
        };
        out.entry(name.to_owned()).or_insert(addr);
    }
    Ok(out)
}

/// The `.kconfig` map: one read-only (for programs) array slot holding
/// every kconfig extern's value, frozen so the verifier treats it as
/// constant.
pub(crate) fn create_kconfig_map(
    object: &str,
    bytes: &[u8],
) -> Result<super::DataMap, crate::map::MapError> {
    const BPF_F_RDONLY_PROG: u32 = 1 << 7;
    let name: String = object
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(7)
        .collect();
    let name = format!("{name}.kconfig");
    let create = crate::sys::MapCreate {
        name: &name,
        map_type: crate::obj::MapType::ARRAY.0,
        key_size: 4,
        value_size: bytes.len() as u32,
        max_entries: 1,
        map_flags: BPF_F_RDONLY_PROG,
        ..Default::default()
    };
    let map = crate::map::Map::create(&create)?;
    map.update(&0u32.to_ne_bytes(), bytes, crate::map::MapFlags::ANY)?;
    map.freeze()?;
    Ok(super::DataMap {
        section: ".kconfig".to_owned(),
        kind: crate::obj::DataKind::Rodata,
        map,
        mmap: None,
    })
}
