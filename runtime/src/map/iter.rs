//! Walking a map and moving elements in batches.
//!
//! In: a `&Map`. Out: its entries, one at a time from buffers allocated once
//! per walk, read with BPF_MAP_LOOKUP_BATCH where the kernel has it and with
//! BPF_MAP_GET_NEXT_KEY + BPF_MAP_LOOKUP_ELEM where it does not; and the
//! batch operations (lookup, lookup-and-delete, update, delete) the hash
//! and array families share.

use std::marker::PhantomData;

use super::{read, Map, MapError};
use crate::obj::MapType;
use crate::Pod;

/// Entries per batch syscall of a walk (the same as the peers' benchmark).
const WALK_BATCH: usize = 4096;
/// Upper bound on a walk's batch buffers, in bytes.
const WALK_BUFFER_BYTES: usize = 8 << 20;
/// `ENOTSUPP` (524): the kernel's internal "not supported", which bpf(2)
/// returns for batch commands a map type lacks (`BPF_DO_BATCH` in
/// kernel/bpf/syscall.c).
const ENOTSUPP: i32 = 524;

/// Where a batch walk is, plus reusable scratch space for the typed batch
/// operations. Start with [`BatchCursor::new`]; after the last batch
/// [`is_done`](BatchCursor::is_done) is true; [`reset`](BatchCursor::reset)
/// starts over without freeing the buffers.
///
/// ```no_run
/// use bpf2rs::map::{BatchCursor, HashMap};
/// # fn f(map: &HashMap<u32, u64>) -> Result<(), bpf2rs::map::MapError> {
/// let (mut keys, mut values) = (vec![0u32; 1024], vec![0u64; 1024]);
/// let mut cursor = BatchCursor::new();
/// while !cursor.is_done() {
///     let n = map.lookup_batch(&mut cursor, &mut keys, &mut values)?;
///     for (k, v) in keys[..n].iter().zip(&values[..n]) {
///         println!("{k} {v}");
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct BatchCursor {
    token_in: Vec<u8>,
    token_out: Vec<u8>,
    started: bool,
    done: bool,
    keys: Vec<u8>,
    values: Vec<u8>,
}

