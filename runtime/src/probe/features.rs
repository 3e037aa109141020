//! Loader features: what an object's BTF, data and links may use on the
//! running kernel, as named answers with stable names. Each is probed the
//! way libbpf's `kernel_supports()` does (tools/lib/bpf/features.c) where
//! it has the probe, and by a telling failure of the link or attach
//! otherwise.
//!
//! In: the running kernel. Out: [`Features`], probed once per process.

use std::os::fd::AsFd;
use std::path::Path;
use std::sync::OnceLock;

use super::btf::{self, int32, type_head};
use super::prog::{add64_imm, call, exit, ld_map_value, load, load_with, mov64_imm, mov64_reg};
use super::prog::{return_zero, st_dw, LoadAttrs};
use super::{links, map_type_supported, Support};
use crate::obj::{AttachType, MapType, ProgType};
use crate::sys::{self, SysError};

macro_rules! features {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Loader features of the running kernel, each a [`Support`] under
        /// a stable name ([`Features::iter`] lists them in this order).
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Features {
            $($(#[$doc])* pub $name: Support,)*
        }

        impl Features {
            /// Every feature's name and answer, in declaration order.
            ///
            /// ```no_run
            /// for (name, answer) in bpf2rs::probe::features().iter() {
            ///     println!("{name}: {answer}");
            /// }
            /// ```
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, Support)> {
                [$((stringify!($name), self.$name),)*].into_iter()
            }

            fn probe() -> Features {
                Features { $($name: $name(),)* }
            }
        }
    };
}

features! {
    /// Programs and maps have names (BPF_OBJ_NAME_LEN, Linux 4.15).
    prog_name,
    /// Programs address global data through BPF_PSEUDO_MAP_VALUE (`.data`,
    /// `.rodata`, `.bss`; Linux 5.2).
    global_data,
    /// The kernel takes BTF (BPF_BTF_LOAD, Linux 4.18).
    btf,
    /// BTF FUNC and FUNC_PROTO kinds (Linux 5.0).
    btf_func,
    /// BTF FUNC with global linkage (Linux 5.6).
    btf_func_global,
    /// BTF VAR and DATASEC kinds (Linux 5.2).
    btf_datasec,
    /// A DATASEC named with a `?`, as `?.data` (Linux 6.1).
    btf_qmark_datasec,
    /// BTF FLOAT kind (Linux 5.13).
    btf_float,
    /// BTF DECL_TAG kind (Linux 5.16).
    btf_decl_tag,
    /// BTF TYPE_TAG kind (Linux 5.17).
    btf_type_tag,
    /// BTF ENUM64 kind (Linux 6.0).
    btf_enum64,
    /// Array maps with BPF_F_MMAPABLE (Linux 5.5).
    mmapable_arrays,
    /// BPF_PROG_LOAD takes expected_attach_type (Linux 4.17).
    expected_attach_type,
    /// `bpf_probe_read_kernel` (Linux 5.5).
    probe_read_kernel,
    /// BPF_MAP_LOOKUP_BATCH and the other batch commands (Linux 5.6).
    batch_ops,
    /// Ring buffer maps (Linux 5.8).
    ringbuf,
    /// struct_ops maps (Linux 5.6).
    struct_ops,
    /// `bpf_get_attach_cookie` (Linux 5.15).
    bpf_cookie,
    /// BPF links to perf events (Linux 5.15).
    perf_link,
    /// XDP links (Linux 5.9).
    xdp_link,
    /// tcx links (Linux 6.6).
    tcx,
    /// uprobe_multi links with process PID filtering (Linux 6.6; see
    /// [`super::has_uprobe_multi_link`]).
    uprobe_multi,
    /// kprobe_multi links (Linux 5.18, kernels built with fprobe).
    kprobe_multi,
    /// The kprobe PMU (/sys/bus/event_source/devices/kprobe, Linux 4.17):
    /// kprobes created by perf_event_open rather than through tracefs.
    kprobe_pmu,
    /// The uprobe PMU (/sys/bus/event_source/devices/uprobe, Linux 4.17).
    uprobe_pmu,
    /// BPF trampolines: fentry/fexit/fmod_ret and lsm programs load and
    /// attach (Linux 5.5 on x86-64, later elsewhere).
    trampolines,
}

/// The running kernel's loader features, probed on the first call (a few
/// dozen program loads, map creations and BTF loads, and one read of the
/// kernel's BTF: tens of milliseconds) and the same answers after. A feature whose probe could not run (no privilege)
/// is [`Support::Unknown`].
///
/// ```no_run
/// let f = bpf2rs::probe::features();
/// if !f.btf_enum64.is_yes() {
///     println!("64-bit enums are written as 32-bit ones for this kernel");
/// }
/// ```
pub fn features() -> &'static Features {
    static CACHE: OnceLock<Features> = OnceLock::new();
    CACHE.get_or_init(Features::probe)
}

