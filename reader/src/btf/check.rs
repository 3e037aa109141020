//! The parse-time pass over the type section: every record is checked, none
//! is built.
//!
//! In: the type section and the facts about the string section that
//! [`wire::parse`](super::wire::parse) gathered. Out: an [`Index`] (how many
//! types there are and where each chunk of [`CHUNK`] records starts), or the
//! first error in type order. Checking everything here is what lets
//! [`decode`](super::decode) build types later, on access, without errors:
//! a bad record is reported by `Btf::parse`, never seen by a caller.

use super::decode;
use super::error::BtfError;
use super::table::CHUNK;
use super::types::{Kind, Name, Type, TypeId};
use super::wire::{is_utf8_continuation, tail_len, truncated, word, Endian, Order, MAX_TYPES};
use super::Btf;

/// Where the checked records are: enough to decode any chunk of them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    /// Own type ids, void included for standalone BTF.
    pub(crate) count: u32,
    /// Byte offset in the type section of the first record of each chunk
    /// of [`CHUNK`] ids (chunk 0 of standalone BTF starts with void, which
    /// has no record).
    pub(crate) chunk_starts: Vec<u32>,
}

/// The check of well-formed BTF, as fast as it goes: one pass that keeps
/// the largest name offset and type id it saw and notes whether any size was
/// bad, instead of stopping at the first fault. `None` means some record is
/// wrong (or the strings are not all ASCII); [`Checker`] then finds the first
/// error, in type order, with its context. Everything `Checker` rejects, this
/// rejects too.
pub(crate) fn quick<O: Order>(
    sec: &[u8],
    ascii: bool,
    str_total: u32,
    start_id: u32,
) -> Option<Index> {
    if !ascii {
        return None;
    }
    let mut pass = Quick::new(sec.len(), start_id);
    pass.advance::<O>(sec);
    pass.finish(sec.len(), str_total, start_id)
}

/// [`quick`] in steps, for a type section that arrives a block at a time
/// (see `wire::parse_copy`): each [`advance`](Quick::advance) checks the
/// records that lie wholly in what has arrived so far.
pub(crate) struct Quick {
    /// Where the next record starts.
    pos: usize,
    /// Own records checked, void included for standalone BTF.
    own: usize,
    max_name: u32,
    max_ref: u32,
    bad: bool,
    chunk_starts: Vec<u32>,
}

impl Quick {
    pub(crate) fn new(sec_len: usize, start_id: u32) -> Quick {
        // Records average 25 bytes in vmlinux and objects alike.
        let mut chunk_starts = Vec::with_capacity(sec_len / (24 * CHUNK) + 2);
        if start_id == 0 {
            chunk_starts.push(0);
        }
        Quick {
            pos: 0,
            own: usize::from(start_id == 0),
            max_name: 0,
            max_ref: 0,
            bad: false,
            chunk_starts,
        }
    }

    /// Checks records from where the last call stopped, up to the first one
    /// that does not fit in `sec` (the section so far) or is of no known
    /// kind.
    pub(crate) fn advance<O: Order>(&mut self, sec: &[u8]) {
        let (mut max_name, mut max_ref, mut bad) = (self.max_name, self.max_ref, self.bad);
        let (mut pos, mut own) = (self.pos, self.own);
        while let Some(len) = sec
            .get(pos..)
            .and_then(|rec| record::<O>(rec, &mut max_name, &mut max_ref, &mut bad))
        {
            // Only once the record is whole: a record cut off by the end of
            // a block is read again, from its start, by the next call.
            if own.is_multiple_of(CHUNK) {
                self.chunk_starts.push(pos as u32);
            }
            pos += len;
            own += 1;
        }
        (self.max_name, self.max_ref, self.bad) = (max_name, max_ref, bad);
        (self.pos, self.own) = (pos, own);
    }

