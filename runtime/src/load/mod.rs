//! Bringing an [`ObjectSpec`] to life: BTF, maps (with static contents and
//! pinning), global data, linked and loaded programs.
//!
//! In: an object (file, bytes or spec) and per-map / per-program settings.
//! Out: [`Object`], which owns every fd it created; dropping it (or a
//! failed load) closes them all.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let obj = bpf2rs::load::OpenObject::open_file("counter.bpf.o")?.load()?;
//! let prog = obj.program("count").unwrap();
//! prog.test_run(&bpf2rs::prog::TestRunInput { data: &[0u8; 64], ..Default::default() })?;
//! # Ok(()) }
//! ```

mod attach_btf;
pub mod co_re;
mod error;
mod externs;
mod kconfig;
mod maps;
mod object;
mod program;
mod relocate;
mod settings;
mod struct_ops;

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

pub use error::{LoadError, VerifierError};
pub use kconfig::KernelConfig;
pub use object::{DataMap, Object};
pub use relocate::CoreApplied;
pub use settings::{
    AttachTarget, MapSettings, ProgSettings, BPF_F_NUMA_NODE, BPF_F_SLEEPABLE,
    BPF_F_XDP_DEV_BOUND_ONLY, BPF_F_XDP_HAS_FRAGS,
};

use crate::btf::BtfSupport;
use crate::map::Map;
use crate::obj::{ObjectSpec, ProgramSpec};
use crate::pod::AlignedBytes;
use crate::prog::Program;
use crate::struct_ops::StructOpsSettings;
use crate::sys;
use program::{load_program, LoadTarget};

/// Default root of LIBBPF_PIN_BY_NAME pins.
pub const DEFAULT_PIN_ROOT: &str = "/sys/fs/bpf";

/// An object read and not yet loaded: change global data, map and program
/// settings, then [`OpenObject::load`].
#[derive(Debug)]
pub struct OpenObject {
    spec: ObjectSpec,
    maps: Vec<MapSettings>,
    progs: Vec<ProgSettings>,
    data: Vec<AlignedBytes>,
    struct_ops: Vec<StructOpsSettings>,
    pin_root: PathBuf,
    core_target: Option<PathBuf>,
    /// Whether programs may use BPF cookies where the kernel has them.
    bpf_cookie: bool,
    /// The BTF kinds to load the object's BTF for (None: this kernel's).
    btf_support: Option<BtfSupport>,
    /// Whether global data may be memory-mapped where the kernel can.
    mmapable_data: bool,
}

impl OpenObject {
    /// Reads an object file.
    pub fn open_file(path: impl AsRef<Path>) -> Result<OpenObject, LoadError> {
        let path = path.as_ref();
        let spec =
            ObjectSpec::from_file(path).map_err(|source| LoadError::Open(Box::new(source)))?;
        Ok(OpenObject::from_spec(spec))
    }

    /// Reads an object from memory (e.g. `include_bytes!`).
    pub fn open_bytes(bytes: &[u8], name: &str) -> Result<OpenObject, LoadError> {
        let spec =
            ObjectSpec::parse(bytes, name).map_err(|source| LoadError::Open(Box::new(source)))?;
        Ok(OpenObject::from_spec(spec))
    }

    /// Wraps a spec already read.
    pub fn from_spec(spec: ObjectSpec) -> OpenObject {
        OpenObject {
            maps: spec.maps.iter().map(|_| MapSettings::default()).collect(),
            progs: spec
                .programs
                .iter()
                .map(|_| ProgSettings::default())
                .collect(),
            data: spec
                .data
                .iter()
                .map(|d| AlignedBytes::new(&d.bytes))
                .collect(),
            struct_ops: spec
                .struct_ops
                .iter()
                .map(|o| StructOpsSettings::new(&o.data))
                .collect(),
            pin_root: PathBuf::from(DEFAULT_PIN_ROOT),
            core_target: None,
            bpf_cookie: true,
            btf_support: None,
            mmapable_data: true,
            spec,
        }
    }

    pub fn spec(&self) -> &ObjectSpec {
        &self.spec
    }

