//! Shared helpers for bpf2rs's integration tests: fixture paths and parsed
//! fixtures, a DATASEC's layout, a minimal ELF section-header reader and a
//! raw BTF type walker (to find the bytes a test corrupts), a deterministic
//! random generator and temporary directories.
//!
//! In: the committed fixtures in `tests/bpf/`. Out: their bytes, the file
//! offsets of their parts, and what the reader makes of them. Everything
//! here is for tests only and panics on input it does not expect (the
//! fixtures are known, little-endian ELF64).

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: test helpers; a panic is a failed test

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use bpf2rs::btf::{Btf, Kind, Type, TypeId};
use bpf2rs::obj::ObjectSpec;

/// Path of a compiled fixture in `tests/bpf/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("bpf")
        .join(name)
}

/// Bytes of a compiled fixture in `tests/bpf/`.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A fixture read by the object reader; panics with the reader's message.
pub fn open(name: &str) -> ObjectSpec {
    ObjectSpec::from_file(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The object's BTF; panics if it has none.
pub fn btf(spec: &ObjectSpec) -> &Btf {
    spec.btf.as_deref().expect("object has BTF")
}

/// C spelling of an optional type of the object's BTF.
pub fn c_name(spec: &ObjectSpec, id: Option<TypeId>) -> Option<String> {
    id.map(|id| btf(spec).c_type_name(id).unwrap())
}

/// A DATASEC's size and its `(var name, offset, size)`s.
pub fn datasec(b: &Btf, name: &str) -> (u32, Vec<(String, u32, u32)>) {
    let id = b
        .find_by_name(name, Kind::Datasec)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let Type::Datasec(d) = b.type_by_id(id).unwrap() else {
        unreachable!("find_by_name returned another kind")
    };
    let vars = d
        .vars
        .iter()
        .map(|v| {
            let name = match b.type_by_id(v.ty).unwrap() {
                Type::Var(var) => b.name(var.name),
                Type::Func(f) => b.name(f.name),
                other => panic!("DATASEC entry {other:?}"),
            };
            (name.to_owned(), v.offset, v.byte_size)
        })
        .collect();
    (d.byte_size, vars)
}

/// `(name, offset, size)` rows with owned names, to compare with [`datasec`].
pub fn owned<const N: usize>(rows: [(&str, u32, u32); N]) -> Vec<(String, u32, u32)> {
    rows.iter().map(|&(n, o, s)| (n.to_owned(), o, s)).collect()
}

/// Little-endian u16 at `pos`.
pub fn get_u16(bytes: &[u8], pos: usize) -> u16 {
    u16::from_le_bytes(bytes[pos..pos + 2].try_into().unwrap())
}

/// Little-endian u32 at `pos`.
pub fn get_u32(bytes: &[u8], pos: usize) -> u32 {
    u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap())
}

/// Little-endian u64 at `pos`.
pub fn get_u64(bytes: &[u8], pos: usize) -> u64 {
    u64::from_le_bytes(bytes[pos..pos + 8].try_into().unwrap())
}

/// Writes a little-endian u32 at `pos`.
pub fn set_u32(bytes: &mut [u8], pos: usize, value: u32) {
    bytes[pos..pos + 4].copy_from_slice(&value.to_le_bytes());
}

/// Writes a little-endian u64 at `pos`.
pub fn set_u64(bytes: &mut [u8], pos: usize, value: u64) {
    bytes[pos..pos + 8].copy_from_slice(&value.to_le_bytes());
}

/// One ELF64 section header, as the file has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfSection {
    pub index: usize,
    pub name: String,
    /// File offset of the section header's `sh_name` field (for renaming).
    pub name_pos: usize,
    pub sh_type: u32,
    /// File offset of the section's bytes.
    pub offset: usize,
    pub size: usize,
    pub link: u32,
    pub info: u32,
    pub entsize: usize,
}

/// ELF `SHT_REL`.
pub const SHT_REL: u32 = 9;

