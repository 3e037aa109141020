//! `Array<V>`: `BPF_MAP_TYPE_ARRAY`, `max_entries` values indexed by u32.
//!
//! In: an array map with `V`-sized values. Out: get/set by index (an index
//! past the end is an error that says so), an in-order walk, and batches.

use std::marker::PhantomData;

use super::iter::{self, BatchCursor, RawIter};
use super::{check_index, check_sized, create_sized, map_handle, read};
use super::{CreateFlags, Map, MapError, MapFlags, Types};
use crate::obj::MapType;
use crate::Pod;

/// An array of `max_entries` values of `V`, all present from creation
/// (zeroed).
///
/// ```no_run
/// use bpf2rs::map::{Array, CreateFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let config = Array::<u64>::create("config", 16, CreateFlags::NONE)?;
/// config.set(3, &42)?;
/// assert_eq!(config.get(3)?, 42);
/// # Ok(()) }
/// ```
pub struct Array<V> {
    map: Map,
    _types: Types<V>,
}

map_handle!(impl[V: Pod] Array<V>);

impl<V: Pod> Array<V> {
    /// Creates an array of `max_entries` zeroed values.
    ///
    /// ```no_run
    /// use bpf2rs::map::{Array, CreateFlags};
    /// let a = Array::<[u8; 64]>::create("blobs", 128, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        let map = create_sized::<u32, V>(name, MapType::ARRAY, max_entries, flags)?;
        Self::from_map(map)
    }

    /// Wraps `map` after checking that it is an array with `V`-sized values.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let a = bpf2rs::map::Array::<u64>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        check_sized::<u32, V>(&map, MapType::ARRAY)?;
        Ok(Array {
            map,
            _types: PhantomData,
        })
    }

    /// Number of entries (`max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether the array has no entries (never, for a map the kernel made).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `index`.
    ///
    /// ```no_run
    /// # fn f(a: &bpf2rs::map::Array<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let v = a.get(0)?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, index: u32) -> Result<V, MapError> {
        let mut value = V::zeroed();
        self.get_into(index, &mut value)?;
        Ok(value)
    }

    /// Reads the value at `index` into `value`.
    ///
    /// ```no_run
    /// # fn f(a: &bpf2rs::map::Array<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let mut v = 0;
    /// a.get_into(0, &mut v)?;
    /// # Ok(()) }
    /// ```
    pub fn get_into(&self, index: u32, value: &mut V) -> Result<(), MapError> {
        const OP: &str = "get";
        check_index(&self.map, OP, index)?;
        let found = self
            .map
            .map_fd()
            .lookup(&index.to_ne_bytes(), value.as_bytes_mut(), 0)
            .map_err(self.map.err(OP))?;
        absent_is_error(&self.map, OP, index, found)
    }

    /// Writes `value` at `index`.
    ///
    /// ```no_run
    /// # fn f(a: &bpf2rs::map::Array<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// a.set(0, &7)?;
    /// # Ok(()) }
    /// ```
    pub fn set(&self, index: u32, value: &V) -> Result<(), MapError> {
        self.set_with_flags(index, value, MapFlags::ANY)
    }

    /// [`set`](Self::set) with flags ([`MapFlags::F_LOCK`] to write under the
    /// value's `bpf_spin_lock`; NOEXIST always fails on arrays).
    pub fn set_with_flags(&self, index: u32, value: &V, flags: MapFlags) -> Result<(), MapError> {
        const OP: &str = "set";
        check_index(&self.map, OP, index)?;
        self.map
            .map_fd()
            .update(&index.to_ne_bytes(), value.as_bytes(), flags.0)
            .map_err(self.map.err(OP))
    }

    /// The values in index order, 4096 per BPF_MAP_LOOKUP_BATCH.
    ///
    /// ```no_run
    /// # fn f(a: &bpf2rs::map::Array<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// for (i, v) in a.iter().enumerate() {
    ///     println!("{i}: {}", v?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter(&self) -> ArrayIter<'_, V> {
        ArrayIter {
            raw: RawIter::new(&self.map, "iter", true),
            _types: PhantomData,
        }
    }

    /// Reads the next batch after `cursor` into `indices` and `values`
    /// (BPF_MAP_LOOKUP_BATCH); returns how many were filled.
    ///
    /// ```no_run
    /// use bpf2rs::map::BatchCursor;
    /// # fn f(a: &bpf2rs::map::Array<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let (mut idx, mut vals) = (vec![0u32; 256], vec![0u64; 256]);
    /// let mut cursor = BatchCursor::new();
    /// while !cursor.is_done() {
    ///     let n = a.lookup_batch(&mut cursor, &mut idx, &mut vals)?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn lookup_batch(
        &self,
        cursor: &mut BatchCursor,
        indices: &mut [u32],
        values: &mut [V],
    ) -> Result<usize, MapError> {
        iter::lookup_batch_into(&self.map, false, cursor, indices, values, "lookup_batch")
    }

    /// Writes `values[i]` at `indices[i]` in one syscall
    /// (BPF_MAP_UPDATE_BATCH); returns how many were written. An index past
    /// the end fails the call (E2BIG) after the elements before it.
    ///
    /// ```no_run
    /// use bpf2rs::map::MapFlags;
    /// # fn f(a: &bpf2rs::map::Array<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// a.update_batch(&[0, 1], &[5, 6], MapFlags::ANY)?;
    /// # Ok(()) }
    /// ```
    pub fn update_batch(
        &self,
        indices: &[u32],
        values: &[V],
        flags: MapFlags,
    ) -> Result<usize, MapError> {
        iter::update_batch_from(&self.map, indices, values, flags)
    }
}

/// An array's values in index order, batched; made by [`Array::iter`].
pub struct ArrayIter<'a, V> {
    raw: RawIter<'a>,
    _types: PhantomData<fn() -> V>,
}

impl<V: Pod> Iterator for ArrayIter<'_, V> {
    type Item = Result<V, MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.raw.next_with(|_, v| read(v))
    }
}

impl<V: Pod> std::iter::FusedIterator for ArrayIter<'_, V> {}

impl<V> std::fmt::Debug for ArrayIter<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrayIter").finish_non_exhaustive()
    }
}

/// Array lookups of an index in bounds always find a value; ENOENT there
/// means the map is not what the handle thinks.
pub(crate) fn absent_is_error(
    map: &Map,
    op: &'static str,
    index: u32,
    found: bool,
) -> Result<(), MapError> {
    if found {
        Ok(())
    } else {
        Err(MapError::Invalid {
            map: map.name().to_owned(),
            op,
            message: format!("index {index}: no such element"),
        })
    }
}
