//! The skeleton IR -> the skeleton's items: `{Name}Skel::open()` ->
//! `Open{Name}Skel` (typed global data and struct_ops values before load,
//! per-map and per-program settings) -> `.load()` -> `{Name}Skel` with
//! typed maps, programs, mmapped data and struct_ops maps; `attach()`
//! attaches the programs and registers the struct_ops maps.
//!
//! In: a [`Skeleton`]. Out: the `syn::Item`s after the `types` module, in
//! order; map handles are in `skel_maps`, struct_ops parts in `skel_ops`.

use syn::{Attribute, Expr, FieldValue, ImplItem, Path, Stmt, Type};

use super::ast::{
    self, array, attr_list, call, doc, field, field_value, global, item_impl, item_struct, local,
    method, named_field, pat_ident, pat_ident_mut, pat_struct, pat_wild, path_expr, reference,
    relative, self_ref, self_value, shorthand, stmt, stmt_block, string, struct_expr, tail, try_,
    tuple, ty_generic, ty_named, ty_path, ty_ref, unit, var, with_args, with_attrs, Method, Tokens,
};
use super::{mem_of, skel_maps, skel_ops, Cx};
use crate::ir::skel::{MapFamily, Skeleton};

/// `::bpf2rs::path..`.
pub(super) fn bpf2rs(path: &[&str]) -> Path {
    let mut p = global(&["bpf2rs"]);
    p.segments.extend(relative(path).segments);
    p
}

/// `::core::path..`.
pub(super) fn core(path: &[&str]) -> Path {
    let mut p = global(&["core"]);
    p.segments.extend(relative(path).segments);
    p
}

/// `::core::option::Option<ty>`.
pub(super) fn option(ty: Type) -> Type {
    ty_generic(core(&["option", "Option"]), [ty])
}

/// `::core::result::Result<ok, ::bpf2rs::err..>`.
fn result(ok: Type, err: &[&str]) -> Type {
    ty_generic(core(&["result", "Result"]), [ok, ty_path(bpf2rs(err))])
}

/// `Result<name, LoadError>`.
fn load_result(name: &str) -> Type {
    result(ty_named(name), &["load", "LoadError"])
}

/// `bpf2rs::Global<'_, types::name>` (`GlobalMut` when `mutable`).
fn global_ty(mutable: bool, name: &str) -> Type {
    let wrapper = if mutable { "GlobalMut" } else { "Global" };
    let lifetime = syn::Lifetime::new("'_", proc_macro2::Span::call_site());
    ty_path(with_args(
        bpf2rs(&[wrapper]),
        false,
        [
            syn::GenericArgument::Lifetime(lifetime),
            syn::GenericArgument::Type(types_ty(name)),
        ],
    ))
}

/// `types::name`.
fn types_ty(name: &str) -> Type {
    ty_path(relative(&["types", name]))
}

/// The attributes of every skeleton struct, after its doc.
pub(super) fn struct_attrs(text: &str) -> Vec<Attribute> {
    let allow = ["dead_code", "non_snake_case", "clippy::struct_field_names"];
    vec![
        doc(text),
        attr_list("derive", Tokens::default().list(&["Debug"]).build()),
        attr_list("allow", Tokens::default().list(&allow).build()),
    ]
}

fn impl_attrs() -> Vec<Attribute> {
    let allow = ["dead_code", "clippy::too_many_lines"];
    vec![attr_list("allow", Tokens::default().list(&allow).build())]
}

fn docs(lines: &[&str]) -> Vec<Attribute> {
    lines.iter().map(|l| doc(l)).collect()
}

