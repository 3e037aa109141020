//! A ring buffer typed by the build (`ringbuf_event("events", "struct
//! event")`): the skeleton's map is a `RingBuf<types::event>` and records
//! arrive as `&types::event`, field by field what the program wrote.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::prog::TestRunInput;
use bpf2rs_tests::require_root;
use bpf2rs_tests::skel::events::{types, EventsSkel};

#[test]
fn typed_ring_buffer_through_the_skeleton() {
    require_root();
    let mut skel = EventsSkel::open().unwrap().load().unwrap();
    let runs = 1000;
    skel.progs
        .emit_ring
        .test_run(&TestRunInput {
            data: &[0u8; 64],
            repeat: runs,
            ..Default::default()
        })
        .unwrap();
    let mut seen: Vec<types::event> = Vec::new();
    let n = skel
        .maps
        .events
        .consume(|e: &types::event| seen.push(*e))
        .unwrap();
    assert_eq!(n, runs as usize);
    assert_eq!(seen.len(), runs as usize);
    for (i, e) in seen.iter().enumerate() {
        assert_eq!(e.seq, seen[0].seq + i as u64, "in order, nothing lost");
        assert_eq!(e.kind, 0);
        for (j, p) in e.payload.iter().enumerate() {
            assert_eq!(
                *p,
                e.seq ^ (0x0101_0101_0101_0101u64.wrapping_mul(j as u64 + 1)),
                "payload {j} of event {i}"
            );
        }
    }
}
