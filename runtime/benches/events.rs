//! Workloads W5 `ringbuf` and W5b `ringbuf-drain` of
//! ../shared/peers/README.md, with the peers' phases and constants
//! (shared/peers/c/common.h): a producer thread runs the object's XDP
//! program `emit` by BPF_PROG_TEST_RUN, 10 x repeat=100,000, waiting before
//! each chunk until the consumer is at most one chunk behind, while the
//! main thread polls the 16 MiB ring (`RingBuf<Event>`, typed, zero-copy)
//! and checks every seq and payload. Then W5b: 5 x (produce 100,000 with no
//! consumer, time `consume` alone). One JSON line per workload, plus
//! `allocs`: heap allocations counted by a global allocator over the timed
//! consumer phases (should be 0).
//!
//! Peer contract: the object path is argv[1] (run.sh passes its
//! bench.bpf.o); without it the bench compiles ../shared/peers/bpf/bench.bpf.c
//! with clang-19 into the target directory. BENCH_ONLY selects workloads
//! (this binary has w5).

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bpf2rs::load::OpenObject;
use bpf2rs::map::Array;
use bpf2rs::prog::{Program, TestRunInput};
use bpf2rs::ringbuf::RingBuf;

const RB_TOTAL: u64 = 1_000_000;
const RB_CHUNK: u32 = 100_000;
const RB_DRAIN: u32 = 100_000;
const DRAIN_ROUNDS: u32 = 5;
const PKT_LEN: usize = 64;
const POLL_TIMEOUT: Duration = Duration::from_millis(100);
const STALL: Duration = Duration::from_millis(90);
const PEER: &str = "bpf2rs";

/// Counts every allocation, to show the consumer makes none per event.
#[global_allocator]
static GLOBAL: common::CountingAlloc = common::CountingAlloc;

/// `struct event` of bench.bpf.c.
#[derive(Clone, Copy, bpf2rs::Pod)]
#[repr(C)]
struct Event {
    seq: u64,
    ts: u64,
    payload: [u64; 6],
}

/// The peers' `struct rbstate` and `rb_on_event`.
#[derive(Default)]
struct State {
    expected: u64,
    received: u64,
    gaps: u64,
    bad: u64,
    stalls: u64,
}

impl State {
    #[inline]
    fn on_event(&mut self, e: &Event, progress: &AtomicU64) {
        if e.payload[0] != e.seq ^ 0x0101_0101_0101_0101 {
            self.bad += 1;
        } else if e.seq != self.expected {
            if e.seq > self.expected {
                self.gaps += e.seq - self.expected;
            } else {
                self.bad += 1;
            }
        }
        self.expected = e.seq + 1;
        self.received += 1;
        progress.store(self.received, Ordering::Relaxed);
    }
}

fn object() -> Result<PathBuf, String> {
    common::peers_object()
}

