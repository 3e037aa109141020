//! What a kernel has, behind one trait, [`KernelFacts`]: the seam between
//! the requirements of an object and the kernel they are checked against.
//!
//! In: a version (`--kernel X.Y`) or the running kernel. Out: answers,
//! each `Some(true)`, `Some(false)` or `None` (cannot tell).
//!
//! Two implementations: [`VersionFacts`] answers from the version table
//! alone; [`RunningKernel`] answers for the kernel this process runs on:
//! program types, map types, helpers per program type and trampolines from
//! the runtime's feature probes (`bpf2rs::probe`, as bpftool probes them),
//! and by itself its BTF (kfuncs, typed ksyms, attach targets, CO-RE), its
//! config (`__kconfig`), /proc/kallsyms, the active LSMs, and the runtime's
//! cached link probes (uprobe_multi, BPF cookies, perf links, tcx).

use std::collections::HashSet;
use std::sync::OnceLock;

use bpf2rs::load::co_re::CoreTarget;
use bpf2rs::load::KernelConfig;
use bpf2rs_reader::btf::Kind;
use bpf2rs_reader::obj::{MapType, ProgType};

use super::requirements::TargetKind;
use super::table::{self, Feature, KernelVersion};

/// Answers about one kernel. `None` means the implementation cannot tell;
/// the report then says "unknown" instead of guessing.
pub trait KernelFacts {
    /// How the report names the kernel, e.g. `Linux 6.1 (version table)`.
    fn describe(&self) -> String;
    /// The kernel's mainline version, if known.
    fn version(&self) -> Option<KernelVersion>;
    fn prog_type(&self, t: ProgType) -> Option<bool>;
    fn map_type(&self, t: MapType) -> Option<bool>;
    /// Whether programs of type `prog_type` may call helper `id`.
    fn helper(&self, prog_type: ProgType, id: u32) -> Option<bool>;
    fn feature(&self, f: Feature) -> Option<bool>;
    /// Whether the kernel BTF has kernel function `name` (a kfunc).
    fn kfunc(&self, name: &str) -> Option<bool>;
    /// Whether the kernel has variable `name`: in its BTF when `typed`,
    /// else in /proc/kallsyms.
    fn ksym(&self, name: &str, typed: bool) -> Option<bool>;
    /// Whether the kernel config has `name`.
    fn kconfig(&self, name: &str) -> Option<bool>;
    /// Whether the kernel BTF has an attach target.
    fn attach_target(&self, name: &str, kind: TargetKind) -> Option<bool>;
    /// The kernel BTF to resolve CO-RE relocations against, if there is one.
    fn core_target(&self) -> Option<&CoreTarget> {
        None
    }
    /// Whether a verdict from these facts is authoritative for the kernel
    /// the object will run on (the running kernel), or a mainline estimate.
    fn authoritative(&self) -> bool {
        false
    }
}

fn at_least(version: Option<KernelVersion>, since: Option<table::Since>) -> Option<bool> {
    Some(version? >= since?.version)
}

/// Facts from the version table for a mainline kernel `X.Y`: what mainline
/// had then. Kernel-specific things (kfuncs by name, attach targets,
/// config values) are unknown.
///
/// ```
/// use bpf2rs_codegen::compat::{KernelFacts, KernelVersion, VersionFacts};
/// use bpf2rs_reader::obj::MapType;
/// let k = VersionFacts::new(KernelVersion::new(5, 4));
/// assert_eq!(k.map_type(MapType::RINGBUF), Some(false));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct VersionFacts {
    pub version: KernelVersion,
}

impl VersionFacts {
    pub fn new(version: KernelVersion) -> VersionFacts {
        VersionFacts { version }
    }
}

impl KernelFacts for VersionFacts {
    fn describe(&self) -> String {
        format!("Linux {} (mainline, from the version table)", self.version)
    }
    fn version(&self) -> Option<KernelVersion> {
        Some(self.version)
    }
    fn prog_type(&self, t: ProgType) -> Option<bool> {
        at_least(Some(self.version), table::prog_type_since(t))
    }
    fn map_type(&self, t: MapType) -> Option<bool> {
        at_least(Some(self.version), table::map_type_since(t))
    }
    fn helper(&self, _prog_type: ProgType, id: u32) -> Option<bool> {
        at_least(Some(self.version), table::helper_since(id))
    }
    fn feature(&self, f: Feature) -> Option<bool> {
        at_least(Some(self.version), Some(f.since()))
    }
    fn kfunc(&self, _name: &str) -> Option<bool> {
        None
    }
    fn ksym(&self, _name: &str, _typed: bool) -> Option<bool> {
        None
    }
    fn kconfig(&self, _name: &str) -> Option<bool> {
        None
    }
    fn attach_target(&self, _name: &str, _kind: TargetKind) -> Option<bool> {
        None
    }
}

/// Facts about the kernel this process runs on. See the module docs for
/// what is asked of the kernel and what still comes from the table.
///
/// ```no_run
/// use bpf2rs_codegen::compat::{KernelFacts, RunningKernel};
/// let k = RunningKernel::new();
/// println!("{}: kfunc bpf_task_acquire: {:?}", k.describe(), k.kfunc("bpf_task_acquire"));
/// ```
#[derive(Debug)]
pub struct RunningKernel {
    release: String,
    version: Option<KernelVersion>,
    btf: Option<CoreTarget>,
    btf_error: Option<String>,
    config: Option<KernelConfig>,
    kallsyms: OnceLock<Option<HashSet<String>>>,
}

