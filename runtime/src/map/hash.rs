//! `HashMap<K, V>` and `LruHashMap<K, V>`: one implementation,
//! [`HashTable`], over `BPF_MAP_TYPE_HASH` and `BPF_MAP_TYPE_LRU_HASH`.
//!
//! In: a map of either type with `K`/`V`-sized keys and values. Out: element
//! operations on Pod values (no allocation), key and entry walks, and batch
//! operations.

use std::marker::PhantomData;

use super::iter::{self, BatchCursor, Iter, Keys};
use super::kind::{self, HashKind};
use super::{check_sized, create_sized, map_handle, CreateFlags, Map, MapError, MapFlags, Types};
use crate::Pod;

/// A hash map of `K` to `V` (`BPF_MAP_TYPE_HASH`).
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, HashMap, MapFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let map = HashMap::<u32, u64>::create("counts", 1024, CreateFlags::NONE)?;
/// map.insert(&1, &10, MapFlags::NOEXIST)?;
/// assert_eq!(map.get(&1)?, Some(10));
/// assert!(map.remove(&1)?);
/// # Ok(()) }
/// ```
pub type HashMap<K, V> = HashTable<K, V, kind::Hash>;

/// A hash map that evicts the least recently used entry when full
/// (`BPF_MAP_TYPE_LRU_HASH`); the same operations as [`HashMap`].
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, LruHashMap, MapFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let map = LruHashMap::<u64, u64>::create("recent", 4096, CreateFlags::NONE)?;
/// map.insert(&42, &1, MapFlags::ANY)?;
/// # Ok(()) }
/// ```
pub type LruHashMap<K, V> = HashTable<K, V, kind::LruHash>;

/// The hash families' handle; use it through [`HashMap`] or [`LruHashMap`].
pub struct HashTable<K, V, T> {
    map: Map,
    _types: Types<(K, V, T)>,
}

map_handle!(impl[K: Pod, V: Pod, T: HashKind] HashTable<K, V, T>);