/// The items of skeleton `s`.
pub fn skeleton(cx: &Cx, s: &Skeleton) -> Vec<syn::Item> {
    ast::shared_spans(|| {
        let object_const = with_attrs(
            ast::item_const(
                true,
                &s.names.object_const,
                ty_ref(ast::ty_slice(ty_named("u8")), false),
                ast::macro_call(
                    relative(&["include_bytes"]),
                    Tokens::default().string(&s.object_path).build(),
                ),
            ),
            vec![
                doc(" The compiled object, embedded in the binary."),
                attr_list("allow", Tokens::default().ident("dead_code").build()),
            ],
        );
        let mut out = vec![object_const];
        out.extend(skel_maps::user_type_checks(s));
        out.extend(loaded_structs(cx, s));
        out.extend(open_structs(s));
        out.extend(skel_ops::structs(s));
        out.push(with_attrs(
            item_impl(false, None, ty_named(&s.names.skel), loaded_methods(s)),
            impl_attrs(),
        ));
        out.push(with_attrs(
            item_impl(false, None, ty_named(&s.names.open_skel), open_methods(s)),
            impl_attrs(),
        ));
        out
    })
}

/// The loaded skeleton and its links, maps and programs structs.
fn loaded_structs(cx: &Cx, s: &Skeleton) -> Vec<syn::Item> {
    let doc_of = |text: &str| vec![doc(text)];
    let mut fields = vec![
        named_field(
            doc_of(" Maps, typed by their BTF key and value types."),
            true,
            "maps",
            ty_named(&s.names.maps),
        ),
        named_field(
            doc_of(" Programs."),
            true,
            "progs",
            ty_named(&s.names.progs),
        ),
        named_field(
            doc_of(" Links made by `attach()`; dropping one detaches its program."),
            true,
            "links",
            ty_named(&s.names.links),
        ),
    ];
    fields.extend(skel_ops::field_of_skel(s, false));
    fields.push(named_field(
        Vec::new(),
        false,
        "object",
        ty_path(bpf2rs(&["load", "Object"])),
    ));
    let skel_doc = format!(" Typed skeleton of `{}`: open, set, load.", s.object_file);
    let links = s.programs.iter().map(|p| {
        let d = format!(
            " Link of program `{}` made by `attach()` (None: not attached).",
            p.name
        );
        named_field(
            doc_of(&d),
            true,
            &p.field,
            option(ty_path(bpf2rs(&["link", "Link"]))),
        )
    });
    let maps = s.maps.iter().map(|m| {
        let legacy = if m.legacy { ", legacy definition" } else { "" };
        let d = format!(" Map `{}` (`{}`{legacy}).", m.name, m.map_type);
        named_field(
            doc_of(&d),
            true,
            &m.field,
            skel_maps::handle_ty(cx, &m.family),
        )
    });
    let progs = s.programs.iter().map(|p| {
        let d = format!(
            " Program `{}` (section `{}`, `{}`).",
            p.name, p.section, p.prog_type
        );
        named_field(
            doc_of(&d),
            true,
            &p.field,
            ty_path(bpf2rs(&["prog", "Program"])),
        )
    });
    vec![
        item_struct(struct_attrs(&skel_doc), &s.names.skel, fields),
        item_struct(
            struct_attrs(" Links of the attached programs."),
            &s.names.links,
            links.chain(skel_ops::link_fields(s)).collect(),
        ),
        item_struct(
            struct_attrs(" Maps of the loaded object."),
            &s.names.maps,
            maps.collect(),
        ),
        item_struct(
            struct_attrs(" Programs of the loaded object."),
            &s.names.progs,
            progs.collect(),
        ),
    ]
}

