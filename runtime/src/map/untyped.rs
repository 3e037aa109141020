//! `Map`: any map, with byte-slice operations. Typed handles wrap one.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{MapError, MapHandle};
use crate::obj::MapType;
use crate::sys::{self, MapFd};

/// Flags of element updates (`BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Hash)]
pub struct MapFlags(pub u64);

impl MapFlags {
    /// Create or replace.
    pub const ANY: MapFlags = MapFlags(0);
    /// Create only; EEXIST if present.
    pub const NOEXIST: MapFlags = MapFlags(1);
    /// Replace only; ENOENT if absent.
    pub const EXIST: MapFlags = MapFlags(2);
    /// Take the value's `bpf_spin_lock` while copying.
    pub const F_LOCK: MapFlags = MapFlags(4);
}

impl std::ops::BitOr for MapFlags {
    type Output = MapFlags;
    fn bitor(self, rhs: MapFlags) -> MapFlags {
        MapFlags(self.0 | rhs.0)
    }
}

/// Flags of map creation (`map_flags` of BPF_MAP_CREATE, `BPF_F_*`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Hash)]
pub struct CreateFlags(pub u32);

impl CreateFlags {
    /// No flags.
    pub const NONE: CreateFlags = CreateFlags(0);
    /// Allocate elements on insert instead of up front (hash maps; required by LPM tries).
    pub const NO_PREALLOC: CreateFlags = CreateFlags(1 << 0);
    /// LRU maps: one LRU list per CPU instead of a common one.
    pub const NO_COMMON_LRU: CreateFlags = CreateFlags(1 << 1);
    /// Honour `numa_node`.
    pub const NUMA_NODE: CreateFlags = CreateFlags(1 << 2);
    /// User space may only read.
    pub const RDONLY: CreateFlags = CreateFlags(1 << 3);
    /// User space may only write.
    pub const WRONLY: CreateFlags = CreateFlags(1 << 4);
    /// Stack trace maps store build ids instead of addresses.
    pub const STACK_BUILD_ID: CreateFlags = CreateFlags(1 << 5);
    /// Hash maps: hash with seed 0 (reproducible order, for tests).
    pub const ZERO_SEED: CreateFlags = CreateFlags(1 << 6);
    /// Programs may only read.
    pub const RDONLY_PROG: CreateFlags = CreateFlags(1 << 7);
    /// Programs may only write.
    pub const WRONLY_PROG: CreateFlags = CreateFlags(1 << 8);
    /// Arrays: allow mmap of the values.
    pub const MMAPABLE: CreateFlags = CreateFlags(1 << 10);
    /// Perf event arrays: keep events after the creating fd closes.
    pub const PRESERVE_ELEMS: CreateFlags = CreateFlags(1 << 11);
    /// Inner maps of maps-in-maps may differ in max_entries.
    pub const INNER_MAP: CreateFlags = CreateFlags(1 << 12);
}

impl std::ops::BitOr for CreateFlags {
    type Output = CreateFlags;
    fn bitor(self, rhs: CreateFlags) -> CreateFlags {
        CreateFlags(self.0 | rhs.0)
    }
}

/// What the kernel says about a map (`struct bpf_map_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInfo {
    pub map_type: MapType,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: String,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub map_extra: u64,
}

impl From<sys::MapInfoRaw> for MapInfo {
    fn from(r: sys::MapInfoRaw) -> MapInfo {
        MapInfo {
            map_type: MapType(r.map_type),
            id: r.id,
            key_size: r.key_size,
            value_size: r.value_size,
            max_entries: r.max_entries,
            map_flags: r.map_flags,
            name: crate::ctypes::c_str_lossy(&r.name).into_owned(),
            btf_id: r.btf_id,
            btf_key_type_id: r.btf_key_type_id,
            btf_value_type_id: r.btf_value_type_id,
            map_extra: r.map_extra,
        }
    }
}

/// Any map: fd, name and the kernel's description, with byte-slice element
/// operations. Buffers are checked against the map's sizes before the
/// syscall.
#[derive(Debug)]
pub struct Map {
    name: String,
    fd: MapFd,
    info: MapInfo,
    /// Where this handle pinned the map, or was opened from (for `unpin`).
    pinned: Mutex<Option<PathBuf>>,
}

