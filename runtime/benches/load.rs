//! Workload W6 `open-load` of ../shared/peers/README.md: 50 x (open the
//! benchmark object + load it: create its 5 maps incl. a 16 MiB ring buffer
//! and a 65,536-entry preallocated hash, load and verify `emit`; then drop).
//! Prints one JSON line with the median, like the other peers.
//!
//! Peer contract: the object path is argv[1] (run.sh passes its
//! bench.bpf.o); without it the bench compiles ../shared/peers/bpf/bench.bpf.c
//! with clang-19. BENCH_ONLY selects workloads (this binary has only w6).

mod common;

use std::path::PathBuf;
use std::time::Instant;

const OPEN_LOAD_REPS: usize = 50;

fn object() -> Result<PathBuf, String> {
    common::peers_object()
}

fn main() {
    if !common::want("w6") {
        return;
    }
    let path = match object() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("open-load: {e}");
            std::process::exit(1);
        }
    };
    let mut times = Vec::with_capacity(OPEN_LOAD_REPS);
    for _ in 0..OPEN_LOAD_REPS {
        let t0 = Instant::now();
        let obj = bpf2rs::load::OpenObject::open_file(&path).and_then(|o| o.load());
        match obj {
            Ok(obj) => drop(obj),
            Err(e) => {
                eprintln!("open-load: {e}");
                std::process::exit(1);
            }
        }
        times.push(t0.elapsed().as_nanos() as u64);
    }
    let first = times[0];
    times.sort_unstable();
    let median = times[OPEN_LOAD_REPS / 2];
    println!(
        "{{\"peer\":\"bpf2rs\",\"workload\":\"open-load\",\"ns_per_op\":{median}.00,\"ops\":{OPEN_LOAD_REPS},\"median_ms\":{:.3},\"first_ms\":{:.3}}}",
        median as f64 / 1e6,
        first as f64 / 1e6
    );
}
