//! Map operation speed through bpf2rs's typed handles, as a peer of
//! `shared/peers` (raw bpf(2), libbpf C, libbpf-rs, aya): the same workloads
//! with the same constants as `peers/c/common.h`, one JSON line each:
//!
//! ```text
//! {"peer":"bpf2rs","workload":"hash-update","ns_per_op":X,"ops":N,"allocs_per_op":0}
//! ```
//!
//! - W1 `hash-update`, `hash-lookup`, `hash-iterate` (`HashMap::iter`,
//!   batched), `hash-delete`: HASH u32 -> {u64 a; u64 b}, 65536 entries.
//!   Also `hash-iterate-next-key` (`iter_next_key`), not in the peers' table.
//! - W2 `array-update`, `array-lookup`: ARRAY u32 -> u64, 65536 entries.
//! - W3 `percpu-lookup`: PERCPU_HASH u32 -> u64, 4096 keys x 16 passes,
//!   read with `get_into` into one reusable `PerCpuValues`.
//! - W4 `batch-lookup`: the W1 map dumped with `lookup_batch`, 4096 per
//!   call, one warm-up dump and 5 timed.
//! - W5/W6 (ring buffer, open+load) are `unsupported`: not in this crate yet.
//!
//! Peer contract (`peers/README.md`): the object path is argv[1] (accepted,
//! unused: these workloads create their maps), `BENCH_ONLY=w1,w3` picks
//! workloads. A counting global allocator reports `allocs_per_op` for the
//! timed part of each workload. Run alongside the peers with
//! `EXTRA_PEERS="bpf2rs:$(bench binary)" peers/run.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: like the C peers, any failure aborts the run

mod common;

use std::time::{Duration, Instant};

use bpf2rs::map::{
    Array, BatchCursor, CreateFlags, HashMap, MapFlags, PerCpuHashMap, PerCpuValues,
};

const PEER: &str = "bpf2rs";
const N_HASH: u32 = 65536;
const N_ARRAY: u32 = 65536;
const N_PERCPU: u32 = 4096;
const PERCPU_PASSES: u32 = 16;
const BATCH: usize = 4096;
const BATCH_DUMPS: usize = 5;

/// Counts every allocation and reallocation in the process.
#[global_allocator]
static GLOBAL: common::CountingAlloc = common::CountingAlloc;

/// Times `f` and counts its allocations.
fn measure<T>(f: impl FnOnce() -> T) -> (T, Duration, u64) {
    let a0 = common::allocs();
    let t0 = Instant::now();
    let out = f();
    let d = t0.elapsed();
    (out, d, common::allocs() - a0)
}

fn emit(workload: &str, elapsed: Duration, ops: u64, allocs: u64, extra: &str) {
    let ns = elapsed.as_nanos() as f64 / ops as f64;
    let per_op = allocs as f64 / ops as f64;
    println!(
        "{{\"peer\":\"{PEER}\",\"workload\":\"{workload}\",\"ns_per_op\":{ns:.2},\"ops\":{ops},\"allocs_per_op\":{per_op},\"allocs\":{allocs}{extra}}}"
    );
}

fn unsupported(workload: &str, why: &str) {
    println!(
        "{{\"peer\":\"{PEER}\",\"workload\":\"{workload}\",\"ns_per_op\":null,\"ops\":0,\"unsupported\":\"{why}\"}}"
    );
}

fn check(ok: bool, what: &str) {
    if !ok {
        eprintln!("{what} mismatch");
        std::process::exit(1);
    }
}

type HVal = [u64; 2];

fn hval(k: u32) -> HVal {
    [u64::from(k), u64::from(k) * 2 + 1]
}

fn w1_hash() {
    let m = HashMap::<u32, HVal>::create("w1_hash", N_HASH, CreateFlags::NONE).unwrap();
    let n = u64::from(N_HASH);

    let ((), d, a) = measure(|| {
        for k in 0..N_HASH {
            m.insert(&k, &hval(k), MapFlags::ANY).unwrap();
        }
    });
    emit("hash-update", d, n, a, "");

    let (sum, d, a) = measure(|| {
        let mut sum = 0u64;
        for k in 0..N_HASH {
            sum += m.get(&k).unwrap().unwrap()[1];
        }
        sum
    });
    check(sum == n * n, "hash-lookup checksum");
    emit("hash-lookup", d, n, a, "");

    let walk = |batched: bool| {
        let mut count = 0u64;
        let mut sum = 0u64;
        let it = if batched { m.iter() } else { m.iter_next_key() };
        for entry in it {
            let (_, v) = entry.unwrap();
            sum += v[0];
            count += 1;
        }
        (count, sum)
    };
    let ((count, sum), d, a) = measure(|| walk(true));
    check(count == n && sum == n * (n - 1) / 2, "hash-iterate");
    emit("hash-iterate", d, count, a, ",\"api\":\"iter\"");
    let ((count, sum), d, a) = measure(|| walk(false));
    check(
        count == n && sum == n * (n - 1) / 2,
        "hash-iterate-next-key",
    );
    emit(
        "hash-iterate-next-key",
        d,
        count,
        a,
        ",\"api\":\"iter_next_key\"",
    );

    let ((), d, a) = measure(|| {
        for k in 0..N_HASH {
            check(m.remove(&k).unwrap(), "hash-delete");
        }
    });
    emit("hash-delete", d, n, a, "");
}