    /// Settings of map `name`.
    pub fn map_mut(&mut self, name: &str) -> Option<&mut MapSettings> {
        let i = self.spec.maps.iter().position(|m| m.name == name)?;
        self.maps.get_mut(i)
    }

    /// Replaces the settings of map `name`; `false` if there is no such map.
    pub fn set_map_settings(&mut self, name: &str, settings: MapSettings) -> bool {
        match self.map_mut(name) {
            Some(s) => {
                *s = settings;
                true
            }
            None => false,
        }
    }

    /// Replaces the settings of program `name`; `false` if there is no such program.
    pub fn set_program_settings(&mut self, name: &str, settings: ProgSettings) -> bool {
        match self.program_mut(name) {
            Some(s) => {
                *s = settings;
                true
            }
            None => false,
        }
    }

    /// Settings of program `name`.
    pub fn program_mut(&mut self, name: &str) -> Option<&mut ProgSettings> {
        let i = self.spec.programs.iter().position(|p| p.name == name)?;
        self.progs.get_mut(i)
    }

    /// Settings and initial value of struct_ops variable `name` (a
    /// `.struct_ops` / `.struct_ops.link` variable, created as a
    /// BPF_MAP_TYPE_STRUCT_OPS map at load).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("my_cc.bpf.o")?;
    /// open.struct_ops_mut("my_cc_link").unwrap().set_autocreate(false);
    /// let obj = open.load()?;
    /// let _registration = obj.struct_ops("my_cc").unwrap().register()?;
    /// # Ok(()) }
    /// ```
    pub fn struct_ops_mut(&mut self, name: &str) -> Option<&mut StructOpsSettings> {
        let i = self.spec.struct_ops.iter().position(|o| o.name == name)?;
        self.struct_ops.get_mut(i)
    }

    /// Settings and initial value of struct_ops variable `name`.
    pub fn struct_ops(&self, name: &str) -> Option<&StructOpsSettings> {
        let i = self.spec.struct_ops.iter().position(|o| o.name == name)?;
        self.struct_ops.get(i)
    }

    /// Initial contents of a global data section (`.rodata`, `.data`,
    /// `.bss`, ...), writable until load.
    pub fn data_mut(&mut self, section: &str) -> Option<&mut [u8]> {
        let i = self.spec.data.iter().position(|d| d.name == section)?;
        self.data.get_mut(i).map(|v| v.as_mut_slice())
    }

    /// Replaces the initial contents of global data section `section`
    /// (`.rodata`, `.data`, `.bss`, `.data.custom`...) with `bytes`, which
    /// must be the section's size, like libbpf's
    /// `bpf_map__set_initial_value`. It writes the same buffer as
    /// [`data_mut`](Self::data_mut) and a skeleton's typed `rodata_mut()`
    /// / `data_mut()` / `bss_mut()`: whichever writes last wins. For array
    /// map definitions see [`MapSettings::set_initial_value`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("counter.bpf.o")?;
    /// let size = open.spec().data_section(".rodata").unwrap().size as usize;
    /// open.set_initial_value(".rodata", &vec![0u8; size])?;
    /// # Ok(()) }
    /// ```
    pub fn set_initial_value(&mut self, section: &str, bytes: &[u8]) -> Result<(), LoadError> {
        let object = &self.spec.name;
        let Some(i) = self.spec.data.iter().position(|d| d.name == section) else {
            let known: Vec<&str> = self.spec.data.iter().map(|d| d.name.as_str()).collect();
            let why = if self.spec.maps.iter().any(|m| m.name == section) {
                format!(
                    "{section} is a map definition, not global data: use \
                     MapSettings::set_initial_value (array maps)"
                )
            } else {
                format!("no global data section {section} (the object has {known:?})")
            };
            return Err(LoadError::Other {
                object: object.clone(),
                message: why,
            });
        };
        let buffer = self.data[i].as_mut_slice();
        if buffer.len() != bytes.len() {
            return Err(LoadError::Other {
                object: object.clone(),
                message: format!(
                    "global data {section}: the initial value is {} bytes, the section {}",
                    bytes.len(),
                    buffer.len()
                ),
            });
        }
        buffer.copy_from_slice(bytes);
        Ok(())
    }

