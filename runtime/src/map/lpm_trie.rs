//! `LpmTrie<K, V>`: `BPF_MAP_TYPE_LPM_TRIE`, longest-prefix match on
//! `K`'s bytes.
//!
//! In: an LPM trie whose key is a u32 prefix length (bits) followed by
//! `size_of::<K>()` data bytes (`struct bpf_lpm_trie_key_u8`). Out: exact
//! insert/remove, longest-prefix lookups, and walks (get_next_key: the
//! kernel has no batch ops for tries).

use std::marker::PhantomData;

use super::iter::{next_key_step, RawIter};
use super::{map_handle, read, CreateFlags, Map, MapError, MapFlags};
use crate::obj::MapType;
use crate::Pod;

/// Largest key the kernel takes: prefix length + 256 data bytes
/// (`LPM_DATA_SIZE_MAX` in kernel/bpf/lpm_trie.c).
const KEY_MAX: usize = 4 + 256;

/// A trie key: the first `prefix_len` bits of `data` (data in network
/// order for addresses). Sent to the kernel as the 4 bytes of `prefix_len`
/// followed by `data`'s bytes, whatever `T`'s alignment.
///
/// ```
/// use bpf2rs::map::LpmKey;
/// let net = LpmKey::new(24, [192u8, 168, 1, 0]);
/// assert_eq!(net.prefix_len, 24);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct LpmKey<T> {
    /// Significant bits of `data`, from its first byte's highest bit.
    pub prefix_len: u32,
    /// The prefix bytes.
    pub data: T,
}

impl<T> LpmKey<T> {
    /// A key of the first `prefix_len` bits of `data`.
    pub fn new(prefix_len: u32, data: T) -> LpmKey<T> {
        LpmKey { prefix_len, data }
    }
}

/// A longest-prefix-match trie from prefixes of `K` to `V`.
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, LpmKey, LpmTrie, MapFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let routes = LpmTrie::<[u8; 4], u32>::create("routes", 1024, CreateFlags::NONE)?;
/// routes.insert(&LpmKey::new(8, [10, 0, 0, 0]), &1, MapFlags::ANY)?;
/// routes.insert(&LpmKey::new(16, [10, 1, 0, 0]), &2, MapFlags::ANY)?;
/// assert_eq!(routes.get(&LpmKey::new(32, [10, 1, 2, 3]))?, Some(2));
/// assert_eq!(routes.get(&LpmKey::new(32, [10, 9, 9, 9]))?, Some(1));
/// # Ok(()) }
/// ```
pub struct LpmTrie<K, V> {
    map: Map,
    _types: PhantomData<fn() -> (K, V)>,
}

map_handle!(impl[K: Pod, V: Pod] LpmTrie<K, V>);

impl<K: Pod, V: Pod> LpmTrie<K, V> {
    /// Creates a trie for `max_entries` prefixes (`NO_PREALLOC` is added: the
    /// kernel requires it for tries).
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, LpmTrie};
    /// let t = LpmTrie::<[u8; 16], u64>::create("v6", 4096, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        let map = Map::create_simple(
            name,
            MapType::LPM_TRIE,
            4 + size_of::<K>(),
            size_of::<V>(),
            max_entries,
            flags | CreateFlags::NO_PREALLOC,
        )?;
        Self::from_map(map)
    }

    /// Wraps `map` after checking that it is a trie with `4 + size_of::<K>()`
    /// byte keys and `V`-sized values.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let t = bpf2rs::map::LpmTrie::<[u8; 4], u32>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        if 4 + size_of::<K>() > KEY_MAX {
            return Err(MapError::Invalid {
                map: map.name().to_owned(),
                op: "from_map",
                message: format!(
                    "key data is {} bytes, tries take at most {}",
                    size_of::<K>(),
                    KEY_MAX - 4
                ),
            });
        }
        map.check(&[MapType::LPM_TRIE], 4 + size_of::<K>(), size_of::<V>())?;
        Ok(LpmTrie {
            map,
            _types: PhantomData,
        })
    }

    /// The value of the longest stored prefix that matches the first
    /// `key.prefix_len` bits of `key.data`, or `None`.
    ///
    /// ```no_run
    /// use bpf2rs::map::LpmKey;
    /// # fn f(t: &bpf2rs::map::LpmTrie<[u8; 4], u32>) -> Result<(), bpf2rs::map::MapError> {
    /// let route = t.get(&LpmKey::new(32, [10, 1, 2, 3]))?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, key: &LpmKey<K>) -> Result<Option<V>, MapError> {
        let mut value = V::zeroed();
        Ok(self.get_into(key, &mut value)?.then_some(value))
    }

    /// [`get`](Self::get) into a caller's value; `Ok(false)` if no prefix matches.
    pub fn get_into(&self, key: &LpmKey<K>, value: &mut V) -> Result<bool, MapError> {
        let mut buf = [0u8; KEY_MAX];
        self.map
            .map_fd()
            .lookup(encode(key, &mut buf), value.as_bytes_mut(), 0)
            .map_err(self.map.err("get"))
    }

    /// Stores `value` for exactly this prefix (flags as for
    /// [`HashMap::insert`](super::HashMap::insert)).
    ///
    /// ```no_run
    /// use bpf2rs::map::{LpmKey, MapFlags};
    /// # fn f(t: &bpf2rs::map::LpmTrie<[u8; 4], u32>) -> Result<(), bpf2rs::map::MapError> {
    /// t.insert(&LpmKey::new(24, [192, 168, 1, 0]), &7, MapFlags::ANY)?;
    /// # Ok(()) }
    /// ```
    pub fn insert(&self, key: &LpmKey<K>, value: &V, flags: MapFlags) -> Result<(), MapError> {
        let mut buf = [0u8; KEY_MAX];
        self.map
            .map_fd()
            .update(encode(key, &mut buf), value.as_bytes(), flags.0)
            .map_err(self.map.err("insert"))
    }

    /// Removes exactly this prefix; `Ok(false)` if it was not stored.
    ///
    /// ```no_run
    /// use bpf2rs::map::LpmKey;
    /// # fn f(t: &bpf2rs::map::LpmTrie<[u8; 4], u32>) -> Result<(), bpf2rs::map::MapError> {
    /// t.remove(&LpmKey::new(24, [192, 168, 1, 0]))?;
    /// # Ok(()) }
    /// ```
    pub fn remove(&self, key: &LpmKey<K>) -> Result<bool, MapError> {
        let mut buf = [0u8; KEY_MAX];
        self.map
            .map_fd()
            .delete(encode(key, &mut buf))
            .map_err(self.map.err("remove"))
    }

    /// The stored prefixes (the kernel walks the trie in post-order; a
    /// deleted current key restarts the walk).
    ///
    /// ```no_run
    /// # fn f(t: &bpf2rs::map::LpmTrie<[u8; 4], u32>) -> Result<(), bpf2rs::map::MapError> {
    /// for key in t.keys() {
    ///     let key = key?;
    ///     println!("{:?}/{}", key.data, key.prefix_len);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn keys(&self) -> LpmKeys<'_, K> {
        LpmKeys {
            map: &self.map,
            prev: None,
            done: false,
        }
    }

    /// The stored prefixes with their values.
    ///
    /// ```no_run
    /// # fn f(t: &bpf2rs::map::LpmTrie<[u8; 4], u32>) -> Result<(), bpf2rs::map::MapError> {
    /// for entry in t.iter() {
    ///     let (key, value) = entry?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter(&self) -> LpmIter<'_, K, V> {
        LpmIter {
            raw: RawIter::new(&self.map, "iter", false),
            _types: PhantomData,
        }
    }
}

