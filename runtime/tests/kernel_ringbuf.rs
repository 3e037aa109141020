//! Real-kernel checks of RingBuf, RingBufPoller and UserRingBuf against the
//! programs of tests/bpf/events.bpf.c, run with BPF_PROG_TEST_RUN.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_ringbuf_util;

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bpf2rs::map::{Map, MapError};
use bpf2rs::ringbuf::{EventError, RawRingBuf, RingBuf, RingBufPoller};
use kernel_ringbuf_util::*;

const POLL: Duration = Duration::from_millis(100);

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn a_million_events_arrive_in_order_with_every_field() {
    const TOTAL: u64 = 1_000_000;
    const CHUNK: u32 = 5_000; // two chunks (720 KB) fit the 1 MiB ring
    let mut obj = load(|_| {});
    let mut rb = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    let cpus = ncpus();
    let progress = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let (mut expected, mut idle) = (0u64, 0);
    std::thread::scope(|s| {
        s.spawn(|| gated_producer(&obj, "emit_ring", TOTAL, CHUNK, &progress, &stop));
        while expected < TOTAL {
            let got = rb
                .poll(POLL, |e: &Event| {
                    assert_eq!(e.seq, expected, "events arrive in order, none lost");
                    check_event(e, 0, cpus);
                    expected += 1;
                })
                .unwrap();
            progress.store(expected, Ordering::Relaxed);
            idle = if got == 0 { idle + 1 } else { 0 };
            if idle > 50 {
                stop.store(true, Ordering::Relaxed);
                panic!("no event for 5 s after {expected}");
            }
        }
    });
    assert_eq!(expected, TOTAL);
    assert_eq!(counters(&obj).get(1).unwrap(), 0, "no failed reserves");
    assert_eq!(rb.consume(|_: &Event| ()).unwrap(), 0, "nothing more");
    assert_eq!(rb.available(), 0, "the consumer position was published");
}

#[test]
fn a_too_small_ring_loses_only_what_the_program_counted() {
    const TOTAL: u32 = 200_000;
    // 16 KiB: 227 events at a time, so most reserves fail.
    let mut obj = load(|o| o.map_mut("events").unwrap().set_max_entries(16 << 10));
    let mut rb = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    let cpus = ncpus();
    let done = AtomicBool::new(false);
    let (mut seen, mut last) = (0u64, None::<u64>);
    let mut check = |e: &Event| {
        if let Some(l) = last {
            assert!(e.seq > l, "in order: {} after {l}", e.seq);
        }
        last = Some(e.seq);
        check_event(e, 0, cpus);
        seen += 1;
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            run(&obj, "emit_ring", TOTAL);
            done.store(true, Ordering::Release);
        });
        while !done.load(Ordering::Acquire) {
            rb.poll(Duration::from_millis(10), &mut check).unwrap();
        }
    });
    rb.consume(&mut check).unwrap();
    let drops = counters(&obj).get(1).unwrap();
    assert!(drops > 0, "the ring was too small to hold everything");
    assert_eq!(
        seen + drops,
        u64::from(TOTAL),
        "seen {seen} + dropped {drops}"
    );
}

#[test]
fn discarded_records_are_skipped() {
    let mut obj = load(|_| {});
    cfg(&obj).set(0, &2).unwrap();
    let mut rb = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    run(&obj, "emit_ring", 3_000);
    let mut seqs = Vec::new();
    let n = rb
        .consume(|e: &Event| {
            check_event(e, 2, ncpus());
            seqs.push(e.seq);
        })
        .unwrap();
    assert_eq!(n, 2_000);
    assert!(seqs.iter().all(|s| s % 3 != 1));
    assert_eq!(seqs.len(), 2_000);
    assert_eq!(rb.available(), 0, "discarded records were stepped over too");
}

