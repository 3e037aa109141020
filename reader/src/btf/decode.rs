//! Checked records into the model, one chunk of type ids at a time.
//!
//! In: a type section that [`check`](super::check) accepted, and its
//! [`Index`]. Out: the [`Type`]s of one chunk of [`CHUNK`] ids, whose
//! members, enumerators, parameters and variables sit in buffers the chunk's
//! types share (one allocation per kind of record, see [`Records`]). Nothing
//! is checked again: the records were, when the BTF was parsed. A read that
//! could only fail on unchecked bytes ends the chunk early (its later ids
//! then do not exist) rather than panic.

use std::sync::Arc;

use super::check::Index;
use super::table::CHUNK;
use super::types::*;
use super::wire::{tail_len, word, Be, Endian, Le, Order};

/// The types of chunk `chunk` (ids `chunk * CHUNK..` of the blob's own).
pub(crate) fn chunk(
    sec: &[u8],
    endian: Endian,
    index: &Index,
    void_first: bool,
    chunk: usize,
) -> Box<[Type]> {
    let n = (index.count as usize)
        .saturating_sub(chunk * CHUNK)
        .min(CHUNK);
    let pos = index
        .chunk_starts
        .get(chunk)
        .map_or(sec.len(), |&p| p as usize);
    let void = void_first && chunk == 0;
    match endian {
        Endian::Little => decode::<Le>(sec, pos, n, void),
        Endian::Big => decode::<Be>(sec, pos, n, void),
    }
}

fn decode<O: Order>(sec: &[u8], mut pos: usize, n: usize, void: bool) -> Box<[Type]> {
    let mut types = Vec::with_capacity(n);
    if void && n > 0 {
        types.push(Type::Void);
    }
    let mut arenas = Arenas::default();
    while types.len() < n {
        let Some(len) = read_type::<O>(sec, pos, &mut arenas, &mut types) else {
            break;
        };
        pos += len;
    }
    arenas.attach(&mut types);
    types.into_boxed_slice()
}

/// Reads the record at `pos` onto `types`; returns the record's length.
#[inline(always)]
fn read_type<O: Order>(
    sec: &[u8],
    pos: usize,
    arenas: &mut Arenas,
    types: &mut Vec<Type>,
) -> Option<usize> {
    let (hdr, tail) = sec.get(pos..)?.split_first_chunk::<12>()?;
    let name = Name(word::<O, 12>(hdr, 0));
    let info = word::<O, 12>(hdr, 1);
    let size_or_type = word::<O, 12>(hdr, 2);
    let vlen = (info & 0xffff) as usize;
    let kind = Kind::from_u32((info >> 24) & 0x1f)?;
    let kind_flag = info >> 31 == 1;
    let target = TypeId(size_or_type);
    // Each arm pushes its own value: built in place, not on the stack
    // and copied (which measured a third slower).
    match kind {
        Kind::Void => return None,
        Kind::Int => types.push(int(
            name,
            size_or_type,
            word::<O, 4>(tail.first_chunk()?, 0),
        )),
        Kind::Ptr => types.push(Type::Ptr(Ref { target })),
        Kind::Volatile => types.push(Type::Volatile(Ref { target })),
        Kind::Const => types.push(Type::Const(Ref { target })),
        Kind::Restrict => types.push(Type::Restrict(Ref { target })),
        Kind::Typedef => types.push(Type::Typedef(Named { name, target })),
        Kind::TypeTag => types.push(Type::TypeTag(Named { name, target })),
        Kind::Array => {
            let rec = tail.first_chunk::<12>()?;
            types.push(Type::Array(Array {
                elem: TypeId(word::<O, 12>(rec, 0)),
                index: TypeId(word::<O, 12>(rec, 1)),
                len: word::<O, 12>(rec, 2),
            }));
        }
        Kind::Struct | Kind::Union => {
            let c = Composite {
                name,
                byte_size: size_or_type,
                members: arenas.members::<O>(entries(tail, vlen)?, kind_flag),
            };
            types.push(if kind == Kind::Struct {
                Type::Struct(c)
            } else {
                Type::Union(c)
            });
        }
        Kind::Enum | Kind::Enum64 => {
            let values = if kind == Kind::Enum64 {
                arenas.enumerators64::<O>(entries(tail, vlen)?)
            } else {
                arenas.enumerators::<O>(entries(tail, vlen)?, kind_flag)
            };
            types.push(Type::Enum(Enum {
                name,
                byte_size: size_or_type,
                signed: kind_flag,
                is_64: kind == Kind::Enum64,
                values,
            }));
        }
        Kind::Fwd => types.push(Type::Fwd(Fwd {
            name,
            is_union: kind_flag,
        })),
        Kind::Func => types.push(Type::Func(Func {
            name,
            proto: target,
            linkage: func_linkage(vlen),
        })),
        Kind::FuncProto => {
            let params = arenas.params::<O>(entries(tail, vlen)?);
            types.push(Type::FuncProto(FuncProto {
                ret: target,
                params,
            }));
        }
        Kind::Var => {
            let linkage = var_linkage(word::<O, 4>(tail.first_chunk()?, 0));
            types.push(Type::Var(Var {
                name,
                ty: target,
                linkage,
            }));
        }
        Kind::Datasec => {
            let vars = arenas.vars::<O>(entries(tail, vlen)?);
            types.push(Type::Datasec(Datasec {
                name,
                byte_size: size_or_type,
                vars,
            }));
        }
        Kind::Float => types.push(Type::Float(Float {
            name,
            byte_size: size_or_type,
        })),
        Kind::DeclTag => {
            let component_idx = word::<O, 4>(tail.first_chunk()?, 0) as i32;
            types.push(Type::DeclTag(DeclTag {
                name,
                target,
                component_idx,
            }));
        }
    }
    let (fixed, per_entry) = tail_len(kind);
    Some(12 + fixed + per_entry * vlen)
}