impl BatchCursor {
    /// A cursor at the start of the map. Allocates nothing until first used.
    pub const fn new() -> BatchCursor {
        BatchCursor {
            token_in: Vec::new(),
            token_out: Vec::new(),
            started: false,
            done: false,
            keys: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Whether the last batch reached the end of the map.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Back to the start of the map, keeping the buffers.
    pub fn reset(&mut self) {
        self.started = false;
        self.done = false;
    }

    /// Makes the scratch buffers hold `count` entries of `map`.
    fn reserve(&mut self, map: &Map, count: usize) {
        let fd = map.map_fd();
        let token = fd.key_size().max(4);
        grow(&mut self.token_in, token);
        grow(&mut self.token_out, token);
        grow(&mut self.keys, count * fd.key_size());
        grow(&mut self.values, count * fd.value_size());
    }

    /// One BPF_MAP_LOOKUP(_AND_DELETE)_BATCH of up to `count` entries into
    /// the scratch buffers; returns how many arrived.
    fn step(
        &mut self,
        map: &Map,
        delete: bool,
        count: usize,
        op: &'static str,
    ) -> Result<usize, MapError> {
        if self.done {
            return Ok(0);
        }
        if count == 0 {
            return Err(invalid(map, op, "buffers hold no entries".into()));
        }
        let count32 = u32::try_from(count)
            .map_err(|_| invalid(map, op, format!("{count} entries in one batch is too many")))?;
        self.reserve(map, count);
        let in_batch = if self.started {
            Some(&self.token_in[..])
        } else {
            None
        };
        let (n, done) = map
            .map_fd()
            .lookup_batch(
                delete,
                in_batch,
                &mut self.token_out,
                &mut self.keys,
                &mut self.values,
                count32,
                0,
            )
            .map_err(map.err(op))?;
        std::mem::swap(&mut self.token_in, &mut self.token_out);
        self.started = true;
        self.done = done;
        Ok((n as usize).min(count))
    }

    /// The `i`th key and value of the last batch.
    fn entry(&self, map: &Map, i: usize) -> (&[u8], &[u8]) {
        let (ks, vs) = (map.map_fd().key_size(), map.map_fd().value_size());
        (
            self.keys.get(i * ks..(i + 1) * ks).unwrap_or_default(),
            self.values.get(i * vs..(i + 1) * vs).unwrap_or_default(),
        )
    }
}

fn grow(v: &mut Vec<u8>, len: usize) {
    if v.len() < len {
        v.resize(len, 0);
    }
}

fn invalid(map: &Map, op: &'static str, message: String) -> MapError {
    MapError::Invalid {
        map: map.name().to_owned(),
        op,
        message,
    }
}

/// Whether the map type implements the batch commands (kernel/bpf/hashtab.c
/// and arraymap.c set `map_lookup_batch`; other types return ENOTSUPP).
pub(crate) fn has_batch(map_type: MapType) -> bool {
    matches!(
        map_type,
        MapType::HASH
            | MapType::LRU_HASH
            | MapType::PERCPU_HASH
            | MapType::LRU_PERCPU_HASH
            | MapType::ARRAY
            | MapType::PERCPU_ARRAY
    )
}

/// Batch lookup (optionally deleting) through `cursor`, handing each entry's
/// bytes to `out(i, key, value)`; returns the count.
pub(crate) fn lookup_batch_with(
    map: &Map,
    delete: bool,
    cursor: &mut BatchCursor,
    count: usize,
    op: &'static str,
    mut out: impl FnMut(usize, &[u8], &[u8]),
) -> Result<usize, MapError> {
    let n = cursor.step(map, delete, count, op)?;
    for i in 0..n {
        let (k, v) = cursor.entry(map, i);
        out(i, k, v);
    }
    Ok(n)
}

/// BPF_MAP_UPDATE_BATCH of `count` entries, each written into the batch
/// buffers by `fill(i, key, value)`. Allocates the buffers for this call.
pub(crate) fn update_batch_with(
    map: &Map,
    count: usize,
    flags: u64,
    op: &'static str,
    mut fill: impl FnMut(usize, &mut [u8], &mut [u8]),
) -> Result<usize, MapError> {
    // generic_map_update_batch (kernel/bpf/syscall.c) takes BPF_F_LOCK only.
    if flags & !super::MapFlags::F_LOCK.0 != 0 {
        return Err(invalid(
            map,
            op,
            "batch updates take only MapFlags::ANY or F_LOCK (the kernel has no NOEXIST/EXIST for batches)".into(),
        ));
    }
    let (ks, vs) = (map.map_fd().key_size(), map.map_fd().value_size());
    let count32 = u32::try_from(count)
        .map_err(|_| invalid(map, op, format!("{count} entries in one batch is too many")))?;
    let mut keys = vec![0u8; count * ks];
    let mut values = vec![0u8; count * vs];
    for (i, (k, v)) in keys
        .chunks_exact_mut(ks.max(1))
        .zip(values.chunks_exact_mut(vs.max(1)))
        .enumerate()
    {
        fill(i, k, v);
    }
    let n = map
        .map_fd()
        .update_batch(&keys, &values, count32, flags)
        .map_err(map.err(op))?;
    Ok(n as usize)
}

/// BPF_MAP_DELETE_BATCH of `count` keys written by `fill(i, key)`.
pub(crate) fn delete_batch_with(
    map: &Map,
    count: usize,
    op: &'static str,
    mut fill: impl FnMut(usize, &mut [u8]),
) -> Result<usize, MapError> {
    let ks = map.map_fd().key_size();
    let count32 = u32::try_from(count)
        .map_err(|_| invalid(map, op, format!("{count} keys in one batch is too many")))?;
    let mut keys = vec![0u8; count * ks];
    for (i, k) in keys.chunks_exact_mut(ks.max(1)).enumerate() {
        fill(i, k);
    }
    let n = map
        .map_fd()
        .delete_batch(&keys, count32)
        .map_err(map.err(op))?;
    Ok(n as usize)
}

/// A value as the typed batch operations move it: a plain [`Pod`] value or
/// a [`PerCpuValues`](super::PerCpuValues) buffer. One trait, so the plain
/// and per-CPU handles share one implementation of each batch operation.
pub(crate) trait BatchValue {
    /// Checks, before a write, that the value fits the map's value size.
    fn check(&self, map: &Map, op: &'static str) -> Result<(), MapError>;
    /// The bytes the kernel reads.
    fn bytes(&self) -> &[u8];
    /// Takes the value from the bytes the kernel wrote.
    fn load(&mut self, bytes: &[u8]);
}

impl<V: Pod> BatchValue for V {
    #[inline]
    fn check(&self, _: &Map, _: &'static str) -> Result<(), MapError> {
        // The handle checked the value size against `V` when it was made.
        Ok(())
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }

    #[inline]
    fn load(&mut self, bytes: &[u8]) {
        *self = read(bytes);
    }
}

/// BPF_MAP_LOOKUP(_AND_DELETE)_BATCH into typed slices; returns how many
/// entries were filled.
pub(crate) fn lookup_batch_into<K: Pod, B: BatchValue>(
    map: &Map,
    delete: bool,
    cursor: &mut BatchCursor,
    keys: &mut [K],
    values: &mut [B],
    op: &'static str,
) -> Result<usize, MapError> {
    let count = keys.len().min(values.len());
    lookup_batch_with(map, delete, cursor, count, op, |i, k, v| {
        if let (Some(key), Some(value)) = (keys.get_mut(i), values.get_mut(i)) {
            *key = read(k);
            value.load(v);
        }
    })
}

/// BPF_MAP_UPDATE_BATCH of `values[i]` at `keys[i]`; returns how many were
/// written.
pub(crate) fn update_batch_from<K: Pod, B: BatchValue>(
    map: &Map,
    keys: &[K],
    values: &[B],
    flags: super::MapFlags,
) -> Result<usize, MapError> {
    const OP: &str = "update_batch";
    let n = same_len(map, OP, keys.len(), values.len())?;
    for value in values {
        value.check(map, OP)?;
    }
    update_batch_with(map, n, flags.0, OP, |i, k, v| {
        if let (Some(key), Some(value)) = (keys.get(i), values.get(i)) {
            k.copy_from_slice(key.as_bytes());
            v.copy_from_slice(value.bytes());
        }
    })
}

/// BPF_MAP_DELETE_BATCH of `keys`; returns how many were deleted.
pub(crate) fn delete_batch_keys<K: Pod>(map: &Map, keys: &[K]) -> Result<usize, MapError> {
    delete_batch_with(map, keys.len(), "delete_batch", |i, k| {
        if let Some(key) = keys.get(i) {
            k.copy_from_slice(key.as_bytes());
        }
    })
}

/// Checks that typed batch slices are the same length.
pub(crate) fn same_len(
    map: &Map,
    op: &'static str,
    keys: usize,
    values: usize,
) -> Result<usize, MapError> {
    if keys == values {
        Ok(keys)
    } else {
        Err(invalid(map, op, format!("{keys} keys but {values} values")))
    }
}

enum Walk {
    Batch,
    NextKey,
    Done,
}

/// A walk over a map's entries as bytes: batched when possible, else
/// get_next_key + lookup. Buffers are allocated once, when it is made.
pub(crate) struct RawIter<'a> {
    map: &'a Map,
    op: &'static str,
    walk: Walk,
    cursor: BatchCursor,
    batch_len: usize,
    /// Entries in the current batch and the index of the current one + 1.
    count: usize,
    pos: usize,
    /// get_next_key state: the current key, the next one, the current value.
    key: Vec<u8>,
    next: Vec<u8>,
    value: Vec<u8>,
    started: bool,
}

impl<'a> RawIter<'a> {
    /// A walk that tries batches first when `batch` is set and the map
    /// type has them.
    pub(crate) fn new(map: &'a Map, op: &'static str, batch: bool) -> RawIter<'a> {
        let fd = map.map_fd();
        let entry = fd.key_size() + fd.value_size();
        let batched = batch && has_batch(map.info().map_type);
        let batch_len = (map.info().max_entries as usize)
            .min(WALK_BATCH)
            .min(WALK_BUFFER_BYTES / entry.max(1))
            .max(1);
        let (key, value) = if batched {
            (Vec::new(), Vec::new())
        } else {
            (vec![0u8; fd.key_size()], vec![0u8; fd.value_size()])
        };
        let mut cursor = BatchCursor::new();
        if batched {
            cursor.reserve(map, batch_len);
        }
        RawIter {
            map,
            op,
            walk: if batched { Walk::Batch } else { Walk::NextKey },
            cursor,
            batch_len,
            count: 0,
            pos: 0,
            next: key.clone(),
            key,
            value,
            started: false,
        }
    }

    /// Moves to the next entry; `Ok(false)` at the end. After an error the
    /// walk is over.
    pub(crate) fn advance(&mut self) -> Result<bool, MapError> {
        let r = self.advance_inner();
        if !matches!(r, Ok(true)) {
            self.walk = Walk::Done;
        }
        r
    }

    fn advance_inner(&mut self) -> Result<bool, MapError> {
        loop {
            match self.walk {
                Walk::Done => return Ok(false),
                Walk::Batch => {
                    if self.pos < self.count {
                        self.pos += 1;
                        return Ok(true);
                    }
                    if self.cursor.is_done() {
                        return Ok(false);
                    }
                    match self.cursor.step(self.map, false, self.batch_len, self.op) {
                        Ok(n) => {
                            self.count = n;
                            self.pos = 0;
                        }
                        // A hash bucket larger than the batch: ENOSPC with
                        // nothing copied (htab_map_lookup_batch). Grow and retry.
                        Err(e) if e.errno() == Some(libc::ENOSPC) && self.batch_len < 1 << 20 => {
                            self.batch_len *= 2;
                        }
                        // No batch ops on this kernel or map: walk key by key.
                        Err(e)
                            if !self.cursor.started
                                && matches!(
                                    e.errno(),
                                    Some(libc::EINVAL | libc::EOPNOTSUPP | ENOTSUPP)
                                ) =>
                        {
                            let fd = self.map.map_fd();
                            self.key = vec![0u8; fd.key_size()];
                            self.next = vec![0u8; fd.key_size()];
                            self.value = vec![0u8; fd.value_size()];
                            self.walk = Walk::NextKey;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Walk::NextKey => {
                    let fd = self.map.map_fd();
                    let prev = self.started.then_some(&self.key[..]);
                    let more = fd
                        .next_key(prev, &mut self.next)
                        .map_err(self.map.err(self.op))?;
                    if !more {
                        return Ok(false);
                    }
                    std::mem::swap(&mut self.key, &mut self.next);
                    self.started = true;
                    // A key deleted between get_next_key and the lookup is
                    // skipped; the next get_next_key then restarts (see above).
                    if fd
                        .lookup(&self.key, &mut self.value, 0)
                        .map_err(self.map.err(self.op))?
                    {
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// The current entry's key and value bytes.
    pub(crate) fn entry(&self) -> (&[u8], &[u8]) {
        match self.walk {
            Walk::Batch => self.cursor.entry(self.map, self.pos.saturating_sub(1)),
            _ => (&self.key, &self.value),
        }
    }

    /// Advances and hands the entry's key and value bytes to `decode`: the
    /// body of every typed walk's `next`, so the end and error handling
    /// exist once.
    #[inline]
    pub(crate) fn next_with<T>(
        &mut self,
        decode: impl FnOnce(&[u8], &[u8]) -> T,
    ) -> Option<Result<T, MapError>> {
        match self.advance() {
            Ok(true) => {
                let (k, v) = self.entry();
                Some(Ok(decode(k, v)))
            }
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Entries of a map as `(K, V)`, batched where the kernel can. Made by
/// `iter()` on hash maps; allocates its buffers once, not per entry.
///
/// # Concurrent changes
///
/// A map may change while it is walked (by programs or other threads). What
/// a walk then returns depends on how it reads the map:
///
/// - **Batched** (hash maps: one whole bucket per step, under the bucket's
///   lock; arrays: by index). The cursor is a bucket index (hash) or key
///   (array), so deleting entries never moves it: every entry present for the
///   whole walk is returned exactly once, no entry is returned twice, and an
///   entry inserted or deleted during the walk may or may not be seen.
///   A value is a snapshot taken when its bucket was read.
/// - **One key at a time** (`get_next_key` + lookup; LPM tries and kernels
///   without batch ops). If the key the walk stands on is deleted before the
///   next step, the kernel's `get_next_key` on a hash map restarts from the
///   first key: entries may then be returned twice, and an entry deleted
///   between the two calls is skipped. Entries inserted during the walk may
///   or may not be seen. Callers that need each key once should deduplicate
///   or stop deleting while walking.
pub struct Iter<'a, K, V> {
    raw: RawIter<'a>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<'a, K: Pod, V: Pod> Iter<'a, K, V> {
    pub(crate) fn new(map: &'a Map, batch: bool) -> Iter<'a, K, V> {
        Iter {
            raw: RawIter::new(map, "iter", batch),
            _types: PhantomData,
        }
    }
}

impl<K: Pod, V: Pod> Iterator for Iter<'_, K, V> {
    type Item = Result<(K, V), MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.raw.next_with(|k, v| (read(k), read(v)))
    }
}

impl<K, V> std::iter::FusedIterator for Iter<'_, K, V> where Self: Iterator {}

impl<K, V> std::fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter")
            .field("map", &self.raw.map.name())
            .finish_non_exhaustive()
    }
}

/// Keys of a map, one BPF_MAP_GET_NEXT_KEY each, without allocating. If the
/// current key is deleted during the walk, a hash map restarts from its first
/// key, so keys may repeat (see [`Iter`]).
pub struct Keys<'a, K> {
    map: &'a Map,
    prev: Option<K>,
    done: bool,
}

impl<'a, K: Pod> Keys<'a, K> {
    pub(crate) fn new(map: &'a Map) -> Keys<'a, K> {
        Keys {
            map,
            prev: None,
            done: false,
        }
    }
}

impl<K: Pod> Iterator for Keys<'_, K> {
    type Item = Result<K, MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut next = K::zeroed();
        let prev = self.prev.as_ref().map(Pod::as_bytes);
        let step = next_key_step(self.map, &mut self.done, prev, next.as_bytes_mut());
        Some(step?.map(|()| {
            self.prev = Some(next);
            next
        }))
    }
}

impl<K: Pod> std::iter::FusedIterator for Keys<'_, K> {}

/// One BPF_MAP_GET_NEXT_KEY of a key walk, shared by the typed key
/// iterators: writes the key after `prev` (the first key if `None`) into
/// `next`. `None` once `done`; the end and an error set `done`, so the
/// walk stays fused.
pub(crate) fn next_key_step(
    map: &Map,
    done: &mut bool,
    prev: Option<&[u8]>,
    next: &mut [u8],
) -> Option<Result<(), MapError>> {
    if *done {
        return None;
    }
    match map.map_fd().next_key(prev, next) {
        Ok(true) => Some(Ok(())),
        Ok(false) => {
            *done = true;
            None
        }
        Err(e) => {
            *done = true;
            Some(Err(map.err("keys")(e)))
        }
    }
}

impl<K> std::fmt::Debug for Keys<'_, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("map", &self.map.name())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