    /// [`data_mut`](Self::data_mut) plus the buffer's zeroed padding up to
    /// a multiple of 16 bytes (never written to the kernel): room for a
    /// typed view's tail padding.
    #[doc(hidden)]
    pub fn data_padded_mut(&mut self, section: &str) -> Option<&mut [u8]> {
        let i = self.spec.data.iter().position(|d| d.name == section)?;
        self.data.get_mut(i).map(|v| v.as_mut_padded())
    }

    /// Where LIBBPF_PIN_BY_NAME maps are pinned (default /sys/fs/bpf).
    pub fn set_pin_root(&mut self, root: impl Into<PathBuf>) {
        self.pin_root = root.into();
    }

    /// Resolves CO-RE relocations, `__ksym` externs and attach targets
    /// against this BTF file instead of /sys/kernel/btf/vmlinux (for
    /// kernels without it, e.g. a file from BTFHub).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("trace.bpf.o")?;
    /// open.set_core_target("/var/lib/btf/5.15.0-generic.btf");
    /// let obj = open.load()?;
    /// # Ok(()) }
    /// ```
    pub fn set_core_target(&mut self, path: impl Into<PathBuf>) {
        self.core_target = Some(path.into());
    }

    /// Whether the object's `LINUX_HAS_BPF_COOKIE` says the kernel has BPF
    /// cookies when it does (true by default; Linux 5.15+). With `false` it
    /// reads false, as on older kernels, and [`Program::attach_usdt`] fills
    /// `<bpf/usdt.bpf.h>`'s address map so that the programs find each
    /// site's spec by address, as libbpf does there. Mostly for testing
    /// that path on a newer kernel; cookies given to other attach calls
    /// still reach `bpf_get_attach_cookie()`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("usdt.bpf.o")?;
    /// open.set_bpf_cookie(false);
    /// let obj = open.load()?;
    /// # Ok(()) }
    /// ```
    pub fn set_bpf_cookie(&mut self, bpf_cookie: bool) {
        self.bpf_cookie = bpf_cookie;
    }

    /// Loads the object's BTF as for a kernel that has only the BTF kinds
    /// `support` says (see [`Btf::downgraded`](crate::btf::Btf::downgraded)):
    /// the types of missing kinds are rewritten into older ones, and
    /// without FUNC the programs load without func_info and line_info. By
    /// default the running kernel's kinds ([`crate::probe::btf_support`]),
    /// as libbpf does; this setting is mostly for testing that path on a
    /// newer kernel.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use bpf2rs::btf::BtfSupport;
    /// let mut open = bpf2rs::load::OpenObject::open_file("counter.bpf.o")?;
    /// open.set_btf_support(BtfSupport { enum64: false, ..BtfSupport::ALL });
    /// let obj = open.load()?;
    /// # Ok(()) }
    /// ```
    pub fn set_btf_support(&mut self, support: BtfSupport) {
        self.btf_support = Some(support);
    }

    /// Whether global data maps may be memory-mapped (`BPF_F_MMAPABLE`)
    /// where the kernel has that (Linux 5.5; [`crate::probe::has_mmapable_arrays`]).
    /// With `false`, as on older kernels, they are plain arrays: the
    /// programs use them the same way, and [`DataMap::get`] and the
    /// skeleton accessors (`bss()`, `data_mut()`...) read and write the
    /// value with map lookups and updates (see [`GlobalMut`](crate::GlobalMut)).
    /// Mostly for testing that path on a newer kernel.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("counter.bpf.o")?;
    /// open.set_mmapable_data(false);
    /// let obj = open.load()?;
    /// assert!(!obj.data(".bss").unwrap().is_mapped());
    /// # Ok(()) }
    /// ```
    pub fn set_mmapable_data(&mut self, mmapable: bool) {
        self.mmapable_data = mmapable;
    }

