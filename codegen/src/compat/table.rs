//! The minimum-kernel table: the first mainline Linux release that has each
//! program type, map type, helper and feature, with a citation.
//!
//! In: a program type, map type, helper id or [`Feature`]. Out: [`Since`].
//!
//! Program types, map types and helpers come from bcc's
//! `docs/kernel-versions.md` (its version and commit columns), generated
//! into `rows.rs` by `scripts/compat-table-rows`; helper ids from the UAPI
//! `___BPF_FUNC_MAPPER` list, so `--kernel X.Y` works on any machine. The
//! rows below that the bcc page lacks, and the features, cite the kernel
//! commit that introduced the thing, as named by bcc's "Main features",
//! "Map userspace API" and helper tables, the eBPF Docs timeline
//! (docs.ebpf.io), the `Upstream commit` notes of cilium/ebpf's feature
//! probes and bpftool's, or the kernel's own `Fixes:` tags, with the
//! release it first appeared in. Where a feature came as a patch series
//! (atomics, instruction set v4), the commit is the series' first one.
//! [`Cite::Doc`] stays for a row with no such commit.
//!
//! A version is what mainline has. Distribution kernels backport features
//! (RHEL 8's 4.18 has ring buffers), and a kernel may lack what its version
//! promises (no BTF without CONFIG_DEBUG_INFO_BTF; no trampolines on some
//! virtual machines), which is why the running-kernel verdict asks the
//! kernel itself where it can.

use std::fmt;

use bpf2rs_reader::obj::{MapType, ProgType};

use super::rows;

/// A mainline kernel version, `major.minor`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
}

impl KernelVersion {
    pub const fn new(major: u32, minor: u32) -> KernelVersion {
        KernelVersion { major, minor }
    }

    /// Reads `6.1`, or a release such as `6.1.0-37-cloud-amd64` (its first
    /// two numbers).
    ///
    /// ```
    /// use bpf2rs_codegen::compat::KernelVersion;
    /// assert_eq!(KernelVersion::parse("6.12.48+deb13-amd64"), Some(KernelVersion::new(6, 12)));
    /// assert_eq!(KernelVersion::parse("six"), None);
    /// ```
    pub fn parse(text: &str) -> Option<KernelVersion> {
        let mut parts = text.trim().split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(KernelVersion { major, minor })
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Where a row's version comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cite {
    /// A torvalds/linux commit (12 hex digits).
    Commit(&'static str),
    /// A UAPI header or documentation reference, for a row with no known
    /// commit.
    Doc(&'static str),
}

impl fmt::Display for Cite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cite::Commit(c) => write!(f, "commit {c}"),
            Cite::Doc(d) => f.write_str(d),
        }
    }
}

/// The first mainline release with something, and why we think so.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Since {
    pub version: KernelVersion,
    pub cite: Cite,
}

impl Since {
    pub(super) const fn commit(major: u32, minor: u32, commit: &'static str) -> Since {
        Since {
            version: KernelVersion::new(major, minor),
            cite: Cite::Commit(commit),
        }
    }
}

