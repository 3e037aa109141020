//! The typed skeleton of an object: `{Name}Skel::open()` -> `Open{Name}Skel`
//! (typed global data and struct_ops values before load, per-map and
//! per-program settings) -> `.load()` -> `{Name}Skel` with typed maps,
//! programs, mmapped data and struct_ops maps; `attach()` attaches the
//! programs and registers the struct_ops maps.
//!
//! In: an [`ObjectSpec`] and [`SkelOptions`]. Out: formatted Rust: the
//! `types` module plus the skeleton items.

use std::path::PathBuf;

mod maps;
mod struct_ops;

use bpf2rs::btf::Btf;
use bpf2rs::obj::{DataKind, MapOrigin, ObjectSpec};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::Cx;
use crate::ir::{self, Root, RustTy, TypesError};
use crate::{format, naming};
use maps::{collect_map_roots, handle_ty, resolve_map_tys, user_type_checks, MapTys};

/// What the generator needs besides the object.
#[derive(Clone, Debug, Default)]
pub struct SkelOptions {
    /// Path of the object for `include_bytes!` (absolute, so the generated
    /// file works from OUT_DIR).
    pub object_path: PathBuf,
    /// Ring buffer maps whose records are a C type: (map, C type name).
    pub ringbuf_events: Vec<(String, String)>,
    /// Key and value types for maps that have only sizes (legacy `maps`
    /// definitions, key_size/value_size): (map, key C type, value C type).
    /// An empty name keeps the byte array.
    pub map_types: Vec<(String, String, String)>,
    /// Rust key and value types for any map, by path (`crate::Pair`):
    /// (map, key, value); an empty path keeps the generated type. Checked
    /// against the map's sizes when the skeleton compiles.
    pub rust_map_types: Vec<(String, String, String)>,
    /// Perf event arrays whose records are a C type: (map, C type name).
    pub perf_events: Vec<(String, String)>,
    /// Suffix the later of two same-named types with its BTF id.
    pub rename_duplicates: bool,
}

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

/// The CamelCase prefix of an object's skeleton (`kitchen_sink` -> `KitchenSink`).
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Obj");
    }
    out
}

/// Rust name of a data section's struct in `types` (`.data.custom` -> `SectionDataCustom`).
fn section_struct(section: &str) -> String {
    format!("Section{}", camel(section))
}

