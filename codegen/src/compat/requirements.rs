//! What a compiled object needs from a kernel, read from its programs,
//! maps, global data, BTF and externs.
//!
//! In: an [`ObjectSpec`]. Out: [`Requirement`]s, each naming what needs it
//! ([`Group`] and owner), what it needs ([`Need`]), whether the load or
//! only the attach needs it ([`Stage`]), and the loader's workaround when
//! the kernel lacks it. Nothing here asks a kernel.

use std::collections::BTreeSet;

use bpf2rs_reader::btf::{Kind, Type};
use bpf2rs_reader::obj::{
    AttachKind, AttachType, ExternKind, MapSpec, ObjectSpec, ProgType, ProgramSpec, RelocTarget,
};

use super::table::{Feature, MAP_FLAGS};

/// Which part of the object a requirement belongs to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Group {
    Programs,
    Maps,
    Data,
    Btf,
    Externs,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Programs => "programs",
            Group::Maps => "maps",
            Group::Data => "data",
            Group::Btf => "btf",
            Group::Externs => "externs",
        }
    }
}

/// When a requirement matters: loading the object, or attaching a program.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stage {
    Load,
    Attach,
}

/// The kind of kernel BTF entry an attach target is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TargetKind {
    /// A function (fentry/fexit/fmod_ret: the function; lsm: `bpf_lsm_<hook>`;
    /// iter: `bpf_iter_<name>`).
    Func,
    /// A tp_btf tracepoint's `btf_trace_<name>` typedef.
    Typedef,
}

/// What is needed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Need {
    ProgType(ProgType),
    MapType(MapType),
    /// Helper `id` from a program of `prog_type`.
    Helper {
        prog_type: ProgType,
        id: u32,
    },
    Feature(Feature),
    /// A kernel function called as a kfunc.
    Kfunc {
        name: String,
        weak: bool,
    },
    /// A kernel variable (`typed`: with a BTF type, else an address from kallsyms).
    Ksym {
        name: String,
        weak: bool,
        typed: bool,
    },
    /// A kernel config value.
    Kconfig {
        name: String,
        weak: bool,
    },
    /// A BTF-named attach target in the kernel.
    AttachTarget {
        name: String,
        kind: TargetKind,
    },
    /// The CO-RE relocations of a program resolve against the kernel BTF.
    CoreRelocations {
        program: String,
        count: usize,
    },
    /// Something no kernel accepts as the object is: the reason.
    Unloadable(String),
}

pub use bpf2rs_reader::obj::MapType;

/// One thing an object needs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Requirement {
    pub group: Group,
    /// The program, map, section or extern that needs it.
    pub owner: String,
    pub need: Need,
    pub stage: Stage,
    /// What the loader does when the kernel lacks it.
    pub fallback: Option<&'static str>,
}

const BPF_PSEUDO_CALL: u8 = 1;
const BPF_FUNC_TAIL_CALL: i32 = 12;

/// Every requirement of `spec`, in a stable order: programs (in object
/// order), maps, data, BTF, externs.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let spec = bpf2rs_reader::obj::ObjectSpec::from_file("events.bpf.o")?;
/// for r in bpf2rs_codegen::compat::requirements(&spec) {
///     println!("{} {}: {:?}", r.group.as_str(), r.owner, r.need);
/// }
/// # Ok(()) }
/// ```
pub fn requirements(spec: &ObjectSpec) -> Vec<Requirement> {
    let mut out = Vec::new();
    for p in &spec.programs {
        program(spec, p, &mut out);
    }
    for m in &spec.maps {
        map(m, &mut out);
    }
    for ops in &spec.struct_ops {
        let owner = ops.name.as_str();
        push(
            &mut out,
            Group::Maps,
            owner,
            Need::MapType(MapType::STRUCT_OPS),
        );
        if ops.link {
            // Created with BPF_F_LINK; a plain `.struct_ops` variable
            // would register without a link on older kernels.
            push(
                &mut out,
                Group::Maps,
                owner,
                Need::Feature(Feature::StructOpsLink),
            );
        }
    }
    data(spec, &mut out);
    btf(spec, &mut out);
    externs(spec, &mut out);
    out
}

