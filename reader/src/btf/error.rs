//! Errors of the BTF reader and of walks over the type graph.

use super::types::{Kind, TypeId};

/// Something wrong with BTF data, or a question the types cannot answer.
///
/// Messages read as a path from the outside in; callers add the file name.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BtfError {
    #[error("btf: {what}: needs {need} bytes at offset {offset}, only {len} present")]
    Truncated {
        what: &'static str,
        offset: usize,
        need: usize,
        len: usize,
    },
    #[error("btf: bad magic {found:#06x} (want 0xeb9f)")]
    BadMagic { found: u16 },
    #[error("btf: unsupported version {found} (want 1)")]
    BadVersion { found: u8 },
    #[error("btf: header: {0}")]
    BadHeader(String),
    #[error("btf: string section does not end with a NUL byte")]
    StringsNotTerminated,
    #[error("btf: string section is not valid UTF-8 at byte {offset}")]
    StringsNotUtf8 { offset: usize },
    #[error(
        "btf: type {id}: {what} name offset {offset} is past the string section ({len} bytes)"
    )]
    NameOutOfRange {
        id: TypeId,
        what: &'static str,
        offset: u32,
        len: u32,
    },
    #[error("btf: type {id}: {what} name offset {offset} is inside a UTF-8 character")]
    NameInsideChar {
        id: TypeId,
        what: &'static str,
        offset: u32,
    },
    #[error("btf: type {id}: unknown kind {kind}")]
    UnknownKind { id: TypeId, kind: u32 },
    #[error(
        "btf: type {id} ({kind}): {what} refers to type {target}, but only {count} types exist"
    )]
    BadTypeRef {
        id: TypeId,
        kind: Kind,
        what: &'static str,
        target: u32,
        count: u32,
    },
    #[error("btf: type {id} ({kind}): {0}", .detail)]
    BadType {
        id: TypeId,
        kind: Kind,
        detail: String,
    },
    #[error("btf: too many types ({count}); type ids are limited to {max}")]
    TooManyTypes { count: u64, max: u32 },
    #[error("btf: type {id} does not exist ({count} types)")]
    NoSuchType { id: TypeId, count: u32 },
    #[error("btf: type {id}: reference chain is cyclic or deeper than {max} levels")]
    TooDeep { id: TypeId, max: u32 },
    #[error("btf: type {id}: spelling visits more than {max} types")]
    TooComplex { id: TypeId, max: u32 },
    #[error("btf: type {id} contains itself (a reference cycle not broken by a pointer)")]
    Cycle { id: TypeId },
    #[error("btf: type {id} ({kind}) has no size")]
    NoSize { id: TypeId, kind: Kind },
    #[error("btf: type {id}: size overflows u32")]
    SizeOverflow { id: TypeId },
    #[error("btf: no type named `{name}`")]
    NotFound { name: String },
    #[error("btf.ext: {0}")]
    Ext(String),
    #[error("btf: reading {path}: {message}")]
    Io { path: String, message: String },
}
