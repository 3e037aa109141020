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
mod relocate;
mod struct_ops;

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

pub use error::{LoadError, VerifierError};
pub use object::{DataMap, Object};
pub use relocate::CoreApplied;

use crate::map::Map;
use crate::obj::{AttachType, ObjectSpec, ProgramSpec, SectionDef};
use crate::pod::AlignedBytes;
use crate::prog::Program;
use crate::struct_ops::StructOpsSettings;
use crate::sys;

/// Default root of LIBBPF_PIN_BY_NAME pins.
pub const DEFAULT_PIN_ROOT: &str = "/sys/fs/bpf";

/// Settings of one map, applied at load.
#[derive(Debug, Default)]
pub struct MapSettings {
    /// Replaces the definition's max_entries.
    pub max_entries: Option<u32>,
    /// Pin (or reuse the pin) at this exact path.
    pub pin_path: Option<PathBuf>,
    /// Use this existing map instead of creating one.
    pub reuse_fd: Option<OwnedFd>,
    /// The inner map template of a map-in-map (replaces `__array(values, ...)`).
    pub inner: Option<crate::obj::MapSpec>,
}

impl MapSettings {
    /// Replaces the definition's max_entries.
    pub fn set_max_entries(&mut self, n: u32) {
        self.max_entries = Some(n);
    }

    /// Pins the map at `path` (reusing a compatible map already there).
    pub fn set_pin_path(&mut self, path: impl Into<PathBuf>) {
        self.pin_path = Some(path.into());
    }

    /// Uses an existing map instead of creating one (checked for compatibility).
    pub fn reuse_fd(&mut self, fd: OwnedFd) {
        self.reuse_fd = Some(fd);
    }

    /// The inner map template of a map-in-map: inner maps stored in it
    /// must have this type, key/value size and flags.
    pub fn set_inner_template(&mut self, inner: crate::obj::MapSpec) {
        self.inner = Some(inner);
    }
}

/// Settings of one program, applied at load.
#[derive(Debug, Clone)]
pub struct ProgSettings {
    /// Load the program (true by default).
    pub autoload: bool,
    /// Verifier log level when loading succeeds too (0: only on failure);
    /// the log is then [`Program::verifier_log`].
    pub log_level: u32,
    /// Load `usdt` and `uprobe.multi` programs for one `uprobe_multi` link
    /// when the kernel has them (true by default). False, or a kernel
    /// before 6.6, loads them as plain kprobe programs that attach one
    /// uprobe per site.
    pub uprobe_multi: bool,
}

impl ProgSettings {
    /// Whether to load the program.
    pub fn set_autoload(&mut self, autoload: bool) {
        self.autoload = autoload;
    }

    /// Verifier log level (1 or 2, 4 for statistics) even when loading
    /// succeeds; read the log with [`Program::verifier_log`].
    pub fn set_log_level(&mut self, level: u32) {
        self.log_level = level;
    }

    /// Whether a `usdt` or `uprobe.multi` program may use one
    /// `uprobe_multi` link for all its sites (the default, where the kernel
    /// has them: Linux 6.6+). With `false` it attaches one uprobe per site,
    /// as it must on older kernels; the program sees the same arguments and
    /// cookies either way.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("usdt.bpf.o")?;
    /// open.program_mut("on_probe").unwrap().set_uprobe_multi(false);
    /// let obj = open.load()?;
    /// # Ok(()) }
    /// ```
    pub fn set_uprobe_multi(&mut self, uprobe_multi: bool) {
        self.uprobe_multi = uprobe_multi;
    }
}