fn push(out: &mut Vec<Requirement>, group: Group, owner: &str, need: Need) {
    out.push(Requirement {
        group,
        owner: owner.to_owned(),
        need,
        stage: Stage::Load,
        fallback: None,
    });
}

fn push_attach(
    out: &mut Vec<Requirement>,
    owner: &str,
    need: Need,
    fallback: Option<&'static str>,
) {
    out.push(Requirement {
        group: Group::Programs,
        owner: owner.to_owned(),
        need,
        stage: Stage::Attach,
        fallback,
    });
}

/// The program and the subprograms it reaches through bpf-to-bpf calls
/// and callback addresses.
pub(super) fn reachable<'a>(spec: &'a ObjectSpec, p: &'a ProgramSpec) -> Vec<&'a ProgramSpec> {
    let mut seen: Vec<&ProgramSpec> = vec![p];
    let mut i = 0;
    while i < seen.len() {
        let f = seen[i];
        for r in &f.relocations {
            let RelocTarget::Function { section, offset } = &r.target else {
                continue;
            };
            let Some(insn) = f.insns.get(r.insn) else {
                continue;
            };
            let base = (*offset / 8) as i64;
            let rel = if insn.is_call() {
                i64::from(insn.imm) + 1
            } else {
                i64::from(insn.imm) / 8
            };
            let target = base + rel;
            let callee = spec
                .subprograms
                .iter()
                .chain(&spec.programs)
                .find(|s| &s.section == section && s.section_insn_offset as i64 == target);
            if let Some(c) = callee {
                if !seen.iter().any(|s| std::ptr::eq(*s, c)) {
                    seen.push(c);
                }
            }
        }
        i += 1;
    }
    seen
}

fn program(spec: &ObjectSpec, p: &ProgramSpec, out: &mut Vec<Requirement>) {
    let owner = p.name.as_str();
    let Some(def) = &p.def else {
        push(
            out,
            Group::Programs,
            owner,
            Need::Unloadable(format!(
                "section `{}` names no known program type",
                p.section
            )),
        );
        return;
    };
    let prog_type = def.prog_type;
    push(out, Group::Programs, owner, Need::ProgType(prog_type));
    section_features(p, out);
    let funcs = reachable(spec, p);
    let mut helpers = BTreeSet::new();
    let mut features = BTreeSet::new();
    let mut kfuncs = BTreeSet::new();
    let mut core = 0;
    for f in &funcs {
        core += f.core_relos.len();
        if f.global && !f.hidden && !std::ptr::eq(*f, p) {
            features.insert(Feature::GlobalFunctions);
        }
        instruction_features(f, &mut helpers, &mut features);
        for r in &f.relocations {
            match &r.target {
                RelocTarget::Data { .. } => {
                    features.insert(Feature::GlobalData);
                }
                RelocTarget::Extern(name) => {
                    let is_call = f.insns.get(r.insn).is_some_and(|i| i.is_call());
                    // An unresolved extern function is not a kfunc: it is
                    // listed under externs, as unloadable.
                    let ksym = spec
                        .externs
                        .iter()
                        .any(|e| &e.name == name && e.kind == ExternKind::Ksym);
                    if is_call && ksym {
                        kfuncs.insert(name.clone());
                    }
                }
                _ => {}
            }
        }
    }
    if features.contains(&Feature::Bpf2BpfCalls) && helpers.contains(&(BPF_FUNC_TAIL_CALL as u32)) {
        features.insert(Feature::TailCallsWithCalls);
    }
    for id in helpers {
        push(out, Group::Programs, owner, Need::Helper { prog_type, id });
    }
    if !kfuncs.is_empty() {
        features.insert(Feature::Kfuncs);
    }
    for f in features {
        push(out, Group::Programs, owner, Need::Feature(f));
    }
    for name in kfuncs {
        let weak = spec.externs.iter().any(|e| e.name == name && e.weak);
        push(out, Group::Programs, owner, Need::Kfunc { name, weak });
    }
    if core > 0 {
        push(
            out,
            Group::Programs,
            owner,
            Need::Feature(Feature::KernelBtf),
        );
        push(
            out,
            Group::Programs,
            owner,
            Need::CoreRelocations {
                program: p.name.clone(),
                count: core,
            },
        );
    }
}

