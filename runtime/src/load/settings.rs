//! What a user can change per map and per program before load.
//!
//! In: the user's calls before [`OpenObject::load`]. Out: [`MapSettings`]
//! and [`ProgSettings`], read by the loader (maps.rs, program.rs).

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

#[cfg(doc)]
use super::OpenObject;

#[cfg(doc)]
use crate::prog::Program;

/// BPF_F_NUMA_NODE (include/uapi/linux/bpf.h): `numa_node` is meaningful.
pub const BPF_F_NUMA_NODE: u32 = 1 << 2;
/// BPF_F_SLEEPABLE: the program may sleep (fentry/fexit/lsm/iter on
/// sleepable hooks, `uprobe.s`...).
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// BPF_F_XDP_HAS_FRAGS: an XDP program that handles multi-buffer packets.
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;
/// BPF_F_XDP_DEV_BOUND_ONLY: an XDP program bound to a device
/// ([`ProgSettings::set_ifindex`]) that may use its metadata kfuncs
/// without being offloaded (Linux 6.3+).
pub const BPF_F_XDP_DEV_BOUND_ONLY: u32 = 1 << 6;

/// Settings of one map, applied at load.
#[derive(Debug)]
pub struct MapSettings {
    /// Replaces the definition's max_entries.
    pub max_entries: Option<u32>,
    /// Pin (or reuse the pin) at this exact path.
    pub pin_path: Option<PathBuf>,
    /// Use this existing map instead of creating one.
    pub reuse_fd: Option<OwnedFd>,
    /// The inner map template of a map-in-map (replaces `__array(values, ...)`).
    pub inner: Option<crate::obj::MapSpec>,
    /// Replaces the definition's map_flags.
    pub map_flags: Option<u32>,
    /// Create the map on this NUMA node (adds BPF_F_NUMA_NODE).
    pub numa_node: Option<u32>,
    /// Create the map (true by default).
    pub autocreate: bool,
    /// Initial contents of an array map: every value, in index order.
    pub initial_value: Option<Vec<u8>>,
}

impl Default for MapSettings {
    fn default() -> MapSettings {
        MapSettings {
            max_entries: None,
            pin_path: None,
            reuse_fd: None,
            inner: None,
            map_flags: None,
            numa_node: None,
            autocreate: true,
            initial_value: None,
        }
    }
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

    /// Replaces the definition's map_flags (`BPF_F_NO_PREALLOC`,
    /// `BPF_F_RDONLY_PROG`...). A pinned or reused map must then have
    /// these flags. [`set_numa_node`](Self::set_numa_node) still adds
    /// BPF_F_NUMA_NODE.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("flows.bpf.o")?;
    /// open.map_mut("flows").unwrap().set_map_flags(1); // BPF_F_NO_PREALLOC
    /// let obj = open.load()?;
    /// assert_eq!(obj.map("flows").unwrap().info().map_flags, 1);
    /// # Ok(()) }
    /// ```
    pub fn set_map_flags(&mut self, flags: u32) {
        self.map_flags = Some(flags);
    }

    /// Creates the map on NUMA node `node`: BPF_MAP_CREATE gets `node` and
    /// the flag BPF_F_NUMA_NODE (libbpf's `bpf_map__set_numa_node` leaves
    /// the flag to the caller; here one call is enough). A node the
    /// kernel does not have fails the load with EINVAL naming the map.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("flows.bpf.o")?;
    /// open.map_mut("flows").unwrap().set_numa_node(0);
    /// let obj = open.load()?;
    /// # Ok(()) }
    /// ```
    pub fn set_numa_node(&mut self, node: u32) {
        self.numa_node = Some(node);
    }

    /// Whether to create the map (true by default). A map left out has no
    /// fd: a program that uses it fails to load with an error naming the
    /// program and the map, so turn those programs' autoload off too
    /// (libbpf instead loads them with the map's instructions poisoned,
    /// failing only if the verifier reaches one; failing early names the
    /// mistake). The loaded [`Object`](super::Object) has no such map;
    /// a generated skeleton, which gives every map a typed handle,
    /// refuses to load with an error naming the map.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("flows.bpf.o")?;
    /// open.map_mut("debug_events").unwrap().set_autocreate(false);
    /// open.program_mut("debug").unwrap().set_autoload(false);
    /// let obj = open.load()?;
    /// assert!(obj.map("debug_events").is_none());
    /// # Ok(()) }
    /// ```
    pub fn set_autocreate(&mut self, autocreate: bool) {
        self.autocreate = autocreate;
    }

