//! Real-kernel checks of PerfEventArray against the programs of
//! tests/bpf/events.bpf.c: lossless delivery, kernel-reported losses that
//! add up, records that wrap around the end of a buffer, short records.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_ringbuf_util;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bpf2rs::load::Object;
use bpf2rs::perf::{PerfEventArray, PerfOptions, Received};
use bpf2rs::prog::TestRunInput;
use bpf2rs::ringbuf::EventError;
use kernel_ringbuf_util::*;

const POLL: Duration = Duration::from_millis(100);

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;
/// BPF_F_TEST_RUN_ON_CPU.
const ON_CPU: u32 = 1;

fn perf<E: bpf2rs::ringbuf::Record + ?Sized>(obj: &mut Object, pages: usize) -> PerfEventArray<E> {
    let opts = PerfOptions {
        pages,
        ..Default::default()
    };
    PerfEventArray::with_options(obj.take_map("perf").unwrap(), &opts).unwrap()
}

/// Runs `flush_perf` once on every CPU with a buffer: a CPU whose buffer
/// dropped samples writes its PERF_RECORD_LOST before the next sample.
fn flush_every_cpu<E: bpf2rs::ringbuf::Record + ?Sized>(
    obj: &Object,
    p: &PerfEventArray<E>,
) -> u64 {
    let prog = obj.program("flush_perf").unwrap();
    let mut n = 0;
    for cpu in p.cpus() {
        prog.test_run(&TestRunInput {
            flags: ON_CPU,
            cpu,
            ..Default::default()
        })
        .unwrap();
        n += 1;
    }
    n
}

#[test]
fn a_million_samples_arrive_with_nothing_lost() {
    const TOTAL: u64 = 1_000_000;
    const CHUNK: u32 = 5_000; // 80-byte records: two chunks fit 1 MiB per CPU
    let mut obj = load(|_| {});
    let mut p = perf::<Event>(&mut obj, 256);
    let cpus = ncpus();
    let progress = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let mut seen = vec![false; TOTAL as usize];
    let mut last = vec![None::<u64>; cpus as usize];
    let (mut received, mut lost, mut idle) = (0u64, 0u64, 0);
    std::thread::scope(|s| {
        s.spawn(|| gated_producer(&obj, "emit_perf", TOTAL, CHUNK, &progress, &stop));
        while received + lost < TOTAL {
            let got = p
                .poll(POLL, |cpu, e: &Event| {
                    assert_eq!(e.cpu, cpu, "sample {} in its CPU's buffer", e.seq);
                    check_event(e, 5, cpus);
                    let l = &mut last[cpu as usize];
                    assert!(l.is_none_or(|l| e.seq > l), "per-CPU order");
                    *l = Some(e.seq);
                    assert!(!std::mem::replace(&mut seen[e.seq as usize], true), "once");
                    received += 1;
                })
                .unwrap();
            lost += got.lost;
            progress.store(received, Ordering::Relaxed);
            idle = if got == Received::default() {
                idle + 1
            } else {
                0
            };
            if idle > 50 {
                stop.store(true, Ordering::Relaxed);
                panic!("no sample for 5 s after {received}");
            }
        }
    });
    assert_eq!((received, lost), (TOTAL, 0));
    assert!(seen.iter().all(|s| *s));
    let c = counters(&obj);
    assert_eq!(
        (c.get(2).unwrap(), c.get(3).unwrap()),
        (0, 0),
        "every output succeeded"
    );
}

