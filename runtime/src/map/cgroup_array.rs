//! `CgroupArray`: `BPF_MAP_TYPE_CGROUP_ARRAY`, the cgroups that
//! `bpf_current_task_under_cgroup` and `bpf_skb_under_cgroup` test against.
//!
//! In: a cgroup array (u32 index -> cgroup v2 directory fd). Out: store a
//! cgroup from an open directory or from its path, clear a slot. The
//! kernel keeps its own reference to the cgroup; it cannot be read back
//! from user space (lookups are `EOPNOTSUPP` for this map type).

use std::fs::OpenOptions;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::{check_index, map_handle, CreateFlags, Map, MapError, MapFlags};
use crate::obj::MapType;
use crate::sys::SysError;

/// Cgroups by index, for programs that ask whether the current task (or a
/// packet's socket) is in one of them.
///
/// ```no_run
/// use bpf2rs::map::{CgroupArray, CreateFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let cgroups = CgroupArray::create("cgroups", 4, CreateFlags::NONE)?;
/// cgroups.set_path(0, "/sys/fs/cgroup/system.slice")?;
/// // ... a program calls bpf_current_task_under_cgroup(&cgroups, 0) ...
/// cgroups.clear(0)?;
/// # Ok(()) }
/// ```
pub struct CgroupArray {
    map: Map,
}

map_handle!(impl[] CgroupArray);

impl CgroupArray {
    /// Creates an array of `max_entries` empty slots.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CgroupArray, CreateFlags};
    /// let cgroups = CgroupArray::create("cgroups", 4, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::from_map(Map::create_simple(
            name,
            MapType::CGROUP_ARRAY,
            4,
            4,
            max_entries,
            flags,
        )?)
    }

    /// Wraps `map` after checking that it is a cgroup array (4-byte keys
    /// and values).
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let cgroups = bpf2rs::map::CgroupArray::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        map.check(&[MapType::CGROUP_ARRAY], 4, 4)?;
        Ok(CgroupArray { map })
    }

    /// Number of slots (`max_entries`).
    ///
    /// ```no_run
    /// # fn f(cgroups: &bpf2rs::map::CgroupArray) {
    /// for index in 0..cgroups.len() { /* ... */ }
    /// # }
    /// ```
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether there are no slots.
    ///
    /// ```no_run
    /// # fn f(cgroups: &bpf2rs::map::CgroupArray) {
    /// assert!(!cgroups.is_empty());
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts the cgroup open as `cgroup` (a cgroup v2 directory, opened
    /// read-only) in slot `index`, replacing what was there. The kernel
    /// takes its own reference: the fd may be closed afterwards. A
    /// directory that is not a cgroup v2 one is refused by the kernel
    /// (`EBADF`).
    ///
    /// ```no_run
    /// # fn f(cgroups: &bpf2rs::map::CgroupArray) -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = std::fs::File::open("/sys/fs/cgroup/system.slice")?;
    /// cgroups.set(0, &dir)?;
    /// # Ok(()) }
    /// ```
    pub fn set(&self, index: u32, cgroup: impl AsFd) -> Result<(), MapError> {
        const OP: &str = "set";
        check_index(&self.map, OP, index)?;
        self.store(index, cgroup.as_fd().as_raw_fd())
            .map_err(|source| self.error(OP, index, None, source))
    }

    /// Opens the cgroup v2 directory at `path` (`O_RDONLY | O_DIRECTORY |
    /// O_CLOEXEC`) and puts it in slot `index`; the directory is closed
    /// again, the kernel keeps the cgroup.
    ///
    /// ```no_run
    /// # fn f(cgroups: &bpf2rs::map::CgroupArray) -> Result<(), bpf2rs::map::MapError> {
    /// cgroups.set_path(1, "/sys/fs/cgroup/user.slice")?;
    /// # Ok(()) }
    /// ```
    pub fn set_path(&self, index: u32, path: impl AsRef<Path>) -> Result<(), MapError> {
        const OP: &str = "set_path";
        let path = path.as_ref();
        check_index(&self.map, OP, index)?;
        // std opens with O_CLOEXEC always; read-only is O_RDONLY.
        let dir = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(path)
            .map_err(|source| SysError { op: "open", source })
            .map_err(|source| self.error(OP, index, Some(path), source))?;
        self.store(index, dir.as_raw_fd())
            .map_err(|source| self.error(OP, index, Some(path), source))
    }

    /// Empties slot `index` (the kernel drops its reference to the
    /// cgroup); `Ok(false)` if it was empty.
    ///
    /// ```no_run
    /// # fn f(cgroups: &bpf2rs::map::CgroupArray) -> Result<(), bpf2rs::map::MapError> {
    /// let was_set = cgroups.clear(0)?;
    /// # Ok(()) }
    /// ```
    pub fn clear(&self, index: u32) -> Result<bool, MapError> {
        const OP: &str = "clear";
        check_index(&self.map, OP, index)?;
        self.map
            .map_fd()
            .delete(&index.to_ne_bytes())
            .map_err(|source| self.error(OP, index, None, source))
    }

    fn store(&self, index: u32, fd: i32) -> Result<(), SysError> {
        // The value written is the fd (a u32); bpf_fd_array_map_update_elem
        // turns it into the cgroup (cgroup_get_from_fd).
        self.map.map_fd().update(
            &index.to_ne_bytes(),
            &(fd as u32).to_ne_bytes(),
            MapFlags::ANY.0,
        )
    }

    /// A kernel refusal, with the slot (and path) in the map's part of the
    /// message: `map cgroups (index 2): set: BPF_MAP_UPDATE_ELEM: ...`.
    #[cold]
    fn error(
        &self,
        op: &'static str,
        index: u32,
        path: Option<&Path>,
        source: SysError,
    ) -> MapError {
        let map = match path {
            Some(p) => format!("{} (index {index}, path {})", self.map.name(), p.display()),
            None => format!("{} (index {index})", self.map.name()),
        };
        MapError::Sys { map, op, source }
    }
}
