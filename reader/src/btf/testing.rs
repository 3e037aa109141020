//! A small BTF writer for tests: readable calls in, wire-format bytes out.
//!
//! In: types added one call at a time (`int`, `struct_`, `typedef`, ...),
//! each returning the [`TypeId`] it will have. Out: a `.BTF` blob in either
//! byte order, standalone or split on top of a base. Escape hatches ([`raw`],
//! [`raw_string`], [`set_u32`] with the `HDR_*` and [`BtfBuilder::type_pos`]
//! offsets) produce the corrupt inputs the reader must reject, so tests never
//! carry unexplained hex blobs.
//!
//! ```
//! use bpf2rs_reader::btf::testing::{BtfBuilder, SIGNED};
//! use bpf2rs_reader::btf::{Btf, Kind};
//!
//! let mut b = BtfBuilder::new();
//! let int = b.int("int", 4, SIGNED);
//! b.struct_("flow", 8, &[("a", int, 0), ("b", int, 32)]);
//! let btf = Btf::parse(&b.bytes()).unwrap();
//! let flow = btf.find_by_name("flow", Kind::Struct).unwrap();
//! assert_eq!(btf.size_of(flow).unwrap(), 8);
//! ```
//!
//! [`raw`]: BtfBuilder::raw
//! [`raw_string`]: BtfBuilder::raw_string

use std::collections::HashMap;

use super::{Kind, Name, TypeId};

/// `BTF_INT_SIGNED`.
pub const SIGNED: u32 = 1;
/// `BTF_INT_CHAR`.
pub const CHAR: u32 = 2;
/// `BTF_INT_BOOL`.
pub const BOOL: u32 = 4;
/// No INT encoding bits: an unsigned integer.
pub const UNSIGNED: u32 = 0;

/// `BTF_FUNC_STATIC` / `BTF_VAR_STATIC`.
pub const LINKAGE_STATIC: u32 = 0;
/// `BTF_FUNC_GLOBAL` / `BTF_VAR_GLOBAL_ALLOCATED`.
pub const LINKAGE_GLOBAL: u32 = 1;
/// `BTF_FUNC_EXTERN` / `BTF_VAR_GLOBAL_EXTERN`.
pub const LINKAGE_EXTERN: u32 = 2;

/// Byte offsets of the header fields (`struct btf_header`).
pub const HDR_MAGIC: usize = 0;
/// The version byte.
pub const HDR_VERSION: usize = 2;
/// `hdr_len`.
pub const HDR_LEN: usize = 4;
/// `type_off`, relative to the end of the header.
pub const HDR_TYPE_OFF: usize = 8;
/// `type_len`.
pub const HDR_TYPE_LEN: usize = 12;
/// `str_off`, relative to the end of the header.
pub const HDR_STR_OFF: usize = 16;
/// `str_len`.
pub const HDR_STR_LEN: usize = 20;
/// Size of the header the builder writes.
pub const HEADER_LEN: usize = 24;

/// Builds BTF type by type. Ids are handed out in call order, starting at 1
/// (or after the base's types for split BTF).
#[derive(Clone, Debug)]
pub struct BtfBuilder {
    first_id: u32,
    str_base: u32,
    /// One record per type, as the u32 words the wire format is made of.
    types: Vec<Vec<u32>>,
    strings: Vec<u8>,
    interned: HashMap<String, u32>,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        BtfBuilder::new()
    }
}

/// The `info` word of a type record: kind, vlen and kind_flag.
pub fn info(kind: u32, vlen: u32, kind_flag: bool) -> u32 {
    (u32::from(kind_flag) << 31) | ((kind & 0x1f) << 24) | (vlen & 0xffff)
}

/// Overwrites the little-endian u32 at `pos` (for corrupting a blob).
pub fn set_u32(bytes: &mut [u8], pos: usize, value: u32) {
    bytes[pos..pos + 4].copy_from_slice(&value.to_le_bytes());
}