#[test]
fn records_shorter_than_the_type_are_errors_not_drops() {
    let mut obj = load(|_| {});
    cfg(&obj).set(0, &1).unwrap();
    let raw_fd = dup_map(&obj, "events");
    let mut rb = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    run(&obj, "emit_ring", 3);
    for _ in 0..3 {
        let e = rb
            .consume(|_: &Event| -> ControlFlow<()> { panic!("a 4-byte record is no event") })
            .unwrap_err();
        assert!(
            matches!(
                e,
                EventError::ShortRecord {
                    len: 4,
                    expected: 64,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "map events: record of 4 bytes is shorter than the event type (64 bytes)"
        );
    }
    assert_eq!(
        rb.consume(|_: &Event| ()).unwrap(),
        0,
        "each bad record reported once"
    );

    // The same records as bytes.
    let mut raw = RawRingBuf::from_fd(raw_fd).unwrap();
    run(&obj, "emit_ring", 2);
    let mut got = Vec::new();
    raw.consume(|b: &[u8]| got.push(u32::from_ne_bytes(b.try_into().unwrap())))
        .unwrap();
    assert_eq!(got, [3, 4]);
}

#[test]
fn longer_records_are_read_through_their_prefix_or_as_bytes() {
    let mut obj = load(|_| {});
    cfg(&obj).set(0, &3).unwrap();
    let raw_fd = dup_map(&obj, "events");
    let mut rb = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    run(&obj, "emit_ring", 10);
    let mut n = 0;
    rb.consume(|e: &Event| {
        assert_eq!(e.seq, n);
        check_event(e, 3, ncpus());
        n += 1;
    })
    .unwrap();
    assert_eq!(n, 10);

    let mut raw = RawRingBuf::from_fd(raw_fd).unwrap();
    run(&obj, "emit_ring", 5);
    let mut it = raw.iter();
    let mut seq = 10u64;
    while let Some(r) = it.next() {
        let bytes = r.unwrap();
        assert_eq!(bytes.len(), 96, "long_event");
        let tail: Vec<u64> = bytes[64..]
            .chunks(8)
            .map(|c| u64::from_ne_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(tail, [seq, seq + 1, seq + 2, seq + 3]);
        seq += 1;
    }
    assert_eq!(seq, 15);
}

#[test]
fn iteration_and_early_stop_publish_what_was_read() {
    let mut obj = load(|_| {});
    let mut rb = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    run(&obj, "emit_ring", 100);

    // Stop after 10: the other 90 stay.
    let mut first = Vec::new();
    let n = rb
        .consume(|e: &Event| {
            first.push(e.seq);
            if first.len() == 10 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!((n, first), (10, (0..10).collect::<Vec<_>>()));
    assert_eq!(rb.available(), 90 * 72);

    let mut it = rb.iter();
    let mut seq = 10;
    while let Some(e) = it.next() {
        assert_eq!(e.unwrap().seq, seq);
        seq += 1;
    }
    drop(it);
    assert_eq!(seq, 100);
    assert_eq!(
        rb.available(),
        0,
        "dropping the iterator published the position"
    );
}

#[test]
fn several_rings_share_one_poller() {
    let mut obj = load(|_| {});
    cfg(&obj).set(0, &4).unwrap();
    let a = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    let b = RawRingBuf::from_map(obj.take_map("events2").unwrap()).unwrap();
    let (mut in_a, mut in_b) = (Vec::new(), 0usize);
    {
        let mut poller = RingBufPoller::new().unwrap();
        assert_eq!(poller.add(a, |e: &Event| in_a.push(e.seq)).unwrap(), 0);
        assert_eq!(poller.add(b, |r: &[u8]| in_b += r.len()).unwrap(), 1);
        assert_eq!(poller.map(1).unwrap().name(), "events2");
        let start = Instant::now();
        assert_eq!(poller.poll(Duration::from_millis(30)).unwrap(), 0);
        assert!(
            start.elapsed() >= Duration::from_millis(30),
            "an empty poll waits"
        );
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(20));
                run(&obj, "emit_ring", 500);
            });
            let mut n = 0;
            while n < 1_000 {
                let got = poller.poll(Duration::from_secs(5)).unwrap();
                assert!(got > 0, "woken by the producer");
                n += got;
            }
        });
    }
    assert_eq!(in_a, (0..500).collect::<Vec<_>>());
    assert_eq!(in_b, 500 * 64);
}