/// What the section itself asks for: trampolines, sleepable, attach targets
/// and the links attaching needs.
fn section_features(p: &ProgramSpec, out: &mut Vec<Requirement>) {
    let owner = p.name.as_str();
    let Some(def) = &p.def else { return };
    let mut load = |f: Feature| push(out, Group::Programs, owner, Need::Feature(f));
    let target = def.attach_target.clone().unwrap_or_default();
    let mut btf_target = None;
    match def.expected_attach_type {
        Some(AttachType::TRACE_FENTRY) | Some(AttachType::TRACE_FEXIT) => {
            load(Feature::Trampoline);
            btf_target = Some((target.clone(), TargetKind::Func));
        }
        Some(AttachType::MODIFY_RETURN) => {
            load(Feature::Trampoline);
            load(Feature::ModifyReturn);
            btf_target = Some((target.clone(), TargetKind::Func));
        }
        Some(AttachType::TRACE_RAW_TP) => {
            load(Feature::TpBtf);
            btf_target = Some((format!("btf_trace_{target}"), TargetKind::Typedef));
        }
        Some(AttachType::LSM_MAC) | Some(AttachType::LSM_CGROUP) => {
            load(Feature::Lsm);
            btf_target = Some((format!("bpf_lsm_{target}"), TargetKind::Func));
        }
        Some(AttachType::TRACE_ITER) => {
            load(Feature::Iterators);
            btf_target = Some((format!("bpf_iter_{target}"), TargetKind::Func));
        }
        _ => {}
    }
    if def.sleepable && def.prog_type != ProgType::SYSCALL {
        load(Feature::Sleepable);
    }
    if def.xdp_frags {
        load(Feature::XdpFrags);
    }
    if let Some((name, kind)) = btf_target.filter(|(n, _)| !n.is_empty() && !target.is_empty()) {
        push(
            out,
            Group::Programs,
            owner,
            Need::AttachTarget { name, kind },
        );
    }
    attach_features(p, out);
}

/// Links that attaching needs, with the loader's fallbacks.
fn attach_features(p: &ProgramSpec, out: &mut Vec<Requirement>) {
    let owner = p.name.as_str();
    let Some(def) = &p.def else { return };
    let f = |x| Need::Feature(x);
    match def.attach {
        AttachKind::Kprobe
        | AttachKind::Kretprobe
        | AttachKind::Uprobe
        | AttachKind::Uretprobe
        | AttachKind::Ksyscall
        | AttachKind::Kretsyscall
        | AttachKind::Tracepoint => push_attach(
            out,
            owner,
            f(Feature::PerfLink),
            Some("attached with PERF_EVENT_IOC_SET_BPF instead of a link"),
        ),
        AttachKind::KprobeMulti | AttachKind::KretprobeMulti => {
            push_attach(out, owner, f(Feature::KprobeMulti), None)
        }
        AttachKind::KprobeSession => push_attach(out, owner, f(Feature::KprobeSession), None),
        AttachKind::UprobeMulti | AttachKind::UretprobeMulti | AttachKind::Usdt => {
            let feature = if def.expected_attach_type == Some(AttachType::TRACE_UPROBE_SESSION) {
                Feature::UprobeSession
            } else {
                Feature::UprobeMulti
            };
            let fallback = (feature == Feature::UprobeMulti)
                .then_some("loaded as a plain kprobe program and attached one uprobe per site");
            push_attach(out, owner, f(feature), fallback)
        }
        _ => {}
    }
    match def.expected_attach_type {
        Some(AttachType::TCX_INGRESS) | Some(AttachType::TCX_EGRESS) => push_attach(
            out,
            owner,
            f(Feature::Tcx),
            Some("attached through netlink tc (clsact qdisc, bpf classifier)"),
        ),
        Some(AttachType::NETKIT_PRIMARY) | Some(AttachType::NETKIT_PEER) => {
            push_attach(out, owner, f(Feature::Netkit), None)
        }
        _ => {}
    }
}

