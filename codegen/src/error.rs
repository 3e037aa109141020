//! The error of turning BTF into Rust types, shared by the selection (a
//! named type that is not there) and the IR (everything else).

use bpf2rs_reader::btf::{BtfError, TypeId};

/// What can go wrong turning BTF into Rust types.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TypesError {
    #[error("{0}")]
    Btf(#[from] BtfError),
    #[error("type {id} ({what}): {message}")]
    Unsupported {
        id: TypeId,
        what: String,
        message: String,
    },
    #[error("two C types would both be named `{name}` in Rust: {first} and {second} (pass --rename-duplicates to suffix the later one with its BTF id)")]
    Collision {
        name: String,
        first: String,
        second: String,
    },
    #[error("no type named `{0}` in the BTF")]
    NotFound(String),
}