/// Kernel features an object can need besides its program, map and helper
/// kinds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Feature {
    /// Calls between BPF functions (BPF_PSEUDO_CALL).
    Bpf2BpfCalls,
    /// Tail calls from a program that also makes bpf-to-bpf calls.
    TailCallsWithCalls,
    /// Global (non-static) functions, verified one by one.
    GlobalFunctions,
    /// Backward jumps: loops the verifier bounds.
    BoundedLoops,
    /// The JMP32 instruction class (clang -mcpu=v3).
    Jmp32,
    /// Atomic operations beyond add (fetch, xchg, cmpxchg, and, or, xor).
    Atomics,
    /// Instruction set v4: sign-extending loads and moves, signed division,
    /// byte swaps, 32-bit-offset jumps (clang -mcpu=v4).
    CpuV4,
    /// `.data`/`.rodata`/`.bss` read and written in place (BPF_PSEUDO_MAP_VALUE).
    GlobalData,
    /// Global data maps are created BPF_F_MMAPABLE by this loader where
    /// the kernel has it (else read and written through the map).
    MmapableMaps,
    /// BPF_MAP_FREEZE (`.rodata` is frozen after it is written).
    MapFreeze,
    /// BTF loaded with the object (BPF_BTF_LOAD).
    Btf,
    /// BTF_KIND_FUNC / FUNC_PROTO with func_info at program load.
    BtfFunc,
    /// BTF_KIND_VAR / DATASEC.
    BtfDatasec,
    BtfFloat,
    BtfDeclTag,
    BtfTypeTag,
    BtfEnum64,
    /// The kernel's own BTF in /sys/kernel/btf/vmlinux (CO-RE, kfuncs,
    /// attach targets).
    KernelBtf,
    /// Calls to kernel functions (kfuncs) resolved by BTF id.
    Kfuncs,
    /// `__ksym` variables with a BTF type (BPF_PSEUDO_BTF_ID).
    TypedKsyms,
    /// BPF trampolines: fentry, fexit, fmod_ret programs.
    Trampoline,
    /// Raw tracepoints typed by BTF (`tp_btf`).
    TpBtf,
    /// fmod_ret programs.
    ModifyReturn,
    /// BPF LSM programs.
    Lsm,
    /// BPF iterators.
    Iterators,
    /// Sleepable programs (`.s` sections).
    Sleepable,
    /// Multi-buffer XDP (`xdp.frags`).
    XdpFrags,
    /// BPF links (BPF_LINK_CREATE).
    Links,
    /// Links on perf events (kprobes, uprobes, tracepoints).
    PerfLink,
    /// BPF cookies (bpf_get_attach_cookie).
    BpfCookie,
    KprobeMulti,
    KprobeSession,
    UprobeMulti,
    UprobeSession,
    Tcx,
    Netkit,
    /// struct_ops maps registered through a link (`.struct_ops.link`).
    StructOpsLink,
    /// Map flags, one feature per flag bit.
    MapNoPrealloc,
    MapNoCommonLru,
    MapNumaNode,
    MapRdonlyWronly,
    MapStackBuildId,
    MapZeroSeed,
    MapProgRdonlyWronly,
    MapClone,
    MapMmapable,
    MapPreserveElems,
    MapInnerMap,
    MapLink,
    MapVtypeBtfObjFd,
    MapTokenFd,
    MapSegvOnFault,
    MapNoUserConv,
}