    /// Creates every map, fills static contents and global data, links and
    /// loads every program (with autoload), and creates the struct_ops
    /// maps (the programs a created struct_ops map points at load whatever
    /// their autoload says, as in libbpf; register the maps with
    /// [`StructOpsMap::register`](crate::struct_ops::StructOpsMap::register)). On error everything created so far is
    /// closed.
    pub fn load(self) -> Result<Object, LoadError> {
        let OpenObject {
            spec,
            maps: mut map_settings,
            progs: prog_settings,
            data,
            struct_ops: ops_settings,
            pin_root,
            core_target,
            bpf_cookie,
            btf_support,
            mmapable_data,
        } = self;
        let btf_support = btf_support_for(&spec, btf_support);
        let object = spec.name.clone();
        let mut notes = Vec::new();
        let mut autoload: Vec<bool> = prog_settings.iter().map(|s| s.autoload).collect();
        let with_ops = struct_ops::any_created(&spec, &ops_settings);
        let kernel = kernel_btf(&spec, &autoload, with_ops, core_target.as_deref())?;
        let ops_plans = struct_ops::plan(&spec, &ops_settings, kernel.as_ref(), &mut notes)?;
        struct_ops::adjust_autoload(&spec, &ops_plans, &mut autoload, &mut notes)?;
        let mut externs =
            externs::Externs::resolve(&spec, kernel.as_ref(), bpf_cookie).map_err(|message| {
                LoadError::Other {
                    object: object.clone(),
                    message,
                }
            })?;
        let btf_fd = load_btf(&spec, btf_support, &mut notes);
        let btf = btf_fd.as_ref().map(|f| f.as_fd());
        let new_pins = maps::NewPins::default();
        let cx = maps::MapCx {
            object: &object,
            btf_fd: btf,
            data_btf: btf_support.datasec,
            // Probed only for objects with global data, once per process.
            mmap_data: mmapable_data
                && spec.data.iter().any(|d| d.size != 0)
                && crate::probe::has_mmapable_arrays(),
            pin_root: &pin_root,
            new_pins: &new_pins,
        };
        let maps = create_maps(&cx, &spec, &mut map_settings, &mut notes)?;
        maps::fill_map_slots(&object, &spec, &maps)?;
        let ops_maps = ops_plans
            .plans
            .iter()
            .map(|plan| struct_ops::create_map(&object, plan, btf))
            .collect::<Result<Vec<_>, _>>()?;
        let data_maps = create_data_maps(&cx, &spec, &data, &mut externs, &mut notes)?;
        let map_fds: HashMap<String, i32> = maps
            .iter()
            .flatten()
            .map(|m| (m.name().to_owned(), m.as_fd().as_raw_fd()))
            .collect();
        let data_fds: HashMap<String, i32> = data_maps
            .iter()
            .map(|d| (d.section.clone(), d.map.as_fd().as_raw_fd()))
            .collect();
        let fds = relocate::Fds {
            maps: &map_fds,
            data: &data_fds,
            externs: &externs,
            local_btf: spec.btf.as_deref(),
            kernel: kernel.as_ref(),
        };
        let license = CString::new(spec.license.clone().unwrap_or_default()).map_err(|_| {
            LoadError::Other {
                object: object.clone(),
                message: "license contains a NUL byte".into(),
            }
        })?;
        let mut programs = Vec::new();
        let mut core = Vec::new();
        for ((p, settings), load) in spec.programs.iter().zip(&prog_settings).zip(&autoload) {
            if !load {
                programs.push(Program::new(
                    p.name.clone(),
                    p.section.clone(),
                    p.prog_type(),
                    p.expected_attach_type(),
                    None,
                ));
                continue;
            }
            let target = LoadTarget {
                fds: &fds,
                btf_fd: btf_fd.as_ref(),
                license: &license,
                struct_ops: ops_plans.bindings.get(&p.name),
                func_info: btf_support.func,
            };
            let (program, applied) = load_program(&object, &spec, p, settings, &target)?;
            programs.push(program);
            core.push((p.name.clone(), applied));
        }
        maps::fill_prog_slots(&object, &spec, &maps, &programs)?;
        let not_created = (spec.maps.iter().zip(&maps))
            .filter(|(_, map)| map.is_none())
            .map(|(m, _)| m.name.clone())
            .collect();
        let maps: Vec<Map> = maps.into_iter().flatten().collect();
        share_usdt_specs(&object, &spec, &maps, &mut programs, bpf_cookie)?;
        let mut struct_ops = Vec::with_capacity(ops_maps.len());
        for (plan, map) in ops_plans.plans.into_iter().zip(ops_maps) {
            struct_ops.push(struct_ops::finish(&object, plan, map, &programs)?);
        }
        Ok(Object {
            name: object,
            maps,
            not_created,
            data: data_maps,
            programs,
            struct_ops,
            _btf_fd: btf_fd,
            notes,
            core,
            new_pins: new_pins.keep(),
        })
    }
}