fn test_run(prog: &Program, repeat: u32) -> Result<u32, String> {
    let out = prog
        .test_run(&TestRunInput {
            data: &[0u8; PKT_LEN],
            repeat,
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
    Ok(out.duration_ns)
}

/// The peers' producer: chunk i waits until the consumer took i - 1 chunks.
fn produce(prog: &Program, progress: &AtomicU64, stop: &AtomicBool) -> Result<(u64, u64), String> {
    let (mut dur_sum, mut chunks) = (0u64, 0u64);
    for i in 0..(RB_TOTAL / u64::from(RB_CHUNK)) {
        let need = i.saturating_sub(1) * u64::from(RB_CHUNK);
        while progress.load(Ordering::Relaxed) < need {
            if stop.load(Ordering::Relaxed) {
                return Ok((dur_sum, chunks));
            }
            std::thread::sleep(Duration::from_micros(10));
        }
        dur_sum += u64::from(test_run(prog, RB_CHUNK)?);
        chunks += 1;
    }
    Ok((dur_sum, chunks))
}

fn w5(path: &Path) -> Result<(), String> {
    let mut obj = OpenObject::open_file(path)
        .and_then(|o| o.load())
        .map_err(|e| e.to_string())?;
    let take = |obj: &mut bpf2rs::load::Object, name: &str| {
        obj.take_map(name).ok_or_else(|| format!("no map {name}"))
    };
    let mut rb =
        RingBuf::<Event>::from_map(take(&mut obj, "events")?).map_err(|e| e.to_string())?;
    let counters =
        Array::<u64>::from_map(take(&mut obj, "counters")?).map_err(|e| e.to_string())?;
    let prog = obj.program("emit").ok_or("no program emit")?;

    let mut s = State::default();
    let progress = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let t0 = Instant::now();
    let (produced, allocs, t1) = std::thread::scope(|scope| -> Result<_, String> {
        let producer = scope.spawn(|| produce(prog, &progress, &stop));
        let allocs0 = common::allocs();
        let mut on_event = |e: &Event| s.on_event(e, &progress);
        let mut stalls = 0;
        let mut idle = 0;
        let mut received = 0;
        while received < RB_TOTAL {
            let w0 = Instant::now();
            let got = rb
                .poll(POLL_TIMEOUT, &mut on_event)
                .map_err(|e| e.to_string())?;
            received += got as u64;
            if got > 0 {
                idle = 0;
                continue;
            }
            if w0.elapsed() < STALL {
                continue;
            }
            // Timed out although events may be waiting (a missed wake-up).
            let got = rb.consume(&mut on_event).map_err(|e| e.to_string())?;
            received += got as u64;
            if got > 0 {
                stalls += 1;
                idle = 0;
            } else {
                idle += 1;
                if idle > 20 {
                    break; // 2 s without any data: give up, report loss
                }
            }
        }
        let allocs = common::allocs() - allocs0;
        stop.store(true, Ordering::Relaxed);
        let t1 = Instant::now();
        s.stalls = stalls;
        let produced = producer.join().map_err(|_| "producer panicked")??;
        Ok((produced, allocs, t1))
    })?;
    let drops = counters.get(1).map_err(|e| e.to_string())?;
    let lost = (RB_TOTAL - s.received) + s.gaps;
    let (dur_sum, chunks) = produced;
    println!(
        "{{\"peer\":\"{PEER}\",\"workload\":\"ringbuf\",\"ns_per_op\":{:.2},\"ops\":{},\"lost\":{lost},\"bpf_drops\":{drops},\"bad\":{},\"stalls\":{},\"prod_ns\":{:.1},\"allocs\":{allocs}}}",
        (t1 - t0).as_nanos() as f64 / s.received.max(1) as f64,
        s.received,
        s.bad,
        s.stalls,
        if chunks > 0 { dur_sum as f64 / chunks as f64 } else { 0.0 },
    );

    // W5b: produce with no consumer running, then time the drain alone.
    let (mut drain_ns, mut got, mut allocs) = (0u128, 0u64, 0u64);
    for _ in 0..DRAIN_ROUNDS {
        test_run(prog, RB_DRAIN)?;
        let before = s.received;
        let a0 = common::allocs();
        let t0 = Instant::now();
        rb.consume(|e: &Event| s.on_event(e, &progress))
            .map_err(|e| e.to_string())?;
        drain_ns += t0.elapsed().as_nanos();
        allocs += common::allocs() - a0;
        got += s.received - before;
    }
    println!(
        "{{\"peer\":\"{PEER}\",\"workload\":\"ringbuf-drain\",\"ns_per_op\":{:.2},\"ops\":{got},\"lost\":{},\"bad\":{},\"allocs\":{allocs}}}",
        drain_ns as f64 / got.max(1) as f64,
        u64::from(DRAIN_ROUNDS * RB_DRAIN) - got + s.gaps,
        s.bad,
    );
    Ok(())
}

fn main() {
    if !common::want("w5") {
        return;
    }
    let result = object().and_then(|path| w5(&path));
    if let Err(e) = result {
        eprintln!("events bench: {e}");
        std::process::exit(1);
    }
}
