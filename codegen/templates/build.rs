//! Compiles `src/bpf/{{obj}}.bpf.c` with clang, with a `vmlinux.h` made
//! from this machine's kernel BTF on the include path, and writes the
//! object's typed skeleton to `OUT_DIR`, where `src/main.rs` includes it.

fn main() {
    let Some(out) = std::env::var_os("OUT_DIR").map(std::path::PathBuf::from) else {
        eprintln!("OUT_DIR is not set: run through cargo");
        std::process::exit(1);
    };
    let built = bpf2rs_codegen::Builder::new("src/bpf/{{obj}}.bpf.c")
        .vmlinux_header(true){{builder}}
        .generate_to(out.join("{{obj}}.skel.rs"));
    if let Err(e) = built {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