impl<K: Pod, V: Pod, T: HashKind> HashTable<K, V, T> {
    /// Creates a map with room for `max_entries` entries.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, HashMap};
    /// let map = HashMap::<[u8; 16], u64>::create("by_addr", 65536, CreateFlags::NO_PREALLOC)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::from_map(create_sized::<K, V>(name, T::MAP_TYPE, max_entries, flags)?)
    }

    /// Wraps `map` after checking that it is of this handle's type with
    /// `K`-sized keys and `V`-sized values; a mismatch names both sizes.
    ///
    /// ```no_run
    /// use bpf2rs::map::{HashMap, Map};
    /// # fn f(map: Map) -> Result<(), bpf2rs::map::MapError> {
    /// let flows = HashMap::<u32, u64>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        check_sized::<K, V>(&map, T::MAP_TYPE)?;
        Ok(HashTable {
            map,
            _types: PhantomData,
        })
    }

    /// The value at `key`, or `None` if there is none.
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// if let Some(v) = map.get(&7)? {
    ///     println!("{v}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get(&self, key: &K) -> Result<Option<V>, MapError> {
        let mut value = V::zeroed();
        Ok(self.get_into(key, &mut value)?.then_some(value))
    }

    /// Reads the value at `key` into `value`; `Ok(false)` (and `value`
    /// untouched) if there is none.
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let mut v = 0u64;
    /// if map.get_into(&7, &mut v)? {
    ///     println!("{v}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_into(&self, key: &K, value: &mut V) -> Result<bool, MapError> {
        self.get_into_with_flags(key, value, MapFlags::ANY)
    }

    /// [`get_into`](Self::get_into) with lookup flags: [`MapFlags::F_LOCK`]
    /// copies the value under its `bpf_spin_lock`.
    pub fn get_into_with_flags(
        &self,
        key: &K,
        value: &mut V,
        flags: MapFlags,
    ) -> Result<bool, MapError> {
        self.map
            .map_fd()
            .lookup(key.as_bytes(), value.as_bytes_mut(), flags.0)
            .map_err(self.map.err("get"))
    }

    /// Whether `key` has a value.
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// assert!(!map.contains_key(&99)?);
    /// # Ok(()) }
    /// ```
    pub fn contains_key(&self, key: &K) -> Result<bool, MapError> {
        let mut value = V::zeroed();
        self.map
            .map_fd()
            .lookup(key.as_bytes(), value.as_bytes_mut(), 0)
            .map_err(self.map.err("contains_key"))
    }

    /// Writes `value` at `key`. `flags`: [`MapFlags::ANY`] (create or
    /// replace), [`MapFlags::NOEXIST`] (create only: EEXIST if present),
    /// [`MapFlags::EXIST`] (replace only: ENOENT if absent), optionally with
    /// [`MapFlags::F_LOCK`]. A full map refuses new keys with E2BIG
    /// ("map is full").
    ///
    /// ```no_run
    /// use bpf2rs::map::MapFlags;
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// map.insert(&7, &1, MapFlags::ANY)?;
    /// # Ok(()) }
    /// ```
    pub fn insert(&self, key: &K, value: &V, flags: MapFlags) -> Result<(), MapError> {
        self.map
            .map_fd()
            .update(key.as_bytes(), value.as_bytes(), flags.0)
            .map_err(self.map.err("insert"))
    }

    /// Deletes `key`; `Ok(false)` if it had no value.
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let was_there = map.remove(&7)?;
    /// # Ok(()) }
    /// ```
    pub fn remove(&self, key: &K) -> Result<bool, MapError> {
        self.map
            .map_fd()
            .delete(key.as_bytes())
            .map_err(self.map.err("remove"))
    }

    /// Deletes `key` and returns the value it had, in one step
    /// (BPF_MAP_LOOKUP_AND_DELETE_ELEM).
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let last = map.get_and_remove(&7)?;
    /// # Ok(()) }
    /// ```
    pub fn get_and_remove(&self, key: &K) -> Result<Option<V>, MapError> {
        let mut value = V::zeroed();
        let found = self
            .map
            .map_fd()
            .lookup_and_delete(key.as_bytes(), value.as_bytes_mut(), 0)
            .map_err(self.map.err("get_and_remove"))?;
        Ok(found.then_some(value))
    }

    /// The keys, one BPF_MAP_GET_NEXT_KEY each (see [`Keys`] for what
    /// concurrent deletion does).
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// for key in map.keys() {
    ///     println!("{}", key?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn keys(&self) -> Keys<'_, K> {
        Keys::new(&self.map)
    }

    /// The entries, read with BPF_MAP_LOOKUP_BATCH (4096 per syscall; falls
    /// back to get_next_key + lookup where the kernel lacks batch ops). Each
    /// entry present for the whole walk is returned once; see the
    /// [`Iter`] for concurrent changes.
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let total: u64 = map.iter().map(|e| e.map(|(_, v)| v)).sum::<Result<u64, _>>()?;
    /// # Ok(()) }
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter::new(&self.map, true)
    }

    /// The entries, one get_next_key + lookup at a time (no batch ops).
    /// Slower than [`iter`](Self::iter); a deleted current key restarts the
    /// walk, so entries may repeat (see [`Iter`]).
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// for entry in map.iter_next_key() {
    ///     let (k, v) = entry?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter_next_key(&self) -> Iter<'_, K, V> {
        Iter::new(&self.map, false)
    }

    /// Reads the next batch of entries after `cursor` into `keys` and
    /// `values` (BPF_MAP_LOOKUP_BATCH); returns how many were filled. When
    /// [`BatchCursor::is_done`] the map is exhausted. The kernel copies whole
    /// buckets: if the next bucket has more entries than the slices hold
    /// and nothing else fits, the error is ENOSPC (a few hundred entries
    /// are always enough). Each entry present for the whole walk is
    /// returned exactly once, even while others are deleted.
    ///
    /// ```no_run
    /// use bpf2rs::map::BatchCursor;
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let (mut keys, mut values) = (vec![0u32; 4096], vec![0u64; 4096]);
    /// let mut cursor = BatchCursor::new();
    /// while !cursor.is_done() {
    ///     let n = map.lookup_batch(&mut cursor, &mut keys, &mut values)?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn lookup_batch(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [K],
        values: &mut [V],
    ) -> Result<usize, MapError> {
        iter::lookup_batch_into(&self.map, false, cursor, keys, values, "lookup_batch")
    }

    /// Like [`lookup_batch`](Self::lookup_batch), deleting what it returns
    /// (BPF_MAP_LOOKUP_AND_DELETE_BATCH): draining a map this way returns
    /// every entry exactly once.
    ///
    /// ```no_run
    /// use bpf2rs::map::BatchCursor;
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let (mut keys, mut values) = (vec![0u32; 4096], vec![0u64; 4096]);
    /// let mut cursor = BatchCursor::new();
    /// while !cursor.is_done() {
    ///     let n = map.lookup_and_delete_batch(&mut cursor, &mut keys, &mut values)?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn lookup_and_delete_batch(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [K],
        values: &mut [V],
    ) -> Result<usize, MapError> {
        const OP: &str = "lookup_and_delete_batch";
        iter::lookup_batch_into(&self.map, true, cursor, keys, values, OP)
    }

    /// Writes `values[i]` at `keys[i]` for every `i` in one syscall
    /// (BPF_MAP_UPDATE_BATCH); returns how many were written. Elements are
    /// written in order, each created or replaced: the kernel takes only
    /// [`MapFlags::ANY`] or [`MapFlags::F_LOCK`] here. On an error (e.g.
    /// E2BIG when the map fills) the ones before the failing element stay
    /// written.
    ///
    /// ```no_run
    /// use bpf2rs::map::MapFlags;
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// map.update_batch(&[1, 2, 3], &[10, 20, 30], MapFlags::ANY)?;
    /// # Ok(()) }
    /// ```
    pub fn update_batch(
        &self,
        keys: &[K],
        values: &[V],
        flags: MapFlags,
    ) -> Result<usize, MapError> {
        iter::update_batch_from(&self.map, keys, values, flags)
    }

    /// Deletes every key in `keys` in one syscall (BPF_MAP_DELETE_BATCH);
    /// returns how many were deleted. Stops at the first missing key with an
    /// ENOENT error; the keys before it stay deleted.
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// map.delete_batch(&[1, 2, 3])?;
    /// # Ok(()) }
    /// ```
    pub fn delete_batch(&self, keys: &[K]) -> Result<usize, MapError> {
        iter::delete_batch_keys(&self.map, keys)
    }
}