    /// The index, if every record of the `sec_len`-byte section was read
    /// and its names and type ids are in range.
    pub(crate) fn finish(self, sec_len: usize, str_total: u32, start_id: u32) -> Option<Index> {
        // Ids: the base's (or void), then own records; all must stay below
        // MAX_TYPES, and every reference below their count.
        let own = self.own;
        let count = u64::from(start_id.max(1)) + own as u64 - u64::from(start_id == 0);
        let ok = self.pos == sec_len
            && !self.bad
            && count <= u64::from(MAX_TYPES)
            && self.max_name < str_total.max(1);
        (ok && u64::from(self.max_ref) < count).then_some(Index {
            count: own as u32,
            chunk_starts: self.chunk_starts,
        })
    }
}

/// One record of [`Quick`]: its length, or `None` if it does not fit in
/// `rec` or is of no known kind. Folding into the maxima and `bad` is
/// idempotent, so a record read twice (cut off, then whole) counts once.
#[inline(always)]
fn record<O: Order>(
    rec: &[u8],
    max_name: &mut u32,
    max_ref: &mut u32,
    bad: &mut bool,
) -> Option<usize> {
    let (hdr, tail) = rec.split_first_chunk::<12>()?;
    *max_name = (*max_name).max(word::<O, 12>(hdr, 0));
    let info = word::<O, 12>(hdr, 1);
    let size_or_type = word::<O, 12>(hdr, 2);
    let vlen = (info & 0xffff) as usize;
    let tail_len = match Kind::from_u32((info >> 24) & 0x1f)? {
        Kind::Void => return None,
        Kind::Fwd => 0,
        Kind::Ptr
        | Kind::Volatile
        | Kind::Const
        | Kind::Restrict
        | Kind::Typedef
        | Kind::TypeTag
        | Kind::Func => {
            *max_ref = (*max_ref).max(size_or_type);
            0
        }
        Kind::Var | Kind::DeclTag => {
            tail.first_chunk::<4>()?;
            *max_ref = (*max_ref).max(size_or_type);
            4
        }
        Kind::Int => {
            let enc = word::<O, 4>(tail.first_chunk::<4>()?, 0);
            let (bits, bit_offset) = (enc & 0xff, (enc >> 16) & 0xff);
            *bad |= size_or_type.wrapping_sub(1) >= 16
                || bits == 0
                || bits + bit_offset > size_or_type * 8;
            4
        }
        Kind::Float => {
            *bad |= !matches!(size_or_type, 2 | 4 | 8 | 12 | 16);
            0
        }
        Kind::Array => {
            let rec = tail.first_chunk::<12>()?;
            *max_ref = (*max_ref)
                .max(word::<O, 12>(rec, 0))
                .max(word::<O, 12>(rec, 1));
            12
        }
        Kind::Struct | Kind::Union => {
            entries::<O, 12, true>(tail, vlen, max_name, max_ref)?;
            vlen * 12
        }
        Kind::FuncProto => {
            *max_ref = (*max_ref).max(size_or_type);
            entries::<O, 8, true>(tail, vlen, max_name, max_ref)?;
            vlen * 8
        }
        Kind::Enum => {
            *bad |= !matches!(size_or_type, 1 | 2 | 4 | 8);
            entries::<O, 8, false>(tail, vlen, max_name, max_ref)?;
            vlen * 8
        }
        Kind::Enum64 => {
            *bad |= !matches!(size_or_type, 1 | 2 | 4 | 8);
            for rec in tail.get(..vlen * 12)?.as_chunks::<12>().0 {
                *max_name = (*max_name).max(word::<O, 12>(rec, 0));
            }
            vlen * 12
        }
        Kind::Datasec => {
            for rec in tail.get(..vlen * 12)?.as_chunks::<12>().0 {
                *max_ref = (*max_ref).max(word::<O, 12>(rec, 0));
            }
            vlen * 12
        }
    };
    Some(12 + tail_len)
}

/// Entries `quick` reads without a loop: most records have this many or
/// fewer, and a loop's exit is a branch the CPU mostly guesses wrong on
/// records this short.
const UNROLLED: usize = 4;

