//! `PerCpuHashMap<K, V>` and `LruPerCpuHashMap<K, V>`: one implementation,
//! [`PerCpuHashTable`], over `BPF_MAP_TYPE_PERCPU_HASH` and
//! `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
//!
//! In: a map of either type with `K`-sized keys and `V`-sized values. Out:
//! element operations that read and write a value for every possible CPU
//! through a reusable [`PerCpuValues`] buffer, walks and batches.

use std::marker::PhantomData;

use super::iter::{self, BatchCursor, Keys};
use super::kind::{self, PerCpuHashKind};
use super::percpu::{check_cpus, fit_cpus, map_cpus, map_values, PerCpuIter, PerCpuValues};
use super::{check_sized, create_sized, map_handle, CreateFlags, Map, MapError, MapFlags, Types};
use crate::Pod;

/// A hash map with one value per possible CPU (`BPF_MAP_TYPE_PERCPU_HASH`).
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, MapFlags, PerCpuHashMap};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let map = PerCpuHashMap::<u32, u64>::create("hits", 1024, CreateFlags::NONE)?;
/// let mut values = map.values();
/// values.fill(&1);
/// map.insert(&7, &values, MapFlags::ANY)?;
/// if map.get_into(&7, &mut values)? {
///     println!("total {}", values.iter().sum::<u64>());
/// }
/// # Ok(()) }
/// ```
pub type PerCpuHashMap<K, V> = PerCpuHashTable<K, V, kind::PerCpuHash>;

/// A per-CPU hash map that evicts the least recently used entry when full
/// (`BPF_MAP_TYPE_LRU_PERCPU_HASH`); the same operations as [`PerCpuHashMap`].
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, LruPerCpuHashMap};
/// let map = LruPerCpuHashMap::<u32, u64>::create("recent", 1024, CreateFlags::NONE)?;
/// # Ok::<(), bpf2rs::map::MapError>(())
/// ```
pub type LruPerCpuHashMap<K, V> = PerCpuHashTable<K, V, kind::LruPerCpuHash>;

/// The per-CPU hash families' handle; use it through [`PerCpuHashMap`] or
/// [`LruPerCpuHashMap`].
pub struct PerCpuHashTable<K, V, T> {
    map: Map,
    _types: Types<(K, V, T)>,
}

map_handle!(impl[K: Pod, V: Pod, T: PerCpuHashKind] PerCpuHashTable<K, V, T>);

