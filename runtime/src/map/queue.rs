//! `Queue<V>` and `Stack<V>`: one implementation, [`PushPopMap`], over
//! `BPF_MAP_TYPE_QUEUE` (FIFO) and `BPF_MAP_TYPE_STACK` (LIFO).
//!
//! In: a keyless map with `V`-sized values. Out: push, pop and peek.

use std::marker::PhantomData;

use super::kind::{self, PushPopKind};
use super::{map_handle, CreateFlags, Map, MapError, MapFlags};
use crate::Pod;

/// A FIFO of `V` (`BPF_MAP_TYPE_QUEUE`).
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, MapFlags, Queue};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let q = Queue::<u32>::create("jobs", 64, CreateFlags::NONE)?;
/// q.push(&1, MapFlags::ANY)?;
/// q.push(&2, MapFlags::ANY)?;
/// assert_eq!(q.pop()?, Some(1));
/// # Ok(()) }
/// ```
pub type Queue<V> = PushPopMap<V, kind::Queue>;

/// A LIFO of `V` (`BPF_MAP_TYPE_STACK`).
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, MapFlags, Stack};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let s = Stack::<u32>::create("undo", 64, CreateFlags::NONE)?;
/// s.push(&1, MapFlags::ANY)?;
/// s.push(&2, MapFlags::ANY)?;
/// assert_eq!(s.pop()?, Some(2));
/// # Ok(()) }
/// ```
pub type Stack<V> = PushPopMap<V, kind::Stack>;

/// The queue and stack handle; use it through [`Queue`] or [`Stack`].
pub struct PushPopMap<V, T> {
    map: Map,
    _types: PhantomData<fn() -> (V, T)>,
}

map_handle!(impl[V: Pod, T: PushPopKind] PushPopMap<V, T>);

impl<V: Pod, T: PushPopKind> PushPopMap<V, T> {
    /// Creates one with room for `max_entries` values.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, Queue};
    /// let q = Queue::<[u8; 32]>::create("events", 1024, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        let map = Map::create_simple(name, T::MAP_TYPE, 0, size_of::<V>(), max_entries, flags)?;
        Self::from_map(map)
    }

    /// Wraps `map` after checking its type, that it has no key, and that its
    /// values are `V`-sized.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let q = bpf2rs::map::Queue::<u64>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        map.check(&[T::MAP_TYPE], 0, size_of::<V>())?;
        Ok(PushPopMap {
            map,
            _types: PhantomData,
        })
    }

    /// Adds `value`. When full: E2BIG ("map is full") with
    /// [`MapFlags::ANY`]; with [`MapFlags::EXIST`] the oldest (queue) or
    /// bottom (stack) value makes room instead.
    ///
    /// ```no_run
    /// use bpf2rs::map::MapFlags;
    /// # fn f(q: &bpf2rs::map::Queue<u32>) -> Result<(), bpf2rs::map::MapError> {
    /// q.push(&9, MapFlags::EXIST)?;
    /// # Ok(()) }
    /// ```
    pub fn push(&self, value: &V, flags: MapFlags) -> Result<(), MapError> {
        self.map
            .map_fd()
            .update(&[], value.as_bytes(), flags.0)
            .map_err(self.map.err("push"))
    }

    /// Takes the next value (queue: oldest; stack: newest); `None` if empty.
    ///
    /// ```no_run
    /// # fn f(q: &bpf2rs::map::Queue<u32>) -> Result<(), bpf2rs::map::MapError> {
    /// while let Some(v) = q.pop()? {
    ///     println!("{v}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pop(&self) -> Result<Option<V>, MapError> {
        let mut value = V::zeroed();
        let found = self
            .map
            .map_fd()
            .lookup_and_delete(&[], value.as_bytes_mut(), 0)
            .map_err(self.map.err("pop"))?;
        Ok(found.then_some(value))
    }

    /// The value [`pop`](Self::pop) would take, left in place; `None` if empty.
    ///
    /// ```no_run
    /// # fn f(q: &bpf2rs::map::Queue<u32>) -> Result<(), bpf2rs::map::MapError> {
    /// let next = q.peek()?;
    /// # Ok(()) }
    /// ```
    pub fn peek(&self) -> Result<Option<V>, MapError> {
        let mut value = V::zeroed();
        let found = self
            .map
            .map_fd()
            .peek(value.as_bytes_mut())
            .map_err(self.map.err("peek"))?;
        Ok(found.then_some(value))
    }
}