/// Creates the maps behind the object's global data sections (those with
/// bytes) and, when it has `.kconfig` externs, the kconfig map, whose fd
/// the externs then carry.
/// The BTF kinds to load for: the setting, else the running kernel's
/// (probed only for objects with BTF, once per process).
fn btf_support_for(spec: &ObjectSpec, setting: Option<BtfSupport>) -> BtfSupport {
    match (setting, &spec.btf) {
        (Some(s), _) => s,
        (None, Some(_)) => crate::probe::btf_support(),
        (None, None) => BtfSupport::ALL,
    }
}

/// Every map of the object, `None` for those with autocreate off.
fn create_maps(
    cx: &maps::MapCx<'_>,
    spec: &ObjectSpec,
    settings: &mut [MapSettings],
    notes: &mut Vec<String>,
) -> Result<Vec<Option<Map>>, LoadError> {
    let mut out = Vec::with_capacity(spec.maps.len());
    for (m, settings) in spec.maps.iter().zip(settings.iter_mut()) {
        out.push(match settings.autocreate {
            true => Some(maps::create(cx, m, settings, notes)?),
            false => None,
        });
    }
    Ok(out)
}

fn create_data_maps(
    cx: &maps::MapCx<'_>,
    spec: &ObjectSpec,
    data: &[AlignedBytes],
    externs: &mut externs::Externs,
    notes: &mut Vec<String>,
) -> Result<Vec<DataMap>, LoadError> {
    let mut data_maps = Vec::with_capacity(spec.data.len() + 1);
    for (d, bytes) in spec.data.iter().zip(data) {
        if d.size != 0 {
            data_maps.push(maps::create_data(cx, d, bytes.as_slice(), notes)?);
        }
    }
    if !externs.kconfig.is_empty() {
        let d = externs::create_kconfig_map(cx.object, &externs.kconfig).map_err(|source| {
            LoadError::Map {
                object: cx.object.to_owned(),
                source,
            }
        })?;
        externs.kconfig_fd = Some(d.map.as_fd().as_raw_fd());
        data_maps.push(d);
    }
    Ok(data_maps)
}

/// Gives the object's `usdt` programs its USDT spec array, and without BPF
/// cookies its address map (see [`Program::attach_usdt`]).
fn share_usdt_specs(
    object: &str,
    spec: &ObjectSpec,
    maps: &[Map],
    programs: &mut [Program],
    bpf_cookie: bool,
) -> Result<(), LoadError> {
    let is_usdt = |p: &ProgramSpec| {
        p.def
            .as_ref()
            .is_some_and(|d| d.attach == crate::obj::AttachKind::Usdt)
    };
    let (Some(map), Some(map_spec)) = (
        maps.iter()
            .find(|m| m.name() == crate::usdt::spec::SPEC_MAP),
        spec.map(crate::usdt::spec::SPEC_MAP),
    ) else {
        return Ok(());
    };
    if !spec.programs.iter().any(is_usdt) {
        return Ok(());
    }
    let dup = |map: &Map| {
        let fd = map
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| LoadError::Other {
                object: object.to_owned(),
                message: format!("map {}: dup: {e}", map.name()),
            })?;
        Map::from_fd(map.name(), fd).map_err(|e| LoadError::Other {
            object: object.to_owned(),
            message: e.to_string(),
        })
    };
    // The same answer the programs' LINUX_HAS_BPF_COOKIE got (externs).
    let by_ip = if bpf_cookie && crate::probe::has_bpf_cookie() {
        None
    } else {
        let ip_map = maps.iter().find(|m| m.name() == crate::usdt::spec::IP_MAP);
        Some(ip_map.map(dup).transpose()?)
    };
    let shared = std::sync::Arc::new(crate::usdt::spec::UsdtSpecs::new(
        dup(map)?,
        spec.btf.as_deref(),
        map_spec.value_type,
        by_ip,
    ));
    for (p, prog) in spec.programs.iter().zip(programs.iter_mut()) {
        if is_usdt(p) {
            prog.set_usdt_specs(std::sync::Arc::clone(&shared));
        }
    }
    Ok(())
}