/// The BTF kinds the running kernel loads, for the loader's
/// [`Btf::downgraded`](crate::btf::Btf::downgraded): only the seven BTF
/// probes (a few tiny BPF_BTF_LOADs, once per process), not every feature.
/// A probe that could not run counts as support: the BTF is then loaded
/// as it is, and the kernel says what it refuses.
///
/// ```no_run
/// let support = bpf2rs::probe::btf_support();
/// println!("ENUM64: {}", support.enum64);
/// ```
pub fn btf_support() -> crate::btf::BtfSupport {
    static CACHE: OnceLock<crate::btf::BtfSupport> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let has = |s: Support| s != Support::No;
        crate::btf::BtfSupport {
            func: has(btf_func()),
            global_func: has(btf_func_global()),
            datasec: has(btf_datasec()),
            float: has(btf_float()),
            decl_tag: has(btf_decl_tag()),
            type_tag: has(btf_type_tag()),
            enum64: has(btf_enum64()),
        }
    })
}

fn prog_name() -> Support {
    let attrs = LoadAttrs::of(ProgType::SOCKET_FILTER);
    Support::of(load_with(&attrs, "bpf2rs_name", &return_zero(), &mut []).map(|_| true))
}

fn global_data() -> Support {
    let probe = || -> Result<bool, SysError> {
        let map = sys::map_create(&sys::MapCreate {
            map_type: MapType::ARRAY.0,
            key_size: 4,
            value_size: 32,
            max_entries: 1,
            ..Default::default()
        })?;
        let [ld0, ld1] = ld_map_value(1, map.as_fd(), 16);
        let insns = [ld0, ld1, st_dw(1, 0, 42), mov64_imm(0, 0), exit()];
        load(ProgType::SOCKET_FILTER, None, &insns).map(|_| true)
    };
    Support::of(probe())
}

/// Loads a BTF blob: yes if the kernel takes it.
fn btf_loads(types: &[u32], strings: &[u8]) -> Support {
    Support::of(btf::load(types, strings).map(|_| true))
}

fn btf() -> Support {
    btf_loads(&int32(1), b"\0int\0")
}

/// `void x(int a)` with linkage `linkage`.
fn btf_func_with(linkage: u32) -> Support {
    // Offsets: 1 "int", 5 "x", 7 "a".
    let mut types = Vec::new();
    types.extend(int32(1)); // [1] int
    types.extend(type_head(0, btf::KIND_FUNC_PROTO, 1, 0)); // [2] void (int)
    types.extend([7, 1]); // param a: int
    types.extend(type_head(5, btf::KIND_FUNC, linkage, 2)); // [3] x
    btf_loads(&types, b"\0int\0x\0a\0")
}

fn btf_func() -> Support {
    btf_func_with(0)
}

fn btf_func_global() -> Support {
    btf_func_with(btf::FUNC_GLOBAL)
}

/// `static int x;` in a section: `strings` names `x` at offset 1 and the
/// section at offset 3.
fn btf_datasec_named(strings: &[u8]) -> Support {
    const BTF_VAR_STATIC: u32 = 0;
    let mut types = Vec::new();
    types.extend(int32(0)); // [1] int
    types.extend(type_head(1, btf::KIND_VAR, 0, 1)); // [2] var x
    types.push(BTF_VAR_STATIC);
    types.extend(type_head(3, btf::KIND_DATASEC, 1, 4)); // [3] the section
    types.extend([2, 0, 4]); // x at offset 0, 4 bytes
    btf_loads(&types, strings)
}

fn btf_datasec() -> Support {
    btf_datasec_named(b"\0x\0.data\0")
}

fn btf_qmark_datasec() -> Support {
    btf_datasec_named(b"\0x\0?.data\0")
}

fn btf_float() -> Support {
    btf_loads(&type_head(1, btf::KIND_FLOAT, 0, 4), b"\0float\0")
}

fn btf_decl_tag() -> Support {
    let mut types = Vec::new();
    types.extend(int32(0)); // [1] int
    types.extend(type_head(1, btf::KIND_VAR, 0, 1)); // [2] static int tag
    types.push(0);
    types.extend(type_head(1, btf::KIND_DECL_TAG, 0, 2)); // [3] tag on [2]
    types.push(u32::MAX); // component_idx -1: the variable itself
    btf_loads(&types, b"\0tag\0")
}

