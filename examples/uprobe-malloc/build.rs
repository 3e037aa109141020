//! Compiles src/bpf/malloc.bpf.c (BPF_KPROBE needs the target architecture,
//! which the Builder defines) and generates its typed skeleton.

fn main() {
    let Some(out) = std::env::var_os("OUT_DIR").map(std::path::PathBuf::from) else {
        eprintln!("OUT_DIR is not set: run through cargo");
        std::process::exit(1);
    };
    if let Err(e) = bpf2rs_codegen::Builder::new("src/bpf/malloc.bpf.c")
        // The hand-written `Totals` (src/main.rs) as the value of `totals`.
        .map_rust_types("totals", "u32", "crate::Totals")
        .generate_to(out.join("malloc.skel.rs"))
    {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
