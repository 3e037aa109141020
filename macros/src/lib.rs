//! Procedural macros of bpf2rs: `#[derive(Pod)]`, re-exported as `bpf2rs::Pod`.
//!
//! In: a struct or union definition. Out: `unsafe impl ::bpf2rs::Pod` and
//! compile-time checks that make it sound. The derive runs parse
//! (`input`) -> check (`btf_check`, at expansion time, on the shared
//! `bpf2rs-reader`) -> expand (`expand`); every problem found is reported, each spanned on what
//! caused it, not only the first.

mod btf_check;
mod expand;
mod input;
mod lookup;

use proc_macro::TokenStream;

/// Derives `bpf2rs::Pod`: the type is plain bytes, safe to copy to and from
/// the kernel.
///
/// Checked at compile time, each failure an error on the field or type at
/// fault:
/// - the type is a struct or union with `#[repr(C)]` (optionally `packed`,
///   `align(N)`) or `#[repr(transparent)]`; enums are refused (not every bit
///   pattern is a valid variant), and so are generic types;
/// - every field's type is `Pod`;
/// - no byte is implicit padding: "3 bytes of padding after field `proto` at
///   offset 1". Make such bytes explicit `[u8; N]` fields. Every field of a
///   union must be as large as the union.
///
/// With `#[bpf2rs(btf = "path/to/x.bpf.o", name = "flow_key")]` the layout is
/// also checked against that struct or union in the object's BTF: size,
/// member names (in order) and each member's offset and size. The path is
/// relative to the crate's directory (`CARGO_MANIFEST_DIR`), or starts with
/// `$OUT_DIR/` for an object the crate's build.rs made: `bpf2rs_codegen::Builder`
/// compiles `src/bpf/NAME.bpf.c` to `$OUT_DIR/NAME.bpf.o`. `name` defaults
/// to the Rust type's name and may name a typedef. Fields marked
/// `#[bpf2rs(padding)]` are explicit padding, not BTF members. Rebuilding the
/// object re-runs the check.
///
/// ```ignore
/// use bpf2rs::Pod;
///
/// #[derive(Clone, Copy, Pod)]
/// #[repr(C)]
/// #[bpf2rs(btf = "../tests/bpf/maps.bpf.o", name = "flow_key")]
/// struct FlowKey {
///     saddr: u32,
///     daddr: u32,
///     sport: u16,
///     dport: u16,
///     proto: u8,
///     #[bpf2rs(padding)]
///     _pad: [u8; 3],
/// }
///
/// let key = FlowKey { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 17, _pad: [0; 3] };
/// assert_eq!(key.as_bytes().len(), 16);
/// ```
/// (Compiled in `runtime/tests/derive_pass.rs`: this crate cannot depend on
/// `bpf2rs`, which depends on it.)
#[proc_macro_derive(Pod, attributes(bpf2rs))]
pub fn derive_pod(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn derive(derive_input: &syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let mut errors = Errors::default();
    let parsed = input::parse(derive_input, &mut errors);
    let layout = parsed.as_ref().and_then(|input| {
        let request = input.btf.as_ref()?;
        btf_check::check(input, request, &mut errors)
    });
    errors.finish()?;
    Ok(match &parsed {
        Some(input) => expand::expand(input, layout.as_ref()),
        None => proc_macro2::TokenStream::new(),
    })
}

/// Errors collected across parse and check, reported together.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
