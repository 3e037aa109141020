//! `SockMap` and `SockHash<K>`: `BPF_MAP_TYPE_SOCKMAP` (u32 index) and
//! `BPF_MAP_TYPE_SOCKHASH` (`K` key), sockets for sk_msg / sk_skb
//! redirects.
//!
//! In: a socket map whose values are 8 bytes (socket fd when written,
//! socket cookie when read; 4-byte maps can be written but not read).
//! Out: insert a socket from its fd, read back its cookie, remove.

use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::iter::Keys;
use super::{check_index, map_handle, CreateFlags, Map, MapError, MapFlags};
use crate::obj::MapType;
use crate::Pod;

/// Sockets by index (`BPF_MAP_TYPE_SOCKMAP`).
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, MapFlags, SockMap};
/// use std::os::fd::AsFd;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let socks = SockMap::create("socks", 16, CreateFlags::NONE)?;
/// let stream = std::net::TcpStream::connect("127.0.0.1:8080")?;
/// socks.set(0, stream.as_fd(), MapFlags::ANY)?;
/// println!("cookie {:?}", socks.get(0)?);
/// # Ok(()) }
/// ```
pub struct SockMap {
    map: Map,
}

/// Sockets by a key of `K` (`BPF_MAP_TYPE_SOCKHASH`).
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, MapFlags, SockHash};
/// use std::os::fd::AsFd;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let socks = SockHash::<u64>::create("by_flow", 1024, CreateFlags::NONE)?;
/// let stream = std::net::TcpStream::connect("127.0.0.1:8080")?;
/// socks.insert(&42, stream.as_fd(), MapFlags::ANY)?;
/// # Ok(()) }
/// ```
pub struct SockHash<K> {
    map: Map,
    _types: PhantomData<fn() -> K>,
}

map_handle!(impl[] SockMap);
map_handle!(impl[K: Pod] SockHash<K>);

fn check_sock(map: &Map, map_type: MapType, key_size: usize) -> Result<(), MapError> {
    let value_size = if map.info().value_size == 4 { 4 } else { 8 };
    map.check(&[map_type], key_size, value_size)
}

fn update_sock(
    map: &Map,
    op: &'static str,
    key: &[u8],
    socket: BorrowedFd<'_>,
    flags: MapFlags,
) -> Result<(), MapError> {
    // sock_map_update_elem_sys reads a u64 fd from 8-byte values, a u32 from
    // 4-byte ones (net/core/sock_map.c).
    let fd = u64::from(socket.as_raw_fd() as u32).to_ne_bytes();
    let size = map.map_fd().value_size().min(8);
    map.map_fd()
        .update(key, &fd[..size], flags.0)
        .map_err(map.err(op))
}

fn lookup_cookie(map: &Map, key: &[u8]) -> Result<Option<u64>, MapError> {
    const OP: &str = "get";
    if map.map_fd().value_size() != 8 {
        return Err(MapError::Invalid {
            map: map.name().to_owned(),
            op: OP,
            message: "socket cookies can only be read from maps with 8-byte values".into(),
        });
    }
    let mut cookie = [0u8; 8];
    let found = map
        .map_fd()
        .lookup(key, &mut cookie, 0)
        .map_err(map.err(OP))?;
    Ok(found.then(|| u64::from_ne_bytes(cookie)))
}

impl SockMap {
    /// Creates a map of `max_entries` empty slots with 8-byte values.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, SockMap};
    /// let socks = SockMap::create("socks", 16, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::from_map(Map::create_simple(
            name,
            MapType::SOCKMAP,
            4,
            8,
            max_entries,
            flags,
        )?)
    }

    /// Wraps `map` after checking that it is a sockmap with 4- or 8-byte values.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let socks = bpf2rs::map::SockMap::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        check_sock(&map, MapType::SOCKMAP, 4)?;
        Ok(SockMap { map })
    }

    /// Number of slots (`max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts `socket` (an established TCP, a UDP or a unix socket) in slot `index`.
    ///
    /// ```no_run
    /// # fn f(m: &bpf2rs::map::SockMap, s: std::os::fd::BorrowedFd<'_>) -> Result<(), bpf2rs::map::MapError> {
    /// m.set(0, s, bpf2rs::map::MapFlags::ANY)?;
    /// # Ok(()) }
    /// ```
    pub fn set(&self, index: u32, socket: BorrowedFd<'_>, flags: MapFlags) -> Result<(), MapError> {
        const OP: &str = "set";
        check_index(&self.map, OP, index)?;
        update_sock(&self.map, OP, &index.to_ne_bytes(), socket, flags)
    }

    /// The cookie (`SO_COOKIE`) of the socket in slot `index`, or `None`.
    ///
    /// ```no_run
    /// # fn f(m: &bpf2rs::map::SockMap) -> Result<(), bpf2rs::map::MapError> {
    /// let cookie = m.get(0)?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, index: u32) -> Result<Option<u64>, MapError> {
        check_index(&self.map, "get", index)?;
        lookup_cookie(&self.map, &index.to_ne_bytes())
    }

    /// Empties slot `index`; `Ok(false)` if it was empty.
    pub fn remove(&self, index: u32) -> Result<bool, MapError> {
        const OP: &str = "remove";
        check_index(&self.map, OP, index)?;
        match self.map.map_fd().delete(&index.to_ne_bytes()) {
            Ok(found) => Ok(found),
            // An empty slot is EINVAL, not ENOENT (__sock_map_delete in
            // net/core/sock_map.c); the index was checked above.
            Err(e) if e.errno() == Some(libc::EINVAL) => Ok(false),
            Err(e) => Err(self.map.err(OP)(e)),
        }
    }
}

impl<K: Pod> SockHash<K> {
    /// Creates a map with room for `max_entries` sockets and 8-byte values.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, SockHash};
    /// let socks = SockHash::<u32>::create("socks", 1024, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::from_map(Map::create_simple(
            name,
            MapType::SOCKHASH,
            size_of::<K>(),
            8,
            max_entries,
            flags,
        )?)
    }

    /// Wraps `map` after checking that it is a sockhash with `K`-sized keys.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let socks = bpf2rs::map::SockHash::<u32>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        check_sock(&map, MapType::SOCKHASH, size_of::<K>())?;
        Ok(SockHash {
            map,
            _types: PhantomData,
        })
    }

    /// Puts `socket` at `key` (flags as for [`HashMap::insert`](super::HashMap::insert)).
    ///
    /// ```no_run
    /// # fn f(m: &bpf2rs::map::SockHash<u32>, s: std::os::fd::BorrowedFd<'_>) -> Result<(), bpf2rs::map::MapError> {
    /// m.insert(&1, s, bpf2rs::map::MapFlags::NOEXIST)?;
    /// # Ok(()) }
    /// ```
    pub fn insert(&self, key: &K, socket: BorrowedFd<'_>, flags: MapFlags) -> Result<(), MapError> {
        update_sock(&self.map, "insert", key.as_bytes(), socket, flags)
    }

    /// The cookie of the socket at `key`, or `None`.
    pub fn get(&self, key: &K) -> Result<Option<u64>, MapError> {
        lookup_cookie(&self.map, key.as_bytes())
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