#[test]
fn a_poll_wakes_on_the_first_record() {
    let mut obj = load(|_| {});
    let mut rb = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    let start = Instant::now();
    assert_eq!(
        rb.poll(Duration::from_millis(20), |_: &Event| ()).unwrap(),
        0
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    for round in 0..50u64 {
        std::thread::scope(|s| {
            s.spawn(|| run(&obj, "emit_ring", 1));
            let mut got = None;
            rb.poll(Duration::from_secs(5), |e: &Event| got = Some(e.seq))
                .unwrap();
            assert_eq!(got, Some(round), "round {round}");
        });
    }
}

#[test]
fn wrong_maps_are_refused_with_their_name() {
    let obj = load(|_| {});
    let counters = Map::from_fd("counters", dup_map(&obj, "counters")).unwrap();
    let e = RingBuf::<Event>::from_map(counters).unwrap_err();
    assert!(matches!(e, MapError::WrongType { .. }), "{e:?}");
    assert_eq!(e.to_string(), "map counters: is a array map, not ringbuf");
    let perf = Map::from_fd("perf", dup_map(&obj, "perf")).unwrap();
    assert!(RingBuf::<Event>::from_map(perf).is_err());
    // Any alignment is fine (16 for u128).
    let rb = Map::from_fd("events", dup_map(&obj, "events")).unwrap();
    RingBuf::<u128>::from_map(rb).unwrap();
}

#[test]
fn an_8_aligned_type_is_still_read_in_place() {
    const N: usize = 2_000;
    let mut obj = load(|_| {});
    let mut rb = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    run(&obj, "emit_ring", N as u32);
    let mut addrs = Vec::with_capacity(N);
    let before = thread_allocs();
    let n = rb
        .consume(|e: &Event| {
            assert_eq!(e.seq, addrs.len() as u64);
            check_event(e, 0, ncpus());
            addrs.push(addr_of(e));
        })
        .unwrap();
    assert_eq!(thread_allocs() - before, 0, "no allocation for {N} records");
    assert_eq!(n, N);
    assert!(
        addrs.iter().all(|a| in_bpf_map(*a)),
        "{:?}",
        mapping_of(addrs[0])
    );
    // In place, one after another: 8-byte header + 64 bytes apart.
    assert!(addrs.windows(2).all(|w| w[1] == w[0] + 72));
}

/// Records of `aligned_event` (16 bytes, 24 with the header) from a fresh
/// ring alternate between 8- and 16-aligned places.
#[test]
fn a_16_aligned_type_is_read_in_place_or_copied_once() {
    const N: usize = 2_000;
    let mut obj = load(|_| {});
    cfg(&obj).set(0, &5).unwrap();
    let mut rb = RingBuf::<AlignedEvent>::from_map(obj.take_map("events").unwrap()).unwrap();
    // Warm-up: a first batch, then count allocations over a second one.
    let mut addrs = Vec::with_capacity(N);
    let mut handle = |e: &AlignedEvent| {
        assert_eq!(e.seq, addrs.len() as u64, "in order, none lost");
        check_aligned(e);
        addrs.push(addr_of(e));
    };
    run(&obj, "emit_ring", 10);
    assert_eq!(rb.consume(&mut handle).unwrap(), 10);
    run(&obj, "emit_ring", (N - 10) as u32);
    let before = thread_allocs();
    assert_eq!(rb.consume(&mut handle).unwrap(), N - 10);
    assert_eq!(thread_allocs() - before, 0, "no allocation per record");
    assert_eq!(counters(&obj).get(1).unwrap(), 0, "no failed reserves");
    assert_eq!(rb.available(), 0);

    assert!(addrs.iter().all(|a| a % 16 == 0), "every &E is 16-aligned");
    let (in_ring, copied): (Vec<usize>, Vec<usize>) = addrs.iter().partition(|a| in_bpf_map(**a));
    assert_eq!(in_ring.len(), N / 2, "every other record is in place");
    assert_eq!(copied.len(), N / 2);
    assert!(
        copied.iter().all(|a| *a == copied[0]),
        "the others are copied into one reused buffer"
    );
    assert!(!in_bpf_map(copied[0]), "{:?}", mapping_of(copied[0]));
}

#[test]
fn a_struct_with_a_16_aligned_member_is_read_whole_through_iter_and_poll() {
    const N: u64 = 3_000;
    let mut obj = load(|_| {});
    cfg(&obj).set(0, &6).unwrap();
    let mut rb = RingBuf::<OuterEvent>::from_map(obj.take_map("events").unwrap()).unwrap();
    let cpus = ncpus();
    run(&obj, "emit_ring", N as u32);
    let mut seq = 0;
    let mut it = rb.iter();
    while let Some(o) = it.next() {
        let o = o.unwrap();
        assert_eq!(addr_of(o) % 16, 0);
        assert_eq!(o.inner.seq, seq, "in order, none lost");
        check_outer(o, 6, cpus);
        seq += 1;
    }
    drop(it);
    assert_eq!(seq, N);
    // Across wraps of the ring (1 MiB; 40-byte records) too.
    const MORE: u64 = 60_000;
    const CHUNK: u32 = 10_000; // two chunks (800 KB) fit the ring
    let progress = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let mut idle = 0;
    std::thread::scope(|s| {
        s.spawn(|| gated_producer(&obj, "emit_ring", MORE, CHUNK, &progress, &stop));
        while seq < N + MORE {
            let got = rb
                .poll(POLL, |o: &OuterEvent| {
                    assert_eq!(addr_of(o) % 16, 0);
                    assert_eq!(o.inner.seq, seq, "in order, none lost");
                    check_outer(o, 6, cpus);
                    seq += 1;
                })
                .unwrap();
            progress.store(seq - N, Ordering::Relaxed);
            idle = if got == 0 { idle + 1 } else { 0 };
            if idle > 50 {
                stop.store(true, Ordering::Relaxed);
                panic!("no event for 5 s after {seq}");
            }
        }
    });
    assert_eq!(counters(&obj).get(1).unwrap(), 0, "no failed reserves");
}

#[cfg(feature = "tokio")]
#[test]
fn async_ring_buffers_wake_in_tokio() {
    use bpf2rs::ringbuf::AsyncRingBuf;
    let mut obj = load(|_| {});
    let rb = RingBuf::<Event>::from_map(obj.take_map("events").unwrap()).unwrap();
    let rt = tokio_runtime();
    let mut seqs = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| produce_in_bursts(&obj, "emit_ring"));
        rt.block_on(async {
            let mut rb = AsyncRingBuf::new(rb).unwrap();
            while seqs.len() < 2_000 {
                let wait = rb.poll(|e: &Event| seqs.push(e.seq));
                tokio::time::timeout(Duration::from_secs(5), wait)
                    .await
                    .unwrap()
                    .unwrap();
            }
        });
    });
    assert_eq!(seqs, (0..2_000).collect::<Vec<_>>());
}
