//! The typed skeleton of an object: `{Name}Skel::open()` -> `Open{Name}Skel`
//! (typed global data and struct_ops values before load, per-map and
//! per-program settings) -> `.load()` -> `{Name}Skel` with typed maps,
//! programs, mmapped data and struct_ops maps; `attach()` attaches the
//! programs and registers the struct_ops maps.
//!
//! The stages, as for types: [`crate::select`] the roots (map keys, values
//! and records, data sections, struct_ops variables) -> [`crate::ir`] (the
//! types, then the skeleton IR: maps by family) -> [`crate::emit`] (syn
//! trees) -> [`mod@crate::format`].
//!
//! In: an [`ObjectSpec`] and [`SkelOptions`]. Out: formatted Rust: the
//! `types` module plus the skeleton items.

use bpf2rs_reader::btf::Btf;
use bpf2rs_reader::obj::ObjectSpec;

use crate::emit::{self, Cx};
use crate::ir::skel::SkelIrError;
use crate::ir::{self, TypesError};
use crate::{format, select};

pub use crate::naming::camel;

pub use crate::options::SkelOptions;

/// Why a skeleton could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SkelError {
    #[error("{object}: {source}")]
    Types {
        object: String,
        #[source]
        source: TypesError,
    },
    #[error("{object}: map {map}: {message}")]
    Map {
        object: String,
        map: String,
        message: String,
    },
    #[error("{object}: {message}")]
    Other { object: String, message: String },
}

/// Generates the skeleton file for `spec`.
pub fn generate(spec: &ObjectSpec, opts: &SkelOptions) -> Result<String, SkelError> {
    let object = spec.name.clone();
    let empty_btf;
    let btf: &Btf = match &spec.btf {
        Some(b) => b,
        None => {
            empty_btf = Btf::parse(&minimal_btf()).map_err(|e| SkelError::Other {
                object: object.clone(),
                message: e.to_string(),
            })?;
            &empty_btf
        }
    };
    let types_err = |source| SkelError::Types {
        object: object.clone(),
        source,
    };
    let map_err = |map: &str, message: String| SkelError::Map {
        object: object.clone(),
        map: map.to_owned(),
        message,
    };
    let roots = select::skeleton_roots(btf, spec, opts).map_err(|e| map_err(&e.map, e.message))?;
    let items = ir::build(btf, &roots.roots, opts.rename_duplicates).map_err(types_err)?;
    let skeleton = ir::skel::build(spec, opts, &roots, &items).map_err(|e| match e {
        SkelIrError::Map { map, message } => map_err(&map, message),
        SkelIrError::Other(message) => SkelError::Other {
            object: object.clone(),
            message,
        },
    })?;
    let cx = Cx::new(&items);
    let mut code = crate::types::module_text(&cx, &items);
    code.push('\n');
    code.push_str(&format::format(emit::skeleton(&cx, &skeleton)));
    Ok(code)
}

/// BTF with no types, for objects without BTF (legacy maps only).
fn minimal_btf() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0xeb9fu16.to_le_bytes());
    b.extend_from_slice(&[1, 0]);
    for v in [24u32, 0, 0, 0, 1] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.push(0);
    b
}