/// Folds the names (first word) and, with `TYPES`, the type ids (second
/// word) of `vlen` entries of `S` bytes at the start of `tail` into the
/// maxima; `None` if they do not fit. The first [`UNROLLED`] entries are read
/// whether they exist or not (when the bytes are there) and masked out past
/// `vlen`, which costs less than the mispredicted loop exits it avoids
/// (`cargo bench -p bpf2rs --bench btf`: 1.37 ms to 1.17 ms for vmlinux).
#[inline(always)]
fn entries<O: Order, const S: usize, const TYPES: bool>(
    tail: &[u8],
    vlen: usize,
    max_name: &mut u32,
    max_ref: &mut u32,
) -> Option<()> {
    let all = tail.get(..vlen * S)?;
    let rest = match tail.get(..UNROLLED * S) {
        Some(first) => {
            for (i, e) in first.as_chunks::<S>().0.iter().enumerate() {
                let keep = 0u32.wrapping_sub(u32::from(i < vlen));
                *max_name = (*max_name).max(word::<O, S>(e, 0) & keep);
                if TYPES {
                    *max_ref = (*max_ref).max(word::<O, S>(e, 1) & keep);
                }
            }
            all.get(UNROLLED * S..).unwrap_or_default()
        }
        None => all,
    };
    for e in rest.as_chunks::<S>().0 {
        *max_name = (*max_name).max(word::<O, S>(e, 0));
        if TYPES {
            *max_ref = (*max_ref).max(word::<O, S>(e, 1));
        }
    }
    Some(())
}