/// The section headers of a little-endian ELF64 file (offsets from
/// `Elf64_Ehdr` and `Elf64_Shdr`, see elf(5)).
pub fn elf_sections(bytes: &[u8]) -> Vec<ElfSection> {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "not ELF64");
    assert_eq!(bytes[5], 1, "not little-endian");
    let shoff = get_u64(bytes, 0x28) as usize;
    let shentsize = usize::from(get_u16(bytes, 0x3a));
    let shnum = usize::from(get_u16(bytes, 0x3c));
    let shstrndx = usize::from(get_u16(bytes, 0x3e));
    let header = |i: usize| shoff + i * shentsize;
    let strtab = get_u64(bytes, header(shstrndx) + 24) as usize;
    (0..shnum)
        .map(|i| {
            let h = header(i);
            let name_off = get_u32(bytes, h) as usize;
            let name_start = strtab + name_off;
            let name_len = bytes[name_start..].iter().position(|&b| b == 0).unwrap();
            ElfSection {
                index: i,
                name: String::from_utf8(bytes[name_start..name_start + name_len].to_vec()).unwrap(),
                name_pos: h,
                sh_type: get_u32(bytes, h + 4),
                offset: get_u64(bytes, h + 24) as usize,
                size: get_u64(bytes, h + 32) as usize,
                link: get_u32(bytes, h + 40),
                info: get_u32(bytes, h + 44),
                entsize: get_u64(bytes, h + 56) as usize,
            }
        })
        .collect()
}

/// The section named `name`; panics if there is none.
pub fn elf_section(bytes: &[u8], name: &str) -> ElfSection {
    elf_sections(bytes)
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no section {name}"))
}

/// BTF kinds (`include/uapi/linux/btf.h`).
pub mod btf_kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const DECL_TAG: u32 = 17;
    pub const ENUM64: u32 = 19;
}

/// One type of a raw BTF blob, located in the blob's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawBtfType {
    pub id: u32,
    pub kind: u32,
    pub vlen: u32,
    pub name_off: u32,
    /// Offset of the type's `btf_type` record from the start of the blob.
    pub pos: usize,
}

impl RawBtfType {
    /// Offset of the `info` word (vlen, kind) from the start of the blob.
    pub fn info_pos(&self) -> usize {
        self.pos + 4
    }

    /// Offset of the `size`/`type` word from the start of the blob.
    pub fn size_or_type_pos(&self) -> usize {
        self.pos + 8
    }

    /// Offset of the `type` field of member `i` of a struct or union.
    pub fn member_type_pos(&self, i: usize) -> usize {
        self.pos + 12 + i * 12 + 4
    }
}

/// Layout of a little-endian BTF blob's header (Documentation/bpf/btf.rst):
/// `(hdr_len, type_off, type_len, str_off, str_len)`.
pub fn btf_header(btf: &[u8]) -> (usize, usize, usize, usize, usize) {
    assert_eq!(get_u16(btf, 0), 0xeb9f, "not little-endian BTF");
    let at = |p| get_u32(btf, p) as usize;
    (at(4), at(8), at(12), at(16), at(20))
}

/// Every type of a little-endian BTF blob, with where it sits in the blob.
pub fn btf_raw_types(btf: &[u8]) -> Vec<RawBtfType> {
    let (hdr_len, type_off, type_len, _, _) = btf_header(btf);
    let start = hdr_len + type_off;
    let end = start + type_len;
    let mut pos = start;
    let mut out = Vec::new();
    let mut id = 1;
    while pos < end {
        let info = get_u32(btf, pos + 4);
        let kind = (info >> 24) & 0x1f;
        let vlen = info & 0xffff;
        out.push(RawBtfType {
            id,
            kind,
            vlen,
            name_off: get_u32(btf, pos),
            pos,
        });
        let extra = match kind {
            btf_kind::INT | btf_kind::VAR | btf_kind::DECL_TAG => 4,
            btf_kind::ARRAY => 12,
            btf_kind::STRUCT | btf_kind::UNION | btf_kind::DATASEC | btf_kind::ENUM64 => 12 * vlen,
            btf_kind::ENUM | btf_kind::FUNC_PROTO => 8 * vlen,
            _ => 0,
        };
        pos += 12 + extra as usize;
        id += 1;
    }
    assert_eq!(pos, end, "type section does not end on a type boundary");
    out
}