fn w2_array() {
    let m = Array::<u64>::create("w2_array", N_ARRAY, CreateFlags::NONE).unwrap();
    let n = u64::from(N_ARRAY);
    let ((), d, a) = measure(|| {
        for k in 0..N_ARRAY {
            m.set(k, &u64::from(k)).unwrap();
        }
    });
    emit("array-update", d, n, a, "");
    let (sum, d, a) = measure(|| {
        let mut sum = 0u64;
        for k in 0..N_ARRAY {
            sum += m.get(k).unwrap();
        }
        sum
    });
    check(sum == n * (n - 1) / 2, "array checksum");
    emit("array-lookup", d, n, a, "");
}

fn w3_percpu() {
    let m = PerCpuHashMap::<u32, u64>::create("w3_percpu", N_PERCPU, CreateFlags::NONE).unwrap();
    let ncpu = m.cpus();
    let mut values: PerCpuValues<u64> = m.values();
    for k in 0..N_PERCPU {
        for cpu in 0..ncpu {
            values.set(cpu, &(u64::from(k) + cpu as u64));
        }
        m.insert(&k, &values, MapFlags::ANY).unwrap();
    }
    let (sum, d, a) = measure(|| {
        let mut sum = 0u64;
        for _ in 0..PERCPU_PASSES {
            for k in 0..N_PERCPU {
                check(m.get_into(&k, &mut values).unwrap(), "percpu lookup");
                sum += values.iter().sum::<u64>();
            }
        }
        sum
    });
    let ops = u64::from(PERCPU_PASSES * N_PERCPU);
    let (n, c) = (u64::from(N_PERCPU), ncpu as u64);
    let want = u64::from(PERCPU_PASSES) * (c * n * (n - 1) / 2 + n * c * (c - 1) / 2);
    check(sum == want, "percpu checksum");
    emit("percpu-lookup", d, ops, a, &format!(",\"ncpu\":{ncpu}"));
}

fn w4_batch() {
    let m = HashMap::<u32, HVal>::create("w4_hash", N_HASH, CreateFlags::NONE).unwrap();
    for k in 0..N_HASH {
        m.insert(&k, &hval(k), MapFlags::ANY).unwrap();
    }
    let mut keys = vec![0u32; BATCH];
    let mut values = vec![[0u64; 2]; BATCH];
    let mut cursor = BatchCursor::new();
    let (mut total, mut total_n, mut total_allocs) = (Duration::ZERO, 0u64, 0u64);
    for dump in 0..=BATCH_DUMPS {
        // Dump 0 warms up (and sizes the cursor's buffers); 1.. are timed.
        cursor.reset();
        let ((count, sum), d, a) = measure(|| {
            let (mut count, mut sum) = (0u64, 0u64);
            while !cursor.is_done() {
                let got = m.lookup_batch(&mut cursor, &mut keys, &mut values).unwrap();
                for v in &values[..got] {
                    sum += v[0];
                }
                count += got as u64;
            }
            (count, sum)
        });
        let n = u64::from(N_HASH);
        check(count == n && sum == n * (n - 1) / 2, "batch dump");
        if dump > 0 {
            total += d;
            total_n += count;
            total_allocs += a;
        }
    }
    emit("batch-lookup", total, total_n, total_allocs, "");
}

fn main() {
    // argv[1] is the peers' object path (or cargo's `--bench`); these
    // workloads create their own maps and do not need it.
    let _object = std::env::args().nth(1);
    if common::want("w1") {
        w1_hash();
    }
    if common::want("w2") {
        w2_array();
    }
    if common::want("w3") {
        w3_percpu();
    }
    if common::want("w4") {
        w4_batch();
    }
    if common::want("w5") {
        // Run them as an extra peer: `cargo bench -p bpf2rs --bench events`.
        unsupported("ringbuf", "measured by bpf2rs's `events` bench binary");
        unsupported(
            "ringbuf-drain",
            "measured by bpf2rs's `events` bench binary",
        );
    }
    if common::want("w6") {
        unsupported("open-load", "measured by bpf2rs's `load` bench binary");
    }
}
