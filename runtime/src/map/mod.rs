//! Typed map handles, one file per kernel map family.
//!
//! In: an open map (an fd from the loader, a pin, or created here). Out:
//! handles whose operations take `&self`, are `Send + Sync` (the kernel
//! serialises), and move keys and values as [`Pod`](crate::Pod) types without
//! allocating per element.
//!
//! Every handle is usable on its own: `::create(name, max_entries, flags)`
//! makes a new map, `::from_pin(path)`, `::from_fd(fd)` and `::from_map(map)`
//! wrap an existing one after checking its type and its key and value sizes
//! against the Rust types. `map()` gives the untyped [`Map`] under every
//! handle, and every handle has `info`, `pin`, `unpin` and `freeze`.
//!
//! ```no_run
//! use bpf2rs::map::{CreateFlags, HashMap, MapFlags};
//! # fn main() -> Result<(), bpf2rs::map::MapError> {
//! let flows = HashMap::<u32, u64>::create("flows", 1024, CreateFlags::NONE)?;
//! flows.insert(&7, &70, MapFlags::ANY)?;
//! assert_eq!(flows.get(&7)?, Some(70));
//! for entry in flows.iter() {
//!     let (key, value) = entry?;
//!     println!("{key} -> {value}");
//! }
//! # Ok(()) }
//! ```

mod array;
mod bloom_filter;
mod cgroup_array;
mod cpu_map;
mod dev_map;
mod error;
mod hash;
mod iter;
mod lpm_trie;
mod map_of_maps;
mod percpu;
mod percpu_array;
mod percpu_hash;
mod prog_array;
mod queue;
mod sock_map;
mod stack_trace;
mod untyped;
mod xsk_map;

pub use array::{Array, ArrayIter};
pub use bloom_filter::BloomFilter;
pub use cgroup_array::CgroupArray;
pub use cpu_map::{CpuMap, CpuMapValue};
pub use dev_map::{DevMap, DevMapHash, DevMapValue, DeviceMap};
pub use error::MapError;
pub use hash::{HashMap, HashTable, LruHashMap};
pub use iter::{BatchCursor, Iter, Keys};
pub use lpm_trie::{LpmIter, LpmKey, LpmKeys, LpmTrie};
pub use map_of_maps::{ArrayOfMaps, HashOfMaps};
pub use percpu::{PerCpuIter, PerCpuValues};
pub use percpu_array::PerCpuArray;
pub use percpu_hash::{LruPerCpuHashMap, PerCpuHashMap, PerCpuHashTable};
pub use prog_array::ProgArray;
pub use queue::{PushPopMap, Queue, Stack};
pub use sock_map::{SockHash, SockMap};
pub use stack_trace::StackTrace;
pub use untyped::{unpin, CreateFlags, Map, MapFlags, MapInfo};
pub use xsk_map::XskMap;

use std::os::fd::AsFd;

/// What every map handle has: the untyped [`Map`] under it, and a checked
/// way to make one from a `Map`. Generic code (e.g. [`ArrayOfMaps`]) uses it
/// to hand back inner maps as typed handles.
///
/// ```no_run
/// use bpf2rs::map::{HashMap, Map, MapHandle};
/// # fn f(map: Map) -> Result<(), bpf2rs::map::MapError> {
/// let counts: HashMap<u32, u64> = MapHandle::from_map(map)?;
/// println!("{}", counts.map().info().max_entries);
/// # Ok(()) }
/// ```
pub trait MapHandle: AsFd + Sized + Send + Sync {
    /// Wraps `map` after checking its type and sizes against this handle.
    fn from_map(map: Map) -> Result<Self, MapError>;
    /// The untyped map under the handle.
    fn map(&self) -> &Map;
    /// Gives the untyped map back.
    fn into_map(self) -> Map;
}

/// Marker types that pick the kernel map type of a generic handle
/// ([`HashTable`], [`PerCpuHashTable`], [`PushPopMap`], [`DeviceMap`]).
pub mod kind {
    use crate::obj::MapType;

    mod sealed {
        pub trait Sealed {}
    }

