//! `PerCpuArray<V>`: `BPF_MAP_TYPE_PERCPU_ARRAY`, an array with one value
//! per possible CPU at every index.
//!
//! In: a per-CPU array with `V`-sized values. Out: get/set of every CPU's
//! value through a reusable [`PerCpuValues`], an in-order walk, batches.

use std::marker::PhantomData;

use super::array::absent_is_error;
use super::iter::{self, BatchCursor};
use super::percpu::{check_cpus, fit_cpus, map_cpus, map_values, PerCpuIter, PerCpuValues};
use super::{check_index, check_sized, create_sized, map_handle};
use super::{CreateFlags, Map, MapError, MapFlags, Types};
use crate::obj::MapType;
use crate::Pod;

/// An array of `max_entries` indices, each with a value of `V` per CPU.
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, PerCpuArray};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let counters = PerCpuArray::<u64>::create("counters", 4, CreateFlags::NONE)?;
/// let mut values = counters.values();
/// counters.get_into(0, &mut values)?;
/// println!("packets: {}", values.iter().sum::<u64>());
/// # Ok(()) }
/// ```
pub struct PerCpuArray<V> {
    map: Map,
    _types: Types<V>,
}

map_handle!(impl[V: Pod] PerCpuArray<V>);

impl<V: Pod> PerCpuArray<V> {
    /// Creates a per-CPU array of `max_entries` zeroed values.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, PerCpuArray};
    /// let a = PerCpuArray::<u64>::create("counters", 8, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        let map = create_sized::<u32, V>(name, MapType::PERCPU_ARRAY, max_entries, flags)?;
        Self::from_map(map)
    }

    /// Wraps `map` after checking that it is a per-CPU array with
    /// `V`-sized values.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let a = bpf2rs::map::PerCpuArray::<u64>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        check_sized::<u32, V>(&map, MapType::PERCPU_ARRAY)?;
        Ok(PerCpuArray {
            map,
            _types: PhantomData,
        })
    }

    /// Number of indices (`max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether the array has no indices.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A zeroed buffer with a slot for each of the map's CPUs.
    pub fn values(&self) -> PerCpuValues<V> {
        map_values(&self.map)
    }

    /// Number of possible CPUs, i.e. values per index.
    pub fn cpus(&self) -> usize {
        map_cpus::<V>(&self.map)
    }

    /// Every CPU's value at `index`, in a new buffer.
    ///
    /// ```no_run
    /// # fn f(a: &bpf2rs::map::PerCpuArray<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let per_cpu = a.get(0)?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, index: u32) -> Result<PerCpuValues<V>, MapError> {
        let mut values = self.values();
        self.get_into(index, &mut values)?;
        Ok(values)
    }

    /// Reads every CPU's value at `index` into `values` without allocating.
    ///
    /// ```no_run
    /// # fn f(a: &bpf2rs::map::PerCpuArray<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let mut values = a.values();
    /// a.get_into(0, &mut values)?;
    /// # Ok(()) }
    /// ```
    pub fn get_into(&self, index: u32, values: &mut PerCpuValues<V>) -> Result<(), MapError> {
        const OP: &str = "get";
        check_index(&self.map, OP, index)?;
        fit_cpus(&self.map, values);
        let found = self
            .map
            .map_fd()
            .lookup(&index.to_ne_bytes(), values.as_bytes_mut(), 0)
            .map_err(self.map.err(OP))?;
        absent_is_error(&self.map, OP, index, found)
    }

    /// Writes every CPU's value at `index`.
    ///
    /// ```no_run
    /// # fn f(a: &bpf2rs::map::PerCpuArray<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let mut values = a.values();
    /// values.fill(&0);
    /// a.set(0, &values)?;
    /// # Ok(()) }
    /// ```
    pub fn set(&self, index: u32, values: &PerCpuValues<V>) -> Result<(), MapError> {
        const OP: &str = "set";
        check_index(&self.map, OP, index)?;
        check_cpus(&self.map, OP, values)?;
        self.map
            .map_fd()
            .update(&index.to_ne_bytes(), values.as_bytes(), 0)
            .map_err(self.map.err(OP))
    }

    /// `(index, values)` in index order, batched; see [`PerCpuIter`].
    ///
    /// ```no_run
    /// # fn f(a: &bpf2rs::map::PerCpuArray<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// for entry in a.iter() {
    ///     let (index, values) = entry?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter(&self) -> PerCpuIter<'_, u32, V> {
        PerCpuIter::new(&self.map, true)
    }

    /// Reads the next batch after `cursor` into `indices` and `values`;
    /// returns how many were filled.
    pub fn lookup_batch(
        &self,
        cursor: &mut BatchCursor,
        indices: &mut [u32],
        values: &mut [PerCpuValues<V>],
    ) -> Result<usize, MapError> {
        iter::lookup_batch_into(&self.map, false, cursor, indices, values, "lookup_batch")
    }

    /// Writes `values[i]` at `indices[i]` in one syscall; returns how many
    /// were written.
    pub fn update_batch(
        &self,
        indices: &[u32],
        values: &[PerCpuValues<V>],
        flags: MapFlags,
    ) -> Result<usize, MapError> {
        iter::update_batch_from(&self.map, indices, values, flags)
    }
}
