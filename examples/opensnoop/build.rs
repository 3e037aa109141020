//! Compiles src/bpf/opensnoop.bpf.c with clang and generates its typed
//! skeleton, with the ring buffer `events` typed as `struct event`.

fn main() {
    let Some(out) = std::env::var_os("OUT_DIR").map(std::path::PathBuf::from) else {
        eprintln!("OUT_DIR is not set: run through cargo");
        std::process::exit(1);
    };
    if let Err(e) = bpf2rs_codegen::Builder::new("src/bpf/opensnoop.bpf.c")
        .ringbuf_event("events", "struct event")
        .generate_to(out.join("opensnoop.skel.rs"))
    {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
