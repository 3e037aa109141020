//! Compiles src/bpf/counter.bpf.c with clang and generates its typed skeleton.

fn main() {
    let Some(out) = std::env::var_os("OUT_DIR").map(std::path::PathBuf::from) else {
        eprintln!("OUT_DIR is not set: run through cargo");
        std::process::exit(1);
    };
    if let Err(e) = bpf2rs_codegen::Builder::new("src/bpf/counter.bpf.c")
        .generate_to(out.join("counter.skel.rs"))
    {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
