//! Generates the typed skeletons the kernel tests use, with the same Builder
//! a user's build.rs would call.

#![allow(clippy::expect_used)] // reason: a build script reports failure by panicking

use std::path::{Path, PathBuf};

/// A fixture's skeleton options.
type Configure = fn(bpf2rs_codegen::Builder) -> bpf2rs_codegen::Builder;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf");
    let skeletons: &[(&str, Configure)] = &[
        ("kitchen", |b| {
            b.map_types("legacy_counts", "__u32", "__u64")
        }),
        ("layout", |b| b),
        ("attach", |b| b),
        ("events", |b| b.ringbuf_event("events", "struct event")),
        ("tools", |b| b.ringbuf_event("events", "struct event")),
        ("usdt", |b| b),
        ("struct_ops", |b| b),
        ("typed", |b| {
            b.ringbuf_event("events", "struct event")
                .perf_event("perf_events", "struct event")
                .map_rust_types("pairs", "u32", "crate::Pair")
        }),
    ];
    for (name, configure) in skeletons {
        // events.bpf.o lives with the runtime's event tests.
        let dir = if *name == "events" {
            fixtures.join("../../runtime/tests/bpf")
        } else {
            fixtures.clone()
        };
        let builder = bpf2rs_codegen::Builder::new(dir.join(format!("{name}.bpf.o")));
        if let Err(e) = configure(builder).generate_to(out.join(format!("{name}.skel.rs"))) {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
