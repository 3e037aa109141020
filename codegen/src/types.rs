//! Rust types for BTF types: IR, emission and formatting in one call, over
//! the roots `select` chose.
//!
//! In: a [`Btf`] (from an object or a raw file) and the selected roots.
//! Out: formatted Rust source of one `pub mod types`.

use bpf2rs_reader::btf::Btf;

use crate::ir::{self, Root, TypesError};
use crate::{emit, format};

pub use crate::select::{object_roots, select, Selection};

/// Generated code and what was renamed on the way.
#[derive(Debug)]
pub struct Generated {
    pub code: String,
    pub renamed: Vec<(String, String)>,
    pub types: usize,
}

/// Generates formatted Rust for `roots`.
pub fn generate(btf: &Btf, roots: &[Root], selection: &Selection) -> Result<Generated, TypesError> {
    let items = ir::build(btf, roots, selection.rename_duplicates)?;
    let cx = emit::Cx::new(&items);
    let mut code = module_text(&cx, &items);
    if selection.layout_table {
        code.push_str(&format::format(emit::layout_table(btf, &items)));
    }
    Ok(Generated {
        code,
        renamed: items.renamed,
        types: items.items.len(),
    })
}

/// The generated-file header and the `types` module holding `items`.
pub(crate) fn module_text(cx: &emit::Cx, items: &ir::Items) -> String {
    let list: Vec<&ir::Item> = items.items.values().collect();
    let mut code = String::from(format::HEADER);
    code.push_str(&format::format_module(
        emit::module_attrs(),
        &list,
        |chunk| emit::items(cx, chunk.iter().copied()),
    ));
    code
}