    /// A kernel map type a generic handle can stand for.
    pub trait Kind: sealed::Sealed + Send + Sync + 'static {
        /// The kernel's map type.
        const MAP_TYPE: MapType;
    }

    macro_rules! kinds {
        ($($(#[$doc:meta])* $name:ident = $ty:ident: $family:ident;)*) => { $(
            $(#[$doc])*
            #[derive(Debug)]
            pub enum $name {}
            impl sealed::Sealed for $name {}
            impl Kind for $name {
                const MAP_TYPE: MapType = MapType::$ty;
            }
            impl $family for $name {}
        )* };
    }

    /// Kinds of [`HashTable`](super::HashTable).
    pub trait HashKind: Kind {}
    /// Kinds of [`PerCpuHashTable`](super::PerCpuHashTable).
    pub trait PerCpuHashKind: Kind {}
    /// Kinds of [`PushPopMap`](super::PushPopMap).
    pub trait PushPopKind: Kind {}
    /// Kinds of [`DeviceMap`](super::DeviceMap).
    pub trait DeviceKind: Kind {}

    kinds! {
        /// `BPF_MAP_TYPE_HASH`.
        Hash = HASH: HashKind;
        /// `BPF_MAP_TYPE_LRU_HASH`.
        LruHash = LRU_HASH: HashKind;
        /// `BPF_MAP_TYPE_PERCPU_HASH`.
        PerCpuHash = PERCPU_HASH: PerCpuHashKind;
        /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
        LruPerCpuHash = LRU_PERCPU_HASH: PerCpuHashKind;
        /// `BPF_MAP_TYPE_QUEUE`.
        Queue = QUEUE: PushPopKind;
        /// `BPF_MAP_TYPE_STACK`.
        Stack = STACK: PushPopKind;
        /// `BPF_MAP_TYPE_DEVMAP`.
        DevMap = DEVMAP: DeviceKind;
        /// `BPF_MAP_TYPE_DEVMAP_HASH`.
        DevMapHash = DEVMAP_HASH: DeviceKind;
    }
}

/// The methods every handle shares, as inherent methods (no trait import
/// needed), plus `AsFd`, `Debug` and [`MapHandle`]. The handle must have a
/// `map: Map` field and an inherent `from_map`.
macro_rules! map_handle {
    (impl[$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> $ty {
            /// Opens the map pinned at `path` and checks it like `from_map`.
            pub fn from_pin(path: impl AsRef<std::path::Path>) -> Result<Self, $crate::map::MapError> {
                Self::from_map($crate::map::Map::from_pin(path)?)
            }

            /// Wraps an open map fd (named as the kernel names it) and checks
            /// it like `from_map`. The fd is closed if the check fails.
            pub fn from_fd(fd: std::os::fd::OwnedFd) -> Result<Self, $crate::map::MapError> {
                Self::from_map($crate::map::Map::from_fd("", fd)?)
            }

            /// The untyped map under this handle.
            pub fn map(&self) -> &$crate::map::Map {
                &self.map
            }

            /// Gives the untyped map back.
            pub fn into_map(self) -> $crate::map::Map {
                self.map
            }

            /// The map's name, as used in error messages.
            pub fn name(&self) -> &str {
                self.map.name()
            }

            /// What the kernel reported about the map: type, sizes,
            /// max_entries, flags, id, name, BTF ids.
            pub fn info(&self) -> &$crate::map::MapInfo {
                self.map.info()
            }

            /// Pins the map at `path` in a mounted bpffs.
            pub fn pin(&self, path: impl AsRef<std::path::Path>) -> Result<(), $crate::map::MapError> {
                self.map.pin(path)
            }

            /// Removes the pin this handle made or was opened from.
            pub fn unpin(&self) -> Result<(), $crate::map::MapError> {
                self.map.unpin()
            }

            /// Freezes the map: from now on user space cannot write it.
            pub fn freeze(&self) -> Result<(), $crate::map::MapError> {
                self.map.freeze()
            }
        }

        impl<$($gen)*> std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.map.as_fd()
            }
        }

        impl<$($gen)*> std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(std::any::type_name::<Self>())
                    .field("map", &self.map)
                    .finish()
            }
        }

        impl<$($gen)*> $crate::map::MapHandle for $ty {
            fn from_map(map: $crate::map::Map) -> Result<Self, $crate::map::MapError> {
                <$ty>::from_map(map)
            }
            fn map(&self) -> &$crate::map::Map {
                &self.map
            }
            fn into_map(self) -> $crate::map::Map {
                self.map
            }
        }
    };
}
pub(crate) use map_handle;

/// The Rust types a handle is generic over, without owning any (keeps
/// handles `Send + Sync` whatever the types).
pub(crate) type Types<T> = std::marker::PhantomData<fn() -> T>;

/// Creates a map of `map_type` with `K`-sized keys and `V`-sized values,
/// for the handles whose `create` is just that.
pub(crate) fn create_sized<K, V>(
    name: &str,
    map_type: crate::obj::MapType,
    max_entries: u32,
    flags: CreateFlags,
) -> Result<Map, MapError> {
    let (key_size, value_size) = (size_of::<K>(), size_of::<V>());
    Map::create_simple(name, map_type, key_size, value_size, max_entries, flags)
}

/// Checks that `map` is of `map_type` with `K`-sized keys and `V`-sized
/// values (per CPU, for per-CPU maps), for the handles' `from_map`.
pub(crate) fn check_sized<K, V>(map: &Map, map_type: crate::obj::MapType) -> Result<(), MapError> {
    map.check(&[map_type], size_of::<K>(), size_of::<V>())
}

/// An index past the end of an array-like map.
pub(crate) fn check_index(map: &Map, op: &'static str, index: u32) -> Result<(), MapError> {
    let len = map.info().max_entries;
    if index < len {
        Ok(())
    } else {
        Err(MapError::Invalid {
            map: map.name().to_owned(),
            op,
            message: format!("index {index} is out of bounds: the map has {len} entries"),
        })
    }
}

/// A value read from bytes whose length the handle already checked.
pub(crate) fn read<T: crate::Pod>(bytes: &[u8]) -> T {
    // The callers pass slices at least size_of::<T>() long (the map's sizes
    // were checked against T when the handle was made).
    T::from_bytes(bytes).unwrap_or_else(T::zeroed)
}
