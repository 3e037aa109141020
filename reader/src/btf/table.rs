//! A `Btf`'s types: checked when parsed, decoded when first asked for.
//!
//! In: the raw type section, already checked, and its [`Index`]. Out: `&Type`
//! for any own id. Ids are decoded [`CHUNK`] at a time, on first access, into
//! a slot that keeps them for the life of the `Btf`; types added or replaced
//! after parsing (sanitizer, object reader) live in the slots too, or after
//! the parsed ones.
//!
//! Why lazily: a reader mostly asks for few types of a big BTF (a loader
//! looks up a handful of kernel types in vmlinux's 125,000), and decoding
//! every type up front cost more than twice what libbpf's `btf__new`, which
//! only indexes, takes. Checking stays eager (`check`), so a bad record is
//! still an error from `parse`, never something a caller finds later.

use std::sync::OnceLock;

use super::check::Index;
use super::decode;
use super::types::Type;
use super::wire::Endian;

/// Ids decoded together. Small enough that looking up one type decodes
/// little (a chunk of vmlinux is about 6 KiB of records, some 10 us); large
/// enough that the per-chunk costs (a slot, record buffers that grow) stay
/// small next to the types: decoding all of vmlinux measured about 15%
/// faster than with 64-id chunks.
pub(crate) const CHUNK: usize = 256;

#[derive(Clone, Debug, Default)]
pub(crate) struct TypeTable {
    index: Index,
    /// Whether own id 0 is void (standalone BTF), which has no record.
    void_first: bool,
    /// One slot per chunk of the index, filled on first access.
    chunks: Box<[OnceLock<Box<[Type]>>]>,
    /// Types appended after parsing.
    added: Vec<Type>,
}

impl TypeTable {
    pub(crate) fn new(index: Index, void_first: bool) -> TypeTable {
        let chunks = (0..index.chunk_starts.len())
            .map(|_| OnceLock::new())
            .collect();
        TypeTable {
            index,
            void_first,
            chunks,
            added: Vec::new(),
        }
    }

    /// Number of own ids.
    pub(crate) fn len(&self) -> usize {
        self.index.count as usize + self.added.len()
    }

    /// Own id `i` (counted from the blob's first own id), decoding its
    /// chunk if needed. `sec` is the type section the index was built on.
    #[inline]
    pub(crate) fn get(&self, i: usize, sec: &[u8], endian: Endian) -> Option<&Type> {
        match i.checked_sub(self.index.count as usize) {
            None => self.chunk(i / CHUNK, sec, endian).get(i % CHUNK),
            Some(added) => self.added.get(added),
        }
    }

    /// The types of chunk `c`, decoded on first access.
    #[inline]
    pub(crate) fn chunk(&self, c: usize, sec: &[u8], endian: Endian) -> &[Type] {
        match self.chunks.get(c) {
            Some(slot) => {
                slot.get_or_init(|| decode::chunk(sec, endian, &self.index, self.void_first, c))
            }
            None => &[],
        }
    }

    /// Every own type with its position among the own ids.
    pub(crate) fn iter<'a>(
        &'a self,
        sec: &'a [u8],
        endian: Endian,
    ) -> impl Iterator<Item = (usize, &'a Type)> + 'a {
        let parsed = (0..self.chunks.len()).flat_map(move |c| {
            let types = self.chunk(c, sec, endian);
            types
                .iter()
                .enumerate()
                .map(move |(i, t)| (c * CHUNK + i, t))
        });
        let first_added = self.index.count as usize;
        let added = self.added.iter().enumerate();
        parsed.chain(added.map(move |(i, t)| (first_added + i, t)))
    }

    /// Own id `i`, to change it.
    pub(crate) fn get_mut(&mut self, i: usize, sec: &[u8], endian: Endian) -> Option<&mut Type> {
        let Some(added) = i.checked_sub(self.index.count as usize) else {
            let c = i / CHUNK;
            let slot = self.chunks.get_mut(c)?;
            if slot.get().is_none() {
                let _ = slot.set(decode::chunk(sec, endian, &self.index, self.void_first, c));
            }
            return slot.get_mut()?.get_mut(i % CHUNK);
        };
        self.added.get_mut(added)
    }

    /// Appends a type after all others.
    pub(crate) fn push(&mut self, ty: Type) {
        self.added.push(ty);
    }
}
