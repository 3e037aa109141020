//! `StackTrace`: `BPF_MAP_TYPE_STACK_TRACE`, stacks recorded by
//! `bpf_get_stackid`, keyed by stack id.
//!
//! In: a stack trace map (u32 id -> `max_depth` u64 instruction pointers).
//! Out: a stack's addresses by id (innermost first), removal, the ids.

use super::iter::Keys;
use super::{map_handle, CreateFlags, Map, MapError};
use crate::obj::MapType;

/// Deepest stack read without allocating a buffer (the kernel's default
/// `perf_event_max_stack` is 127).
const STACK_BUF_FRAMES: usize = 512;

/// Stacks recorded by programs with `bpf_get_stackid`.
///
/// ```no_run
/// use bpf2rs::map::{CreateFlags, StackTrace};
/// # fn main() -> Result<(), bpf2rs::map::MapError> {
/// let stacks = StackTrace::create("stacks", 1024, 127, CreateFlags::NONE)?;
/// // ... a program records stacks and reports ids ...
/// if let Some(ips) = stacks.get(17)? {
///     for ip in ips {
///         println!("{ip:#x}");
///     }
/// }
/// # Ok(()) }
/// ```
pub struct StackTrace {
    map: Map,
}

map_handle!(impl[] StackTrace);

impl StackTrace {
    /// Creates a map for `max_entries` stacks of up to `max_depth` frames
    /// (at most the `kernel.perf_event_max_stack` sysctl).
    ///
    /// ```no_run
    /// use bpf2rs::map::{CreateFlags, StackTrace};
    /// let stacks = StackTrace::create("stacks", 1024, 64, CreateFlags::NONE)?;
    /// # Ok::<(), bpf2rs::map::MapError>(())
    /// ```
    pub fn create(
        name: &str,
        max_entries: u32,
        max_depth: u32,
        flags: CreateFlags,
    ) -> Result<Self, MapError> {
        let value_size = (max_depth as usize).saturating_mul(8);
        Self::from_map(Map::create_simple(
            name,
            MapType::STACK_TRACE,
            4,
            value_size,
            max_entries,
            flags,
        )?)
    }

    /// Wraps `map` after checking that it is a stack trace map of
    /// addresses (build-id stacks, [`CreateFlags::STACK_BUILD_ID`], are
    /// refused: use the untyped [`Map`] for them).
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let stacks = bpf2rs::map::StackTrace::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        let info = map.info();
        let invalid = |message: String| MapError::Invalid {
            map: map.name().to_owned(),
            op: "from_map",
            message,
        };
        if info.map_type == MapType::STACK_TRACE {
            if info.map_flags & CreateFlags::STACK_BUILD_ID.0 != 0 {
                return Err(invalid("stores build ids, not addresses".into()));
            }
            if !info.value_size.is_multiple_of(8) {
                return Err(invalid(format!(
                    "value is {} bytes, not a whole number of u64 frames",
                    info.value_size
                )));
            }
        }
        map.check(&[MapType::STACK_TRACE], 4, info.value_size as usize)?;
        Ok(StackTrace { map })
    }

    /// Frames per stack (value size / 8).
    pub fn max_depth(&self) -> u32 {
        self.map.info().value_size / 8
    }

    /// The instruction pointers of stack `id`, innermost first, or `None` if
    /// there is no such stack. Allocates the returned `Vec`; see
    /// [`get_into`](Self::get_into) to reuse one.
    ///
    /// ```no_run
    /// # fn f(s: &bpf2rs::map::StackTrace) -> Result<(), bpf2rs::map::MapError> {
    /// let frames = s.get(3)?.unwrap_or_default();
    /// # Ok(()) }
    /// ```
    pub fn get(&self, id: u32) -> Result<Option<Vec<u64>>, MapError> {
        let mut ips = Vec::new();
        Ok(self.get_into(id, &mut ips)?.then_some(ips))
    }

    /// Replaces the contents of `ips` with stack `id`'s instruction pointers
    /// (trailing empty frames dropped); `Ok(false)` if there is no such stack.
    /// Allocates nothing once `ips` has room for the stack.
    ///
    /// ```no_run
    /// # fn f(s: &bpf2rs::map::StackTrace) -> Result<(), bpf2rs::map::MapError> {
    /// let mut ips = Vec::with_capacity(127);
    /// if s.get_into(3, &mut ips)? {
    ///     println!("{} frames", ips.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_into(&self, id: u32, ips: &mut Vec<u64>) -> Result<bool, MapError> {
        let size = self.map.map_fd().value_size();
        let mut stack = [0u8; STACK_BUF_FRAMES * 8];
        let mut heap = Vec::new();
        let buf = if size <= stack.len() {
            &mut stack[..size]
        } else {
            heap.resize(size, 0);
            &mut heap[..]
        };
        let found = self
            .map
            .map_fd()
            .lookup(&id.to_ne_bytes(), buf, 0)
            .map_err(self.map.err("get"))?;
        ips.clear();
        if found {
            ips.extend(
                buf.chunks_exact(8)
                    .map(|f| u64::from_ne_bytes([f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]])),
            );
            while ips.last() == Some(&0) {
                ips.pop();
            }
        }
        Ok(found)
    }

    /// Deletes stack `id`; `Ok(false)` if there was none.
    ///
    /// ```no_run
    /// # fn f(s: &bpf2rs::map::StackTrace) -> Result<(), bpf2rs::map::MapError> {
    /// s.remove(3)?;
    /// # Ok(()) }
    /// ```
    pub fn remove(&self, id: u32) -> Result<bool, MapError> {
        self.map
            .map_fd()
            .delete(&id.to_ne_bytes())
            .map_err(self.map.err("remove"))
    }

    /// The ids of the stored stacks.
    pub fn stack_ids(&self) -> Keys<'_, u32> {
        Keys::new(&self.map)
    }
}
