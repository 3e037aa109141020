//! BTF parsing speed, ours next to libbpf's, from one run:
//! `cargo bench -p bpf2rs --bench btf` prints one JSON line per peer and
//! workload, the median of `BTF_BENCH_RUNS` timed runs (default 50):
//!
//! ```text
//! {"peer":"bpf2rs","workload":"btf-parse-vmlinux","ns_per_op":X,"ops":N}
//! {"peer":"libbpf-c","workload":"btf-parse-vmlinux","ns_per_op":Y,"ops":N}
//! ```
//!
//! - `btf-parse-vmlinux`: parse `/sys/kernel/btf/vmlinux` from bytes already
//!   in memory.
//! - `btf-parse-vmlinux-file`: the same, reading the file included.
//!
//! The libbpf peer is `bench/libbpf/btf_parse.c`, built here with gcc against
//! the system libbpf; without them its lines carry `"ns_per_op":null` and an
//! `"unsupported"` reason instead.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bpf2rs::btf::{Btf, BtfError};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const WARMUP: usize = 3;
const WORKLOADS: [&str; 2] = ["btf-parse-vmlinux", "btf-parse-vmlinux-file"];

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not and only
    // checks that the bench runs, so one run is enough there.
    let runs = if std::env::args().any(|a| a == "--bench") {
        std::env::var("BTF_BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(50)
    } else {
        1
    };
    let raw = match std::fs::read(VMLINUX) {
        Ok(raw) => raw,
        Err(e) => {
            for w in WORKLOADS {
                unsupported("bpf2rs", w, &format!("{VMLINUX}: {e}"));
            }
            return;
        }
    };

    let ns = median(runs, || {
        let start = Instant::now();
        let btf = black_box(Btf::parse(black_box(&raw)));
        let elapsed = start.elapsed();
        check(btf);
        elapsed.as_nanos()
    });
    line("bpf2rs", WORKLOADS[0], ns, runs);
    let ns = median(runs, || {
        let start = Instant::now();
        let btf = black_box(Btf::from_file(black_box(VMLINUX)));
        let elapsed = start.elapsed();
        check(btf);
        elapsed.as_nanos()
    });
    line("bpf2rs", WORKLOADS[1], ns, runs);

    libbpf_peer(runs);
}

/// Dropping the result is outside the timed region, as in the C peer.
fn check(btf: Result<Btf, BtfError>) {
    if let Err(e) = btf {
        eprintln!("bench: {VMLINUX}: {e}");
        std::process::exit(1);
    }
}

/// Median in nanoseconds of `runs` timed calls after a few warm-ups.
fn median(runs: usize, mut timed: impl FnMut() -> u128) -> u128 {
    for _ in 0..WARMUP {
        timed();
    }
    let mut samples: Vec<u128> = (0..runs).map(|_| timed()).collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn line(peer: &str, workload: &str, ns: u128, runs: usize) {
    println!(r#"{{"peer":"{peer}","workload":"{workload}","ns_per_op":{ns},"ops":{runs}}}"#);
}

fn unsupported(peer: &str, workload: &str, why: &str) {
    let why = why
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', " ");
    println!(
        r#"{{"peer":"{peer}","workload":"{workload}","ns_per_op":null,"unsupported":"{why}"}}"#
    );
}

/// Builds `bench/libbpf/btf_parse.c` into the target dir and runs it; it
/// prints our JSON format itself.
fn libbpf_peer(runs: usize) {
    let report = |why: &str| {
        for w in WORKLOADS {
            unsupported("libbpf-c", w, why);
        }
    };
    if !Path::new("/usr/include/bpf/btf.h").exists() {
        return report("libbpf-dev not installed");
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/libbpf/btf_parse.c");
    let exe = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("btf_parse_libbpf");
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".to_owned());
    let built = Command::new(&cc)
        .args(["-O2", "-Wall", "-o"])
        .arg(&exe)
        .arg(&source)
        .arg("-lbpf")
        .output();
    match built {
        Err(e) => return report(&format!("{cc} not runnable: {e}")),
        Ok(out) if !out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("-lbpf") || stderr.contains("bpf/btf.h") {
                return report("libbpf-dev not installed");
            }
            return report(&format!("building {}: {}", source.display(), stderr.trim()));
        }
        Ok(_) => {}
    }
    match Command::new(&exe)
        .arg(VMLINUX)
        .arg(runs.to_string())
        .output()
    {
        Ok(out) if out.status.success() => print!("{}", String::from_utf8_lossy(&out.stdout)),
        Ok(out) => report(&format!(
            "{} failed: {}",
            exe.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => report(&format!("running {}: {e}", exe.display())),
    }
}