/// The kernel's BTF, indexed, when anything needs it: CO-RE relocations
/// of a program to load, `__ksym` externs, attach targets by BTF id, or
/// struct_ops variables to create.
fn kernel_btf(
    spec: &ObjectSpec,
    autoload: &[bool],
    struct_ops: bool,
    path: Option<&Path>,
) -> Result<Option<co_re::CoreTarget>, LoadError> {
    let loaded = spec.programs.iter().zip(autoload).filter(|(_, l)| **l);
    let needed = struct_ops
        || spec
            .externs
            .iter()
            .any(|e| e.kind == crate::obj::ExternKind::Ksym)
        || !spec.subprograms.iter().all(|p| p.core_relos.is_empty())
        || loaded.into_iter().any(|(p, _)| {
            !p.core_relos.is_empty() || p.def.as_ref().is_some_and(attach_btf::needs_kernel_btf)
        });
    if !needed {
        return Ok(None);
    }
    let target = match path {
        Some(p) => co_re::CoreTarget::from_file(p),
        None => co_re::CoreTarget::from_sys_fs(),
    };
    target.map(Some).map_err(|e| LoadError::Other {
        object: spec.name.clone(),
        message: format!(
            "reading the kernel BTF ({}): {e}",
            path.map_or("/sys/kernel/btf/vmlinux".into(), |p| p
                .display()
                .to_string())
        ),
    })
}

/// Loads the object's BTF into the kernel; without it (or if the kernel
/// refuses it) maps are created without BTF and a note says why.
fn load_btf(spec: &ObjectSpec, support: BtfSupport, notes: &mut Vec<String>) -> Option<OwnedFd> {
    let btf = spec.btf.as_ref()?;
    let hidden: Vec<&str> = (spec.programs.iter().chain(&spec.subprograms))
        .filter(|p| p.global && p.hidden)
        .map(|p| p.name.as_str())
        .collect();
    let sanitized = btf.sanitized_for_kernel().map(|mut b| {
        b.mark_funcs_static(&hidden);
        b.downgraded(support)
    });
    if support != BtfSupport::ALL {
        notes.push(format!(
            "BTF loaded without the kinds this kernel lacks ({}): rewritten into older kinds{}",
            missing_kinds(support),
            if support.func {
                ""
            } else {
                "; programs loaded without func_info and line_info"
            }
        ));
    }
    let bytes = match sanitized.and_then(|b| b.to_bytes()) {
        Ok(b) => b,
        Err(e) => {
            notes.push(format!("BTF not loaded ({e}); maps created without BTF"));
            return None;
        }
    };
    match sys::btf_load(&bytes, &mut []) {
        Ok(fd) => Some(fd),
        Err(e) => {
            let mut log = vec![0u8; 1 << 20];
            let _ = sys::btf_load(&bytes, &mut log);
            notes.push(format!(
                "the kernel refused the object's BTF ({e}); maps and programs are loaded without it: {}",
                crate::ctypes::c_str_lossy(&log).trim()
            ));
            None
        }
    }
}

/// The BTF kinds `support` lacks, named as the kernel's BTF_KIND_*.
fn missing_kinds(support: BtfSupport) -> String {
    let kinds = [
        (support.func, "FUNC"),
        (support.global_func, "global FUNC"),
        (support.datasec, "DATASEC"),
        (support.float, "FLOAT"),
        (support.decl_tag, "DECL_TAG"),
        (support.type_tag, "TYPE_TAG"),
        (support.enum64, "ENUM64"),
    ];
    let missing: Vec<&str> = kinds
        .iter()
        .filter(|(has, _)| !has)
        .map(|(_, name)| *name)
        .collect();
    missing.join(", ")
}