fn func_linkage(vlen: usize) -> FuncLinkage {
    match vlen {
        0 => FuncLinkage::Static,
        1 => FuncLinkage::Global,
        2 => FuncLinkage::Extern,
        n => FuncLinkage::Other(n as u16),
    }
}

fn var_linkage(linkage: u32) -> VarLinkage {
    match linkage {
        0 => VarLinkage::Static,
        1 => VarLinkage::Global,
        2 => VarLinkage::Extern,
        n => VarLinkage::Other(n),
    }
}

fn int(name: Name, byte_size: u32, encoding: u32) -> Type {
    let flags = (encoding >> 24) & 0x0f;
    Type::Int(Int {
        name,
        byte_size,
        encoding: IntEncoding {
            signed: flags & 1 != 0,
            char: flags & 2 != 0,
            bool: flags & 4 != 0,
        },
        bit_offset: ((encoding >> 16) & 0xff) as u8,
        bits: (encoding & 0xff) as u8,
    })
}

/// `vlen` entries of `N` bytes.
#[inline(always)]
fn entries<const N: usize>(tail: &[u8], vlen: usize) -> Option<&[[u8; N]]> {
    Some(tail.get(..vlen * N)?.as_chunks::<N>().0)
}

/// One chunk's records, one buffer per kind of record (see [`Records`]).
#[derive(Default)]
struct Arenas {
    members: Vec<Member>,
    enumerators: Vec<Enumerator>,
    params: Vec<Param>,
    vars: Vec<VarSecinfo>,
}

impl Arenas {
    fn members<O: Order>(&mut self, recs: &[[u8; 12]], kind_flag: bool) -> Records<Member> {
        let start = self.members.len();
        self.members.extend(recs.iter().map(|rec| {
            let offset = word::<O, 12>(rec, 2);
            let (bit_offset, bitfield_size) = if kind_flag {
                (offset & 0x00ff_ffff, offset >> 24)
            } else {
                (offset, 0)
            };
            Member {
                name: Name(word::<O, 12>(rec, 0)),
                ty: TypeId(word::<O, 12>(rec, 1)),
                bit_offset,
                bitfield_size,
            }
        }));
        Records::pending(start, recs.len())
    }

    /// ENUM values: 32 bits, sign-extended when the enum is signed.
    fn enumerators<O: Order>(&mut self, recs: &[[u8; 8]], signed: bool) -> Records<Enumerator> {
        let start = self.enumerators.len();
        self.enumerators.extend(recs.iter().map(|rec| {
            let v = word::<O, 8>(rec, 1);
            Enumerator {
                name: Name(word::<O, 8>(rec, 0)),
                value: if signed {
                    v as i32 as i64 as u64
                } else {
                    v as u64
                },
            }
        }));
        Records::pending(start, recs.len())
    }

    /// ENUM64 values: low and high halves.
    fn enumerators64<O: Order>(&mut self, recs: &[[u8; 12]]) -> Records<Enumerator> {
        let start = self.enumerators.len();
        self.enumerators.extend(recs.iter().map(|rec| Enumerator {
            name: Name(word::<O, 12>(rec, 0)),
            value: (word::<O, 12>(rec, 2) as u64) << 32 | word::<O, 12>(rec, 1) as u64,
        }));
        Records::pending(start, recs.len())
    }

    fn params<O: Order>(&mut self, recs: &[[u8; 8]]) -> Records<Param> {
        let start = self.params.len();
        self.params.extend(recs.iter().map(|rec| Param {
            name: Name(word::<O, 8>(rec, 0)),
            ty: TypeId(word::<O, 8>(rec, 1)),
        }));
        Records::pending(start, recs.len())
    }

    fn vars<O: Order>(&mut self, recs: &[[u8; 12]]) -> Records<VarSecinfo> {
        let start = self.vars.len();
        self.vars.extend(recs.iter().map(|rec| VarSecinfo {
            ty: TypeId(word::<O, 12>(rec, 0)),
            offset: word::<O, 12>(rec, 1),
            byte_size: word::<O, 12>(rec, 2),
        }));
        Records::pending(start, recs.len())
    }

    /// Points every type's records at the shared buffers.
    fn attach(self, types: &mut [Type]) {
        let members = shared(self.members);
        let enumerators = shared(self.enumerators);
        let params = shared(self.params);
        let vars = shared(self.vars);
        for t in types {
            match t {
                Type::Struct(c) | Type::Union(c) => c.members.attach(&members),
                Type::Enum(e) => e.values.attach(&enumerators),
                Type::FuncProto(f) => f.params.attach(&params),
                Type::Datasec(d) => d.vars.attach(&vars),
                _ => {}
            }
        }
    }
}

/// A buffer to share, or none for an empty one (whose runs need none).
fn shared<T>(records: Vec<T>) -> Option<Arc<Vec<T>>> {
    (!records.is_empty()).then(|| Arc::new(records))
}