#[test]
fn kernel_lost_counts_add_up_with_a_one_page_buffer() {
    const TOTAL: u32 = 200_000;
    let mut obj = load(|_| {});
    let mut p = perf::<Event>(&mut obj, 1);
    let cpus = ncpus();
    let done = AtomicBool::new(false);
    let (mut received, mut lost) = (0u64, 0u64);
    let mut check = |_cpu: u32, e: &Event| {
        assert!(e.kind == 5 || e.kind == 6);
        check_event(e, e.kind, cpus);
        received += 1;
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            run(&obj, "emit_perf", TOTAL);
            done.store(true, Ordering::Release);
        });
        while !done.load(Ordering::Acquire) {
            lost += p.poll(Duration::from_millis(10), &mut check).unwrap().lost;
        }
    });
    lost += p.consume(&mut check).unwrap().lost;
    let flushed = flush_every_cpu(&obj, &p);
    lost += p.consume(&mut check).unwrap().lost;
    let total = u64::from(TOTAL) + flushed;
    assert!(lost > 0, "one page cannot keep up");
    assert_eq!(received + lost, total, "received {received} + lost {lost}");
    assert_eq!(p.lost(), lost);
    let c = counters(&obj);
    assert_eq!(c.get(2).unwrap(), 0, "no other output failure");
    assert_eq!(
        c.get(3).unwrap(),
        lost,
        "the kernel's lost counts match the program's ENOSPC"
    );
}

#[test]
fn samples_that_wrap_around_the_buffer_end_are_whole() {
    // One 4096-byte page and 80-byte records: every 51st or so wraps.
    // Batches of 40 (3200 bytes) always fit; a batch may span CPUs if the
    // producer migrates, so each is compared sorted.
    let mut obj = load(|_| {});
    let raw_fd = dup_map(&obj, "perf");
    let mut p = perf::<Event>(&mut obj, 1);
    let mut next = 0u64;
    let mut batch = Vec::with_capacity(40);
    for _ in 0..100 {
        run(&obj, "emit_perf", 40);
        let got = p
            .consume(|_, e: &Event| {
                check_event(e, 5, ncpus());
                batch.push(e.seq);
            })
            .unwrap();
        assert_eq!(
            got,
            Received {
                events: 40,
                lost: 0
            }
        );
        batch.sort_unstable();
        assert_eq!(batch, (next..next + 40).collect::<Vec<_>>());
        next += 40;
        batch.clear();
    }
    drop(p);
    // As bytes: the kernel pads raw samples to 8 with their 4-byte size.
    let map = bpf2rs::map::Map::from_fd("perf", raw_fd).unwrap();
    let mut raw = PerfEventArray::<[u8]>::with_options(
        map,
        &PerfOptions {
            pages: 1,
            ..Default::default()
        },
    )
    .unwrap();
    for _ in 0..100 {
        run(&obj, "emit_perf", 40);
        raw.consume(|_, b: &[u8]| {
            assert_eq!(b.len(), 68);
            batch.push(u64::from_ne_bytes(b[..8].try_into().unwrap()));
        })
        .unwrap();
        batch.sort_unstable();
        assert_eq!(batch, (next..next + 40).collect::<Vec<_>>());
        next += 40;
        batch.clear();
    }
    assert_eq!(next, 8_000);
}