/// The open skeleton and its per-map and per-program settings structs.
fn open_structs(s: &Skeleton) -> Vec<syn::Item> {
    let doc_of = |text: &str| vec![doc(text)];
    let mut fields = vec![
        named_field(
            doc_of(" Per-map settings: max entries, pin path, reuse of an existing map."),
            true,
            "maps",
            ty_named(&s.names.open_maps),
        ),
        named_field(
            doc_of(" Per-program settings: autoload, verifier log level."),
            true,
            "progs",
            ty_named(&s.names.open_progs),
        ),
    ];
    fields.extend(skel_ops::field_of_skel(s, true));
    fields.push(named_field(
        Vec::new(),
        false,
        "object",
        ty_path(bpf2rs(&["load", "OpenObject"])),
    ));
    let maps = s.maps.iter().map(|m| {
        let d = format!(" Settings of map `{}` applied at load.", m.name);
        named_field(
            doc_of(&d),
            true,
            &m.field,
            ty_path(bpf2rs(&["load", "MapSettings"])),
        )
    });
    let progs = s.programs.iter().map(|p| {
        let d = format!(" Settings of program `{}` applied at load.", p.name);
        named_field(
            doc_of(&d),
            true,
            &p.field,
            ty_path(bpf2rs(&["load", "ProgSettings"])),
        )
    });
    vec![
        item_struct(
            struct_attrs(
                " The object opened but not loaded: set global data, map and program settings, then `load()`.",
            ),
            &s.names.open_skel,
            fields,
        ),
        item_struct(
            struct_attrs(" Per-map settings before load."),
            &s.names.open_maps,
            maps.collect(),
        ),
        item_struct(
            struct_attrs(" Per-program settings before load."),
            &s.names.open_progs,
            progs.collect(),
        ),
    ]
}

/// `open`, `open_file`, `object`, `attach` and the data views of the
/// loaded skeleton.
fn loaded_methods(s: &Skeleton) -> Vec<ImplItem> {
    let open_object = |f: &str| bpf2rs(&["load", "OpenObject", f]);
    // syn trees are not Clone here (no `clone-impls`): build the path twice.
    let from_object = || relative(&[&s.names.open_skel, "from_object"]);
    let open = Method {
        attrs: docs(&[" Opens the embedded object: parsed, nothing in the kernel yet."]),
        public: true,
        name: "open".into(),
        inputs: Vec::new(),
        output: Some(load_result(&s.names.open_skel)),
        body: vec![tail(call(
            from_object(),
            [try_(call(
                open_object("open_bytes"),
                [var(&s.names.object_const), string(&s.object)],
            ))],
        ))],
    };
    let as_ref_path = ast::with_args(
        core(&["convert", "AsRef"]),
        false,
        [syn::GenericArgument::Type(ty_path(global(&[
            "std", "path", "Path",
        ])))],
    );
    let open_file = Method {
        attrs: docs(&[
            " Opens another build of the same object from a file; refused if",
            " its maps or programs differ from the ones this skeleton has.",
        ]),
        public: true,
        name: "open_file".into(),
        inputs: vec![ast::arg("path", ast::ty_impl(as_ref_path))],
        output: Some(load_result(&s.names.open_skel)),
        body: vec![
            local(
                pat_ident("object"),
                try_(call(open_object("open_file"), [var("path")])),
            ),
            tail(call(from_object(), [var("object")])),
        ],
    };
    let object = Method {
        attrs: docs(&[" The loaded object (untyped access to everything)."]),
        public: true,
        name: "object".into(),
        inputs: vec![self_ref(false)],
        output: Some(ty_ref(ty_path(bpf2rs(&["load", "Object"])), false)),
        body: vec![tail(reference(field(var("self"), "object"), false))],
    };
    let mut items = vec![
        open.build(),
        open_file.build(),
        object.build(),
        attach(s).build(),
    ];
    for d in &s.data {
        let view = |mutable: bool, name: &str, doc_text: &[&str], accessor: &str| Method {
            attrs: docs(doc_text),
            public: true,
            name: name.to_owned(),
            inputs: vec![self_ref(mutable)],
            output: Some(result(global_ty(mutable, &d.ty), &["map", "MapError"])),
            body: vec![tail(call(
                bpf2rs(&["__private", accessor]),
                [
                    reference(field(var("self"), "object"), mutable),
                    string(&d.section),
                ],
            ))],
        };
        let sec = &d.section;
        let shared = format!(" `{sec}` shared with the programs: the mapped memory, or a");
        let copy = " copy read from the kernel where it cannot be mapped (before 5.5).";
        items.push(view(false, &d.get, &[&shared, copy], "data").build());
        if d.writable {
            let writable = format!(" `{sec}`, writable: the mapped memory, or a copy written back");
            let back = " when committed or dropped where it cannot be mapped (before 5.5).";
            items.push(view(true, &d.get_mut, &[&writable, back], "data_mut").build());
        }
    }
    items
}