/// Checks records one after the other. Each record is bounds-checked once,
/// as a whole, and then read from fixed-size arrays.
pub(crate) struct Checker<'a> {
    sec: &'a [u8],
    /// This blob's own strings (offsets from `str_base` on).
    strings: &'a [u8],
    /// Whether all strings (the base's too) are ASCII: then no name offset
    /// can land inside a character.
    ascii: bool,
    str_base: u32,
    str_total: u32,
    base: Option<&'a Btf>,
    start_id: u32,
    /// Id of the record being read.
    id: u32,
    /// The largest type id referred to so far. References are checked
    /// against the type count once it is known, at the end.
    max_ref: u32,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(
        sec: &'a [u8],
        strings: &'a [u8],
        ascii: bool,
        str_total: u32,
        base: Option<&'a Btf>,
        start_id: u32,
    ) -> Checker<'a> {
        Checker {
            sec,
            strings,
            ascii,
            str_base: base.map_or(0, Btf::strings_len),
            str_total,
            base,
            start_id,
            id: start_id.max(1),
            max_ref: 0,
        }
    }

    /// Checks every record, in order; the first error wins.
    pub(crate) fn run<O: Order>(mut self) -> Result<Index, BtfError> {
        let sec = self.sec;
        // Records average 25 bytes in vmlinux and objects alike.
        let mut chunk_starts = Vec::with_capacity(sec.len() / (24 * CHUNK) + 2);
        // Position of the next id among this blob's own ids.
        let mut own = 0usize;
        if self.start_id == 0 {
            chunk_starts.push(0);
            own = 1;
        }
        let mut pos = 0;
        while pos < sec.len() {
            if own.is_multiple_of(CHUNK) {
                chunk_starts.push(pos as u32);
            }
            if self.id >= MAX_TYPES {
                return Err(BtfError::TooManyTypes {
                    count: self.id as u64,
                    max: MAX_TYPES,
                });
            }
            pos += self.check_type::<O>(pos)?;
            self.id += 1;
            own += 1;
        }
        let index = Index {
            count: own as u32,
            chunk_starts,
        };
        // `id` is now the number of type ids, base and void included.
        if self.max_ref >= self.id {
            let endian = O::ENDIAN;
            return Err(first_bad_ref(sec, endian, &index, self.start_id, self.id));
        }
        Ok(index)
    }

    /// Checks the record at `pos`; returns the record's length.
    #[inline(always)]
    fn check_type<O: Order>(&mut self, pos: usize) -> Result<usize, BtfError> {
        let rest = self.sec.get(pos..).unwrap_or_default();
        let Some((hdr, tail)) = rest.split_first_chunk::<12>() else {
            return Err(self.cut("type header", pos, rest.len()));
        };
        let name_off = word::<O, 12>(hdr, 0);
        let info = word::<O, 12>(hdr, 1);
        let size_or_type = word::<O, 12>(hdr, 2);
        let vlen = (info & 0xffff) as usize;
        let kind_no = (info >> 24) & 0x1f;
        let Some(kind) = Kind::from_u32(kind_no) else {
            return Err(BtfError::UnknownKind {
                id: TypeId(self.id),
                kind: kind_no,
            });
        };
        self.name(name_off, "type")?;
        let tail_pos = pos + 12;
        match kind {
            Kind::Void => return Err(self.bad(kind, "kind 0 (void) cannot be declared".into())),
            Kind::Int => {
                let enc = self.fixed::<4>(tail, tail_pos, "int encoding")?;
                self.int(size_or_type, word::<O, 4>(enc, 0))?;
            }
            Kind::Ptr
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::Typedef
            | Kind::TypeTag
            | Kind::Func => self.type_ref(size_or_type),
            Kind::Array => {
                let rec = self.fixed::<12>(tail, tail_pos, "array")?;
                self.type_ref(word::<O, 12>(rec, 0));
                self.type_ref(word::<O, 12>(rec, 1));
            }
            Kind::Struct | Kind::Union => {
                for rec in self.entries::<12>(kind, tail, vlen)? {
                    self.name(word::<O, 12>(rec, 0), "member")?;
                    self.type_ref(word::<O, 12>(rec, 1));
                }
            }
            Kind::Enum => {
                let recs = self.entries::<8>(kind, tail, vlen)?;
                self.enum_size(kind, size_or_type)?;
                for rec in recs {
                    self.name(word::<O, 8>(rec, 0), "enumerator")?;
                }
            }
            Kind::Enum64 => {
                let recs = self.entries::<12>(kind, tail, vlen)?;
                self.enum_size(kind, size_or_type)?;
                for rec in recs {
                    self.name(word::<O, 12>(rec, 0), "enumerator")?;
                }
            }
            Kind::Fwd => {}
            Kind::FuncProto => {
                let recs = self.entries::<8>(kind, tail, vlen)?;
                self.type_ref(size_or_type);
                for rec in recs {
                    self.name(word::<O, 8>(rec, 0), "param")?;
                    self.type_ref(word::<O, 8>(rec, 1));
                }
            }
            Kind::Var => {
                self.fixed::<4>(tail, tail_pos, "var")?;
                self.type_ref(size_or_type);
            }
            Kind::Datasec => {
                for rec in self.entries::<12>(kind, tail, vlen)? {
                    self.type_ref(word::<O, 12>(rec, 0));
                }
            }
            Kind::Float => self.float_size(size_or_type)?,
            Kind::DeclTag => {
                self.fixed::<4>(tail, tail_pos, "decl tag")?;
                self.type_ref(size_or_type);
            }
        }
        let (fixed, per_entry) = tail_len(kind);
        Ok(12 + fixed + per_entry * vlen)
    }

    /// The kernel's `btf_int_check_meta`: a size of 1 to 16 bytes, and the
    /// value bits, at their offset, inside the storage.
    fn int(&self, byte_size: u32, encoding: u32) -> Result<(), BtfError> {
        let bits = encoding & 0xff;
        let bit_offset = (encoding >> 16) & 0xff;
        if byte_size == 0 || byte_size > 16 {
            return Err(self.bad(Kind::Int, format!("byte size {byte_size} not in 1..=16")));
        }
        if bits == 0 || bits + bit_offset > byte_size * 8 {
            return Err(self.bad(
                Kind::Int,
                format!("{bits} bits at bit {bit_offset} do not fit {byte_size} bytes"),
            ));
        }
        Ok(())
    }

    fn enum_size(&self, kind: Kind, byte_size: u32) -> Result<(), BtfError> {
        if !matches!(byte_size, 1 | 2 | 4 | 8) {
            return Err(self.bad(kind, format!("byte size {byte_size} not 1, 2, 4 or 8")));
        }
        Ok(())
    }

    fn float_size(&self, byte_size: u32) -> Result<(), BtfError> {
        if !matches!(byte_size, 2 | 4 | 8 | 12 | 16) {
            return Err(self.bad(
                Kind::Float,
                format!("byte size {byte_size} not 2, 4, 8, 12 or 16"),
            ));
        }
        Ok(())
    }

    /// The fixed part after the common header, or where it is cut short.
    #[inline(always)]
    fn fixed<'t, const N: usize>(
        &self,
        tail: &'t [u8],
        tail_pos: usize,
        what: &'static str,
    ) -> Result<&'t [u8; N], BtfError> {
        match tail.first_chunk::<N>() {
            Some(rec) => Ok(rec),
            None => Err(self.cut(what, tail_pos, tail.len())),
        }
    }

    /// `vlen` entries of `N` bytes each, checked to fit in what is left.
    #[inline(always)]
    fn entries<'t, const N: usize>(
        &self,
        kind: Kind,
        tail: &'t [u8],
        vlen: usize,
    ) -> Result<&'t [[u8; N]], BtfError> {
        let need = vlen * N;
        match tail.get(..need) {
            Some(bytes) => Ok(bytes.as_chunks::<N>().0),
            None => Err(self.bad(
                kind,
                format!(
                    "{vlen} entries need {need} bytes, only {} left in the type section",
                    tail.len()
                ),
            )),
        }
    }

    /// The section ends inside a record: the first word not fully present,
    /// `avail` bytes being left from `pos`.
    #[cold]
    fn cut(&self, what: &'static str, pos: usize, avail: usize) -> BtfError {
        truncated(what, pos + (avail & !3), 4, self.sec.len())
    }

    #[inline(always)]
    fn name(&self, offset: u32, what: &'static str) -> Result<(), BtfError> {
        if offset == 0 {
            return Ok(());
        }
        if offset >= self.str_total {
            return Err(BtfError::NameOutOfRange {
                id: TypeId(self.id),
                what,
                offset,
                len: self.str_total,
            });
        }
        if self.ascii {
            return Ok(());
        }
        self.name_in_utf8(offset, what)
    }

    /// A name may start inside another (suffix sharing), but not inside a
    /// UTF-8 character: `Btf::name` must always find a `str`.
    #[cold]
    fn name_in_utf8(&self, offset: u32, what: &'static str) -> Result<(), BtfError> {
        let starts_char = match offset.checked_sub(self.str_base) {
            Some(own) => self
                .strings
                .get(own as usize)
                .is_none_or(|&b| !is_utf8_continuation(b)),
            None => self.base.is_none_or(|b| b.name_starts_char(Name(offset))),
        };
        if !starts_char {
            return Err(BtfError::NameInsideChar {
                id: TypeId(self.id),
                what,
                offset,
            });
        }
        Ok(())
    }

    /// A reference to another type; it must exist, which is known at the end.
    #[inline(always)]
    fn type_ref(&mut self, target: u32) {
        self.max_ref = self.max_ref.max(target);
    }

    #[cold]
    fn bad(&self, kind: Kind, detail: String) -> BtfError {
        BtfError::BadType {
            id: TypeId(self.id),
            kind,
            detail,
        }
    }
}