/// Helpers called, and the instruction-set features used, by `f`.
fn instruction_features(
    f: &ProgramSpec,
    helpers: &mut BTreeSet<u32>,
    features: &mut BTreeSet<Feature>,
) {
    const CLASS_LDX: u8 = 0x01;
    const CLASS_STX: u8 = 0x03;
    const CLASS_ALU: u8 = 0x04;
    const CLASS_JMP: u8 = 0x05;
    const CLASS_JMP32: u8 = 0x06;
    const CLASS_ALU64: u8 = 0x07;
    const MODE_ATOMIC: u8 = 0xc0;
    const MODE_MEMSX: u8 = 0x80;
    const OP_CALL: u8 = 0x80;
    const OP_EXIT: u8 = 0x90;
    const OP_JA: u8 = 0x00;
    const OP_MOV: u8 = 0xb0;
    const OP_DIV: u8 = 0x30;
    const OP_MOD: u8 = 0x90;
    const OP_END: u8 = 0xd0;
    const ATOMIC_ADD: i32 = 0x00;
    for (i, insn) in f.insns.iter().enumerate() {
        let class = insn.code & 0x07;
        let op = insn.code & 0xf0;
        match class {
            CLASS_JMP | CLASS_JMP32 if op == OP_CALL => {
                let extern_call = f
                    .relocations
                    .iter()
                    .any(|r| r.insn == i && matches!(r.target, RelocTarget::Extern(_)));
                if insn.src_reg == BPF_PSEUDO_CALL && !extern_call {
                    features.insert(Feature::Bpf2BpfCalls);
                } else if insn.src_reg == 0 && !extern_call {
                    helpers.insert(insn.imm as u32);
                }
            }
            CLASS_JMP | CLASS_JMP32 if op == OP_EXIT => {}
            CLASS_JMP | CLASS_JMP32 => {
                if class == CLASS_JMP32 {
                    features.insert(if op == OP_JA {
                        Feature::CpuV4
                    } else {
                        Feature::Jmp32
                    });
                }
                let off = if class == CLASS_JMP32 && op == OP_JA {
                    insn.imm
                } else {
                    i32::from(insn.off)
                };
                if off < 0 {
                    features.insert(Feature::BoundedLoops);
                }
            }
            CLASS_STX if insn.code & 0xe0 == MODE_ATOMIC && insn.imm != ATOMIC_ADD => {
                features.insert(Feature::Atomics);
            }
            CLASS_LDX if insn.code & 0xe0 == MODE_MEMSX => {
                features.insert(Feature::CpuV4);
            }
            CLASS_ALU | CLASS_ALU64 => {
                let v4 = match op {
                    OP_MOV | OP_DIV | OP_MOD => insn.off != 0,
                    OP_END => class == CLASS_ALU64,
                    _ => false,
                };
                if v4 {
                    features.insert(Feature::CpuV4);
                }
            }
            _ => {}
        }
    }
}

fn map(m: &MapSpec, out: &mut Vec<Requirement>) {
    let owner = m.name.as_str();
    push(out, Group::Maps, owner, Need::MapType(m.map_type));
    let mut known = 0;
    for &(bit, feature) in MAP_FLAGS {
        known |= bit;
        // BPF_F_RDONLY and BPF_F_WRONLY share a feature: one line.
        if m.map_flags & bit != 0
            && !(bit == 1 << 4 && m.map_flags & (1 << 3) != 0)
            && !(bit == 1 << 8 && m.map_flags & (1 << 7) != 0)
        {
            push(out, Group::Maps, owner, Need::Feature(feature));
        }
    }
    if m.map_flags & !known != 0 {
        push(
            out,
            Group::Maps,
            owner,
            Need::Unloadable(format!("unknown map flags {:#x}", m.map_flags & !known)),
        );
    }
    if let Some(inner) = &m.inner {
        let name = format!("{owner}.inner");
        push(out, Group::Maps, &name, Need::MapType(inner.map_type));
    } else if m.map_type.is_map_in_map() {
        push(
            out,
            Group::Maps,
            owner,
            Need::Unloadable(
                "a map of maps without an inner map template (`__array(values, ...)`)".into(),
            ),
        );
    }
    let sized_by_kernel = m.map_type.is_storage()
        || m.map_type == MapType::PERF_EVENT_ARRAY
        || m.map_type == MapType::STRUCT_OPS;
    if m.max_entries == 0 && !sized_by_kernel {
        push(
            out,
            Group::Maps,
            owner,
            Need::Unloadable("max_entries is 0: user space must set it before load".into()),
        );
    }
}