/// `attach()`: every program not attached yet, then every struct_ops map
/// not registered yet.
fn attach(s: &Skeleton) -> Method {
    let mut attrs = docs(&[
        " Attaches every program whose section names its target",
        " (`kprobe`, `tracepoint`, `raw_tp`, `tp_btf`, `fentry`/`fexit`, `lsm`,",
        " `iter`, `uprobe` with a path...), as libbpf's skeletons do;",
        " programs that need a target only the caller knows (`xdp`, `tc`,",
        " `cgroup`, socket) are left for `progs.<name>.attach_*`. Already",
        " attached ones stay.",
    ]);
    if !s.struct_ops.is_empty() {
        attrs.extend(docs(&[
            "",
            " Then registers every `struct_ops` map not registered yet",
            " (libbpf's skeletons leave them to the caller); the",
            " registrations are in `links`, and dropping one unregisters.",
        ]));
    }
    let self_at = |part: &str, f: &str| field(field(var("self"), part), f);
    let mut body: Vec<Stmt> = s
        .programs
        .iter()
        .map(|p| {
            let attached = call(
                bpf2rs(&["link", "attach_auto"]),
                [reference(self_at("progs", &p.field), false)],
            );
            stmt_block(ast::if_(
                method(self_at("links", &p.field), "is_none", []),
                vec![stmt(ast::assign(
                    self_at("links", &p.field),
                    try_(attached),
                ))],
            ))
        })
        .collect();
    body.extend(skel_ops::attaches(s));
    body.push(tail(call(relative(&["Ok"]), [unit()])));
    Method {
        attrs,
        public: true,
        name: "attach".into(),
        inputs: vec![self_ref(true)],
        output: Some(result(ast::ty_tuple([]), &["link", "LinkError"])),
        body,
    }
}

/// `from_object`, `object_mut`, the data views before load and `load`.
fn open_methods(s: &Skeleton) -> Vec<ImplItem> {
    let object_mut = Method {
        attrs: docs(&[" The object before load (untyped access)."]),
        public: true,
        name: "object_mut".into(),
        inputs: vec![self_ref(true)],
        output: Some(ty_ref(ty_path(bpf2rs(&["load", "OpenObject"])), true)),
        body: vec![tail(reference(field(var("self"), "object"), true))],
    };
    let mut items = vec![from_object(s).build(), object_mut.build()];
    for d in &s.data {
        let view = Method {
            attrs: vec![doc(&format!(
                " `{}` before load: initial values the programs will see.",
                d.section
            ))],
            public: true,
            name: d.get_mut.clone(),
            inputs: vec![self_ref(true)],
            output: Some(ty_ref(types_ty(&d.ty), true)),
            body: vec![tail(call(
                bpf2rs(&["__private", "open_data_mut"]),
                [
                    reference(field(var("self"), "object"), true),
                    string(&d.section),
                ],
            ))],
        };
        items.push(view.build());
    }
    items.push(load(s).build());
    items
}