/// The kernel's key bytes for `key`, in `buf`.
fn encode<'b, K: Pod>(key: &LpmKey<K>, buf: &'b mut [u8; KEY_MAX]) -> &'b [u8] {
    let data = key.data.as_bytes();
    let len = (4 + data.len()).min(KEY_MAX);
    buf[..4].copy_from_slice(&key.prefix_len.to_ne_bytes());
    if let Some(dst) = buf.get_mut(4..len) {
        dst.copy_from_slice(&data[..len - 4]);
    }
    &buf[..len]
}

fn decode<K: Pod>(bytes: &[u8]) -> LpmKey<K> {
    LpmKey {
        prefix_len: read(bytes),
        data: read(bytes.get(4..).unwrap_or_default()),
    }
}

/// A trie's prefixes, one BPF_MAP_GET_NEXT_KEY each, without allocating;
/// made by [`LpmTrie::keys`].
pub struct LpmKeys<'a, K> {
    map: &'a Map,
    prev: Option<LpmKey<K>>,
    done: bool,
}

impl<K: Pod> Iterator for LpmKeys<'_, K> {
    type Item = Result<LpmKey<K>, MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (mut prev_buf, mut next_buf) = ([0u8; KEY_MAX], [0u8; KEY_MAX]);
        let prev = self.prev.as_ref().map(|k| encode(k, &mut prev_buf));
        let next = &mut next_buf[..(4 + size_of::<K>()).min(KEY_MAX)];
        let step = next_key_step(self.map, &mut self.done, prev, next);
        Some(step?.map(|()| {
            let key = decode(next);
            self.prev = Some(key);
            key
        }))
    }
}

/// A trie's prefixes and values; made by [`LpmTrie::iter`].
pub struct LpmIter<'a, K, V> {
    raw: RawIter<'a>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Pod, V: Pod> Iterator for LpmIter<'_, K, V> {
    type Item = Result<(LpmKey<K>, V), MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.raw.next_with(|k, v| (decode(k), read(v)))
    }
}

impl<K> std::fmt::Debug for LpmKeys<'_, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LpmKeys").finish_non_exhaustive()
    }
}

impl<K, V> std::fmt::Debug for LpmIter<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LpmIter").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefix_then_data_bytes() {
        let mut buf = [0u8; KEY_MAX];
        let key = LpmKey::new(24, [192u8, 168, 1, 0]);
        let bytes = encode(&key, &mut buf);
        assert_eq!(bytes.len(), 8);
        assert_eq!(&bytes[..4], &24u32.to_ne_bytes());
        assert_eq!(&bytes[4..], &[192, 168, 1, 0]);
        assert_eq!(decode::<[u8; 4]>(bytes), key);
        // An 8-aligned data type still follows the prefix directly.
        let wide = LpmKey::new(64, 0x0102_0304_0506_0708u64);
        let bytes = encode(&wide, &mut buf);
        assert_eq!(bytes.len(), 12);
        assert_eq!(decode::<u64>(bytes), wide);
    }
}
