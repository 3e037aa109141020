//! Compiles src/bpf/counter.bpf.c with clang and generates its typed skeleton.

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = bpf2rs_codegen::Builder::new("src/bpf/counter.bpf.c")
        .generate_to(out.join("counter.skel.rs"))
    {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
