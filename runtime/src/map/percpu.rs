//! `PerCpuValues<V>`: one value per possible CPU, in the kernel's layout,
//! and the walk over per-CPU maps.
//!
//! In: nothing (the CPU count comes from /sys/devices/system/cpu/possible or
//! the map). Out: a buffer allocated once and reused by every lookup, so
//! per-CPU reads allocate nothing.
//!
//! The kernel copies per-CPU values as one slot per possible CPU, each slot
//! `value_size` rounded up to 8 bytes (`bpf_percpu_hash_copy` in
//! kernel/bpf/hashtab.c, `round_up(map->value_size, 8)`).

use std::marker::PhantomData;

use super::iter::{BatchValue, RawIter};
use super::{read, Map, MapError};
use crate::sys;
use crate::Pod;

/// A value of `V` for each possible CPU, laid out as the kernel copies them.
/// Make one with [`PerCpuValues::new`] (or a handle's `values()`), then
/// reuse it for every lookup.
///
/// ```no_run
/// use bpf2rs::map::PerCpuValues;
/// # fn main() -> std::io::Result<()> {
/// let mut values = PerCpuValues::<u64>::new()?;
/// values.fill(&1);
/// assert_eq!(values.iter().sum::<u64>(), values.cpus() as u64);
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PerCpuValues<V> {
    bytes: Vec<u8>,
    _types: PhantomData<fn() -> V>,
}

impl<V: Pod> PerCpuValues<V> {
    /// Bytes of one CPU's slot: `size_of::<V>()` rounded up to 8.
    pub const SLOT: usize = size_of::<V>().next_multiple_of(8);

    /// Zeroed values for every possible CPU of this machine.
    ///
    /// ```no_run
    /// let v = bpf2rs::map::PerCpuValues::<u32>::new()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> std::io::Result<PerCpuValues<V>> {
        Ok(PerCpuValues::with_cpus(sys::possible_cpus()?))
    }

    /// Zeroed values for `cpus` CPUs.
    ///
    /// ```
    /// let v = bpf2rs::map::PerCpuValues::<u32>::with_cpus(4);
    /// assert_eq!(v.cpus(), 4);
    /// ```
    pub fn with_cpus(cpus: usize) -> PerCpuValues<V> {
        PerCpuValues {
            bytes: vec![0u8; cpus * Self::SLOT],
            _types: PhantomData,
        }
    }

    /// Values for every possible CPU, `f(cpu)` each.
    ///
    /// ```no_run
    /// let v = bpf2rs::map::PerCpuValues::<u64>::from_fn(|cpu| cpu as u64)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_fn(mut f: impl FnMut(usize) -> V) -> std::io::Result<PerCpuValues<V>> {
        let mut values = PerCpuValues::new()?;
        for cpu in 0..values.cpus() {
            values.set(cpu, &f(cpu));
        }
        Ok(values)
    }

    /// Number of CPUs (slots).
    pub fn cpus(&self) -> usize {
        self.bytes.len() / Self::SLOT.max(1)
    }

    /// The value of `cpu`, or `None` past the last CPU.
    ///
    /// ```
    /// let v = bpf2rs::map::PerCpuValues::<u32>::with_cpus(2);
    /// assert_eq!(v.get(1), Some(0));
    /// assert_eq!(v.get(2), None);
    /// ```
    pub fn get(&self, cpu: usize) -> Option<V> {
        let slot = self.bytes.get(cpu * Self::SLOT..(cpu + 1) * Self::SLOT)?;
        V::from_bytes(slot)
    }

    /// Sets the value of `cpu`; `false` (and nothing written) past the last CPU.
    ///
    /// ```
    /// let mut v = bpf2rs::map::PerCpuValues::<u32>::with_cpus(2);
    /// assert!(v.set(1, &5));
    /// assert!(!v.set(9, &5));
    /// ```
    pub fn set(&mut self, cpu: usize, value: &V) -> bool {
        match self.bytes.get_mut(cpu * Self::SLOT..(cpu + 1) * Self::SLOT) {
            Some(slot) => {
                slot[..size_of::<V>()].copy_from_slice(value.as_bytes());
                true
            }
            None => false,
        }
    }

    /// Sets every CPU's value to `value`.
    pub fn fill(&mut self, value: &V) {
        for slot in self.bytes.chunks_exact_mut(Self::SLOT.max(1)) {
            slot[..size_of::<V>()].copy_from_slice(value.as_bytes());
        }
    }

    /// The values, CPU 0 first.
    ///
    /// ```
    /// let v = bpf2rs::map::PerCpuValues::<u64>::with_cpus(3);
    /// assert_eq!(v.iter().count(), 3);
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = V> + '_ {
        self.bytes.chunks_exact(Self::SLOT.max(1)).map(read::<V>)
    }

    /// The raw slots, as the kernel reads and writes them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// Copies `bytes` (a kernel per-CPU value) in, resizing if the CPU count
    /// differs.
    pub(crate) fn copy_from(&mut self, bytes: &[u8]) {
        if self.bytes.len() != bytes.len() {
            self.bytes.resize(bytes.len(), 0);
        }
        self.bytes.copy_from_slice(bytes);
    }
}