impl Default for ProgSettings {
    fn default() -> ProgSettings {
        ProgSettings {
            autoload: true,
            log_level: 0,
            uprobe_multi: true,
        }
    }
}

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
        } = self;
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
        let btf_fd = load_btf(&spec, &mut notes);
        let mut maps: Vec<Map> = Vec::with_capacity(spec.maps.len());
        for (m, settings) in spec.maps.iter().zip(map_settings.iter_mut()) {
            let cx = maps::MapCx {
                object: &object,
                btf_fd: btf_fd.as_ref().map(|f| f.as_fd()),
                pin_root: &pin_root,
            };
            maps.push(maps::create(&cx, m, settings, &mut notes)?);
        }
        maps::fill_map_slots(&object, &spec, &maps)?;
        let mut ops_maps = Vec::with_capacity(ops_plans.plans.len());
        for plan in &ops_plans.plans {
            ops_maps.push(struct_ops::create_map(
                &object,
                plan,
                btf_fd.as_ref().map(|f| f.as_fd()),
            )?);
        }
        let mut data_maps = Vec::with_capacity(spec.data.len());
        for (d, bytes) in spec.data.iter().zip(&data) {
            if d.size == 0 {
                continue;
            }
            let cx = maps::MapCx {
                object: &object,
                btf_fd: btf_fd.as_ref().map(|f| f.as_fd()),
                pin_root: &pin_root,
            };
            data_maps.push(maps::create_data(&cx, d, bytes.as_slice(), &mut notes)?);
        }
        if !externs.kconfig.is_empty() {
            let d = externs::create_kconfig_map(&object, &externs.kconfig).map_err(|source| {
                LoadError::Map {
                    object: object.clone(),
                    source,
                }
            })?;
            externs.kconfig_fd = Some(d.map.as_fd().as_raw_fd());
            data_maps.push(d);
        }
        let map_fds: HashMap<String, i32> = maps
            .iter()
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
                let prog_type = p.prog_type();
                programs.push(Program::new(
                    p.name.clone(),
                    p.section.clone(),
                    prog_type,
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
            };
            let (program, applied) = load_program(&object, &spec, p, settings, &target)?;
            programs.push(program);
            core.push((p.name.clone(), applied));
        }
        maps::fill_prog_slots(&object, &spec, &maps, &programs)?;
        share_usdt_specs(&object, &spec, &maps, &mut programs, bpf_cookie)?;
        let mut struct_ops = Vec::with_capacity(ops_maps.len());
        for (plan, map) in ops_plans.plans.into_iter().zip(ops_maps) {
            struct_ops.push(struct_ops::finish(&object, plan, map, &programs)?);
        }
        Ok(Object {
            name: object,
            maps,
            data: data_maps,
            programs,
            struct_ops,
            _btf_fd: btf_fd,
            notes,
            core,
        })
    }
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
fn load_btf(spec: &ObjectSpec, notes: &mut Vec<String>) -> Option<OwnedFd> {
    let btf = spec.btf.as_ref()?;
    let hidden: Vec<&str> = (spec.programs.iter().chain(&spec.subprograms))
        .filter(|p| p.global && p.hidden)
        .map(|p| p.name.as_str())
        .collect();
    let sanitized = btf.sanitized_for_kernel().map(|mut b| {
        b.mark_funcs_static(&hidden);
        b
    });
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

/// What a program is loaded against besides its own spec.
struct LoadTarget<'a> {
    fds: &'a relocate::Fds<'a>,
    btf_fd: Option<&'a OwnedFd>,
    license: &'a CString,
    /// The struct_ops member a struct_ops program implements.
    struct_ops: Option<&'a struct_ops::Binding>,
}