impl<K: Pod, V: Pod, T: PerCpuHashKind> PerCpuHashTable<K, V, T> {
    /// Creates a map with room for `max_entries` keys.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, PerCpuHashMap};
    /// let map = PerCpuHashMap::<u32, [u64; 2]>::create("stats", 256, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::from_map(create_sized::<K, V>(name, T::MAP_TYPE, max_entries, flags)?)
    }

    /// Wraps `map` after checking its type, and that keys are `K`-sized and
    /// each CPU's value `V`-sized.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let m = bpf2rs::map::PerCpuHashMap::<u32, u64>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        check_sized::<K, V>(&map, T::MAP_TYPE)?;
        Ok(PerCpuHashTable {
            map,
            _types: PhantomData,
        })
    }

    /// A zeroed buffer with a slot for each of the map's CPUs: make one,
    /// reuse it for every lookup.
    pub fn values(&self) -> PerCpuValues<V> {
        map_values(&self.map)
    }

    /// Number of possible CPUs, i.e. values per key.
    pub fn cpus(&self) -> usize {
        map_cpus::<V>(&self.map)
    }

    /// Every CPU's value at `key`, in a new buffer (see
    /// [`get_into`](Self::get_into) to reuse one).
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::PerCpuHashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// if let Some(values) = map.get(&7)? {
    ///     println!("{:?}", values);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get(&self, key: &K) -> Result<Option<PerCpuValues<V>>, MapError> {
        let mut values = self.values();
        Ok(self.get_into(key, &mut values)?.then_some(values))
    }

    /// Reads every CPU's value at `key` into `values`; `Ok(false)` if the key
    /// is absent. Allocates nothing when `values` came from
    /// [`values`](Self::values) (a buffer of another CPU count is resized once).
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::PerCpuHashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let mut values = map.values();
    /// for key in 0..16 {
    ///     if map.get_into(&key, &mut values)? {
    ///         println!("{key}: {}", values.iter().sum::<u64>());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_into(&self, key: &K, values: &mut PerCpuValues<V>) -> Result<bool, MapError> {
        fit_cpus(&self.map, values);
        self.map
            .map_fd()
            .lookup(key.as_bytes(), values.as_bytes_mut(), 0)
            .map_err(self.map.err("get"))
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &K) -> Result<bool, MapError> {
        // A per-CPU lookup has to copy every CPU's value somewhere; keys()
        // would be no cheaper. Use the stack when it fits.
        let mut stack = [0u8; 1024];
        let mut heap = Vec::new();
        let size = self.map.map_fd().value_size();
        let buf = if size <= stack.len() {
            &mut stack[..size]
        } else {
            heap.resize(size, 0);
            &mut heap[..]
        };
        self.map
            .map_fd()
            .lookup(key.as_bytes(), buf, 0)
            .map_err(self.map.err("contains_key"))
    }

    /// Writes `values` (one per CPU, from [`values`](Self::values)) at `key`.
    /// Flags as for [`HashMap::insert`](super::HashMap::insert).
    ///
    /// ```no_run
    /// use bpf2rs::map::MapFlags;
    /// # fn f(map: &bpf2rs::map::PerCpuHashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let mut values = map.values();
    /// values.set(0, &5);
    /// map.insert(&1, &values, MapFlags::ANY)?;
    /// # Ok(()) }
    /// ```
    pub fn insert(
        &self,
        key: &K,
        values: &PerCpuValues<V>,
        flags: MapFlags,
    ) -> Result<(), MapError> {
        const OP: &str = "insert";
        check_cpus(&self.map, OP, values)?;
        self.map
            .map_fd()
            .update(key.as_bytes(), values.as_bytes(), flags.0)
            .map_err(self.map.err(OP))
    }

    /// Deletes `key`; `Ok(false)` if it had no value.
    pub fn remove(&self, key: &K) -> Result<bool, MapError> {
        self.map
            .map_fd()
            .delete(key.as_bytes())
            .map_err(self.map.err("remove"))
    }

    /// Deletes `key`, reading what it had into `values` first, in one step;
    /// `Ok(false)` if it was absent.
    pub fn get_and_remove_into(
        &self,
        key: &K,
        values: &mut PerCpuValues<V>,
    ) -> Result<bool, MapError> {
        fit_cpus(&self.map, values);
        self.map
            .map_fd()
            .lookup_and_delete(key.as_bytes(), values.as_bytes_mut(), 0)
            .map_err(self.map.err("get_and_remove"))
    }

    /// The keys, one BPF_MAP_GET_NEXT_KEY each.
    pub fn keys(&self) -> Keys<'_, K> {
        Keys::new(&self.map)
    }

    /// The entries, batched where the kernel can; see [`PerCpuIter`] for a
    /// walk without allocation.
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::PerCpuHashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// for entry in map.iter() {
    ///     let (key, values) = entry?;
    ///     println!("{key}: {:?}", values);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter(&self) -> PerCpuIter<'_, K, V> {
        PerCpuIter::new(&self.map, true)
    }

    /// The entries, one get_next_key + lookup at a time.
    pub fn iter_next_key(&self) -> PerCpuIter<'_, K, V> {
        PerCpuIter::new(&self.map, false)
    }

    /// Reads the next batch after `cursor` into `keys` and `values`
    /// (BPF_MAP_LOOKUP_BATCH); returns how many were filled. Same contract as
    /// [`HashMap::lookup_batch`](super::HashMap::lookup_batch).
    pub fn lookup_batch(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [K],
        values: &mut [PerCpuValues<V>],
    ) -> Result<usize, MapError> {
        iter::lookup_batch_into(&self.map, false, cursor, keys, values, "lookup_batch")
    }

    /// Like [`lookup_batch`](Self::lookup_batch), deleting what it returns.
    pub fn lookup_and_delete_batch(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [K],
        values: &mut [PerCpuValues<V>],
    ) -> Result<usize, MapError> {
        const OP: &str = "lookup_and_delete_batch";
        iter::lookup_batch_into(&self.map, true, cursor, keys, values, OP)
    }

    /// Writes `values[i]` at `keys[i]` in one syscall; returns how many were
    /// written (see [`HashMap::update_batch`](super::HashMap::update_batch)).
    pub fn update_batch(
        &self,
        keys: &[K],
        values: &[PerCpuValues<V>],
        flags: MapFlags,
    ) -> Result<usize, MapError> {
        iter::update_batch_from(&self.map, keys, values, flags)
    }

    /// Deletes every key in `keys` in one syscall (see
    /// [`HashMap::delete_batch`](super::HashMap::delete_batch)).
    pub fn delete_batch(&self, keys: &[K]) -> Result<usize, MapError> {
        iter::delete_batch_keys(&self.map, keys)
    }
}
