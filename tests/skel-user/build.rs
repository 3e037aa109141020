//! Generates skeletons of several fixtures with the Builder, as a user's
//! build.rs would.

use std::path::{Path, PathBuf};

/// A fixture's skeleton options.
type Configure = fn(bpf2rs_codegen::Builder) -> bpf2rs_codegen::Builder;

fn main() {
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        eprintln!("OUT_DIR is not set: run this from cargo");
        std::process::exit(1);
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bpf");
    let skeletons: &[(&str, Configure)] = &[
        ("typed", |b| {
            b.ringbuf_event("events", "struct event")
                .perf_event("perf_events", "struct event")
                .map_rust_types("pairs", "u32", "crate::Pair")
        }),
        ("kitchen", |b| {
            b.map_types("legacy_counts", "__u32", "__u64")
        }),
        ("maps", |b| b),
        ("tools", |b| b.ringbuf_event("events", "struct event")),
        ("usdt", |b| b),
        ("attach", |b| b),
        ("globals", |b| b),
        ("legacy", |b| b),
        ("user_sized", |b| b),
        ("struct_ops", |b| b),
    ];
    for (name, configure) in skeletons {
        let builder = bpf2rs_codegen::Builder::new(fixtures.join(format!("{name}.bpf.o")));
        if let Err(e) = configure(builder).generate_to(out.join(format!("{name}.skel.rs"))) {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
