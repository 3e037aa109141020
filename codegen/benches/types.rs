//! Type generation speed: `cargo bench -p bpf2rs-codegen --bench types`
//! prints one JSON line per workload, the median of timed runs after
//! warm-ups (the `peers` format):
//!
//! ```text
//! {"peer":"bpf2rs","workload":"types-vmlinux","ns_per_op":X,"ops":5,"items":N,"lines":L}
//! {"peer":"bpf2rs","workload":"types-fixture-layout","ns_per_op":Y,"ops":50,"items":N,"lines":L}
//! ```
//!
//! - `types-vmlinux`: select + generate (IR, tokens, prettyplease) for every
//!   type of `/sys/kernel/btf/vmlinux` (`--all --rename-duplicates`); the
//!   BTF is parsed once, outside the timed region. `TYPES_BENCH_RUNS` runs
//!   (default 5).
//! - `types-fixture-layout`: the same for `tests/bpf/layout.bpf.o`'s maps and
//!   globals (object roots). Ten times as many runs.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use bpf2rs_codegen::ir::Root;
use bpf2rs_codegen::types::{self, Generated, Selection};
use bpf2rs_reader::btf::Btf;
use bpf2rs_reader::obj::ObjectSpec;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not and only
    // checks that the bench runs, so one run is enough there.
    let runs = if std::env::args().any(|a| a == "--bench") {
        std::env::var("TYPES_BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(5)
    } else {
        1
    };

    let all = Selection {
        all: true,
        rename_duplicates: true,
        ..Selection::default()
    };
    match Btf::from_file(VMLINUX) {
        Ok(btf) => workload("types-vmlinux", &btf, Vec::new, &all, runs, 1),
        Err(e) => unsupported("types-vmlinux", &format!("{VMLINUX}: {e}")),
    }

    let layout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bpf/layout.bpf.o");
    match ObjectSpec::from_file(&layout) {
        Ok(spec) => match &spec.btf {
            Some(btf) => {
                let roots = || types::object_roots(&spec);
                workload(
                    "types-fixture-layout",
                    btf,
                    roots,
                    &Selection::default(),
                    runs * 10,
                    3,
                );
            }
            None => unsupported("types-fixture-layout", "layout.bpf.o has no BTF"),
        },
        Err(e) => unsupported("types-fixture-layout", &e.to_string()),
    }
}

/// Times select + generate, `warmup` untimed runs first; prints the median.
fn workload(
    name: &str,
    btf: &Btf,
    roots: impl Fn() -> Vec<Root>,
    selection: &Selection,
    runs: usize,
    warmup: usize,
) {
    let once = || -> Result<(u128, Generated), String> {
        let base = roots();
        let start = Instant::now();
        let selected = types::select(black_box(btf), base, selection).map_err(|e| e.to_string())?;
        let generated = types::generate(btf, &selected, selection).map_err(|e| e.to_string())?;
        let ns = start.elapsed().as_nanos();
        Ok((ns, black_box(generated)))
    };
    let mut samples = Vec::with_capacity(runs);
    let mut last = None;
    for i in 0..warmup + runs {
        match once() {
            Ok((ns, generated)) => {
                if i >= warmup {
                    samples.push(ns);
                }
                last = Some(generated);
            }
            Err(e) => return unsupported(name, &e),
        }
    }
    samples.sort_unstable();
    let ns = samples[samples.len() / 2];
    let (items, lines) = last.map_or((0, 0), |g| (g.types, g.code.lines().count()));
    println!(
        r#"{{"peer":"bpf2rs","workload":"{name}","ns_per_op":{ns},"ops":{runs},"items":{items},"lines":{lines}}}"#
    );
}

fn unsupported(workload: &str, why: &str) {
    let why = why
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', " ");
    println!(
        r#"{{"peer":"bpf2rs","workload":"{workload}","ns_per_op":null,"unsupported":"{why}"}}"#
    );
}
