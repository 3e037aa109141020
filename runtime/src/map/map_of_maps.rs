//! `ArrayOfMaps<I>` and `HashOfMaps<K, I>`: `BPF_MAP_TYPE_ARRAY_OF_MAPS`
//! and `BPF_MAP_TYPE_HASH_OF_MAPS`, maps whose values are other maps.
//!
//! In: an outer map (u32 or `K` keys, 4-byte values). Out: set a slot from
//! any map handle or fd; read it back as the inner map's handle `I` (the
//! kernel returns the inner map's id, which is opened with
//! BPF_MAP_GET_FD_BY_ID and checked like `I::from_map`).

use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use super::iter::Keys;
use super::{check_index, map_handle, CreateFlags, Map, MapError, MapFlags, MapHandle};
use crate::obj::MapType;
use crate::sys;
use crate::Pod;

/// An array of maps; inner maps come back as `I` (default: the untyped
/// [`Map`]).
///
/// ```no_run
/// use bpf2rs::map::{ArrayOfMaps, CreateFlags, HashMap};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let inner = HashMap::<u32, u64>::create("inner", 64, CreateFlags::NONE)?;
/// let outer = ArrayOfMaps::<HashMap<u32, u64>>::create("outer", 4, &inner, CreateFlags::NONE)?;
/// outer.set(0, &inner)?;
/// let back: Option<HashMap<u32, u64>> = outer.get(0)?;
/// # Ok(()) }
/// ```
pub struct ArrayOfMaps<I = Map> {
    map: Map,
    _types: PhantomData<fn() -> I>,
}

/// A hash map of `K` to maps; inner maps come back as `I` (default: the
/// untyped [`Map`]).
///
/// ```no_run
/// use bpf2rs::map::{Array, CreateFlags, HashOfMaps, MapFlags};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let inner = Array::<u64>::create("per_tenant", 16, CreateFlags::NONE)?;
/// let tenants = HashOfMaps::<u32, Array<u64>>::create("tenants", 64, &inner, CreateFlags::NONE)?;
/// tenants.insert(&7, &inner, MapFlags::ANY)?;
/// # Ok(()) }
/// ```
pub struct HashOfMaps<K, I = Map> {
    map: Map,
    _types: PhantomData<fn() -> (K, I)>,
}

map_handle!(impl[I: MapHandle] ArrayOfMaps<I>);
map_handle!(impl[K: Pod, I: MapHandle] HashOfMaps<K, I>);

/// Creates an outer map whose inner maps look like `template`.
fn create_outer(
    name: &str,
    map_type: MapType,
    key_size: u32,
    max_entries: u32,
    template: BorrowedFd<'_>,
    flags: CreateFlags,
) -> Result<Map, MapError> {
    Map::create(&sys::MapCreate {
        name,
        map_type: map_type.0,
        key_size,
        value_size: 4,
        max_entries,
        map_flags: flags.0,
        inner_map_fd: Some(template),
        ..Default::default()
    })
}

/// The inner map with kernel id `id`, as `I`.
fn open_inner<I: MapHandle>(outer: &Map, id: u32) -> Result<I, MapError> {
    let fd = sys::map_fd_by_id(id).map_err(outer.err("get"))?;
    I::from_map(Map::from_fd("", fd)?)
}

/// Reads a slot: `Some(id)` of the inner map, or `None` if empty.
fn lookup_id(map: &Map, key: &[u8]) -> Result<Option<u32>, MapError> {
    let mut id = [0u8; 4];
    let found = map
        .map_fd()
        .lookup(key, &mut id, 0)
        .map_err(map.err("get"))?;
    Ok(found.then(|| u32::from_ne_bytes(id)))
}

fn fd_bytes(inner: &impl AsFd) -> [u8; 4] {
    (inner.as_fd().as_raw_fd() as u32).to_ne_bytes()
}

impl<I: MapHandle> ArrayOfMaps<I> {
    /// Creates an array of `max_entries` empty slots whose inner maps must
    /// match `template` (type, sizes, flags, and max_entries unless
    /// [`CreateFlags::INNER_MAP`]).
    ///
    /// ```no_run
    /// use bpf2rs::map::{Array, ArrayOfMaps, CreateFlags};
    /// # fn main() -> Result<(), bpf2rs::map::MapError> {
    /// let template = Array::<u32>::create("tmpl", 8, CreateFlags::NONE)?;
    /// let outer = ArrayOfMaps::<Array<u32>>::create("outer", 4, &template, CreateFlags::NONE)?;
    /// # Ok(()) }
    /// ```
    pub fn create(
        name: &str,
        max_entries: u32,
        template: &impl AsFd,
        flags: CreateFlags,
    ) -> Result<Self, MapError> {
        Self::from_map(create_outer(
            name,
            MapType::ARRAY_OF_MAPS,
            4,
            max_entries,
            template.as_fd(),
            flags,
        )?)
    }