impl RunningKernel {
    /// Reads the release, the kernel BTF (vmlinux and modules) and the
    /// kernel config; what cannot be read is unknown later.
    pub fn new() -> RunningKernel {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        let (btf, btf_error) = match CoreTarget::from_sys_fs() {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(e.to_string())),
        };
        RunningKernel {
            version: KernelVersion::parse(&release),
            release,
            btf,
            btf_error,
            config: KernelConfig::read().ok(),
            kallsyms: OnceLock::new(),
        }
    }

    /// Why the kernel BTF could not be read, if it could not.
    pub fn btf_error(&self) -> Option<&str> {
        self.btf_error.as_deref()
    }

    fn kallsyms(&self) -> Option<&HashSet<String>> {
        self.kallsyms
            .get_or_init(|| {
                let text = std::fs::read_to_string("/proc/kallsyms").ok()?;
                let names: HashSet<String> = text
                    .lines()
                    .filter_map(|l| l.split_whitespace().nth(2))
                    .map(str::to_owned)
                    .collect();
                Some(names)
            })
            .as_ref()
    }

    /// Whether the BPF LSM is active: `bpf` in /sys/kernel/security/lsm
    /// (CONFIG_BPF_LSM and `lsm=` on the command line, which no version
    /// number says).
    fn bpf_lsm_active() -> Option<bool> {
        let lsms = std::fs::read_to_string("/sys/kernel/security/lsm").ok()?;
        Some(lsms.trim().split(',').any(|l| l == "bpf"))
    }
}

impl Default for RunningKernel {
    fn default() -> RunningKernel {
        RunningKernel::new()
    }
}

impl KernelFacts for RunningKernel {
    fn describe(&self) -> String {
        format!("the running kernel ({})", self.release)
    }
    fn version(&self) -> Option<KernelVersion> {
        self.version
    }
    // Probed as bpftool does (`bpf2rs::probe`); a probe that could not run
    // (no privilege, or a kernel that refuses the type even to root) is
    // unknown, not missing.
    fn prog_type(&self, t: ProgType) -> Option<bool> {
        bpf2rs::probe::prog_type_supported(t).as_option()
    }
    fn map_type(&self, t: MapType) -> Option<bool> {
        bpf2rs::probe::map_type_supported(t).as_option()
    }
    fn helper(&self, prog_type: ProgType, id: u32) -> Option<bool> {
        // Tracing, LSM, ext and struct_ops programs get helpers by attach
        // type (an iterator has seq_printf, an fentry program has not), and
        // the probe tries one attach type: the version table answers.
        if matches!(
            prog_type,
            ProgType::TRACING | ProgType::LSM | ProgType::EXT | ProgType::STRUCT_OPS
        ) {
            return at_least(self.version, table::helper_since(id));
        }
        bpf2rs::probe::helper_supported(prog_type, id).as_option()
    }
    fn feature(&self, f: Feature) -> Option<bool> {
        match f {
            Feature::UprobeMulti => Some(bpf2rs::probe::has_uprobe_multi_link()),
            Feature::BpfCookie => Some(bpf2rs::probe::has_bpf_cookie()),
            Feature::PerfLink => Some(bpf2rs::probe::has_perf_link()),
            Feature::Tcx => bpf2rs::probe::has_tcx_link().ok(),
            Feature::KernelBtf => Some(self.btf.is_some()),
            // Whether the kernel has BPF trampolines is not in its version:
            // architectures, virtual machines and lockdown refuse them. The
            // probe attaches an fentry program.
            Feature::Trampoline | Feature::ModifyReturn => {
                if at_least(self.version, Some(f.since())) == Some(false) {
                    Some(false)
                } else {
                    bpf2rs::probe::features().trampolines.as_option()
                }
            }
            Feature::Lsm => match at_least(self.version, Some(f.since())) {
                Some(false) => Some(false),
                _ => RunningKernel::bpf_lsm_active(),
            },
            _ => at_least(self.version, Some(f.since())),
        }
    }
    fn kfunc(&self, name: &str) -> Option<bool> {
        let btf = self.btf.as_ref()?;
        Some(btf.find(name, Kind::Func).is_some() || btf.module_with(name, Kind::Func).is_some())
    }
    fn ksym(&self, name: &str, typed: bool) -> Option<bool> {
        if typed {
            // The kernel finds a typed ksym's address by name in kallsyms
            // too, which has data symbols only with CONFIG_KALLSYMS_ALL
            // (else BPF_PROG_LOAD fails with ENOENT).
            let btf = self.btf.as_ref()?;
            if btf.find(name, Kind::Var).is_none() {
                return Some(false);
            }
            Some(self.kallsyms()?.contains(name))
        } else {
            Some(self.kallsyms()?.contains(name))
        }
    }
    fn kconfig(&self, name: &str) -> Option<bool> {
        // Without a readable config the loader refuses every strong
        // `__kconfig` extern it does not make up itself: so does this.
        Some(self.config.as_ref().is_some_and(|c| c.get(name).is_some()))
    }
    fn attach_target(&self, name: &str, kind: TargetKind) -> Option<bool> {
        let btf = self.btf.as_ref()?;
        let kind = match kind {
            TargetKind::Func => Kind::Func,
            TargetKind::Typedef => Kind::Typedef,
        };
        Some(btf.find(name, kind).is_some())
    }
    fn core_target(&self) -> Option<&CoreTarget> {
        self.btf.as_ref()
    }
    fn authoritative(&self) -> bool {
        true
    }
}
