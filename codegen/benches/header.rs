//! C header speed: `cargo bench -p bpf2rs-codegen --bench header` prints
//! one JSON line per peer (the `peers` format), the median of timed runs
//! after a warm-up:
//!
//! ```text
//! {"peer":"bpf2rs","workload":"c-header-vmlinux","ns_per_op":X,"ops":10,"lines":L}
//! {"peer":"bpftool","workload":"c-header-vmlinux","ns_per_op":Y,"ops":10,"lines":L}
//! ```
//!
//! - bpf2rs: read `/sys/kernel/btf/vmlinux` and generate its whole header
//!   in memory (what `cargo bpf2rs header` does before writing).
//! - bpftool: `bpftool btf dump file /sys/kernel/btf/vmlinux format c`
//!   run as a process with its output read through a pipe, when bpftool is
//!   on PATH (the process start is part of its time, as it is of ours from
//!   the command line; about 1 ms).
//!
//! `HEADER_BENCH_RUNS` sets the runs (default 10).

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::Instant;

use bpf2rs_codegen::c_header;
use bpf2rs_reader::btf::Btf;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const WORKLOAD: &str = "c-header-vmlinux";

fn main() {
    // `cargo test --benches` runs this without `--bench`: one run checks it works.
    let runs = if std::env::args().any(|a| a == "--bench") {
        std::env::var("HEADER_BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(10)
    } else {
        1
    };
    measure("bpf2rs", runs, || {
        let btf = Btf::from_file(black_box(VMLINUX)).map_err(|e| e.to_string())?;
        let text = c_header::generate(&btf).map_err(|e| e.to_string())?;
        Ok(black_box(text).lines().count())
    });
    measure("bpftool", runs, || {
        let out = Command::new("bpftool")
            .args(["btf", "dump", "file", VMLINUX, "format", "c"])
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("bpftool: {e}"))?;
        if !out.status.success() {
            return Err(format!("bpftool: {}", out.status));
        }
        Ok(out.stdout.iter().filter(|&&b| b == b'\n').count())
    });
}

/// Times `once` (one untimed warm-up first) and prints the median.
fn measure(peer: &str, runs: usize, once: impl Fn() -> Result<usize, String>) {
    let mut samples = Vec::with_capacity(runs);
    let mut lines = 0;
    for i in 0..=runs {
        let start = Instant::now();
        match once() {
            Ok(n) => lines = n,
            Err(e) => return unsupported(peer, &e),
        }
        if i > 0 {
            samples.push(start.elapsed().as_nanos());
        }
    }
    samples.sort_unstable();
    let ns = samples[samples.len() / 2];
    println!(
        r#"{{"peer":"{peer}","workload":"{WORKLOAD}","ns_per_op":{ns},"ops":{runs},"lines":{lines}}}"#
    );
}

fn unsupported(peer: &str, why: &str) {
    let why = why
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', " ");
    println!(
        r#"{{"peer":"{peer}","workload":"{WORKLOAD}","ns_per_op":null,"unsupported":"{why}"}}"#
    );
}
