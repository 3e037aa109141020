//! What a user can change per map and per program before load.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

#[cfg(doc)]
use crate::prog::Program;

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