    /// Wraps `map` after checking that it is an array of maps.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let outer = bpf2rs::map::ArrayOfMaps::<bpf2rs::map::Map>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        map.check(&[MapType::ARRAY_OF_MAPS], 4, 4)?;
        Ok(ArrayOfMaps {
            map,
            _types: PhantomData,
        })
    }

    /// Number of slots (`max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts `inner` (any map handle or map fd) in slot `index`.
    ///
    /// ```no_run
    /// # fn f(outer: &bpf2rs::map::ArrayOfMaps, inner: &bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// outer.set(0, inner)?;
    /// # Ok(()) }
    /// ```
    pub fn set(&self, index: u32, inner: &impl AsFd) -> Result<(), MapError> {
        const OP: &str = "set";
        check_index(&self.map, OP, index)?;
        self.map
            .map_fd()
            .update(&index.to_ne_bytes(), &fd_bytes(inner), MapFlags::ANY.0)
            .map_err(self.map.err(OP))
    }

    /// The kernel id of the map in slot `index`, or `None` if empty.
    pub fn get_id(&self, index: u32) -> Result<Option<u32>, MapError> {
        check_index(&self.map, "get", index)?;
        lookup_id(&self.map, &index.to_ne_bytes())
    }

    /// The map in slot `index`, opened by id and checked as `I`; `None` if
    /// the slot is empty.
    ///
    /// ```no_run
    /// # fn f(outer: &bpf2rs::map::ArrayOfMaps) -> Result<(), bpf2rs::map::MapError> {
    /// if let Some(inner) = outer.get(0)? {
    ///     println!("{}", inner.info().name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get(&self, index: u32) -> Result<Option<I>, MapError> {
        self.get_id(index)?
            .map(|id| open_inner(&self.map, id))
            .transpose()
    }

    /// Empties slot `index`; `Ok(false)` if it was empty.
    pub fn remove(&self, index: u32) -> Result<bool, MapError> {
        const OP: &str = "remove";
        check_index(&self.map, OP, index)?;
        self.map
            .map_fd()
            .delete(&index.to_ne_bytes())
            .map_err(self.map.err(OP))
    }
}

impl<K: Pod, I: MapHandle> HashOfMaps<K, I> {
    /// Creates a hash of maps with room for `max_entries` keys, whose inner
    /// maps must match `template`.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, HashMap, HashOfMaps};
    /// # fn main() -> Result<(), bpf2rs::map::MapError> {
    /// let template = HashMap::<u32, u32>::create("tmpl", 8, CreateFlags::NONE)?;
    /// let outer = HashOfMaps::<u64, HashMap<u32, u32>>::create("outer", 4, &template, CreateFlags::NONE)?;
    /// # Ok(()) }
    /// ```
    pub fn create(
        name: &str,
        max_entries: u32,
        template: &impl AsFd,
        flags: CreateFlags,
    ) -> Result<Self, MapError> {
        let key_size = u32::try_from(size_of::<K>()).map_err(|_| MapError::Invalid {
            map: name.to_owned(),
            op: "create",
            message: format!("key size {} does not fit the kernel's u32", size_of::<K>()),
        })?;
        Self::from_map(create_outer(
            name,
            MapType::HASH_OF_MAPS,
            key_size,
            max_entries,
            template.as_fd(),
            flags,
        )?)
    }

    /// Wraps `map` after checking that it is a hash of maps with `K`-sized keys.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let outer = bpf2rs::map::HashOfMaps::<u32>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        map.check(&[MapType::HASH_OF_MAPS], size_of::<K>(), 4)?;
        Ok(HashOfMaps {
            map,
            _types: PhantomData,
        })
    }

    /// Puts `inner` (any map handle or map fd) at `key`; flags as for
    /// [`HashMap::insert`](super::HashMap::insert).
    ///
    /// ```no_run
    /// use bpf2rs::map::MapFlags;
    /// # fn f(outer: &bpf2rs::map::HashOfMaps<u32>, inner: &bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// outer.insert(&3, inner, MapFlags::NOEXIST)?;
    /// # Ok(()) }
    /// ```
    pub fn insert(&self, key: &K, inner: &impl AsFd, flags: MapFlags) -> Result<(), MapError> {
        self.map
            .map_fd()
            .update(key.as_bytes(), &fd_bytes(inner), flags.0)
            .map_err(self.map.err("insert"))
    }

    /// The kernel id of the map at `key`, or `None`.
    pub fn get_id(&self, key: &K) -> Result<Option<u32>, MapError> {
        lookup_id(&self.map, key.as_bytes())
    }

    /// The map at `key`, opened by id and checked as `I`; `None` if absent.
    ///
    /// ```no_run
    /// # fn f(outer: &bpf2rs::map::HashOfMaps<u32>) -> Result<(), bpf2rs::map::MapError> {
    /// let inner = outer.get(&3)?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, key: &K) -> Result<Option<I>, MapError> {
        self.get_id(key)?
            .map(|id| open_inner(&self.map, id))
            .transpose()
    }

    /// Removes `key`; `Ok(false)` if it was absent.
    pub fn remove(&self, key: &K) -> Result<bool, MapError> {
        self.map
            .map_fd()
            .delete(key.as_bytes())
            .map_err(self.map.err("remove"))
    }

    /// The keys, one BPF_MAP_GET_NEXT_KEY each.
    pub fn keys(&self) -> Keys<'_, K> {
        Keys::new(&self.map)
    }
}