impl Feature {
    /// Short text for reports.
    pub fn describe(self) -> &'static str {
        use Feature::*;
        match self {
            Bpf2BpfCalls => "bpf-to-bpf calls",
            TailCallsWithCalls => "tail calls mixed with bpf-to-bpf calls (x86-64)",
            GlobalFunctions => "global functions (verified separately)",
            BoundedLoops => "bounded loops",
            Jmp32 => "JMP32 instructions (-mcpu=v3)",
            Atomics => "atomic fetch/xchg/cmpxchg/and/or/xor",
            CpuV4 => "instruction set v4 (-mcpu=v4)",
            GlobalData => "global data (direct map value access)",
            MmapableMaps => "mmapable global data maps",
            MapFreeze => "read-only .rodata (BPF_MAP_FREEZE)",
            Btf => "object BTF",
            BtfFunc => "BTF FUNC / FUNC_PROTO and func_info",
            BtfDatasec => "BTF VAR / DATASEC",
            BtfFloat => "BTF FLOAT",
            BtfDeclTag => "BTF DECL_TAG",
            BtfTypeTag => "BTF TYPE_TAG",
            BtfEnum64 => "BTF ENUM64",
            KernelBtf => "kernel BTF (/sys/kernel/btf/vmlinux)",
            Kfuncs => "kfunc calls",
            TypedKsyms => "typed __ksym variables",
            Trampoline => "BPF trampoline (fentry/fexit/fmod_ret)",
            TpBtf => "BTF-typed raw tracepoints (tp_btf)",
            ModifyReturn => "fmod_ret",
            Lsm => "BPF LSM",
            Iterators => "BPF iterators",
            Sleepable => "sleepable programs",
            XdpFrags => "multi-buffer XDP (xdp.frags)",
            Links => "BPF links",
            PerfLink => "perf event links",
            BpfCookie => "BPF cookies",
            KprobeMulti => "kprobe_multi links",
            KprobeSession => "kprobe session links",
            UprobeMulti => "uprobe_multi links",
            UprobeSession => "uprobe session links",
            Tcx => "tcx links",
            Netkit => "netkit links",
            StructOpsLink => "struct_ops links",
            MapNoPrealloc => "map flag BPF_F_NO_PREALLOC",
            MapNoCommonLru => "map flag BPF_F_NO_COMMON_LRU",
            MapNumaNode => "map flag BPF_F_NUMA_NODE",
            MapRdonlyWronly => "map flag BPF_F_RDONLY / BPF_F_WRONLY",
            MapStackBuildId => "map flag BPF_F_STACK_BUILD_ID",
            MapZeroSeed => "map flag BPF_F_ZERO_SEED",
            MapProgRdonlyWronly => "map flag BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG",
            MapClone => "map flag BPF_F_CLONE",
            MapMmapable => "map flag BPF_F_MMAPABLE",
            MapPreserveElems => "map flag BPF_F_PRESERVE_ELEMS",
            MapInnerMap => "map flag BPF_F_INNER_MAP",
            MapLink => "map flag BPF_F_LINK",
            MapVtypeBtfObjFd => "map flag BPF_F_VTYPE_BTF_OBJ_FD",
            MapTokenFd => "map flag BPF_F_TOKEN_FD",
            MapSegvOnFault => "map flag BPF_F_SEGV_ON_FAULT",
            MapNoUserConv => "map flag BPF_F_NO_USER_CONV",
        }
    }

    /// The first mainline release with the feature.
    pub fn since(self) -> Since {
        use Feature::*;
        match self {
            Bpf2BpfCalls => Since::commit(4, 16, "cc8b0b92a169"),
            TailCallsWithCalls => Since::commit(5, 10, "e411901c0b77"),
            GlobalFunctions => Since::commit(5, 6, "51c39bb1d5d1"),
            BoundedLoops => Since::commit(5, 3, "2589726d12a1"),
            Jmp32 => Since::commit(5, 1, "092ed0968bb6"),
            Atomics => Since::commit(5, 12, "5ca419f2864a"),
            CpuV4 => Since::commit(6, 6, "1f9a1ea821ff"),
            GlobalData => Since::commit(5, 2, "d8eca5bbb2be"),
            MmapableMaps | MapMmapable => Since::commit(5, 5, "fc9702273e2e"),
            MapFreeze => Since::commit(5, 2, "87df15de441b"),
            Btf => Since::commit(4, 18, "69b693f0aefa"),
            BtfFunc => Since::commit(5, 0, "838e96904ff3"),
            BtfDatasec => Since::commit(5, 2, "1dc92851849c"),
            BtfFloat => Since::commit(5, 13, "8fd886911a6a"),
            BtfDeclTag => Since::commit(5, 16, "b5ea834dde6b"),
            BtfTypeTag => Since::commit(5, 17, "8c42d2fa4eea"),
            BtfEnum64 => Since::commit(6, 0, "6089fb325cf7"),
            KernelBtf => Since::commit(5, 4, "341dfcf8d78e"),
            Kfuncs => Since::commit(5, 13, "e6ac2450d6de"),
            TypedKsyms => Since::commit(5, 10, "4976b718c355"),
            Trampoline => Since::commit(5, 5, "fec56f5890d9"),
            TpBtf => Since::commit(5, 5, "f1b9509c2fb0"),
            ModifyReturn => Since::commit(5, 7, "ae24082331d9"),
            Lsm => Since::commit(5, 7, "fc611f47f218"),
            Iterators => Since::commit(5, 8, "180139dca8b3"),
            Sleepable => Since::commit(5, 10, "1e6c62a88215"),
            XdpFrags => Since::commit(5, 18, "c2f2cdbeffda"),
            Links => Since::commit(5, 7, "af6eea57437a"),
            PerfLink => Since::commit(5, 15, "b89fbfbb854c"),
            BpfCookie => Since::commit(5, 15, "7adfc6c9b315"),
            KprobeMulti => Since::commit(5, 18, "0dcac2725406"),
            KprobeSession => Since::commit(6, 10, "535a3692ba72"),
            UprobeMulti => Since::commit(6, 6, "89ae89f53d20"),
            UprobeSession => Since::commit(6, 13, "d920179b3d48"),
            Tcx => Since::commit(6, 6, "e420bed02507"),
            Netkit => Since::commit(6, 7, "35dfaad7188c"),
            StructOpsLink | MapLink => Since::commit(6, 4, "68b04864ca42"),
            MapNoPrealloc => Since::commit(4, 6, "6c9059817432"),
            MapNoCommonLru => Since::commit(4, 10, "29ba732acbee"),
            MapNumaNode => Since::commit(4, 14, "96eabe7a40aa"),
            MapRdonlyWronly => Since::commit(4, 15, "6e71b04a8224"),
            MapStackBuildId => Since::commit(4, 17, "615755a77b24"),
            MapZeroSeed => Since::commit(5, 0, "96b3b6c9091d"),
            MapProgRdonlyWronly => Since::commit(5, 2, "591fe9888d78"),
            MapClone => Since::commit(5, 4, "8f51dfc73bf1"),
            MapPreserveElems => Since::commit(5, 10, "792caccc4526"),
            MapInnerMap => Since::commit(5, 10, "4a8f87e60f6d"),
            MapVtypeBtfObjFd => Since::commit(6, 9, "fcc2c1fb0651"),
            MapTokenFd => Since::commit(6, 9, "a177fc2bf6fd"),
            MapSegvOnFault | MapNoUserConv => Since::commit(6, 9, "317460317a02"),
        }
    }
}