/// `from_object`: checks the object's shape, then default settings.
fn from_object(s: &Skeleton) -> Method {
    let names = |list: Vec<&str>| reference(array(list.into_iter().map(string)), false);
    let data_checks = s.data.iter().map(|d| {
        let path = ["types", d.ty.as_str()];
        tuple([
            string(&d.section),
            mem_of("size_of", &path),
            mem_of("align_of", &path),
        ])
    });
    let check = call(
        bpf2rs(&["__private", "check_shape"]),
        [
            reference(var("object"), false),
            names(s.maps.iter().map(|m| m.name.as_str()).collect()),
            names(s.programs.iter().map(|p| p.name.as_str()).collect()),
            reference(array(data_checks), false),
        ],
    );
    let default = |ty: &[&str]| call(bpf2rs(&[ty[0], ty[1], "default"]), []);
    let maps = s
        .maps
        .iter()
        .map(|m| field_value(&m.field, default(&["load", "MapSettings"])));
    let progs = s
        .programs
        .iter()
        .map(|p| field_value(&p.field, default(&["load", "ProgSettings"])));
    let mut fields = vec![
        field_value("maps", struct_expr(relative(&[&s.names.open_maps]), maps)),
        field_value(
            "progs",
            struct_expr(relative(&[&s.names.open_progs]), progs),
        ),
    ];
    fields.extend(skel_ops::skel_init(s, true));
    fields.push(shorthand("object"));
    let open_skel = struct_expr(relative(&[&s.names.open_skel]), fields);
    Method {
        attrs: Vec::new(),
        public: false,
        name: "from_object".into(),
        inputs: vec![ast::arg("object", ty_path(bpf2rs(&["load", "OpenObject"])))],
        output: Some(load_result(&s.names.open_skel)),
        body: vec![
            stmt(try_(check)),
            tail(call(relative(&["Ok"]), [open_skel])),
        ],
    }
}

/// `load`: applies the settings, loads, takes the typed handles out.
fn load(s: &Skeleton) -> Method {
    // With nothing to set or take, `object` need not be mutable.
    let any_settings = !s.maps.is_empty() || !s.programs.is_empty() || !s.struct_ops.is_empty();
    let object_pat = || {
        if any_settings {
            pat_ident_mut("object")
        } else {
            pat_ident("object")
        }
    };
    let mut bindings = vec![pat_ident("maps"), pat_ident("progs")];
    bindings.extend(skel_ops::binding(s));
    bindings.push(object_pat());
    let mut body = vec![
        local(
            pat_struct(relative(&[&s.names.open_skel]), bindings),
            var("self"),
        ),
        local(
            pat_wild(),
            tuple([
                reference(var("maps"), false),
                reference(var("progs"), false),
            ]),
        ),
    ];
    for m in &s.maps {
        let settings = field(var("maps"), &m.field);
        body.push(stmt(method(
            var("object"),
            "set_map_settings",
            [string(&m.name), settings],
        )));
    }
    for p in &s.programs {
        let settings = method(field(var("progs"), &p.field), "clone", []);
        body.push(stmt(method(
            var("object"),
            "set_program_settings",
            [string(&p.name), settings],
        )));
    }
    body.extend(skel_ops::applies(s));
    body.push(local(object_pat(), try_(method(var("object"), "load", []))));
    body.push(tail(call(relative(&["Ok"]), [loaded_skel(s)])));
    Method {
        attrs: docs(&[
            " Creates the maps, fills their static contents and global data,",
            " loads the programs.",
        ]),
        public: true,
        name: "load".into(),
        inputs: vec![self_value()],
        output: Some(load_result(&s.names.skel)),
        body,
    }
}

/// The loaded skeleton's value, its handles taken out of the object.
fn loaded_skel(s: &Skeleton) -> Expr {
    let take = |what: &str, name: &str| {
        try_(call(
            bpf2rs(&["__private", what]),
            [reference(var("object"), true), string(name)],
        ))
    };
    let maps = s.maps.iter().map(|m| {
        let what = if m.family == MapFamily::Untyped {
            "take_map"
        } else {
            "take_typed_map"
        };
        field_value(&m.field, take(what, &m.name))
    });
    let progs = s
        .programs
        .iter()
        .map(|p| field_value(&p.field, take("take_program", &p.name)));
    let none = || path_expr(core(&["option", "Option", "None"]));
    let links = s
        .programs
        .iter()
        .map(|p| field_value(&p.field, none()))
        .chain(skel_ops::link_inits(s));
    let mut fields: Vec<FieldValue> = vec![
        field_value("maps", struct_expr(relative(&[&s.names.maps]), maps)),
        field_value("progs", struct_expr(relative(&[&s.names.progs]), progs)),
        field_value("links", struct_expr(relative(&[&s.names.links]), links)),
    ];
    fields.extend(skel_ops::skel_init(s, false));
    fields.push(shorthand("object"));
    struct_expr(relative(&[&s.names.skel]), fields)
}