impl Map {
    /// Wraps an open map fd; `name` is used in messages (the kernel's name
    /// when empty).
    ///
    /// ```no_run
    /// # fn f(fd: std::os::fd::OwnedFd) -> Result<(), bpf2rs::map::MapError> {
    /// let map = bpf2rs::map::Map::from_fd("flows", fd)?;
    /// println!("{} entries", map.info().max_entries);
    /// # Ok(()) }
    /// ```
    pub fn from_fd(name: &str, fd: OwnedFd) -> Result<Map, MapError> {
        let (fd, raw) = MapFd::from_fd(fd).map_err(|source| MapError::Sys {
            map: name.to_owned(),
            op: "info",
            source,
        })?;
        let info = MapInfo::from(raw);
        let name = if name.is_empty() {
            info.name.clone()
        } else {
            name.to_owned()
        };
        Ok(Map {
            name,
            fd,
            info,
            pinned: Mutex::new(None),
        })
    }

    /// A second handle on the same kernel map (its fd duplicated): for
    /// example to move a ring buffer into an async task while a skeleton
    /// keeps its own handle. The new handle does not own the original's pin.
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let other = map.try_clone()?;
    /// assert_eq!(other.info().id, map.info().id);
    /// # Ok(()) }
    /// ```
    pub fn try_clone(&self) -> Result<Map, MapError> {
        let fd = self
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| MapError::Sys {
                map: self.name.clone(),
                op: "dup",
                source: sys::SysError {
                    op: "F_DUPFD_CLOEXEC",
                    source: e,
                },
            })?;
        Map::from_fd(&self.name, fd)
    }

    /// Opens a map pinned at `path` in bpffs.
    ///
    /// ```no_run
    /// let map = bpf2rs::map::Map::from_pin("/sys/fs/bpf/flows")?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Map, MapError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        let c = path_cstr(path, &display, "from_pin")?;
        let fd = sys::obj_get(&c).map_err(|source| MapError::Sys {
            map: display.clone(),
            op: "from_pin",
            source,
        })?;
        let map = Map::from_fd(&display, fd)?;
        map.set_pinned(Some(path.to_path_buf()));
        Ok(map)
    }

    /// Opens the map with kernel id `id`.
    pub fn from_id(id: u32) -> Result<Map, MapError> {
        let name = format!("id {id}");
        let fd = sys::map_fd_by_id(id).map_err(|source| MapError::Sys {
            map: name.clone(),
            op: "from_id",
            source,
        })?;
        Map::from_fd("", fd)
    }

    /// Creates a map.
    pub fn create(create: &sys::MapCreate<'_>) -> Result<Map, MapError> {
        let fd = sys::map_create(create).map_err(|source| MapError::Sys {
            map: create.name.to_owned(),
            op: "create",
            source,
        })?;
        Map::from_fd(create.name, fd)
    }

    /// The map's name (as given, or the kernel's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the kernel reported when the handle was made.
    pub fn info(&self) -> &MapInfo {
        &self.info
    }

    /// The checked fd.
    pub fn map_fd(&self) -> &MapFd {
        &self.fd
    }

    /// An error for operation `op` of this map.
    pub fn err(&self, op: &'static str) -> impl FnOnce(sys::SysError) -> MapError + '_ {
        move |source| MapError::Sys {
            map: self.name.clone(),
            op,
            source,
        }
    }

    /// Looks `key` up into `value`; `Ok(false)` if absent.
    pub fn lookup(&self, key: &[u8], value: &mut [u8]) -> Result<bool, MapError> {
        self.fd.lookup(key, value, 0).map_err(self.err("lookup"))
    }

    /// Writes `value` at `key`.
    pub fn update(&self, key: &[u8], value: &[u8], flags: MapFlags) -> Result<(), MapError> {
        self.fd
            .update(key, value, flags.0)
            .map_err(self.err("update"))
    }

    /// Deletes `key`; `Ok(false)` if it was absent.
    pub fn delete(&self, key: &[u8]) -> Result<bool, MapError> {
        self.fd.delete(key).map_err(self.err("delete"))
    }

    /// Creates a map of `map_type` with the given sizes and no BTF.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, Map};
    /// use bpf2rs::obj::MapType;
    /// let map = Map::create_simple("raw", MapType::HASH, 4, 8, 128, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create_simple(
        name: &str,
        map_type: MapType,
        key_size: usize,
        value_size: usize,
        max_entries: u32,
        flags: CreateFlags,
    ) -> Result<Map, MapError> {
        Map::create(&sys::MapCreate {
            name,
            map_type: map_type.0,
            key_size: size_u32(name, "key", key_size)?,
            value_size: size_u32(name, "value", value_size)?,
            max_entries,
            map_flags: flags.0,
            ..Default::default()
        })
    }

    /// Pins the map at `path` (in a mounted bpffs). [`Map::unpin`] removes it.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), MapError> {
        let path = path.as_ref();
        let c = path_cstr(path, &self.name, "pin")?;
        sys::obj_pin(self.fd.fd(), &c).map_err(self.err("pin"))?;
        self.set_pinned(Some(path.to_path_buf()));
        Ok(())
    }

    /// Removes the pin made by [`Map::pin`] (or the one the map was opened
    /// from with [`Map::from_pin`]). The map lives on while fds refer to it.
    pub fn unpin(&self) -> Result<(), MapError> {
        let path = self.pinned().ok_or_else(|| MapError::Invalid {
            map: self.name.clone(),
            op: "unpin",
            message: "the map was not pinned through this handle".into(),
        })?;
        std::fs::remove_file(&path).map_err(|e| MapError::Invalid {
            map: self.name.clone(),
            op: "unpin",
            message: format!("{}: {e}", path.display()),
        })?;
        self.set_pinned(None);
        Ok(())
    }

    /// Where this handle pinned the map, if it did.
    pub fn pinned(&self) -> Option<PathBuf> {
        self.pinned
            .lock()
            .map(|p| p.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    fn set_pinned(&self, path: Option<PathBuf>) {
        match self.pinned.lock() {
            Ok(mut p) => *p = path,
            Err(e) => *e.into_inner() = path,
        }
    }

    /// Freezes the map: user space can no longer write it.
    pub fn freeze(&self) -> Result<(), MapError> {
        sys::map_freeze(self.fd.fd()).map_err(self.err("freeze"))
    }

    /// Checks that the map is of one of `types` with the given key and value sizes.
    pub fn check(
        &self,
        types: &[MapType],
        key_size: usize,
        value_size: usize,
    ) -> Result<(), MapError> {
        if !types.contains(&self.info.map_type) {
            return Err(MapError::WrongType {
                map: self.name.clone(),
                expected: types
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
                actual: self.info.map_type.to_string(),
            });
        }
        if self.info.key_size as usize != key_size {
            return Err(MapError::SizeMismatch {
                map: self.name.clone(),
                what: "key",
                rust: key_size,
                kernel: self.info.key_size as usize,
            });
        }
        if self.info.value_size as usize != value_size {
            return Err(MapError::SizeMismatch {
                map: self.name.clone(),
                what: "value",
                rust: value_size,
                kernel: self.info.value_size as usize,
            });
        }
        Ok(())
    }
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.fd()
    }
}

impl MapHandle for Map {
    fn from_map(map: Map) -> Result<Map, MapError> {
        Ok(map)
    }
    fn map(&self) -> &Map {
        self
    }
    fn into_map(self) -> Map {
        self
    }
}

fn size_u32(map: &str, what: &str, size: usize) -> Result<u32, MapError> {
    u32::try_from(size).map_err(|_| MapError::Invalid {
        map: map.to_owned(),
        op: "create",
        message: format!("{what} size {size} does not fit the kernel's u32"),
    })
}

/// Removes a pin (a file in bpffs).
pub fn unpin(path: impl AsRef<Path>) -> std::io::Result<()> {
    std::fs::remove_file(path)
}

fn path_cstr(path: &Path, map: &str, op: &'static str) -> Result<CString, MapError> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| MapError::Invalid {
        map: map.to_owned(),
        op,
        message: format!("path {} contains a NUL byte", path.display()),
    })
}
