//! `ProgArray`: `BPF_MAP_TYPE_PROG_ARRAY`, the jump table of
//! `bpf_tail_call`.
//!
//! In: a program array (u32 index -> program). Out: set a slot from a
//! program fd, read back the program's id, clear a slot.

use std::os::fd::{AsRawFd, BorrowedFd};

use super::{check_index, map_handle, CreateFlags, Map, MapError, MapFlags};
use crate::obj::MapType;

/// A table of programs for tail calls.
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, ProgArray};
/// # fn f(prog: std::os::fd::BorrowedFd<'_>) -> Result<(), bpf2rs::map::MapError> {
/// let jumps = ProgArray::create("jumps", 8, CreateFlags::NONE)?;
/// jumps.set(0, prog)?;
/// println!("slot 0 runs program id {:?}", jumps.get(0)?);
/// # Ok(()) }
/// ```
pub struct ProgArray {
    map: Map,
}

map_handle!(impl[] ProgArray);

impl ProgArray {
    /// Creates a table of `max_entries` empty slots.
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, ProgArray};
    /// let jumps = ProgArray::create("jumps", 8, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(name: &str, max_entries: u32, flags: CreateFlags) -> Result<Self, MapError> {
        Self::from_map(Map::create_simple(
            name,
            MapType::PROG_ARRAY,
            4,
            4,
            max_entries,
            flags,
        )?)
    }

    /// Wraps `map` after checking that it is a program array.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let jumps = bpf2rs::map::ProgArray::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        map.check(&[MapType::PROG_ARRAY], 4, 4)?;
        Ok(ProgArray { map })
    }

    /// Number of slots (`max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts `prog` in slot `index`. The kernel holds its own reference: the
    /// fd may be closed afterwards.
    ///
    /// ```no_run
    /// # fn f(jumps: &bpf2rs::map::ProgArray, prog: std::os::fd::BorrowedFd<'_>) -> Result<(), bpf2rs::map::MapError> {
    /// jumps.set(1, prog)?;
    /// # Ok(()) }
    /// ```
    pub fn set(&self, index: u32, prog: BorrowedFd<'_>) -> Result<(), MapError> {
        const OP: &str = "set";
        check_index(&self.map, OP, index)?;
        let fd = prog.as_raw_fd() as u32;
        self.map
            .map_fd()
            .update(&index.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY.0)
            .map_err(self.map.err(OP))
    }

    /// The id of the program in slot `index`, or `None` if it is empty.
    ///
    /// ```no_run
    /// # fn f(jumps: &bpf2rs::map::ProgArray) -> Result<(), bpf2rs::map::MapError> {
    /// if let Some(id) = jumps.get(1)? {
    ///     println!("program {id}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get(&self, index: u32) -> Result<Option<u32>, MapError> {
        const OP: &str = "get";
        check_index(&self.map, OP, index)?;
        let mut id = [0u8; 4];
        let found = self
            .map
            .map_fd()
            .lookup(&index.to_ne_bytes(), &mut id, 0)
            .map_err(self.map.err(OP))?;
        Ok(found.then(|| u32::from_ne_bytes(id)))
    }

    /// Empties slot `index`; `Ok(false)` if it was empty.
    ///
    /// ```no_run
    /// # fn f(jumps: &bpf2rs::map::ProgArray) -> Result<(), bpf2rs::map::MapError> {
    /// jumps.remove(1)?;
    /// # Ok(()) }
    /// ```
    pub fn remove(&self, index: u32) -> Result<bool, MapError> {
        const OP: &str = "remove";
        check_index(&self.map, OP, index)?;
        self.map
            .map_fd()
            .delete(&index.to_ne_bytes())
            .map_err(self.map.err(OP))
    }
}