/// Reads the little-endian u32 at `pos`.
pub fn get_u32(bytes: &[u8], pos: usize) -> u32 {
    u32::from_le_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]])
}

impl BtfBuilder {
    /// Standalone BTF: the first type gets id 1.
    pub fn new() -> BtfBuilder {
        BtfBuilder::split(1, 0)
    }

    /// Split BTF on top of a base with `base_types` ids (void included, i.e.
    /// the base's `Btf::len()`) and `base_str_len` bytes of strings.
    pub fn split(base_types: u32, base_str_len: u32) -> BtfBuilder {
        let mut interned = HashMap::new();
        interned.insert(String::new(), 0);
        BtfBuilder {
            first_id: base_types,
            str_base: base_str_len,
            types: Vec::new(),
            strings: vec![0],
            interned,
        }
    }

    /// The id the next added type will get.
    pub fn next_id(&self) -> TypeId {
        TypeId(self.first_id + self.types.len() as u32)
    }

    /// Number of types added so far.
    pub fn type_count(&self) -> usize {
        self.types.len()
    }

    /// The name offset of `s`, adding it to the string section if new.
    /// The empty string is offset 0 (of the base, for split BTF).
    pub fn string(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&off) = self.interned.get(s) {
            return off;
        }
        let off = self.raw_string(s.as_bytes());
        self.interned.insert(s.to_owned(), off);
        off
    }

    /// The name offset of a string added before (test-only lookup).
    ///
    /// # Panics
    /// When `s` was never added.
    pub fn name(&self, s: &str) -> Name {
        match self.interned.get(s) {
            Some(&off) => Name(off),
            None => panic!("string {s:?} was not added to the builder"),
        }
    }

    /// Appends arbitrary bytes plus a NUL to the string section (for
    /// non-UTF-8 names) and returns their offset.
    pub fn raw_string(&mut self, bytes: &[u8]) -> u32 {
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend_from_slice(bytes);
        self.strings.push(0);
        off
    }

    /// Adds a record made of arbitrary words (for corrupt types).
    pub fn raw(&mut self, words: &[u32]) -> TypeId {
        let id = self.next_id();
        self.types.push(words.to_vec());
        id
    }

    /// Replaces word `word` of an already added type's record.
    pub fn patch(&mut self, id: TypeId, word: usize, value: u32) {
        self.types[(id.0 - self.first_id) as usize][word] = value;
    }

    fn add(
        &mut self,
        name: &str,
        kind: Kind,
        vlen: usize,
        kind_flag: bool,
        size_or_type: u32,
        rest: &[u32],
    ) -> TypeId {
        let name_off = self.string(name);
        let mut words = vec![
            name_off,
            info(kind as u32, vlen as u32, kind_flag),
            size_or_type,
        ];
        words.extend_from_slice(rest);
        self.raw(&words)
    }

    /// An INT of `byte_size` bytes using all its bits; `encoding` is a mix of
    /// [`SIGNED`], [`CHAR`], [`BOOL`] (or [`UNSIGNED`]).
    pub fn int(&mut self, name: &str, byte_size: u32, encoding: u32) -> TypeId {
        self.int_bits(name, byte_size, encoding, 0, byte_size * 8)
    }

    /// An INT with an explicit bit offset and width (the legacy bitfield
    /// encoding, used by members without kind_flag).
    pub fn int_bits(
        &mut self,
        name: &str,
        byte_size: u32,
        encoding: u32,
        bit_offset: u32,
        bits: u32,
    ) -> TypeId {
        let enc = (encoding << 24) | ((bit_offset & 0xff) << 16) | (bits & 0xff);
        self.add(name, Kind::Int, 0, false, byte_size, &[enc])
    }

    /// `BTF_KIND_PTR`.
    pub fn ptr(&mut self, target: TypeId) -> TypeId {
        self.add("", Kind::Ptr, 0, false, target.0, &[])
    }

    /// `BTF_KIND_CONST`.
    pub fn const_(&mut self, target: TypeId) -> TypeId {
        self.add("", Kind::Const, 0, false, target.0, &[])
    }

    /// `BTF_KIND_VOLATILE`.
    pub fn volatile(&mut self, target: TypeId) -> TypeId {
        self.add("", Kind::Volatile, 0, false, target.0, &[])
    }

    /// `BTF_KIND_RESTRICT`.
    pub fn restrict(&mut self, target: TypeId) -> TypeId {
        self.add("", Kind::Restrict, 0, false, target.0, &[])
    }

    /// `BTF_KIND_TYPEDEF`.
    pub fn typedef(&mut self, name: &str, target: TypeId) -> TypeId {
        self.add(name, Kind::Typedef, 0, false, target.0, &[])
    }

    /// `BTF_KIND_TYPE_TAG`.
    pub fn type_tag(&mut self, name: &str, target: TypeId) -> TypeId {
        self.add(name, Kind::TypeTag, 0, false, target.0, &[])
    }

    /// `BTF_KIND_ARRAY` of `nelems` elements of `elem`, indexed by `index`.
    pub fn array(&mut self, elem: TypeId, index: TypeId, nelems: u32) -> TypeId {
        self.add("", Kind::Array, 0, false, 0, &[elem.0, index.0, nelems])
    }

    /// A struct without kind_flag: members are `(name, type, bit_offset)`.
    pub fn struct_(
        &mut self,
        name: &str,
        byte_size: u32,
        members: &[(&str, TypeId, u32)],
    ) -> TypeId {
        self.composite(Kind::Struct, name, byte_size, false, &with_width(members))
    }

    /// A union without kind_flag.
    pub fn union_(
        &mut self,
        name: &str,
        byte_size: u32,
        members: &[(&str, TypeId, u32)],
    ) -> TypeId {
        self.composite(Kind::Union, name, byte_size, false, &with_width(members))
    }

    /// A struct with kind_flag: members are `(name, type, bit_offset,
    /// bitfield_size)`, bitfield_size 0 for ordinary members.
    pub fn bitfield_struct(
        &mut self,
        name: &str,
        byte_size: u32,
        members: &[(&str, TypeId, u32, u32)],
    ) -> TypeId {
        self.composite(Kind::Struct, name, byte_size, true, members)
    }

    /// A union with kind_flag.
    pub fn bitfield_union(
        &mut self,
        name: &str,
        byte_size: u32,
        members: &[(&str, TypeId, u32, u32)],
    ) -> TypeId {
        self.composite(Kind::Union, name, byte_size, true, members)
    }

    fn composite(
        &mut self,
        kind: Kind,
        name: &str,
        byte_size: u32,
        kind_flag: bool,
        members: &[(&str, TypeId, u32, u32)],
    ) -> TypeId {
        let mut rest = Vec::with_capacity(members.len() * 3);
        for &(m_name, ty, bit_offset, bitfield_size) in members {
            let offset = if kind_flag {
                (bitfield_size << 24) | (bit_offset & 0x00ff_ffff)
            } else {
                bit_offset
            };
            rest.extend_from_slice(&[self.string(m_name), ty.0, offset]);
        }
        self.add(name, kind, members.len(), kind_flag, byte_size, &rest)
    }

    /// A 32-bit-valued ENUM of `byte_size` bytes (kind_flag set when `signed`).
    pub fn enum_(
        &mut self,
        name: &str,
        byte_size: u32,
        signed: bool,
        values: &[(&str, i64)],
    ) -> TypeId {
        let mut rest = Vec::with_capacity(values.len() * 2);
        for &(v_name, value) in values {
            rest.extend_from_slice(&[self.string(v_name), value as u32]);
        }
        self.add(name, Kind::Enum, values.len(), signed, byte_size, &rest)
    }

    /// An ENUM64; values are the raw 64 bits.
    pub fn enum64(
        &mut self,
        name: &str,
        byte_size: u32,
        signed: bool,
        values: &[(&str, u64)],
    ) -> TypeId {
        let mut rest = Vec::with_capacity(values.len() * 3);
        for &(v_name, value) in values {
            rest.extend_from_slice(&[self.string(v_name), value as u32, (value >> 32) as u32]);
        }
        self.add(name, Kind::Enum64, values.len(), signed, byte_size, &rest)
    }

    /// `BTF_KIND_FWD` of a struct or (`is_union`) a union.
    pub fn fwd(&mut self, name: &str, is_union: bool) -> TypeId {
        self.add(name, Kind::Fwd, 0, is_union, 0, &[])
    }

    /// `BTF_KIND_FUNC` with a `LINKAGE_*` linkage.
    pub fn func(&mut self, name: &str, proto: TypeId, linkage: u32) -> TypeId {
        self.add(name, Kind::Func, linkage as usize, false, proto.0, &[])
    }

    /// `BTF_KIND_FUNC_PROTO`; a last parameter `("", TypeId::VOID)` is `...`.
    pub fn func_proto(&mut self, ret: TypeId, params: &[(&str, TypeId)]) -> TypeId {
        let mut rest = Vec::with_capacity(params.len() * 2);
        for &(p_name, ty) in params {
            rest.extend_from_slice(&[self.string(p_name), ty.0]);
        }
        self.add("", Kind::FuncProto, params.len(), false, ret.0, &rest)
    }

    /// `BTF_KIND_VAR` with a `LINKAGE_*` linkage.
    pub fn var(&mut self, name: &str, ty: TypeId, linkage: u32) -> TypeId {
        self.add(name, Kind::Var, 0, false, ty.0, &[linkage])
    }

    /// `BTF_KIND_DATASEC`: vars are `(var, offset, byte_size)`.
    pub fn datasec(&mut self, name: &str, byte_size: u32, vars: &[(TypeId, u32, u32)]) -> TypeId {
        let mut rest = Vec::with_capacity(vars.len() * 3);
        for &(var, offset, size) in vars {
            rest.extend_from_slice(&[var.0, offset, size]);
        }
        self.add(name, Kind::Datasec, vars.len(), false, byte_size, &rest)
    }

    /// `BTF_KIND_FLOAT`.
    pub fn float(&mut self, name: &str, byte_size: u32) -> TypeId {
        self.add(name, Kind::Float, 0, false, byte_size, &[])
    }

    /// `BTF_KIND_DECL_TAG`; `component_idx` -1 tags the type itself.
    pub fn decl_tag(&mut self, name: &str, target: TypeId, component_idx: i32) -> TypeId {
        self.add(
            name,
            Kind::DeclTag,
            0,
            false,
            target.0,
            &[component_idx as u32],
        )
    }

    /// Length of the own string section in bytes.
    pub fn strings_len(&self) -> u32 {
        self.strings.len() as u32
    }

    /// Absolute byte position of type `id`'s record in [`bytes`](Self::bytes).
    pub fn type_pos(&self, id: TypeId) -> usize {
        let index = (id.0 - self.first_id) as usize;
        HEADER_LEN
            + self.types[..index]
                .iter()
                .map(|t| t.len() * 4)
                .sum::<usize>()
    }

    /// Absolute byte position of the string section in [`bytes`](Self::bytes).
    pub fn strings_pos(&self) -> usize {
        HEADER_LEN + self.type_section_len()
    }

    fn type_section_len(&self) -> usize {
        self.types.iter().map(|t| t.len() * 4).sum()
    }

    /// Little-endian BTF: header, type section, string section.
    pub fn bytes(&self) -> Vec<u8> {
        self.emit(u32::to_le_bytes)
    }

    /// Big-endian BTF.
    pub fn bytes_be(&self) -> Vec<u8> {
        self.emit(u32::to_be_bytes)
    }

    fn emit(&self, word: fn(u32) -> [u8; 4]) -> Vec<u8> {
        let type_len = self.type_section_len() as u32;
        let mut out = Vec::with_capacity(HEADER_LEN + type_len as usize + self.strings.len());
        // Magic 0xeb9f in the blob's byte order, version 1, flags 0.
        let magic = word(0xeb9f);
        let magic = if magic[0] == 0x9f {
            [0x9f, 0xeb]
        } else {
            [0xeb, 0x9f]
        };
        out.extend_from_slice(&magic);
        out.extend_from_slice(&[1, 0]);
        let header = [
            HEADER_LEN as u32,
            0,
            type_len,
            type_len,
            self.strings.len() as u32,
        ];
        for w in header {
            out.extend_from_slice(&word(w));
        }
        for w in self.types.iter().flatten() {
            out.extend_from_slice(&word(*w));
        }
        out.extend_from_slice(&self.strings);
        out
    }

    /// A builder holding one or more types of every kind, with names,
    /// bitfields in both encodings, and references forward and backward. The
    /// seed input for mutation tests.
    pub fn every_kind() -> BtfBuilder {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, SIGNED);
        let uint = b.int("unsigned int", 4, UNSIGNED);
        let ch = b.int("char", 1, SIGNED | CHAR);
        let boolean = b.int("_Bool", 1, BOOL);
        let i128 = b.int("__int128", 16, SIGNED);
        let u3 = b.int_bits("u3", 4, UNSIGNED, 2, 3);
        let cch = b.const_(ch);
        let pcch = b.ptr(cch);
        let vint = b.volatile(int);
        let rp = b.restrict(pcch);
        let u32_t = b.typedef("__u32", uint);
        let tagged = b.type_tag("user", int);
        let arr = b.array(ch, int, 16);
        // A self-referencing struct: the pointer first, the struct after it.
        let list = TypeId(b.next_id().0 + 1);
        let plist = b.ptr(list);
        b.struct_(
            "list",
            48,
            &[
                ("next", plist, 0),
                ("id", u32_t, 64),
                ("v", vint, 96),
                ("name", arr, 128),
                ("big", i128, 256),
            ],
        );
        b.bitfield_struct(
            "bits",
            8,
            &[("a", uint, 0, 3), ("b", uint, 3, 5), ("c", int, 32, 0)],
        );
        b.union_("legacy", 4, &[("whole", uint, 0), ("part", u3, 0)]);
        b.bitfield_union("flagged", 4, &[("x", uint, 0, 7), ("y", boolean, 0, 0)]);
        b.enum_("sign", 4, true, &[("NEG", -1), ("ZERO", 0)]);
        b.enum_("colour", 1, false, &[("RED", 0), ("BLUE", 200)]);
        b.enum64("wide", 8, false, &[("HUGE", u64::MAX - 1)]);
        b.fwd("later_s", false);
        b.fwd("later_u", true);
        let proto = b.func_proto(int, &[("s", rp), ("n", u32_t), ("", TypeId::VOID)]);
        let func = b.func("handler", proto, LINKAGE_GLOBAL);
        let dbl = b.float("double", 8);
        let var = b.var("counter", dbl, LINKAGE_GLOBAL);
        let svar = b.var("seen", tagged, LINKAGE_STATIC);
        b.datasec(".data", 12, &[(var, 0, 8), (svar, 8, 4)]);
        b.decl_tag("kfunc", func, -1);
        b.decl_tag("arg", func, 0);
        b
    }
}

fn with_width<'a>(members: &[(&'a str, TypeId, u32)]) -> Vec<(&'a str, TypeId, u32, u32)> {
    members.iter().map(|&(n, t, off)| (n, t, off, 0)).collect()
}
