//! `DevMap` and `DevMapHash`: one implementation, [`DeviceMap`], over
//! `BPF_MAP_TYPE_DEVMAP` (u32 index) and `BPF_MAP_TYPE_DEVMAP_HASH` (any
//! u32 key), the targets of `bpf_redirect_map` for XDP.
//!
//! In: a device map with u32 keys and either 4-byte values (ifindex) or
//! 8-byte `struct bpf_devmap_val` (ifindex + program to run on redirect).
//! Out: set from an ifindex and optional program fd; read back the ifindex
//! and the program's id.

use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::iter::Keys;
use super::kind::{self, DeviceKind};
use super::{map_handle, CreateFlags, Map, MapError, MapFlags};

/// A slot of a device map as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DevMapValue {
    /// The network device frames are redirected to.
    pub ifindex: u32,
    /// The id of the XDP program run on redirected frames, if any.
    pub prog_id: Option<u32>,
}

/// An array of network devices (`BPF_MAP_TYPE_DEVMAP`).
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, DevMap, MapFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let ports = DevMap::create("ports", 8, CreateFlags::NONE)?;
/// ports.set(0, 1, None, MapFlags::ANY)?; // slot 0 -> ifindex 1
/// assert_eq!(ports.get(0)?.map(|v| v.ifindex), Some(1));
/// # Ok(()) }
/// ```
pub type DevMap = DeviceMap<kind::DevMap>;

/// Network devices by any u32 key (`BPF_MAP_TYPE_DEVMAP_HASH`); the same
/// operations as [`DevMap`].
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, DevMapHash, MapFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let by_ifindex = DevMapHash::create("by_ifindex", 64, CreateFlags::NONE)?;
/// by_ifindex.set(1, 1, None, MapFlags::ANY)?;
/// # Ok(()) }
/// ```
pub type DevMapHash = DeviceMap<kind::DevMapHash>;

/// The device map handle; use it through [`DevMap`] or [`DevMapHash`].
pub struct DeviceMap<T> {
    map: Map,
    _types: PhantomData<fn() -> T>,
}

map_handle!(impl[T: DeviceKind] DeviceMap<T>);

impl<T: DeviceKind> DeviceMap<T> {
    /// Creates a map of `max_entries` slots with 8-byte values (ifindex and
    /// program).
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, DevMap};
    /// let ports = DevMap::create("ports", 8, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::from_map(Map::create_simple(
            name,
            T::MAP_TYPE,
            4,
            8,
            max_entries,
            flags,
        )?)
    }

    /// Wraps `map` after checking its type, u32 keys and 4- or 8-byte values.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let ports = bpf2rs::map::DevMap::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        let value_size = if map.info().value_size == 4 { 4 } else { 8 };
        map.check(&[T::MAP_TYPE], 4, value_size)?;
        Ok(DeviceMap {
            map,
            _types: PhantomData,
        })
    }

    /// Sends frames redirected to `key` to device `ifindex`, running `prog`
    /// (an XDP program loaded for `BPF_XDP_DEVMAP`) on them first if given.
    /// Maps with 4-byte values take no program.
    ///
    /// ```no_run
    /// use bpf2rs::map::MapFlags;
    /// # fn f(ports: &bpf2rs::map::DevMap) -> Result<(), bpf2rs::map::MapError> {
    /// ports.set(0, 2, None, MapFlags::ANY)?;
    /// # Ok(()) }
    /// ```
    pub fn set(
        &self,
        key: u32,
        ifindex: u32,
        prog: Option<BorrowedFd<'_>>,
        flags: MapFlags,
    ) -> Result<(), MapError> {
        const OP: &str = "set";
        let value = pair_value(&self.map, OP, ifindex, prog)?;
        self.map
            .map_fd()
            .update(&key.to_ne_bytes(), &value[..self.value_size()], flags.0)
            .map_err(self.map.err(OP))
    }

    /// The device (and program id) at `key`, or `None`.
    ///
    /// ```no_run
    /// # fn f(ports: &bpf2rs::map::DevMap) -> Result<(), bpf2rs::map::MapError> {
    /// if let Some(v) = ports.get(0)? {
    ///     println!("ifindex {}", v.ifindex);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get(&self, key: u32) -> Result<Option<DevMapValue>, MapError> {
        Ok(lookup_pair(&self.map, key, self.value_size())?
            .map(|(ifindex, prog_id)| DevMapValue { ifindex, prog_id }))
    }

    /// Empties `key`; `Ok(false)` if it was empty.
    pub fn remove(&self, key: u32) -> Result<bool, MapError> {
        self.map
            .map_fd()
            .delete(&key.to_ne_bytes())
            .map_err(self.map.err("remove"))
    }

    /// The keys in use (every index, for [`DevMap`]).
    pub fn keys(&self) -> Keys<'_, u32> {
        Keys::new(&self.map)
    }

    fn value_size(&self) -> usize {
        self.map.map_fd().value_size().min(8)
    }
}

/// `{ u32 first; u32 prog_fd }` as the kernel reads it (devmap and cpumap
/// values); a program needs an 8-byte value.
pub(crate) fn pair_value(
    map: &Map,
    op: &'static str,
    first: u32,
    prog: Option<BorrowedFd<'_>>,
) -> Result<[u8; 8], MapError> {
    if prog.is_some() && map.map_fd().value_size() < 8 {
        return Err(MapError::Invalid {
            map: map.name().to_owned(),
            op,
            message: "the map's values are 4 bytes: no room for a program".into(),
        });
    }
    let fd = prog.map_or(0, |p| p.as_raw_fd() as u32);
    let mut value = [0u8; 8];
    value[..4].copy_from_slice(&first.to_ne_bytes());
    value[4..].copy_from_slice(&fd.to_ne_bytes());
    Ok(value)
}

/// Reads `{ u32 first; u32 prog_id }`; a program id of 0 is no program.
pub(crate) fn lookup_pair(
    map: &Map,
    key: u32,
    value_size: usize,
) -> Result<Option<(u32, Option<u32>)>, MapError> {
    let mut value = [0u8; 8];
    let found = map
        .map_fd()
        .lookup(&key.to_ne_bytes(), &mut value[..value_size], 0)
        .map_err(map.err("get"))?;
    let first = u32::from_ne_bytes([value[0], value[1], value[2], value[3]]);
    let prog = u32::from_ne_bytes([value[4], value[5], value[6], value[7]]);
    Ok(found.then_some((first, (prog != 0).then_some(prog))))
}