    /// Initial contents of an array map (`BPF_MAP_TYPE_ARRAY`): the values
    /// of every index in order, so `bytes` must be max_entries x
    /// value_size long (checked at load; the error names the map). They
    /// are written when the load creates the map; a pinned map that is
    /// reused, or a map given with [`reuse_fd`](Self::reuse_fd), keeps its
    /// contents (a note in [`Object::notes`](super::Object::notes) says
    /// so). Other map types are refused at load.
    ///
    /// Global data (`.data`, `.rodata`, `.bss`...) is not a map
    /// definition: set its initial value with
    /// [`OpenObject::set_initial_value`], as libbpf's
    /// `bpf_map__set_initial_value` does.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("lookup.bpf.o")?;
    /// // An array of 4 u32 values.
    /// let table: Vec<u8> = [10u32, 20, 30, 40].iter().flat_map(|v| v.to_ne_bytes()).collect();
    /// open.map_mut("table").unwrap().set_initial_value(table);
    /// let obj = open.load()?;
    /// # Ok(()) }
    /// ```
    pub fn set_initial_value(&mut self, bytes: impl Into<Vec<u8>>) {
        self.initial_value = Some(bytes.into());
    }
}

/// The program (another BPF program, or the kernel) and function a
/// tracing, lsm or freplace program is loaded against, when it is not the
/// one its section names.
#[derive(Debug, Clone)]
pub struct AttachTarget {
    /// A loaded BPF program (freplace, or fentry/fexit on a BPF program);
    /// `None`: the kernel (vmlinux or a module).
    pub program: Option<Arc<OwnedFd>>,
    /// The function (in the program's BTF, or the kernel's); for tp_btf,
    /// lsm and iter programs the tracepoint, hook or iterator name as the
    /// section would write it (`sched_switch`, `file_open`, `task`).
    pub function: String,
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
    /// Replaces the section's attach target.
    pub attach_target: Option<AttachTarget>,
    /// BPF_PROG_LOAD's prog_flags, replacing the section's (`.s`:
    /// BPF_F_SLEEPABLE, `xdp.frags`: BPF_F_XDP_HAS_FRAGS).
    pub flags: Option<u32>,
    /// BPF_F_SLEEPABLE on or off, over `flags` or the section's.
    pub sleepable: Option<bool>,
    /// BPF_F_XDP_HAS_FRAGS on or off, over `flags` or the section's.
    pub xdp_frags: Option<bool>,
    /// BPF_PROG_LOAD's prog_ifindex: the device the program is bound to.
    pub ifindex: Option<u32>,
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

    /// Loads the program against `function` instead of the target its
    /// section names: for fentry/fexit/fmod_ret, tp_btf, lsm and iter
    /// programs a kernel function, tracepoint, hook or iterator (found in
    /// vmlinux's BTF, then the modules'); with `program`, a function of
    /// that loaded BPF program (found in its BTF): fentry/fexit on a BPF
    /// program, or freplace, which needs one. The program keeps the fd
    /// until the settings are dropped. Errors (no such function, a
    /// program without BTF) come at load and name the program and
    /// function.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let target = bpf2rs::load::OpenObject::open_file("xdp.bpf.o")?.load()?;
    /// let target_fd = target.program("xdp_main").unwrap().fd()?.try_clone_to_owned()?;
    /// let mut open = bpf2rs::load::OpenObject::open_file("replace.bpf.o")?;
    /// open.program_mut("new_check").unwrap().set_attach_target(Some(target_fd), "check");
    /// let obj = open.load()?;
    /// let _link = obj.program("new_check").unwrap().attach_tracing()?;
    /// # Ok(()) }
    /// ```
    pub fn set_attach_target(&mut self, program: Option<OwnedFd>, function: &str) {
        self.attach_target = Some(AttachTarget {
            program: program.map(Arc::new),
            function: function.to_owned(),
        });
    }

