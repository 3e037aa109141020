//! `BloomFilter<V>`: `BPF_MAP_TYPE_BLOOM_FILTER`, a set of `V` that may
//! answer "present" for values never added, and never "absent" for one added.
//!
//! In: a keyless bloom filter with `V`-sized values. Out: insert, contains.

use std::marker::PhantomData;

use super::{map_handle, CreateFlags, Map, MapError, MapFlags};
use crate::obj::MapType;
use crate::sys;
use crate::Pod;

/// A bloom filter over values of `V`.
///
/// ```no_run
/// use bpf2rs::map::{BloomFilter, CreateFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let seen = BloomFilter::<u64>::create("seen", 10_000, CreateFlags::NONE)?;
/// seen.insert(&42)?;
/// assert!(seen.contains(&42)?);
/// # Ok(()) }
/// ```
pub struct BloomFilter<V> {
    map: Map,
    _types: PhantomData<fn() -> V>,
}

map_handle!(impl[V: Pod] BloomFilter<V>);

impl<V: Pod> BloomFilter<V> {
    /// Creates a filter sized for `max_entries` values, with the kernel's
    /// default of 5 hash functions.
    ///
    /// ```no_run
    /// use bpf2rs::map::{BloomFilter, CreateFlags};
    /// let f = BloomFilter::<[u8; 16]>::create("ips", 1 << 16, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::create_with_hashes(name, max_entries, 0, flags)
    }

    /// Creates a filter with `hashes` hash functions (1 to 15; 0 for the
    /// kernel's default of 5), passed as the map's `map_extra`.
    ///
    /// ```no_run
    /// use bpf2rs::map::{BloomFilter, CreateFlags};
    /// let f = BloomFilter::<u32>::create_with_hashes("ports", 4096, 3, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create_with_hashes(
        name: &str,
        max_entries: u32,
        hashes: u8,
        flags: CreateFlags,
    ) -> Result<Self, MapError> {
        let value_size = u32::try_from(size_of::<V>()).map_err(|_| MapError::Invalid {
            map: name.to_owned(),
            op: "create",
            message: format!(
                "value size {} does not fit the kernel's u32",
                size_of::<V>()
            ),
        })?;
        let map = Map::create(&sys::MapCreate {
            name,
            map_type: MapType::BLOOM_FILTER.0,
            key_size: 0,
            value_size,
            max_entries,
            map_flags: flags.0,
            map_extra: u64::from(hashes),
            ..Default::default()
        })?;
        Self::from_map(map)
    }

    /// Wraps `map` after checking that it is a bloom filter of `V`-sized values.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let f = bpf2rs::map::BloomFilter::<u64>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        map.check(&[MapType::BLOOM_FILTER], 0, size_of::<V>())?;
        Ok(BloomFilter {
            map,
            _types: PhantomData,
        })
    }

    /// Adds `value`.
    ///
    /// ```no_run
    /// # fn f(b: &bpf2rs::map::BloomFilter<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// b.insert(&7)?;
    /// # Ok(()) }
    /// ```
    pub fn insert(&self, value: &V) -> Result<(), MapError> {
        self.map
            .map_fd()
            .update(&[], value.as_bytes(), MapFlags::ANY.0)
            .map_err(self.map.err("insert"))
    }

    /// `false` if `value` was certainly never added; `true` if it probably was.
    ///
    /// ```no_run
    /// # fn f(b: &bpf2rs::map::BloomFilter<u64>) -> Result<(), bpf2rs::map::MapError> {
    /// if !b.contains(&7)? {
    ///     println!("new");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn contains(&self, value: &V) -> Result<bool, MapError> {
        // The kernel reads the value to test from the value buffer
        // (map_lookup_elem in kernel/bpf/syscall.c copies it in for bloom
        // filters) and writes nothing back.
        let mut probe = *value;
        self.map
            .map_fd()
            .peek(probe.as_bytes_mut())
            .map_err(self.map.err("contains"))
    }
}