/// Sample data starts 4 bytes past an 8-aligned record, so 16-aligned
/// types are always copied: into one buffer per CPU, aligned for them.
#[test]
fn samples_of_16_aligned_types_are_copied_into_an_aligned_buffer() {
    const ROUNDS: u64 = 50;
    const BATCH: u64 = 80; // fits one page with either type
    let cpus = ncpus();

    // `aligned_event`: 32-byte records, which never wrap in one page.
    let mut obj = load(|_| {});
    cfg(&obj).set(1, &1).unwrap();
    let mut p = perf::<AlignedEvent>(&mut obj, 1);
    let buffers = p.cpus().count();
    let mut seqs = Vec::with_capacity((ROUNDS * BATCH) as usize);
    let mut addrs = Vec::with_capacity((2 * ROUNDS * BATCH) as usize);
    for round in 0..ROUNDS {
        run(&obj, "emit_perf", BATCH as u32);
        let before = thread_allocs();
        let got = p
            .consume(|_, e: &AlignedEvent| {
                check_aligned(e);
                seqs.push(e.seq);
                addrs.push(addr_of(e));
            })
            .unwrap();
        if round > 0 {
            assert_eq!(thread_allocs() - before, 0, "no allocation per sample");
        }
        assert_eq!(
            got,
            Received {
                events: 80,
                lost: 0
            }
        );
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (0..ROUNDS * BATCH).collect::<Vec<_>>(), "none lost");

    // `outer_event`: 48-byte records, so some wrap around the page end.
    let mut obj = load(|_| {});
    cfg(&obj).set(1, &2).unwrap();
    let mut p = perf::<OuterEvent>(&mut obj, 1);
    seqs.clear();
    for _ in 0..ROUNDS {
        run(&obj, "emit_perf", BATCH as u32);
        let got = p
            .consume(|cpu, o: &OuterEvent| {
                assert_eq!(o.cpu, cpu);
                check_outer(o, 7, cpus);
                seqs.push(o.inner.seq);
                addrs.push(addr_of(o));
            })
            .unwrap();
        assert_eq!(
            got,
            Received {
                events: 80,
                lost: 0
            }
        );
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (0..ROUNDS * BATCH).collect::<Vec<_>>(), "none lost");
    let c = counters(&obj);
    assert_eq!((c.get(2).unwrap(), c.get(3).unwrap()), (0, 0));

    assert!(addrs.iter().all(|a| a % 16 == 0), "every &E is 16-aligned");
    addrs.sort_unstable();
    addrs.dedup();
    assert!(
        addrs.len() <= 2 * buffers,
        "one reused buffer per CPU and handle: {} addresses",
        addrs.len()
    );
}

#[test]
fn samples_shorter_than_the_type_are_errors() {
    let mut obj = load(|_| {});
    let mut p = perf::<[u64; 16]>(&mut obj, 4);
    run(&obj, "emit_perf", 2);
    for _ in 0..2 {
        let e = p.consume(|_, _: &[u64; 16]| ()).unwrap_err();
        assert!(
            matches!(
                e,
                EventError::ShortRecord {
                    len: 68,
                    expected: 128,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("map perf (cpu "), "{e}");
    }
    assert_eq!(
        p.consume(|_, _: &[u64; 16]| ()).unwrap(),
        Received::default()
    );
}

#[test]
fn poll_waits_for_the_first_sample() {
    let mut obj = load(|_| {});
    let mut p = perf::<Event>(&mut obj, 8);
    let t = std::time::Instant::now();
    assert_eq!(
        p.poll(Duration::from_millis(20), |_, _: &Event| ())
            .unwrap(),
        Received::default()
    );
    assert!(t.elapsed() >= Duration::from_millis(20));
    for round in 0..20u64 {
        std::thread::scope(|s| {
            s.spawn(|| run(&obj, "emit_perf", 1));
            let mut got = None;
            p.poll(Duration::from_secs(5), |_, e: &Event| got = Some(e.seq))
                .unwrap();
            assert_eq!(got, Some(round));
        });
    }
    assert_eq!(
        p.cpus().count(),
        bpf2rs::sys::events::online_cpus().unwrap().len()
    );
}

#[cfg(feature = "tokio")]
#[test]
fn async_perf_buffers_wake_in_tokio() {
    use bpf2rs::perf::AsyncPerfEventArray;
    let mut obj = load(|_| {});
    let p = perf::<Event>(&mut obj, 64);
    let rt = tokio_runtime();
    let mut seqs = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| produce_in_bursts(&obj, "emit_perf"));
        rt.block_on(async {
            let mut p = AsyncPerfEventArray::new(p).unwrap();
            while seqs.len() < 2_000 {
                let wait = p.poll(|_, e: &Event| seqs.push(e.seq));
                let got = tokio::time::timeout(Duration::from_secs(5), wait)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(got.lost, 0);
            }
        });
    });
    seqs.sort_unstable();
    assert_eq!(seqs, (0..2_000).collect::<Vec<_>>());
}