/// A deterministic xorshift64* generator, so that fuzz-style tests see the
/// same inputs on every run.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next_u64() as u8;
        }
    }
}

/// A directory under the system temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bpf2rs-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `bytes` to `name` in the directory and returns the path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Typed skeletons of fixtures, generated by build.rs with `Builder`.
#[allow(clippy::all, clippy::undocumented_unsafe_blocks)] // reason: generated code (its `unsafe impl Pod` has no comment: prettyplease drops comments); checked by its own tests
pub mod skel {
    /// `tests/bpf/kitchen.bpf.o`: every map form and global data.
    pub mod kitchen {
        include!(concat!(env!("OUT_DIR"), "/kitchen.skel.rs"));
    }
    /// `tests/bpf/layout.bpf.o`: every layout feature.
    pub mod layout {
        include!(concat!(env!("OUT_DIR"), "/layout.skel.rs"));
    }
    /// `runtime/tests/bpf/events.bpf.o`: ring buffers (`events` typed) and a perf buffer.
    pub mod events {
        include!(concat!(env!("OUT_DIR"), "/events.skel.rs"));
    }
    /// `tests/bpf/attach.bpf.o`: one program per attach kind.
    pub mod attach {
        include!(concat!(env!("OUT_DIR"), "/attach.skel.rs"));
    }
    /// `tools.bpf.o`: execsnoop and runqlat written like libbpf-tools.
    pub mod tools {
        include!(concat!(env!("OUT_DIR"), "/tools.skel.rs"));
    }
    /// `tests/bpf/usdt.bpf.o`: USDT probes read with `<bpf/usdt.bpf.h>`.
    pub mod usdt {
        include!(concat!(env!("OUT_DIR"), "/usdt.skel.rs"));
    }
    /// `tests/bpf/struct_ops.bpf.o`: a TCP congestion control as struct_ops
    /// (`reno_like` through a link, `plain_ops` without), counting its calls.
    pub mod struct_ops {
        include!(concat!(env!("OUT_DIR"), "/struct_ops.skel.rs"));
    }
    /// `tests/bpf/typed.bpf.o`: C alignment 16 in .bss and in event records,
    /// and one map of every family the skeleton types.
    pub mod typed {
        include!(concat!(env!("OUT_DIR"), "/typed.skel.rs"));
    }
}

/// The value of `typed.bpf.o`'s size-only map `pairs`, written by hand: the
/// build names it with `map_rust_types("pairs", "u32", "crate::Pair")`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bpf2rs::Pod)]
pub struct Pair {
    pub a: u32,
    pub b: u32,
}

/// Fails the calling test unless it runs as root: kernel tests need
/// CAP_BPF/CAP_SYS_ADMIN, and are never skipped silently.
pub fn require_root() {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    assert!(
        root,
        "this kernel test needs root (CAP_BPF and CAP_SYS_ADMIN): run the tests as root"
    );
}

/// Says on stderr that `what` could not run on this kernel and why (the
/// first line of `why`). scripts/vmtest counts these lines: a test that
/// calls this returns without failing, but is never counted as passed
/// silently. Call it only after checking the refusal is the expected one.
pub fn not_run(what: &str, why: &str) {
    let first_line = why.lines().next().unwrap_or_default();
    let line = format!("note: {what} NOT RUN on this kernel: {first_line}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// A fresh directory in bpffs (mounted at /sys/fs/bpf) for pins, removed on drop.
#[derive(Debug)]
pub struct BpffsDir(PathBuf);

impl BpffsDir {
    pub fn new(tag: &str) -> BpffsDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(format!(
            "/sys/fs/bpf/bpf2rs-test-{tag}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| {
            panic!(
                "creating {} (is bpffs mounted? scripts/setup mounts it): {e}",
                dir.display()
            )
        });
        BpffsDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for BpffsDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