impl<V: Pod + std::fmt::Debug> std::fmt::Debug for PerCpuValues<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The entries of a per-CPU map. As an [`Iterator`] it yields
/// `(K, PerCpuValues<V>)` and allocates one buffer per entry;
/// [`next_into`](PerCpuIter::next_into) fills the caller's buffers instead
/// and allocates nothing. Batched where the kernel can (see
/// [`Iter`](super::Iter) for concurrent changes).
pub struct PerCpuIter<'a, K, V> {
    raw: RawIter<'a>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<'a, K: Pod, V: Pod> PerCpuIter<'a, K, V> {
    pub(crate) fn new(map: &'a Map, batch: bool) -> PerCpuIter<'a, K, V> {
        PerCpuIter {
            raw: RawIter::new(map, "iter", batch),
            _types: PhantomData,
        }
    }

    /// Reads the next entry into `key` and `values`; `Ok(false)` at the end.
    ///
    /// ```no_run
    /// # fn f(map: &bpf2rs::map::PerCpuHashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
    /// let (mut key, mut values) = (0u32, map.values());
    /// let mut it = map.iter();
    /// while it.next_into(&mut key, &mut values)? {
    ///     println!("{key}: {}", values.iter().sum::<u64>());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn next_into(
        &mut self,
        key: &mut K,
        values: &mut PerCpuValues<V>,
    ) -> Result<bool, MapError> {
        if !self.raw.advance()? {
            return Ok(false);
        }
        let (k, v) = self.raw.entry();
        *key = read(k);
        values.copy_from(v);
        Ok(true)
    }
}

impl<K: Pod, V: Pod> Iterator for PerCpuIter<'_, K, V> {
    type Item = Result<(K, PerCpuValues<V>), MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut key = K::zeroed();
        let mut values = PerCpuValues::with_cpus(0);
        match self.next_into(&mut key, &mut values) {
            Ok(true) => Some(Ok((key, values))),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl<K, V> std::fmt::Debug for PerCpuIter<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerCpuIter").finish_non_exhaustive()
    }
}

impl<V: Pod> BatchValue for PerCpuValues<V> {
    #[inline]
    fn check(&self, map: &Map, op: &'static str) -> Result<(), MapError> {
        check_cpus(map, op, self)
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }

    #[inline]
    fn load(&mut self, bytes: &[u8]) {
        self.copy_from(bytes);
    }
}

/// Number of possible CPUs of a per-CPU map of `V`: its value size counts
/// one slot per CPU.
#[inline]
pub(crate) fn map_cpus<V: Pod>(map: &Map) -> usize {
    map.map_fd().value_size() / PerCpuValues::<V>::SLOT.max(1)
}

/// A zeroed buffer with a slot for each of the map's CPUs.
pub(crate) fn map_values<V: Pod>(map: &Map) -> PerCpuValues<V> {
    PerCpuValues::with_cpus(map_cpus::<V>(map))
}

/// Makes `values` hold the map's CPU count before a lookup writes it: a
/// buffer made for this map is left alone (no allocation), another is
/// replaced once.
#[inline]
pub(crate) fn fit_cpus<V: Pod>(map: &Map, values: &mut PerCpuValues<V>) {
    if values.cpus() != map_cpus::<V>(map) {
        *values = map_values(map);
    }
}

/// Checks that a caller's per-CPU buffer matches the map's CPU count.
pub(crate) fn check_cpus<V: Pod>(
    map: &Map,
    op: &'static str,
    values: &PerCpuValues<V>,
) -> Result<(), MapError> {
    if values.as_bytes().len() == map.map_fd().value_size() {
        Ok(())
    } else {
        Err(MapError::Invalid {
            map: map.name().to_owned(),
            op,
            message: format!(
                "per-CPU buffer holds {} CPUs, the map has {}",
                values.cpus(),
                map_cpus::<V>(map)
            ),
        })
    }
}