/// Accessor name of a data section (`.rodata` -> `rodata`, `.data.custom` -> `data_custom`).
fn section_accessor(section: &str) -> String {
    let s: String = section
        .trim_start_matches('.')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    naming::escape(&s)
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
    let named = opts.map_types.iter().map(|(m, _, _)| (m, "map_types"));
    let named = named.chain(
        opts.rust_map_types
            .iter()
            .map(|(m, _, _)| (m, "map_rust_types")),
    );
    let named = named.chain(
        opts.ringbuf_events
            .iter()
            .map(|(m, _)| (m, "ringbuf_event")),
    );
    let named = named.chain(opts.perf_events.iter().map(|(m, _)| (m, "perf_event")));
    for (map, option) in named {
        if spec.map(map).is_none() {
            return Err(map_err(
                map,
                format!("{option} names a map the object does not have"),
            ));
        }
    }
    // Roots: per map (key, value, LPM data, record, inner map's), per data
    // section, in that order.
    let mut roots: Vec<Root> = Vec::new();
    let mut map_roots = Vec::with_capacity(spec.maps.len());
    for m in &spec.maps {
        let r = collect_map_roots(btf, opts, m, &m.name, &mut roots)
            .map_err(|message| map_err(&m.name, message))?;
        map_roots.push(r);
    }
    let mut data_slots = Vec::new();
    for d in &spec.data {
        match d.btf_type {
            Some(id) if d.size > 0 => {
                data_slots.push(Some(roots.len()));
                roots.push(Root {
                    id,
                    context: section_struct(&d.name),
                });
            }
            _ => data_slots.push(None),
        }
    }
    // struct_ops variables: their struct, typed in the open skeleton.
    let ops_slots: Vec<usize> = spec
        .struct_ops
        .iter()
        .map(|o| {
            roots.push(Root {
                id: o.btf_type,
                context: format!("{}__type", o.name),
            });
            roots.len() - 1
        })
        .collect();
    let items = ir::build(btf, &roots, opts.rename_duplicates).map_err(types_err)?;
    let ty_at = |slot: Option<usize>| -> Option<RustTy> {
        slot.and_then(|i| items.root_tys.get(i).cloned().flatten())
    };
    let mut map_tys = Vec::with_capacity(spec.maps.len());
    for (m, r) in spec.maps.iter().zip(&map_roots) {
        map_tys.push(
            resolve_map_tys(opts, m, &m.name, r, &ty_at)
                .map_err(|message| map_err(&m.name, message))?,
        );
    }
    let cx = Cx::new(&items);
    let mut code = crate::types::module_text(&cx, &items);
    let data_tys: Vec<Option<RustTy>> = data_slots.iter().map(|s| ty_at(*s)).collect();
    let mut ops_tys = Vec::with_capacity(ops_slots.len());
    for (o, slot) in spec.struct_ops.iter().zip(&ops_slots) {
        match ty_at(Some(*slot)) {
            Some(RustTy::Named(n)) => ops_tys.push(naming::ident(&n)),
            _ => {
                return Err(SkelError::Other {
                    object: object.clone(),
                    message: format!(
                        "struct_ops variable {}: struct {} has no Rust type",
                        o.name, o.type_name
                    ),
                })
            }
        }
    }
    code.push('\n');
    let tokens = skeleton(spec, opts, &cx, &map_tys, &data_tys, &ops_tys);
    // The skeleton is a few dozen items: parsing its tokens costs nothing
    // next to the types.
    let file: syn::File = syn::parse2(tokens).map_err(|e| SkelError::Other {
        object: object.clone(),
        message: format!("internal error: generated skeleton does not parse: {e}"),
    })?;
    code.push_str(&format::format(file.items));
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

fn skeleton(
    spec: &ObjectSpec,
    opts: &SkelOptions,
    cx: &Cx,
    map_tys: &[MapTys],
    data_tys: &[Option<RustTy>],
    ops_tys: &[syn::Ident],
) -> TokenStream {
    let prefix = camel(&spec.name);
    let skel = format_ident!("{}Skel", prefix);
    let open_skel = format_ident!("Open{}Skel", prefix);
    let maps_ty = format_ident!("{}Maps", prefix);
    let open_maps_ty = format_ident!("Open{}Maps", prefix);
    let progs_ty = format_ident!("{}Progs", prefix);
    let links_ty = format_ident!("{}Links", prefix);
    let open_progs_ty = format_ident!("Open{}Progs", prefix);
    let object_const = format_ident!(
        "{}_OBJECT",
        spec.name
            .to_ascii_uppercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    let obj_name = &spec.name;
    let path = opts.object_path.display().to_string();
    let doc = format!(
        " Typed skeleton of `{}`: open, set, load.",
        opts.object_path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    );

    let map_fields: Vec<TokenStream> = spec
        .maps
        .iter()
        .zip(map_tys)
        .map(|(m, t)| {
            let f = naming::ident(&naming::escape(&m.name));
            let ty = handle_ty(cx, m, t).unwrap_or_else(|| quote!(::bpf2rs::map::Map));
            let d = format!(
                " Map `{}` (`{}`{}).",
                m.name,
                m.map_type,
                if m.origin == MapOrigin::Legacy {
                    ", legacy definition"
                } else {
                    ""
                }
            );
            quote!(#[doc = #d] pub #f: #ty)
        })
        .collect();
    let map_takes: Vec<TokenStream> = spec
        .maps
        .iter()
        .zip(map_tys)
        .map(|(m, t)| {
            let f = naming::ident(&naming::escape(&m.name));
            let name = &m.name;
            if handle_ty(cx, m, t).is_some() {
                quote!(#f: ::bpf2rs::__private::take_typed_map(&mut object, #name)?)
            } else {
                quote!(#f: ::bpf2rs::__private::take_map(&mut object, #name)?)
            }
        })
        .collect();
    let open_map_fields: Vec<TokenStream> = spec
        .maps
        .iter()
        .map(|m| {
            let f = naming::ident(&naming::escape(&m.name));
            let d = format!(" Settings of map `{}` applied at load.", m.name);
            quote!(#[doc = #d] pub #f: ::bpf2rs::load::MapSettings)
        })
        .collect();
    let open_map_inits: Vec<TokenStream> = spec
        .maps
        .iter()
        .map(|m| {
            let f = naming::ident(&naming::escape(&m.name));
            quote!(#f: ::bpf2rs::load::MapSettings::default())
        })
        .collect();
    let open_map_applies: Vec<TokenStream> = spec
        .maps
        .iter()
        .map(|m| {
            let f = naming::ident(&naming::escape(&m.name));
            let name = &m.name;
            quote!(object.set_map_settings(#name, maps.#f);)
        })
        .collect();
    let prog_fields: Vec<TokenStream> = spec
        .programs
        .iter()
        .map(|p| {
            let f = naming::ident(&naming::escape(&p.name));
            let d = format!(
                " Program `{}` (section `{}`, `{}`).",
                p.name,
                p.section,
                p.prog_type()
            );
            quote!(#[doc = #d] pub #f: ::bpf2rs::prog::Program)
        })
        .collect();
    let prog_takes: Vec<TokenStream> = spec
        .programs
        .iter()
        .map(|p| {
            let f = naming::ident(&naming::escape(&p.name));
            let name = &p.name;
            quote!(#f: ::bpf2rs::__private::take_program(&mut object, #name)?)
        })
        .collect();
    let link_fields: Vec<TokenStream> = spec
        .programs
        .iter()
        .map(|p| {
            let f = naming::ident(&naming::escape(&p.name));
            let d = format!(
                " Link of program `{}` made by `attach()` (None: not attached).",
                p.name
            );
            quote!(#[doc = #d] pub #f: ::core::option::Option<::bpf2rs::link::Link>)
        })
        .collect();
    let link_inits: Vec<TokenStream> = spec
        .programs
        .iter()
        .map(|p| {
            let f = naming::ident(&naming::escape(&p.name));
            quote!(#f: ::core::option::Option::None)
        })
        .collect();
    let attaches: Vec<TokenStream> = spec
        .programs
        .iter()
        .map(|p| {
            let f = naming::ident(&naming::escape(&p.name));
            quote! {
                if self.links.#f.is_none() {
                    self.links.#f = ::bpf2rs::link::attach_auto(&self.progs.#f)?;
                }
            }
        })
        .collect();
    let open_prog_fields: Vec<TokenStream> = spec
        .programs
        .iter()
        .map(|p| {
            let f = naming::ident(&naming::escape(&p.name));
            let d = format!(" Settings of program `{}` applied at load.", p.name);
            quote!(#[doc = #d] pub #f: ::bpf2rs::load::ProgSettings)
        })
        .collect();
    let open_prog_inits: Vec<TokenStream> = spec
        .programs
        .iter()
        .map(|p| {
            let f = naming::ident(&naming::escape(&p.name));
            quote!(#f: ::bpf2rs::load::ProgSettings::default())
        })
        .collect();
    let open_prog_applies: Vec<TokenStream> = spec
        .programs
        .iter()
        .map(|p| {
            let f = naming::ident(&naming::escape(&p.name));
            let name = &p.name;
            quote!(object.set_program_settings(#name, progs.#f.clone());)
        })
        .collect();
    let mut open_data = Vec::new();
    let mut loaded_data = Vec::new();
    for (d, ty) in spec.data.iter().zip(data_tys) {
        let Some(RustTy::Named(n)) = ty else { continue };
        let t = naming::ident(n);
        let acc = section_accessor(&d.name);
        let get = format_ident!("{}", naming::plain(&acc));
        let get_mut = format_ident!("{}_mut", naming::plain(&acc));
        let sec = &d.name;
        let doc = format!(" `{sec}` before load: initial values the programs will see.");
        open_data.push(quote! {
            #[doc = #doc]
            pub fn #get_mut(&mut self) -> &mut types::#t {
                ::bpf2rs::__private::open_data_mut(&mut self.object, #sec)
            }
        });
        let doc = format!(" `{sec}` shared with the programs (mmapped).");
        loaded_data.push(quote! {
            #[doc = #doc]
            pub fn #get(&self) -> &types::#t {
                ::bpf2rs::__private::data(&self.object, #sec)
            }
        });
        if d.kind != DataKind::Rodata {
            let doc = format!(" `{sec}` shared with the programs, writable.");
            loaded_data.push(quote! {
                #[doc = #doc]
                pub fn #get_mut(&mut self) -> &mut types::#t {
                    ::bpf2rs::__private::data_mut(&mut self.object, #sec)
                }
            });
        }
    }
    let data_checks: Vec<TokenStream> = spec
        .data
        .iter()
        .zip(data_tys)
        .filter_map(|(d, ty)| match ty {
            Some(RustTy::Named(n)) => {
                let t = naming::ident(n);
                let sec = &d.name;
                Some(quote!((
                    #sec,
                    ::core::mem::size_of::<types::#t>(),
                    ::core::mem::align_of::<types::#t>()
                )))
            }
            _ => None,
        })
        .collect();
    let ops = struct_ops::tokens(spec, ops_tys, &prefix);
    let struct_ops::OpsTokens {
        items: ops_items,
        open_field: ops_open_field,
        open_init: ops_open_init,
        open_binding: ops_open_binding,
        open_applies: ops_open_applies,
        loaded_field: ops_loaded_field,
        loaded_init: ops_loaded_init,
        link_fields: ops_link_fields,
        link_inits: ops_link_inits,
        attaches: ops_attaches,
    } = ops;
    let attach_doc = if spec.struct_ops.is_empty() {
        quote!()
    } else {
        quote! {
            ///
            /// Then registers every `struct_ops` map not registered yet
            /// (libbpf's skeletons leave them to the caller); the
            /// registrations are in `links`, and dropping one unregisters.
        }
    };
    let any_settings =
        !spec.maps.is_empty() || !spec.programs.is_empty() || !spec.struct_ops.is_empty();
    let mut_object = if any_settings {
        quote!(mut object)
    } else {
        quote!(object)
    };
    let mut_loaded = if any_settings {
        quote!(let mut object = object.load()?;)
    } else {
        quote!(let object = object.load()?;)
    };
    let map_names: Vec<&str> = spec.maps.iter().map(|m| m.name.as_str()).collect();
    let user_checks = user_type_checks(spec, map_tys);
    let prog_names: Vec<&str> = spec.programs.iter().map(|p| p.name.as_str()).collect();

    quote! {
        /// The compiled object, embedded in the binary.
        #[allow(dead_code)]
        pub const #object_const: &[u8] = include_bytes!(#path);

        #(#user_checks)*

        #[doc = #doc]
        #[derive(Debug)]
        #[allow(dead_code, non_snake_case, clippy::struct_field_names)]
        pub struct #skel {
            /// Maps, typed by their BTF key and value types.
            pub maps: #maps_ty,
            /// Programs.
            pub progs: #progs_ty,
            /// Links made by `attach()`; dropping one detaches its program.
            pub links: #links_ty,
            #ops_loaded_field
            object: ::bpf2rs::load::Object,
        }

        /// Links of the attached programs.
        #[derive(Debug)]
        #[allow(dead_code, non_snake_case, clippy::struct_field_names)]
        pub struct #links_ty {
            #(#link_fields,)*
            #(#ops_link_fields,)*
        }

        /// Maps of the loaded object.
        #[derive(Debug)]
        #[allow(dead_code, non_snake_case, clippy::struct_field_names)]
        pub struct #maps_ty {
            #(#map_fields,)*
        }

        /// Programs of the loaded object.
        #[derive(Debug)]
        #[allow(dead_code, non_snake_case, clippy::struct_field_names)]
        pub struct #progs_ty {
            #(#prog_fields,)*
        }

        /// The object opened but not loaded: set global data, map and program settings, then `load()`.
        #[derive(Debug)]
        #[allow(dead_code, non_snake_case, clippy::struct_field_names)]
        pub struct #open_skel {
            /// Per-map settings: max entries, pin path, reuse of an existing map.
            pub maps: #open_maps_ty,
            /// Per-program settings: autoload, verifier log level.
            pub progs: #open_progs_ty,
            #ops_open_field
            object: ::bpf2rs::load::OpenObject,
        }

        /// Per-map settings before load.
        #[derive(Debug)]
        #[allow(dead_code, non_snake_case, clippy::struct_field_names)]
        pub struct #open_maps_ty {
            #(#open_map_fields,)*
        }

        /// Per-program settings before load.
        #[derive(Debug)]
        #[allow(dead_code, non_snake_case, clippy::struct_field_names)]
        pub struct #open_progs_ty {
            #(#open_prog_fields,)*
        }

        #ops_items

        #[allow(dead_code, clippy::too_many_lines)]
        impl #skel {
            /// Opens the embedded object: parsed, nothing in the kernel yet.
            pub fn open() -> ::core::result::Result<#open_skel, ::bpf2rs::load::LoadError> {
                #open_skel::from_object(::bpf2rs::load::OpenObject::open_bytes(#object_const, #obj_name)?)
            }

            /// Opens another build of the same object from a file; refused if
            /// its maps or programs differ from the ones this skeleton has.
            pub fn open_file(path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<#open_skel, ::bpf2rs::load::LoadError> {
                let object = ::bpf2rs::load::OpenObject::open_file(path)?;
                #open_skel::from_object(object)
            }

            /// The loaded object (untyped access to everything).
            pub fn object(&self) -> &::bpf2rs::load::Object {
                &self.object
            }

            /// Attaches every program whose section names its target
            /// (`kprobe`, `tracepoint`, `raw_tp`, `tp_btf`, `fentry`/`fexit`, `lsm`,
            /// `iter`, `uprobe` with a path...), as libbpf's skeletons do;
            /// programs that need a target only the caller knows (`xdp`, `tc`,
            /// `cgroup`, socket) are left for `progs.<name>.attach_*`. Already
            /// attached ones stay.
            #attach_doc
            pub fn attach(&mut self) -> ::core::result::Result<(), ::bpf2rs::link::LinkError> {
                #(#attaches)*
                #(#ops_attaches)*
                Ok(())
            }

            #(#loaded_data)*
        }

        #[allow(dead_code, clippy::too_many_lines)]
        impl #open_skel {
            fn from_object(object: ::bpf2rs::load::OpenObject) -> ::core::result::Result<#open_skel, ::bpf2rs::load::LoadError> {
                ::bpf2rs::__private::check_shape(&object, &[#(#map_names),*], &[#(#prog_names),*], &[#(#data_checks),*])?;
                Ok(#open_skel {
                    maps: #open_maps_ty { #(#open_map_inits,)* },
                    progs: #open_progs_ty { #(#open_prog_inits,)* },
                    #ops_open_init
                    object,
                })
            }

            /// The object before load (untyped access).
            pub fn object_mut(&mut self) -> &mut ::bpf2rs::load::OpenObject {
                &mut self.object
            }

            #(#open_data)*

            /// Creates the maps, fills their static contents and global data,
            /// loads the programs.
            pub fn load(self) -> ::core::result::Result<#skel, ::bpf2rs::load::LoadError> {
                let #open_skel { maps, progs, #ops_open_binding #mut_object } = self;
                let _ = (&maps, &progs);
                #(#open_map_applies)*
                #(#open_prog_applies)*
                #(#ops_open_applies)*
                #mut_loaded
                Ok(#skel {
                    maps: #maps_ty { #(#map_takes,)* },
                    progs: #progs_ty { #(#prog_takes,)* },
                    links: #links_ty { #(#link_inits,)* #(#ops_link_inits,)* },
                    #ops_loaded_init
                    object,
                })
            }
        }
    }
}