fn load_program(
    object: &str,
    spec: &ObjectSpec,
    p: &ProgramSpec,
    settings: &ProgSettings,
    target: &LoadTarget<'_>,
) -> Result<(Program, Vec<CoreApplied>), LoadError> {
    let LoadTarget {
        fds,
        btf_fd,
        license,
        struct_ops,
    } = *target;
    let link_err = |message: String| LoadError::Link {
        object: object.to_owned(),
        program: p.name.clone(),
        message,
    };
    let def = p.def.as_ref().ok_or_else(|| {
        link_err(format!(
            "section `{}` names no known program type",
            p.section
        ))
    })?;
    // A struct_ops program's expected attach type is the index of the ops
    // member it implements.
    let (attach_btf_id, attach_type) = match struct_ops {
        Some(b) => (Some(b.kern_type_id), Some(AttachType(b.member_index))),
        None => (
            attach_btf::attach_btf_id(def, &p.section, fds.kernel).map_err(link_err)?,
            expected_attach_type(def, settings),
        ),
    };
    let linked = relocate::relocate(spec, p, fds).map_err(link_err)?;
    let insns: Vec<u8> = linked
        .insns
        .iter()
        .flat_map(|i| i.to_native_bytes())
        .collect();
    let func_info: Vec<u8> = linked
        .func_info
        .iter()
        .flat_map(|r| [r.insn_off.to_ne_bytes(), r.type_id.0.to_ne_bytes()].concat())
        .collect();
    let line_info: Vec<u8> = linked
        .line_info
        .iter()
        .flat_map(|r| {
            [r.insn_off, r.file_name.0, r.line.0, r.line_col]
                .iter()
                .flat_map(|v| v.to_ne_bytes())
                .collect::<Vec<u8>>()
        })
        .collect();
    let mut flags = 0u32;
    if def.sleepable {
        flags |= 1 << 4; // BPF_F_SLEEPABLE
    }
    if def.xdp_frags {
        flags |= 1 << 5; // BPF_F_XDP_HAS_FRAGS
    }
    let attrs = sys::ProgLoad {
        name: &p.name,
        prog_type: def.prog_type.0,
        expected_attach_type: attach_type.map_or(0, |a| a.0),
        insns: &insns,
        license,
        kern_version: spec.kern_version.unwrap_or(0),
        prog_flags: flags,
        prog_btf_fd: btf_fd.map(|f| f.as_fd()),
        func_info: &func_info,
        line_info: &line_info,
        log_level: settings.log_level,
        attach_btf_id: attach_btf_id.unwrap_or(0),
        ..Default::default()
    };
    let mut no_log: [u8; 0] = [];
    // With a log level asked for, the log of a successful load is kept.
    let mut success_log = Vec::new();
    let first = if settings.log_level > 0 {
        // A log that does not fit fails the load with ENOSPC: grow it.
        let mut size = 1 << 20;
        loop {
            success_log = vec![0u8; size];
            match sys::prog_load(&attrs, &mut success_log) {
                Err(e) if e.errno() == Some(libc::ENOSPC) && size < (1 << 26) => size *= 4,
                r => break r,
            }
        }
    } else {
        sys::prog_load(&attrs, &mut no_log)
    };
    let fd = match first {
        Ok(fd) => fd,
        Err(source) => {
            // Load again with a log to say why; grow the log if it is cut.
            let mut size = 1 << 20;
            let log = loop {
                let mut log = vec![0u8; size];
                let retry = sys::ProgLoad {
                    log_level: settings.log_level.max(1),
                    ..attrs_copy(&attrs)
                };
                match sys::prog_load(&retry, &mut log) {
                    Err(e) if e.errno() == Some(libc::ENOSPC) && size < (1 << 26) => size *= 4,
                    _ => break crate::ctypes::c_str_lossy(&log).trim_end().to_owned(),
                }
            };
            let log = match explain_poison(&log, &linked.core, fds.externs) {
                Some(why) => format!("{why}\n{log}"),
                None => log,
            };
            let log = if log.is_empty() {
                silent_refusal(source.errno()).to_owned()
            } else {
                log
            };
            return Err(LoadError::Verifier(Box::new(VerifierError {
                object: object.to_owned(),
                program: p.name.clone(),
                section: p.section.clone(),
                source,
                log,
            })));
        }
    };
    let mut program = Program::new(
        p.name.clone(),
        p.section.clone(),
        def.prog_type,
        attach_type,
        Some(fd),
    );
    if settings.log_level > 0 {
        program.set_verifier_log(
            crate::ctypes::c_str_lossy(&success_log)
                .trim_end()
                .to_owned(),
        );
    }
    Ok((program, linked.core))
}