/// The first reference to a type that does not exist, as an error. Only
/// called once some reference is known to be bad; the records are checked
/// otherwise, so they decode.
#[cold]
fn first_bad_ref(sec: &[u8], endian: Endian, index: &Index, start_id: u32, count: u32) -> BtfError {
    for chunk in 0..index.chunk_starts.len() {
        let types = decode::chunk(sec, endian, index, start_id == 0, chunk);
        let first = start_id as usize + chunk * CHUNK;
        for (i, ty) in types.iter().enumerate() {
            if let Some(e) = bad_ref(TypeId((first + i) as u32), ty, count) {
                return e;
            }
        }
    }
    BtfError::BadHeader(format!("a type refers to a type id past {count}"))
}

/// The first of `ty`'s references that is not below `count`.
fn bad_ref(id: TypeId, ty: &Type, count: u32) -> Option<BtfError> {
    let bad = |what: &'static str, t: TypeId| {
        (t.0 >= count).then_some(BtfError::BadTypeRef {
            id,
            kind: ty.kind(),
            what,
            target: t.0,
            count,
        })
    };
    match ty {
        Type::Void | Type::Int(_) | Type::Enum(_) | Type::Fwd(_) | Type::Float(_) => None,
        Type::Ptr(r) | Type::Volatile(r) | Type::Const(r) | Type::Restrict(r) => {
            bad("target", r.target)
        }
        Type::Typedef(n) | Type::TypeTag(n) => bad("target", n.target),
        Type::Array(a) => bad("element type", a.elem).or_else(|| bad("index type", a.index)),
        Type::Struct(c) | Type::Union(c) => c.members.iter().find_map(|m| bad("member", m.ty)),
        Type::Func(f) => bad("prototype", f.proto),
        Type::FuncProto(p) => bad("return type", p.ret)
            .or_else(|| p.params.iter().find_map(|p| bad("parameter", p.ty))),
        Type::Var(v) => bad("type", v.ty),
        Type::Datasec(d) => d.vars.iter().find_map(|v| bad("variable", v.ty)),
        Type::DeclTag(d) => bad("target", d.target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::testing::BtfBuilder;
    use crate::btf::wire::{Be, Le};

    /// `quick` lets through exactly what `Checker` accepts, with the same
    /// index: checked on every single-word mutation of a blob holding every
    /// kind, in both byte orders.
    #[test]
    fn quick_agrees_with_checker() {
        let b = BtfBuilder::every_kind();
        let str_total = b.strings_len();
        let mut words = Vec::new();
        for id in 1..b.next_id().0 {
            let pos = b.type_pos(TypeId(id)) - 24;
            words.extend((pos..pos + 16).step_by(4));
        }
        for big in [false, true] {
            let blob = if big { b.bytes_be() } else { b.bytes() };
            let sec = &blob[24..b.strings_pos()];
            let whole = if big {
                quick::<Be>(sec, true, str_total, 0)
            } else {
                quick::<Le>(sec, true, str_total, 0)
            };
            assert!(whole.is_some(), "quick refuses well-formed BTF");
            let values = [
                0,
                1,
                3,
                8,
                16,
                17,
                0x0400_0000,
                0x0d00_0002,
                0x1300_0001,
                u32::MAX,
            ];
            for &at in &words {
                for value in values {
                    let mut sec = sec.to_vec();
                    if at + 4 > sec.len() {
                        continue;
                    }
                    let v = if big {
                        value.to_be_bytes()
                    } else {
                        value.to_le_bytes()
                    };
                    sec[at..at + 4].copy_from_slice(&v);
                    let strings = &blob[b.strings_pos()..];
                    let checker = Checker::new(&sec, strings, true, str_total, None, 0);
                    let (quick, precise) = if big {
                        (quick::<Be>(&sec, true, str_total, 0), checker.run::<Be>())
                    } else {
                        (quick::<Le>(&sec, true, str_total, 0), checker.run::<Le>())
                    };
                    // In steps, as `wire::parse_copy` runs it, the pass
                    // comes to the same answer whatever the step.
                    for step in [1, 5, 12, 40] {
                        let stepped = if big {
                            stepped::<Be>(&sec, step, str_total)
                        } else {
                            stepped::<Le>(&sec, step, str_total)
                        };
                        assert_eq!(
                            stepped.map(|i| (i.count, i.chunk_starts)),
                            quick.clone().map(|i| (i.count, i.chunk_starts)),
                            "word {at} = {value:#x}, step {step}"
                        );
                    }
                    match (quick, precise) {
                        (Some(q), Ok(p)) => {
                            assert_eq!((q.count, q.chunk_starts), (p.count, p.chunk_starts));
                        }
                        (Some(_), Err(e)) => panic!("word {at} = {value:#x}: quick passed, {e}"),
                        (None, _) => {}
                    }
                }
            }
        }
    }

    /// [`Quick`] fed `sec` `step` bytes more at a time.
    fn stepped<O: Order>(sec: &[u8], step: usize, str_total: u32) -> Option<Index> {
        let mut pass = Quick::new(sec.len(), 0);
        let mut end = 0;
        while end < sec.len() {
            end = (end + step).min(sec.len());
            pass.advance::<O>(&sec[..end]);
        }
        pass.finish(sec.len(), str_total, 0)
    }
}