    /// BPF_PROG_LOAD's prog_flags, replacing the ones the section implies
    /// ([`BPF_F_SLEEPABLE`], [`BPF_F_XDP_HAS_FRAGS`],
    /// [`BPF_F_XDP_DEV_BOUND_ONLY`], BPF_F_TEST_STATE_FREQ...).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use bpf2rs::load::BPF_F_XDP_HAS_FRAGS;
    /// let mut open = bpf2rs::load::OpenObject::open_file("xdp.bpf.o")?;
    /// open.program_mut("xdp_main").unwrap().set_flags(BPF_F_XDP_HAS_FRAGS);
    /// # Ok(()) }
    /// ```
    pub fn set_flags(&mut self, flags: u32) {
        self.flags = Some(flags);
        self.sleepable = None;
        self.xdp_frags = None;
    }

    /// The flags the program is loaded with, given the ones its section
    /// implies: [`set_flags`](Self::set_flags)'s or the section's, then
    /// the sleepable and frags toggles set after it.
    pub(crate) fn prog_flags(&self, section_flags: u32) -> u32 {
        let mut flags = self.flags.unwrap_or(section_flags);
        for (bit, on) in [
            (BPF_F_SLEEPABLE, self.sleepable),
            (BPF_F_XDP_HAS_FRAGS, self.xdp_frags),
        ] {
            match on {
                Some(true) => flags |= bit,
                Some(false) => flags &= !bit,
                None => {}
            }
        }
        flags
    }

    /// Loads the program sleepable (BPF_F_SLEEPABLE) or not, whatever its
    /// section says (`uprobe.s/`, `fentry.s/`, `lsm.s/` imply it). The
    /// other flags stay; the last of this and
    /// [`set_flags`](Self::set_flags) decides the bit.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("probe.bpf.o")?;
    /// open.program_mut("on_open").unwrap().set_sleepable(true); // may call bpf_copy_from_user
    /// # Ok(()) }
    /// ```
    pub fn set_sleepable(&mut self, sleepable: bool) {
        self.sleepable = Some(sleepable);
    }

    /// Loads an XDP program for multi-buffer packets
    /// (BPF_F_XDP_HAS_FRAGS, implied by `xdp.frags` sections) or not; the
    /// other flags stay, the last of this and [`set_flags`](Self::set_flags)
    /// decides the bit.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut open = bpf2rs::load::OpenObject::open_file("xdp.bpf.o")?;
    /// open.program_mut("xdp_main").unwrap().set_xdp_frags(true);
    /// # Ok(()) }
    /// ```
    pub fn set_xdp_frags(&mut self, frags: bool) {
        self.xdp_frags = Some(frags);
    }

    /// Binds the program to network device `ifindex` at load
    /// (BPF_PROG_LOAD's prog_ifindex): offload to a device that can run
    /// BPF, or with [`BPF_F_XDP_DEV_BOUND_ONLY`] an XDP program that uses
    /// the device's metadata kfuncs. The kernel refuses devices that can
    /// do neither (e.g. `lo`); the error names the program.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use bpf2rs::load::BPF_F_XDP_DEV_BOUND_ONLY;
    /// let mut open = bpf2rs::load::OpenObject::open_file("xdp.bpf.o")?;
    /// let prog = open.program_mut("xdp_main").unwrap();
    /// prog.set_ifindex(bpf2rs::link::interface_index("veth0")?);
    /// prog.set_flags(BPF_F_XDP_DEV_BOUND_ONLY);
    /// # Ok(()) }
    /// ```
    pub fn set_ifindex(&mut self, ifindex: u32) {
        self.ifindex = Some(ifindex);
    }
}

impl Default for ProgSettings {
    fn default() -> ProgSettings {
        ProgSettings {
            autoload: true,
            log_level: 0,
            uprobe_multi: true,
            attach_target: None,
            flags: None,
            ifindex: None,
            sleepable: None,
            xdp_frags: None,
        }
    }
}
