//! Rust types for BTF types: selection, IR, emission and formatting in one
//! call.
//!
//! In: a [`Btf`] (from an object or a raw file) and what to select. Out:
//! formatted Rust source of one `pub mod types`.

use bpf2rs::btf::{Btf, Kind, Type, TypeId};
use bpf2rs::obj::ObjectSpec;

use crate::ir::{self, Root, TypesError};
use crate::{emit, format};

/// Which types to generate.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Every struct, union, enum and typedef of the BTF.
    pub all: bool,
    /// Types asked for by C name (`flow_key`, `task_struct`).
    pub names: Vec<String>,
    /// Suffix the later of two types that would share a Rust name with its
    /// BTF id (and report it), instead of failing.
    pub rename_duplicates: bool,
    /// Also emit `layouts::LAYOUTS`, the compiler's view of every struct
    /// (for tests that compare layouts with other tools).
    pub layout_table: bool,
}

/// The roots an object implies: map keys and values, global variables and
/// struct_ops variables, each with the name an anonymous type would get.
pub fn object_roots(spec: &ObjectSpec) -> Vec<Root> {
    let mut roots = Vec::new();
    for m in &spec.maps {
        let mut push = |id: Option<TypeId>, what: &str, map: &str| {
            if let Some(id) = id {
                roots.push(Root {
                    id,
                    context: format!("{map}__{what}"),
                });
            }
        };
        push(m.key_type, "key", &m.name);
        push(m.value_type, "value", &m.name);
        if let Some(inner) = &m.inner {
            push(inner.key_type, "inner_key", &m.name);
            push(inner.value_type, "inner_value", &m.name);
        }
    }
    for d in &spec.data {
        for v in &d.vars {
            if let Some(id) = v.btf_type {
                roots.push(Root {
                    id,
                    context: format!("{}__type", v.name),
                });
            }
        }
    }
    for o in &spec.struct_ops {
        roots.push(Root {
            id: o.btf_type,
            context: format!("{}__type", o.name),
        });
    }
    roots
}

/// Roots for `selection` over `btf`, after `base` roots.
pub fn select(
    btf: &Btf,
    mut roots: Vec<Root>,
    selection: &Selection,
) -> Result<Vec<Root>, TypesError> {
    for name in &selection.names {
        let id = [
            Kind::Struct,
            Kind::Union,
            Kind::Enum,
            Kind::Enum64,
            Kind::Typedef,
        ]
        .iter()
        .find_map(|k| btf.find_by_name(name, *k).ok())
        .ok_or_else(|| TypesError::NotFound(name.clone()))?;
        roots.push(Root {
            id,
            context: name.clone(),
        });
    }
    if selection.all {
        // Named types in name order, so that anonymous types nested in them
        // get their parent's name deterministically.
        let mut named: Vec<(&str, TypeId)> = btf
            .iter()
            .filter(|(_, t)| match t {
                Type::Struct(_) | Type::Union(_) | Type::Enum(_) => !t.name().is_anon(),
                Type::Typedef(td) => is_value_typedef(btf, td.target),
                _ => false,
            })
            .map(|(id, t)| (btf.name(t.name()), id))
            .collect();
        named.sort();
        roots.extend(named.into_iter().map(|(n, id)| Root {
            id,
            context: n.to_owned(),
        }));
        // Anonymous types nobody contains by value (rare): named by id.
        for (id, t) in btf.iter() {
            if matches!(t, Type::Struct(_) | Type::Union(_) | Type::Enum(_)) && t.name().is_anon() {
                roots.push(Root {
                    id,
                    context: format!("anon_{}", id.0),
                });
            }
        }
    }
    Ok(roots)
}

/// Whether a typedef names something with a value (not a function or void).
fn is_value_typedef(btf: &Btf, target: TypeId) -> bool {
    let Ok(r) = btf.skip_mods_and_typedefs(target) else {
        return false;
    };
    !matches!(
        btf.type_by_id(r),
        Ok(Type::FuncProto(_) | Type::Void | Type::Fwd(_)) | Err(_)
    )
}

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
