//! `XskMap`: `BPF_MAP_TYPE_XSKMAP`, AF_XDP sockets that XDP can redirect
//! frames to (`bpf_redirect_map`).
//!
//! In: an xskmap (u32 index -> socket). Out: set a slot from a bound AF_XDP
//! socket's fd, clear it. The kernel does not let user space read the slots
//! back (lookups from bpf(2) return EOPNOTSUPP).

use std::os::fd::{AsRawFd, BorrowedFd};

use super::{check_index, map_handle, CreateFlags, Map, MapError, MapFlags};
use crate::obj::MapType;

/// AF_XDP sockets by index, usually the receive queue number.
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, XskMap};
/// # fn f(xsk: std::os::fd::BorrowedFd<'_>) -> Result<(), bpf2rs::map::MapError> {
/// let sockets = XskMap::create("xsks", 4, CreateFlags::NONE)?;
/// sockets.set(0, xsk)?;
/// # Ok(()) }
/// ```
pub struct XskMap {
    map: Map,
}

map_handle!(impl[] XskMap);

impl XskMap {
    /// Creates a map of `max_entries` empty slots.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, XskMap};
    /// let sockets = XskMap::create("xsks", 4, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::from_map(Map::create_simple(
            name,
            MapType::XSKMAP,
            4,
            4,
            max_entries,
            flags,
        )?)
    }

    /// Wraps `map` after checking that it is an xskmap.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let sockets = bpf2rs::map::XskMap::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        map.check(&[MapType::XSKMAP], 4, 4)?;
        Ok(XskMap { map })
    }

    /// Number of slots (`max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts `socket` (an AF_XDP socket with its rings set up and bound) in
    /// slot `index`; other sockets are refused with EOPNOTSUPP.
    ///
    /// ```no_run
    /// # fn f(m: &bpf2rs::map::XskMap, xsk: std::os::fd::BorrowedFd<'_>) -> Result<(), bpf2rs::map::MapError> {
    /// m.set(0, xsk)?;
    /// # Ok(()) }
    /// ```
    pub fn set(&self, index: u32, socket: BorrowedFd<'_>) -> Result<(), MapError> {
        const OP: &str = "set";
        check_index(&self.map, OP, index)?;
        let fd = socket.as_raw_fd() as u32;
        self.map
            .map_fd()
            .update(&index.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY.0)
            .map_err(self.map.err(OP))
    }

    /// Empties slot `index`. The kernel does not say whether the slot held
    /// a socket (xsk_map_delete_elem in net/xdp/xskmap.c succeeds either way).
    ///
    /// ```no_run
    /// # fn f(m: &bpf2rs::map::XskMap) -> Result<(), bpf2rs::map::MapError> {
    /// m.remove(0)?;
    /// # Ok(()) }
    /// ```
    pub fn remove(&self, index: u32) -> Result<(), MapError> {
        const OP: &str = "remove";
        check_index(&self.map, OP, index)?;
        self.map
            .map_fd()
            .delete(&index.to_ne_bytes())
            .map(|_| ())
            .map_err(self.map.err(OP))
    }
}