/// Map flag bits (`BPF_F_*` of map creation) and the feature each needs,
/// in bit order.
pub const MAP_FLAGS: &[(u32, Feature)] = &[
    (1 << 0, Feature::MapNoPrealloc),
    (1 << 1, Feature::MapNoCommonLru),
    (1 << 2, Feature::MapNumaNode),
    (1 << 3, Feature::MapRdonlyWronly),
    (1 << 4, Feature::MapRdonlyWronly),
    (1 << 5, Feature::MapStackBuildId),
    (1 << 6, Feature::MapZeroSeed),
    (1 << 7, Feature::MapProgRdonlyWronly),
    (1 << 8, Feature::MapProgRdonlyWronly),
    (1 << 9, Feature::MapClone),
    (1 << 10, Feature::MapMmapable),
    (1 << 11, Feature::MapPreserveElems),
    (1 << 12, Feature::MapInnerMap),
    (1 << 13, Feature::MapLink),
    (1 << 15, Feature::MapVtypeBtfObjFd),
    (1 << 16, Feature::MapTokenFd),
    (1 << 17, Feature::MapSegvOnFault),
    (1 << 18, Feature::MapNoUserConv),
];

/// The first release with program type `t`.
pub fn prog_type_since(t: ProgType) -> Option<Since> {
    if t == ProgType::NETFILTER {
        return Some(Since::commit(6, 4, "84601d6ee68a"));
    }
    rows::PROG_TYPES
        .iter()
        .find(|(p, _)| *p == t)
        .map(|(_, s)| *s)
}

/// The first release with map type `t`.
pub fn map_type_since(t: MapType) -> Option<Since> {
    match t {
        MapType::CGRP_STORAGE => return Some(Since::commit(6, 2, "c4bcfb38a95e")),
        MapType::ARENA => return Some(Since::commit(6, 9, "317460317a02")),
        _ => {}
    }
    rows::MAP_TYPES
        .iter()
        .find(|(m, _)| *m == t)
        .map(|(_, s)| *s)
}

/// The name of helper `id` (`ringbuf_output`), from `enum bpf_func_id`.
///
/// ```
/// assert_eq!(bpf2rs_codegen::compat::helper_name(130), Some("ringbuf_output"));
/// ```
pub fn helper_name(id: u32) -> Option<&'static str> {
    rows::HELPERS.get(id as usize).map(|(n, _)| *n)
}

/// The first release with helper `id`.
pub fn helper_since(id: u32) -> Option<Since> {
    let (name, since) = rows::HELPERS.get(id as usize)?;
    match *name {
        // bcc's rows for these two are not read by the generator: an
        // 11-digit hash and a misspelt name (`skc_to_mctcp_sock`).
        "task_pt_regs" => Some(Since::commit(5, 15, "dd6e10fbd9fb")),
        "skc_to_mptcp_sock" => Some(Since::commit(5, 19, "3bc253c2e652")),
        _ => *since,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_helper_has_a_version() {
        for id in 1..rows::HELPERS.len() as u32 {
            assert!(
                helper_since(id).is_some(),
                "helper {id} {:?}",
                helper_name(id)
            );
        }
    }

    #[test]
    fn every_known_prog_and_map_type_has_a_version() {
        for t in 1..=32 {
            assert!(prog_type_since(ProgType(t)).is_some(), "{}", ProgType(t));
        }
        for t in 1..=33 {
            assert!(map_type_since(MapType(t)).is_some(), "{}", MapType(t));
        }
    }

    #[test]
    fn versions_read_from_releases() {
        assert_eq!(KernelVersion::parse("5.8"), Some(KernelVersion::new(5, 8)));
        assert_eq!(
            KernelVersion::parse("6.1.0-37-cloud-amd64"),
            Some(KernelVersion::new(6, 1))
        );
        assert_eq!(KernelVersion::parse("6"), None);
        assert!(KernelVersion::new(5, 10) > KernelVersion::new(5, 9));
    }
}
