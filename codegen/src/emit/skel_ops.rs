//! The struct_ops parts of a skeleton: a typed value per variable before
//! load (`open.struct_ops.<var>.value`, the object's struct from `types`),
//! the created maps after load (`skel.struct_ops.<var>`), and their
//! registrations in `skel.links`, made by `attach()`.
//!
//! In: the skeleton IR's [`StructOpsVar`]s. Out: the pieces `emit::skel`
//! puts in its structs and methods; all empty for an object without
//! struct_ops, whose skeleton stays as it was.

use syn::{Expr, FieldValue, Pat, Stmt};

use super::ast::{
    assign, call, deref, doc, field, field_value, if_, item_struct, let_, method, named_field,
    pat_bind, pat_ident, pat_path, pat_tuple, pat_tuple_struct, path_expr, reference, relative,
    stmt, stmt_block, string, struct_expr, try_, tuple, ty_generic, ty_named, ty_path, var,
};
use super::skel::{bpf2rs, core, option, struct_attrs};
use crate::ir::skel::Skeleton;

/// The open and loaded `...StructOps` structs.
pub(super) fn structs(s: &Skeleton) -> Vec<syn::Item> {
    if s.struct_ops.is_empty() {
        return Vec::new();
    }
    let open_fields = s.struct_ops.iter().map(|o| {
        let d = format!(
            " `{}` (`struct {}`, section `{}`): its value before load. Function \
             pointers are set by the loader to the programs the object names.",
            o.name, o.type_name, o.section
        );
        let ty = ty_generic(
            bpf2rs(&["struct_ops", "OpenStructOps"]),
            [ty_path(relative(&["types", &o.ty]))],
        );
        named_field(vec![doc(&d)], true, &o.field, ty)
    });
    let loaded_fields = s.struct_ops.iter().map(|o| {
        let how = if o.link {
            "registers through a BPF link"
        } else {
            "registers by writing the map's value"
        };
        let d = format!(
            " `struct_ops` map `{}` (`struct {}`; {how}). `None` when its autocreate was off.",
            o.name, o.type_name
        );
        let ty = option(ty_path(bpf2rs(&["struct_ops", "StructOpsMap"])));
        named_field(vec![doc(&d)], true, &o.field, ty)
    });
    vec![
        item_struct(
            struct_attrs(" `struct_ops` variables before load: typed values and autocreate."),
            &s.names.open_struct_ops,
            open_fields.collect(),
        ),
        item_struct(
            struct_attrs(" `struct_ops` maps of the loaded object; `attach()` registers them."),
            &s.names.struct_ops,
            loaded_fields.collect(),
        ),
    ]
}

/// `pub struct_ops: Open...StructOps` of the open skeleton (`open`) or
/// `pub struct_ops: ...StructOps` of the loaded one.
pub(super) fn field_of_skel(s: &Skeleton, open: bool) -> Option<syn::Field> {
    if s.struct_ops.is_empty() {
        return None;
    }
    let (d, ty) = if open {
        (
            " `struct_ops` variables: values and autocreate, applied at load.",
            &s.names.open_struct_ops,
        )
    } else {
        (
            " `struct_ops` maps (registered by `attach()`).",
            &s.names.struct_ops,
        )
    };
    Some(named_field(vec![doc(d)], true, "struct_ops", ty_named(ty)))
}

/// The registration fields of the links struct.
pub(super) fn link_fields(s: &Skeleton) -> impl Iterator<Item = syn::Field> + '_ {
    s.struct_ops.iter().map(|o| {
        let d = format!(
            " Registration of `struct_ops` map `{}` made by `attach()` (`None`: not \
             registered); dropping it unregisters.",
            o.name
        );
        let ty = option(ty_path(bpf2rs(&["struct_ops", "StructOps"])));
        named_field(vec![doc(&d)], true, &o.field, ty)
    })
}

/// `None` for each registration in the links struct.
pub(super) fn link_inits(s: &Skeleton) -> impl Iterator<Item = FieldValue> + '_ {
    s.struct_ops
        .iter()
        .map(|o| field_value(&o.field, path_expr(core(&["option", "Option", "None"]))))
}

/// `struct_ops: Open..StructOps { var: open_struct_ops(&object, "var")?, .. }`
/// in `from_object` (`open`), or the maps taken out of the loaded object
/// in `load`.
pub(super) fn skel_init(s: &Skeleton, open: bool) -> Option<FieldValue> {
    if s.struct_ops.is_empty() {
        return None;
    }
    let (ty, take) = if open {
        (&s.names.open_struct_ops, "open_struct_ops")
    } else {
        (&s.names.struct_ops, "take_struct_ops")
    };
    let fields = s.struct_ops.iter().map(|o| {
        let object = reference(var("object"), !open);
        let value = call(bpf2rs(&["__private", take]), [object, string(&o.name)]);
        field_value(&o.field, if open { try_(value) } else { value })
    });
    Some(field_value(
        "struct_ops",
        struct_expr(relative(&[ty]), fields),
    ))
}

/// `struct_ops` when destructuring the open skeleton in `load`.
pub(super) fn binding(s: &Skeleton) -> Option<Pat> {
    (!s.struct_ops.is_empty()).then(|| pat_ident("struct_ops"))
}

/// Writes the values (and autocreate flags) back before load.
pub(super) fn applies(s: &Skeleton) -> impl Iterator<Item = Stmt> + '_ {
    s.struct_ops.iter().map(|o| {
        let value = reference(field(var("struct_ops"), &o.field), false);
        stmt(try_(call(
            bpf2rs(&["__private", "set_struct_ops"]),
            [reference(var("object"), true), string(&o.name), value],
        )))
    })
}

/// `attach()`'s registrations: each created map not registered yet.
pub(super) fn attaches(s: &Skeleton) -> impl Iterator<Item = Stmt> + '_ {
    s.struct_ops.iter().map(|o| {
        let some = |p: Pat| pat_tuple_struct(core(&["option", "Option", "Some"]), [p]);
        let pat = pat_tuple([
            some(pat_ident("ops")),
            pat_bind("link", pat_path(core(&["option", "Option", "None"]))),
        ]);
        let of =
            |part: &str, mutable| reference(field(field(var("self"), part), &o.field), mutable);
        let register: Expr = try_(method(var("ops"), "register", []));
        let set = assign(
            deref(var("link")),
            call(core(&["option", "Option", "Some"]), [register]),
        );
        stmt_block(if_(
            let_(pat, tuple([of("struct_ops", false), of("links", true)])),
            vec![stmt(set)],
        ))
    })
}