fn data(spec: &ObjectSpec, out: &mut Vec<Requirement>) {
    for d in spec.data.iter().filter(|d| d.size != 0) {
        let owner = d.name.as_str();
        push(out, Group::Data, owner, Need::MapType(MapType::ARRAY));
        push(out, Group::Data, owner, Need::Feature(Feature::GlobalData));
        out.push(Requirement {
            group: Group::Data,
            owner: owner.to_owned(),
            need: Need::Feature(Feature::MmapableMaps),
            stage: Stage::Load,
            // runtime/src/global.rs: lookups and updates instead.
            fallback: Some("user space reads and writes it through the map"),
        });
        if d.kind == bpf2rs_reader::obj::DataKind::Rodata {
            push(
                out,
                Group::Data,
                owner,
                Need::Feature(Feature::MapProgRdonlyWronly),
            );
            push(out, Group::Data, owner, Need::Feature(Feature::MapFreeze));
        }
    }
}

/// BTF kinds the object's BTF uses. The loader loads objects without BTF
/// when the kernel refuses it (runtime/src/load/mod.rs `load_btf`), so
/// these have a fallback, except where BTF is not optional: struct_ops
/// and global functions need it.
fn btf(spec: &ObjectSpec, out: &mut Vec<Requirement>) {
    let Some(btf) = &spec.btf else { return };
    let mut kinds = BTreeSet::new();
    kinds.insert(Feature::Btf);
    for (_, t) in btf.iter() {
        let f = match t.kind() {
            Kind::Func | Kind::FuncProto => Feature::BtfFunc,
            Kind::Var | Kind::Datasec => Feature::BtfDatasec,
            Kind::Float => Feature::BtfFloat,
            Kind::DeclTag => Feature::BtfDeclTag,
            Kind::TypeTag => Feature::BtfTypeTag,
            Kind::Enum64 => Feature::BtfEnum64,
            _ => continue,
        };
        kinds.insert(f);
    }
    let needs_btf = !spec.struct_ops.is_empty()
        || spec.subprograms.iter().any(|s| s.global && !s.hidden)
        || spec.externs.iter().any(|e| e.kind == ExternKind::Ksym);
    for f in kinds {
        out.push(Requirement {
            group: Group::Btf,
            owner: "object".into(),
            need: Need::Feature(f),
            stage: Stage::Load,
            fallback: (!needs_btf)
                .then_some("maps and programs are loaded without the object's BTF"),
        });
    }
}

fn externs(spec: &ObjectSpec, out: &mut Vec<Requirement>) {
    let btf = spec.btf.as_deref();
    for e in &spec.externs {
        let owner = e.name.as_str();
        let need = match e.kind {
            ExternKind::Unresolved => Need::Unloadable(e.unresolved_reason().unwrap_or_default()),
            ExternKind::Kconfig => match e.name.as_str() {
                // Values the loader makes up itself.
                "LINUX_KERNEL_VERSION" | "LINUX_HAS_BPF_COOKIE" | "LINUX_HAS_SYSCALL_WRAPPER" => {
                    continue
                }
                _ => Need::Kconfig {
                    name: e.name.clone(),
                    weak: e.weak,
                },
            },
            ExternKind::Ksym if e.is_func => continue, // a kfunc: listed with its callers
            ExternKind::Ksym => {
                // As the loader decides (runtime/src/load/externs.rs `is_void`).
                let typed = match (btf, e.btf_type) {
                    (Some(b), Some(id)) => b
                        .skip_mods_and_typedefs(id)
                        .and_then(|id| b.type_by_id(id).map(|t| !matches!(t, Type::Void)))
                        .unwrap_or(false),
                    _ => false,
                };
                if typed {
                    push(
                        out,
                        Group::Externs,
                        owner,
                        Need::Feature(Feature::TypedKsyms),
                    );
                }
                Need::Ksym {
                    name: e.name.clone(),
                    weak: e.weak,
                    typed,
                }
            }
        };
        push(out, Group::Externs, owner, need);
    }
}