/// The expected attach type a program of section `def` is loaded with:
/// the section's, except that `usdt` and `uprobe.multi` programs are loaded
/// for a `uprobe_multi` link only where the kernel has them and the
/// settings allow it, else as plain kprobe programs (attach type 0), which
/// attach one uprobe per site (libbpf does the same for `usdt`; see
/// `libbpf_prepare_prog_load`). The attach functions read which it was from
/// [`Program::expected_attach_type`].
fn expected_attach_type(def: &SectionDef, settings: &ProgSettings) -> Option<AttachType> {
    match def.expected_attach_type {
        Some(AttachType::TRACE_UPROBE_MULTI)
            if !settings.uprobe_multi || !crate::probe::has_uprobe_multi_link() =>
        {
            None
        }
        t => t,
    }
}

/// When the verifier reached a poisoned instruction (`123: (85) call
/// unknown#195896080`), names the CO-RE relocation or weak kfunc behind it.
fn explain_poison(log: &str, core: &[CoreApplied], externs: &externs::Externs) -> Option<String> {
    for line in log.lines().rev() {
        let Some((idx, rest)) = line.split_once(": (85) call unknown#") else {
            continue;
        };
        let insn: usize = idx.trim().parse().ok()?;
        let helper: i64 = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()?;
        if helper == i64::from(co_re::POISON_IMM) {
            let r = core.iter().find(|c| {
                c.insn == insn && (c.resolution.poison || c.resolution.fail_memsz_adjust)
            })?;
            return Some(format!(
                "instruction {insn} of {} was poisoned because CO-RE relocation {} found nothing in the kernel BTF{}, and the verifier reached it",
                r.function,
                r.resolution.description,
                if r.resolution.fail_memsz_adjust { " of a compatible size" } else { "" }
            ));
        }
        if let Some(name) = externs.poisoned_kfunc(helper) {
            return Some(format!(
                "instruction {insn} calls the __weak kfunc `{name}`, which this kernel does not have, and the verifier reached it"
            ));
        }
    }
    None
}

fn attrs_copy<'a>(a: &sys::ProgLoad<'a>) -> sys::ProgLoad<'a> {
    sys::ProgLoad {
        name: a.name,
        prog_type: a.prog_type,
        expected_attach_type: a.expected_attach_type,
        insns: a.insns,
        license: a.license,
        kern_version: a.kern_version,
        prog_flags: a.prog_flags,
        prog_btf_fd: a.prog_btf_fd,
        func_info: a.func_info,
        line_info: a.line_info,
        attach_btf_id: a.attach_btf_id,
        attach_fd: a.attach_fd,
        log_level: a.log_level,
    }
}

/// What to say when the kernel refused a program without a verifier log:
/// it stopped before verifying, which an errno alone explains badly.
fn silent_refusal(errno: Option<i32>) -> &'static str {
    const ENOTSUPP: i32 = 524; // kernel-internal, printed as "Unknown error 524"
    match errno {
        Some(libc::EPERM) => {
            "(no verifier output: the kernel refused the program before verifying it. \
             EPERM means missing privileges (CAP_BPF with CAP_PERFMON or CAP_NET_ADMIN, \
             or CAP_SYS_ADMIN), or a kernel or LSM policy that forbids this program \
             type: fentry, fexit, fmod_ret, lsm and struct_ops need BPF trampolines, \
             which some kernels do not allow)"
        }
        Some(ENOTSUPP) => {
            "(no verifier output: the kernel does not support this program type or \
             its attach target (ENOTSUPP))"
        }
        _ => "(no verifier output)",
    }
}