fn btf_type_tag() -> Support {
    let mut types = Vec::new();
    types.extend(int32(0)); // [1] int
    types.extend(type_head(1, btf::KIND_TYPE_TAG, 0, 1)); // [2] tag int
    types.extend(type_head(0, btf::KIND_PTR, 0, 2)); // [3] ptr to [2]
    btf_loads(&types, b"\0tag\0")
}

fn btf_enum64() -> Support {
    btf_loads(&type_head(1, btf::KIND_ENUM64, 0, 8), b"\0enum64\0")
}

/// Whether array maps can be memory-mapped (`BPF_F_MMAPABLE`, Linux 5.5),
/// which the loader uses for global data: one map creation, probed on the
/// first call. A probe that could not run (no privilege) answers `true`:
/// the loader then asks for mmapable maps and the kernel's refusal names
/// the real problem.
///
/// ```no_run
/// println!("mmapable global data: {}", bpf2rs::probe::has_mmapable_arrays());
/// ```
pub fn has_mmapable_arrays() -> bool {
    static CACHE: OnceLock<Support> = OnceLock::new();
    super::cached_support(&CACHE, mmapable_arrays) != Support::No
}

fn mmapable_arrays() -> Support {
    const BPF_F_MMAPABLE: u32 = 1 << 10;
    Support::of(
        sys::map_create(&sys::MapCreate {
            map_type: MapType::ARRAY.0,
            key_size: 4,
            value_size: 4,
            max_entries: 1,
            map_flags: BPF_F_MMAPABLE,
            ..Default::default()
        })
        .map(|_| true),
    )
}

fn expected_attach_type() -> Support {
    // Any type whose attach type is not 0 (cgroup_inet_ingress): an older
    // kernel refuses the unknown attr field.
    let r = load(
        ProgType::CGROUP_SOCK,
        Some(AttachType::CGROUP_INET_SOCK_CREATE),
        &return_zero(),
    );
    Support::of(r.map(|_| true))
}

fn probe_read_kernel() -> Support {
    const BPF_FUNC_PROBE_READ_KERNEL: i32 = 113;
    let insns = [
        mov64_reg(1, 10), // r1 = fp
        add64_imm(1, -8), // r1 -= 8
        mov64_imm(2, 8),  // r2 = 8
        mov64_imm(3, 0),  // r3 = NULL
        call(BPF_FUNC_PROBE_READ_KERNEL),
        exit(),
    ];
    Support::of(load(ProgType::TRACEPOINT, None, &insns).map(|_| true))
}

fn batch_ops() -> Support {
    // A batch lookup of an empty hash map: ENOENT ("no more") where the
    // command exists, EINVAL where it does not.
    let probe = || -> Result<bool, SysError> {
        let fd = sys::map_create(&sys::MapCreate {
            map_type: MapType::HASH.0,
            key_size: 4,
            value_size: 4,
            max_entries: 1,
            ..Default::default()
        })?;
        let map = sys::MapFd::new(fd, 4, 4);
        let (mut cursor, mut keys, mut values) = ([0u8; 4], [0u8; 4], [0u8; 4]);
        match map.lookup_batch(false, None, &mut cursor, &mut keys, &mut values, 1, 0) {
            Ok(_) => Ok(true),
            Err(e) if super::lacks_privilege(&e) => Err(e),
            Err(_) => Ok(false),
        }
    };
    Support::of(probe())
}

fn ringbuf() -> Support {
    map_type_supported(MapType::RINGBUF)
}

fn struct_ops() -> Support {
    map_type_supported(MapType::STRUCT_OPS)
}

fn bpf_cookie() -> Support {
    links::bpf_cookie()
}

fn perf_link() -> Support {
    Support::of(links::perf_link())
}

fn xdp_link() -> Support {
    links::xdp_link()
}

fn tcx() -> Support {
    Support::of(links::has_tcx_link())
}

fn uprobe_multi() -> Support {
    links::uprobe_multi_link()
}

fn kprobe_multi() -> Support {
    links::kprobe_multi_link()
}

fn kprobe_pmu() -> Support {
    pmu("kprobe")
}

fn uprobe_pmu() -> Support {
    pmu("uprobe")
}

/// Whether the perf PMU `name` is registered: its sysfs directory is
/// readable by everyone, so this probe always runs.
fn pmu(name: &str) -> Support {
    Support::from(
        Path::new("/sys/bus/event_source/devices")
            .join(name)
            .join("type")
            .exists(),
    )
}

fn trampolines() -> Support {
    links::trampolines()
}
