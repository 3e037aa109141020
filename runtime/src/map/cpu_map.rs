//! `CpuMap`: `BPF_MAP_TYPE_CPUMAP`, CPUs that XDP can redirect frames to
//! (`bpf_redirect_map`), each with a queue and an optional program.
//!
//! In: a cpumap (u32 CPU -> 4-byte queue size or 8-byte `struct
//! bpf_cpumap_val`). Out: set a CPU's queue size and program, read it back.

use std::os::fd::BorrowedFd;

use super::dev_map::{lookup_pair, pair_value};
use super::iter::Keys;
use super::{map_handle, CreateFlags, Map, MapError, MapFlags};
use crate::obj::MapType;

/// A CPU's slot as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpuMapValue {
    /// Frames queued for the CPU's kthread before drops.
    pub queue_size: u32,
    /// The id of the XDP program run on the CPU, if any.
    pub prog_id: Option<u32>,
}

/// CPUs for XDP redirects.
///
/// ```no_run
/// use bpf2rs::map::{CpuMap, CreateFlags, MapFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let cpus = CpuMap::create("cpus", 2, CreateFlags::NONE)?;
/// cpus.set(1, 2048, None, MapFlags::ANY)?;
/// # Ok(()) }
/// ```
pub struct CpuMap {
    map: Map,
}

map_handle!(impl[] CpuMap);

impl CpuMap {
    /// Creates a map for CPUs `0..max_entries` (at most the possible CPUs)
    /// with 8-byte values (queue size and program).
    ///
    /// ```no_run
    /// use bpf2rs::map::{CpuMap, CreateFlags};
    /// let cpus = CpuMap::create("cpus", 2, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::from_map(Map::create_simple(
            name,
            MapType::CPUMAP,
            4,
            8,
            max_entries,
            flags,
        )?)
    }

    /// Wraps `map` after checking that it is a cpumap with 4- or 8-byte values.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let cpus = bpf2rs::map::CpuMap::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        let value_size = if map.info().value_size == 4 { 4 } else { 8 };
        map.check(&[MapType::CPUMAP], 4, value_size)?;
        Ok(CpuMap { map })
    }

    /// Enables redirects to `cpu` with a queue of `queue_size` frames,
    /// running `prog` (an XDP program loaded for `BPF_XDP_CPUMAP`) there if given.
    ///
    /// ```no_run
    /// use bpf2rs::map::MapFlags;
    /// # fn f(cpus: &bpf2rs::map::CpuMap) -> Result<(), bpf2rs::map::MapError> {
    /// cpus.set(0, 192, None, MapFlags::ANY)?;
    /// # Ok(()) }
    /// ```
    pub fn set(
        &self,
        cpu: u32,
        queue_size: u32,
        prog: Option<BorrowedFd<'_>>,
        flags: MapFlags,
    ) -> Result<(), MapError> {
        const OP: &str = "set";
        let value = pair_value(&self.map, OP, queue_size, prog)?;
        self.map
            .map_fd()
            .update(&cpu.to_ne_bytes(), &value[..self.value_size()], flags.0)
            .map_err(self.map.err(OP))
    }

    /// The queue size (and program id) of `cpu`, or `None` if not enabled.
    ///
    /// ```no_run
    /// # fn f(cpus: &bpf2rs::map::CpuMap) -> Result<(), bpf2rs::map::MapError> {
    /// let slot = cpus.get(0)?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, cpu: u32) -> Result<Option<CpuMapValue>, MapError> {
        Ok(
            lookup_pair(&self.map, cpu, self.value_size())?.map(|(queue_size, prog_id)| {
                CpuMapValue {
                    queue_size,
                    prog_id,
                }
            }),
        )
    }

    /// Disables redirects to `cpu`; `Ok(false)` if it was not enabled.
    pub fn remove(&self, cpu: u32) -> Result<bool, MapError> {
        self.map
            .map_fd()
            .delete(&cpu.to_ne_bytes())
            .map_err(self.map.err("remove"))
    }

    /// The CPUs of the map (every index).
    pub fn keys(&self) -> Keys<'_, u32> {
        Keys::new(&self.map)
    }

    fn value_size(&self) -> usize {
        self.map.map_fd().value_size().min(8)
    }
}
